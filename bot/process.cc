#include "bot/process.h"

#include <charconv>
#include <future>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "bot/admin_api.h"
#include "bot/home.h"
#include "bot/http/server.h"
#include "bot/identity.h"
#include "bot/json.h"
#include "bot/mail/smtp.h"
#include "bot/metrics.h"
#include "bot/outbox_worker.h"
#include "bot/router.h"
#include "bot/sandbox/sandbox.h"
#include "bot/service.h"
#include "bot/slack/web_client.h"
#include "storage/store.h"
#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate {

StatusOr<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return invalid_argument("listen address needs a port: " + text);
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  std::string_view p(text.data() + colon + 1, text.size() - colon - 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port > 65535) {
    return invalid_argument("not a port: " + std::string(p));
  }
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

struct Process::Impl {
  ProcessOptions options;
  SystemClock system_clock;
  const Clock* clock = &system_clock;
  std::shared_ptr<DelegationBook> delegations = std::make_shared<DelegationBook>();
  std::shared_ptr<const Directory> directory;
  std::unique_ptr<Store> store;
  std::unique_ptr<TaskService> service;
  std::unique_ptr<slack::WebClient> slack;
  std::unique_ptr<Identity> identity;
  Metrics metrics;
  std::unique_ptr<Router> router;
  std::unique_ptr<OutboxWorker> outbox;
  std::unique_ptr<HomePublisher> home;
  std::unique_ptr<AdminApi> api;
  std::unique_ptr<mail::SmtpClient> mailer;
  std::unique_ptr<sandbox::Sandbox> sandbox;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<http::Server> server;
  bool stopped = false;
};

Process::Process(ProcessOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Process::~Process() {
  if (impl_->server && !impl_->stopped) shutdown();
}

Status Process::start() {
  Impl& s = *impl_;
  LoadedConfig cfg = load_config_file(s.options.config);
  for (const ConfigIssue& i : cfg.issues) spdlog::warn("{}: {}", s.options.config, format_issue(i));
  if (!cfg.ok())
    return invalid_argument(s.options.config + " has errors (see `tollgate check-config`)");
  s.directory = cfg.directory;

  auto listen = parse_listen(s.options.listen);
  if (!listen.ok()) return listen.status();

  auto store = open_store(s.options.db);
  if (!store.ok()) return store.status();
  s.store = std::move(*store);
  if (s.options.clock != nullptr) s.clock = s.options.clock;
  s.service = std::make_unique<TaskService>(
      *s.store, std::make_shared<Engine>(s.directory, *s.clock, s.delegations), s.delegations);
  if (Status d = s.service->load_delegations(); !d.ok()) return d;
  if (!s.options.smtp_url.empty()) {
    auto mailer = mail::SmtpClient::create({s.options.smtp_url, s.options.smtp_from});
    if (!mailer.ok()) return mailer.status();
    s.mailer = std::move(*mailer);
  }

  if (s.options.sandbox) {
    if (!is_loopback(listen->first)) {
      return invalid_argument(
          "the sandbox lets anyone act as anyone, so it runs only on a "
          "loopback address (TOLLGATE_LISTEN=127.0.0.1:3000), not on " +
          listen->first);
    }
    s.sandbox = std::make_unique<sandbox::Sandbox>(s.directory);
    if (Status st = s.sandbox->start(); !st.ok()) return st;
    s.options.bot_token = s.sandbox->bot_token();
    s.options.signing_secret = s.sandbox->signing_secret();
    s.options.slack_api_url = s.sandbox->api_url();
    s.options.team_id = s.sandbox->team_id();
  }
  if (s.options.bot_token.empty()) {
    spdlog::warn("SLACK_BOT_TOKEN is not set: nothing will be sent to Slack");
  } else {
    slack::WebClientOptions wo;
    wo.base_url = s.options.slack_api_url;
    wo.token = s.options.bot_token;
    s.slack = std::make_unique<slack::WebClient>(wo);
  }
  if (s.options.signing_secret.empty()) {
    spdlog::warn("SLACK_SIGNING_SECRET is not set: every Slack request will be refused (401)");
  }
  s.identity = std::make_unique<Identity>(s.directory, *s.store, s.slack.get(), *s.clock);
  if (s.slack) {
    // This process is the only one delivering from this store: what it had
    // claimed before a stop or a crash is offered again at once.
    if (Status r =
            [&] {
              std::promise<Status> p;
              s.store->release_claims([&p](Status st) { p.set_value(st); });
              return p.get_future().get();
            }();
        !r.ok()) {
      return r;
    }
    TaskService* service = s.service.get();
    OutboxOptions oo;
    oo.lease = s.options.outbox_lease;
    s.outbox = std::make_unique<OutboxWorker>(
        *s.store, *s.slack, *s.identity, [service] { return service->engine(); }, *s.clock,
        s.metrics, oo);
    s.home = std::make_unique<HomePublisher>(*s.store, *s.slack,
                                             [service] { return service->engine(); });
    s.outbox->set_mailer(s.mailer.get());
    OutboxWorker* worker = s.outbox.get();
    HomePublisher* home = s.home.get();
    s.service->set_on_commit([worker, home](const Decision& d) {
      if (!d.effects.empty()) worker->wake();
      // Whose inbox changed: everyone the task concerns.
      std::vector<PersonId> people{d.task.requester, d.task.subject};
      for (const TaskStep& st : d.task.steps) {
        people.insert(people.end(), st.assignees.begin(), st.assignees.end());
        if (!st.decided_by.empty()) people.push_back(st.decided_by);
      }
      home->changed(people);
    });
  }

  s.metrics.describe("tollgate_http_requests_total", "counter",
                     "HTTP requests answered, by endpoint and status");
  s.metrics.describe("tollgate_http_ack_seconds", "histogram",
                     "Time from a request's header to its answer, by endpoint");
  Store* store_ptr = s.store.get();
  s.metrics.gauge("tollgate_outbox_pending", "Effects waiting for delivery to Slack", [store_ptr] {
    auto st = store_ptr->outbox_stats();
    return st.ok() ? static_cast<double>(st->pending) : -1.0;
  });
  s.metrics.gauge("tollgate_outbox_parked", "Effects that failed for good, kept for an operator",
                  [store_ptr] {
                    auto st = store_ptr->outbox_stats();
                    return st.ok() ? static_cast<double>(st->parked) : -1.0;
                  });
  s.metrics.gauge("tollgate_store_commits_total", "Store transactions committed",
                  [store_ptr] { return static_cast<double>(store_ptr->stats().commits); });
  s.metrics.gauge(
      "tollgate_store_commit_seconds_total", "Time spent committing (flushing) transactions",
      [store_ptr] { return static_cast<double>(store_ptr->stats().commit_micros) / 1e6; });
  s.metrics.gauge("tollgate_store_writes_total", "Writes committed by the store",
                  [store_ptr] { return static_cast<double>(store_ptr->stats().writes); });

  // Slack's signatures are fresh in real time, whatever clock the engine runs on.
  RouterOptions ro{s.options.signing_secret, s.options.team_id};
  s.router = std::make_unique<Router>(ro, *s.service, *s.store, *s.identity, s.slack.get(),
                                      s.metrics, s.system_clock);
  s.router->set_home(s.home.get());
  s.api = std::make_unique<AdminApi>(s.options.api_token, *s.service, *s.store);
  s.router->set_admin_api(s.api.get());

  http::ServerOptions so;
  so.address = listen->first;
  so.port = listen->second;
  so.threads = s.options.threads;
  so.header_timeout = s.options.header_timeout;
  so.tls_cert_file = s.options.tls_cert;
  so.tls_key_file = s.options.tls_key;
  Metrics* metrics = &s.metrics;
  so.on_request = [metrics](const http::AccessLogEntry& e) {
    std::string endpoint = e.path.rfind("/slack/", 0) == 0 || e.path == "/healthz" ||
                                   e.path == "/readyz" || e.path == "/metrics"
                               ? e.path
                               : "other";
    metrics->inc("tollgate_http_requests_total",
                 {{"endpoint", endpoint}, {"status", std::to_string(e.status)}});
    metrics->observe("tollgate_http_ack_seconds", {{"endpoint", endpoint}},
                     static_cast<double>(e.latency.count()) / 1e6);
    spdlog::info("request method={} path={} status={} latency_us={} remote={}", e.method, e.path,
                 e.status, e.latency.count(), e.remote);
  };
  Router* router = s.router.get();
  sandbox::Sandbox* sandbox = s.sandbox.get();
  s.server = std::make_unique<http::Server>(
      so, [router, sandbox](http::Request req, http::Respond respond) {
        if (sandbox != nullptr && sandbox->handle(req, respond)) return;
        router->handle(std::move(req), std::move(respond));
      });
  if (Status st = s.server->start(); !st.ok()) return st;
  if (sandbox != nullptr) {
    sandbox->set_tollgate_port(s.server->port());
    spdlog::info(
        "sandbox: no Slack here; a workspace of {} people is at http://{}:{}/sandbox "
        "(its fake Slack Web API at {})",
        s.directory->people.size(),
        so.address.find(':') != std::string::npos ? "[::1]" : so.address, s.server->port(),
        s.sandbox->api_url());
  }

  if (s.slack) {
    // Who the bot is, to ignore its own messages, and the workspace's
    // address, for permalinks; then the people's Slack ids. The outbox starts
    // once auth.test has answered (or failed), so that the messages it posts
    // are recorded with their permalink.
    OutboxWorker* worker = s.options.deliver ? s.outbox.get() : nullptr;
    if (worker == nullptr) spdlog::info("TOLLGATE_DELIVERY=off: this instance delivers nothing");
    s.slack->call("auth.test", "{}", [router, worker](slack::ApiResult r) {
      if (!r.ok()) {
        spdlog::warn("auth.test failed: {} (own messages are recognised by bot id only)",
                     r.status.to_string());
        if (worker != nullptr) worker->start();
        return;
      }
      rapidjson::Document doc;
      if (json::parse(doc, r.body).ok()) {
        router->set_bot_identity(json::str(doc, "user_id"), json::str(doc, "bot_id"));
        if (worker != nullptr) worker->set_workspace_url(json::str(doc, "url"));
        spdlog::info("slack: connected as {} ({})", json::str(doc, "user"), json::str(doc, "team"));
      }
      if (worker != nullptr) worker->start();
    });
    s.identity->learn_people();
  }
  SchedulerOptions sched;
  if (s.options.scheduler_interval.count() > 0) sched.interval = s.options.scheduler_interval;
  s.scheduler = std::make_unique<Scheduler>(*s.service, s.identity.get(), *s.clock, sched);
  if (s.options.scheduler_interval.count() > 0) s.scheduler->start();
  spdlog::info("tollgate: listening on {}://{}:{} (store {}, {} people, {} apps)",
               s.options.tls_cert.empty() ? "http" : "https", so.address, s.server->port(),
               s.options.db, s.directory->people.size(), s.directory->apps.size());
  return {};
}

SchedulerPass Process::run_scheduler_once() {
  return impl_->scheduler ? impl_->scheduler->run_once() : SchedulerPass{};
}

std::uint16_t Process::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

int Process::run_until_signal() {
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
  });
  io.run();
  shutdown();
  return 0;
}

void Process::shutdown() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  // 1. Stop accepting; let requests in flight finish and be answered.
  int unanswered = s.server->stop(s.options.shutdown_grace);
  if (unanswered > 0) spdlog::warn("{} request(s) unanswered after the grace period", unanswered);
  // 2. Stop deciding by ourselves and delivering; what is left stays in the
  // outbox for the next start.
  if (s.scheduler) s.scheduler->stop();
  if (s.outbox) s.outbox->stop();
  if (s.home) s.home->stop();
  // 3. Everything acknowledged is committed already; make sure the rest is too.
  if (Status f = flush_and_wait(*s.store); !f.ok())
    spdlog::error("flushing the store: {}", f.to_string());
  // 4. Stop talking to Slack and to the mail server.
  if (s.slack) s.slack->stop();
  if (s.mailer) s.mailer->stop();
  if (s.sandbox) s.sandbox->stop();
  spdlog::info("tollgate: stopped");
}

}  // namespace tollgate
