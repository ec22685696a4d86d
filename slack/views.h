// Modals (views.open payloads) that Tollgate opens from a click, built with
// the Block Kit vocabulary (block_kit.h), which holds Slack's limits.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "slack/actions.h"
#include "slack/block_kit.h"
#include "workflow/directory.h"
#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::slack {

// Asks a reason for an action that needs one at this step (deny, won't
// provision, won't deprovision, or an approval the policy wants explained).
// The view's private_metadata is "<action>:<task>:<step>".
kit::Modal reason_modal(const Task& task, Action action, int step, bool required);
// A user picker and a required reason. private_metadata "<task>:<step>".
kit::Modal reassign_modal(const Task& task, int step);

// The durations the duration modals offer (1h, 4h, 8h, 1d, 3d, 7d): all of
// them without `limit`; else those shorter than it, or (`inclusive`) at most it.
std::vector<Duration> duration_choices(std::optional<Duration> limit, bool inclusive);

// "Approve for…" on a grant's review step: a duration shorter than the one
// requested (kDurationBlock) and an optional comment (kReasonBlock).
// private_metadata "<task>:<step>".
kit::Modal approve_for_modal(const Task& task, int step);
// "Extend…" on access held with an end: for how long (kDurationBlock, within
// the resource's max_duration) and why (kReasonBlock, required).
// private_metadata: the access ref.
kit::Modal extend_modal(const Directory& dir, const std::string& app, const std::string& resource);

// Asks the one comment for a bulk action on `tasks` (the App Home's ticked
// rows, each with the step it showed); private_metadata
// "<action>:<task>:<step>,<task>:<step>,…", so that the submission acts on
// those steps only.
kit::Modal bulk_modal(Action action, const std::vector<TaskRef>& tasks);
// The bulk modal's answer: one line per task, done or refused and why.
kit::Modal bulk_result_view(Action action, const std::vector<BulkResult>& results);
inline constexpr std::string_view kBulkModal = "tollgate.bulk";

}  // namespace tollgate::slack
