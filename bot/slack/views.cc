#include "bot/slack/views.h"

#include "bot/json.h"
#include "bot/slack/actions.h"

namespace tollgate::slack {
namespace {

void plain(json::Writer& w, std::string_view key, const std::string& text) {
  json::key(w, key);
  w.StartObject();
  json::kv(w, "type", "plain_text");
  json::kv(w, "text", text);
  w.EndObject();
}

void section(json::Writer& w, const std::string& mrkdwn) {
  w.StartObject();
  json::kv(w, "type", "section");
  json::key(w, "text");
  w.StartObject();
  json::kv(w, "type", "mrkdwn");
  json::kv(w, "text", truncate(mrkdwn, 3000));
  w.EndObject();
  w.EndObject();
}

void reason_input(json::Writer& w, const std::string& label, bool optional,
                  const std::string& hint) {
  w.StartObject();
  json::kv(w, "type", "input");
  json::kv(w, "block_id", kReasonBlock);
  w.Key("optional");
  w.Bool(optional);
  plain(w, "label", label);
  if (!hint.empty()) plain(w, "hint", hint);
  json::key(w, "element");
  w.StartObject();
  json::kv(w, "type", "plain_text_input");
  json::kv(w, "action_id", kReasonInput);
  w.Key("multiline");
  w.Bool(true);
  w.Key("max_length");
  w.Int(2000);
  w.EndObject();
  w.EndObject();
}

std::string headline(const Task& t) {
  std::string what = t.kind == TaskKind::grant ? "Access request" : "Revocation";
  return "*" + what + " #" + std::to_string(t.number) + "*: " + t.app_name + " / " +
         t.resource_name;
}

}  // namespace

std::string truncate(const std::string& text, std::size_t max) {
  // Count code points; cut on a code point boundary.
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (++count > max) {
        std::string out = text.substr(0, i);
        // Make room for the ellipsis: drop one more code point.
        std::size_t j = out.size();
        while (j > 0 && (static_cast<unsigned char>(out[j - 1]) & 0xC0) == 0x80) --j;
        if (j > 0) --j;
        out.resize(j);
        return out + "…";
      }
    }
  }
  return text;
}

std::string reason_modal(const Task& task, Action action, int step, bool required) {
  std::string title = action == Action::deny               ? "Deny"
                      : action == Action::approve          ? "Approve"
                      : action == Action::confirm          ? "Confirm"
                      : action == Action::wont_provision   ? "Won't provision"
                      : action == Action::wont_deprovision ? "Won't deprovision"
                                                           : "Reason";
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", "modal");
  json::kv(w, "callback_id", kReasonModal);
  json::kv(w, "private_metadata",
           std::string(action_name(action)) + ":" + task_ref(task.number, step));
  plain(w, "title", title + " #" + std::to_string(task.number));
  plain(w, "submit", title);
  plain(w, "close", "Cancel");
  json::key(w, "blocks");
  w.StartArray();
  section(w, headline(task));
  reason_input(w, required ? "Reason (required)" : "Reason", !required,
               "Posted on the task and shown to the requester.");
  w.EndArray();
  w.EndObject();
  return json::text(b);
}

std::string reassign_modal(const Task& task, int step) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", "modal");
  json::kv(w, "callback_id", kReassignModal);
  json::kv(w, "private_metadata", task_ref(task.number, step));
  plain(w, "title", "Reassign #" + std::to_string(task.number));
  plain(w, "submit", "Reassign");
  plain(w, "close", "Cancel");
  json::key(w, "blocks");
  w.StartArray();
  section(w, headline(task));
  w.StartObject();
  json::kv(w, "type", "input");
  json::kv(w, "block_id", kAssigneeBlock);
  plain(w, "label", "Reassign to");
  json::key(w, "element");
  w.StartObject();
  json::kv(w, "type", "users_select");
  json::kv(w, "action_id", kAssigneeInput);
  plain(w, "placeholder", "Choose a person");
  w.EndObject();
  w.EndObject();
  reason_input(w, "Reason (required)", false, "Posted on the task and sent to the new assignee.");
  w.EndArray();
  w.EndObject();
  return json::text(b);
}

std::string views_open_body(const std::string& trigger_id, const std::string& view_json) {
  return "{\"trigger_id\":" + json::quote(trigger_id) + ",\"view\":" + view_json + "}";
}

std::string bulk_modal(Action action, const std::vector<TaskNumber>& tasks) {
  std::string meta = std::string(action_name(action)) + ":";
  for (std::size_t i = 0; i < tasks.size(); ++i) meta += (i ? "," : "") + std::to_string(tasks[i]);
  std::string verb = outcome_verb(action);
  verb[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(verb[0])));
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", "modal");
  json::kv(w, "callback_id", kBulkModal);
  json::kv(w, "private_metadata", truncate(meta, 3000));
  plain(w, "title", truncate(std::to_string(tasks.size()) + " tasks", 24));
  plain(w, "submit", "Go");
  plain(w, "close", "Cancel");
  json::key(w, "blocks");
  w.StartArray();
  std::string list;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    list += (i ? ", " : "") + std::string("#") + std::to_string(tasks[i]);
  section(w, "*" + verb + "*: " + list);
  reason_input(w, "One comment for all of them", action != Action::deny,
               "Posted on each task. Steps that require a reason need one.");
  w.EndArray();
  w.EndObject();
  return json::text(b);
}

std::string bulk_result_view(Action action, const std::vector<BulkResult>& results) {
  int done = 0;
  for (const BulkResult& r : results) done += r.outcome.ok();
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", "modal");
  json::kv(w, "callback_id", "tollgate.bulk_result");
  plain(w, "title",
        truncate(std::to_string(done) + " of " + std::to_string(results.size()) + " done", 24));
  plain(w, "close", "Close");
  json::key(w, "blocks");
  w.StartArray();
  section(w, "*" + std::string(action_name(action)) + "*: " + std::to_string(done) + " done, " +
                 std::to_string(results.size() - static_cast<std::size_t>(done)) + " refused");
  // Several results to a section, to stay within 100 blocks for 100 tasks.
  std::string text;
  auto flush = [&] {
    if (!text.empty()) section(w, text);
    text.clear();
  };
  for (const BulkResult& r : results) {
    std::string line = r.outcome.ok() ? ":white_check_mark: " + r.outcome->summary
                                      : ":no_entry: #" + std::to_string(r.task) + ": " +
                                            r.outcome.status().message();
    if (text.size() + line.size() + 1 > 2900) flush();
    text += (text.empty() ? "" : "\n") + line;
  }
  flush();
  w.EndArray();
  w.EndObject();
  return json::text(b);
}

}  // namespace tollgate::slack
