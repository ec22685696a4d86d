// Service levels of stale tasks: which reminders, escalations and expiries the
// open step of a task asks for at a given moment. Pure functions of the task
// and the time; the scheduler (app/scheduler.h) asks, and the engine checks
// again inside the store's writer before anything is written, so that each is
// applied once however many times it is asked for.
#pragma once

#include <chrono>
#include <vector>

#include "base/clock.h"
#include "workflow/directory.h"
#include "workflow/task.h"

namespace tollgate {

struct SlaDue {
  // remind, escalate, expire, or connector_failed (a webhook's confirmation
  // overdue: ConnectorRun::confirm_by)
  Action action = Action::remind;
  PersonId person;                 // remind: whom
  int step = -1;                   // the open step it concerns
  Time due{};                      // when it fell due
};

// What the open step's service levels ask for at `now`, quiet hours not
// considered. Expiry takes precedence over escalation, and escalation over
// reminders: a step that expires is not also escalated or reminded.
std::vector<SlaDue> sla_due(const Task& task, Time now);

// When person `p` of the open step is next due a reminder (empty: never).
std::optional<Time> reminder_due(const TaskStep& step, const PersonId& p);

// Whether `t` falls in quiet hours for someone `utc_offset` from UTC: before
// 08:00 or from 20:00 local time, or on a Saturday or Sunday unless `weekends`.
bool quiet_hours(Time t, std::chrono::seconds utc_offset, bool weekends);

}  // namespace tollgate
