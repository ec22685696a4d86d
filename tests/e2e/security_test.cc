// Security review findings, one test each (the others live beside the feature
// they guard: signatures in slack_edge_test, response_url hosts and TLS
// verification in web_client_test, other workspaces and clicks by people not
// assigned in slack_edge_test, header injection in mail_test, SQL in
// store_test).
#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

// Secrets and tokens never reach the log, at the most verbose level, whatever
// requests come in: the signing secret, the bot token, the admin API token,
// the SMTP password, the request signatures and Authorization headers.
TEST_F(EdgeTest, SecretsAndTokensNeverReachTheLog) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  const std::string api_token = "api-token-9f8e7d6c5b4a";
  const std::string smtp_password = "smtp-pass-0a1b2c3d";
  start_bot({{"TOLLGATE_LOG_LEVEL", "debug"},
             {"TOLLGATE_API_TOKEN", api_token},
             {"TOLLGATE_SMTP_URL", "smtp://tollgate:" + smtp_password + "@127.0.0.1:1"}});
  ASSERT_TRUE(has_dms("U0DANA", 1));  // so that the approval updates a message
  std::string body =
      block_action("U0DANA", "approve", std::to_string(n) + ":0", slack_.response_url("x"));
  Headers h = signed_headers(body, kForm);
  std::string signature;
  for (const auto& [k, v] : h) {
    if (k == "X-Slack-Signature") signature = v;
  }
  EXPECT_EQ(client_->request("POST", "/slack/interactions", body, h).status, 200);
  EXPECT_EQ(
      post_signed(*client_, "/slack/commands", slash_command("U0DANA", "list", "x"), kForm).status,
      200);
  Headers forged = signed_headers(body, kForm, unix_now(), "not-the-secret");
  EXPECT_EQ(client_->request("POST", "/slack/interactions", body, forged).status, 401);
  EXPECT_EQ(client_->request("GET", "/api/v1/tasks", "", {{"Authorization", "Bearer " + api_token}})
                .status,
            200);
  EXPECT_EQ(
      client_->request("GET", "/api/v1/tasks", "", {{"Authorization", "Bearer wrong"}}).status,
      401);
  ASSERT_TRUE(eventually([&] { return slack_.count("chat.update") >= 1; }));
  bot_->stop(SIGTERM);
  std::string log = bot_->log();
  ASSERT_NE(log.find("request method=POST path=/slack/interactions"), std::string::npos)
      << "the log was written";
  for (const std::string& secret : {std::string(kSigningSecret), std::string("xoxb-test-token"),
                                    api_token, smtp_password, signature, std::string("Bearer ")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log contains " << secret;
  }
}

// A response_url in a payload that is not Slack's is never called: the
// refusal goes through chat.postEphemeral instead.
TEST_F(EdgeTest, AResponseUrlThatIsNotSlacksIsNeverCalled) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_bot();
  auto r = post_signed(*client_, "/slack/interactions",
                       block_action("U0OLGA", "approve", std::to_string(n) + ":0",
                                    "https://attacker.test/hooks/collect"),
                       kForm);
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("chat.postEphemeral") == 1; }));
  EXPECT_TRUE(slack_.calls("response_url").empty());
  EXPECT_NE(slack_.calls("chat.postEphemeral")[0].body.find("is assigned to Dana Reyes"),
            std::string::npos);
  EXPECT_EQ(task(n).version, 1);
}

// Button values are only "<task>:<step>", re-checked on every click: a forged
// value cannot act on a task the clicker may not act on, nor reach anything else.
TEST_F(EdgeTest, ForgedButtonValuesChangeNothing) {
  TaskNumber mine = open_request(req("ana", "aws", "staging"));    // dana reviews it
  TaskNumber other = open_request(req("nora", "aws", "staging"));  // sam reviews it
  start_bot();
  std::string o = std::to_string(other);
  for (const std::string& value :
       {o + ":0", o + ":-1", o + ":1", o + ":0;DROP TABLE tasks", std::to_string(mine) + ":7",
        std::string("999999:0"), std::string("-1:0"), std::string("1e3:0"), o, std::string("")}) {
    auto r = click("U0DANA", "approve", value, "f");
    EXPECT_TRUE(r.status == 200 || r.status == 400) << value << " -> " << r.status;
  }
  EXPECT_EQ(task(other).version, 1) << "nora's task is not dana's to approve, however it is named";
  EXPECT_EQ(task(mine).version, 1) << "a step that does not exist decides nothing";
}

}  // namespace
}  // namespace tollgate::testing
