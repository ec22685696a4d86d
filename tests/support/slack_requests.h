// Requests shaped exactly as Slack sends them, signed with the test secret:
// block_actions and view_submission as form bodies "payload=<json>", slash
// commands as forms, Events API callbacks as JSON. post_signed also checks
// what Tollgate answers by Slack's rules (sandbox/slack_rules.h) and fails
// the test on anything Slack would refuse.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "sandbox/fake_slack.h"
#include "sandbox/slack_rules.h"
#include "slack/payloads.h"
#include "slack/signature.h"
#include "tests/support/http_client.h"
#include "tests/support/tollgate_process.h"
#include "workflow/task.h"

namespace tollgate::testing {

// The fake Slack's names, as the tests that drive Tollgate against it use them.
using sandbox::FakeSlack;
using sandbox::FakeUser;
using sandbox::PostedMessage;
using sandbox::RecordedCall;

inline long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline Headers signed_headers(const std::string& body, const std::string& content_type,
                              long long ts = unix_now(),
                              const std::string& secret = kSigningSecret) {
  std::string t = std::to_string(ts);
  return {{"Content-Type", content_type},
          {"X-Slack-Request-Timestamp", t},
          {"X-Slack-Signature", slack::sign(secret, t, body)}};
}

// A trigger_id of its own for every request built here, as each of Slack's
// has: two requests with the same bytes signed in the same second carry the
// same signature, and Tollgate takes the second for a replay (acknowledged,
// not acted on). A test that means to replay posts the same bytes and headers.
inline std::string fresh_trigger_id() {
  static std::atomic<long long> next{0};
  return std::to_string(++next) + ".4242424242.7e57";
}

inline const char* kForm = "application/x-www-form-urlencoded";
inline const char* kJson = "application/json";

inline std::string form_payload(const std::string& json) {
  return slack::form_encode({{"payload", json}});
}
// The JSON inside a form body "payload=<json>": what a Socket Mode envelope carries instead.
inline std::string payload_of(const std::string& form_body) {
  auto f = slack::parse_form(form_body);
  return f.ok() && f->get("payload") != nullptr ? *f->get("payload") : "";
}

// A click on a button (or an overflow option) of a message in the clicker's DM.
inline std::string block_action(const std::string& user_id, const std::string& action_id,
                                const std::string& value, const std::string& response_url,
                                const std::string& trigger_id = fresh_trigger_id(),
                                const std::string& team = "T0TEST",
                                const std::string& channel = "D0CHAN",
                                const std::string& message_ts = "1700000000.000100") {
  std::string action =
      action_id == "more"
          ? R"({"type":"overflow","action_id":"more","block_id":"b1","selected_option":{"text":{"type":"plain_text","text":"x"},"value":)" +
                json::quote(value) + R"(},"action_ts":"1700000001.000200"})"
          : R"({"type":"button","action_id":)" + json::quote(action_id) +
                R"(,"block_id":"b1","value":)" + json::quote(value) +
                R"(,"text":{"type":"plain_text","text":"Go"},"action_ts":"1700000001.000200"})";
  return form_payload(
      R"({"type":"block_actions","user":{"id":)" + json::quote(user_id) +
      R"(,"username":"someone","name":"someone","team_id":)" + json::quote(team) +
      R"(},"api_app_id":"A0TEST","token":"legacy","container":{"type":"message","message_ts":)" +
      json::quote(message_ts) + R"(,"channel_id":)" + json::quote(channel) +
      R"(,"is_ephemeral":false},"trigger_id":)" + json::quote(trigger_id) + R"(,"team":{"id":)" +
      json::quote(team) +
      R"(,"domain":"test"},"enterprise":null,"is_enterprise_install":false,"channel":{"id":)" +
      json::quote(channel) + R"(,"name":"directmessage"},"message":{"type":"message","ts":)" +
      json::quote(message_ts) + R"(,"text":"task"},"state":{"values":{}},"response_url":)" +
      json::quote(response_url) + R"(,"actions":[)" + action + "]}");
}

// A click on an App Home button (block "bulk"), with rows ticked: for each (task, option value),
// the row block "row:<task>" with its checkbox selected with that value (as "<task>:<step>").
inline std::string home_block_action(
    const std::string& user_id, const std::string& action_id, const std::string& value,
    const std::string& trigger_id,
    const std::vector<std::pair<TaskNumber, std::string>>& ticked = {}) {
  std::string values;
  for (const auto& [n, option] : ticked) {
    values +=
        (values.empty() ? "" : ",") + std::string(R"("row:)") + std::to_string(n) +
        R"(":{"select":{"type":"checkboxes","selected_options":[{"text":{"type":"plain_text","text":"Select"},"value":)" +
        json::quote(option) + "}]}}";
  }
  return form_payload(
      R"({"type":"block_actions","user":{"id":)" + json::quote(user_id) +
      R"(,"username":"u","name":"u","team_id":"T0TEST"},"api_app_id":"A0TEST","token":"legacy","container":{"type":"view","view_id":"V0HOME"},"trigger_id":)" +
      json::quote(trigger_id) +
      R"(,"team":{"id":"T0TEST","domain":"test"},"view":{"id":"V0HOME","team_id":"T0TEST","type":"home","blocks":[],"private_metadata":"requests:0","callback_id":"","state":{"values":{)" +
      values +
      R"(}},"hash":"1.x","root_view_id":"V0HOME","app_id":"A0TEST","bot_id":"B0BOT"},"actions":[{"type":"button","action_id":)" +
      json::quote(action_id) + R"(,"block_id":"bulk","value":)" + json::quote(value) +
      R"(,"action_ts":"1700000001.1"}]})");
}

// A modal submitted with a reason and, for reassignment, a chosen user. As in
// Slack's payload, the view carries its input blocks: one per entry of
// state.values, keyed by their block_id.
inline std::string view_submission(const std::string& user_id, const std::string& callback_id,
                                   const std::string& private_metadata, const std::string& reason,
                                   const std::string& assignee = {},
                                   const std::string& team = "T0TEST") {
  std::string values =
      R"("reason":{"reason":{"type":"plain_text_input","value":)" + json::quote(reason) + "}}";
  std::string blocks =
      R"({"type":"input","block_id":"reason","label":{"type":"plain_text","text":"Reason"},)"
      R"("element":{"type":"plain_text_input","action_id":"reason","multiline":true}})";
  if (!assignee.empty()) {
    values += R"(,"assignee":{"assignee":{"type":"users_select","selected_user":)" +
              json::quote(assignee) + "}}";
    blocks +=
        R"(,{"type":"input","block_id":"assignee","label":{"type":"plain_text","text":"Assignee"},)"
        R"("element":{"type":"users_select","action_id":"assignee"}})";
  }
  return form_payload(
      R"({"type":"view_submission","team":{"id":)" + json::quote(team) +
      R"(,"domain":"test"},"user":{"id":)" + json::quote(user_id) +
      R"(,"username":"someone","name":"someone","team_id":)" + json::quote(team) +
      R"(},"api_app_id":"A0TEST","token":"legacy","trigger_id":)" +
      json::quote(fresh_trigger_id()) + R"(,"view":{"id":"V0MODAL","team_id":)" +
      json::quote(team) + R"(,"type":"modal","blocks":[)" + blocks + R"(],"private_metadata":)" +
      json::quote(private_metadata) + R"(,"callback_id":)" + json::quote(callback_id) +
      R"(,"state":{"values":{)" + values +
      R"(}},"hash":"1.x","title":{"type":"plain_text","text":"T"},"root_view_id":"V0MODAL","app_id":"A0TEST","bot_id":"B0BOT"},"response_urls":[]})");
}

inline std::string slash_command(const std::string& user_id, const std::string& text,
                                 const std::string& response_url,
                                 const std::string& team = "T0TEST") {
  return slack::form_encode({{"token", "legacy"},
                             {"team_id", team},
                             {"team_domain", "test"},
                             {"channel_id", "D0CHAN"},
                             {"channel_name", "directmessage"},
                             {"user_id", user_id},
                             {"user_name", "someone"},
                             {"command", "/tasks"},
                             {"text", text},
                             {"api_app_id", "A0TEST"},
                             {"is_enterprise_install", "false"},
                             {"response_url", response_url},
                             {"trigger_id", fresh_trigger_id()}});
}

// A person's reply in the thread of the bot's message `thread` in a DM (a message event).
inline std::string reply_event(const std::string& channel, const std::string& thread,
                               const std::string& ts, const std::string& user,
                               const std::string& text) {
  return R"({"type":"message","channel":)" + json::quote(channel) +
         R"(,"channel_type":"im","user":)" + json::quote(user) + R"(,"text":)" + json::quote(text) +
         R"(,"ts":)" + json::quote(ts) + R"(,"thread_ts":)" + json::quote(thread) +
         R"(,"parent_user_id":"U0BOT","event_ts":)" + json::quote(ts) + "}";
}

inline std::string event_callback(const std::string& event_id, const std::string& event_json,
                                  const std::string& team = "T0TEST") {
  return R"({"token":"legacy","team_id":)" + json::quote(team) +
         R"(,"api_app_id":"A0TEST","event":)" + event_json +
         R"(,"type":"event_callback","event_id":)" + json::quote(event_id) +
         R"(,"event_time":1700000000,"authorizations":[{"team_id":"T0TEST","user_id":"U0BOT","is_bot":true,"is_enterprise_install":false}]})";
}

// A failure of what Tollgate answered Slack: the running test fails (ADD_FAILURE,
// which is thread-safe); outside a test (the crash test's and the benchmarks' own
// drivers) it is printed. In slack_requests.cc, which keeps GoogleTest's names out
// of the files that include this one.
void slack_answer_failure(const std::string& what);

// What Slack does with Tollgate's 200 answer to `body` posted to `path`: a slash
// command's answer (empty, plain text or a message as JSON) and a
// view_submission's (empty or a response_action) must pass Slack's rules, and a
// block_actions' must be empty. Each JSON answer checked is also recorded for the
// TypeScript check (TOLLGATE_SLACK_PAYLOADS, sandbox/fake_slack.h).
inline void check_slack_answer(const std::string& path, const std::string& body,
                               const HttpResult& r) {
  if (r.status != 200) return;
  std::string type = r.header("Content-Type");
  if (path == "/slack/commands") {
    if (auto refused = sandbox::check_command_ack(type, r.body)) {
      slack_answer_failure("/slack/commands: " + refused->to_string() + "\nanswer: " + r.body);
    } else if (!r.body.empty() && type.find("application/json") != std::string::npos) {
      sandbox::record_slack_payload("command_ack", r.body);
    }
    return;
  }
  if (path != "/slack/interactions") return;
  auto form = slack::parse_form(body);
  if (!form.ok()) return;
  const std::string* payload_text = form.value().get("payload");
  rapidjson::Document payload;
  if (payload_text == nullptr || !json::parse(payload, *payload_text).ok()) return;
  std::string kind = json::str(payload, "type");
  if (kind == "block_actions" && !r.body.empty()) {
    // Slack takes a block_actions acknowledgement as an empty 200.
    slack_answer_failure("/slack/interactions (block_actions): a body in the acknowledgement: " +
                         r.body);
  } else if (kind == "view_submission") {
    std::string view;
    if (const json::Value* v = json::object(payload, "view")) {
      rapidjson::StringBuffer b;
      json::Writer w(b);
      v->Accept(w);
      view = json::text(b);
    }
    if (auto refused = sandbox::check_view_submission_ack(type, r.body, view)) {
      slack_answer_failure("/slack/interactions (view_submission): " + refused->to_string() +
                           "\nanswer: " + r.body);
    } else if (!r.body.empty()) {
      sandbox::record_slack_payload("view_submission_ack", r.body);
    }
  }
}

// Posts `body` to `path`, signed, and checks Tollgate's answer (check_slack_answer).
inline HttpResult post_signed(HttpClient& client, const std::string& path, const std::string& body,
                              const std::string& content_type, Headers extra = {}) {
  Headers h = signed_headers(body, content_type);
  h.insert(h.end(), extra.begin(), extra.end());
  HttpResult r = client.request("POST", path, body, h);
  check_slack_answer(path, body, r);
  return r;
}

// Whether `messages` (a channel's, as the fake Slack holds them) have a reply in the thread of
// `parent` whose text contains `text`.
inline bool has_reply(const std::vector<PostedMessage>& messages, const std::string& parent,
                      const std::string& text) {
  for (const PostedMessage& m : messages) {
    if (m.thread_ts == parent && m.text.find(text) != std::string::npos) return true;
  }
  return false;
}

// `/tasks <text>` typed by `user` in workspace `team`, posted signed to /slack/commands.
inline HttpResult post_command(HttpClient& client, const std::string& user_id,
                               const std::string& text, const std::string& response_url,
                               const std::string& team = "T0TEST") {
  return post_signed(client, "/slack/commands", slash_command(user_id, text, response_url, team),
                     kForm);
}

// The "text" of a JSON object answer (empty if it has none); any other answer as it is.
inline std::string answer_text(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d.IsObject() ? json::str(d, "text") : body;
}

}  // namespace tollgate::testing
