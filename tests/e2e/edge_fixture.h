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
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"
#include "workflow/config.h"
#include "workflow/engine.h"
#include "base/time_text.h"

namespace tollgate::testing {

using sandbox::FakeSlack;
using sandbox::FakeUser;
using sandbox::PostedMessage;
using sandbox::RecordedCall;

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

  void start_bot(std::vector<std::pair<std::string, std::string>> env = {}) {
    ProcessOptions o;
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

  template <typename Pred>
  bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (p()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return p();
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
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
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
               std::chrono::milliseconds timeout = std::chrono::milliseconds(8000)) {
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
};

inline RequestInput req(const PersonId& who, const std::string& app, const std::string& resource,
                        std::string why = "on-call rotation") {
  return RequestInput{who, "", app, resource, std::move(why), std::nullopt, false};
}

}  // namespace tollgate::testing
