#include "app/scheduler.h"

#include <future>

#include <spdlog/spdlog.h>

#include "app/identity.h"
#include "app/task_service.h"
#include "workflow/sla.h"

namespace tollgate {

Scheduler::Scheduler(TaskService& service, Identity* identity, const Clock& clock,
                     SchedulerOptions options)
    : service_(service), identity_(identity), clock_(clock), options_(options) {}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    SchedulerPass p = run_once();
    if (p.reminded + p.escalated + p.expired + p.failed > 0) {
      spdlog::info(
          "scheduler: {} open task(s); {} reminded, {} escalated, {} expired, {} held back by "
          "quiet hours, {} failed",
          p.tasks_seen, p.reminded, p.escalated, p.expired, p.quiet, p.failed);
    }
    lock.lock();
    cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

namespace {

// A command submitted by a pass, and its outcome to come.
struct Submitted {
  Action action;
  std::future<StatusOr<Decision>> result;
};

// Whether a reminder due to `person` now is held back: their time zone is not
// known yet (`identity` null: UTC), or it is quiet hours where they are.
// Counted in `pass`.
bool held_back(Identity* identity, const Task& task, const PersonId& person, Time now,
               SchedulerPass& pass) {
  Identity::Zone zone{"UTC", std::chrono::seconds(0)};
  if (identity != nullptr) {
    bool pending = false;
    auto z = identity->zone_of(person, &pending);
    if (!z) {
      ++pass.waiting_zone;
      return true;
    }
    zone = *z;
  }
  if (quiet_hours(now, zone.offset, task.current()->rule.sla.remind_on_weekends)) {
    ++pass.quiet;
    return true;
  }
  return false;
}

// Submits to `service` what is due on `task` now (sla_due), but the reminders held back.
void submit_due(TaskService& service, Identity* identity, const Task& task, Time now,
                SchedulerPass& pass, std::vector<Submitted>& submitted) {
  for (const SlaDue& due : sla_due(task, now)) {
    if (due.action == Action::remind && held_back(identity, task, due.person, now, pass)) continue;
    Command cmd;
    cmd.action = due.action;
    cmd.actor = std::string(kSystemActor);
    cmd.to = due.person;
    cmd.step = due.step;
    auto promise = std::make_shared<std::promise<StatusOr<Decision>>>();
    submitted.push_back({due.action, promise->get_future()});
    service.act(task.number, std::move(cmd),
                [promise](StatusOr<Decision> d) { promise->set_value(std::move(d)); });
  }
}

// Waits for each command submitted and counts how it went.
void tally(std::vector<Submitted>& submitted, SchedulerPass& pass) {
  for (Submitted& s : submitted) {
    StatusOr<Decision> d = s.result.get();
    if (d.ok()) {
      (s.action == Action::remind     ? pass.reminded
       : s.action == Action::escalate ? pass.escalated
                                      : pass.expired)++;
    } else if (d.status().code() == Code::conflict) {
      ++pass.refused;
    } else {
      ++pass.failed;
      spdlog::warn("scheduler: {} failed: {}", action_name(s.action), d.status().to_string());
    }
  }
}

}  // namespace

SchedulerPass Scheduler::run_once() {
  std::lock_guard pass_lock(pass_mu_);
  SchedulerPass pass;
  // Another instance may have changed who is away.
  if (Status s = service_.load_delegations(); !s.ok()) {
    spdlog::warn("scheduler: cannot read delegations: {}", s.to_string());
  }
  std::vector<Submitted> submitted;
  Store& store = service_.store();
  TaskFilter filter;
  filter.open = true;
  filter.limit = 1000;
  for (;;) {
    auto page = store.tasks(filter);
    if (!page.ok()) {
      spdlog::warn("scheduler: cannot read open tasks: {}", page.status().to_string());
      ++pass.failed;
      break;
    }
    Time now = clock_.now();
    for (const Task& t : *page) {
      ++pass.tasks_seen;
      submit_due(service_, identity_, t, now, pass, submitted);
    }
    if (static_cast<int>(page->size()) < filter.limit) break;
    filter.after = page->back().number;
  }
  tally(submitted, pass);
  return pass;
}

}  // namespace tollgate
