// Service levels (reminders, escalation, expiry), delegation and notification
// preferences in the engine: pure rules, driven by a manual clock.
#include "workflow/sla.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/support/test_org.h"
#include "workflow/engine.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

using testing::kTestOrg;
using testing::load_org;
using testing::recipients;
using testing::replaced;
using testing::test_start;

constexpr const char* kManagerOnlyStep =
    R"({"reviewers": {"type": "manager"}, "fallback": ["sam"]}]},
    {"id": "two-step")";

// The test organisation with `sla` (and more) on the one step of "manager-only".
std::string org_with_step(const std::string& extra) {
  return replaced(kTestOrg, kManagerOnlyStep,
                  R"({"reviewers": {"type": "manager"}, "fallback": ["sam"], )" + extra +
                      R"(}]},
    {"id": "two-step")");
}

struct SlaWorld {
  explicit SlaWorld(const std::string& org) : dir(load_org(org)), engine(dir, clock, book) {}
  ManualClock clock{test_start()};
  std::shared_ptr<DelegationBook> book = std::make_shared<DelegationBook>();
  std::shared_ptr<const Directory> dir;
  Engine engine;

  // ana asks for AWS staging: one step, her manager dana.
  Task open() {
    RequestInput in;
    in.requester = "ana";
    in.app = "aws";
    in.resource = "staging";
    in.justification = "deploy the fix";
    auto d = engine.open_request(in, 1);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : Task{};
  }
  StatusOr<Decision> system(const Task& t, Action a, PersonId to = {}) {
    Command c;
    c.action = a;
    c.actor = std::string(kSystemActor);
    c.to = std::move(to);
    c.step = t.current_step();
    return engine.act(t, c);
  }
  void at(Duration since_start) { clock.set(test_start() + since_start); }
  // Moves the clock to `since_start`, where `action` must be the one thing due on `t`.
  ::testing::AssertionResult only_due_at(Duration since_start, const Task& t, Action action) {
    at(since_start);
    auto due = sla_due(t, clock.now());
    if (due.size() != 1u) return ::testing::AssertionFailure() << due.size() << " actions due";
    if (due[0].action != action)
      return ::testing::AssertionFailure() << action_name(due[0].action) << " due";
    return ::testing::AssertionSuccess();
  }
};

const Event* find_event(const Decision& d, const std::string& type) {
  for (const Event& e : d.events) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

TEST(Sla, AReminderFallsDueAfterRemindAfterAndIsAppliedOnce) {
  SlaWorld w(org_with_step(R"("sla": {"remind_after": "24h"})"));
  Task t = w.open();
  w.at(hours(23));
  EXPECT_TRUE(sla_due(t, w.clock.now()).empty());
  w.at(hours(24));
  auto due = sla_due(t, w.clock.now());
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].action, Action::remind);
  EXPECT_EQ(due[0].person, "dana");
  EXPECT_EQ(due[0].due, test_start() + hours(24));

  auto d = w.system(t, Action::remind, "dana");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(recipients(*d, EffectKind::remind), std::vector<PersonId>{"dana"});
  const Event* e = find_event(*d, "reminded");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(*e->get("to"), "dana");
  EXPECT_EQ(*e->get("waiting"), "1d");
  EXPECT_EQ(e->actor, "tollgate");

  // Asked again (a second pass, another instance): not due any more.
  Task after = d->task;
  auto again = w.system(after, Action::remind, "dana");
  EXPECT_EQ(again.code(), Code::conflict) << again.status().to_string();
  EXPECT_TRUE(sla_due(after, w.clock.now()).empty());
  // The next one, a day after the first.
  w.at(hours(47));
  EXPECT_TRUE(sla_due(after, w.clock.now()).empty());
  w.at(hours(48));
  ASSERT_EQ(sla_due(after, w.clock.now()).size(), 1u);
}

TEST(Sla, NobodyButTollgateTakesItsActions) {
  SlaWorld w(org_with_step(R"("sla": {"remind_after": "1h"})"));
  Task t = w.open();
  w.at(hours(2));
  auto d = w.engine.act(t, Command{Action::remind, "dana", {}, "dana", 0});
  EXPECT_EQ(d.code(), Code::permission_denied);
  EXPECT_EQ(d.status().message(), "only Tollgate itself can remind a task");
  auto e = w.engine.act(t, Command{Action::expire, "sam", {}, {}, 0});
  EXPECT_EQ(e.code(), Code::permission_denied);
}

TEST(Sla, QuietHoursAreLocalEveningsNightsAndWeekends) {
  Time thu_10 = test_start();  // Thursday 10:00 UTC
  using std::chrono::seconds;
  EXPECT_FALSE(quiet_hours(thu_10, seconds(0), false));
  EXPECT_TRUE(quiet_hours(thu_10, hours(-8), false)) << "02:00 in Los Angeles";
  EXPECT_TRUE(quiet_hours(thu_10, hours(10) + minutes(30), false)) << "20:30 in Adelaide";
  EXPECT_FALSE(quiet_hours(thu_10, hours(9) + minutes(59), false)) << "19:59 in Tokyo-ish";
  EXPECT_TRUE(quiet_hours(thu_10 - hours(2) - minutes(1), seconds(0), false)) << "07:59";
  EXPECT_FALSE(quiet_hours(thu_10 - hours(2), seconds(0), false)) << "08:00";
  Time sat_10 = thu_10 + days(2);
  EXPECT_TRUE(quiet_hours(sat_10, seconds(0), false)) << "Saturday";
  EXPECT_FALSE(quiet_hours(sat_10, seconds(0), true)) << "Saturday, weekends allowed";
  EXPECT_TRUE(quiet_hours(sat_10 + hours(12), seconds(0), true)) << "Saturday 22:00";
  // Friday 23:00 UTC is already Saturday 08:00 in Tokyo (+9).
  Time fri_23 = thu_10 + days(1) + hours(13);
  EXPECT_TRUE(quiet_hours(fri_23, hours(9), false));
  EXPECT_TRUE(quiet_hours(fri_23, seconds(0), false)) << "23:00";
}

TEST(Sla, EscalationGoesToTheAssigneesManagerWithAnAutomaticReasonOnce) {
  SlaWorld w(org_with_step(
      R"("sla": {"remind_after": "24h", "escalate_after": "72h", "escalate_to": "manager"})"));
  Task t = w.open();
  ASSERT_TRUE(w.only_due_at(hours(72), t, Action::escalate))
      << "escalation takes precedence over the reminder due too";
  auto d = w.system(t, Action::escalate);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"boss"}) << "dana's manager";
  EXPECT_TRUE(d->task.steps[0].escalated);
  EXPECT_EQ(recipients(*d, EffectKind::assign), std::vector<PersonId>{"boss"});
  const Event* e = find_event(*d, "escalated");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(*e->get("from"), "dana");
  EXPECT_EQ(*e->get("to"), "boss");
  EXPECT_EQ(*e->get("reason"), "No decision after 3d: escalated to Bea Boss");
  ASSERT_FALSE(d->task.comments.empty());
  EXPECT_EQ(d->task.comments.back().text, "No decision after 3d: escalated to Bea Boss");
  EXPECT_EQ(d->task.comments.back().author, "tollgate");
  // Not escalated twice, and the new assignee's reminders count from now.
  EXPECT_EQ(w.system(d->task, Action::escalate).code(), Code::conflict);
  EXPECT_TRUE(sla_due(d->task, w.clock.now()).empty());
  w.at(hours(96));
  auto next = sla_due(d->task, w.clock.now());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].person, "boss");
  // Dana's old button now names the outcome.
  auto late = w.engine.act(d->task, Command{Action::approve, "dana", {}, {}, 0});
  EXPECT_EQ(late.code(), Code::permission_denied);
}

TEST(Sla, EscalationToNamedPeopleOrToTheFallback) {
  SlaWorld named(org_with_step(R"("sla": {"escalate_after": "2d", "escalate_to": ["security"]})"));
  Task t = named.open();
  named.at(days(2));
  auto d = named.system(t, Action::escalate);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), (std::vector<PersonId>{"sam", "lee"})) << "the group, expanded";

  SlaWorld fallback(org_with_step(R"("sla": {"escalate_after": "2d", "escalate_to": "fallback"})"));
  Task f = fallback.open();
  fallback.at(days(2));
  auto g = fallback.system(f, Action::escalate);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->task.assignees(), std::vector<PersonId>{"sam"});
}

TEST(Sla, ExpiryCancelsTheTaskAndTellsTheRequester) {
  SlaWorld w(org_with_step(R"("sla": {"remind_after": "1d", "expire_after": "14d"})"));
  Task t = w.open();
  ASSERT_TRUE(w.only_due_at(days(14), t, Action::expire))
      << "an expiring step is not also reminded";
  auto d = w.system(t, Action::expire);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.state, TaskState::cancelled);
  EXPECT_EQ(d->task.closed_by, "tollgate");
  EXPECT_NE(find_event(*d, "expired"), nullptr);
  ASSERT_EQ(recipients(*d, EffectKind::notify), std::vector<PersonId>{"ana"});
  for (const Effect& e : d->effects) {
    if (e.kind == EffectKind::notify) {
      EXPECT_EQ(*e.get("event"), "expired");
    }
  }
  auto late = w.engine.act(d->task, Command{Action::approve, "dana", {}, {}, 0});
  EXPECT_EQ(late.code(), Code::conflict);
  EXPECT_EQ(late.status().message(), "#1 expired at " + format_instant(w.clock.now()));
  EXPECT_TRUE(sla_due(d->task, w.clock.now()).empty());
}

TEST(Delegation, AnAbsentReviewersStepGoesToTheirDelegateMarkedAsDelegated) {
  SlaWorld w(kTestOrg);
  w.book->set({"dana", "olga", test_start() + days(7), "dana", test_start()});
  Task t = w.open();
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"olga"});
  EXPECT_EQ(t.steps[0].delegated_for.at("olga"), "dana");
  // Over: back to dana.
  w.at(days(7));
  RequestInput in{"ana", {}, "aws", "staging", "again"};
  auto d = w.engine.open_request(in, 2);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"dana"});
  EXPECT_TRUE(d->task.steps[0].delegated_for.empty());
}

TEST(Delegation, AStepThatForbidsDelegationAndADelegateWhoIsTheRequesterKeepTheReviewer) {
  SlaWorld strict(org_with_step(R"("allow_delegation": false)"));
  strict.book->set({"dana", "olga", test_start() + days(7), "dana", test_start()});
  EXPECT_EQ(strict.open().assignees(), std::vector<PersonId>{"dana"});

  SlaWorld self(kTestOrg);
  self.book->set({"dana", "ana", test_start() + days(7), "dana", test_start()});
  EXPECT_EQ(self.open().assignees(), std::vector<PersonId>{"dana"})
      << "ana cannot review her own request, even as a delegate";
}

TEST(Delegation, AReassignmentToSomeoneAwayGoesToTheirDelegate) {
  SlaWorld w(kTestOrg);
  Task t = w.open();
  w.book->set({"oscar", "nora", test_start() + days(3), "oscar", test_start()});
  auto d = w.engine.act(t, Command{Action::reassign, "sam", "dana is busy", "oscar", 0});
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"nora"});
  EXPECT_EQ(d->summary, "Reassigned #1 to Nora Blake (standing in for Oscar Ortiz)");
  EXPECT_EQ(recipients(*d, EffectKind::assign), std::vector<PersonId>{"nora"});
}

TEST(Notify, PeopleWhoAskForEmailGetAMailEffectAndEmailOnlyPeopleNoSlackMessage) {
  std::string org =
      replaced(kTestOrg, R"("slack_user_id": "UDANA", "manager": "boss"})",
               R"("slack_user_id": "UDANA", "manager": "boss", "notify": ["slack", "email"]})");
  org = replaced(org, R"("slack_user_id": "UANA", "manager": "dana", "started": "2026-11-20"})",
                 R"("slack_user_id": "UANA", "manager": "dana", "started": "2026-11-20", )"
                 R"("notify": ["email"]})");
  SlaWorld w(org);
  auto opened = w.engine.open_request({"ana", {}, "aws", "staging", "deploy"}, 1);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(recipients(*opened, EffectKind::assign), std::vector<PersonId>{"dana"});
  EXPECT_EQ(recipients(*opened, EffectKind::email), std::vector<PersonId>{"dana"});
  for (const Effect& e : opened->effects) {
    if (e.kind == EffectKind::email) {
      EXPECT_EQ(*e.get("about"), "assign");
    }
  }
  auto denied = w.engine.act(opened->task, Command{Action::deny, "dana", "not now", {}, 0});
  ASSERT_TRUE(denied.ok());
  EXPECT_TRUE(recipients(*denied, EffectKind::notify).empty()) << "ana wants email only";
  EXPECT_EQ(recipients(*denied, EffectKind::email), std::vector<PersonId>{"ana"});
}

TEST(SlaConfig, MistakesAreReportedWithTheirPath) {
  auto issues_of = [](const std::string& org) {
    std::vector<std::string> out;
    for (const ConfigIssue& i : load_config_text(org).issues) {
      if (i.severity == ConfigIssue::Severity::error) out.push_back(format_issue(i));
    }
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& needle) {
    return std::any_of(v.begin(), v.end(),
                       [&](const std::string& s) { return s.find(needle) != std::string::npos; });
  };
  auto bad = issues_of(org_with_step(
      R"("sla": {"remind_after": "soon", "escalate_after": "3d", "escalate_to": ["nobody"], )"
      R"("expire_after": "2d", "remind_every": "1h"})"));
  EXPECT_TRUE(has(bad, "policies[0].steps[0].sla.remind_after: \"soon\" is not a duration"));
  EXPECT_TRUE(has(bad, "policies[0].steps[0].sla.escalate_to[0]")) << ::testing::PrintToString(bad);
  EXPECT_TRUE(has(bad, "policies[0].steps[0].sla.escalate_after: must be shorter than"));
  EXPECT_TRUE(has(bad, "unknown key \"remind_every\""));
  auto notify = issues_of(replaced(kTestOrg, R"("slack_user_id": "UOLGA", "manager": "boss"})",
                                   R"("manager": "boss", "notify": ["pager"]})"));
  EXPECT_TRUE(has(notify, "unknown channel \"pager\" (slack, email)"))
      << ::testing::PrintToString(notify);
  auto no_mail = issues_of(replaced(kTestOrg, R"("slack_user_id": "UOLGA", "manager": "boss"})",
                                    R"("manager": "boss", "notify": ["email"]})"));
  EXPECT_TRUE(has(no_mail, "email notifications need the person's \"email\""));
  auto reserved = issues_of(replaced(kTestOrg, R"({"id": "nora", "name": "Nora Blake")",
                                     R"({"id": "tollgate", "name": "Nora Blake")"));
  EXPECT_TRUE(has(reserved, "\"tollgate\" is reserved"));
}

}  // namespace
}  // namespace tollgate
