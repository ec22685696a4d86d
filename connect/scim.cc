// SCIM 2.0 (RFC 7643, RFC 7644): a group membership added or removed. Each change is a
// short conversation (find the user, find the group, check the membership, PATCH the
// group), one request at a time, each started from the previous one's completion.
//
// The server is not trusted: what it answers is parsed defensively (json::parse, wrong
// types read as absent, answers cut at 1 MiB), and a lookup's answer is checked against
// what was asked for, so a server that ignores a filter cannot make us change the wrong
// user or group.
#include <algorithm>
#include <cctype>

#include "base/encoding.h"
#include "base/json.h"
#include "connect/internal.h"

namespace tollgate::connect {
namespace {

constexpr char kUserSchema[] = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr char kPatchOp[] = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
// A hostile server could page forever; 100 pages of 100 groups are plenty.
constexpr int kMaxPages = 100;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A SCIM filter's string literal (RFC 7644 3.4.2.2: JSON string rules).
std::string literal(std::string_view s) {
  return json::quote(s);
}

std::string query_filter(const std::string& filter) {
  return "filter=" + percent_encode(filter);
}

// The SCIM Error of a refused request ("SCIM 409 uniqueness: userName is taken"), or the
// plain HTTP failure when the body is none.
Result scim_failure(const HttpResponse& a, const std::string& base) {
  Result r = http_failure(a, base, snippet(a.body));
  if (a.status == 0) return r;
  rapidjson::Document doc;
  if (a.truncated || !json::parse(doc, a.body).ok() || !doc.IsObject()) return r;
  std::string type = json::str(doc, "scimType"), detail = json::str(doc, "detail");
  if (type.empty() && detail.empty()) return r;
  r.answer = "SCIM " + std::to_string(a.status) + (type.empty() ? "" : " " + snippet(type, 40)) +
             ": " + (detail.empty() ? "(no detail)" : snippet(detail));
  return r;
}

const rapidjson::Value* resources(const rapidjson::Document& doc) {
  return doc.IsObject() ? json::array(doc, "Resources") : nullptr;
}

// A ListResponse's resource with a non-empty string id that `match` accepts.
template <typename Match>
const rapidjson::Value* find_resource(const rapidjson::Document& doc, Match match) {
  const rapidjson::Value* list = resources(doc);
  if (list == nullptr) return nullptr;
  for (const auto& v : list->GetArray()) {
    if (v.IsObject() && !json::str(v, "id").empty() && match(v)) return &v;
  }
  return nullptr;
}

bool has_email(const rapidjson::Value& user, const std::string& email) {
  const rapidjson::Value* emails = json::array(user, "emails");
  if (emails == nullptr) return false;
  for (const auto& e : emails->GetArray()) {
    if (iequals(json::str(e, "value"), email)) return true;
  }
  return false;
}

// Whether `group`'s members (when the server sent them) hold `uid`; nullopt without them.
std::optional<bool> holds(const rapidjson::Value& group, const std::string& uid) {
  const rapidjson::Value* members = json::array(group, "members");
  if (members == nullptr) return std::nullopt;
  for (const auto& m : members->GetArray()) {
    if (json::str(m, "value") == uid) return true;
  }
  return false;
}

class ScimCall : public std::enable_shared_from_this<ScimCall> {
 public:
  std::shared_ptr<HttpClient> http;
  std::string base;  // without a trailing '/'
  Duration timeout{};
  bool create_users = false;
  std::string token;
  Job job;
  std::function<void(Result)> done;
  std::string uid, gid;
  int last_status = 0;  // the last answer's, for a result that none of its own carries

  void finish(Result r) {
    if (r.http_status == 0) r.http_status = last_status;
    auto d = std::move(done);
    done = nullptr;
    if (d) d(std::move(r));
  }

  // `target` is the path after the base, with its query.
  void call(const char* method, std::string target, std::string body,
            std::function<void(HttpResponse)> then) {
    HttpRequest r;
    r.method = method;
    r.url = base + target;
    r.timeout = timeout;
    r.headers = {"Authorization: Bearer " + token, "Accept: application/scim+json",
                 "User-Agent: Tollgate"};
    if (!body.empty()) r.headers.push_back("Content-Type: application/scim+json");
    r.body = std::move(body);
    http->send(std::move(r), [self = shared_from_this(), then = std::move(then)](HttpResponse a) {
      self->last_status = a.status;
      then(std::move(a));
    });
  }

  // A 2xx answer's JSON; false (and the call finished, failed) when it is none.
  bool parse(const HttpResponse& a, rapidjson::Document& doc) {
    if (a.truncated) {
      finish(result(Outcome::failed,
                    "SCIM answer from " + shown_url(base) + " is larger than 1 MiB", a.status));
      return false;
    }
    if (Status s = json::parse(doc, a.body); !s.ok() || !doc.IsObject()) {
      finish(result(Outcome::failed,
                    "HTTP " + std::to_string(a.status) + " from " + shown_url(base) +
                        ": not a SCIM answer (" + snippet(a.body, 80) + ")",
                    a.status));
      return false;
    }
    return true;
  }

  static bool ok(const HttpResponse& a) { return a.status >= 200 && a.status < 300; }

  // The user whose userName is the email, else the one with that email.
  void find_user(std::function<void(std::optional<std::string>)> then, bool by_email = false) {
    std::string filter = by_email ? "emails[value eq " + literal(job.email) + "]"
                                  : "userName eq " + literal(job.email);
    call("GET", "/Users?" + query_filter(filter), "",
         [self = shared_from_this(), then = std::move(then), by_email](HttpResponse a) {
           if (!ok(a)) return self->finish(scim_failure(a, self->base));
           rapidjson::Document doc;
           if (!self->parse(a, doc)) return;
           const std::string& email = self->job.email;
           const rapidjson::Value* user = find_resource(doc, [&](const rapidjson::Value& u) {
             return by_email ? has_email(u, email) : iequals(json::str(u, "userName"), email);
           });
           if (user != nullptr) return then(json::str(*user, "id"));
           if (by_email) return then(std::nullopt);
           self->find_user(then, true);
         });
  }

  void create_user(std::function<void(std::string)> then) {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::key(w, "schemas");
    w.StartArray();
    json::string(w, kUserSchema);
    w.EndArray();
    json::kv(w, "userName", job.email);
    json::kv(w, "externalId", job.person);
    json::kv(w, "displayName", job.person_name);
    json::key(w, "name");
    w.StartObject();
    json::kv(w, "formatted", job.person_name);
    w.EndObject();
    json::key(w, "emails");
    w.StartArray();
    w.StartObject();
    json::kv(w, "value", job.email);
    json::key(w, "primary");
    w.Bool(true);
    w.EndObject();
    w.EndArray();
    json::key(w, "active");
    w.Bool(true);
    w.EndObject();
    call("POST", "/Users", json::text(b),
         [self = shared_from_this(), then = std::move(then)](HttpResponse a) {
           if (!ok(a)) return self->finish(scim_failure(a, self->base));
           rapidjson::Document doc;
           if (!self->parse(a, doc)) return;
           std::string id = json::str(doc, "id");
           if (id.empty())
             return self->finish(result(
                 Outcome::failed,
                 "SCIM " + std::to_string(a.status) + ": the user was created but no id came back",
                 a.status));
           then(id);
         });
  }

  // The group whose displayName is `name` (exactly, else the one that differs in case
  // only). A server that cannot filter (400) is paged through.
  void find_group(const std::string& name, std::function<void(std::optional<std::string>)> then) {
    call("GET",
         "/Groups?" + query_filter("displayName eq " + literal(name)) +
             "&excludedAttributes=members",
         "", [self = shared_from_this(), name, then = std::move(then)](HttpResponse a) {
           if (a.status == 400) return self->list_groups(name, 1, 0, "", then);
           if (!ok(a)) return self->finish(scim_failure(a, self->base));
           rapidjson::Document doc;
           if (!self->parse(a, doc)) return;
           std::string loose;
           if (auto id = self->match_group(doc, name, loose)) return then(id);
           then(loose.empty() ? std::nullopt : std::optional(loose));
         });
  }

  // The id of the group named exactly `name` in a ListResponse; `loose` gets the first that
  // differs in case only.
  static std::optional<std::string> match_group(const rapidjson::Document& doc,
                                                const std::string& name, std::string& loose) {
    const rapidjson::Value* list = resources(doc);
    if (list == nullptr) return std::nullopt;
    for (const auto& g : list->GetArray()) {
      std::string id = json::str(g, "id"), shown = json::str(g, "displayName");
      if (id.empty()) continue;
      if (shown == name) return id;
      if (loose.empty() && iequals(shown, name)) loose = id;
    }
    return std::nullopt;
  }

  void list_groups(const std::string& name, std::int64_t start, int pages, std::string loose,
                   std::function<void(std::optional<std::string>)> then) {
    call("GET",
         "/Groups?startIndex=" + std::to_string(start) + "&count=100&excludedAttributes=members",
         "",
         [self = shared_from_this(), name, start, pages, loose,
          then = std::move(then)](HttpResponse a) mutable {
           if (!ok(a)) return self->finish(scim_failure(a, self->base));
           rapidjson::Document doc;
           if (!self->parse(a, doc)) return;
           if (auto id = match_group(doc, name, loose)) return then(id);
           const rapidjson::Value* list = resources(doc);
           auto seen = static_cast<std::int64_t>(list == nullptr ? 0 : list->Size());
           std::int64_t total = json::i64(doc, "totalResults");
           std::int64_t next = start + seen;
           if (seen == 0 || next - 1 >= total || pages + 1 >= kMaxPages)
             return then(loose.empty() ? std::nullopt : std::optional(loose));
           self->list_groups(name, next, pages + 1, loose, then);
         });
  }

  // Whether uid is a member of gid: true, false, or nullopt when the server's answer does
  // not say (too large to read).
  void check_member(std::function<void(std::optional<bool>)> then) {
    std::string filter =
        "displayName eq " + literal(job.scim_group) + " and members[value eq " + literal(uid) + "]";
    call("GET", "/Groups?" + query_filter(filter), "",
         [self = shared_from_this(), then = std::move(then)](HttpResponse a) {
           if (a.status == 400) return self->read_members(then);
           if (!ok(a)) return self->finish(scim_failure(a, self->base));
           if (a.truncated) return then(std::nullopt);
           rapidjson::Document doc;
           if (!self->parse(a, doc)) return;
           const rapidjson::Value* list = resources(doc);
           // Only the member listed says "a member": a server that ignores part of the
           // filter, or leaves members out, must not make a grant skip its PATCH.
           if (list == nullptr) return then(std::nullopt);
           for (const auto& g : list->GetArray()) {
             if (json::str(g, "id") != self->gid) continue;
             return then(holds(g, self->uid));
           }
           then(false);
         });
  }

  // The group itself, for a server that cannot filter on members.
  void read_members(std::function<void(std::optional<bool>)> then) {
    call("GET", "/Groups/" + percent_encode(gid), "",
         [self = shared_from_this(), then = std::move(then)](HttpResponse a) {
           if (a.status == 404) return self->group_gone();
           if (!ok(a)) return self->finish(scim_failure(a, self->base));
           if (a.truncated) return then(std::nullopt);
           rapidjson::Document doc;
           if (!self->parse(a, doc)) return;
           then(holds(doc, self->uid).value_or(false));
         });
  }

  void group_gone() {
    finish(result(Outcome::failed, "SCIM 404: group \"" + job.scim_group + "\" is gone", 404));
  }

  void patch(bool add) {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::key(w, "schemas");
    w.StartArray();
    json::string(w, kPatchOp);
    w.EndArray();
    json::key(w, "Operations");
    w.StartArray();
    w.StartObject();
    json::kv(w, "op", add ? "add" : "remove");
    if (add) {
      json::kv(w, "path", "members");
      json::key(w, "value");
      w.StartArray();
      w.StartObject();
      json::kv(w, "value", uid);
      w.EndObject();
      w.EndArray();
    } else {
      json::kv(w, "path", "members[value eq " + literal(uid) + "]");
    }
    w.EndObject();
    w.EndArray();
    w.EndObject();
    call("PATCH", "/Groups/" + percent_encode(gid), json::text(b),
         [self = shared_from_this(), add](HttpResponse a) {
           const std::string group = "group \"" + self->job.scim_group + "\"";
           if (ok(a)) {
             return self->finish(result(Outcome::done,
                                        "HTTP " + std::to_string(a.status) + ": member " +
                                            (add ? "added to " : "removed from ") + group,
                                        a.status));
           }
           if (a.status == 404) return self->group_gone();
           Result r = scim_failure(a, self->base);
           if (!add && a.status == 400 && r.answer.find(" noTarget") != std::string::npos) {
             return self->finish(
                 result(Outcome::done, "not a member of " + group + ": nothing to remove", 400));
           }
           self->finish(std::move(r));
         });
  }

  void grant() {
    find_user([self = shared_from_this()](std::optional<std::string> id) {
      if (id) {
        self->uid = *id;
        return self->grant_to_user();
      }
      if (!self->create_users) {
        return self->finish(result(Outcome::failed, "no SCIM user with userName or email " +
                                                        self->job.email + "; create_users is off"));
      }
      self->create_user([self](std::string created) {
        self->uid = std::move(created);
        self->grant_to_user();
      });
    });
  }

  void with_group(std::function<void()> then) {
    find_group(job.scim_group,
               [self = shared_from_this(), then = std::move(then)](std::optional<std::string> id) {
                 if (!id) {
                   return self->finish(
                       result(Outcome::failed, "no SCIM group \"" + self->job.scim_group + "\""));
                 }
                 self->gid = *id;
                 then();
               });
  }

  void grant_to_user() {
    with_group([self = shared_from_this()] {
      self->check_member([self](std::optional<bool> member) {
        if (member.value_or(false)) {
          return self->finish(
              result(Outcome::done, "already a member of group \"" + self->job.scim_group + "\""));
        }
        self->patch(true);
      });
    });
  }

  void revoke() {
    find_user([self = shared_from_this()](std::optional<std::string> id) {
      // Not found is not proof of absence (the person's email may have changed
      // since the grant): people look.
      if (!id) {
        return self->finish(
            result(Outcome::failed, "no SCIM user with userName or email " + self->job.email +
                                        ": cannot tell whether they are still in group \"" +
                                        self->job.scim_group + "\""));
      }
      self->uid = *id;
      self->with_group([self] {
        self->check_member([self](std::optional<bool> member) {
          if (member && !*member) {
            return self->finish(result(
                Outcome::done,
                "not a member of group \"" + self->job.scim_group + "\": nothing to remove"));
          }
          self->patch(false);
        });
      });
    });
  }
};

std::shared_ptr<ScimCall> make_call(const std::shared_ptr<HttpClient>& http,
                                    const Connector& connector, const std::string& token,
                                    std::function<void(Result)> done) {
  auto c = std::make_shared<ScimCall>();
  c->http = http;
  c->base = connector.url;
  while (!c->base.empty() && c->base.back() == '/') c->base.pop_back();
  c->timeout = connector.timeout;
  c->create_users = connector.create_users;
  c->token = token;
  c->done = std::move(done);
  return c;
}

// The groups of `check`, one after the other, from index i; `detail` collects the clauses.
struct Check {
  std::shared_ptr<ScimCall> call;
  std::vector<std::string> groups;
  bool ok = true;
  std::string detail;
  std::function<void(bool, std::string)> done;

  void add(const std::string& clause) { detail += (detail.empty() ? "" : "; ") + clause; }
  // Once; drops the call, which holds this check through its completion.
  void end() {
    auto d = std::move(done);
    done = nullptr;
    call.reset();
    if (d) d(ok, detail);
  }
};

void check_groups(const std::shared_ptr<Check>& check, std::size_t i) {
  if (i == check->groups.size()) return check->end();
  const std::string& name = check->groups[i];
  check->call->find_group(name, [check, i, name](std::optional<std::string> id) {
    if (id) {
      check->add("group \"" + name + "\" found (id " + snippet(*id, 40) + ")");
    } else {
      check->ok = false;
      check->add("no SCIM group \"" + name + "\"");
    }
    check_groups(check, i + 1);
  });
}

}  // namespace

void run_scim(const std::shared_ptr<HttpClient>& http, const Connector& connector,
              const std::string& token, const Job& job, std::function<void(Result)> done) {
  auto c = make_call(http, connector, token, std::move(done));
  c->job = job;
  http->post([c] {
    if (c->job.email.empty())
      return c->finish(result(Outcome::failed, "the person has no email to find in SCIM"));
    if (c->job.scim_group.empty())
      return c->finish(result(Outcome::failed, "the resource has no scim_group"));
    c->job.op == Op::grant ? c->grant() : c->revoke();
  });
}

void check_scim(const std::shared_ptr<HttpClient>& http, const Connector& connector,
                const std::string& token, std::vector<std::string> groups,
                std::function<void(bool ok, std::string detail)> done) {
  auto check = std::make_shared<Check>();
  check->groups = std::move(groups);
  check->done = std::move(done);
  // A request refused on the way (token, network) ends the check with what it said.
  check->call = make_call(http, connector, token, [check](Result r) {
    check->ok = false;
    check->add(r.answer);
    check->end();
  });
  check->call->call("GET", "/Users?startIndex=1&count=1", "", [check](HttpResponse a) {
    if (a.status == 401 || a.status == 403) {
      return check->call->finish(result(
          Outcome::failed, "token refused (" + scim_failure(a, check->call->base).answer + ")"));
    }
    if (!ScimCall::ok(a)) return check->call->finish(scim_failure(a, check->call->base));
    check->add("token accepted");
    check_groups(check, 0);
  });
}

}  // namespace tollgate::connect
