// The admin API end to end: authentication, every call, its errors, and its
// effects in Slack.
#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

constexpr const char* kToken = "api-test-token-0123456789abcdef0123";

class ApiTest : public EdgeTest {
 protected:
  void SetUp() override { start_bot({{"TOLLGATE_API_TOKEN", kToken}}); }
  HttpResult call(const std::string& method, const std::string& target,
                  const std::string& body = {}, const std::string& token = kToken) {
    Headers h{{"Content-Type", "application/json"}};
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    return client_->request(method, target, body, h);
  }
  static rapidjson::Document parse(const HttpResult& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d;
  }
  static std::string error_code(const HttpResult& r) {
    auto d = parse(r);
    const json::Value* e = json::object(d, "error");
    return e ? json::str(*e, "code") : "";
  }
  static std::string error_message(const HttpResult& r) {
    auto d = parse(r);
    const json::Value* e = json::object(d, "error");
    return e ? json::str(*e, "message") : "";
  }
};

TEST_F(ApiTest, NeedsTheBearerToken) {
  EXPECT_EQ(call("GET", "/api/v1/tasks", {}, "").status, 401);
  HttpResult wrong = call("GET", "/api/v1/tasks", {}, "api-test-token-0123456780");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(error_code(wrong), "unauthenticated");
  EXPECT_EQ(call("GET", "/api/v1/tasks").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/nothing").status, 404);
}

TEST_F(ApiTest, ARequestOpenedHereNotifiesTheReviewerInSlack) {
  HttpResult r = call(
      "POST", "/api/v1/requests",
      R"({"requester":"ana","app":"github","resource":"maintainer","justification":"release duty","duration":"3d"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = parse(r);
  EXPECT_EQ(json::i64(d, "task"), 1);
  EXPECT_EQ(json::str(d, "state"), "reviewing");
  EXPECT_EQ(json::str(d, "duration"), "3d");
  EXPECT_EQ(json::str(d, "summary"),
            "Requested GitHub / Repository maintainer as #1: with Dana Reyes (step 1 of 3)");
  ASSERT_TRUE(has_dms("U0DANA", 1));
  EXPECT_TRUE(contains(dms("U0DANA")[0].blocks, "release duty"));

  HttpResult one = call("GET", "/api/v1/tasks/1");
  ASSERT_EQ(one.status, 200);
  auto t = parse(one);
  EXPECT_EQ(json::str(t, "headline"), "Step 1 of 3 · Manager then app owner");
  ASSERT_TRUE(json::array(t, "steps"));
  EXPECT_EQ((*json::array(t, "steps"))[1]["label"].GetString(), std::string("App owners"));
  EXPECT_EQ((*json::array(t, "steps"))[1]["people"][0].GetString(), std::string("eve"));
  EXPECT_EQ(json::array(t, "history")->Size(), 2u);
  EXPECT_GE(json::array(t, "insights")->Size(), 1u);
}

TEST_F(ApiTest, ActionsAndTheirRefusals) {
  ASSERT_EQ(
      call("POST", "/api/v1/requests",
           R"({"requester":"ana","app":"github","resource":"maintainer","justification":"x"})")
          .status,
      201);
  HttpResult not_yours =
      call("POST", "/api/v1/tasks/1/actions", R"({"actor":"ana","action":"approve"})");
  EXPECT_EQ(not_yours.status, 403);
  EXPECT_EQ(error_code(not_yours), "permission_denied");
  // Eve's step has not opened: she is not involved yet, and is told what a missing task is told.
  HttpResult not_involved =
      call("POST", "/api/v1/tasks/1/actions", R"({"actor":"eve","action":"approve"})");
  EXPECT_EQ(not_involved.status, 404);
  EXPECT_EQ(error_message(not_involved), "#1 is not one of your tasks");
  HttpResult ok = call("POST", "/api/v1/tasks/1/actions",
                       R"({"actor":"dana","action":"approve","comment":"ok"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::str(parse(ok), "summary"), "Approved #1: now with Eve Adams (step 2 of 3)");
  HttpResult again =
      call("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"approve"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_TRUE(contains(error_message(again), "already approved by Dana Reyes"));
  HttpResult no_reason =
      call("POST", "/api/v1/tasks/1/actions", R"({"actor":"eve","action":"deny"})");
  EXPECT_EQ(no_reason.status, 422);
  EXPECT_EQ(error_code(no_reason), "rule_refused");
  HttpResult reassign =
      call("POST", "/api/v1/tasks/1/actions",
           R"({"actor":"eve","action":"reassign","to":"carl","comment":"on holiday"})");
  EXPECT_EQ(reassign.status, 200) << reassign.body;
  EXPECT_EQ(
      call("POST", "/api/v1/tasks/99/actions", R"({"actor":"dana","action":"approve"})").status,
      404);
  // Listing with filters and pagination.
  ASSERT_EQ(call("POST", "/api/v1/requests",
                 R"({"requester":"bo","app":"aws","resource":"staging","justification":"y"})")
                .status,
            201);
  auto carl = parse(call("GET", "/api/v1/tasks?assignee=carl"));
  ASSERT_EQ(json::array(carl, "tasks")->Size(), 1u);
  auto open = parse(call("GET", "/api/v1/tasks?state=open&limit=1"));
  EXPECT_EQ(json::array(open, "tasks")->Size(), 1u);
  EXPECT_EQ(json::i64(open, "next_after"), 1);
  auto page2 = parse(call("GET", "/api/v1/tasks?state=open&limit=1&after=1"));
  EXPECT_EQ((*json::array(page2, "tasks"))[0]["task"].GetInt64(), 2);
}

TEST_F(ApiTest, ValidationErrorsNameTheField) {
  auto message = [&](const std::string& target, const std::string& body) {
    HttpResult r = call("POST", target, body);
    EXPECT_EQ(r.status, 400) << body;
    return error_message(r);
  };
  EXPECT_EQ(
      message("/api/v1/requests", R"({"requester":"ana","resource":"admin","justification":"x"})"),
      "field `app` is required");
  EXPECT_EQ(message("/api/v1/requests",
                    R"({"requester":"ana","app":7,"resource":"admin","justification":"x"})"),
            "field `app` must be a string");
  EXPECT_EQ(
      message(
          "/api/v1/requests",
          R"({"requester":"ana","app":"github","resource":"admin","justification":"x","duration":"soon"})"),
      "field `duration`: \"soon\" is not a duration such as \"8h\" or \"7d\"");
  EXPECT_TRUE(contains(message("/api/v1/tasks/1/actions", R"({"actor":"dana","action":"bless"})"),
                       "field `action`: \"bless\" is not one of approve, deny, confirm"));
  EXPECT_TRUE(contains(message("/api/v1/requests", "{not json"), "invalid JSON"));
  EXPECT_EQ(message("/api/v1/revocations",
                    R"({"proposer":"dana","subject":"bo","app":"github","resource":"admin"})"),
            "field `reason` is required");
  EXPECT_EQ(call("GET", "/api/v1/tasks?state=pending").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/tasks?limit=0").status, 400);
  HttpResult unknown =
      call("POST", "/api/v1/requests",
           R"({"requester":"ana","app":"gitlab","resource":"admin","justification":"x"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_message(unknown), "unknown app \"gitlab\"");
}

TEST_F(ApiTest, ACommentMadeHereAppearsInTheSlackThreadAndDoesNotComeBack) {
  ASSERT_EQ(call("POST", "/api/v1/requests",
                 R"({"requester":"ana","app":"aws","resource":"staging","justification":"x"})")
                .status,
            201);
  ASSERT_TRUE(has_dms("U0DANA", 1));
  std::string parent = dms("U0DANA")[0].ts;
  HttpResult c = call("POST", "/api/v1/tasks/1/comments",
                      R"({"author":"olga","text":"approved by IT already"})");
  ASSERT_EQ(c.status, 201) << c.body;
  ASSERT_TRUE(eventually(
      [&] { return has_reply(dms("U0DANA"), parent, "Olga Ivanova: approved by IT already"); }));
  std::string echo =
      R"({"type":"message","channel":"DU0DANA","user":"U0BOT","bot_id":"B0BOT","text":"Olga Ivanova: approved by IT already","ts":"1700000400.000001","thread_ts":")" +
      parent + R"("})";
  EXPECT_EQ(post_signed(*client_, "/slack/events", event_callback("Ev0API1", echo), kJson).status,
            200);
  auto t = parse(call("GET", "/api/v1/tasks/1"));
  ASSERT_EQ(json::array(t, "comments")->Size(), 1u);
  EXPECT_EQ((*json::array(t, "comments"))[0]["source"].GetString(), std::string("api"));
  EXPECT_EQ(call("POST", "/api/v1/tasks/1/comments", R"({"author":"nobody","text":"x"})").status,
            400);
}

TEST_F(ApiTest, TheAuditLogIsTheHashChainedHistory) {
  ASSERT_EQ(
      call(
          "POST", "/api/v1/revocations",
          R"({"proposer":"dana","subject":"bo","app":"github","resource":"admin","reason":"left the team"})")
          .status,
      201);
  ASSERT_EQ(call("POST", "/api/v1/tasks/1/actions", R"({"actor":"eve","action":"confirm"})").status,
            200);
  auto all = parse(call("GET", "/api/v1/audit"));
  const json::Value* events = json::array(all, "events");
  ASSERT_TRUE(events);
  // The configuration's grants seeded the ledger first, one event each.
  rapidjson::SizeType seeds = 0;
  while (seeds < events->Size() && (*events)[seeds]["type"].GetString() == std::string("access_seed"))
    ++seeds;
  EXPECT_EQ(seeds, 19u);
  // Opened, step opened, confirmed, and the deprovisioning step opened.
  ASSERT_EQ(events->Size(), seeds + 4);
  EXPECT_EQ(std::string((*events)[0]["prev_hash"].GetString()), std::string(64, '0'));
  for (rapidjson::SizeType i = 1; i < events->Size(); ++i) {
    EXPECT_EQ(std::string((*events)[i]["prev_hash"].GetString()),
              std::string((*events)[i - 1]["hash"].GetString()));
  }
  const json::Value& confirmed = (*events)[seeds + 2];
  EXPECT_EQ(std::string(confirmed["type"].GetString()), "confirmed");
  EXPECT_EQ(std::string(confirmed["actor"].GetString()), "eve");
  EXPECT_EQ(std::string(confirmed["actor_slack_id"].GetString()), "U0EVE");
  EXPECT_EQ(std::string(confirmed["actor_name"].GetString()), "Eve Adams");
  auto since = parse(call("GET", "/api/v1/audit?since=" + std::to_string(seeds + 2) + "&limit=1"));
  EXPECT_EQ((*json::array(since, "events"))[0]["seq"].GetInt64(), seeds + 3);
  EXPECT_EQ(json::i64(since, "next_since"), seeds + 3);
}

TEST_F(EdgeTest, TheAdminApiIsDisabledWithoutAToken) {
  start_bot();
  HttpResult r =
      client_->request("GET", "/api/v1/tasks", {}, {{"Authorization", "Bearer anything"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(contains(r.body, "the admin API is disabled"));
}

}  // namespace
}  // namespace tollgate::testing
