// What Tollgate's buttons, menus and modals carry, and how it reads them back.
//
// A button's value is only an opaque reference "<task>:<step>": it grants
// nothing. The server re-checks the clicker, the task and its state on every
// click. Action ids name the action ("approve", "deny", ...); the "More
// actions" overflow's option values are "<action>:<task>:<step>".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workflow/task.h"

namespace tollgate::slack {

struct TaskRef {
  TaskNumber task = 0;
  int step = -1;  // -1: whatever step is open
};

std::string task_ref(TaskNumber task, int step);
std::optional<TaskRef> parse_task_ref(std::string_view value);
// Several references, "<task>:<step>,<task>:<step>,…": the tasks of a bulk
// action, each with the step the person saw (the App Home's ticked rows, the
// bulk modal's private_metadata). Empty when any entry is malformed or the
// list is empty; the caller bounds its length.
std::string task_refs(const std::vector<TaskRef>& refs);
std::optional<std::vector<TaskRef>> parse_task_refs(std::string_view value);

// Access held (the ledger's key, less the person: a button about access is
// only ever acted on as the person who clicks it): "<app>:<resource>", each
// part with '%' and ':' written %25 and %3A (ids may hold a ':', as ARNs do).
struct AccessRef {
  std::string app;
  std::string resource;
};
std::string access_ref(const std::string& app, const std::string& resource);
// Empty when malformed: not exactly one ':', an empty part, a '%' not
// followed by 25 or 3A, or over 2000 bytes (a button value's limit).
std::optional<AccessRef> parse_access_ref(std::string_view value);

// Retry on a step whose connector failed (value: a task ref): Action::retry.
inline constexpr std::string_view kRetry = "retry";

// The engine action a button, or a More actions option, names by its action
// id ("approve", "wont_provision", kRetry, ...): only the decisions a person
// takes with one click. Nullopt for anything else: the engine's own actions
// (reminders, a connector's answers), the comment actions, reassign (a form)
// and ids that are not Tollgate's. Whoever clicks is still checked by the
// engine; this only keeps a forged action id from reaching it at all.
std::optional<Action> button_action(std::string_view action_id);

// Actions a message or modal can carry, beyond the engine's own.
inline constexpr std::string_view kViewDetails = "details";
inline constexpr std::string_view kReassign = "reassign";
inline constexpr std::string_view kMoreActions = "more";
// "Approve for…" on a grant's review step (value: a task ref): opens kApproveForModal.
inline constexpr std::string_view kApproveFor = "approve_for";
// On the "ends soon" DM and the App Home's My access rows (value: an access ref):
// "Extend…" opens kExtendModal; "I'm done" ends the clicker's own access now.
inline constexpr std::string_view kAccessExtend = "access_extend";
inline constexpr std::string_view kAccessDone = "access_done";

// Modal callback ids.
inline constexpr std::string_view kReasonModal = "tollgate.reason";  // deny / won't (de)provision
inline constexpr std::string_view kReassignModal = "tollgate.reassign";
// private_metadata: the task ref. Inputs: kDurationBlock, kReasonBlock (optional).
inline constexpr std::string_view kApproveForModal = "tollgate.approve_for";
// private_metadata: the access ref. Inputs: kDurationBlock, kReasonBlock (the justification).
inline constexpr std::string_view kExtendModal = "tollgate.extend";

// Input blocks of the modals.
inline constexpr std::string_view kReasonBlock = "reason";
inline constexpr std::string_view kReasonInput = "reason";
inline constexpr std::string_view kAssigneeBlock = "assignee";
inline constexpr std::string_view kAssigneeInput = "assignee";
// A static_select of durations; option values are duration texts ("4h", "7d").
inline constexpr std::string_view kDurationBlock = "duration";
inline constexpr std::string_view kDurationInput = "duration";

}  // namespace tollgate::slack
