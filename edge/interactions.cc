#include "edge/interactions.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include <spdlog/spdlog.h>

#include "app/home_publisher.h"
#include "app/identity.h"
#include "app/task_service.h"
#include "base/metrics.h"
#include "base/time_text.h"
#include "edge/slack_context.h"
#include "edge/tasks_command.h"
#include "slack/actions.h"
#include "slack/blocks.h"
#include "slack/home_view.h"
#include "slack/payloads.h"
#include "slack/views.h"
#include "slack/web_client.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using http::Response;

// {"response_action":"errors","errors":{block: message}}
Response modal_error(std::string_view block, const std::string& message) {
  return Response::json(200, slack::kit::errors_answer(block, message));
}

// Whether a step requires a comment for this action.
bool reason_required(const Task& t, int step, Action a) {
  if (a == Action::wont_provision || a == Action::wont_deprovision || a == Action::reassign)
    return true;
  if (step < 0 || step >= static_cast<int>(t.steps.size())) return false;
  return t.steps[static_cast<std::size_t>(step)].rule.require_reason.count(a) != 0;
}

std::optional<int> step_of(const slack::TaskRef& ref) {
  return ref.step >= 0 ? std::optional<int>(ref.step) : std::nullopt;
}

void count_decision(Metrics& metrics, const std::string& action, Code outcome) {
  metrics.inc("tollgate_decisions_total",
              {{"action", action}, {"outcome", std::string(code_name(outcome))}});
}

// Opens `view` while the trigger_id is fresh (3 s); the click was acknowledged already.
void open_view(SlackContext& ctx, const slack::Interaction& in, const slack::kit::Modal& view) {
  if (ctx.slack == nullptr) return;
  SlackContext* c = &ctx;
  ctx.slack->call(
      "views.open", slack::kit::views_open(in.trigger_id, view), [c, in](slack::ApiResult r) {
        if (r.ok()) return;
        spdlog::warn("views.open failed: {}", r.status.to_string());
        c->tell(in, "Slack would not open the form (" + r.error + "); please try again.");
      });
}

// ---- App Home: tabs, pages and bulk buttons ----

// "<tab>:<page>": publishes that page of that tab.
void home_tab_action(SlackContext& ctx, const slack::Interaction& in, const slack::ActionItem& item,
                     const std::string& person, http::Respond& respond) {
  auto colon = item.value.find(':');
  std::string tab = item.value.substr(0, colon);
  int page = 0;
  if (colon != std::string::npos) page = std::atoi(item.value.c_str() + colon + 1);
  bool known = false;
  for (const char* t : slack::kHomeTabs) known = known || tab == t;
  if (!known) return respond(Response::text(400, "unknown tab\n"));
  respond(Response::empty(200));
  if (ctx.home != nullptr) ctx.home->show(in.user_id, person, tab, std::max(0, page));
}

// The checked rows of a home view: blocks "row:<n>" whose checkbox has its
// option, "<n>:<step>", selected; in task order. Nullopt when one is malformed.
std::optional<std::vector<slack::TaskRef>> checked_rows(const slack::ViewInfo& view) {
  std::vector<slack::TaskRef> tasks;
  for (const auto& [block, inputs] : view.state) {
    if (block.rfind("row:", 0) != 0) continue;
    auto sel = inputs.find(std::string(slack::kHomeSelect));
    if (sel == inputs.end() || sel->second.selected_options.empty()) continue;
    auto n = parse_task_number(block.substr(4));
    auto ref = slack::parse_task_ref(sel->second.selected_options.front());
    if (!n || !ref || ref->task != *n || sel->second.selected_options.size() != 1) {
      return std::nullopt;
    }
    tasks.push_back(*ref);
  }
  std::sort(tasks.begin(), tasks.end(),
            [](const slack::TaskRef& a, const slack::TaskRef& b) { return a.task < b.task; });
  return tasks;
}

// A bulk button ("<action>"): opens the bulk form for the checked rows.
void home_bulk_action(SlackContext& ctx, const slack::Interaction& in,
                      const slack::ActionItem& item, http::Respond& respond) {
  auto action = parse_action(item.value);
  if (!action) return respond(Response::text(400, "unknown bulk action\n"));
  auto tasks = checked_rows(*in.view);
  if (!tasks) return respond(Response::text(400, "malformed row selection\n"));
  respond(Response::empty(200));
  if (tasks->empty())
    return ctx.tell(in, "Tick the tasks first, then choose what to do with them.");
  // Never a silent cut: more than the limit is refused whole.
  if (Status s = check_bulk_length(tasks->size()); !s.ok()) return ctx.tell(in, s.message());
  open_view(ctx, in, slack::bulk_modal(*action, *tasks));
}

// Whether `item` is one of the App Home's tabs, pages and bulk buttons (not a row's More actions
// menu, which is handled like a message's).
bool is_home_action(const slack::Interaction& in, const slack::ActionItem& item) {
  std::string_view id = item.action_id;
  return in.view && in.view->type == "home" &&
         (id.rfind(slack::kHomeTabAction, 0) == 0 || id.rfind(slack::kHomeBulkAction, 0) == 0);
}

// Tabs, pages and bulk buttons of the App Home; false for a row's More
// actions menu, which is handled like a message's.
bool on_home_action(SlackContext& ctx, const slack::Interaction& in, const slack::ActionItem& item,
                    const std::string& person, http::Respond& respond) {
  if (!is_home_action(in, item)) return false;
  if (item.action_id.rfind(slack::kHomeTabAction, 0) == 0) {
    home_tab_action(ctx, in, item, person, respond);
  } else {
    home_bulk_action(ctx, in, item, respond);
  }
  return true;
}

// ---- A button or menu on a task ----

// For a click that carries its delivery's key (DeliveryKey) but decides nothing: runs `answer`
// once the key is recorded, so that a replay of the click answers nothing, like a replay of one
// that decided (acknowledged, `again` called). At once when there is no key. `answer` may run on
// the store's writer thread: it must not read the store.
void once_recorded(SlackContext& ctx, DeliveryKey delivery, http::Respond respond,
                   std::function<void(http::Respond)> answer) {
  if (delivery.key.empty()) return answer(std::move(respond));
  ctx.store.remember(std::move(delivery.key),
                     [again = std::move(delivery.again), respond = std::move(respond),
                      answer = std::move(answer)](Status s) mutable {
                       if (s.code() == Code::duplicate) {
                         if (again) again();
                         return respond(Response::empty(200));
                       }
                       if (!s.ok()) return respond(unavailable_response());
                       answer(std::move(respond));
                     });
}

// Acknowledges the click and tells the clicker alone (SlackContext::tell).
std::function<void(http::Respond)> tell_clicker(SlackContext& ctx, const slack::Interaction& in,
                                                std::string line) {
  return [c = &ctx, in, line = std::move(line)](http::Respond respond) {
    respond(Response::empty(200));
    c->tell(in, line);
  };
}

// A form first for what needs one: reassignment, details, and every action
// the step wants a reason for. True when the click was answered here (the
// form opened, the task not shown, the store down).
bool open_form_first(SlackContext& ctx, const slack::Interaction& in, const std::string& action_id,
                     std::optional<Action> action, const slack::TaskRef& ref,
                     const std::string& person, http::Respond& respond, DeliveryKey& delivery) {
  auto task = ctx.store.task(ref.task);
  if (task.code() == Code::unavailable) {
    respond(unavailable_response());
    return true;
  }
  // Need to know: no form, no details, for a task the clicker is not involved
  // in; the same line as for a task that does not exist.
  auto engine = ctx.service.engine();
  if (!task.ok() || !involved(engine->directory(), *task, person)) {
    once_recorded(ctx, std::move(delivery), std::move(respond),
                  tell_clicker(ctx, in, task_not_shown(ref.task).message()));
    return true;
  }
  std::optional<slack::kit::Modal> view;
  if (action_id == slack::kReassign) {
    view = slack::reassign_modal(*task, ref.step);
  } else if (action_id == slack::kApproveFor) {
    view = slack::approve_for_modal(*task, ref.step);
  } else if (action_id == slack::kViewDetails) {
    view = slack::details_modal(*engine, *task, person);
  } else if (action && reason_required(*task, ref.step, *action)) {
    view = slack::reason_modal(*task, *action, ref.step, true);
  }
  if (!view) return false;
  once_recorded(ctx, std::move(delivery), std::move(respond),
                [c = &ctx, in, view = std::move(*view)](http::Respond answer) {
                  answer(Response::empty(200));
                  open_view(*c, in, view);
                });
  return true;
}

// Decides the click; acknowledged once the decision is committed. The delivery's key, when
// given, is written with the decision: a delivery seen before decides nothing and is
// acknowledged without a word (its `again` is called). A refused click records its key on its
// own before the clicker is told why, so that a replay of it tells nothing either.
void decide_click(SlackContext& ctx, const slack::Interaction& in, Action action,
                  const slack::TaskRef& ref, const std::string& person, http::Respond respond,
                  DeliveryKey delivery) {
  Command cmd{action, person, {}, {}, step_of(ref)};
  // The message clicked on: the history links to it (audit export permalinks).
  cmd.slack_channel = in.channel_id;
  cmd.slack_ts = in.message_ts;
  std::string name(action_name(action));
  SlackContext* c = &ctx;
  std::string key = delivery.key;
  ctx.service.act(ref.task, cmd, [c, in, name, respond, delivery](StatusOr<Decision> d) {
    if (d.code() == Code::duplicate) {
      if (delivery.again) delivery.again();
      return respond(Response::empty(200));
    }
    count_decision(c->metrics, name, d.status().code());
    if (d.ok()) {
      spdlog::debug("decided: {} by {}", d->summary, in.user_id);
      return respond(Response::empty(200));
    }
    if (d.code() == Code::unavailable) {
      respond(unavailable_response());
      return c->tell(
          in, "Tollgate could not record that (" + d.status().message() + "). Please try again.");
    }
    once_recorded(*c, delivery, respond, tell_clicker(*c, in, d.status().message()));
  }, std::move(key));
}

// ---- A button on access held (the "ends soon" DM, the App Home's rows) ----
//
// The value names the access only: it is always the clicker's own.

// "I'm done": ends the clicker's access now; the notice clicked on loses its
// buttons. Acknowledged once the end is committed.
void access_done(SlackContext& ctx, const slack::Interaction& in, const slack::AccessRef& ref,
                 const std::string& person, http::Respond respond) {
  SlackContext* c = &ctx;
  ctx.service.end_access_of(
      person, ref.app, ref.resource, person,
      [c, in, ref, respond](StatusOr<std::string> done) {
        count_decision(c->metrics, "done", done.status().code());
        if (done.code() == Code::unavailable) {
          respond(unavailable_response());
          return c->tell(in, "Tollgate could not record that (" + done.status().message() +
                                 "). Please try again.");
        }
        respond(Response::empty(200));
        if (!done.ok()) return c->tell(in, done.status().message());
        c->tell(in, *done);
        bool on_message = in.container_type == "message" && !in.channel_id.empty() &&
                          !in.message_ts.empty();
        if (c->slack == nullptr || !on_message) return;
        auto engine = c->service.engine();
        slack::AccessNotice ended{"ended", ref.app, ref.resource, {}, 0, {},
                                  engine->clock().now()};
        c->slack->call("chat.update",
                       slack::kit::update_message(in.channel_id, in.message_ts,
                                                  slack::access_notice(*engine, ended)),
                       [](slack::ApiResult r) {
                         if (!r.ok())
                           spdlog::warn("could not update the notice: {}", r.status.to_string());
                       });
      });
}

bool is_access_action(const slack::ActionItem& item) {
  return item.action_id == slack::kAccessExtend || item.action_id == slack::kAccessDone;
}

// Extend… and I'm done. False for any other action.
bool on_access_action(SlackContext& ctx, const slack::Interaction& in,
                      const slack::ActionItem& item, const std::string& person,
                      http::Respond& respond) {
  if (!is_access_action(item)) return false;
  auto ref = slack::parse_access_ref(item.value);
  if (!ref) {
    respond(Response::text(400, "malformed access reference\n"));
    return true;
  }
  if (item.action_id == slack::kAccessDone) {
    access_done(ctx, in, *ref, person, std::move(respond));
    return true;
  }
  respond(Response::empty(200));
  open_view(ctx, in, slack::extend_modal(ctx.service.engine()->directory(), ref->app, ref->resource));
  return true;
}

// A task's button, or its More actions menu's option ("<action>:<task>:<step>"): the action id
// and the task reference's text. Nothing for a menu option without its action.
std::optional<std::pair<std::string, std::string>> task_action(const slack::ActionItem& item) {
  if (item.action_id != slack::kMoreActions) return std::make_pair(item.action_id, item.value);
  auto colon = item.value.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(item.value.substr(0, colon), item.value.substr(colon + 1));
}

void on_block_action(SlackContext& ctx, const slack::Interaction& in, const slack::ActionItem& item,
                     const std::string& person, http::Respond respond, DeliveryKey delivery) {
  if (on_home_action(ctx, in, item, person, respond)) return;
  if (on_access_action(ctx, in, item, person, respond)) return;
  auto chosen = task_action(item);
  if (!chosen) return respond(Response::text(400, "malformed menu value\n"));
  const auto& [action_id, value] = *chosen;
  auto ref = slack::parse_task_ref(value);
  // A decision (Provisioned, Retry, ...): decided like any other, the clicker
  // as the actor, the step from the button. Never one of the engine's own
  // actions (a reminder, a connector's answer), whatever the id says.
  std::optional<Action> action = slack::button_action(action_id);
  bool modal_only = action_id == slack::kReassign || action_id == slack::kViewDetails ||
                    action_id == slack::kApproveFor;
  if (!modal_only && !action) {
    // Not one of ours (a checkbox, a link button): acknowledge and ignore.
    return respond(Response::empty(200));
  }
  if (!ref) return respond(Response::text(400, "malformed task reference\n"));
  // A modal-only button (no action of its own) always opens its form.
  if (open_form_first(ctx, in, action_id, action, *ref, person, respond, delivery)) return;
  decide_click(ctx, in, *action, *ref, person, std::move(respond), std::move(delivery));
}

// ---- Forms submitted ----

const slack::StateValue* input(const slack::ViewInfo& view, std::string_view block,
                               std::string_view action) {
  auto b = view.state.find(std::string(block));
  if (b == view.state.end()) return nullptr;
  auto a = b->second.find(std::string(action));
  return a == b->second.end() ? nullptr : &a->second;
}

// The bulk form: "<action>:<task>:<step>,<task>:<step>,…" in its metadata;
// the modal turns into the report (done, or refused and why, for each task).
void submit_bulk(SlackContext& ctx, const slack::ViewInfo& view, Command cmd,
                 http::Respond respond) {
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
  for (const slack::TaskRef& r : *refs) targets.push_back({r.task, step_of(r)});
  cmd.action = *action;
  cmd.source = "bulk";
  std::string name(action_name(*action));
  Metrics* metrics = &ctx.metrics;
  Status queued = ctx.service.act_many(
      std::move(targets), cmd,
      [metrics, respond, name, action = *action](std::vector<BulkResult> results) {
        for (const BulkResult& r : results)
          count_decision(*metrics, name, r.outcome.status().code());
        respond(Response::json(
            200, slack::kit::update_view_answer(slack::bulk_result_view(action, results))));
      });
  if (!queued.ok()) respond(modal_error(slack::kReasonBlock, queued.message()));
}

// The reassignment form: the task, and who is to take it. False when it
// answered (the form refused, or malformed).
bool read_reassign(SlackContext& ctx, const slack::ViewInfo& view, const std::string& reason,
                   Command& cmd, TaskNumber& task, http::Respond& respond) {
  auto ref = slack::parse_task_ref(view.private_metadata);
  if (!ref) {
    respond(Response::text(400, "malformed private_metadata\n"));
    return false;
  }
  const slack::StateValue* to = input(view, slack::kAssigneeBlock, slack::kAssigneeInput);
  if (to == nullptr || to->selected_user.empty()) {
    respond(modal_error(slack::kAssigneeBlock, "Choose who should take the task."));
    return false;
  }
  auto target = ctx.identity.person_for(to->selected_user);
  if (!target) {
    ctx.identity.learn_user(to->selected_user);
    respond(modal_error(slack::kAssigneeBlock, "That person is not in Tollgate's directory."));
    return false;
  }
  if (reason.empty()) {
    respond(modal_error(slack::kReasonBlock, "A reason is required."));
    return false;
  }
  cmd.action = Action::reassign;
  cmd.to = *target;
  cmd.step = step_of(*ref);
  task = ref->task;
  return true;
}

// Decides a reason, reassignment or "Approve for…" form; the modal closes
// once it is committed. A refusal is shown under the form's main input.
void decide_form(SlackContext& ctx, TaskNumber task, const Command& cmd, http::Respond respond) {
  std::string name(action_name(cmd.action));
  std::string_view main_input = cmd.action == Action::reassign ? slack::kAssigneeBlock
                                : cmd.duration                 ? slack::kDurationBlock
                                                               : slack::kReasonBlock;
  Metrics* metrics = &ctx.metrics;
  ctx.service.act(task, cmd, [metrics, name, respond, main_input](StatusOr<Decision> d) {
    count_decision(*metrics, name, d.status().code());
    if (d.ok()) return respond(Response::empty(200));  // closes the modal
    if (d.code() == Code::unavailable) return respond(unavailable_response());
    respond(modal_error(main_input == slack::kAssigneeBlock && d.code() == Code::conflict
                            ? slack::kReasonBlock
                            : main_input,
                        d.status().message()));
  });
}

// The duration of a form's kDurationBlock: a select's option, or typed ("4h").
std::optional<Duration> chosen_duration(const slack::ViewInfo& view) {
  const slack::StateValue* v = input(view, slack::kDurationBlock, slack::kDurationInput);
  if (v == nullptr) return std::nullopt;
  std::string text = !v->selected_option.empty() ? v->selected_option : v->value;
  std::erase_if(text, [](char ch) { return ch == ' ' || ch == '\t'; });
  return parse_duration(text);
}
inline constexpr const char* kBadDuration = "Give a duration such as 4h, 1d or 2w.";

// "Approve for…": the task's step, approved for the duration chosen.
bool read_approve_for(const slack::ViewInfo& view, Command& cmd, TaskNumber& task,
                      http::Respond& respond) {
  auto ref = slack::parse_task_ref(view.private_metadata);
  if (!ref) {
    respond(Response::text(400, "malformed private_metadata\n"));
    return false;
  }
  cmd.duration = chosen_duration(view);
  if (!cmd.duration) {
    respond(modal_error(slack::kDurationBlock, kBadDuration));
    return false;
  }
  cmd.action = Action::approve;
  cmd.step = step_of(*ref);
  task = ref->task;
  return true;
}

// "Extend…": a request by the clicker for the access named, which the service
// turns into an extension (the access is held with an end). The modal closes
// once the request is committed; a refusal is shown in it.
void submit_extend(SlackContext& ctx, const slack::ViewInfo& view, const std::string& person,
                   const std::string& reason, http::Respond respond) {
  auto ref = slack::parse_access_ref(view.private_metadata);
  if (!ref) return respond(Response::text(400, "malformed private_metadata\n"));
  std::optional<Duration> duration = chosen_duration(view);
  if (!duration) return respond(modal_error(slack::kDurationBlock, kBadDuration));
  if (reason.empty()) return respond(modal_error(slack::kReasonBlock, "Say why you need more time."));
  // An old notice's button, once the access is gone: not a new request in disguise.
  auto held = ctx.store.holdings(
      {.person = person, .app = ref->app, .resource = ref->resource, .limit = 1});
  if (held.code() == Code::unavailable) return respond(unavailable_response());
  if (held.ok() && held->empty()) {
    return respond(modal_error(slack::kDurationBlock,
                               "You no longer hold this access: request it anew instead."));
  }
  RequestInput req;
  req.requester = person;
  req.subject = person;
  req.app = ref->app;
  req.resource = ref->resource;
  req.justification = reason;
  req.duration = duration;
  Metrics* metrics = &ctx.metrics;
  ctx.service.request(std::move(req), [metrics, respond](StatusOr<Decision> d) {
    count_decision(*metrics, "request", d.status().code());
    if (d.ok()) return respond(Response::empty(200));  // closes the modal
    if (d.code() == Code::unavailable) return respond(unavailable_response());
    respond(modal_error(slack::kReasonBlock, d.status().message()));
  });
}

void on_view_submission(SlackContext& ctx, const slack::Interaction& in, const std::string& person,
                        http::Respond respond) {
  const slack::ViewInfo& view = *in.view;
  const slack::StateValue* reason_value = input(view, slack::kReasonBlock, slack::kReasonInput);
  std::string reason = reason_value != nullptr ? reason_value->value : "";
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) reason.clear();

  Command cmd;
  cmd.actor = person;
  cmd.comment = reason;
  TaskNumber task = 0;
  if (view.callback_id == slack::kBulkModal) return submit_bulk(ctx, view, cmd, std::move(respond));
  if (view.callback_id == slack::kReasonModal) {  // "<action>:<task>:<step>"
    auto colon = view.private_metadata.find(':');
    auto action = slack::button_action(view.private_metadata.substr(0, colon));
    auto ref = colon == std::string::npos
                   ? std::nullopt
                   : slack::parse_task_ref(view.private_metadata.substr(colon + 1));
    if (!action || !ref) return respond(Response::text(400, "malformed private_metadata\n"));
    cmd.action = *action;
    cmd.step = step_of(*ref);
    task = ref->task;
  } else if (view.callback_id == slack::kReassignModal) {
    if (!read_reassign(ctx, view, reason, cmd, task, respond)) return;
  } else if (view.callback_id == slack::kApproveForModal) {
    if (!read_approve_for(view, cmd, task, respond)) return;
  } else if (view.callback_id == slack::kExtendModal) {
    return submit_extend(ctx, view, person, reason, std::move(respond));
  } else {
    return respond(Response::empty(200));  // not one of ours
  }
  if (reason.empty() &&
      (cmd.action == Action::wont_provision || cmd.action == Action::wont_deprovision)) {
    return respond(modal_error(slack::kReasonBlock, "A reason is required."));
  }
  decide_form(ctx, task, cmd, std::move(respond));
}

}  // namespace

bool is_task_decision(const slack::Interaction& in) {
  if (in.type != "block_actions" || in.actions.empty()) return false;
  const slack::ActionItem& item = in.actions.front();
  if (is_home_action(in, item) || is_access_action(item)) return false;
  auto chosen = task_action(item);
  return chosen && slack::button_action(chosen->first).has_value();
}

void on_interaction(SlackContext& ctx, const slack::Interaction& in, http::Respond respond,
                    DeliveryKey delivery) {
  if (ctx.foreign_team(in.team_id, in.enterprise_id, respond)) return;
  if (in.type == "view_closed") return respond(Response::empty(200));
  if (in.type != "block_actions" && in.type != "view_submission") {
    return respond(Response::empty(200));  // shortcuts and the like: nothing of ours
  }
  auto person = ctx.identity.person_for(in.user_id);
  if (!person) {
    ctx.identity.learn_user(in.user_id);
    if (in.type == "view_submission") {
      return respond(
          modal_error(slack::kReasonBlock, "Tollgate does not know your Slack account yet."));
    }
    return once_recorded(ctx, std::move(delivery), std::move(respond),
                         tell_clicker(ctx, in, kUnknownSlackUser));
  }
  if (in.type == "view_submission") return on_view_submission(ctx, in, *person, std::move(respond));
  on_block_action(ctx, in, in.actions.front(), *person, std::move(respond), std::move(delivery));
}

}  // namespace tollgate
