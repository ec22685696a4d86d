// Security review findings, one test each (the others live beside the feature
// they guard: signatures in slack_edge_test, response_url hosts and TLS
// verification in web_client_test, other workspaces and clicks by people not
// assigned in slack_edge_test, header injection in mail_test, SQL in
// store_test).
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

// Secrets and tokens never reach the log, at the most verbose level, whatever
// requests come in: the signing secret, the bot token, the admin API token,
// the SMTP password, the request signatures and Authorization headers.
TEST_F(EdgeTest, SecretsAndTokensNeverReachTheLog) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  const std::string api_token = "api-token-9f8e7d6c5b4a3f2e1d0c9b8a7f6e";
  const std::string smtp_password = "smtp-pass-0a1b2c3d";
  start_bot({{"TOLLGATE_LOG_LEVEL", "debug"},
             {"TOLLGATE_API_TOKEN", api_token},
             {"TOLLGATE_SMTP_URL", "smtp://tollgate:" + smtp_password + "@127.0.0.1:1"}});
  ASSERT_TRUE(has_dms("U0DANA", 1));  // so that the approval updates a message
  std::string body = danas_approval(n);
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

// Finding: the same signed `/tasks comment` sent twice made two comments. A
// request with a signature seen before (the same timestamp and body, within
// the five minutes) is acknowledged with an empty 200 and not acted on again.
TEST_F(EdgeTest, AReplayedSignedCommandIsAcknowledgedAndCommentsOnce) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_bot();
  std::string body =
      slash_command("U0ANA", "comment " + std::to_string(n) + " ship it", slack_.response_url("c"));
  Headers h = signed_headers(body, kForm);
  HttpResult first = client_->request("POST", "/slack/commands", body, h);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(first.body.empty()) << "the first is answered as usual";
  HttpResult again = client_->request("POST", "/slack/commands", body, h);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, "") << "a replay is acknowledged, and nothing more";
  ASSERT_EQ(task(n).comments.size(), 1u) << "one comment, not two";
  EXPECT_EQ(task(n).comments[0].text, "ship it");
}

// The same for a click: one decision; the replay is acknowledged (200, empty)
// without a word to anyone ("already approved" would be a second action).
TEST_F(EdgeTest, AReplayedSignedClickDecidesOnce) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_bot();
  std::string body = danas_approval(n, "r");
  Headers h = signed_headers(body, kForm);
  ASSERT_EQ(client_->request("POST", "/slack/interactions", body, h).status, 200);
  Task decided = task(n);
  ASSERT_EQ(decided.version, 2) << "the first click decides";
  std::size_t events = reader_->task_events(n)->size();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::size_t said = slack_.calls("response_url").size();
  HttpResult again = client_->request("POST", "/slack/interactions", body, h);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(task(n).version, 2) << "the replay decides nothing";
  EXPECT_EQ(reader_->task_events(n)->size(), events);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(slack_.calls("response_url").size(), said) << "nobody is told anything of it";
  // A fresh click by the same person (Slack signs each anew) is still served:
  // told that the step is decided already.
  EXPECT_EQ(click("U0DANA", "approve", std::to_string(n) + ":0", "r2").status, 200);
  EXPECT_TRUE(eventually([&] { return slack_.calls("response_url").size() == said + 1; }));
}

// A click that turns out to decide nothing (here the task is not shown to the clicker) records
// its signature on its own before it answers: its replay tells nobody anything.
TEST_F(EdgeTest, AReplayedClickThatDecidedNothingTellsNothing) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_bot();
  std::string body = block_action("U0RITA", "approve", std::to_string(n) + ":0",
                                  slack_.response_url("rita"), slack_.trigger_id());
  Headers h = signed_headers(body, kForm);
  ASSERT_EQ(client_->request("POST", "/slack/interactions", body, h).status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.calls("response_url").size() == 1; }));
  HttpResult again = client_->request("POST", "/slack/interactions", body, h);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, "");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(slack_.calls("response_url").size(), 1u) << "the replay tells nothing";
  EXPECT_EQ(task(n).version, 1);
  EXPECT_NE(client_->request("GET", "/metrics")
                .body.find(R"(tollgate_slack_rejected_total{reason="replay"} 1)"),
            std::string::npos);
}

// Finding: the admin API took any token, "x" included. Shorter than 32
// characters, `serve` refuses to start and names the variable.
TEST_F(EdgeTest, AnAdminApiTokenShorterThan32CharactersRefusesToStart) {
  ProcessOptions o;
  o.db = db();
  o.slack_api_url = slack_.api_url();
  o.env = {{"TOLLGATE_API_TOKEN", std::string(31, 'k')}};
  TollgateProcess short_token(o);
  EXPECT_FALSE(short_token.start()) << short_token.log();
  EXPECT_NE(short_token.log().find("TOLLGATE_API_TOKEN must be at least 32 characters"),
            std::string::npos)
      << short_token.log();
  start_bot({{"TOLLGATE_API_TOKEN", std::string(32, 'k')}});
  EXPECT_EQ(client_
                ->request("GET", "/api/v1/tasks", "",
                          {{"Authorization", "Bearer " + std::string(32, 'k')}})
                .status,
            200);
}

// Finding: /readyz echoed the database's error text to whoever asked. It says
// "database unavailable" and nothing else; the detail goes to the log.
TEST_F(EdgeTest, ReadyzDoesNotEchoTheDatabasesError) {
  start_bot();
  ASSERT_EQ(client_->get("/readyz").status, 200);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("tollgate.db").c_str(), &raw), SQLITE_OK);
  // The live server writes to the file too (its outbox, its caches): wait for
  // its lock instead of failing with SQLITE_BUSY on a loaded machine.
  sqlite3_busy_timeout(raw, 30000);
  ASSERT_EQ(sqlite3_exec(raw, "ALTER TABLE schema_version RENAME COLUMN version TO secret_column",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  HttpResult r = client_->get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "database unavailable\n");
  EXPECT_TRUE(bot_->wait_for_log("readyz: the store does not answer", std::chrono::seconds(2)))
      << "the detail is logged: " << bot_->log();
}

}  // namespace
}  // namespace tollgate::testing
