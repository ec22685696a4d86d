// Connectors in the engine and the configuration: a provisioning or
// deprovisioning step made by an app's webhook or SCIM connector (task.h,
// ConnectorRun; engine.cc, "Connectors"), and the fields that configure it.
#include <algorithm>

#include <gtest/gtest.h>

#include "tests/support/test_org.h"
#include "workflow/config.h"
#include "workflow/engine.h"
#include "workflow/sla.h"

namespace tollgate {
namespace {

using std::chrono::hours;
using testing::replaced;
using testing::World;

// GitHub provisioned and deprovisioned by SCIM, Pat taking over when it fails.
std::string scim_org() {
  std::string text = replaced(
      testing::kTestOrg,
      R"("provisioning": {"mode": "manual", "provisioners": ["pat"], "instructions": "Add them in Settings → People."},
     "deprovisioning": {"mode": "manual", "deprovisioners": ["pat"]},)",
      R"("provisioning": {"mode": "scim", "url": "https://github.example/scim/v2", "token_env": "GH_SCIM", "name": "GitHub EMU", "provisioners": ["pat"], "instructions": "Add them in Settings → People."},
     "deprovisioning": {"mode": "scim", "url": "https://github.example/scim/v2", "token_env": "GH_SCIM", "deprovisioners": ["pat"]},)");
  text = replaced(text, R"("max_duration": "7d"},)",
                  R"("max_duration": "7d", "scim_group": "admins"},)");
  return replaced(text, R"("revocation_policy": "owner-confirms"}
     ])",
                  R"("revocation_policy": "owner-confirms", "scim_group": "members"}
     ])");
}

struct ScimWorld : World {
  ScimWorld() : World(scim_org()) {}
};

RequestInput member_for(const PersonId& who) {
  return {who, "", "github", "member", "read the monorepo", std::nullopt, false};
}

// A request approved at both review steps: at its SCIM step.
Task at_connector(World& w, const PersonId& who = "ana") {
  Task t = w.must(w.request(member_for(who)), Action::approve, "dana");
  return w.must(t, Action::approve, "olga");
}

StatusOr<Decision> answer(World& w, const Task& t, Action a, const std::string& what,
                          int attempt = 0) {
  Command c{a, std::string(kSystemActor), what, {}, {}};
  c.step = t.current_step();
  c.attempt = attempt;
  return w.engine.act(t, c);
}

TEST(Connector, AnApprovalHandsTheStepToTheConnectorWithNobodyAssigned) {
  ScimWorld w;
  Task t = w.must(w.request(member_for("ana")), Action::approve, "dana");
  auto d = w.act(t, Action::approve, "olga");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.state, TaskState::provisioning);
  const TaskStep& s = d->task.steps.back();
  ASSERT_TRUE(s.connector.has_value());
  EXPECT_EQ(s.connector->label, "SCIM (GitHub EMU)");
  EXPECT_EQ(s.connector->phase, ConnectorRun::Phase::calling);
  EXPECT_EQ(s.connector->attempt, 1);
  EXPECT_TRUE(s.assignees.empty());
  EXPECT_EQ(testing::recipients(*d, EffectKind::assign), std::vector<PersonId>{});
  auto calls = std::count_if(d->effects.begin(), d->effects.end(),
                             [](const Effect& e) { return e.kind == EffectKind::connector; });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(d->access.empty()) << "nothing held until the system says so";
  EXPECT_EQ(s.connector->idempotency_id(d->task.number, 2), "tollgate-1-2-1");
}

TEST(Connector, DoneClosesTheTaskAsProvisionedByTheConnectorAndRecordsItInTheLedger) {
  ScimWorld w;
  Task t = at_connector(w);
  auto d = answer(w, t, Action::connector_done, "HTTP 204: member added to group \"members\"");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.state, TaskState::provisioned);
  EXPECT_EQ(d->task.closed_by, kSystemActor);
  EXPECT_EQ(decider_name(*w.dir, d->task.steps.back()), "SCIM (GitHub EMU)");
  ASSERT_EQ(d->access.size(), 1u);
  EXPECT_EQ(d->access[0].holding.via, "SCIM (GitHub EMU)");
  EXPECT_EQ(d->access[0].answer, "HTTP 204: member added to group \"members\"");
  // The requester is told who did it.
  bool via = false;
  for (const Effect& e : d->effects) {
    if (e.kind == EffectKind::notify && e.get("via") != nullptr)
      via = *e.get("via") == "SCIM (GitHub EMU)";
  }
  EXPECT_TRUE(via);
  // A late click gets who did it.
  auto late = w.act(d->task, Action::provisioned, "pat");
  EXPECT_EQ(late.code(), Code::conflict);
  EXPECT_NE(late.status().message().find("by SCIM (GitHub EMU)"), std::string::npos)
      << late.status().message();
}

TEST(Connector, PeopleCannotDecideWhileTheSystemIsCalled) {
  ScimWorld w;
  Task t = at_connector(w);
  for (Action a : {Action::provisioned, Action::wont_provision, Action::reassign}) {
    auto d = w.act(t, a, "pat", "because", "olga");
    EXPECT_EQ(d.code(), Code::conflict) << action_name(a);
    EXPECT_NE(d.status().message().find("SCIM (GitHub EMU) is adding this access"),
              std::string::npos)
        << d.status().message();
  }
  EXPECT_EQ(w.act(t, Action::retry, "pat").code(), Code::conflict);
}

TEST(Connector, TheTaskCannotBeCancelledWhileTheSystemMakesTheChange) {
  ScimWorld w;
  Task t = at_connector(w);
  auto d = w.act(t, Action::cancel, "ana");
  EXPECT_EQ(d.code(), Code::conflict);
  EXPECT_NE(d.status().message().find("is adding this access"), std::string::npos)
      << d.status().message();
  Task failed = answer(w, t, Action::connector_failed, "HTTP 403")->task;
  EXPECT_TRUE(w.act(failed, Action::cancel, "ana").ok()) << "once it failed, it may be withdrawn";
}

TEST(Connector, OnceAWebhookAcceptedOnlyItsConfirmationOrTheSchedulerDecides) {
  ScimWorld w;
  Task t = at_connector(w);
  Task accepted = answer(w, t, Action::connector_accepted, "HTTP 202")->task;
  ASSERT_TRUE(accepted.steps.back().connector->confirm_by.has_value());
  EXPECT_EQ(*accepted.steps.back().connector->confirm_by, testing::test_start() + hours(24));
  // A redelivery answered 200 by the outbox does not close it.
  Command redelivered{Action::connector_done, std::string(kSystemActor), "HTTP 200", {}, {}};
  redelivered.source = "connector";
  EXPECT_EQ(w.engine.act(accepted, redelivered).code(), Code::conflict);
  // Not due before its time; due after, as a failure with the reason.
  EXPECT_TRUE(sla_due(accepted, testing::test_start() + hours(23)).empty());
  auto due = sla_due(accepted, testing::test_start() + hours(25));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].action, Action::connector_failed);
  w.clock.advance(hours(25));
  Command overdue{Action::connector_failed, std::string(kSystemActor), "", {}, {}};
  overdue.step = due[0].step;
  auto d = w.engine.act(accepted, overdue);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.steps.back().connector->answer, "no confirmation by 2026-11-27 10:00 UTC");
  EXPECT_EQ(d->task.steps.back().assignees, std::vector<PersonId>{"pat"});
}

TEST(Connector, OnlyTollgateAnswersForTheSystem) {
  ScimWorld w;
  Task t = at_connector(w);
  Command c{Action::connector_done, "pat", "done", {}, {}};
  EXPECT_EQ(w.engine.act(t, c).code(), Code::permission_denied);
}

TEST(Connector, AnAnswerForAnotherAttemptIsRefused) {
  ScimWorld w;
  Task t = at_connector(w);
  auto d = answer(w, t, Action::connector_done, "ok", 2);
  EXPECT_EQ(d.code(), Code::conflict);
  EXPECT_NE(d.status().message().find("attempt 1 is under way"), std::string::npos)
      << d.status().message();
}

TEST(Connector, AFailureGoesToTheProvisionersWithTheAnswerAndRetryStartsTheNextAttempt) {
  ScimWorld w;
  Task t = at_connector(w);
  auto failed = answer(w, t, Action::connector_failed, "SCIM 404: no group \"members\"");
  ASSERT_TRUE(failed.ok()) << failed.status().to_string();
  const TaskStep& s = failed->task.steps.back();
  EXPECT_EQ(failed->task.state, TaskState::provisioning) << "never silently granted";
  EXPECT_EQ(s.connector->phase, ConnectorRun::Phase::failed);
  EXPECT_EQ(s.assignees, std::vector<PersonId>{"pat"});
  EXPECT_EQ(testing::recipients(*failed, EffectKind::assign), std::vector<PersonId>{"pat"});
  ASSERT_FALSE(failed->new_comments.empty());
  EXPECT_NE(failed->new_comments.back().text.find("no group \"members\""), std::string::npos);
  EXPECT_TRUE(failed->access.empty());

  // A late answer of the same attempt changes nothing.
  EXPECT_EQ(answer(w, failed->task, Action::connector_done, "ok", 1).code(), Code::conflict);
  // Someone else may not retry; Pat may.
  EXPECT_EQ(w.act(failed->task, Action::retry, "bo").code(), Code::permission_denied);
  auto retried = w.act(failed->task, Action::retry, "pat");
  ASSERT_TRUE(retried.ok()) << retried.status().to_string();
  const TaskStep& r = retried->task.steps.back();
  EXPECT_EQ(r.connector->phase, ConnectorRun::Phase::calling);
  EXPECT_EQ(r.connector->attempt, 2);
  EXPECT_TRUE(r.assignees.empty());
  EXPECT_EQ(r.former_assignees, std::vector<PersonId>{"pat"}) << "still involved";
  auto second = answer(w, retried->task, Action::connector_done, "ok", 2);
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  EXPECT_EQ(second->task.state, TaskState::provisioned);
}

TEST(Connector, AfterAFailurePeopleMayProvisionByHand) {
  ScimWorld w;
  Task t = at_connector(w);
  Task failed =
      w.engine
          .act(t, Command{Action::connector_failed, std::string(kSystemActor), "HTTP 403", {}, {}})
          ->task;
  auto d = w.act(failed, Action::provisioned, "pat");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.state, TaskState::provisioned);
  ASSERT_EQ(d->access.size(), 1u);
  EXPECT_EQ(d->access[0].holding.via, "") << "people made the change";
}

TEST(Connector, AWebhookThatAcceptsWaitsForItsConfirmation) {
  ScimWorld w;
  Task t = at_connector(w);
  auto accepted = answer(w, t, Action::connector_accepted, "HTTP 202");
  ASSERT_TRUE(accepted.ok()) << accepted.status().to_string();
  EXPECT_EQ(accepted->task.steps.back().connector->phase, ConnectorRun::Phase::accepted);
  EXPECT_EQ(answer(w, accepted->task, Action::connector_accepted, "again").code(), Code::conflict);
  EXPECT_EQ(w.act(accepted->task, Action::provisioned, "pat").code(), Code::conflict);
  auto done = answer(w, accepted->task, Action::connector_done, "confirmed");
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  EXPECT_EQ(done->task.state, TaskState::provisioned);
}

TEST(Connector, TheEndOfAGrantOnAConnectedAppOpensItsConnectorsStep) {
  ScimWorld w;
  Holding h{"cy",
            "github",
            "member",
            testing::test_start(),
            testing::test_start() + hours(1),
            0,
            GrantSource::request};
  EXPECT_TRUE(w.engine.ends_by_hand(h)) << "a task, whose step the connector makes";
  auto d = w.engine.open_access_end({h, "expired", std::string(kSystemActor)}, 7);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.state, TaskState::deprovisioning);
  ASSERT_TRUE(d->task.steps.front().connector.has_value());
  EXPECT_EQ(d->task.steps.front().connector->phase, ConnectorRun::Phase::calling);
  auto done = answer(w, d->task, Action::connector_done, "member removed");
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  EXPECT_EQ(done->task.state, TaskState::deprovisioned);
  ASSERT_EQ(done->access.size(), 1u);
  EXPECT_EQ(done->access[0].op, AccessChange::Op::remove);
}

// --- Configuration.

std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> out;
  for (const ConfigIssue& i : load_config_text(text).issues) {
    if (i.severity == ConfigIssue::Severity::error) out.push_back(i.path + ": " + i.message);
  }
  return out;
}

bool has(const std::vector<std::string>& errors, const std::string& e) {
  return std::find(errors.begin(), errors.end(), e) != errors.end();
}

TEST(ConnectorConfig, TheExampleWithConnectorsLoads) {
  EXPECT_EQ(errors_of(scim_org()), std::vector<std::string>{});
  auto dir = testing::load_org(scim_org());
  const App* app = dir->app("github");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->provisioning.mode, ProvisioningMode::scim);
  EXPECT_EQ(app->provisioning.connector.token_env, "GH_SCIM");
  EXPECT_EQ(app->provisioning.connector.max_attempts, 5);
  EXPECT_EQ(dir->resource("github", "member")->scim_group, "members");
}

TEST(ConnectorConfig, EachFieldIsCheckedWithItsPath) {
  std::string text = replaced(
      scim_org(), R"("url": "https://github.example/scim/v2", "token_env": "GH_SCIM", "name")",
      R"("url": "http://10.0.0.8/scim/v2", "token_env": "ghp_abc-123", "secret_env": "X", "name")");
  auto e = errors_of(text);
  EXPECT_TRUE(has(e,
                  "$.apps[0].provisioning.url: http:// is only for a loopback address "
                  "(127.0.0.1, [::1], localhost); use https://"))
      << ::testing::PrintToString(e);
  EXPECT_TRUE(has(e,
                  "$.apps[0].provisioning.token_env: \"ghp_abc-123\" is not an environment "
                  "variable name (letters, digits and _; the secret itself never goes in the "
                  "file)"))
      << ::testing::PrintToString(e);
  EXPECT_TRUE(has(e, "$.apps[0].provisioning.secret_env: only for webhook mode"))
      << ::testing::PrintToString(e);
}

TEST(ConnectorConfig, AScimAppNeedsAGroupPerResourceAndSomeoneToTakeOver) {
  std::string text = replaced(scim_org(), R"(, "scim_group": "members")", "");
  text = replaced(text, R"("token_env": "GH_SCIM", "deprovisioners": ["pat"])",
                  R"("token_env": "GH_SCIM")");
  auto e = errors_of(text);
  EXPECT_TRUE(has(e,
                  "$.apps[0].resources[1].scim_group: the app is provisioned by SCIM: name the "
                  "group (its displayName)"))
      << ::testing::PrintToString(e);
  EXPECT_TRUE(has(e,
                  "$.apps[0].deprovisioning.deprovisioners: scim mode needs at least one "
                  "person to take over when it fails"))
      << ::testing::PrintToString(e);
}

TEST(ConnectorConfig, ConnectorFieldsOutsideAConnectorModeAreRefused) {
  auto e = errors_of(replaced(
      testing::kTestOrg, R"("deprovisioning": {"mode": "manual", "deprovisioners": ["pat"]},)",
      R"("deprovisioning": {"mode": "manual", "deprovisioners": ["pat"], "url": "https://x.test"},)"));
  EXPECT_TRUE(has(e, "$.apps[0].deprovisioning.url: only for webhook and scim mode"))
      << ::testing::PrintToString(e);
  e = errors_of(replaced(testing::kTestOrg, R"("revocation_policy": "manager-confirms"}
     ])",
                         R"("revocation_policy": "manager-confirms", "scim_group": "x"}
     ])"));
  EXPECT_TRUE(has(e,
                  "$.apps[1].resources[0].scim_group: only for an app provisioned or "
                  "deprovisioned by SCIM"))
      << ::testing::PrintToString(e);
}

TEST(ConnectorConfig, UrlsAreHttpsOrLoopbackAndCarryNoCredentials) {
  EXPECT_EQ(connector_url_problem("https://okta.acme.test/scim/v2"), "");
  EXPECT_EQ(connector_url_problem("http://127.0.0.1:9481/scim/v2"), "");
  EXPECT_EQ(connector_url_problem("http://[::1]:80/hook"), "");
  EXPECT_EQ(connector_url_problem("http://localhost/hook"), "");
  EXPECT_NE(connector_url_problem("http://127.0.0.1.evil.test/hook"), "");
  EXPECT_NE(connector_url_problem("http://hooks.acme.test/x"), "");
  EXPECT_NE(connector_url_problem("https://user:pw@okta.acme.test/"), "");
  EXPECT_NE(connector_url_problem("ftp://okta.acme.test/"), "");
  EXPECT_NE(connector_url_problem("https:///path"), "");
}

}  // namespace
}  // namespace tollgate
