// Slack's requests, parsed into typed structures (docs/slack-protocol.md §3–§5).
//
// Forms are decoded with Boost.URL ('+' is a space), JSON with RapidJSON in
// iterative mode with UTF-8 validation (no recursion, so deep nesting cannot
// exhaust the stack). Malformed input is Code::invalid_argument naming what is
// wrong; nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tollgate::slack {

struct Form {
  std::vector<std::pair<std::string, std::string>> fields;
  const std::string* get(std::string_view key) const;
  std::string value(std::string_view key) const;  // "" when absent
};
StatusOr<Form> parse_form(std::string_view body);
// Percent-encodes for application/x-www-form-urlencoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

struct SlashCommand {
  std::string team_id;
  std::string enterprise_id;
  std::string channel_id;
  std::string user_id;
  std::string user_name;
  std::string command;  // "/tasks"
  std::string text;
  std::string response_url;
  std::string trigger_id;
  std::string api_app_id;
};
StatusOr<SlashCommand> parse_slash_command(const Form& form);

// One value of an input in `state.values[block_id][action_id]`.
struct StateValue {
  std::string type;
  std::string value;            // plain_text_input
  std::string selected_user;    // users_select
  std::string selected_option;  // static_select, overflow, radio_buttons: the option's value
  std::vector<std::string> selected_options;  // checkboxes, multi selects
};
using StateValues = std::map<std::string, std::map<std::string, StateValue>>;

struct ActionItem {
  std::string action_id;
  std::string block_id;
  std::string type;   // "button", "overflow", "checkboxes", ...
  std::string value;  // a button's value, or the selected option's value (overflow, select)
  std::string action_ts;
};

struct ViewInfo {
  std::string id;
  std::string type;  // "modal", "home"
  std::string callback_id;
  std::string private_metadata;
  std::string hash;
  std::string root_view_id;
  StateValues state;
};

// block_actions, view_submission and view_closed.
struct Interaction {
  std::string type;
  std::string team_id;
  std::string enterprise_id;
  std::string user_id;
  std::string user_name;
  std::string api_app_id;
  std::string trigger_id;
  std::string response_url;    // message surfaces only
  std::string container_type;  // "message", "view", "message_attachment"
  std::string channel_id;
  std::string message_ts;
  bool ephemeral = false;
  std::vector<ActionItem> actions;
  StateValues state;  // block_actions: the surface's inputs
  std::optional<ViewInfo> view;
};
StatusOr<Interaction> parse_interaction(std::string_view json);

struct MessageEvent {
  std::string subtype;  // "", "message_changed", "message_deleted", "bot_message", ...
  std::string channel;
  std::string channel_type;
  std::string user;
  std::string bot_id;
  std::string text;
  std::string ts;
  std::string thread_ts;
  std::string parent_user_id;
  std::string deleted_ts;  // message_deleted
  bool hidden = false;
  // message_changed: the message as it is now, and as it was.
  struct Inner {
    std::string subtype;
    std::string user;
    std::string bot_id;
    std::string text;
    std::string ts;
    std::string thread_ts;
  };
  std::optional<Inner> message;
  std::optional<Inner> previous_message;
};

struct EventEnvelope {
  std::string type;  // "url_verification", "event_callback", "app_rate_limited"
  std::string challenge;
  std::string team_id;
  std::string enterprise_id;
  std::string api_app_id;
  std::string event_id;
  std::int64_t event_time = 0;
  std::string event_type;  // "message", "app_home_opened", ...
  // app_home_opened
  std::string user;
  std::string channel;
  std::string tab;
  std::string view_hash;
  std::optional<MessageEvent> message;
};
StatusOr<EventEnvelope> parse_event(std::string_view json);

}  // namespace tollgate::slack
