// Tollgate's one Block Kit vocabulary: every message, modal, App Home view and
// slash-command answer is built with these types, and every limit of Slack's
// published reference is enforced here, as values are built, so that no
// renderer can send what Slack would refuse.
//
// Limits (docs.slack.dev/reference/block-kit/...; the same numbers are in
// python-slack-sdk's slack_sdk/models validators):
//   blocks       50 a message, 100 a modal or home view
//   section      text 1..3000; fields at most 10, each 1..2000
//   header       plain_text 1..150
//   context      1..10 elements
//   actions      1..25 elements, action_id unique within the block
//   input        label and hint 1..2000
//   button       text 1..75, value at most 2000; confirm title 100, text 300, buttons 30
//   overflow     2..5 options; a single secondary action becomes a button instead
//   checkboxes   1..10 options; option text 75, value 150
//   ids          block_id and action_id at most 255; block_id unique in its message or view
//   views        title, submit and close 1..24; private_metadata at most 3000
//   text         a message's text at most 40,000 (we keep it to 3,000: it is a notification)
// Lengths are counted in characters, an emoji beyond U+FFFF as two (UTF-16
// units: the stricter of the two ways Slack may count); a cut is made between
// characters, never inside a UTF-8 sequence, an HTML entity or a <…> token, and
// is marked with "…". Invalid UTF-8 is replaced by U+FFFD.
//
// Text a person typed is stored as typed (Slack's escaping undone once on the
// way in, by slack::plain_text) and enters mrkdwn only through Mrkdwn::text(),
// which escapes &, < and > — the one place where that happens. Tollgate's own
// markup (bold, emoji codes, mentions of known Slack ids) is written with the
// _md literal or Mrkdwn::mention(), so that user text can never be read as a
// mention, a link or a broadcast.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tollgate::slack::kit {

// ---- Text -------------------------------------------------------------------

// `text` as valid UTF-8 (bad bytes become U+FFFD).
std::string valid_utf8(std::string_view text);
// The length of valid UTF-8 text as Slack's limits count it, conservatively: UTF-16 code units
// (a character beyond U+FFFF, such as most emoji, counts 2).
std::size_t text_length(std::string_view text);
// Plain text cut to a length of at most `max`, ending with "…" when cut.
std::string cut(std::string_view text, std::size_t max);

// Text in Slack's mrkdwn, safe to send: built only from escaped text and
// Tollgate's own markup.
class Mrkdwn {
 public:
  Mrkdwn() = default;
  // What a person or a system wrote, shown as written: &, < and > escaped.
  static Mrkdwn text(std::string_view plain);
  // User text on one line: line breaks become spaces, so that it cannot start a line of its
  // own that passes for Tollgate's.
  static Mrkdwn line(std::string_view plain);
  // User text of any length as a block quote, every line marked ">": whatever it says (an
  // emoji, *bold* "Approved by Security") reads as quoted, never as Tollgate's own line.
  static Mrkdwn quote(std::string_view plain);
  // Tollgate's own markup, written in the source (see the _md literal).
  static Mrkdwn markup(std::string_view trusted);
  // A live mention "<@U123>" when `slack_user_id` is one (U or W, then
  // capitals and digits); anything else is shown as text.
  static Mrkdwn mention(std::string_view slack_user_id);
  // A link "<url|label>" to an http(s) URL of Tollgate's own making (no
  // space, control character, <, > or |); anything else is shown as text.
  static Mrkdwn link(std::string_view url, std::string_view label);

  Mrkdwn& operator+=(const Mrkdwn& more);
  friend Mrkdwn operator+(Mrkdwn a, const Mrkdwn& b) { return a += b; }
  bool operator==(const Mrkdwn&) const = default;

  bool empty() const { return s_.empty(); }
  const std::string& str() const { return s_; }
  // At most `max` characters, cut before an entity or <…> token it would split.
  Mrkdwn truncated(std::size_t max) const;

 private:
  std::string s_;
};

inline Mrkdwn esc(std::string_view plain) { return Mrkdwn::text(plain); }

namespace literals {
inline Mrkdwn operator""_md(const char* s, std::size_t n) {
  return Mrkdwn::markup(std::string_view(s, n));
}
}  // namespace literals

// ---- Elements ---------------------------------------------------------------

struct Option {
  std::string text;   // plain, at most 75
  std::string value;  // at most 150
};

struct Confirm {
  std::string title;    // plain, at most 100
  std::string text;     // plain (the reference's type), at most 300
  std::string confirm;  // plain, at most 30
  std::string deny;     // plain, at most 30
};

enum class Style { plain, primary, danger };

struct Button {
  std::string action_id;
  std::string text;   // plain, at most 75
  std::string value;  // at most 2000
  Style style = Style::plain;
  std::optional<Confirm> confirm;
};
struct Overflow {  // 2..5 options
  std::string action_id;
  std::vector<Option> options;
};
struct Checkboxes {  // 1..10 options
  std::string action_id;
  std::vector<Option> options;
};
struct UsersSelect {
  std::string action_id;
  std::string placeholder;  // plain, at most 150
};
struct StaticSelect {  // 1..100 options
  std::string action_id;
  std::string placeholder;  // plain, at most 150
  std::vector<Option> options;
};
struct TextInput {
  std::string action_id;
  bool multiline = false;
  int max_length = 3000;  // 1..3000
};
using Element = std::variant<Button, Overflow, Checkboxes, UsersSelect, StaticSelect, TextInput>;

// A block's secondary actions under one action id, as Slack allows them: none,
// one button for a single option, an overflow menu for 2..5 (options past the
// fifth are dropped). The router reads a button and a menu alike by value.
std::vector<Element> menu(std::string_view action_id, std::vector<Option> options);

// ---- Blocks -----------------------------------------------------------------

enum class Surface { message, modal, home };

// A list of blocks for one surface. Blocks past the surface's limit are not
// added (renderers page with room()); a duplicate block_id is dropped from its
// block, a duplicate action_id's element from its actions block, and empty
// texts are sent as a single space, which Slack accepts.
class Blocks {
 public:
  explicit Blocks(Surface surface = Surface::message);

  Blocks& header(std::string_view plain);
  Blocks& section(const Mrkdwn& text, std::string_view block_id = {},
                  const std::optional<Element>& accessory = std::nullopt);
  Blocks& fields(const std::vector<Mrkdwn>& fields);  // the first 10
  Blocks& context(const std::vector<Mrkdwn>& lines);  // the first 10; none: nothing added
  Blocks& divider();
  Blocks& actions(std::string_view block_id, const std::vector<Element>& elements);  // 1..25
  Blocks& input(std::string_view block_id, std::string_view label, const Element& element,
                bool optional, std::string_view hint = {});

  std::size_t size() const { return blocks_.size(); }
  std::size_t room() const { return limit_ - blocks_.size(); }
  std::string json() const;  // the JSON array

 private:
  bool add(std::string block_json);
  std::string block_id(std::string_view id);

  std::size_t limit_;
  std::vector<std::string> blocks_;  // each a serialised block
  std::set<std::string, std::less<>> ids_;
};

// ---- Surfaces ---------------------------------------------------------------

// A message: `text` is the notification and accessibility fallback, itself
// mrkdwn (cut to 3000 characters); `blocks` may be empty.
struct Message {
  Mrkdwn text;
  Blocks blocks{Surface::message};
};

struct Modal {
  std::string callback_id;
  std::string title;   // plain, 1..24
  std::string submit;  // plain, 1..24, or none
  std::string close;   // plain, 1..24, or none
  std::string private_metadata;  // at most 3000 (cut beyond)
  Blocks blocks{Surface::modal};
  std::string json() const;
};

struct HomeView {
  std::string private_metadata;
  Blocks blocks{Surface::home};
  std::string json() const;
};

// ---- Bodies of Web API calls and of answers to Slack --------------------------

std::string post_message(std::string_view channel, const Message& m,
                         std::string_view thread_ts = {});                        // chat.postMessage
std::string update_message(std::string_view channel, std::string_view ts, const Message& m);  // chat.update
std::string post_ephemeral(std::string_view channel, std::string_view user, const Message& m);
// A response_url post or a slash command's answer, seen only by its reader.
std::string ephemeral_answer(const Message& m);
std::string views_open(std::string_view trigger_id, const Modal& modal);
std::string views_publish(std::string_view user_id, const HomeView& home);
// A view_submission's answers: replace the modal, or show an error under an input block.
std::string update_view_answer(const Modal& modal);
std::string errors_answer(std::string_view block_id, std::string_view message);

// A message of text alone (no blocks).
Message text_message(const Mrkdwn& text);

}  // namespace tollgate::slack::kit
