// The admin API's route table (edge/admin_api.h) through the router, in-process:
// authorization, unknown routes and methods, path parameters, one round trip,
// and the access ledger (grants, approving for less, the ledger's refusals).
#include "edge/admin_api.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/time_text.h"
#include "tests/unit/edge_harness.h"

namespace tollgate::testing {
namespace {

class AdminApiTest : public EdgeHarness {
 protected:
  http::Response api(const std::string& method, const std::string& path,
                     const std::string& body = {}, const std::string& token = kApiToken) {
    Headers h{{"Content-Type", "application/json"}};
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    return call(request(method, path, body, h));
  }
  // The error's code and message, "code: message".
  static std::string error_of(const http::Response& r) {
    rapidjson::Document d;
    if (!json::parse(d, r.body).ok()) return "(not JSON) " + r.body;
    const json::Value* e = json::object(d, "error");
    return e == nullptr ? "(no error) " + r.body
                        : json::str(*e, "code") + ": " + json::str(*e, "message");
  }
};

TEST_F(AdminApiTest, ABadOrMissingTokenIs401) {
  http::Response none = api("GET", "/api/v1/tasks", {}, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(error_of(none), "unauthenticated: a valid bearer token is required");
  ASSERT_EQ(none.headers.size(), 1u);
  EXPECT_EQ(none.headers[0], (std::pair<std::string, std::string>{"WWW-Authenticate", "Bearer"}));
  EXPECT_EQ(api("GET", "/api/v1/tasks", {}, "edge-test-token-0123456789abcdef0124").status, 401);
  // Checked before the route: an unknown route with a bad token is 401 too.
  EXPECT_EQ(api("GET", "/api/v1/nothing", {}, "wrong").status, 401);
}

TEST_F(AdminApiTest, WithoutATokenConfiguredTheApiIsDisabled) {
  AdminApi disabled("", *service_, *store_);
  router_->set_admin_api(&disabled);
  http::Response r = api("GET", "/api/v1/tasks");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r), "not_found: the admin API is disabled (TOLLGATE_API_TOKEN is not set)");
}

TEST_F(AdminApiTest, UnknownRoutesAre404) {
  http::Response r = api("GET", "/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r), "not_found: no such endpoint: /api/v1/nothing");
  EXPECT_EQ(api("POST", "/api/v1/tasks/1/nothing", "{}").status, 404);
  EXPECT_EQ(api("GET", "/api/v2/tasks").status, 404);
}

TEST_F(AdminApiTest, WrongMethodsAre405NamingTheAllowedOnes) {
  http::Response get_only = api("DELETE", "/api/v1/tasks");
  EXPECT_EQ(get_only.status, 405);
  EXPECT_EQ(error_of(get_only), "method_not_allowed: GET only");
  EXPECT_EQ(error_of(api("GET", "/api/v1/requests")), "method_not_allowed: POST only");
  EXPECT_EQ(error_of(api("GET", "/api/v1/tasks/1/actions")), "method_not_allowed: POST only");
  EXPECT_EQ(error_of(api("POST", "/api/v1/tasks/1")), "method_not_allowed: GET only");
  EXPECT_EQ(error_of(api("POST", "/api/v1/people/dana/delegation")),
            "method_not_allowed: GET, PUT or DELETE");
}

TEST_F(AdminApiTest, PathParametersAreCheckedBeforeTheMethod) {
  EXPECT_EQ(error_of(api("GET", "/api/v1/tasks/abc")), "not_found: no such task: abc");
  EXPECT_EQ(error_of(api("GET", "/api/v1/tasks/0")), "not_found: no such task: 0");
  EXPECT_EQ(error_of(api("POST", "/api/v1/tasks/-1/actions", "{}")), "not_found: no such task: -1");
  EXPECT_EQ(error_of(api("POST", "/api/v1/people/nobody/delegation")),
            "not_found: no such person: nobody");
  EXPECT_EQ(error_of(api("GET", "/api/v1/people/dana/delegation")),
            "not_found: dana has no delegation");
}

TEST_F(AdminApiTest, OpensReadsAndActsOnATask) {
  http::Response opened =
      api("POST", "/api/v1/requests",
          R"({"requester":"ana","app":"github","resource":"admin","justification":"keys"})");
  ASSERT_EQ(opened.status, 201) << opened.body;
  rapidjson::Document doc;
  ASSERT_TRUE(json::parse(doc, opened.body).ok());
  EXPECT_EQ(json::str(doc, "state"), "reviewing");
  http::Response read = api("GET", "/api/v1/tasks/1");
  EXPECT_EQ(read.status, 200);
  EXPECT_TRUE(contains(read.body, "\"history\"")) << read.body;
  http::Response bad =
      api("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"bless"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(contains(error_of(bad), "field `action`: \"bless\" is not one of")) << bad.body;
  http::Response ok =
      api("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"approve"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(task(1).current_step(), 1);
  EXPECT_EQ(api("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"approve"})").status,
            409);
  http::Response list = api("GET", "/api/v1/tasks?state=open&limit=1");
  EXPECT_EQ(list.status, 200);
  EXPECT_TRUE(contains(list.body, "\"next_after\":1")) << list.body;
  EXPECT_EQ(api("GET", "/api/v1/tasks?limit=0").status, 400);
}

TEST_F(AdminApiTest, DelegationsAreSetShownAndEnded) {
  http::Response set =
      api("PUT", "/api/v1/people/dana/delegation", R"({"delegate":"boss","until":"2026-12-24"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(contains(set.body, "\"until\":\"2026-12-25T00:00:00.000Z\"")) << set.body;
  EXPECT_EQ(api("GET", "/api/v1/people/dana/delegation").status, 200);
  EXPECT_TRUE(contains(api("GET", "/api/v1/delegations").body, "\"delegate\":\"boss\""));
  EXPECT_EQ(api("DELETE", "/api/v1/people/dana/delegation").status, 204);
  EXPECT_EQ(api("GET", "/api/v1/people/dana/delegation").status, 404);
}

// The access ledger seeded from the test organisation's grants (bo: github/admin
// since 2024-01-10, last used 2026-08-24; cy: github/member), plus what a test adds.
class GrantsApiTest : public AdminApiTest {
 protected:
  void SetUp() override {
    AdminApiTest::SetUp();
    ASSERT_TRUE(service_->seed_access(*world_.dir, world_.clock.now()).ok());
  }
  // Opens ana's request for aws/staging (manager-only, automatic) for `duration`.
  TaskNumber open_staging(const std::string& duration) {
    http::Response r = api("POST", "/api/v1/requests",
                           R"({"requester":"ana","app":"aws","resource":"staging",)"
                           R"("justification":"deploys","duration":")" +
                               duration + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    rapidjson::Document d;
    return json::parse(d, r.body).ok() ? json::i64(d, "task") : 0;
  }
  // The rows of GET /api/v1/grants?<query>, as "person app/resource".
  std::vector<std::string> listed(const std::string& query) {
    http::Response r = api("GET", "/api/v1/grants" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document d;
    std::vector<std::string> out;
    if (!json::parse(d, r.body).ok() || json::array(d, "grants") == nullptr) return out;
    for (const json::Value& g : json::array(d, "grants")->GetArray())
      out.push_back(json::str(g, "person") + " " + json::str(g, "app") + "/" +
                    json::str(g, "resource"));
    return out;
  }
  static std::string at(Time t) { return format_iso8601(t); }
};

TEST_F(GrantsApiTest, TheLedgerIsListedWithItsFields) {
  open_staging("4h");
  ASSERT_EQ(api("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"approve"})").status,
            200);
  http::Response r = api("GET", "/api/v1/grants");
  ASSERT_EQ(r.status, 200) << r.body;
  Time now = world_.clock.now();
  EXPECT_EQ(
      r.body,
      R"({"grants":[)"
      R"({"person":"ana","app":"aws","resource":"staging","since":")" +
          at(now) + R"(","expires_at":")" + at(now + std::chrono::hours(4)) +
          R"(","granted_by_task":1,"how":"request","last_used":null,"ending_task":null},)"
          R"({"person":"bo","app":"github","resource":"admin",)"
          R"("since":"2024-01-10T00:00:00.000Z","expires_at":null,"granted_by_task":null,)"
          R"("how":"configuration","last_used":"2026-08-24T00:00:00.000Z","ending_task":null},)"
          R"({"person":"cy","app":"github","resource":"member","since":")" +
          at(now) +
          R"(","expires_at":null,"granted_by_task":null,"how":"configuration",)"
          R"("last_used":null,"ending_task":null}],"truncated":false})");
}

TEST_F(GrantsApiTest, FiltersByPersonAppResourceAndEnd) {
  open_staging("4h");
  ASSERT_EQ(api("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"approve"})").status,
            200);
  using V = std::vector<std::string>;
  EXPECT_EQ(listed("?person=ana"), V{"ana aws/staging"});
  EXPECT_EQ(listed("?app=github"), (V{"bo github/admin", "cy github/member"}));
  EXPECT_EQ(listed("?app=github&resource=member"), V{"cy github/member"});
  EXPECT_EQ(listed("?person=cy&app=aws"), V{});
  // Only rows with an end before it: as a duration from now, or an instant.
  EXPECT_EQ(listed("?expiring_before=5h"), V{"ana aws/staging"});
  EXPECT_EQ(listed("?expiring_before=3h"), V{});
  Time now = world_.clock.now();
  EXPECT_EQ(listed("?expiring_before=" + at(now + std::chrono::hours(4) + std::chrono::seconds(1))),
            V{"ana aws/staging"});
  EXPECT_EQ(listed("?limit=1"), V{"ana aws/staging"});
  EXPECT_TRUE(contains(api("GET", "/api/v1/grants?limit=1").body, "\"truncated\":true"));
}

TEST_F(GrantsApiTest, BadParametersAre400NamingThem) {
  http::Response soon = api("GET", "/api/v1/grants?expiring_before=soon");
  EXPECT_EQ(soon.status, 400);
  EXPECT_EQ(error_of(soon),
            "invalid_argument: parameter `expiring_before`: \"soon\" is not an instant "
            "(2026-12-24T18:00:00Z) or a duration from now (24h)");
  EXPECT_EQ(error_of(api("GET", "/api/v1/grants?resource=admin")),
            "invalid_argument: parameter `resource` needs `app`");
  EXPECT_EQ(error_of(api("GET", "/api/v1/grants?limit=0")),
            "invalid_argument: parameter `limit` must be 1 to 500");
  EXPECT_EQ(error_of(api("DELETE", "/api/v1/grants")), "method_not_allowed: GET only");
}

TEST_F(GrantsApiTest, ApprovingForLessMovesTheEnd) {
  open_staging("8h");
  http::Response r = api("POST", "/api/v1/tasks/1/actions",
                         R"({"actor":"dana","action":"approve","duration":"2h"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "\"duration\":\"2h\"")) << r.body;
  EXPECT_EQ(task(1).duration_by, "dana");
  EXPECT_TRUE(
      contains(api("GET", "/api/v1/grants?person=ana").body,
               "\"expires_at\":\"" + at(world_.clock.now() + std::chrono::hours(2)) + "\""));
}

TEST_F(GrantsApiTest, ADurationMalformedOrLongerThanRequestedIsRefused) {
  open_staging("8h");
  http::Response bad = api("POST", "/api/v1/tasks/1/actions",
                           R"({"actor":"dana","action":"approve","duration":"a while"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_of(bad),
            "invalid_argument: field `duration`: \"a while\" is not a duration such as \"8h\" or "
            "\"7d\"");
  EXPECT_EQ(error_of(api("POST", "/api/v1/tasks/1/actions",
                         R"({"actor":"dana","action":"deny","comment":"no","duration":"1h"})")),
            "invalid_argument: field `duration` is only for the action approve");
  http::Response longer = api("POST", "/api/v1/tasks/1/actions",
                              R"({"actor":"dana","action":"approve","duration":"9h"})");
  EXPECT_EQ(longer.status, 422);
  EXPECT_EQ(error_of(longer),
            "rule_refused: approve for at most 8h, the duration requested; 9h is longer");
  EXPECT_EQ(task(1).state, TaskState::reviewing) << "nothing was decided";
  EXPECT_EQ(listed("?person=ana"), std::vector<std::string>{});
}

TEST_F(GrantsApiTest, RequestsAndRevocationsTheLedgerRefusesCarryTheEnginesReason) {
  open_staging("4h");
  http::Response twice = api("POST", "/api/v1/requests",
                             R"({"requester":"ana","app":"aws","resource":"staging",)"
                             R"("justification":"again"})");
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(error_of(twice),
            "conflict: #1 is already open for Ana Silva's access to AWS / Staging");
  http::Response held = api("POST", "/api/v1/requests",
                            R"({"requester":"cy","app":"github","resource":"member",)"
                            R"("justification":"mine"})");
  EXPECT_EQ(held.status, 422);
  EXPECT_TRUE(contains(error_of(held), "is held without end since ")) << held.body;
  EXPECT_TRUE(contains(error_of(held), ": there is nothing to request")) << held.body;
  http::Response none = api("POST", "/api/v1/revocations",
                            R"({"proposer":"sam","subject":"ana","app":"github",)"
                            R"("resource":"member","reason":"cleanup"})");
  EXPECT_EQ(none.status, 422);
  EXPECT_EQ(error_of(none),
            "rule_refused: Ana Silva does not hold GitHub / Member: there is nothing to revoke");
}

TEST_F(GrantsApiTest, AnAdminEndsAccessNow) {
  open_staging("4h");
  ASSERT_EQ(api("POST", "/api/v1/tasks/1/actions", R"({"actor":"dana","action":"approve"})").status,
            200);
  const std::string body = R"({"person":"ana","app":"aws","resource":"staging")";
  http::Response manager = api("POST", "/api/v1/grants/end", body + R"(,"by":"dana"})");
  EXPECT_EQ(manager.status, 403);
  EXPECT_EQ(error_of(manager),
            "permission_denied: only the holder or an admin can end this access");
  http::Response ended = api("POST", "/api/v1/grants/end", body + R"(,"by":"sam"})");
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(listed("?person=ana"), std::vector<std::string>{});
  http::Response again = api("POST", "/api/v1/grants/end", body + "}");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(error_of(again), "not_found: Ana Silva does not hold AWS / Staging");
  EXPECT_EQ(error_of(api("POST", "/api/v1/grants/end", R"({"person":"ana","app":"aws"})")),
            "invalid_argument: field `resource` is required");
}

}  // namespace
}  // namespace tollgate::testing
