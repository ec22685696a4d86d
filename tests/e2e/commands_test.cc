// Every /tasks form end to end, answered ephemerally in the acknowledgement.
#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

class CommandsTest : public EdgeTest {
 protected:
  // The ephemeral text answered to `/tasks <text>` typed by `user`.
  std::string tasks(const std::string& user, const std::string& text) {
    HttpResult r = tasks_command(user, text);
    EXPECT_EQ(r.status, 200);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    EXPECT_EQ(json::str(d, "response_type"), "ephemeral") << r.body;
    return json::str(d, "text");
  }
};

TEST_F(CommandsTest, ListAndShow) {
  TaskNumber a = open_request(req("ana", "aws", "staging"));
  TaskNumber b = open_request(req("bo", "github", "maintainer"));
  start_bot();
  std::string list = tasks("U0DANA", "");
  EXPECT_TRUE(contains(list, "*Your open tasks (2)*")) << list;
  EXPECT_TRUE(contains(
      list, "*#" + std::to_string(a) + "* Access request · Ana Silva → AWS / Staging developer"));
  EXPECT_TRUE(contains(list, "*#" + std::to_string(b) +
                                 "* Access request · Bo Chen → GitHub / Repository maintainer"));
  EXPECT_EQ(tasks("U0DANA", "revocations"), "Your tasks: revocations: none.");
  EXPECT_EQ(tasks("U0DANA", "list completed"), "Your tasks: completed: none.");
  std::string show = tasks("U0DANA", "show " + std::to_string(b));
  for (const char* part :
       {"*Plan* · Manager then app owner", "1. Manager — waiting for Dana Reyes  ← you",
        "2. App owners — then Eve Adams", "3. Provisioning — then Pat Murphy, Quinn Taylor"}) {
    EXPECT_TRUE(contains(show, part)) << part << "\n" << show;
  }
  // Need to know: the same line for a task that is not yours and one that does not exist.
  EXPECT_EQ(tasks("U0WENDY", "show " + std::to_string(b)),
            "#" + std::to_string(b) + " is not one of your tasks");
  EXPECT_EQ(tasks("U0DANA", "show 999"), "#999 is not one of your tasks");
}

TEST_F(CommandsTest, DecideSeveralTasksWithOneComment) {
  TaskNumber a = open_request(req("ana", "aws", "staging"));
  TaskNumber b = open_request(req("bo", "aws", "staging"));
  TaskNumber other = open_request(req("wendy", "aws", "staging"));  // Victor's
  start_bot();
  std::string out = tasks("U0DANA", "approve " + std::to_string(a) + " " + std::to_string(b) + " " +
                                        std::to_string(other) + " -- quarterly access review");
  EXPECT_TRUE(
      contains(out, ":white_check_mark: Approved #" + std::to_string(a) + ": access granted"))
      << out;
  EXPECT_TRUE(
      contains(out, ":white_check_mark: Approved #" + std::to_string(b) + ": access granted"));
  EXPECT_TRUE(contains(out, ":no_entry: #" + std::to_string(other) + ": #" +
                                std::to_string(other) + " is not one of your tasks"));
  EXPECT_EQ(task(a).state, TaskState::granted);
  EXPECT_EQ(task(a).comments.back().text, "quarterly access review");
  EXPECT_EQ(task(other).state, TaskState::reviewing);
  EXPECT_EQ(tasks("U0DANA", "deny " + std::to_string(a)),
            ":no_entry: #" + std::to_string(a) + ": #" + std::to_string(a) +
                " was already approved by Dana Reyes at " +
                format_instant(*task(a).steps[0].decided_at));
}

TEST_F(CommandsTest, RequestNotifiesTheFirstReviewerAndNamesWhatIsUnknown) {
  start_bot();
  std::string out = tasks("U0ANA", "request GitHub/maintainer 7d -- review the release branch");
  EXPECT_TRUE(contains(
      out, "Requested GitHub / Repository maintainer as #1: with Dana Reyes (step 1 of 3)."))
      << out;
  Task t = task(1);
  EXPECT_EQ(t.requester, "ana");
  EXPECT_EQ(t.justification, "review the release branch");
  EXPECT_EQ(t.duration, parse_duration("7d"));
  ASSERT_TRUE(has_dms("U0DANA", 1)) << "the first step's reviewer is notified like any other";
  EXPECT_EQ(tasks("U0ANA", "request githb/maintainer -- x"),
            "No app `githb`. Did you mean GitHub (`github`)?");
  EXPECT_TRUE(contains(tasks("U0ANA", "request github/owner -- x"),
                       "GitHub has no resource `owner`. Its resources: "));
  EXPECT_EQ(tasks("U0ANA", "request aws/prod-admin 2d -- x"),
            "2d is longer than the 8h allowed for AWS / Production admin");
  EXPECT_TRUE(contains(tasks("U0BO", "request aws/staging for <@U0ANA|ana> -- x"),
                       "can request access for them"));
  std::string emergency = tasks("U0ANA", "request aws/prod-admin 4h --emergency -- prod is down");
  EXPECT_TRUE(contains(emergency, "as #2: with Lee Kim and Nora Blake")) << emergency;
  EXPECT_TRUE(task(2).emergency);
}

TEST_F(CommandsTest, RevokeProposesARemoval) {
  start_bot();
  std::string out = tasks("U0DANA", "revoke <@U0BO|bo> github/admin -- left the platform team");
  EXPECT_TRUE(contains(
      out, "Proposed revocation of GitHub / Org admin as #1: with Eve Adams (step 1 of 2)."))
      << out;
  EXPECT_EQ(task(1).kind, TaskKind::revoke);
  ASSERT_TRUE(has_dms("U0EVE", 1));
  EXPECT_TRUE(contains(dms("U0EVE")[0].blocks, "Revocation #1"));
  EXPECT_TRUE(contains(dms("U0EVE")[0].blocks, "Bo Chen last used this access"));
  EXPECT_TRUE(contains(tasks("U0WENDY", "revoke <@U0BO> github/admin -- x"),
                       "can propose this revocation"));
  EXPECT_EQ(tasks("U0DANA", "revoke <@U0NOBODY> github/admin -- x"),
            "The Slack user U0NOBODY is not in Tollgate's directory.");
}

TEST_F(CommandsTest, SyntaxErrorsAndHelp) {
  start_bot();
  EXPECT_EQ(tasks("U0DANA", "approve"), "Usage: `/tasks approve 42 [43 …] [-- comment]`");
  EXPECT_EQ(tasks("U0DANA", "bogus"), "I don't know `/tasks bogus`. Try `/tasks help`.");
  std::string help = tasks("U0DANA", "help");
  for (const char* form :
       {"/tasks list", "/tasks show 42", "/tasks approve 42 43", "/tasks reassign 42 @user",
        "/tasks comment 42", "/tasks request github/admin", "/tasks revoke @user"}) {
    EXPECT_TRUE(contains(help, form)) << form;
  }
}

}  // namespace
}  // namespace tollgate::testing
