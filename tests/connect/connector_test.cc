// The connectors: the Standard Webhooks signature against the specification's test vector,
// its verification, the event's shape, the refusals made before any request, and end to end
// against real servers on loopback (tests/connectors: a SCIM 2.0 server on scimmy, a
// webhook receiver verifying with the standardwebhooks library).
#include "connect/connector.h"

#include <future>
#include <map>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "base/encoding.h"
#include "base/time_text.h"
#include "connect/http.h"
#include "tests/support/connector_servers.h"
#include "tests/support/without_library.h"

namespace tollgate::connect {
namespace {

using namespace std::chrono_literals;
using testing::ScimServer;
using testing::WebhookReceiver;

// The test vector of the Standard Webhooks specification (its libraries' "sign function
// works" test, standard-webhooks/standard-webhooks libraries/javascript/src/webhook.test.ts).
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kTimestamp = 1614265330;
constexpr const char* kPayload = R"({"test": 2432232314})";
constexpr const char* kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

Time at(std::int64_t unix_seconds) {
  return Time(std::chrono::seconds(unix_seconds));
}

TEST(WebhookSignature, MatchesTheStandardWebhooksTestVector) {
  auto s = webhook_signature(kSecret, kId, kTimestamp, kPayload);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(*s, kSignature);
  // The secret without its prefix is the same key.
  auto bare = webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", kId, kTimestamp, kPayload);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(*bare, kSignature);
}

TEST(WebhookSignature, RefusesASecretThatIsNotBase64) {
  auto s = webhook_signature("whsec_not base64!", kId, kTimestamp, kPayload);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::invalid_argument);
  EXPECT_FALSE(webhook_signature("whsec_", kId, kTimestamp, kPayload).ok());
}

TEST(VerifyWebhook, AcceptsTheTestVectorAndOneGoodSignatureAmongSeveral) {
  Time now = at(kTimestamp + 10);
  EXPECT_TRUE(verify_webhook(kSecret, kId, "1614265330", kSignature, kPayload, now).ok());
  std::string several = std::string("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ") +
                        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + kSignature;
  EXPECT_TRUE(verify_webhook(kSecret, kId, "1614265330", several, kPayload, now).ok());
}

TEST(VerifyWebhook, RefusesATamperedBodyAWrongSecretAndAnotherId) {
  Time now = at(kTimestamp);
  Status tampered =
      verify_webhook(kSecret, kId, "1614265330", kSignature, R"({"test": 2432232315})", now);
  EXPECT_EQ(tampered.code(), Code::permission_denied);
  EXPECT_EQ(tampered.message(), "webhook signature does not match");
  Status wrong = verify_webhook("whsec_c2VjcmV0LW9mLWFub3RoZXI=", kId, "1614265330", kSignature,
                                kPayload, now);
  EXPECT_EQ(wrong.code(), Code::permission_denied);
  EXPECT_EQ(verify_webhook(kSecret, "msg_other", "1614265330", kSignature, kPayload, now).code(),
            Code::permission_denied);
  // A signature cut short never matches.
  EXPECT_EQ(verify_webhook(kSecret, kId, "1614265330", "v1,g0hM9SsE", kPayload, now).code(),
            Code::permission_denied);
}

TEST(VerifyWebhook, RefusesAStaleOrFutureTimestamp) {
  Status stale =
      verify_webhook(kSecret, kId, "1614265330", kSignature, kPayload, at(kTimestamp + 400));
  EXPECT_EQ(stale.code(), Code::permission_denied);
  EXPECT_NE(stale.message().find("400 s away from now"), std::string::npos) << stale.message();
  EXPECT_EQ(
      verify_webhook(kSecret, kId, "1614265330", kSignature, kPayload, at(kTimestamp - 301)).code(),
      Code::permission_denied);
  EXPECT_TRUE(
      verify_webhook(kSecret, kId, "1614265330", kSignature, kPayload, at(kTimestamp + 400), 500s)
          .ok());
}

TEST(VerifyWebhook, RefusesMalformedHeaders) {
  Time now = at(kTimestamp);
  for (const char* ts : {"", "hello", "1614265330.5", " 1614265330", "1614265330x"}) {
    EXPECT_EQ(verify_webhook(kSecret, kId, ts, kSignature, kPayload, now).code(),
              Code::invalid_argument)
        << ts;
  }
  for (const char* sig : {"", "v1", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v2,abc"}) {
    EXPECT_EQ(verify_webhook(kSecret, kId, "1614265330", sig, kPayload, now).code(),
              Code::invalid_argument)
        << sig;
  }
  EXPECT_EQ(verify_webhook(kSecret, "", "1614265330", kSignature, kPayload, now).code(),
            Code::invalid_argument);
}

Job job(Op op = Op::grant) {
  Job j;
  j.idempotency_id = "tollgate-42-1-1";
  j.op = op;
  j.task = 42;
  j.app = "github";
  j.app_name = "GitHub";
  j.resource = "admin";
  j.resource_name = "Admin \"org\"";
  j.person = "ana";
  j.person_name = "Ana Silva";
  j.email = "ana@acme.test";
  j.scim_group = "Engineering";
  return j;
}

TEST(WebhookEvent, HasTheDocumentedShape) {
  Job j = job();
  j.expires_at = *parse_iso8601("2026-12-24T18:00:00Z");
  j.callback_url = "https://tollgate.acme.test/api/v1/tasks/42/provisioning";
  std::string text = webhook_event(j, *parse_iso8601("2026-11-26T10:42:07.123Z"));
  rapidjson::Document d;
  d.Parse(text.c_str());
  ASSERT_FALSE(d.HasParseError()) << text;
  EXPECT_STREQ(d["type"].GetString(), "access.grant");
  EXPECT_STREQ(d["timestamp"].GetString(), "2026-11-26T10:42:07.123Z");
  const auto& data = d["data"];
  EXPECT_STREQ(data["id"].GetString(), "tollgate-42-1-1");
  EXPECT_EQ(data["task"].GetInt64(), 42);
  EXPECT_STREQ(data["person"]["id"].GetString(), "ana");
  EXPECT_STREQ(data["person"]["name"].GetString(), "Ana Silva");
  EXPECT_STREQ(data["person"]["email"].GetString(), "ana@acme.test");
  EXPECT_STREQ(data["app"]["id"].GetString(), "github");
  EXPECT_STREQ(data["app"]["name"].GetString(), "GitHub");
  EXPECT_STREQ(data["resource"]["id"].GetString(), "admin");
  EXPECT_STREQ(data["resource"]["name"].GetString(), "Admin \"org\"");
  EXPECT_STREQ(data["expires_at"].GetString(), "2026-12-24T18:00:00.000Z");
  EXPECT_STREQ(data["callback_url"].GetString(),
               "https://tollgate.acme.test/api/v1/tasks/42/provisioning");

  rapidjson::Document r;
  std::string revoke = webhook_event(job(Op::revoke), at(0));
  r.Parse(revoke.c_str());
  ASSERT_FALSE(r.HasParseError()) << revoke;
  EXPECT_STREQ(r["type"].GetString(), "access.revoke");
  EXPECT_TRUE(r["data"]["expires_at"].IsNull());
}

// Connectors::run, waited for.
Result run(Connectors& c, ProvisioningMode mode, const Connector& connector, const Job& j) {
  std::promise<Result> p;
  auto f = p.get_future();
  c.run(mode, connector, j, [&p](Result r) { p.set_value(std::move(r)); });
  if (f.wait_for(30s) != std::future_status::ready) {
    ADD_FAILURE() << "no completion";
    return {};
  }
  Result r = f.get();
  if (std::getenv("CONNECTOR_TEST_ANSWERS") != nullptr)
    std::fprintf(stderr, "  -> %s %d %s\n", std::string(outcome_name(r.outcome)).c_str(),
                 r.http_status, r.answer.c_str());
  return r;
}

// An environment of its own, so that no test reads the process's.
Options env(std::map<std::string, std::string> vars) {
  Options o;
  o.env = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

// A port nothing listens on would do as well; these refusals come before any request, so
// a server that counts requests shows none reached it.
TEST(Connectors, RefuseWithoutANetworkCallWhenTheSecretIsUnsetOrTheUrlNotLoopback) {
  WebhookReceiver receiver;
  ASSERT_TRUE(receiver.ok()) << receiver.error();
  Connectors c(env({{"EMPTY", ""}, {"HOOK_SECRET", kSecret}}));
  Connector hook;
  hook.url = receiver.url();
  hook.secret_env = "UNSET_SECRET";
  Result r = run(c, ProvisioningMode::webhook, hook, job());
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(r.answer, "environment variable UNSET_SECRET is not set");
  hook.secret_env = "EMPTY";
  EXPECT_EQ(run(c, ProvisioningMode::webhook, hook, job()).answer,
            "environment variable EMPTY is not set");

  hook.secret_env = "HOOK_SECRET";
  hook.url = "http://hooks.acme.test/x";
  r = run(c, ProvisioningMode::webhook, hook, job());
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_NE(r.answer.find("http:// is only for loopback"), std::string::npos) << r.answer;
  hook.url = "http://10.0.0.1:" + std::to_string(receiver.port()) + "/hook";
  EXPECT_EQ(run(c, ProvisioningMode::webhook, hook, job()).outcome, Outcome::failed);
  EXPECT_TRUE(receiver.deliveries().empty());

  Connector scim;
  scim.url = "http://127.0.0.1:1/scim/v2";
  scim.token_env = "UNSET_TOKEN";
  r = run(c, ProvisioningMode::scim, scim, job());
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(r.answer, "environment variable UNSET_TOKEN is not set");
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(run(c, ProvisioningMode::manual, scim, job()).outcome, Outcome::failed);
}

TEST(Connectors, OutcomeNames) {
  EXPECT_EQ(outcome_name(Outcome::done), "done");
  EXPECT_EQ(outcome_name(Outcome::accepted), "accepted");
  EXPECT_EQ(outcome_name(Outcome::transient), "transient");
  EXPECT_EQ(outcome_name(Outcome::failed), "failed");
}

TEST(Http, PlainHttpOnlyToLoopback) {
  for (const char* ok :
       {"https://hooks.acme.test/x", "http://127.0.0.1:8080/x", "http://127.9.9.9/x",
        "http://[::1]:9/x", "http://localhost:1/x", "http://LOCALHOST/x"}) {
    EXPECT_TRUE(check_url(ok).ok()) << ok;
  }
  for (const char* bad : {"http://hooks.acme.test/x", "http://128.0.0.1/x", "http://[::2]/x",
                          "http://localhost.evil.test/x", "ftp://127.0.0.1/x", "not a url",
                          "https://user:pw@hooks.acme.test/x", "file:///etc/passwd"}) {
    EXPECT_FALSE(check_url(bad).ok()) << bad;
  }
}

TEST(Http, RetryAfterInSecondsOrAsADate) {
  Time now = *parse_iso8601("2026-01-01T00:00:00Z");
  EXPECT_EQ(parse_retry_after("7", now), std::chrono::milliseconds(7s));
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now),
            std::chrono::milliseconds(60s));
  EXPECT_EQ(parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999", now), std::chrono::milliseconds(24h));
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_EQ(parse_retry_after("-5", now), std::chrono::milliseconds(0));
}

TEST(Http, SnippetIsOneShortLine) {
  EXPECT_EQ(snippet("a\r\n\tb  c\x1b[31m"), "a b c [31m");
  std::string long_text(500, 'x');
  std::string s = snippet(long_text, 200);
  EXPECT_EQ(s, std::string(200, 'x') + "…");
  EXPECT_EQ(percent_encode("userName eq \"a+b@c\""), "userName%20eq%20%22a%2Bb%40c%22");
}

// --- Webhooks, end to end against the standardwebhooks receiver ---

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver.ok()) << receiver.error();
    connector.url = receiver.url();
    connector.secret_env = "HOOK_SECRET";
    connector.timeout = 5s;
  }
  Result deliver(const Job& j) { return run(connectors, ProvisioningMode::webhook, connector, j); }

  WebhookReceiver receiver;
  Connectors connectors{env({{"HOOK_SECRET", WebhookReceiver::kSecret}})};
  Connector connector;
};

TEST_F(WebhookTest, A200IsDoneAndTheReceiverVerifiedTheSignature) {
  Result r = deliver(job());
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.answer, "HTTP 200 from " + receiver.url());
  auto d = receiver.deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].verified) << d[0].error;
  EXPECT_EQ(d[0].id, "tollgate-42-1-1");
  rapidjson::Document body;
  body.Parse(d[0].body.c_str());
  ASSERT_FALSE(body.HasParseError());
  EXPECT_STREQ(body["type"].GetString(), "access.grant");
  EXPECT_STREQ(body["data"]["person"]["email"].GetString(), "ana@acme.test");
  // The receiver drops a delivery it acted on already (same webhook-id): a replay is 409.
  EXPECT_EQ(receiver.replay(0), 409);
  EXPECT_EQ(receiver.tamper(0), 401);
}

TEST_F(WebhookTest, A202IsAcceptedA500TransientA400Failed) {
  receiver.answer_next(202, 1);
  Result r = deliver(job());
  EXPECT_EQ(r.outcome, Outcome::accepted) << r.answer;
  EXPECT_EQ(r.http_status, 202);

  receiver.answer_next(500, 1);
  Job second = job();
  second.idempotency_id = "tollgate-42-1-2";
  r = deliver(second);
  EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
  EXPECT_EQ(r.http_status, 500);
  // The retry is signed anew, and passes.
  r = deliver(second);
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;

  receiver.answer_next(400, 1);
  Job third = job();
  third.idempotency_id = "tollgate-42-1-3";
  r = deliver(third);
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.http_status, 400);
  EXPECT_NE(r.answer.find("HTTP 400 from " + receiver.url()), std::string::npos) << r.answer;
  for (const auto& d : receiver.deliveries()) EXPECT_TRUE(d.verified) << d.error;
}

TEST_F(WebhookTest, AWrongSecretIsRefusedByTheReceiver) {
  Connectors wrong(env({{"HOOK_SECRET", "whsec_c2VjcmV0LW9mLWFub3RoZXI="}}));
  Result r = run(wrong, ProvisioningMode::webhook, connector, job());
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.http_status, 401);
}

TEST_F(WebhookTest, NoServerIsTransient) {
  connector.url = "http://127.0.0.1:1/hook";
  Result r = deliver(job());
  EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
  EXPECT_EQ(r.http_status, 0);
  EXPECT_NE(r.answer.find("no answer from http://127.0.0.1:1/hook"), std::string::npos) << r.answer;
}

TEST_F(WebhookTest, TestSendsASignedPing) {
  App app;
  app.id = "github";
  app.provisioning.mode = ProvisioningMode::webhook;
  app.provisioning.connector = connector;
  app.deprovisioning = app.provisioning;
  auto lines = connectors.test(app);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ok) << lines[0].detail;
  EXPECT_EQ(lines[0].what, "provisioning and deprovisioning: webhook " + receiver.url());
  auto d = receiver.deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].verified) << d[0].error;
  EXPECT_NE(d[0].body.find("\"tollgate.ping\""), std::string::npos) << d[0].body;

  app.deprovisioning.connector.secret_env = "UNSET";
  lines = connectors.test(app);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].ok);
  EXPECT_EQ(lines[1].what, "deprovisioning: webhook " + receiver.url());
  EXPECT_FALSE(lines[1].ok);
  EXPECT_EQ(lines[1].detail, "environment variable UNSET is not set");
}

// --- SCIM, end to end against scimmy ---

class ScimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server.ok()) << server.error();
    connector.url = server.base_url();
    connector.token_env = "SCIM_TOKEN";
    connector.timeout = 5s;
    server.add_user("ana@acme.test", "ana@acme.test", "Ana Silva");
  }
  Result change(const Job& j) { return run(connectors, ProvisioningMode::scim, connector, j); }

  ScimServer server{{"Engineering", "Sales"}};
  Connectors connectors{env({{"SCIM_TOKEN", ScimServer::kToken}})};
  Connector connector;
};

TEST_F(ScimTest, GrantAddsTheMemberThenIsDoneAlreadyRevokeRemoves) {
  Result r = change(job());
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_NE(r.answer.find("member added to group \"Engineering\""), std::string::npos) << r.answer;
  EXPECT_EQ(server.members("Engineering"), std::vector<std::string>{"ana@acme.test"});
  EXPECT_TRUE(server.members("Sales").empty());

  r = change(job());
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_NE(r.answer.find("already a member"), std::string::npos) << r.answer;
  EXPECT_EQ(r.http_status, 200);  // the membership lookup's
  EXPECT_EQ(server.members("Engineering"), std::vector<std::string>{"ana@acme.test"});

  r = change(job(Op::revoke));
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_NE(r.answer.find("member removed from group \"Engineering\""), std::string::npos)
      << r.answer;
  EXPECT_TRUE(server.members("Engineering").empty());

  r = change(job(Op::revoke));
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_NE(r.answer.find("not a member"), std::string::npos) << r.answer;
}

TEST_F(ScimTest, FindsAUserByEmailWhenTheUserNameIsAnother) {
  server.add_user("bo", "bo@acme.test", "Bo Chen");
  Job j = job();
  j.person = "bo";
  j.email = "bo@acme.test";
  Result r = change(j);
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_EQ(server.members("Engineering"), std::vector<std::string>{"bo"});
}

TEST_F(ScimTest, AnUnknownUserIsRefusedUnlessCreateUsers) {
  Job j = job();
  j.person = "cy";
  j.person_name = "Cy Diaz";
  j.email = "cy@acme.test";
  Result r = change(j);
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.answer, "no SCIM user with userName or email cy@acme.test; create_users is off");
  EXPECT_FALSE(server.has_user("cy@acme.test"));

  connector.create_users = true;
  r = change(j);
  EXPECT_EQ(r.outcome, Outcome::done) << r.answer;
  EXPECT_TRUE(server.has_user("cy@acme.test"));
  EXPECT_EQ(server.members("Engineering"), std::vector<std::string>{"cy@acme.test"});

  // A revocation for a user not found goes to people: not found is no proof of absence.
  Job nobody = job(Op::revoke);
  nobody.email = "nobody@acme.test";
  r = change(nobody);
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.answer,
            "no SCIM user with userName or email nobody@acme.test: cannot tell whether they are "
            "still in group \"Engineering\"");
}

TEST_F(ScimTest, AMissingGroupFails) {
  Job j = job();
  j.scim_group = "Finance";
  Result r = change(j);
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.answer, "no SCIM group \"Finance\"");
}

TEST_F(ScimTest, A429IsTransientWithRetryAfter) {
  server.fail_next(429, 1, 7);
  Result r = change(job());
  EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
  EXPECT_EQ(r.http_status, 429);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(*r.retry_after, 7s);
  EXPECT_TRUE(server.members("Engineering").empty());
  // Once it passes, the grant is made.
  EXPECT_EQ(change(job()).outcome, Outcome::done);
}

TEST_F(ScimTest, A5xxIsTransientAnd4xxFailedWithTheScimError) {
  server.fail_next(503, 1);
  Result r = change(job());
  EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
  EXPECT_EQ(r.http_status, 503);
  server.fail_next(403, 1);
  r = change(job());
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.http_status, 403);
  EXPECT_TRUE(r.answer.starts_with("SCIM 403") || r.answer.starts_with("HTTP 403")) << r.answer;
}

TEST_F(ScimTest, AWrongTokenFails) {
  Connectors wrong(env({{"SCIM_TOKEN", "not-the-token"}}));
  Result r = run(wrong, ProvisioningMode::scim, connector, job());
  EXPECT_EQ(r.outcome, Outcome::failed) << r.answer;
  EXPECT_EQ(r.http_status, 401);
}

TEST_F(ScimTest, AServerDownIsTransient) {
  server.down_for(3s);
  Result r = change(job());
  EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
  EXPECT_EQ(r.http_status, 0);
  connector.url = "http://127.0.0.1:1/scim/v2";
  r = change(job());
  EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
}

TEST_F(ScimTest, TestChecksTheTokenAndTheGroups) {
  App app;
  app.id = "github";
  app.provisioning.mode = ProvisioningMode::scim;
  app.provisioning.connector = connector;
  app.deprovisioning = app.provisioning;
  Resource eng;
  eng.id = "eng";
  eng.scim_group = "Engineering";
  Resource fin;
  fin.id = "fin";
  fin.scim_group = "Finance";
  app.resources = {eng, fin};
  auto lines = connectors.test(app);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].what, "provisioning and deprovisioning: SCIM " + server.base_url());
  EXPECT_FALSE(lines[0].ok);
  EXPECT_NE(lines[0].detail.find("token accepted"), std::string::npos) << lines[0].detail;
  EXPECT_NE(lines[0].detail.find("group \"Engineering\" found"), std::string::npos)
      << lines[0].detail;
  EXPECT_NE(lines[0].detail.find("no SCIM group \"Finance\""), std::string::npos)
      << lines[0].detail;

  app.resources = {eng};
  lines = connectors.test(app);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ok) << lines[0].detail;

  Connectors wrong(env({{"SCIM_TOKEN", "not-the-token"}}));
  lines = wrong.test(app);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].ok);
  EXPECT_NE(lines[0].detail.find("token refused"), std::string::npos) << lines[0].detail;
}

// Without libcurl (a library that does not load), every call is transient, as when no server
// answers, and says why, naming the library; the client still stops.
TEST(Connectors, WithoutLibcurlEveryCallIsTransientAndNamesTheLibrary) {
  if (!testing::without_library()) {
    EXPECT_TRUE(testing::passes_without("libcurl.so.4"));
    return;
  }
  Connector c;
  c.url = "http://127.0.0.1:1/hook";
  c.secret_env = "HOOK_SECRET";
  Connectors connectors(env({{"HOOK_SECRET", WebhookReceiver::kSecret}}));
  for (int i = 0; i < 2; ++i) {
    Result r = run(connectors, ProvisioningMode::webhook, c, job());
    EXPECT_EQ(r.outcome, Outcome::transient) << r.answer;
    EXPECT_EQ(r.http_status, 0);
    EXPECT_NE(r.answer.find("libcurl.so.4 cannot be loaded"), std::string::npos) << r.answer;
  }
  connectors.stop();
}

TEST(Connectors, StopAbandonsCallsUnderWay) {
  ScimServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  server.add_user("ana@acme.test", "ana@acme.test", "Ana Silva");
  Connector c;
  c.url = server.base_url();
  c.token_env = "T";
  auto connectors = std::make_unique<Connectors>(env({{"T", ScimServer::kToken}}));
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) {
    connectors->run(ProvisioningMode::scim, c, job(), [&ran](Result) { ++ran; });
  }
  connectors->stop();
  int after_stop = ran.load();
  connectors.reset();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ran.load(), after_stop);
}

}  // namespace
}  // namespace tollgate::connect
