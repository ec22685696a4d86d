// The Block Kit vocabulary: Slack's limits hold whatever the renderers give it,
// and user text is escaped and cut safely.
#include "slack/block_kit.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

namespace tollgate::slack::kit {
namespace {

using namespace literals;

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

// Whether `s` is well-formed UTF-8.
bool utf8(const std::string& s) { return valid_utf8(s) == s; }

TEST(BlockKit, UserTextIsEscapedSoThatNoMentionOrLinkIsLive) {
  Mrkdwn m = esc("<!channel> <https://evil.example|Approve in Okta> & <@U123>");
  EXPECT_EQ(m.str(),
            "&lt;!channel&gt; &lt;https://evil.example|Approve in Okta&gt; &amp; &lt;@U123&gt;");
  EXPECT_EQ(("*Why*\n"_md + esc("a<b")).str(), "*Why*\na&lt;b");
}

TEST(BlockKit, AMentionIsLiveOnlyForASlackUserId) {
  EXPECT_EQ(Mrkdwn::mention("U0DANA").str(), "<@U0DANA>");
  EXPECT_EQ(Mrkdwn::mention("W123").str(), "<@W123>");
  EXPECT_EQ(Mrkdwn::mention("U1><!channel").str(), "U1&gt;&lt;!channel");
  EXPECT_EQ(Mrkdwn::mention("u1").str(), "u1");
}

TEST(BlockKit, CutCountsAnEmojiAsTwoAndNeverSplitsOne) {
  std::string emoji = "\xF0\x9F\x94\x91";  // U+1F511: four bytes, two UTF-16 units
  std::string text;
  for (int i = 0; i < 10; ++i) text += emoji;
  EXPECT_EQ(text_length(text), 20u);
  EXPECT_EQ(text_length("é…a"), 3u);
  EXPECT_EQ(cut(text, 20), text);
  for (std::size_t max = 1; max < 20; ++max) {
    std::string c = cut(text, max);
    EXPECT_TRUE(utf8(c)) << max;
    EXPECT_LE(text_length(c), max) << max;
    EXPECT_GE(text_length(c), max - 1) << max;
    EXPECT_EQ(c.substr(c.size() - 3), "…");
  }
}

TEST(BlockKit, UserTextCannotStartALineOfItsOwn) {
  EXPECT_EQ(Mrkdwn::line("ok\n:white_check_mark: *Approved*").str(),
            "ok :white_check_mark: *Approved*");
  EXPECT_EQ(Mrkdwn::quote("ok\r\n\n:white_check_mark: *Approved by Security* <x>").str(),
            ">ok\n>\n>:white_check_mark: *Approved by Security* &lt;x&gt;");
  EXPECT_EQ(Mrkdwn::quote("one").str(), ">one");
}

TEST(BlockKit, MrkdwnIsVerbatimSoThatSlackLinksAndMentionsNothingByItself) {
  Blocks b;
  b.section(esc("see https://evil.example @channel #general"));
  b.fields({esc("a")});
  b.context({esc("b")});
  auto d = parse(b.json());
  EXPECT_TRUE(d[0]["text"]["verbatim"].GetBool());
  EXPECT_TRUE(d[1]["fields"][0]["verbatim"].GetBool());
  EXPECT_TRUE(d[2]["elements"][0]["verbatim"].GetBool());
  EXPECT_FALSE(d[0]["text"].HasMember("emoji"));
}

TEST(BlockKit, TruncatedMrkdwnNeverEndsInsideAnEntityOrAToken) {
  Mrkdwn m = esc("abc&def");  // "abc&amp;def"
  for (std::size_t max = 1; max < 11; ++max) {
    std::string s = m.truncated(max).str();
    std::size_t amp = s.find('&');
    if (amp != std::string::npos) {
      EXPECT_EQ(s.substr(amp, 5), "&amp;") << max << ": " << s;
    }
    EXPECT_LE(text_length(s), max);
  }
  EXPECT_EQ(m.truncated(6).str(), "abc…");
  Mrkdwn mention = "hi "_md + Mrkdwn::mention("U0DANA");  // "hi <@U0DANA>"
  EXPECT_EQ(mention.truncated(8).str(), "hi …");
}

TEST(BlockKit, InvalidUtf8IsReplaced) {
  std::string bad = "ok \xC3 \xED\xA0\x80 \xF0\x9F";  // truncated, surrogate, truncated
  EXPECT_TRUE(utf8(valid_utf8(bad)));
  EXPECT_TRUE(utf8(esc(bad).str()));
  EXPECT_TRUE(utf8(cut(bad, 4)));
}

TEST(BlockKit, ASingleSecondaryActionIsAButtonNotAOneOptionOverflow) {
  auto one = menu("more", {{"View details", "details:1:0"}});
  ASSERT_EQ(one.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Button>(one[0]));
  EXPECT_EQ(std::get<Button>(one[0]).value, "details:1:0");
  auto three = menu("more", {{"a", "1"}, {"b", "2"}, {"c", "3"}});
  ASSERT_TRUE(std::holds_alternative<Overflow>(three[0]));
  auto seven = menu("more", {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"},
                             {"f", "6"}, {"g", "7"}});
  EXPECT_EQ(std::get<Overflow>(seven[0]).options.size(), 5u);
  EXPECT_TRUE(menu("more", {}).empty());
}

TEST(BlockKit, AnOverflowWithOneOptionIsNeverSent) {
  Blocks b;
  b.actions("a", {Overflow{"more", {{"only", "1"}}}});
  EXPECT_EQ(b.size(), 0u);  // and an actions block with no element is left out
  EXPECT_EQ(b.json(), "[]");
}

TEST(BlockKit, AMessageHoldsAtMostFiftyBlocksAndAViewAHundred) {
  Blocks message(Surface::message);
  Blocks modal(Surface::modal);
  for (int i = 0; i < 120; ++i) {
    message.section(esc("row"));
    modal.section(esc("row"));
  }
  EXPECT_EQ(parse(message.json()).Size(), 50u);
  EXPECT_EQ(parse(modal.json()).Size(), 100u);
  EXPECT_EQ(message.room(), 0u);
}

TEST(BlockKit, TextsAreCutToTheirLimits) {
  std::string long_text(5000, 'x');
  Blocks b;
  b.header(long_text);
  b.section(esc(long_text));
  b.fields({esc(long_text)});
  b.actions("act", {Button{"go", long_text, long_text, Style::primary, std::nullopt}});
  auto d = parse(b.json());
  EXPECT_EQ(text_length(d[0]["text"]["text"].GetString()), 150u);
  EXPECT_EQ(text_length(d[1]["text"]["text"].GetString()), 3000u);
  EXPECT_EQ(text_length(d[2]["fields"][0]["text"].GetString()), 2000u);
  EXPECT_EQ(text_length(d[3]["elements"][0]["text"]["text"].GetString()), 75u);
  EXPECT_EQ(text_length(d[3]["elements"][0]["value"].GetString()), 2000u);
}

TEST(BlockKit, DuplicateIdsAreDropped) {
  Blocks b;
  b.section(esc("one"), "row:1");
  b.section(esc("two"), "row:1");
  b.actions("x", {Button{"go", "Go", "1"}, Button{"go", "Again", "2"}});
  auto d = parse(b.json());
  EXPECT_STREQ(d[0]["block_id"].GetString(), "row:1");
  EXPECT_FALSE(d[1].HasMember("block_id"));
  EXPECT_EQ(d[2]["elements"].Size(), 1u);
}

TEST(BlockKit, ModalTitlesAndMetadataFitTheirLimits) {
  Modal m;
  m.callback_id = "cb";
  m.title = "A title much longer than twenty-four characters";
  m.submit = "Submit";
  m.private_metadata = std::string(4000, '1');
  m.blocks.section(esc("x"));
  auto d = parse(m.json());
  EXPECT_EQ(text_length(d["title"]["text"].GetString()), 24u);
  EXPECT_EQ(text_length(d["private_metadata"].GetString()), 3000u);
  EXPECT_FALSE(d.HasMember("close"));
}

TEST(BlockKit, BodiesCarryTheFallbackTextEscapedAndCut) {
  Message m = text_message(esc("<!here> " + std::string(4000, 'y')));
  auto d = parse(post_message("D1", m, "1.2"));
  std::string text = d["text"].GetString();
  EXPECT_EQ(text.rfind("&lt;!here&gt; ", 0), 0u);
  EXPECT_EQ(text_length(text), 3000u);
  EXPECT_STREQ(d["thread_ts"].GetString(), "1.2");
  EXPECT_FALSE(d.HasMember("blocks"));
  auto e = parse(errors_answer("reason", "A reason is required."));
  EXPECT_STREQ(e["response_action"].GetString(), "errors");
  EXPECT_STREQ(e["errors"]["reason"].GetString(), "A reason is required.");
}

}  // namespace
}  // namespace tollgate::slack::kit
