// The App Home inbox and its bulk-action modals, in Block Kit.
//
// Tabs: Requests, Revocations, Awaiting provisioning, Awaiting deprovisioning
// (the viewer's open tasks by kind and state), Completed (closed tasks the
// viewer took part in) and My access (the ledger's rows of the viewer), each
// with its count. Each open task is a row with a checkbox and a More actions
// menu; the tab's bulk buttons act on the checked rows. A view holds at most
// 100 blocks, so task rows are paginated; access rows are capped (the rest is
// for `/tasks access`).
#pragma once

#include <string>
#include <vector>

#include "slack/block_kit.h"
#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::slack {

inline constexpr const char* kHomeTabs[] = {"requests", "revocations", "provisioning",
                                            "deprovisioning", "completed", "access"};

struct HomeTasks {
  std::vector<Task> open;       // assigned to the viewer
  std::vector<Task> completed;  // closed, the viewer involved; newest first
  std::vector<Holding> access;  // the viewer's rows of the access ledger
};

// The tab `tab` ("requests", …) at page `page` (0-based).
kit::HomeView home_view(const Engine& engine, const HomeTasks& tasks, const PersonId& viewer,
                      const std::string& tab, int page);
// One row of the access ledger on one line, for the App Home and /tasks access:
// "*AWS / Staging developer* — since 2026-11-02, ends in 3h (2026-11-30 17:00 UTC)
// · request #12" ("no end" when held without one; "· configuration" for a grant
// of the configuration; "· being removed: #N" once its end is under way).
kit::Mrkdwn access_line(const Directory& dir, const Holding& holding, Time now);
// Which tab an open task belongs to.
std::string home_tab_of(const Task& task);
// The bulk action of a tab, and its button label ("approve", "Approve selected").
std::vector<std::pair<Action, std::string>> bulk_actions(const std::string& tab);

// Block and action ids of the home view.
inline constexpr std::string_view kHomeTabAction = "home_tab";    // value "<tab>:<page>"
inline constexpr std::string_view kHomeBulkAction = "home_bulk";  // value "<action>"
// The My access tab's rows: block "held:<i>" (the line) and "held_actions:<i>"
// (Extend… when the row has an end, and I'm done: slack/actions.h, kAccessExtend
// and kAccessDone, value access_ref(app, resource)).
inline constexpr std::size_t kHomeAccessRows = 40;
// The checkbox of a row: block "row:<n>", option value "<task>:<step>" (actions.h).
inline constexpr std::string_view kHomeSelect = "select";

}  // namespace tollgate::slack
