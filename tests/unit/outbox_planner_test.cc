// The outbox planner (app/outbox_planner.h): for each kind of effect the
// engine puts in the outbox, the exact calls planned to deliver it, from a
// task decided by the real engine on a manual clock. No store, no Slack, no
// thread: the facts the delivery would read are handed in.
#include "app/outbox_planner.h"

#include <gtest/gtest.h>

#include "mail/templates.h"
#include "slack/block_kit.h"
#include "slack/blocks.h"
#include "tests/support/test_org.h"

namespace tollgate::outbox {
namespace {

using testing::github_admin_for;
using testing::World;

std::vector<Effect> effects_of(const Decision& d, EffectKind kind) {
  std::vector<Effect> out;
  for (const Effect& e : d.effects) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

// What the delivery would hand in for `task`: its recipient's Slack id (from
// the directory's slack_user_id), the messages given, no DM channel learnt.
PlanInput input(const Engine& engine, const Task& task, const PersonId& recipient,
                std::vector<SlackMessage> messages = {}) {
  PlanInput in{engine, task};
  in.messages = std::move(messages);
  if (const Person* p = engine.directory().person(recipient); p && !p->slack_user_id.empty())
    in.recipient_slack_id = p->slack_user_id;
  in.workspace_url = "https://acme.slack.com/";
  return in;
}

SlackMessage posted(TaskNumber task, const std::string& channel, const std::string& ts,
                    const PersonId& person, const std::string& purpose, int step,
                    const std::string& link = {}) {
  return {task, "T1", channel, ts, person, purpose, step, {}, link};
}

// The one effect of `kind` the decision puts in the outbox.
Effect only_effect(const Decision& d, EffectKind kind) {
  std::vector<Effect> all = effects_of(d, kind);
  EXPECT_EQ(all.size(), 1u) << effect_kind_name(kind);
  return all.empty() ? Effect{} : all[0];
}

// Ana's request for GitHub admin (#1), approved by Dana: now with Olga at step 2.
Decision approved_by_dana(World& w) {
  Task t = w.request(github_admin_for("ana"));
  auto d = w.act(t, Action::approve, "dana");
  EXPECT_TRUE(d.ok()) << d.status().to_string();
  return d.ok() ? *d : Decision{};
}

// The messages posted about #1 by then: Dana's and Olga's copies of the task
// message (D1, D3) and Ana's notification (D2).
std::vector<SlackMessage> posted_about_one() {
  return {
      posted(1, "D1", "1.1", "dana", "assign", 0),
      posted(1, "D2", "2.2", "ana", "notify", -1),
      posted(1, "D3", "3.3", "olga", "assign", 1),
  };
}

void expect_call(const Call& c, const std::string& key, const std::string& method,
                 const std::string& channel, const std::string& body, const PersonId& dm_of) {
  EXPECT_EQ(c.key, key);
  EXPECT_EQ(c.method, method);
  EXPECT_EQ(c.channel, channel);
  EXPECT_EQ(c.body, body);
  EXPECT_EQ(c.dm_of, dm_of);
  EXPECT_FALSE(c.mail.has_value());
}

void expect_record(const Call& c, TaskNumber task, const PersonId& person,
                   const std::string& purpose, int step) {
  ASSERT_TRUE(c.record.has_value());
  EXPECT_EQ(c.record->task, task);
  EXPECT_EQ(c.record->person, person);
  EXPECT_EQ(c.record->purpose, purpose);
  EXPECT_EQ(c.record->step, step);
  EXPECT_TRUE(c.record->channel.empty()) << "the channel comes from Slack's answer";
  EXPECT_TRUE(c.record->ts.empty()) << "the ts comes from Slack's answer";
}

TEST(OutboxPlanner, ANewTaskIsADmToItsReviewerWithTheTaskMessage) {
  World w;
  auto d = w.engine.open_request(github_admin_for("ana"), 42);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  std::vector<Effect> assign = effects_of(*d, EffectKind::assign);
  ASSERT_EQ(assign.size(), 1u);
  EXPECT_EQ(assign[0].recipient, "dana");

  Planned p = plan(assign[0], input(w.engine, d->task, "dana"));
  ASSERT_TRUE(p.failure.ok()) << p.failure.to_string();
  EXPECT_FALSE(p.learn_people);
  ASSERT_EQ(p.calls.size(), 1u);
  std::string body =
      slack::kit::post_message("UDANA", slack::task_message(w.engine, d->task, "dana", 0));
  expect_call(p.calls[0], "post", "chat.postMessage", "UDANA", body, "dana");
  expect_record(p.calls[0], 42, "dana", "assign", 0);
  EXPECT_NE(body.find("Access request #42"), std::string::npos) << body;
}

TEST(OutboxPlanner, AGroupStepIsOneDmPerReviewerAndWaitsForAnUnknownAccount) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  t = w.must(t, Action::approve, "dana");
  auto d = w.act(t, Action::approve, "olga");  // on to the security group: sam and lee
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  std::vector<Effect> assign = effects_of(*d, EffectKind::assign);
  ASSERT_EQ(assign.size(), 2u);
  EXPECT_EQ(assign[0].recipient, "sam");
  EXPECT_EQ(assign[1].recipient, "lee");

  // Sam's DM channel was learnt from an earlier post: the post goes there.
  PlanInput sam = input(w.engine, d->task, "sam");
  sam.recipient_dm = "D0SAM";
  Planned p = plan(assign[0], sam);
  ASSERT_EQ(p.calls.size(), 1u);
  expect_call(p.calls[0], "post", "chat.postMessage", "D0SAM",
              slack::kit::post_message("D0SAM", slack::task_message(w.engine, d->task, "sam", 2)),
              "sam");
  expect_record(p.calls[0], d->task.number, "sam", "assign", 2);

  // Lee has no Slack account known yet: nothing to send, ask Slack, try again.
  Planned lee = plan(assign[1], input(w.engine, d->task, "lee"));
  EXPECT_TRUE(lee.calls.empty());
  EXPECT_TRUE(lee.learn_people);
  EXPECT_EQ(lee.failure.code(), Code::unavailable);
  EXPECT_EQ(lee.failure.message(), "no Slack account known for Lee Wong yet");
}

TEST(OutboxPlanner, AnAssignmentOfAStepDecidedSincePlansNothing) {
  World w;
  auto d = w.engine.open_request(github_admin_for("ana"), 1);
  ASSERT_TRUE(d.ok());
  Effect assign = effects_of(*d, EffectKind::assign).at(0);
  Task now = w.must(d->task, Action::approve, "dana");
  Planned p = plan(assign, input(w.engine, now, "dana"));
  EXPECT_TRUE(p.failure.ok());
  EXPECT_TRUE(p.calls.empty());
  EXPECT_FALSE(p.learn_people);
}

TEST(OutboxPlanner, ADecisionUpdatesEveryPostedCopyAsItsReaderSeesIt) {
  World w;
  Decision d = approved_by_dana(w);
  Effect update = only_effect(d, EffectKind::update_messages);
  // Ana's notification (D2) is not a copy of the task message: not updated.
  Planned p = plan(update, input(w.engine, d.task, "", posted_about_one()));
  ASSERT_TRUE(p.failure.ok());
  ASSERT_EQ(p.calls.size(), 2u);
  expect_call(
      p.calls[0], "update:D1:1.1", "chat.update", "D1",
      slack::kit::update_message("D1", "1.1", slack::task_message(w.engine, d.task, "dana", 0)),
      "");
  expect_call(
      p.calls[1], "update:D3:3.3", "chat.update", "D3",
      slack::kit::update_message("D3", "3.3", slack::task_message(w.engine, d.task, "olga", 1)),
      "");
  EXPECT_FALSE(p.calls[0].record.has_value());
  EXPECT_FALSE(p.calls[1].record.has_value());
}

TEST(OutboxPlanner, AnOutcomeIsADmToTheRequester) {
  World w;
  Decision d = approved_by_dana(w);
  Effect notify = only_effect(d, EffectKind::notify);
  EXPECT_EQ(notify.recipient, "ana");
  Planned p = plan(notify, input(w.engine, d.task, "ana"));
  ASSERT_EQ(p.calls.size(), 1u);
  expect_call(p.calls[0], "post", "chat.postMessage", "UANA",
              slack::kit::post_message(
                  "UANA", slack::notification(w.engine, d.task, "ana", "approved", "dana")),
              "ana");
  expect_record(p.calls[0], 1, "ana", "notify", -1);
}

TEST(OutboxPlanner, ACommentIsMirroredIntoEveryThreadButTheOneItWasWrittenIn) {
  World w;
  // Olga answers in the thread of her copy (D3).
  Command c{Action::comment, "olga", "checking with Bo first", {}, {}, "slack", "D3", "3.4"};
  auto d = w.engine.act(approved_by_dana(w).task, c);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  Effect post = only_effect(*d, EffectKind::post_comment);
  std::vector<SlackMessage> messages = posted_about_one();
  Planned p = plan(post, input(w.engine, d->task, "", messages));
  ASSERT_TRUE(p.failure.ok());
  ASSERT_EQ(p.calls.size(), 1u);
  const Comment& comment = d->task.comments.back();
  expect_call(p.calls[0], "reply:D1:1.1", "chat.postMessage", "D1",
              slack::kit::post_message(
                  "D1", slack::comment_reply(w.engine.directory(), d->task, comment), "1.1"),
              "");
  EXPECT_NE(p.calls[0].body.find("\"thread_ts\":\"1.1\""), std::string::npos) << p.calls[0].body;

  // Deleted before it went out: nothing.
  Task deleted = d->task;
  deleted.comments.back().deleted = true;
  EXPECT_TRUE(plan(post, input(w.engine, deleted, "", messages)).calls.empty());
}

TEST(OutboxPlanner, AReminderRepliesUnderTheRemindedMessageOrStandsAlone) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  Effect remind{EffectKind::remind, t.number, "dana", {{"step", "0"}, {"waiting", "1d 2h"}}};
  std::vector<SlackMessage> messages = {
      posted(t.number, "D1", "1.0", "dana", "assign", 0),
      posted(t.number, "D1", "1.1", "dana", "assign", 0),  // the latest copy
      posted(t.number, "D9", "9.9", "olga", "assign", 0),
  };
  Planned threaded = plan(remind, input(w.engine, t, "dana", messages));
  ASSERT_EQ(threaded.calls.size(), 1u);
  expect_call(threaded.calls[0], "post", "chat.postMessage", "D1",
              slack::kit::post_message(
                  "D1", slack::reminder(w.engine, t, "dana", "UDANA", "1d 2h", false), "1.1"),
              "");
  EXPECT_FALSE(threaded.calls[0].record.has_value());

  Planned alone = plan(remind, input(w.engine, t, "dana"));
  ASSERT_EQ(alone.calls.size(), 1u);
  expect_call(alone.calls[0], "post", "chat.postMessage", "UDANA",
              slack::kit::post_message(
                  "UDANA", slack::reminder(w.engine, t, "dana", "UDANA", "1d 2h", true)),
              "dana");

  // Decided since: nothing to remind of.
  Task decided = w.must(t, Action::approve, "dana");
  EXPECT_TRUE(plan(remind, input(w.engine, decided, "dana", messages)).calls.empty());
}

TEST(OutboxPlanner, AnEmailAssigneeIsMailedNotMessaged) {
  ManualClock clock{testing::test_start()};
  // Dana is told by email only.
  auto dir =
      testing::load_org(testing::replaced(testing::kTestOrg, R"("UDANA", "manager": "boss"})",
                                          R"("UDANA", "manager": "boss", "notify": ["email"]})"));
  Engine engine{dir, clock};
  auto d = engine.open_request(github_admin_for("ana"), 7);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(effects_of(*d, EffectKind::assign).empty()) << "email only: no Slack message";
  std::vector<Effect> email = effects_of(*d, EffectKind::email);
  ASSERT_EQ(email.size(), 1u);
  EXPECT_EQ(email[0].recipient, "dana");

  PlanInput in = input(engine, d->task, "dana");
  in.mail_enabled = true;
  Planned p = plan(email[0], in);
  ASSERT_TRUE(p.failure.ok()) << p.failure.to_string();
  ASSERT_EQ(p.calls.size(), 1u);
  const Call& c = p.calls[0];
  EXPECT_EQ(c.key, "mail");
  EXPECT_EQ(c.method, kSmtp);
  EXPECT_TRUE(c.channel.empty());
  EXPECT_TRUE(c.body.empty());
  EXPECT_FALSE(c.record.has_value());
  ASSERT_TRUE(c.mail.has_value());
  mail::MailMessage want = mail::task_mail(engine, d->task, email[0], "https://acme.slack.com/");
  EXPECT_EQ(c.mail->to, "dana@t.test");
  EXPECT_EQ(c.mail->to, want.to);
  EXPECT_EQ(c.mail->subject, want.subject);
  EXPECT_EQ(c.mail->text, want.text);
  EXPECT_EQ(c.mail->html, want.html);

  // A message of theirs about the task: the mail links to it.
  in.messages = {
      posted(7, "D1", "1.1", "dana", "assign", 0, "https://acme.slack.com/archives/D1/p11")};
  Planned linked = plan(email[0], in);
  ASSERT_EQ(linked.calls.size(), 1u);
  EXPECT_EQ(
      linked.calls[0].mail->text,
      mail::task_mail(engine, d->task, email[0], "https://acme.slack.com/archives/D1/p11").text);

  // No SMTP server: refused for good, with the reason.
  in.mail_enabled = false;
  Planned off = plan(email[0], in);
  EXPECT_TRUE(off.calls.empty());
  EXPECT_EQ(off.failure.code(), Code::invalid_argument);
  EXPECT_EQ(off.failure.message(), "email is not configured (TOLLGATE_SMTP_URL)");
}

TEST(OutboxPlanner, AMailToSomeoneWithoutAnAddressIsRefused) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  Effect mail{EffectKind::email, t.number, "olga", {{"about", "assign"}}};
  PlanInput in = input(w.engine, t, "olga");
  in.mail_enabled = true;
  Planned p = plan(mail, in);
  EXPECT_TRUE(p.calls.empty());
  EXPECT_EQ(p.failure.code(), Code::invalid_argument);
  EXPECT_EQ(p.failure.message(), "no email address for olga");
}

// Ana's AWS staging, granted by `task` and ending a day after the test starts.
Holding staging_held_by_ana(TaskNumber task) {
  Holding h{"ana", "aws", "staging", testing::test_start(), {}, task, GrantSource::request,
            {}, {}, 0};
  h.expires_at = testing::test_start() + std::chrono::hours(24);
  return h;
}

// The granting task is closed by the time its access ends: the notice goes all the same.
Task closed_grant(World& w) {
  RequestInput in{"ana", "", "aws", "staging", "load tests", std::nullopt, false, {}};
  Task t = w.must(w.request(in), Action::approve, "dana");
  EXPECT_TRUE(t.closed()) << state_name(t.state);
  return t;
}

TEST(OutboxPlanner, AnAccessEndingSoonIsADmWithExtendAndImDone) {
  World w;
  Task granted = closed_grant(w);
  AccessWrite warn = w.engine.warn_access(staging_held_by_ana(granted.number));
  ASSERT_EQ(warn.effects.size(), 1u);
  const Effect& e = warn.effects[0];
  ASSERT_EQ(e.kind, EffectKind::access_notice);

  Planned p = plan(e, input(w.engine, granted, "ana"));
  ASSERT_TRUE(p.failure.ok()) << p.failure.to_string();
  ASSERT_EQ(p.calls.size(), 1u);
  slack::AccessNotice n{"ending_soon", "aws", "staging",
                        testing::test_start() + std::chrono::hours(24), 0, {}, std::nullopt};
  std::string body = slack::kit::post_message("UANA", slack::access_notice(w.engine, n));
  expect_call(p.calls[0], "post", "chat.postMessage", "UANA", body, "ana");
  expect_record(p.calls[0], granted.number, "ana", "access", -1);
  EXPECT_NE(body.find("ends 2026-"), std::string::npos) << body;
  EXPECT_NE(body.find("\"action_id\":\"access_extend\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"action_id\":\"access_done\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"value\":\"aws:staging\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"confirm\":{"), std::string::npos) << "I'm done asks first: " << body;
}

TEST(OutboxPlanner, AnExpiredAccessIsADmWithoutButtons) {
  World w;
  Task granted = closed_grant(w);
  auto end = w.engine.end_access({staging_held_by_ana(granted.number), "expired", PersonId(kSystemActor)});
  ASSERT_TRUE(end.ok()) << end.status().to_string();
  ASSERT_EQ(end->effects.size(), 1u);
  EXPECT_EQ(*end->effects[0].get("event"), "expired");

  Planned p = plan(end->effects[0], input(w.engine, granted, "ana"));
  ASSERT_TRUE(p.failure.ok()) << p.failure.to_string();
  ASSERT_EQ(p.calls.size(), 1u);
  const std::string& body = p.calls[0].body;
  EXPECT_NE(body.find("Your access to *AWS / Staging* has ended (it expired at 2026-"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("\"actions\""), std::string::npos) << body;
  EXPECT_EQ(body.find("access_extend"), std::string::npos) << body;
}

TEST(OutboxPlanner, AShorterApprovalTellsTheRequesterForHowLongAndWhoChoseIt) {
  World w;
  Command for_4h{Action::approve, "dana", {}, {}, {}};
  for_4h.duration = std::chrono::hours(4);
  auto d = w.engine.act(w.request(github_admin_for("ana")), for_4h);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  Effect notify = only_effect(*d, EffectKind::notify);
  Planned p = plan(notify, input(w.engine, d->task, "ana"));
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_NE(p.calls[0].body.find("Approved for 4h (Dana Reyes chose a shorter time than requested)"),
            std::string::npos)
      << p.calls[0].body;
}

// The test organisation with GitHub provisioned by SCIM (named Okta).
struct ScimWorld {
  ManualClock clock{testing::test_start()};
  std::shared_ptr<const Directory> dir = testing::load_org(org());
  static std::string org() {
    using testing::replaced;
    std::string text = replaced(
        testing::kTestOrg, R"("provisioning": {"mode": "manual", "provisioners": ["pat"], )",
        R"("provisioning": {"mode": "scim", "provisioners": ["pat"], )"
        R"("url": "https://okta.example/scim/v2", "token_env": "OKTA_TOKEN", "name": "Okta", )");
    // SCIM adds people to the resource's group.
    text = replaced(text, R"("max_duration": "7d"})",
                    R"("max_duration": "7d", "scim_group": "GitHub admins"})");
    return replaced(text, R"("request_policy": "two-step", "revocation_policy": "owner-confirms"})",
                    R"("request_policy": "two-step", "revocation_policy": "owner-confirms", )"
                    R"("scim_group": "GitHub members"})");
  }
  Engine engine{dir, clock};

  Decision must(const Task& t, Command cmd) {
    auto d = engine.act(t, cmd);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? *d : Decision{t};
  }
  Decision must(const Task& t, Action a, const PersonId& actor, std::string comment = {}) {
    return must(t, Command{a, actor, std::move(comment), {}, {}});
  }
  // #1, Ana's GitHub admin, approved by its last reviewer: SCIM (Okta) is to be called (step 3).
  Decision approved_through() {
    auto d = engine.open_request(github_admin_for("ana"), 1);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    Task t = d.ok() ? d->task : Task{};
    t = must(t, Action::approve, "dana").task;
    t = must(t, Action::approve, "olga").task;
    return must(t, Action::approve, "lee");
  }
};

TEST(OutboxPlanner, AConnectorEffectIsOneCallForTheAttemptUnderWay) {
  ScimWorld w;
  Decision d = w.approved_through();
  Effect call = only_effect(d, EffectKind::connector);
  ASSERT_NE(call.get("step"), nullptr);
  EXPECT_EQ(*call.get("step"), "3");
  EXPECT_EQ(*call.get("attempt"), "1");
  Planned p = plan(call, input(w.engine, d.task, ""));
  ASSERT_TRUE(p.failure.ok()) << p.failure.to_string();
  ASSERT_EQ(p.calls.size(), 1u);
  const Call& c = p.calls[0];
  EXPECT_EQ(c.method, kConnector);
  EXPECT_EQ(c.key, "connector:1");
  EXPECT_EQ(c.channel, "connector:github");
  ASSERT_TRUE(c.connector.has_value());
  EXPECT_EQ(c.connector->mode, ProvisioningMode::scim);
  EXPECT_EQ(c.connector->step, 3);
  EXPECT_EQ(c.connector->attempt, 1);
  EXPECT_EQ(c.connector->refused, "");
  EXPECT_EQ(c.connector->settings.url, "https://okta.example/scim/v2");
  EXPECT_EQ(c.connector->job.idempotency_id, "tollgate-1-3-1");
  EXPECT_EQ(c.connector->job.op, connect::Op::grant);
  EXPECT_EQ(c.connector->job.email, "ana@t.test");
  EXPECT_EQ(c.connector->job.scim_group, "GitHub admins");

  // It fails; Pat retries: attempt 2 is under way. The first attempt's effect
  // (delivered late, or again) calls nothing; the retry's calls attempt 2.
  Command failed{Action::connector_failed, std::string(kSystemActor), "HTTP 503", {}, {}};
  failed.attempt = 1;
  Task gave_up = w.must(d.task, failed).task;
  EXPECT_TRUE(plan(call, input(w.engine, gave_up, "")).calls.empty()) << "failed: people's now";
  Decision retried = w.must(gave_up, Action::retry, "pat");
  EXPECT_TRUE(plan(call, input(w.engine, retried.task, "")).calls.empty())
      << "attempt 1 is not the one under way";
  Planned again = plan(only_effect(retried, EffectKind::connector),
                       input(w.engine, retried.task, ""));
  ASSERT_EQ(again.calls.size(), 1u);
  EXPECT_EQ(again.calls[0].key, "connector:2");
  ASSERT_TRUE(again.calls[0].connector.has_value());
  EXPECT_EQ(again.calls[0].connector->job.idempotency_id, "tollgate-1-3-2");

  // Done: nothing more to call, and Ana is told who added it.
  Command done{Action::connector_done, std::string(kSystemActor), "HTTP 204", {}, {}};
  Decision closed = w.must(retried.task, done);
  EXPECT_TRUE(plan(only_effect(retried, EffectKind::connector), input(w.engine, closed.task, ""))
                  .calls.empty());
  Effect notify = only_effect(closed, EffectKind::notify);
  Planned told = plan(notify, input(w.engine, closed.task, "ana"));
  ASSERT_EQ(told.calls.size(), 1u);
  EXPECT_NE(told.calls[0].body.find("SCIM (Okta) has added the access."), std::string::npos)
      << told.calls[0].body;
}

TEST(OutboxPlanner, OnlyTheKindsThatUsePostedMessagesAskForThem) {
  EXPECT_FALSE(needs_messages(EffectKind::assign));
  EXPECT_FALSE(needs_messages(EffectKind::notify));
  EXPECT_FALSE(needs_messages(EffectKind::access_notice));
  EXPECT_TRUE(needs_messages(EffectKind::update_messages));
  EXPECT_TRUE(needs_messages(EffectKind::post_comment));
  EXPECT_TRUE(needs_messages(EffectKind::remind));
  EXPECT_TRUE(needs_messages(EffectKind::email));
}

TEST(OutboxPlanner, CallsRecordedAsDoneAreLeftOut) {
  std::vector<Call> calls(3);
  calls[0].key = "reply:D1:1.1";
  calls[1].key = "reply:D2:2.2";
  calls[2].key = "reply:D3:3.3";
  drop_done(calls, {"reply:D2:2.2", "update:D1:1.1"});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].key, "reply:D1:1.1");
  EXPECT_EQ(calls[1].key, "reply:D3:3.3");
}

TEST(OutboxPlanner, PermalinksHaveSlacksForm) {
  EXPECT_EQ(permalink("https://acme.slack.com/", "D0123", "1700000000.123456"),
            "https://acme.slack.com/archives/D0123/p1700000000123456");
  EXPECT_EQ(permalink("https://acme.slack.com", "C1", "1.2"),
            "https://acme.slack.com/archives/C1/p12");
  EXPECT_EQ(permalink("", "C1", "1.2"), "");
  EXPECT_EQ(permalink("https://acme.slack.com/", "C1", ""), "");
}

}  // namespace
}  // namespace tollgate::outbox
