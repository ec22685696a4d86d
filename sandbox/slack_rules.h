// Slack's rules for what an app sends it, as Slack's servers apply them:
// messages (chat.postMessage, chat.update, chat.postEphemeral, response_url
// posts, slash-command answers), views (views.open, views.push, views.update,
// views.publish, response_action update/push) and the answers an app gives
// Slack over HTTP (a slash command's ack, a view_submission's ack).
//
// Written from Slack's published reference (docs.slack.dev: Block Kit blocks,
// block elements, composition objects, modal and Home tab views, the Web API
// method pages), with @slack/types (slackapi/node-slack-sdk,
// packages/types/src/block-kit/*.ts, views.ts) and python-slack-sdk's
// validators (slack_sdk/models/blocks/*.py, views/__init__.py) as second
// sources; slack_rules.cc names the source beside each rule, and docs/reliability.md
// ("The strict fake Slack") has the table.
//
// A refusal carries Slack's error code and one message per problem in
// Slack's own shape, each with a JSON pointer into the payload as sent:
//   "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
// Lengths are counted in characters (Unicode code points), as Slack counts
// them. Every object may carry only its documented properties (Slack answers
// "invalid additional property" for any other); block and element types this
// module does not model are refused rather than waved through.
//
// Thread-safe (pure functions). RapidJSON stays in the .cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::sandbox {

struct Refusal {
  std::string error;                  // Slack's error code: invalid_blocks, invalid_arguments, ...
  std::vector<std::string> messages;  // response_metadata.messages, one a problem
  // "error: message; message; ..."
  std::string to_string() const;
};

enum class Surface { message, modal, home };

// A message: the body of chat.postMessage / chat.update / chat.postEphemeral
// (`channel` required), or, with `is_response_url_or_ack`, a response_url post
// or a slash command's JSON answer (no `channel`; `response_type`,
// `replace_original`, `delete_original` allowed). Errors: invalid_json,
// invalid_arguments (a documented argument of the wrong type),
// invalid_blocks_format (`blocks` not an array), channel_not_found, no_text,
// msg_too_long, invalid_blocks. Pointers start at the message's root.
std::optional<Refusal> check_message(std::string_view json_object,
                                     bool is_response_url_or_ack = false);

// A view object as it appears under "view" in views.* calls and in
// response_action update/push; pointers start at /view, as Slack writes them.
// Errors: invalid_json, view_too_large (over 250 kB), invalid_arguments.
std::optional<Refusal> check_view(std::string_view view_json, Surface surface);

// The whole body of a views.open / views.push / views.update / views.publish
// call: its arguments' types, `view` present, of the surface's type
// (views.publish: home; views.open and views.push: modal; views.update: the
// surface of the view it replaces), and valid. The caller checks trigger_id,
// view_id and user_id against its own state.
std::optional<Refusal> check_views_call(std::string_view body_json, Surface surface);

// What Tollgate answers Slack's POST of a slash command, when 200 with a
// body: plain text (any content type but JSON), or a message as JSON
// (`application/json`) checked as a response_url post. Error:
// invalid_command_response (what Slack tells the user), with the messages.
std::optional<Refusal> check_command_ack(std::string_view content_type, std::string_view body);

// What Tollgate answers a view_submission, when 200 with a body: JSON
// (`application/json`) with `response_action` "errors" (`errors`: block_id
// -> message, each block_id that of an input block of the submitted view
// when `submitted_view_json` is given), "update" or "push" (`view`: a valid
// modal) or "clear", and nothing else. Error: invalid_arguments.
std::optional<Refusal> check_view_submission_ack(std::string_view content_type,
                                                 std::string_view body,
                                                 std::string_view submitted_view_json = {});

}  // namespace tollgate::sandbox
