// TaskService over a real SQLite store: bulk commands and concurrent clicks.
#include "bot/service.h"

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
  std::promise<std::vector<BulkResult>> p;
  service_->act_many({1, 2, 3, 4, 77},
                     {Action::approve, "dana", "quarterly access refresh", {}, {}},
                     [&](std::vector<BulkResult> r) { p.set_value(std::move(r)); });
  auto results = p.get_future().get();
  ASSERT_EQ(results.size(), 5u);
  std::vector<TaskNumber> order;
  for (const BulkResult& r : results) order.push_back(r.task);
  EXPECT_EQ(order, (std::vector<TaskNumber>{1, 2, 3, 4, 77}));
  EXPECT_TRUE(results[0].outcome.ok());
  EXPECT_EQ(results[1].outcome.code(), Code::permission_denied);
  EXPECT_TRUE(results[2].outcome.ok());
  EXPECT_EQ(results[3].outcome.code(), Code::conflict);
  EXPECT_EQ(results[3].outcome.status().message(),
            "#4 was already denied by Dana Reyes at 2026-11-26 10:00 UTC");
  EXPECT_EQ(results[4].outcome.code(), Code::not_found);
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
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(request(github_admin_for("ana")).ok());
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
  auto second = request(github_admin_for("ana"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->task.assignees(), std::vector<PersonId>{"bo"});
  EXPECT_EQ(store_->task(1)->assignees(), std::vector<PersonId>{"dana"})
      << "opened steps keep their people";
  EXPECT_TRUE(act(1, {Action::approve, "dana", {}, {}, {}}).ok());
}

}  // namespace
}  // namespace tollgate
