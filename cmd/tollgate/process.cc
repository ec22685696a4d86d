#include "cmd/tollgate/process.h"

#include <charconv>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "app/audit_seal.h"
#include "app/home_publisher.h"
#include "app/identity.h"
#include "app/outbox_worker.h"
#include "app/task_service.h"
#include "base/json.h"
#include "base/metrics.h"
#include "base/time_text.h"
#include "connect/connector.h"
#include "edge/admin_api.h"
#include "edge/router.h"
#include "http/server.h"
#include "mail/smtp.h"
#include "sandbox/sandbox.h"
#include "slack/socket_mode.h"
#include "slack/web_client.h"
#include "storage/store.h"
#include "web/task_pages.h"
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

// The body limit of /slack/…, below the generic 1 MiB: every Slack body is
// read before its signature can be checked, so this is what an unsigned
// stranger may make us hold. Slack's largest are far smaller: a command is
// under 2 KB; an interaction echoes one of our own views (kept within Slack's
// limits by slack/block_kit.h) plus its inputs, URL-encoded, tens of KB at
// most; an event with a thread reply of 40,000 characters (Slack's maximum)
// is about 100 KB of JSON in ASCII, its text twice (text and blocks). 256 KiB
// leaves room for a long reply in a non-Latin script too.
constexpr std::size_t kSlackBodyLimit = 256 * 1024;
// A task page form (a comment or a reason, a few task numbers): well below the 1 MiB of others.
constexpr std::size_t kTaskPageBodyLimit = 256 * 1024;

// The path as the log may keep it: a task link's token is a login for a
// week (web/links.h), so /t/<token> is logged as /t/<token>, literally.
std::string loggable_path(const std::string& path) {
  if (path.rfind("/t/", 0) != 0) return path;
  std::string_view rest = std::string_view(path).substr(3);
  for (std::string_view page : {"static/", "tasks/", "inbox", "access/", "open/"}) {
    if (rest.rfind(page, 0) == 0) return path;
  }
  return "/t/<token>";
}

}  // namespace

struct Process::Impl {
  ProcessOptions options;
  // SIGINT and SIGTERM, caught from the end of start() on: made before "listening" is logged,
  // so that what follows needs no new file descriptor (a full descriptor table cannot keep
  // shutdown from being heard) and a signal sent as soon as the port answers is not lost.
  std::unique_ptr<boost::asio::io_context> signal_io;
  std::unique_ptr<boost::asio::signal_set> signals;
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
  std::unique_ptr<web::TaskPages> pages;
  std::unique_ptr<mail::SmtpClient> mailer;
  std::unique_ptr<connect::Connectors> connectors;
  std::unique_ptr<sandbox::Sandbox> sandbox;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<http::Server> server;
  // Socket Mode (SLACK_APP_TOKEN): envelopes into the router, beside the server.
  std::unique_ptr<slack::SocketModeClient> socket_mode;
  bool stopped = false;
  // auth.test, asked until it answers (ask_auth_test). Declared last: the
  // thread uses the parts above, so it is joined before they go.
  std::mutex auth_mu;
  std::condition_variable auth_cv;
  bool auth_stop = false;
  std::thread auth_thread;

  ~Impl() { stop_auth(); }
  bool task_pages_on() const { return !options.public_url.empty() && !options.link_key.empty(); }
  void stop_auth() {
    {
      std::lock_guard lock(auth_mu);
      auth_stop = true;
    }
    auth_cv.notify_all();
    if (auth_thread.joinable()) auth_thread.join();
  }
  bool auth_stopping() {
    std::lock_guard lock(auth_mu);
    return auth_stop;
  }
  bool apply_auth_test(const std::string& body, OutboxWorker* worker);
  void ask_auth_test(OutboxWorker* worker, std::promise<void> first);
  void make_socket_mode();

  // The steps of Process::start, in order.
  Status load_config();
  Status open_store();
  Status make_mailer();
  Status start_sandbox(const std::string& host);
  void make_slack_client();
  Status make_delivery();
  void describe_metrics();
  void make_router();
  Status start_server(const std::string& address, std::uint16_t port, std::uint64_t open_files);
  void start_auth_test();
  Status start_socket_mode();
  void start_scheduler();
  void catch_signals();
};

// Socket Mode, when SLACK_APP_TOKEN is set: made (and /readyz told of it)
// before the server serves, started once the server is up and auth.test has
// been asked (so that our workspace is known before the first envelope, as
// for HTTP). Envelopes go to the router as HTTP requests without a signature.
void Process::Impl::make_socket_mode() {
  if (options.app_token.empty()) return;
  slack::SocketModeOptions so;
  so.app_token = options.app_token;
  so.api_url = options.slack_api_url;
  so.connections = options.socket_connections;
  Router* r = router.get();
  socket_mode = std::make_unique<slack::SocketModeClient>(
      so,
      [r](http::Request req, http::Respond respond) {
        r->handle_envelope(std::move(req), std::move(respond));
      },
      &metrics);
  slack::SocketModeClient* client = socket_mode.get();
  router->set_ready_check([client] {
    slack::SocketModeHealth h = client->health();
    std::string line = "socket mode: " + std::to_string(h.connected) + " of " +
                       std::to_string(h.wanted) + " connections open; last envelope ";
    if (h.last_envelope) {
      auto age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                                  *h.last_envelope);
      line += std::to_string(age.count()) + " s ago";
    } else {
      line += "none yet";
    }
    return std::make_pair(h.connected > 0, line);
  });
}

// What auth.test says: who the bot is (to ignore its own messages), the
// workspace's address (for permalinks), and which workspace is ours (team
// and enterprise): requests and users of any other are refused. A
// SLACK_TEAM_ID that disagrees stays the only team accepted (an operator's
// word is not overridden), and the mismatch is logged as an error.
bool Process::Impl::apply_auth_test(const std::string& body, OutboxWorker* worker) {
  rapidjson::Document doc;
  if (!json::parse(doc, body).ok()) return false;
  std::string team = json::str(doc, "team_id");
  if (team.empty()) return false;
  router->set_bot_identity(json::str(doc, "user_id"), json::str(doc, "bot_id"));
  if (worker != nullptr) worker->set_workspace_url(json::str(doc, "url"));
  if (!options.team_id.empty() && options.team_id != team) {
    spdlog::error(
        "SLACK_TEAM_ID is {} but the bot token belongs to team {}: only {} is served; "
        "fix one of them",
        options.team_id, team, options.team_id);
  } else {
    identity->set_workspace(team, json::str(doc, "enterprise_id"));
  }
  spdlog::info("slack: connected as {} ({}, team {})", json::str(doc, "user"),
               json::str(doc, "team"), team);
  return true;
}

// Asks auth.test until it answers (backing off from 1 s to a minute). The
// first outcome, either way, is told through `first` and starts the outbox;
// the people's Slack ids are looked up once it has answered.
void Process::Impl::ask_auth_test(OutboxWorker* worker, std::promise<void> first) {
  bool told = false;
  auto tell = [&] {
    if (told) return;
    told = true;
    if (worker != nullptr) worker->start();
    first.set_value();
  };
  for (auto wait = std::chrono::seconds(1);; wait = std::min(wait * 2, std::chrono::seconds(60))) {
    // Shared with the completion, which may outlive this call once stopping
    // (a stopped client drops what it had pending).
    auto answer = std::make_shared<std::promise<slack::ApiResult>>();
    auto answered = answer->get_future();
    slack->call("auth.test", "{}",
                [answer](slack::ApiResult r) { answer->set_value(std::move(r)); });
    while (answered.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (auth_stopping()) return;
    }
    slack::ApiResult r = answered.get();
    if (r.ok() && apply_auth_test(r.body, worker)) {
      tell();
      identity->learn_people();
      return;
    }
    spdlog::warn("auth.test failed: {}; Slack requests are refused (503) until it answers{}",
                 r.ok() ? "no team_id in its answer" : r.status.to_string(),
                 options.team_id.empty() ? "" : ", except from SLACK_TEAM_ID's team");
    tell();
    std::unique_lock lock(auth_mu);
    if (auth_cv.wait_for(lock, wait, [&] { return auth_stop; })) return;
  }
}

Process::Process(ProcessOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Process::~Process() {
  if (impl_->server && !impl_->stopped) shutdown();
}

// The configuration file: its problems logged, refused when it has errors.
Status Process::Impl::load_config() {
  LoadedConfig cfg = load_config_file(options.config);
  for (const ConfigIssue& i : cfg.issues) spdlog::warn("{}: {}", options.config, format_issue(i));
  if (!cfg.ok())
    return invalid_argument(options.config + " has errors (see `tollgate check-config`)");
  directory = cfg.directory;
  return {};
}

// The store, sealed with the audit key (TOLLGATE_AUDIT_KEY, else a key file
// made once: app/audit_seal.h), and the task service over it.
Status Process::Impl::open_store() {
  ASSIGN_OR_RETURN(AuditKey audit_key, load_audit_key(options.db, /*create=*/true));
  if (audit_key.default_file) spdlog::warn("{}", default_key_warning(audit_key));
  StoreOptions store_options;
  store_options.audit_key = std::move(audit_key.bytes);
  ASSIGN_OR_RETURN(store, tollgate::open_store(options.db, store_options));
  if (options.clock != nullptr) clock = options.clock;
  service = std::make_unique<TaskService>(
      *store, std::make_shared<Engine>(directory, *clock, delegations), delegations);
  RETURN_IF_ERROR(service->seed_access(*directory, clock->now()));
  return service->load_delegations();
}

// Email, when TOLLGATE_SMTP_URL is set.
Status Process::Impl::make_mailer() {
  if (options.smtp_url.empty()) return {};
  ASSIGN_OR_RETURN(mailer, mail::SmtpClient::create({options.smtp_url, options.smtp_from}));
  return {};
}

// The sandbox, when asked for: a fake Slack on loopback, whose secrets replace Slack's.
Status Process::Impl::start_sandbox(const std::string& host) {
  if (!options.sandbox) {
    if (!options.sandbox_socket_mode) return {};
    return invalid_argument(
        "--socket-mode is the sandbox's (with --sandbox); with Slack, Socket Mode is chosen by "
        "SLACK_APP_TOKEN");
  }
  if (!is_loopback(host)) {
    return invalid_argument(
        "the sandbox lets anyone act as anyone, so it runs only on a "
        "loopback address (TOLLGATE_LISTEN=127.0.0.1:3000), not on " +
        host);
  }
  sandbox = std::make_unique<sandbox::Sandbox>(directory);
  RETURN_IF_ERROR(sandbox->start());
  options.bot_token = sandbox->bot_token();
  options.signing_secret = sandbox->signing_secret();
  options.slack_api_url = sandbox->api_url();
  options.team_id = sandbox->team_id();
  if (options.sandbox_socket_mode) {
    sandbox->use_socket_mode();
    options.app_token = sandbox->app_token();
  }
  return {};
}

// The Slack Web API client (none without a bot token) and the identity over it.
void Process::Impl::make_slack_client() {
  if (options.bot_token.empty()) {
    spdlog::warn("SLACK_BOT_TOKEN is not set: nothing will be sent to Slack");
  } else {
    slack::WebClientOptions wo;
    wo.base_url = options.slack_api_url;
    wo.token = options.bot_token;
    slack = std::make_unique<slack::WebClient>(wo);
  }
  if (options.signing_secret.empty() && options.app_token.empty()) {
    spdlog::warn("SLACK_SIGNING_SECRET is not set: every Slack request will be refused (401)");
  }
  identity = std::make_unique<Identity>(directory, *store, slack.get(), *clock);
  // The operator's word on which workspace is ours holds until auth.test answers.
  if (!options.team_id.empty()) identity->set_workspace(options.team_id, "");
}

// With a Slack client: the outbox worker and the App Home publisher, both
// woken by every commit. Neither starts here (start_auth_test).
Status Process::Impl::make_delivery() {
  if (!slack) return {};
  // This process is the only one delivering from this store: what it had
  // claimed before a stop or a crash is offered again at once.
  std::promise<Status> released;
  store->release_claims([&released](Status st) { released.set_value(st); });
  RETURN_IF_ERROR(released.get_future().get());
  TaskService* s = service.get();
  OutboxOptions oo;
  oo.lease = options.outbox_lease;
  oo.max_age = options.outbox_max_age;
  outbox = std::make_unique<OutboxWorker>(
      *store, *slack, *identity, [s] { return s->engine(); }, *clock, metrics, oo);
  home = std::make_unique<HomePublisher>(*store, *slack, [s] { return s->engine(); });
  outbox->set_mailer(mailer.get());
  connectors = std::make_unique<connect::Connectors>();
  outbox->set_connectors(
      connectors.get(),
      [s](std::int64_t task, Command cmd, std::function<void(Status)> done) {
        s->act(task, std::move(cmd),
               [done = std::move(done)](StatusOr<Decision> d) { done(d.status()); });
      },
      options.public_url);
  if (task_pages_on()) outbox->set_task_links(options.link_key, options.link_ttl);
  OutboxWorker* worker = outbox.get();
  HomePublisher* publisher = home.get();
  service->set_on_commit([worker, publisher](const Decision& d) {
    if (!d.effects.empty()) worker->wake();
    // Whose inbox changed: everyone the task concerns.
    std::vector<PersonId> people{d.task.requester, d.task.subject};
    for (const TaskStep& st : d.task.steps) {
      people.insert(people.end(), st.assignees.begin(), st.assignees.end());
      if (!st.decided_by.empty()) people.push_back(st.decided_by);
    }
    publisher->changed(people);
  });
  return {};
}

void Process::Impl::describe_metrics() {
  metrics.describe("tollgate_http_requests_total", "counter",
                   "HTTP requests answered, by endpoint and status");
  metrics.describe("tollgate_http_ack_seconds", "histogram",
                   "Time from a request's header to its answer, by endpoint");
  Store* st = store.get();
  metrics.gauge("tollgate_outbox_pending", "Effects waiting for delivery to Slack", [st] {
    auto stats = st->outbox_stats();
    return stats.ok() ? static_cast<double>(stats->pending) : -1.0;
  });
  metrics.gauge("tollgate_outbox_parked", "Effects that failed for good, kept for an operator",
                [st] {
                  auto stats = st->outbox_stats();
                  return stats.ok() ? static_cast<double>(stats->parked) : -1.0;
                });
  metrics.gauge("tollgate_store_commits_total", "Store transactions committed",
                [st] { return static_cast<double>(st->stats().commits); });
  metrics.gauge("tollgate_store_commit_seconds_total",
                "Time spent committing (flushing) transactions",
                [st] { return static_cast<double>(st->stats().commit_micros) / 1e6; });
  metrics.gauge("tollgate_store_writes_total", "Writes committed by the store",
                [st] { return static_cast<double>(st->stats().writes); });
  metrics.gauge("tollgate_store_failed_writes_total",
                "Writes the store refused or could not make (each changed nothing)",
                [st] { return static_cast<double>(st->stats().failed_writes); });
  metrics.gauge("tollgate_store_redone_writes_total",
                "Decisions made again one by one after their run failed (PostgreSQL)",
                [st] { return static_cast<double>(st->stats().redone_writes); });
}

// The router with the admin API and the App Home, and Socket Mode's client.
void Process::Impl::make_router() {
  // Slack's signatures are fresh in real time, whatever clock the engine runs on.
  RouterOptions ro{options.signing_secret};
  router =
      std::make_unique<Router>(ro, *service, *store, *identity, slack.get(), metrics, system_clock);
  router->set_home(home.get());
  api = std::make_unique<AdminApi>(options.api_token, *service, *store);
  router->set_admin_api(api.get());
  if (task_pages_on()) {
    web::WebOptions wo;
    wo.public_url = options.public_url;
    wo.key = options.link_key;
    wo.link_ttl = options.link_ttl;
    pages = std::make_unique<web::TaskPages>(wo, *service, *store);
    router->set_task_pages(pages.get());
    spdlog::info("task page: links under {}/t/, valid {}", options.public_url,
                 format_duration(options.link_ttl));
  } else if (!options.public_url.empty()) {
    spdlog::info("task page: off (TOLLGATE_LINK_KEY is not set): mails link to Slack only");
  }
  make_socket_mode();
}

// The HTTP server: the sandbox's page first, when it runs, then the router.
Status Process::Impl::start_server(const std::string& address, std::uint16_t port,
                                   std::uint64_t open_files) {
  http::ServerOptions so;
  so.address = address;
  so.port = port;
  so.threads = options.threads;
  so.header_timeout = options.header_timeout;
  so.body_budget = options.body_budget;
  // The task page's forms: a comment or a reason, a few task numbers.
  so.path_body_limits = {{"/slack/", kSlackBodyLimit}, {"/t/", kTaskPageBodyLimit}};
  so.tls_cert_file = options.tls_cert;
  so.tls_key_file = options.tls_key;
  Metrics* m = &metrics;
  so.on_request = [m](const http::AccessLogEntry& e) {
    std::string endpoint = e.path.rfind("/slack/", 0) == 0 || e.path == "/healthz" ||
                                   e.path == "/readyz" || e.path == "/metrics"
                               ? e.path
                               : "other";
    m->inc("tollgate_http_requests_total",
           {{"endpoint", endpoint}, {"status", std::to_string(e.status)}});
    m->observe("tollgate_http_ack_seconds", {{"endpoint", endpoint}},
               static_cast<double>(e.latency.count()) / 1e6);
    spdlog::info("request method={} path={} status={} latency_us={} remote={}", e.method,
                 loggable_path(e.path), e.status, e.latency.count(), e.remote);
  };
  Router* r = router.get();
  sandbox::Sandbox* fake = sandbox.get();
  server = std::make_unique<http::Server>(so, [r, fake](http::Request req, http::Respond respond) {
    if (fake != nullptr && fake->handle(req, respond)) return;
    r->handle(std::move(req), std::move(respond));
  });
  RETURN_IF_ERROR(server->start());
  spdlog::info("open files: at most {}; connections: at most {}", open_files,
               server->max_connections());
  if (fake != nullptr) {
    fake->set_tollgate_port(server->port(), address);
    spdlog::info(
        "sandbox: no Slack here; a workspace of {} people is at http://{}:{}/sandbox "
        "(its fake Slack Web API at {})",
        directory->people.size(), address.find(':') != std::string::npos ? "[::1]" : address,
        server->port(), fake->api_url());
  }
  return {};
}

// auth.test (apply_auth_test), asked before start() returns: until it
// answers, requests are refused with 503 (from any team but SLACK_TEAM_ID's,
// when set). The outbox starts once it has answered (or failed), so that the
// messages it posts are recorded with their permalink; then the people's
// Slack ids are looked up.
void Process::Impl::start_auth_test() {
  if (!slack) {
    if (options.team_id.empty()) {
      spdlog::warn(
          "neither SLACK_BOT_TOKEN nor SLACK_TEAM_ID is set: the workspace served is not known, "
          "and every Slack request will be refused (503)");
    }
    return;
  }
  OutboxWorker* worker = options.deliver ? outbox.get() : nullptr;
  if (worker == nullptr) spdlog::info("TOLLGATE_DELIVERY=off: this instance delivers nothing");
  std::promise<void> first;
  auto asked = first.get_future();
  auth_thread = std::thread([this, worker, first = std::move(first)]() mutable {
    ask_auth_test(worker, std::move(first));
  });
  // Slack answers in a fraction of a second; one that does not answer at
  // all does not hold the start for longer than this.
  if (asked.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
    spdlog::warn("auth.test has not answered yet: Slack requests are refused (503) until it does");
}

Status Process::Impl::start_socket_mode() {
  if (!socket_mode) return {};
  RETURN_IF_ERROR(socket_mode->start());
  spdlog::info("socket mode: holding {} connection(s) to Slack", options.socket_connections);
  return {};
}

// The stale-task scheduler; with no interval it runs only when asked (run_scheduler_once).
void Process::Impl::start_scheduler() {
  SchedulerOptions sched;
  if (options.scheduler_interval.count() > 0) sched.interval = options.scheduler_interval;
  scheduler = std::make_unique<Scheduler>(*service, identity.get(), *clock, sched);
  if (options.scheduler_interval.count() > 0) scheduler->start();
}

void Process::Impl::catch_signals() {
  signal_io = std::make_unique<boost::asio::io_context>();
  signals = std::make_unique<boost::asio::signal_set>(*signal_io, SIGINT, SIGTERM);
  signals->async_wait([](const boost::system::error_code& ec, int sig) {
    if (!ec) spdlog::info("signal {}: shutting down", sig);
  });
}

Status Process::start() {
  Impl& s = *impl_;
  if (!s.options.api_token.empty() && s.options.api_token.size() < kMinApiToken) {
    return invalid_argument("TOLLGATE_API_TOKEN must be at least " + std::to_string(kMinApiToken) +
                            " characters long (it has " +
                            std::to_string(s.options.api_token.size()) +
                            "); make one with `openssl rand -hex 32`");
  }
  std::uint64_t open_files = http::raise_open_files_limit();
  RETURN_IF_ERROR(s.load_config());
  ASSIGN_OR_RETURN(auto listen, parse_listen(s.options.listen));
  RETURN_IF_ERROR(s.open_store());
  RETURN_IF_ERROR(s.make_mailer());
  RETURN_IF_ERROR(s.start_sandbox(listen.first));
  s.make_slack_client();
  RETURN_IF_ERROR(s.make_delivery());
  s.describe_metrics();
  s.make_router();
  RETURN_IF_ERROR(s.start_server(listen.first, listen.second, open_files));
  s.start_auth_test();
  RETURN_IF_ERROR(s.start_socket_mode());
  s.start_scheduler();
  s.catch_signals();
  spdlog::info("tollgate: listening on {}://{}:{} (store {}, {} people, {} apps)",
               s.options.tls_cert.empty() ? "http" : "https", listen.first, s.server->port(),
               redact_database_url(s.options.db), s.directory->people.size(),
               s.directory->apps.size());
  return {};
}

SchedulerPass Process::run_scheduler_once() {
  return impl_->scheduler ? impl_->scheduler->run_once() : SchedulerPass{};
}

std::uint16_t Process::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

int Process::run_until_signal() {
  if (impl_->signal_io) impl_->signal_io->run();  // returns once a signal was caught
  shutdown();
  return 0;
}

void Process::shutdown() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  // 1. Stop taking envelopes and requests; let those in flight finish and be
  // answered (an envelope left unacknowledged is delivered again by Slack).
  if (s.socket_mode) {
    int left = s.socket_mode->stop(s.options.shutdown_grace);
    if (left > 0) spdlog::warn("{} Socket Mode envelope(s) unacknowledged at shutdown", left);
  }
  int unanswered = s.server->stop(s.options.shutdown_grace);
  if (unanswered > 0) spdlog::warn("{} request(s) unanswered after the grace period", unanswered);
  // 2. Stop deciding by ourselves and delivering; what is left stays in the
  // outbox for the next start.
  if (s.scheduler) s.scheduler->stop();
  if (s.outbox) s.outbox->stop();
  // Calls to apps still under way are abandoned before the store is flushed:
  // their answers are not decided after it. The outbox calls them again at
  // the next start (the connectors make a repeated call safe).
  if (s.connectors) s.connectors->stop();
  if (s.home) s.home->stop();
  // 3. Everything acknowledged is committed already; make sure the rest is too.
  if (Status f = flush_and_wait(*s.store); !f.ok())
    spdlog::error("flushing the store: {}", f.to_string());
  // 4. Stop talking to Slack and to the mail server.
  s.stop_auth();
  if (s.slack) s.slack->stop();
  if (s.mailer) s.mailer->stop();
  if (s.sandbox) s.sandbox->stop();
  spdlog::info("tollgate: stopped");
}

}  // namespace tollgate
