// The access ledger through /tasks, end to end: `/tasks access` (yours, a
// report's, refused to others), `/tasks done`, `/tasks extend` and
// `/tasks approve N --for <duration>`, against the real binary and the fake Slack.
#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

class AccessCommandsTest : public EdgeTest {
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

  // Bo asks for AWS staging for 8h and Dana approves it for `approved_for`: task #1.
  void bo_holds_staging_for(const std::string& approved_for) {
    std::string asked = tasks("U0BO", "request aws/staging 8h -- the data migration");
    ASSERT_TRUE(contains(asked, "as #1")) << asked;
    std::string approved = tasks("U0DANA", "approve 1 --for " + approved_for + " -- enough");
    ASSERT_TRUE(contains(approved, ":white_check_mark: Approved #1")) << approved;
  }
};

TEST_F(AccessCommandsTest, ShowsAConfigurationGrantAndATimeBoundOneApprovedForLess) {
  start_bot();
  bo_holds_staging_for("1h");
  EXPECT_EQ(task(1).duration, parse_duration("1h")) << "approved for less than the 8h asked";
  std::string mine = tasks("U0BO", "access");
  EXPECT_TRUE(contains(mine, "*Your access (3)*")) << mine;
  EXPECT_TRUE(contains(mine,
                       "*GitHub / Repository maintainer* — since 2022-10-01, no end · "
                       "configuration"))
      << mine;
  EXPECT_TRUE(contains(mine, "*AWS / Staging developer* — since " +
                                 format_date(SystemClock().now()) + ", ends in 1h ("))
      << mine;
  EXPECT_TRUE(contains(mine, " · request #1")) << mine;
  // A bad duration is refused, naming it; nothing decided.
  EXPECT_EQ(tasks("U0DANA", "approve 1 --for 1x"),
            "`1x` is not a duration such as 30m, 4h, 7d or 2w");
}

TEST_F(AccessCommandsTest, ManagersAdminsAndAppOwnersSeeOthersAccessStrangersDoNot) {
  start_bot();
  // Hugo (Gita's report) gets AWS staging next to his Snowflake PII reader.
  ASSERT_TRUE(contains(tasks("U0HUGO", "request aws/staging -- dashboards"), "as #1"));
  ASSERT_TRUE(contains(tasks("U0GITA", "approve 1"), ":white_check_mark: Approved #1"));
  std::string by_manager = tasks("U0GITA", "access <@U0HUGO|hugo>");
  EXPECT_TRUE(contains(by_manager, "*Hugo Weber's access (2)*")) << by_manager;
  EXPECT_TRUE(contains(by_manager, "Snowflake / PII reader"));
  EXPECT_TRUE(contains(by_manager, "AWS / Staging developer"));
  // Up the chain: Gita's manager Dana, and an admin.
  EXPECT_TRUE(contains(tasks("U0DANA", "access <@U0HUGO>"), "*Hugo Weber's access (2)*"));
  EXPECT_TRUE(contains(tasks("U0SAM", "access @hugo"), "*Hugo Weber's access (2)*"));
  // Eve owns AWS (and GitHub), not Snowflake: only the AWS row.
  std::string by_owner = tasks("U0EVE", "access <@U0HUGO>");
  EXPECT_TRUE(contains(by_owner, "*Hugo Weber's access to your apps (1)*")) << by_owner;
  EXPECT_TRUE(contains(by_owner, "AWS / Staging developer"));
  EXPECT_FALSE(contains(by_owner, "Snowflake"));
  // Anyone else is refused, and told what they may see.
  EXPECT_EQ(tasks("U0WENDY", "access <@U0HUGO>"),
            "You can see your own access, your reports' (as their manager) and, as an app owner, "
            "the access to your apps: not Hugo Weber's.");
  EXPECT_EQ(tasks("U0WENDY", "access <@U0NOBODY>"),
            "The Slack user U0NOBODY is not in Tollgate's directory.");
}

TEST_F(AccessCommandsTest, DoneEndsTheCallersAccessToAnAutomaticApp) {
  start_bot();
  ASSERT_TRUE(contains(tasks("U0CARL", "access"), "AWS / Staging developer"));
  EXPECT_EQ(tasks("U0CARL", "done aws/staging"),
            "Ended Carl Novak's access to AWS / Staging developer");
  std::string after = tasks("U0CARL", "access");
  EXPECT_FALSE(contains(after, "Staging developer")) << after;
  EXPECT_TRUE(contains(after, "GitHub / Repository maintainer")) << "the other rows stay";
  EXPECT_EQ(tasks("U0CARL", "done aws/staging"),
            "Carl Novak does not hold AWS / Staging developer");
  EXPECT_EQ(tasks("U0ANA", "done aws"),
            "Say the app and the resource as `app/resource`, e.g. `github/admin`.");
}

TEST_F(AccessCommandsTest, ExtendOpensAnExtensionOfTimeBoundAccessOnly) {
  start_bot();
  bo_holds_staging_for("2h");
  std::string out = tasks("U0BO", "extend aws/staging 4h -- the migration runs late");
  EXPECT_TRUE(contains(out, "Asked to extend AWS / Staging developer as #2: with Dana Reyes"))
      << out;
  Task t = task(2);
  EXPECT_TRUE(t.extension);
  EXPECT_EQ(t.requester, "bo");
  EXPECT_EQ(t.subject, "bo");
  EXPECT_EQ(t.duration, parse_duration("4h"));
  EXPECT_EQ(t.justification, "the migration runs late");
  // Held without end: the service's refusal. Not held: sent to /tasks request.
  EXPECT_EQ(tasks("U0BO", "extend github/maintainer 1d -- x"),
            "Bo Chen's access to GitHub / Repository maintainer is held without end since "
            "2022-10-01: there is nothing to request");
  EXPECT_EQ(tasks("U0BO", "extend okta/app-admin 1d -- x"),
            "You do not hold Okta / Application admin: `/tasks request okta/app-admin -- why` "
            "asks for it.");
}

}  // namespace
}  // namespace tollgate::testing
