#include "edge/tasks_command.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <tuple>
#include <vector>

#include "app/identity.h"
#include "app/task_service.h"
#include "base/metrics.h"
#include "base/time_text.h"
#include "edge/slack_context.h"
#include "slack/blocks.h"
#include "slack/home_view.h"
#include "slack/markup.h"
#include "slack/payloads.h"
#include "storage/store.h"
#include "workflow/engine.h"

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
         "• `/tasks retry 42` — have the app's connector try again after it failed\n"
         "• `/tasks reassign 42 @user reason…` — hand task #42 to someone else, with a reason\n"
         "• `/tasks comment 42 text…` — comment on task #42 (posted into its threads)\n"
         "• `/tasks request github/admin [for @user] [8h] [--emergency] -- why` — ask for access\n"
         "• `/tasks revoke @user aws/prod-admin -- reason` — propose removing someone's access\n"
         "• `/tasks delegate @user until 2026-12-24` — out of office: your new reviews go to "
         "them until the end of that day; `/tasks delegate off` ends it\n"
         "• `/tasks approve 42 --for 4h -- comment` — approve for less time than asked\n"
         "• `/tasks access [@user]` — access held and when it ends: yours, or a report's\n"
         "• `/tasks extend aws/staging 8h -- why` — ask to keep time-bound access longer\n"
         "• `/tasks done aws/staging` — you no longer need that access: it ends now";
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

namespace {

// Each verb's words, after the verb: `rest`. `c` has its verb set.

StatusOr<TasksCommand> parse_list(TasksCommand c, std::string_view rest) {
  std::string_view tab = next_word(rest);
  if (tab.empty()) return c;
  for (const auto& [word, name] : kTabs) {
    if (tab == word) c.tab = name;
  }
  if (c.tab.empty()) {
    return invalid_argument(
        "`" + std::string(tab) +
        "` is not a list: requests, revocations, provisioning, deprovisioning or completed.");
  }
  return c;
}

StatusOr<TasksCommand> parse_show(TasksCommand c, std::string_view rest) {
  auto n = parse_task_number(next_word(rest));
  if (!n) return invalid_argument("Usage: `/tasks show 42`");
  c.tasks.push_back(*n);
  return c;
}

// The actions a person takes by name ("approve", "wont-provision", "retry"):
// not the ones with their own grammar (reassign, comment) nor the engine's
// own (reminders, a connector's answers).
bool command_action(Action a) {
  return a != Action::reassign && a != Action::comment && a != Action::edit_comment &&
         a != Action::delete_comment && !is_system_action(a);
}

// `--for <duration>` of `/tasks approve`: approve for less than was asked.
Status parse_for(TasksCommand& c, std::string_view duration) {
  if (c.action != Action::approve) {
    return invalid_argument("`--for` goes with approve only: `/tasks approve 42 --for 4h`");
  }
  if (duration.empty()) {
    return invalid_argument("Say how long after `--for`: `/tasks approve 42 --for 4h`");
  }
  c.duration = parse_duration(duration);
  if (!c.duration) {
    return invalid_argument("`" + std::string(duration) +
                            "` is not a duration such as 30m, 4h, 7d or 2w");
  }
  return {};
}

StatusOr<TasksCommand> parse_act(TasksCommand c, std::string_view verb, std::string_view rest) {
  auto [numbers, comment] = split_dashes(rest);
  c.text = comment;
  for (std::string_view w = next_word(numbers); !w.empty(); w = next_word(numbers)) {
    if (w == "--for") {
      if (Status s = parse_for(c, next_word(numbers)); !s.ok()) return s;
      continue;
    }
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

StatusOr<TasksCommand> parse_request(TasksCommand c, std::string_view rest) {
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

StatusOr<TasksCommand> parse_revoke(TasksCommand c, std::string_view rest) {
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

StatusOr<TasksCommand> parse_reassign(TasksCommand c, std::string_view rest) {
  std::string_view task = next_word(rest);
  std::string_view user = next_word(rest);
  if (task.empty() || user.empty() || rest.empty()) {
    return invalid_argument("Usage: `/tasks reassign 42 @user reason…` (the reason is required)");
  }
  auto n = parse_task_number(task);
  if (!n) return invalid_argument("`" + std::string(task) + "` is not a task number");
  auto u = parse_user_ref(user);
  if (!u) return invalid_argument("`" + std::string(user) + "` is not a user: mention them with @");
  c.tasks.push_back(*n);
  c.user = *u;
  c.text = std::string(rest);
  return c;
}

StatusOr<TasksCommand> parse_delegate(TasksCommand c, std::string_view rest) {
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

// `/tasks access` (yours) or `/tasks access @user`.
StatusOr<TasksCommand> parse_access(TasksCommand c, std::string_view rest) {
  std::string_view who = next_word(rest);
  if (who.empty()) return c;
  auto u = parse_user_ref(who);
  if (!u || !rest.empty()) return invalid_argument("Usage: `/tasks access [@user]`");
  c.user = *u;
  return c;
}

// `/tasks extend app/resource [8h] [--] why…`: the justification after `--`,
// or the words after the target and duration.
StatusOr<TasksCommand> parse_extend(TasksCommand c, std::string_view rest) {
  constexpr const char* kUsage =
      "Usage: `/tasks extend app/resource [8h] -- why` (the justification is required)";
  auto [words, why] = split_dashes(rest);
  c.target = std::string(next_word(words));
  std::string_view after_target = words;  // next_word leaves no leading space
  if (auto d = parse_duration(next_word(words))) {
    c.duration = d;
  } else {
    words = after_target;  // no duration: the justification starts here
  }
  if (why.empty()) {
    why = std::string(words.substr(0, words.find_last_not_of(" \t\n") + 1));
  } else if (std::string_view extra = next_word(words); !extra.empty()) {
    return invalid_argument("I don't understand `" + std::string(extra) + "`. " + kUsage);
  }
  c.text = why;
  if (c.target.empty() || c.text.empty()) return invalid_argument(kUsage);
  return c;
}

// `/tasks done app/resource`: end your own access now.
StatusOr<TasksCommand> parse_end(TasksCommand c, std::string_view rest) {
  c.target = std::string(next_word(rest));
  if (c.target.empty() || !rest.empty())
    return invalid_argument("Usage: `/tasks done app/resource`");
  return c;
}

StatusOr<TasksCommand> parse_comment(TasksCommand c, std::string_view rest) {
  std::string_view task = next_word(rest);
  if (task.empty() || rest.empty()) return invalid_argument("Usage: `/tasks comment 42 text…`");
  auto n = parse_task_number(task);
  if (!n) return invalid_argument("`" + std::string(task) + "` is not a task number");
  c.tasks.push_back(*n);
  c.text = std::string(rest);
  return c;
}

}  // namespace

StatusOr<TasksCommand> parse_tasks_command(std::string_view text) {
  using Verb = TasksCommand::Verb;
  std::string_view rest = text;
  std::string_view verb = next_word(rest);
  TasksCommand c;
  if (verb == "help") return c;
  if (verb.empty() || verb == "list") {
    c.verb = Verb::list;
    return parse_list(std::move(c), rest);
  }
  // `/tasks done` alone is the completed list (a tab alias); with a target it ends access.
  if (verb == "done" && !rest.empty()) {
    c.verb = Verb::end;
    return parse_end(std::move(c), rest);
  }
  for (std::size_t i = 0; i < kTabAliases; ++i) {
    const auto& [word, name] = kTabs[i];
    if (verb == word) {  // "/tasks requests" is "/tasks list requests"
      c.verb = Verb::list;
      c.tab = name;
      return c;
    }
  }
  if (auto action = parse_action(verb); action && command_action(*action)) {
    c.verb = Verb::act;
    c.action = *action;
    return parse_act(std::move(c), verb, rest);
  }
  using Parse = StatusOr<TasksCommand> (*)(TasksCommand, std::string_view);
  static constexpr std::tuple<std::string_view, Verb, Parse> kVerbs[] = {
      {"show", Verb::show, parse_show},
      {"request", Verb::request, parse_request},
      {"revoke", Verb::revoke, parse_revoke},
      {"reassign", Verb::reassign, parse_reassign},
      {"delegate", Verb::delegate, parse_delegate},
      {"comment", Verb::comment, parse_comment},
      {"access", Verb::access, parse_access},
      {"extend", Verb::extend, parse_extend},
  };
  for (const auto& [word, v, parse] : kVerbs) {
    if (verb != word) continue;
    c.verb = v;
    return parse(std::move(c), rest);
  }
  return invalid_argument("I don't know `/tasks " + std::string(verb) + "`. Try `/tasks help`.");
}

// ---- Running a command ----

namespace {

using http::Response;
using slack::kit::esc;
using slack::kit::Mrkdwn;

// How a command is answered, copied into the completions of what it asks for.
// Answers are ephemeral mrkdwn: Tollgate's own markup (answer) or plain text
// shown as written (reply).
struct Answer {
  SlackContext* ctx;
  http::Respond respond;

  void answer(const Mrkdwn& text) const {
    respond(Response::json(200, slack::kit::ephemeral_answer(slack::kit::text_message(text))));
  }
  void reply(const std::string& plain) const { answer(esc(plain)); }
  void unavailable() const { respond(unavailable_response()); }
  void count(const char* metric, const Metrics::Labels& labels) const {
    ctx->metrics.inc(metric, labels);
  }
  // The completion of a change: its summary, or why it was refused.
  TaskService::Done decided(std::string action) const {
    return [a = *this, action](StatusOr<Decision> d) {
      a.count("tollgate_decisions_total",
              {{"action", action}, {"outcome", std::string(code_name(d.status().code()))}});
      if (d.ok()) return a.reply(d->summary + ".");
      if (d.code() == Code::unavailable) return a.unavailable();
      a.reply(d.status().message());
    };
  }
};

// One command of a person the directory knows, being run.
class Run {
 public:
  Run(SlackContext& ctx, http::Respond respond, PersonId person)
      : ctx_(ctx),
        answer_{&ctx, std::move(respond)},
        person_(std::move(person)),
        engine_(ctx.service.engine()),
        dir_(engine_->directory()) {}

  // Stored as the person typed it: Slack's escaping undone and its mentions
  // and links read as text, once, here.
  std::string plain(const std::string& typed) const {
    return slack::plain_text(typed, [this](const std::string& id) {
      auto p = ctx_.identity.person_for(id);
      return p ? dir_.display_name(*p) : std::string();
    });
  }

  void run(const TasksCommand& cmd) {
    using Verb = TasksCommand::Verb;
    switch (cmd.verb) {
      case Verb::help:
        return answer_.reply(tasks_help());
      case Verb::list:
        return list(cmd.tab);
      case Verb::show:
        return show(cmd.tasks[0]);
      case Verb::act:
        return act(cmd);
      case Verb::reassign:
        return reassign(cmd);
      case Verb::comment: {
        Command c{Action::comment, person_, cmd.text, {}, std::nullopt, "command", {}, {}};
        return ctx_.service.act(cmd.tasks[0], c, answer_.decided("comment"));
      }
      case Verb::request:
        return request(cmd);
      case Verb::revoke:
        return revoke(cmd);
      case Verb::delegate:
        return delegate(cmd);
      case Verb::access:
        return access(cmd);
      case Verb::extend:
        return extend(cmd);
      case Verb::end:
        return end(cmd);
    }
  }

 private:
  // The person a mention or "@id" names.
  StatusOr<PersonId> person_of(const UserRef& u) const {
    if (!u.slack_user_id.empty()) {
      if (auto p = ctx_.identity.person_for(u.slack_user_id)) return *p;
      ctx_.identity.learn_user(u.slack_user_id);
      return not_found("The Slack user " + u.slack_user_id + " is not in Tollgate's directory.");
    }
    if (dir_.person(u.person) == nullptr)
      return not_found("No person `" + u.person + "` in the directory.");
    return u.person;
  }

  // Open tasks assigned to the person, those of one App Home tab (the tab
  // rule is the App Home's, slack::home_tab_of), or the newest 200 completed
  // they took part in, newest first.
  void list(const std::string& tab) {
    TaskFilter f;
    f.limit = 200;
    if (tab == "completed") {
      f.involving = person_;
      f.open = false;
      f.newest_first = true;
    } else {
      f.assignee = person_;
      f.open = true;
    }
    auto tasks = ctx_.store.tasks(f);
    if (!tasks.ok()) return answer_.unavailable();
    std::vector<const Task*> shown;
    for (const Task& t : *tasks) {
      if (tab.empty() || tab == "completed" || slack::home_tab_of(t) == tab) shown.push_back(&t);
    }
    std::string title = tab.empty() ? "Your open tasks" : "Your tasks: " + tab;
    if (shown.empty()) return answer_.reply(title + ": none.");
    answer_.answer(slack::task_list(*engine_, title, shown));
  }

  void show(TaskNumber n) {
    auto t = ctx_.store.task(n);
    if (t.code() == Code::unavailable) return answer_.unavailable();
    // Need to know: a task that does not exist and one that is not theirs read the same.
    if (!t.ok() || !involved(dir_, *t, person_)) return answer_.reply(task_not_shown(n).message());
    answer_.answer(slack::task_text(*engine_, *t, person_));
  }

  void act(const TasksCommand& cmd) {
    Command act{cmd.action, person_, cmd.text, {}, std::nullopt, "command", {}, {}};
    act.duration = cmd.duration;  // `approve … --for 4h`
    std::string name(action_name(cmd.action));
    // No step in the text: each task is pinned to the step open as the command
    // arrives (TaskService::act_many), so a second `/tasks approve 42` after the
    // first moved the task on is told "already approved by …".
    std::vector<BulkTarget> targets;
    for (TaskNumber n : cmd.tasks) targets.push_back({n, std::nullopt});
    Status queued = ctx_.service.act_many(
        std::move(targets), act, [a = answer_, name](std::vector<BulkResult> results) {
          std::string text;  // plain: the emoji codes read the same once escaped
          for (const BulkResult& r : results) {
            a.count(
                "tollgate_decisions_total",
                {{"action", name}, {"outcome", std::string(code_name(r.outcome.status().code()))}});
            text += (text.empty() ? "" : "\n") +
                    std::string(r.outcome.ok() ? ":white_check_mark: " : ":no_entry: ") +
                    (r.outcome.ok()
                         ? r.outcome->summary
                         : "#" + std::to_string(r.task) + ": " + r.outcome.status().message());
          }
          a.reply(text);
        });
    if (!queued.ok()) answer_.reply(queued.message());
  }

  void reassign(const TasksCommand& cmd) {
    auto to = person_of(cmd.user);
    if (!to.ok()) return answer_.reply(to.status().message());
    // The step open as the command arrives, as for the decisions above.
    Command act{Action::reassign, person_, cmd.text, *to, std::nullopt, "command", {}, {}};
    act.step = ctx_.service.open_step_now(cmd.tasks[0]);
    ctx_.service.act(cmd.tasks[0], act, answer_.decided("reassign"));
  }

  void request(const TasksCommand& cmd) {
    auto target = resolve_target(dir_, slack::unescape(cmd.target));
    if (!target.ok()) return answer_.reply(target.status().message());
    RequestInput in{person_,  {},           target->first, target->second,
                    cmd.text, cmd.duration, cmd.emergency};
    if (!cmd.user.slack_user_id.empty() || !cmd.user.person.empty()) {
      auto subject = person_of(cmd.user);
      if (!subject.ok()) return answer_.reply(subject.status().message());
      in.subject = *subject;
    }
    ctx_.service.request(in, answer_.decided("request"));
  }

  void revoke(const TasksCommand& cmd) {
    auto target = resolve_target(dir_, slack::unescape(cmd.target));
    if (!target.ok()) return answer_.reply(target.status().message());
    auto subject = person_of(cmd.user);
    if (!subject.ok()) return answer_.reply(subject.status().message());
    RevocationInput in{person_, *subject, target->first, target->second, cmd.text};
    ctx_.service.revoke(in, answer_.decided("revoke"));
  }

  // `/tasks delegate off`, `/tasks delegate` (shows it), `/tasks delegate @user until <day>`.
  void delegate(const TasksCommand& cmd) {
    Time now = engine_->clock().now();
    if (cmd.off) {
      return ctx_.service.end_delegation(person_, person_, [a = answer_](Status s) {
        a.count("tollgate_delegations_total",
                {{"change", "off"}, {"outcome", std::string(code_name(s.code()))}});
        if (s.code() == Code::unavailable) return a.unavailable();
        if (s.code() == Code::not_found) return a.reply("You have no delegate set.");
        a.reply(s.ok() ? "Welcome back: your new reviews come to you again." : s.message());
      });
    }
    if (!cmd.until) return show_delegation(now);
    auto to = person_of(cmd.user);
    if (!to.ok()) return answer_.reply(to.status().message());
    Delegation d{person_, *to, *cmd.until, person_, now};
    std::string name = dir_.display_name(*to);
    std::string until = format_date(*cmd.until - std::chrono::days(1));
    ctx_.service.delegate(d, [a = answer_, name, until](Status s) {
      a.count("tollgate_delegations_total",
              {{"change", "set"}, {"outcome", std::string(code_name(s.code()))}});
      if (s.code() == Code::unavailable) return a.unavailable();
      if (!s.ok()) return a.reply(s.message());
      a.reply(":palm_tree: Until the end of " + until + ", your new reviews go to " + name +
              ". Tasks already yours stay with you. `/tasks delegate off` ends it early.");
    });
  }

  void show_delegation(Time now) {
    for (const Delegation& d : ctx_.service.delegations()) {
      if (d.person == person_ && now < d.until) {
        return answer_.reply("Your new reviews go to " + dir_.display_name(d.delegate) + " until " +
                             format_instant(d.until) + ". `/tasks delegate off` ends it.");
      }
    }
    answer_.reply("You have no delegate. `/tasks delegate @user until 2026-12-24` sets one.");
  }

  // `/tasks access [@user]`: the ledger's rows of the person, each with its end.
  // Shown to the person themself, a manager up their chain and an admin; an
  // owner of apps sees the rows of those apps only. Anyone else is refused.
  void access(const TasksCommand& cmd) {
    PersonId whose = person_;
    if (!cmd.user.slack_user_id.empty() || !cmd.user.person.empty()) {
      auto p = person_of(cmd.user);
      if (!p.ok()) return answer_.reply(p.status().message());
      whose = *p;
    }
    bool everything = whose == person_ || dir_.is_admin(person_) || dir_.manages(person_, whose);
    std::vector<std::string> apps = owned_apps();
    if (!everything && apps.empty()) {
      return answer_.reply(
          "You can see your own access, your reports' (as their manager) and, "
          "as an app owner, the access to your apps: not " +
          dir_.display_name(whose) + "'s.");
    }
    auto rows = ctx_.store.holdings({.person = whose});
    if (!rows.ok()) return answer_.unavailable();
    std::vector<const Holding*> shown;
    for (const Holding& h : *rows) {
      if (everything || std::find(apps.begin(), apps.end(), h.app) != apps.end())
        shown.push_back(&h);
    }
    std::string title = whose == person_ ? "Your access" : dir_.display_name(whose) + "'s access";
    if (!everything) title += " to your apps";
    if (shown.empty()) return answer_.reply(title + ": none.");
    answer_.answer(access_list(title, shown));
  }

  // The title with the count, then a line per row (at most 20, then how many more).
  slack::kit::Mrkdwn access_list(const std::string& title,
                                 const std::vector<const Holding*>& shown) const {
    using namespace slack::kit::literals;
    constexpr std::size_t kShown = 20;
    Time now = engine_->clock().now();
    Mrkdwn text = "*"_md + esc(title + " (" + std::to_string(shown.size()) + ")") + "*"_md;
    for (std::size_t i = 0; i < shown.size() && i < kShown; ++i)
      text += "\n• "_md + slack::access_line(dir_, *shown[i], now);
    if (shown.size() > kShown)
      text += esc("\n…and " + std::to_string(shown.size() - kShown) + " more.");
    return text;
  }

  // The apps the person owns.
  std::vector<std::string> owned_apps() const {
    std::vector<std::string> apps;
    for (const App& a : dir_.apps) {
      if (std::find(a.owners.begin(), a.owners.end(), person_) != a.owners.end())
        apps.push_back(a.id);
    }
    return apps;
  }

  // `/tasks extend`: a request of the caller for their own access; the service
  // makes it an extension when the access is held with an end, and refuses it
  // when held without one. Access not held is sent to `/tasks request`.
  void extend(const TasksCommand& cmd) {
    auto target = resolve_target(dir_, slack::unescape(cmd.target));
    if (!target.ok()) return answer_.reply(target.status().message());
    auto held = ctx_.store.holdings(
        {.person = person_, .app = target->first, .resource = target->second, .limit = 1});
    if (!held.ok()) return answer_.unavailable();
    if (held->empty()) {
      return answer_.reply("You do not hold " + target_name(*target) + ": `/tasks request " +
                           target->first + "/" + target->second + " -- why` asks for it.");
    }
    RequestInput in{person_, person_, target->first, target->second, cmd.text, cmd.duration, false};
    ctx_.service.request(in, answer_.decided("extend"));
  }

  // `/tasks done app/resource`: the caller ends their own access now.
  void end(const TasksCommand& cmd) {
    auto target = resolve_target(dir_, slack::unescape(cmd.target));
    if (!target.ok()) return answer_.reply(target.status().message());
    ctx_.service.end_access_of(person_, target->first, target->second, person_,
                               [a = answer_](StatusOr<std::string> line) {
                                 if (line.code() == Code::unavailable) return a.unavailable();
                                 a.reply(line.ok() ? *line : line.status().message());
                               });
  }

  std::string target_name(const std::pair<std::string, std::string>& t) const {
    const App* app = dir_.app(t.first);
    const Resource* res = dir_.resource(t.first, t.second);
    return (app ? app->name : t.first) + " / " + (res ? res->name : t.second);
  }

  SlackContext& ctx_;
  Answer answer_;
  PersonId person_;
  std::shared_ptr<const Engine> engine_;
  const Directory& dir_;
};

}  // namespace

void run_tasks_command(SlackContext& ctx, const slack::SlashCommand& c, http::Respond respond) {
  if (ctx.foreign_team(c.team_id, c.enterprise_id, respond)) return;
  Answer answer{&ctx, respond};
  auto parsed = parse_tasks_command(c.text);
  // The parser quotes the words it could not read as Slack sent them: shown as typed.
  if (!parsed.ok()) return answer.reply(slack::unescape(parsed.status().message()));
  if (parsed->verb == TasksCommand::Verb::help) return answer.reply(tasks_help());
  auto person = ctx.identity.person_for(c.user_id);
  if (!person) {
    ctx.identity.learn_user(c.user_id);
    return answer.reply(kUnknownSlackUser);
  }
  Run run(ctx, std::move(respond), *person);
  parsed->text = run.plain(parsed->text);
  run.run(*parsed);
}

}  // namespace tollgate
