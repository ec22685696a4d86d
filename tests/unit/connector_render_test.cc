// Connectors on every Slack surface and in the mails: a provisioning step
// made by SCIM (Okta), a deprovisioning step made by a webhook (Deploy bot),
// in each phase of their run (calling, accepted, failed, done), decided by
// the real engine on a manual clock. Each rendering is checked for what it
// must say, for the Retry button where people may retry, for the system's
// answer shown escaped (a remote party's text), and against Slack's rules.
#include <gtest/gtest.h>

#include "mail/templates.h"
#include "sandbox/slack_rules.h"
#include "slack/actions.h"
#include "slack/block_kit.h"
#include "slack/blocks.h"
#include "slack/home_view.h"
#include "tests/support/test_org.h"

namespace tollgate {
namespace {

namespace kit = slack::kit;
using testing::github_admin_for;
using testing::replaced;

// The test organisation with GitHub provisioned by SCIM (named Okta) and
// deprovisioned by a webhook (named Deploy bot); Pat takes over either.
std::string connector_org() {
  std::string text = replaced(
      testing::kTestOrg,
      R"("provisioning": {"mode": "manual", "provisioners": ["pat"], )",
      R"("provisioning": {"mode": "scim", "provisioners": ["pat"], )"
      R"("url": "https://okta.example/scim/v2", "token_env": "OKTA_TOKEN", "name": "Okta", )");
  // SCIM adds people to the resource's group.
  text = replaced(text, R"("revocation_policy": "owner-confirms", "max_duration": "7d"})",
                  R"("revocation_policy": "owner-confirms", "max_duration": "7d", )"
                  R"("scim_group": "GitHub admins"})");
  text = replaced(text,
                  R"("request_policy": "two-step", "revocation_policy": "owner-confirms"})",
                  R"("request_policy": "two-step", "revocation_policy": "owner-confirms", )"
                  R"("scim_group": "GitHub members"})");
  return replaced(text, R"("deprovisioning": {"mode": "manual", "deprovisioners": ["pat"]})",
                  R"("deprovisioning": {"mode": "webhook", "deprovisioners": ["pat"], )"
                  R"("url": "https://deploy.example/hook", "secret_env": "DEPLOY_SECRET", )"
                  R"("name": "Deploy bot", "instructions": "Remove them in Settings."})");
}

// What a hostile (or careless) system may answer: a broadcast, markup, a link.
constexpr const char* kHostile = "<!channel> *bold* <http://x|y>";

struct ConnectorWorld {
  ManualClock clock{testing::test_start()};
  std::shared_ptr<const Directory> dir = testing::load_org(connector_org());
  Engine engine{dir, clock};

  Task must(const Task& t, Command cmd) {
    clock.advance(std::chrono::minutes(3));
    auto d = engine.act(t, cmd);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : t;
  }
  Task must(const Task& t, Action a, const PersonId& actor, std::string comment = {}) {
    return must(t, Command{a, actor, std::move(comment), {}, {}});
  }
  // What the system answered, as the outbox worker reports it (or, "webhook",
  // as the receiver's signed confirmation does).
  Task answer(const Task& t, Action a, std::string text, std::string source = "connector") {
    Command c{a, std::string(kSystemActor), std::move(text), {}, {}};
    c.source = std::move(source);
    return must(t, c);
  }

  // #1: Ana's GitHub admin request, approved through: SCIM (Okta) is called (step 3).
  Task provisioning() {
    auto d = engine.open_request(testing::github_admin_for("ana", "on-call rotation"), 1);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    Task t = d.ok() ? d->task : Task{};
    t = must(t, Action::approve, "dana");
    t = must(t, Action::approve, "olga");
    return must(t, Action::approve, "lee");
  }
  // #2: Dana proposes removing Bo's GitHub admin; Olga confirms: the webhook is called (step 1).
  Task deprovisioning() {
    RevocationInput in{"dana", "bo", "github", "admin", "Bo moved to the data team"};
    in.facts = testing::config_facts(*dir, "bo", "github", "admin");
    auto d = engine.propose_revocation(in, 2);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    Task t = d.ok() ? d->task : Task{};
    return must(t, Action::confirm, "olga");
  }
};

constexpr int kProvisionStep = 3;
constexpr int kDeprovisionStep = 1;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The message as posted, checked against Slack's rules; its body.
std::string posted(const kit::Message& m) {
  std::string body = kit::post_message("D1", m);
  auto refused = sandbox::check_message(body);
  EXPECT_FALSE(refused.has_value()) << refused->to_string() << "\n" << body;
  return body;
}

// The value of the button `action_id` in a rendered body ("" when none).
std::string button_value(const std::string& body, const std::string& action_id) {
  auto at = body.find(R"("action_id":")" + action_id + R"(")");
  if (at == std::string::npos) return {};
  const std::string key = R"("value":")";
  auto v = body.find(key, at);
  if (v == std::string::npos) return {};
  v += key.size();
  return body.substr(v, body.find('"', v) - v);
}

std::string message_for(ConnectorWorld& w, const Task& t, const PersonId& viewer, int step) {
  return posted(slack::task_message(w.engine, t, viewer, step));
}

TEST(ConnectorRender, WhileCallingTheMessageSaysSoAndHasNoDecisionButtons) {
  ConnectorWorld w;
  Task t = w.provisioning();
  ASSERT_EQ(t.state, TaskState::provisioning);
  ASSERT_TRUE(t.steps[kProvisionStep].connector.has_value());
  EXPECT_TRUE(t.steps[kProvisionStep].assignees.empty());
  // Lee's copy of the step Lee approved: where the task stands now.
  std::string lee = message_for(w, t, "lee", 2);
  EXPECT_TRUE(has(lee, ":hourglass_flowing_sand: Provisioning by SCIM (Okta)…")) << lee;
  EXPECT_FALSE(has(lee, "Now with nobody")) << lee;
  // The connector's own step, as Pat (its provisioner) would see it: nothing to click.
  std::string pat = message_for(w, t, "pat", kProvisionStep);
  EXPECT_TRUE(has(pat, "Provisioning by SCIM (Okta)…")) << pat;
  EXPECT_FALSE(has(pat, R"("action_id":"provisioned")")) << pat;
  EXPECT_FALSE(has(pat, R"("action_id":"retry")")) << pat;
  EXPECT_FALSE(has(pat, "(attempt")) << pat;
  EXPECT_FALSE(has(pat, "How to provision")) << "the system makes the change: " << pat;
}

TEST(ConnectorRender, AFailedStepIsThePeoplesWithTheAnswerEscapedAndRetry) {
  ConnectorWorld w;
  Task t = w.answer(w.provisioning(), Action::connector_failed, kHostile);
  ASSERT_EQ(t.steps[kProvisionStep].assignees, std::vector<PersonId>{"pat"});
  std::string pat = message_for(w, t, "pat", kProvisionStep);
  EXPECT_TRUE(has(pat, "SCIM (Okta) could not add the access")) << pat;
  // The answer shown as text: no broadcast, no link, no markup of its own.
  EXPECT_TRUE(has(pat, "&lt;!channel&gt;")) << pat;
  EXPECT_FALSE(has(pat, "<!channel>")) << pat;
  EXPECT_FALSE(has(pat, "<http://x|y>")) << pat;
  EXPECT_TRUE(has(pat, "Add them in Settings → People.")) << pat;  // the instructions
  std::string ref = slack::task_ref(1, kProvisionStep);
  EXPECT_TRUE(has(pat, R"("action_id":"provisioned")")) << pat;
  EXPECT_EQ(button_value(pat, "retry"), ref) << pat;  // the same reference as Provisioned
  EXPECT_EQ(button_value(pat, "provisioned"), ref) << pat;
  EXPECT_TRUE(has(pat, "wont_provision:" + ref)) << pat;
  // Another reader's copy names the failure and who has the step now.
  std::string lee = message_for(w, t, "lee", 2);
  EXPECT_TRUE(has(lee, "SCIM (Okta) could not add the access")) << lee;
  EXPECT_TRUE(has(lee, "Now with Pat Kim")) << lee;
  EXPECT_FALSE(has(lee, "<!channel>")) << lee;
}

TEST(ConnectorRender, RetryStartsTheNextAttemptAndTheMessageSaysWhich) {
  ConnectorWorld w;
  Task t = w.answer(w.provisioning(), Action::connector_failed, "HTTP 503");
  t = w.must(t, Action::retry, "pat");
  ASSERT_EQ(t.steps[kProvisionStep].connector->attempt, 2);
  std::string pat = message_for(w, t, "pat", kProvisionStep);
  EXPECT_TRUE(has(pat, "Provisioning by SCIM (Okta)… (attempt 2)")) << pat;
  EXPECT_FALSE(has(pat, R"("action_id":"retry")")) << pat;
  EXPECT_FALSE(has(pat, R"("action_id":"provisioned")")) << pat;
}

TEST(ConnectorRender, DoneByTheConnectorNamesItEverywhere) {
  ConnectorWorld w;
  Task t = w.answer(w.provisioning(), Action::connector_done, "201 Created");
  ASSERT_EQ(t.state, TaskState::provisioned);
  for (const auto& [viewer, step] : {std::pair<PersonId, int>{"pat", kProvisionStep},
                                     std::pair<PersonId, int>{"dana", 0}}) {
    std::string m = message_for(w, t, viewer, step);
    EXPECT_TRUE(has(m, "Provisioned by SCIM (Okta) at ")) << m;
    EXPECT_FALSE(has(m, "tollgate")) << m;
  }
  kit::Message told = slack::notification(w.engine, t, "ana", "provisioned",
                                          std::string(kSystemActor));
  std::string notice = posted(told);
  EXPECT_TRUE(has(notice, "SCIM (Okta) has added the access.")) << notice;
  EXPECT_FALSE(has(notice, "tollgate")) << notice;
  // The details modal and /tasks show name the connector on its step.
  std::string details = kit::views_open("trigger", slack::details_modal(w.engine, t, "ana"));
  EXPECT_FALSE(sandbox::check_views_call(details, sandbox::Surface::modal).has_value());
  EXPECT_TRUE(has(details, "provisioned by SCIM (Okta) at ")) << details;
  std::string show = slack::task_text(w.engine, t, "ana").str();
  EXPECT_TRUE(has(show, "provisioned by SCIM (Okta)")) << show;
  EXPECT_FALSE(has(show, "tollgate")) << show;
}

TEST(ConnectorRender, TheDetailsOfARunningStepSayWhatTheConnectorDoes) {
  ConnectorWorld w;
  Task t = w.provisioning();
  std::string details = kit::views_open("trigger", slack::details_modal(w.engine, t, "ana"));
  EXPECT_TRUE(has(details, "Provisioning by SCIM (Okta)…")) << details;
  std::string show = slack::task_text(w.engine, t, "ana").str();
  EXPECT_TRUE(has(show, "Provisioning by SCIM (Okta)…")) << show;
  // Before it opens, the plan names the connector rather than its provisioners.
  auto opened = w.engine.open_request(github_admin_for("ana"), 9);
  ASSERT_TRUE(opened.ok());
  std::string plan = slack::task_text(w.engine, opened->task, "ana").str();
  EXPECT_TRUE(has(plan, "then SCIM (Okta)")) << plan;
}

TEST(ConnectorRender, AWebhookAwaitingItsConfirmationSaysSo) {
  ConnectorWorld w;
  Task t = w.answer(w.deprovisioning(), Action::connector_accepted, "202 Accepted");
  ASSERT_EQ(t.state, TaskState::deprovisioning);
  std::string olga = message_for(w, t, "olga", 0);
  EXPECT_TRUE(has(olga, "Waiting for webhook (Deploy bot) to confirm")) << olga;
  std::string pat = message_for(w, t, "pat", kDeprovisionStep);
  EXPECT_TRUE(has(pat, "Waiting for webhook (Deploy bot) to confirm")) << pat;
  EXPECT_FALSE(has(pat, R"("action_id":"deprovisioned")")) << pat;
}

TEST(ConnectorRender, AFailedDeprovisioningOffersDeprovisionedRetryAndWontDeprovision) {
  ConnectorWorld w;
  Task t = w.answer(w.deprovisioning(), Action::connector_failed, "HTTP 410: gone");
  std::string pat = message_for(w, t, "pat", kDeprovisionStep);
  std::string ref = slack::task_ref(2, kDeprovisionStep);
  EXPECT_TRUE(has(pat, "webhook (Deploy bot) could not remove the access")) << pat;
  EXPECT_TRUE(has(pat, "HTTP 410: gone")) << pat;
  EXPECT_TRUE(has(pat, "Remove them in Settings.")) << pat;
  EXPECT_TRUE(has(pat, R"("action_id":"deprovisioned")")) << pat;
  EXPECT_TRUE(has(pat, R"("action_id":"retry")")) << pat;
  EXPECT_TRUE(has(pat, "wont_deprovision:" + ref)) << pat;
  EXPECT_TRUE(has(pat, "Won't deprovision")) << pat;
}

TEST(ConnectorRender, ADeprovisioningDoneByTheWebhookTellsWhoRemovedIt) {
  ConnectorWorld w;
  Task t = w.answer(w.deprovisioning(), Action::connector_accepted, "202 Accepted");
  t = w.answer(t, Action::connector_done, "confirmed", "webhook");
  ASSERT_EQ(t.state, TaskState::deprovisioned);
  std::string pat = message_for(w, t, "pat", kDeprovisionStep);
  EXPECT_TRUE(has(pat, "Deprovisioned by webhook (Deploy bot) at ")) << pat;
  std::string notice = posted(
      slack::notification(w.engine, t, "bo", "deprovisioned", std::string(kSystemActor)));
  EXPECT_TRUE(has(notice, "webhook (Deploy bot) has removed the access.")) << notice;
}

TEST(ConnectorRender, TheAppHomeRowOfAFailedStepOffersRetry) {
  ConnectorWorld w;
  Task t = w.answer(w.provisioning(), Action::connector_failed, kHostile);
  slack::HomeTasks tasks;
  tasks.open.push_back(t);
  kit::HomeView home = slack::home_view(w.engine, tasks, "pat", "provisioning", 0);
  std::string body = kit::views_publish("UPAT", home);
  auto refused = sandbox::check_views_call(body, sandbox::Surface::home);
  EXPECT_FALSE(refused.has_value()) << refused->to_string();
  EXPECT_TRUE(has(body, R"("action_id":"retry")")) << body;
  EXPECT_TRUE(has(body, slack::task_ref(1, kProvisionStep))) << body;
  EXPECT_TRUE(has(body, "SCIM (Okta) could not add the access")) << body;
  EXPECT_FALSE(has(body, "<!channel>")) << body;
  // While the system is called, nobody has the step: nothing to offer anyone.
  Task retried = w.must(t, Action::retry, "pat");
  EXPECT_TRUE(retried.assignees().empty());
  slack::HomeTasks none;
  none.open.push_back(retried);
  std::string after = kit::views_publish("UPAT", slack::home_view(w.engine, none, "pat",
                                                                  "provisioning", 0));
  EXPECT_FALSE(has(after, R"("action_id":"retry")")) << after;
}

TEST(ConnectorRender, ButtonsNameOnlyPeoplesDecisions) {
  EXPECT_EQ(slack::button_action("retry"), Action::retry);
  EXPECT_EQ(slack::button_action("provisioned"), Action::provisioned);
  EXPECT_EQ(slack::button_action("wont_provision"), Action::wont_provision);
  EXPECT_FALSE(slack::button_action("connector_done").has_value());
  EXPECT_FALSE(slack::button_action("connector_failed").has_value());
  EXPECT_FALSE(slack::button_action("remind").has_value());
  EXPECT_FALSE(slack::button_action("comment").has_value());
  EXPECT_FALSE(slack::button_action("reassign").has_value());
  EXPECT_FALSE(slack::button_action("select").has_value());
}

TEST(ConnectorRender, MailsSayWhatTheSystemAnsweredAndWhoMadeTheChange) {
  ConnectorWorld w;
  Task failed = w.answer(w.provisioning(), Action::connector_failed, "HTTP 403: <forbidden>");
  Effect assign{EffectKind::email, 1, "pat",
                {{"about", "assign"}, {"step", std::to_string(kProvisionStep)}}};
  mail::MailMessage m = mail::task_mail(w.engine, failed, assign, "");
  EXPECT_TRUE(has(m.text, "SCIM (Okta) could not add the access")) << m.text;
  EXPECT_TRUE(has(m.text, "HTTP 403: <forbidden>")) << m.text;
  EXPECT_TRUE(has(m.html, "HTTP 403: &lt;forbidden&gt;")) << m.html;
  EXPECT_TRUE(has(m.text, "/tasks retry 1")) << m.text;

  Task done = w.answer(w.provisioning(), Action::connector_done, "201 Created");
  Effect outcome{EffectKind::email, 1, "ana",
                 {{"about", "notify"},
                  {"event", "provisioned"},
                  {"by", std::string(kSystemActor)},
                  {"via", "SCIM (Okta)"}}};
  mail::MailMessage told = mail::task_mail(w.engine, done, outcome, "");
  EXPECT_TRUE(has(told.text, "SCIM (Okta) has added the access.")) << told.text;
  EXPECT_FALSE(has(told.text, "tollgate has")) << told.text;
  // Without "via", the task itself says who.
  outcome.data.pop_back();
  EXPECT_TRUE(has(mail::task_mail(w.engine, done, outcome, "").text,
                  "SCIM (Okta) has added the access."));
}

}  // namespace
}  // namespace tollgate
