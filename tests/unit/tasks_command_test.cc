// The /tasks grammar, form by form, with its errors.
#include "edge/tasks_command.h"

#include <gtest/gtest.h>

#include "slack/home_view.h"
#include "tests/support/test_org.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

using Verb = TasksCommand::Verb;

// What `/tasks <text>` is refused with, as the user reads it.
std::string refusal(std::string_view text) { return parse_tasks_command(text).status().message(); }

TEST(TasksCommand, HelpAndList) {
  EXPECT_EQ(parse_tasks_command("  help ")->verb, Verb::help);
  auto empty = parse_tasks_command("");
  EXPECT_EQ(empty->verb, Verb::list);
  EXPECT_EQ(empty->tab, "");
  EXPECT_EQ(parse_tasks_command("list revocations")->tab, "revocations");
  EXPECT_EQ(parse_tasks_command("provisioning")->tab, "provisioning");
  EXPECT_EQ(parse_tasks_command("list completed")->tab, "completed");
  EXPECT_EQ(
      parse_tasks_command("list later").status().message(),
      "`later` is not a list: requests, revocations, provisioning, deprovisioning or completed.");
}

TEST(TasksCommand, ShowAndDecisionsOnManyTasksWithOneComment) {
  EXPECT_EQ(parse_tasks_command("show #42")->tasks, std::vector<TaskNumber>{42});
  EXPECT_EQ(refusal("show"), "Usage: `/tasks show 42`");
  auto a = parse_tasks_command("approve 42 #43 44 -- quarterly review -- all fine");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->verb, Verb::act);
  EXPECT_EQ(a->action, Action::approve);
  EXPECT_EQ(a->tasks, (std::vector<TaskNumber>{42, 43, 44}));
  EXPECT_EQ(a->text, "quarterly review -- all fine")
      << "the comment is everything after the first --";
  auto w = parse_tasks_command("wont-provision 7 -- licence limit");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->action, Action::wont_provision);
  EXPECT_EQ(refusal("deny"), "Usage: `/tasks deny 42 [43 …] [-- comment]`");
  EXPECT_EQ(refusal("deny 42 because"), "`because` is not a task number (comments go after `--`)");
}

TEST(TasksCommand, ReassignWithAnEscapedMentionAndComment) {
  auto c = parse_tasks_command("reassign #42 <@U0CARL|carl> on leave until  Monday");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->verb, Verb::reassign);
  EXPECT_EQ(c->tasks[0], 42);
  EXPECT_EQ(c->user.slack_user_id, "U0CARL");
  EXPECT_EQ(c->text, "on leave until  Monday");
  EXPECT_EQ(parse_tasks_command("reassign 7 @carl busy")->user.person, "carl");
  auto m = parse_tasks_command("comment 42 see the runbook");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text, "see the runbook");
}

TEST(TasksCommand, RequestAndRevoke) {
  auto r = parse_tasks_command(
      "request github/admin for <@U0ANA|ana> 8h --emergency -- rotate the keys");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->verb, Verb::request);
  EXPECT_EQ(r->target, "github/admin");
  EXPECT_EQ(r->user.slack_user_id, "U0ANA");
  EXPECT_EQ(r->duration, parse_duration("8h"));
  EXPECT_TRUE(r->emergency);
  EXPECT_EQ(r->text, "rotate the keys");
  EXPECT_EQ(refusal("request github/admin"),
            "Usage: `/tasks request app/resource [for @user] [8h] [--emergency] -- why` (the "
            "justification after `--` "
            "is required)");
  EXPECT_EQ(parse_tasks_command("request github/admin soon -- x").code(), Code::invalid_argument);
  auto v = parse_tasks_command("revoke <@U0BO> aws/prod-admin -- left the team");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->user.slack_user_id, "U0BO");
  EXPECT_EQ(v->target, "aws/prod-admin");
  EXPECT_EQ(v->text, "left the team");
  EXPECT_EQ(parse_tasks_command("revoke aws/prod-admin -- x").code(), Code::invalid_argument);
}

TEST(TasksCommand, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(refusal("reassign 42 <@U1>"),
            "Usage: `/tasks reassign 42 @user reason…` (the reason is required)");
  EXPECT_EQ(refusal("reassign x42 <@U1> r"), "`x42` is not a task number");
  EXPECT_EQ(refusal("reassign 42 carl r"), "`carl` is not a user: mention them with @");
  EXPECT_EQ(refusal("frobnicate"), "I don't know `/tasks frobnicate`. Try `/tasks help`.");
  EXPECT_EQ(parse_tasks_command("reassign 42 <@U1;drop> r").code(), Code::invalid_argument);
}

TEST(TasksCommand, DelegateOnOffAndShow) {
  auto on = parse_tasks_command("delegate <@UOLGA|olga> until 2026-12-24");
  ASSERT_TRUE(on.ok()) << on.status().to_string();
  EXPECT_EQ(on->verb, TasksCommand::Verb::delegate);
  EXPECT_EQ(on->user.slack_user_id, "UOLGA");
  EXPECT_EQ(format_iso8601(*on->until), "2026-12-25T00:00:00.000Z") << "through the end of the day";
  auto off = parse_tasks_command("delegate off");
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->off);
  auto show = parse_tasks_command("delegate");
  ASSERT_TRUE(show.ok());
  EXPECT_FALSE(show->off);
  EXPECT_FALSE(show->until.has_value());
  EXPECT_EQ(refusal("delegate <@UOLGA> until christmas"),
            "`christmas` is not a date such as 2026-12-24");
  EXPECT_EQ(refusal("delegate <@UOLGA> 2026-12-24"),
            "Usage: `/tasks delegate @user until 2026-12-24` or `/tasks delegate off`");
  // Tollgate's own actions are not commands.
  EXPECT_EQ(refusal("remind 42"), "I don't know `/tasks remind`. Try `/tasks help`.");
  EXPECT_EQ(parse_tasks_command("expire 42").code(), Code::invalid_argument);
}

TEST(TasksCommand, TargetsMatchByIdOrNameWithSuggestions) {
  auto dir = testing::load_org();
  EXPECT_EQ(*resolve_target(*dir, "github/admin"),
            std::make_pair(std::string("github"), std::string("admin")));
  EXPECT_EQ(*resolve_target(*dir, "GitHub/Org admin"),
            std::make_pair(std::string("github"), std::string("admin")));
  EXPECT_EQ(resolve_target(*dir, "githb/admin").status().message(),
            "No app `githb`. Did you mean GitHub (`github`)?");
  EXPECT_EQ(resolve_target(*dir, "gitlab/admin").status().message(),
            "No app `gitlab`. Did you mean GitHub (`github`)?");
  EXPECT_EQ(resolve_target(*dir, "jira/admin").status().message(),
            "No app `jira`. Apps: GitHub (`github`), AWS (`aws`)");
  EXPECT_EQ(
      resolve_target(*dir, "github/owner").status().message(),
      "GitHub has no resource `owner`. Its resources: Org admin (`admin`), Member (`member`)");
  EXPECT_EQ(resolve_target(*dir, "github").code(), Code::invalid_argument);
}

TEST(TasksCommand, AccessExtendAndDone) {
  auto mine = parse_tasks_command("access");
  ASSERT_TRUE(mine.ok()) << mine.status().to_string();
  EXPECT_EQ(mine->verb, Verb::access);
  EXPECT_TRUE(mine->user.slack_user_id.empty() && mine->user.person.empty()) << "your own";
  auto theirs = parse_tasks_command("access <@U0BO|bo>");
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(theirs->user.slack_user_id, "U0BO");
  EXPECT_EQ(parse_tasks_command("access @bo")->user.person, "bo");
  EXPECT_EQ(refusal("access bo"), "Usage: `/tasks access [@user]`");
  EXPECT_EQ(refusal("access <@U0BO> <@U0ANA>"), "Usage: `/tasks access [@user]`");

  auto e = parse_tasks_command("extend aws/staging 8h -- the migration runs late");
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->verb, Verb::extend);
  EXPECT_EQ(e->target, "aws/staging");
  EXPECT_EQ(e->duration, parse_duration("8h"));
  EXPECT_EQ(e->text, "the migration runs late");
  // Without `--` the words after the target (and duration) are the justification.
  auto words = parse_tasks_command("extend aws/staging aws migration runs late ");
  ASSERT_TRUE(words.ok());
  EXPECT_FALSE(words->duration.has_value());
  EXPECT_EQ(words->text, "aws migration runs late");
  EXPECT_EQ(parse_tasks_command("extend aws/staging 2d still needed")->duration,
            parse_duration("2d"));
  EXPECT_EQ(refusal("extend aws/staging 8h"),
            "Usage: `/tasks extend app/resource [8h] -- why` (the justification is required)");
  EXPECT_EQ(refusal("extend aws/staging soon -- x"),
            "I don't understand `soon`. Usage: `/tasks extend app/resource [8h] -- why` (the "
            "justification is required)");

  auto d = parse_tasks_command("done aws/staging");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->verb, Verb::end);
  EXPECT_EQ(d->target, "aws/staging");
  EXPECT_EQ(refusal("done aws/staging now"), "Usage: `/tasks done app/resource`");
  // `/tasks done` alone is still the completed list.
  auto list = parse_tasks_command("done");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->verb, Verb::list);
  EXPECT_EQ(list->tab, "completed");
}

TEST(TasksCommand, ApproveForLessTime) {
  auto a = parse_tasks_command("approve 42 --for 4h -- enough for the fix");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->action, Action::approve);
  EXPECT_EQ(a->tasks, std::vector<TaskNumber>{42});
  EXPECT_EQ(a->duration, parse_duration("4h"));
  EXPECT_EQ(a->text, "enough for the fix");
  EXPECT_EQ(parse_tasks_command("approve 42 43 --for 1d")->duration, parse_duration("1d"));
  EXPECT_FALSE(parse_tasks_command("approve 42 -- ok")->duration.has_value());
  EXPECT_EQ(refusal("approve 42 --for 4x"), "`4x` is not a duration such as 30m, 4h, 7d or 2w");
  EXPECT_EQ(refusal("approve 42 --for"),
            "Say how long after `--for`: `/tasks approve 42 --for 4h`");
  EXPECT_EQ(refusal("deny 42 --for 4h"),
            "`--for` goes with approve only: `/tasks approve 42 --for 4h`");
  // `--for` after the comment's `--` is part of the comment.
  EXPECT_EQ(parse_tasks_command("approve 42 -- --for 4h")->text, "--for 4h");
}

TEST(TasksCommand, RetryAConnectorThatFailed) {
  auto r = parse_tasks_command("retry #42");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->verb, Verb::act);
  EXPECT_EQ(r->action, Action::retry);
  EXPECT_EQ(r->tasks, std::vector<TaskNumber>{42});
  EXPECT_EQ(parse_tasks_command("retry 42 43 -- the token was rotated")->tasks,
            (std::vector<TaskNumber>{42, 43}));
  EXPECT_EQ(refusal("retry"), "Usage: `/tasks retry 42 [43 …] [-- comment]`");
  // Tollgate's own actions are no verbs of people's, under any spelling.
  for (const char* own : {"connector-done 42", "connector_failed 42", "connector-accepted 42",
                          "remind 42", "escalate 42", "expire 42"}) {
    EXPECT_EQ(parse_tasks_command(own).code(), Code::invalid_argument) << own;
  }
  EXPECT_NE(tasks_help().find("`/tasks retry 42`"), std::string::npos);
}

TEST(TasksCommand, HelpNamesTheAccessForms) {
  std::string help = tasks_help();
  for (const char* form : {"/tasks access [@user]", "/tasks extend aws/staging 8h -- why",
                           "/tasks done aws/staging", "/tasks approve 42 --for 4h"}) {
    EXPECT_NE(help.find(form), std::string::npos) << form;
  }
}

TEST(TasksCommand, AccessLineSaysItsEndAndHowItWasGranted) {
  auto dir = testing::load_org();
  Time now = *parse_iso8601("2026-11-30T14:00:00Z");
  Holding h{.person = "ana",
            .app = "aws",
            .resource = "staging",
            .since = *parse_date("2026-11-02"),
            .expires_at = now + std::chrono::hours(3),
            .task = 12};
  EXPECT_EQ(slack::access_line(*dir, h, now).str(),
            "*AWS / Staging* — since 2026-11-02, ends in 3h (2026-11-30 17:00 UTC) · request #12");
  h.expires_at = now + std::chrono::hours(50) + std::chrono::minutes(20);
  EXPECT_EQ(
      slack::access_line(*dir, h, now).str(),
      "*AWS / Staging* — since 2026-11-02, ends in 2d2h (2026-12-02 16:20 UTC) · request #12");
  h.expires_at.reset();
  h.task = 0;
  h.how = GrantSource::configuration;
  EXPECT_EQ(slack::access_line(*dir, h, now).str(),
            "*AWS / Staging* — since 2026-11-02, no end · configuration");
  h.ending_task = 7;
  EXPECT_EQ(slack::access_line(*dir, h, now).str(),
            "*AWS / Staging* — since 2026-11-02, no end · configuration · being removed: #7");
}

}  // namespace
}  // namespace tollgate
