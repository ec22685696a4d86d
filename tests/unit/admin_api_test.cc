// The admin API's route table (edge/admin_api.h) through the router, in-process:
// authorization, unknown routes and methods, path parameters, and one round trip.
#include "edge/admin_api.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tollgate::testing
