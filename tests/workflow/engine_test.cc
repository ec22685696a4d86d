// The engine's rules, one behaviour per test (docs/architecture.md, "The rules the engine applies").
#include "workflow/engine.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/support/test_org.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

using testing::github_admin_for;
using testing::recipients;
using testing::World;

// The texts of `t`'s insights, in order.
std::vector<std::string> insight_texts(const Task& t) {
  std::vector<std::string> out;
  for (const Insight& i : t.insights) out.push_back(i.text);
  return out;
}

bool has_event(const Decision& d, const std::string& type) {
  return std::any_of(d.events.begin(), d.events.end(),
                     [&](const Event& e) { return e.type == type; });
}

TEST(Engine, RequestOpensFirstStepWithTheSubjectsManager) {
  World w;
  auto d = w.engine.open_request(github_admin_for("ana"), 42);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  const Task& t = d->task;
  EXPECT_EQ(t.number, 42);
  EXPECT_EQ(t.kind, TaskKind::grant);
  EXPECT_EQ(t.state, TaskState::reviewing);
  EXPECT_EQ(t.policy_name, "Manager, owner, security");
  ASSERT_EQ(t.steps.size(), 4u);  // three reviews and the manual provisioning
  EXPECT_EQ(t.steps[3].kind, StepKind::provision);
  EXPECT_EQ(t.current_step(), 0);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"dana"});
  EXPECT_EQ(recipients(*d, EffectKind::assign), std::vector<PersonId>{"dana"});
  EXPECT_TRUE(has_event(*d, "task_opened"));
  EXPECT_TRUE(has_event(*d, "step_opened"));
  EXPECT_EQ(t.duration, std::chrono::duration_cast<Duration>(std::chrono::days(7)))
      << "no duration asked: the resource's maximum applies";
  EXPECT_EQ(d->summary, "Requested GitHub / Org admin as #42: with Dana Reyes (step 1 of 4)");
}

TEST(Engine, ThreeStepRequestApprovedIntoProvisioningThenProvisioned) {
  World w;
  Task t = w.request(github_admin_for("ana"));

  auto d1 = w.act(t, Action::approve, "dana");
  ASSERT_TRUE(d1.ok()) << d1.status().to_string();
  t = d1->task;
  EXPECT_EQ(t.current_step(), 1);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"olga"});
  EXPECT_EQ(recipients(*d1, EffectKind::assign), std::vector<PersonId>{"olga"});
  EXPECT_EQ(recipients(*d1, EffectKind::update_messages).size(), 1u);
  EXPECT_EQ(recipients(*d1, EffectKind::notify), std::vector<PersonId>{"ana"});
  EXPECT_EQ(d1->summary, "Approved #1: now with Olga Ivanova (step 2 of 4)");

  t = w.must(t, Action::approve, "olga");
  EXPECT_EQ(t.current_step(), 2);
  EXPECT_EQ(t.assignees(), (std::vector<PersonId>{"sam", "lee"}));

  auto d3 = w.act(t, Action::approve, "lee");
  ASSERT_TRUE(d3.ok());
  t = d3->task;
  EXPECT_EQ(t.state, TaskState::provisioning);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"pat"});
  EXPECT_EQ(t.instructions, "Add them in Settings → People.");
  EXPECT_EQ(recipients(*d3, EffectKind::assign), std::vector<PersonId>{"pat"});

  auto d4 = w.act(t, Action::provisioned, "pat");
  ASSERT_TRUE(d4.ok());
  t = d4->task;
  EXPECT_EQ(t.state, TaskState::provisioned);
  EXPECT_TRUE(t.closed());
  EXPECT_EQ(t.closed_by, "pat");
  EXPECT_TRUE(has_event(*d4, "provisioned"));
  EXPECT_TRUE(has_event(*d4, "task_closed"));
  EXPECT_EQ(recipients(*d4, EffectKind::notify), std::vector<PersonId>{"ana"});
  for (const TaskStep& s : t.steps) EXPECT_EQ(s.state, StepState::done);
  EXPECT_EQ(t.version, 5);
}

TEST(Engine, DenyAtStepTwoClosesTheTaskAndStepThreeNeverOpens) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  t = w.must(t, Action::approve, "dana");
  auto d = w.act(t, Action::deny, "olga", "not for contractors");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  t = d->task;
  EXPECT_EQ(t.state, TaskState::denied);
  EXPECT_EQ(t.steps[1].state, StepState::done);
  EXPECT_EQ(t.steps[1].outcome, Action::deny);
  EXPECT_EQ(t.steps[1].comment, "not for contractors");
  EXPECT_EQ(t.steps[2].state, StepState::skipped);
  EXPECT_TRUE(t.steps[2].assignees.empty()) << "step 3 was never opened";
  EXPECT_EQ(t.steps[3].state, StepState::skipped);
  EXPECT_TRUE(recipients(*d, EffectKind::assign).empty());
  EXPECT_EQ(recipients(*d, EffectKind::notify), std::vector<PersonId>{"ana"});
  // The reason becomes a comment, posted to the task's threads.
  ASSERT_EQ(d->new_comments.size(), 1u);
  EXPECT_EQ(d->new_comments[0].text, "not for contractors");
  EXPECT_EQ(recipients(*d, EffectKind::post_comment).size(), 1u);
}

TEST(Engine, DenyRequiresAReasonWhereTheStepSaysSo) {
  World w;
  Task t = w.must(w.request(github_admin_for("ana")), Action::approve, "dana");
  auto d = w.act(t, Action::deny, "olga");
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_EQ(d.status().message(), "a reason is required to deny at this step");
  // Step 1 has no such rule.
  Task t2 = w.request(github_admin_for("cy"));
  EXPECT_TRUE(w.act(t2, Action::deny, "dana").ok());
}

TEST(Engine, AutomaticAppIsGrantedOnLastApproval) {
  World w;
  RequestInput in{"ana", "", "aws", "staging", "deploy a branch", std::nullopt, false};
  Task t = w.request(in);
  ASSERT_EQ(t.steps.size(), 1u);
  auto d = w.act(t, Action::approve, "dana");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->task.state, TaskState::granted);
  EXPECT_EQ(d->summary, "Approved #1: access granted");
  EXPECT_TRUE(recipients(*d, EffectKind::assign).empty());
}

TEST(Engine, RevocationConfirmedThenDeprovisioned) {
  World w;
  Task t = w.revoke({"olga", "bo", "github", "admin", "left the platform team"});
  EXPECT_EQ(t.kind, TaskKind::revoke);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"sam"})
      << "owner-confirms goes to the resource owner; olga proposed it, so the fallback takes it";
  t = w.must(t, Action::confirm, "sam");
  EXPECT_EQ(t.state, TaskState::deprovisioning);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"pat"});
  t = w.must(t, Action::deprovisioned, "pat");
  EXPECT_EQ(t.state, TaskState::deprovisioned);
}

TEST(Engine, RevocationDeniedClosesAndKeepsAccess) {
  World w;
  Task t = w.revoke({"dana", "bo", "github", "admin", "audit finding"});
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"olga"});
  auto d = w.act(t, Action::deny, "olga", "still on call this quarter");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->task.state, TaskState::denied);
  EXPECT_EQ(d->summary, "Denied #1: the access is kept");
  EXPECT_EQ(d->task.steps[1].state, StepState::skipped) << "deprovisioning never opens";
  // The proposer and the subject are told.
  EXPECT_EQ(recipients(*d, EffectKind::notify), (std::vector<PersonId>{"dana", "bo"}));
}

TEST(Engine, ApproveDoesNotApplyToARevocation) {
  World w;
  Task t = w.revoke({"dana", "bo", "github", "admin", "audit finding"});
  auto d = w.act(t, Action::approve, "olga");
  EXPECT_EQ(d.code(), Code::conflict);
  EXPECT_NE(d.status().message().find("does not take \"approve\""), std::string::npos);
}

TEST(Engine, WontProvisionNeedsAReason) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  t = w.must(t, Action::approve, "dana");
  t = w.must(t, Action::approve, "olga");
  t = w.must(t, Action::approve, "sam");
  EXPECT_EQ(w.act(t, Action::wont_provision, "pat").code(), Code::rule_refused);
  t = w.must(t, Action::wont_provision, "pat", "licence limit reached");
  EXPECT_EQ(t.state, TaskState::not_provisioned);
  EXPECT_EQ(t.steps[3].comment, "licence limit reached");
}

TEST(Engine, OnlyAnAssigneeOfTheOpenStepMayDecide) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  auto d = w.act(t, Action::approve, "olga");
  EXPECT_EQ(d.code(), Code::permission_denied);
  EXPECT_EQ(d.status().message(), "step 1 of #1 is assigned to Dana Reyes, not to you");
  EXPECT_EQ(w.act(t, Action::approve, "nobody").code(), Code::permission_denied);
}

TEST(Engine, RequesterNeverReviewsOwnRequestAndTheFallbackTakesIt) {
  World w;
  // Dana asks for access for Ana, whose manager is Dana: the manager step
  // would be Dana's own request, so the fallback (Sam) takes it.
  RequestInput in = github_admin_for("dana");
  in.subject = "ana";
  Task t = w.request(in);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"sam"});
  EXPECT_TRUE(t.steps[0].by_fallback);
  EXPECT_EQ(w.act(t, Action::approve, "dana").code(), Code::permission_denied);
  // Even reassigned to her, the rule holds.
  Task t2 = w.must(t, Action::approve, "sam");
  auto r = w.act(t2, Action::reassign, "olga", "on leave", "dana");
  EXPECT_EQ(r.code(), Code::rule_refused);
}

TEST(Engine, SelfReviewAllowedWhereTheStepSaysSo) {
  std::string org = testing::replaced(
      testing::kTestOrg, R"("steps": [{"reviewers": {"type": "manager"}, "fallback": ["sam"]}]})",
      R"("steps": [{"reviewers": {"type": "manager"}, "allow_self_review": true}]})");
  ManualClock clock(testing::test_start());
  Engine engine(testing::load_org(org), clock);
  // Dana (Ana's manager) asks staging access for Ana and approves it herself.
  auto d = engine.open_request({"dana", "ana", "aws", "staging", "demo", std::nullopt, false}, 1);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"dana"});
  EXPECT_TRUE(engine.act(d->task, Command{Action::approve, "dana", {}, {}, {}}).ok());
}

TEST(Engine, OnlyTheChainOfManagersOrAnAdminRequestsForSomeoneElse) {
  World w;
  RequestInput in = github_admin_for("bo");
  in.subject = "ana";
  auto d = w.engine.open_request(in, 1);
  EXPECT_EQ(d.code(), Code::permission_denied);
  in.requester = "boss";  // Ana's manager's manager
  EXPECT_TRUE(w.engine.open_request(in, 1).ok());
  in.requester = "sam";  // an admin
  EXPECT_TRUE(w.engine.open_request(in, 1).ok());
}

TEST(Engine, ReassignNeedsAReasonAndAnAllowedReceiver) {
  World w;
  RequestInput in{"ana", "", "github", "member", "read the monorepo", std::nullopt, false};
  Task t = w.must(w.request(in), Action::approve, "dana");
  ASSERT_EQ(t.assignees(), (std::vector<PersonId>{"olga", "oscar"}));

  EXPECT_EQ(w.act(t, Action::reassign, "olga", "", "nora").code(), Code::rule_refused);
  auto refused = w.act(t, Action::reassign, "olga", "on leave", "pat");
  EXPECT_EQ(refused.code(), Code::rule_refused);
  EXPECT_EQ(refused.status().message(),
            "this step may only be reassigned to Olga Ivanova, Oscar Ortiz and Nora Blake");
  EXPECT_EQ(w.act(t, Action::reassign, "olga", "on leave", "zed").code(), Code::not_found);

  auto d = w.act(t, Action::reassign, "olga", "on leave until Monday", "nora");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"nora"});
  EXPECT_EQ(recipients(*d, EffectKind::assign), std::vector<PersonId>{"nora"});
  EXPECT_EQ(recipients(*d, EffectKind::update_messages).size(), 1u);
  ASSERT_EQ(d->new_comments.size(), 1u);
  EXPECT_EQ(d->new_comments[0].text, "Reassigned to Nora Blake: on leave until Monday");
  const Event& e = d->events.back();
  EXPECT_EQ(e.type, "reassigned");
  EXPECT_EQ(*e.get("from"), "olga,oscar");
  // The old assignees can no longer decide; Nora can.
  EXPECT_EQ(w.act(d->task, Action::approve, "olga").code(), Code::permission_denied);
  EXPECT_TRUE(w.act(d->task, Action::approve, "nora").ok());
}

TEST(Engine, ReassignRefusedWhereTheStepForbidsItButAdminsMay) {
  World w;
  Task t = w.request(github_admin_for("ana"));  // step 1 does not allow reassignment
  auto d = w.act(t, Action::reassign, "dana", "travelling", "boss");
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_EQ(d.status().message(), "step 1 (Manager) of #1 does not allow reassignment");
  auto admin = w.act(t, Action::reassign, "sam", "Dana is travelling", "boss");
  ASSERT_TRUE(admin.ok()) << admin.status().to_string();
  EXPECT_EQ(admin->task.assignees(), std::vector<PersonId>{"boss"});
}

TEST(Engine, LateClickOnADecidedStepNamesWhoDecidedAndWhen) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  t = w.must(t, Action::approve, "dana");
  t = w.must(t, Action::approve, "olga");  // step 3: sam and lee
  w.clock.advance(std::chrono::minutes(42));
  Task after = w.must(t, Action::approve, "lee");
  // Sam clicks his copy of step 3 afterwards.
  auto late = w.act(after, Action::approve, "sam");
  EXPECT_EQ(late.code(), Code::conflict);
  EXPECT_EQ(late.status().message(), "#1 was already approved by Lee Wong at 2026-11-26 10:42 UTC");
  // The same with the step from the button.
  auto by_step = w.engine.act(after, Command{Action::deny, "sam", "no", {}, 2});
  EXPECT_EQ(by_step.code(), Code::conflict);
  EXPECT_EQ(by_step.status().message(), late.status().message());
  // Nothing changes: the engine returned no decision.
}

TEST(Engine, ClosedTaskTakesNoMoreDecisions) {
  World w;
  Task t = w.must(w.request(github_admin_for("ana")), Action::deny, "dana", "no");
  auto d = w.act(t, Action::approve, "dana");
  EXPECT_EQ(d.code(), Code::conflict);
  EXPECT_EQ(d.status().message(), "#1 was already denied by Dana Reyes at 2026-11-26 10:00 UTC");
  EXPECT_EQ(w.act(t, Action::reassign, "sam", "x", "boss").code(), Code::conflict);
}

TEST(Engine, EmergencyRequestRunsUnderTheEmergencyPolicyAndIsMarked) {
  World w;
  RequestInput in = github_admin_for("ana");
  in.emergency = true;
  Task t = w.request(in);
  EXPECT_TRUE(t.emergency);
  EXPECT_EQ(t.policy_id, "on-call");
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"lee"});
  EXPECT_EQ(t.insights.front().kind, "emergency");
  // A resource without an emergency policy refuses emergency requests.
  RequestInput none{"ana", "", "github", "member", "x", std::nullopt, true};
  EXPECT_EQ(w.engine.open_request(none, 9).code(), Code::rule_refused);
}

TEST(Engine, RequestedDurationIsBoundedByTheResourceMaximum) {
  World w;
  RequestInput in = github_admin_for("ana");
  in.duration = parse_duration("8d");
  auto d = w.engine.open_request(in, 1);
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_EQ(d.status().message(), "8d is longer than the 7d allowed for GitHub / Org admin");
  in.duration = parse_duration("8h");
  auto ok = w.engine.open_request(in, 1);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->task.duration, parse_duration("8h"));
}

TEST(Engine, BadRequestsNameWhatIsWrong) {
  World w;
  EXPECT_EQ(w.engine.open_request({"ana", "", "gitlab", "admin", "x", {}, false}, 1).code(),
            Code::not_found);
  EXPECT_EQ(
      w.engine.open_request({"ana", "", "github", "owner", "x", {}, false}, 1).status().message(),
      "app \"GitHub\" has no resource \"owner\"");
  EXPECT_EQ(w.engine.open_request({"ana", "", "github", "admin", "  ", {}, false}, 1).code(),
            Code::invalid_argument);
  EXPECT_EQ(w.engine.propose_revocation({"pat", "bo", "github", "admin", "x"}, 1).code(),
            Code::permission_denied)
      << "pat is neither bo's manager, an owner nor an admin";
}

TEST(Engine, RequesterMayCancelAnOpenRequest) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  EXPECT_EQ(w.act(t, Action::cancel, "bo").code(), Code::permission_denied);
  auto d = w.act(t, Action::cancel, "ana", "no longer needed");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->task.state, TaskState::cancelled);
  EXPECT_EQ(w.act(d->task, Action::approve, "dana").status().message(),
            "#1 was cancelled by Ana Silva at 2026-11-26 10:00 UTC");
}

TEST(Engine, CommentsAreAddedAtAnyStateAndPostedToThreads) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  auto d = w.act(t, Action::comment, "bo", "I can vouch for this");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->task.comments.size(), 1u);
  EXPECT_EQ(d->task.comments[0].author, "bo");
  EXPECT_EQ(d->task.comments[0].id, 1);
  EXPECT_EQ(recipients(d.value(), EffectKind::post_comment).size(), 1u);
  EXPECT_EQ(w.act(t, Action::comment, "bo", "   ").code(), Code::invalid_argument);
  Task closed = w.must(d->task, Action::deny, "dana");
  auto after = w.act(closed, Action::comment, "dana", "ask again in January");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->task.comments.back().id, 2);
}

TEST(Engine, BulkActsOnEachTaskAndReportsEachResult) {
  World w;
  Task mine1 = w.request(github_admin_for("ana"));
  Task mine2 = w.request(github_admin_for("cy"));
  Task not_mine =
      w.request({"olga", "", "aws", "staging", "x", std::nullopt, false});  // boss reviews
  Task decided = w.must(w.request(github_admin_for("cy")), Action::deny, "dana", "no");
  auto results = w.engine.act_many({mine1, not_mine, mine2, decided},
                                   Command{Action::approve, "dana", "quarterly refresh", {}, {}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].task, mine1.number);
  EXPECT_TRUE(results[0].outcome.ok());
  EXPECT_EQ(results[1].outcome.code(), Code::permission_denied);
  EXPECT_TRUE(results[2].outcome.ok());
  EXPECT_EQ(results[3].outcome.code(), Code::conflict);
  // The one comment lands on each task acted on.
  EXPECT_EQ(results[0].outcome->task.comments.back().text, "quarterly refresh");
  EXPECT_EQ(results[2].outcome->task.comments.back().text, "quarterly refresh");
}

TEST(Engine, TaskKeepsItsPlanAfterThePolicyChanges) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  // The policy loses its security step and gains a new first reviewer.
  std::string org = testing::replaced(
      testing::kTestOrg,
      R"({"name": "Security review", "reviewers": {"type": "group", "group": "security"}})",
      R"({"reviewers": {"type": "users", "users": ["nora"]}})");
  Engine changed(testing::load_org(org), w.clock);
  Task fresh = changed.open_request(github_admin_for("bo"), 2)->task;
  EXPECT_EQ(fresh.steps[2].rule.reviewers.type, ReviewerType::users);

  t = changed.act(t, Command{Action::approve, "dana", {}, {}, {}})->task;
  t = changed.act(t, Command{Action::approve, "olga", {}, {}, {}})->task;
  EXPECT_EQ(t.steps[2].rule.name, "Security review");
  EXPECT_EQ(t.assignees(), (std::vector<PersonId>{"sam", "lee"}))
      << "the frozen step still applies";
  EXPECT_EQ(changed.act(t, Command{Action::approve, "nora", {}, {}, {}}).code(),
            Code::permission_denied);
}

TEST(Engine, PlanShowsEveryStepItsPeopleAndTheViewersRole) {
  World w;
  Task t = w.must(w.request(github_admin_for("ana")), Action::approve, "dana", "fine by me");
  Plan p = w.engine.plan(t, "lee");
  EXPECT_EQ(p.headline, "Step 2 of 4 · Manager, owner, security");
  ASSERT_EQ(p.steps.size(), 4u);
  EXPECT_EQ(p.steps[0].label, "Manager");
  EXPECT_EQ(p.steps[0].state, StepState::done);
  EXPECT_EQ(p.steps[0].decided_by, "dana");
  EXPECT_EQ(p.steps[0].comment, "fine by me");
  EXPECT_EQ(p.steps[1].label, "Resource owners");
  EXPECT_EQ(p.steps[1].state, StepState::current);
  EXPECT_EQ(p.steps[1].people, std::vector<PersonId>{"olga"});
  EXPECT_EQ(p.steps[2].label, "Security review");
  EXPECT_EQ(p.steps[2].state, StepState::upcoming);
  EXPECT_EQ(p.steps[2].people, (std::vector<PersonId>{"sam", "lee"})) << "who would take it";
  EXPECT_TRUE(p.steps[2].viewer_involved);
  EXPECT_FALSE(p.steps[1].viewer_involved);
  EXPECT_EQ(p.steps[3].label, "Provisioning");
  Task closed = w.must(t, Action::deny, "olga", "no");
  EXPECT_EQ(w.engine.plan(closed, "ana").headline, "Denied · Manager, owner, security");
}

TEST(Engine, InsightsStateFactsFromTheDirectory) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  EXPECT_EQ(insight_texts(t), (std::vector<std::string>{
                                  "GitHub / Org admin is marked sensitive",
                                  "Ana Silva started 6 days ago",
                                  "1 of 2 other people reporting to Dana Reyes has this access",
                              }));
  Task r = w.revoke({"dana", "bo", "github", "admin", "audit"});
  EXPECT_EQ(insight_texts(r), (std::vector<std::string>{
                                  "GitHub / Org admin is marked sensitive",
                                  "Bo Chen last used this access 94 days ago",
                                  "Bo Chen has held it since 2024-01-10",
                                  "0 of 2 other people reporting to Dana Reyes have this access",
                              }));
}

TEST(Engine, OffHoursAndOnBehalfRequestsAreNoted) {
  World w;
  w.clock.set(*parse_date("2026-11-28") + std::chrono::hours(23));  // a Saturday night
  RequestInput in = github_admin_for("dana");
  in.subject = "bo";
  // Bo holds it until Monday: this is an extension, and the insight says until when.
  in.facts = testing::config_facts(*w.dir, "bo", "github", "admin");
  in.facts.held->expires_at = *parse_date("2026-11-30");
  in.facts.holders.front().expires_at = in.facts.held->expires_at;
  Task t = w.request(in);
  std::vector<std::string> kinds;
  for (const Insight& i : t.insights) kinds.push_back(i.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"sensitive", "already_granted", "on_behalf",
                                             "off_hours", "peer_access"}));
  EXPECT_EQ(t.insights[1].text,
            "Bo Chen already has this access (since 2024-01-10, until 2026-11-30 00:00 UTC)");
}

TEST(Engine, NobodyToReviewRefusesTheRequest) {
  // A policy whose only reviewer is the requester, no fallback, no admins.
  std::string org =
      testing::replaced(testing::kTestOrg, R"("admins": ["sam"],)", R"("admins": [],)");
  org = testing::replaced(org, R"("users": ["lee"])", R"("users": ["ana"])");
  ManualClock clock(testing::test_start());
  Engine engine(testing::load_org(org), clock);
  RequestInput in = github_admin_for("ana");
  in.emergency = true;
  auto d = engine.open_request(in, 1);
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_EQ(d.status().message(), "nobody can take step 1 (Ana Silva) of policy \"Emergency\"");
}

TEST(Engine, SlackRepliesBecomeCommentsThatOnlyTheirAuthorEditsOrDeletes) {
  World w;
  Task t = w.request(github_admin_for("ana"));
  Command reply{Action::comment, "bo",     "I can vouch for Ana", {}, {},
                "slack",         "D0DANA", "1700000000.000200"};
  auto d = w.engine.act(t, reply);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  t = d->task;
  ASSERT_EQ(t.comments.size(), 1u);
  EXPECT_EQ(t.comments[0].source, "slack");
  EXPECT_EQ(t.comments[0].slack_ts, "1700000000.000200");
  EXPECT_EQ(recipients(*d, EffectKind::post_comment).size(), 1u) << "to the task's other threads";

  Command edit{Action::edit_comment, "bo", "I vouch for Ana", {}, {}, "slack", "D0DANA",
               "1700000000.000200"};
  Command by_other = edit;
  by_other.actor = "cy";
  EXPECT_EQ(w.engine.act(t, by_other).code(), Code::permission_denied);
  Command unknown = edit;
  unknown.slack_ts = "1.1";
  EXPECT_EQ(w.engine.act(t, unknown).code(), Code::not_found);
  auto e = w.engine.act(t, edit);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->task.comments[0].text, "I vouch for Ana");
  EXPECT_TRUE(e->task.comments[0].edited_at);
  ASSERT_EQ(e->changed_comments.size(), 1u);
  EXPECT_TRUE(e->new_comments.empty());

  Command del{Action::delete_comment, "bo", {}, {}, {}, "slack", "D0DANA", "1700000000.000200"};
  auto gone = w.engine.act(e->task, del);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->task.comments[0].deleted);
  EXPECT_EQ(w.engine.act(gone->task, edit).code(), Code::conflict);
  // The engine takes a comment from a Slack user outside the directory; whether
  // anyone may write on the task at all is the service's need-to-know check.
  Command stranger{Action::comment, "slack:U0GUEST",    "hello", {}, {}, "slack",
                   "D0DANA",        "1700000000.000300"};
  EXPECT_TRUE(w.engine.act(t, stranger).ok());
}

// ---------------------------------------------------------------------------
// Four eyes (issue 15, finding 1): whoever decided one review step of a task is
// never an assignee of a later review step of it. In the test organisation,
// Nora's manager is Sam, who is also in the security group; her request for
// GitHub / Org admin goes to Sam (manager), Olga (resource owner), then the
// security group (Sam and Lee), then Pat provisions.

// The organisation with the three-step policy's security step given `extra`
// (", \"key\": value" pairs).
std::string security_step_with(const std::string& extra) {
  return testing::replaced(
      testing::kTestOrg,
      R"({"name": "Security review", "reviewers": {"type": "group", "group": "security"}})",
      R"({"name": "Security review", "reviewers": {"type": "group", "group": "security"})" + extra +
          "}");
}

// An engine over `org` with a delegation book, for the four-eyes tests.
struct FourEyesWorld {
  explicit FourEyesWorld(const std::string& org = testing::kTestOrg)
      : dir(testing::load_org(org)), engine(dir, clock, book) {}
  ManualClock clock{testing::test_start()};
  std::shared_ptr<DelegationBook> book = std::make_shared<DelegationBook>();
  std::shared_ptr<const Directory> dir;
  Engine engine;

  StatusOr<Decision> act(const Task& t, Action a, const PersonId& actor, std::string comment = {},
                         PersonId to = {}) {
    return engine.act(t, Command{a, actor, std::move(comment), std::move(to), {}});
  }
  Task must(const Task& t, Action a, const PersonId& actor) {
    auto d = act(t, a, actor);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : t;
  }
  // Nora's request, approved by Sam (step 1) and, unless `stop_at_two`, by Olga (step 2).
  Task at_security_step(bool stop_at_two = false) {
    auto d = engine.open_request(github_admin_for("nora"), 1);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    if (!d.ok()) return {};
    EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"sam"});
    Task t = must(d->task, Action::approve, "sam");
    return stop_at_two ? t : must(t, Action::approve, "olga");
  }
};

TEST(FourEyes, TheManagerInTheSecurityGroupIsNotAssignedTheSecurityStep) {
  FourEyesWorld w;
  Task two = w.at_security_step(true);
  EXPECT_EQ(w.engine.plan(two, "sam").steps[2].people, std::vector<PersonId>{"lee"})
      << "the plan already leaves Sam out of step 3";
  auto d = w.act(two, Action::approve, "olga");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  Task t = d->task;
  EXPECT_EQ(t.current_step(), 2);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"lee"});
  EXPECT_FALSE(t.steps[2].by_fallback);
  EXPECT_EQ(recipients(*d, EffectKind::assign), std::vector<PersonId>{"lee"});
  // Sam's second approval, with or without the step, is the named outcome of his first.
  auto again = w.act(t, Action::approve, "sam");
  EXPECT_EQ(again.code(), Code::conflict);
  EXPECT_EQ(again.status().message(),
            "#1 was already approved by Sam Okafor at 2026-11-26 10:00 UTC");
  auto pinned = w.engine.act(t, Command{Action::approve, "sam", {}, {}, 2});
  EXPECT_EQ(pinned.status().message(), again.status().message());
  EXPECT_TRUE(w.act(t, Action::approve, "lee").ok());
}

TEST(FourEyes, AnEarlierReviewerWhoHoldsTheStepAnywayCannotDecideIt) {
  // A task assigned before the rule existed: Sam holds step 3 too.
  FourEyesWorld w;
  Task t = w.at_security_step();
  t.steps[2].assignees = {"sam", "lee"};
  auto d = w.act(t, Action::deny, "sam", "no");
  EXPECT_EQ(d.code(), Code::conflict);
  EXPECT_EQ(d.status().message(), "#1 was already approved by Sam Okafor at 2026-11-26 10:00 UTC");
}

TEST(FourEyes, AStepThatAllowsTheSameReviewerTakesHim) {
  FourEyesWorld w(security_step_with(R"(, "allow_same_reviewer": true)"));
  Task t = w.at_security_step();
  EXPECT_EQ(t.assignees(), (std::vector<PersonId>{"sam", "lee"}));
  EXPECT_TRUE(w.act(t, Action::approve, "sam").ok());
}

TEST(FourEyes, WithTheWholeGroupHavingReviewedTheFallbackTakesItThenTheAdminsThenNobody) {
  // Step 2 goes to Lee: after it, both members of the security group have reviewed.
  std::string lee_second = testing::replaced(
      testing::kTestOrg,
      R"({"reviewers": {"type": "resource_owners"}, "require_reason": ["deny"], "allow_reassign": true})",
      R"({"reviewers": {"type": "users", "users": ["lee"]}})");
  auto with_fallback = [&](const std::string& fallback) {
    return testing::replaced(
        lee_second,
        R"({"name": "Security review", "reviewers": {"type": "group", "group": "security"}})",
        R"({"name": "Security review", "reviewers": {"type": "group", "group": "security"}, "fallback": )" +
            fallback + "}");
  };
  FourEyesWorld w(with_fallback(R"(["sam", "oscar"])"));
  Task two = w.at_security_step(true);
  ASSERT_EQ(two.assignees(), std::vector<PersonId>{"lee"});
  auto d = w.act(two, Action::approve, "lee");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"oscar"}) << "the fallback, minus Sam";
  EXPECT_TRUE(d->task.steps[2].by_fallback);

  // The fallback is Sam alone and Sam is the only admin: nobody is left, and
  // Lee's approval is refused rather than handing step 3 to an earlier reviewer.
  FourEyesWorld none(with_fallback(R"(["sam"])"));
  Task stuck = none.at_security_step(true);
  auto refused = none.act(stuck, Action::approve, "lee");
  EXPECT_EQ(refused.code(), Code::rule_refused);
  EXPECT_EQ(refused.status().message(),
            "nobody but an earlier reviewer can take step 3 (Security review) of #1: four eyes "
            "needs another reviewer (an admin or the step's fallback)");
}

TEST(FourEyes, ADelegateWhoReviewedEarlierDoesNotStandIn) {
  FourEyesWorld w;
  // Lee is away and has chosen Sam, who approves step 1, as delegate.
  w.book->set(
      {"lee", "sam", testing::test_start() + std::chrono::days(7), "lee", testing::test_start()});
  Task t = w.at_security_step();
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"lee"}) << "Lee keeps the step";
  EXPECT_TRUE(t.steps[2].delegated_for.empty());
  // Reassigned to Oscar, who is away with Sam as delegate: Oscar keeps it too.
  w.book->set({"oscar", "sam", testing::test_start() + std::chrono::days(7), "oscar",
               testing::test_start()});
  auto d = w.act(t, Action::reassign, "sam", "Lee is away", "oscar");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"oscar"});
}

TEST(FourEyes, EscalationSkipsTheEarlierReviewer) {
  // Lee's manager is Sam: escalation "to the manager" goes to the fallback instead.
  FourEyesWorld w(security_step_with(
      R"(, "fallback": ["oscar"], "sla": {"escalate_after": "3d", "escalate_to": "manager"})"));
  Task t = w.at_security_step();
  ASSERT_EQ(t.assignees(), std::vector<PersonId>{"lee"});
  w.clock.advance(std::chrono::days(3));
  Command esc{Action::escalate, std::string(kSystemActor), {}, {}, 2};
  auto d = w.engine.act(t, esc);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"oscar"});
  EXPECT_EQ(recipients(*d, EffectKind::assign), std::vector<PersonId>{"oscar"});
  EXPECT_EQ(d->task.steps[2].former_assignees, std::vector<PersonId>{"lee"});
}

TEST(FourEyes, ReassigningToAnEarlierReviewerIsRefusedByName) {
  FourEyesWorld w(security_step_with(R"(, "allow_reassign": true)"));
  Task t = w.at_security_step();
  for (const PersonId& by : {PersonId("lee"), PersonId("sam")}) {  // the assignee, an admin
    auto d = w.act(t, Action::reassign, by, "more context", "sam");
    EXPECT_EQ(d.code(), Code::rule_refused) << by;
    EXPECT_EQ(d.status().message(),
              "Sam Okafor already approved #1 at step 1, so they cannot review step 3 too (four "
              "eyes)");
  }
  auto ok = w.act(t, Action::reassign, "lee", "more context", "oscar");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->task.assignees(), std::vector<PersonId>{"oscar"});
}

TEST(FourEyes, ProvisioningIsNotAReviewAndMayGoToAnEarlierReviewer) {
  // Pat reviews step 2 and is the app's provisioner.
  FourEyesWorld w(testing::replaced(
      testing::kTestOrg,
      R"({"reviewers": {"type": "resource_owners"}, "require_reason": ["deny"], "allow_reassign": true})",
      R"({"reviewers": {"type": "users", "users": ["pat"]}})"));
  Task t = w.at_security_step(true);
  t = w.must(t, Action::approve, "pat");
  t = w.must(t, Action::approve, "lee");
  EXPECT_EQ(t.state, TaskState::provisioning);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"pat"});
}

TEST(FourEyes, TheStepOptionIsABooleanCheckedWithItsPath) {
  LoadedConfig bad = load_config_text(security_step_with(R"(, "allow_same_reviewer": "yes")"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(format_issue(bad.issues[0]),
            "error: $.policies[2].steps[2].allow_same_reviewer: expected true or false");
  LoadedConfig good = load_config_text(security_step_with(R"(, "allow_same_reviewer": true)"));
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good.directory->policy("three-step")->steps[2].allow_same_reviewer);
  EXPECT_FALSE(good.directory->policy("three-step")->steps[1].allow_same_reviewer);
}

// Need to know (issue 15, finding 3): who is involved in a task.
TEST(NeedToKnow, InvolvedAreRequesterSubjectAssigneesPastAndPresentDecidersAndAdmins) {
  FourEyesWorld w(security_step_with(R"(, "allow_reassign": true)"));
  RequestInput in = github_admin_for("dana");
  in.subject = "ana";  // dana asks for ana; dana's own request goes to the fallback, sam
  auto opened = w.engine.open_request(in, 1);
  ASSERT_TRUE(opened.ok());
  Task t = opened->task;
  const Directory& d = *w.dir;
  for (const char* p : {"dana", "ana", "sam"}) EXPECT_TRUE(involved(d, t, p)) << p;
  for (const char* p : {"olga", "lee", "bo", "nobody", ""}) EXPECT_FALSE(involved(d, t, p)) << p;
  t = w.must(t, Action::approve, "sam");
  t = w.must(t, Action::approve, "olga");  // step 3: lee (sam reviewed)
  EXPECT_TRUE(involved(d, t, "olga")) << "a decider";
  EXPECT_TRUE(involved(d, t, "lee")) << "an assignee";
  auto moved = w.act(t, Action::reassign, "lee", "on leave", "oscar");
  ASSERT_TRUE(moved.ok()) << moved.status().to_string();
  EXPECT_TRUE(involved(d, moved->task, "lee")) << "a former assignee";
  EXPECT_TRUE(involved(d, moved->task, "oscar"));
  EXPECT_FALSE(involved(d, moved->task, "pat")) << "provisioning has not opened";
  EXPECT_EQ(task_not_shown(7).code(), Code::not_found);
  EXPECT_EQ(task_not_shown(7).message(), "#7 is not one of your tasks");
}

TEST(Reassign, OfferedOnlyToAdminsAndToAssigneesOfAStepThatAllowsIt) {
  World w;
  Task t = w.request(github_admin_for("ana"));  // step 1: no reassignment
  EXPECT_FALSE(can_reassign(*w.dir, t, "dana"));
  EXPECT_TRUE(can_reassign(*w.dir, t, "sam")) << "an admin";
  t = w.must(t, Action::approve, "dana");  // step 2 allows it
  EXPECT_TRUE(can_reassign(*w.dir, t, "olga"));
  EXPECT_FALSE(can_reassign(*w.dir, t, "dana"));
  Task closed = w.must(t, Action::deny, "olga", "no");
  EXPECT_FALSE(can_reassign(*w.dir, closed, "sam"));
}

}  // namespace
}  // namespace tollgate
