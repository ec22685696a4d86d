#include "bot/sandbox/fake_slack.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <set>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "bot/http/server.h"

namespace tollgate::sandbox {
namespace {

using rapidjson::Value;
using SteadyClock = std::chrono::steady_clock;

std::size_t chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

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

// Block Kit checks, as Slack's validators apply them (PROTOCOL.md §6).
class BlockCheck {
 public:
  std::vector<std::string> problems;

  void text_object(const Value* t, const std::string& where, std::size_t max,
                   bool plain_only = false) {
    if (t == nullptr) return;
    std::string type = str(*t, "type");
    std::string text = str(*t, "text");
    if (type != "plain_text" && type != "mrkdwn")
      problems.push_back(where + ": text object of type '" + type + "'");
    if (plain_only && type != "plain_text") problems.push_back(where + ": must be plain_text");
    if (text.empty()) problems.push_back(where + ": empty text");
    if (chars(text) > max) problems.push_back(where + ": text longer than " + std::to_string(max));
  }

  void confirm(const Value* c, const std::string& where) {
    if (c == nullptr) return;
    text_object(member(*c, "title"), where + ".confirm.title", 100, true);
    text_object(member(*c, "text"), where + ".confirm.text", 300);
    text_object(member(*c, "confirm"), where + ".confirm.confirm", 30, true);
    text_object(member(*c, "deny"), where + ".confirm.deny", 30, true);
  }

  void options(const Value* opts, const std::string& where, std::size_t min, std::size_t max) {
    if (opts == nullptr || !opts->IsArray()) {
      problems.push_back(where + ": options missing");
      return;
    }
    if (opts->Size() < min || opts->Size() > max) {
      problems.push_back(where + ": " + std::to_string(opts->Size()) + " options (allowed " +
                         std::to_string(min) + ".." + std::to_string(max) + ")");
    }
    for (const Value& o : opts->GetArray()) {
      text_object(member(o, "text"), where + ".option", 75);
      if (chars(str(o, "value")) > 150)
        problems.push_back(where + ": option value longer than 150");
    }
  }

  void element(const Value& e, const std::string& where) {
    std::string type = str(e, "type");
    if (chars(str(e, "action_id")) > 255) problems.push_back(where + ": action_id longer than 255");
    if (type == "button") {
      text_object(member(e, "text"), where + ".text", 75, true);
      if (chars(str(e, "value")) > 2000)
        problems.push_back(where + ": button value longer than 2000");
      if (chars(str(e, "url")) > 3000) problems.push_back(where + ": button url longer than 3000");
      std::string style = str(e, "style");
      if (!style.empty() && style != "primary" && style != "danger")
        problems.push_back(where + ": style " + style);
      confirm(member(e, "confirm"), where);
    } else if (type == "overflow") {
      options(member(e, "options"), where, 1, 5);
      confirm(member(e, "confirm"), where);
    } else if (type == "checkboxes" || type == "radio_buttons") {
      options(member(e, "options"), where, 1, 10);
    } else if (type == "static_select" || type == "multi_static_select") {
      options(member(e, "options"), where, 1, 100);
    } else if (type == "plain_text_input") {
      if (const Value* m = member(e, "max_length");
          m != nullptr && m->IsInt() && m->GetInt() > 3000) {
        problems.push_back(where + ": max_length over 3000");
      }
    } else if (type == "users_select" || type == "multi_users_select" || type == "datepicker" ||
               type == "image" || type == "conversations_select") {
      // accepted as they are
    } else {
      problems.push_back(where + ": unknown element type '" + type + "'");
    }
  }

  void blocks(const Value* bs, std::size_t max_blocks, const std::string& surface) {
    if (bs == nullptr) return;
    if (!bs->IsArray()) {
      problems.push_back(surface + ": blocks is not an array");
      return;
    }
    if (bs->Size() > max_blocks) {
      problems.push_back(surface + ": " + std::to_string(bs->Size()) + " blocks (at most " +
                         std::to_string(max_blocks) + ")");
    }
    std::set<std::string> ids;
    std::size_t i = 0;
    for (const Value& b : bs->GetArray()) {
      std::string where = surface + ".blocks[" + std::to_string(i++) + "]";
      std::string type = str(b, "type");
      std::string id = str(b, "block_id");
      if (chars(id) > 255) problems.push_back(where + ": block_id longer than 255");
      if (!id.empty() && !ids.insert(id).second)
        problems.push_back(where + ": duplicate block_id " + id);
      if (type == "section") {
        text_object(member(b, "text"), where + ".text", 3000);
        if (const Value* f = member(b, "fields")) {
          if (!f->IsArray() || f->Size() > 10) problems.push_back(where + ": more than 10 fields");
          if (f->IsArray()) {
            for (const Value& fv : f->GetArray()) text_object(&fv, where + ".field", 2000);
          }
        }
        if (member(b, "text") == nullptr && member(b, "fields") == nullptr) {
          problems.push_back(where + ": section without text or fields");
        }
        if (const Value* a = member(b, "accessory")) element(*a, where + ".accessory");
      } else if (type == "header") {
        text_object(member(b, "text"), where + ".text", 150, true);
      } else if (type == "actions") {
        const Value* els = member(b, "elements");
        if (els == nullptr || !els->IsArray() || els->Empty() || els->Size() > 25) {
          problems.push_back(where + ": actions needs 1..25 elements");
        } else {
          for (const Value& e : els->GetArray()) element(e, where + ".element");
        }
      } else if (type == "context") {
        const Value* els = member(b, "elements");
        if (els == nullptr || !els->IsArray() || els->Empty() || els->Size() > 10) {
          problems.push_back(where + ": context needs 1..10 elements");
        } else {
          for (const Value& e : els->GetArray()) {
            if (str(e, "type") != "image") text_object(&e, where + ".element", 3000);
          }
        }
      } else if (type == "input") {
        text_object(member(b, "label"), where + ".label", 2000, true);
        text_object(member(b, "hint"), where + ".hint", 2000, true);
        if (const Value* e = member(b, "element")) {
          element(*e, where + ".element");
        } else {
          problems.push_back(where + ": input without element");
        }
      } else if (type == "divider" || type == "image" || type == "rich_text") {
      } else {
        problems.push_back(where + ": unknown block type '" + type + "'");
      }
    }
  }

  void view(const Value& v, bool home) {
    std::string type = str(v, "type");
    if (home && type != "home") problems.push_back("view: type must be home");
    if (!home && type != "modal") problems.push_back("view: type must be modal");
    if (!home) {
      text_object(member(v, "title"), "view.title", 24, true);
      if (member(v, "title") == nullptr) problems.push_back("view: modal without title");
    }
    text_object(member(v, "submit"), "view.submit", 24, true);
    text_object(member(v, "close"), "view.close", 24, true);
    if (home && (member(v, "submit") != nullptr || member(v, "close") != nullptr)) {
      problems.push_back("view: a home view has no submit or close");
    }
    if (chars(str(v, "private_metadata")) > 3000)
      problems.push_back("view: private_metadata over 3000");
    if (chars(str(v, "callback_id")) > 255) problems.push_back("view: callback_id over 255");
    if (to_json(v).size() > 250000) problems.push_back("view: larger than 250 kB");
    blocks(member(v, "blocks"), 100, "view");
  }
};

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
    rapidjson::Document d;
    d.Parse(req.body.c_str());
    if (d.HasParseError() || !d.IsObject()) {
      violations.push_back("response_url: body is not JSON");
      rec.status = 400;
      return http::Response::text(400, "invalid_payload");
    }
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
    body.Parse(req.body.c_str());
    if (body.HasParseError() || !body.IsObject()) {
      violations.push_back(m + ": body is not a JSON object");
      return fail(rec, "invalid_json");
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

http::Response FakeSlack::Impl::method(const std::string& m, const http::Request&,
                                       const rapidjson::Document& body, RecordedCall& rec) {
  auto now = SteadyClock::now();
  BlockCheck check;
  auto invalid = [&](const std::string& error) {
    for (const std::string& p : check.problems) violations.push_back(m + ": " + p);
    return fail(rec, error, check.problems);
  };
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
    std::string channel = dm_channel(str(body, "channel"));
    if (channel.empty()) return fail(rec, "channel_not_found");
    std::string text = str(body, "text");
    const Value* blocks = member(body, "blocks");
    if (text.empty() && blocks == nullptr) return fail(rec, "no_text");
    if (chars(text) > 40000) return fail(rec, "msg_too_long");
    check.blocks(blocks, 50, m);
    if (!check.problems.empty()) return invalid("invalid_blocks");
    std::string blocks_json = blocks != nullptr ? to_json(*blocks) : "[]";
    if (m == "chat.postEphemeral") {
      std::string user = str(body, "user");
      if (user.empty()) return fail(rec, "user_not_in_channel");
      ephemerals.push_back({channel, user, new_ts(), text, blocks_json});
      ++version;
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
    return ok("\"channel\":" + quote(channel) + ",\"ts\":" + quote(pm.ts) +
              ",\"message\":{\"type\":\"message\",\"text\":" + quote(text) +
              ",\"ts\":" + quote(pm.ts) + ",\"bot_id\":" + quote(options.bot_id) +
              ",\"user\":" + quote(options.bot_user_id) + "}");
  }
  if (m == "views.open" || m == "views.push" || m == "views.publish" || m == "views.update") {
    const Value* view = member(body, "view");
    if (view == nullptr || !view->IsObject()) return fail(rec, "invalid_arguments");
    std::string user;
    if (m == "views.open" || m == "views.push") {
      std::string trigger = str(body, "trigger_id");
      auto t = triggers.find(trigger);
      if (t == triggers.end()) return fail(rec, "invalid_trigger_id");
      if (t->second.used) return fail(rec, "exchanged_trigger_id");
      if (now - t->second.issued > std::chrono::seconds(3)) return fail(rec, "expired_trigger_id");
      t->second.used = true;
      user = t->second.user;
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
      if (user.empty()) return fail(rec, "invalid_arguments");
      if (auto h = home_of.find(user); h != home_of.end()) existing = &views[h->second];
    }
    bool home = m == "views.publish" || (existing != nullptr && existing->home);
    check.view(*view, home);
    if (!check.problems.empty()) return invalid("invalid_arguments");
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
    return ok("\"view\":{\"id\":" + quote(existing->id) + ",\"hash\":" + quote(existing->hash) +
              ",\"type\":" + quote(home ? "home" : "modal") + "}");
  }
  if (m == "users.lookupByEmail") {
    std::string email = str(body, "email");
    for (const auto& [id, u] : users) {
      if (u.email == email)
        return ok("\"user\":{\"id\":" + quote(id) + ",\"tz\":" + quote(u.tz) +
                  ",\"tz_offset\":" + std::to_string(u.tz_offset) + "}");
    }
    return fail(rec, "users_not_found");
  }
  if (m == "users.info") {
    auto it = users.find(str(body, "user"));
    if (it == users.end()) return fail(rec, "user_not_found");
    return ok("\"user\":{\"id\":" + quote(it->first) + ",\"tz\":" + quote(it->second.tz) +
              ",\"tz_offset\":" + std::to_string(it->second.tz_offset) + ",\"real_name\":" +
              quote(it->second.real_name) + ",\"profile\":{\"email\":" + quote(it->second.email) +
              ",\"real_name\":" + quote(it->second.real_name) + "}}");
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
  std::lock_guard lock(impl_->mu);
  impl_->ephemerals.push_back({channel, user, impl_->new_ts(), text, blocks});
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
  std::lock_guard lock(impl_->mu);
  auto v = impl_->views.find(id);
  if (v == impl_->views.end()) return false;
  v->second.json = view_json;
  v->second.hash = "h" + std::to_string(++impl_->next_view);
  ++impl_->version;
  return true;
}

void FakeSlack::push_view(const std::string& user, const std::string& view_json) {
  std::lock_guard lock(impl_->mu);
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

void FakeSlack::rate_limit_next(const std::string& method, int n, int seconds) {
  std::lock_guard lock(impl_->mu);
  impl_->forced_limits[method] = {n, seconds};
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

void FakeSlack::clear() {
  std::lock_guard lock(impl_->mu);
  impl_->calls.clear();
  impl_->violations.clear();
  impl_->rate_limited = 0;
}

}  // namespace tollgate::sandbox
