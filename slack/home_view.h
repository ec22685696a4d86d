// The App Home inbox and its bulk-action modals, in Block Kit.
//
// Tabs: Requests, Revocations, Awaiting provisioning, Awaiting deprovisioning
// (the viewer's open tasks by kind and state) and Completed (closed tasks the
// viewer took part in), each with its count. Each open task is a row with a
// checkbox and a More actions menu; the tab's bulk buttons act on the checked
// rows. A view holds at most 100 blocks, so rows are paginated.
#pragma once

#include <string>
#include <vector>

#include "slack/block_kit.h"
#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::slack {

inline constexpr const char* kHomeTabs[] = {"requests", "revocations", "provisioning",
                                            "deprovisioning", "completed"};

struct HomeTasks {
  std::vector<Task> open;       // assigned to the viewer
  std::vector<Task> completed;  // closed, the viewer involved; newest first
};

// The tab `tab` ("requests", …) at page `page` (0-based).
kit::HomeView home_view(const Engine& engine, const HomeTasks& tasks, const PersonId& viewer,
                      const std::string& tab, int page);
// Which tab an open task belongs to.
std::string home_tab_of(const Task& task);
// The bulk action of a tab, and its button label ("approve", "Approve selected").
std::vector<std::pair<Action, std::string>> bulk_actions(const std::string& tab);

// Block and action ids of the home view.
inline constexpr std::string_view kHomeTabAction = "home_tab";    // value "<tab>:<page>"
inline constexpr std::string_view kHomeBulkAction = "home_bulk";  // value "<action>"
// The checkbox of a row: block "row:<n>", option value "<task>:<step>" (actions.h).
inline constexpr std::string_view kHomeSelect = "select";

}  // namespace tollgate::slack
