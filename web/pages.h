// The task page and the inbox behind every email link, as HTML
// (docs/task-page.md): rendered on the server, no script, no external asset,
// one stylesheet (page_css(), served at /t/static/page.css) so that the
// Content-Security-Policy can forbid everything inline.
//
// Pure: from a task (or the viewer's tasks) and the engine's directory and
// rules to a document. Every piece of text that is not Tollgate's own is
// HTML-escaped. The actions offered are those Slack's message offers the same
// person (slack/blocks.cc): nothing here decides who may do what, the engine
// still checks every command.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::slack {
struct HomeTasks;
}

namespace tollgate::web {

// The result of the last action, shown once above the page (role="status").
struct Flash {
  bool error = false;
  std::string text;  // lines separated by '\n'
};

// What every page of a session carries.
struct PageContext {
  PersonId viewer;
  std::string csrf;  // the session's CSRF token, put in every form
  std::optional<Flash> flash;
};

// One decision the viewer may take on the open step of a task.
struct OfferedAction {
  Action action = Action::approve;
  std::string label;             // the Slack button's label: "Approve", "Won't provision"
  bool reason_required = false;  // PolicyStep::require_reason, and always for won't (de)provision
};
// The decisions Slack's message offers `viewer` on the open step of `task`
// (slack/blocks.cc, step_buttons): none unless the step is open and assigned
// to them; by the step's kind; and Retry once its connector failed.
std::vector<OfferedAction> offered_actions(const Task& task, const PersonId& viewer);

// GET /t/tasks/<n>: the facts, insights, execution plan, comments and the
// viewer's actions.
std::string task_page(const Engine& engine, const Task& task, const PageContext& ctx);

// The inbox's tabs, as the App Home has them (slack/home_view.h), without My
// access: the viewer's access is a section of every tab.
inline constexpr const char* kInboxTabs[] = {"requests", "revocations", "provisioning",
                                             "deprovisioning", "completed"};
bool is_inbox_tab(std::string_view tab);
// GET /t/inbox?tab=…: the tab's tasks (with the tab's bulk actions while they
// are open ones), then the viewer's access with Extend and I'm done.
std::string inbox_page(const Engine& engine, const slack::HomeTasks& tasks, const std::string& tab,
                       const PageContext& ctx);

// A page that only tells something: an invalid or expired link, a session
// that ended, a refusal. `heading` is the page's <h1>; `inbox_link`: offer
// "All my tasks" (only when a session is open).
std::string message_page(const std::string& heading, const std::string& text,
                         bool inbox_link = false);

// Where a link lands (GET /t/open/<n>): a page of Tollgate's own that moves
// on to the task at once (a meta refresh, no script), so that the browser
// sends the new SameSite=Strict session cookie: on the redirect of a link
// followed from another site (a webmail, Slack in a browser) it would not.
std::string opening_page(TaskNumber task);

// The stylesheet of every page.
std::string_view page_css();

// One row of the access ledger as plain text (slack::access_line, read as text):
// "AWS / Staging — since 2026-11-02, ends in 3h (2026-11-30 17:00 UTC) · request #12".
std::string access_row_text(const Directory& dir, const Holding& holding, Time now);

}  // namespace tollgate::web
