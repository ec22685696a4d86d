// The /tasks slash command: its grammar (parse_tasks_command), and what it
// does for the Slack user who typed it (run_tasks_command), against the
// directory and the engine.
//
//   /tasks [help]
//   /tasks [list] [requests|revocations|provisioning|deprovisioning|completed]
//   /tasks show <task>
//   /tasks approve|deny|confirm|provisioned|wont-provision|deprovisioned|wont-deprovision
//          <task>… [-- comment]
//   /tasks approve <task>… --for <duration> [-- comment]   (approve for less than asked)
//   /tasks retry <task>                         (a connector that failed: try it again)
//   /tasks reassign <task> <user> <reason…>
//   /tasks comment <task> <text…>
//   /tasks request <app>/<resource> [for <user>] [<duration>] [--emergency] -- <justification>
//   /tasks revoke <user> <app>/<resource> -- <reason>
//   /tasks delegate <user> until <YYYY-MM-DD> | /tasks delegate off | /tasks delegate
//   /tasks access [<user>]                      (access held, with its end)
//   /tasks extend <app>/<resource> [<duration>] [--] <justification…>
//   /tasks done <app>/<resource>                (end your own access now; `/tasks done`
//                                                alone is still the completed list)
//
// <task> is "42" or "#42". <user> is a Slack mention as Slack escapes it
// ("<@U123|bo>" or "<@U123>") or "@person-id".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/message.h"
#include "workflow/directory.h"
#include "workflow/task.h"

namespace tollgate {

struct SlackContext;
namespace slack {
struct SlashCommand;
}

struct UserRef {
  std::string slack_user_id;  // from a mention
  std::string person;         // from "@id"
};

struct TasksCommand {
  enum class Verb {
    help,
    list,
    show,
    act,
    reassign,
    comment,
    request,
    revoke,
    delegate,
    access,
    extend,
    end
  };
  Verb verb = Verb::help;
  std::string tab;                  // list: "" (all open), "requests", ... "completed"
  std::vector<TaskNumber> tasks;    // show, act, reassign, comment: the first (act: all)
  Action action = Action::approve;  // act
  UserRef user;        // reassign: to; request: for; revoke, access: whose (access: none, yours)
  std::string target;  // request, revoke, extend, end: "<app>/<resource>" as typed
  std::optional<Duration> duration;  // request, extend: how long; approve: `--for`
  bool emergency = false;
  std::string text;  // the reason, comment or justification
  // delegate: until the end of this day (UTC); "off" ends the delegation;
  // neither (and no user): show it.
  std::optional<Time> until;
  bool off = false;
};

// Code::invalid_argument with a message fit for the user on bad syntax.
StatusOr<TasksCommand> parse_tasks_command(std::string_view text);
std::string tasks_help();

// "<@U123|bo>", "<@U123>" or "@bo"; nullopt for anything else.
std::optional<UserRef> parse_user_ref(std::string_view token);
std::optional<TaskNumber> parse_task_number(std::string_view token);

// "github/admin", "GitHub/Org admin": the app and resource ids, matched by id
// or name (case-insensitive); an unknown or ambiguous name is an error that
// suggests what exists.
StatusOr<std::pair<std::string, std::string>> resolve_target(const Directory& dir,
                                                             std::string_view target);

// Runs /tasks for the Slack user who typed it (the router verified the
// request; the team is checked here). Every answer is an ephemeral message
// (200); a change is answered once it is durably committed, 503 when the
// store does not take it. A person Tollgate does not know is told so.
void run_tasks_command(SlackContext& context, const slack::SlashCommand& command,
                       http::Respond respond);

}  // namespace tollgate
