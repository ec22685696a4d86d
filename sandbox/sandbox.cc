#include "sandbox/sandbox.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "http/client.h"
#include "base/json.h"
#include "sandbox/fake_slack.h"
#include "sandbox/fake_socket_mode.h"
#include "slack/payloads.h"
#include "slack/signature.h"
#include "workflow/directory.h"

namespace tollgate::sandbox {
namespace {

using http::Response;

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Slack's own style of timestamp, for action_ts and event_ts.
std::string slack_ts() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000));
  return buf;
}

Response api_error(int status, const std::string& message) {
  return Response::json(status, "{\"ok\":false,\"error\":" + json::quote(message) + "}");
}

void raw(json::Writer& w, std::string_view key, const std::string& json_text) {
  json::key(w, key);
  w.RawValue(json_text.data(), json_text.size(), rapidjson::kObjectType);
}

// Writes `key`: an array of one object per item of `items`, its members written by
// `members(item)`.
template <typename Items, typename Members>
void objects(json::Writer& w, std::string_view key, const Items& items, Members members) {
  json::key(w, key);
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    members(item);
    w.EndObject();
  }
  w.EndArray();
}

// Copies `v` into `w`.
void copy(json::Writer& w, const json::Value& v) {
  v.Accept(w);
}

std::string to_text(const json::Value& v) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  v.Accept(w);
  return json::text(b);
}

// Whether `host` (the Host header) names this server as the page knows it:
// 127.0.0.1, localhost, [::1] or the IPv4 loopback address it listens on
// (`listening`, say 127.0.0.2), with Tollgate's port. Any other name is a
// page of another site whose name was made to resolve to a loopback address
// (DNS rebinding): to the browser it is that site's origin, so neither its
// Origin nor the same-origin rule would stop it. An address is no name a
// rebinding site can have.
bool own_host(const std::string* host, std::uint16_t port, const std::string& listening) {
  if (host == nullptr || port == 0) return false;
  std::vector<std::string> names{"127.0.0.1", "localhost", "[::1]"};
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address_v4(listening, ec);
  if (!ec && ip.is_loopback()) names.push_back(ip.to_string());
  for (const std::string& name : names) {
    if (*host == name + ":" + std::to_string(port)) return true;
    if (port == 80 && *host == name) return true;
  }
  return false;
}

// Whether the request carries this start's session, compared in constant time.
bool has_session(const http::Request& req, const std::string& session) {
  const std::string* given = req.header("x-sandbox-session");
  return given != nullptr && given->size() == session.size() &&
         CRYPTO_memcmp(given->data(), session.data(), session.size()) == 0;
}

struct SandboxPerson {
  std::string slack_id;
  std::string person;
  std::string name;
  std::string title;
  std::string department;
};

}  // namespace

struct Sandbox::Impl {
  std::shared_ptr<const Directory> directory;
  std::unique_ptr<FakeSlack> slack;
  std::string secret = random_hex(32);
  std::string token = "xoxb-sandbox-" + random_hex(12);
  std::string team = "T0SANDBOX";
  std::string app_token = "xapp-1-A0SANDBOX-1-" + random_hex(12);
  bool socket_mode = false;  // use_socket_mode(): deliver as envelopes, not HTTP
  // Made at start, written into the page, required by the API: a script
  // that cannot read the page (another site's) cannot call the API.
  std::string session = random_hex(16);
  std::vector<SandboxPerson> people;
  std::atomic<std::uint16_t> tollgate_port{0};
  mutable std::mutex address_mu;
  std::string tollgate_address = "127.0.0.1";  // guarded by address_mu
  std::string address() const {
    std::lock_guard lock(address_mu);
    return tollgate_address;
  }
  boost::asio::thread_pool pool{2};
  std::atomic<int> next_event{0};

  const SandboxPerson* person(const std::string& slack_id) const {
    for (const SandboxPerson& p : people) {
      if (p.slack_id == slack_id) return &p;
    }
    return nullptr;
  }
  static std::string dm(const std::string& user) { return "D" + user; }

  // Signs and POSTs `body` to Tollgate, as Slack does; or, in Socket Mode, sends it as the
  // envelope Slack would.
  http::ClientResult deliver(const std::string& path, const std::string& body,
                             const std::string& content_type) const {
    if (socket_mode) return deliver_envelope(path, body);
    http::LoopbackClient client(tollgate_port.load(), address());
    std::string ts = std::to_string(unix_now());
    return client.request("POST", path, body,
                          {{"Content-Type", content_type},
                           {"X-Slack-Request-Timestamp", ts},
                           {"X-Slack-Signature", slack::sign(secret, ts, body)}});
  }
  // The envelope of what would have been POSTed to `path` (docs/slack-protocol.md §8): an
  // event's JSON as is, an interaction's payload, a command's form fields as a JSON object. Its
  // ack is the answer: 200 with the ack's payload; no ack within 10 s is no answer (status 0),
  // as Slack shows the clicker a warning then.
  http::ClientResult deliver_envelope(const std::string& path, const std::string& body) const {
    SocketModeEnvelope e;
    e.payload = body;
    if (path == "/slack/interactions") {
      e.type = "interactive";
      auto form = slack::parse_form(body);
      const std::string* payload = form.ok() ? form->get("payload") : nullptr;
      e.payload = payload != nullptr ? *payload : "{}";
      rapidjson::Document d;
      e.accepts_response_payload =
          json::parse(d, e.payload).ok() && json::str(d, "type") == "view_submission";
    } else if (path == "/slack/commands") {
      e.type = "slash_commands";
      e.accepts_response_payload = true;
      auto form = slack::parse_form(body);
      rapidjson::StringBuffer b;
      json::Writer w(b);
      w.StartObject();
      if (form.ok())
        for (const auto& [k, v] : form->fields) json::kv(w, k, v);
      w.EndObject();
      e.payload = json::text(b);
    }
    http::ClientResult r;
    auto ack = slack->socket_mode().send_and_wait(std::move(e), std::chrono::seconds(10));
    if (!ack) {
      r.error = "Tollgate did not acknowledge the envelope";
      return r;
    }
    r.status = 200;
    r.body = ack->payload;
    return r;
  }
  http::ClientResult deliver_interaction(const std::string& payload) const {
    return deliver("/slack/interactions", slack::form_encode({{"payload", payload}}),
                   "application/x-www-form-urlencoded");
  }
  http::ClientResult deliver_event(const std::string& event_json) {
    std::string body = "{\"token\":\"sandbox\",\"team_id\":" + json::quote(team) +
                       ",\"api_app_id\":\"A0SANDBOX\",\"event\":" + event_json +
                       ",\"type\":\"event_callback\",\"event_id\":\"Ev0SB" +
                       std::to_string(++next_event) +
                       "\",\"event_time\":" + std::to_string(unix_now()) +
                       ",\"authorizations\":[{\"team_id\":" + json::quote(team) +
                       ",\"user_id\":" + json::quote(slack->options().bot_user_id) +
                       ",\"is_bot\":true,\"is_enterprise_install\":false}]}";
    return deliver("/slack/events", body, "application/json");
  }

  // Opens the payload of an interaction of `type` (block_actions, view_submission,
  // view_closed) sent by `p`: the object, its type, and who sent it from which workspace.
  void open_interaction(json::Writer& w, std::string_view type, const SandboxPerson& p) const {
    w.StartObject();
    json::kv(w, "type", type);
    json::key(w, "user");
    w.StartObject();
    json::kv(w, "id", p.slack_id);
    json::kv(w, "username", p.person);
    json::kv(w, "name", p.person);
    json::kv(w, "team_id", team);
    w.EndObject();
    json::key(w, "team");
    w.StartObject();
    json::kv(w, "id", team);
    json::kv(w, "domain", slack->options().team_domain);
    w.EndObject();
    json::kv(w, "api_app_id", "A0SANDBOX");
    json::kv(w, "token", "sandbox");
    w.Key("enterprise");
    w.Null();
    w.Key("is_enterprise_install");
    w.Bool(false);
  }

  // A view as Slack sends it in payloads: what Tollgate gave, plus its id,
  // hash and the state of its inputs.
  bool write_view(json::Writer& w, const ViewRecord& view, const json::Value* state) const {
    rapidjson::Document v;
    if (!json::parse(v, view.json).ok() || !v.IsObject()) return false;
    json::key(w, "view");
    w.StartObject();
    for (const auto& m : v.GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (name == "id" || name == "hash" || name == "state") continue;
      json::key(w, name);
      copy(w, m.value);
    }
    json::kv(w, "id", view.id);
    json::kv(w, "hash", view.hash);
    json::kv(w, "team_id", team);
    json::kv(w, "app_id", "A0SANDBOX");
    json::kv(w, "bot_id", slack->options().bot_id);
    json::kv(w, "root_view_id", view.id);
    json::key(w, "state");
    w.StartObject();
    json::key(w, "values");
    if (state != nullptr && state->IsObject()) {
      copy(w, *state);
    } else {
      w.StartObject();
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return true;
  }

  Response people_json() const {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::kv(w, "workspace", directory->organization);
    json::kv(w, "team_id", team);
    json::kv(w, "bot_user_id", slack->options().bot_user_id);
    objects(w, "people", people, [&](const SandboxPerson& p) {
      json::kv(w, "id", p.slack_id);
      json::kv(w, "person", p.person);
      json::kv(w, "name", p.name);
      json::kv(w, "title", p.title);
      json::kv(w, "department", p.department);
    });
    w.EndObject();
    return Response::json(200, json::text(b));
  }

  Response state_json(const std::string& user, std::uint64_t since) const {
    std::uint64_t version = slack->version();
    if (since != 0 && version == since) return Response::empty(204);
    std::string channel = dm(user);
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    w.Key("version");
    w.Uint64(version);
    json::kv(w, "user", user);
    json::kv(w, "channel", channel);
    objects(w, "messages", slack->messages_in(channel), [&](const PostedMessage& m) {
      json::kv(w, "ts", m.ts);
      json::kv(w, "thread_ts", m.thread_ts);
      json::kv(w, "user", m.user);
      json::kv(w, "text", m.text);
      raw(w, "blocks", m.blocks);
      w.Key("edited");
      w.Bool(m.updates > 0);
    });
    objects(w, "ephemerals", slack->ephemerals_for(user), [&](const EphemeralMessage& e) {
      json::kv(w, "ts", e.ts);
      json::kv(w, "text", e.text);
      raw(w, "blocks", e.blocks);
    });
    auto view = [&](const ViewRecord& v) {
      w.StartObject();
      json::kv(w, "id", v.id);
      json::kv(w, "hash", v.hash);
      raw(w, "view", v.json);
      w.EndObject();
    };
    json::key(w, "home");
    if (auto home = slack->home_view(user)) {
      view(*home);
    } else {
      w.Null();
    }
    json::key(w, "modals");
    w.StartArray();
    for (const ViewRecord& v : slack->modals(user)) view(v);
    w.EndArray();
    w.EndObject();
    return Response::json(200, json::text(b));
  }

  // POST /sandbox/api/action: a click, a selection or a tick in a message or a view.
  Response action(const rapidjson::Document& in, const SandboxPerson& p) {
    const json::Value* container = json::object(in, "container");
    const json::Value* act = json::object(in, "action");
    if (container == nullptr || act == nullptr || json::str(*act, "action_id").empty())
      return api_error(400, "container and action (with action_id) are required");
    std::string type = json::str(*container, "type");
    rapidjson::StringBuffer b;
    json::Writer w(b);
    open_interaction(w, "block_actions", p);
    json::kv(w, "trigger_id", slack->trigger_id(p.slack_id));
    std::string channel = dm(p.slack_id);
    if (type == "message") {
      std::string ts = json::str(*container, "ts");
      const PostedMessage* found = nullptr;
      auto messages = slack->messages_in(channel);
      for (const PostedMessage& m : messages) {
        if (m.ts == ts) found = &m;
      }
      if (found == nullptr) return api_error(404, "no message " + ts + " in " + channel);
      json::key(w, "container");
      w.StartObject();
      json::kv(w, "type", "message");
      json::kv(w, "message_ts", ts);
      json::kv(w, "channel_id", channel);
      w.Key("is_ephemeral");
      w.Bool(false);
      w.EndObject();
      json::key(w, "channel");
      w.StartObject();
      json::kv(w, "id", channel);
      json::kv(w, "name", "directmessage");
      w.EndObject();
      json::key(w, "message");
      w.StartObject();
      json::kv(w, "type", "message");
      json::kv(w, "user", found->user);
      json::kv(w, "bot_id", slack->options().bot_id);
      json::kv(w, "ts", found->ts);
      if (!found->thread_ts.empty()) json::kv(w, "thread_ts", found->thread_ts);
      json::kv(w, "text", found->text);
      raw(w, "blocks", found->blocks);
      w.EndObject();
      json::key(w, "state");
      w.StartObject();
      json::key(w, "values");
      if (const json::Value* s = json::object(in, "state")) {
        copy(w, *s);
      } else {
        w.StartObject();
        w.EndObject();
      }
      w.EndObject();
      json::kv(w, "response_url", slack->response_url_for(p.slack_id, channel));
    } else if (type == "view") {
      auto v = slack->view(json::str(*container, "view_id"));
      if (!v || v->user != p.slack_id) return api_error(404, "no such view open for this person");
      json::key(w, "container");
      w.StartObject();
      json::kv(w, "type", "view");
      json::kv(w, "view_id", v->id);
      w.EndObject();
      if (!write_view(w, *v, json::object(in, "state"))) return api_error(500, "bad view");
    } else {
      return api_error(400, "container.type must be message or view");
    }
    json::key(w, "actions");
    w.StartArray();
    w.StartObject();
    for (const auto& m : act->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (name == "action_ts") continue;
      json::key(w, name);
      copy(w, m.value);
    }
    json::kv(w, "action_ts", slack_ts());
    w.EndObject();
    w.EndArray();
    w.EndObject();
    http::ClientResult r = deliver_interaction(json::text(b));
    return relayed(r, "");
  }

  // POST /sandbox/api/submit: a modal's submit button.
  Response submit(const rapidjson::Document& in, const SandboxPerson& p) {
    auto v = slack->view(json::str(in, "view_id"));
    if (!v || v->home || v->user != p.slack_id) return api_error(404, "no such modal open");
    rapidjson::StringBuffer b;
    json::Writer w(b);
    open_interaction(w, "view_submission", p);
    json::kv(w, "trigger_id", slack->trigger_id(p.slack_id));
    if (!write_view(w, *v, json::object(in, "state"))) return api_error(500, "bad view");
    json::key(w, "response_urls");
    w.StartArray();
    w.EndArray();
    w.EndObject();
    http::ClientResult r = deliver_interaction(json::text(b));
    if (r.status != 200) return relayed(r, "");
    // What Slack's client does with the answer.
    rapidjson::Document answer;
    std::string body = r.body;
    if (body.find_first_not_of(" \r\n\t") == std::string::npos) {
      slack->close_view(p.slack_id, v->id);
      return relayed(r, "closed");
    }
    if (!json::parse(answer, body).ok() || !answer.IsObject())
      return relayed(r, "closed");  // Slack ignores a body it cannot read
    std::string what = json::str(answer, "response_action");
    const json::Value* view = json::object(answer, "view");
    if (what == "errors") return relayed(r, "errors");
    if (what == "update" && view != nullptr) {
      slack->replace_view(v->id, to_text(*view));
      return relayed(r, "updated");
    }
    if (what == "push" && view != nullptr) {
      slack->push_view(p.slack_id, to_text(*view));
      return relayed(r, "pushed");
    }
    if (what == "clear") {
      slack->close_all_views(p.slack_id);
      return relayed(r, "cleared");
    }
    slack->close_view(p.slack_id, v->id);
    return relayed(r, "closed");
  }

  // POST /sandbox/api/close: a modal's close button.
  Response close(const rapidjson::Document& in, const SandboxPerson& p) {
    auto v = slack->view(json::str(in, "view_id"));
    if (!v || v->home || v->user != p.slack_id) return api_error(404, "no such modal open");
    rapidjson::Document view;
    http::ClientResult r;
    r.status = 200;
    if (json::parse(view, v->json).ok() && json::boolean(view, "notify_on_close")) {
      rapidjson::StringBuffer b;
      json::Writer w(b);
      open_interaction(w, "view_closed", p);
      write_view(w, *v, nullptr);
      w.Key("is_cleared");
      w.Bool(false);
      w.EndObject();
      r = deliver_interaction(json::text(b));
    }
    slack->close_view(p.slack_id, v->id);
    return relayed(r, "closed");
  }

  // POST /sandbox/api/command: "/tasks …" typed in the message box.
  Response command(const rapidjson::Document& in, const SandboxPerson& p) {
    std::string text = json::str(in, "text");
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    auto space = text.find(' ');
    std::string command = text.substr(0, space);
    std::string args = space == std::string::npos ? "" : text.substr(space + 1);
    std::string channel = dm(p.slack_id);
    if (command != "/tasks") {
      slack->add_ephemeral(p.slack_id, channel,
                           command +
                               " is not a valid command. In Slack, all messages that start "
                               "with the \"/\" character are interpreted as commands.");
      return Response::json(200, "{\"ok\":true,\"outcome\":\"not_a_command\"}");
    }
    std::string body =
        slack::form_encode({{"token", "sandbox"},
                            {"team_id", team},
                            {"team_domain", slack->options().team_domain},
                            {"channel_id", channel},
                            {"channel_name", "directmessage"},
                            {"user_id", p.slack_id},
                            {"user_name", p.person},
                            {"command", command},
                            {"text", args},
                            {"api_app_id", "A0SANDBOX"},
                            {"is_enterprise_install", "false"},
                            {"response_url", slack->response_url_for(p.slack_id, channel)},
                            {"trigger_id", slack->trigger_id(p.slack_id)}});
    http::ClientResult r = deliver("/slack/commands", body, "application/x-www-form-urlencoded");
    if (r.status != 200) {
      slack->add_ephemeral(p.slack_id, channel,
                           command + " failed with the error \"" +
                               (r.status == 0 ? std::string("dispatch_failed")
                                              : "http_" + std::to_string(r.status)) +
                               "\"");
      return relayed(r, "");
    }
    // The immediate answer: a message, ephemeral unless it says in_channel.
    rapidjson::Document answer;
    if (!r.body.empty() && json::parse(answer, r.body).ok() && answer.IsObject()) {
      std::string blocks = "[]";
      if (const json::Value* bl = json::array(answer, "blocks")) blocks = to_text(*bl);
      if (json::str(answer, "response_type") == "in_channel") {
        slack->post_as(slack->options().bot_user_id, channel, json::str(answer, "text"));
      } else {
        slack->add_ephemeral(p.slack_id, channel, json::str(answer, "text"), blocks);
      }
    } else if (!r.body.empty()) {
      slack->add_ephemeral(p.slack_id, channel, r.body);
    }
    return relayed(r, "");
  }

  // POST /sandbox/api/message: a message in the DM with Tollgate, or in one of its threads.
  Response message(const rapidjson::Document& in, const SandboxPerson& p) {
    std::string text = json::str(in, "text");
    if (text.find_first_not_of(" \r\n\t") == std::string::npos)
      return api_error(400, "an empty message");
    std::string thread_ts = json::str(in, "thread_ts");
    std::string channel = dm(p.slack_id);
    std::string ts = slack->post_as(p.slack_id, channel, text, thread_ts);
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::kv(w, "type", "message");
    json::kv(w, "channel", channel);
    json::kv(w, "user", p.slack_id);
    json::kv(w, "text", text);
    json::kv(w, "ts", ts);
    if (!thread_ts.empty()) json::kv(w, "thread_ts", thread_ts);
    json::kv(w, "event_ts", ts);
    json::kv(w, "channel_type", "im");
    json::kv(w, "team", team);
    w.EndObject();
    return relayed(deliver_event(json::text(b)), "");
  }

  // POST /sandbox/api/home: the person opened the App Home.
  Response home(const SandboxPerson& p) {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::kv(w, "type", "app_home_opened");
    json::kv(w, "user", p.slack_id);
    json::kv(w, "channel", dm(p.slack_id));
    json::kv(w, "tab", "home");
    json::kv(w, "event_ts", slack_ts());
    w.EndObject();
    return relayed(deliver_event(json::text(b)), "");
  }

  // Tollgate's answer, for the page: its status and body, and what the
  // client did with it.
  static Response relayed(const http::ClientResult& r, const std::string& outcome) {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    w.Key("ok");
    w.Bool(r.status == 200);
    w.Key("status");
    w.Int(r.status);
    json::kv(w, "body", r.body);
    if (!r.error.empty()) json::kv(w, "error", r.error);
    if (!outcome.empty()) json::kv(w, "outcome", outcome);
    w.EndObject();
    return Response::json(200, json::text(b));
  }

  Response post(const std::string& what, const std::string& body) {
    rapidjson::Document in;
    if (Status s = json::parse(in, body); !s.ok() || !in.IsObject())
      return api_error(400, "the body must be a JSON object");
    const SandboxPerson* p = person(json::str(in, "user"));
    if (p == nullptr) return api_error(404, "no such person: " + json::str(in, "user"));
    if (tollgate_port.load() == 0) return api_error(503, "Tollgate is not listening yet");
    if (what == "action") return action(in, *p);
    if (what == "submit") return submit(in, *p);
    if (what == "close") return close(in, *p);
    if (what == "command") return command(in, *p);
    if (what == "message") return message(in, *p);
    if (what == "home") return home(*p);
    return api_error(404, "no such call: " + what);
  }
};

Sandbox::Sandbox(std::shared_ptr<const Directory> directory) : impl_(std::make_shared<Impl>()) {
  impl_->directory = std::move(directory);
  for (const Person& person : impl_->directory->people) {
    std::string id = person.slack_user_id;
    if (id.empty()) {
      id = "U0SB";
      for (char c : person.id) {
        if (std::isalnum(static_cast<unsigned char>(c)))
          id += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    impl_->people.push_back({id, person.id, person.name, person.title, person.department});
  }
}

Sandbox::~Sandbox() {
  stop();
}

Status Sandbox::start() {
  FakeSlack::Options o;
  o.token = impl_->token;
  o.app_token = impl_->app_token;
  o.team_id = impl_->team;
  o.team_domain = "sandbox";
  o.team_name = impl_->directory->organization + " (sandbox)";
  o.bot_user_id = "U0TOLLGATE";
  o.bot_id = "B0TOLLGATE";
  o.workspace_url = "https://sandbox.slack.com/";
  impl_->slack = std::make_unique<FakeSlack>(o);
  if (impl_->slack->port() == 0) return unavailable("the sandbox's fake Slack could not listen");
  for (std::size_t i = 0; i < impl_->people.size(); ++i) {
    const SandboxPerson& p = impl_->people[i];
    const Person& person = impl_->directory->people[i];
    FakeUser u;
    u.id = p.slack_id;
    u.email = person.email;
    u.real_name = person.name;
    impl_->slack->add_user(u);
  }
  return {};
}

std::string Sandbox::api_url() const {
  return impl_->slack->api_url();
}
const std::string& Sandbox::bot_token() const {
  return impl_->token;
}
const std::string& Sandbox::signing_secret() const {
  return impl_->secret;
}
const std::string& Sandbox::team_id() const {
  return impl_->team;
}
const std::string& Sandbox::app_token() const {
  return impl_->app_token;
}
void Sandbox::use_socket_mode() {
  impl_->socket_mode = true;
}
void Sandbox::set_tollgate_port(std::uint16_t port, std::string address) {
  {
    std::lock_guard lock(impl_->address_mu);
    impl_->tollgate_address = std::move(address);
  }
  impl_->tollgate_port = port;
}
FakeSlack& Sandbox::slack() {
  return *impl_->slack;
}

bool Sandbox::handle(http::Request& req, http::Respond& respond) {
  if (req.path != "/sandbox" && req.path.rfind("/sandbox/", 0) != 0) return false;
  if (!own_host(req.header("host"), impl_->tollgate_port.load(), impl_->address())) {
    respond(api_error(403,
                      "the sandbox answers only at 127.0.0.1, localhost, [::1] or its "
                      "loopback address, and its port"));
    return true;
  }
  if (req.method == "GET" && (req.path == "/sandbox" || req.path == "/sandbox/")) {
    Response r;
    r.status = 200;
    r.content_type = "text/html; charset=utf-8";
    r.body = kPageHtml;
    if (auto at = r.body.find("{{session}}"); at != std::string::npos)
      r.body.replace(at, 11, impl_->session);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'unsafe-inline'; style-src "
                           "'unsafe-inline'; img-src 'self' data:");
    respond(std::move(r));
    return true;
  }
  if (!has_session(req, impl_->session)) {
    respond(api_error(403, "no session: the sandbox's API answers its page only"));
    return true;
  }
  if (req.method == "GET" && req.path == "/sandbox/api/people") {
    respond(impl_->people_json());
    return true;
  }
  if (req.method == "GET" && req.path == "/sandbox/api/state") {
    auto form = slack::parse_form(req.query);
    if (!form.ok()) {
      respond(api_error(400, form.status().message()));
      return true;
    }
    std::string user = form->value("user");
    if (impl_->person(user) == nullptr) {
      respond(api_error(404, "no such person: " + user));
      return true;
    }
    std::uint64_t since = std::strtoull(form->value("since").c_str(), nullptr, 10);
    respond(impl_->state_json(user, since));
    return true;
  }
  if (req.method == "POST" && req.path.rfind("/sandbox/api/", 0) == 0) {
    const std::string* type = req.header("content-type");
    if (type == nullptr || type->find("application/json") == std::string::npos) {
      respond(api_error(415, "the sandbox API takes application/json"));
      return true;
    }
    // A browser names the page that sent the request: it must be this one.
    const std::string* origin = req.header("origin");
    const std::string* host = req.header("host");
    if (origin != nullptr && (host == nullptr || *origin != "http://" + *host)) {
      respond(api_error(403, "requests from other sites are refused"));
      return true;
    }
    // Delivering to Tollgate blocks (it is an HTTP call to this very server),
    // so it runs on the sandbox's own threads, never on a network thread.
    std::string what = req.path.substr(13);
    boost::asio::post(impl_->pool, [impl = impl_, what, body = std::move(req.body),
                                    respond = std::move(respond)]() mutable {
      Response r = impl->post(what, body);
      respond(std::move(r));
    });
    return true;
  }
  respond(api_error(404, "not found"));
  return true;
}

void Sandbox::stop() {
  if (!impl_) return;
  impl_->pool.join();
  if (impl_->slack) impl_->slack.reset();
}

}  // namespace tollgate::sandbox
