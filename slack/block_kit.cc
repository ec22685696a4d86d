#include "slack/block_kit.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "base/json.h"

namespace tollgate::slack::kit {
namespace {

// Slack's limits (see the header for where they come from).
constexpr std::size_t kMessageBlocks = 50;
constexpr std::size_t kViewBlocks = 100;
constexpr std::size_t kSectionText = 3000;
constexpr std::size_t kFieldText = 2000;
constexpr std::size_t kFields = 10;
constexpr std::size_t kHeaderText = 150;
constexpr std::size_t kContextElements = 10;
constexpr std::size_t kActionsElements = 25;
constexpr std::size_t kInputLabel = 2000;
constexpr std::size_t kButtonText = 75;
constexpr std::size_t kButtonValue = 2000;
constexpr std::size_t kConfirmTitle = 100;
constexpr std::size_t kConfirmText = 300;
constexpr std::size_t kConfirmButton = 30;
constexpr std::size_t kOptionText = 75;
constexpr std::size_t kOptionValue = 150;
constexpr std::size_t kOverflowMin = 2;
constexpr std::size_t kOverflowMax = 5;
constexpr std::size_t kCheckboxesMax = 10;
constexpr std::size_t kPlaceholder = 150;
constexpr std::size_t kSelectMax = 100;  // a static_select's options
constexpr std::size_t kId = 255;
constexpr std::size_t kViewTitle = 24;
constexpr std::size_t kPrivateMetadata = 3000;
constexpr std::size_t kMessageText = 3000;  // Slack allows 40,000; a notification needs less
constexpr int kInputMax = 3000;

// The length of the UTF-8 sequence starting with `lead`, or 0 when it cannot start one.
int sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether s[i..i+n) is a well-formed sequence (no overlong forms, no surrogates, ≤ U+10FFFF).
bool well_formed(std::string_view s, std::size_t i, int n) {
  if (i + static_cast<std::size_t>(n) > s.size()) return false;
  auto b = [&](int k) { return static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]); };
  for (int k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return false;
  }
  if (n == 3 && b(0) == 0xE0 && b(1) < 0xA0) return false;
  if (n == 3 && b(0) == 0xED && b(1) >= 0xA0) return false;
  if (n == 4 && b(0) == 0xF0 && b(1) < 0x90) return false;
  if (n == 4 && b(0) == 0xF4 && b(1) >= 0x90) return false;
  return true;
}

// Slack's length of one UTF-8 sequence led by `lead`: UTF-16 code units, so a character beyond
// U+FFFF (4 bytes, an emoji) counts 2. Slack does not say whether it counts code points or
// UTF-16 units; counting units is the stricter, so what fits here fits either way.
std::size_t units(unsigned char lead) { return sequence_length(lead) == 4 ? 2 : 1; }

// The byte offset just past the longest prefix of valid UTF-8 `s` whose length is at most
// `max`; npos when the whole of `s` fits.
std::size_t offset_after(std::string_view s, std::size_t max) {
  std::size_t length = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto lead = static_cast<unsigned char>(s[i]);
    if (length + units(lead) > max) return i;
    length += units(lead);
    i += static_cast<std::size_t>(std::max(1, sequence_length(lead)));
  }
  return std::string_view::npos;
}

void put(json::Writer& w, std::string_view s) { json::string(w, valid_utf8(s)); }

// A text object: {"type": "plain_text"|"mrkdwn", "text": …}.
void text_value(json::Writer& w, bool mrkdwn, std::string_view text) {
  w.StartObject();
  json::kv(w, "type", mrkdwn ? "mrkdwn" : "plain_text");
  // Slack refuses an empty text; a space reads as nothing.
  json::key(w, "text");
  put(w, text.empty() ? std::string_view(" ") : text);
  // verbatim: Slack would otherwise turn bare URLs, #channel names and "@here"-like words in
  // the text into live links and mentions; Tollgate's own mentions are explicit <@U…> tokens,
  // which Slack reads either way.
  w.Key(mrkdwn ? "verbatim" : "emoji");
  w.Bool(true);
  w.EndObject();
}
void text_object(json::Writer& w, std::string_view key, bool mrkdwn, std::string_view text) {
  json::key(w, key);
  text_value(w, mrkdwn, text);
}

// A mrkdwn text object as an array element (section fields, context elements).
void mrkdwn_element(json::Writer& w, const Mrkdwn& text, std::size_t max) {
  text_value(w, true, text.truncated(max).str());
}

void plain(json::Writer& w, std::string_view key, std::string_view text, std::size_t max) {
  text_object(w, key, false, cut(text, max));
}
void mrkdwn(json::Writer& w, std::string_view key, const Mrkdwn& text, std::size_t max) {
  text_object(w, key, true, text.truncated(max).str());
}

// A value the router reads back (a button's or option's value, a callback_id, private_metadata):
// too long is a mistake in a renderer, logged; it is cut all the same, for Slack refuses it.
std::string id_value(std::string_view what, std::string_view value, std::size_t max) {
  if (text_length(value) > max)
    spdlog::error("block kit: {} longer than {}: \"{}…\"", what, max, value.substr(0, 40));
  return cut(value, max);
}

void options(json::Writer& w, const std::vector<Option>& opts, std::size_t max) {
  json::key(w, "options");
  w.StartArray();
  for (std::size_t i = 0; i < opts.size() && i < max; ++i) {
    w.StartObject();
    plain(w, "text", opts[i].text, kOptionText);
    json::kv(w, "value", id_value("option value", opts[i].value, kOptionValue));
    w.EndObject();
  }
  w.EndArray();
}

const std::string& action_id_of(const Element& e) {
  return std::visit([](const auto& x) -> const std::string& { return x.action_id; }, e);
}

// One element, or false when Slack would refuse it as it stands (an overflow outside 2..5
// options, checkboxes without options): such an element is left out, and the mistake logged.
bool element(json::Writer& w, const Element& e) {
  const std::string& id = action_id_of(e);
  if (id.empty() || id.size() > kId) {
    spdlog::error("block kit: action_id \"{}\" is empty or longer than {}", id, kId);
    return false;
  }
  if (const auto* o = std::get_if<Overflow>(&e);
      o != nullptr && (o->options.size() < kOverflowMin)) {
    spdlog::error("block kit: overflow {} with {} options", id, o->options.size());
    return false;
  }
  if (const auto* s = std::get_if<StaticSelect>(&e); s != nullptr && s->options.empty()) {
    spdlog::error("block kit: static_select {} without options", id);
    return false;
  }
  if (const auto* c = std::get_if<Checkboxes>(&e); c != nullptr && c->options.empty()) {
    spdlog::error("block kit: checkboxes {} without options", id);
    return false;
  }
  w.StartObject();
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Button>) {
          json::kv(w, "type", "button");
          json::kv(w, "action_id", x.action_id);
          plain(w, "text", x.text, kButtonText);
          json::kv(w, "value", id_value("button value", x.value, kButtonValue));
          if (x.style != Style::plain)
            json::kv(w, "style", x.style == Style::primary ? "primary" : "danger");
          if (x.confirm) {
            json::key(w, "confirm");
            w.StartObject();
            plain(w, "title", x.confirm->title, kConfirmTitle);
            plain(w, "text", x.confirm->text, kConfirmText);
            plain(w, "confirm", x.confirm->confirm, kConfirmButton);
            plain(w, "deny", x.confirm->deny, kConfirmButton);
            w.EndObject();
          }
        } else if constexpr (std::is_same_v<T, Overflow>) {
          json::kv(w, "type", "overflow");
          json::kv(w, "action_id", x.action_id);
          options(w, x.options, kOverflowMax);
        } else if constexpr (std::is_same_v<T, Checkboxes>) {
          json::kv(w, "type", "checkboxes");
          json::kv(w, "action_id", x.action_id);
          options(w, x.options, kCheckboxesMax);
        } else if constexpr (std::is_same_v<T, UsersSelect>) {
          json::kv(w, "type", "users_select");
          json::kv(w, "action_id", x.action_id);
          if (!x.placeholder.empty()) plain(w, "placeholder", x.placeholder, kPlaceholder);
        } else if constexpr (std::is_same_v<T, StaticSelect>) {
          json::kv(w, "type", "static_select");
          json::kv(w, "action_id", x.action_id);
          if (!x.placeholder.empty()) plain(w, "placeholder", x.placeholder, kPlaceholder);
          options(w, x.options, kSelectMax);
        } else {
          json::kv(w, "type", "plain_text_input");
          json::kv(w, "action_id", x.action_id);
          w.Key("multiline");
          w.Bool(x.multiline);
          w.Key("max_length");
          w.Int(std::clamp(x.max_length, 1, kInputMax));
        }
      },
      e);
  w.EndObject();
  return true;
}

template <typename Fill>
std::string object(Fill fill) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  fill(w);
  w.EndObject();
  return json::text(b);
}

void raw(json::Writer& w, std::string_view key, const std::string& json_text,
         rapidjson::Type type) {
  json::key(w, key);
  w.RawValue(json_text.data(), json_text.size(), type);
}

void message_fields(json::Writer& w, const Message& m) {
  json::kv(w, "text", m.text.empty() ? std::string(" ") : m.text.truncated(kMessageText).str());
  if (m.blocks.size() > 0) raw(w, "blocks", m.blocks.json(), rapidjson::kArrayType);
}

}  // namespace

// ---- Text -------------------------------------------------------------------

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    int n = sequence_length(static_cast<unsigned char>(s[i]));
    if (n > 0 && well_formed(s, i, n)) {
      out.append(s.substr(i, static_cast<std::size_t>(n)));
      i += static_cast<std::size_t>(n);
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

std::size_t text_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) n += units(c);
  }
  return n;
}

std::string cut(std::string_view text, std::size_t max) {
  std::string s = valid_utf8(text);
  if (max == 0) return {};
  std::size_t end = offset_after(s, max);
  if (end == std::string_view::npos) return s;
  s.resize(offset_after(s, max - 1));
  return s + "…";
}

Mrkdwn Mrkdwn::text(std::string_view plain) {
  Mrkdwn m;
  std::string s = valid_utf8(plain);
  m.s_.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': m.s_ += "&amp;"; break;
      case '<': m.s_ += "&lt;"; break;
      case '>': m.s_ += "&gt;"; break;
      default: m.s_ += c;
    }
  }
  return m;
}

Mrkdwn Mrkdwn::line(std::string_view plain) {
  std::string flat(plain);
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::replace(flat.begin(), flat.end(), '\r', ' ');
  return text(flat);
}

Mrkdwn Mrkdwn::quote(std::string_view plain) {
  Mrkdwn m;
  std::size_t start = 0;
  while (true) {
    std::size_t end = plain.find('\n', start);
    std::string_view one = plain.substr(start, end == std::string_view::npos ? end : end - start);
    if (!one.empty() && one.back() == '\r') one.remove_suffix(1);
    if (start > 0) m.s_ += '\n';
    m.s_ += '>';
    m += text(one);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return m;
}

Mrkdwn Mrkdwn::markup(std::string_view trusted) {
  Mrkdwn m;
  m.s_ = valid_utf8(trusted);
  return m;
}

Mrkdwn Mrkdwn::mention(std::string_view id) {
  bool ok = id.size() >= 2 && id.size() <= 32 && (id[0] == 'U' || id[0] == 'W') &&
            std::all_of(id.begin() + 1, id.end(), [](char c) {
              return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            });
  return ok ? markup("<@" + std::string(id) + ">") : text(id);
}

Mrkdwn Mrkdwn::link(std::string_view url, std::string_view label) {
  bool web = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  bool clean = std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == '|' || c == 0x7f;
  });
  if (!web || !clean) return text(label);
  return markup("<" + std::string(url) + "|") + text(label) + markup(">");
}

Mrkdwn& Mrkdwn::operator+=(const Mrkdwn& more) {
  s_ += more.s_;
  return *this;
}

Mrkdwn Mrkdwn::truncated(std::size_t max) const {
  if (offset_after(s_, max) == std::string_view::npos) return *this;
  std::size_t end = max == 0 ? 0 : offset_after(s_, max - 1);
  // Never end inside "&amp;" or "<@U123>": step back to the start of an unclosed one.
  std::string_view head(s_.data(), end);
  std::size_t amp = head.rfind('&');
  if (amp != std::string_view::npos && head.find(';', amp) == std::string_view::npos) end = amp;
  std::size_t lt = head.rfind('<');
  if (lt != std::string_view::npos && lt < end && head.find('>', lt) == std::string_view::npos)
    end = lt;
  Mrkdwn m;
  m.s_ = s_.substr(0, end) + "…";
  return m;
}

// ---- Elements ---------------------------------------------------------------

std::vector<Element> menu(std::string_view action_id, std::vector<Option> opts) {
  if (opts.empty()) return {};
  if (opts.size() == 1) return {Button{std::string(action_id), opts[0].text, opts[0].value}};
  if (opts.size() > kOverflowMax) opts.resize(kOverflowMax);
  return {Overflow{std::string(action_id), std::move(opts)}};
}

// ---- Blocks -----------------------------------------------------------------

Blocks::Blocks(Surface surface)
    : limit_(surface == Surface::message ? kMessageBlocks : kViewBlocks) {}

bool Blocks::add(std::string block_json) {
  if (blocks_.size() >= limit_) return false;
  blocks_.push_back(std::move(block_json));
  return true;
}

std::string Blocks::block_id(std::string_view id) {
  if (id.empty()) return {};
  if (id.size() > kId || !ids_.emplace(id).second) {
    spdlog::error("block kit: block_id \"{}\" is a duplicate or longer than {}", id, kId);
    return {};
  }
  return std::string(id);
}

Blocks& Blocks::header(std::string_view text) {
  add(object([&](json::Writer& w) {
    json::kv(w, "type", "header");
    plain(w, "text", text, kHeaderText);
  }));
  return *this;
}

Blocks& Blocks::section(const Mrkdwn& text, std::string_view id,
                        const std::optional<Element>& accessory) {
  if (room() == 0) return *this;
  std::string bid = block_id(id);
  add(object([&](json::Writer& w) {
    json::kv(w, "type", "section");
    if (!bid.empty()) json::kv(w, "block_id", bid);
    mrkdwn(w, "text", text, kSectionText);
    if (accessory) {
      // An element Slack would refuse leaves the writer mid-object: build it apart first.
      rapidjson::StringBuffer eb;
      json::Writer ew(eb);
      if (element(ew, *accessory)) raw(w, "accessory", json::text(eb), rapidjson::kObjectType);
    }
  }));
  return *this;
}

Blocks& Blocks::fields(const std::vector<Mrkdwn>& fs) {
  if (fs.empty()) return *this;
  add(object([&](json::Writer& w) {
    json::kv(w, "type", "section");
    json::key(w, "fields");
    w.StartArray();
    for (std::size_t i = 0; i < fs.size() && i < kFields; ++i) {
      mrkdwn_element(w, fs[i], kFieldText);
    }
    w.EndArray();
  }));
  return *this;
}

Blocks& Blocks::context(const std::vector<Mrkdwn>& lines) {
  if (lines.empty()) return *this;
  add(object([&](json::Writer& w) {
    json::kv(w, "type", "context");
    json::key(w, "elements");
    w.StartArray();
    for (std::size_t i = 0; i < lines.size() && i < kContextElements; ++i) {
      mrkdwn_element(w, lines[i], kSectionText);
    }
    w.EndArray();
  }));
  return *this;
}

Blocks& Blocks::divider() {
  add(object([](json::Writer& w) { json::kv(w, "type", "divider"); }));
  return *this;
}

Blocks& Blocks::actions(std::string_view id, const std::vector<Element>& elements) {
  if (room() == 0) return *this;
  std::vector<std::string> parts;
  std::set<std::string, std::less<>> action_ids;
  for (const Element& e : elements) {
    if (parts.size() == kActionsElements) break;
    if (!action_ids.insert(action_id_of(e)).second) {
      spdlog::error("block kit: action_id \"{}\" twice in block {}", action_id_of(e), id);
      continue;
    }
    rapidjson::StringBuffer eb;
    json::Writer ew(eb);
    if (element(ew, e)) parts.push_back(json::text(eb));
  }
  if (parts.empty()) return *this;  // Slack refuses an actions block without elements
  std::string bid = block_id(id);
  add(object([&](json::Writer& w) {
    json::kv(w, "type", "actions");
    if (!bid.empty()) json::kv(w, "block_id", bid);
    json::key(w, "elements");
    w.StartArray();
    for (const std::string& p : parts) w.RawValue(p.data(), p.size(), rapidjson::kObjectType);
    w.EndArray();
  }));
  return *this;
}

Blocks& Blocks::input(std::string_view id, std::string_view label, const Element& e, bool optional,
                      std::string_view hint) {
  if (room() == 0) return *this;
  rapidjson::StringBuffer eb;
  json::Writer ew(eb);
  if (!element(ew, e)) return *this;
  std::string bid = block_id(id);
  add(object([&](json::Writer& w) {
    json::kv(w, "type", "input");
    if (!bid.empty()) json::kv(w, "block_id", bid);
    w.Key("optional");
    w.Bool(optional);
    plain(w, "label", label, kInputLabel);
    if (!hint.empty()) plain(w, "hint", hint, kInputLabel);
    raw(w, "element", json::text(eb), rapidjson::kObjectType);
  }));
  return *this;
}

std::string Blocks::json() const {
  std::string out = "[";
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    if (i > 0) out += ',';
    out += blocks_[i];
  }
  return out + "]";
}

// ---- Surfaces and bodies -----------------------------------------------------

std::string Modal::json() const {
  return object([&](json::Writer& w) {
    json::kv(w, "type", "modal");
    json::kv(w, "callback_id", id_value("callback_id", callback_id, kId));
    if (!private_metadata.empty())
      json::kv(w, "private_metadata",
               id_value("private_metadata", private_metadata, kPrivateMetadata));
    plain(w, "title", title, kViewTitle);
    if (!submit.empty()) plain(w, "submit", submit, kViewTitle);
    if (!close.empty()) plain(w, "close", close, kViewTitle);
    raw(w, "blocks", blocks.json(), rapidjson::kArrayType);
  });
}

std::string HomeView::json() const {
  return object([&](json::Writer& w) {
    json::kv(w, "type", "home");
    if (!private_metadata.empty())
      json::kv(w, "private_metadata",
               id_value("private_metadata", private_metadata, kPrivateMetadata));
    raw(w, "blocks", blocks.json(), rapidjson::kArrayType);
  });
}

std::string post_message(std::string_view channel, const Message& m, std::string_view thread_ts) {
  return object([&](json::Writer& w) {
    json::kv(w, "channel", channel);
    message_fields(w, m);
    w.Key("unfurl_links");
    w.Bool(false);
    w.Key("unfurl_media");
    w.Bool(false);
    if (!thread_ts.empty()) json::kv(w, "thread_ts", thread_ts);
  });
}

std::string update_message(std::string_view channel, std::string_view ts, const Message& m) {
  return object([&](json::Writer& w) {
    json::kv(w, "channel", channel);
    json::kv(w, "ts", ts);
    message_fields(w, m);
  });
}

std::string post_ephemeral(std::string_view channel, std::string_view user, const Message& m) {
  return object([&](json::Writer& w) {
    json::kv(w, "channel", channel);
    json::kv(w, "user", user);
    message_fields(w, m);
  });
}

std::string ephemeral_answer(const Message& m) {
  return object([&](json::Writer& w) {
    json::kv(w, "response_type", "ephemeral");
    w.Key("replace_original");
    w.Bool(false);
    message_fields(w, m);
  });
}

std::string views_open(std::string_view trigger_id, const Modal& modal) {
  return object([&](json::Writer& w) {
    json::kv(w, "trigger_id", trigger_id);
    raw(w, "view", modal.json(), rapidjson::kObjectType);
  });
}

std::string views_publish(std::string_view user_id, const HomeView& home) {
  return object([&](json::Writer& w) {
    json::kv(w, "user_id", user_id);
    raw(w, "view", home.json(), rapidjson::kObjectType);
  });
}

std::string update_view_answer(const Modal& modal) {
  return object([&](json::Writer& w) {
    json::kv(w, "response_action", "update");
    raw(w, "view", modal.json(), rapidjson::kObjectType);
  });
}

std::string errors_answer(std::string_view block_id, std::string_view message) {
  return object([&](json::Writer& w) {
    json::kv(w, "response_action", "errors");
    json::key(w, "errors");
    w.StartObject();
    json::key(w, block_id);
    json::string(w, cut(message, kInputLabel));
    w.EndObject();
  });
}

Message text_message(const Mrkdwn& text) {
  Message m;
  m.text = text;
  return m;
}

}  // namespace tollgate::slack::kit
