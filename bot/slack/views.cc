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

}  // namespace tollgate::slack
