// The scheduler of stale tasks: reminders, escalations and expiries (the
// "sla" of policy steps), and of time-bound grants (their end, and the
// "ends soon" DM before it), inside the server.
//
// Each pass reads the open tasks, asks workflow/sla.h what is due at the
// clock's now, holds back reminders that would fall in the assignee's quiet
// hours (their Slack time zone), and submits what is left to the engine as
// Tollgate's own commands. The engine checks again, inside the store's
// writer, against the task as last committed, and records what it did in the
// task itself (when each assignee was last reminded, whether the step was
// escalated). So the scheduler keeps no state of its own: a restart, a pass
// that runs twice, or two instances on one database send each reminder once.
//
// Driven by the injected Clock: tests move a ManualClock and call run_once().
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/clock.h"

namespace tollgate {

class Identity;
class TaskService;

struct SchedulerOptions {
  std::chrono::milliseconds interval{30 * 1000};  // between two passes
};

struct SchedulerPass {
  int tasks_seen = 0;    // open tasks looked at
  int reminded = 0;      // reminders committed
  int escalated = 0;     // escalations committed
  int expired = 0;       // expiries committed
  int unconfirmed = 0;   // webhook steps whose confirmation is overdue, given to people
  int quiet = 0;         // reminders held back by quiet hours
  int waiting_zone = 0;  // reminders waiting for the assignee's time zone
  int access_ended = 0;   // time-bound grants ended (removed, or a deprovisioning task opened)
  int access_warned = 0;  // holders told their access ends soon
  int refused = 0;       // no longer due when decided (another pass or instance did it)
  int failed = 0;        // store errors; tried again next pass
};

class Scheduler {
 public:
  // `identity` may be null: then every assignee is taken to be on UTC.
  Scheduler(TaskService& service, Identity* identity, const Clock& clock,
            SchedulerOptions options = {});
  ~Scheduler();

  void start();
  void stop();
  // One pass, now; returns once every command it submitted is committed.
  SchedulerPass run_once();

 private:
  void loop();
  void run_access(SchedulerPass& pass);

  TaskService& service_;
  Identity* identity_;
  const Clock& clock_;
  SchedulerOptions options_;
  std::mutex mu_;
  std::mutex pass_mu_;  // one pass at a time
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tollgate
