// The end-to-end setting: the real `tollgate serve` binary, a fake Slack Web
// API, a fresh SQLite file, and tasks opened beforehand through the real
// engine and store (as any other client would open them).
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "app/task_service.h"
#include "storage/store.h"
#include "sandbox/fake_slack.h"
#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"
#include "workflow/config.h"
#include "workflow/engine.h"
#include "base/time_text.h"

namespace tollgate::testing {

class EdgeTest : public ::testing::Test {
 protected:
  std::string acme() const { return std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json"; }
  std::string db() const { return "sqlite:" + dir_.file("tollgate.db"); }

  // Opens a request with the example company's policies, before the bot runs.
  TaskNumber open_request(RequestInput in) {
    auto store = open_store(db(), serve_store_options());
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    if (!store.ok()) return 0;
    static SystemClock clock;
    Engine engine(load_config_file(acme()).directory, clock);
    auto d = create_and_wait(**store,
                             [&](const Task*, TaskNumber n) { return engine.open_request(in, n); });
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task.number : 0;
  }

  // Starts serve with extra environment `env` and, unless empty, the organisation `config`
  // (else the example company's).
  void start_bot(std::vector<std::pair<std::string, std::string>> env = {},
                 const std::string& config = {}) {
    ProcessOptions o;
    if (!config.empty()) o.config = config;
    o.db = db();
    o.slack_api_url = slack_.api_url();
    o.env = std::move(env);
    bot_ = std::make_unique<TollgateProcess>(o);
    ASSERT_TRUE(bot_->start()) << bot_->log();
    client_ = std::make_unique<HttpClient>(bot_->port());
  }

  // Another connection to the same file, for reading what is committed.
  Store& reader() {
    if (!reader_) {
      StoreOptions o;
      o.migrate = false;
      auto s = open_store(db(), o);
      EXPECT_TRUE(s.ok()) << s.status().to_string();
      reader_ = std::move(*s);
    }
    return *reader_;
  }

  // The task as committed.
  Task task(TaskNumber n) {
    auto t = reader().task(n);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : Task{};
  }

  HttpResult click(const std::string& user, const std::string& action, const std::string& value,
                   const std::string& response_id = "r1") {
    return post_signed(
        *client_, "/slack/interactions",
        block_action(user, action, value, slack_.response_url(response_id), slack_.trigger_id()),
        kForm);
  }

  // Dana's click on Approve of task `n`'s first step (ana's AWS staging requests are Dana's),
  // as Slack sends it, answered through response URL `response_id`: the body, unsigned.
  std::string danas_approval(TaskNumber n, const std::string& response_id = "x") {
    return block_action("U0DANA", "approve", std::to_string(n) + ":0",
                        slack_.response_url(response_id));
  }

  // `user` opens Tollgate's App Home: the app_home_opened event, each with an id of its own.
  void open_home(const std::string& user) {
    std::string ev = R"({"type":"app_home_opened","user":")" + user + R"(","channel":"D)" + user +
                     R"(","tab":"home","event_ts":"1700000000.1"})";
    ASSERT_EQ(post_signed(*client_, "/slack/events",
                          event_callback("Ev0HOME" + std::to_string(++homes_opened_), ev), kJson)
                  .status,
              200);
  }

  // A click on an App Home button, with these rows ticked: (task, checkbox value "<n>:<step>").
  HttpResult home_click(const std::string& user, const std::string& action_id,
                        const std::string& value,
                        const std::vector<std::pair<TaskNumber, std::string>>& ticked = {}) {
    return post_signed(*client_, "/slack/interactions",
                       home_block_action(user, action_id, value, slack_.trigger_id(), ticked),
                       kForm);
  }

  // `/tasks <text>` typed by `user` in workspace `team`; each answer goes to response URL `cmd`.
  HttpResult tasks_command(const std::string& user, const std::string& text,
                           const std::string& team = "T0TEST") {
    return post_command(*client_, user, text, slack_.response_url("cmd"), team);
  }

  // Texts posted back to the clicker through response URLs.
  std::vector<std::string> told() {
    std::vector<std::string> out;
    for (const RecordedCall& c : slack_.calls("response_url")) {
      rapidjson::Document d;
      d.Parse(c.body.c_str());
      out.push_back(json::str(d, "text"));
    }
    return out;
  }

  // Waits for what Tollgate does in its own time (a delivery through the outbox, paced at one
  // post a second per channel, behind what that channel already has queued). Generous: a
  // loaded or sanitized CI machine is several times slower, and a wait that holds returns as
  // soon as it does; a test that checks that something does NOT happen names its own timeout.
  template <typename Pred>
  bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
    return poll_until(p, timeout);
  }

  void TearDown() override {
    // Whatever a test did, every request Tollgate made was one Slack accepts.
    EXPECT_EQ(slack_.violations(), std::vector<std::string>{});
    if (HasFailure() && bot_)
      std::fprintf(stderr, "---- tollgate log ----\n%s\n", bot_->log().c_str());
  }

  // Whether the message Slack holds as `ts` in `channel` is recorded as the bot's: a reply in
  // its thread is mirrored only then (the outbox records a post after Slack answered it).
  bool recorded(const std::string& channel, const std::string& ts,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
    return eventually(
        [&] {
          auto m = reader().message_at(channel, ts);
          return m.ok() && m->has_value();
        },
        timeout);
  }

  // Messages posted into a user's DM (the fake names it "D" + user id), in order.
  std::vector<PostedMessage> dms(const std::string& user_id) {
    return slack_.messages_in("D" + user_id);
  }
  bool has_dms(const std::string& user_id, std::size_t n,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) {
    return eventually([&] { return dms(user_id).size() >= n; }, timeout);
  }
  static bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
  }

  TempDir dir_;
  FakeSlack slack_;
  std::unique_ptr<TollgateProcess> bot_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Store> reader_;
  int homes_opened_ = 0;
};

inline RequestInput req(const PersonId& who, const std::string& app, const std::string& resource,
                        std::string why = "on-call rotation") {
  return RequestInput{who, "", app, resource, std::move(why), std::nullopt, false};
}

}  // namespace tollgate::testing
