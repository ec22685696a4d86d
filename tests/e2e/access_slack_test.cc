// Time-bound access in Slack, end to end in one process: the real server
// (Process) with a manual clock and its scheduler driven by the test, the fake
// Slack, a SQLite file. A grant approved with the Slack button is warned of
// with Extend… and I'm done, and "I'm done" removes it and takes the buttons
// off the notice; "Approve for…" approves for less and tells the requester
// who chose it; "Extend…" files an extension its reviewer sees as one.
#include <fstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "cmd/tollgate/process.h"
#include "sandbox/fake_slack.h"
#include "storage/store.h"
#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"
#include "tests/support/tollgate_process.h"

namespace tollgate::testing {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr const char* kApiToken = "api-token-for-tests-0123456789abcdef";

// The test organisation, its AWS staging (an app that removes access by
// itself, reviewed by the requester's manager) warning 20 s before a grant ends.
std::string org() {
  return replaced(kTestOrg,
                  R"({"id": "staging", "name": "Staging", "request_policy": "manager-only",)",
                  R"({"id": "staging", "name": "Staging", "request_policy": "manager-only",
        "notify_before": "20s",)");
}

// A duration form (Approve for…, Extend…) submitted by `user`, as Slack sends
// it: the duration picked in block "duration" (a static_select; a forged
// submission may carry any value) and the reason typed into "reason".
std::string duration_submission(const std::string& user, const std::string& callback_id,
                                const std::string& metadata, const std::string& duration,
                                const std::string& reason) {
  std::string option = R"({"text":{"type":"plain_text","text":)" + json::quote(duration) +
                       R"(},"value":)" + json::quote(duration) + "}";
  std::string values = R"("duration":{"duration":{"type":"static_select","selected_option":)" +
                       option +
                       R"(}},"reason":{"reason":{"type":"plain_text_input","value":)" +
                       json::quote(reason) + "}}";
  std::string blocks =
      R"({"type":"input","block_id":"duration","label":{"type":"plain_text","text":"For"},)"
      R"("element":{"type":"static_select","action_id":"duration","options":[)" + option +
      R"(]}},)"
      R"({"type":"input","block_id":"reason","label":{"type":"plain_text","text":"Why"},)"
      R"("element":{"type":"plain_text_input","action_id":"reason","multiline":true}})";
  return form_payload(
      R"({"type":"view_submission","team":{"id":"T0TEST","domain":"test"},"user":{"id":)" +
      json::quote(user) +
      R"(,"username":"someone","name":"someone","team_id":"T0TEST"},"api_app_id":"A0TEST",)"
      R"("token":"legacy","trigger_id":)" +
      json::quote(fresh_trigger_id()) +
      R"(,"view":{"id":"V0MODAL","team_id":"T0TEST","type":"modal","blocks":[)" + blocks +
      R"(],"private_metadata":)" + json::quote(metadata) + R"(,"callback_id":)" +
      json::quote(callback_id) + R"(,"state":{"values":{)" + values +
      R"(}},"hash":"1.x","title":{"type":"plain_text","text":"T"},"root_view_id":"V0MODAL",)"
      R"("app_id":"A0TEST","bot_id":"B0BOT"},"response_urls":[]})");
}

class AccessSlackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("org.json")) << org();
    slack_.add_user({"UDANA", "dana@t.test", "Europe/London", 0});
    slack_.add_user({"UANA", "ana@t.test", "Europe/Lisbon", 0});
    tollgate::ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = "sqlite:" + dir_.file("tollgate.db");
    o.listen = "127.0.0.1:0";
    o.signing_secret = kSigningSecret;
    o.bot_token = "xoxb-test-token";
    o.slack_api_url = slack_.api_url();
    o.api_token = kApiToken;
    o.scheduler_interval = std::chrono::milliseconds(0);  // this test drives it
    o.clock = &clock_;
    bot_ = std::make_unique<Process>(o);
    Status s = bot_->start();
    ASSERT_TRUE(s.ok()) << s.to_string();
    client_ = std::make_unique<HttpClient>(bot_->port());
    StoreOptions r = serve_store_options();
    r.migrate = false;
    auto store = open_store("sqlite:" + dir_.file("tollgate.db"), r);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    reader_ = std::move(*store);
  }
  void TearDown() override {
    client_.reset();
    if (bot_) bot_->shutdown();
    EXPECT_EQ(slack_.violations(), std::vector<std::string>{});
  }

  // Opens a request through the admin API; its task number.
  TaskNumber request(const std::string& who, const std::string& duration) {
    HttpResult r = client_->request(
        "POST", "/api/v1/requests",
        R"({"requester": ")" + who +
            R"(", "app": "aws", "resource": "staging", "justification": "load tests", )"
            R"("duration": ")" + duration + "\"}",
        {{"Authorization", std::string("Bearer ") + kApiToken},
         {"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    EXPECT_TRUE(d.IsObject() && d.HasMember("task")) << r.body;
    return d.IsObject() && d.HasMember("task") ? d["task"].GetInt64() : 0;
  }
  // A click by `user` on a message of their DM (ts `ts`).
  HttpResult click(const std::string& user, const std::string& action, const std::string& value,
                   const std::string& ts, const std::string& response_id = "r1") {
    return post_signed(*client_, "/slack/interactions",
                       block_action(user, action, value, slack_.response_url(response_id),
                                    slack_.trigger_id(), "T0TEST", "D" + user, ts),
                       kForm);
  }
  HttpResult submit(const std::string& form) {
    return post_signed(*client_, "/slack/interactions", form, kForm);
  }
  // Dana approves task `n` with the button of her DM about it.
  void danas_approval(TaskNumber n) {
    ASSERT_TRUE(eventually([&] { return !dm_with("UDANA", "#" + std::to_string(n)).ts.empty(); }));
    EXPECT_EQ(click("UDANA", "approve", std::to_string(n) + ":0",
                    dm_with("UDANA", "#" + std::to_string(n)).ts)
                  .status,
              200);
    ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::granted; }));
  }

  template <typename Pred>
  bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
    return poll_until(p, timeout);
  }
  // The latest message in `user`'s DM whose text or blocks contain `needle`.
  PostedMessage dm_with(const std::string& user, const std::string& needle) {
    PostedMessage found;
    for (const PostedMessage& m : slack_.messages_in("D" + user)) {
      if (m.text.find(needle) != std::string::npos || m.blocks.find(needle) != std::string::npos)
        found = m;
    }
    return found;
  }
  // Whether a clicker was told something containing `needle` (through a response URL).
  bool told(const std::string& needle) {
    for (const RecordedCall& c : slack_.calls("response_url")) {
      if (c.body.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  // The body of the last views.open call.
  std::string last_view_opened() {
    auto calls = slack_.calls("views.open");
    return calls.empty() ? std::string() : calls.back().body;
  }
  Task task(TaskNumber n) {
    auto t = reader_->task(n);
    return t.ok() ? *t : Task{};
  }
  std::optional<Holding> holding(const PersonId& who) {
    auto rows = reader_->holdings({.person = who, .app = "aws", .resource = "staging"});
    if (!rows.ok() || rows->empty()) return std::nullopt;
    return rows->front();
  }
  void at(Duration since_start) { clock_.set(test_start() + since_start); }

  TempDir dir_;
  FakeSlack slack_;
  ManualClock clock_{test_start()};
  std::unique_ptr<Process> bot_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Store> reader_;
};

TEST_F(AccessSlackTest, AGrantEndingSoonIsToldWithButtonsAndImDoneEndsIt) {
  TaskNumber n = request("ana", "30s");
  at(seconds(5));
  danas_approval(n);
  ASSERT_TRUE(holding("ana").has_value());
  EXPECT_EQ(holding("ana")->expires_at, test_start() + seconds(35));

  at(seconds(21));  // 14 s before the end: inside notify_before, and past half the grant
  EXPECT_EQ(bot_->run_scheduler_once().access_warned, 1);
  ASSERT_TRUE(eventually([&] { return !dm_with("UANA", "access_done").ts.empty(); }));
  PostedMessage notice = dm_with("UANA", "access_done");
  EXPECT_NE(notice.text.find("Your access to *AWS / Staging* ends 2026-11-26 10:00 UTC"),
            std::string::npos)
      << notice.text;
  EXPECT_NE(notice.blocks.find(R"("action_id":"access_extend")"), std::string::npos);
  EXPECT_NE(notice.blocks.find(R"("value":"aws:staging")"), std::string::npos);

  // Dana cannot end Ana's access with Ana's button: a click is always the clicker's own access.
  EXPECT_EQ(click("UDANA", "access_done", "aws:staging", notice.ts, "r-dana").status, 200);
  ASSERT_TRUE(eventually([&] { return told("Dana Reyes does not hold"); }));
  EXPECT_TRUE(holding("ana").has_value());

  EXPECT_EQ(click("UANA", "access_done", "aws:staging", notice.ts, "r-ana").status, 200);
  EXPECT_FALSE(holding("ana").has_value()) << "removed before the click is answered";
  ASSERT_TRUE(eventually([&] {
    for (const PostedMessage& m : slack_.messages_in("DUANA")) {
      if (m.ts == notice.ts) return m.updates > 0;
    }
    return false;
  }));
  for (const PostedMessage& m : slack_.messages_in("DUANA")) {
    if (m.ts != notice.ts) continue;
    EXPECT_EQ(m.blocks.find("access_done"), std::string::npos) << "the buttons are gone";
    EXPECT_NE(m.text.find("You ended your access to *AWS / Staging* at 2026-11-26 10:00 UTC"),
              std::string::npos)
        << m.text;
  }
  ASSERT_TRUE(eventually([&] { return told("Ended Ana Silva's access to AWS / Staging"); }));
  // The end past: nothing left to expire.
  at(seconds(40));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 0);
}

TEST_F(AccessSlackTest, ApproveForTellsTheRequesterForHowLongAndWhoChoseIt) {
  TaskNumber n = request("ana", "30d");
  ASSERT_TRUE(eventually([&] { return !dm_with("UDANA", "approve_for:1:0").ts.empty(); }));
  PostedMessage mine = dm_with("UDANA", "approve_for:1:0");
  EXPECT_EQ(click("UDANA", "more", "approve_for:1:0", mine.ts).status, 200);
  ASSERT_TRUE(eventually([&] { return !last_view_opened().empty(); }));
  std::string view = last_view_opened();
  EXPECT_NE(view.find(R"("callback_id":"tollgate.approve_for")"), std::string::npos) << view;
  EXPECT_NE(view.find(R"("private_metadata":"1:0")"), std::string::npos) << view;
  // A picker of the durations shorter than the request's.
  EXPECT_NE(view.find(R"("type":"static_select","action_id":"duration")"), std::string::npos)
      << view;
  EXPECT_NE(view.find(R"("value":"14d")"), std::string::npos) << view;
  EXPECT_EQ(view.find(R"("value":"30d")"), std::string::npos) << view;
  EXPECT_NE(view.find("Shorter than the 30d requested."), std::string::npos) << view;

  // Longer than asked: refused in the form, under the duration.
  HttpResult longer =
      submit(duration_submission("UDANA", "tollgate.approve_for", "1:0", "45d", ""));
  EXPECT_EQ(longer.status, 200);
  EXPECT_NE(longer.body.find(R"("response_action":"errors")"), std::string::npos) << longer.body;
  EXPECT_NE(longer.body.find(R"("duration":"approve for at most 30d)"), std::string::npos)
      << longer.body;
  EXPECT_EQ(task(n).state, TaskState::reviewing);

  HttpResult ok = submit(duration_submission("UDANA", "tollgate.approve_for", "1:0", "1h",
                                             "an hour is enough for load tests"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body.find("response_action"), std::string::npos) << "closes: " << ok.body;
  Task t = task(n);
  EXPECT_EQ(t.state, TaskState::granted);
  EXPECT_EQ(t.duration, hours(1));
  EXPECT_EQ(t.duration_by, "dana");
  ASSERT_TRUE(holding("ana").has_value());
  EXPECT_EQ(holding("ana")->expires_at, test_start() + hours(1));
  ASSERT_TRUE(eventually([&] { return !dm_with("UANA", "Approved for 1h").ts.empty(); }));
  EXPECT_NE(dm_with("UANA", "Approved for 1h")
                .text.find("Approved for 1h (Dana Reyes chose a shorter time than requested)"),
            std::string::npos);
}

TEST_F(AccessSlackTest, ExtendFilesAnExtensionItsReviewerSeesAsOne) {
  TaskNumber first = request("ana", "30m");
  danas_approval(first);
  ASSERT_TRUE(holding("ana").has_value());
  at(seconds(60));

  // The ledger's row, not the button, names whose access: Ana's own.
  EXPECT_EQ(click("UANA", "access_extend", "aws:staging", "1700000000.000100").status, 200);
  ASSERT_TRUE(eventually([&] { return !last_view_opened().empty(); }));
  std::string view = last_view_opened();
  EXPECT_NE(view.find(R"("callback_id":"tollgate.extend")"), std::string::npos) << view;
  EXPECT_NE(view.find(R"("private_metadata":"aws:staging")"), std::string::npos) << view;

  HttpResult why_missing =
      submit(duration_submission("UANA", "tollgate.extend", "aws:staging", "4h", " "));
  EXPECT_NE(why_missing.body.find(R"("reason":"Say why you need more time.")"), std::string::npos)
      << why_missing.body;
  HttpResult bad = submit(
      duration_submission("UANA", "tollgate.extend", "aws:staging", "soon", "still testing"));
  EXPECT_NE(bad.body.find(R"("duration":)"), std::string::npos) << bad.body;

  HttpResult ok = submit(
      duration_submission("UANA", "tollgate.extend", "aws:staging", "4h", "still testing"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body.find("response_action"), std::string::npos) << "closes: " << ok.body;
  TaskNumber ext = first + 1;
  Task t = task(ext);
  EXPECT_TRUE(t.extension);
  EXPECT_EQ(t.requester, "ana");
  EXPECT_EQ(t.subject, "ana");
  EXPECT_EQ(t.duration, hours(4));
  EXPECT_EQ(t.justification, "still testing");
  ASSERT_TRUE(eventually([&] {
    return !dm_with("UDANA", "Extension request #" + std::to_string(ext)).ts.empty();
  }));
  PostedMessage dm = dm_with("UDANA", "Extension request #" + std::to_string(ext));
  EXPECT_NE(dm.blocks.find(R"("text":"*Duration*\n4h")"), std::string::npos) << dm.blocks;

  // A second one while the first is open: refused in the form, naming it.
  HttpResult again = submit(
      duration_submission("UANA", "tollgate.extend", "aws:staging", "4h", "still testing"));
  EXPECT_NE(again.body.find(R"("response_action":"errors")"), std::string::npos) << again.body;
  EXPECT_NE(again.body.find("#" + std::to_string(ext)), std::string::npos) << again.body;
}

TEST_F(AccessSlackTest, ExtendAfterTheAccessIsGoneIsRefusedNotANewRequest) {
  TaskNumber first = request("ana", "30s");
  danas_approval(first);
  at(seconds(40));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 1);
  ASSERT_FALSE(holding("ana").has_value());
  HttpResult late = submit(
      duration_submission("UANA", "tollgate.extend", "aws:staging", "4h", "one more test"));
  EXPECT_NE(late.body.find(R"("duration":"You no longer hold this access)"), std::string::npos)
      << late.body;
  EXPECT_EQ(task(first + 1).number, 0) << "no task opened";
}

}  // namespace
}  // namespace tollgate::testing
