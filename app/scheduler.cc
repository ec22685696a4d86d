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

SchedulerPass Scheduler::run_once() {
  std::lock_guard pass_lock(pass_mu_);
  SchedulerPass pass;
  // Another instance may have changed who is away.
  if (Status s = service_.load_delegations(); !s.ok()) {
    spdlog::warn("scheduler: cannot read delegations: {}", s.to_string());
  }
  struct Submitted {
    Action action;
    std::future<StatusOr<Decision>> result;
  };
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
      for (const SlaDue& due : sla_due(t, now)) {
        if (due.action == Action::remind) {
          Identity::Zone zone{"UTC", std::chrono::seconds(0)};
          if (identity_ != nullptr) {
            bool pending = false;
            auto z = identity_->zone_of(due.person, &pending);
            if (!z) {
              ++pass.waiting_zone;
              continue;
            }
            zone = *z;
          }
          if (quiet_hours(now, zone.offset, t.current()->rule.sla.remind_on_weekends)) {
            ++pass.quiet;
            continue;
          }
        }
        Command cmd;
        cmd.action = due.action;
        cmd.actor = std::string(kSystemActor);
        cmd.to = due.person;
        cmd.step = due.step;
        auto promise = std::make_shared<std::promise<StatusOr<Decision>>>();
        submitted.push_back({due.action, promise->get_future()});
        service_.act(t.number, std::move(cmd),
                     [promise](StatusOr<Decision> d) { promise->set_value(std::move(d)); });
      }
    }
    if (static_cast<int>(page->size()) < filter.limit) break;
    filter.after = page->back().number;
  }
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
  return pass;
}

}  // namespace tollgate
