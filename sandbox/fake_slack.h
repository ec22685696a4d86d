// A fake of the Slack Web API: a real HTTP server on loopback. The tests talk
// to Tollgate through it, and the sandbox (sandbox/sandbox.h) shows what
// it holds as a Slack workspace in a browser.
//
// It answers the methods Tollgate calls (auth.test, conversations.open,
// chat.postMessage, chat.update, chat.postEphemeral, views.open, views.push,
// views.publish, views.update, users.lookupByEmail, users.info,
// conversations.replies) and POSTs to response URLs (/response/...).
//
// It is strict: every payload is checked as Slack's servers check it, by the
// rules of slack_rules.h, written from Slack's published reference
// (docs.slack.dev: Block Kit blocks, block elements, composition objects,
// modal and Home tab views, the chat.* and views.* method pages) with
// @slack/types and python-slack-sdk's validators as second sources; docs/reliability.md
// ("The strict fake Slack") has the table of limits and their sources. So:
// the bearer token; JSON bodies with a charset, valid UTF-8 (else invalid_json);
// documented arguments of the right type (invalid_arguments,
// invalid_blocks_format); channel; text or blocks (no_text); text up to 40,000
// characters (msg_too_long); at most 50 blocks a message and 100 a view; only
// the documented block and element types, each with only its documented
// properties, its required ones, and its limits counted in characters
// (section text 3000, fields 10 x 2000, header 150, button text 75 and value
// 2000, overflow 2 to 5 options, option value 150, ids 255, block_id unique in
// the message or view and action_id in its block, plain_text where Slack wants
// it, ...); views of the method's type (modal title 24, submit required with an
// input block, a Home tab without title/submit/close, private_metadata 3000,
// 250 kB). A refusal is answered in Slack's shape: HTTP 200 {"ok":false,
// "error":"invalid_blocks","response_metadata":{"messages":["[ERROR] must be
// less than 3001 characters [json-pointer:/blocks/0/text/text]"]}}
// (invalid_arguments for views), and a response_url post with HTTP 400 and
// the error code, as Slack's webhooks answer. Each refusal is kept in
// violations(), which every end-to-end test asserts empty. What the sandbox
// shows of Tollgate's answers (add_ephemeral, replace_view, push_view) is
// checked too.
//
// Besides: trigger_id expiry (3 s, single use), at most 3 views in a modal
// (push_limit_reached), one chat.postMessage per second per channel and
// per-method tier budgets, with 429 and Retry-After beyond them. It records
// every call, and can be told to fail (HTTP 500), to answer slowly, or to
// rate-limit.
//
// It keeps the workspace's state as Slack would show it: the messages of
// each channel (the bot's and the people's), the ephemeral messages each
// person was shown, each person's App Home view and stack of open modals.
// version() counts the changes to that state.
//
// TOLLGATE_SLACK_PAYLOADS: when this environment variable names a directory,
// every payload the fake accepts (and every answer of Tollgate that
// tests/support/slack_requests.h checks) is also written there, one file
// <pid>-<seq>.json each, holding {"kind": K, "payload": P}: K one of
// chat.postMessage, chat.update, chat.postEphemeral, response_url, views.open,
// views.push, views.update, views.publish, command_ack, view_submission_ack;
// P the JSON object as sent. tests/slack_types/ checks them against Slack's
// TypeScript types. Unset: nothing is written and nothing is parsed.
//
// Socket Mode (fake_socket_mode.h has the protocol and the test-facing API):
// apps.connections.open, with the app-level token Options::app_token as bearer
// (the bot token: not_allowed_token_type; another: invalid_auth; none: not_authed),
// answers
// {"ok":true,"url":"ws://127.0.0.1:PORT/link/?ticket=...&app_id=..."} with a fresh
// single-use ticket; socket_mode() sends envelopes over the connections opened
// with it, waits for their acks, sends disconnect, drops connections and
// redelivers unacked envelopes.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/fake_socket_mode.h"

namespace tollgate::sandbox {

struct FakeUser {
  std::string id;
  std::string email;
  std::string tz = "Europe/Lisbon";
  int tz_offset = 0;      // seconds east of UTC, as Slack reports it
  std::string real_name;  // shown by users.info; the sandbox page names people by it
  // As users.info and users.lookupByEmail report them (Slack's user object):
  std::string team_id;               // empty: the fake's own team (Options::team_id)
  std::string enterprise_id;         // set: `enterprise_user.enterprise_id` (Enterprise Grid)
  bool deleted = false;              // deactivated
  bool is_restricted = false;        // a multi-channel guest
  bool is_ultra_restricted = false;  // a single-channel guest
};

struct RecordedCall {
  std::string method;  // "chat.postMessage", or "response_url" for /response/... posts
  std::string body;    // the request body as sent
  std::string query;   // GET query
  int status = 200;    // the HTTP status answered
  std::string error;   // Slack's error code when ok:false or 429
  std::chrono::steady_clock::time_point at;
};

struct PostedMessage {
  std::string channel;
  std::string ts;
  std::string thread_ts;
  std::string text;
  std::string blocks;  // JSON array as sent
  int updates = 0;
  std::string user;  // the author: the bot user for what the Web API posted
};

// A message only one person sees: chat.postEphemeral, a response_url post,
// or the answer to a slash command.
struct EphemeralMessage {
  std::string channel;
  std::string user;
  std::string ts;
  std::string text;
  std::string blocks;  // JSON array, "[]" when none
};

// A view as Slack holds it: the App Home of a person, or an open modal.
struct ViewRecord {
  std::string id;  // "V<n>"
  std::string user;
  std::string hash;  // changes with every update
  std::string json;  // the view object as last given
  bool home = false;
};

// Writes {"kind": kind, "payload": json} to a new file in $TOLLGATE_SLACK_PAYLOADS (see
// above); does nothing when the variable is unset or empty, or `json` is not a JSON object.
void record_slack_payload(std::string_view kind, std::string_view json);

class FakeSlack {
 public:
  struct Options {
    std::string token = "xoxb-test-token";
    std::string team_id = "T0TEST";
    std::string team_domain = "tollgate-test";
    std::string team_name = "Test";
    std::string bot_user_id = "U0BOT";
    std::string bot_id = "B0BOT";
    std::string workspace_url = "https://tollgate-test.slack.com/";
    bool enforce_channel_rate = true;  // 1 chat.postMessage per second per channel
    bool enforce_tiers = true;         // per-method budgets per minute
    // Socket Mode: the app-level token apps.connections.open takes, the app's id.
    std::string app_token = "xapp-1-A0TEST-1-test";
    std::string app_id = "A0TEST";
    std::chrono::milliseconds socket_mode_ping_interval{5000};  // server pings to each client
  };

  FakeSlack();
  explicit FakeSlack(Options options);
  ~FakeSlack();

  const Options& options() const;
  std::uint16_t port() const;
  std::string api_url() const;  // "http://127.0.0.1:PORT/api"
  // The Socket Mode server (see fake_socket_mode.h); lives as long as the fake.
  FakeSocketMode& socket_mode();
  // A response_url that posts back to this fake; what is posted to it is
  // shown to `user` in `channel` (as Slack does for the person who clicked or
  // ran a command).
  std::string response_url(const std::string& id) const;
  std::string response_url_for(const std::string& user, const std::string& channel);

  void add_user(FakeUser user);
  std::vector<FakeUser> users() const;
  // A fresh trigger_id, valid for 3 seconds and once; a modal it opens
  // belongs to `user`.
  std::string trigger_id(const std::string& user = {});

  // A person's message in `channel` (in a thread when thread_ts is set);
  // returns its ts.
  std::string post_as(const std::string& user, const std::string& channel, const std::string& text,
                      const std::string& thread_ts = {});
  // Shows `user` a message only they see.
  void add_ephemeral(const std::string& user, const std::string& channel, const std::string& text,
                     const std::string& blocks = "[]");

  // Views (App Home, modals) and what a client does with a modal once
  // Tollgate has answered its submission.
  std::optional<ViewRecord> home_view(const std::string& user) const;
  std::vector<ViewRecord> modals(const std::string& user) const;  // bottom first
  std::optional<ViewRecord> view(const std::string& id) const;
  bool replace_view(const std::string& id, const std::string& view_json);  // response_action update
  void push_view(const std::string& user, const std::string& view_json);   // response_action push
  void close_view(const std::string& user, const std::string& id);         // it and those above it
  void close_all_views(const std::string& user);                           // response_action clear

  // Answer every request with HTTP 500 for `d`.
  void fail_for(std::chrono::milliseconds d);
  // Delay every answer by `d`.
  void delay(std::chrono::milliseconds d);
  // Answer the next `n` calls of `method` with 429 and Retry-After `seconds`;
  // with `channel`, the next `n` calls of `method` to that channel (a user id
  // names their DM).
  void rate_limit_next(const std::string& method, int n, int seconds,
                       const std::string& channel = {});

  std::vector<RecordedCall> calls() const;
  std::vector<RecordedCall> calls(const std::string& method) const;
  std::size_t count(const std::string& method) const;  // successful calls only
  std::vector<PostedMessage> messages() const;
  std::vector<PostedMessage> messages_in(const std::string& channel) const;
  std::vector<EphemeralMessage> ephemerals_for(const std::string& user) const;
  // Requests the fake refused for breaking Slack's rules (other than rate limits).
  std::vector<std::string> violations() const;
  int rate_limited() const;  // 429s answered
  // Grows with every change to messages, ephemeral messages and views.
  std::uint64_t version() const;
  void clear();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::sandbox
