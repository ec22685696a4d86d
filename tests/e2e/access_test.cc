// Time-bound access end to end, on both backends: the real server (Process)
// with a manual clock, the admin API to ask and decide, its scheduler driven
// by the test, and the ledger read back from the database. A grant's end is
// counted from its approval; the end of an automatic app's grant removes it,
// a manual app's opens a deprovisioning task; an extension approved before
// the end moves it; requests and revocations that make no sense are refused
// with their reasons. (Two instances on PostgreSQL: instances_test.cc.)
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
#include "tests/support/test_database.h"
#include "tests/support/test_org.h"
#include "tests/support/tollgate_process.h"

namespace tollgate::testing {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr const char* kApiToken = "api-token-for-tests-0123456789abcdef";

// The test organisation, its AWS staging (an app that removes access by
// itself) warning 20 s before a grant ends.
std::string org() {
  return replaced(kTestOrg,
                  R"({"id": "staging", "name": "Staging", "request_policy": "manager-only",)",
                  R"({"id": "staging", "name": "Staging", "request_policy": "manager-only",
        "notify_before": "20s",)");
}

class AccessTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok()) << db_.error();
    std::ofstream(dir_.file("org.json")) << org();
    ::setenv("TOLLGATE_AUDIT_KEY", kTestAuditKeyHex, 1);
    tollgate::ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = db_.url();
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
    auto store = open_store(db_.url(), r);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    reader_ = std::move(*store);
  }
  void TearDown() override {
    client_.reset();
    if (bot_) bot_->shutdown();
    EXPECT_EQ(slack_.violations(), std::vector<std::string>{});
  }

  HttpResult api(const std::string& method, const std::string& target,
                 const std::string& body = {}) {
    return client_->request(method, target, body,
                            {{"Authorization", std::string("Bearer ") + kApiToken},
                             {"Content-Type", "application/json"}});
  }
  // Opens a request through the API; its task number (0 when refused).
  TaskNumber request(const std::string& who, const std::string& app, const std::string& res,
                     const std::string& duration) {
    HttpResult r = api("POST", "/api/v1/requests",
                       R"({"requester": ")" + who + R"(", "app": ")" + app + R"(", "resource": ")" +
                           res + R"(", "justification": "on call")" +
                           (duration.empty() ? "" : R"(, "duration": ")" + duration + "\"") + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d.IsObject() && d.HasMember("task") ? d["task"].GetInt64() : 0;
  }
  void act(TaskNumber n, const std::string& actor, const std::string& action) {
    HttpResult r = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                       R"({"actor": ")" + actor + R"(", "action": ")" + action + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  std::optional<Holding> holding(const PersonId& who, const std::string& app,
                                 const std::string& res) {
    auto rows = reader_->holdings({.person = who, .app = app, .resource = res});
    EXPECT_TRUE(rows.ok()) << rows.status().to_string();
    if (!rows.ok() || rows->empty()) return std::nullopt;
    return rows->front();
  }
  void at(Duration since_start) { clock_.set(test_start() + since_start); }
  // The ledger equals its replay from the event log.
  void expect_ledger_replays() {
    auto table = reader_->holdings({});
    auto log = reader_->events(0, 100000);
    ASSERT_TRUE(table.ok() && log.ok());
    auto replayed = replay_access(*log);
    ASSERT_TRUE(replayed.ok()) << replayed.status().to_string();
    ASSERT_EQ(replayed->size(), table->size());
    for (std::size_t i = 0; i < table->size(); ++i) {
      EXPECT_TRUE((*replayed)[i].same_access((*table)[i]));
      EXPECT_EQ((*replayed)[i].expires_at, (*table)[i].expires_at);
      EXPECT_EQ((*replayed)[i].since, (*table)[i].since);
      EXPECT_EQ((*replayed)[i].ending_task, (*table)[i].ending_task);
    }
  }

  TempDir dir_;
  TestDatabase db_{GetParam(), dir_.path().string()};
  FakeSlack slack_;
  ManualClock clock_{test_start()};
  std::unique_ptr<Process> bot_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Store> reader_;
};

TEST_P(AccessTest, AThirtySecondGrantOnAnAutomaticAppIsWarnedOfThenEndsByItself) {
  TaskNumber n = request("ana", "aws", "staging", "30s");
  at(seconds(5));
  act(n, "dana", "approve");
  auto h = holding("ana", "aws", "staging");
  ASSERT_TRUE(h.has_value()) << "an approved grant is in the ledger";
  EXPECT_EQ(h->expires_at, test_start() + seconds(35)) << "counted from the approval";
  EXPECT_EQ(h->task, n);

  at(seconds(14));  // 21 s before the end: not yet
  EXPECT_EQ(bot_->run_scheduler_once().access_warned, 0);
  at(seconds(19));  // inside notify_before, but not half of the grant has run
  EXPECT_EQ(bot_->run_scheduler_once().access_warned, 0);
  at(seconds(21));  // 14 s before the end: both
  EXPECT_EQ(bot_->run_scheduler_once().access_warned, 1);
  EXPECT_EQ(bot_->run_scheduler_once().access_warned, 0) << "warned once";
  EXPECT_TRUE(holding("ana", "aws", "staging")->warned_at.has_value());

  at(seconds(35));
  SchedulerPass p = bot_->run_scheduler_once();
  EXPECT_EQ(p.access_ended, 1);
  EXPECT_FALSE(holding("ana", "aws", "staging").has_value()) << "ended by itself";
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 0) << "ended once";
  expect_ledger_replays();
}

TEST_P(AccessTest, AManualAppsGrantEndOpensADeprovisioningTaskAndDeprovisionedRemovesIt) {
  TaskNumber n = request("ana", "github", "member", "30s");
  act(n, "dana", "approve");
  act(n, "olga", "approve");
  EXPECT_FALSE(holding("ana", "github", "member").has_value()) << "not yet provisioned";
  at(seconds(10));
  act(n, "pat", "provisioned");
  ASSERT_EQ(holding("ana", "github", "member")->expires_at, test_start() + seconds(40));

  at(seconds(41));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 1);
  auto h = holding("ana", "github", "member");
  ASSERT_TRUE(h.has_value()) << "held until someone removes it";
  ASSERT_NE(h->ending_task, 0);
  auto ending = reader_->task(h->ending_task);
  ASSERT_TRUE(ending.ok());
  EXPECT_EQ(ending->state, TaskState::deprovisioning);
  EXPECT_EQ(ending->ending, "expired");
  EXPECT_EQ(ending->assignees(), std::vector<PersonId>{"pat"});
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 0) << "one deprovisioning task";

  act(h->ending_task, "pat", "deprovisioned");
  EXPECT_FALSE(holding("ana", "github", "member").has_value());
  expect_ledger_replays();
}

TEST_P(AccessTest, WontDeprovisionKeepsTheAccessWithoutEndAndTheSchedulerLeavesIt) {
  TaskNumber n = request("ana", "github", "member", "30s");
  act(n, "dana", "approve");
  act(n, "olga", "approve");
  act(n, "pat", "provisioned");
  at(seconds(31));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 1);
  TaskNumber ending = holding("ana", "github", "member")->ending_task;
  HttpResult r = api("POST", "/api/v1/tasks/" + std::to_string(ending) + "/actions",
                     R"({"actor": "pat", "action": "wont_deprovision", "comment": "audit hold"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto h = holding("ana", "github", "member");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->ending_task, 0);
  EXPECT_FALSE(h->expires_at.has_value()) << "nobody will remove it: held without end";
  at(hours(2));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 0);
  expect_ledger_replays();
}

TEST_P(AccessTest, AnExtensionApprovedBeforeTheEndMovesItAndTheAccessIsNeverCut) {
  TaskNumber n = request("ana", "aws", "staging", "30s");
  act(n, "dana", "approve");
  at(seconds(10));
  TaskNumber ext = request("ana", "aws", "staging", "1h");
  ASSERT_NE(ext, 0);
  ASSERT_TRUE(reader_->task(ext)->extension);
  at(seconds(20));
  act(ext, "dana", "approve");
  auto h = holding("ana", "aws", "staging");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->expires_at, test_start() + seconds(30) + hours(1)) << "added to what was left";
  EXPECT_EQ(h->since, test_start()) << "the access began with the first grant";
  EXPECT_EQ(h->how, GrantSource::extension);
  at(seconds(31));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 0);
  EXPECT_TRUE(holding("ana", "aws", "staging").has_value());
  expect_ledger_replays();
}

TEST_P(AccessTest, AnExtensionStillInReviewAtTheEndDoesNotBringTheAccessBack) {
  TaskNumber n = request("ana", "aws", "staging", "30s");
  act(n, "dana", "approve");
  at(seconds(10));
  TaskNumber ext = request("ana", "aws", "staging", "1h");
  at(seconds(31));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 1);
  HttpResult late = api("POST", "/api/v1/tasks/" + std::to_string(ext) + "/actions",
                        R"({"actor": "dana", "action": "approve"})");
  EXPECT_EQ(late.status, 409) << late.body;
  EXPECT_NE(late.body.find("changed meanwhile"), std::string::npos) << late.body;
  EXPECT_FALSE(holding("ana", "aws", "staging").has_value());
  EXPECT_TRUE(reader_->task(ext)->current() != nullptr) << "still open: deny or cancel it";
  expect_ledger_replays();
}

TEST_P(AccessTest, RequestsAndRevocationsThatMakeNoSenseAreRefusedWithTheirReasons) {
  // Bo holds GitHub admin from the configuration (seeded at start), without end.
  ASSERT_TRUE(holding("bo", "github", "admin").has_value());
  HttpResult held = api("POST", "/api/v1/requests",
                        R"({"requester": "bo", "app": "github", "resource": "admin",
                            "justification": "again"})");
  EXPECT_EQ(held.status, 422) << held.body;
  EXPECT_NE(held.body.find("since 2024-01-10"), std::string::npos) << held.body;

  TaskNumber first = request("ana", "aws", "staging", "");
  HttpResult twice = api("POST", "/api/v1/requests",
                         R"({"requester": "ana", "app": "aws", "resource": "staging",
                             "justification": "again"})");
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("#" + std::to_string(first) + " is already open"), std::string::npos)
      << twice.body;

  HttpResult nothing = api("POST", "/api/v1/revocations",
                           R"({"proposer": "olga", "subject": "ana", "app": "github",
                               "resource": "admin", "reason": "left"})");
  EXPECT_EQ(nothing.status, 422) << nothing.body;
  EXPECT_NE(nothing.body.find("does not hold"), std::string::npos) << nothing.body;
  // Nothing of it was recorded: one task, Ana's.
  EXPECT_EQ(reader_->tasks({})->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace tollgate::testing
