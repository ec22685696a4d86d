// The workflow engine: opens tasks and decides commands on them.
//
// Pure: no sockets, no SQL, no Slack. Time comes from the injected Clock. An
// Engine is immutable after construction and safe to share between threads;
// it holds the directory it was built with, so a configuration reload builds a
// new Engine while running tasks keep the policy frozen into them.
//
// Every command returns either a Decision (the new task, its events and the
// effects to deliver) or a Status that names why nothing changed:
//   not_found          unknown person, app or resource
//   invalid_argument   malformed input (empty justification, unknown action)
//   permission_denied  the actor is not an assignee of the open step
//   rule_refused       a policy rule: reason required, self-review, reassignment not allowed, ...
//   conflict           the task's state does not allow it: "#42 was already approved by Dana
//                      Reyes at 2026-11-26 10:42 UTC"
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "workflow/delegation.h"
#include "workflow/directory.h"
#include "base/status.h"
#include "workflow/task.h"

namespace tollgate {

// What the access ledger says about a request or a revocation, read by the
// caller (TaskService) from the store just before: the engine reads nothing.
struct AccessFacts {
  std::optional<Holding> held;   // the subject's row for the resource, if any
  TaskNumber open_task = 0;      // an open task of the same kind for the same access
  // Rows of the resource for the subject and their teammates (the people
  // reporting to the subject's manager): the insights' peer facts.
  std::vector<Holding> holders;
};

struct RequestInput {
  PersonId requester;
  PersonId subject;  // empty: the requester
  std::string app;
  std::string resource;
  std::string justification;
  std::optional<Duration> duration;  // empty: the resource's max_duration, if any
  bool emergency = false;
  // Held without end: refused, saying since when. Held with an end: an
  // extension request. Another open request for it: refused, naming it.
  AccessFacts facts;
};

struct RevocationInput {
  PersonId proposer;
  PersonId subject;
  std::string app;
  std::string resource;
  std::string reason;
  // Access not held, or already being removed: refused, saying so.
  AccessFacts facts;
};

struct Command {
  Action action = Action::approve;
  PersonId actor;
  std::string comment;  // the reason, or the comment text for Action::comment
  PersonId to;          // Action::reassign: the new assignee
  // The step the actor saw when they clicked (from the button); lets a late
  // click on a step that has moved on get "already approved by ..." rather
  // than being applied to the next step. Empty: the open step.
  std::optional<int> step;
  // Comments: where one was written ("command", "api", "bulk", "slack"), and,
  // for a Slack thread reply, its channel and ts (how edits and deletions of
  // the reply find the comment again). For a button, the message clicked on.
  // Either way the events of the command record them. "web": the task page
  // (web/), whose events say "via": "web link".
  std::string source;
  std::string slack_channel;
  std::string slack_ts;
  // Action::approve of a grant: approve for less than the request's
  // duration (never more); the task's duration becomes this.
  std::optional<Duration> duration;
  // The connector actions: the attempt they answer (ConnectorRun::attempt);
  // an answer to an attempt that is not the one under way is refused. 0: any.
  int attempt = 0;
};

// The end of access held: why ("expired", or "done" when the holder ends it
// early), who ended it and the ledger's row as read.
struct AccessEnd {
  Holding holding;
  std::string why;
  PersonId actor;
};

// A change of the ledger outside any task decision, with its effects
// (Store::write_access).
struct AccessWrite {
  std::vector<AccessChange> changes;
  std::vector<Effect> effects;
  std::string summary;  // one line for the actor
};

struct BulkResult {
  TaskNumber task = 0;
  StatusOr<Decision> outcome;
};
// The most tasks one bulk command may name (/tasks, the App Home, the bulk
// modal); a longer list is refused whole, before anything is decided: the one
// check is check_bulk_length (invalid_argument beyond the limit).
inline constexpr std::size_t kMaxBulkTasks = 100;
Status check_bulk_length(std::size_t n);

// The execution plan: every step, its state and people, for one viewer.
struct PlanStep {
  int index = 0;
  std::string label;  // "Manager", "App owners", "Provisioning"
  StepKind kind = StepKind::review;
  StepState state = StepState::upcoming;
  std::vector<PersonId> people;  // assignees, or who would be assigned if it opened now
  bool by_fallback = false;
  std::optional<Action> outcome;
  PersonId decided_by;
  std::optional<Time> decided_at;
  std::string comment;
  bool viewer_involved = false;  // the viewer is (or was, or will be) one of `people`
};

struct Plan {
  std::string policy_name;
  std::vector<PlanStep> steps;
  int current = -1;  // index of the open step, -1 when closed
  // "Step 2 of 3 · Manager then app owner", or "Closed · Manager then app owner".
  std::string headline;
};

class Engine {
 public:
  // `delegations` may be null: then nobody is out of office.
  Engine(std::shared_ptr<const Directory> directory, const Clock& clock,
         std::shared_ptr<const DelegationBook> delegations = nullptr);

  const Directory& directory() const { return *directory_; }
  const Clock& clock() const { return clock_; }

  // Opens a grant task numbered `number` under the resource's request policy
  // (or its emergency policy).
  StatusOr<Decision> open_request(const RequestInput& in, TaskNumber number) const;
  // Opens a revoke task under the resource's revocation policy.
  StatusOr<Decision> propose_revocation(const RevocationInput& in, TaskNumber number) const;
  // The end of a time-bound grant, or "I'm done". For an app that removes
  // access by itself: the row removed (guarded on its end, so that it ends
  // once) and the holder told. For a manual app (ends_by_hand), open_access_end
  // opens the deprovisioning task instead; end_access refuses it (internal).
  StatusOr<AccessWrite> end_access(const AccessEnd& end) const;
  // Opens task `number` for the app's deprovisioners, marked with end.why,
  // and marks the row ending (guarded on its end).
  StatusOr<Decision> open_access_end(const AccessEnd& end, TaskNumber number) const;
  // The "ends soon" DM with Extend… and I'm done, marked warned once.
  AccessWrite warn_access(const Holding& holding) const;
  // Whether ending `holding` takes a deprovisioning task: a manual app, one
  // whose deprovisioning connector removes it, or an app gone.
  bool ends_by_hand(const Holding& holding) const;

  // Decides one command on `task` (the task as last committed).
  StatusOr<Decision> act(const Task& task, const Command& cmd) const;
  // The same command on many tasks, with one comment; a result per task, in order.
  std::vector<BulkResult> act_many(const std::vector<Task>& tasks, const Command& cmd) const;

  Plan plan(const Task& task, const PersonId& viewer) const;

  // The people a step would be assigned to if it opened now, and whether they
  // came from the fallback. Empty when nobody can take it. Delegations in
  // force are applied (when the step allows them); `delegated_for`, when
  // given, receives delegate -> the person they stand in for.
  std::vector<PersonId> resolve(const Task& task, const TaskStep& step, bool* by_fallback,
                                std::map<PersonId, PersonId>* delegated_for = nullptr) const;
  // Who takes a step of `task` in place of `person` now: their delegate when
  // one is in force and allowed at `step`, else `person`.
  PersonId stand_in(const Task& task, const TaskStep& step, const PersonId& person) const;
  // The people a stale step would be escalated to now (delegations applied).
  std::vector<PersonId> escalation_targets(
      const Task& task, const TaskStep& step,
      std::map<PersonId, PersonId>* delegated_for = nullptr) const;

 private:
  std::shared_ptr<const Directory> directory_;
  const Clock& clock_;
  std::shared_ptr<const DelegationBook> delegations_;
};

// Need to know: whether `person` may see `task` at all (read it, comment on it,
// act on it): an admin, its requester or subject, or someone who holds, held
// or decided one of its steps, or is stood in for at one. People whose step
// has not opened yet are not involved until it opens. Everyone else is told
// task_not_shown(), the line a task that does not exist gets too, so that a
// refusal reveals neither the task's existence, its state nor its people.
bool involved(const Directory& dir, const Task& task, const PersonId& person);
// "#42 is not one of your tasks" (not_found).
Status task_not_shown(TaskNumber number);
// Whether `person` may reassign the open step of `task`: an admin, or an
// assignee of a step that allows reassignment. Messages and the App Home offer
// "Reassign…" only then.
bool can_reassign(const Directory& dir, const Task& task, const PersonId& person);

// "Manager", "App owners", "Security (group)", "Provisioning".
std::string step_label(const Directory& dir, const TaskStep& step);
// "approved", "denied", "marked provisioned", ...
std::string outcome_verb(Action a);
// Who decided a done step: "Dana Reyes", or the connector ("SCIM (Okta)").
std::string decider_name(const Directory& dir, const TaskStep& s);
// The facts shown to reviewers; computed when a task opens. `holders`: the
// ledger's rows for the task's app and resource.
std::vector<Insight> compute_insights(const Directory& dir, const Task& task, Time now,
                                      const std::vector<Holding>& holders);
// "Ana Silva's access to AWS / staging": for refusals and notices.
std::string access_text(const Directory& dir, const Holding& h);

}  // namespace tollgate
