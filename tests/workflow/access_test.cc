// The access ledger's rules in the engine (workflow/access.h, engine.h):
// what each outcome does to the ledger, time-bound grants counted from the
// moment access is granted, requests and revocations checked against what
// is held, "Approve for…", and the end of a grant.
#include "workflow/access.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "base/time_text.h"
#include "tests/support/test_org.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::World;

RequestInput staging_for(const PersonId& who, std::optional<Duration> d) {
  return {who, "", "aws", "staging", "deploy the fix", d, false};
}

Holding held(const PersonId& who, const std::string& app, const std::string& res,
             std::optional<Time> until, TaskNumber task = 3) {
  return {who, app, res, testing::test_start() - hours(48), until, task, GrantSource::request};
}

const AccessChange& only_change(const Decision& d) {
  EXPECT_EQ(d.access.size(), 1u);
  return d.access.front();
}

TEST(Access, AGrantOnAnAutomaticAppEndsItsDurationAfterTheApprovalNotTheRequest) {
  World w;
  Task t = w.request(staging_for("ana", seconds(30)));
  w.clock.advance(seconds(10));
  auto d = w.act(t, Action::approve, "dana");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.state, TaskState::granted);
  const AccessChange& c = only_change(*d);
  EXPECT_EQ(c.op, AccessChange::Op::grant);
  EXPECT_EQ(c.holding.person, "ana");
  EXPECT_EQ(c.holding.since, testing::test_start() + seconds(10));
  EXPECT_EQ(c.holding.expires_at, testing::test_start() + seconds(40));
  EXPECT_EQ(c.holding.task, t.number);
  EXPECT_EQ(c.holding.how, GrantSource::request);
}

TEST(Access, AManualAppRecordsTheGrantWhenProvisionedNotWhenApproved) {
  World w;
  RequestInput in{"ana", "", "github", "member", "read the monorepo", hours(1), false};
  Task t = w.must(w.request(in), Action::approve, "dana");
  auto approved = w.act(t, Action::approve, "olga");
  ASSERT_TRUE(approved.ok());
  EXPECT_TRUE(approved->access.empty());  // approved, not provisioned yet
  w.clock.advance(hours(2));
  auto d = w.act(approved->task, Action::provisioned, "pat");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(only_change(*d).holding.expires_at, testing::test_start() + hours(3));
}

TEST(Access, NothingIsRecordedForADenialOrAWontProvision) {
  World w;
  auto denied = w.act(w.request(staging_for("ana", std::nullopt)), Action::deny, "dana", "no");
  ASSERT_TRUE(denied.ok());
  EXPECT_TRUE(denied->access.empty());
}

TEST(Access, ARequestForAccessHeldWithoutEndIsRefusedSayingSinceWhen) {
  World w;  // Bo holds GitHub admin from the configuration, since 2024-01-10
  RequestInput in = testing::github_admin_for("bo");
  in.facts = testing::config_facts(*w.dir, "bo", "github", "admin");
  auto d = w.engine.open_request(in, 1);
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_NE(d.status().message().find("since 2024-01-10"), std::string::npos)
      << d.status().message();
}

TEST(Access, ASecondOpenRequestIsRefusedNamingTheOpenTask) {
  World w;
  RequestInput in = staging_for("ana", std::nullopt);
  in.facts.open_task = 7;
  auto d = w.engine.open_request(in, 8);
  EXPECT_EQ(d.code(), Code::conflict);
  EXPECT_NE(d.status().message().find("#7 is already open"), std::string::npos)
      << d.status().message();
}

TEST(Access, ARequestForAccessHeldWithAnEndIsAnExtensionWithNothingToProvision) {
  World w;
  RequestInput in{"ana", "", "github", "member", "one more week", hours(24 * 7), false};
  in.facts.held = held("ana", "github", "member", testing::test_start() + hours(5));
  auto opened = w.engine.open_request(in, 9);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  EXPECT_TRUE(opened->task.extension);
  EXPECT_NE(opened->summary.find("Asked to extend"), std::string::npos) << opened->summary;
  // Only the policy's review steps: the access is there already.
  EXPECT_TRUE(std::all_of(opened->task.steps.begin(), opened->task.steps.end(),
                          [](const TaskStep& s) { return s.kind == StepKind::review; }));
  Task t = w.must(opened->task, Action::approve, "dana");
  auto d = w.act(t, Action::approve, "olga");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->task.state, TaskState::granted);
  const AccessChange& c = only_change(*d);
  EXPECT_EQ(c.op, AccessChange::Op::grant);
  EXPECT_EQ(c.holding.how, GrantSource::extension);
  EXPECT_EQ(c.holding.expires_at, testing::test_start() + hours(5) + hours(24 * 7))
      << "added to what was left";
}

TEST(Access, ARevocationOfAccessNotHeldIsRefused) {
  World w;
  RevocationInput in{"olga", "ana", "github", "admin", "left the team"};
  in.facts = testing::config_facts(*w.dir, "ana", "github", "admin");
  auto d = w.engine.propose_revocation(in, 1);
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_NE(d.status().message().find("Ana Silva does not hold GitHub / Org admin"),
            std::string::npos)
      << d.status().message();
}

TEST(Access, AConfirmedRevocationOfAnAutomaticAppRemovesTheRow) {
  World w;
  RevocationInput in{"olga", "ana", "aws", "staging", "moved team"};
  in.facts.held = held("ana", "aws", "staging", std::nullopt);
  Task t = w.revoke(in);
  auto d = w.act(t, Action::confirm, "dana");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(only_change(*d).op, AccessChange::Op::remove);
  EXPECT_FALSE(only_change(*d).guarded);
}

TEST(Access, AReviewerMayApproveForLessAndTheRequesterIsToldByWhom) {
  World w;
  RequestInput in = staging_for("ana", hours(24 * 30));
  Task t = w.request(in);
  Command cmd{Action::approve, "dana", {}, {}, {}};
  cmd.duration = hours(4);
  auto d = w.engine.act(t, cmd);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.duration, hours(4));
  EXPECT_EQ(d->task.duration_by, "dana");
  EXPECT_EQ(only_change(*d).holding.expires_at, testing::test_start() + hours(4));
  auto told = std::find_if(d->effects.begin(), d->effects.end(), [](const Effect& e) {
    return e.kind == EffectKind::notify && e.recipient == "ana";
  });
  ASSERT_NE(told, d->effects.end());
  ASSERT_NE(told->get("duration"), nullptr);
  EXPECT_EQ(*told->get("duration"), "4h");
  EXPECT_EQ(*told->get("duration_by"), "dana");
}

TEST(Access, ApprovingForLongerThanRequestedIsRefused) {
  World w;
  Task t = w.request(staging_for("ana", hours(4)));
  Command cmd{Action::approve, "dana", {}, {}, {}};
  cmd.duration = hours(8);
  auto d = w.engine.act(t, cmd);
  EXPECT_EQ(d.code(), Code::rule_refused);
  EXPECT_NE(d.status().message().find("at most 4h"), std::string::npos) << d.status().message();
}

TEST(Access, TheEndOfAnAutomaticGrantRemovesItOnceAndTellsTheHolder) {
  World w;
  Holding h = held("ana", "aws", "staging", testing::test_start());
  ASSERT_FALSE(w.engine.ends_by_hand(h));
  auto end = w.engine.end_access({h, "expired", std::string(kSystemActor)});
  ASSERT_TRUE(end.ok()) << end.status().to_string();
  ASSERT_EQ(end->changes.size(), 1u);
  EXPECT_EQ(end->changes[0].op, AccessChange::Op::remove);
  EXPECT_TRUE(end->changes[0].guarded);
  EXPECT_EQ(end->changes[0].expect_expires_at, h.expires_at);
  ASSERT_EQ(end->effects.size(), 1u);
  EXPECT_EQ(end->effects[0].kind, EffectKind::access_notice);
  EXPECT_EQ(end->effects[0].recipient, "ana");
  EXPECT_EQ(*end->effects[0].get("event"), "expired");
}

TEST(Access, TheEndOfAManualGrantOpensADeprovisioningTaskMarkedExpired) {
  World w;
  Holding h = held("ana", "github", "member", testing::test_start());
  ASSERT_TRUE(w.engine.ends_by_hand(h));
  auto d = w.engine.open_access_end({h, "expired", std::string(kSystemActor)}, 12);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.kind, TaskKind::revoke);
  EXPECT_EQ(d->task.state, TaskState::deprovisioning);
  EXPECT_EQ(d->task.ending, "expired");
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"pat"});
  const AccessChange& c = only_change(*d);
  EXPECT_EQ(c.op, AccessChange::Op::ending);
  EXPECT_TRUE(c.guarded);
  // Deprovisioned, the row goes.
  auto done = w.act(d->task, Action::deprovisioned, "pat");
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  EXPECT_EQ(only_change(*done).op, AccessChange::Op::remove);
  // Nobody but Tollgate asked: nobody is notified as a requester.
  EXPECT_TRUE(testing::recipients(*done, EffectKind::notify) == std::vector<PersonId>{"ana"});
}

TEST(Access, AnEndingTaskClosedWithoutRemovalKeepsTheAccessAndFreesTheRow) {
  World w;
  Holding h = held("ana", "github", "member", testing::test_start());
  auto d = w.engine.open_access_end({h, "expired", std::string(kSystemActor)}, 12);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  // Won't deprovision: nobody will remove it, so it is held without end.
  auto wont = w.act(d->task, Action::wont_deprovision, "pat", "still needed for the audit");
  ASSERT_TRUE(wont.ok()) << wont.status().to_string();
  EXPECT_EQ(only_change(*wont).op, AccessChange::Op::kept);
  EXPECT_TRUE(only_change(*wont).without_end);
  EXPECT_EQ(only_change(*wont).task, 12);
  // Cancelled (by an admin): it keeps its end, due again at the next pass.
  auto cancelled = w.act(d->task, Action::cancel, "sam", "opened by mistake");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().to_string();
  EXPECT_EQ(only_change(*cancelled).op, AccessChange::Op::kept);
  EXPECT_FALSE(only_change(*cancelled).without_end);
}

TEST(Access, TheEndOfAccessToAnAppGoneFromTheConfigurationGoesToTheAdmins) {
  World w;
  Holding h = held("lee", "jira", "admin", testing::test_start());  // neither app nor resource known
  ASSERT_TRUE(w.engine.ends_by_hand(h));
  auto d = w.engine.open_access_end({h, "expired", std::string(kSystemActor)}, 5);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->task.app_name, "jira");
  EXPECT_EQ(d->task.assignees(), std::vector<PersonId>{"sam"});
  EXPECT_NE(d->task.instructions.find("no longer in Tollgate's configuration"), std::string::npos);
}

TEST(Access, AnExtensionAddsToWhatIsLeftAndNeedsADuration) {
  World w;
  std::string org = testing::replaced(testing::kTestOrg, R"("max_duration": "7d")", "");
  Engine engine(testing::load_org(org), w.clock);
  RequestInput in{"ana", "", "github", "admin", "longer", std::nullopt, false};
  in.facts.held = held("ana", "github", "admin", testing::test_start() + hours(5));
  EXPECT_EQ(engine.open_request(in, 1).code(), Code::invalid_argument) << "for how long?";
  in.duration = hours(8);
  auto d = engine.open_request(in, 1);
  ASSERT_TRUE(d.ok());
  auto change = access_outcome([&] {
    Task t = d->task;
    t.state = TaskState::granted;
    return t;
  }(), "sam", testing::test_start() + hours(1));
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(change->holding.expires_at, testing::test_start() + hours(13)) << "5 h left, plus 8";
  EXPECT_TRUE(change->guarded);
}

TEST(Access, ADurationGoesOnlyWithApprove) {
  World w;
  Task t = w.request(staging_for("ana", hours(4)));
  Command cmd{Action::deny, "dana", "no", {}, {}};
  cmd.duration = hours(1);
  EXPECT_EQ(w.engine.act(t, cmd).code(), Code::invalid_argument);
}

TEST(Access, PeerFactsComeFromTheLedger) {
  World w;
  RequestInput in = staging_for("ana", std::nullopt);
  in.facts.holders = {held("bo", "aws", "staging", std::nullopt),
                      held("cy", "aws", "staging", testing::test_start() + hours(1))};
  auto d = w.engine.open_request(in, 1);
  ASSERT_TRUE(d.ok());
  bool found = false;
  for (const Insight& i : d->task.insights) {
    if (i.kind == "peer_access") {
      found = true;
      EXPECT_EQ(i.text, "2 of 2 other people reporting to Dana Reyes have this access");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tollgate
