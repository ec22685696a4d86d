// The router as a function from request to response (edge/router.h): Slack's
// endpoints verified, dispatched and answered in-process, over a real SQLite
// store, with no socket and no Slack.
#include "edge/router.h"

#include <gtest/gtest.h>

#include "slack/actions.h"
#include "slack/socket_mode.h"
#include "tests/unit/edge_harness.h"

namespace tollgate::testing {
namespace {

class RouterTest : public EdgeHarness {
 protected:
  // Dana (UDANA) clicks a button of task `n`'s message, for step `step`.
  std::string click(const std::string& action, TaskNumber n, int step = 0,
                    const std::string& user = "UDANA") {
    return block_action(user, action, slack::task_ref(n, step),
                        "https://hooks.slack.com/actions/T0TEST/1/x");
  }
  http::Response command(const std::string& user, const std::string& text,
                         const std::string& team = kTeam) {
    return post_slack(
        "/slack/commands",
        slash_command(user, text, "https://hooks.slack.com/commands/T0TEST/1/x", team), kForm);
  }
  // Whether task `n` is still at its first step, undecided.
  bool untouched(TaskNumber n) {
    Task t = task(n);
    return t.current_step() == 0 && t.steps[0].decided_by.empty() && !t.steps[0].outcome;
  }
};

TEST_F(RouterTest, BadSignatureIsRefusedWith401AndChangesNothing) {
  TaskNumber n = open(github_admin_for("ana"));
  std::string body = click("approve", n);
  Headers forged = signed_headers(body, kForm, unix_now(), "not-the-signing-secret");
  http::Response r = post_slack("/slack/interactions", body, kForm, forged);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
  EXPECT_TRUE(untouched(n));
  EXPECT_TRUE(contains(metrics_.render(), "tollgate_slack_rejected_total{reason=\"signature\"} 1"))
      << metrics_.render();
  // No signature at all: the same.
  EXPECT_EQ(call(request("POST", "/slack/interactions", body, {{"Content-Type", kForm}})).status,
            401);
  EXPECT_TRUE(untouched(n));
}

TEST_F(RouterTest, StaleTimestampIsRefusedWith401) {
  TaskNumber n = open(github_admin_for("ana"));
  std::string body = click("approve", n);
  // Signed with the right secret, ten minutes ago: outside Slack's five.
  Headers stale = signed_headers(body, kForm, unix_now() - 600);
  EXPECT_EQ(post_slack("/slack/interactions", body, kForm, stale).status, 401);
  EXPECT_TRUE(untouched(n));
}

TEST_F(RouterTest, MalformedPayloadsAre400) {
  EXPECT_EQ(post_slack("/slack/interactions", "payload=%7Bnot%20json", kForm).status, 400);
  EXPECT_EQ(post_slack("/slack/interactions", "token=x", kForm).status, 400);  // no payload
  EXPECT_EQ(post_slack("/slack/events", "{not json", kJson).status, 400);
  // A form endpoint that is sent JSON.
  http::Response r = post_slack("/slack/commands", R"({"text":"list"})", kJson);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "expected application/x-www-form-urlencoded\n");
}

TEST_F(RouterTest, UrlVerificationAnswersTheChallenge) {
  std::string body =
      R"({"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})";
  http::Response r = post_slack("/slack/events", body, kJson);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("application/json", 0), 0u) << r.content_type;
  EXPECT_EQ(r.body, R"({"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})");
}

TEST_F(RouterTest, SslCheckIsAnsweredWithoutASignature) {
  http::Response r = call(
      request("POST", "/slack/commands", "ssl_check=1&token=legacy", {{"Content-Type", kForm}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST_F(RouterTest, ApproveClickDecidesTheStepAndAnswers200Empty) {
  TaskNumber n = open(github_admin_for("ana"));  // three-step: Dana (her manager) first
  http::Response r = post_slack("/slack/interactions", click("approve", n), kForm);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  Task t = task(n);
  EXPECT_EQ(t.current_step(), 1);
  EXPECT_EQ(t.steps[0].decided_by, "dana");
  EXPECT_EQ(t.steps[0].outcome, Action::approve);
  EXPECT_TRUE(
      contains(metrics_.render(), "tollgate_decisions_total{action=\"approve\",outcome=\"ok\"} 1"))
      << metrics_.render();
}

TEST_F(RouterTest, ReplayedClickIsAcknowledgedAndNotActedOnAgain) {
  TaskNumber n = open(github_admin_for("ana"));
  std::string body = click("approve", n);
  Headers h = signed_headers(body, kForm);
  ASSERT_EQ(post_slack("/slack/interactions", body, kForm, h).status, 200);
  std::int64_t version = task(n).version;
  EXPECT_EQ(post_slack("/slack/interactions", body, kForm, h).status, 200);
  EXPECT_EQ(task(n).version, version);
  EXPECT_TRUE(contains(metrics_.render(), "tollgate_slack_rejected_total{reason=\"replay\"} 1"));
}

// The click's replay key goes in its decision's own write (interactions.h, DeliveryKey): one
// write per click, not the key's and then the decision's.
TEST_F(RouterTest, AClickThatDecidesIsOneWriteWithItsKey) {
  TaskNumber n = open(github_admin_for("ana"));
  std::int64_t writes = store_->stats().writes;
  std::string body = click("approve", n);
  Headers h = signed_headers(body, kForm);
  ASSERT_EQ(post_slack("/slack/interactions", body, kForm, h).status, 200);
  EXPECT_EQ(task(n).steps[0].decided_by, "dana");
  EXPECT_EQ(store_->stats().writes, writes + 1);
  // Its replay is the same key: no write, nothing decided, counted as a replay.
  std::int64_t version = task(n).version;
  EXPECT_EQ(post_slack("/slack/interactions", body, kForm, h).status, 200);
  EXPECT_EQ(store_->stats().writes, writes + 1);
  EXPECT_EQ(store_->stats().failed_writes, 1) << "the replay's write found its key";
  EXPECT_EQ(task(n).version, version);
  EXPECT_TRUE(contains(metrics_.render(), "tollgate_slack_rejected_total{reason=\"replay\"} 1"));
  EXPECT_TRUE(
      contains(metrics_.render(), "tollgate_decisions_total{action=\"approve\",outcome=\"ok\"} 1"))
      << "the replay is not counted as a decision";
}

TEST_F(RouterTest, ClickOnATaskNotOneOfYoursChangesNothing) {
  TaskNumber n = open(github_admin_for("ana"));
  // Pat is not involved in the request: acknowledged, told, nothing decided.
  http::Response r = post_slack("/slack/interactions", click("approve", n, 0, "UPAT"), kForm);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(untouched(n));
}

TEST_F(RouterTest, ClickFromAnotherWorkspaceIs403) {
  TaskNumber n = open(github_admin_for("ana"));
  std::string body =
      block_action("UDANA", "approve", slack::task_ref(n, 0), "", fresh_trigger_id(), "T0OTHER");
  EXPECT_EQ(post_slack("/slack/interactions", body, kForm).status, 403);
  EXPECT_TRUE(untouched(n));
}

TEST_F(RouterTest, TasksCommandListsTheOpenTasksByTheAppHomeTabRule) {
  TaskNumber a = open(github_admin_for("ana"));
  TaskNumber b = open(github_admin_for("bo", "release duty"));
  http::Response all = command("UDANA", "");
  ASSERT_EQ(all.status, 200);
  std::string text = text_of(all);
  EXPECT_TRUE(contains(text, "Your open tasks (2)")) << text;
  EXPECT_TRUE(contains(text, "#" + std::to_string(a))) << text;
  EXPECT_TRUE(contains(text, "#" + std::to_string(b))) << text;
  // Tabs as the App Home draws them (slack::home_tab_of).
  EXPECT_TRUE(contains(text_of(command("UDANA", "requests")), "Your tasks: requests (2)"));
  EXPECT_EQ(text_of(command("UDANA", "list revocations")), "Your tasks: revocations: none.");
  EXPECT_EQ(text_of(command("UDANA", "completed")), "Your tasks: completed: none.");
  // Olga, the owner, has nothing yet: the manager decides first.
  EXPECT_EQ(text_of(command("UOLGA", "list")), "Your open tasks: none.");
}

TEST_F(RouterTest, TasksCommandActsAndAnswersWithTheOutcome) {
  TaskNumber n = open(github_admin_for("ana"));
  http::Response r = command("UDANA", "approve " + std::to_string(n) + " -- looks fine");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(contains(text_of(r), ":white_check_mark:")) << text_of(r);
  EXPECT_EQ(task(n).current_step(), 1);
  http::Response again = command("UDANA", "approve " + std::to_string(n));
  EXPECT_TRUE(contains(text_of(again), ":no_entry:")) << text_of(again);
}

TEST_F(RouterTest, TasksCommandExplainsBadSyntaxAndUnknownPeople) {
  EXPECT_TRUE(
      contains(text_of(command("UDANA", "frobnicate")), "I don't know `/tasks frobnicate`"));
  EXPECT_TRUE(
      contains(text_of(command("UNOBODY", "list")), "Tollgate does not know your Slack account"));
  EXPECT_EQ(command("UDANA", "list", "T0OTHER").status, 403);
}

TEST_F(RouterTest, SocketModeEnvelopesSkipTheSignatureButNotTheTeamCheck) {
  open(github_admin_for("ana"));
  std::string body = slash_command("UDANA", "list", "https://hooks.slack.com/commands/T0TEST/1/x");
  http::Response r = call(request("POST", "/slack/commands", body, {{"Content-Type", kForm}}),
                          /*envelope=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(contains(text_of(r), "Your open tasks (1)")) << r.body;
  std::string foreign =
      slash_command("UDANA", "list", "https://hooks.slack.com/commands/T0TEST/1/x", "T0OTHER");
  EXPECT_EQ(
      call(request("POST", "/slack/commands", foreign, {{"Content-Type", kForm}}), true).status,
      403);
  EXPECT_EQ(call(request("GET", "/healthz"), true).status, 404);
}

// Socket Mode before the workspace is known (auth.test has not answered yet): a click is
// answered 503, so not acknowledged, and Slack delivers it again; once the workspace is known,
// that redelivery is acted on, and a third delivery is a duplicate. The envelope's record is
// undone with the 503 (edge/router.cc, dispatch_once): without that, the redelivery would be
// taken for a duplicate and the click lost.
class RouterBeforeAuthTest : public RouterTest {
 protected:
  RouterBeforeAuthTest() { workspace_known_ = false; }
};

TEST_F(RouterBeforeAuthTest, AnEnvelopeAnswered503IsActedOnWhenSlackDeliversItAgain) {
  TaskNumber n = open(github_admin_for("ana"));
  http::Request req = request("POST", "/slack/interactions", click("approve", n),
                              {{"Content-Type", kForm}, {slack::kEnvelopeIdHeader, "Env0AGAIN"}});
  EXPECT_EQ(call(req, /*envelope=*/true).status, 503);
  EXPECT_TRUE(untouched(n));
  identity_->set_workspace(kTeam, "");
  EXPECT_EQ(call(req, true).status, 200);
  EXPECT_EQ(task(n).steps[0].decided_by, "dana");
  EXPECT_EQ(call(req, true).status, 200);
  EXPECT_TRUE(contains(metrics_.render(), "tollgate_slack_rejected_total{reason=\"redelivery\"} 1"))
      << metrics_.render();
}

TEST_F(RouterTest, HealthReadinessMetricsAndUnknownPaths) {
  EXPECT_EQ(call(request("GET", "/healthz")).body, "ok\n");
  http::Response ready = call(request("GET", "/readyz"));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  router_->set_ready_check([] { return std::make_pair(false, std::string("socket mode: down")); });
  EXPECT_EQ(call(request("GET", "/readyz")).status, 503);
  EXPECT_EQ(call(request("GET", "/metrics")).status, 200);
  EXPECT_EQ(call(request("POST", "/healthz")).status, 405);
  EXPECT_EQ(call(request("GET", "/slack/events")).status, 405);
  EXPECT_EQ(call(request("GET", "/nothing")).status, 404);
}

TEST_F(RouterTest, TheBotsOwnMessagesAreIgnored) {
  router_->set_bot_identity("U0BOT", "B0BOT");
  std::string reply = reply_event("DUDANA", "1700000000.000100", "1700000000.000200", "U0BOT", "x");
  http::Response r = post_slack("/slack/events", event_callback("Ev0SELF", reply), kJson);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(
      contains(metrics_.render(), "tollgate_events_total{type=\"message\",handling=\"own\"} 1"))
      << metrics_.render();
}

}  // namespace
}  // namespace tollgate::testing
