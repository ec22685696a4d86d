// Socket Mode end to end: the real binary with SLACK_APP_TOKEN holds its
// connections to the fake Slack's Socket Mode server, and every envelope is
// handled as the same request over HTTP would be, acknowledged after the
// commit, with the answer in the ack where Slack takes one.
#include <csignal>
#include <set>

#include <gtest/gtest.h>

#include "base/json.h"
#include "sandbox/slack_rules.h"
#include "slack/payloads.h"
#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;
using sandbox::SocketModeAck;
using sandbox::SocketModeEnvelope;

// A slash command's form fields as the JSON object Socket Mode carries.
std::string command_payload(const std::string& form_body) {
  auto f = slack::parse_form(form_body);
  std::string out = "{";
  for (const auto& [k, v] : f->fields)
    out += (out.size() > 1 ? "," : "") + json::quote(k) + ":" + json::quote(v);
  return out + "}";
}

class SocketModeTest : public EdgeTest {
 protected:
  sandbox::FakeSocketMode& sm() { return slack_.socket_mode(); }

  void start_socket_bot() {
    start_bot({{"SLACK_APP_TOKEN", slack_.options().app_token}});
    ASSERT_TRUE(sm().wait_connections(2, 10s)) << bot_->log();
  }

  std::optional<SocketModeAck> interact(const std::string& form_body, bool accepts = false) {
    return sm().send_and_wait({.type = "interactive",
                               .payload = payload_of(form_body),
                               .accepts_response_payload = accepts},
                              10s);
  }
  std::optional<SocketModeAck> click_envelope(const std::string& user, const std::string& action,
                                              const std::string& value) {
    return interact(
        block_action(user, action, value, slack_.response_url("r1"), slack_.trigger_id()));
  }
  // What a view submission's ack carries is checked as Slack checks it (and
  // recorded for the TypeScript check), as post_signed does over HTTP.
  std::optional<SocketModeAck> submit(const std::string& user, const std::string& meta,
                                      const std::string& reason) {
    auto ack = interact(view_submission(user, "tollgate.reason", meta, reason), true);
    if (ack && !ack->payload.empty()) {
      auto refused = sandbox::check_view_submission_ack("application/json", ack->payload);
      EXPECT_FALSE(refused) << refused->to_string() << "\n" << ack->payload;
      sandbox::record_slack_payload("view_submission_ack", ack->payload);
    }
    return ack;
  }
  std::optional<SocketModeAck> tasks(const std::string& user, const std::string& text) {
    auto ack = sm().send_and_wait(
        {.type = "slash_commands",
         .payload = command_payload(slash_command(user, text, slack_.response_url("cmd"))),
         .accepts_response_payload = true},
        10s);
    if (ack && !ack->payload.empty()) {
      auto refused = sandbox::check_command_ack("application/json", ack->payload);
      EXPECT_FALSE(refused) << refused->to_string() << "\n" << ack->payload;
      sandbox::record_slack_payload("command_ack", ack->payload);
    }
    return ack;
  }
  std::string readyz() { return client_->request("GET", "/readyz", "", {}).body; }
};

TEST_F(SocketModeTest, ARequestIsApprovedInTwoStepsThroughInteractiveEnvelopes) {
  TaskNumber n = open_request(req("ana", "aws", "prod-readonly"));  // Dana, then Eve
  start_socket_bot();
  auto first = click_envelope("U0DANA", "approve", std::to_string(n) + ":0");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->payload, "") << "block_actions are acknowledged without a payload";
  Task t = task(n);  // read right after the ack: the decision is already durable
  EXPECT_EQ(t.current_step(), 1);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"eve"});
  ASSERT_TRUE(click_envelope("U0EVE", "approve", std::to_string(n) + ":1"));
  EXPECT_EQ(task(n).state, TaskState::granted);
  EXPECT_EQ(task(n).steps[0].decided_by, "dana");
  EXPECT_TRUE(told().empty()) << "nothing to explain to anyone";
  EXPECT_TRUE(sm().unparsed().empty());
}

TEST_F(SocketModeTest, ADenyModalWithoutAReasonIsAnsweredWithErrorsInTheAck) {
  TaskNumber n = open_request(req("ana", "github", "admin"));  // the manager must give a reason
  start_socket_bot();
  ASSERT_TRUE(click_envelope("U0DANA", "deny", std::to_string(n) + ":0"));
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  EXPECT_EQ(task(n).state, TaskState::reviewing) << "nothing decided before the reason";
  std::string meta = "deny:" + std::to_string(n) + ":0";
  auto empty = submit("U0DANA", meta, "  ");
  ASSERT_TRUE(empty);
  EXPECT_EQ(
      empty->payload,
      R"({"response_action":"errors","errors":{"reason":"a reason is required to deny at this step"}})");
  EXPECT_EQ(task(n).state, TaskState::reviewing);
  auto done = submit("U0DANA", meta, "use the break-glass role");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->payload, "") << "an ack without a payload closes the modal";
  EXPECT_EQ(task(n).state, TaskState::denied);
  EXPECT_EQ(task(n).steps[0].comment, "use the break-glass role");
}

TEST_F(SocketModeTest, TheTasksCommandIsAnsweredInTheAck) {
  TaskNumber a = open_request(req("ana", "aws", "staging"));
  start_socket_bot();
  auto list = tasks("U0DANA", "");
  ASSERT_TRUE(list);
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(list->payload.c_str()).HasParseError()) << list->payload;
  EXPECT_EQ(json::str(d, "response_type"), "ephemeral");
  EXPECT_NE(json::str(d, "text").find("*#" + std::to_string(a) + "* Access request"),
            std::string::npos)
      << list->payload;
  // A decision by command, committed before its ack.
  auto approved = tasks("U0DANA", "approve " + std::to_string(a) + " -- fine");
  ASSERT_TRUE(approved);
  EXPECT_NE(approved->payload.find("Approved #" + std::to_string(a)), std::string::npos)
      << approved->payload;
  EXPECT_EQ(task(a).state, TaskState::granted);
  // Another workspace is refused as over HTTP: acknowledged (403), and nothing happens.
  auto foreign = sm().send_and_wait({.type = "slash_commands",
                                     .payload = command_payload(slash_command(
                                         "U0DANA", "list", slack_.response_url("cmd2"), "T0OTHER")),
                                     .accepts_response_payload = true},
                                    10s);
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->payload, "");
}

TEST_F(SocketModeTest, AThreadReplyIsMirroredOnceWhenItsEnvelopeIsRedelivered) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_socket_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1));
  std::string parent = dms("U0DANA")[0].ts;
  ASSERT_TRUE(recorded("DU0DANA", parent));
  std::string ev = event_callback(
      "Ev0SM1", reply_event("DU0DANA", parent, "1700000099.000001", "U0DANA", "looks fine"));
  auto conns = sm().connections();
  ASSERT_GE(conns.size(), 2u);
  auto id = sm().send({.type = "events_api", .payload = ev}, conns[0]);
  ASSERT_TRUE(id);
  // Slack's retry on the other connection, at once (in flight) and after the ack.
  ASSERT_TRUE(sm().redeliver(*id, conns[1]));
  ASSERT_TRUE(sm().wait_ack(*id, 10s));
  ASSERT_TRUE(sm().redeliver(*id, conns[1]));
  // The same event in a new envelope (as after a restart): deduplicated by event_id.
  ASSERT_TRUE(sm().send_and_wait({.type = "events_api", .payload = ev}, 10s));
  std::this_thread::sleep_for(300ms);
  auto c = task(n).comments;
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].author, "dana");
  EXPECT_EQ(c[0].text, "looks fine");
  EXPECT_EQ(c[0].source, "slack");
}

TEST_F(SocketModeTest, ARefreshMidBurstLosesNoEnvelopeAndActsOnNoneTwice) {
  std::vector<TaskNumber> tasks_;
  for (int i = 0; i < 12; ++i) tasks_.push_back(open_request(req("ana", "aws", "staging")));
  start_socket_bot();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (i == tasks_.size() / 2) {
      auto open = sm().connections();
      ASSERT_FALSE(open.empty());
      ASSERT_TRUE(sm().disconnect(open[0], "refresh_requested"));
    }
    std::optional<std::string> id;
    // Any open connection; the one told to go is still open (and read) for a while.
    for (int tries = 0; tries < 200 && !id; ++tries) {
      id = sm().send({.type = "interactive",
                      .payload = payload_of(block_action(
                          "U0DANA", "approve", std::to_string(tasks_[i]) + ":0",
                          slack_.response_url("r" + std::to_string(i)), slack_.trigger_id()))});
      if (!id) std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  for (const std::string& id : ids) {
    auto ack = sm().wait_ack(id, 5s);
    // An envelope whose ack did not come is delivered again, as Slack does.
    if (!ack) {
      ASSERT_TRUE(sm().redeliver(id));
      ack = sm().wait_ack(id, 10s);
    }
    EXPECT_TRUE(ack) << id;
  }
  for (TaskNumber n : tasks_) EXPECT_EQ(task(n).state, TaskState::granted) << n;
  // A second action on a decided task would be explained to the clicker: none was.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(told(), std::vector<std::string>{});
  // The replacement may still be on its way on a slow machine: waited for, then counted.
  EXPECT_TRUE(eventually(
      [&] { return sm().connections_opened() >= 3 && sm().open_connections() == 2; }));
  EXPECT_EQ(sm().connections_opened(), 3);
  EXPECT_TRUE(eventually([&] {
    return client_->request("GET", "/metrics", "", {})
               .body.find(R"(tollgate_socket_disconnects_total{reason="refresh_requested"} 1)") !=
           std::string::npos;
  }));
}

TEST_F(SocketModeTest, ASocketClosedWithoutNoticeIsReplacedAndReadyzSaysSo) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_socket_bot();
  EXPECT_TRUE(eventually([&] {
    return contains(readyz(), "socket mode: 2 of 2 connections open");
  })) << readyz();
  EXPECT_TRUE(contains(readyz(), "last envelope none yet")) << readyz();
  auto conns = sm().connections();
  ASSERT_TRUE(sm().drop(conns[0]));
  ASSERT_TRUE(eventually(
      [&] { return sm().connections_opened() == 3 && sm().open_connections() == 2; }, 10s));
  ASSERT_TRUE(click_envelope("U0DANA", "approve", std::to_string(n) + ":0"));
  EXPECT_EQ(task(n).state, TaskState::granted);
  // Seconds since the envelope just acknowledged: 0 or 1, or 2 on a slow machine.
  std::string ready = readyz();
  EXPECT_TRUE(contains(ready, "last envelope 0 s ago") || contains(ready, "last envelope 1 s ago") ||
              contains(ready, "last envelope 2 s ago"))
      << ready;
  std::string metrics = client_->request("GET", "/metrics", "", {}).body;
  EXPECT_TRUE(contains(metrics, R"(tollgate_socket_envelopes_total{type="interactive"} 1)"))
      << metrics;
  EXPECT_TRUE(contains(metrics, R"(tollgate_socket_reconnects_total{cause="lost"} 1)")) << metrics;
  EXPECT_TRUE(contains(metrics, "tollgate_socket_connections 2")) << metrics;
}

TEST_F(SocketModeTest, ASigtermInABurstLosesNoAcknowledgedEnvelope) {
  std::vector<TaskNumber> tasks_;
  for (int i = 0; i < 20; ++i) tasks_.push_back(open_request(req("ana", "aws", "staging")));
  start_socket_bot();
  std::vector<std::pair<TaskNumber, std::string>> sent;
  for (TaskNumber n : tasks_) {
    auto id = sm().send(
        {.type = "interactive",
         .payload = payload_of(block_action("U0DANA", "approve", std::to_string(n) + ":0",
                                            slack_.response_url("r1"), slack_.trigger_id()))});
    if (id) sent.emplace_back(n, *id);
  }
  // In the middle of the burst: once the first is acknowledged. Those not
  // taken before the signal stay unacknowledged (Slack delivers them again).
  ASSERT_FALSE(sent.empty());
  ASSERT_TRUE(sm().wait_ack(sent[0].second, 10s));
  EXPECT_EQ(bot_->stop(SIGTERM), 0) << bot_->log();
  int acked = 0;
  for (const auto& [n, id] : sent) {
    if (!sm().wait_ack(id, 0ms)) continue;
    ++acked;
    // Acknowledged means committed, as an HTTP 200 does.
    EXPECT_EQ(task(n).state, TaskState::granted) << "#" << n << " acknowledged, not committed";
  }
  EXPECT_GT(acked, 0);
}

// kill -9 between the commit and the ack: Slack never gets the ack (the fake loses it, as the
// process's death would), so it delivers the envelope again, here to the restarted process,
// whose in-memory dedupe is gone. The redelivery is acknowledged and not acted on a second
// time: the envelope_id was recorded with the click (edge/router.cc, dispatch_once). Without
// that record Dana would be told her step was already decided.
TEST_F(SocketModeTest, AKillNineBetweenCommitAndAckIsActedOnOnceWhenSlackRedelivers) {
  TaskNumber n = open_request(req("ana", "aws", "prod-readonly"));  // Dana, then Eve
  start_socket_bot();
  sm().lose_acks(true);
  auto id = sm().send(
      {.type = "interactive",
       .payload = payload_of(block_action("U0DANA", "approve", std::to_string(n) + ":0",
                                          slack_.response_url("r1"), slack_.trigger_id()))});
  ASSERT_TRUE(id);
  ASSERT_TRUE(eventually([&] { return task(n).current_step() == 1; }, 10s)) << bot_->log();
  bot_->kill9();
  EXPECT_FALSE(sm().wait_ack(*id, 0ms)) << "Slack never got the ack";
  sm().lose_acks(false);
  ASSERT_TRUE(eventually([&] { return sm().open_connections() == 0; }, 10s));

  start_socket_bot();
  ASSERT_TRUE(sm().redeliver(*id));
  auto ack = sm().wait_ack(*id, 10s);
  ASSERT_TRUE(ack) << bot_->log();
  EXPECT_EQ(ack->payload, "");
  Task t = task(n);
  EXPECT_EQ(t.current_step(), 1);
  EXPECT_EQ(t.steps[0].decided_by, "dana");
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"eve"});
  EXPECT_TRUE(told().empty()) << "the redelivery was acted on again: " << told()[0];
  std::string metrics = client_->get("/metrics").body;
  EXPECT_NE(metrics.find(R"(tollgate_slack_rejected_total{reason="redelivery"} 1)"),
            std::string::npos)
      << metrics;
}

TEST_F(SocketModeTest, ABotTokenAsTheAppTokenIsRefusedByName) {
  ProcessOptions o;
  o.db = db();
  o.slack_api_url = slack_.api_url();
  o.env = {{"SLACK_APP_TOKEN", "xoxb-test-token"}};
  // Refused at once; the wait is only as long as a slow start of a sanitized binary could take
  // (a start that timed out would leave the log without the reason).
  TollgateProcess bot(o);
  EXPECT_FALSE(bot.start(std::chrono::seconds(20)));
  EXPECT_TRUE(contains(bot.log(), "SLACK_APP_TOKEN must be an app-level token")) << bot.log();
  ProcessOptions p = o;
  p.env = {{"SLACK_APP_TOKEN", slack_.options().app_token}, {"TOLLGATE_SOCKET_CONNECTIONS", "11"}};
  TollgateProcess many(p);
  EXPECT_FALSE(many.start(std::chrono::seconds(20)));
  EXPECT_TRUE(contains(many.log(), "TOLLGATE_SOCKET_CONNECTIONS must be a whole number"))
      << many.log();
}

}  // namespace
}  // namespace tollgate::testing
