// The access ledger through the admin API, end to end against the real
// binary on the example company (examples/acme.json): a reviewer's shorter
// duration sets the grant's end from the approval, an admin ends access now,
// and the sandbox's demo resource (aws/debug-session) is warned of and ends
// by itself.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"
#include "tests/support/test_org.h"

namespace tollgate::testing {
namespace {

constexpr const char* kToken = "access-api-token-0123456789abcdef01";

class AccessApiTest : public EdgeTest {
 protected:
  void start(const std::string& config = {}) {
    start_bot({{"TOLLGATE_API_TOKEN", kToken}, {"TOLLGATE_SCHEDULER_INTERVAL_MS", "200"}}, config);
  }
  HttpResult call(const std::string& method, const std::string& target,
                  const std::string& body = {}) {
    Headers h{{"Content-Type", "application/json"},
              {"Authorization", std::string("Bearer ") + kToken}};
    return client_->request(method, target, body, h);
  }
  static rapidjson::Document parse(const HttpResult& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d;
  }
  // Opens `who`'s request through the API; its task number.
  TaskNumber request(const std::string& who, const std::string& resource,
                     const std::string& duration = {}) {
    std::string body = R"({"requester":")" + who + R"(","app":"aws","resource":")" + resource +
                       R"(","justification":"the payments outage")";
    if (!duration.empty()) body += R"(,"duration":")" + duration + "\"";
    HttpResult r = call("POST", "/api/v1/requests", body + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return json::i64(parse(r), "task");
  }
  HttpResult approve(TaskNumber n, const std::string& duration = {}) {
    std::string body = R"({"actor":"dana","action":"approve")";
    if (!duration.empty()) body += R"(,"duration":")" + duration + "\"";
    return call("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions", body + "}");
  }
  // The rows GET /api/v1/grants?<query> lists.
  rapidjson::Document grants(const std::string& query) {
    HttpResult r = call("GET", "/api/v1/grants?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return parse(r);
  }
  static std::size_t rows(const rapidjson::Document& d) {
    const json::Value* a = json::array(d, "grants");
    return a == nullptr ? 0 : a->Size();
  }
  // expires_at - since of the first row.
  static std::chrono::milliseconds length(const rapidjson::Document& d) {
    const json::Value& g = (*json::array(d, "grants"))[0];
    auto since = parse_iso8601(json::str(g, "since"));
    auto end = parse_iso8601(json::str(g, "expires_at"));
    if (!since || !end) {
      ADD_FAILURE() << "since or expires_at is not an instant";
      return {};
    }
    return *end - *since;
  }
  // acme.json with the demo resource's 2m / 1m made `max` / `notify`.
  std::string demo_config(const std::string& max, const std::string& notify) {
    std::ifstream in(acme());
    std::stringstream text;
    text << in.rdbuf();
    std::string path = dir_.file("demo.json");
    std::ofstream(path) << replaced(
        text.str(), R"("max_duration": "2m", "notify_before": "1m")",
        R"("max_duration": ")" + max + R"(", "notify_before": ")" + notify + "\"");
    return path;
  }
  bool dm_says(const std::string& user, const std::string& needle) {
    for (const PostedMessage& m : dms(user)) {
      if (contains(m.blocks, needle) || contains(m.text, needle)) return true;
    }
    return false;
  }
};

TEST_F(AccessApiTest, ApprovedForLessTheGrantEndsThatLongAfterTheApproval) {
  start();
  TaskNumber n = request("finn", "staging", "1h");
  HttpResult approved = approve(n, "30s");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(json::str(parse(approved), "duration"), "30s");
  rapidjson::Document d = grants("person=finn&app=aws&resource=staging");
  ASSERT_EQ(rows(d), 1u);
  const json::Value& g = (*json::array(d, "grants"))[0];
  EXPECT_EQ(json::str(g, "how"), "request");
  EXPECT_EQ(json::i64(g, "granted_by_task"), n);
  EXPECT_EQ(length(d), std::chrono::seconds(30)) << "counted from the approval";
  EXPECT_EQ(rows(grants("expiring_before=1m")), 1u);
}

TEST_F(AccessApiTest, AnAdminEndsAccessNowAndTheHolderIsTold) {
  start();
  TaskNumber n = request("bo", "staging", "1h");
  ASSERT_EQ(approve(n).status, 200);
  ASSERT_EQ(rows(grants("person=bo&app=aws&resource=staging")), 1u);
  HttpResult ended = call("POST", "/api/v1/grants/end",
                          R"({"person":"bo","app":"aws","resource":"staging","by":"sam"})");
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(rows(grants("person=bo&app=aws&resource=staging")), 0u);
  EXPECT_TRUE(
      eventually([&] { return dm_says("U0BO", "your access to *AWS / Staging developer*"); }));
}

// The sandbox's walk (README): Bo asks for aws/debug-session with no duration
// and gets its 2 minutes from Dana's approval.
TEST_F(AccessApiTest, TheSandboxDemoResourceGrantsTwoMinutes) {
  start();
  TaskNumber n = request("bo", "debug-session");
  EXPECT_EQ(json::str(parse(call("GET", "/api/v1/tasks/" + std::to_string(n))), "duration"), "2m");
  ASSERT_EQ(approve(n).status, 200);
  rapidjson::Document d = grants("person=bo&app=aws&resource=debug-session");
  ASSERT_EQ(rows(d), 1u);
  EXPECT_EQ(length(d), std::chrono::minutes(2));
}

// The same walk at a few seconds' scale: the "ends soon" DM (with I'm done)
// comes first, then the access ends by itself, with nothing else to do. In real
// time: warned 2 s after the approval, ended 10 s after it; the 8 s between are
// for the DM's delivery on a slow machine (Bo's DM channel is paced, a second
// after the approval's notification).
TEST_F(AccessApiTest, TheSandboxDemoResourceIsWarnedOfThenEndsByItself) {
  start(demo_config("10s", "8s"));
  TaskNumber n = request("bo", "debug-session");
  ASSERT_EQ(approve(n).status, 200);
  ASSERT_EQ(rows(grants("person=bo&app=aws&resource=debug-session")), 1u);
  ASSERT_TRUE(
      eventually([&] { return dm_says("U0BO", "access_done"); }, std::chrono::milliseconds(9000)))
      << "the ends-soon DM";
  EXPECT_EQ(rows(grants("person=bo&app=aws&resource=debug-session")), 1u)
      << "warned before the end";
  EXPECT_TRUE(
      eventually([&] { return rows(grants("person=bo&app=aws&resource=debug-session")) == 0; },
                 std::chrono::milliseconds(20000)))
      << "ended by itself";
  EXPECT_TRUE(eventually([&] { return dm_says("U0BO", "has ended"); })) << "and Bo is told";
}

}  // namespace
}  // namespace tollgate::testing
