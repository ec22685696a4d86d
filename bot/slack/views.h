// Modals (views.open payloads) that Tollgate opens from a click. Each fits
// Slack's limits: title, submit and close at most 24 characters,
// private_metadata at most 3000.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "workflow/directory.h"
#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::slack {

// Asks a reason for an action that needs one at this step (deny, won't
// provision, won't deprovision, or an approval the policy wants explained).
// The view's private_metadata is "<action>:<task>:<step>".
std::string reason_modal(const Task& task, Action action, int step, bool required);
// A user picker and a required reason. private_metadata "<task>:<step>".
std::string reassign_modal(const Task& task, int step);

// Asks the one comment for a bulk action on `tasks` (from the App Home);
// private_metadata "<action>:<n>,<n>,…".
std::string bulk_modal(Action action, const std::vector<TaskNumber>& tasks);
// The bulk modal's answer: one line per task, done or refused and why.
std::string bulk_result_view(Action action, const std::vector<BulkResult>& results);
inline constexpr std::string_view kBulkModal = "tollgate.bulk";

// {"trigger_id": ..., "view": <view>} for views.open.
std::string views_open_body(const std::string& trigger_id, const std::string& view_json);

// Cuts `text` to at most `max` characters (UTF-8 aware), ending with "…" when cut.
std::string truncate(const std::string& text, std::size_t max);

}  // namespace tollgate::slack
