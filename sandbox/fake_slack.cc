#include "sandbox/fake_slack.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>

#include "http/server.h"
#include "base/json.h"
#include "sandbox/slack_rules.h"

namespace tollgate::sandbox {
namespace {

using rapidjson::Value;
using SteadyClock = std::chrono::steady_clock;

// views.push: "push_limit_reached: ... Currently the limit is 3" (docs.slack.dev
// reference/methods/views.push); the same stack takes response_action push.
constexpr std::size_t kMaxModalViews = 3;

std::string str(const Value& o, const char* key) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}

const Value* member(const Value& o, const char* key) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(key);
  return it == o.MemberEnd() ? nullptr : &it->value;
}

std::string to_json(const Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return {b.GetString(), b.GetSize()};
}

std::string quote(const std::string& s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return {b.GetString(), b.GetSize()};
}

int tier_budget(const std::string& method) {
  static const std::map<std::string, int> kPerMinute = {
      {"chat.postEphemeral", 100}, {"chat.update", 50},        {"views.open", 100},
      {"views.publish", 100},      {"views.update", 100},      {"users.lookupByEmail", 50},
      {"users.info", 100},         {"conversations.open", 50}, {"conversations.replies", 50},
  };
  auto it = kPerMinute.find(method);
  return it == kPerMinute.end() ? 0 : it->second;
}

}  // namespace

struct FakeSlack::Impl {
  Options options;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<FakeSocketMode> socket_mode;  // has its own lock; never takes mu
  mutable std::mutex mu;
  std::vector<RecordedCall> calls;
  std::vector<PostedMessage> messages;
  std::map<std::string, FakeUser> users;  // by id
  struct Trigger {
    SteadyClock::time_point issued;
    bool used = false;
    std::string user;
  };
  std::map<std::string, Trigger> triggers;
  std::vector<EphemeralMessage> ephemerals;
  std::map<std::string, ViewRecord> views;                   // by id
  std::map<std::string, std::string> home_of;                // user -> view id
  std::map<std::string, std::vector<std::string>> stack_of;  // user -> open modals, bottom first
  std::map<std::string, std::pair<std::string, std::string>>
      response_targets;  // id -> user, channel
  std::uint64_t version = 0;
  int next_response = 0;
  std::map<std::string, SteadyClock::time_point> last_post;            // per channel
  std::map<std::string, std::deque<SteadyClock::time_point>> windows;  // per method
  std::vector<std::string> violations;
  int rate_limited = 0;
  SteadyClock::time_point fail_until{};
  std::chrono::milliseconds delay{0};
  std::map<std::string, std::pair<int, int>> forced_limits;  // method -> (count, Retry-After)
  // (method, channel) -> (count, Retry-After)
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> forced_channel_limits;
  long long next_ts = 0;
  int next_trigger = 0;
  int next_view = 0;
  std::vector<std::thread> delayed;

  http::Response ok(const std::string& extra) {
    return http::Response::json(200, "{\"ok\":true" + (extra.empty() ? "" : "," + extra) + "}");
  }
  http::Response fail(RecordedCall& rec, const std::string& error,
                      const std::vector<std::string>& notes = {}) {
    rec.error = error;
    std::string extra;
    if (!notes.empty()) {
      extra = ",\"response_metadata\":{\"messages\":[";
      for (std::size_t i = 0; i < notes.size(); ++i) extra += (i ? "," : "") + quote(notes[i]);
      extra += "]}";
    }
    return http::Response::json(200, "{\"ok\":false,\"error\":" + quote(error) + extra + "}");
  }
  // apps.connections.open takes the app-level token, in the Authorization header
  // only. As Slack answers: a bot token gets not_allowed_token_type (slack-ruby-client
  // #363), a token in the body instead of the header invalid_auth (python-slack-sdk
  // #1877), any other token invalid_auth, none not_authed. It has no arguments; the
  // SDKs send an empty form.
  http::Response connections_open(const http::Request& req, RecordedCall& rec) {
    const std::string* auth = req.header("authorization");
    if (auth == nullptr && req.body.find("token=") != std::string::npos)
      return fail(rec, "invalid_auth");
    if (auth == nullptr) return fail(rec, "not_authed");
    if (*auth == "Bearer " + options.token) return fail(rec, "not_allowed_token_type");
    if (*auth != "Bearer " + options.app_token) return fail(rec, "invalid_auth");
    return ok("\"url\":" + quote(socket_mode->open_url()));
  }
  // A request Slack's rules refuse: recorded as a violation, answered as Slack would.
  http::Response refuse(const std::string& m, RecordedCall& rec, const Refusal& r) {
    violations.push_back(m + ": " + r.to_string());
    return fail(rec, r.error, r.messages);
  }
  http::Response limited(RecordedCall& rec, int seconds) {
    ++rate_limited;
    rec.status = 429;
    rec.error = "ratelimited";
    http::Response r = http::Response::json(429, "{\"ok\":false,\"error\":\"ratelimited\"}");
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
    return r;
  }
  std::string new_ts() {
    ++next_ts;
    char buf[40];
    std::snprintf(buf, sizeof buf, "1700000000.%06lld", next_ts);
    return buf;
  }
  // Slack's user object, as users.info and users.lookupByEmail answer it.
  std::string user_json(const FakeUser& u) const {
    auto b = [](bool v) { return std::string(v ? "true" : "false"); };
    std::string team = u.team_id.empty() ? options.team_id : u.team_id;
    std::string out =
        "{\"id\":" + quote(u.id) + ",\"team_id\":" + quote(team) + ",\"deleted\":" + b(u.deleted) +
        ",\"is_bot\":false" + ",\"is_restricted\":" + b(u.is_restricted) +
        ",\"is_ultra_restricted\":" + b(u.is_ultra_restricted) + ",\"tz\":" + quote(u.tz) +
        ",\"tz_offset\":" + std::to_string(u.tz_offset) + ",\"real_name\":" + quote(u.real_name) +
        ",\"profile\":{\"email\":" + quote(u.email) + ",\"real_name\":" + quote(u.real_name) + "}";
    if (!u.enterprise_id.empty()) {
      out += ",\"enterprise_user\":{\"id\":" + quote(u.id) +
             ",\"enterprise_id\":" + quote(u.enterprise_id) + ",\"teams\":[" + quote(team) + "]}";
    }
    return out + "}";
  }
  std::string dm_channel(const std::string& id) {
    return !id.empty() && (id[0] == 'U' || id[0] == 'W') ? "D" + id : id;
  }

  http::Response handle(const http::Request& req, RecordedCall& rec);
  http::Response method(const std::string& m, const http::Request& req,
                        const rapidjson::Document& body, RecordedCall& rec);
};

http::Response FakeSlack::Impl::handle(const http::Request& req, RecordedCall& rec) {
  auto now = SteadyClock::now();
  rec.method = req.path.rfind("/api/", 0) == 0 ? req.path.substr(5) : "response_url";
  if (now < fail_until) {
    rec.status = 500;
    return http::Response::text(500, "internal server error\n");
  }
  if (req.path.rfind("/response/", 0) == 0) {
    rec.method = "response_url";
    // Slack's rules for a response_url post (slack_rules.h); a refusal is answered as
    // Slack's webhooks answer one: HTTP 400 with the error code as the body.
    if (auto r = check_message(req.body, true)) {
      violations.push_back("response_url: " + r->to_string());
      rec.status = 400;
      rec.error = r->error == "invalid_json" ? "invalid_payload" : r->error;
      return http::Response::text(400, rec.error);
    }
    rapidjson::Document d;
    (void)json::parse(d, req.body);  // valid: checked above
    record_slack_payload("response_url", req.body);
    auto target = response_targets.find(req.path.substr(10));
    if (target != response_targets.end()) {
      const auto& [user, channel] = target->second;
      const Value* blocks = member(d, "blocks");
      std::string blocks_json = blocks != nullptr ? to_json(*blocks) : "[]";
      if (str(d, "response_type") == "in_channel") {
        messages.push_back(
            {channel, new_ts(), "", str(d, "text"), blocks_json, 0, options.bot_user_id});
      } else {
        ephemerals.push_back({channel, user, new_ts(), str(d, "text"), blocks_json});
      }
      ++version;
    }
    return ok("");
  }
  if (req.path.rfind("/api/", 0) != 0) {
    rec.status = 404;
    return http::Response::text(404, "not found");
  }
  std::string m = req.path.substr(5);
  rec.method = m;
  if (auto f = forced_limits.find(m); f != forced_limits.end() && f->second.first > 0) {
    --f->second.first;
    return limited(rec, f->second.second);
  }
  if (m == "apps.connections.open") return connections_open(req, rec);
  const std::string* auth = req.header("authorization");
  if (auth == nullptr) return fail(rec, "not_authed");
  if (*auth != "Bearer " + options.token) return fail(rec, "invalid_auth");
  rapidjson::Document body;
  if (req.method == "POST") {
    const std::string* type = req.header("content-type");
    if (type == nullptr || type->find("application/json") == std::string::npos) {
      violations.push_back(m + ": not JSON");
      return fail(rec, "invalid_arguments");
    }
    if (type->find("charset=utf-8") == std::string::npos)
      violations.push_back(m + ": missing_charset");
    // Parsed as Slack does: UTF-8 validated (invalid UTF-8 is invalid JSON), NUL bytes kept.
    Status parsed = json::parse(body, req.body);
    if (!parsed.ok() || !body.IsObject()) {
      Refusal r{"invalid_json",
                {"[ERROR] " +
                 (parsed.ok() ? std::string("must be a JSON object") : parsed.message()) +
                 " [json-pointer:/]"}};
      return refuse(m, rec, r);
    }
  } else {
    body.SetObject();
    // GET query: key=value&... (values here are simple; decode %40 for emails).
    std::string q = req.query;
    std::size_t pos = 0;
    while (pos <= q.size() && !q.empty()) {
      std::size_t amp = q.find('&', pos);
      std::string pair = q.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      std::size_t eq = pair.find('=');
      std::string k = pair.substr(0, eq);
      std::string v = eq == std::string::npos ? "" : pair.substr(eq + 1);
      std::string decoded;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          decoded += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += v[i] == '+' ? ' ' : v[i];
        }
      }
      body.AddMember(Value(k.c_str(), body.GetAllocator()),
                     Value(decoded.c_str(), body.GetAllocator()), body.GetAllocator());
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  if (auto f = forced_channel_limits.find({m, dm_channel(str(body, "channel"))});
      f != forced_channel_limits.end() && f->second.first > 0) {
    --f->second.first;
    return limited(rec, f->second.second);
  }
  if (int budget = tier_budget(m); budget > 0 && options.enforce_tiers) {
    auto& w = windows[m];
    while (!w.empty() && now - w.front() > std::chrono::seconds(60)) w.pop_front();
    if (static_cast<int>(w.size()) >= budget) {
      auto wait = std::chrono::duration_cast<std::chrono::seconds>(w.front() +
                                                                   std::chrono::seconds(60) - now);
      return limited(rec, static_cast<int>(std::max<long long>(1, wait.count() + 1)));
    }
    w.push_back(now);
  }
  return method(m, req, body, rec);
}

http::Response FakeSlack::Impl::method(const std::string& m, const http::Request& req,
                                       const rapidjson::Document& body, RecordedCall& rec) {
  auto now = SteadyClock::now();
  if (m == "auth.test") {
    return ok("\"user_id\":" + quote(options.bot_user_id) + ",\"bot_id\":" + quote(options.bot_id) +
              ",\"team_id\":" + quote(options.team_id) +
              ",\"url\":" + quote(options.workspace_url) +
              ",\"user\":\"tollgate\",\"team\":" + quote(options.team_name));
  }
  if (m == "conversations.open") {
    std::string who = str(body, "users");
    if (who.empty()) return fail(rec, "users_list_not_supplied");
    return ok("\"channel\":{\"id\":" + quote(dm_channel(who.substr(0, who.find(',')))) + "}");
  }
  if (m == "chat.postMessage" || m == "chat.postEphemeral" || m == "chat.update") {
    // Slack's rules for a message (slack_rules.h): argument types, channel, no_text,
    // msg_too_long, and every block.
    if (auto r = check_message(req.body)) return refuse(m, rec, *r);
    std::string channel = dm_channel(str(body, "channel"));
    std::string text = str(body, "text");
    const Value* blocks = member(body, "blocks");
    std::string blocks_json = blocks != nullptr ? to_json(*blocks) : "[]";
    if (m == "chat.postEphemeral") {
      std::string user = str(body, "user");
      if (user.empty()) return fail(rec, "user_not_in_channel");
      ephemerals.push_back({channel, user, new_ts(), text, blocks_json});
      ++version;
      record_slack_payload(m, req.body);
      return ok("\"message_ts\":" + quote(ephemerals.back().ts));
    }
    if (m == "chat.update") {
      std::string ts = str(body, "ts");
      for (PostedMessage& pm : messages) {
        if (pm.channel == channel && pm.ts == ts) {
          pm.text = text;
          pm.blocks = blocks_json;
          ++pm.updates;
          ++version;
          record_slack_payload(m, req.body);
          return ok("\"channel\":" + quote(channel) + ",\"ts\":" + quote(ts));
        }
      }
      return fail(rec, "message_not_found");
    }
    if (options.enforce_channel_rate) {
      auto it = last_post.find(channel);
      if (it != last_post.end() && now - it->second < std::chrono::seconds(1))
        return limited(rec, 1);
      last_post[channel] = now;
    }
    PostedMessage pm{channel,     new_ts(), str(body, "thread_ts"), text,
                     blocks_json, 0,        options.bot_user_id};
    messages.push_back(pm);
    ++version;
    record_slack_payload(m, req.body);
    return ok("\"channel\":" + quote(channel) + ",\"ts\":" + quote(pm.ts) +
              ",\"message\":{\"type\":\"message\",\"text\":" + quote(text) +
              ",\"ts\":" + quote(pm.ts) + ",\"bot_id\":" + quote(options.bot_id) +
              ",\"user\":" + quote(options.bot_user_id) + "}");
  }
  if (m == "views.open" || m == "views.push" || m == "views.publish" || m == "views.update") {
    const Value* view = member(body, "view");
    std::string user;
    Trigger* trigger = nullptr;
    if (m == "views.open" || m == "views.push") {
      auto t = triggers.find(str(body, "trigger_id"));
      if (t == triggers.end()) return fail(rec, "invalid_trigger_id");
      if (t->second.used) return fail(rec, "exchanged_trigger_id");
      if (now - t->second.issued > std::chrono::seconds(3)) return fail(rec, "expired_trigger_id");
      trigger = &t->second;
      user = t->second.user;
    }
    if (m == "views.push" && stack_of[user].size() >= kMaxModalViews) {
      // views.push: "push_limit_reached ... Currently the limit is 3."
      return refuse(m, rec,
                    Refusal{"push_limit_reached", {"[ERROR] a modal holds 3 views [json-pointer:/]"}});
    }
    ViewRecord* existing = nullptr;
    if (m == "views.update") {
      auto v = views.find(str(body, "view_id"));
      if (v == views.end()) return fail(rec, "not_found");
      std::string hash = str(body, "hash");
      if (!hash.empty() && hash != v->second.hash) return fail(rec, "hash_conflict");
      existing = &v->second;
    }
    if (m == "views.publish") {
      user = str(body, "user_id");
      if (user.empty())
        return refuse(m, rec,
                      Refusal{"invalid_arguments",
                              {"[ERROR] missing required field: user_id [json-pointer:/]"}});
      if (auto h = home_of.find(user); h != home_of.end()) existing = &views[h->second];
    }
    bool home = m == "views.publish" || (existing != nullptr && existing->home);
    // Slack's rules for the call and its view (slack_rules.h).
    if (auto r = check_views_call(req.body, home ? Surface::home : Surface::modal))
      return refuse(m, rec, *r);
    if (trigger != nullptr) trigger->used = true;
    if (existing == nullptr) {
      ViewRecord r{"V" + std::to_string(++next_view), user, "", "", home};
      existing = &views.emplace(r.id, r).first->second;
      if (home) {
        home_of[user] = r.id;
      } else {
        stack_of[user].push_back(r.id);
      }
    }
    existing->json = to_json(*view);
    existing->hash = "h" + std::to_string(++next_view);
    ++version;
    record_slack_payload(m, req.body);
    return ok("\"view\":{\"id\":" + quote(existing->id) + ",\"hash\":" + quote(existing->hash) +
              ",\"type\":" + quote(home ? "home" : "modal") + "}");
  }
  if (m == "users.lookupByEmail") {
    // Slack finds the workspace's own members (guests and deactivated
    // accounts included), not the users of other workspaces.
    std::string email = str(body, "email");
    for (const auto& [id, u] : users) {
      if (u.email == email && (u.team_id.empty() || u.team_id == options.team_id))
        return ok("\"user\":" + user_json(u));
    }
    return fail(rec, "users_not_found");
  }
  if (m == "users.info") {
    auto it = users.find(str(body, "user"));
    if (it == users.end()) return fail(rec, "user_not_found");
    return ok("\"user\":" + user_json(it->second));
  }
  if (m == "conversations.replies") {
    std::string channel = str(body, "channel");
    std::string ts = str(body, "ts");
    std::string list;
    for (const PostedMessage& pm : messages) {
      if (pm.channel == channel && (pm.ts == ts || pm.thread_ts == ts)) {
        list += (list.empty() ? "" : ",") + std::string("{\"ts\":") + quote(pm.ts) +
                ",\"text\":" + quote(pm.text) + "}";
      }
    }
    if (list.empty()) return fail(rec, "thread_not_found");
    return ok("\"messages\":[" + list + "]");
  }
  return fail(rec, "unknown_method");
}

FakeSlack::FakeSlack() : FakeSlack(Options{}) {}

FakeSlack::FakeSlack(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  FakeSocketMode::Options socket_options;
  socket_options.app_id = impl_->options.app_id;
  socket_options.ping_interval = impl_->options.socket_mode_ping_interval;
  impl_->socket_mode = std::make_unique<FakeSocketMode>(socket_options);
  http::ServerOptions so;
  so.address = "127.0.0.1";
  so.port = 0;
  so.threads = 2;
  Impl* impl = impl_.get();
  impl_->server =
      std::make_unique<http::Server>(so, [impl](http::Request req, http::Respond respond) {
        RecordedCall rec;
        rec.at = SteadyClock::now();
        rec.body = req.body;
        rec.query = req.query;
        http::Response res;
        std::chrono::milliseconds delay{0};
        {
          std::lock_guard lock(impl->mu);
          res = impl->handle(req, rec);
          if (rec.status == 200) rec.status = res.status;
          impl->calls.push_back(rec);
          delay = impl->delay;
          if (delay.count() > 0) {
            impl->delayed.emplace_back([delay, respond, res]() mutable {
              std::this_thread::sleep_for(delay);
              respond(std::move(res));
            });
            return;
          }
        }
        respond(std::move(res));
      });
  Status s = impl_->server->start();
  if (!s.ok()) std::fprintf(stderr, "fake slack: %s\n", s.to_string().c_str());
}

FakeSlack::~FakeSlack() {
  std::vector<std::thread> delayed;
  {
    std::lock_guard lock(impl_->mu);
    delayed.swap(impl_->delayed);
  }
  for (auto& t : delayed) t.join();
  impl_->server->stop(std::chrono::milliseconds(1000));
}

std::uint16_t FakeSlack::port() const {
  return impl_->server->port();
}
FakeSocketMode& FakeSlack::socket_mode() {
  return *impl_->socket_mode;
}
std::string FakeSlack::api_url() const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/api";
}
std::string FakeSlack::response_url(const std::string& id) const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/response/" + id;
}

void FakeSlack::add_user(FakeUser user) {
  std::lock_guard lock(impl_->mu);
  impl_->users[user.id] = std::move(user);
}

std::vector<FakeUser> FakeSlack::users() const {
  std::lock_guard lock(impl_->mu);
  std::vector<FakeUser> out;
  for (const auto& [id, u] : impl_->users) out.push_back(u);
  return out;
}

std::string FakeSlack::trigger_id(const std::string& user) {
  std::lock_guard lock(impl_->mu);
  std::string id = std::to_string(++impl_->next_trigger) + ".7890123.abcdef";
  impl_->triggers[id] = {SteadyClock::now(), false, user};
  return id;
}

std::string FakeSlack::response_url_for(const std::string& user, const std::string& channel) {
  std::string id;
  {
    std::lock_guard lock(impl_->mu);
    id = "R" + std::to_string(++impl_->next_response);
    impl_->response_targets[id] = {user, channel};
  }
  return response_url(id);
}

std::string FakeSlack::post_as(const std::string& user, const std::string& channel,
                               const std::string& text, const std::string& thread_ts) {
  std::lock_guard lock(impl_->mu);
  PostedMessage pm{channel, impl_->new_ts(), thread_ts, text, "[]", 0, user};
  impl_->messages.push_back(pm);
  ++impl_->version;
  return pm.ts;
}

void FakeSlack::add_ephemeral(const std::string& user, const std::string& channel,
                              const std::string& text, const std::string& blocks) {
  // A slash command's answer, as the sandbox shows it: Slack's rules for a message apply.
  std::string message = "{\"text\":" + quote(text) + ",\"blocks\":" + blocks + "}";
  std::optional<Refusal> refused = check_message(message, true);
  std::lock_guard lock(impl_->mu);
  if (refused) {
    // Slack shows the person its own error instead of the refused message.
    impl_->violations.push_back("command answer: " + refused->to_string());
    impl_->ephemerals.push_back({channel, user, impl_->new_ts(),
                                 "The command failed with the error \"invalid_command_response\"",
                                 "[]"});
  } else {
    impl_->ephemerals.push_back({channel, user, impl_->new_ts(), text, blocks});
  }
  ++impl_->version;
}

std::optional<ViewRecord> FakeSlack::home_view(const std::string& user) const {
  std::lock_guard lock(impl_->mu);
  auto h = impl_->home_of.find(user);
  if (h == impl_->home_of.end()) return std::nullopt;
  return impl_->views.at(h->second);
}

std::vector<ViewRecord> FakeSlack::modals(const std::string& user) const {
  std::lock_guard lock(impl_->mu);
  std::vector<ViewRecord> out;
  if (auto s = impl_->stack_of.find(user); s != impl_->stack_of.end()) {
    for (const std::string& id : s->second) out.push_back(impl_->views.at(id));
  }
  return out;
}

std::optional<ViewRecord> FakeSlack::view(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto v = impl_->views.find(id);
  if (v == impl_->views.end()) return std::nullopt;
  return v->second;
}

bool FakeSlack::replace_view(const std::string& id, const std::string& view_json) {
  std::optional<Refusal> refused = check_view(view_json, Surface::modal);
  std::lock_guard lock(impl_->mu);
  if (refused) {  // Slack keeps the view as it was
    impl_->violations.push_back("response_action update: " + refused->to_string());
    return false;
  }
  auto v = impl_->views.find(id);
  if (v == impl_->views.end()) return false;
  v->second.json = view_json;
  v->second.hash = "h" + std::to_string(++impl_->next_view);
  ++impl_->version;
  return true;
}

void FakeSlack::push_view(const std::string& user, const std::string& view_json) {
  std::optional<Refusal> refused = check_view(view_json, Surface::modal);
  std::lock_guard lock(impl_->mu);
  if (!refused && impl_->stack_of[user].size() >= kMaxModalViews)
    refused = Refusal{"push_limit_reached", {"[ERROR] a modal holds 3 views [json-pointer:/]"}};
  if (refused) {  // Slack pushes nothing
    impl_->violations.push_back("response_action push: " + refused->to_string());
    return;
  }
  std::string id = "V" + std::to_string(++impl_->next_view);
  impl_->views[id] = {id, user, "h" + std::to_string(++impl_->next_view), view_json, false};
  impl_->stack_of[user].push_back(id);
  ++impl_->version;
}

void FakeSlack::close_view(const std::string& user, const std::string& id) {
  std::lock_guard lock(impl_->mu);
  auto& stack = impl_->stack_of[user];
  auto it = std::find(stack.begin(), stack.end(), id);
  if (it == stack.end()) return;
  for (auto v = it; v != stack.end(); ++v) impl_->views.erase(*v);
  stack.erase(it, stack.end());
  ++impl_->version;
}

void FakeSlack::close_all_views(const std::string& user) {
  std::lock_guard lock(impl_->mu);
  for (const std::string& id : impl_->stack_of[user]) impl_->views.erase(id);
  impl_->stack_of[user].clear();
  ++impl_->version;
}

std::vector<EphemeralMessage> FakeSlack::ephemerals_for(const std::string& user) const {
  std::lock_guard lock(impl_->mu);
  std::vector<EphemeralMessage> out;
  for (const EphemeralMessage& e : impl_->ephemerals) {
    if (e.user == user) out.push_back(e);
  }
  return out;
}

std::uint64_t FakeSlack::version() const {
  std::lock_guard lock(impl_->mu);
  return impl_->version;
}

const FakeSlack::Options& FakeSlack::options() const {
  return impl_->options;
}

void FakeSlack::fail_for(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->fail_until = SteadyClock::now() + d;
}

void FakeSlack::delay(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->delay = d;
}

void FakeSlack::rate_limit_next(const std::string& method, int n, int seconds,
                                const std::string& channel) {
  std::lock_guard lock(impl_->mu);
  if (channel.empty()) {
    impl_->forced_limits[method] = {n, seconds};
  } else {
    impl_->forced_channel_limits[{method, impl_->dm_channel(channel)}] = {n, seconds};
  }
}

std::vector<RecordedCall> FakeSlack::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

std::vector<RecordedCall> FakeSlack::calls(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  std::vector<RecordedCall> out;
  for (const RecordedCall& c : impl_->calls) {
    if (c.method == method) out.push_back(c);
  }
  return out;
}

std::size_t FakeSlack::count(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(
      std::count_if(impl_->calls.begin(), impl_->calls.end(), [&](const RecordedCall& c) {
        return c.method == method && c.status == 200 && c.error.empty();
      }));
}

std::vector<PostedMessage> FakeSlack::messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->messages;
}

std::vector<PostedMessage> FakeSlack::messages_in(const std::string& channel) const {
  std::lock_guard lock(impl_->mu);
  std::vector<PostedMessage> out;
  for (const PostedMessage& m : impl_->messages) {
    if (m.channel == channel) out.push_back(m);
  }
  return out;
}

std::vector<std::string> FakeSlack::violations() const {
  std::lock_guard lock(impl_->mu);
  return impl_->violations;
}

int FakeSlack::rate_limited() const {
  std::lock_guard lock(impl_->mu);
  return impl_->rate_limited;
}

void record_slack_payload(std::string_view kind, std::string_view json_text) {
  const char* dir = std::getenv("TOLLGATE_SLACK_PAYLOADS");
  if (dir == nullptr || *dir == '\0') return;
  rapidjson::Document payload;
  if (!json::parse(payload, json_text).ok() || !payload.IsObject()) return;
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "kind", kind);
  json::key(w, "payload");
  payload.Accept(w);
  w.EndObject();
  std::string text = json::text(b) + "\n";
  // Many test processes write here at once: <pid>-<seq>.json, created exclusively.
  static std::atomic<unsigned long> seq{0};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::string path = std::string(dir) + "/" + std::to_string(::getpid()) + "-" +
                       std::to_string(++seq) + ".json";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) continue;  // a file of an earlier process with our pid
    if (fd < 0) {
      std::fprintf(stderr, "TOLLGATE_SLACK_PAYLOADS: %s: %s\n", path.c_str(), std::strerror(errno));
      return;
    }
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return;
  }
}

void FakeSlack::clear() {
  std::lock_guard lock(impl_->mu);
  impl_->calls.clear();
  impl_->violations.clear();
  impl_->rate_limited = 0;
}

}  // namespace tollgate::sandbox
