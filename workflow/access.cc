#include "workflow/access.h"

#include <algorithm>

#include "base/time_text.h"
#include "workflow/engine.h"

namespace tollgate {

std::optional<AccessChange> access_outcome(const Task& t, const PersonId& actor, Time now) {
  AccessChange ch;
  ch.holding.person = t.subject;
  ch.holding.app = t.app;
  ch.holding.resource = t.resource;
  ch.actor = actor;
  ch.at = now;
  ch.task = t.number;
  ch.reason = std::string(state_name(t.state));
  // A connector that made the change: the row says which, the event what it answered.
  for (const TaskStep& s : t.steps) {
    if (s.connector && s.state == StepState::done && s.decided_by == kSystemActor) {
      ch.holding.via = s.connector->label;
      ch.answer = s.connector->answer;
    }
  }
  switch (t.state) {
    case TaskState::granted:
    case TaskState::provisioned:
      ch.op = AccessChange::Op::grant;
      ch.holding.since = now;
      // An extension adds its duration to what is left, never takes any away.
      if (t.duration) ch.holding.expires_at = std::max(now, t.extends.value_or(now)) + *t.duration;
      ch.holding.task = t.number;
      ch.holding.how = t.extension   ? GrantSource::extension
                       : t.emergency ? GrantSource::emergency
                                     : GrantSource::request;
      ch.guarded = t.extension;
      ch.expect_expires_at = t.extends;
      return ch;
    case TaskState::revoked:
    case TaskState::deprovisioned:
      ch.op = AccessChange::Op::remove;
      return ch;
    case TaskState::not_deprovisioned:
    case TaskState::cancelled:
      if (t.ending.empty()) return std::nullopt;
      ch.op = AccessChange::Op::kept;
      ch.without_end = t.state == TaskState::not_deprovisioned;
      return ch;
    default:
      return std::nullopt;
  }
}

AccessChange ending_change(const AccessEnd& end, TaskNumber task, Time now) {
  AccessChange ch;
  ch.op = AccessChange::Op::ending;
  ch.holding = end.holding;
  ch.actor = end.actor;
  ch.at = now;
  ch.task = task;
  ch.reason = end.why;
  ch.guarded = true;
  ch.expect_expires_at = end.holding.expires_at;
  return ch;
}

std::vector<Effect> access_notices(const Directory& dir, const Holding& h, std::string event,
                                   TaskNumber task,
                                   std::vector<std::pair<std::string, std::string>> extra) {
  Effect e{EffectKind::access_notice, task, h.person, {}};
  e.data = {{"event", std::move(event)}, {"app", h.app}, {"resource", h.resource}};
  if (h.expires_at)
    e.data.emplace_back("expires_at", std::to_string(h.expires_at->time_since_epoch().count()));
  for (auto& kv : extra) e.data.push_back(std::move(kv));
  // Slack first, as for tasks: a task's effects are delivered in order.
  const Person* p = dir.person(h.person);
  std::vector<Effect> out;
  if (p == nullptr || p->notify_slack) out.push_back(e);
  if (p != nullptr && p->notify_email) {
    e.kind = EffectKind::email;
    e.data.emplace_back("about", std::string(effect_kind_name(EffectKind::access_notice)));
    out.push_back(std::move(e));
  }
  return out;
}

std::string access_text(const Directory& dir, const Holding& h) {
  const App* app = dir.app(h.app);
  const Resource* res = dir.resource(h.app, h.resource);
  return dir.display_name(h.person) + "'s access to " + (app ? app->name : h.app) + " / " +
         (res ? res->name : h.resource);
}

bool Engine::ends_by_hand(const Holding& h) const {
  // An app gone from the configuration: nobody can say it removes access by
  // itself, so people do (the admins).
  const App* app = directory_->app(h.app);
  return app == nullptr || app->deprovisioning.mode != ProvisioningMode::automatic;
}

StatusOr<AccessWrite> Engine::end_access(const AccessEnd& end) const {
  if (ends_by_hand(end.holding)) return internal_error("this access is removed by hand");
  Time now = clock_.now();
  AccessChange ch;
  ch.op = AccessChange::Op::remove;
  ch.holding = end.holding;
  ch.actor = end.actor;
  ch.at = now;
  ch.task = end.holding.task;
  ch.reason = end.why;
  ch.guarded = true;
  ch.expect_expires_at = end.holding.expires_at;
  AccessWrite w;
  w.changes.push_back(std::move(ch));
  // A grant from the configuration has no task to file the notice under; the
  // holder ended it themself, and the answer to their click tells them.
  if (end.holding.task != 0) {
    w.effects = access_notices(*directory_, end.holding, end.why == "done" ? "ended" : "expired",
                               end.holding.task, {{"by", end.actor}});
  }
  w.summary = "Ended " + access_text(*directory_, end.holding);
  return w;
}

AccessWrite Engine::warn_access(const Holding& h) const {
  AccessChange ch;
  ch.op = AccessChange::Op::warned;
  ch.holding = h;
  ch.actor = PersonId(kSystemActor);
  ch.at = clock_.now();
  ch.task = h.task;
  ch.reason = "ending_soon";
  ch.guarded = true;
  ch.expect_expires_at = h.expires_at;
  AccessWrite w;
  w.changes.push_back(std::move(ch));
  w.effects = access_notices(*directory_, h, "ending_soon", h.task);
  w.summary = "Told " + directory_->display_name(h.person) + " that " +
              access_text(*directory_, h) + " ends soon";
  return w;
}

}  // namespace tollgate
