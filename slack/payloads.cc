#include "slack/payloads.h"

#include <boost/url/encode.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "base/json.h"

namespace tollgate::slack {
namespace {

using json::Value;

StateValues parse_state(const Value* state) {
  StateValues out;
  const Value* values = state != nullptr ? json::object(*state, "values") : nullptr;
  if (values == nullptr) return out;
  for (auto b = values->MemberBegin(); b != values->MemberEnd(); ++b) {
    if (!b->value.IsObject()) continue;
    auto& block = out[b->name.GetString()];
    for (auto a = b->value.MemberBegin(); a != b->value.MemberEnd(); ++a) {
      const Value& v = a->value;
      StateValue sv;
      sv.type = json::str(v, "type");
      sv.value = json::str(v, "value");
      sv.selected_user = json::str(v, "selected_user");
      if (const Value* opt = json::object(v, "selected_option"))
        sv.selected_option = json::str(*opt, "value");
      if (const Value* opts = json::array(v, "selected_options")) {
        for (const Value& o : opts->GetArray())
          sv.selected_options.push_back(json::str(o, "value"));
      }
      if (const Value* users = json::array(v, "selected_users")) {
        for (const Value& u : users->GetArray()) {
          if (u.IsString()) sv.selected_options.emplace_back(u.GetString(), u.GetStringLength());
        }
      }
      block[a->name.GetString()] = std::move(sv);
    }
  }
  return out;
}

MessageEvent::Inner parse_inner(const Value& m) {
  return {json::str(m, "subtype"), json::str(m, "user"), json::str(m, "bot_id"),
          json::str(m, "text"),    json::str(m, "ts"),   json::str(m, "thread_ts")};
}

// Parses `text` into `doc`: a JSON object with a non-empty "type", which is returned. `what`
// names the body in the errors.
StatusOr<std::string> parse_typed_object(rapidjson::Document& doc, std::string_view text,
                                         const std::string& what) {
  RETURN_IF_ERROR(json::parse(doc, text));
  if (!doc.IsObject()) return invalid_argument(what + " is not a JSON object");
  std::string type = json::str(doc, "type");
  if (type.empty()) return invalid_argument(what + " without type");
  return type;
}

}  // namespace

const std::string* Form::get(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Form::value(std::string_view key) const {
  const std::string* v = get(key);
  return v != nullptr ? *v : std::string();
}

StatusOr<Form> parse_form(std::string_view input) {
  // Boost.URL 1.81's parse_query runs strlen over its input, so it must get a
  // NUL-terminated copy, and a body with a NUL byte in it is refused rather
  // than read up to that byte (both found by fuzzing: tests/fuzz/regressions/form).
  if (input.find('\0') != std::string_view::npos) {
    return invalid_argument("malformed form body: it contains a NUL byte");
  }
  if (input.empty()) return Form{};
  const std::string body(input);
  auto encoded = boost::urls::parse_query(boost::urls::string_view(body.data(), body.size()));
  if (encoded.has_error())
    return invalid_argument("malformed form body: " + encoded.error().message());
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  // Validated above, so this constructor (which throws on bad input) cannot throw.
  boost::urls::params_view params(boost::urls::string_view(body.data(), body.size()), opts);
  Form f;
  for (auto p : params) f.fields.emplace_back(std::string(p.key), std::string(p.value));
  return f;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = false;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += boost::urls::encode(k, boost::urls::unreserved_chars, opts);
    out += '=';
    out += boost::urls::encode(v, boost::urls::unreserved_chars, opts);
  }
  return out;
}

StatusOr<SlashCommand> parse_slash_command(const Form& f) {
  SlashCommand c;
  c.team_id = f.value("team_id");
  c.enterprise_id = f.value("enterprise_id");
  c.channel_id = f.value("channel_id");
  c.user_id = f.value("user_id");
  c.user_name = f.value("user_name");
  c.command = f.value("command");
  c.text = f.value("text");
  c.response_url = f.value("response_url");
  c.trigger_id = f.value("trigger_id");
  c.api_app_id = f.value("api_app_id");
  if (c.user_id.empty()) return invalid_argument("slash command without user_id");
  if (c.command.empty()) return invalid_argument("slash command without command");
  return c;
}

StatusOr<Interaction> parse_interaction(std::string_view text) {
  rapidjson::Document doc;
  Interaction in;
  ASSIGN_OR_RETURN(in.type, parse_typed_object(doc, text, "interaction payload"));
  const Value* user = json::object(doc, "user");
  if (user == nullptr || json::str(*user, "id").empty()) {
    return invalid_argument("interaction payload without user.id");
  }
  in.user_id = json::str(*user, "id");
  in.user_name = json::str(*user, "username");
  if (in.user_name.empty()) in.user_name = json::str(*user, "name");
  if (const Value* team = json::object(doc, "team")) {
    in.team_id = json::str(*team, "id");
    in.enterprise_id = json::str(*team, "enterprise_id");
  }
  if (in.team_id.empty()) in.team_id = json::str(*user, "team_id");
  if (const Value* ent = json::object(doc, "enterprise");
      ent != nullptr && in.enterprise_id.empty()) {
    in.enterprise_id = json::str(*ent, "id");
  }
  in.api_app_id = json::str(doc, "api_app_id");
  in.trigger_id = json::str(doc, "trigger_id");
  in.response_url = json::str(doc, "response_url");
  if (const Value* c = json::object(doc, "container")) {
    in.container_type = json::str(*c, "type");
    in.channel_id = json::str(*c, "channel_id");
    in.message_ts = json::str(*c, "message_ts");
    in.ephemeral = json::boolean(*c, "is_ephemeral");
  }
  if (const Value* ch = json::object(doc, "channel"); ch != nullptr && in.channel_id.empty()) {
    in.channel_id = json::str(*ch, "id");
  }
  if (const Value* m = json::object(doc, "message"); m != nullptr && in.message_ts.empty()) {
    in.message_ts = json::str(*m, "ts");
  }
  if (const Value* actions = json::array(doc, "actions")) {
    for (const Value& a : actions->GetArray()) {
      ActionItem item;
      item.action_id = json::str(a, "action_id");
      item.block_id = json::str(a, "block_id");
      item.type = json::str(a, "type");
      item.value = json::str(a, "value");
      if (const Value* opt = json::object(a, "selected_option"))
        item.value = json::str(*opt, "value");
      item.action_ts = json::str(a, "action_ts");
      in.actions.push_back(std::move(item));
    }
  }
  in.state = parse_state(json::object(doc, "state"));
  if (const Value* v = json::object(doc, "view")) {
    ViewInfo view;
    view.id = json::str(*v, "id");
    view.type = json::str(*v, "type");
    view.callback_id = json::str(*v, "callback_id");
    view.private_metadata = json::str(*v, "private_metadata");
    view.hash = json::str(*v, "hash");
    view.root_view_id = json::str(*v, "root_view_id");
    view.state = parse_state(json::object(*v, "state"));
    in.view = std::move(view);
  }
  if (in.type == "block_actions" && in.actions.empty()) {
    return invalid_argument("block_actions payload without actions");
  }
  if ((in.type == "view_submission" || in.type == "view_closed") && !in.view) {
    return invalid_argument(in.type + " payload without view");
  }
  return in;
}

StatusOr<EventEnvelope> parse_event(std::string_view text) {
  rapidjson::Document doc;
  EventEnvelope e;
  ASSIGN_OR_RETURN(e.type, parse_typed_object(doc, text, "event body"));
  e.challenge = json::str(doc, "challenge");
  e.team_id = json::str(doc, "team_id");
  e.enterprise_id = json::str(doc, "enterprise_id");
  e.api_app_id = json::str(doc, "api_app_id");
  e.event_id = json::str(doc, "event_id");
  e.event_time = json::i64(doc, "event_time");
  if (e.type == "url_verification" && e.challenge.empty()) {
    return invalid_argument("url_verification without challenge");
  }
  if (e.type != "event_callback") return e;
  const Value* ev = json::object(doc, "event");
  if (ev == nullptr) return invalid_argument("event_callback without event");
  if (e.event_id.empty()) return invalid_argument("event_callback without event_id");
  e.event_type = json::str(*ev, "type");
  e.user = json::str(*ev, "user");
  e.channel = json::str(*ev, "channel");
  e.tab = json::str(*ev, "tab");
  if (const Value* view = json::object(*ev, "view")) e.view_hash = json::str(*view, "hash");
  if (e.event_type == "message") {
    MessageEvent m;
    m.subtype = json::str(*ev, "subtype");
    m.channel = e.channel;
    m.channel_type = json::str(*ev, "channel_type");
    m.user = e.user;
    m.bot_id = json::str(*ev, "bot_id");
    m.text = json::str(*ev, "text");
    m.ts = json::str(*ev, "ts");
    m.thread_ts = json::str(*ev, "thread_ts");
    m.parent_user_id = json::str(*ev, "parent_user_id");
    m.deleted_ts = json::str(*ev, "deleted_ts");
    m.hidden = json::boolean(*ev, "hidden");
    if (const Value* inner = json::object(*ev, "message")) m.message = parse_inner(*inner);
    if (const Value* prev = json::object(*ev, "previous_message"))
      m.previous_message = parse_inner(*prev);
    e.message = std::move(m);
  }
  return e;
}

}  // namespace tollgate::slack
