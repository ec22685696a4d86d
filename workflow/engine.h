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

struct RequestInput {
  PersonId requester;
  PersonId subject;  // empty: the requester
  std::string app;
  std::string resource;
  std::string justification;
  std::optional<Duration> duration;  // empty: the resource's max_duration, if any
  bool emergency = false;
};

struct RevocationInput {
  PersonId proposer;
  PersonId subject;
  std::string app;
  std::string resource;
  std::string reason;
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
  // Either way the events of the command record them.
  std::string source;
  std::string slack_channel;
  std::string slack_ts;
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
// The facts shown to reviewers; computed when a task opens.
std::vector<Insight> compute_insights(const Directory& dir, const Task& task, Time now);

}  // namespace tollgate
