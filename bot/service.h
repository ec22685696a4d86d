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
#include <string>
#include <vector>

#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {

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
  void act(TaskNumber task, Command cmd, Done done, std::string dedupe_key = {});
  // The same command (one comment) on many tasks; each task is decided and
  // committed on its own, so one refusal does not stop the others. `done`
  // gets one result per task, in the order given.
  void act_many(std::vector<TaskNumber> tasks, Command cmd,
                std::function<void(std::vector<BulkResult>)> done);

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
