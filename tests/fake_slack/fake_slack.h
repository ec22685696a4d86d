// A fake of the Slack Web API for tests: a real HTTP server on loopback.
//
// It answers the methods Tollgate calls (auth.test, conversations.open,
// chat.postMessage, chat.update, chat.postEphemeral, views.open,
// views.publish, views.update, users.lookupByEmail, users.info,
// conversations.replies) and POSTs to response URLs (/response/...), and
// validates each request as Slack does: the bearer token, JSON with a charset,
// required fields, Block Kit limits (50 blocks a message, 100 a view, section
// text 3000, header 150, button value 2000, ids 255, text 40000, view title
// 24, private_metadata 3000), trigger_id expiry (3 s, single use), one
// chat.postMessage per second per channel and per-method tier budgets, with
// 429 and Retry-After beyond them. It records every call, and can be told to
// fail (HTTP 500), to answer slowly, or to rate-limit.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tollgate::testing {

struct FakeUser {
  std::string id;
  std::string email;
  std::string tz = "Europe/Lisbon";
  int tz_offset = 0;  // seconds east of UTC, as Slack reports it
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
};

class FakeSlack {
 public:
  struct Options {
    std::string token = "xoxb-test-token";
    std::string team_id = "T0TEST";
    std::string bot_user_id = "U0BOT";
    std::string bot_id = "B0BOT";
    std::string workspace_url = "https://tollgate-test.slack.com/";
    bool enforce_channel_rate = true;  // 1 chat.postMessage per second per channel
    bool enforce_tiers = true;         // per-method budgets per minute
  };

  FakeSlack();
  explicit FakeSlack(Options options);
  ~FakeSlack();

  std::uint16_t port() const;
  std::string api_url() const;  // "http://127.0.0.1:PORT/api"
  // A response_url that posts back to this fake.
  std::string response_url(const std::string& id) const;

  void add_user(FakeUser user);
  // A fresh trigger_id, valid for 3 seconds and once.
  std::string trigger_id();

  // Answer every request with HTTP 500 for `d`.
  void fail_for(std::chrono::milliseconds d);
  // Delay every answer by `d`.
  void delay(std::chrono::milliseconds d);
  // Answer the next `n` calls of `method` with 429 and Retry-After `seconds`.
  void rate_limit_next(const std::string& method, int n, int seconds);

  std::vector<RecordedCall> calls() const;
  std::vector<RecordedCall> calls(const std::string& method) const;
  std::size_t count(const std::string& method) const;  // successful calls only
  std::vector<PostedMessage> messages() const;
  std::vector<PostedMessage> messages_in(const std::string& channel) const;
  // Requests the fake refused for breaking Slack's rules (other than rate limits).
  std::vector<std::string> violations() const;
  int rate_limited() const;  // 429s answered
  void clear();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::testing
