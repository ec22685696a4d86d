#include "bot/tasks_command.h"

#include <charconv>
#include <vector>

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
         "• `/tasks help` — this help\n"
         "• `/tasks reassign 42 @user reason…` — hand task #42 to someone else, with a reason\n"
         "• `/tasks comment 42 text…` — comment on task #42 (posted into its threads)";
}

StatusOr<TasksCommand> parse_tasks_command(std::string_view text) {
  std::string_view rest = text;
  std::string_view verb = next_word(rest);
  TasksCommand c;
  if (verb.empty() || verb == "help") return c;
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
    c.task = *n;
    c.user = *u;
    c.text = std::string(rest);
    return c;
  }
  if (verb == "comment") {
    c.verb = TasksCommand::Verb::comment;
    std::string_view task = next_word(rest);
    if (task.empty() || rest.empty()) return invalid_argument("Usage: `/tasks comment 42 text…`");
    auto n = parse_task_number(task);
    if (!n) return invalid_argument("`" + std::string(task) + "` is not a task number");
    c.task = *n;
    c.text = std::string(rest);
    return c;
  }
  return invalid_argument("I don't know `/tasks " + std::string(verb) + "`. Try `/tasks help`.");
}

}  // namespace tollgate
