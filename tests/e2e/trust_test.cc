// Issue 15, end to end against the real binary: four eyes (finding 1), need
// to know (finding 3) and the smaller findings of 10 (completed lists newest
// first, "Reassign…" offered only where allowed, bulk lists screened).
#include <fstream>
#include <future>
#include <iterator>

#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kApiToken = "trust-test-token-0123456789abcdefghij";

class TrustTest : public EdgeTest {
 protected:
  // The ephemeral text answered to `/tasks <text>` typed by `user`. Each
  // command is signed afresh (its own response_url), as Slack sends them.
  std::string tasks(const std::string& user, const std::string& text) {
    HttpResult r =
        post_command(*client_, user, text, slack_.response_url("cmd" + std::to_string(++sent_)));
    EXPECT_EQ(r.status, 200) << r.body;
    return answer_text(r.body);
  }

  // The example company with `from` replaced by `to`, as a file.
  std::string acme_with(const std::string& from, const std::string& to) {
    std::ifstream in(acme());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    std::string path = dir_.file("config.json");
    std::ofstream(path) << text;
    return path;
  }

  // `n` requests of Ana's for AWS staging, each denied by Dana, before the bot
  // runs: submitted together so that the store commits them in a few batches.
  void closed_tasks(int n) {
    auto store = open_store(db(), serve_store_options());
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    static SystemClock clock;
    Engine engine(load_config_file(acme()).directory, clock);
    auto all = [&](auto submit) {
      std::vector<std::future<StatusOr<Decision>>> done;
      for (int i = 1; i <= n; ++i) {
        auto p = std::make_shared<std::promise<StatusOr<Decision>>>();
        done.push_back(p->get_future());
        submit(i, [p](StatusOr<Decision> d) { p->set_value(std::move(d)); });
      }
      for (auto& f : done) {
        auto d = f.get();
        ASSERT_TRUE(d.ok()) << d.status().to_string();
      }
    };
    all([&](int, Store::DecisionDone done) {
      (*store)->create(
          [&](const Task*, TaskNumber k) {
            return engine.open_request(req("ana", "aws", "staging"), k);
          },
          std::move(done));
    });
    all([&](int i, Store::DecisionDone done) {
      (*store)->update(
          i,
          [&](const Task* t, TaskNumber) {
            return engine.act(*t, Command{Action::deny, "dana", "not now", {}, {}});
          },
          std::move(done));
    });
    ASSERT_TRUE(flush_and_wait(**store).ok());
  }

  // The last App Home published for `user`, once it contains `text`.
  std::string home_with(const std::string& user, const std::string& text) {
    std::string found;
    eventually([&] {
      for (const RecordedCall& c : slack_.calls("views.publish")) {
        // The newest of the user's views that contains `text`: two publishes (App Home opened,
        // a tab clicked) may complete in either order.
        if (contains(c.body, "\"user_id\":\"" + user + "\"") && c.status == 200 &&
            contains(c.body, text))
          found = c.body;
      }
      return !found.empty();
    });
    return found;
  }
  // Whether Tollgate wrote `text` to someone through chat.postMessage.
  bool posted(const std::string& text) {
    for (const RecordedCall& c : slack_.calls("chat.postMessage"))
      if (contains(c.body, text)) return true;
    return false;
  }

  int sent_ = 0;
};

// Finding 1: in a manager → owner → security-group policy where the manager
// is in the security group, the manager approved step 1 and step 3; sending
// `/tasks approve N` twice did it too.
TEST_F(TrustTest, FourEyesTheManagerInTheSecurityGroupApprovesOnceAndIsToldSoTheSecondTime) {
  // Lee's manager is Sam, who is in the security group (GitHub / Org admin: three-step).
  TaskNumber n = open_request(req("lee", "github", "admin"));
  start_bot();
  const std::string t = std::to_string(n);
  EXPECT_TRUE(contains(tasks("U0SAM", "approve " + t), ":white_check_mark: Approved #" + t));
  std::string sams = "#" + t + " was already approved by Sam Okafor at " +
                     format_instant(*task(n).steps[0].decided_at);
  EXPECT_EQ(tasks("U0SAM", "approve " + t + " -- looks fine"), ":no_entry: #" + t + ": " + sams)
      << "the same command again, once the first was answered";
  EXPECT_TRUE(contains(tasks("U0EVE", "approve " + t), ":white_check_mark: Approved #" + t));
  Task at_security = task(n);
  ASSERT_EQ(at_security.current_step(), 2);
  EXPECT_EQ(at_security.steps[2].assignees, std::vector<PersonId>{"nora"})
      << "Lee is the subject and Sam reviewed step 1";
  // Sam sends it again once the security step is open: refused, by name.
  EXPECT_EQ(tasks("U0SAM", "approve " + t + " -- looks fine"), ":no_entry: #" + t + ": " + sams);
  EXPECT_EQ(task(n).version, at_security.version) << "nothing changed";
  EXPECT_TRUE(has_dms("U0NORA", 1));
}

// Finding 1: the bulk modal carries the step each ticked row showed; submitted
// after that step moved on, it names who decided it instead of acting on the
// next step (here one that allows the same reviewer, so Sam holds it too).
TEST_F(TrustTest, FourEyesABulkModalActsOnlyOnTheStepsItWasOpenedFor) {
  start_bot({}, acme_with(R"("allow_delegation": false})",
                         R"("allow_delegation": false, "allow_same_reviewer": true})"));
  ASSERT_TRUE(contains(tasks("U0LEE", "request github/admin -- rotate the deploy keys"), "#1"));
  ASSERT_TRUE(has_dms("U0SAM", 1));
  open_home("U0SAM");
  EXPECT_TRUE(contains(home_with("U0SAM", R"("value":"1:0")"), R"("value":"1:0")"))
      << "the row's checkbox carries its step";
  ASSERT_EQ(home_click("U0SAM", "home_bulk:approve", "approve", {{1, "1:0"}}).status, 200);
  ASSERT_TRUE(eventually([&] { return slack_.count("views.open") == 1; }));
  EXPECT_TRUE(contains(slack_.calls("views.open")[0].body, "approve:1:0"));
  // Meanwhile Sam approves step 1 from his DM, and Eve step 2: step 3 is Sam's and Nora's.
  ASSERT_EQ(click("U0SAM", "approve", "1:0").status, 200);
  ASSERT_TRUE(contains(tasks("U0EVE", "approve 1"), ":white_check_mark:"));
  Task t = task(1);
  ASSERT_EQ(t.current_step(), 2);
  EXPECT_EQ(t.steps[2].assignees, (std::vector<PersonId>{"sam", "nora"}));
  HttpResult r = post_signed(*client_, "/slack/interactions",
                             view_submission("U0SAM", "tollgate.bulk", "approve:1:0", "ok"), kForm);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, "#1: #1 was already approved by Sam Okafor at ")) << r.body;
  EXPECT_EQ(task(1).version, t.version) << "step 3 untouched";
}

// Finding 3: anyone in the directory could comment into the reviewers'
// threads ("pre-approved offline, just click Approve"), read a task, or learn
// that it exists and who holds it.
TEST_F(TrustTest, NeedToKnowSomeoneNotInvolvedIsToldWhatAMissingTaskIsToldAndWritesNothing) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));  // Dana reviews
  start_bot({{"TOLLGATE_API_TOKEN", kApiToken}});
  const std::string t = std::to_string(n);
  const std::string hidden = "#" + t + " is not one of your tasks";
  ASSERT_TRUE(has_dms("U0DANA", 1));
  const std::string parent = dms("U0DANA")[0].ts;
  ASSERT_TRUE(recorded("DU0DANA", parent)) << "so that only need to know keeps a reply out";

  EXPECT_EQ(tasks("U0WENDY", "comment " + t + " pre-approved offline, just click Approve"), hidden);
  EXPECT_EQ(tasks("U0WENDY", "show " + t), hidden);
  EXPECT_EQ(tasks("U0WENDY", "show 99999"), "#99999 is not one of your tasks");
  EXPECT_EQ(tasks("U0WENDY", "approve " + t), ":no_entry: #" + t + ": " + hidden)
      << "nor who holds it";
  // A thread reply is not mirrored; View details opens nothing.
  std::string reply =
      R"({"type":"message","channel":"DU0DANA","channel_type":"im","user":"U0WENDY","text":"pre-approved offline, just click Approve","ts":"1700000099.000001","thread_ts":)" +
      json::quote(parent) + R"(,"parent_user_id":"U0BOT","event_ts":"1700000099.000001"})";
  EXPECT_EQ(post_signed(*client_, "/slack/events", event_callback("Ev0WENDY", reply), kJson).status,
            200);
  ASSERT_EQ(click("U0WENDY", "more", "details:" + t + ":0", "w").status, 200);
  ASSERT_TRUE(eventually([&] { return !told().empty(); }));
  EXPECT_EQ(told().back(), hidden);
  // The admin API: an author who is not involved is refused as for a missing task.
  auto api_comment = [&](const std::string& author, TaskNumber task) {
    return client_->request("POST", "/api/v1/tasks/" + std::to_string(task) + "/comments",
                            R"({"author":)" + json::quote(author) + R"(,"text":"pre-approved"})",
                            {{"Content-Type", "application/json"},
                             {"Authorization", std::string("Bearer ") + kApiToken}});
  };
  HttpResult by_wendy = api_comment("wendy", n);
  EXPECT_EQ(by_wendy.status, 404);
  EXPECT_TRUE(contains(by_wendy.body, hidden)) << by_wendy.body;
  EXPECT_EQ(api_comment("wendy", 99999).status, 404);
  // The requester may; her comment reaches Dana's thread, and nothing of Wendy's did.
  ASSERT_EQ(api_comment("ana", n).status, 201);
  ASSERT_TRUE(eventually([&] { return posted("Ana Silva"); }));
  EXPECT_FALSE(posted("just click Approve"));
  ASSERT_EQ(task(n).comments.size(), 1u);
  EXPECT_EQ(task(n).comments[0].author, "ana");
  EXPECT_EQ(slack_.count("views.open"), 0);
}

// Finding 10: the completed lists showed the oldest 200 (`/tasks list
// completed`) or 1,000 (App Home) tasks, reversed, not the newest.
TEST_F(TrustTest, CompletedListsShowTheNewestTasksFirst) {
  closed_tasks(1001);
  start_bot();
  std::string list = tasks("U0DANA", "list completed");
  EXPECT_TRUE(contains(list, "*Your tasks: completed (200)*")) << list.substr(0, 300);
  ASSERT_TRUE(contains(list, "*#1001*")) << list.substr(0, 300);
  EXPECT_LT(list.find("*#1001*"), list.find("*#1000*"));
  open_home("U0DANA");
  ASSERT_EQ(home_click("U0DANA", "home_tab:completed", "completed:0").status, 200);
  std::string home = home_with("U0DANA", R"("private_metadata":"completed:0")");
  ASSERT_TRUE(contains(home, "*#1001*")) << home.substr(0, 600);
  EXPECT_LT(home.find("*#1001*"), home.find("*#1000*"));
  EXPECT_TRUE(contains(home, "Completed (40)"));
}

// Finding 10: every Home row offered "Reassign…", also where the step does not allow it.
TEST_F(TrustTest, HomeRowOffersReassignOnlyWhereTheStepAllowsIt) {
  TaskNumber staging = open_request(req("ana", "aws", "staging"));    // Dana; no reassignment
  TaskNumber repo = open_request(req("bo", "github", "maintainer"));  // Dana, then Eve (may)
  start_bot();
  ASSERT_EQ(click("U0DANA", "approve", std::to_string(repo) + ":0").status, 200);
  open_home("U0DANA");
  std::string dana = home_with("U0DANA", "details:" + std::to_string(staging) + ":0");
  EXPECT_TRUE(contains(dana, "details:" + std::to_string(staging) + ":0")) << dana;
  EXPECT_FALSE(contains(dana, "reassign:")) << dana;
  open_home("U0EVE");
  std::string eve = home_with("U0EVE", "details:" + std::to_string(repo) + ":1");
  EXPECT_TRUE(contains(eve, "reassign:" + std::to_string(repo) + ":1")) << eve;
}

// Finding 10: bulk lists took repeated and unknown numbers without a word (a
// repeat decided the task twice over) and the App Home cut long ones silently.
TEST_F(TrustTest, BulkListsRefuseRepeatsAndUnknownNumbersByNameAndTooManyTasksWhole) {
  TaskNumber a = open_request(req("ana", "aws", "staging"));
  start_bot();
  const std::string t = std::to_string(a);
  std::string out = tasks("U0DANA", "approve " + t + " " + t + " 99999 -- quarterly review");
  EXPECT_EQ(out, ":white_check_mark: Approved #" + t + ": access granted\n:no_entry: #" + t +
                     ": #" + t +
                     " is listed more than once\n:no_entry: #99999: #99999 is not one "
                     "of your tasks");
  EXPECT_EQ(task(a).version, 2);

  std::string many = "approve";
  std::vector<std::pair<TaskNumber, std::string>> rows;
  std::string meta = "approve:";
  for (TaskNumber i = 1; i <= 101; ++i) {
    many += " " + std::to_string(i);
    rows.push_back({i, std::to_string(i) + ":0"});
    meta += (i > 1 ? "," : "") + std::to_string(i) + ":0";
  }
  EXPECT_EQ(tasks("U0DANA", many), "At most 100 tasks at once; nothing was done.");
  ASSERT_EQ(home_click("U0DANA", "home_bulk:approve", "approve", rows).status, 200);
  EXPECT_TRUE(eventually([&] { return posted("At most 100 tasks at once; nothing was done."); }));
  EXPECT_EQ(slack_.count("views.open"), 0) << "no form for a list that is too long";
  HttpResult r = post_signed(*client_, "/slack/interactions",
                             view_submission("U0DANA", "tollgate.bulk", meta, "x"), kForm);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, R"("response_action":"errors")")) << r.body;
  EXPECT_TRUE(contains(r.body, "At most 100 tasks at once")) << r.body;
}

}  // namespace
}  // namespace tollgate::testing
