// Every payload among Slack's fixtures parses into the typed structures.
#include "slack/payloads.h"
#include "slack/actions.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/fixtures.h"

namespace tollgate::slack {
namespace {

std::string fixture(const std::string& name) {
  return testing::slack_fixture(name);
}

TEST(Payloads, EveryFixtureParses) {
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::slack_fixture_dir())) {
    std::string name = entry.path().filename().string();
    std::string text = fixture(name);
    SCOPED_TRACE(name);
    if (name.rfind("block_actions_payload", 0) == 0 ||
        name.rfind("view_submission_payload", 0) == 0) {
      auto in = parse_interaction(text);
      ASSERT_TRUE(in.ok()) << in.status().to_string();
      EXPECT_FALSE(in->user_id.empty());
      ++parsed;
    } else if (name.rfind("block_actions_form", 0) == 0 ||
               name.rfind("view_submission_form", 0) == 0) {
      auto form = parse_form(text);
      ASSERT_TRUE(form.ok());
      ASSERT_NE(form->get("payload"), nullptr);
      auto in = parse_interaction(*form->get("payload"));
      ASSERT_TRUE(in.ok()) << in.status().to_string();
      ++parsed;
    } else if (name.rfind("slash_command_form", 0) == 0) {
      auto form = parse_form(text);
      ASSERT_TRUE(form.ok());
      auto cmd = parse_slash_command(*form);
      ASSERT_TRUE(cmd.ok()) << cmd.status().to_string();
      EXPECT_EQ(cmd->command.front(), '/');
      ++parsed;
    } else if (name.rfind("event_", 0) == 0 || name == "url_verification.json") {
      auto ev = parse_event(text);
      ASSERT_TRUE(ev.ok()) << ev.status().to_string();
      ++parsed;
    }
  }
  EXPECT_GE(parsed, 24);
}

TEST(Payloads, SlashCommandFieldsAreDecoded) {
  auto form = parse_form(fixture("slash_command_form_body_org_install.txt"));
  ASSERT_TRUE(form.ok());
  auto c = parse_slash_command(*form);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->command, "/org-level-command");
  EXPECT_EQ(c->user_id, "W111");
  EXPECT_EQ(c->response_url, "https://hooks.slack.com/commands/T111/111/xxx");
  EXPECT_EQ(form->value("enterprise_name"), "Sandbox Org") << "'+' is a space";
}

TEST(Payloads, BlockActionsFromAMessage) {
  auto in = parse_interaction(fixture("block_actions_payload_message_button.json"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->type, "block_actions");
  EXPECT_EQ(in->user_id, "U111");
  EXPECT_EQ(in->team_id, "T0G9PQBBK");
  EXPECT_EQ(in->channel_id, "C111");
  EXPECT_EQ(in->message_ts, "1678252213.679169");
  EXPECT_EQ(in->response_url, "http://localhost:8888/webhook");
  ASSERT_EQ(in->actions.size(), 1u);
  EXPECT_EQ(in->actions[0].action_id, "button");
  EXPECT_EQ(in->actions[0].value, "clicked");
}

TEST(Payloads, ViewSubmissionStateAndMetadata) {
  auto in = parse_interaction(fixture("view_submission_payload_private_metadata.json"));
  ASSERT_TRUE(in.ok());
  ASSERT_TRUE(in->view);
  EXPECT_EQ(in->view->private_metadata, "This is for you!");
  EXPECT_EQ(in->view->callback_id, "view-id");
  EXPECT_EQ(in->view->state.at("hspI").at("maBWU").value, "test");
}

TEST(Payloads, ThreadReplyAndMessageChanged) {
  auto reply = parse_event(fixture("event_message_thread_reply_in_channel.json"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->event_id, "Ev111");
  ASSERT_TRUE(reply->message);
  EXPECT_EQ(reply->message->thread_ts, "1726133698.626339");
  EXPECT_NE(reply->message->ts, reply->message->thread_ts);
  auto changed = parse_event(fixture("event_message_changed.json"));
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->message->subtype, "message_changed");
  ASSERT_TRUE(changed->message->message);
  auto bot = parse_event(fixture("event_message_from_app_bot_no_subtype.json"));
  ASSERT_TRUE(bot.ok());
  EXPECT_FALSE(bot->message->bot_id.empty());
}

TEST(Payloads, UrlVerification) {
  auto e = parse_event(fixture("url_verification.json"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "url_verification");
  EXPECT_EQ(e->challenge, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
}

TEST(Payloads, MalformedInputIsInvalidArgumentNeverACrash) {
  EXPECT_EQ(parse_interaction("").code(), Code::invalid_argument);
  EXPECT_EQ(parse_interaction("{").code(), Code::invalid_argument);
  EXPECT_EQ(parse_interaction("[]").code(), Code::invalid_argument);
  EXPECT_EQ(parse_interaction(R"({"type":"block_actions"})").code(), Code::invalid_argument);
  EXPECT_EQ(parse_interaction(R"({"type":"block_actions","user":{"id":"U1"},"actions":[]})").code(),
            Code::invalid_argument);
  EXPECT_EQ(parse_event(R"({"type":"event_callback","event_id":"Ev1"})").code(),
            Code::invalid_argument);
  EXPECT_EQ(parse_event("{\"type\":\"x\"} trailing").code(), Code::invalid_argument);
  EXPECT_EQ(parse_event("{\"type\":\"\xff\xfe\"}").code(), Code::invalid_argument)
      << "invalid UTF-8";
  std::string deep(100000, '[');
  EXPECT_EQ(parse_event(deep).code(), Code::invalid_argument);
  EXPECT_EQ(parse_form("a=%zz").code(), Code::invalid_argument);
  EXPECT_EQ(parse_slash_command(*parse_form("text=x")).code(), Code::invalid_argument);
}

TEST(Payloads, FormEncodingRoundTrips) {
  std::string body = form_encode({{"payload", "{\"a\": \"b c&d=é+\"}"}});
  auto f = parse_form(body);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->value("payload"), "{\"a\": \"b c&d=é+\"}");
}

// An access button's value round-trips any ids, ':' and '%' included, and
// anything else a forged click could carry is refused.
TEST(Payloads, AccessRefsRoundTripAndRefuseWhatIsMalformed) {
  for (auto [app, resource] : {std::pair{"aws", "staging"},
                               std::pair{"aws", "arn:aws:iam::123:role/admin"},
                               std::pair{"100%", "a%3Ab"}}) {
    auto ref = parse_access_ref(access_ref(app, resource));
    ASSERT_TRUE(ref.has_value()) << access_ref(app, resource);
    EXPECT_EQ(ref->app, app);
    EXPECT_EQ(ref->resource, resource);
  }
  EXPECT_EQ(access_ref("aws", "arn:x"), "aws:arn%3Ax");
  for (const char* bad : {"", "aws", ":staging", "aws:", "a:b:c", "aws:st%2Fx", "aws:st%", "aws:%3"})
    EXPECT_FALSE(parse_access_ref(bad).has_value()) << bad;
  EXPECT_FALSE(parse_access_ref("a:" + std::string(2000, 'b')).has_value());
}

}  // namespace
}  // namespace tollgate::slack
