#include "bot/tasks_command.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

TEST(TasksCommand, HelpAndEmpty) {
  EXPECT_EQ(parse_tasks_command("")->verb, TasksCommand::Verb::help);
  EXPECT_EQ(parse_tasks_command("  help ")->verb, TasksCommand::Verb::help);
}

TEST(TasksCommand, ReassignWithAnEscapedMention) {
  auto c = parse_tasks_command("reassign #42 <@U0CARL|carl> on leave until  Monday");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->verb, TasksCommand::Verb::reassign);
  EXPECT_EQ(c->task, 42);
  EXPECT_EQ(c->user.slack_user_id, "U0CARL");
  EXPECT_EQ(c->text, "on leave until  Monday");
  auto plain = parse_tasks_command("reassign 7 @carl busy");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->user.person, "carl");
}

TEST(TasksCommand, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(parse_tasks_command("reassign 42 <@U1>").status().message(),
            "Usage: `/tasks reassign 42 @user reason…` (the reason is required)");
  EXPECT_EQ(parse_tasks_command("reassign x42 <@U1> r").status().message(),
            "`x42` is not a task number");
  EXPECT_EQ(parse_tasks_command("reassign 42 carl r").status().message(),
            "`carl` is not a user: mention them with @");
  EXPECT_EQ(parse_tasks_command("frobnicate").status().message(),
            "I don't know `/tasks frobnicate`. Try `/tasks help`.");
  EXPECT_EQ(parse_tasks_command("reassign 42 <@U1;drop> r").code(), Code::invalid_argument);
}

}  // namespace
}  // namespace tollgate
