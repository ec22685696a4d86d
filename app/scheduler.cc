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
    if (p.reminded + p.escalated + p.expired + p.access_ended + p.access_warned + p.failed > 0) {
      spdlog::info(
          "scheduler: {} open task(s); {} reminded, {} escalated, {} expired, {} held back by "
          "quiet hours; {} grant(s) ended, {} warned of their end; {} failed",
          p.tasks_seen, p.reminded, p.escalated, p.expired, p.quiet, p.access_ended,
          p.access_warned, p.failed);
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
       : s.action == Action::expire   ? pass.expired
                                      : pass.unconfirmed)++;
    } else if (d.status().code() == Code::conflict) {
      ++pass.refused;
    } else {
      ++pass.failed;
      spdlog::warn("scheduler: {} failed: {}", action_name(s.action), d.status().to_string());
    }
  }
}

// The time zone of `person` (UTC without an identity); empty while unknown.
std::optional<Identity::Zone> zone_of(Identity* identity, const PersonId& person) {
  if (identity == nullptr) return Identity::Zone{"UTC", std::chrono::seconds(0)};
  bool pending = false;
  return identity->zone_of(person, &pending);
}

// The longest notify_before of any resource: how far ahead a pass looks.
Duration longest_notice(const Directory& dir) {
  Duration longest{0};
  for (const App& a : dir.apps) {
    for (const Resource& r : a.resources) longest = std::max(longest, r.notify_before);
  }
  return longest;
}

// Whether the "ends soon" DM for `h` is due now: inside its resource's
// notify_before (and past half of the grant), and inside the holder's
// working hours, unless the end is less than 12 hours away (a night's quiet
// hours would leave no warning at all).
bool warning_due(Identity* identity, const Directory& dir, const Holding& h, Time now,
                 SchedulerPass& pass) {
  if (h.warned_at || h.ending_task != 0 || !h.expires_at) return false;
  const Resource* res = dir.resource(h.app, h.resource);
  Duration before = res != nullptr ? res->notify_before : std::chrono::hours(24);
  // Never before half the grant has run: an 8 h grant is not "ending soon"
  // the moment it is given, whatever the 24 h notice.
  Time due = std::max(*h.expires_at - before, h.since + (*h.expires_at - h.since) / 2);
  if (due > now) return false;
  if (*h.expires_at - now < std::chrono::hours(12)) return true;
  auto zone = zone_of(identity, h.person);
  if (!zone) {
    ++pass.waiting_zone;
    return false;
  }
  if (quiet_hours(now, zone->offset, false)) {
    ++pass.quiet;
    return false;
  }
  return true;
}

// Counts the outcome of one access write of a pass.
void count(Status s, int& done, SchedulerPass& pass, const char* what) {
  if (s.ok()) {
    ++done;
  } else if (s.code() == Code::conflict) {
    ++pass.refused;  // another pass or instance did it first
  } else {
    ++pass.failed;
    spdlog::warn("scheduler: {} failed: {}", what, s.to_string());
  }
}

}  // namespace

// Time-bound grants: those whose end has passed are ended (removed, or a
// deprovisioning task opened), those ending soon are warned of; each once,
// whatever the passes and instances, by the guards on their end.
void Scheduler::run_access(SchedulerPass& pass) {
  auto engine = service_.engine();
  Time now = clock_.now();
  Store& store = service_.store();
  // Two reads, soonest end first, of rows no deprovisioning task holds: those
  // ended, and those not warned yet whose end is within the longest notice.
  // What a pass cannot take (more than kPerPass) is taken by the next.
  constexpr int kPerPass = 5000;
  auto ended = store.holdings(
      {.expiring_before = now + Duration(1), .not_ending = true, .soonest_first = true,
       .limit = kPerPass});
  auto warn = store.holdings({.expiring_before = now + longest_notice(engine->directory()),
                              .not_ending = true,
                              .not_warned = true,
                              .soonest_first = true,
                              .limit = kPerPass});
  if (!ended.ok() || !warn.ok()) {
    spdlog::warn("scheduler: cannot read the access ledger: {}",
                 (ended.ok() ? warn.status() : ended.status()).to_string());
    ++pass.failed;
    return;
  }
  std::vector<std::pair<bool, std::future<Status>>> submitted;  // (an end?, its outcome)
  for (const Holding& h : *ended) {
    auto promise = std::make_shared<std::promise<Status>>();
    submitted.emplace_back(true, promise->get_future());
    service_.end_access({h, "expired", PersonId(kSystemActor)},
                        [promise](StatusOr<std::string> s) { promise->set_value(s.status()); });
  }
  for (const Holding& h : *warn) {
    if (*h.expires_at <= now || !warning_due(identity_, engine->directory(), h, now, pass)) continue;
    auto promise = std::make_shared<std::promise<Status>>();
    submitted.emplace_back(false, promise->get_future());
    service_.warn_access(h, [promise](Status s) { promise->set_value(std::move(s)); });
  }
  for (auto& [is_end, result] : submitted) {
    count(result.get(), is_end ? pass.access_ended : pass.access_warned, pass,
          is_end ? "access_ended" : "access_warned");
  }
}

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
  run_access(pass);
  return pass;
}

}  // namespace tollgate
