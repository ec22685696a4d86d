// TaskService: where the engine meets the store. Every way into Tollgate (a
// Slack click, a slash command, the admin API, the command line) opens and
// changes tasks through it, so that each command is decided against the
// latest committed task and committed in one transaction.
//
// Thread-safe. Completions run on the store's writer thread (see store.h):
// keep them short and hand longer work to your own executor.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {

// One task of a bulk command and the step it was meant for: the step of the
// App Home row the person ticked, carried through the bulk modal. Empty for
// /tasks, which names no step: the step open when the command arrives is taken
// (see TaskService::open_step_now).
struct BulkTarget {
  TaskNumber task = 0;
  std::optional<int> step;
};

class TaskService {
 public:
  using Done = Store::DecisionDone;

  // `store` must outlive the service. `delegations` is the book the engine
  // reads (may be null: then delegation is refused).
  TaskService(Store& store, std::shared_ptr<const Engine> engine,
              std::shared_ptr<DelegationBook> delegations = nullptr);

  // Replaces the engine (a configuration reload). Commands already queued keep
  // the engine they were submitted with.
  void set_engine(std::shared_ptr<const Engine> engine);
  // Called (on the store's writer thread) after each committed decision; the
  // outbox worker and the App Home publisher wake up with it. Must be quick.
  void set_on_commit(std::function<void(const Decision&)> hook);
  std::shared_ptr<const Engine> engine() const;
  Store& store() { return store_; }

  void request(RequestInput in, Done done, std::string dedupe_key = {});
  void revoke(RevocationInput in, Done done, std::string dedupe_key = {});
  // Every command on a task, from every way in (Slack, /tasks, the admin API,
  // the scheduler), comes through here. Need to know: a person not involved in
  // the task (engine.h, involved()) gets task_not_shown(), the very answer a
  // task that does not exist gets, whatever they asked, checked against the
  // task as last committed. Only Tollgate's own actor (kSystemActor) is exempt.
  void act(TaskNumber task, Command cmd, Done done, std::string dedupe_key = {});
  // The same command (one comment) on many tasks; each task is decided and
  // committed on its own, so one refusal does not stop the others. `done`
  // gets one result per entry, in the order given: a number listed again is
  // refused (invalid_argument, named) and not decided twice; one the actor may
  // not see gets task_not_shown(). A list longer than kMaxBulkTasks is refused
  // whole (the returned Status; `done` is then not called, nothing decided).
  // Each command carries its entry's step; an entry without one is pinned to
  // the step open now, so a command that arrives after that step moved on is
  // told "already approved by …" instead of acting on the next step.
  [[nodiscard]] Status act_many(std::vector<BulkTarget> targets, Command cmd,
                                std::function<void(std::vector<BulkResult>)> done);
  // The step of `task` open now, for a command that names none (/tasks): it
  // then acts on that step only. Empty when the task is closed, missing or
  // unreadable; the decision says why.
  std::optional<int> open_step_now(TaskNumber task);

  // Out of office: `person`'s new review steps go to `delegate` until `until`
  // (exclusive). Set by the person themself or an admin. Checked, written to
  // the store (with an event in the history), then in force.
  void delegate(Delegation d, Store::Done done);
  void end_delegation(PersonId person, PersonId by, Store::Done done);
  // Reloads the book from the store (at start, and now and then so that
  // another instance's changes are seen).
  Status load_delegations();
  std::vector<Delegation> delegations() const;

 private:
  Done with_hook(Done done);

  Store& store_;
  mutable std::mutex mu_;
  std::shared_ptr<const Engine> engine_;
  std::function<void(const Decision&)> on_commit_;
  std::shared_ptr<DelegationBook> delegations_;
};

}  // namespace tollgate
