// Tollgate's messages, the details modal and the /tasks answers, rendered
// with the Block Kit vocabulary (block_kit.h), which holds Slack's limits and
// escapes every piece of user text. Pure: from a task (and the directory, for
// names) to a message, so that every message can be checked without Slack.
#pragma once

#include <optional>
#include <string>

#include "slack/block_kit.h"
#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::slack {

using kit::Message;

// The message of step `step` of `task` as `viewer` sees it in their DM: with
// the step's buttons while the step is open and theirs; afterwards the same
// facts with the outcome (who decided, when, why) and no buttons.
Message task_message(const Engine& engine, const Task& task, const PersonId& viewer, int step);

// A reviewer who approved for less than was requested (the notify effect's
// data "duration" and "duration_by").
struct Shortened {
  std::string duration;  // "4h", as the effect carries it
  PersonId by;
};

// What the requester (or subject) is told when the task moves on: `event` is
// the effect's event ("approved", "denied", "granted", ...), `by` who did it;
// `shortened`: for how long instead, and who chose it.
Message notification(const Engine& engine, const Task& task, const PersonId& recipient,
                     const std::string& event, const PersonId& by,
                     const std::optional<Shortened>& shortened = std::nullopt);

// A notice to a holder about their own access (EffectKind::access_notice).
struct AccessNotice {
  // "ending_soon": with Extend… and I'm done; "expired", "ended" (by the
  // holder), "ending" (removed by hand under `ending_task`).
  std::string event;
  std::string app;
  std::string resource;
  std::optional<Time> expires_at;
  TaskNumber ending_task = 0;
  // "ending": who the deprovisioning task waits for (the task's assignees).
  std::vector<PersonId> deprovisioners;
  // "ended": when, if known (the notice replaced after an "I'm done" click).
  std::optional<Time> at;
};
Message access_notice(const Engine& engine, const AccessNotice& notice);
// Extend… (when `extend`) and I'm done for access to app/resource: the same
// words and confirmation on every surface (the "ends soon" DM, My access).
std::vector<kit::Element> access_buttons(const Directory& dir, const std::string& app,
                                         const std::string& resource, bool extend);

// A reminder to `recipient` (Slack user `slack_id`, mentioned) that the open
// step of `task` has been waiting `waiting` ("1d 2h") for them. `standalone`:
// posted as a DM of its own (no message of theirs to reply under), so it
// names the task in full.
Message reminder(const Engine& engine, const Task& task, const PersonId& recipient,
                 const std::string& slack_id, const std::string& waiting, bool standalone);

// A comment posted into a task's thread, marked with who wrote it.
Message comment_reply(const Directory& dir, const Task& task, const Comment& comment);

// The "View details" modal: the account, the resource, the justification,
// insights, comments and the execution plan with the viewer's role marked.
kit::Modal details_modal(const Engine& engine, const Task& task, const PersonId& viewer);

// A task in one line, for /tasks list: number, kind, who, what and where it stands.
kit::Mrkdwn task_line(const Engine& engine, const Task& task);
// The answer to `/tasks [list] [tab]`: the title with the count, then a task_line per task (at
// most 20, then how many more).
kit::Mrkdwn task_list(const Engine& engine, const std::string& title,
                      const std::vector<const Task*>& shown);
// A task in full, for /tasks show: the facts, insights, the plan (the
// viewer's steps marked) and the latest comments.
kit::Mrkdwn task_text(const Engine& engine, const Task& task, const PersonId& viewer);

// "Access request #42", "Provisioning task #42", "Revocation #57", ...
std::string task_title(const Task& task, int step);

}  // namespace tollgate::slack
