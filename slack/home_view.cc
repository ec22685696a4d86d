#include "slack/home_view.h"

#include <algorithm>
#include <map>

#include "slack/actions.h"
#include "slack/blocks.h"
#include "base/time_text.h"

namespace tollgate::slack {
namespace {

using kit::esc;
using kit::Mrkdwn;
using namespace kit::literals;

constexpr int kRowsPerPage = 40;  // two blocks a row, within the view's 100

const char* tab_title(const std::string& tab) {
  if (tab == "requests") return "Requests";
  if (tab == "revocations") return "Revocations";
  if (tab == "provisioning") return "Awaiting provisioning";
  if (tab == "deprovisioning") return "Awaiting deprovisioning";
  if (tab == "access") return "My access";
  return "Completed";
}

// How long until `end`, coarse as people say it: "3h", "2d5h", "45m".
std::string time_left(Time now, Time end) {
  using namespace std::chrono;
  auto left = end - now;
  if (left < minutes(1)) return "under a minute";
  Duration unit = left >= hours(24) ? Duration(hours(1)) : Duration(minutes(1));
  return format_duration(((left + unit / 2) / unit) * unit);  // to the nearest unit
}

// "App / Resource" as the directory names them (the ids when it no longer does).
std::string access_name(const Directory& d, const Holding& h) {
  const App* app = d.app(h.app);
  const Resource* res = d.resource(h.app, h.resource);
  return (app ? app->name : h.app) + " / " + (res ? res->name : h.resource);
}

// The My access tab: a line per row, with Extend… (rows with an end) and
// I'm done (with a confirmation); past kHomeAccessRows, where to see the rest.
void access_rows(const Engine& e, const std::vector<Holding>& rows, kit::Blocks& b) {
  const Directory& d = e.directory();
  Time now = e.clock().now();
  if (rows.empty()) b.section("_You hold no access that Tollgate knows of._"_md);
  for (std::size_t i = 0; i < rows.size() && i < kHomeAccessRows; ++i) {
    const Holding& h = rows[i];
    std::string n = std::to_string(i);
    b.section(access_line(d, h, now), "held:" + n);
    if (h.ending_task != 0) continue;  // already being removed: nothing left to do
    // The same words and confirmation as on the "ends soon" DM.
    b.actions("held_actions:" + n, access_buttons(d, h.app, h.resource, h.expires_at.has_value()));
  }
  if (rows.size() > kHomeAccessRows) {
    b.context({esc("and " + std::to_string(rows.size() - kHomeAccessRows) + " more — ") +
               "`/tasks access`"_md});
  }
}

// The run of the open step's connector, once it has failed (the step is people's).
const ConnectorRun* failed_run(const Task& t) {
  const TaskStep* s = t.current();
  if (s == nullptr || !s->connector || s->connector->phase != ConnectorRun::Phase::failed)
    return nullptr;
  return &*s->connector;
}

// ":warning: SCIM (Okta) could not add the access: “…”", the system's answer
// escaped and cut (a remote party's text).
Mrkdwn connector_line(const Task& t, const ConnectorRun& run) {
  Mrkdwn line = ":warning: "_md + esc(run.label) +
                (t.kind == TaskKind::grant ? " could not add the access"_md
                                           : " could not remove the access"_md);
  if (!run.answer.empty()) line += ": “"_md + Mrkdwn::line(kit::cut(run.answer, 150)) + "”"_md;
  return line;
}

Mrkdwn row_text(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  std::string what = t.kind == TaskKind::grant ? "Access request" : "Revocation";
  Mrkdwn line = "*#"_md + esc(std::to_string(t.number)) + "* "_md + esc(what) +
                (t.emergency ? " :rotating_light:"_md : Mrkdwn()) + "  ·  "_md +
                esc(d.display_name(t.subject) + " → " + t.app_name + " / " + t.resource_name);
  if (t.closed()) {
    std::string state(state_name(t.state));
    std::replace(state.begin(), state.end(), '_', ' ');
    return line + "\n"_md + esc(state + " · " + format_instant(t.closed_at.value_or(t.updated_at)));
  }
  int i = t.current_step();
  std::string step =
      "Step " + std::to_string(i + 1) + " of " + std::to_string(t.steps.size()) + " · since " +
      format_instant(t.steps[static_cast<std::size_t>(i)].opened_at.value_or(t.created_at));
  if (t.requester != t.subject) step += " · by " + d.display_name(t.requester);
  // The justification's first 120 characters, cut before escaping: never inside a character
  // or an entity.
  Mrkdwn row = line + "\n"_md + esc(step) + "\n_"_md +
               Mrkdwn::line(kit::cut(t.justification, 120)) + "_"_md;
  if (const ConnectorRun* run = failed_run(t)) row += "\n"_md + connector_line(t, *run);
  return row;
}

}  // namespace

Mrkdwn access_line(const Directory& d, const Holding& h, Time now) {
  std::string when = "since " + format_date(h.since) + ", ";
  if (!h.expires_at) {
    when += "no end";
  } else if (*h.expires_at <= now) {
    when += "ended " + format_instant(*h.expires_at);
  } else {
    when += "ends in " + time_left(now, *h.expires_at) + " (" + format_instant(*h.expires_at) + ")";
  }
  std::string how(grant_source_name(h.how));
  if (h.task != 0) how += " #" + std::to_string(h.task);
  if (h.ending_task != 0) how += " · being removed: #" + std::to_string(h.ending_task);
  return "*"_md + esc(access_name(d, h)) + "* — "_md + esc(when + " · " + how);
}

std::string home_tab_of(const Task& t) {
  if (t.state == TaskState::provisioning) return "provisioning";
  if (t.state == TaskState::deprovisioning) return "deprovisioning";
  if (t.closed()) return "completed";
  return t.kind == TaskKind::grant ? "requests" : "revocations";
}

std::vector<std::pair<Action, std::string>> bulk_actions(const std::string& tab) {
  if (tab == "requests")
    return {{Action::approve, "Approve selected"}, {Action::deny, "Deny selected"}};
  if (tab == "revocations")
    return {{Action::confirm, "Confirm selected"}, {Action::deny, "Deny selected"}};
  if (tab == "provisioning") return {{Action::provisioned, "Mark selected provisioned"}};
  if (tab == "deprovisioning") return {{Action::deprovisioned, "Mark selected deprovisioned"}};
  return {};
}

kit::HomeView home_view(const Engine& e, const HomeTasks& tasks, const PersonId& viewer,
                        const std::string& tab, int page) {
  std::map<std::string, int> counts;
  for (const Task& t : tasks.open) ++counts[home_tab_of(t)];
  counts["completed"] = static_cast<int>(tasks.completed.size());
  counts["access"] = static_cast<int>(tasks.access.size());
  std::vector<const Task*> rows;
  if (tab == "completed") {
    for (const Task& t : tasks.completed) rows.push_back(&t);
  } else {
    for (const Task& t : tasks.open) {
      if (home_tab_of(t) == tab) rows.push_back(&t);
    }
  }
  int pages = std::max(1, static_cast<int>((rows.size() + kRowsPerPage - 1) / kRowsPerPage));
  page = std::clamp(page, 0, pages - 1);

  kit::HomeView home;
  home.private_metadata = tab + ":" + std::to_string(page);
  kit::Blocks& b = home.blocks;
  b.header("Your tasks · " + e.directory().display_name(viewer));
  // The tabs, with their counts; the selected one stands out.
  std::vector<kit::Element> tabs;
  for (const char* t : kHomeTabs) {
    tabs.push_back(kit::Button{std::string(kHomeTabAction) + ":" + t,
                               std::string(tab_title(t)) + " (" + std::to_string(counts[t]) + ")",
                               std::string(t) + ":0",
                               tab == t ? kit::Style::primary : kit::Style::plain, std::nullopt});
  }
  b.actions("tabs", tabs);
  b.divider();
  if (tab == "access") {
    access_rows(e, tasks.access, b);
    return home;
  }
  if (rows.empty()) {
    b.section(tab == "completed" ? "_Nothing completed yet._"_md
                                 : "_Nothing waiting for you here._ :tada:"_md);
  }
  std::size_t first = static_cast<std::size_t>(page) * kRowsPerPage;
  for (std::size_t i = first; i < rows.size() && i < first + kRowsPerPage; ++i) {
    const Task& t = *rows[i];
    std::string ref = task_ref(t.number, t.current_step());
    std::string n = std::to_string(t.number);
    // A ticked row carries the step it shows, as a button does: the bulk
    // action acts on that step only.
    std::optional<kit::Element> select;
    if (!t.closed()) select = kit::Checkboxes{std::string(kHomeSelect), {{"Select", ref}}};
    b.section(row_text(e, t), "row:" + n, select);
    std::vector<kit::Element> row_actions;
    // Retry, for the step's people once its connector failed (as on the task message).
    const TaskStep* open = t.current();
    if (failed_run(t) != nullptr && open != nullptr &&
        std::find(open->assignees.begin(), open->assignees.end(), viewer) != open->assignees.end())
      row_actions.push_back(
          kit::Button{std::string(kRetry), "Retry", ref, kit::Style::plain, std::nullopt});
    std::vector<kit::Option> more;
    if (can_reassign(e.directory(), t, viewer))
      more.push_back({"Reassign…", std::string(kReassign) + ":" + ref});
    more.push_back({"View details", std::string(kViewDetails) + ":" + ref});
    for (kit::Element& el : kit::menu(kMoreActions, std::move(more)))
      row_actions.push_back(std::move(el));
    b.actions("more:" + n, row_actions);
  }
  // The tab's bulk actions, and the pages.
  auto bulk = bulk_actions(tab);
  bool paged = pages > 1;
  std::vector<kit::Element> below;
  if (!rows.empty()) {
    for (const auto& [action, label] : bulk) {
      below.push_back(kit::Button{std::string(kHomeBulkAction) + ":" + std::string(action_name(action)),
                                  label, std::string(action_name(action)),
                                  action == Action::deny ? kit::Style::danger : kit::Style::primary,
                                  std::nullopt});
    }
  }
  if (page > 0) {
    below.push_back(kit::Button{std::string(kHomeTabAction) + ":prev", "← Previous",
                                tab + ":" + std::to_string(page - 1), kit::Style::plain,
                                std::nullopt});
  }
  if (page + 1 < pages) {
    below.push_back(kit::Button{std::string(kHomeTabAction) + ":next", "Next →",
                                tab + ":" + std::to_string(page + 1), kit::Style::plain,
                                std::nullopt});
  }
  b.actions("bulk", below);
  if (paged) {
    b.context({esc("Page " + std::to_string(page + 1) + " of " + std::to_string(pages) + " · " +
                   std::to_string(rows.size()) + " tasks")});
  }
  return home;
}

}  // namespace tollgate::slack
