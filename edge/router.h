// The request handler behind every endpoint (docs/operating.md, "HTTP endpoints"): a function from
// request to response, testable without a socket.
//
//   POST /slack/events        url_verification, event_callback (dedupe by event_id,
//                             the bot's own messages ignored, app_home_opened)
//   POST /slack/interactions  block_actions, view_submission, view_closed
//   POST /slack/commands      /tasks
//   GET  /healthz /readyz /metrics
//
// Every Slack endpoint answers ssl_check=1 with 200, then verifies the
// signature over the raw body before parsing anything: a bad one is 401 with
// no side effect. A malformed payload is 400. A click that changes a task is
// acknowledged (200) only after the change is durably committed; a refused or
// no-op click is acknowledged and explained to the clicker alone. No Slack Web
// API call is made before the acknowledgement except views.open.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "http/message.h"

namespace tollgate {

class AdminApi;
namespace web {
class TaskPages;
}
class Clock;
class HomePublisher;
class Identity;
class Metrics;
class Store;
class TaskService;
struct SlackContext;
namespace slack {
class WebClient;
}

struct RouterOptions {
  std::string signing_secret;
  // Which workspace is served is Identity's (Identity::set_workspace, from
  // auth.test or SLACK_TEAM_ID): requests from any other are refused.
};

// Dispatch and verification only: what each Slack request does is in
// interactions.h (block_actions, view_submission), events.h (the Events API)
// and tasks_command.h (/tasks).
class Router {
 public:
  // Every reference must outlive the router. `slack` may be null (nothing is
  // sent to Slack; refusals are only logged).
  Router(RouterOptions options, TaskService& service, Store& store, Identity& identity,
         slack::WebClient* slack, Metrics& metrics, const Clock& clock);
  ~Router();

  void handle(http::Request request, http::Respond respond);
  // A Socket Mode envelope as the HTTP request Slack would have sent
  // (slack/socket_mode.h): handled as handle() does, without the signature
  // check (Socket Mode has no signature: the connection was opened with the
  // app-level token); a click or command whose envelope_id is already
  // recorded is acknowledged and not acted on again. The team check, identity and engine
  // are the same; the answer comes after the durable commit, as over HTTP.
  // Only the three Slack endpoints; anything else is 404.
  void handle_envelope(http::Request request, http::Respond respond);
  // What /readyz also reports (Socket Mode's health): a line of text, and
  // whether it is ready. Null: nothing more is reported.
  using ReadyCheck = std::function<std::pair<bool, std::string>()>;
  void set_ready_check(ReadyCheck check) { ready_check_ = std::move(check); }

  // The bot's own Slack identity (from auth.test), to ignore its own messages.
  void set_bot_identity(const std::string& bot_user_id, const std::string& bot_id);
  // Where App Home views are published (null: the home tab is not served).
  void set_home(HomePublisher* home);
  // Serves /api/… (null: 404).
  void set_admin_api(AdminApi* api) { api_ = api; }
  // The task page (web/task_pages.h): /t/… goes to it when set.
  void set_task_pages(web::TaskPages* pages) { pages_ = pages; }

 private:
  void readyz(http::Respond respond);
  // ssl_check, the signature, replays; then dispatch_slack.
  void slack_endpoint(http::Request req, http::Respond respond);
  // Records `key` in the store, then dispatch_slack; a key already recorded is answered 200
  // and not acted on again (counted as tollgate_slack_rejected_total{reason}). A click that
  // decides a task records it in the decision's own transaction instead.
  void dispatch_once(std::string key, const char* reason, http::Request req, http::Respond respond);
  // Parses a verified Slack request and hands it to its handler.
  void dispatch_slack(const http::Request& req, http::Respond respond);

  RouterOptions options_;
  Store& store_;
  Metrics& metrics_;
  const Clock& clock_;
  std::unique_ptr<SlackContext> context_;
  AdminApi* api_ = nullptr;
  web::TaskPages* pages_ = nullptr;
  ReadyCheck ready_check_;
};

}  // namespace tollgate
