#include "workflow/engine.h"

#include <algorithm>
#include <array>

#include "base/time_text.h"
#include "workflow/access.h"
#include "workflow/sla.h"

namespace tollgate {
namespace {

// Everything one command needs while it is decided. `d.task` starts as a copy
// of the task before the command; actions edit it.
struct Ctx {
  const Engine& engine;
  const Directory& dir;
  const Task& before;
  const Command& cmd;
  Time now;
  Decision d;

  TaskStep& step() { return d.task.steps[static_cast<std::size_t>(d.task.current_step())]; }
  const TaskStep* current() const { return before.current(); }
  std::string name(const PersonId& id) const { return dir.display_name(id); }
  std::string task_ref() const { return "#" + std::to_string(before.number); }

  // An event of this command. One made from a Slack message (a button, a
  // thread reply) names it, so that the history can link to it.
  void event(std::string type, std::vector<std::pair<std::string, std::string>> data = {}) {
    // The task page (web/): the history says the decision came by a web link.
    if (cmd.source == "web") data.emplace_back("via", "web link");
    if (!cmd.slack_ts.empty()) {
      data.emplace_back("slack_channel", cmd.slack_channel);
      data.emplace_back("slack_ts", cmd.slack_ts);
    }
    d.events.push_back({d.task.number, std::move(type), cmd.actor, now, std::move(data)});
  }
  // Effects addressed to a person follow their preferences: assignments and
  // outcomes go to Slack, by email, or both; reminders to Slack only.
  void effect(EffectKind kind, PersonId recipient = {},
              std::vector<std::pair<std::string, std::string>> data = {}) {
    const Person* p = recipient.empty() ? nullptr : dir.person(recipient);
    bool personal =
        kind == EffectKind::assign || kind == EffectKind::notify || kind == EffectKind::remind;
    std::optional<Effect> mail;
    if (p != nullptr && personal && p->notify_email && kind != EffectKind::remind) {
      mail = Effect{EffectKind::email, d.task.number, recipient, data};
      mail->data.emplace_back("about", std::string(effect_kind_name(kind)));
    }
    // Slack first: a task's effects are delivered in order, and the mail
    // links to the Slack message.
    if (p == nullptr || !personal || p->notify_slack)
      d.effects.push_back({kind, d.task.number, std::move(recipient), std::move(data)});
    if (mail) d.effects.push_back(std::move(*mail));
  }
};

bool contains(const std::vector<PersonId>& v, const PersonId& id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

// Whether `text` is empty or only white space.
bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Adds person `id`, or every member of group `id`, to `out`, each once.
// Unknown ids add nobody.
void add_people(const Directory& dir, const PersonId& id, std::vector<PersonId>& out) {
  if (const Group* g = dir.group(id)) {
    for (const PersonId& m : g->members) {
      if (!contains(out, m)) out.push_back(m);
    }
  } else if (dir.person(id) != nullptr && !contains(out, id)) {
    out.push_back(id);
  }
}

// Four eyes: the earlier review step of `task` that `person` decided, when that
// keeps them from review step `step`; null when nothing does. A step that
// says allow_same_reviewer takes anyone. Provisioning and deprovisioning steps
// are not reviews: whoever approved may also carry out the change (the
// approvals before it already had four eyes).
const TaskStep* earlier_review_by(const Task& task, const TaskStep& step, const PersonId& person) {
  if (step.kind != StepKind::review || step.rule.allow_same_reviewer || person.empty())
    return nullptr;
  for (const TaskStep& s : task.steps) {
    if (&s != &step && s.kind == StepKind::review && s.state == StepState::done &&
        s.decided_by == person)
      return &s;
  }
  return nullptr;
}

// The last word on who takes a step: a review step never goes to the
// requester or the subject (unless it allows self-review), nor to anyone who
// decided an earlier review step of the task (four eyes, unless it allows the
// same reviewer); when nobody is left, the step's fallback takes it, then the
// admins, under the same exclusions. Nobody left at all is the caller's
// refusal: a step never falls back to an excluded person. Returns whether it
// fell back.
bool settle_people(const Directory& dir, const Task& task, const TaskStep& step,
                   std::vector<PersonId>& out) {
  bool exclude = step.kind == StepKind::review && !step.rule.allow_self_review;
  auto prune = [&] {
    std::erase_if(out, [&](const PersonId& p) {
      return (exclude && (p == task.requester || p == task.subject)) ||
             earlier_review_by(task, step, p) != nullptr;
    });
  };
  prune();
  bool fallback = false;
  for (const std::vector<PersonId>* next : {&step.rule.fallback, &dir.admins}) {
    if (!out.empty()) break;
    for (const PersonId& id : *next) add_people(dir, id, out);
    prune();
    fallback = true;
  }
  return fallback && !out.empty();
}

std::string join_names(const Directory& dir, const std::vector<PersonId>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += (i + 1 == ids.size()) ? " and " : ", ";
    out += dir.display_name(ids[i]);
  }
  return out.empty() ? "nobody" : out;
}

std::string join_ids(const std::vector<PersonId>& ids) {
  std::string out;
  for (const PersonId& id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

// "#42 was already approved by Dana Reyes at 2026-11-26 10:42 UTC".
std::string already_decided(const Ctx& c, const TaskStep& s) {
  return c.task_ref() + " was already " + outcome_verb(*s.outcome) + " by " +
         decider_name(c.dir, s) + " at " + format_instant(*s.decided_at);
}

// Why a closed task takes no more decisions.
std::string closure(const Ctx& c) {
  const Task& t = c.before;
  if (t.state == TaskState::cancelled && t.closed_by == kSystemActor) {
    return c.task_ref() + " expired at " + format_instant(t.closed_at.value_or(t.updated_at));
  }
  if (t.state == TaskState::cancelled) {
    return c.task_ref() + " was cancelled by " + c.name(t.closed_by) + " at " +
           format_instant(t.closed_at.value_or(t.updated_at));
  }
  for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
    if (it->state == StepState::done && it->outcome) return already_decided(c, *it);
  }
  return c.task_ref() + " is closed (" + std::string(state_name(t.state)) + ")";
}

// ---------------------------------------------------------------------------
// Guards: small named predicates. Each returns ok or the reason it refuses.

Status actor_assigned(const Ctx& c) {
  const TaskStep* s = c.current();
  if (s != nullptr && contains(s->assignees, c.cmd.actor)) return {};
  return permission_denied("step " + std::to_string(c.before.current_step() + 1) + " of " +
                           c.task_ref() + " is assigned to " +
                           join_names(c.dir, c.before.assignees()) + ", not to you");
}

// Four eyes at decision time as well: someone who decided an earlier review
// step never decides this one, even if they hold it (a task assigned before the
// rule existed). The answer names their earlier decision, as for a late click.
Status fresh_reviewer(const Ctx& c) {
  if (const TaskStep* s = earlier_review_by(c.before, *c.current(), c.cmd.actor))
    return conflict(already_decided(c, *s));
  return {};
}

Status not_own_request(const Ctx& c) {
  if (c.current()->rule.allow_self_review) return {};
  if (c.cmd.actor == c.before.requester) {
    return rule_refused("you opened " + c.task_ref() + ", so you cannot review it");
  }
  if (c.cmd.actor == c.before.subject) {
    return rule_refused(c.task_ref() + " is about your own access, so you cannot review it");
  }
  return {};
}

Status reason_if_required(const Ctx& c) {
  if (c.current()->rule.require_reason.count(c.cmd.action) == 0 || !c.cmd.comment.empty())
    return {};
  return rule_refused("a reason is required to " + std::string(action_name(c.cmd.action)) +
                      " at this step");
}

Status reason_given(const Ctx& c) {
  if (!c.cmd.comment.empty()) return {};
  std::string verb = c.cmd.action == Action::reassign         ? "reassign"
                     : c.cmd.action == Action::wont_provision ? "refuse provisioning"
                     : c.cmd.action == Action::wont_deprovision
                         ? "refuse deprovisioning"
                         : std::string(action_name(c.cmd.action));
  return rule_refused("a reason is required to " + verb);
}

Status may_reassign(const Ctx& c) {
  if (can_reassign(c.dir, c.before, c.cmd.actor)) return {};
  if (!contains(c.current()->assignees, c.cmd.actor)) return actor_assigned(c);
  return rule_refused("step " + std::to_string(c.before.current_step() + 1) + " (" +
                      step_label(c.dir, *c.current()) + ") of " + c.task_ref() +
                      " does not allow reassignment");
}

Status receiver_allowed(const Ctx& c) {
  const PersonId& to = c.cmd.to;
  if (to.empty()) return invalid_argument("say who should take " + c.task_ref());
  if (c.dir.person(to) == nullptr) return not_found("unknown person \"" + to + "\"");
  const TaskStep& s = *c.current();
  if (s.assignees.size() == 1 && s.assignees[0] == to) {
    return conflict(c.task_ref() + " is already assigned to " + c.name(to));
  }
  if (s.kind == StepKind::review && !s.rule.allow_self_review &&
      (to == c.before.requester || to == c.before.subject)) {
    return rule_refused(c.name(to) + " cannot review " + c.task_ref() +
                        ": it is their own request or access");
  }
  if (const TaskStep* earlier = earlier_review_by(c.before, s, to)) {
    return rule_refused(c.name(to) + " already " + outcome_verb(*earlier->outcome) + " " +
                        c.task_ref() + " at step " +
                        std::to_string(earlier - c.before.steps.data() + 1) +
                        ", so they cannot review step " +
                        std::to_string(c.before.current_step() + 1) + " too (four eyes)");
  }
  if (!s.rule.reassign_to.empty()) {
    std::vector<PersonId> allowed;
    for (const PersonId& id : s.rule.reassign_to) add_people(c.dir, id, allowed);
    if (!contains(allowed, to)) {
      return rule_refused("this step may only be reassigned to " + join_names(c.dir, allowed));
    }
  }
  return {};
}

Status requester_or_admin(const Ctx& c) {
  if (c.cmd.actor == c.before.requester || c.dir.is_admin(c.cmd.actor)) return {};
  return permission_denied("only the requester or an admin can cancel " + c.task_ref());
}

Status text_given(const Ctx& c) {
  if (blank(c.cmd.comment)) return invalid_argument("a comment needs some text");
  return {};
}

// ---------------------------------------------------------------------------
// Actions: small named functions that edit the decision.

std::int64_t add_comment(Ctx& c, const PersonId& author, const std::string& text,
                         const std::string& source) {
  std::int64_t id = 1;
  for (const Comment& existing : c.d.task.comments) id = std::max(id, existing.id + 1);
  Comment cm;
  cm.id = id;
  cm.author = author;
  cm.text = text;
  cm.at = c.now;
  cm.source = source;
  c.d.task.comments.push_back(cm);
  c.d.new_comments.push_back(cm);
  c.effect(EffectKind::post_comment, {}, {{"comment_id", std::to_string(id)}});
  return id;
}

// Tells the requester and the subject (not the actor) what happened.
void notify_people(Ctx& c, const std::string& event, bool final) {
  std::vector<PersonId> told;
  for (const PersonId& p : {c.d.task.requester, c.d.task.subject}) {
    if (p.empty() || p == c.cmd.actor || p == kSystemActor || contains(told, p)) continue;
    told.push_back(p);
    std::vector<std::pair<std::string, std::string>> data{
        {"event", event}, {"final", final ? "true" : "false"}, {"by", c.cmd.actor}};
    // A reviewer who approved for less: the requester is told for how long, and by whom.
    if (!c.d.task.duration_by.empty() && c.d.task.duration) {
      data.emplace_back("duration", format_duration(*c.d.task.duration));
      data.emplace_back("duration_by", c.d.task.duration_by);
    }
    c.effect(EffectKind::notify, p, std::move(data));
  }
}

// The step's assignees become `next`; whoever loses it is kept as a former
// assignee (still involved in the task, no longer able to decide).
void hand_over(TaskStep& s, std::vector<PersonId> next) {
  for (const PersonId& p : s.assignees) {
    if (!contains(next, p) && !contains(s.former_assignees, p)) s.former_assignees.push_back(p);
  }
  s.assignees = std::move(next);
}

// "eve for dana,bo for olga": who stands in for whom, for the history.
std::string delegations_text(const std::map<PersonId, PersonId>& delegated_for) {
  std::string out;
  for (const auto& [delegate, person] : delegated_for) {
    if (!out.empty()) out += ',';
    out += delegate + " for " + person;
  }
  return out;
}

// Why nobody can take step `index`: four eyes when the step would have
// someone if the earlier reviewers were allowed.
Status nobody_for(const Ctx& c, const TaskStep& s, std::size_t index) {
  std::string which =
      "step " + std::to_string(index + 1) + " (" + step_label(c.dir, s) + ") of " + c.task_ref();
  TaskStep relaxed = s;
  relaxed.rule.allow_same_reviewer = true;
  if (!c.engine.resolve(c.d.task, relaxed, nullptr).empty()) {
    return rule_refused("nobody but an earlier reviewer can take " + which +
                        ": four eyes needs another reviewer (an admin or the step's fallback)");
  }
  return rule_refused("nobody can take " + which);
}

TaskState state_for(const TaskStep& s) {
  return s.kind == StepKind::review      ? TaskState::reviewing
         : s.kind == StepKind::provision ? TaskState::provisioning
                                         : TaskState::deprovisioning;
}

// The step's change goes to its connector (attempt `attempt`): nobody is
// assigned while the system is called; the outbox makes the call.
void call_connector(Ctx& c, std::size_t index) {
  TaskStep& s = c.d.task.steps[index];
  ConnectorRun& run = *s.connector;
  run.phase = ConnectorRun::Phase::calling;
  c.event("connector_called", {{"step", std::to_string(index)},
                               {"system", run.label},
                               {"attempt", std::to_string(run.attempt)},
                               {"id", run.idempotency_id(c.d.task.number, index)}});
  c.effect(EffectKind::connector, {},
           {{"step", std::to_string(index)}, {"attempt", std::to_string(run.attempt)}});
}

Status open_step(Ctx& c, std::size_t index) {
  TaskStep& s = c.d.task.steps[index];
  if (s.connector) {
    s.state = StepState::current;
    s.opened_at = c.now;
    c.d.task.state = state_for(s);
    c.event("step_opened", {{"step", std::to_string(index)},
                            {"kind", std::string(step_kind_name(s.kind))},
                            {"connector", s.connector->label}});
    call_connector(c, index);
    return {};
  }
  bool by_fallback = false;
  std::map<PersonId, PersonId> delegated_for;
  std::vector<PersonId> people = c.engine.resolve(c.d.task, s, &by_fallback, &delegated_for);
  if (people.empty()) return nobody_for(c, s, index);
  s.state = StepState::current;
  s.assignees = people;
  s.by_fallback = by_fallback;
  s.delegated_for = delegated_for;
  s.opened_at = c.now;
  c.d.task.state = state_for(s);
  c.event("step_opened", {{"step", std::to_string(index)},
                          {"kind", std::string(step_kind_name(s.kind))},
                          {"assignees", join_ids(people)},
                          {"by_fallback", by_fallback ? "true" : "false"}});
  if (!delegated_for.empty())
    c.d.events.back().data.emplace_back("delegated", delegations_text(delegated_for));
  for (const PersonId& p : people) {
    c.effect(EffectKind::assign, p, {{"step", std::to_string(index)}});
  }
  return {};
}

void close_task(Ctx& c, TaskState final_state) {
  c.d.task.state = final_state;
  c.d.task.closed_by = c.cmd.actor;
  c.d.task.closed_at = c.now;
  for (TaskStep& s : c.d.task.steps) {
    if (s.state == StepState::upcoming || s.state == StepState::current)
      s.state = StepState::skipped;
  }
  c.event("task_closed", {{"state", std::string(state_name(final_state))}});
  if (auto change = access_outcome(c.d.task, c.cmd.actor, c.now)) c.d.access.push_back(*change);
}

// Marks the open step done with the command's action; returns its index.
std::size_t finish_step(Ctx& c, const char* event_type) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.d.task.steps[index];
  s.state = StepState::done;
  s.outcome = c.cmd.action;
  s.decided_by = c.cmd.actor;
  s.decided_at = c.now;
  s.comment = c.cmd.comment;
  std::vector<std::pair<std::string, std::string>> data{{"step", std::to_string(index)}};
  if (!c.cmd.comment.empty()) {
    data.emplace_back("comment", c.cmd.comment);
    std::int64_t id = add_comment(c, c.cmd.actor, c.cmd.comment, "reason");
    data.emplace_back("comment_id", std::to_string(id));
  }
  c.event(event_type, std::move(data));
  c.effect(EffectKind::update_messages);
  return index;
}

std::string step_of(const Task& t, std::size_t index) {
  return "step " + std::to_string(index + 1) + " of " + std::to_string(t.steps.size());
}

// approve (grant) / confirm (revoke): the step is done; the next one opens, or
// the task completes when the app needs no manual step.
// "Approve for…": the task's duration becomes the shorter one the reviewer chose.
Status shorten(Ctx& c) {
  if (!c.cmd.duration) return {};
  Task& t = c.d.task;
  if (t.kind != TaskKind::grant || *c.cmd.duration <= Duration::zero())
    return invalid_argument("a duration is only for approving an access request");
  if (t.duration && *c.cmd.duration > *t.duration) {
    return rule_refused("approve for at most " + format_duration(*t.duration) +
                        ", the duration requested; " + format_duration(*c.cmd.duration) +
                        " is longer");
  }
  if (t.duration && *c.cmd.duration == *t.duration) return {};
  t.duration = c.cmd.duration;
  t.duration_by = c.cmd.actor;
  c.event("duration_set", {{"duration", format_duration(*t.duration)}});
  return {};
}

Status advance(Ctx& c) {
  if (Status s = shorten(c); !s.ok()) return s;
  const char* type = c.cmd.action == Action::confirm ? "confirmed" : "approved";
  std::size_t index = finish_step(c, type);
  std::string verb = c.cmd.action == Action::confirm ? "Confirmed " : "Approved ";
  if (index + 1 < c.d.task.steps.size()) {
    if (Status s = open_step(c, index + 1); !s.ok()) return s;
    const TaskStep& next = c.d.task.steps[index + 1];
    notify_people(c, type, false);
    c.d.summary = verb + c.task_ref() + ": now with " +
                  (next.connector ? next.connector->label : join_names(c.dir, next.assignees)) +
                  " (" + step_of(c.d.task, index + 1) + ")";
    return {};
  }
  TaskState final_state =
      c.d.task.kind == TaskKind::grant ? TaskState::granted : TaskState::revoked;
  close_task(c, final_state);
  notify_people(c, std::string(state_name(final_state)), true);
  c.d.summary = verb + c.task_ref() +
                (final_state == TaskState::granted ? ": access granted" : ": access removed");
  return {};
}

Status deny(Ctx& c) {
  finish_step(c, "denied");
  close_task(c, TaskState::denied);
  notify_people(c, "denied", true);
  c.d.summary =
      "Denied " + c.task_ref() + (c.d.task.kind == TaskKind::revoke ? ": the access is kept" : "");
  return {};
}

Status fulfil(Ctx& c) {
  struct Outcome {
    Action action;
    const char* event;
    TaskState state;
    const char* summary;
  };
  static constexpr std::array<Outcome, 4> kOutcomes = {{
      {Action::provisioned, "provisioned", TaskState::provisioned, "Marked provisioned"},
      {Action::wont_provision, "not_provisioned", TaskState::not_provisioned, "Won't provision"},
      {Action::deprovisioned, "deprovisioned", TaskState::deprovisioned, "Marked deprovisioned"},
      {Action::wont_deprovision, "not_deprovisioned", TaskState::not_deprovisioned,
       "Won't deprovision"},
  }};
  for (const Outcome& o : kOutcomes) {
    if (o.action != c.cmd.action) continue;
    finish_step(c, o.event);
    close_task(c, o.state);
    notify_people(c, o.event, true);
    c.d.summary = std::string(o.summary) + " " + c.task_ref();
    return {};
  }
  return internal_error("no outcome for " + std::string(action_name(c.cmd.action)));
}

Status reassign(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.d.task.steps[index];
  std::vector<PersonId> previous = s.assignees;
  // Someone out of office is stood in for by their delegate.
  PersonId to = c.engine.stand_in(c.d.task, s, c.cmd.to);
  std::string who = c.name(to);
  if (to != c.cmd.to) who += " (standing in for " + c.name(c.cmd.to) + ")";
  hand_over(s, {to});
  s.by_fallback = false;
  s.delegated_for.clear();
  if (to != c.cmd.to) s.delegated_for[to] = c.cmd.to;
  s.nudged_at[to] = c.now;
  std::int64_t comment_id =
      add_comment(c, c.cmd.actor, "Reassigned to " + who + ": " + c.cmd.comment, "reassign");
  std::vector<std::pair<std::string, std::string>> data{{"step", std::to_string(index)},
                                                        {"from", join_ids(previous)},
                                                        {"to", to},
                                                        {"reason", c.cmd.comment},
                                                        {"comment_id", std::to_string(comment_id)}};
  if (to != c.cmd.to) data.emplace_back("delegated", to + " for " + c.cmd.to);
  c.event("reassigned", std::move(data));
  c.effect(EffectKind::update_messages);
  c.effect(EffectKind::assign, to,
           {{"step", std::to_string(index)}, {"reassigned_by", c.cmd.actor}});
  c.d.summary = "Reassigned " + c.task_ref() + " to " + who;
  return {};
}

Status cancel(Ctx& c) {
  if (!c.cmd.comment.empty()) add_comment(c, c.cmd.actor, c.cmd.comment, "reason");
  c.event("cancelled", {{"comment", c.cmd.comment}});
  close_task(c, TaskState::cancelled);
  c.effect(EffectKind::update_messages);
  notify_people(c, "cancelled", true);
  c.d.summary = "Cancelled " + c.task_ref();
  return {};
}

Status comment(Ctx& c) {
  std::string source = c.cmd.source.empty() ? "command" : c.cmd.source;
  std::int64_t id = add_comment(c, c.cmd.actor, c.cmd.comment, source);
  Comment& added = c.d.task.comments.back();
  added.slack_channel = c.cmd.slack_channel;
  added.slack_ts = c.cmd.slack_ts;
  c.d.new_comments.back() = added;
  c.event("commented",
          {{"comment_id", std::to_string(id)}, {"text", c.cmd.comment}, {"source", source}});
  c.d.summary = "Commented on " + c.task_ref();
  return {};
}

// The comment a Slack edit or deletion refers to, by the reply's channel and ts.
Comment* slack_comment(Ctx& c) {
  for (Comment& cm : c.d.task.comments) {
    if (!cm.slack_ts.empty() && cm.slack_ts == c.cmd.slack_ts &&
        cm.slack_channel == c.cmd.slack_channel)
      return &cm;
  }
  return nullptr;
}

Status own_comment(const Ctx& c) {
  for (const Comment& cm : c.before.comments) {
    if (!cm.slack_ts.empty() && cm.slack_ts == c.cmd.slack_ts &&
        cm.slack_channel == c.cmd.slack_channel) {
      if (cm.deleted) return conflict("that comment on " + c.task_ref() + " was deleted");
      if (cm.author != c.cmd.actor)
        return permission_denied("only its author can change a comment");
      return {};
    }
  }
  return not_found("no such comment on " + c.task_ref());
}

Status edit_comment(Ctx& c) {
  Comment* cm = slack_comment(c);
  cm->text = c.cmd.comment;
  cm->edited_at = c.now;
  c.d.changed_comments.push_back(*cm);
  c.event("comment_edited", {{"comment_id", std::to_string(cm->id)}, {"text", c.cmd.comment}});
  c.d.summary = "Edited a comment on " + c.task_ref();
  return {};
}

Status delete_comment(Ctx& c) {
  Comment* cm = slack_comment(c);
  cm->deleted = true;
  cm->edited_at = c.now;
  c.d.changed_comments.push_back(*cm);
  c.event("comment_deleted", {{"comment_id", std::to_string(cm->id)}});
  c.d.summary = "Deleted a comment on " + c.task_ref();
  return {};
}

// ---------------------------------------------------------------------------
// Service levels: Tollgate's own actions, asked for by the scheduler and
// checked again here against the task as last committed, so that each
// reminder, escalation and expiry happens once.

Status system_only(const Ctx& c) {
  if (c.cmd.actor == kSystemActor) return {};
  return permission_denied("only Tollgate itself can " + std::string(action_name(c.cmd.action)) +
                           " a task");
}

// The scheduler's view and ours must agree that it is due now.
Status sla_is_due(const Ctx& c) {
  for (const SlaDue& due : sla_due(c.before, c.now)) {
    if (due.action == c.cmd.action && (due.action != Action::remind || due.person == c.cmd.to))
      return {};
  }
  return conflict(std::string(action_name(c.cmd.action)) + " is not due on " + c.task_ref());
}

Status remind(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.step();
  s.nudged_at[c.cmd.to] = c.now;
  std::string waiting = format_duration(c.now - *s.opened_at);
  c.event("reminded", {{"step", std::to_string(index)}, {"to", c.cmd.to}, {"waiting", waiting}});
  c.effect(EffectKind::remind, c.cmd.to, {{"step", std::to_string(index)}, {"waiting", waiting}});
  c.d.summary = "Reminded " + c.name(c.cmd.to) + " of " + c.task_ref();
  return {};
}

Status escalate(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.step();
  s.escalated = true;
  std::string after = format_duration(*s.rule.sla.escalate_after);
  std::map<PersonId, PersonId> delegated_for;
  std::vector<PersonId> targets = c.engine.escalation_targets(c.d.task, s, &delegated_for);
  std::vector<PersonId> previous = s.assignees;
  std::vector<PersonId> fresh;
  for (const PersonId& p : targets) {
    if (!contains(previous, p)) fresh.push_back(p);
  }
  if (fresh.empty()) {
    // Nobody else to take it: the step stays where it is, escalated once.
    c.event("escalation_skipped",
            {{"step", std::to_string(index)}, {"reason", "nobody else to escalate to"}});
    c.d.summary = "Nobody to escalate " + c.task_ref() + " to";
    return {};
  }
  hand_over(s, targets);
  s.by_fallback = false;
  s.delegated_for = delegated_for;
  for (const PersonId& p : targets) s.nudged_at[p] = c.now;
  std::string reason =
      "No decision after " + after + ": escalated to " + join_names(c.dir, targets);
  std::int64_t comment_id = add_comment(c, c.cmd.actor, reason, "escalation");
  c.event("escalated", {{"step", std::to_string(index)},
                        {"from", join_ids(previous)},
                        {"to", join_ids(targets)},
                        {"reason", reason},
                        {"comment_id", std::to_string(comment_id)}});
  c.effect(EffectKind::update_messages);
  for (const PersonId& p : fresh) {
    c.effect(
        EffectKind::assign, p,
        {{"step", std::to_string(index)}, {"reassigned_by", c.cmd.actor}, {"escalated", after}});
  }
  c.d.summary = "Escalated " + c.task_ref() + " to " + join_names(c.dir, targets);
  return {};
}

Status expire(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  std::string after = format_duration(*c.step().rule.sla.expire_after);
  std::string reason = "Expired: no decision on " + step_of(c.d.task, index) + " within " + after;
  add_comment(c, c.cmd.actor, reason, "expiry");
  c.event("expired", {{"step", std::to_string(index)}, {"after", after}});
  close_task(c, TaskState::cancelled);
  c.effect(EffectKind::update_messages);
  notify_people(c, "expired", true);
  c.d.summary = "Expired " + c.task_ref();
  return {};
}

// ---------------------------------------------------------------------------
// Connectors: the system's answers (system actions, from the outbox worker or
// a webhook receiver's signed confirmation), and the people's Retry.

const ConnectorRun* open_run(const Ctx& c) {
  const TaskStep* s = c.current();
  return s != nullptr && s->connector ? &*s->connector : nullptr;
}

// "provisioning" or "removing", for the lines people read.
const char* fulfil_verb(const Task& t) {
  return t.kind == TaskKind::grant ? "adding" : "removing";
}

// People act on a connector's step only once it has failed: until then the
// system is making the change, and a manual decision would race it.
Status by_people(const Ctx& c) {
  const ConnectorRun* run = open_run(c);
  if (run == nullptr || run->phase == ConnectorRun::Phase::failed) return {};
  return conflict(run->label + " is " + fulfil_verb(c.before) + " this access for " +
                  c.task_ref() + " now; if it fails, the step comes to its " +
                  (c.before.kind == TaskKind::grant ? "provisioners" : "deprovisioners"));
}

// An answer is taken while the system is called (or a 202's confirmation is
// awaited), for the attempt under way.
Status awaits_answer(const Ctx& c) {
  const ConnectorRun* run = open_run(c);
  if (run == nullptr || run->phase == ConnectorRun::Phase::failed) {
    return conflict(c.task_ref() + " is not waiting for a connector's answer");
  }
  if (c.cmd.attempt != 0 && c.cmd.attempt != run->attempt) {
    return conflict("the answer is for attempt " + std::to_string(c.cmd.attempt) + " of " +
                    c.task_ref() + "; attempt " + std::to_string(run->attempt) + " is under way");
  }
  // Once a webhook has accepted the change, only its confirmation (or the
  // scheduler, when it is overdue) decides: a redelivery's answer does not.
  if (run->phase == ConnectorRun::Phase::accepted && c.cmd.source == "connector") {
    return conflict(c.task_ref() + "'s webhook accepted the change; its confirmation decides");
  }
  return {};
}

Status still_calling(const Ctx& c) {
  if (open_run(c)->phase == ConnectorRun::Phase::calling) return {};
  return conflict(c.task_ref() + "'s webhook has accepted the change already");
}

Status connector_gave_up(const Ctx& c) {
  const ConnectorRun* run = open_run(c);
  if (run != nullptr && run->phase == ConnectorRun::Phase::failed) return {};
  if (run == nullptr) return conflict(c.task_ref() + " has no connector to try again");
  return conflict(run->label + " is still " + fulfil_verb(c.before) + " this access for " +
                  c.task_ref());
}

void take_answer(Ctx& c, ConnectorRun& run) {
  run.answer = c.cmd.comment;
  run.answered_at = c.now;
}

Status connector_done(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.step();
  take_answer(c, *s.connector);
  bool grant = c.d.task.kind == TaskKind::grant;
  s.state = StepState::done;
  s.outcome = grant ? Action::provisioned : Action::deprovisioned;
  s.decided_by = c.cmd.actor;
  s.decided_at = c.now;
  std::string label = s.connector->label;
  const char* event = grant ? "provisioned" : "deprovisioned";
  c.event(event, {{"step", std::to_string(index)}, {"by", label}, {"answer", c.cmd.comment}});
  c.effect(EffectKind::update_messages);
  close_task(c, grant ? TaskState::provisioned : TaskState::deprovisioned);
  notify_people(c, event, true);
  for (Effect& e : c.d.effects) {
    if (e.kind == EffectKind::notify || e.kind == EffectKind::email) e.data.emplace_back("via", label);
  }
  c.d.summary = std::string(grant ? "Provisioned by " : "Deprovisioned by ") + label + ": " +
                c.task_ref();
  return {};
}

Status connector_accepted(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  ConnectorRun& run = *c.step().connector;
  take_answer(c, run);
  run.phase = ConnectorRun::Phase::accepted;
  const App* app = c.dir.app(c.d.task.app);
  Duration within = app != nullptr
                        ? app->fulfilment(c.d.task.kind == TaskKind::grant).connector.confirm_within
                        : Connector{}.confirm_within;
  run.confirm_by = c.now + within;
  c.event("connector_accepted", {{"step", std::to_string(index)},
                                 {"system", run.label},
                                 {"answer", c.cmd.comment}});
  c.effect(EffectKind::update_messages);
  c.d.summary = run.label + " accepted " + c.task_ref() + "; its confirmation is awaited";
  return {};
}

// For good: the step is the provisioners' (or, with nobody left to take it,
// the admins'), with what the system said, the instructions and Retry.
Status connector_failed(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.step();
  ConnectorRun& run = *s.connector;
  take_answer(c, run);
  if (run.answer.empty() && run.phase == ConnectorRun::Phase::accepted && run.confirm_by) {
    run.answer = "no confirmation by " + format_instant(*run.confirm_by);
  }
  run.phase = ConnectorRun::Phase::failed;
  bool by_fallback = false;
  std::map<PersonId, PersonId> delegated_for;
  std::vector<PersonId> people = c.engine.resolve(c.d.task, s, &by_fallback, &delegated_for);
  if (people.empty()) {
    people = c.dir.admins;
    by_fallback = true;
  }
  s.assignees = people;
  s.by_fallback = by_fallback;
  s.delegated_for = delegated_for;
  bool grant = c.d.task.kind == TaskKind::grant;
  std::string text = run.label + " could not " + (grant ? "add" : "remove") +
                     " the access: " + run.answer + ". It is now a task for people: " +
                     (grant ? "provision" : "deprovision") + " it by hand, or Retry.";
  std::int64_t comment_id = add_comment(c, c.cmd.actor, text, "connector");
  c.event("connector_failed", {{"step", std::to_string(index)},
                               {"system", run.label},
                               {"attempt", std::to_string(run.attempt)},
                               {"answer", run.answer},
                               {"assignees", join_ids(people)},
                               {"comment_id", std::to_string(comment_id)}});
  c.effect(EffectKind::update_messages);
  for (const PersonId& p : people) c.effect(EffectKind::assign, p, {{"step", std::to_string(index)}});
  c.d.summary = run.label + " failed on " + c.task_ref() + ": now with " + join_names(c.dir, people);
  return {};
}

Status retry_connector(Ctx& c) {
  std::size_t index = static_cast<std::size_t>(c.d.task.current_step());
  TaskStep& s = c.step();
  ++s.connector->attempt;
  hand_over(s, {});
  c.event("connector_retried", {{"step", std::to_string(index)},
                                {"attempt", std::to_string(s.connector->attempt)}});
  c.effect(EffectKind::update_messages);
  call_connector(c, index);
  c.d.summary = "Trying " + s.connector->label + " again for " + c.task_ref() + " (attempt " +
                std::to_string(s.connector->attempt) + ")";
  return {};
}

// ---------------------------------------------------------------------------
// The transition table: in state `when`, for a task of `kind`, `action` is
// accepted when every guard passes, and `apply` makes the change. Read it as
// the product's rules, one row a line. A command no row accepts is refused
// with a named reason, never dropped.

// fulfilling: provisioning or deprovisioning.
enum class When { reviewing, provisioning, deprovisioning, fulfilling, open, always };
enum class For { grant, revoke, either };
using Guard = Status (*)(const Ctx&);
using Apply = Status (*)(Ctx&);

struct Row {
  When when;
  For kind;
  Action action;
  std::array<Guard, 4> guards;
  Apply apply;
};

// clang-format off
const Row kTable[] = {
  // state               task         action                    guards                                                                 apply
  {When::reviewing,      For::grant,  Action::approve,          {actor_assigned, fresh_reviewer, not_own_request, reason_if_required}, advance},
  {When::reviewing,      For::grant,  Action::deny,             {actor_assigned, fresh_reviewer, not_own_request, reason_if_required}, deny},
  {When::reviewing,      For::revoke, Action::confirm,          {actor_assigned, fresh_reviewer, not_own_request, reason_if_required}, advance},
  {When::reviewing,      For::revoke, Action::deny,             {actor_assigned, fresh_reviewer, not_own_request, reason_if_required}, deny},
  {When::provisioning,   For::grant,  Action::provisioned,      {by_people, actor_assigned},                           fulfil},
  {When::provisioning,   For::grant,  Action::wont_provision,   {by_people, actor_assigned, reason_given},             fulfil},
  {When::deprovisioning, For::revoke, Action::deprovisioned,    {by_people, actor_assigned},                           fulfil},
  {When::deprovisioning, For::revoke, Action::wont_deprovision, {by_people, actor_assigned, reason_given},             fulfil},
  {When::open,           For::either, Action::reassign,         {by_people, may_reassign, reason_given, receiver_allowed}, reassign},
  {When::open,           For::either, Action::cancel,           {by_people, requester_or_admin},                       cancel},
  {When::always,         For::either, Action::comment,          {text_given},                                          comment},
  {When::always,         For::either, Action::edit_comment,     {own_comment, text_given},                             edit_comment},
  {When::always,         For::either, Action::delete_comment,   {own_comment},                                         delete_comment},
  {When::open,           For::either, Action::remind,           {system_only, sla_is_due},                             remind},
  {When::open,           For::either, Action::escalate,         {system_only, sla_is_due},                             escalate},
  {When::open,           For::either, Action::expire,           {system_only, sla_is_due},                             expire},
  {When::fulfilling,     For::either, Action::connector_done,     {system_only, awaits_answer},                      connector_done},
  {When::fulfilling,     For::either, Action::connector_accepted, {system_only, awaits_answer, still_calling},       connector_accepted},
  {When::fulfilling,     For::either, Action::connector_failed,   {system_only, awaits_answer},                      connector_failed},
  {When::fulfilling,     For::either, Action::retry,              {connector_gave_up, actor_assigned},               retry_connector},
};
// clang-format on

bool matches(const Row& r, const Task& t, Action a) {
  if (r.action != a) return false;
  if (r.kind == For::grant && t.kind != TaskKind::grant) return false;
  if (r.kind == For::revoke && t.kind != TaskKind::revoke) return false;
  switch (r.when) {
    case When::reviewing:
      return t.state == TaskState::reviewing;
    case When::provisioning:
      return t.state == TaskState::provisioning;
    case When::deprovisioning:
      return t.state == TaskState::deprovisioning;
    case When::fulfilling:
      return t.state == TaskState::provisioning || t.state == TaskState::deprovisioning;
    case When::open:
      return !t.closed();
    case When::always:
      return true;
  }
  return false;
}

// A decision on a step that has moved on is a named outcome, not an error of
// the actor's: tell them who decided and when.
Status stale_click(const Ctx& c) {
  const Task& t = c.before;
  if (c.cmd.action == Action::comment || c.cmd.action == Action::edit_comment ||
      c.cmd.action == Action::delete_comment) {
    return {};
  }
  if (c.cmd.step) {
    int i = *c.cmd.step;
    if (i < 0 || i >= static_cast<int>(t.steps.size())) {
      return invalid_argument(c.task_ref() + " has no step " + std::to_string(i + 1));
    }
    const TaskStep& s = t.steps[static_cast<std::size_t>(i)];
    if (s.state == StepState::done) return conflict(already_decided(c, s));
    if (s.state == StepState::skipped) return conflict(closure(c));
    if (s.state == StepState::upcoming) {
      return conflict("step " + std::to_string(i + 1) + " of " + c.task_ref() +
                      " has not opened yet");
    }
  }
  if (t.closed()) return conflict(closure(c));
  const TaskStep* open = t.current();
  if (open != nullptr && !contains(open->assignees, c.cmd.actor) &&
      c.cmd.action != Action::cancel &&
      !(c.cmd.action == Action::reassign && c.dir.is_admin(c.cmd.actor))) {
    // Were they assigned to a step that someone already decided?
    for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
      if (it->state == StepState::done && contains(it->assignees, c.cmd.actor)) {
        return conflict(already_decided(c, *it));
      }
    }
  }
  return {};
}

StatusOr<Decision> decide(const Engine& engine, const Task& task, const Command& cmd) {
  Ctx c{engine, engine.directory(),   task,
        cmd,    engine.clock().now(), Decision{task, {}, {}, {}, {}}};
  bool about_comments = cmd.action == Action::comment || cmd.action == Action::edit_comment ||
                        cmd.action == Action::delete_comment;
  bool system = is_system_action(cmd.action);
  // Comments may come from Slack users outside the directory ("slack:U123");
  // service-level actions from Tollgate itself.
  if (!about_comments && !system && engine.directory().person(cmd.actor) == nullptr) {
    return permission_denied("\"" + cmd.actor + "\" is not a person of the directory");
  }
  if (Status s = stale_click(c); !s.ok()) return s;
  if (cmd.duration && cmd.action != Action::approve)
    return invalid_argument("a duration goes only with approve");
  const Row* row = nullptr;
  for (const Row& r : kTable) {
    if (matches(r, task, cmd.action)) {
      row = &r;
      break;
    }
  }
  if (row == nullptr) {
    std::string what = task.kind == TaskKind::grant ? "access request" : "revocation";
    return conflict(c.task_ref() + " (" + what + ", " + std::string(state_name(task.state)) +
                    ") does not take \"" + std::string(action_name(cmd.action)) + "\"");
  }
  for (Guard g : row->guards) {
    if (g == nullptr) break;
    if (Status s = g(c); !s.ok()) return s;
  }
  if (Status s = row->apply(c); !s.ok()) return s;
  c.d.task.version = task.version + 1;
  c.d.task.updated_at = c.now;
  return std::move(c.d);
}

// Builds the steps of a new task from its policy and the app's fulfilment.
std::vector<TaskStep> build_steps(const Policy& policy, const Fulfilment& fulfilment,
                                  StepKind fulfil_kind, const std::string& connector) {
  std::vector<TaskStep> steps;
  for (const PolicyStep& ps : policy.steps) {
    TaskStep s;
    s.kind = StepKind::review;
    s.rule = ps;
    steps.push_back(std::move(s));
  }
  if (fulfilment.mode != ProvisioningMode::automatic) {
    TaskStep s;
    s.kind = fulfil_kind;
    if (is_connector(fulfilment.mode)) s.connector = ConnectorRun{fulfilment.mode, connector};
    s.rule.name = fulfil_kind == StepKind::provision ? "Provisioning" : "Deprovisioning";
    s.rule.reviewers.type = ReviewerType::users;
    s.rule.reviewers.users = fulfilment.assignees;
    s.rule.allow_reassign = fulfilment.allow_reassign;
    steps.push_back(std::move(s));
  }
  return steps;
}

// The common part of open_request and propose_revocation.
StatusOr<Decision> open_task(const Engine& engine, Task task, const Policy& policy,
                             const Fulfilment& fulfilment, const std::vector<Holding>& holders) {
  const Directory& dir = engine.directory();
  Time now = engine.clock().now();
  task.policy_id = policy.id;
  task.policy_name = policy.name;
  task.instructions =
      fulfilment.mode != ProvisioningMode::automatic ? fulfilment.instructions : "";
  const App* app = dir.app(task.app);
  task.steps = build_steps(policy, fulfilment,
                           task.kind == TaskKind::grant ? StepKind::provision : StepKind::deprovision,
                           app != nullptr ? connector_label(*app, fulfilment) : "");
  task.created_at = now;
  task.updated_at = now;
  task.version = 1;
  // Every step must have someone to take it before the task is opened.
  for (std::size_t i = 0; i < task.steps.size(); ++i) {
    bool fb = false;
    if (engine.resolve(task, task.steps[i], &fb).empty()) {
      return rule_refused("nobody can take step " + std::to_string(i + 1) + " (" +
                          step_label(dir, task.steps[i]) + ") of policy \"" + policy.name + "\"");
    }
  }
  task.insights = compute_insights(dir, task, now, holders);

  Command opener{Action::comment, task.requester, {}, {}, {}};
  Ctx c{engine, dir, task, opener, now, Decision{task, {}, {}, {}, {}}};
  std::vector<std::pair<std::string, std::string>> data{
      {"kind", std::string(kind_name(task.kind))},
      {"subject", task.subject},
      {"app", task.app},
      {"resource", task.resource},
      {"policy", task.policy_id},
      {"justification", task.justification},
  };
  if (task.duration) data.emplace_back("duration", format_duration(*task.duration));
  if (task.emergency) data.emplace_back("emergency", "true");
  if (task.extension) data.emplace_back("extension", "true");
  if (!task.ending.empty()) data.emplace_back("ending", task.ending);
  c.event("task_opened", std::move(data));
  if (Status s = open_step(c, 0); !s.ok()) return s;
  std::string what = task.extension                 ? "Asked to extend "
                     : task.kind == TaskKind::grant ? "Requested "
                     : task.ending.empty()          ? "Proposed revocation of "
                                                    : "Asked to remove ";
  const TaskStep& first = c.d.task.steps[0];
  c.d.summary = what + task.app_name + " / " + task.resource_name + " as " + c.task_ref() +
                ": with " +
                (first.connector ? first.connector->label : join_names(dir, first.assignees)) +
                " (" + step_of(c.d.task, 0) + ")";
  return std::move(c.d);
}

// Who and what a request or a revocation is about, as the directory has them.
struct Target {
  const Person* subject = nullptr;
  const App* app = nullptr;
  const Resource* resource = nullptr;
};

// The subject, app and resource named, or which of them is unknown (checked in that order).
StatusOr<Target> find_target(const Directory& dir, const PersonId& subject,
                             const std::string& app_id, const std::string& resource_id) {
  Target t;
  t.subject = dir.person(subject);
  if (t.subject == nullptr) return not_found("unknown person \"" + subject + "\"");
  t.app = dir.app(app_id);
  if (t.app == nullptr) return not_found("unknown app \"" + app_id + "\"");
  t.resource = dir.resource(app_id, resource_id);
  if (t.resource == nullptr) {
    return not_found("app \"" + t.app->name + "\" has no resource \"" + resource_id + "\"");
  }
  return t;
}

// A new task of `kind` for `target`, asked for by `requester` with `justification`.
Task new_task(TaskNumber number, TaskKind kind, const PersonId& requester, const PersonId& subject,
              const Target& target, const std::string& justification) {
  Task t;
  t.number = number;
  t.kind = kind;
  t.requester = requester;
  t.subject = subject;
  t.app = target.app->id;
  t.resource = target.resource->id;
  t.app_name = target.app->name;
  t.resource_name = target.resource->name;
  t.justification = justification;
  t.sensitive = target.resource->sensitive;
  return t;
}

}  // namespace

Engine::Engine(std::shared_ptr<const Directory> directory, const Clock& clock,
               std::shared_ptr<const DelegationBook> delegations)
    : directory_(std::move(directory)), clock_(clock), delegations_(std::move(delegations)) {}

StatusOr<Decision> Engine::open_request(const RequestInput& in, TaskNumber number) const {
  const Directory& dir = *directory_;
  if (dir.person(in.requester) == nullptr)
    return not_found("unknown person \"" + in.requester + "\"");
  PersonId subject = in.subject.empty() ? in.requester : in.subject;
  ASSIGN_OR_RETURN(Target target, find_target(dir, subject, in.app, in.resource));
  const App* app = target.app;
  const Resource* res = target.resource;
  if (blank(in.justification)) return invalid_argument("a justification is required");
  // Only someone in the subject's management chain may ask on their behalf.
  if (subject != in.requester && !dir.is_admin(in.requester) &&
      !dir.manages(in.requester, subject)) {
    return permission_denied("only " + dir.display_name(subject) +
                             ", their managers or an admin can request access for them");
  }
  if (in.facts.open_task != 0) {
    return conflict("#" + std::to_string(in.facts.open_task) + " is already open for " +
                    dir.display_name(subject) + "'s access to " + app->name + " / " + res->name);
  }
  const std::optional<Holding>& held = in.facts.held;
  if (held && !held->expires_at) {
    return rule_refused(access_text(dir, *held) + " is held without end since " +
                        format_date(held->since) + ": there is nothing to request");
  }
  if (held && held->ending_task != 0) {
    return conflict(access_text(dir, *held) + " is being removed (#" +
                    std::to_string(held->ending_task) + "); request it again once removed");
  }
  std::optional<Duration> duration = in.duration;
  if (res->max_duration) {
    if (duration && *duration > *res->max_duration) {
      return rule_refused(format_duration(*duration) + " is longer than the " +
                          format_duration(*res->max_duration) + " allowed for " + app->name +
                          " / " + res->name);
    }
    if (!duration) duration = res->max_duration;
  }
  const std::string& policy_id = in.emergency ? res->emergency_policy : res->request_policy;
  if (policy_id.empty()) {
    return rule_refused(app->name + " / " + res->name + " takes no emergency requests");
  }
  const Policy* policy = dir.policy(policy_id);
  if (policy == nullptr || policy->kind != PolicyKind::request) {
    return internal_error("resource policy \"" + policy_id +
                          "\" is missing or not a request policy");
  }
  Task t = new_task(number, TaskKind::grant, in.requester, subject, target, in.justification);
  t.duration = duration;
  t.emergency = in.emergency;
  // An extension moves the end of access already there: nothing to provision.
  t.extension = held.has_value();
  if (held) t.extends = held->expires_at;
  if (t.extension && !t.duration) {
    return invalid_argument("say for how long to extend " + access_text(dir, *held) +
                            ", e.g. 8h or 7d");
  }
  static const Fulfilment kNothingToProvision{};
  const Fulfilment& fulfilment = t.extension ? kNothingToProvision : app->provisioning;
  return open_task(*this, std::move(t), *policy, fulfilment, in.facts.holders);
}

StatusOr<Decision> Engine::propose_revocation(const RevocationInput& in, TaskNumber number) const {
  const Directory& dir = *directory_;
  const Person* proposer = dir.person(in.proposer);
  if (proposer == nullptr) return not_found("unknown person \"" + in.proposer + "\"");
  ASSIGN_OR_RETURN(Target target, find_target(dir, in.subject, in.app, in.resource));
  const Person* sp = target.subject;
  const App* app = target.app;
  const Resource* res = target.resource;
  if (blank(in.reason)) return invalid_argument("a reason is required to propose a revocation");
  // Who may propose: the subject themself, their manager, the app's or the
  // resource's owners, or an admin.
  bool may = in.proposer == in.subject || sp->manager == in.proposer || dir.is_admin(in.proposer) ||
             contains(app->owners, in.proposer) || contains(res->owners, in.proposer);
  if (!may) {
    return permission_denied("only " + dir.display_name(in.subject) + "'s manager, the owners of " +
                             app->name + " / " + res->name +
                             " or an admin can propose this revocation");
  }
  if (!in.facts.held) {
    return rule_refused(dir.display_name(in.subject) + " does not hold " + app->name + " / " +
                        res->name + ": there is nothing to revoke");
  }
  if (in.facts.open_task != 0 || in.facts.held->ending_task != 0) {
    TaskNumber open = in.facts.open_task != 0 ? in.facts.open_task : in.facts.held->ending_task;
    return conflict("#" + std::to_string(open) + " is already removing " +
                    access_text(dir, *in.facts.held));
  }
  const Policy* policy = dir.policy(res->revocation_policy);
  if (policy == nullptr || policy->kind != PolicyKind::revocation) {
    return internal_error("revocation policy \"" + res->revocation_policy + "\" is missing");
  }
  Task t = new_task(number, TaskKind::revoke, in.proposer, in.subject, target, in.reason);
  return open_task(*this, std::move(t), *policy, app->deprovisioning, in.facts.holders);
}

// The task that removes `h` by hand: from the directory as far as it still
// knows the person, app and resource, from the row's ids otherwise (people
// leave, and their access must still be removed).
static Task access_end_task(const Directory& dir, const Holding& h, TaskNumber number,
                            const PersonId& requester, std::string why) {
  const App* app = dir.app(h.app);
  const Resource* res = dir.resource(h.app, h.resource);
  Task t;
  t.number = number;
  t.kind = TaskKind::revoke;
  t.requester = requester;
  t.subject = h.person;
  t.app = h.app;
  t.resource = h.resource;
  t.app_name = app != nullptr ? app->name : h.app;
  t.resource_name = res != nullptr ? res->name : h.resource;
  t.sensitive = res != nullptr && res->sensitive;
  t.justification = std::move(why);
  return t;
}

StatusOr<Decision> Engine::open_access_end(const AccessEnd& end, TaskNumber number) const {
  const Directory& dir = *directory_;
  const Holding& h = end.holding;
  if (!ends_by_hand(h)) return internal_error("this access is removed without a task");
  std::string why = end.why != "done"
                        ? "access expired" + (h.expires_at ? " at " + format_instant(*h.expires_at)
                                                           : std::string())
                    : end.actor == h.person ? dir.display_name(h.person) + " is done with it"
                                            : "ended by " + dir.display_name(end.actor);
  Task t = access_end_task(dir, h, number, end.actor, why);
  t.ending = end.why;
  Policy none;  // no review: the end is decided already
  none.id = "access-end";
  none.name = end.why == "done" ? "Ended early" : "Access expired";
  none.kind = PolicyKind::revocation;
  // An app gone from the configuration: the admins remove the access.
  const App* app = dir.app(h.app);
  Fulfilment gone{ProvisioningMode::manual,
                  {},
                  "The app is no longer in Tollgate's configuration: remove the access where it "
                  "lives, then mark it deprovisioned.",
                  true};
  ASSIGN_OR_RETURN(Decision d,
                   open_task(*this, std::move(t), none, app ? app->deprovisioning : gone, {h}));
  d.access.push_back(ending_change(end, number, clock_.now()));
  // The holder is told it has ended and who now removes it.
  for (Effect& e : access_notices(dir, h, "ending", number,
                                  {{"ending_task", std::to_string(number)}, {"why", end.why}}))
    d.effects.push_back(std::move(e));
  return d;
}

StatusOr<Decision> Engine::act(const Task& task, const Command& cmd) const {
  return decide(*this, task, cmd);
}

std::vector<BulkResult> Engine::act_many(const std::vector<Task>& tasks, const Command& cmd) const {
  std::vector<BulkResult> out;
  out.reserve(tasks.size());
  for (const Task& t : tasks) out.push_back({t.number, decide(*this, t, cmd)});
  return out;
}

PersonId Engine::stand_in(const Task& task, const TaskStep& step, const PersonId& person) const {
  if (delegations_ == nullptr || !step.rule.allow_delegation) return person;
  auto d = delegations_->active(person, clock_.now());
  if (!d || directory_->person(d->delegate) == nullptr || d->delegate == person) return person;
  // A delegate never reviews their own request or access, nor a step that four
  // eyes keeps them from: then the person keeps the step.
  bool exclude = step.kind == StepKind::review && !step.rule.allow_self_review;
  if (exclude && (d->delegate == task.requester || d->delegate == task.subject)) return person;
  if (earlier_review_by(task, step, d->delegate) != nullptr) return person;
  return d->delegate;
}

// Applies the delegations in force to `people`, in order, without duplicates.
static std::vector<PersonId> apply_delegations(const Engine& engine, const Task& task,
                                               const TaskStep& step,
                                               const std::vector<PersonId>& people,
                                               std::map<PersonId, PersonId>* delegated_for) {
  std::vector<PersonId> out;
  for (const PersonId& p : people) {
    PersonId who = engine.stand_in(task, step, p);
    if (contains(out, who)) continue;
    out.push_back(who);
    if (who != p && delegated_for != nullptr) (*delegated_for)[who] = p;
  }
  return out;
}

std::vector<PersonId> Engine::escalation_targets(
    const Task& task, const TaskStep& step, std::map<PersonId, PersonId>* delegated_for) const {
  const Directory& dir = *directory_;
  std::vector<PersonId> out;
  const Sla& sla = step.rule.sla;
  if (sla.escalate_to == EscalateTo::manager) {
    // The managers of whoever holds the step (of the people they stand in for).
    for (const PersonId& a : step.assignees) {
      auto it = step.delegated_for.find(a);
      const Person* p = dir.person(it != step.delegated_for.end() ? it->second : a);
      if (p != nullptr && !p->manager.empty()) add_people(dir, p->manager, out);
    }
  } else if (sla.escalate_to == EscalateTo::people) {
    for (const PersonId& id : sla.escalate_people) add_people(dir, id, out);
  }
  // "fallback", or nobody found: the step's fallback, then the admins.
  settle_people(dir, task, step, out);
  return apply_delegations(*this, task, step, out, delegated_for);
}

std::vector<PersonId> Engine::resolve(const Task& task, const TaskStep& step, bool* by_fallback,
                                      std::map<PersonId, PersonId>* delegated_for) const {
  const Directory& dir = *directory_;
  std::vector<PersonId> out;
  auto add = [&](const PersonId& id) { add_people(dir, id, out); };
  const ReviewerSelector& sel = step.rule.reviewers;
  switch (sel.type) {
    case ReviewerType::manager:
      if (const Person* s = dir.person(task.subject); s != nullptr && !s->manager.empty())
        add(s->manager);
      break;
    case ReviewerType::app_owners:
      if (const App* a = dir.app(task.app)) std::for_each(a->owners.begin(), a->owners.end(), add);
      break;
    case ReviewerType::resource_owners:
      if (const Resource* r = dir.resource(task.app, task.resource))
        std::for_each(r->owners.begin(), r->owners.end(), add);
      break;
    case ReviewerType::users:
      std::for_each(sel.users.begin(), sel.users.end(), add);
      break;
    case ReviewerType::group:
      add(sel.group);
      break;
  }
  bool fallback = settle_people(dir, task, step, out);
  if (by_fallback != nullptr) *by_fallback = fallback;
  return apply_delegations(*this, task, step, out, delegated_for);
}

Plan Engine::plan(const Task& task, const PersonId& viewer) const {
  Plan p;
  p.policy_name = task.policy_name;
  p.current = task.current_step();
  for (std::size_t i = 0; i < task.steps.size(); ++i) {
    const TaskStep& s = task.steps[i];
    PlanStep ps;
    ps.index = static_cast<int>(i);
    ps.label = step_label(*directory_, s);
    ps.kind = s.kind;
    ps.state = s.state;
    ps.outcome = s.outcome;
    ps.decided_by = s.decided_by;
    ps.decided_at = s.decided_at;
    ps.comment = s.comment;
    ps.by_fallback = s.by_fallback;
    if (s.state == StepState::upcoming) {
      ps.people = resolve(task, s, &ps.by_fallback);
    } else {
      ps.people = s.assignees;
    }
    ps.viewer_involved = contains(ps.people, viewer) || s.decided_by == viewer;
    p.steps.push_back(std::move(ps));
  }
  if (p.current >= 0) {
    p.headline = "Step " + std::to_string(p.current + 1) + " of " +
                 std::to_string(task.steps.size()) + " · " + task.policy_name;
  } else {
    std::string state(state_name(task.state));
    std::replace(state.begin(), state.end(), '_', ' ');
    state[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(state[0])));
    p.headline = state + " · " + task.policy_name;
  }
  return p;
}

bool involved(const Directory& dir, const Task& task, const PersonId& person) {
  if (person.empty()) return false;
  if (dir.is_admin(person) || task.requester == person || task.subject == person) return true;
  for (const TaskStep& s : task.steps) {
    if (s.decided_by == person || contains(s.assignees, person) ||
        contains(s.former_assignees, person))
      return true;
    for (const auto& [delegate, stood_in_for] : s.delegated_for) {
      if (stood_in_for == person) return true;
    }
  }
  return false;
}

Status check_bulk_length(std::size_t n) {
  if (n <= kMaxBulkTasks) return {};
  return invalid_argument("At most " + std::to_string(kMaxBulkTasks) +
                          " tasks at once; nothing was done.");
}

Status task_not_shown(TaskNumber number) {
  return not_found("#" + std::to_string(number) + " is not one of your tasks");
}

bool can_reassign(const Directory& dir, const Task& task, const PersonId& person) {
  const TaskStep* s = task.current();
  if (s == nullptr) return false;
  if (dir.is_admin(person)) return true;  // admins may reassign any open task
  return s->rule.allow_reassign && contains(s->assignees, person);
}

std::string step_label(const Directory& dir, const TaskStep& step) {
  if (!step.rule.name.empty()) return step.rule.name;
  switch (step.rule.reviewers.type) {
    case ReviewerType::manager:
      return "Manager";
    case ReviewerType::app_owners:
      return "App owners";
    case ReviewerType::resource_owners:
      return "Resource owners";
    case ReviewerType::users:
      return join_names(dir, step.rule.reviewers.users);
    case ReviewerType::group:
      return "Group " + step.rule.reviewers.group;
  }
  return "Step";
}

std::string decider_name(const Directory& dir, const TaskStep& s) {
  if (s.connector && s.decided_by == kSystemActor) return s.connector->label;
  return dir.display_name(s.decided_by);
}

std::string outcome_verb(Action a) {
  switch (a) {
    case Action::approve:
      return "approved";
    case Action::deny:
      return "denied";
    case Action::confirm:
      return "confirmed";
    case Action::provisioned:
      return "marked provisioned";
    case Action::wont_provision:
      return "marked won't provision";
    case Action::deprovisioned:
      return "marked deprovisioned";
    case Action::wont_deprovision:
      return "marked won't deprovision";
    case Action::reassign:
      return "reassigned";
    case Action::comment:
      return "commented";
    case Action::cancel:
      return "cancelled";
    case Action::edit_comment:
      return "edited a comment";
    case Action::delete_comment:
      return "deleted a comment";
    case Action::remind:
      return "reminded";
    case Action::escalate:
      return "escalated";
    case Action::expire:
      return "expired";
    case Action::connector_done:
      return "done by its connector";
    case Action::connector_accepted:
      return "accepted by its connector";
    case Action::connector_failed:
      return "failed by its connector";
    case Action::retry:
      return "tried again";
  }
  return "decided";
}

}  // namespace tollgate
