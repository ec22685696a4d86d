// The App Home inbox end to end: published on app_home_opened and after each
// change, counts per tab, bulk actions with one comment, pagination.
#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

class HomeTest : public EdgeTest {
 protected:
  // The last view published for `user`, once it contains `text`.
  std::string home_with(const std::string& user, const std::string& text,
                        std::chrono::milliseconds timeout = 15s) {
    std::string found;
    eventually(
        [&] {
          for (const RecordedCall& c : slack_.calls("views.publish")) {
            if (contains(c.body, "\"user_id\":\"" + user + "\"") && c.status == 200) found = c.body;
          }
          return contains(found, text);
        },
        timeout);
    return found;
  }
};

TEST_F(HomeTest, ShowsEachTabsCountAndIsRepublishedAfterADecision) {
  TaskNumber a = open_request(req("ana", "aws", "staging"));
  open_request(req("bo", "aws", "staging"));
  open_request(req("carl", "github", "maintainer"));
  start_bot();
  open_home("U0DANA");
  std::string home = home_with("U0DANA", "Requests (3)");
  EXPECT_TRUE(contains(home, "Requests (3)")) << home;
  EXPECT_TRUE(contains(home, "Revocations (0)"));
  EXPECT_TRUE(contains(home, "Completed (0)"));
  EXPECT_TRUE(contains(home, "Ana Silva → AWS / Staging developer"));
  EXPECT_TRUE(contains(home, R"("action_id":"home_bulk:approve")"));
  EXPECT_TRUE(contains(home, R"("value":"details:)" + std::to_string(a) + R"(:0")"));
  ASSERT_EQ(click("U0DANA", "approve", std::to_string(a) + ":0").status, 200);
  home = home_with("U0DANA", "Requests (2)");
  EXPECT_TRUE(contains(home, "Requests (2)")) << home;
  EXPECT_TRUE(contains(home, "Completed (1)"));
  // Another tab.
  ASSERT_EQ(home_click("U0DANA", "home_tab:completed", "completed:0").status, 200);
  home = home_with("U0DANA", "granted");
  EXPECT_TRUE(contains(home, R"("private_metadata":"completed:0")")) << home;
}

TEST_F(HomeTest, BulkApproveActsOnTheAllowedTasksRefusesTheOthersAndCommentsOnEach) {
  std::vector<TaskNumber> mine;
  for (int i = 0; i < 30; ++i)
    mine.push_back(open_request(req(i % 2 ? "ana" : "bo", "aws", "staging")));
  TaskNumber victors = open_request(req("wendy", "aws", "staging"));
  TaskNumber closed = open_request(req("carl", "aws", "staging"));
  start_bot();
  // Every DM delivered first (one a second to Dana, so at least 30 s), so that each task has a
  // thread; twice that, and more, for a loaded machine (the pace is a second after each answer).
  ASSERT_TRUE(has_dms("U0DANA", 31, 120s));
  ASSERT_EQ(click("U0DANA", "deny", std::to_string(closed) + ":0").status, 200);
  open_home("U0DANA");
  ASSERT_TRUE(contains(home_with("U0DANA", "Requests (30)"), "Requests (30)"));
  // Each row ticked shows its task at step 1, where every task of these tests is.
  std::vector<std::pair<TaskNumber, std::string>> ticked;
  for (TaskNumber n : mine) ticked.push_back({n, std::to_string(n) + ":0"});
  for (TaskNumber n : {victors, closed}) ticked.push_back({n, std::to_string(n) + ":0"});
  ASSERT_EQ(home_click("U0DANA", "home_bulk:approve", "approve", ticked).status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  std::string modal = slack_.calls("views.open")[0].body;
  EXPECT_TRUE(contains(modal, "One comment for all of them"));
  std::string meta = "approve:";
  std::sort(ticked.begin(), ticked.end());
  for (std::size_t i = 0; i < ticked.size(); ++i)
    meta += (i ? "," : "") + ticked[i].second;
  EXPECT_TRUE(contains(modal, meta)) << modal;
  HttpResult r = post_signed(
      *client_, "/slack/interactions",
      view_submission("U0DANA", "tollgate.bulk", meta, "quarterly access review"), kForm);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, R"("response_action":"update")")) << r.body;
  EXPECT_TRUE(contains(r.body, "30 of 32 done"));
  // Victor's task is none of Dana's business: the line a missing task gets.
  EXPECT_TRUE(contains(r.body, "#" + std::to_string(victors) + ": #" + std::to_string(victors) +
                                   " is not one of your tasks"));
  EXPECT_TRUE(contains(r.body, "#" + std::to_string(closed) + ": #" + std::to_string(closed) +
                                   " was already denied"));
  for (TaskNumber n : mine) {
    Task t = task(n);
    EXPECT_EQ(t.state, TaskState::granted) << n;
    ASSERT_FALSE(t.comments.empty());
    EXPECT_EQ(t.comments.back().text, "quarterly access review");
  }
  EXPECT_EQ(task(victors).state, TaskState::reviewing);
  ASSERT_TRUE(contains(home_with("U0DANA", "Requests (0)"), "Requests (0)"));
  // And the comment went into each task's thread.
  ASSERT_TRUE(eventually(
      [&] {
        int threads = 0;
        for (const PostedMessage& m : dms("U0DANA")) {
          threads += !m.thread_ts.empty() && contains(m.text, "quarterly access review");
        }
        return threads == 30;
      },
      120s));  // 30 posts into Dana's DM, a second apart at best
}

TEST_F(HomeTest, ManyTasksArePaginated) {
  for (int i = 0; i < 45; ++i) open_request(req("ana", "aws", "staging"));
  start_bot();
  open_home("U0DANA");
  std::string first = home_with("U0DANA", "Page 1 of 2");
  EXPECT_TRUE(contains(first, "Page 1 of 2 · 45 tasks")) << first;
  EXPECT_TRUE(contains(first, R"("value":"requests:1")"));
  ASSERT_EQ(home_click("U0DANA", "home_tab:next", "requests:1").status, 200);
  std::string second = home_with("U0DANA", "Page 2 of 2");
  EXPECT_TRUE(contains(second, R"("value":"requests:0")")) << "a way back";
  EXPECT_FALSE(contains(second, "*#1* Access request")) << "the first page's rows are not repeated";
  EXPECT_TRUE(contains(second, "*#45* Access request"));
}

TEST_F(HomeTest, MyAccessListsTheViewersRowsWithTheirButtonsAndFollowsChanges) {
  start_bot();
  // Bo: two grants of the configuration (no end), and AWS staging for 8h once Dana approves.
  ASSERT_EQ(tasks_command("U0BO", "request aws/staging 8h -- the data migration").status, 200);
  ASSERT_EQ(tasks_command("U0DANA", "approve 1").status, 200);
  ASSERT_TRUE(eventually([&] { return task(1).state == TaskState::granted; }));
  open_home("U0BO");
  EXPECT_TRUE(contains(home_with("U0BO", "My access (3)"), "My access (3)"))
      << "the tab's count is on every tab";
  ASSERT_EQ(home_click("U0BO", "home_tab:access", "access:0").status, 200);
  std::string home = home_with("U0BO", R"("private_metadata":"access:0")");
  EXPECT_TRUE(contains(home, "*AWS / Staging developer* — since ")) << home;
  EXPECT_TRUE(contains(home, "ends in 8h (")) << home;
  EXPECT_TRUE(contains(home, "*GitHub / Org admin* — since 2024-01-10, no end · configuration"));
  // Extend… only on the row with an end; I'm done on every row, with a confirmation.
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (auto at = home.find(needle); at != std::string::npos; at = home.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(R"("action_id":"access_extend")"), 1) << home;
  EXPECT_EQ(count(R"("value":"aws:staging")"), 2) << "Extend… and I'm done";
  EXPECT_EQ(count(R"("action_id":"access_done")"), 3);
  EXPECT_EQ(count("End your access now?"), 3);
  EXPECT_EQ(count(R"("value":"github:admin")"), 1) << "I'm done only";
  // Republished when the viewer's access changes (the ledger's commit hook).
  ASSERT_EQ(tasks_command("U0BO", "done aws/staging").status, 200);
  home = home_with("U0BO", "My access (2)");
  EXPECT_TRUE(contains(home, "My access (2)")) << home;
  EXPECT_FALSE(contains(home, "Staging developer"));
}

TEST_F(HomeTest, MyAccessIsCappedWithinSlacksLimits) {
  // Ana holds 45 grants of a test organisation's configuration.
  std::string config = R"({"organization": "Capped",
    "people": [{"id": "ana", "name": "Ana Silva", "slack_user_id": "U0ANA"}],
    "apps": [{"id": "wiki", "name": "Wiki", "owners": ["ana"], "revocation_policy": "owner",
              "resources": [)";
  std::string grants;
  for (int i = 0; i < 45; ++i) {
    std::string id = "space-" + std::to_string(i);
    config += (i ? "," : "") + std::string(R"({"id": ")") + id + R"(", "name": "Space )" +
              std::to_string(i) + R"(", "request_policy": "self"})";
    grants += (i ? "," : "") + std::string(R"({"person": "ana", "app": "wiki", "resource": ")") +
              id + R"(", "since": "2026-01-05"})";
  }
  config += R"(]}], "grants": [)" + grants + R"(],
    "policies": [{"id": "self", "name": "Self", "kind": "request",
                  "steps": [{"reviewers": {"type": "users", "users": ["ana"]},
                             "allow_self_review": true}]},
                 {"id": "owner", "name": "Owner", "kind": "revocation",
                  "steps": [{"reviewers": {"type": "app_owners"}}]}]})";
  std::string file = dir_.file("capped.json");
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(config.c_str(), f);
  std::fclose(f);
  start_bot({}, file);
  open_home("U0ANA");
  ASSERT_EQ(home_click("U0ANA", "home_tab:access", "access:0").status, 200);
  std::string home = home_with("U0ANA", "and 5 more");
  EXPECT_TRUE(contains(home, "My access (45)")) << home;
  EXPECT_TRUE(contains(home, "and 5 more — `/tasks access`")) << home;
  EXPECT_TRUE(contains(home, R"("block_id":"held:39")"));
  EXPECT_FALSE(contains(home, R"("block_id":"held:40")"));
}

}  // namespace
}  // namespace tollgate::testing
