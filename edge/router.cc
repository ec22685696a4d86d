#include "edge/router.h"

#include <spdlog/spdlog.h>

#include "edge/admin_api.h"
#include "app/home_publisher.h"
#include "app/identity.h"
#include "base/json.h"
#include "base/metrics.h"
#include "app/task_service.h"
#include "slack/actions.h"
#include "slack/blocks.h"
#include "slack/home_view.h"
#include "slack/markup.h"
#include "slack/payloads.h"
#include "slack/signature.h"
#include "slack/views.h"
#include "slack/web_client.h"
#include "edge/tasks_command.h"
#include "storage/store.h"
#include "workflow/engine.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

using http::Response;

using slack::kit::esc;
using slack::kit::Mrkdwn;

// An answer only its reader sees (a slash command's, or a response_url post).
std::string ephemeral(const Mrkdwn& text) {
  return slack::kit::ephemeral_answer(slack::kit::text_message(text));
}

// {"response_action":"errors","errors":{block: message}}
Response modal_error(std::string_view block, const std::string& message) {
  return Response::json(200, slack::kit::errors_answer(block, message));
}

Response unavailable_response() {
  return Response::text(503, "the store is unavailable; nothing was recorded\n");
}

// Whether a step requires a comment for this action.
bool reason_required(const Task& t, int step, Action a) {
  if (a == Action::wont_provision || a == Action::wont_deprovision || a == Action::reassign)
    return true;
  if (step < 0 || step >= static_cast<int>(t.steps.size())) return false;
  return t.steps[static_cast<std::size_t>(step)].rule.require_reason.count(a) != 0;
}

}  // namespace

Router::Router(RouterOptions options, TaskService& service, Store& store, Identity& identity,
               slack::WebClient* slack, Metrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      service_(service),
      store_(store),
      identity_(identity),
      slack_(slack),
      metrics_(metrics),
      clock_(clock) {
  metrics_.describe("tollgate_decisions_total", "counter",
                    "Commands decided on tasks, by action and outcome (ok or the refusal code)");
  metrics_.describe("tollgate_slack_rejected_total", "counter",
                    "Slack requests refused before parsing, by reason");
  metrics_.describe("tollgate_events_total", "counter",
                    "Events API callbacks, by type and handling");
}

void Router::set_bot_identity(const std::string& bot_user_id, const std::string& bot_id) {
  std::lock_guard lock(bot_mu_);
  bot_user_id_ = bot_user_id;
  bot_id_ = bot_id;
}

bool Router::foreign_team(const std::string& team_id, const std::string& enterprise_id,
                          http::Respond& respond) {
  Identity::Team team = identity_.team_of(team_id, enterprise_id);
  if (team == Identity::Team::ours) return false;
  bool unknown = team == Identity::Team::unknown;
  metrics_.inc("tollgate_slack_rejected_total", {{"reason", unknown ? "team_unknown" : "team"}});
  respond(unknown ? Response::text(503, "the workspace served here is not known yet\n")
                  : Response::text(403, "this workspace is not served here\n"));
  return true;
}

void Router::handle(http::Request req, http::Respond respond) {
  if (api_ != nullptr && api_->handles(req)) return api_->handle(req, std::move(respond));
  if (req.path == "/healthz") {
    if (req.method != "GET") return respond(Response::text(405, "GET only\n"));
    return respond(Response::text(200, "ok\n"));
  }
  if (req.path == "/readyz") {
    if (req.method != "GET") return respond(Response::text(405, "GET only\n"));
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
    return respond(Response::text(200, "ready\n"));
  }
  if (req.path == "/metrics") {
    if (req.method != "GET") return respond(Response::text(405, "GET only\n"));
    Response r = Response::text(200, metrics_.render());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return respond(std::move(r));
  }
  if (req.path == "/slack/events" || req.path == "/slack/interactions" ||
      req.path == "/slack/commands") {
    if (req.method != "POST") return respond(Response::text(405, "POST only\n"));
    return slack_endpoint(std::move(req), std::move(respond));
  }
  respond(Response::text(404, "not found\n"));
}

void Router::handle_envelope(http::Request req, http::Respond respond) {
  if (req.path != "/slack/events" && req.path != "/slack/interactions" &&
      req.path != "/slack/commands") {
    return respond(Response::text(404, "not found\n"));
  }
  dispatch_slack(req, std::move(respond));
}

void Router::slack_endpoint(http::Request req, http::Respond respond) {
  const std::string* type = req.header("content-type");
  bool form = type != nullptr && type->rfind("application/x-www-form-urlencoded", 0) == 0;
  // Slack's certificate check carries no signature; it is answered and nothing else happens.
  if (form && req.body.find("ssl_check=1") != std::string::npos) {
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
  // do (on_event, mirror_thread): a replayed event is a duplicate already.
  if (req.path == "/slack/events") return dispatch_slack(req, std::move(respond));
  // A replay: the same signature (so the same timestamp and body) within the
  // five minutes verify_signature allows. Slack never sends one twice (a
  // retry, or a second click, is signed afresh), so it is somebody else's
  // copy: acknowledged, and not acted on again. Recorded in the store, so
  // that every instance on one database sees it; before acting, so that a
  // crash in between loses the action (Slack shows the clicker an error)
  // rather than doubles it.
  std::string key = "slack-signature:" + *sig;
  store_.remember(
      std::move(key), [this, req = std::move(req), respond = std::move(respond)](Status s) mutable {
        if (s.code() == Code::duplicate) {
          metrics_.inc("tollgate_slack_rejected_total", {{"reason", "replay"}});
          spdlog::warn("slack request replayed: endpoint={} remote={}", req.path, req.remote);
          return respond(Response::empty(200));
        }
        if (!s.ok()) return respond(unavailable_response());
        // The rest reads the store: not on its writer's thread.
        auto resume = req.resume;
        auto work = [this, req = std::move(req), respond = std::move(respond)]() mutable {
          dispatch_slack(req, std::move(respond));
        };
        if (resume) return resume(std::move(work));
        work();
      });
}

void Router::dispatch_slack(const http::Request& req, http::Respond respond) {
  const std::string* type = req.header("content-type");
  bool form = type != nullptr && type->rfind("application/x-www-form-urlencoded", 0) == 0;
  if (req.path == "/slack/events") {
    auto ev = slack::parse_event(req.body);
    if (!ev.ok()) return respond(Response::text(400, ev.status().message() + "\n"));
    return on_event(*ev, std::move(respond));
  }
  if (!form) return respond(Response::text(400, "expected application/x-www-form-urlencoded\n"));
  auto f = slack::parse_form(req.body);
  if (!f.ok()) return respond(Response::text(400, f.status().message() + "\n"));
  if (req.path == "/slack/commands") {
    auto cmd = slack::parse_slash_command(*f);
    if (!cmd.ok()) return respond(Response::text(400, cmd.status().message() + "\n"));
    return on_command(*cmd, std::move(respond));
  }
  const std::string* payload = f->get("payload");
  if (payload == nullptr) return respond(Response::text(400, "no payload field\n"));
  auto in = slack::parse_interaction(*payload);
  if (!in.ok()) return respond(Response::text(400, in.status().message() + "\n"));
  on_interaction(*in, std::move(respond));
}

void Router::tell(const slack::Interaction& in, const std::string& plain) {
  spdlog::info("told {}: {}", in.user_id, plain);
  slack::kit::Message message = slack::kit::text_message(esc(plain));
  if (slack_ == nullptr) return;
  auto log_failure = [](slack::ApiResult r) {
    if (!r.ok()) spdlog::warn("could not tell the clicker: {}", r.status.to_string());
  };
  if (!in.response_url.empty() && slack_->allowed_response_url(in.response_url)) {
    slack_->post_response_url(in.response_url, slack::kit::ephemeral_answer(message),
                              log_failure);
  } else if (!in.channel_id.empty()) {
    slack_->call("chat.postEphemeral",
                 slack::kit::post_ephemeral(in.channel_id, in.user_id, message), log_failure);
  } else {
    slack_->call("chat.postMessage", slack::kit::post_message(in.user_id, message), log_failure);
  }
}

void Router::on_interaction(const slack::Interaction& in, http::Respond respond) {
  if (foreign_team(in.team_id, in.enterprise_id, respond)) return;
  if (in.type == "view_closed") return respond(Response::empty(200));
  if (in.type != "block_actions" && in.type != "view_submission") {
    return respond(Response::empty(200));  // shortcuts and the like: nothing of ours
  }
  auto person = identity_.person_for(in.user_id);
  if (!person) {
    identity_.learn_user(in.user_id);
    if (in.type == "view_submission") {
      return respond(
          modal_error(slack::kReasonBlock, "Tollgate does not know your Slack account yet."));
    }
    respond(Response::empty(200));
    return tell(in,
                "Tollgate does not know your Slack account: ask an admin to add your Slack id "
                "or email to the directory.");
  }
  if (in.type == "view_submission") return on_view_submission(in, *person, std::move(respond));
  on_block_action(in, in.actions.front(), *person, std::move(respond));
}

void Router::on_block_action(const slack::Interaction& in, const slack::ActionItem& item,
                             const std::string& person, http::Respond respond) {
  if (in.view && in.view->type == "home" && on_home_action(in, item, person, respond)) return;
  std::string action_id = item.action_id;
  std::string value = item.value;
  if (action_id == slack::kMoreActions) {  // overflow: "<action>:<task>:<step>"
    auto colon = value.find(':');
    if (colon == std::string::npos) return respond(Response::text(400, "malformed menu value\n"));
    action_id = value.substr(0, colon);
    value = value.substr(colon + 1);
  }
  auto ref = slack::parse_task_ref(value);
  std::optional<Action> action = parse_action(action_id);
  bool modal_only = action_id == slack::kReassign || action_id == slack::kViewDetails;
  if (!modal_only && (!action || *action == Action::comment || *action == Action::reassign)) {
    // Not one of ours (a checkbox, a link button): acknowledge and ignore.
    return respond(Response::empty(200));
  }
  if (!ref) return respond(Response::text(400, "malformed task reference\n"));

  // A form first for what needs one: reassignment, details, and every action
  // the step wants a reason for.
  std::optional<slack::kit::Modal> view;
  {
    auto task = store_.task(ref->task);
    if (task.code() == Code::unavailable) return respond(unavailable_response());
    // Need to know: no form, no details, for a task the clicker is not involved
    // in; the same line as for a task that does not exist.
    auto engine = service_.engine();
    if (!task.ok() || !involved(engine->directory(), *task, person)) {
      respond(Response::empty(200));
      return tell(in, task_not_shown(ref->task).message());
    }
    if (action_id == slack::kReassign) {
      view = slack::reassign_modal(*task, ref->step);
    } else if (action_id == slack::kViewDetails) {
      view = slack::details_modal(*engine, *task, person);
    } else if (reason_required(*task, ref->step, *action)) {
      view = slack::reason_modal(*task, *action, ref->step, true);
    }
  }
  {
    if (view) {
      // Acknowledge, then open the modal while the trigger_id is fresh (3 s).
      respond(Response::empty(200));
      if (slack_ == nullptr) return;
      slack_->call("views.open", slack::kit::views_open(in.trigger_id, *view),
                   [this, in](slack::ApiResult r) {
                     if (!r.ok()) {
                       spdlog::warn("views.open failed: {}", r.status.to_string());
                       tell(in,
                            "Slack would not open the form (" + r.error + "); please try again.");
                     }
                   });
      return;
    }
  }

  Command cmd{
      *action, person, {}, {}, ref->step >= 0 ? std::optional<int>(ref->step) : std::nullopt};
  // The message clicked on: the history links to it (audit export permalinks).
  cmd.slack_channel = in.channel_id;
  cmd.slack_ts = in.message_ts;
  std::string name(action_name(*action));
  service_.act(ref->task, cmd, [this, in, name, respond](StatusOr<Decision> d) {
    metrics_.inc("tollgate_decisions_total",
                 {{"action", name}, {"outcome", std::string(code_name(d.status().code()))}});
    if (d.ok()) {
      spdlog::debug("decided: {} by {}", d->summary, in.user_id);
      return respond(Response::empty(200));
    }
    if (d.code() == Code::unavailable) {
      respond(unavailable_response());
      return tell(
          in, "Tollgate could not record that (" + d.status().message() + "). Please try again.");
    }
    respond(Response::empty(200));
    tell(in, d.status().message());
  });
}

bool Router::on_home_action(const slack::Interaction& in, const slack::ActionItem& item,
                            const std::string& person, http::Respond& respond) {
  std::string_view id = item.action_id;
  if (id.rfind(slack::kHomeTabAction, 0) == 0) {  // "<tab>:<page>"
    auto colon = item.value.find(':');
    std::string tab = item.value.substr(0, colon);
    int page = 0;
    if (colon != std::string::npos) page = std::atoi(item.value.c_str() + colon + 1);
    bool known = false;
    for (const char* t : slack::kHomeTabs) known = known || tab == t;
    if (!known) {
      respond(Response::text(400, "unknown tab\n"));
      return true;
    }
    respond(Response::empty(200));
    if (home_ != nullptr) home_->show(in.user_id, person, tab, std::max(0, page));
    return true;
  }
  if (id.rfind(slack::kHomeBulkAction, 0) == 0) {
    auto action = parse_action(item.value);
    if (!action) {
      respond(Response::text(400, "unknown bulk action\n"));
      return true;
    }
    // The checked rows: blocks "row:<n>" whose checkbox has its option, "<n>:<step>", selected.
    std::vector<slack::TaskRef> tasks;
    for (const auto& [block, inputs] : in.view->state) {
      if (block.rfind("row:", 0) != 0) continue;
      auto sel = inputs.find(std::string(slack::kHomeSelect));
      if (sel == inputs.end() || sel->second.selected_options.empty()) continue;
      auto n = parse_task_number(block.substr(4));
      auto ref = slack::parse_task_ref(sel->second.selected_options.front());
      if (!n || !ref || ref->task != *n || sel->second.selected_options.size() != 1) {
        respond(Response::text(400, "malformed row selection\n"));
        return true;
      }
      tasks.push_back(*ref);
    }
    std::sort(tasks.begin(), tasks.end(),
              [](const slack::TaskRef& a, const slack::TaskRef& b) { return a.task < b.task; });
    respond(Response::empty(200));
    if (tasks.empty()) {
      tell(in, "Tick the tasks first, then choose what to do with them.");
      return true;
    }
    // Never a silent cut: more than the limit is refused whole.
    if (Status s = check_bulk_length(tasks.size()); !s.ok()) {
      tell(in, s.message());
      return true;
    }
    if (slack_ == nullptr) return true;
    slack_->call("views.open",
                 slack::kit::views_open(in.trigger_id, slack::bulk_modal(*action, tasks)),
                 [this, in](slack::ApiResult r) {
                   if (!r.ok())
                     tell(in, "Slack would not open the form (" + r.error + "); please try again.");
                 });
    return true;
  }
  return false;  // a row's More actions menu: handled like a message's
}

void Router::on_view_submission(const slack::Interaction& in, const std::string& person,
                                http::Respond respond) {
  const slack::ViewInfo& view = *in.view;
  auto input = [&](std::string_view block, std::string_view action) -> const slack::StateValue* {
    auto b = view.state.find(std::string(block));
    if (b == view.state.end()) return nullptr;
    auto a = b->second.find(std::string(action));
    return a == b->second.end() ? nullptr : &a->second;
  };
  const slack::StateValue* reason_value = input(slack::kReasonBlock, slack::kReasonInput);
  std::string reason = reason_value != nullptr ? reason_value->value : "";
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) reason.clear();

  Command cmd;
  cmd.actor = person;
  cmd.comment = reason;
  TaskNumber task = 0;
  if (view.callback_id == slack::kBulkModal) {  // "<action>:<task>:<step>,<task>:<step>,…"
    auto colon = view.private_metadata.find(':');
    auto action = parse_action(view.private_metadata.substr(0, colon));
    auto refs =
        colon == std::string::npos
            ? std::nullopt
            : slack::parse_task_refs(std::string_view(view.private_metadata).substr(colon + 1));
    // Only what an App Home tab offers in bulk; every entry well formed.
    bool offered = false;
    for (const char* tab : slack::kHomeTabs) {
      for (const auto& [a, label] : slack::bulk_actions(tab))
        offered = offered || (action && a == *action);
    }
    if (!offered || !refs) return respond(Response::text(400, "malformed private_metadata\n"));
    if (Status s = check_bulk_length(refs->size()); !s.ok())
      return respond(modal_error(slack::kReasonBlock, s.message()));
    std::vector<BulkTarget> targets;
    for (const slack::TaskRef& r : *refs)
      targets.push_back({r.task, r.step >= 0 ? std::optional<int>(r.step) : std::nullopt});
    cmd.action = *action;
    cmd.source = "bulk";
    std::string name(action_name(*action));
    Status queued = service_.act_many(
        std::move(targets), cmd,
        [this, respond, name, action = *action](std::vector<BulkResult> results) {
          for (const BulkResult& r : results) {
            metrics_.inc(
                "tollgate_decisions_total",
                {{"action", name}, {"outcome", std::string(code_name(r.outcome.status().code()))}});
          }
          // The modal turns into the report: done, or refused and why, for each task.
          respond(Response::json(
              200, slack::kit::update_view_answer(slack::bulk_result_view(action, results))));
        });
    if (!queued.ok()) respond(modal_error(slack::kReasonBlock, queued.message()));
    return;
  }
  if (view.callback_id == slack::kReasonModal) {
    auto colon = view.private_metadata.find(':');
    auto action = parse_action(view.private_metadata.substr(0, colon));
    auto ref = colon == std::string::npos
                   ? std::nullopt
                   : slack::parse_task_ref(view.private_metadata.substr(colon + 1));
    if (!action || !ref) return respond(Response::text(400, "malformed private_metadata\n"));
    cmd.action = *action;
    cmd.step = ref->step >= 0 ? std::optional<int>(ref->step) : std::nullopt;
    task = ref->task;
  } else if (view.callback_id == slack::kReassignModal) {
    auto ref = slack::parse_task_ref(view.private_metadata);
    if (!ref) return respond(Response::text(400, "malformed private_metadata\n"));
    const slack::StateValue* to = input(slack::kAssigneeBlock, slack::kAssigneeInput);
    if (to == nullptr || to->selected_user.empty()) {
      return respond(modal_error(slack::kAssigneeBlock, "Choose who should take the task."));
    }
    auto target = identity_.person_for(to->selected_user);
    if (!target) {
      identity_.learn_user(to->selected_user);
      return respond(
          modal_error(slack::kAssigneeBlock, "That person is not in Tollgate's directory."));
    }
    if (reason.empty()) return respond(modal_error(slack::kReasonBlock, "A reason is required."));
    cmd.action = Action::reassign;
    cmd.to = *target;
    cmd.step = ref->step >= 0 ? std::optional<int>(ref->step) : std::nullopt;
    task = ref->task;
  } else {
    return respond(Response::empty(200));  // not one of ours
  }
  if (reason.empty() &&
      (cmd.action == Action::wont_provision || cmd.action == Action::wont_deprovision)) {
    return respond(modal_error(slack::kReasonBlock, "A reason is required."));
  }
  std::string name(action_name(cmd.action));
  service_.act(task, cmd, [this, name, respond, action = cmd.action](StatusOr<Decision> d) {
    metrics_.inc("tollgate_decisions_total",
                 {{"action", name}, {"outcome", std::string(code_name(d.status().code()))}});
    if (d.ok()) return respond(Response::empty(200));  // closes the modal
    if (d.code() == Code::unavailable) return respond(unavailable_response());
    respond(modal_error(action == Action::reassign && d.code() != Code::conflict
                            ? slack::kAssigneeBlock
                            : slack::kReasonBlock,
                        d.status().message()));
  });
}

void Router::on_command(const slack::SlashCommand& c, http::Respond respond) {
  if (foreign_team(c.team_id, c.enterprise_id, respond)) return;
  // Answers are mrkdwn: Tollgate's own markup (answer) or plain text shown as written (reply).
  auto answer = [respond](const Mrkdwn& text) { respond(Response::json(200, ephemeral(text))); };
  auto reply = [answer](const std::string& plain) { answer(esc(plain)); };
  auto parsed = parse_tasks_command(c.text);
  // The parser quotes the words it could not read as Slack sent them: shown as typed.
  if (!parsed.ok()) return reply(slack::unescape(parsed.status().message()));
  if (parsed->verb == TasksCommand::Verb::help) return reply(tasks_help());
  auto person = identity_.person_for(c.user_id);
  if (!person) {
    identity_.learn_user(c.user_id);
    return reply(
        "Tollgate does not know your Slack account: ask an admin to add your Slack id or "
        "email to the directory.");
  }
  auto engine = service_.engine();
  const Directory& dir = engine->directory();
  // Stored as the person typed it: Slack's escaping undone and its mentions and links read
  // as text, once, here.
  parsed->text = slack::plain_text(parsed->text, [&](const std::string& id) {
    auto p = identity_.person_for(id);
    return p ? dir.display_name(*p) : std::string();
  });
  auto person_of = [&](const UserRef& u) -> StatusOr<PersonId> {
    if (!u.slack_user_id.empty()) {
      if (auto p = identity_.person_for(u.slack_user_id)) return *p;
      identity_.learn_user(u.slack_user_id);
      return not_found("The Slack user " + u.slack_user_id + " is not in Tollgate's directory.");
    }
    if (dir.person(u.person) == nullptr)
      return not_found("No person `" + u.person + "` in the directory.");
    return u.person;
  };
  auto decided = [this, reply, respond](const char* action) {
    return [this, reply, respond, action](StatusOr<Decision> d) {
      metrics_.inc("tollgate_decisions_total",
                   {{"action", action}, {"outcome", std::string(code_name(d.status().code()))}});
      if (d.ok()) return reply(d->summary + ".");
      if (d.code() == Code::unavailable) return respond(unavailable_response());
      reply(d.status().message());
    };
  };
  const TasksCommand& cmd = *parsed;
  switch (cmd.verb) {
    case TasksCommand::Verb::help:
      return reply(tasks_help());
    case TasksCommand::Verb::list: {
      TaskFilter f;
      f.limit = 200;
      if (cmd.tab == "completed") {  // the newest 200, newest first
        f.involving = *person;
        f.open = false;
        f.newest_first = true;
      } else {
        f.assignee = *person;
        f.open = true;
      }
      auto tasks = store_.tasks(f);
      if (!tasks.ok()) return respond(unavailable_response());
      std::vector<const Task*> shown;
      for (const Task& t : *tasks) {
        bool keep = cmd.tab.empty() || cmd.tab == "completed" ||
                    (cmd.tab == "requests" && t.kind == TaskKind::grant &&
                     t.state == TaskState::reviewing) ||
                    (cmd.tab == "revocations" && t.kind == TaskKind::revoke &&
                     t.state == TaskState::reviewing) ||
                    (cmd.tab == "provisioning" && t.state == TaskState::provisioning) ||
                    (cmd.tab == "deprovisioning" && t.state == TaskState::deprovisioning);
        if (keep) shown.push_back(&t);
      }
      std::string title = cmd.tab.empty() ? "Your open tasks" : "Your tasks: " + cmd.tab;
      if (shown.empty()) return reply(title + ": none.");
      Mrkdwn text = Mrkdwn::markup("*") + esc(title + " (" + std::to_string(shown.size()) + ")") +
                    Mrkdwn::markup("*");
      for (std::size_t i = 0; i < shown.size() && i < 20; ++i)
        text += Mrkdwn::markup("\n• ") + slack::task_line(*engine, *shown[i]);
      if (shown.size() > 20) text += esc("\n…and " + std::to_string(shown.size() - 20) + " more.");
      return answer(text);
    }
    case TasksCommand::Verb::show: {
      auto t = store_.task(cmd.tasks[0]);
      if (t.code() == Code::unavailable) return respond(unavailable_response());
      // Need to know: a task that does not exist and one that is not theirs read the same.
      if (!t.ok() || !involved(dir, *t, *person))
        return reply(task_not_shown(cmd.tasks[0]).message());
      return answer(slack::task_text(*engine, *t, *person));
    }
    case TasksCommand::Verb::act: {
      Command act{cmd.action, *person, cmd.text, {}, std::nullopt, "command", {}, {}};
      std::string name(action_name(cmd.action));
      // No step in the text: each task is pinned to the step open as the command
      // arrives (TaskService::act_many), so a second `/tasks approve 42` after the
      // first moved the task on is told "already approved by …".
      std::vector<BulkTarget> targets;
      for (TaskNumber n : cmd.tasks) targets.push_back({n, std::nullopt});
      Status queued = service_.act_many(
          std::move(targets), act, [this, reply, name](std::vector<BulkResult> results) {
            std::string text;  // plain: the emoji codes read the same once escaped
            for (const BulkResult& r : results) {
              metrics_.inc("tollgate_decisions_total",
                           {{"action", name},
                            {"outcome", std::string(code_name(r.outcome.status().code()))}});
              text += (text.empty() ? "" : "\n") +
                      std::string(r.outcome.ok() ? ":white_check_mark: " : ":no_entry: ") +
                      (r.outcome.ok()
                           ? r.outcome->summary
                           : "#" + std::to_string(r.task) + ": " + r.outcome.status().message());
            }
            reply(text);
          });
      if (!queued.ok()) return reply(queued.message());
      return;
    }
    case TasksCommand::Verb::reassign: {
      auto to = person_of(cmd.user);
      if (!to.ok()) return reply(to.status().message());
      // The step open as the command arrives, as for the decisions above.
      Command act{Action::reassign, *person, cmd.text, *to, std::nullopt, "command", {}, {}};
      act.step = service_.open_step_now(cmd.tasks[0]);
      return service_.act(cmd.tasks[0], act, decided("reassign"));
    }
    case TasksCommand::Verb::comment: {
      Command act{Action::comment, *person, cmd.text, {}, std::nullopt, "command", {}, {}};
      return service_.act(cmd.tasks[0], act, decided("comment"));
    }
    case TasksCommand::Verb::request: {
      auto target = resolve_target(dir, slack::unescape(cmd.target));
      if (!target.ok()) return reply(target.status().message());
      RequestInput in{*person,  {},           target->first, target->second,
                      cmd.text, cmd.duration, cmd.emergency};
      if (!cmd.user.slack_user_id.empty() || !cmd.user.person.empty()) {
        auto subject = person_of(cmd.user);
        if (!subject.ok()) return reply(subject.status().message());
        in.subject = *subject;
      }
      return service_.request(in, decided("request"));
    }
    case TasksCommand::Verb::revoke: {
      auto target = resolve_target(dir, slack::unescape(cmd.target));
      if (!target.ok()) return reply(target.status().message());
      auto subject = person_of(cmd.user);
      if (!subject.ok()) return reply(subject.status().message());
      RevocationInput in{*person, *subject, target->first, target->second, cmd.text};
      return service_.revoke(in, decided("revoke"));
    }
    case TasksCommand::Verb::delegate: {
      Time now = engine->clock().now();
      if (cmd.off) {
        return service_.end_delegation(*person, *person, [this, reply, respond](Status s) {
          metrics_.inc("tollgate_delegations_total",
                       {{"change", "off"}, {"outcome", std::string(code_name(s.code()))}});
          if (s.code() == Code::unavailable) return respond(unavailable_response());
          if (s.code() == Code::not_found) return reply("You have no delegate set.");
          reply(s.ok() ? "Welcome back: your new reviews come to you again." : s.message());
        });
      }
      if (!cmd.until) {
        for (const Delegation& d : service_.delegations()) {
          if (d.person == *person && now < d.until) {
            return reply("Your new reviews go to " + dir.display_name(d.delegate) + " until " +
                         format_instant(d.until) + ". `/tasks delegate off` ends it.");
          }
        }
        return reply("You have no delegate. `/tasks delegate @user until 2026-12-24` sets one.");
      }
      auto to = person_of(cmd.user);
      if (!to.ok()) return reply(to.status().message());
      Delegation d{*person, *to, *cmd.until, *person, now};
      std::string name = dir.display_name(*to);
      std::string until = format_date(*cmd.until - std::chrono::days(1));
      return service_.delegate(d, [this, reply, respond, name, until](Status s) {
        metrics_.inc("tollgate_delegations_total",
                     {{"change", "set"}, {"outcome", std::string(code_name(s.code()))}});
        if (s.code() == Code::unavailable) return respond(unavailable_response());
        if (!s.ok()) return reply(s.message());
        reply(":palm_tree: Until the end of " + until + ", your new reviews go to " + name +
              ". Tasks already yours stay with you. `/tasks delegate off` ends it early.");
      });
    }
  }
}

bool Router::mirror_thread(const slack::EventEnvelope& ev, http::Respond& respond) {
  const slack::MessageEvent& m = *ev.message;
  Action action = Action::comment;
  std::string user;
  std::string text;
  std::string ts;
  std::string thread;
  if (m.subtype.empty() || m.subtype == "thread_broadcast" || m.subtype == "file_share") {
    if (m.thread_ts.empty() || m.thread_ts == m.ts) return false;  // not a reply
    user = m.user;
    text = m.text;
    ts = m.ts;
    thread = m.thread_ts;
  } else if (m.subtype == "message_changed" && m.message) {
    const auto& now = *m.message;
    // The parent's reply count changing, a tombstone, or no change of text: nothing to mirror.
    if (now.subtype == "tombstone" || now.thread_ts.empty() || now.thread_ts == now.ts)
      return false;
    if (m.previous_message && m.previous_message->text == now.text) return false;
    action = Action::edit_comment;
    user = now.user;
    text = now.text;
    ts = now.ts;
    thread = now.thread_ts;
  } else if (m.subtype == "message_deleted" && m.previous_message) {
    if (m.previous_message->thread_ts.empty() || m.previous_message->thread_ts == m.deleted_ts)
      return false;
    action = Action::delete_comment;
    user = m.previous_message->user;
    ts = m.deleted_ts;
    thread = m.previous_message->thread_ts;
  } else {
    return false;
  }
  if (user.empty()) return false;
  auto parent = store_.message_at(m.channel, thread);
  if (!parent.ok()) {
    respond(unavailable_response());  // Slack will retry
    return true;
  }
  if (!parent->has_value()) return false;  // a thread that is not one of ours
  auto person = identity_.person_for(user);
  if (!person) identity_.learn_user(user);
  auto directory = service_.engine();
  Identity* identity = &identity_;
  auto name_of = [&](const std::string& id) {
    auto p = identity->person_for(id);
    return p ? directory->directory().display_name(*p) : std::string();
  };
  Command cmd;
  cmd.action = action;
  cmd.actor = person ? *person : "slack:" + user;
  cmd.comment = slack::plain_text(text, name_of);
  cmd.source = "slack";
  cmd.slack_channel = m.channel;
  cmd.slack_ts = ts;
  std::string name(action_name(action));
  // The event id is recorded in the same transaction as the comment: a retry
  // of this delivery is a duplicate, and a failed one is processed again.
  service_.act((*parent)->task, cmd,
               [this, respond, name, type = ev.event_type](StatusOr<Decision> d) {
                 std::string handling = d.ok()                        ? "mirrored"
                                        : d.code() == Code::duplicate ? "duplicate"
                                                                      : "refused";
                 metrics_.inc("tollgate_events_total", {{"type", type}, {"handling", handling}});
                 if (d.code() == Code::unavailable) return respond(unavailable_response());
                 if (!d.ok() && d.code() != Code::duplicate) {
                   spdlog::info("thread {} not mirrored: {}", name, d.status().to_string());
                 }
                 respond(Response::empty(200));
               },
               "event:" + ev.event_id);
  return true;
}

bool Router::from_self(const slack::EventEnvelope& ev) const {
  std::lock_guard lock(bot_mu_);
  auto mine = [&](const std::string& user, const std::string& bot) {
    return (!bot_user_id_.empty() && user == bot_user_id_) || (!bot_id_.empty() && bot == bot_id_);
  };
  if (mine(ev.user, "")) return true;
  if (!ev.message) return false;
  const slack::MessageEvent& m = *ev.message;
  if (mine(m.user, m.bot_id)) return true;
  if (m.message && mine(m.message->user, m.message->bot_id)) return true;
  return false;
}

void Router::on_event(const slack::EventEnvelope& ev, http::Respond respond) {
  if (ev.type == "url_verification") {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::kv(w, "challenge", ev.challenge);
    w.EndObject();
    return respond(Response::json(200, json::text(b)));
  }
  if (ev.type != "event_callback") return respond(Response::empty(200));
  if (foreign_team(ev.team_id, ev.enterprise_id, respond)) return;
  if (from_self(ev)) {
    metrics_.inc("tollgate_events_total", {{"type", ev.event_type}, {"handling", "own"}});
    return respond(Response::empty(200));
  }
  if (ev.event_type == "message" && ev.message && mirror_thread(ev, respond)) return;
  // Who opened the home tab is resolved here, on the network thread: the
  // store's completions run on its writer and must not read.
  std::optional<PersonId> viewer;
  if (ev.event_type == "app_home_opened" && ev.tab == "home" && home_ != nullptr) {
    viewer = identity_.person_for(ev.user);
    if (!viewer) identity_.learn_user(ev.user);
  }
  // Retries carry the same event_id: record it, and process it only the first time.
  store_.remember("event:" + ev.event_id, [this, ev, viewer, respond](Status s) {
    if (s.code() == Code::duplicate) {
      metrics_.inc("tollgate_events_total", {{"type", ev.event_type}, {"handling", "duplicate"}});
      return respond(Response::empty(200));
    }
    if (!s.ok()) return respond(unavailable_response());  // Slack will retry
    metrics_.inc("tollgate_events_total", {{"type", ev.event_type}, {"handling", "accepted"}});
    respond(Response::empty(200));
    if (viewer) {
      home_->show(ev.user, *viewer, "", 0);
    } else if (ev.event_type == "message" && ev.message) {
      spdlog::debug("message event in {} ts={} thread_ts={}", ev.message->channel, ev.message->ts,
                    ev.message->thread_ts);
    }
  });
}

}  // namespace tollgate
