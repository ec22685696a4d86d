#include "slack/views.h"

#include "base/time_text.h"
#include "slack/actions.h"

namespace tollgate::slack {
namespace {

using kit::esc;
using kit::Mrkdwn;
using namespace kit::literals;

void reason_input(kit::Blocks& b, const std::string& label, bool optional,
                  const std::string& hint) {
  b.input(kReasonBlock, label, kit::TextInput{std::string(kReasonInput), true, 2000}, optional,
          hint);
}

Mrkdwn headline(const Task& t) {
  std::string what = t.kind == TaskKind::grant ? "Access request" : "Revocation";
  return "*"_md + esc(what + " #" + std::to_string(t.number)) + "*: "_md +
         esc(t.app_name + " / " + t.resource_name);
}

// The duration asked, typed ("4h"), with the choices in its hint. Read back
// by the submission as kDurationInput's value (or a select's option).
std::string capitalised(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// A duration picker (a static_select of `choices`, each valued as its
// duration text, "4h"); a text field for one when there is no choice.
void duration_input(kit::Blocks& b, const std::string& label,
                    const std::vector<Duration>& choices, const std::string& bound) {
  std::string hint = bound.empty() ? std::string() : capitalised(bound) + ".";
  if (choices.empty()) {
    b.input(kDurationBlock, label, kit::TextInput{std::string(kDurationInput), false, 20}, false,
            "A duration such as 4h or 2d" + (bound.empty() ? "" : " (" + bound + ")") + ".");
    return;
  }
  kit::StaticSelect select{std::string(kDurationInput), "How long", {}};
  for (Duration d : choices) select.options.push_back({format_duration(d), format_duration(d)});
  b.input(kDurationBlock, label, select, false, hint);
}

}  // namespace

kit::Modal reason_modal(const Task& task, Action action, int step, bool required) {
  std::string title = action == Action::deny               ? "Deny"
                      : action == Action::approve          ? "Approve"
                      : action == Action::confirm          ? "Confirm"
                      : action == Action::wont_provision   ? "Won't provision"
                      : action == Action::wont_deprovision ? "Won't deprovision"
                                                           : "Reason";
  kit::Modal m;
  m.callback_id = std::string(kReasonModal);
  m.private_metadata = std::string(action_name(action)) + ":" + task_ref(task.number, step);
  m.title = title + " #" + std::to_string(task.number);
  m.submit = title;
  m.close = "Cancel";
  m.blocks.section(headline(task));
  reason_input(m.blocks, required ? "Reason (required)" : "Reason", !required,
               "Posted on the task and shown to the requester.");
  return m;
}

std::vector<Duration> duration_choices(std::optional<Duration> limit, bool inclusive) {
  using std::chrono::hours;
  using std::chrono::minutes;
  const Duration all[] = {minutes(1), minutes(5), minutes(30), hours(1),   hours(4),   hours(8),
                          hours(24),  hours(72),  hours(168),  hours(336), hours(720)};
  std::vector<Duration> out;
  for (Duration d : all) {
    if (!limit || d < *limit || (inclusive && d == *limit)) out.push_back(d);
  }
  return out;
}

kit::Modal approve_for_modal(const Task& task, int step) {
  kit::Modal m;
  m.callback_id = std::string(kApproveForModal);
  m.private_metadata = task_ref(task.number, step);
  m.title = "Approve #" + std::to_string(task.number);
  m.submit = "Approve";
  m.close = "Cancel";
  m.blocks.section(headline(task));
  duration_input(m.blocks, "Approve for", duration_choices(task.duration, false),
                 task.duration ? "shorter than the " + format_duration(*task.duration) + " requested"
                               : "");
  reason_input(m.blocks, "Comment", true, "Posted on the task and shown to the requester.");
  return m;
}

kit::Modal extend_modal(const Directory& dir, const std::string& app, const std::string& resource) {
  const App* a = dir.app(app);
  const Resource* r = dir.resource(app, resource);
  std::optional<Duration> max = r != nullptr ? r->max_duration : std::nullopt;
  kit::Modal m;
  m.callback_id = std::string(kExtendModal);
  m.private_metadata = access_ref(app, resource);
  m.title = "Extend your access";
  m.submit = "Ask";
  m.close = "Cancel";
  m.blocks.section("*"_md + esc((a ? a->name : app) + " / " + (r ? r->name : resource)) + "*"_md);
  duration_input(m.blocks, "How much longer", duration_choices(max, true),
                 max ? "at most " + format_duration(*max) : "");
  reason_input(m.blocks, "Why (required)", false, "Shown to the reviewers of the extension.");
  return m;
}

kit::Modal reassign_modal(const Task& task, int step) {
  kit::Modal m;
  m.callback_id = std::string(kReassignModal);
  m.private_metadata = task_ref(task.number, step);
  m.title = "Reassign #" + std::to_string(task.number);
  m.submit = "Reassign";
  m.close = "Cancel";
  m.blocks.section(headline(task));
  m.blocks.input(kAssigneeBlock, "Reassign to",
                 kit::UsersSelect{std::string(kAssigneeInput), "Choose a person"}, false);
  reason_input(m.blocks, "Reason (required)", false,
               "Posted on the task and sent to the new assignee.");
  return m;
}

kit::Modal bulk_modal(Action action, const std::vector<TaskRef>& tasks) {
  std::string meta = std::string(action_name(action)) + ":" + task_refs(tasks);
  std::string list;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    list += (i ? ", #" : "#") + std::to_string(tasks[i].task);
  kit::Modal m;
  m.callback_id = std::string(kBulkModal);
  m.private_metadata = meta;
  m.title = std::to_string(tasks.size()) + " tasks";
  m.submit = "Go";
  m.close = "Cancel";
  m.blocks.section("*"_md + esc(capitalised(outcome_verb(action))) + "*: "_md + esc(list));
  reason_input(m.blocks, "One comment for all of them", action != Action::deny,
               "Posted on each task. Steps that require a reason need one.");
  return m;
}

kit::Modal bulk_result_view(Action action, const std::vector<BulkResult>& results) {
  int done = 0;
  for (const BulkResult& r : results) done += r.outcome.ok();
  kit::Modal m;
  m.callback_id = "tollgate.bulk_result";
  m.title = std::to_string(done) + " of " + std::to_string(results.size()) + " done";
  m.close = "Close";
  m.blocks.section("*"_md + esc(action_name(action)) + "*: "_md +
                   esc(std::to_string(done) + " done, " +
                       std::to_string(results.size() - static_cast<std::size_t>(done)) +
                       " refused"));
  // Several results to a section, to stay within 100 blocks for 100 tasks.
  Mrkdwn text;
  auto flush = [&] {
    if (!text.empty()) m.blocks.section(text);
    text = Mrkdwn();
  };
  for (const BulkResult& r : results) {
    Mrkdwn line = r.outcome.ok() ? ":white_check_mark: "_md + esc(r.outcome->summary)
                                 : ":no_entry: "_md + esc("#" + std::to_string(r.task) + ": " +
                                                          r.outcome.status().message());
    if (kit::text_length(text.str()) + kit::text_length(line.str()) + 1 > 2900) flush();
    text += (text.empty() ? Mrkdwn() : "\n"_md) + line;
  }
  flush();
  return m;
}

}  // namespace tollgate::slack
