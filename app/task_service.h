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

  // Requests and revocations are checked against the access ledger first
  // (RequestInput::facts, read here from the store; whatever the caller put
  // there is replaced), and the store refuses a second open task of the same
  // kind for the same access in the transaction that would open it.
  void request(RequestInput in, Done done, std::string dedupe_key = {});
  void revoke(RevocationInput in, Done done, std::string dedupe_key = {});

  // --- The access ledger.
  // What the ledger says about `subject`'s access to app/resource, and their
  // open task of `kind` for it.
  StatusOr<AccessFacts> access_facts(const PersonId& subject, const std::string& app,
                                     const std::string& resource, TaskKind kind);
  // Ends access `holder` holds on app/resource: "done" (by the holder, or an
  // admin for them) or "expired" (by kSystemActor, once its end has passed).
  // An app that removes access by itself: the row goes; a manual app: a
  // deprovisioning task opens. Either way at most once (the change is guarded
  // on the end that was read). `done` gets the line for the actor.
  using AccessDone = std::function<void(StatusOr<std::string>)>;
  void end_access(AccessEnd end, AccessDone done);
  // Reads the row, checks who may end it (the holder or an admin), then end_access.
  void end_access_of(const PersonId& holder, const std::string& app, const std::string& resource,
                     const PersonId& actor, AccessDone done);
  // Tells the holder their access ends soon, once (guarded).
  void warn_access(const Holding& holding, Store::Done done);
  // Brings the ledger's rows from the configuration in line with `dir.grants`:
  // new ones seeded (unless the person holds the access already), those no
  // longer in the configuration removed. At every start (the process reads
  // its configuration once). Idempotent, so instances may start together.
  Status seed_access(const Directory& dir, Time now);
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
  // Writes an AccessWrite, then runs the commit hook as a decision about the holder would.
  void write_access(AccessWrite w, const PersonId& holder, AccessDone done);

  Store& store_;
  mutable std::mutex mu_;
  std::shared_ptr<const Engine> engine_;
  std::function<void(const Decision&)> on_commit_;
  std::shared_ptr<DelegationBook> delegations_;
};

}  // namespace tollgate
