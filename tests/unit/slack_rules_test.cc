// Slack's rules for payloads (sandbox/slack_rules.h): for each rule a payload that
// breaks it is refused with Slack's error code and a message pointing at the offending
// value, and payloads from Slack's own reference pages are accepted. Then the fake Slack
// applying them (violations, Slack's error shape), the TOLLGATE_SLACK_PAYLOADS recording,
// and post_signed's check of Tollgate's answers.
#include "sandbox/slack_rules.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <unistd.h>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "http/client.h"
#include "sandbox/fake_slack.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"

namespace tollgate::sandbox {
namespace {

std::string times(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A chat.postMessage body with these blocks.
std::string msg(const std::string& blocks) {
  return R"({"channel":"C123","text":"fallback","blocks":[)" + blocks + "]}";
}
std::string section(const std::string& text_json) {
  return R"({"type":"section","text":)" + text_json + "}";
}
std::string mrkdwn(const std::string& text) {
  return R"({"type":"mrkdwn","text":")" + text + R"("})";
}
std::string plain(const std::string& text) {
  return R"({"type":"plain_text","text":")" + text + R"("})";
}
std::string option(const std::string& text, const std::string& value) {
  return R"({"text":)" + plain(text) + R"(,"value":")" + value + R"("})";
}
std::string options(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += (i ? "," : "") + option("Option " + std::to_string(i), "v" + std::to_string(i));
  return out;
}
std::string accessory(const std::string& element) {
  return R"({"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":)" + element + "}";
}
std::string actions(const std::string& elements) {
  return R"({"type":"actions","elements":[)" + elements + "]}";
}
std::string button(const std::string& extra = "", const std::string& action_id = "b1") {
  return R"({"type":"button","action_id":")" + action_id +
         R"(","text":{"type":"plain_text","text":"Go"})" + extra + "}";
}
std::string input(const std::string& element, const std::string& extra = "") {
  return R"({"type":"input","block_id":"in","label":{"type":"plain_text","text":"Reason"},"element":)" +
         element + extra + "}";
}
std::string modal(const std::string& blocks, const std::string& extra = "") {
  return R"({"type":"modal","title":{"type":"plain_text","text":"Deny #42"},"submit":{"type":"plain_text","text":"Deny"},"blocks":[)" +
         blocks + "]" + extra + "}";
}
std::string home(const std::string& blocks, const std::string& extra = "") {
  return R"({"type":"home","blocks":[)" + blocks + "]" + extra + "}";
}

// The refusal has `error` and a message with exactly this JSON pointer (and `words`).
void expect_refused(const std::optional<Refusal>& r, const std::string& error,
                    const std::string& pointer, const std::string& words = "") {
  ASSERT_TRUE(r.has_value()) << "accepted, expected " << error << " at " << pointer;
  EXPECT_EQ(r->error, error) << r->to_string();
  std::string tag = "[json-pointer:" + pointer + "]";
  bool found = false;
  for (const std::string& m : r->messages) {
    if (m.find(tag) != std::string::npos && m.find(words) != std::string::npos &&
        m.rfind("[ERROR] ", 0) == 0)
      found = true;
  }
  EXPECT_TRUE(found) << "no message with " << tag << " and \"" << words << "\" in "
                     << r->to_string();
}

void expect_accepted(const std::optional<Refusal>& r) {
  EXPECT_FALSE(r.has_value()) << r->to_string();
}

// ---- Slack's own examples are accepted -----------------------------------------------------

TEST(SlackRules, ReferenceExamplesAreAccepted) {
  // docs.slack.dev/reference/block-kit/blocks/section-block, header-block, context-block,
  // divider-block, image-block, actions-block (the select + button example), input-block,
  // markdown-block; composition-objects/confirmation-dialog-object; date-picker-element;
  // checkboxes-element; overflow-menu-element.
  expect_accepted(check_message(msg(
      R"({"type":"section","text":{"type":"mrkdwn","text":"A message *with some bold text* and _some italicized text_."}},
         {"type":"section","text":{"type":"mrkdwn","text":"A message *with some bold text* and _some italicized text_."},
          "fields":[{"type":"mrkdwn","text":"High"},{"type":"plain_text","emoji":true,"text":"String"}]},
         {"type":"header","text":{"type":"plain_text","text":"A Heartfelt Header"}},
         {"type":"context","elements":[{"type":"image","image_url":"https://image.freepik.com/free-photo/red-drawing-pin_1156-445.jpg","alt_text":"images"},
                                       {"type":"mrkdwn","text":"Location: **Dogpatch**"}]},
         {"type":"divider"},
         {"type":"image","title":{"type":"plain_text","text":"Please enjoy this photo of a kitten"},"block_id":"image4",
          "image_url":"http://placekitten.com/500/500","alt_text":"An incredibly cute kitten."},
         {"type":"actions","block_id":"actions1","elements":[
           {"type":"static_select","placeholder":{"type":"plain_text","text":"Which witch is the witchiest witch?"},"action_id":"select_2",
            "options":[{"text":{"type":"plain_text","text":"Matilda"},"value":"matilda"},
                       {"text":{"type":"plain_text","text":"Glinda"},"value":"glinda"},
                       {"text":{"type":"plain_text","text":"Granny Weatherwax"},"value":"grannyWeatherwax"},
                       {"text":{"type":"plain_text","text":"Hermione"},"value":"hermione"}]},
           {"type":"button","text":{"type":"plain_text","text":"Cancel"},"value":"cancel","action_id":"button_1"}]},
         {"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","emoji":true,"text":"Approve"},
           "confirm":{"title":{"type":"plain_text","text":"Are you sure?"},
                      "text":{"type":"mrkdwn","text":"Would you not prefer a good game of _chess_?"},
                      "confirm":{"type":"plain_text","text":"Do it"},
                      "deny":{"type":"plain_text","text":"Stop, I changed my mind!"}},
           "style":"primary","value":"click_me_123"}]},
         {"type":"section","block_id":"section1234","text":{"type":"mrkdwn","text":"Pick a date for the deadline."},
          "accessory":{"type":"datepicker","action_id":"datepicker123","initial_date":"1990-04-28",
                       "placeholder":{"type":"plain_text","text":"Select a date"}}},
         {"type":"section","block_id":"section 890","text":{"type":"mrkdwn","text":"This is a section block with an overflow menu."},
          "accessory":{"type":"overflow","action_id":"overflow","options":[
            {"text":{"type":"plain_text","text":"*this is plain_text text*"},"value":"value-0"},
            {"text":{"type":"plain_text","text":"*this is plain_text text*"},"value":"value-1"},
            {"text":{"type":"plain_text","text":"*this is plain_text text*"},"value":"value-2","url":"https://example.com"}]}},
         {"type":"input","element":{"type":"plain_text_input"},"label":{"type":"plain_text","text":"Label","emoji":true}},
         {"type":"markdown","text":"**this is bold**"})")));
}

TEST(SlackRules, ReferenceViewExamplesAreAccepted) {
  // views.open's response example (docs.slack.dev/reference/methods/views.open), the
  // checkboxes element's modal example, and the Home tab example.
  expect_accepted(
      check_view(R"({"type":"modal","title":{"type":"plain_text","text":"Quite a plain modal"},
      "submit":{"type":"plain_text","text":"Create"},
      "blocks":[{"type":"input","block_id":"a_block_id","label":{"type":"plain_text","text":"A simple label","emoji":true},
                 "optional":false,"element":{"type":"plain_text_input","action_id":"an_action_id"}}],
      "private_metadata":"Shh it is a secret","callback_id":"identify_your_modals","external_id":"",
      "clear_on_close":false,"notify_on_close":false})",
                 Surface::modal));
  expect_accepted(
      check_view(R"({"type":"modal","title":{"type":"plain_text","text":"My App","emoji":true},
      "submit":{"type":"plain_text","text":"Submit","emoji":true},"close":{"type":"plain_text","text":"Cancel","emoji":true},
      "blocks":[{"type":"section","text":{"type":"plain_text","text":"Check out these charming checkboxes"},
        "accessory":{"type":"checkboxes","action_id":"this_is_an_action_id",
          "initial_options":[{"value":"A1","text":{"type":"plain_text","text":"Checkbox 1"}}],
          "options":[{"value":"A1","text":{"type":"plain_text","text":"Checkbox 1"}},
                     {"value":"A2","text":{"type":"plain_text","text":"Checkbox 2"}}]}}]})",
                 Surface::modal));
  expect_accepted(check_view(R"({"type":"home","blocks":[{"type":"section","text":{"type":"mrkdwn",
      "text":"A simple section with some sample sentence."}}],"private_metadata":"Shh it is a secret",
      "callback_id":"identify_your_home_tab"})",
                             Surface::home));
}

// ---- message arguments ([chat.*]) -------------------------------------------------------------

TEST(SlackRules, MessageWithoutTextOrBlocksIsNoText) {
  expect_refused(check_message(R"({"channel":"C123"})"), "no_text", "/");
  expect_refused(check_message(R"({"channel":"C123","text":"","blocks":[]})"), "no_text", "/");
  expect_accepted(check_message(R"({"channel":"C123","blocks":[{"type":"divider"}]})"));
  expect_accepted(check_message(R"({"channel":"C123","text":"hello"})"));
}

TEST(SlackRules, MessageNeedsAChannelButAResponseUrlPostDoesNot) {
  expect_refused(check_message(R"({"text":"hello"})"), "channel_not_found", "/", "channel");
  expect_accepted(check_message(R"({"text":"hello"})", true));
}

TEST(SlackRules, TextOver40000CharactersIsMsgTooLong) {
  expect_refused(check_message(R"({"channel":"C1","text":")" + times("a", 40001) + "\"}"),
                 "msg_too_long", "/text", "must be less than 40001 characters");
  expect_accepted(check_message(R"({"channel":"C1","text":")" + times("a", 40000) + "\"}"));
  // Characters, not bytes: 40,000 two-byte characters are 80,000 bytes and fine.
  expect_accepted(check_message(R"({"channel":"C1","text":")" + times("é", 40000) + "\"}"));
}

TEST(SlackRules, ArgumentsOfTheWrongTypeAreRefusedUnknownOnesIgnored) {
  expect_refused(check_message(R"({"channel":"C1","text":5})"), "invalid_arguments", "/text",
                 "must be a string");
  expect_refused(check_message(R"({"channel":"C1","text":"x","mrkdwn":"yes"})"),
                 "invalid_arguments", "/mrkdwn", "must be a boolean");
  expect_refused(check_message(R"({"channel":"C1","text":"x","thread_ts":1700000000.1})"),
                 "invalid_arguments", "/thread_ts");
  expect_refused(check_message(R"({"channel":"C1","text":"x","blocks":{"type":"divider"}})"),
                 "invalid_blocks_format", "/blocks", "must be an array");
  expect_refused(check_message(R"({"channel":"C1","text":"x","blocks":"[]"})"),
                 "invalid_blocks_format", "/blocks");
  // Slack's Web API ignores arguments it does not know.
  expect_accepted(check_message(R"({"channel":"C1","text":"x","frobnicate":[1,2]})"));
}

TEST(SlackRules, InvalidJsonAndInvalidUtf8AreInvalidJson) {
  std::optional<Refusal> r = check_message(R"({"channel":"C1","text":)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_json");
  r = check_message("{\"channel\":\"C1\",\"text\":\"caf\xC3\"}");  // a cut two-byte character
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_json");
  r = check_message("{\"channel\":\"C1\",\"text\":\"\xFF\"}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_json");
  r = check_message(R"({"channel":"C1","text":"\uD800"})");  // a lone surrogate
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_json");
  r = check_message(R"(["not","an","object"])");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_json");
}

// ---- blocks ([blocks]) --------------------------------------------------------------------------

TEST(SlackRules, AtMost50BlocksInAMessageAnd100InAView) {
  std::string d = R"({"type":"divider"})";
  auto many = [&](std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + d;
    return out;
  };
  expect_refused(check_message(msg(many(51))), "invalid_blocks", "/blocks",
                 "no more than 50 items");
  expect_accepted(check_message(msg(many(50))));
  expect_refused(check_view(home(many(101)), Surface::home), "invalid_arguments", "/view/blocks",
                 "no more than 100 items");
  expect_accepted(check_view(home(many(100)), Surface::home));
  expect_refused(check_view(modal(many(101)), Surface::modal), "invalid_arguments", "/view/blocks");
  expect_accepted(check_view(modal(many(100)), Surface::modal));
}

TEST(SlackRules, UnknownBlockTypesAreRefused) {
  expect_refused(check_message(msg(R"({"type":"sections","text":{"type":"mrkdwn","text":"x"}})")),
                 "invalid_blocks", "/blocks/0/type", "unsupported type: sections");
  expect_refused(check_message(msg(R"({"type":"video","alt_text":"x"})")), "invalid_blocks",
                 "/blocks/0/type", "unsupported type: video");
  expect_refused(check_message(msg(R"({"text":{"type":"mrkdwn","text":"x"}})")), "invalid_blocks",
                 "/blocks/0", "missing required field: type");
  expect_refused(check_message(msg(R"("divider")")), "invalid_blocks", "/blocks/0",
                 "must be an object");
}

TEST(SlackRules, OnlyDocumentedBlockPropertiesAreAccepted) {
  expect_refused(check_message(msg(
                     R"({"type":"section","text":{"type":"mrkdwn","text":"x"},"disabled":true})")),
                 "invalid_blocks", "/blocks/0", "invalid additional property: disabled");
  expect_refused(check_message(msg(R"({"type":"divider","text":{"type":"mrkdwn","text":"x"}})")),
                 "invalid_blocks", "/blocks/0", "invalid additional property: text");
  expect_refused(
      check_message(msg(R"({"type":"header","text":{"type":"plain_text","text":"x"},"level":1})")),
      "invalid_blocks", "/blocks/0", "invalid additional property: level");
  expect_refused(
      check_message(msg(R"({"type":"actions","elements":[)" + button() + R"(],"accessory":{}})")),
      "invalid_blocks", "/blocks/0", "invalid additional property: accessory");
  // section's newer `expand` is documented.
  expect_accepted(check_message(
      msg(R"({"type":"section","text":{"type":"mrkdwn","text":"x"},"expand":true})")));
}

TEST(SlackRules, BlockIdsAreAtMost255CharactersAndUnique) {
  expect_refused(check_message(msg(R"({"type":"divider","block_id":")" + times("b", 256) + "\"}")),
                 "invalid_blocks", "/blocks/0/block_id", "must be less than 256 characters");
  expect_accepted(
      check_message(msg(R"({"type":"divider","block_id":")" + times("b", 255) + "\"}")));
  expect_refused(
      check_message(
          msg(R"({"type":"divider","block_id":"task"},{"type":"divider","block_id":"task"})")),
      "invalid_blocks", "/blocks/1/block_id", "`block_id` \"task\" already exists");
  expect_refused(
      check_view(
          modal(R"({"type":"divider","block_id":"in"},)" + input(R"({"type":"plain_text_input"})")),
          Surface::modal),
      "invalid_arguments", "/view/blocks/1/block_id", "`block_id` \"in\" already exists");
}

TEST(SlackRules, SectionNeedsTextOrFieldsWithinTheirLimits) {
  expect_refused(check_message(msg(R"({"type":"section"})")), "invalid_blocks", "/blocks/0",
                 "must define either `text` or `fields`");
  expect_refused(check_message(msg(section(mrkdwn(times("a", 3001))))), "invalid_blocks",
                 "/blocks/0/text/text", "must be less than 3001 characters");
  expect_accepted(check_message(msg(section(mrkdwn(times("a", 3000))))));
  expect_accepted(check_message(msg(section(mrkdwn(times("✓", 3000))))));  // 9000 bytes
  expect_refused(check_message(msg(section(mrkdwn("")))), "invalid_blocks", "/blocks/0/text/text",
                 "must be more than 0 characters");
  std::string fields;
  for (int i = 0; i < 11; ++i) fields += (i ? "," : "") + mrkdwn("f");
  expect_refused(check_message(msg(R"({"type":"section","fields":[)" + fields + "]}")),
                 "invalid_blocks", "/blocks/0/fields", "no more than 10 items");
  expect_refused(
      check_message(msg(R"({"type":"section","fields":[)" + mrkdwn(times("a", 2001)) + "]}")),
      "invalid_blocks", "/blocks/0/fields/0/text", "must be less than 2001 characters");
  expect_accepted(
      check_message(msg(R"({"type":"section","fields":[)" + mrkdwn(times("a", 2000)) + "]}")));
}

TEST(SlackRules, HeaderIsPlainTextUpTo150Characters) {
  expect_refused(check_message(msg(R"({"type":"header","text":)" + mrkdwn("*Task*") + "}")),
                 "invalid_blocks", "/blocks/0/text/type", "must be plain_text");
  expect_refused(check_message(msg(R"({"type":"header","text":)" + plain(times("h", 151)) + "}")),
                 "invalid_blocks", "/blocks/0/text/text", "must be less than 151 characters");
  expect_accepted(check_message(msg(R"({"type":"header","text":)" + plain(times("h", 150)) + "}")));
  expect_refused(check_message(msg(R"({"type":"header"})")), "invalid_blocks", "/blocks/0",
                 "missing required field: text");
}

TEST(SlackRules, ContextHoldsOneToTenImagesOrTextObjects) {
  expect_refused(check_message(msg(R"({"type":"context","elements":[]})")), "invalid_blocks",
                 "/blocks/0/elements", "at least 1 items");
  std::string ten;
  for (int i = 0; i < 11; ++i) ten += (i ? "," : "") + mrkdwn("c");
  expect_refused(check_message(msg(R"({"type":"context","elements":[)" + ten + "]}")),
                 "invalid_blocks", "/blocks/0/elements", "no more than 10 items");
  expect_refused(check_message(msg(R"({"type":"context","elements":[)" + button() + "]}")),
                 "invalid_blocks", "/blocks/0/elements/0/type", "unsupported type: button");
}

TEST(SlackRules, ActionsHoldOneToTwentyFiveInteractiveElements) {
  expect_refused(check_message(msg(actions(""))), "invalid_blocks", "/blocks/0/elements",
                 "at least 1 items");
  std::string many;
  for (int i = 0; i < 26; ++i) many += (i ? "," : "") + button("", "b" + std::to_string(i));
  expect_refused(check_message(msg(actions(many))), "invalid_blocks", "/blocks/0/elements",
                 "no more than 25 items");
  expect_refused(check_message(msg(actions(R"({"type":"plain_text_input","action_id":"t"})"))),
                 "invalid_blocks", "/blocks/0/elements/0/type",
                 "unsupported type: plain_text_input");
  expect_refused(check_message(msg(
                     actions(R"({"type":"image","image_url":"https://x/y.png","alt_text":"y"})"))),
                 "invalid_blocks", "/blocks/0/elements/0/type", "unsupported type: image");
  expect_refused(check_message(msg(actions(R"({"type":"rich_text_input","action_id":"r"})"))),
                 "invalid_blocks", "/blocks/0/elements/0/type");
}

TEST(SlackRules, InputBlockRules) {
  std::string text_input = R"({"type":"plain_text_input","action_id":"reason"})";
  expect_accepted(check_view(
      modal(input(
          text_input,
          R"(,"optional":true,"dispatch_action":false,"hint":{"type":"plain_text","text":"Why?"})")),
      Surface::modal));
  expect_refused(check_view(modal(R"({"type":"input","label":)" + mrkdwn("*Reason*") +
                                  R"(,"element":)" + text_input + "}"),
                            Surface::modal),
                 "invalid_arguments", "/view/blocks/0/label/type", "must be plain_text");
  expect_refused(check_view(modal(R"({"type":"input","label":)" + plain(times("l", 2001)) +
                                  R"(,"element":)" + text_input + "}"),
                            Surface::modal),
                 "invalid_arguments", "/view/blocks/0/label/text", "less than 2001 characters");
  expect_refused(
      check_view(modal(input(text_input, R"(,"hint":)" + plain(times("h", 2001)))), Surface::modal),
      "invalid_arguments", "/view/blocks/0/hint/text", "less than 2001 characters");
  expect_refused(check_view(modal(R"({"type":"input","label":{"type":"plain_text","text":"R"}})"),
                            Surface::modal),
                 "invalid_arguments", "/view/blocks/0", "missing required field: element");
  expect_refused(check_view(modal(input(button())), Surface::modal), "invalid_arguments",
                 "/view/blocks/0/element/type", "unsupported type: button");
  expect_refused(check_view(modal(input(text_input, R"(,"optional":"yes")")), Surface::modal),
                 "invalid_arguments", "/view/blocks/0/optional", "must be a boolean");
  expect_refused(check_view(modal(input(text_input, R"(,"dispatch_action":1)")), Surface::modal),
                 "invalid_arguments", "/view/blocks/0/dispatch_action", "must be a boolean");
}

// ---- text objects ([text]) ----------------------------------------------------------------------

TEST(SlackRules, TextObjectRules) {
  expect_refused(check_message(msg(section(R"({"type":"mrkdwn","text":"x","emoji":true})"))),
                 "invalid_blocks", "/blocks/0/text", "invalid additional property: emoji");
  expect_refused(check_message(msg(section(R"({"type":"plain_text","text":"x","verbatim":true})"))),
                 "invalid_blocks", "/blocks/0/text", "invalid additional property: verbatim");
  expect_accepted(check_message(msg(section(R"({"type":"plain_text","text":"x","emoji":true})"))));
  expect_accepted(check_message(msg(section(R"({"type":"mrkdwn","text":"x","verbatim":true})"))));
  expect_refused(check_message(msg(section(R"({"type":"markdown","text":"x"})"))), "invalid_blocks",
                 "/blocks/0/text/type", "unsupported type: markdown");
  expect_refused(check_message(msg(section(R"({"type":"mrkdwn"})"))), "invalid_blocks",
                 "/blocks/0/text", "missing required field: text");
  expect_refused(check_message(msg(section(R"({"type":"plain_text","text":"x","emoji":"yes"})"))),
                 "invalid_blocks", "/blocks/0/text/emoji", "must be a boolean");
}

// ---- elements -----------------------------------------------------------------------------------

TEST(SlackRules, ActionIdsAreAtMost255CharactersAndUniqueInTheirBlock) {
  expect_refused(check_message(msg(actions(button("", times("a", 256))))), "invalid_blocks",
                 "/blocks/0/elements/0/action_id", "must be less than 256 characters");
  expect_accepted(check_message(msg(actions(button("", times("a", 255))))));
  expect_refused(check_message(msg(actions(button("", "approve") + "," + button("", "approve")))),
                 "invalid_blocks", "/blocks/0/elements/1/action_id",
                 "`action_id` \"approve\" already exists");
  // "Should be unique among all other action_ids in the containing block": two blocks may
  // use the same action_id (a row per task, each with its own menu).
  expect_accepted(
      check_message(msg(actions(button("", "more")) + "," + actions(button("", "more")))));
}

TEST(SlackRules, UnknownElementTypesAndPropertiesAreRefused) {
  expect_refused(check_message(msg(accessory(R"({"type":"slider","action_id":"s"})"))),
                 "invalid_blocks", "/blocks/0/accessory/type", "unsupported type: slider");
  expect_refused(check_message(msg(actions(button(R"(,"disabled":true)")))), "invalid_blocks",
                 "/blocks/0/elements/0", "invalid additional property: disabled");
  expect_refused(check_message(msg(actions(
                     R"({"type":"button","text":{"type":"plain_text","text":"x"},"label":"y"})"))),
                 "invalid_blocks", "/blocks/0/elements/0", "invalid additional property: label");
}

TEST(SlackRules, ButtonRules) {
  expect_refused(check_message(msg(actions(R"({"type":"button","text":)" + mrkdwn("*Go*") + "}"))),
                 "invalid_blocks", "/blocks/0/elements/0/text/type", "must be plain_text");
  expect_refused(
      check_message(msg(actions(R"({"type":"button","text":)" + plain(times("g", 76)) + "}"))),
      "invalid_blocks", "/blocks/0/elements/0/text/text", "less than 76 characters");
  expect_accepted(
      check_message(msg(actions(R"({"type":"button","text":)" + plain(times("g", 75)) + "}"))));
  expect_refused(check_message(msg(actions(R"({"type":"button","value":"x"})"))), "invalid_blocks",
                 "/blocks/0/elements/0", "missing required field: text");
  expect_refused(check_message(msg(actions(button(R"(,"value":")" + times("v", 2001) + "\"")))),
                 "invalid_blocks", "/blocks/0/elements/0/value", "less than 2001 characters");
  expect_accepted(check_message(msg(actions(button(R"(,"value":")" + times("v", 2000) + "\"")))));
  expect_refused(
      check_message(msg(actions(button(R"(,"url":"https://x/)" + times("u", 3000) + "\"")))),
      "invalid_blocks", "/blocks/0/elements/0/url", "less than 3001 characters");
  expect_refused(check_message(msg(actions(button(R"(,"style":"secondary")")))), "invalid_blocks",
                 "/blocks/0/elements/0/style", "must be one of: primary, danger");
  expect_refused(
      check_message(msg(actions(button(R"(,"accessibility_label":")" + times("l", 76) + "\"")))),
      "invalid_blocks", "/blocks/0/elements/0/accessibility_label");
}

TEST(SlackRules, ConfirmDialogRules) {
  std::string good =
      R"("title":{"type":"plain_text","text":"Deny?"},"text":{"type":"plain_text","text":"Sure?"},"confirm":{"type":"plain_text","text":"Deny"},"deny":{"type":"plain_text","text":"Back"})";
  expect_accepted(
      check_message(msg(actions(button(R"(,"confirm":{)" + good + R"(,"style":"danger"})")))));
  expect_refused(
      check_message(msg(actions(button(
          R"(,"confirm":{"title":{"type":"plain_text","text":"Deny?"},"text":{"type":"plain_text","text":"Sure?"},"confirm":{"type":"plain_text","text":"Deny"}})")))),
      "invalid_blocks", "/blocks/0/elements/0/confirm", "missing required field: deny");
  expect_refused(
      check_message(msg(actions(button(
          R"(,"confirm":{"title":)" + plain(times("t", 101)) +
          R"(,"text":{"type":"plain_text","text":"Sure?"},"confirm":{"type":"plain_text","text":"Deny"},"deny":{"type":"plain_text","text":"Back"}})")))),
      "invalid_blocks", "/blocks/0/elements/0/confirm/title/text", "less than 101 characters");
  expect_refused(
      check_message(msg(actions(button(
          R"(,"confirm":{"title":{"type":"plain_text","text":"D"},"text":)" +
          plain(times("t", 301)) +
          R"(,"confirm":{"type":"plain_text","text":"Deny"},"deny":{"type":"plain_text","text":"Back"}})")))),
      "invalid_blocks", "/blocks/0/elements/0/confirm/text/text", "less than 301 characters");
  expect_refused(
      check_message(msg(actions(button(
          R"(,"confirm":{"title":{"type":"plain_text","text":"D"},"text":{"type":"plain_text","text":"S"},"confirm":)" +
          plain(times("c", 31)) + R"(,"deny":{"type":"mrkdwn","text":"Back"}})")))),
      "invalid_blocks", "/blocks/0/elements/0/confirm/confirm/text", "less than 31 characters");
  expect_refused(
      check_message(msg(actions(button(
          R"(,"confirm":{"title":{"type":"plain_text","text":"D"},"text":{"type":"plain_text","text":"S"},"confirm":{"type":"plain_text","text":"C"},"deny":{"type":"mrkdwn","text":"Back"}})")))),
      "invalid_blocks", "/blocks/0/elements/0/confirm/deny/type", "must be plain_text");
  expect_refused(
      check_message(msg(actions(button(R"(,"confirm":{)" + good + R"(,"style":"warning"})")))),
      "invalid_blocks", "/blocks/0/elements/0/confirm/style");
}

TEST(SlackRules, OverflowHoldsTwoToFiveOptions) {
  auto overflow = [](const std::string& opts) {
    return accessory(R"({"type":"overflow","action_id":"more","options":[)" + opts + "]}");
  };
  // The key rule: a menu of one option is refused.
  expect_refused(check_message(msg(overflow(options(1)))), "invalid_blocks",
                 "/blocks/0/accessory/options", "must provide at least 2 items");
  expect_refused(check_message(msg(overflow(options(6)))), "invalid_blocks",
                 "/blocks/0/accessory/options", "must provide no more than 5 items");
  expect_accepted(check_message(msg(overflow(options(2)))));
  expect_accepted(check_message(msg(overflow(options(5)))));
  expect_refused(check_message(msg(accessory(R"({"type":"overflow","action_id":"more"})"))),
                 "invalid_blocks", "/blocks/0/accessory", "missing required field: options");
  // Options of an overflow menu: plain_text, and a url is allowed.
  expect_refused(
      check_message(msg(
          overflow(R"({"text":{"type":"mrkdwn","text":"*x*"},"value":"a"},)" + option("b", "b")))),
      "invalid_blocks", "/blocks/0/accessory/options/0/text/type", "must be plain_text");
  expect_accepted(check_message(msg(overflow(
      R"({"text":{"type":"plain_text","text":"Docs"},"value":"a","url":"https://example.com"},)" +
      option("b", "b")))));
}

TEST(SlackRules, OptionObjectRules) {
  auto overflow = [](const std::string& first) {
    return msg(accessory(R"({"type":"overflow","action_id":"more","options":[)" + first + "," +
                         option("b", "b") + "]}"));
  };
  expect_refused(check_message(overflow(option(times("t", 76), "a"))), "invalid_blocks",
                 "/blocks/0/accessory/options/0/text/text", "less than 76 characters");
  // value: 150 on the option object page and in python-slack-sdk (@slack/types says 75).
  expect_refused(check_message(overflow(option("a", times("v", 151)))), "invalid_blocks",
                 "/blocks/0/accessory/options/0/value", "less than 151 characters");
  expect_accepted(check_message(overflow(option("a", times("v", 150)))));
  expect_refused(check_message(overflow(R"({"text":{"type":"plain_text","text":"a"}})")),
                 "invalid_blocks", "/blocks/0/accessory/options/0",
                 "missing required field: value");
  expect_refused(
      check_message(
          overflow(R"({"text":{"type":"plain_text","text":"a"},"value":"a","style":"danger"})")),
      "invalid_blocks", "/blocks/0/accessory/options/0", "invalid additional property: style");
  expect_refused(check_message(overflow(
                     R"({"text":{"type":"plain_text","text":"a"},"value":"a","description":)" +
                     plain(times("d", 76)) + "}")),
                 "invalid_blocks", "/blocks/0/accessory/options/0/description/text",
                 "less than 76 characters");
  // url is for overflow menus only.
  expect_refused(
      check_message(msg(accessory(
          R"({"type":"static_select","action_id":"s","options":[{"text":{"type":"plain_text","text":"a"},"value":"a","url":"https://x"}]})"))),
      "invalid_blocks", "/blocks/0/accessory/options/0", "invalid additional property: url");
}

TEST(SlackRules, StaticSelectRules) {
  auto select = [](const std::string& body) {
    return msg(accessory(R"({"type":"static_select","action_id":"s",)" + body + "}"));
  };
  expect_accepted(check_message(select(R"("options":[)" + options(100) + "]")));
  expect_refused(check_message(select(R"("options":[)" + options(101) + "]")), "invalid_blocks",
                 "/blocks/0/accessory/options", "no more than 100 items");
  expect_refused(check_message(select(R"("placeholder":{"type":"plain_text","text":"p"})")),
                 "invalid_blocks", "/blocks/0/accessory",
                 "exactly one of `options` or `option_groups`");
  expect_refused(
      check_message(
          select(R"("options":[)" + options(2) +
                 R"(],"option_groups":[{"label":{"type":"plain_text","text":"g"},"options":[)" +
                 options(2) + "]}]")),
      "invalid_blocks", "/blocks/0/accessory", "exactly one of `options` or `option_groups`");
  expect_accepted(check_message(
      select(R"("option_groups":[{"label":{"type":"plain_text","text":"Group"},"options":[)" +
             options(3) + R"(]}],"initial_option":)" + option("Option 1", "v1"))));
  expect_refused(check_message(select(R"("options":[)" + options(2) + R"(],"placeholder":)" +
                                      plain(times("p", 151)))),
                 "invalid_blocks", "/blocks/0/accessory/placeholder/text",
                 "less than 151 characters");
  expect_refused(
      check_message(select(R"("options":[)" + options(2) + R"(],"placeholder":)" + mrkdwn("p"))),
      "invalid_blocks", "/blocks/0/accessory/placeholder/type", "must be plain_text");
  expect_refused(check_message(select(R"("options":[)" + options(2) + R"(],"initial_option":)" +
                                      option("Other", "zzz"))),
                 "invalid_blocks", "/blocks/0/accessory/initial_option",
                 "must exactly match one of the options");
}

TEST(SlackRules, CheckboxesAndRadioButtonsHoldOneToTenOptions) {
  for (std::string type : {"checkboxes", "radio_buttons"}) {
    auto el = [&](std::size_t n) {
      return msg(accessory(R"({"type":")" + type + R"(","action_id":"c","options":[)" + options(n) +
                           "]}"));
    };
    expect_accepted(check_message(el(10)));
    expect_refused(check_message(el(11)), "invalid_blocks", "/blocks/0/accessory/options",
                   "no more than 10 items");
    expect_refused(check_message(el(0)), "invalid_blocks", "/blocks/0/accessory/options",
                   "at least 1 items");
  }
  // Their options may be mrkdwn, with a mrkdwn description.
  expect_accepted(check_message(msg(accessory(
      R"({"type":"checkboxes","action_id":"c","options":[{"text":{"type":"mrkdwn","text":"*#42*"},"value":"42","description":{"type":"mrkdwn","text":"_Bo_"}}]})"))));
  expect_refused(
      check_message(msg(accessory(
          R"({"type":"radio_buttons","action_id":"r","options":[)" + options(2) +
          R"(],"initial_option":{"text":{"type":"plain_text","text":"x"},"value":"nope"}})"))),
      "invalid_blocks", "/blocks/0/accessory/initial_option", "must exactly match");
}

TEST(SlackRules, PlainTextInputRules) {
  auto in = [](const std::string& extra) {
    return check_view(
        modal(input(R"({"type":"plain_text_input","action_id":"reason")" + extra + "}")),
        Surface::modal);
  };
  expect_accepted(in(
      R"(,"multiline":true,"min_length":0,"max_length":3000,"initial_value":"x","placeholder":{"type":"plain_text","text":"Why?"},"dispatch_action_config":{"trigger_actions_on":["on_enter_pressed"]},"focus_on_load":true)"));
  expect_refused(in(R"(,"max_length":3001)"), "invalid_arguments",
                 "/view/blocks/0/element/max_length", "between 1 and 3000");
  expect_refused(in(R"(,"max_length":0)"), "invalid_arguments",
                 "/view/blocks/0/element/max_length");
  expect_refused(in(R"(,"min_length":-1)"), "invalid_arguments",
                 "/view/blocks/0/element/min_length");
  expect_refused(in(R"(,"min_length":3001)"), "invalid_arguments",
                 "/view/blocks/0/element/min_length");
  expect_refused(in(R"(,"min_length":20,"max_length":10)"), "invalid_arguments",
                 "/view/blocks/0/element/min_length", "greater than max_length");
  expect_refused(in(R"(,"multiline":"true")"), "invalid_arguments",
                 "/view/blocks/0/element/multiline", "must be a boolean");
  expect_refused(in(R"(,"label":{"type":"plain_text","text":"x"})"), "invalid_arguments",
                 "/view/blocks/0/element", "invalid additional property: label");
  expect_refused(in(R"(,"dispatch_action_config":{"trigger_actions_on":["on_blur"]})"),
                 "invalid_arguments",
                 "/view/blocks/0/element/dispatch_action_config/trigger_actions_on/0");
  expect_refused(in(R"(,"placeholder":)" + plain(times("p", 151))), "invalid_arguments",
                 "/view/blocks/0/element/placeholder/text", "less than 151 characters");
}

TEST(SlackRules, OtherElementRules) {
  expect_accepted(check_view(
      modal(input(
          R"({"type":"users_select","action_id":"assignee","initial_user":"U0DANA","placeholder":{"type":"plain_text","text":"Pick someone"}})")),
      Surface::modal));
  expect_refused(
      check_view(
          modal(input(
              R"({"type":"users_select","action_id":"assignee","initial_users":["U0DANA"]})")),
          Surface::modal),
      "invalid_arguments", "/view/blocks/0/element", "invalid additional property: initial_users");
  expect_refused(
      check_view(modal(input(
                     R"({"type":"conversations_select","action_id":"c","filter":{"include":[]}})")),
                 Surface::modal),
      "invalid_arguments", "/view/blocks/0/element/filter/include", "at least 1 items");
  expect_refused(check_message(msg(accessory(
                     R"({"type":"datepicker","action_id":"d","initial_date":"28/04/1990"})"))),
                 "invalid_blocks", "/blocks/0/accessory/initial_date", "YYYY-MM-DD");
  expect_refused(check_message(msg(
                     accessory(R"({"type":"timepicker","action_id":"t","initial_time":"7pm"})"))),
                 "invalid_blocks", "/blocks/0/accessory/initial_time", "HH:mm");
  expect_refused(
      check_view(modal(input(R"({"type":"number_input","action_id":"n"})")), Surface::modal),
      "invalid_arguments", "/view/blocks/0/element", "missing required field: is_decimal_allowed");
  expect_refused(
      check_message(msg(
          R"({"type":"image","alt_text":"x","image_url":"https://x/y.png","slack_file":{"id":"F1"}})")),
      "invalid_blocks", "/blocks/0", "exactly one of `image_url` or `slack_file`");
  expect_refused(check_message(msg(R"({"type":"image","image_url":"https://x/y.png"})")),
                 "invalid_blocks", "/blocks/0", "missing required field: alt_text");
  expect_refused(check_message(msg(R"({"type":"image","alt_text":")" + times("a", 2001) +
                                   R"(","image_url":"https://x/y.png"})")),
                 "invalid_blocks", "/blocks/0/alt_text", "less than 2001 characters");
}

TEST(SlackRules, OnlyOneElementMayFocusOnLoad) {
  std::string a = input(R"({"type":"plain_text_input","action_id":"a","focus_on_load":true})");
  std::string b =
      R"({"type":"input","block_id":"b","label":{"type":"plain_text","text":"B"},"element":{"type":"plain_text_input","action_id":"b","focus_on_load":true}})";
  expect_refused(check_view(modal(a + "," + b), Surface::modal), "invalid_arguments",
                 "/view/blocks/1/element/focus_on_load", "only one element");
}

TEST(SlackRules, RichTextAndMarkdownBlocks) {
  expect_accepted(check_message(msg(
      R"({"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"hi"}]}]})")));
  expect_refused(
      check_message(msg(R"({"type":"rich_text","elements":[{"type":"rich_text_table"}]})")),
      "invalid_blocks", "/blocks/0/elements/0/type", "unsupported type: rich_text_table");
  // The markdown block is for messages, 12,000 characters in all.
  expect_refused(check_view(modal(R"({"type":"markdown","text":"**x**"})"), Surface::modal),
                 "invalid_arguments", "/view/blocks/0/type", "unsupported type: markdown");
  std::string half = R"({"type":"markdown","text":")" + times("m", 6001) + "\"}";
  expect_refused(check_message(msg(half + "," + half)), "invalid_blocks", "/blocks/1/text",
                 "in all");
  expect_accepted(check_message(msg(R"({"type":"markdown","text":")" + times("m", 12000) + "\"}")));
}

// ---- views ([modal], [home]) --------------------------------------------------------------------

TEST(SlackRules, ModalTitleSubmitAndCloseArePlainTextUpTo24Characters) {
  expect_refused(check_view(R"({"type":"modal","blocks":[]})", Surface::modal), "invalid_arguments",
                 "/view", "missing required field: title");
  expect_refused(
      check_view(R"({"type":"modal","title":)" + plain(times("t", 25)) + R"(,"blocks":[]})",
                 Surface::modal),
      "invalid_arguments", "/view/title/text", "must be less than 25 characters");
  // 24 characters of three bytes each.
  expect_accepted(check_view(
      R"({"type":"modal","title":)" + plain(times("✓", 24)) + R"(,"blocks":[]})", Surface::modal));
  expect_refused(check_view(R"({"type":"modal","title":)" + mrkdwn("*T*") + R"(,"blocks":[]})",
                            Surface::modal),
                 "invalid_arguments", "/view/title/type", "must be plain_text");
  expect_refused(check_view(modal("", R"(,"close":)" + plain(times("c", 25))), Surface::modal),
                 "invalid_arguments", "/view/close/text", "less than 25 characters");
  expect_refused(
      check_view(R"({"type":"modal","title":{"type":"plain_text","text":"T"},"submit":)" +
                     plain(times("s", 25)) + R"(,"blocks":[]})",
                 Surface::modal),
      "invalid_arguments", "/view/submit/text", "less than 25 characters");
  expect_refused(
      check_view(R"({"type":"modal","title":{"type":"plain_text","text":"T"}})", Surface::modal),
      "invalid_arguments", "/view", "missing required field: blocks");
}

TEST(SlackRules, AModalWithAnInputBlockNeedsSubmit) {
  std::string no_submit =
      R"({"type":"modal","title":{"type":"plain_text","text":"Deny"},"blocks":[)" +
      input(R"({"type":"plain_text_input","action_id":"reason"})") + "]}";
  expect_refused(check_view(no_submit, Surface::modal), "invalid_arguments", "/view",
                 "missing required field: submit");
  expect_accepted(check_view(modal(input(R"({"type":"plain_text_input","action_id":"reason"})")),
                             Surface::modal));
}

TEST(SlackRules, AHomeTabHasNoTitleSubmitOrClose) {
  expect_refused(
      check_view(home("", R"(,"title":{"type":"plain_text","text":"Inbox"})"), Surface::home),
      "invalid_arguments", "/view", "invalid additional property: title");
  expect_refused(
      check_view(home("", R"(,"submit":{"type":"plain_text","text":"Go"})"), Surface::home),
      "invalid_arguments", "/view", "invalid additional property: submit");
  expect_refused(
      check_view(home("", R"(,"close":{"type":"plain_text","text":"Go"})"), Surface::home),
      "invalid_arguments", "/view", "invalid additional property: close");
  expect_refused(check_view(home("", R"(,"notify_on_close":true)"), Surface::home),
                 "invalid_arguments", "/view", "invalid additional property: notify_on_close");
}

TEST(SlackRules, ViewFieldLimits) {
  expect_refused(
      check_view(modal("", R"(,"private_metadata":")" + times("m", 3001) + "\""), Surface::modal),
      "invalid_arguments", "/view/private_metadata", "less than 3001 characters");
  expect_accepted(
      check_view(modal("", R"(,"private_metadata":")" + times("m", 3000) + "\""), Surface::modal));
  expect_refused(
      check_view(home("", R"(,"callback_id":")" + times("c", 256) + "\""), Surface::home),
      "invalid_arguments", "/view/callback_id", "less than 256 characters");
  expect_refused(
      check_view(modal("", R"(,"external_id":")" + times("e", 256) + "\""), Surface::modal),
      "invalid_arguments", "/view/external_id", "less than 256 characters");
  expect_refused(check_view(modal("", R"(,"clear_on_close":"true")"), Surface::modal),
                 "invalid_arguments", "/view/clear_on_close", "must be a boolean");
  expect_refused(check_view(modal("", R"(,"notify_on_close":1)"), Surface::modal),
                 "invalid_arguments", "/view/notify_on_close", "must be a boolean");
  // Slack: "invalid additional property: submit_disabled [json-pointer:/view]".
  expect_refused(check_view(modal("", R"(,"submit_disabled":true)"), Surface::modal),
                 "invalid_arguments", "/view", "invalid additional property: submit_disabled");
}

TEST(SlackRules, AViewOfTheWrongTypeIsRefused) {
  expect_refused(check_view(home(""), Surface::modal), "invalid_arguments", "/view/type",
                 "must be modal");
  expect_refused(check_view(modal(""), Surface::home), "invalid_arguments", "/view/type",
                 "must be home");
}

TEST(SlackRules, AViewOver250KilobytesIsViewTooLarge) {
  std::string big;
  for (int i = 0; i < 100; ++i) big += (i ? "," : "") + section(mrkdwn(times("x", 2600)));
  std::optional<Refusal> r = check_view(home(big), Surface::home);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "view_too_large");
}

TEST(SlackRules, ViewsCallArguments) {
  expect_refused(check_views_call(R"({"trigger_id":"1.2.x"})", Surface::modal), "invalid_arguments",
                 "/", "missing required field: view");
  expect_refused(check_views_call(R"({"view_id":"V1","external_id":"e","view":)" + modal("") + "}",
                                  Surface::modal),
                 "invalid_arguments", "/", "Cannot provide both `view_id` and `external_id`");
  expect_refused(check_views_call(R"({"user_id":5,"view":)" + home("") + "}", Surface::home),
                 "invalid_arguments", "/user_id", "must be a string");
  expect_refused(
      check_views_call(R"({"user_id":"U1","view":)" + home(section(mrkdwn(times("a", 3001)))) + "}",
                       Surface::home),
      "invalid_arguments", "/view/blocks/0/text/text", "less than 3001 characters");
  expect_accepted(check_views_call(
      R"({"user_id":"U1","hash":"h1","view":)" + home(section(mrkdwn("hi"))) + "}", Surface::home));
}

// ---- response_url posts and Tollgate's answers
// ----------------------------------------------------

TEST(SlackRules, ResponseUrlPostRules) {
  expect_accepted(check_message(
      R"({"response_type":"ephemeral","replace_original":false,"text":"Done"})", true));
  expect_accepted(check_message(R"({"delete_original":true})", true));
  expect_refused(check_message(R"({"response_type":"secret","text":"x"})", true),
                 "invalid_arguments", "/response_type", "must be one of: in_channel, ephemeral");
  expect_refused(check_message(R"({"replace_original":"true","text":"x"})", true),
                 "invalid_arguments", "/replace_original", "must be a boolean");
  expect_refused(check_message(R"({"response_type":"ephemeral"})", true), "no_text", "/");
  expect_refused(check_message(msg(actions(button("", "x") + "," + button("", "x"))), true),
                 "invalid_blocks", "/blocks/0/elements/1/action_id");
}

TEST(SlackRules, CommandAckRules) {
  expect_accepted(check_command_ack("", ""));
  expect_accepted(check_command_ack("text/plain; charset=utf-8", "Requested #1"));
  expect_accepted(check_command_ack("application/json",
                                    R"({"response_type":"ephemeral","text":"Requested #1"})"));
  expect_accepted(check_command_ack(
      "application/json; charset=utf-8",
      R"({"text":"x","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*#1*"}}]})"));
  std::optional<Refusal> r = check_command_ack("text/plain", "caf\xC3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_command_response");
  expect_refused(check_command_ack("text/plain", times("a", 40001)), "invalid_command_response",
                 "/");
  expect_refused(
      check_command_ack(
          "application/json",
          R"({"text":"x","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]})"),
      "invalid_command_response", "/blocks/0/text/type", "must be plain_text");
  expect_refused(check_command_ack("application/json", R"({"response_type":"public","text":"x"})"),
                 "invalid_command_response", "/response_type");
  r = check_command_ack("application/json", "Requested #1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "invalid_command_response");
}

TEST(SlackRules, ViewSubmissionAckRules) {
  std::string submitted =
      modal(input(R"({"type":"plain_text_input","action_id":"reason"})") +
            R"(,{"type":"section","block_id":"facts","text":{"type":"mrkdwn","text":"x"}})");
  expect_accepted(check_view_submission_ack("", "", submitted));
  expect_accepted(check_view_submission_ack(
      "application/json", R"({"response_action":"errors","errors":{"in":"Say why."}})", submitted));
  expect_refused(check_view_submission_ack(
                     "application/json",
                     R"({"response_action":"errors","errors":{"facts":"Say why."}})", submitted),
                 "invalid_arguments", "/errors/facts", "not the block_id of an input block");
  expect_refused(check_view_submission_ack(
                     "application/json", R"({"response_action":"errors","errors":{}})", submitted),
                 "invalid_arguments", "/errors");
  expect_refused(
      check_view_submission_ack("application/json",
                                R"({"response_action":"errors","errors":{"in":""}})", submitted),
      "invalid_arguments", "/errors/in");
  expect_accepted(check_view_submission_ack(
      "application/json",
      R"({"response_action":"update","view":)" + modal(section(mrkdwn("Done."))) + "}"));
  expect_accepted(check_view_submission_ack(
      "application/json; charset=utf-8", R"({"response_action":"push","view":)" + modal("") + "}"));
  expect_accepted(check_view_submission_ack("application/json", R"({"response_action":"clear"})"));
  expect_refused(
      check_view_submission_ack("application/json",
                                R"({"response_action":"update","view":{"type":"modal","title":)" +
                                    plain(times("t", 25)) + R"(,"blocks":[]}})"),
      "invalid_arguments", "/view/title/text", "less than 25 characters");
  expect_refused(check_view_submission_ack("application/json", R"({"response_action":"update"})"),
                 "invalid_arguments", "/", "missing required field: view");
  expect_refused(check_view_submission_ack("application/json", R"({"response_action":"close"})"),
                 "invalid_arguments", "/response_action");
  expect_refused(
      check_view_submission_ack("application/json", R"({"response_action":"clear","errors":{}})"),
      "invalid_arguments", "/", "invalid additional property: errors");
  expect_refused(check_view_submission_ack("application/json", R"({"errors":{"in":"x"}})"),
                 "invalid_arguments", "/", "missing required field: response_action");
  expect_refused(check_view_submission_ack("text/plain", R"({"response_action":"clear"})"),
                 "invalid_arguments", "/");
}

TEST(SlackRules, RefusalToStringNamesTheErrorAndEachMessage) {
  Refusal r{"invalid_blocks", {"[ERROR] a [json-pointer:/x]", "[ERROR] b [json-pointer:/y]"}};
  EXPECT_EQ(r.to_string(),
            "invalid_blocks: [ERROR] a [json-pointer:/x]; [ERROR] b [json-pointer:/y]");
}

// ---- the fake Slack applying them
// -----------------------------------------------------------------

http::ClientResult call(FakeSlack& slack, const std::string& method, const std::string& body) {
  http::LoopbackClient c(slack.port());
  return c.request("POST", "/api/" + method, body,
                   {{"Content-Type", "application/json; charset=utf-8"},
                    {"Authorization", "Bearer " + slack.options().token}});
}

TEST(SlackRulesFake, RefusesWhatSlackRefusesInSlacksShapeAndRecordsAViolation) {
  FakeSlack slack;
  std::string one_option =
      msg(accessory(R"({"type":"overflow","action_id":"more","options":[)" + options(1) + "]}"));
  http::ClientResult r = call(slack, "chat.postMessage", one_option);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(
      r.body.find(
          R"("ok":false,"error":"invalid_blocks","response_metadata":{"messages":["[ERROR] must provide at least 2 items [json-pointer:/blocks/0/accessory/options]"]})"),
      std::string::npos)
      << r.body;
  ASSERT_EQ(slack.violations().size(), 1u);
  EXPECT_NE(slack.violations()[0].find("chat.postMessage: invalid_blocks"), std::string::npos);
  EXPECT_EQ(slack.count("chat.postMessage"), 0u);
  EXPECT_TRUE(slack.messages().empty());

  r = call(slack, "chat.postMessage", msg(section(mrkdwn("fine"))));
  EXPECT_NE(r.body.find(R"("ok":true)"), std::string::npos) << r.body;
  EXPECT_EQ(slack.messages().size(), 1u);
  EXPECT_EQ(slack.violations().size(), 1u);
}

TEST(SlackRulesFake, ViewsAreCheckedForTheirSurface) {
  FakeSlack slack;
  http::ClientResult r =
      call(slack, "views.publish",
           R"({"user_id":"U0DANA","view":)" +
               home("", R"(,"title":{"type":"plain_text","text":"Inbox"})") + "}");
  EXPECT_NE(r.body.find(R"("error":"invalid_arguments")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("invalid additional property: title [json-pointer:/view]"),
            std::string::npos)
      << r.body;
  EXPECT_FALSE(slack.home_view("U0DANA").has_value());
  // The trigger of a refused views.open can still be used.
  std::string trigger = slack.trigger_id("U0DANA");
  r = call(slack, "views.open", R"({"trigger_id":")" + trigger + R"(","view":)" + home("") + "}");
  EXPECT_NE(r.body.find(R"("error":"invalid_arguments")"), std::string::npos) << r.body;
  r = call(slack, "views.open", R"({"trigger_id":")" + trigger + R"(","view":)" + modal("") + "}");
  EXPECT_NE(r.body.find(R"("ok":true)"), std::string::npos) << r.body;
  EXPECT_EQ(slack.modals("U0DANA").size(), 1u);
  EXPECT_EQ(slack.violations().size(), 2u);
}

TEST(SlackRulesFake, ResponseUrlRefusalsAre400WithTheErrorCode) {
  FakeSlack slack;
  http::LoopbackClient c(slack.port());
  std::string url = slack.response_url_for("U0DANA", "DU0DANA");
  std::string path = url.substr(url.find("/response/"));
  http::ClientResult r = c.request("POST", path, R"({"response_type":"ephemeral"})",
                                   {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "no_text");
  r = c.request("POST", path, "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "invalid_payload");
  r = c.request("POST", path, R"({"response_type":"ephemeral","text":"Done"})",
                {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(slack.ephemerals_for("U0DANA").size(), 1u);
  EXPECT_EQ(slack.violations().size(), 2u);
}

TEST(SlackRulesFake, WhatTheSandboxShowsIsCheckedToo) {
  FakeSlack slack;
  slack.push_view("U0DANA", modal(""));
  ASSERT_EQ(slack.modals("U0DANA").size(), 1u);
  std::string id = slack.modals("U0DANA")[0].id;
  EXPECT_FALSE(slack.replace_view(id, home("")));  // refused: kept as it was
  EXPECT_TRUE(slack.replace_view(id, modal(section(mrkdwn("Done.")))));
  slack.push_view("U0DANA", R"({"type":"modal","blocks":[]})");  // no title: not pushed
  EXPECT_EQ(slack.modals("U0DANA").size(), 1u);
  slack.push_view("U0DANA", modal(""));
  slack.push_view("U0DANA", modal(""));
  slack.push_view("U0DANA", modal(""));  // a fourth view: push_limit_reached
  EXPECT_EQ(slack.modals("U0DANA").size(), 3u);
  slack.add_ephemeral("U0DANA", "DU0DANA", "x",
                      R"([{"type":"header","text":{"type":"mrkdwn","text":"x"}}])");
  ASSERT_EQ(slack.ephemerals_for("U0DANA").size(), 1u);
  EXPECT_NE(slack.ephemerals_for("U0DANA")[0].text.find("invalid_command_response"),
            std::string::npos);
  std::vector<std::string> v = slack.violations();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].rfind("response_action update: invalid_arguments", 0), 0u) << v[0];
  EXPECT_EQ(v[1].rfind("response_action push: invalid_arguments", 0), 0u) << v[1];
  EXPECT_EQ(v[2].rfind("response_action push: push_limit_reached", 0), 0u) << v[2];
  EXPECT_EQ(v[3].rfind("command answer: invalid_blocks", 0), 0u) << v[3];
}

TEST(SlackRulesFake, AcceptedPayloadsAreRecordedWhenAsked) {
  tollgate::testing::TempDir dir;
  ::setenv("TOLLGATE_SLACK_PAYLOADS", dir.path().c_str(), 1);
  {
    FakeSlack slack;
    call(slack, "chat.postMessage", msg(section(mrkdwn("recorded"))));
    call(slack, "chat.postMessage", msg(section(mrkdwn(times("a", 3001)))));  // refused: not
    record_slack_payload("command_ack", R"({"text":"ack"})");
    record_slack_payload("command_ack", "not json");  // skipped
  }
  ::unsetenv("TOLLGATE_SLACK_PAYLOADS");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::ifstream in(e.path());
    files.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
    EXPECT_EQ(e.path().extension(), ".json");
    EXPECT_EQ(e.path().filename().string().rfind(std::to_string(::getpid()) + "-", 0), 0u);
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(
      files[0].rfind(
          R"({"kind":"chat.postMessage","payload":{"channel":"C123","text":"fallback","blocks":[)",
          0),
      0u)
      << files[0];
  EXPECT_EQ(files[1], "{\"kind\":\"command_ack\",\"payload\":{\"text\":\"ack\"}}\n");
  // Unset: nothing written.
  record_slack_payload("command_ack", R"({"text":"ack"})");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);
}

// ---- post_signed's check of Tollgate's answers
// -----------------------------------------------------

TEST(SlackRulesAnswers, ARefusedAnswerFailsTheTest) {
  using tollgate::testing::check_slack_answer;
  http::ClientResult ok;
  ok.status = 200;
  ok.headers = {{"Content-Type", "application/json"}};
  ok.body = R"({"response_type":"ephemeral","text":"Requested #1"})";
  check_slack_answer("/slack/commands", "command=%2Ftasks", ok);  // no failure

  http::ClientResult bad = ok;
  bad.body =
      R"({"response_type":"ephemeral","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]})";
  EXPECT_NONFATAL_FAILURE(check_slack_answer("/slack/commands", "command=%2Ftasks", bad),
                          "json-pointer:/blocks/0/text/type");

  std::string submission = tollgate::testing::view_submission("U0DANA", "deny", "{}", "");
  http::ClientResult errors = ok;
  errors.body = R"({"response_action":"errors","errors":{"nope":"Say why."}})";
  EXPECT_NONFATAL_FAILURE(check_slack_answer("/slack/interactions", submission, errors),
                          "json-pointer:/errors/nope");
  errors.body = R"({"response_action":"errors","errors":{"reason":"Say why."}})";
  check_slack_answer("/slack/interactions", submission, errors);  // the input block: fine

  std::string click = tollgate::testing::block_action("U0DANA", "approve", "1", "http://x");
  http::ClientResult chatty = ok;
  chatty.body = "ok";
  EXPECT_NONFATAL_FAILURE(check_slack_answer("/slack/interactions", click, chatty),
                          "block_actions");
  http::ClientResult quiet;
  quiet.status = 200;
  check_slack_answer("/slack/interactions", click, quiet);  // no failure
}

}  // namespace
}  // namespace tollgate::sandbox
