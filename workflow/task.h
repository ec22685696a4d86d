// The task: one access change (a grant request or a revocation proposal), its
// steps, comments and history, and what the engine returns when it decides.
// Plain values: copyable, no behaviour beyond small queries.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "workflow/directory.h"

namespace tollgate {

using TaskNumber = std::int64_t;

enum class TaskKind { grant, revoke };

enum class TaskState {
  reviewing,       // a review step is open
  provisioning,    // approved; waiting for someone to add the access by hand
  deprovisioning,  // confirmed; waiting for someone to remove the access by hand
  // Closed states:
  granted,            // approved, and the app provisions automatically
  provisioned,        // added by hand
  not_provisioned,    // "Won't provision"
  denied,             // denied at a review step (for a revocation: access kept)
  revoked,            // confirmed, and the app deprovisions automatically
  deprovisioned,      // removed by hand
  not_deprovisioned,  // "Won't deprovision"
  cancelled,          // withdrawn by the requester or an admin
};

bool is_closed(TaskState s);
std::string_view state_name(TaskState s);
std::optional<TaskState> parse_state(std::string_view name);
std::string_view kind_name(TaskKind k);
std::optional<TaskKind> parse_kind(std::string_view name);

enum class StepKind { review, provision, deprovision };
enum class StepState { upcoming, current, done, skipped };
std::string_view step_kind_name(StepKind k);
std::string_view step_state_name(StepState s);

// A provisioning or deprovisioning step made by a connector (the app's
// webhook or scim mode, frozen when the task opened). While the system is
// called (or a 202's confirmation awaited) nobody is assigned; when it fails
// for good the step is assigned to its provisioners, who may Retry.
struct ConnectorRun {
  enum class Phase { calling, accepted, failed };
  ProvisioningMode mode = ProvisioningMode::webhook;
  std::string label;  // "SCIM (Okta)", as people are shown it
  Phase phase = Phase::calling;
  int attempt = 1;              // each Retry starts the next
  std::string answer;           // what the system last answered
  std::optional<Time> answered_at;
  // accepted (a webhook's 202): its confirmation is due by then, else the
  // scheduler fails the step to people (sla_due, Action::connector_failed).
  std::optional<Time> confirm_by;
  // "tollgate-42-3-1": names one attempt for the system (the webhook-id, the
  // event's id), stable across the automatic retries of that attempt.
  std::string idempotency_id(TaskNumber task, std::size_t step) const {
    return "tollgate-" + std::to_string(task) + "-" + std::to_string(step) + "-" +
           std::to_string(attempt);
  }
};
std::string_view connector_phase_name(ConnectorRun::Phase p);  // "calling"
std::optional<ConnectorRun::Phase> parse_connector_phase(std::string_view name);

struct TaskStep {
  StepKind kind = StepKind::review;
  // The rules of the step, frozen from the policy (or the app's fulfilment
  // settings) when the task was opened: later configuration changes do not
  // alter a running task.
  PolicyStep rule;
  StepState state = StepState::upcoming;
  std::vector<PersonId> assignees;  // resolved when the step opens
  // Who held the step before a reassignment or an escalation took it from
  // them: still involved in the task (need to know), no longer able to decide.
  std::vector<PersonId> former_assignees;
  bool by_fallback = false;         // assignees came from the fallback (or the admins)
  std::optional<Time> opened_at;
  // Set once the step is done.
  std::optional<Action> outcome;
  PersonId decided_by;
  std::optional<Time> decided_at;
  std::string comment;
  // Delegation: assignee -> the person they stand in for (out of office).
  std::map<PersonId, PersonId> delegated_for;
  // Service levels (rule.sla): when each assignee was last reminded, or
  // assigned (a reminder is due remind_after later); and whether the step was
  // escalated already (once per step).
  std::map<PersonId, Time> nudged_at;
  bool escalated = false;
  std::optional<ConnectorRun> connector;  // a connector makes this step's change
};

struct Comment {
  std::int64_t id = 0;  // 1, 2, ... within the task
  PersonId author;      // a person id, or "slack:U123" for a Slack user outside the directory
  std::string text;
  Time at{};
  // Where it was written: "slack" (a thread reply), "api", "command", "bulk",
  // "reason" (a decision's comment), "reassign".
  std::string source;
  std::string slack_channel;  // for "slack": the reply's channel and ts (edits, deletes)
  std::string slack_ts;
  std::optional<Time> edited_at;
  bool deleted = false;
};

// --- The access ledger: who holds what, until when (storage/store.h keeps it).

// How access came to be held.
enum class GrantSource { configuration, request, emergency, extension };
std::string_view grant_source_name(GrantSource s);  // "configuration", ...
std::optional<GrantSource> parse_grant_source(std::string_view name);

// One access held: one row of the ledger, keyed by person, app and resource.
struct Holding {
  PersonId person;
  std::string app;
  std::string resource;
  Time since{};
  std::optional<Time> expires_at;  // empty: held without end
  TaskNumber task = 0;             // the task that granted (or last extended) it; 0: configuration
  GrantSource how = GrantSource::request;
  std::optional<Time> last_used;
  std::optional<Time> warned_at;  // when the holder was told it ends soon
  // The deprovisioning task opened at its end (or on "I'm done"), once opened.
  TaskNumber ending_task = 0;
  // The connector that made the change in the app ("SCIM (Okta)"); empty
  // when people did, or the app reads its access from Tollgate.
  std::string via;

  bool same_access(const Holding& o) const {
    return person == o.person && app == o.app && resource == o.resource;
  }
};

// One change of the ledger, written in the transaction of the decision (or
// Store::write_access) that carries it. The store appends an event for every
// change it applies ("access_<op>", the row's fields as data), so the ledger
// can be replayed from the log (storage/store.h, replay_access).
struct AccessChange {
  enum class Op {
    grant,   // insert, or move the end of a row held (its `since` is kept)
    // insert from the configuration, the first time this grant is seeded and
    // unless a row is held (no event otherwise): a grant of the file revoked
    // or ended through Tollgate is not brought back by the next start
    seed,
    // the configuration no longer lists it: delete its row (if still from the
    // configuration; no event when none) and forget it was seeded
    unseed,
    remove,  // delete the row
    warned,  // the holder was told it ends soon (warned_at = at)
    ending,  // its deprovisioning task was opened (ending_task = task)
    // its deprovisioning task `task` closed without removing it: no longer
    // ending; held without end when `without_end` (Won't deprovision: nobody
    // will remove it), else with its end as it was (cancelled: due again)
    kept,
  };
  Op op = Op::grant;
  Holding holding;  // the key, and for grant and seed the row
  PersonId actor;
  Time at{};
  TaskNumber task = 0;  // the task the event is filed under (0: none)
  std::string reason;   // "provisioned", "expired", "done", "revoked", "configuration", ...
  // Set: the change applies only while the row is held with exactly this end
  // (and, for warned and ending, not warned or ending yet); otherwise the
  // write is refused with Code::conflict and changes nothing. What makes an
  // expiry, a warning or "I'm done" happen once across passes and instances.
  bool guarded = false;
  std::optional<Time> expect_expires_at;
  bool without_end = false;  // kept: see Op::kept
  // What the connector that made the change answered (its event records it).
  std::string answer;
};
std::string_view access_op_name(AccessChange::Op op);  // "grant", ...

struct Insight {
  std::string kind;  // "peer_access", "last_used", "sensitive", ...
  std::string text;  // "4 of 5 people reporting to Dana Reyes have this access"
};

struct Task {
  TaskNumber number = 0;
  // Bumped by every committed change; the store's compare-and-swap key.
  std::int64_t version = 0;
  TaskKind kind = TaskKind::grant;
  TaskState state = TaskState::reviewing;
  PersonId requester;  // for a revocation, the proposer
  PersonId subject;    // whose account
  std::string app;
  std::string resource;
  std::string app_name;
  std::string resource_name;
  std::string justification;  // for a revocation, the reason
  // How long access lasts once granted: the request's duration within the
  // resource's max_duration, or less when a reviewer approved for less
  // (`duration_by` then names them).
  std::optional<Duration> duration;
  PersonId duration_by;
  // A grant request for access held with an end: approved, it moves the end
  // (no provisioning: the access is there already).
  bool extension = false;
  // For an extension: the end of the access it was filed against. Its
  // approval moves that end only while the access still has it (the grant is
  // guarded): access that ended meanwhile is not brought back without its
  // provisioning.
  std::optional<Time> extends;
  // A deprovisioning task Tollgate opened itself at the end of a time-bound
  // grant: "expired", or "done" (the holder ended it early). Empty otherwise.
  std::string ending;
  bool emergency = false;
  bool sensitive = false;
  std::string policy_id;
  std::string policy_name;
  std::string instructions;  // provisioning or deprovisioning instructions
  std::vector<TaskStep> steps;
  std::vector<Insight> insights;
  std::vector<Comment> comments;
  Time created_at{};
  Time updated_at{};
  PersonId closed_by;
  std::optional<Time> closed_at;

  // Index of the open step, or -1 when the task is closed.
  int current_step() const;
  const TaskStep* current() const;
  bool closed() const { return is_closed(state); }
  // The people who must act now.
  std::vector<PersonId> assignees() const;
};

// One entry of the task's history. The store chains them by hash.
struct Event {
  TaskNumber task = 0;
  std::string type;  // "task_opened", "approved", "reassigned", ...
  PersonId actor;
  Time at{};
  std::vector<std::pair<std::string, std::string>> data;

  const std::string* get(std::string_view key) const;
};

// Something to tell the world after a change is committed; the outbox holds it.
enum class EffectKind {
  assign,           // tell `recipient` the task's open step is theirs (a DM with buttons)
  update_messages,  // refresh every message already posted about the task
  notify,           // tell `recipient` (requester, subject) of an outcome
  post_comment,     // post comment `comment_id` into every thread of the task
  remind,           // nudge `recipient` in the thread of their message about the open step
  email,            // mail `recipient` (data "about": assign or notify, with that effect's data)
  // tell `recipient` of their own access (data "app", "resource", "expires_at"
  // in ms, and "event"): ending_soon (a DM with Extend… and I'm done),
  // expired or ended (removed: at its end, or by "I'm done"), ending (a
  // manual app's: "ending_task" asks its deprovisioners to remove it, "why"
  // expired or done)
  access_notice,
  // make the open step's change with its connector (data "step", "attempt");
  // what the system answers comes back as a connector action
  connector,
};
std::string_view effect_kind_name(EffectKind k);
std::optional<EffectKind> parse_effect_kind(std::string_view name);

struct Effect {
  EffectKind kind = EffectKind::assign;
  TaskNumber task = 0;
  PersonId recipient;
  std::vector<std::pair<std::string, std::string>> data;

  const std::string* get(std::string_view key) const;
};

// What the engine returns for an accepted command: the task as it is after
// the command, the events it appends and the effects to deliver once it is
// committed.
struct Decision {
  Task task;
  std::vector<Event> events;
  std::vector<Effect> effects;
  std::vector<Comment> new_comments;
  std::vector<Comment> changed_comments;  // edited or deleted
  std::string
      summary;  // one line for the actor: "Approved #42: now with Olga Ivanova (step 2 of 3)"
  std::vector<AccessChange> access;       // the ledger's changes, in the same transaction
  // A new task that must be the only open one of its kind for its subject,
  // app and resource: the store refuses it (Code::conflict) otherwise, in the
  // transaction that would open it. Set by the ways in (TaskService).
  bool one_open = false;
};

}  // namespace tollgate
