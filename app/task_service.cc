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

// Opens a task through `open`, after reading what the ledger says about its
// access; the store then keeps it the only open one of its kind for it.
template <typename Input, typename Open>
void open_checked(TaskService& service, Store& store, Input in, const PersonId& subject,
                  TaskKind kind, Open open, TaskService::Done done, std::string key) {
  auto facts = service.access_facts(subject, in.app, in.resource, kind);
  if (!facts.ok()) return done(facts.status());
  in.facts = std::move(*facts);
  store.create(
      [open = std::move(open), in = std::move(in)](const Task*,
                                                   TaskNumber n) -> StatusOr<Decision> {
        ASSIGN_OR_RETURN(Decision d, open(in, n));
        d.one_open = true;
        return d;
      },
      std::move(done), std::move(key));
}

void TaskService::request(RequestInput in, Done done, std::string key) {
  PersonId subject = in.subject.empty() ? in.requester : in.subject;
  open_checked(
      *this, store_, std::move(in), subject, TaskKind::grant,
      [engine = engine()](const RequestInput& i, TaskNumber n) {
        return engine->open_request(i, n);
      },
      with_hook(std::move(done)), std::move(key));
}

void TaskService::revoke(RevocationInput in, Done done, std::string key) {
  PersonId subject = in.subject;
  open_checked(
      *this, store_, std::move(in), subject, TaskKind::revoke,
      [engine = engine()](const RevocationInput& i, TaskNumber n) {
        return engine->propose_revocation(i, n);
      },
      with_hook(std::move(done)), std::move(key));
}

StatusOr<AccessFacts> TaskService::access_facts(const PersonId& subject, const std::string& app,
                                                const std::string& resource, TaskKind kind) {
  AccessFacts f;
  // The subject's row and their teammates' (the insights' peer facts): only
  // those are read, however many hold the resource.
  const Directory& dir = engine()->directory();
  std::vector<PersonId> people{subject};
  if (const Person* p = dir.person(subject); p != nullptr && !p->manager.empty()) {
    for (const Person* r : dir.reports_of(p->manager)) {
      if (r->id != subject && people.size() < 1000) people.push_back(r->id);
    }
  }
  ASSIGN_OR_RETURN(
      f.holders,
      store_.holdings({.app = app, .resource = resource, .people = people, .limit = 1000}));
  for (const Holding& h : f.holders) {
    if (h.person == subject) f.held = h;
  }
  TaskFilter open{.involving = subject, .kind = kind, .open = true, .limit = 1000};
  ASSIGN_OR_RETURN(std::vector<Task> tasks, store_.tasks(open));
  for (const Task& t : tasks) {
    if (t.subject == subject && t.app == app && t.resource == resource) f.open_task = t.number;
  }
  return f;
}

void TaskService::write_access(AccessWrite w, const PersonId& holder, AccessDone done) {
  std::function<void(const Decision&)> hook;
  {
    std::lock_guard lock(mu_);
    hook = on_commit_;
  }
  auto after = std::make_shared<Decision>();
  after->task.subject = holder;
  after->effects = w.effects;
  store_.write_access(
      std::move(w.changes), std::move(w.effects),
      [hook, after, summary = std::move(w.summary), done = std::move(done)](Status s) {
        if (!s.ok()) return done(std::move(s));
        if (hook) hook(*after);
        done(summary);
      });
}

void TaskService::end_access(AccessEnd end, AccessDone done) {
  auto engine = this->engine();
  PersonId holder = end.holding.person;
  if (!engine->ends_by_hand(end.holding)) {
    auto w = engine->end_access(end);
    if (!w.ok()) return done(w.status());
    return write_access(std::move(*w), holder, std::move(done));
  }
  store_.create(
      [engine, end](const Task*, TaskNumber n) { return engine->open_access_end(end, n); },
      with_hook([done = std::move(done)](StatusOr<Decision> d) {
        if (!d.ok()) return done(d.status());
        done(d->summary);
      }));
}

void TaskService::end_access_of(const PersonId& holder, const std::string& app,
                                const std::string& resource, const PersonId& actor,
                                AccessDone done) {
  auto engine = this->engine();
  const Directory& dir = engine->directory();
  if (actor != holder && !dir.is_admin(actor))
    return done(permission_denied("only the holder or an admin can end this access"));
  auto rows = store_.holdings({.person = holder, .app = app, .resource = resource, .limit = 1});
  if (!rows.ok()) return done(rows.status());
  if (rows->empty()) {
    const App* a = dir.app(app);
    const Resource* r = dir.resource(app, resource);
    return done(Status{Code::not_found, dir.display_name(holder) + " does not hold " +
                                            (a ? a->name : app) + " / " +
                                            (r ? r->name : resource)});
  }
  const Holding& h = rows->front();
  if (h.ending_task != 0)
    return done(conflict("#" + std::to_string(h.ending_task) + " is already removing it"));
  end_access({h, "done", actor}, std::move(done));
}

void TaskService::warn_access(const Holding& holding, Store::Done done) {
  write_access(engine()->warn_access(holding), holding.person,
               [done = std::move(done)](StatusOr<std::string> s) { done(s.status()); });
}

Status TaskService::seed_access(const Directory& dir, Time now) {
  ASSIGN_OR_RETURN(std::vector<Holding> rows, store_.holdings({.limit = 100000}));
  std::vector<AccessChange> changes;
  auto change = [&](AccessChange::Op op, Holding h) {
    changes.push_back(
        {op, std::move(h), PersonId(kSystemActor), now, 0, "configuration", false, {}});
  };
  auto in_config = [&](const Holding& h) {
    for (const Grant& g : dir.grants) {
      if (g.person == h.person && g.app == h.app && g.resource == h.resource) return true;
    }
    return false;
  };
  for (const Holding& h : rows) {
    if (h.how == GrantSource::configuration && !in_config(h)) change(AccessChange::Op::unseed, h);
  }
  for (const Grant& g : dir.grants) {
    Holding h{g.person,
              g.app,
              g.resource,
              g.since.value_or(now),
              std::nullopt,
              0,
              GrantSource::configuration,
              g.last_used};
    bool held = false;
    for (const Holding& r : rows) held = held || r.same_access(h);
    if (!held) change(AccessChange::Op::seed, std::move(h));
  }
  if (changes.empty()) return {};
  return write_access_and_wait(store_, std::move(changes));
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
