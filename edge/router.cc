#include "edge/router.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>

#include "base/clock.h"
#include "base/metrics.h"
#include "edge/admin_api.h"
#include "edge/events.h"
#include "edge/interactions.h"
#include "edge/slack_context.h"
#include "edge/tasks_command.h"
#include "web/task_pages.h"
#include "slack/payloads.h"
#include "slack/signature.h"
#include "slack/socket_mode.h"
#include "storage/store.h"

namespace tollgate {
namespace {

using http::Response;

bool is_slack_endpoint(const std::string& path) {
  return path == "/slack/events" || path == "/slack/interactions" || path == "/slack/commands";
}

bool is_form(const http::Request& req) {
  const std::string* type = req.header("content-type");
  return type != nullptr && type->rfind("application/x-www-form-urlencoded", 0) == 0;
}

// The interaction a form carries in its `payload` field.
StatusOr<slack::Interaction> interaction_of(const slack::Form& form) {
  const std::string* payload = form.get("payload");
  if (payload == nullptr) return invalid_argument("no payload field");
  return slack::parse_interaction(*payload);
}

// The click, when `req` is one that decides a task (interactions.h, is_task_decision). A
// request that does not parse is not one: the usual path answers it 400.
std::optional<slack::Interaction> task_decision(const http::Request& req) {
  if (req.path != "/slack/interactions" || !is_form(req)) return std::nullopt;
  auto form = slack::parse_form(req.body);
  if (!form.ok()) return std::nullopt;
  auto in = interaction_of(*form);
  if (!in.ok() || !is_task_decision(*in)) return std::nullopt;
  return std::move(*in);
}

// Joins a request's answer with the commit of its delivery key
// (Store::remember_then): the answer is sent once both are in, and a key that
// was not committed turns it into a 503 (Slack will send the request again).
class AnswerAfterCommit {
 public:
  explicit AnswerAfterCommit(http::Respond respond) : respond_(std::move(respond)) {}
  void answer(Response r) {
    std::unique_lock lock(mu_);
    answer_ = std::move(r);
    flush(lock);
  }
  void committed(Status s) {
    std::unique_lock lock(mu_);
    // The key is not recorded: the answer is a 503 whatever the work says, and
    // is sent now (when the key could not even be written, no work runs).
    if (!s.ok() && s.code() != Code::duplicate && !answer_) answer_ = unavailable_response();
    commit_ = std::move(s);
    flush(lock);
  }

 private:
  void flush(std::unique_lock<std::mutex>& lock) {
    if (!answer_ || !commit_ || !respond_) return;
    Response r = commit_->ok() || commit_->code() == Code::duplicate ? std::move(*answer_)
                                                                      : unavailable_response();
    http::Respond respond = std::move(respond_);
    respond_ = nullptr;
    lock.unlock();
    respond(std::move(r));
  }

  std::mutex mu_;
  http::Respond respond_;
  std::optional<Response> answer_;
  std::optional<Status> commit_;
};

}  // namespace

Router::Router(RouterOptions options, TaskService& service, Store& store, Identity& identity,
               slack::WebClient* slack, Metrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      store_(store),
      metrics_(metrics),
      clock_(clock),
      context_(std::make_unique<SlackContext>(service, store, identity, slack, metrics)) {
  metrics_.describe("tollgate_decisions_total", "counter",
                    "Commands decided on tasks, by action and outcome (ok or the refusal code)");
  metrics_.describe("tollgate_slack_rejected_total", "counter",
                    "Slack requests refused before parsing, by reason");
  metrics_.describe("tollgate_events_total", "counter",
                    "Events API callbacks, by type and handling");
}

Router::~Router() = default;

void Router::set_bot_identity(const std::string& bot_user_id, const std::string& bot_id) {
  context_->set_bot_identity(bot_user_id, bot_id);
}

void Router::set_home(HomePublisher* home) {
  context_->home = home;
}

void Router::handle(http::Request req, http::Respond respond) {
  if (api_ != nullptr && api_->handles(req)) return api_->handle(req, std::move(respond));
  if (pages_ != nullptr && pages_->handles(req)) return pages_->handle(req, std::move(respond));
  if (req.path == "/healthz") {
    if (req.method != "GET") return respond(Response::text(405, "GET only\n"));
    return respond(Response::text(200, "ok\n"));
  }
  if (req.path == "/readyz") {
    if (req.method != "GET") return respond(Response::text(405, "GET only\n"));
    return readyz(std::move(respond));
  }
  if (req.path == "/metrics") {
    if (req.method != "GET") return respond(Response::text(405, "GET only\n"));
    Response r = Response::text(200, metrics_.render());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return respond(std::move(r));
  }
  if (is_slack_endpoint(req.path)) {
    if (req.method != "POST") return respond(Response::text(405, "POST only\n"));
    return slack_endpoint(std::move(req), std::move(respond));
  }
  respond(Response::text(404, "not found\n"));
}

void Router::readyz(http::Respond respond) {
  auto v = store_.schema_version();
  if (!v.ok()) {
    // Whoever can reach /readyz learns that much and no more: the database's
    // own words (hosts, users, SQL) go to the log.
    spdlog::warn("readyz: the store does not answer: {}", v.status().to_string());
    return respond(Response::text(503, "database unavailable\n"));
  }
  if (*v != current_schema_version()) {
    return respond(Response::text(503, "schema version " + std::to_string(*v) + ", need " +
                                           std::to_string(current_schema_version()) + "\n"));
  }
  if (ready_check_) {
    auto [ready, line] = ready_check_();
    return respond(Response::text(ready ? 200 : 503, (ready ? "ready\n" : "") + line + "\n"));
  }
  respond(Response::text(200, "ready\n"));
}

void Router::handle_envelope(http::Request req, http::Respond respond) {
  if (!is_slack_endpoint(req.path)) return respond(Response::text(404, "not found\n"));
  // A redelivery (its ack did not reach Slack: lost with a connection, or this process was
  // killed between the commit and the ack; or it went to another instance) carries the same
  // envelope_id. Events are recorded by event_id (events.cc); clicks and commands by it.
  const std::string* id = req.header(slack::kEnvelopeIdHeader);
  if (req.path == "/slack/events" || id == nullptr || id->empty())
    return dispatch_slack(req, std::move(respond));
  std::string key = "slack-envelope:" + *id;
  dispatch_once(std::move(key), "redelivery", std::move(req), std::move(respond));
}

void Router::slack_endpoint(http::Request req, http::Respond respond) {
  // Slack's certificate check carries no signature; it is answered and nothing else happens.
  if (is_form(req) && req.body.find("ssl_check=1") != std::string::npos) {
    auto f = slack::parse_form(req.body);
    if (f.ok() && f->value("ssl_check") == "1") return respond(Response::empty(200));
  }
  const std::string* ts = req.header("x-slack-request-timestamp");
  const std::string* sig = req.header("x-slack-signature");
  Status verified = slack::verify_signature(options_.signing_secret, ts ? *ts : "", sig ? *sig : "",
                                            req.body, clock_.now());
  if (!verified.ok()) {
    metrics_.inc("tollgate_slack_rejected_total", {{"reason", "signature"}});
    spdlog::warn("slack request refused: endpoint={} reason=\"{}\" remote={}", req.path,
                 verified.message(), req.remote);
    return respond(Response::empty(401));
  }
  // Events carry an event_id, signed with them and recorded with what they
  // do (events.cc): a replayed event is a duplicate already.
  if (req.path == "/slack/events") return dispatch_slack(req, std::move(respond));
  // A replay: the same signature (so the same timestamp and body) within the
  // five minutes verify_signature allows. Slack never sends one twice (a
  // retry, or a second click, is signed afresh), so it is somebody else's
  // copy: acknowledged, and not acted on again.
  dispatch_once("slack-signature:" + *sig, "replay", std::move(req), std::move(respond));
}

void Router::dispatch_once(std::string key, const char* reason, http::Request req,
                           http::Respond respond) {
  auto not_again = [this, reason, path = req.path, remote = req.remote] {
    metrics_.inc("tollgate_slack_rejected_total", {{"reason", reason}});
    spdlog::warn("slack request not acted on again ({}): endpoint={} remote={}", reason, path,
                 remote);
  };
  // A click that decides a task writes its key in the decision's own transaction
  // (interactions.h, DeliveryKey): one write per click, and the key and the decision commit
  // together or not at all.
  if (auto click = task_decision(req)) {
    return on_interaction(*context_, *click, std::move(respond),
                          DeliveryKey{std::move(key), std::move(not_again)});
  }
  // Recorded in the store, so that every instance on one database, and this one after a
  // restart, sees it; written before the request's own writes, which commit after it, so
  // that a crash loses the action (over HTTP Slack shows the clicker an error; in Socket
  // Mode the redelivery is acknowledged unacted) rather than doubles it. What the request
  // does outside the store (opening a modal, an ephemeral answer) may happen while the key
  // is being committed. An answer of 5xx did nothing: the record is undone before it is
  // sent, so that the redelivery Slack makes of an unacknowledged envelope is handled.
  respond = [this, key, respond = std::move(respond)](Response r) mutable {
    if (r.status < 500) return respond(std::move(r));
    store_.forget(key, [key, respond = std::move(respond), r = std::move(r)](Status s) mutable {
      if (!s.ok()) spdlog::warn("delivery record {} not undone: {}", key, s.to_string());
      respond(std::move(r));
    });
  };
  // The rest reads the store: not on its writer's thread. Without a thread to go back to,
  // the key's commit comes first and the work runs after it.
  auto resume = req.resume;
  if (!resume) {
    return store_.remember(std::move(key), [this, not_again, req = std::move(req),
                                            respond = std::move(respond)](Status s) mutable {
      if (s.code() == Code::duplicate) {
        not_again();
        return respond(Response::empty(200));
      }
      if (!s.ok()) return respond(unavailable_response());
      dispatch_slack(req, std::move(respond));
    });
  }
  // The request goes on as soon as the key is written, while it is committed: one commit
  // less to wait for. Its answer waits for that commit (AnswerAfterCommit); the request's own
  // writes, queued later, go in a later transaction. Should the key's commit fail, the
  // answer is a 503 even if those writes commit later (Store::remember_then): the clicker
  // is told to try again, and the engine refuses what is already decided.
  auto answer = std::make_shared<AnswerAfterCommit>(std::move(respond));
  store_.remember_then(
      std::move(key),
      [this, answer, not_again, resume, req = std::move(req)](Status s) mutable {
        if (s.code() == Code::duplicate) {
          not_again();
          return answer->answer(Response::empty(200));
        }
        if (!s.ok()) return answer->answer(unavailable_response());
        resume([this, answer, req = std::move(req)] {
          dispatch_slack(req, [answer](Response r) { answer->answer(std::move(r)); });
        });
      },
      [answer](Status s) { answer->committed(std::move(s)); });
}

void Router::dispatch_slack(const http::Request& req, http::Respond respond) {
  if (req.path == "/slack/events") {
    auto ev = slack::parse_event(req.body);
    if (!ev.ok()) return respond(Response::text(400, ev.status().message() + "\n"));
    return on_event(*context_, *ev, std::move(respond));
  }
  if (!is_form(req)) {
    return respond(Response::text(400, "expected application/x-www-form-urlencoded\n"));
  }
  auto f = slack::parse_form(req.body);
  if (!f.ok()) return respond(Response::text(400, f.status().message() + "\n"));
  if (req.path == "/slack/commands") {
    auto cmd = slack::parse_slash_command(*f);
    if (!cmd.ok()) return respond(Response::text(400, cmd.status().message() + "\n"));
    return run_tasks_command(*context_, *cmd, std::move(respond));
  }
  auto in = interaction_of(*f);
  if (!in.ok()) return respond(Response::text(400, in.status().message() + "\n"));
  on_interaction(*context_, *in, std::move(respond));
}

}  // namespace tollgate
