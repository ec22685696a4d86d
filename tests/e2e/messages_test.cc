// Tollgate talks back: the DMs, their updates, notifications and modals, the
// outbox's pace and its resilience, end to end against the fake Slack.
#include <fstream>

#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"
#include "tests/support/fanout_org.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(EdgeTest, AThreeStepRequestReachesTheRightPeopleInOrderAndEveryCopyIsUpdated) {
  TaskNumber n = open_request(req("ana", "github", "admin", "rotate the deploy keys"));
  std::string t = std::to_string(n);
  start_bot();
  // Step 1: Ana's manager.
  ASSERT_TRUE(has_dms("U0DANA", 1));
  PostedMessage dana = dms("U0DANA")[0];
  EXPECT_TRUE(contains(dana.blocks, "Access request #" + t));
  EXPECT_TRUE(contains(dana.blocks, R"("action_id":"approve")"));
  EXPECT_TRUE(contains(dana.blocks, R"("value":")" + t + R"(:0")"));
  EXPECT_TRUE(contains(dana.blocks, "rotate the deploy keys"));
  EXPECT_TRUE(contains(dana.blocks, "Step 1 of 4"));
  EXPECT_TRUE(dms("U0EVE").empty()) << "step 2 has not opened";
  ASSERT_EQ(click("U0DANA", "approve", t + ":0").status, 200);

  // Step 2: the resource owner; Dana's copy loses its buttons; Ana hears of it.
  ASSERT_TRUE(has_dms("U0EVE", 1));
  ASSERT_TRUE(eventually([&] { return dms("U0DANA")[0].updates == 1; }));
  EXPECT_FALSE(contains(dms("U0DANA")[0].blocks, R"("action_id":"approve")"));
  EXPECT_TRUE(contains(dms("U0DANA")[0].blocks, "Approved by Dana Reyes"));
  ASSERT_TRUE(has_dms("U0ANA", 1));
  EXPECT_TRUE(contains(dms("U0ANA")[0].text, "was approved by Dana Reyes"));
  ASSERT_EQ(click("U0EVE", "approve", t + ":1").status, 200);

  // Step 3: the security group, three copies; it asks a reason to approve.
  for (const char* u : {"U0SAM", "U0LEE", "U0NORA"}) ASSERT_TRUE(has_dms(u, 1)) << u;
  ASSERT_EQ(click("U0LEE", "approve", t + ":2").status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  EXPECT_TRUE(contains(slack_.calls("views.open")[0].body, "Reason (required)"));
  HttpResult done = post_signed(
      *client_, "/slack/interactions",
      view_submission("U0LEE", "tollgate.reason", "approve:" + t + ":2", "pairing with Eve"),
      kForm);
  ASSERT_EQ(done.status, 200);
  EXPECT_EQ(done.body, "");

  // Provisioning: Pat and Quinn, with the instructions; Sam's and Nora's copies say who decided.
  ASSERT_TRUE(has_dms("U0PAT", 1));
  ASSERT_TRUE(has_dms("U0QUINN", 1));
  PostedMessage pat = dms("U0PAT")[0];
  EXPECT_TRUE(contains(pat.blocks, "Provisioning task #" + t));
  EXPECT_TRUE(contains(pat.blocks, "How to provision"));
  EXPECT_TRUE(contains(pat.blocks, "Add the user to the acme org"));
  EXPECT_TRUE(contains(pat.blocks, R"("action_id":"provisioned")"));
  EXPECT_TRUE(contains(pat.blocks, R"("value":"wont_provision:)" + t + R"(:3")"));
  for (const char* u : {"U0SAM", "U0NORA"}) {
    ASSERT_TRUE(eventually([&] { return dms(u)[0].updates >= 1; })) << u;
    EXPECT_TRUE(contains(dms(u)[0].blocks, "Approved by Lee Kim")) << u;
    EXPECT_TRUE(contains(dms(u)[0].blocks, "pairing with Eve")) << u;
  }
  ASSERT_EQ(click("U0PAT", "provisioned", t + ":3").status, 200);
  ASSERT_TRUE(eventually([&] { return task(n).state == TaskState::provisioned; }));
  ASSERT_TRUE(eventually([&] { return dms("U0QUINN")[0].updates >= 1; }));
  EXPECT_TRUE(contains(dms("U0QUINN")[0].blocks, "Marked provisioned by Pat Murphy"));
  ASSERT_TRUE(eventually([&] {
    auto a = dms("U0ANA");
    return !a.empty() && contains(a.back().text, "has added the access");
  }));
}

TEST_F(EdgeTest, ADenyStopsTheTaskAndTheRequesterIsToldTheReason) {
  TaskNumber n =
      open_request(req("ana", "github", "maintainer"));  // Dana, then Eve (reason to deny)
  std::string t = std::to_string(n);
  start_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1));
  ASSERT_EQ(click("U0DANA", "approve", t + ":0").status, 200);
  ASSERT_TRUE(has_dms("U0EVE", 1));
  ASSERT_EQ(click("U0EVE", "deny", t + ":1").status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  ASSERT_EQ(post_signed(*client_, "/slack/interactions",
                        view_submission("U0EVE", "tollgate.reason", "deny:" + t + ":1",
                                        "contractors get read-only"),
                        kForm)
                .status,
            200);
  EXPECT_EQ(task(n).state, TaskState::denied);
  ASSERT_TRUE(eventually([&] {
    auto a = dms("U0ANA");
    return !a.empty() && contains(a.back().text, "was denied by Eve Adams");
  }));
  EXPECT_TRUE(contains(dms("U0ANA").back().text, "contractors get read-only"));
  ASSERT_TRUE(eventually([&] { return dms("U0EVE")[0].updates >= 1; }));
  EXPECT_TRUE(contains(dms("U0EVE")[0].blocks, "Denied by Eve Adams"));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(dms("U0PAT").empty()) << "provisioning never opens";
}

TEST_F(EdgeTest, AReassignNotifiesTheNewAssigneeAndUpdatesTheOldOnesMessage) {
  TaskNumber n = open_request(req("ana", "github", "maintainer"));
  std::string t = std::to_string(n);
  start_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1));
  ASSERT_EQ(click("U0DANA", "approve", t + ":0").status, 200);
  ASSERT_TRUE(has_dms("U0EVE", 1));
  EXPECT_TRUE(contains(dms("U0EVE")[0].blocks, R"("value":"reassign:)" + t + R"(:1")"));
  ASSERT_EQ(click("U0EVE", "more", "reassign:" + t + ":1").status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  EXPECT_TRUE(contains(slack_.calls("views.open")[0].body, "users_select"));
  HttpResult missing =
      post_signed(*client_, "/slack/interactions",
                  view_submission("U0EVE", "tollgate.reassign", t + ":1", "", "U0CARL"), kForm);
  EXPECT_EQ(missing.body,
            R"({"response_action":"errors","errors":{"reason":"A reason is required."}})");
  HttpResult self = post_signed(
      *client_, "/slack/interactions",
      view_submission("U0EVE", "tollgate.reassign", t + ":1", "mine now", "U0ANA"), kForm);
  EXPECT_TRUE(contains(self.body, R"("assignee":"Ana Silva cannot review)")) << self.body;
  HttpResult ok = post_signed(
      *client_, "/slack/interactions",
      view_submission("U0EVE", "tollgate.reassign", t + ":1", "on holiday", "U0CARL"), kForm);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "");
  ASSERT_TRUE(has_dms("U0CARL", 1));
  EXPECT_TRUE(contains(dms("U0CARL")[0].blocks, R"("action_id":"approve")"));
  ASSERT_TRUE(eventually([&] { return dms("U0EVE")[0].updates >= 1; }));
  EXPECT_TRUE(contains(dms("U0EVE")[0].blocks, "Reassigned to Carl Novak"));
  EXPECT_FALSE(contains(dms("U0EVE")[0].blocks, R"("action_id":"approve")"));
  // The reason is posted into the task's threads.
  ASSERT_TRUE(eventually([&] {
    for (const PostedMessage& m : dms("U0DANA")) {
      if (!m.thread_ts.empty() && contains(m.text, "Reassigned to Carl Novak: on holiday"))
        return true;
    }
    return false;
  }));
}

TEST_F(EdgeTest, ViewDetailsShowsThePlanWithTheViewersRole) {
  TaskNumber n = open_request(req("ana", "github", "admin"));
  std::string t = std::to_string(n);
  start_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1));
  ASSERT_EQ(click("U0DANA", "more", "details:" + t + ":0").status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  std::string view = slack_.calls("views.open")[0].body;
  for (const char* part : {"Execution plan", "Manager, resource owner, then security", "1. Manager",
                           "waiting for Dana Reyes", ":point_left: *you*", "4. Provisioning",
                           "Security review", "then Sam Okafor, Lee Kim and Nora Blake",
                           "Justification", "Insights", "Ana Silva (SRE, Engineering)"}) {
    EXPECT_TRUE(contains(view, part)) << part;
  }
}

TEST_F(EdgeTest, ASlackOutageLosesNoMessage) {
  slack_.fail_for(30s);
  std::vector<TaskNumber> tasks;
  for (const char* who : {"ana", "bo", "carl"})
    tasks.push_back(open_request(req(who, "aws", "staging")));
  start_bot();
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(dms("U0DANA").empty());
  ASSERT_TRUE(has_dms("U0DANA", 3, 75s)) << "delivered once Slack is back";
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(dms("U0DANA").size(), 3u) << "and each exactly once";
  int failed = 0;
  for (const RecordedCall& c : slack_.calls("chat.postMessage")) failed += c.status == 500;
  EXPECT_GT(failed, 3) << "it did try during the outage";
}

TEST_F(EdgeTest, A429IsHonouredNoRetryBeforeRetryAfter) {
  open_request(req("ana", "aws", "staging"));
  slack_.rate_limit_next("chat.postMessage", 1, 3);
  start_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1, 15s));
  std::vector<RecordedCall> posts = slack_.calls("chat.postMessage");
  ASSERT_GE(posts.size(), 2u);
  EXPECT_EQ(posts[0].status, 429);
  EXPECT_GE(posts[1].at - posts[0].at, 3s) << "no retry before Retry-After";
  EXPECT_LT(posts[1].at - posts[0].at, 6s);
}

// 2,000 assignments to 50 reviewers: 40 DMs a channel at one a second take
// at least 39 s; the outbox must finish within 10% of that, without a 429.
TEST_F(EdgeTest, TwoThousandAssignmentsToFiftyReviewersDrainAtSlacksPace) {
  constexpr int kReviewers = 50;
  constexpr int kPerReviewer = 40;
  std::string config = fanout_org(kReviewers);
  std::string path = dir_.file("drain.json");
  std::ofstream(path) << config;
  {
    auto store = open_store(db(), serve_store_options());
    ASSERT_TRUE(store.ok());
    static SystemClock clock;
    Engine engine(load_config_file(path).directory, clock);
    for (int k = 0; k < kPerReviewer; ++k) {
      for (int i = 0; i < kReviewers; ++i) {
        RequestInput in{"r" + std::to_string(i), "", "app", "res", "burst", std::nullopt, false};
        ASSERT_TRUE(create_and_wait(**store, [&](const Task*, TaskNumber n) {
                      return engine.open_request(in, n);
                    }).ok());
      }
    }
  }
  ASSERT_NO_FATAL_FAILURE(start_bot({}, path));
  constexpr std::size_t kTotal = kReviewers * kPerReviewer;
  ASSERT_TRUE(eventually([&] { return slack_.count("chat.postMessage") >= kTotal; }, 90s))
      << slack_.count("chat.postMessage") << " of " << kTotal;
  std::vector<RecordedCall> posts = slack_.calls("chat.postMessage");
  auto drain = posts.back().at - posts.front().at;
  std::chrono::milliseconds bound = std::chrono::seconds(kPerReviewer - 1);
  std::printf(
      "drained %zu DMs to %d reviewers in %.2f s (Slack's per-channel limit allows no less than "
      "%lld s)\n",
      kTotal, kReviewers, std::chrono::duration<double>(drain).count(),
      static_cast<long long>(bound.count() / 1000));
  EXPECT_LE(drain, bound * 11 / 10);
  EXPECT_EQ(slack_.rate_limited(), 0);
  EXPECT_EQ(slack_.count("chat.postMessage"), kTotal) << "each exactly once";
}

}  // namespace
}  // namespace tollgate::testing
