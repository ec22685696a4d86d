// The sandbox (sandbox/sandbox.h) from outside: when the real binary runs
// it, what its JSON API accepts and refuses, and that what it delivers is
// signed as Slack's requests are (Tollgate acts on it). The page itself is
// driven in Chromium by tests/sandbox/sandbox.test.mjs.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "base/json.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

class SandboxTest : public ::testing::Test {
 protected:
  // `serve` with no Slack credentials at all, as a newcomer runs it.
  bool start(std::vector<std::pair<std::string, std::string>> env = {},
             std::vector<std::string> args = {}) {
    ProcessOptions o;
    o.db = "sqlite:" + dir_.file("sandbox.db");
    o.token.clear();
    o.secret.clear();
    o.env = std::move(env);
    o.args = std::move(args);
    bot_ = std::make_unique<TollgateProcess>(o);
    if (!bot_->start()) return false;
    client_ = std::make_unique<HttpClient>(bot_->port());
    session_ = session_of(client_->get("/sandbox").body);  // none when the sandbox is off
    return true;
  }
  // The session the page carries (<meta name="tollgate-sandbox-session" content="…">).
  static std::string session_of(const std::string& page) {
    const std::string marker = R"(name="tollgate-sandbox-session" content=")";
    auto at = page.find(marker);
    if (at == std::string::npos) return {};
    at += marker.size();
    return page.substr(at, page.find('"', at) - at);
  }
  // As the page calls the API: with its session (and the Host 127.0.0.1:PORT).
  HttpResult post(const std::string& call, const std::string& body, Headers extra = {}) {
    Headers h{{"Content-Type", "application/json"}, {"X-Sandbox-Session", session_}};
    h.insert(h.end(), extra.begin(), extra.end());
    return client_->request("POST", "/sandbox/api/" + call, body, h);
  }
  HttpResult get(const std::string& target, Headers extra = {}) {
    Headers h{{"X-Sandbox-Session", session_}};
    h.insert(h.end(), extra.begin(), extra.end());
    return client_->request("GET", target, "", h);
  }
  rapidjson::Document state(const std::string& user) {
    HttpResult r = get("/sandbox/api/state?user=" + user);
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d;
  }
  // Waits for a message to `user` whose fallback text contains `text`; its ts.
  std::string wait_for_message(const std::string& user, const std::string& text) {
    for (int i = 0; i < 300; ++i) {  // 15 s: posts to one DM are paced a second apart
      rapidjson::Document d = state(user);
      for (const auto& m : d["messages"].GetArray()) {
        if (json::str(m, "text").find(text) != std::string::npos) return json::str(m, "ts");
      }
      std::this_thread::sleep_for(50ms);
    }
    return {};
  }

  TempDir dir_;
  std::unique_ptr<TollgateProcess> bot_;
  std::unique_ptr<HttpClient> client_;
  std::string session_;
};

TEST_F(SandboxTest, RunsWhenNoSlackCredentialsAreSetAndServesThePage) {
  ASSERT_TRUE(start());
  EXPECT_NE(bot_->log().find("/sandbox"), std::string::npos) << bot_->log();
  HttpResult page = client_->get("/sandbox");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>Tollgate sandbox</title>"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);

  HttpResult people = get("/sandbox/api/people");
  ASSERT_EQ(people.status, 200);
  rapidjson::Document d;
  d.Parse(people.body.c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(json::str(d, "workspace"), "Acme");
  ASSERT_EQ(d["people"].Size(), 28u);
  // Lina has no Slack id in the directory: she gets one, and Tollgate finds her by email.
  EXPECT_EQ(json::str(d["people"][27], "id"), "U0SBLINA");
  EXPECT_EQ(json::str(d["people"][27], "name"), "Lina Haas");
}

TEST_F(SandboxTest, IsOffWhenAskedAndWithSlackCredentials) {
  ASSERT_TRUE(start({{"TOLLGATE_SANDBOX", "off"}}));
  EXPECT_EQ(client_->get("/sandbox").status, 404);
  bot_->stop(SIGTERM);

  ProcessOptions o;  // the tests' usual secrets: a real Slack app, so no sandbox
  o.db = "sqlite:" + dir_.file("slack.db");
  TollgateProcess with_slack(o);
  ASSERT_TRUE(with_slack.start());
  HttpClient c(with_slack.port());
  EXPECT_EQ(c.get("/sandbox").status, 404);
  EXPECT_EQ(c.get("/sandbox/api/people").status, 404);
}

TEST_F(SandboxTest, RunsOnlyOnLoopback) {
  EXPECT_FALSE(start({}, {"--listen", "0.0.0.0:0"}));
  EXPECT_NE(bot_->log().find("runs only on a loopback address"), std::string::npos) << bot_->log();
}

TEST_F(SandboxTest, TheApiRefusesOtherSitesAndOtherBodiesAndChangesNothing) {
  ASSERT_TRUE(start());
  std::uint64_t before = state("U0BO")["version"].GetUint64();
  std::string command = R"({"user":"U0BO","text":"/tasks request aws/staging -- x"})";
  // A cross-site form can send text/plain without a preflight: refused.
  HttpResult plain =
      client_->request("POST", "/sandbox/api/command", command,
                       {{"Content-Type", "text/plain"}, {"X-Sandbox-Session", session_}});
  EXPECT_EQ(plain.status, 415);
  // Another site's script (its Origin) is refused too.
  EXPECT_EQ(post("command", command, {{"Origin", "https://evil.example"}}).status, 403);
  EXPECT_EQ(post("command", "{not json").status, 400);
  EXPECT_EQ(post("command", R"({"user":"U0NOBODY","text":"/tasks"})").status, 404);
  EXPECT_EQ(post("action", R"({"user":"U0BO","container":{"type":"message","ts":"1.2"},
                              "action":{"type":"button","action_id":"approve","value":"1:0"}})")
                .status,
            404);
  EXPECT_EQ(post("submit", R"({"user":"U0BO","view_id":"V404"})").status, 404);
  EXPECT_EQ(post("launch", R"({"user":"U0BO"})").status, 404);
  EXPECT_EQ(state("U0BO")["version"].GetUint64(), before);
  EXPECT_EQ(get("/sandbox/api/state?user=U0NOBODY").status, 404);
  // Nothing was asked of Tollgate: no task.
  EXPECT_EQ(bot_->log().find("POST path=/slack/commands"), std::string::npos);
}

// Finding: a page of another site whose name was rebound to 127.0.0.1 (DNS
// rebinding) sends its own name in Host and Origin, which matched: it could
// act. The sandbox answers only Host 127.0.0.1, localhost or [::1] with its
// own port, the page included (which carries the session).
TEST_F(SandboxTest, AnotherHostIsRefusedEvenWithAMatchingOrigin) {
  ASSERT_TRUE(start());
  std::string port = std::to_string(bot_->port());
  std::string command = R"({"user":"U0BO","text":"/tasks request aws/staging -- rebound"})";
  for (const std::string& host : std::vector<std::string>{
           "rebind.evil.example:" + port, "rebind.evil.example", "127.0.0.1", "127.0.0.1:1",
           "localhost.evil.example:" + port, "127.0.0.2:" + port}) {
    EXPECT_EQ(get("/sandbox", {{"Host", host}}).status, 403) << host;
    EXPECT_EQ(get("/sandbox/api/people", {{"Host", host}}).status, 403) << host;
    EXPECT_EQ(post("command", command, {{"Host", host}, {"Origin", "http://" + host}}).status, 403)
        << host;
  }
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port}) {
    EXPECT_EQ(get("/sandbox/api/people", {{"Host", host}}).status, 200) << host;
  }
  EXPECT_EQ(bot_->log().find("POST path=/slack/commands"), std::string::npos)
      << "nothing reached Tollgate";
}

// The API answers only requests with the session written into this start's
// page: a script that cannot read the page cannot use the API.
// Security review, finding 4: --listen took any 127.x address for the
// sandbox, but the sandbox answered only Host 127.0.0.1, localhost or [::1]
// (403 to its own page at 127.0.0.2), and delivered the page's actions to
// 127.0.0.1. The address it listens on is its own host too; others are not.
TEST_F(SandboxTest, ListeningOnAnotherLoopbackAddressItAnswersThatHost) {
  {
    tollgate::http::LoopbackClient probe(1, "127.0.0.2");
    if (probe.get("/").error.find("refused") == std::string::npos)
      GTEST_SKIP() << "127.0.0.2 is not routed here: " << probe.get("/").error;
  }
  ProcessOptions o;
  o.db = "sqlite:" + dir_.file("sandbox.db");
  o.token.clear();
  o.secret.clear();
  o.args = {"--listen", "127.0.0.2:0"};
  bot_ = std::make_unique<TollgateProcess>(o);
  ASSERT_TRUE(bot_->start()) << bot_->log();
  HttpClient at(bot_->port(), "127.0.0.2");  // Host: 127.0.0.2:PORT
  HttpResult page = at.get("/sandbox");
  ASSERT_EQ(page.status, 200) << page.body;
  std::string session = session_of(page.body);
  const std::string port = std::to_string(bot_->port());
  HttpResult r = at.request("POST", "/sandbox/api/command",
                            R"({"user":"U0BO","text":"/tasks request aws/staging -- tests"})",
                            {{"Content-Type", "application/json"}, {"X-Sandbox-Session", session}});
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document answer;
  answer.Parse(r.body.c_str());
  EXPECT_EQ(answer["status"].GetInt(), 200) << "delivered to Tollgate at 127.0.0.2: " << r.body;
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.3:" + port, "127.0.0.2:1", "rebind.evil.example:" + port})
    EXPECT_EQ(at.request("GET", "/sandbox", "", {{"Host", host}}).status, 403) << host;
}

TEST_F(SandboxTest, TheApiRequiresThisStartsSession) {
  ASSERT_TRUE(start());
  ASSERT_FALSE(session_.empty()) << "the page carries a session";
  std::string first = session_;
  EXPECT_EQ(first.size(), 32u);
  std::string command = R"({"user":"U0BO","text":"/tasks request aws/staging -- no session"})";
  HttpResult none = client_->request("POST", "/sandbox/api/command", command,
                                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(none.status, 403);
  EXPECT_EQ(post("command", command, {{"X-Sandbox-Session", std::string(32, '0')}}).status, 403);
  EXPECT_EQ(client_->get("/sandbox/api/people").status, 403);
  EXPECT_EQ(client_->get("/sandbox/api/state?user=U0BO").status, 403);
  EXPECT_EQ(bot_->log().find("POST path=/slack/commands"), std::string::npos);
  EXPECT_EQ(get("/sandbox/api/people").status, 200) << "with the page's session";
  bot_->stop(SIGTERM);
  ASSERT_TRUE(start());
  EXPECT_NE(session_, first) << "a session per start";
}

TEST_F(SandboxTest, WhatThePageSendsReachesTollgateSignedAndDecides) {
  ASSERT_TRUE(start());
  HttpResult r = post("command", R"({"user":"U0BO","text":"/tasks request aws/staging -- tests"})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document answer;
  answer.Parse(r.body.c_str());
  EXPECT_EQ(answer["status"].GetInt(), 200) << r.body;  // Tollgate verified the signature
  // The command's reply is shown to Bo alone.
  rapidjson::Document bo = state("U0BO");
  ASSERT_EQ(bo["ephemerals"].Size(), 1u);
  EXPECT_NE(json::str(bo["ephemerals"][0], "text").find("as #1"), std::string::npos);

  std::string ts = wait_for_message("U0DANA", "Access request #1");
  ASSERT_FALSE(ts.empty());
  r = post("action",
           R"({"user":"U0DANA","container":{"type":"message","ts":")" + ts +
               R"("},"action":{"type":"button","action_id":"approve","block_id":"task:1:0",
                         "value":"1:0","text":{"type":"plain_text","text":"Approve"}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  answer.Parse(r.body.c_str());
  EXPECT_EQ(answer["status"].GetInt(), 200) << r.body;
  EXPECT_FALSE(wait_for_message("U0DANA", "approved by Dana Reyes").empty());

  // A message in the thread of the task's message becomes a comment; the
  // reply is in the thread at once.
  r = post("message", R"({"user":"U0DANA","text":"ok for a week","thread_ts":")" + ts + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  answer.Parse(r.body.c_str());
  EXPECT_EQ(answer["status"].GetInt(), 200) << r.body;
  bool found = false;
  rapidjson::Document dana = state("U0DANA");
  for (const auto& m : dana["messages"].GetArray()) {
    found = found || (json::str(m, "thread_ts") == ts && json::str(m, "user") == "U0DANA" &&
                      json::str(m, "text") == "ok for a week");
  }
  EXPECT_TRUE(found);

  // Opening the App Home publishes it.
  r = post("home", R"({"user":"U0DANA"})");
  ASSERT_EQ(r.status, 200) << r.body;
  bool home = false;
  for (int i = 0; i < 300 && !home; ++i) {
    home = state("U0DANA")["home"].IsObject();
    if (!home) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(home);
}

}  // namespace
}  // namespace tollgate::testing
