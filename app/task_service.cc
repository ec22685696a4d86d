#include "app/task_service.h"

#include <atomic>
#include <set>

namespace tollgate {

TaskService::TaskService(Store& store, std::shared_ptr<const Engine> engine,
                         std::shared_ptr<DelegationBook> delegations)
    : store_(store), engine_(std::move(engine)), delegations_(std::move(delegations)) {}

void TaskService::set_engine(std::shared_ptr<const Engine> engine) {
  std::lock_guard lock(mu_);
  engine_ = std::move(engine);
}

void TaskService::set_on_commit(std::function<void(const Decision&)> hook) {
  std::lock_guard lock(mu_);
  on_commit_ = std::move(hook);
}

TaskService::Done TaskService::with_hook(Done done) {
  std::function<void(const Decision&)> hook;
  {
    std::lock_guard lock(mu_);
    hook = on_commit_;
  }
  if (!hook) return done;
  return [hook = std::move(hook), done = std::move(done)](StatusOr<Decision> d) {
    if (d.ok()) hook(*d);  // before `done` takes the decision
    done(std::move(d));
  };
}

std::shared_ptr<const Engine> TaskService::engine() const {
  std::lock_guard lock(mu_);
  return engine_;
}

void TaskService::request(RequestInput in, Done done, std::string key) {
  store_.create([engine = engine(), in = std::move(in)](
                    const Task*, TaskNumber n) { return engine->open_request(in, n); },
                with_hook(std::move(done)), std::move(key));
}

void TaskService::revoke(RevocationInput in, Done done, std::string key) {
  store_.create([engine = engine(), in = std::move(in)](
                    const Task*, TaskNumber n) { return engine->propose_revocation(in, n); },
                with_hook(std::move(done)), std::move(key));
}

void TaskService::act(TaskNumber task, Command cmd, Done done, std::string key) {
  // Whether the store found the task: its own not_found (no such task) is
  // answered with the line a hidden task gets, so the two cannot be told apart.
  auto found = std::make_shared<std::atomic<bool>>(false);
  store_.update(
      task,
      [engine = engine(), cmd = std::move(cmd), found](const Task* current,
                                                       TaskNumber n) -> StatusOr<Decision> {
        found->store(true);
        if (cmd.actor != kSystemActor && !involved(engine->directory(), *current, cmd.actor))
          return task_not_shown(n);
        return engine->act(*current, cmd);
      },
      [task, found, done = with_hook(std::move(done))](StatusOr<Decision> d) {
        if (d.code() == Code::not_found && !found->load()) return done(task_not_shown(task));
        done(std::move(d));
      },
      std::move(key));
}

std::optional<int> TaskService::open_step_now(TaskNumber task) {
  auto t = store_.task(task);
  if (!t.ok() || t->closed()) return std::nullopt;
  return t->current_step();
}

Status TaskService::act_many(std::vector<BulkTarget> targets, Command cmd,
                             std::function<void(std::vector<BulkResult>)> done) {
  struct Gather {
    std::mutex mu;
    std::vector<BulkResult> results;
    std::size_t left = 0;
    std::function<void(std::vector<BulkResult>)> done;
  };
  if (Status s = check_bulk_length(targets.size()); !s.ok()) return s;
  auto g = std::make_shared<Gather>();
  g->done = std::move(done);
  // Repeats are refused here, each by name; the first of each number goes on.
  std::set<TaskNumber> seen;
  std::vector<std::size_t> go;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    TaskNumber n = targets[i].task;
    if (seen.insert(n).second) {
      g->results.push_back({n, Status(Code::internal, "not decided")});
      go.push_back(i);
    } else {
      g->results.push_back(
          {n, invalid_argument("#" + std::to_string(n) + " is listed more than once")});
    }
  }
  g->left = go.size();
  if (go.empty()) {
    g->done(std::move(g->results));
    return {};
  }
  for (std::size_t i : go) {
    Command one = cmd;
    one.step = targets[i].step ? targets[i].step : open_step_now(targets[i].task);
    act(targets[i].task, std::move(one), [g, i](StatusOr<Decision> r) {
      bool last = false;
      {
        std::lock_guard lock(g->mu);
        g->results[i].outcome = std::move(r);
        last = --g->left == 0;
      }
      if (last) g->done(std::move(g->results));
    });
  }
  return {};
}

void TaskService::delegate(Delegation d, Store::Done done) {
  auto eng = engine();
  const Directory& dir = eng->directory();
  Time now = eng->clock().now();
  auto refuse = [&](Status s) { done(std::move(s)); };
  if (delegations_ == nullptr) return refuse(unavailable("delegation is not enabled"));
  if (dir.person(d.person) == nullptr)
    return refuse(not_found("unknown person \"" + d.person + "\""));
  if (dir.person(d.delegate) == nullptr)
    return refuse(not_found("unknown person \"" + d.delegate + "\""));
  if (d.person != d.set_by && !dir.is_admin(d.set_by)) {
    return refuse(permission_denied("only " + dir.display_name(d.person) +
                                    " or an admin can set their delegate"));
  }
  if (d.delegate == d.person) return refuse(invalid_argument("a delegate must be someone else"));
  if (d.until <= now) return refuse(invalid_argument("the end of the delegation is in the past"));
  if (d.until > now + std::chrono::days(366)) {
    return refuse(invalid_argument("a delegation lasts at most a year"));
  }
  // One hop only: a delegate who is away themself would pass nothing on.
  if (delegations_->active(d.delegate, now)) {
    return refuse(rule_refused(dir.display_name(d.delegate) +
                               " is out of office themself; choose someone else"));
  }
  d.set_at = now;
  store_.set_delegation(d, [book = delegations_, d, done = std::move(done)](Status s) {
    if (s.ok()) book->set(d);
    done(std::move(s));
  });
}

void TaskService::end_delegation(PersonId person, PersonId by, Store::Done done) {
  auto eng = engine();
  const Directory& dir = eng->directory();
  if (delegations_ == nullptr) return done(unavailable("delegation is not enabled"));
  if (person != by && !dir.is_admin(by)) {
    return done(permission_denied("only " + dir.display_name(person) +
                                  " or an admin can end their delegation"));
  }
  store_.clear_delegation(person, by, eng->clock().now(),
                          [book = delegations_, person, done = std::move(done)](Status s) {
                            if (s.ok()) book->clear(person);
                            done(std::move(s));
                          });
}

Status TaskService::load_delegations() {
  if (delegations_ == nullptr) return {};
  auto all = store_.delegations();
  if (!all.ok()) return all.status();
  delegations_->replace(std::move(*all));
  return {};
}

std::vector<Delegation> TaskService::delegations() const {
  return delegations_ == nullptr ? std::vector<Delegation>{} : delegations_->all();
}

}  // namespace tollgate
