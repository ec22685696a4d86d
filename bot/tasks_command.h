// The grammar of the /tasks slash command. Parsing only: what the words mean
// is decided by the router against the directory and the engine.
//
//   /tasks [help]
//   /tasks reassign <task> <user> <reason…>
//   /tasks comment <task> <text…>
//
// <task> is "42" or "#42". <user> is a Slack mention as Slack escapes it
// ("<@U123|bo>" or "<@U123>") or "@person-id".
#pragma once

#include <string>
#include <string_view>

#include "workflow/status.h"
#include "workflow/task.h"

namespace tollgate {

struct UserRef {
  std::string slack_user_id;  // from a mention
  std::string person;         // from "@id"
};

struct TasksCommand {
  enum class Verb { help, reassign, comment };
  Verb verb = Verb::help;
  TaskNumber task = 0;
  UserRef user;
  std::string text;  // the reason, or the comment
};

// Code::invalid_argument with a message fit for the user on bad syntax.
StatusOr<TasksCommand> parse_tasks_command(std::string_view text);
std::string tasks_help();

// "<@U123|bo>", "<@U123>" or "@bo"; nullopt for anything else.
std::optional<UserRef> parse_user_ref(std::string_view token);
std::optional<TaskNumber> parse_task_number(std::string_view token);

}  // namespace tollgate
