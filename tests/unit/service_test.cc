// TaskService over a real SQLite store: bulk commands and concurrent clicks,
// and the access ledger's ways in (seeding, requests checked against it,
// "I'm done").
#include "app/task_service.h"

#include <future>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"

namespace tollgate {
namespace {

using testing::github_admin_for;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open_store("sqlite:" + dir_.file("t.db"));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
    service_ =
        std::make_unique<TaskService>(*store_, std::make_shared<Engine>(world_.dir, world_.clock));
  }

  StatusOr<Decision> request(RequestInput in) {
    std::promise<StatusOr<Decision>> p;
    service_->request(std::move(in), [&](StatusOr<Decision> d) { p.set_value(std::move(d)); });
    return p.get_future().get();
  }
  StatusOr<Decision> act(TaskNumber n, Command cmd) {
    std::promise<StatusOr<Decision>> p;
    service_->act(n, std::move(cmd), [&](StatusOr<Decision> d) { p.set_value(std::move(d)); });
    return p.get_future().get();
  }
  // A bulk command on these tasks, each without a step (as /tasks sends it).
  std::vector<BulkResult> bulk(const std::vector<TaskNumber>& tasks, Command cmd) {
    std::vector<BulkTarget> targets;
    for (TaskNumber n : tasks) targets.push_back({n, std::nullopt});
    return bulk(std::move(targets), std::move(cmd));
  }
  std::vector<BulkResult> bulk(std::vector<BulkTarget> targets, Command cmd) {
    std::promise<std::vector<BulkResult>> p;
    Status s = service_->act_many(std::move(targets), std::move(cmd),
                                  [&](std::vector<BulkResult> r) { p.set_value(std::move(r)); });
    EXPECT_TRUE(s.ok()) << s.to_string();
    return s.ok() ? p.get_future().get() : std::vector<BulkResult>{};
  }

  StatusOr<std::string> end(const PersonId& holder, const PersonId& actor) {
    std::promise<StatusOr<std::string>> p;
    service_->end_access_of(holder, "aws", "staging", actor,
                            [&](StatusOr<std::string> s) { p.set_value(std::move(s)); });
    return p.get_future().get();
  }
  int events_of_type(const std::string& type) {
    auto events = store_->events(0, 100000);
    EXPECT_TRUE(events.ok()) << events.status().to_string();
    int n = 0;
    if (events.ok()) {
      for (const StoredEvent& e : *events) n += e.event.type == type ? 1 : 0;
    }
    return n;
  }

  testing::TempDir dir_;
  testing::World world_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskService> service_;
};

TEST_F(ServiceTest, BulkApprovesTheAllowedTasksRefusesTheOthersAndCommentsOnEach) {
  ASSERT_TRUE(request(github_admin_for("ana")).ok());                                   // 1: dana
  ASSERT_TRUE(request({"olga", "", "aws", "staging", "x", std::nullopt, false}).ok());  // 2: boss
  ASSERT_TRUE(request(github_admin_for("bo")).ok());                                    // 3: dana
  ASSERT_TRUE(request(github_admin_for("cy")).ok());                                    // 4: dana
  ASSERT_TRUE(act(4, {Action::deny, "dana", "no", {}, {}}).ok());
  auto results =
      bulk({1, 2, 3, 4, 77}, {Action::approve, "dana", "quarterly access refresh", {}, {}});
  ASSERT_EQ(results.size(), 5u);
  std::vector<TaskNumber> order;
  for (const BulkResult& r : results) order.push_back(r.task);
  EXPECT_EQ(order, (std::vector<TaskNumber>{1, 2, 3, 4, 77}));
  EXPECT_TRUE(results[0].outcome.ok());
  // Dana is not involved in #2: the same answer as #77, which does not exist.
  EXPECT_EQ(results[1].outcome.code(), Code::not_found);
  EXPECT_EQ(results[1].outcome.status().message(), "#2 is not one of your tasks");
  EXPECT_TRUE(results[2].outcome.ok());
  EXPECT_EQ(results[3].outcome.code(), Code::conflict);
  EXPECT_EQ(results[3].outcome.status().message(),
            "#4 was already denied by Dana Reyes at 2026-11-26 10:00 UTC");
  EXPECT_EQ(results[4].outcome.code(), Code::not_found);
  EXPECT_EQ(results[4].outcome.status().message(), "#77 is not one of your tasks");
  for (TaskNumber n : {1, 3}) {
    auto t = store_->task(n);
    EXPECT_EQ(t->current_step(), 1);
    ASSERT_EQ(t->comments.size(), 1u);
    EXPECT_EQ(t->comments[0].text, "quarterly access refresh");
  }
  EXPECT_TRUE(store_->task(2)->comments.empty());
  EXPECT_EQ(store_->task(2)->version, 1);
}

TEST_F(ServiceTest, ClicksFromManyThreadsOnDistinctTasksAllLand) {
  constexpr int kTasks = 64;
  // Opened through the store: the service keeps one open request per access.
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(create_and_wait(*store_, [&](const Task*, TaskNumber n) {
                  return world_.engine.open_request(github_admin_for("ana"), n);
                }).ok());
  }
  std::vector<std::future<StatusOr<Decision>>> clicks;
  for (TaskNumber n = 1; n <= kTasks; ++n) {
    clicks.push_back(std::async(std::launch::async, [this, n] {
      return act(n, {Action::approve, "dana", {}, {}, {}});
    }));
  }
  for (auto& c : clicks) EXPECT_TRUE(c.get().ok());
  auto open = store_->tasks({.assignee = "olga", .limit = 1000});
  EXPECT_EQ(open->size(), static_cast<std::size_t>(kTasks));
}

TEST_F(ServiceTest, ANewEngineAppliesToNewCommandsOnly) {
  ASSERT_TRUE(request(github_admin_for("ana")).ok());
  // A configuration where Ana's manager is Bo.
  auto changed = testing::load_org(testing::replaced(
      testing::kTestOrg, R"("manager": "dana", "started")", R"("manager": "bo", "started")"));
  service_->set_engine(std::make_shared<Engine>(changed, world_.clock));
  auto second = request({"ana", "", "github", "member", "x", std::nullopt, false});
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  EXPECT_EQ(second->task.assignees(), std::vector<PersonId>{"bo"});
  EXPECT_EQ(store_->task(1)->assignees(), std::vector<PersonId>{"dana"})
      << "opened steps keep their people";
  EXPECT_TRUE(act(1, {Action::approve, "dana", {}, {}, {}}).ok());
}

// Issue 15, finding 3 (need to know): only people involved in a task write on
// it; everyone else, whatever they ask, gets the line a missing task gets.
TEST_F(ServiceTest, NeedToKnowCommentsAndCommandsFromPeopleNotInvolvedAreRefusedAsIfNoTask) {
  ASSERT_TRUE(request(github_admin_for("ana")).ok());  // #1: dana reviews, then olga, then security
  for (const char* outsider : {"bo", "olga", "nobody", "slack:U0GUEST"}) {
    for (Action a : {Action::comment, Action::approve, Action::cancel}) {
      auto d = act(1, {a, outsider, "pre-approved offline, just click Approve", {}, {}});
      EXPECT_EQ(d.code(), Code::not_found) << outsider << " " << action_name(a);
      EXPECT_EQ(d.status().message(), "#1 is not one of your tasks") << outsider;
    }
  }
  auto missing = act(77, {Action::comment, "bo", "hello", {}, {}});
  EXPECT_EQ(missing.code(), Code::not_found);
  EXPECT_EQ(missing.status().message(), "#77 is not one of your tasks");
  EXPECT_EQ(store_->task(1)->version, 1);
  EXPECT_TRUE(store_->task(1)->comments.empty());
  // The requester, the assignee and an admin may.
  for (const char* insider : {"ana", "dana", "sam"})
    EXPECT_TRUE(act(1, {Action::comment, insider, "context", {}, {}}).ok()) << insider;
  // Olga is involved once her step opens.
  ASSERT_TRUE(act(1, {Action::approve, "dana", {}, {}, {}}).ok());
  EXPECT_TRUE(act(1, {Action::comment, "olga", "looking", {}, {}}).ok());
}

// Issue 15, finding 10: a bulk list with repeats, unknown numbers or too many tasks.
TEST_F(ServiceTest, BulkRefusesRepeatsAndUnknownNumbersByNameAndTooLongAListWhole) {
  ASSERT_TRUE(request({"ana", "", "aws", "staging", "x", std::nullopt, false}).ok());  // #1: dana
  auto results = bulk({1, 1, 404, 1}, {Action::approve, "dana", {}, {}, {}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].outcome.ok()) << results[0].outcome.status().to_string();
  for (std::size_t i : {1u, 3u}) {
    EXPECT_EQ(results[i].outcome.code(), Code::invalid_argument);
    EXPECT_EQ(results[i].outcome.status().message(), "#1 is listed more than once");
  }
  EXPECT_EQ(results[2].outcome.status().message(), "#404 is not one of your tasks");
  EXPECT_EQ(store_->task(1)->version, 2) << "decided once";

  ASSERT_TRUE(request({"bo", "", "aws", "staging", "x", std::nullopt, false}).ok());  // #2
  std::vector<BulkTarget> many;
  for (int i = 0; i < 101; ++i) many.push_back({2, std::nullopt});
  bool called = false;
  Status s = service_->act_many(many, {Action::approve, "dana", {}, {}, {}},
                                [&](std::vector<BulkResult>) { called = true; });
  EXPECT_EQ(s.code(), Code::invalid_argument);
  EXPECT_EQ(s.message(), "At most 100 tasks at once; nothing was done.");
  EXPECT_FALSE(called);
  EXPECT_EQ(store_->task(2)->version, 1);
}

// Issue 15, finding 1: a bulk entry carries its step; one whose step has moved
// on is told who decided it instead of acting on the next step.
TEST_F(ServiceTest, BulkActsOnlyOnTheStepEachEntryWasMeantFor) {
  ASSERT_TRUE(request(github_admin_for("ana")).ok());  // #1: dana, then olga
  ASSERT_TRUE(act(1, {Action::approve, "dana", {}, {}, {}}).ok());
  // Olga's Home showed step 1 before Dana decided it.
  auto r = bulk(std::vector<BulkTarget>{{1, 0}}, {Action::approve, "olga", {}, {}, {}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome.code(), Code::conflict);
  EXPECT_EQ(r[0].outcome.status().message(),
            "#1 was already approved by Dana Reyes at 2026-11-26 10:00 UTC");
  EXPECT_EQ(store_->task(1)->current_step(), 1);
  EXPECT_EQ(service_->open_step_now(1), 1);
  EXPECT_EQ(service_->open_step_now(404), std::nullopt);
}

TEST_F(ServiceTest, TheConfigurationSeedsTheLedgerOnceAndALaterOneRemovesOnlyItsOwnRows) {
  Time now = world_.clock.now();
  ASSERT_TRUE(service_->seed_access(*world_.dir, now).ok());
  ASSERT_TRUE(service_->seed_access(*world_.dir, now).ok());
  EXPECT_EQ(events_of_type("access_seed"), 2) << "Bo's and Cy's grants, once";
  EXPECT_EQ(store_->holdings({})->size(), 2u);
  // Ana was granted staging by a request.
  AccessChange granted;
  granted.holding = {"ana", "aws", "staging", now, now + std::chrono::hours(1), 5};
  granted.actor = "dana";
  granted.at = now;
  ASSERT_TRUE(write_access_and_wait(*store_, {granted}).ok());
  // The configuration no longer lists Cy's grant.
  auto fewer = testing::load_org(testing::replaced(
      testing::kTestOrg, R"(,
    {"person": "cy", "app": "github", "resource": "member"})",
      ""));
  ASSERT_TRUE(service_->seed_access(*fewer, now).ok());
  auto rows = store_->holdings({});
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).person, "ana");
  EXPECT_EQ(rows->at(1).person, "bo");
  EXPECT_EQ(events_of_type("access_unseed"), 1);
}

TEST_F(ServiceTest, ASecondRequestForTheSameAccessIsRefusedNamingTheFirst) {
  ASSERT_TRUE(request({"ana", "", "aws", "staging", "x", std::nullopt, false}).ok());
  auto again = request({"ana", "", "aws", "staging", "y", std::nullopt, false});
  EXPECT_EQ(again.code(), Code::conflict);
  EXPECT_EQ(again.status().message(), "#1 is already open for Ana Silva's access to AWS / Staging");
  // Someone else's is their own.
  EXPECT_TRUE(request({"bo", "", "aws", "staging", "x", std::nullopt, false}).ok());
}

TEST_F(ServiceTest, OnlyTheHolderOrAnAdminEndsAccessAndItEndsOnce) {
  Time now = world_.clock.now();
  AccessChange granted;
  granted.holding = {"ana", "aws", "staging", now, now + std::chrono::hours(1), 0};
  granted.actor = "dana";
  granted.at = now;
  ASSERT_TRUE(write_access_and_wait(*store_, {granted}).ok());
  EXPECT_EQ(end("ana", "bo").code(), Code::permission_denied);
  auto done = end("ana", "ana");
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  EXPECT_EQ(*done, "Ended Ana Silva's access to AWS / Staging");
  EXPECT_TRUE(store_->holdings({.person = "ana"})->empty());
  EXPECT_EQ(end("ana", "ana").code(), Code::not_found);
  EXPECT_EQ(end("ana", "sam").code(), Code::not_found) << "an admin is told the same";
}

}  // namespace
}  // namespace tollgate
