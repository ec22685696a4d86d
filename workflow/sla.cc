#include "workflow/sla.h"

namespace tollgate {

std::optional<Time> reminder_due(const TaskStep& step, const PersonId& p) {
  if (!step.rule.sla.remind_after || !step.opened_at) return std::nullopt;
  auto it = step.nudged_at.find(p);
  Time base = it != step.nudged_at.end() ? it->second : *step.opened_at;
  return base + *step.rule.sla.remind_after;
}

std::vector<SlaDue> sla_due(const Task& task, Time now) {
  std::vector<SlaDue> out;
  const TaskStep* s = task.current();
  // A webhook that accepted the change and never confirmed it: people take over.
  if (s != nullptr && s->connector && s->connector->phase == ConnectorRun::Phase::accepted &&
      s->connector->confirm_by && now >= *s->connector->confirm_by) {
    out.push_back({Action::connector_failed, {}, task.current_step(), *s->connector->confirm_by});
    return out;
  }
  if (s == nullptr || !s->opened_at || !s->rule.sla.any()) return out;
  const Sla& sla = s->rule.sla;
  int step = task.current_step();
  if (sla.expire_after && now >= *s->opened_at + *sla.expire_after) {
    out.push_back({Action::expire, {}, step, *s->opened_at + *sla.expire_after});
    return out;
  }
  if (sla.escalate_after && !s->escalated && now >= *s->opened_at + *sla.escalate_after) {
    out.push_back({Action::escalate, {}, step, *s->opened_at + *sla.escalate_after});
    return out;
  }
  for (const PersonId& p : s->assignees) {
    if (auto due = reminder_due(*s, p); due && now >= *due) {
      out.push_back({Action::remind, p, step, *due});
    }
  }
  return out;
}

bool quiet_hours(Time t, std::chrono::seconds utc_offset, bool weekends) {
  auto local = std::chrono::floor<std::chrono::seconds>(t) + utc_offset;
  auto day = std::chrono::floor<std::chrono::days>(local);
  auto hour = std::chrono::duration_cast<std::chrono::hours>(local - day).count();
  if (hour < 8 || hour >= 20) return true;
  if (weekends) return false;
  std::chrono::weekday wd{day};
  return wd == std::chrono::Saturday || wd == std::chrono::Sunday;
}

}  // namespace tollgate
