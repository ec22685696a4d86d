#include "sandbox/slack_rules.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"

// Where each rule comes from. [name] below refers to:
//   [blocks]    docs.slack.dev/reference/block-kit/blocks ("up to 50 blocks in each message, and
//               100 blocks in modals or Home tabs"), and each block's page:
//   [section]   .../blocks/section-block       [header]  .../blocks/header-block
//   [context]   .../blocks/context-block       [actions] .../blocks/actions-block
//   [divider]   .../blocks/divider-block       [input]   .../blocks/input-block
//   [image]     .../blocks/image-block         [rich]    .../blocks/rich-text-block
//   [markdown]  .../blocks/markdown-block
//   [button]    docs.slack.dev/reference/block-kit/block-elements/button-element
//   [overflow]  .../block-elements/overflow-menu-element
//   [select]    .../block-elements/select-menu-element
//   [multi]     .../block-elements/multi-select-menu-element
//   [checkbox]  .../block-elements/checkboxes-element
//   [radio]     .../block-elements/radio-button-group-element
//   [date]      .../block-elements/date-picker-element     [time] .../time-picker-element
//   [datetime]  .../block-elements/datetime-picker-element
//   [textinput] .../block-elements/plain-text-input-element
//   [email], [url], [number]  the email, URL and number input element pages
//   [imageel]   .../block-elements/image-element
//   [text]      docs.slack.dev/reference/block-kit/composition-objects/text-object
//   [option]    .../composition-objects/option-object
//   [group]     .../composition-objects/option-group-object
//   [confirm]   .../composition-objects/confirmation-dialog-object
//   [dispatch]  .../composition-objects/dispatch-action-configuration-object
//   [filter]    .../composition-objects/conversation-filter-object
//   [slackfile] .../composition-objects/slack-file-object
//   [modal]     docs.slack.dev/reference/views/modal-views
//   [home]      docs.slack.dev/reference/views/home-tab-views
//   [views.*]   docs.slack.dev/reference/methods/views.open (.push, .update, .publish)
//   [chat.*]    docs.slack.dev/reference/methods/chat.postMessage (.update, .postEphemeral)
//   [respond]   docs.slack.dev/interactivity/handling-user-interaction (response_url)
//   [commands]  docs.slack.dev/interactivity/implementing-slash-commands
//   [modals]    docs.slack.dev/surfaces/modals (response_action)
//   [types]     @slack/types: slackapi/node-slack-sdk packages/types/src/block-kit/{blocks,
//               block-elements,composition-objects,extensions}.ts and views.ts
//   [py]        python-slack-sdk: slack_sdk/models/blocks/{blocks,block_elements,
//               basic_components}.py and views/__init__.py (the validators with the limits)
// Slack's wording of the messages ("must be less than 3001 characters", "invalid additional
// property: x", "missing required field: x", "unsupported type: x", "`action_id` \"x\" already
// exists", each with "[json-pointer:/...]") is that of its answers quoted in issues of
// slackapi/node-slack-sdk, slackapi/java-slack-sdk, slack-go/slack and others.

namespace tollgate::sandbox {
namespace {

using json::Value;

// ---- limits -------------------------------------------------------------------------------

constexpr std::size_t kMessageBlocks = 50;       // [blocks]
constexpr std::size_t kViewBlocks = 100;         // [blocks], [modal], [home]
constexpr std::size_t kMessageText = 40000;      // [chat.*] msg_too_long; changelog 2018-04
constexpr std::size_t kTextObject = 3000;        // [text] "minimum 1, maximum 3000"
constexpr std::size_t kSectionText = 3000;       // [section]
constexpr std::size_t kSectionFields = 10;       // [section] "Maximum number of items is 10"
constexpr std::size_t kSectionField = 2000;      // [section] "each item is 2000 characters"
constexpr std::size_t kHeaderText = 150;         // [header]
constexpr std::size_t kContextElements = 10;     // [context]
constexpr std::size_t kActionsElements = 25;     // [actions]
constexpr std::size_t kInputLabel = 2000;        // [input]
constexpr std::size_t kInputHint = 2000;         // [input]
constexpr std::size_t kImageAltText = 2000;      // [image]
constexpr std::size_t kImageUrl = 3000;          // [image], [imageel]
constexpr std::size_t kImageTitle = 2000;        // [image]
constexpr std::size_t kMarkdownText = 12000;     // [markdown], cumulative per payload
constexpr std::size_t kBlockId = 255;            // [blocks] every block's block_id
constexpr std::size_t kActionId = 255;           // every element's action_id
constexpr std::size_t kButtonText = 75;          // [button]
constexpr std::size_t kButtonValue = 2000;       // [button]
constexpr std::size_t kButtonUrl = 3000;         // [button]
constexpr std::size_t kAccessibilityLabel = 75;  // [button]
constexpr std::size_t kOverflowMin = 2;          // see kOverflowMin note below
constexpr std::size_t kOverflowMax = 5;          // [overflow] "up to five option objects"
constexpr std::size_t kSelectOptions = 100;      // [select], [multi]
constexpr std::size_t kSelectGroups = 100;       // [select], [multi]
constexpr std::size_t kGroupOptions = 100;       // [group]
constexpr std::size_t kGroupLabel = 75;          // [group], [py] OptionGroup
constexpr std::size_t kChoiceOptions = 10;       // [checkbox], [radio] "maximum of 10"
constexpr std::size_t kOptionText = 75;          // [option]
constexpr std::size_t kOptionValue = 150;        // [option] (@slack/types says 75; the
                                                 // reference page and [py] say 150)
constexpr std::size_t kOptionDescription = 75;   // [option]
constexpr std::size_t kOptionUrl = 3000;         // [option] (overflow menus only)
constexpr std::size_t kPlaceholder = 150;        // [select], [date], [textinput], [types]
constexpr std::size_t kTextInputLength = 3000;   // [textinput] min_length 0..3000, max 1..3000
constexpr std::size_t kConfirmTitle = 100;       // [confirm]
constexpr std::size_t kConfirmText = 300;        // [confirm]
constexpr std::size_t kConfirmButton = 30;       // [confirm] confirm and deny
constexpr std::size_t kViewTitle = 24;           // [modal] title, close, submit
constexpr std::size_t kPrivateMetadata = 3000;   // [modal], [home]
constexpr std::size_t kCallbackId = 255;         // [modal], [home]
constexpr std::size_t kExternalId = 255;         // [views.open] "max length of 255"
constexpr std::size_t kViewBytes = 250000;       // [views.*] view_too_large: "greater than 250kb"
// kOverflowMin: the earlier reference (api.slack.com/reference/block-kit/block-elements#overflow)
// said "Maximum number of options is 5, minimum is 2"; docs.slack.dev now says only "up to
// five", and python-slack-sdk lowered its own check to 1 (PR #1219) after seeing Slack take one.
// The fake keeps the published minimum of 2: a one-option overflow menu is refused.

// ---- helpers --------------------------------------------------------------------------------

std::size_t chars(std::string_view s) {  // code points; the input is valid UTF-8 (parsed)
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string view_of(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string at(const std::string& ptr, std::string_view key) {
  return ptr + "/" + token(key);
}
std::string at(const std::string& ptr, std::size_t i) {
  return ptr + "/" + std::to_string(i);
}

std::string serialize(const Value& v) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  v.Accept(w);
  return json::text(b);
}

enum class TextKind { any, plain };  // where a text object may also be mrkdwn

enum Place : unsigned {  // where a block element is used
  kSection = 1,          // a section's accessory
  kActions = 2,          // an actions block's elements
  kInput = 4,            // an input block's element
  kContext = 8,          // a context block's elements
};

const char* place_name(Place p) {
  switch (p) {
    case kSection:
      return "a section accessory";
    case kActions:
      return "an actions block";
    case kInput:
      return "an input block";
    case kContext:
      return "a context block";
  }
  return "";
}

struct ElementSpec {
  const char* type;
  unsigned places;
  std::vector<std::string_view> props;  // besides "type"
};

// Element types, where each may be used and its documented properties ([types]
// block-elements.ts and the blocks' "compatible elements"; each element's page).
// Not modelled, so refused: rich_text_input, file_input, workflow_button,
// feedback_buttons, icon_button (Tollgate uses none of them).
const ElementSpec kElements[] = {
    {"button",
     kSection | kActions,  // [button]
     {"action_id", "text", "url", "value", "style", "confirm", "accessibility_label"}},
    {"overflow", kSection | kActions, {"action_id", "options", "confirm"}},  // [overflow]
    {"static_select",
     kSection | kActions | kInput,  // [select]
     {"action_id", "options", "option_groups", "initial_option", "confirm", "focus_on_load",
      "placeholder"}},
    {"external_select",
     kSection | kActions | kInput,
     {"action_id", "initial_option", "min_query_length", "confirm", "focus_on_load",
      "placeholder"}},
    {"users_select",
     kSection | kActions | kInput,
     {"action_id", "initial_user", "confirm", "focus_on_load", "placeholder"}},
    {"conversations_select",
     kSection | kActions | kInput,
     {"action_id", "initial_conversation", "default_to_current_conversation", "confirm",
      "response_url_enabled", "filter", "focus_on_load", "placeholder"}},
    {"channels_select",
     kSection | kActions | kInput,
     {"action_id", "initial_channel", "confirm", "response_url_enabled", "focus_on_load",
      "placeholder"}},
    {"multi_static_select",
     kSection | kActions | kInput,  // [multi]
     {"action_id", "options", "option_groups", "initial_options", "confirm", "max_selected_items",
      "focus_on_load", "placeholder"}},
    {"multi_external_select",
     kSection | kActions | kInput,
     {"action_id", "min_query_length", "initial_options", "confirm", "max_selected_items",
      "focus_on_load", "placeholder"}},
    {"multi_users_select",
     kSection | kActions | kInput,
     {"action_id", "initial_users", "confirm", "max_selected_items", "focus_on_load",
      "placeholder"}},
    {"multi_conversations_select",
     kSection | kActions | kInput,
     {"action_id", "initial_conversations", "default_to_current_conversation", "confirm",
      "max_selected_items", "filter", "focus_on_load", "placeholder"}},
    {"multi_channels_select",
     kSection | kActions | kInput,
     {"action_id", "initial_channels", "confirm", "max_selected_items", "focus_on_load",
      "placeholder"}},
    {"checkboxes",
     kSection | kActions | kInput,  // [checkbox]
     {"action_id", "options", "initial_options", "confirm", "focus_on_load"}},
    {"radio_buttons",
     kSection | kActions | kInput,  // [radio]
     {"action_id", "options", "initial_option", "confirm", "focus_on_load"}},
    {"datepicker",
     kSection | kActions | kInput,  // [date]
     {"action_id", "initial_date", "confirm", "focus_on_load", "placeholder"}},
    {"timepicker",
     kSection | kActions | kInput,  // [time]
     {"action_id", "initial_time", "confirm", "focus_on_load", "placeholder", "timezone"}},
    {"datetimepicker",
     kActions | kInput,  // [datetime]
     {"action_id", "initial_date_time", "confirm", "focus_on_load"}},
    {"plain_text_input",
     kInput,  // [textinput]: input blocks only
     {"action_id", "initial_value", "multiline", "min_length", "max_length",
      "dispatch_action_config", "focus_on_load", "placeholder"}},
    {"email_text_input",
     kInput,  // [email]
     {"action_id", "initial_value", "dispatch_action_config", "focus_on_load", "placeholder"}},
    {"url_text_input",
     kInput,  // [url]
     {"action_id", "initial_value", "dispatch_action_config", "focus_on_load", "placeholder"}},
    {"number_input",
     kInput,  // [number]
     {"action_id", "is_decimal_allowed", "initial_value", "min_value", "max_value",
      "dispatch_action_config", "focus_on_load", "placeholder"}},
    {"image", kSection | kContext, {"alt_text", "image_url", "slack_file"}},  // [imageel]
};

const ElementSpec* element_spec(std::string_view type) {
  for (const ElementSpec& s : kElements) {
    if (type == s.type) return &s;
  }
  return nullptr;
}

struct OptionRules {
  bool mrkdwn = false;  // checkboxes and radio buttons may use mrkdwn text [option]
  bool url = false;     // only overflow menus' options may carry a url [option]
};

class Checker {
 public:
  explicit Checker(Surface surface) : surface_(surface) {}

  std::vector<std::string> problems;
  std::size_t markdown_chars = 0;

  void fail(const std::string& ptr, const std::string& what) {
    problems.push_back("[ERROR] " + what + " [json-pointer:" + (ptr.empty() ? "/" : ptr) + "]");
  }

  // ---- generic properties ----

  bool object(const Value& v, const std::string& ptr) {
    if (v.IsObject()) return true;
    fail(ptr, "must be an object");
    return false;
  }

  // Every property of `o` must be `type` (when `has_type`) or one of `allowed`.
  void only(const Value& o, const std::string& ptr, std::initializer_list<std::string_view> allowed,
            bool has_type = true) {
    only(o, ptr, allowed.begin(), allowed.end(), has_type);
  }
  void only(const Value& o, const std::string& ptr, const std::vector<std::string_view>& allowed,
            bool has_type = true) {
    only(o, ptr, allowed.data(), allowed.data() + allowed.size(), has_type);
  }
  void only(const Value& o, const std::string& ptr, const std::string_view* begin,
            const std::string_view* end, bool has_type) {
    for (const auto& m : o.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (has_type && name == "type") continue;
      if (std::find(begin, end, name) == end)
        fail(ptr, "invalid additional property: " + std::string(name));
    }
  }

  const Value* required(const Value& o, const std::string& ptr, const char* key) {
    const Value* v = json::member(o, key);
    if (v == nullptr) fail(ptr, std::string("missing required field: ") + key);
    return v;
  }

  // A string property of [min, max] characters (max 0: unbounded).
  const Value* string(const Value& o, const std::string& ptr, const char* key, std::size_t max,
                      bool is_required = false, std::size_t min = 0) {
    const Value* v = is_required ? required(o, ptr, key) : json::member(o, key);
    if (v == nullptr) return nullptr;
    std::string p = at(ptr, key);
    if (!v->IsString()) {
      fail(p, "must be a string");
      return nullptr;
    }
    length(*v, p, min, max);
    return v;
  }

  void length(const Value& s, const std::string& ptr, std::size_t min, std::size_t max) {
    std::size_t n = chars(std::string_view(s.GetString(), s.GetStringLength()));
    if (max > 0 && n > max)
      fail(ptr, "must be less than " + std::to_string(max + 1) + " characters");
    if (n < min) fail(ptr, "must be more than " + std::to_string(min - 1) + " characters");
  }

  void boolean(const Value& o, const std::string& ptr, const char* key, bool is_required = false) {
    const Value* v = is_required ? required(o, ptr, key) : json::member(o, key);
    if (v != nullptr && !v->IsBool()) fail(at(ptr, key), "must be a boolean");
  }

  void integer(const Value& o, const std::string& ptr, const char* key, long long min,
               long long max) {
    const Value* v = json::member(o, key);
    if (v == nullptr) return;
    if (!v->IsInt64()) {
      fail(at(ptr, key), "must be an integer");
      return;
    }
    long long n = v->GetInt64();
    if (n < min || n > max)
      fail(at(ptr, key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }

  void one_of(const Value& o, const std::string& ptr, const char* key,
              std::initializer_list<std::string_view> values) {
    const Value* v = json::member(o, key);
    if (v == nullptr) return;
    std::string p = at(ptr, key);
    if (!v->IsString()) {
      fail(p, "must be a string");
      return;
    }
    std::string s = view_of(*v);
    if (std::find(values.begin(), values.end(), s) != values.end()) return;
    std::string list;
    for (std::string_view e : values) list += (list.empty() ? "" : ", ") + std::string(e);
    fail(p, "must be one of: " + list);
  }

  // An array property with [min, max] items (max 0: unbounded).
  const Value* array(const Value& o, const std::string& ptr, const char* key, std::size_t min,
                     std::size_t max, bool is_required) {
    const Value* v = is_required ? required(o, ptr, key) : json::member(o, key);
    if (v == nullptr) return nullptr;
    std::string p = at(ptr, key);
    if (!v->IsArray()) {
      fail(p, "must be an array");
      return nullptr;
    }
    if (v->Size() < min) fail(p, "must provide at least " + std::to_string(min) + " items");
    if (max > 0 && v->Size() > max)
      fail(p, "must provide no more than " + std::to_string(max) + " items");
    return v;
  }

  void strings(const Value& o, const std::string& ptr, const char* key) {
    const Value* a = array(o, ptr, key, 0, 0, false);
    if (a == nullptr) return;
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      if (!(*a)[i].IsString()) fail(at(at(ptr, key), i), "must be a string");
    }
  }

  // ---- composition objects ----

  // [text]: type plain_text or mrkdwn; text 1..3000 (or the container's smaller limit);
  // emoji only on plain_text, verbatim only on mrkdwn. `max` is the container's limit.
  void text_object(const Value& t, const std::string& ptr, TextKind kind, std::size_t max) {
    if (!object(t, ptr)) return;
    const Value* type = required(t, ptr, "type");
    if (type == nullptr) return;
    if (!type->IsString()) {
      fail(at(ptr, "type"), "must be a string");
      return;
    }
    std::string ty = view_of(*type);
    if (ty == "plain_text") {
      only(t, ptr, {"text", "emoji"});
      boolean(t, ptr, "emoji");
    } else if (ty == "mrkdwn") {
      if (kind == TextKind::plain) fail(at(ptr, "type"), "must be plain_text, not mrkdwn");
      only(t, ptr, {"text", "verbatim"});
      boolean(t, ptr, "verbatim");
    } else {
      fail(at(ptr, "type"), "unsupported type: " + ty);
      return;
    }
    string(t, ptr, "text", std::min(max, kTextObject), true, 1);
  }

  void text_prop(const Value& o, const std::string& ptr, const char* key, TextKind kind,
                 std::size_t max, bool is_required = false) {
    const Value* v = is_required ? required(o, ptr, key) : json::member(o, key);
    if (v != nullptr) text_object(*v, at(ptr, key), kind, max);
  }

  // [confirm]: title, text, confirm and deny required; style primary or danger.
  void confirm(const Value& o, const std::string& ptr) {
    const Value* c = json::member(o, "confirm");
    if (c == nullptr) return;
    std::string p = at(ptr, "confirm");
    if (!object(*c, p)) return;
    only(*c, p, {"title", "text", "confirm", "deny", "style"}, false);
    text_prop(*c, p, "title", TextKind::plain, kConfirmTitle, true);
    // The page says plain_text, its own example uses mrkdwn; @slack/types takes both.
    text_prop(*c, p, "text", TextKind::any, kConfirmText, true);
    text_prop(*c, p, "confirm", TextKind::plain, kConfirmButton, true);
    text_prop(*c, p, "deny", TextKind::plain, kConfirmButton, true);
    one_of(*c, p, "style", {"primary", "danger"});
  }

  // [option]: text (<= 75), value (<= 150), description (<= 75), url (overflow only, <= 3000).
  void option(const Value& o, const std::string& ptr, OptionRules rules) {
    if (!object(o, ptr)) return;
    if (rules.url) {
      only(o, ptr, {"text", "value", "description", "url"}, false);
    } else {
      only(o, ptr, {"text", "value", "description"}, false);
    }
    TextKind kind = rules.mrkdwn ? TextKind::any : TextKind::plain;
    text_prop(o, ptr, "text", kind, kOptionText, true);
    string(o, ptr, "value", kOptionValue, true);
    text_prop(o, ptr, "description", kind, kOptionDescription);
    if (rules.url) string(o, ptr, "url", kOptionUrl);
  }

  const Value* options(const Value& e, const std::string& ptr, const char* key, std::size_t min,
                       std::size_t max, bool is_required, OptionRules rules,
                       std::vector<const Value*>& all) {
    const Value* a = array(e, ptr, key, min, max, is_required);
    if (a == nullptr) return nullptr;
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      option((*a)[i], at(at(ptr, key), i), rules);
      all.push_back(&(*a)[i]);
    }
    return a;
  }

  // [group]: label (plain_text, <= 75) and options (1..100).
  void option_groups(const Value& e, const std::string& ptr, std::vector<const Value*>& all) {
    const Value* a = array(e, ptr, "option_groups", 1, kSelectGroups, false);
    if (a == nullptr) return;
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      std::string p = at(at(ptr, "option_groups"), i);
      const Value& g = (*a)[i];
      if (!object(g, p)) continue;
      only(g, p, {"label", "options"}, false);
      text_prop(g, p, "label", TextKind::plain, kGroupLabel, true);
      options(g, p, "options", 1, kGroupOptions, true, {}, all);
    }
  }

  // initial_option(s) must exactly match options of the element ([select], [checkbox], [radio]).
  void initial(const Value& e, const std::string& ptr, const char* key, bool many,
               const std::vector<const Value*>& all, OptionRules rules, bool must_match) {
    const Value* v = json::member(e, key);
    if (v == nullptr) return;
    std::string p = at(ptr, key);
    auto one = [&](const Value& o, const std::string& op) {
      option(o, op, rules);
      if (!must_match) return;
      for (const Value* candidate : all) {
        if (*candidate == o) return;
      }
      fail(op, "must exactly match one of the options");
    };
    if (!many) {
      one(*v, p);
      return;
    }
    if (!v->IsArray()) {
      fail(p, "must be an array");
      return;
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) one((*v)[i], at(p, i));
  }

  // [dispatch]: trigger_actions_on, one or both of on_enter_pressed, on_character_entered.
  void dispatch_action_config(const Value& e, const std::string& ptr) {
    const Value* d = json::member(e, "dispatch_action_config");
    if (d == nullptr) return;
    std::string p = at(ptr, "dispatch_action_config");
    if (!object(*d, p)) return;
    only(*d, p, {"trigger_actions_on"}, false);
    const Value* a = array(*d, p, "trigger_actions_on", 1, 2, false);
    if (a == nullptr) return;
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      const Value& t = (*a)[i];
      if (!t.IsString() ||
          (view_of(t) != "on_enter_pressed" && view_of(t) != "on_character_entered"))
        fail(at(at(p, "trigger_actions_on"), i),
             "must be one of: on_enter_pressed, on_character_entered");
    }
  }

  // [filter]: include (non-empty; im, mpim, private, public), exclude_external_shared_channels,
  // exclude_bot_users; at least one of them.
  void filter(const Value& e, const std::string& ptr) {
    const Value* f = json::member(e, "filter");
    if (f == nullptr) return;
    std::string p = at(ptr, "filter");
    if (!object(*f, p)) return;
    only(*f, p, {"include", "exclude_external_shared_channels", "exclude_bot_users"}, false);
    if (f->ObjectEmpty()) fail(p, "must provide at least one of the filter fields");
    boolean(*f, p, "exclude_external_shared_channels");
    boolean(*f, p, "exclude_bot_users");
    const Value* inc = array(*f, p, "include", 1, 4, false);
    if (inc == nullptr) return;
    for (rapidjson::SizeType i = 0; i < inc->Size(); ++i) {
      const Value& t = (*inc)[i];
      std::string s = t.IsString() ? view_of(t) : "";
      if (s != "im" && s != "mpim" && s != "private" && s != "public")
        fail(at(at(p, "include"), i), "must be one of: im, mpim, private, public");
    }
  }

  // [image], [imageel], [slackfile]: exactly one of image_url and slack_file ({id} or {url}).
  void image_source(const Value& o, const std::string& ptr) {
    const Value* url = json::member(o, "image_url");
    const Value* file = json::member(o, "slack_file");
    if ((url == nullptr) == (file == nullptr))
      fail(ptr, "must provide exactly one of `image_url` or `slack_file`");
    string(o, ptr, "image_url", kImageUrl, false, 1);
    if (file != nullptr) {
      std::string p = at(ptr, "slack_file");
      if (!object(*file, p)) return;
      only(*file, p, {"id", "url"}, false);
      if ((json::member(*file, "id") == nullptr) == (json::member(*file, "url") == nullptr))
        fail(p, "must provide exactly one of `id` or `url`");
      string(*file, p, "id", 0);
      string(*file, p, "url", 0);
    }
  }

  // ---- block elements ----

  // `action_ids`: those of the containing block; each action_id "Should be unique among all
  // other action_ids in the containing block" ([button] and every element page). Slack refuses
  // a duplicate: "`action_id` \"x\" already exists".
  void element(const Value& e, const std::string& ptr, Place place,
               std::set<std::string>& action_ids) {
    if (!object(e, ptr)) return;
    const Value* type = required(e, ptr, "type");
    if (type == nullptr) return;
    if (!type->IsString()) {
      fail(at(ptr, "type"), "must be a string");
      return;
    }
    std::string ty = view_of(*type);
    const ElementSpec* spec = element_spec(ty);
    if (spec == nullptr) {
      fail(at(ptr, "type"), "unsupported type: " + ty);
      return;
    }
    if ((spec->places & place) == 0) {
      fail(at(ptr, "type"),
           "unsupported type: " + ty + " (not allowed in " + place_name(place) + ")");
      return;
    }
    only(e, ptr, spec->props);
    if (const Value* id = string(e, ptr, "action_id", kActionId)) {
      if (!action_ids.insert(view_of(*id)).second)
        fail(at(ptr, "action_id"), "`action_id` \"" + view_of(*id) + "\" already exists");
    }
    confirm(e, ptr);
    text_prop(e, ptr, "placeholder", TextKind::plain, kPlaceholder);
    if (const Value* f = json::member(e, "focus_on_load")) {
      if (!f->IsBool()) {
        fail(at(ptr, "focus_on_load"), "must be a boolean");
      } else if (f->GetBool() && ++focus_on_load_ > 1) {
        // Every element page: "Only one element can be set to true."
        fail(at(ptr, "focus_on_load"), "only one element may set focus_on_load");
      }
    }
    integer(e, ptr, "max_selected_items", 1, 1000000);  // [types] "Minimum number is 1"
    integer(e, ptr, "min_query_length", 0, 1000000);
    dispatch_action_config(e, ptr);

    std::vector<const Value*> all;
    if (ty == "button") {  // [button]
      text_prop(e, ptr, "text", TextKind::plain, kButtonText, true);
      string(e, ptr, "value", kButtonValue);
      string(e, ptr, "url", kButtonUrl, false, 1);
      one_of(e, ptr, "style", {"primary", "danger"});
      string(e, ptr, "accessibility_label", kAccessibilityLabel);
    } else if (ty == "overflow") {  // [overflow]
      options(e, ptr, "options", kOverflowMin, kOverflowMax, true, {false, true}, all);
    } else if (ty == "static_select" || ty == "multi_static_select") {  // [select], [multi]
      bool has_options = json::member(e, "options") != nullptr;
      bool has_groups = json::member(e, "option_groups") != nullptr;
      if (has_options == has_groups)
        fail(ptr, "must provide exactly one of `options` or `option_groups`");
      options(e, ptr, "options", 1, kSelectOptions, false, {}, all);
      option_groups(e, ptr, all);
      initial(e, ptr, "initial_option", false, all, {}, true);
      initial(e, ptr, "initial_options", true, all, {}, true);
    } else if (ty == "external_select" || ty == "multi_external_select") {
      initial(e, ptr, "initial_option", false, all, {}, false);
      initial(e, ptr, "initial_options", true, all, {}, false);
    } else if (ty == "users_select") {
      string(e, ptr, "initial_user", 0);
    } else if (ty == "multi_users_select") {
      strings(e, ptr, "initial_users");
    } else if (ty == "conversations_select" || ty == "multi_conversations_select") {
      string(e, ptr, "initial_conversation", 0);
      strings(e, ptr, "initial_conversations");
      boolean(e, ptr, "default_to_current_conversation");
      boolean(e, ptr, "response_url_enabled");
      filter(e, ptr);
    } else if (ty == "channels_select" || ty == "multi_channels_select") {
      string(e, ptr, "initial_channel", 0);
      strings(e, ptr, "initial_channels");
      boolean(e, ptr, "response_url_enabled");
    } else if (ty == "checkboxes" || ty == "radio_buttons") {  // [checkbox], [radio]
      options(e, ptr, "options", 1, kChoiceOptions, true, {true, false}, all);
      initial(e, ptr, "initial_options", true, all, {true, false}, true);
      initial(e, ptr, "initial_option", false, all, {true, false}, true);
    } else if (ty == "datepicker") {  // [date]: YYYY-MM-DD
      if (const Value* d = string(e, ptr, "initial_date", 0)) {
        std::string s = view_of(*d);
        bool ok = s.size() == 10 && s[4] == '-' && s[7] == '-';
        for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
          ok = ok && i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]));
        if (!ok) fail(at(ptr, "initial_date"), "must be a date as YYYY-MM-DD");
      }
    } else if (ty == "timepicker") {  // [time]: HH:mm
      if (const Value* t = string(e, ptr, "initial_time", 0)) {
        std::string s = view_of(*t);
        bool ok = s.size() == 5 && s[2] == ':';
        for (std::size_t i : {0, 1, 3, 4})
          ok = ok && i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]));
        if (!ok) fail(at(ptr, "initial_time"), "must be a time as HH:mm");
      }
      string(e, ptr, "timezone", 0);
    } else if (ty == "datetimepicker") {  // [datetime]: a UNIX time in seconds
      integer(e, ptr, "initial_date_time", 0, 9999999999LL);
    } else if (ty == "plain_text_input") {  // [textinput]
      string(e, ptr, "initial_value", 0);
      boolean(e, ptr, "multiline");
      integer(e, ptr, "min_length", 0, kTextInputLength);
      integer(e, ptr, "max_length", 1, kTextInputLength);
      const Value* lo = json::member(e, "min_length");
      const Value* hi = json::member(e, "max_length");
      if (lo != nullptr && hi != nullptr && lo->IsInt64() && hi->IsInt64() &&
          lo->GetInt64() > hi->GetInt64())
        fail(at(ptr, "min_length"), "must not be greater than max_length");
    } else if (ty == "email_text_input" || ty == "url_text_input") {  // [email], [url]
      string(e, ptr, "initial_value", 0);
    } else if (ty == "number_input") {  // [number]
      boolean(e, ptr, "is_decimal_allowed", true);
      string(e, ptr, "initial_value", 0);
      string(e, ptr, "min_value", 0);
      string(e, ptr, "max_value", 0);
    } else if (ty == "image") {  // [imageel]
      string(e, ptr, "alt_text", 0, true, 1);
      image_source(e, ptr);
    }
  }

  // ---- blocks ----

  void block(const Value& b, const std::string& ptr) {
    if (!object(b, ptr)) return;
    const Value* type = required(b, ptr, "type");
    if (type == nullptr) return;
    if (!type->IsString()) {
      fail(at(ptr, "type"), "must be a string");
      return;
    }
    std::string ty = view_of(*type);
    // block_id: <= 255 and unique in the message or view ([blocks]: "block_id should be unique
    // for each message and each iteration of a message"; views answer "Block ID needs to be
    // unique"). The markdown block ignores its block_id ([markdown]).
    if (const Value* id = string(b, ptr, "block_id", kBlockId)) {
      if (ty != "markdown" && !block_ids_.insert(view_of(*id)).second)
        fail(at(ptr, "block_id"), "`block_id` \"" + view_of(*id) + "\" already exists");
    }
    std::set<std::string> action_ids;
    if (ty == "section") {  // [section]
      only(b, ptr, {"block_id", "text", "fields", "accessory", "expand"});
      const Value* text = json::member(b, "text");
      const Value* fields = json::member(b, "fields");
      if (text == nullptr && fields == nullptr) fail(ptr, "must define either `text` or `fields`");
      if (text != nullptr) text_object(*text, at(ptr, "text"), TextKind::any, kSectionText);
      if (const Value* a = array(b, ptr, "fields", 1, kSectionFields, false)) {
        for (rapidjson::SizeType i = 0; i < a->Size(); ++i)
          text_object((*a)[i], at(at(ptr, "fields"), i), TextKind::any, kSectionField);
      }
      if (const Value* acc = json::member(b, "accessory"))
        element(*acc, at(ptr, "accessory"), kSection, action_ids);
      boolean(b, ptr, "expand");
    } else if (ty == "header") {  // [header]
      only(b, ptr, {"block_id", "text"});
      text_prop(b, ptr, "text", TextKind::plain, kHeaderText, true);
    } else if (ty == "context") {  // [context]: image elements and text objects, 1..10
      only(b, ptr, {"block_id", "elements"});
      if (const Value* a = array(b, ptr, "elements", 1, kContextElements, true)) {
        for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
          const Value& e = (*a)[i];
          std::string p = at(at(ptr, "elements"), i);
          if (json::str(e, "type") == "image") {
            element(e, p, kContext, action_ids);
          } else {
            text_object(e, p, TextKind::any, kTextObject);
          }
        }
      }
    } else if (ty == "actions") {  // [actions]: interactive elements, 1..25
      only(b, ptr, {"block_id", "elements"});
      if (const Value* a = array(b, ptr, "elements", 1, kActionsElements, true)) {
        for (rapidjson::SizeType i = 0; i < a->Size(); ++i)
          element((*a)[i], at(at(ptr, "elements"), i), kActions, action_ids);
      }
    } else if (ty == "divider") {  // [divider]
      only(b, ptr, {"block_id"});
    } else if (ty == "input") {  // [input]
      only(b, ptr, {"block_id", "label", "element", "dispatch_action", "hint", "optional"});
      text_prop(b, ptr, "label", TextKind::plain, kInputLabel, true);
      if (const Value* e = required(b, ptr, "element"))
        element(*e, at(ptr, "element"), kInput, action_ids);
      text_prop(b, ptr, "hint", TextKind::plain, kInputHint);
      boolean(b, ptr, "optional");
      boolean(b, ptr, "dispatch_action");
      has_input_ = true;
    } else if (ty == "image") {  // [image]
      only(b, ptr, {"block_id", "alt_text", "image_url", "slack_file", "title"});
      string(b, ptr, "alt_text", kImageAltText, true, 1);
      image_source(b, ptr);
      text_prop(b, ptr, "title", TextKind::plain, kImageTitle);
    } else if (ty == "rich_text") {  // [rich]: its four sub-element types (not checked deeper)
      only(b, ptr, {"block_id", "elements"});
      if (const Value* a = array(b, ptr, "elements", 1, 0, true)) {
        for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
          std::string p = at(at(ptr, "elements"), i);
          const Value& e = (*a)[i];
          if (!object(e, p)) continue;
          std::string t = json::str(e, "type");
          if (t != "rich_text_section" && t != "rich_text_list" && t != "rich_text_preformatted" &&
              t != "rich_text_quote")
            fail(at(p, "type"), "unsupported type: " + t);
        }
      }
    } else if (ty == "markdown" && surface_ == Surface::message) {
      // [markdown]: messages only; text <= 12,000 characters, cumulative over the payload.
      only(b, ptr, {"block_id", "text"});
      if (const Value* t = string(b, ptr, "text", kMarkdownText, true, 1)) {
        markdown_chars += chars(std::string_view(t->GetString(), t->GetStringLength()));
        if (markdown_chars > kMarkdownText)
          fail(at(ptr, "text"), "markdown blocks must be less than " +
                                    std::to_string(kMarkdownText + 1) + " characters in all");
      }
    } else {
      // Also video, file, table and the newer AI blocks: not modelled here, so refused.
      fail(at(ptr, "type"), "unsupported type: " + ty);
    }
  }

  void blocks(const Value& a, const std::string& ptr) {
    std::size_t max = surface_ == Surface::message ? kMessageBlocks : kViewBlocks;
    if (a.Size() > max) fail(ptr, "must provide no more than " + std::to_string(max) + " items");
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) block(a[i], at(ptr, i));
  }

  // ---- views ([modal], [home]) ----

  void view(const Value& v, const std::string& ptr) {
    if (!object(v, ptr)) return;
    const Value* type = required(v, ptr, "type");
    std::string want = surface_ == Surface::home ? "home" : "modal";
    if (type != nullptr && (!type->IsString() || view_of(*type) != want)) {
      fail(at(ptr, "type"), "must be " + want);
    }
    if (surface_ == Surface::home) {
      // [home]: type, blocks, private_metadata, callback_id, external_id; a Home tab has no
      // title, close or submit.
      only(v, ptr, {"blocks", "private_metadata", "callback_id", "external_id"});
    } else {
      // [modal]; submit_disabled belongs to the retired workflow_step views: Slack answers
      // "invalid additional property: submit_disabled [json-pointer:/view]".
      only(v, ptr,
           {"title", "blocks", "close", "submit", "private_metadata", "callback_id",
            "clear_on_close", "notify_on_close", "external_id"});
      text_prop(v, ptr, "title", TextKind::plain, kViewTitle, true);
      text_prop(v, ptr, "close", TextKind::plain, kViewTitle);
      text_prop(v, ptr, "submit", TextKind::plain, kViewTitle);
      boolean(v, ptr, "clear_on_close");
      boolean(v, ptr, "notify_on_close");
    }
    string(v, ptr, "private_metadata", kPrivateMetadata);
    string(v, ptr, "callback_id", kCallbackId);
    string(v, ptr, "external_id", kExternalId);
    if (const Value* b = array(v, ptr, "blocks", 0, 0, true)) blocks(*b, at(ptr, "blocks"));
    // [modal]: "submit is required when an input block is within the blocks array".
    if (surface_ != Surface::home && has_input_ && json::member(v, "submit") == nullptr)
      fail(ptr, "missing required field: submit (the view has an input block)");
  }

 private:
  Surface surface_;
  std::set<std::string> block_ids_;
  int focus_on_load_ = 0;
  bool has_input_ = false;
};

Refusal refusal(std::string error, std::vector<std::string> messages) {
  return Refusal{std::move(error), std::move(messages)};
}

// Parses `text` as a JSON object: invalid_json (with where) when it is not one. Invalid
// UTF-8 is invalid JSON (RFC 8259 requires UTF-8; json::parse validates the encoding).
std::optional<Refusal> parse_object(rapidjson::Document& doc, std::string_view text) {
  Status s = json::parse(doc, text);
  if (!s.ok()) return refusal("invalid_json", {"[ERROR] " + s.message() + " [json-pointer:/]"});
  if (!doc.IsObject())
    return refusal("invalid_json", {"[ERROR] must be a JSON object [json-pointer:/]"});
  return std::nullopt;
}

std::optional<Refusal> message_value(const Value& m, bool response) {
  Checker c(Surface::message);
  // Argument types ([chat.*], [respond]). Unknown arguments are ignored, as Slack's Web API
  // ignores them; a documented one of the wrong type is refused.
  auto want = [&](const char* key, bool (Value::*is)() const, const char* what) {
    const Value* v = json::member(m, key);
    if (v != nullptr && !(v->*is)()) c.fail(at("", key), std::string("must be ") + what);
  };
  for (const char* k : {"channel", "text", "thread_ts", "ts", "user", "icon_emoji", "icon_url",
                        "username", "parse", "markdown_text", "response_type"})
    want(k, &Value::IsString, "a string");
  for (const char* k : {"mrkdwn", "reply_broadcast", "unfurl_links", "unfurl_media", "link_names",
                        "as_user", "replace_original", "delete_original"})
    want(k, &Value::IsBool, "a boolean");
  want("attachments", &Value::IsArray, "an array");
  want("metadata", &Value::IsObject, "an object");
  if (response) {
    // [respond], [commands]: response_type is in_channel or ephemeral.
    c.one_of(m, "", "response_type", {"in_channel", "ephemeral"});
  }
  if (!c.problems.empty()) return refusal("invalid_arguments", c.problems);
  const Value* blocks = json::member(m, "blocks");
  if (blocks != nullptr && !blocks->IsArray()) {
    // [chat.*] invalid_blocks_format: "The blocks is not a valid JSON object or doesn't match
    // the Block Kit syntax."
    return refusal("invalid_blocks_format", {"[ERROR] must be an array [json-pointer:/blocks]"});
  }
  if (!response && json::str(m, "channel").empty())  // [chat.*] channel is required
    return refusal("channel_not_found",
                   {"[ERROR] missing required field: channel [json-pointer:/]"});
  bool has_text = !json::str(m, "text").empty() || !json::str(m, "markdown_text").empty();
  bool has_blocks = blocks != nullptr && !blocks->Empty();
  const Value* att = json::member(m, "attachments");
  bool has_attachments = att != nullptr && !att->Empty();
  bool deleting = response && json::boolean(m, "delete_original");
  if (!has_text && !has_blocks && !has_attachments && !deleting)  // [chat.*] no_text
    return refusal("no_text", {"[ERROR] no text, blocks or attachments [json-pointer:/]"});
  std::size_t n = chars(json::str(m, "text"));
  if (n > kMessageText)  // [chat.*] msg_too_long
    return refusal("msg_too_long",
                   {"[ERROR] must be less than " + std::to_string(kMessageText + 1) +
                    " characters [json-pointer:/text]"});
  if (blocks != nullptr) c.blocks(*blocks, "/blocks");
  if (!c.problems.empty()) return refusal("invalid_blocks", c.problems);
  return std::nullopt;
}

std::optional<Refusal> view_value(const Value& v, Surface surface, const std::string& ptr) {
  if (serialize(v).size() > kViewBytes)
    return refusal("view_too_large",
                   {"[ERROR] the view is larger than 250 kB [json-pointer:" + ptr + "]"});
  Checker c(surface);
  c.view(v, ptr);
  if (!c.problems.empty()) return refusal("invalid_arguments", c.problems);
  return std::nullopt;
}

bool json_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return t == "application/json";
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned long cp = 0;
    if ((c >> 5) == 6) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c >> 4) == 14) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c >> 3) == 30) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

std::string Refusal::to_string() const {
  std::string out = error;
  for (std::size_t i = 0; i < messages.size(); ++i) out += (i ? "; " : ": ") + messages[i];
  return out;
}

std::optional<Refusal> check_message(std::string_view json_object, bool is_response_url_or_ack) {
  rapidjson::Document doc;
  if (auto r = parse_object(doc, json_object)) return r;
  return message_value(doc, is_response_url_or_ack);
}

std::optional<Refusal> check_view(std::string_view view_json, Surface surface) {
  rapidjson::Document doc;
  if (auto r = parse_object(doc, view_json)) return r;
  return view_value(doc, surface, "/view");
}

std::optional<Refusal> check_views_call(std::string_view body_json, Surface surface) {
  rapidjson::Document doc;
  if (auto r = parse_object(doc, body_json)) return r;
  Checker c(surface);
  // [views.*]: trigger_id, interactivity_pointer, view_id, external_id, hash and user_id are
  // strings; views.update takes view_id or external_id, not both.
  for (const char* k :
       {"trigger_id", "interactivity_pointer", "view_id", "external_id", "hash", "user_id"}) {
    const Value* v = json::member(doc, k);
    if (v != nullptr && !v->IsString()) c.fail(at("", k), "must be a string");
  }
  if (json::member(doc, "view_id") != nullptr && json::member(doc, "external_id") != nullptr)
    c.fail("/", "Cannot provide both `view_id` and `external_id`");
  const Value* view = json::member(doc, "view");
  if (view == nullptr) c.fail("/", "missing required field: view");
  if (!c.problems.empty()) return refusal("invalid_arguments", c.problems);
  return view_value(*view, surface, "/view");
}

std::optional<Refusal> check_command_ack(std::string_view content_type, std::string_view body) {
  if (body.empty()) return std::nullopt;
  auto refused = [](std::vector<std::string> messages) {
    return refusal("invalid_command_response", std::move(messages));
  };
  if (!json_type(content_type)) {
    // [commands]: a plain-text answer is shown as the message's text.
    if (!valid_utf8(body)) return refused({"[ERROR] the body is not valid UTF-8 [json-pointer:/]"});
    if (chars(body) > kMessageText)
      return refused({"[ERROR] must be less than " + std::to_string(kMessageText + 1) +
                      " characters [json-pointer:/]"});
    return std::nullopt;
  }
  // [commands]: a JSON answer is a message, as posted to the command's response_url.
  if (auto r = check_message(body, true)) {
    std::vector<std::string> messages;
    messages.push_back("[ERROR] " + r->error);
    messages.insert(messages.end(), r->messages.begin(), r->messages.end());
    return refused(std::move(messages));
  }
  return std::nullopt;
}

std::optional<Refusal> check_view_submission_ack(std::string_view content_type,
                                                 std::string_view body,
                                                 std::string_view submitted_view_json) {
  if (body.empty()) return std::nullopt;  // [modals]: an empty 200 closes the view
  auto refused = [](std::vector<std::string> messages) {
    return refusal("invalid_arguments", std::move(messages));
  };
  // [modals]: the response_action answer is JSON, sent as application/json.
  if (!json_type(content_type))
    return refused({"[ERROR] a response_action must be sent as application/json, not `" +
                    std::string(content_type) + "` [json-pointer:/]"});
  rapidjson::Document doc;
  if (auto r = parse_object(doc, body)) return r;
  Checker c(Surface::modal);
  const Value* action = c.required(doc, "", "response_action");
  if (action == nullptr) return refused(c.problems);
  std::string what = action->IsString() ? view_of(*action) : "";
  if (what == "errors") {
    // [modals]: "errors": an object whose keys are the block_ids of input blocks and whose
    // values are the messages to show under them.
    c.only(doc, "", {"response_action", "errors"}, false);
    const Value* errors = c.required(doc, "", "errors");
    if (errors != nullptr && !errors->IsObject()) c.fail("/errors", "must be an object");
    if (errors != nullptr && errors->IsObject()) {
      if (errors->ObjectEmpty()) c.fail("/errors", "must name at least one block");
      std::set<std::string> inputs;
      bool know_inputs = false;
      rapidjson::Document submitted;
      if (!submitted_view_json.empty() && json::parse(submitted, submitted_view_json).ok()) {
        know_inputs = true;
        if (const Value* bs = json::array(submitted, "blocks")) {
          for (const Value& b : bs->GetArray()) {
            if (json::str(b, "type") == "input") inputs.insert(json::str(b, "block_id"));
          }
        }
      }
      for (const auto& m : errors->GetObject()) {
        std::string key(m.name.GetString(), m.name.GetStringLength());
        std::string p = at("/errors", key);
        if (!m.value.IsString() || m.value.GetStringLength() == 0)
          c.fail(p, "must be a non-empty string");
        if (know_inputs && inputs.count(key) == 0)
          c.fail(p, "`" + key + "` is not the block_id of an input block of the view");
      }
    }
  } else if (what == "update" || what == "push") {
    // [modals]: "view": the modal view to show instead, or on top.
    c.only(doc, "", {"response_action", "view"}, false);
    const Value* view = c.required(doc, "", "view");
    if (!c.problems.empty()) return refused(c.problems);
    if (auto r = view_value(*view, Surface::modal, "/view")) return r;
  } else if (what == "clear") {
    c.only(doc, "", {"response_action"}, false);  // [modals]: closes every view of the modal
  } else {
    c.fail("/response_action", "must be one of: errors, update, push, clear");
  }
  if (!c.problems.empty()) return refused(c.problems);
  return std::nullopt;
}

}  // namespace tollgate::sandbox
