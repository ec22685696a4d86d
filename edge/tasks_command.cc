#include "edge/tasks_command.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "workflow/engine.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

// Splits off the next word; `rest` keeps what follows, leading spaces removed.
std::string_view next_word(std::string_view& rest) {
  std::size_t start = rest.find_first_not_of(" \t\n");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  std::size_t end = rest.find_first_of(" \t\n");
  std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  std::size_t more = rest.find_first_not_of(" \t\n");
  rest = more == std::string_view::npos ? std::string_view() : rest.substr(more);
  return word;
}

}  // namespace

std::optional<TaskNumber> parse_task_number(std::string_view token) {
  if (!token.empty() && token[0] == '#') token.remove_prefix(1);
  TaskNumber n = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
  if (ec != std::errc() || p != token.data() + token.size() || n <= 0) return std::nullopt;
  return n;
}

std::optional<UserRef> parse_user_ref(std::string_view t) {
  if (t.size() > 3 && t.substr(0, 2) == "<@" && t.back() == '>') {
    std::string_view inner = t.substr(2, t.size() - 3);
    std::string_view id = inner.substr(0, inner.find('|'));
    if (id.empty() || id.size() > 32) return std::nullopt;
    for (char c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
    }
    return UserRef{std::string(id), {}};
  }
  if (t.size() > 1 && t[0] == '@') return UserRef{{}, std::string(t.substr(1))};
  return std::nullopt;
}

std::string tasks_help() {
  return "*/tasks* — your access-change tasks\n"
         "• `/tasks` or `/tasks list [requests|revocations|provisioning|deprovisioning|completed]` "
         "— your tasks\n"
         "• `/tasks show 42` — one task: facts, plan, comments\n"
         "• `/tasks approve 42 43 -- comment` — also `deny`, `confirm`, `provisioned`, "
         "`wont-provision`, "
         "`deprovisioned`, `wont-deprovision`; one comment for all\n"
         "• `/tasks reassign 42 @user reason…` — hand task #42 to someone else, with a reason\n"
         "• `/tasks comment 42 text…` — comment on task #42 (posted into its threads)\n"
         "• `/tasks request github/admin [for @user] [8h] [--emergency] -- why` — ask for access\n"
         "• `/tasks revoke @user aws/prod-admin -- reason` — propose removing someone's access\n"
         "• `/tasks delegate @user until 2026-12-24` — out of office: your new reviews go to "
         "them until the end of that day; `/tasks delegate off` ends it";
}

namespace {

// The lists of `/tasks list <tab>`; the plural names also work alone ("/tasks revocations").
const std::pair<std::string_view, std::string_view> kTabs[] = {
    {"requests", "requests"},         {"revocations", "revocations"},
    {"provisioning", "provisioning"}, {"deprovisioning", "deprovisioning"},
    {"completed", "completed"},       {"done", "completed"},
    {"request", "requests"},          {"revocation", "revocations"},
};
constexpr std::size_t kTabAliases = 6;  // the first six may stand alone

// Splits "words… -- text" at the first word that is exactly "--": the words
// before it, and the text after it (which may itself contain "--").
std::pair<std::string_view, std::string> split_dashes(std::string_view rest) {
  std::size_t pos = 0;
  while (pos < rest.size()) {
    std::size_t start = rest.find_first_not_of(" \t\n", pos);
    if (start == std::string_view::npos) break;
    std::size_t end = rest.find_first_of(" \t\n", start);
    std::string_view word =
        rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (word == "--") {
      std::string_view after =
          end == std::string_view::npos ? std::string_view() : rest.substr(end);
      std::size_t first = after.find_first_not_of(" \t\n");
      return {rest.substr(0, start),
              first == std::string_view::npos ? std::string() : std::string(after.substr(first))};
    }
    if (end == std::string_view::npos) break;
    pos = end;
  }
  return {rest, {}};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Items whose id or name is `query` (case-insensitive); else nearby ones as suggestions.
template <typename T>
std::vector<const T*> match(const std::vector<T>& items, const std::string& query,
                            std::vector<const T*>* near) {
  std::vector<const T*> exact;
  std::string q = lower(query);
  for (const T& it : items) {
    if (lower(it.id) == q || lower(it.name) == q) exact.push_back(&it);
  }
  if (!exact.empty()) return exact;
  for (const T& it : items) {
    std::string id = lower(it.id);
    std::string name = lower(it.name);
    if (id.find(q) != std::string::npos || name.find(q) != std::string::npos ||
        distance(id, q) <= 2 || distance(name, q) <= 2) {
      near->push_back(&it);
    }
  }
  return exact;
}

template <typename T>
std::string listing(const std::vector<const T*>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < 6; ++i) {
    out += (i ? ", " : "") + items[i]->name + " (`" + items[i]->id + "`)";
  }
  return out;
}

}  // namespace

StatusOr<std::pair<std::string, std::string>> resolve_target(const Directory& dir,
                                                             std::string_view target) {
  auto slash = target.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == target.size()) {
    return invalid_argument("Say the app and the resource as `app/resource`, e.g. `github/admin`.");
  }
  std::string app_q(target.substr(0, slash));
  std::string res_q(target.substr(slash + 1));
  std::vector<const App*> near_apps;
  auto apps = match(dir.apps, app_q, &near_apps);
  if (apps.empty()) {
    std::vector<const App*> all;
    for (const App& a : dir.apps) all.push_back(&a);
    return not_found(
        "No app `" + app_q + "`. " +
        (near_apps.empty() ? "Apps: " + listing(all) : "Did you mean " + listing(near_apps) + "?"));
  }
  if (apps.size() > 1)
    return invalid_argument("`" + app_q + "` matches " + listing(apps) + ": use the id.");
  const App& app = *apps[0];
  std::vector<const Resource*> near_res;
  auto res = match(app.resources, res_q, &near_res);
  if (res.empty()) {
    std::vector<const Resource*> all;
    for (const Resource& r : app.resources) all.push_back(&r);
    return not_found(app.name + " has no resource `" + res_q + "`. " +
                     (near_res.empty() ? "Its resources: " + listing(all)
                                       : "Did you mean " + listing(near_res) + "?"));
  }
  if (res.size() > 1)
    return invalid_argument("`" + res_q + "` matches " + listing(res) + ": use the id.");
  return std::make_pair(app.id, res[0]->id);
}

StatusOr<TasksCommand> parse_tasks_command(std::string_view text) {
  std::string_view rest = text;
  std::string_view verb = next_word(rest);
  TasksCommand c;
  if (verb == "help") return c;
  if (verb.empty() || verb == "list") {
    c.verb = TasksCommand::Verb::list;
    std::string_view tab = next_word(rest);
    if (!tab.empty()) {
      for (const auto& [word, name] : kTabs) {
        if (tab == word) c.tab = name;
      }
      if (c.tab.empty()) {
        return invalid_argument(
            "`" + std::string(tab) +
            "` is not a list: requests, revocations, provisioning, deprovisioning or completed.");
      }
    }
    return c;
  }
  for (std::size_t i = 0; i < kTabAliases; ++i) {
    const auto& [word, name] = kTabs[i];
    if (verb == word) {  // "/tasks requests" is "/tasks list requests"
      c.verb = TasksCommand::Verb::list;
      c.tab = name;
      return c;
    }
  }
  if (verb == "show") {
    c.verb = TasksCommand::Verb::show;
    std::string_view task = next_word(rest);
    auto n = parse_task_number(task);
    if (!n) return invalid_argument("Usage: `/tasks show 42`");
    c.tasks.push_back(*n);
    return c;
  }
  if (auto action = parse_action(verb);
      action && *action != Action::reassign && *action != Action::comment &&
      *action != Action::edit_comment && *action != Action::delete_comment &&
      *action != Action::remind && *action != Action::escalate && *action != Action::expire) {
    c.verb = TasksCommand::Verb::act;
    c.action = *action;
    auto [numbers, comment] = split_dashes(rest);
    c.text = comment;
    for (std::string_view w = next_word(numbers); !w.empty(); w = next_word(numbers)) {
      auto n = parse_task_number(w);
      if (!n)
        return invalid_argument("`" + std::string(w) +
                                "` is not a task number (comments go after `--`)");
      c.tasks.push_back(*n);
    }
    if (c.tasks.empty()) {
      return invalid_argument("Usage: `/tasks " + std::string(verb) + " 42 [43 …] [-- comment]`");
    }
    if (Status s = check_bulk_length(c.tasks.size()); !s.ok()) return s;
    return c;
  }
  if (verb == "request") {
    c.verb = TasksCommand::Verb::request;
    auto [words, why] = split_dashes(rest);
    c.text = why;
    c.target = std::string(next_word(words));
    for (std::string_view w = next_word(words); !w.empty(); w = next_word(words)) {
      if (w == "for") {
        auto u = parse_user_ref(next_word(words));
        if (!u) return invalid_argument("After `for`, mention the person: `for @ana`.");
        c.user = *u;
      } else if (w == "--emergency" || w == "emergency") {
        c.emergency = true;
      } else if (auto d = parse_duration(w)) {
        c.duration = d;
      } else {
        return invalid_argument(
            "I don't understand `" + std::string(w) +
            "`. Usage: `/tasks request app/resource [for @user] [8h] [--emergency] -- why`");
      }
    }
    if (c.target.empty() || c.text.empty()) {
      return invalid_argument(
          "Usage: `/tasks request app/resource [for @user] [8h] [--emergency] -- why` "
          "(the justification after `--` is required)");
    }
    return c;
  }
  if (verb == "revoke") {
    c.verb = TasksCommand::Verb::revoke;
    auto [words, why] = split_dashes(rest);
    c.text = why;
    auto u = parse_user_ref(next_word(words));
    c.target = std::string(next_word(words));
    if (!u || c.target.empty() || c.text.empty() || !next_word(words).empty()) {
      return invalid_argument(
          "Usage: `/tasks revoke @user app/resource -- reason` (the reason is required)");
    }
    c.user = *u;
    return c;
  }
  if (verb == "reassign") {
    c.verb = TasksCommand::Verb::reassign;
    std::string_view task = next_word(rest);
    std::string_view user = next_word(rest);
    if (task.empty() || user.empty() || rest.empty()) {
      return invalid_argument("Usage: `/tasks reassign 42 @user reason…` (the reason is required)");
    }
    auto n = parse_task_number(task);
    if (!n) return invalid_argument("`" + std::string(task) + "` is not a task number");
    auto u = parse_user_ref(user);
    if (!u)
      return invalid_argument("`" + std::string(user) + "` is not a user: mention them with @");
    c.tasks.push_back(*n);
    c.user = *u;
    c.text = std::string(rest);
    return c;
  }
  if (verb == "delegate") {
    c.verb = TasksCommand::Verb::delegate;
    std::string_view first = next_word(rest);
    if (first.empty()) return c;  // show
    if (first == "off" || first == "none" || first == "end") {
      if (!next_word(rest).empty()) return invalid_argument("Usage: `/tasks delegate off`");
      c.off = true;
      return c;
    }
    const char* usage = "Usage: `/tasks delegate @user until 2026-12-24` or `/tasks delegate off`";
    auto u = parse_user_ref(first);
    if (!u) return invalid_argument(usage);
    c.user = *u;
    std::string_view word = next_word(rest);
    std::string_view date = next_word(rest);
    if (word != "until" || date.empty() || !next_word(rest).empty()) return invalid_argument(usage);
    auto day = parse_date(date);
    if (!day) {
      return invalid_argument("`" + std::string(date) + "` is not a date such as 2026-12-24");
    }
    c.until = *day + std::chrono::days(1);  // through the end of that day
    return c;
  }
  if (verb == "comment") {
    c.verb = TasksCommand::Verb::comment;
    std::string_view task = next_word(rest);
    if (task.empty() || rest.empty()) return invalid_argument("Usage: `/tasks comment 42 text…`");
    auto n = parse_task_number(task);
    if (!n) return invalid_argument("`" + std::string(task) + "` is not a task number");
    c.tasks.push_back(*n);
    c.text = std::string(rest);
    return c;
  }
  return invalid_argument("I don't know `/tasks " + std::string(verb) + "`. Try `/tasks help`.");
}

}  // namespace tollgate
