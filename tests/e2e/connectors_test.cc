// Connectors end to end in one process: the real server (Process), the fake
// Slack, a SQLite file, and the app's systems as real servers on loopback: a
// SCIM 2.0 server built on scimmy (tests/connectors/scim_server.mjs) and a
// webhook receiver that verifies every delivery with the standardwebhooks
// package (tests/connectors/webhook_receiver.mjs). From the Slack click to
// the change in the system, and what happens when the system fails.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "base/json.h"
#include "cmd/tollgate/process.h"
#include "sandbox/fake_slack.h"
#include "storage/store.h"
#include "tests/support/connector_servers.h"
#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"
#include "tests/support/tollgate_process.h"

namespace tollgate::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kApiToken = "api-token-for-tests-0123456789abcdef";
constexpr const char* kScimTokenEnv = "TOLLGATE_TEST_SCIM_TOKEN";
constexpr const char* kHookSecretEnv = "TOLLGATE_TEST_HOOK_SECRET";

// The test organisation with three connected apps: Okta (SCIM, users must
// exist), Wiki (SCIM on the same server, users created when missing) and
// Deploy (a signed webhook). Pat takes over when a connector fails. Retries
// are quick: 3 tries, 1 s apart, doubling.
std::string org(const std::string& scim_url, const std::string& hook_url) {
  std::string scim = R"("mode": "scim", "url": ")" + scim_url + R"(", "token_env": ")" +
                     kScimTokenEnv + R"(", "max_attempts": 3, "backoff": "1s")";
  std::string apps =
      R"(
    {"id": "okta", "name": "Okta", "owners": ["olga"],
     "provisioning": {)" +
      scim +
      R"(, "provisioners": ["pat"], "instructions": "Add them to the group in the Okta console."},
     "deprovisioning": {)" +
      scim + R"(, "deprovisioners": ["pat"]},
     "resources": [{"id": "eng", "name": "Engineering", "scim_group": "Engineering",
                    "request_policy": "manager-only", "revocation_policy": "manager-confirms",
                    "max_duration": "30d"}]},
    {"id": "wiki", "name": "Wiki", "owners": ["olga"],
     "provisioning": {)" +
      scim + R"(, "create_users": true, "provisioners": ["pat"]},
     "resources": [{"id": "read", "name": "Readers", "scim_group": "Readers",
                    "request_policy": "manager-only", "revocation_policy": "manager-confirms"}]},
    {"id": "deploy", "name": "Deploy bot", "owners": ["olga"],
     "provisioning": {"mode": "webhook", "url": ")" +
      hook_url + R"(", "secret_env": ")" + kHookSecretEnv +
      R"(", "max_attempts": 3, "backoff": "1s", "provisioners": ["pat"]},
     "resources": [{"id": "prod", "name": "Production", "request_policy": "manager-only",
                    "revocation_policy": "manager-confirms"}]},)";
  return replaced(kTestOrg, R"("apps": [)", std::string(R"("apps": [)") + apps);
}

class ConnectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(scim_.ok()) << scim_.error();
    ASSERT_TRUE(hook_.ok()) << hook_.error();
    setenv(kScimTokenEnv, ScimServer::kToken, 1);
    setenv(kHookSecretEnv, WebhookReceiver::kSecret, 1);
    scim_.add_user("ana@t.test", "ana@t.test", "Ana Silva");
    std::ofstream(dir_.file("org.json")) << org(scim_.base_url(), hook_.url());
    slack_.add_user({"UDANA", "dana@t.test", "Europe/London", 0});
    slack_.add_user({"UANA", "ana@t.test", "Europe/Lisbon", 0});
    slack_.add_user({"UPAT", "pat@t.test", "Europe/London", 0});
    slack_.add_user({"UBO", "bo@t.test", "Europe/London", 0});
  }
  void start(const Clock* clock = nullptr) {
    tollgate::ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = "sqlite:" + dir_.file("tollgate.db");
    o.listen = "127.0.0.1:0";
    o.signing_secret = kSigningSecret;
    o.bot_token = "xoxb-test-token";
    o.slack_api_url = slack_.api_url();
    o.api_token = kApiToken;
    o.scheduler_interval = milliseconds(0);  // this test drives it
    if (clock != nullptr) o.clock = clock;
    bot_ = std::make_unique<Process>(o);
    Status s = bot_->start();
    ASSERT_TRUE(s.ok()) << s.to_string();
    client_ = std::make_unique<HttpClient>(bot_->port());
    StoreOptions r = serve_store_options();
    r.migrate = false;
    auto store = open_store("sqlite:" + dir_.file("tollgate.db"), r);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    reader_ = std::move(*store);
  }
  void TearDown() override {
    client_.reset();
    if (bot_) bot_->shutdown();  // before clock_ goes: the workers read it until then
    EXPECT_EQ(slack_.violations(), std::vector<std::string>{});
    unsetenv(kScimTokenEnv);
    unsetenv(kHookSecretEnv);
  }

  HttpResult api(const std::string& method, const std::string& path, const std::string& body) {
    return client_->request(method, path, body,
                            {{"Authorization", std::string("Bearer ") + kApiToken},
                             {"Content-Type", "application/json"}});
  }
  // Opens a request through the admin API; its task number.
  TaskNumber request(const std::string& who, const std::string& app, const std::string& resource,
                     const std::string& duration = "") {
    HttpResult r = api("POST", "/api/v1/requests",
                       R"({"requester": ")" + who + R"(", "app": ")" + app + R"(", "resource": ")" +
                           resource + R"(", "justification": "on call this week")" +
                           (duration.empty() ? "" : R"(, "duration": ")" + duration + "\"") + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d.IsObject() && d.HasMember("task") ? d["task"].GetInt64() : 0;
  }
  // A click by `user` on a message of their DM (ts `ts`).
  HttpResult click(const std::string& user, const std::string& action, const std::string& value,
                   const std::string& ts) {
    return post_signed(*client_, "/slack/interactions",
                       block_action(user, action, value, slack_.response_url("r1"),
                                    slack_.trigger_id(), "T0TEST", "D" + user, ts),
                       kForm);
  }
  // Dana approves task `n` with the button of her DM about it.
  void danas_approval(TaskNumber n) {
    std::string ref = "#" + std::to_string(n);
    ASSERT_TRUE(eventually([&] { return !dm_with("UDANA", ref).ts.empty(); }));
    EXPECT_EQ(click("UDANA", "approve", std::to_string(n) + ":0", dm_with("UDANA", ref).ts).status,
              200);
  }
  template <typename Pred>
  bool eventually(Pred p, milliseconds timeout = milliseconds(15000)) {
    return poll_until(p, timeout);
  }
  // The latest message in `user`'s DM whose text or blocks contain `needle`.
  PostedMessage dm_with(const std::string& user, const std::string& needle) {
    PostedMessage found;
    for (const PostedMessage& m : slack_.messages_in("D" + user)) {
      if (m.text.find(needle) != std::string::npos || m.blocks.find(needle) != std::string::npos)
        found = m;
    }
    return found;
  }
  Task task(TaskNumber n) {
    auto t = reader_->task(n);
    return t.ok() ? *t : Task{};
  }
  std::optional<Holding> holding(const PersonId& who, const std::string& app,
                                 const std::string& resource) {
    auto rows = reader_->holdings({.person = who, .app = app, .resource = resource});
    if (!rows.ok() || rows->empty()) return std::nullopt;
    return rows->front();
  }
  // The data of task `n`'s last event of `type`, or nothing.
  std::optional<Event> last_event(TaskNumber n, const std::string& type) {
    auto events = reader_->task_events(n);
    std::optional<Event> found;
    if (!events.ok()) return found;
    for (const StoredEvent& e : *events) {
      if (e.event.type == type) found = e.event;
    }
    return found;
  }
  std::string metrics() { return client_->request("GET", "/metrics").body; }

  ScimServer scim_{{"Engineering", "Readers"}};
  WebhookReceiver hook_;
  TempDir dir_;
  FakeSlack slack_;
  ManualClock clock_{test_start()};  // declared before bot_, so it outlives the process
  std::unique_ptr<Process> bot_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Store> reader_;
};

TEST_F(ConnectorsTest, AnApprovalInSlackAddsTheMemberInScimAndEveryCopySaysSo) {
  start();
  TaskNumber n = request("ana", "okta", "eng");
  danas_approval(n);
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }))
      << state_name(task(n).state);
  EXPECT_EQ(scim_.members("Engineering"), std::vector<std::string>{"ana@t.test"});
  Task t = task(n);
  EXPECT_EQ(t.closed_by, "tollgate");
  ASSERT_TRUE(t.steps.back().connector.has_value());
  EXPECT_EQ(t.steps.back().connector->label, "SCIM (Okta)");
  EXPECT_NE(t.steps.back().connector->answer.find("Engineering"), std::string::npos)
      << t.steps.back().connector->answer;

  // The ledger says who made the change; the log what the system answered.
  auto h = holding("ana", "okta", "eng");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->via, "SCIM (Okta)");
  auto grant = last_event(n, "access_grant");
  ASSERT_TRUE(grant.has_value());
  ASSERT_NE(grant->get("answer"), nullptr);
  EXPECT_NE(grant->get("answer")->find("Engineering"), std::string::npos);
  ASSERT_TRUE(last_event(n, "connector_called").has_value());
  EXPECT_EQ(*last_event(n, "connector_called")->get("id"),
            "tollgate-" + std::to_string(n) + "-1-1");

  // Dana's copy is updated to say who provisioned it; Ana is told.
  ASSERT_TRUE(eventually([&] {
    PostedMessage m = dm_with("UDANA", "#" + std::to_string(n));
    return m.updates > 0 && m.blocks.find("SCIM (Okta)") != std::string::npos;
  })) << dm_with("UDANA", "#" + std::to_string(n)).blocks;
  ASSERT_TRUE(eventually([&] { return !dm_with("UANA", "SCIM (Okta)").ts.empty(); }));
  EXPECT_NE(
      metrics().find(R"(tollgate_connector_calls_total{app="okta",mode="scim",outcome="done"} 1)"),
      std::string::npos)
      << metrics();
}

TEST_F(ConnectorsTest, AConfirmedRevocationRemovesTheMember) {
  start();
  TaskNumber n = request("ana", "okta", "eng");
  danas_approval(n);
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }));
  HttpResult r = api("POST", "/api/v1/revocations",
                     R"({"proposer": "sam", "subject": "ana", "app": "okta", "resource": "eng",
                         "reason": "left the team"})");
  ASSERT_EQ(r.status, 201) << r.body;
  TaskNumber rev = n + 1;
  HttpResult c = api("POST", "/api/v1/tasks/" + std::to_string(rev) + "/actions",
                     R"({"actor": "dana", "action": "confirm"})");
  ASSERT_EQ(c.status, 200) << c.body;
  ASSERT_TRUE(eventually([&] { return task(rev).state == TaskState::deprovisioned; }))
      << state_name(task(rev).state);
  EXPECT_EQ(scim_.members("Engineering"), std::vector<std::string>{});
  EXPECT_FALSE(holding("ana", "okta", "eng").has_value());
}

TEST_F(ConnectorsTest, AnExpiredGrantIsRemovedFromTheGroupByItsConnector) {
  start(&clock_);
  TaskNumber n = request("ana", "okta", "eng", "30s");
  danas_approval(n);
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }));
  EXPECT_EQ(scim_.members("Engineering"), std::vector<std::string>{"ana@t.test"});
  clock_.set(test_start() + seconds(40));
  EXPECT_EQ(bot_->run_scheduler_once().access_ended, 1);
  TaskNumber end = n + 1;
  ASSERT_TRUE(eventually([&] { return task(end).state == TaskState::deprovisioned; }))
      << state_name(task(end).state);
  EXPECT_EQ(task(end).ending, "expired");
  EXPECT_EQ(scim_.members("Engineering"), std::vector<std::string>{});
  EXPECT_FALSE(holding("ana", "okta", "eng").has_value());
}

TEST_F(ConnectorsTest, AUserMissingInScimIsRefusedOrCreatedAsConfigured) {
  start();
  // Okta: users are not created. Bo is not on the server: the step is Pat's, with the answer.
  TaskNumber refused = request("bo", "okta", "eng");
  HttpResult a = api("POST", "/api/v1/tasks/" + std::to_string(refused) + "/actions",
                     R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(eventually([&] {
    Task t = task(refused);
    return t.steps.back().connector &&
           t.steps.back().connector->phase == ConnectorRun::Phase::failed;
  }));
  Task t = task(refused);
  EXPECT_EQ(t.state, TaskState::provisioning) << "never silently granted";
  EXPECT_EQ(t.steps.back().assignees, std::vector<PersonId>{"pat"});
  EXPECT_NE(t.steps.back().connector->answer.find("create_users is off"), std::string::npos)
      << t.steps.back().connector->answer;
  EXPECT_FALSE(scim_.has_user("bo@t.test"));
  EXPECT_FALSE(holding("bo", "okta", "eng").has_value());
  ASSERT_TRUE(eventually([&] { return !dm_with("UPAT", "retry").ts.empty(); }));

  // Wiki: users are created. Bo is created and added.
  TaskNumber created = request("bo", "wiki", "read");
  a = api("POST", "/api/v1/tasks/" + std::to_string(created) + "/actions",
          R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(eventually([&] { return task(created).state == TaskState::provisioned; }))
      << state_name(task(created).state);
  EXPECT_TRUE(scim_.has_user("bo@t.test"));
  EXPECT_EQ(scim_.members("Readers"), std::vector<std::string>{"bo@t.test"});
}

TEST_F(ConnectorsTest, A429IsWaitedForAndUsesNoAttempt) {
  start();
  // Three 429s asking for 1 s each: more than max_attempts (3) if they counted.
  scim_.fail_next(429, 3, 1);
  auto before = std::chrono::steady_clock::now();
  TaskNumber n = request("ana", "okta", "eng");
  HttpResult a = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                     R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }))
      << state_name(task(n).state) << " " << task(n).steps.back().connector->answer;
  EXPECT_GE(std::chrono::steady_clock::now() - before, seconds(3)) << "Retry-After honoured";
  EXPECT_EQ(scim_.members("Engineering"), std::vector<std::string>{"ana@t.test"});
  EXPECT_NE(metrics().find(R"(outcome="transient"} 3)"), std::string::npos) << metrics();
}

TEST_F(ConnectorsTest, AServerDownIsRetriedThenBecomesAManualTaskAndRetrySucceeds) {
  start();
  // Longer than the three tries take (up to 3.75 s with their jitter) after the approval, with
  // room for a slow machine's start of them.
  scim_.down_for(milliseconds(9000));
  auto outage_ends = std::chrono::steady_clock::now() + milliseconds(9100);
  TaskNumber n = request("ana", "okta", "eng");
  HttpResult a = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                     R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  // 3 tries (0 s, ~1 s, ~3 s), all while the server is down: Pat's now, with Retry.
  ASSERT_TRUE(eventually([&] { return !dm_with("UPAT", "retry").ts.empty(); }));
  Task t = task(n);
  ASSERT_TRUE(t.steps.back().connector.has_value());
  EXPECT_EQ(t.steps.back().connector->phase, ConnectorRun::Phase::failed);
  EXPECT_NE(t.steps.back().connector->answer.find("gave up after 3 tries"), std::string::npos)
      << t.steps.back().connector->answer;
  EXPECT_EQ(t.state, TaskState::provisioning);
  EXPECT_TRUE(scim_.members("Engineering").empty());
  PostedMessage pats = dm_with("UPAT", "retry");
  EXPECT_NE(pats.blocks.find("Add them to the group in the Okta console."), std::string::npos)
      << "the instructions";

  // Someone else's Retry is refused; Pat's, once the server is back, succeeds.
  std::this_thread::sleep_until(outage_ends);
  std::string ref = std::to_string(n) + ":1";
  EXPECT_EQ(click("UDANA", "retry", ref, pats.ts).status, 200);
  EXPECT_EQ(task(n).steps.back().connector->attempt, 1) << "Dana is not a provisioner";
  EXPECT_EQ(click("UPAT", "retry", ref, pats.ts).status, 200);
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }))
      << state_name(task(n).state);
  EXPECT_EQ(task(n).steps.back().connector->attempt, 2);
  EXPECT_EQ(scim_.members("Engineering"), std::vector<std::string>{"ana@t.test"});
  ASSERT_TRUE(last_event(n, "connector_called").has_value());
  EXPECT_EQ(*last_event(n, "connector_called")->get("id"),
            "tollgate-" + std::to_string(n) + "-1-2");
}

TEST_F(ConnectorsTest, AWebhookDeliveryIsSignedAndA500IsRetried) {
  start();
  hook_.answer_next(500, 1);
  TaskNumber n = request("ana", "deploy", "prod");
  HttpResult a = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                     R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }))
      << state_name(task(n).state);
  auto deliveries = hook_.deliveries();
  ASSERT_EQ(deliveries.size(), 2u);
  std::string id = "tollgate-" + std::to_string(n) + "-1-1";
  for (const auto& d : deliveries) {
    EXPECT_TRUE(d.verified) << d.error;  // standardwebhooks verified the signature
    EXPECT_EQ(d.id, id) << "a retry keeps its id";
  }
  EXPECT_EQ(deliveries[0].answered, 500);
  EXPECT_EQ(deliveries[1].answered, 200);
  rapidjson::Document event;
  event.Parse(deliveries[1].body.c_str());
  ASSERT_TRUE(event.IsObject()) << deliveries[1].body;
  EXPECT_EQ(json::str(event, "type"), "access.grant");
  EXPECT_NE(deliveries[1].body.find(R"("email":"ana@t.test")"), std::string::npos);
  // The receiver refuses a replay and a tampered body.
  EXPECT_EQ(hook_.replay(1), 409);
  EXPECT_EQ(hook_.tamper(1), 401);
}

TEST_F(ConnectorsTest, AWebhookThatAnswers202IsCompletedByItsSignedConfirmation) {
  start();
  hook_.answer_next(202, 1);
  TaskNumber n = request("ana", "deploy", "prod");
  HttpResult a = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                     R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(eventually([&] {
    Task t = task(n);
    return t.steps.back().connector &&
           t.steps.back().connector->phase == ConnectorRun::Phase::accepted;
  }));
  EXPECT_EQ(task(n).state, TaskState::provisioning);
  std::string url = "http://127.0.0.1:" + std::to_string(bot_->port()) + "/api/v1/tasks/" +
                    std::to_string(n) + "/provisioning";
  std::string id = "tollgate-" + std::to_string(n) + "-1-1";

  // The admin API's token does not make one Tollgate itself, nor a person the connector.
  for (const char* forged : {R"({"actor": "tollgate", "action": "connector_done"})",
                             R"({"actor": "pat", "action": "connector_done"})",
                             R"({"actor": "tollgate", "action": "provisioned"})"}) {
    HttpResult f = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions", forged);
    EXPECT_EQ(f.status, 400) << forged << " " << f.body;
  }
  // Unsigned, wrongly signed or for another attempt: refused, nothing changes.
  HttpResult unsigned_post = client_->request(
      "POST", "/api/v1/tasks/" + std::to_string(n) + "/provisioning",
      R"({"id": ")" + id + R"(", "outcome": "done"})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(unsigned_post.status, 401) << unsigned_post.body;
  WebhookReceiver::Confirmation other = hook_.confirm(
      url, R"({"id": "tollgate-)" + std::to_string(n) + R"(-1-7", "outcome": "done"})");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(task(n).state, TaskState::provisioning);

  WebhookReceiver::Confirmation ok =
      hook_.confirm(url, R"({"id": ")" + id + R"(", "outcome": "done", "answer": "role bound"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }));
  EXPECT_NE(task(n).steps.back().connector->answer.find("role bound"), std::string::npos);
  EXPECT_TRUE(holding("ana", "deploy", "prod").has_value());

  // The same confirmation again (a replay) and a tampered one are refused.
  std::string body = R"({"id": ")" + id + R"(", "outcome": "done", "answer": "role bound"})";
  http::Headers signed_headers{{"webhook-id", ok.id},
                               {"webhook-timestamp", ok.timestamp},
                               {"webhook-signature", ok.signature},
                               {"Content-Type", "application/json"}};
  HttpResult replay = client_->request(
      "POST", "/api/v1/tasks/" + std::to_string(n) + "/provisioning", body, signed_headers);
  EXPECT_EQ(replay.status, 409) << replay.body;
  std::string tampered = body;
  tampered.replace(tampered.find("done"), 4, "fail");
  HttpResult forged = client_->request(
      "POST", "/api/v1/tasks/" + std::to_string(n) + "/provisioning", tampered, signed_headers);
  EXPECT_EQ(forged.status, 401) << forged.body;
}

TEST_F(ConnectorsTest, AWebhookThatRefusesTheChangeHandsItToPeople) {
  start();
  hook_.answer_next(400, 1);
  TaskNumber n = request("ana", "deploy", "prod");
  HttpResult a = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                     R"({"actor": "dana", "action": "approve"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(eventually([&] {
    Task t = task(n);
    return t.steps.back().connector &&
           t.steps.back().connector->phase == ConnectorRun::Phase::failed;
  }));
  EXPECT_EQ(hook_.deliveries().size(), 1u) << "a 4xx is not retried";
  EXPECT_NE(task(n).steps.back().connector->answer.find("400"), std::string::npos);
  // Pat does it by hand.
  HttpResult p = api("POST", "/api/v1/tasks/" + std::to_string(n) + "/actions",
                     R"({"actor": "pat", "action": "provisioned"})");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(task(n).state, TaskState::provisioned);
  auto h = holding("ana", "deploy", "prod");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->via, "") << "people made the change";
}

}  // namespace
}  // namespace tollgate::testing
