#include "bot/slack/home.h"

#include <algorithm>
#include <map>

#include "bot/json.h"
#include "bot/slack/actions.h"
#include "bot/slack/views.h"
#include "workflow/time_text.h"

namespace tollgate::slack {
namespace {

constexpr int kRowsPerPage = 40;  // two blocks a row, within the view's 100

const char* tab_title(const std::string& tab) {
  if (tab == "requests") return "Requests";
  if (tab == "revocations") return "Revocations";
  if (tab == "provisioning") return "Awaiting provisioning";
  if (tab == "deprovisioning") return "Awaiting deprovisioning";
  return "Completed";
}

void text_object(json::Writer& w, const char* key, const char* type, const std::string& text) {
  json::key(w, key);
  w.StartObject();
  json::kv(w, "type", type);
  json::kv(w, "text", text);
  w.EndObject();
}

void button(json::Writer& w, std::string_view action_id, const std::string& text,
            const std::string& value, const char* style = nullptr) {
  w.StartObject();
  json::kv(w, "type", "button");
  json::kv(w, "action_id", action_id);
  text_object(w, "text", "plain_text", truncate(text, 75));
  json::kv(w, "value", value);
  if (style != nullptr) json::kv(w, "style", style);
  w.EndObject();
}

void section(json::Writer& w, const std::string& mrkdwn) {
  w.StartObject();
  json::kv(w, "type", "section");
  text_object(w, "text", "mrkdwn", truncate(mrkdwn, 3000));
  w.EndObject();
}

std::string row_text(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  std::string what = t.kind == TaskKind::grant ? "Access request" : "Revocation";
  std::string line = "*#" + std::to_string(t.number) + "* " + what +
                     (t.emergency ? " :rotating_light:" : "") + "  ·  " +
                     d.display_name(t.subject) + " → " + t.app_name + " / " + t.resource_name;
  if (t.closed()) {
    std::string state(state_name(t.state));
    std::replace(state.begin(), state.end(), '_', ' ');
    return line + "\n" + state + " · " + format_instant(t.closed_at.value_or(t.updated_at));
  }
  int i = t.current_step();
  line += "\nStep " + std::to_string(i + 1) + " of " + std::to_string(t.steps.size()) +
          " · since " +
          format_instant(t.steps[static_cast<std::size_t>(i)].opened_at.value_or(t.created_at));
  if (t.requester != t.subject) line += " · by " + d.display_name(t.requester);
  std::string why =
      t.justification.size() > 120 ? t.justification.substr(0, 117) + "…" : t.justification;
  return line + "\n_" + why + "_";
}

}  // namespace

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

std::string home_view(const Engine& e, const HomeTasks& tasks, const PersonId& viewer,
                      const std::string& tab, int page) {
  std::map<std::string, int> counts;
  for (const Task& t : tasks.open) ++counts[home_tab_of(t)];
  counts["completed"] = static_cast<int>(tasks.completed.size());
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

  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", "home");
  json::kv(w, "private_metadata", tab + ":" + std::to_string(page));
  json::key(w, "blocks");
  w.StartArray();
  w.StartObject();
  json::kv(w, "type", "header");
  text_object(w, "text", "plain_text", "Your tasks · " + e.directory().display_name(viewer));
  w.EndObject();
  // The tabs, with their counts; the selected one stands out.
  w.StartObject();
  json::kv(w, "type", "actions");
  json::kv(w, "block_id", "tabs");
  json::key(w, "elements");
  w.StartArray();
  for (const char* t : kHomeTabs) {
    button(w, std::string(kHomeTabAction) + ":" + t,
           std::string(tab_title(t)) + " (" + std::to_string(counts[t]) + ")",
           std::string(t) + ":0", tab == t ? "primary" : nullptr);
  }
  w.EndArray();
  w.EndObject();
  w.StartObject();
  json::kv(w, "type", "divider");
  w.EndObject();
  if (rows.empty()) {
    section(w, tab == "completed" ? "_Nothing completed yet._"
                                  : "_Nothing waiting for you here._ :tada:");
  }
  std::size_t first = static_cast<std::size_t>(page) * kRowsPerPage;
  for (std::size_t i = first; i < rows.size() && i < first + kRowsPerPage; ++i) {
    const Task& t = *rows[i];
    std::string ref = task_ref(t.number, t.current_step());
    w.StartObject();
    json::kv(w, "type", "section");
    json::kv(w, "block_id", "row:" + std::to_string(t.number));
    text_object(w, "text", "mrkdwn", truncate(row_text(e, t), 3000));
    if (!t.closed()) {
      json::key(w, "accessory");
      w.StartObject();
      json::kv(w, "type", "checkboxes");
      json::kv(w, "action_id", kHomeSelect);
      json::key(w, "options");
      w.StartArray();
      w.StartObject();
      text_object(w, "text", "plain_text", "Select");
      json::kv(w, "value", std::to_string(t.number));
      w.EndObject();
      w.EndArray();
      w.EndObject();
    }
    w.EndObject();
    w.StartObject();
    json::kv(w, "type", "actions");
    json::kv(w, "block_id", "more:" + std::to_string(t.number));
    json::key(w, "elements");
    w.StartArray();
    w.StartObject();
    json::kv(w, "type", "overflow");
    json::kv(w, "action_id", kMoreActions);
    json::key(w, "options");
    w.StartArray();
    if (!t.closed()) {
      w.StartObject();
      text_object(w, "text", "plain_text", "Reassign…");
      json::kv(w, "value", std::string(kReassign) + ":" + ref);
      w.EndObject();
    }
    w.StartObject();
    text_object(w, "text", "plain_text", "View details");
    json::kv(w, "value", std::string(kViewDetails) + ":" + ref);
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
  // The tab's bulk actions, and the pages.
  auto bulk = bulk_actions(tab);
  bool paged = pages > 1;
  if ((!bulk.empty() && !rows.empty()) || paged) {
    w.StartObject();
    json::kv(w, "type", "actions");
    json::kv(w, "block_id", "bulk");
    json::key(w, "elements");
    w.StartArray();
    if (!rows.empty()) {
      for (const auto& [action, label] : bulk) {
        button(w, std::string(kHomeBulkAction) + ":" + std::string(action_name(action)), label,
               std::string(action_name(action)), action == Action::deny ? "danger" : "primary");
      }
    }
    if (page > 0)
      button(w, std::string(kHomeTabAction) + ":prev", "← Previous",
             tab + ":" + std::to_string(page - 1));
    if (page + 1 < pages)
      button(w, std::string(kHomeTabAction) + ":next", "Next →",
             tab + ":" + std::to_string(page + 1));
    w.EndArray();
    w.EndObject();
    if (paged) {
      w.StartObject();
      json::kv(w, "type", "context");
      json::key(w, "elements");
      w.StartArray();
      w.StartObject();
      json::kv(w, "type", "mrkdwn");
      json::kv(w, "text",
               "Page " + std::to_string(page + 1) + " of " + std::to_string(pages) + " · " +
                   std::to_string(rows.size()) + " tasks");
      w.EndObject();
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return json::text(b);
}

}  // namespace tollgate::slack
