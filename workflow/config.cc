#include "workflow/config.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "base/time_text.h"

namespace tollgate {
namespace {

using rapidjson::Value;

// A reference from one place of the file to an id defined elsewhere; checked
// once every definition has been read.
struct Ref {
  enum class Kind { person, group, person_or_group, request_policy, revocation_policy };
  Kind kind;
  std::string path;
  std::string id;
};

class Loader {
 public:
  explicit Loader(std::vector<ConfigIssue>& issues) : issues_(issues) {}

  void error(const std::string& path, std::string message) {
    issues_.push_back({ConfigIssue::Severity::error, path, std::move(message)});
  }
  void warning(const std::string& path, std::string message) {
    issues_.push_back({ConfigIssue::Severity::warning, path, std::move(message)});
  }

  // Reads one JSON object, remembering which keys were used so that the rest
  // can be reported as unknown.
  class Object {
   public:
    Object(Loader& l, const Value& v, std::string path) : l_(l), v_(v), path_(std::move(path)) {
      if (!v_.IsObject()) l_.error(path_, "expected an object");
    }
    bool valid() const { return v_.IsObject(); }
    const std::string& path() const { return path_; }
    std::string at(std::string_view key) const { return path_ + "." + std::string(key); }

    const Value* get(std::string_view key) {
      if (!v_.IsObject()) return nullptr;
      used_.insert(std::string(key));
      auto it = v_.FindMember(rapidjson::StringRef(key.data(), key.size()));
      return it == v_.MemberEnd() ? nullptr : &it->value;
    }

    std::string string(std::string_view key, bool required) {
      const Value* v = get(key);
      if (v == nullptr) {
        if (required) l_.error(at(key), "is required");
        return {};
      }
      if (!v->IsString()) {
        l_.error(at(key), "expected a string");
        return {};
      }
      if (required && v->GetStringLength() == 0) l_.error(at(key), "must not be empty");
      return std::string(v->GetString(), v->GetStringLength());
    }

    bool boolean(std::string_view key, bool fallback) {
      const Value* v = get(key);
      if (v == nullptr) return fallback;
      if (!v->IsBool()) {
        l_.error(at(key), "expected true or false");
        return fallback;
      }
      return v->GetBool();
    }

    // The array at `key`, or nullptr (with an error when required or mistyped).
    const Value* array(std::string_view key, bool required) {
      const Value* v = get(key);
      if (v == nullptr) {
        if (required) l_.error(at(key), "is required");
        return nullptr;
      }
      if (!v->IsArray()) {
        l_.error(at(key), "expected an array");
        return nullptr;
      }
      return v;
    }

    std::vector<std::string> strings(std::string_view key, bool required) {
      std::vector<std::string> out;
      const Value* a = array(key, required);
      if (a == nullptr) return out;
      for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
        const Value& e = (*a)[i];
        std::string p = at(key) + "[" + std::to_string(i) + "]";
        if (!e.IsString() || e.GetStringLength() == 0) {
          l_.error(p, "expected a non-empty string");
          continue;
        }
        out.emplace_back(e.GetString(), e.GetStringLength());
      }
      return out;
    }

    // A duration such as "8h", "7d" or "2w" (positive), or nothing when absent.
    std::optional<Duration> duration(std::string_view key) {
      std::string text = string(key, false);
      if (text.empty()) return std::nullopt;
      auto d = parse_duration(text);
      if (!d || d->count() <= 0) {
        l_.error(at(key), "\"" + text + "\" is not a duration such as \"8h\", \"7d\" or \"2w\"");
        return std::nullopt;
      }
      return d;
    }

    // A whole number from min to max, or `fallback` when absent.
    int integer(std::string_view key, int min, int max, int fallback) {
      const Value* v = get(key);
      if (v == nullptr) return fallback;
      if (!v->IsInt() || v->GetInt() < min || v->GetInt() > max) {
        l_.error(at(key), "expected a whole number from " + std::to_string(min) + " to " +
                              std::to_string(max));
        return fallback;
      }
      return v->GetInt();
    }

    std::optional<Time> date(std::string_view key) {
      std::string s = string(key, false);
      if (s.empty()) return std::nullopt;
      auto t = parse_date(s);
      if (!t) l_.error(at(key), "\"" + s + "\" is not a date of the form YYYY-MM-DD");
      return t;
    }

    // Reports every key that no reader asked for.
    void finish() {
      if (!v_.IsObject()) return;
      for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
        std::string key(it->name.GetString(), it->name.GetStringLength());
        if (used_.count(key) == 0) l_.error(at(key), "unknown key \"" + key + "\"");
      }
    }

   private:
    Loader& l_;
    const Value& v_;
    std::string path_;
    std::set<std::string> used_;
  };

  void ref(Ref::Kind kind, std::string path, std::string id) {
    refs_.push_back({kind, std::move(path), std::move(id)});
  }
  void refs(Ref::Kind kind, const std::string& base, const std::vector<std::string>& ids) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ref(kind, base + "[" + std::to_string(i) + "]", ids[i]);
    }
  }

  void load(const Value& root, Directory& d);

 private:
  void load_person(Object& o, Person& p);
  void load_app(Object& o, App& a);
  void load_resource(Object& o, Resource& r);
  Fulfilment load_fulfilment(Object& parent, std::string_view key, std::string_view people_key);
  void load_connector(Object& o, Fulfilment& f);
  void load_policy(Object& o, Policy& p);
  void load_step(Object& o, const Policy& policy, PolicyStep& s);
  void load_sla(Object o, Sla& sla);
  void check_refs(const Directory& d);
  void check_unique(const std::vector<std::pair<std::string, std::string>>& ids_and_paths,
                    std::string_view what);
  void check_manager_cycles(const Directory& d);

  std::vector<ConfigIssue>& issues_;
  std::vector<Ref> refs_;
  std::set<std::string> bad_kind_policies_;
  std::vector<std::string> person_paths_;
  // Group selectors without a fallback: an empty group leaves the step to nobody.
  std::vector<std::pair<std::string, std::string>> empty_group_steps_;  // (path, group id)
};

template <typename F>
void each_object(Loader& l, Loader::Object& parent, std::string_view key, bool required, F&& f) {
  const Value* a = parent.array(key, required);
  if (a == nullptr) return;
  for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
    Loader::Object o(l, (*a)[i], parent.at(key) + "[" + std::to_string(i) + "]");
    if (!o.valid()) continue;
    f(o);
    o.finish();
  }
}

void Loader::load(const Value& root, Directory& d) {
  Object top(*this, root, "$");
  if (!top.valid()) return;
  d.organization = top.string("organization", true);
  d.allow_guests = top.boolean("allow_guests", false);

  each_object(*this, top, "people", true, [&](Object& o) {
    Person p;
    load_person(o, p);
    person_paths_.push_back(o.path());
    d.people.push_back(std::move(p));
  });
  each_object(*this, top, "groups", false, [&](Object& o) {
    Group g;
    g.id = o.string("id", true);
    g.members = o.strings("members", true);
    refs(Ref::Kind::person, o.at("members"), g.members);
    d.groups.push_back(std::move(g));
  });
  d.admins = top.strings("admins", false);
  refs(Ref::Kind::person, top.at("admins"), d.admins);

  each_object(*this, top, "apps", true, [&](Object& o) {
    App a;
    load_app(o, a);
    d.apps.push_back(std::move(a));
  });
  each_object(*this, top, "grants", false, [&](Object& o) {
    Grant g;
    g.person = o.string("person", true);
    g.app = o.string("app", true);
    g.resource = o.string("resource", true);
    g.since = o.date("since");
    g.last_used = o.date("last_used");
    ref(Ref::Kind::person, o.at("person"), g.person);
    d.grants.push_back(std::move(g));
  });
  each_object(*this, top, "policies", true, [&](Object& o) {
    Policy p;
    load_policy(o, p);
    d.policies.push_back(std::move(p));
  });
  top.finish();

  // Uniqueness, then references: both need every definition read.
  std::vector<std::pair<std::string, std::string>> ids;
  std::vector<std::pair<std::string, std::string>> slack_ids;
  std::vector<std::pair<std::string, std::string>> emails;
  for (std::size_t i = 0; i < d.people.size(); ++i) {
    const std::string& base = person_paths_[i];
    ids.emplace_back(d.people[i].id, base + ".id");
    if (!d.people[i].slack_user_id.empty())
      slack_ids.emplace_back(d.people[i].slack_user_id, base + ".slack_user_id");
    if (!d.people[i].email.empty()) {
      std::string e = d.people[i].email;
      std::transform(e.begin(), e.end(), e.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      emails.emplace_back(e, base + ".email");
    }
  }
  for (std::size_t i = 0; i < d.groups.size(); ++i) {
    ids.emplace_back(d.groups[i].id, "$.groups[" + std::to_string(i) + "].id");
  }
  check_unique(ids, "person or group id");
  check_unique(slack_ids, "slack_user_id");
  check_unique(emails, "email");

  std::vector<std::pair<std::string, std::string>> app_ids;
  for (std::size_t i = 0; i < d.apps.size(); ++i) {
    std::string base = "$.apps[" + std::to_string(i) + "]";
    app_ids.emplace_back(d.apps[i].id, base + ".id");
    std::vector<std::pair<std::string, std::string>> res_ids;
    for (std::size_t j = 0; j < d.apps[i].resources.size(); ++j) {
      res_ids.emplace_back(d.apps[i].resources[j].id,
                           base + ".resources[" + std::to_string(j) + "].id");
    }
    check_unique(res_ids, "resource id in app \"" + d.apps[i].id + "\"");
  }
  check_unique(app_ids, "app id");
  std::vector<std::pair<std::string, std::string>> policy_ids;
  for (std::size_t i = 0; i < d.policies.size(); ++i) {
    policy_ids.emplace_back(d.policies[i].id, "$.policies[" + std::to_string(i) + "].id");
  }
  check_unique(policy_ids, "policy id");

  d.index();
  check_refs(d);
  for (std::size_t i = 0; i < d.grants.size(); ++i) {
    const Grant& g = d.grants[i];
    std::string base = "$.grants[" + std::to_string(i) + "]";
    if (d.app(g.app) == nullptr) {
      error(base + ".app", "unknown app \"" + g.app + "\"");
    } else if (d.resource(g.app, g.resource) == nullptr) {
      error(base + ".resource", "app \"" + g.app + "\" has no resource \"" + g.resource + "\"");
    }
  }
  for (const auto& [path, group_id] : empty_group_steps_) {
    const Group* g = d.group(group_id);
    if (g != nullptr && g->members.empty()) {
      error(path, "group \"" + group_id + "\" has no members and the step has no fallback");
    }
  }
  check_manager_cycles(d);
}

void Loader::load_person(Object& o, Person& p) {
  p.id = o.string("id", true);
  if (p.id == kSystemActor) error(o.at("id"), "\"tollgate\" is reserved for Tollgate itself");
  p.name = o.string("name", true);
  p.email = o.string("email", false);
  if (!p.email.empty() && p.email.find('@') == std::string::npos) {
    error(o.at("email"), "\"" + p.email + "\" is not an email address");
  }
  p.slack_user_id = o.string("slack_user_id", false);
  p.manager = o.string("manager", false);
  if (!p.manager.empty()) ref(Ref::Kind::person, o.at("manager"), p.manager);
  p.department = o.string("department", false);
  p.title = o.string("title", false);
  p.started = o.date("started");
  if (o.get("notify") != nullptr) {
    std::vector<std::string> channels = o.strings("notify", false);
    p.notify_slack = false;
    for (std::size_t i = 0; i < channels.size(); ++i) {
      if (channels[i] == "slack") {
        p.notify_slack = true;
      } else if (channels[i] == "email") {
        p.notify_email = true;
      } else {
        error(o.at("notify") + "[" + std::to_string(i) + "]",
              "unknown channel \"" + channels[i] + "\" (slack, email)");
      }
    }
    if (p.notify_email && p.email.empty()) {
      error(o.at("notify"), "email notifications need the person's \"email\"");
    }
  }
}

Fulfilment Loader::load_fulfilment(Object& parent, std::string_view key,
                                   std::string_view people_key) {
  Fulfilment f;
  const Value* v = parent.get(key);
  if (v == nullptr) return f;
  Object o(*this, *v, parent.at(key));
  if (!o.valid()) return f;
  std::string mode = o.string("mode", true);
  if (auto m = parse_provisioning_mode(mode)) {
    f.mode = *m;
  } else if (!mode.empty()) {
    error(o.at("mode"),
          "expected \"manual\", \"automatic\", \"webhook\" or \"scim\", got \"" + mode + "\"");
  }
  f.assignees = o.strings(people_key, false);
  refs(Ref::Kind::person_or_group, o.at(people_key), f.assignees);
  if (f.mode == ProvisioningMode::manual && f.assignees.empty()) {
    error(o.at(people_key), "manual mode needs at least one person to do the work");
  } else if (is_connector(f.mode) && f.assignees.empty()) {
    error(o.at(people_key), std::string(provisioning_mode_name(f.mode)) +
                                " mode needs at least one person to take over when it fails");
  }
  f.instructions = o.string("instructions", false);
  f.allow_reassign = o.boolean("allow_reassign", true);
  load_connector(o, f);
  o.finish();
  return f;
}

// The connector's fields; each only in the mode that uses it.
void Loader::load_connector(Object& o, Fulfilment& f) {
  Connector& c = f.connector;
  bool webhook = f.mode == ProvisioningMode::webhook, scim = f.mode == ProvisioningMode::scim;
  auto only = [&](std::string_view key, bool allowed, const char* modes) {
    if (!allowed && o.get(key) != nullptr)
      error(o.at(key), "only for " + std::string(modes) + " mode");
  };
  only("url", webhook || scim, "webhook and scim");
  only("name", webhook || scim, "webhook and scim");
  only("max_attempts", webhook || scim, "webhook and scim");
  only("backoff", webhook || scim, "webhook and scim");
  only("timeout", webhook || scim, "webhook and scim");
  only("confirm_within", webhook, "webhook");
  only("secret_env", webhook, "webhook");
  only("token_env", scim, "scim");
  only("create_users", scim, "scim");
  if (!webhook && !scim) return;
  c.url = o.string("url", true);
  if (!c.url.empty()) {
    if (std::string why = connector_url_problem(c.url); !why.empty()) error(o.at("url"), why);
  }
  c.name = o.string("name", false);
  c.max_attempts = o.integer("max_attempts", 1, 100, c.max_attempts);
  if (auto b = o.duration("backoff")) c.backoff = *b;
  if (auto t = o.duration("timeout")) c.timeout = *t;
  if (auto w = o.duration("confirm_within")) c.confirm_within = *w;
  const char* env_key = webhook ? "secret_env" : "token_env";
  std::string& env = webhook ? c.secret_env : c.token_env;
  env = o.string(env_key, true);
  if (!env.empty() && !is_env_name(env)) {
    error(o.at(env_key), "\"" + env +
                             "\" is not an environment variable name (letters, digits and _; "
                             "the secret itself never goes in the file)");
  }
  c.create_users = o.boolean("create_users", false);
}

void Loader::load_app(Object& o, App& a) {
  a.id = o.string("id", true);
  a.name = o.string("name", true);
  a.owners = o.strings("owners", false);
  refs(Ref::Kind::person, o.at("owners"), a.owners);
  a.provisioning = load_fulfilment(o, "provisioning", "provisioners");
  a.deprovisioning = load_fulfilment(o, "deprovisioning", "deprovisioners");
  // App-level policies are defaults for resources that name none.
  std::string request_policy = o.string("request_policy", false);
  std::string emergency_policy = o.string("emergency_policy", false);
  std::string revocation_policy = o.string("revocation_policy", false);
  if (!request_policy.empty())
    ref(Ref::Kind::request_policy, o.at("request_policy"), request_policy);
  if (!emergency_policy.empty())
    ref(Ref::Kind::request_policy, o.at("emergency_policy"), emergency_policy);
  if (!revocation_policy.empty())
    ref(Ref::Kind::revocation_policy, o.at("revocation_policy"), revocation_policy);
  each_object(*this, o, "resources", true, [&](Object& ro) {
    Resource r;
    load_resource(ro, r);
    if (r.request_policy.empty()) r.request_policy = request_policy;
    if (r.emergency_policy.empty()) r.emergency_policy = emergency_policy;
    if (r.revocation_policy.empty()) r.revocation_policy = revocation_policy;
    if (r.request_policy.empty()) {
      error(ro.at("request_policy"), "no request policy here nor on the app");
    }
    if (r.revocation_policy.empty()) {
      error(ro.at("revocation_policy"), "no revocation policy here nor on the app");
    }
    bool scim = a.provisioning.mode == ProvisioningMode::scim ||
                a.deprovisioning.mode == ProvisioningMode::scim;
    if (scim && r.scim_group.empty()) {
      error(ro.at("scim_group"), "the app is provisioned by SCIM: name the group (its displayName)");
    } else if (!scim && !r.scim_group.empty()) {
      error(ro.at("scim_group"), "only for an app provisioned or deprovisioned by SCIM");
    }
    a.resources.push_back(std::move(r));
  });
  if (const Value* rs = o.get("resources"); rs != nullptr && rs->IsArray() && rs->Empty()) {
    error(o.at("resources"), "an app needs at least one resource");
  }
}

void Loader::load_resource(Object& o, Resource& r) {
  r.id = o.string("id", true);
  r.name = o.string("name", false);
  if (r.name.empty()) r.name = r.id;
  r.owners = o.strings("owners", false);
  refs(Ref::Kind::person, o.at("owners"), r.owners);
  r.sensitive = o.boolean("sensitive", false);
  r.request_policy = o.string("request_policy", false);
  r.emergency_policy = o.string("emergency_policy", false);
  r.revocation_policy = o.string("revocation_policy", false);
  if (!r.request_policy.empty())
    ref(Ref::Kind::request_policy, o.at("request_policy"), r.request_policy);
  if (!r.emergency_policy.empty())
    ref(Ref::Kind::request_policy, o.at("emergency_policy"), r.emergency_policy);
  if (!r.revocation_policy.empty())
    ref(Ref::Kind::revocation_policy, o.at("revocation_policy"), r.revocation_policy);
  r.max_duration = o.duration("max_duration");
  if (auto before = o.duration("notify_before")) r.notify_before = *before;
  r.scim_group = o.string("scim_group", false);
}

void Loader::load_policy(Object& o, Policy& p) {
  p.id = o.string("id", true);
  p.name = o.string("name", false);
  if (p.name.empty()) p.name = p.id;
  std::string kind = o.string("kind", true);
  if (kind == "request") {
    p.kind = PolicyKind::request;
  } else if (kind == "revocation") {
    p.kind = PolicyKind::revocation;
  } else if (!kind.empty()) {
    error(o.at("kind"), "expected \"request\" or \"revocation\", got \"" + kind + "\"");
    bad_kind_policies_.insert(p.id);  // reported once here, not again at each use
  }
  const Value* steps = o.array("steps", true);
  if (steps != nullptr && steps->Empty()) error(o.at("steps"), "a policy needs at least one step");
  each_object(*this, o, "steps", false, [&](Object& so) {
    PolicyStep s;
    load_step(so, p, s);
    p.steps.push_back(std::move(s));
  });
}

void Loader::load_step(Object& o, const Policy& policy, PolicyStep& s) {
  s.name = o.string("name", false);
  s.fallback = o.strings("fallback", false);
  refs(Ref::Kind::person, o.at("fallback"), s.fallback);
  if (const Value* rv = o.get("reviewers"); rv == nullptr) {
    error(o.at("reviewers"), "is required");
  } else {
    Object r(*this, *rv, o.at("reviewers"));
    if (r.valid()) {
      std::string type = r.string("type", true);
      if (auto t = parse_reviewer_type(type)) {
        s.reviewers.type = *t;
      } else if (!type.empty()) {
        error(r.at("type"), "unknown reviewer type \"" + type +
                                "\" (manager, app_owners, resource_owners, users, group)");
      }
      if (s.reviewers.type == ReviewerType::users) {
        s.reviewers.users = r.strings("users", true);
        refs(Ref::Kind::person, r.at("users"), s.reviewers.users);
        if (s.reviewers.users.empty() && s.fallback.empty()) {
          error(r.at("users"), "the step has no reviewers and no fallback");
        }
      } else if (s.reviewers.type == ReviewerType::group) {
        s.reviewers.group = r.string("group", true);
        if (!s.reviewers.group.empty()) {
          ref(Ref::Kind::group, r.at("group"), s.reviewers.group);
          if (s.fallback.empty()) empty_group_steps_.emplace_back(r.at("group"), s.reviewers.group);
        }
      } else if (s.reviewers.type == ReviewerType::manager && s.fallback.empty()) {
        warning(o.path(),
                "reviewers of type manager may resolve to nobody and the step has no "
                "fallback: such tasks go to the admins");
      }
      r.finish();
    }
  }
  std::vector<std::string> reasons = o.strings("require_reason", false);
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    auto a = parse_action(reasons[i]);
    bool fits =
        a && (*a == Action::deny || *a == Action::reassign ||
              (policy.kind == PolicyKind::request ? *a == Action::approve : *a == Action::confirm));
    if (!fits) {
      error(o.at("require_reason") + "[" + std::to_string(i) + "]",
            "\"" + reasons[i] + "\" is not an action of a " +
                (policy.kind == PolicyKind::request ? "request (approve, deny)"
                                                    : "revocation (confirm, deny)") +
                " step");
    } else {
      s.require_reason.insert(*a);
    }
  }
  s.allow_reassign = o.boolean("allow_reassign", false);
  s.reassign_to = o.strings("reassign_to", false);
  refs(Ref::Kind::person_or_group, o.at("reassign_to"), s.reassign_to);
  if (!s.reassign_to.empty() && !s.allow_reassign) {
    error(o.at("reassign_to"), "set, but the step does not allow reassignment");
  }
  s.allow_self_review = o.boolean("allow_self_review", false);
  s.allow_same_reviewer = o.boolean("allow_same_reviewer", false);
  s.allow_delegation = o.boolean("allow_delegation", true);
  if (const Value* v = o.get("sla")) load_sla(Object(*this, *v, o.at("sla")), s.sla);
}

void Loader::load_sla(Object o, Sla& sla) {
  sla.remind_after = o.duration("remind_after");
  sla.escalate_after = o.duration("escalate_after");
  sla.expire_after = o.duration("expire_after");
  sla.remind_on_weekends = o.boolean("remind_on_weekends", false);
  if (const Value* to = o.get("escalate_to")) {
    if (to->IsString()) {
      std::string kind(to->GetString(), to->GetStringLength());
      if (kind == "manager") {
        sla.escalate_to = EscalateTo::manager;
      } else if (kind == "fallback") {
        sla.escalate_to = EscalateTo::fallback;
      } else {
        error(o.at("escalate_to"),
              "\"" + kind + "\" is not \"manager\", \"fallback\" or a list of people");
      }
    } else if (to->IsArray()) {
      sla.escalate_to = EscalateTo::people;
      sla.escalate_people = o.strings("escalate_to", true);
      refs(Ref::Kind::person_or_group, o.at("escalate_to"), sla.escalate_people);
      if (sla.escalate_people.empty()) error(o.at("escalate_to"), "names nobody");
    } else {
      error(o.at("escalate_to"), "expected \"manager\", \"fallback\" or a list of people");
    }
    if (!sla.escalate_after) error(o.at("escalate_to"), "set, but \"escalate_after\" is not");
  }
  auto order = [&](const std::optional<Duration>& early, std::string_view early_key,
                   const std::optional<Duration>& late, std::string_view late_key) {
    if (early && late && *early >= *late) {
      error(o.at(early_key), "must be shorter than \"" + std::string(late_key) + "\"");
    }
  };
  order(sla.remind_after, "remind_after", sla.expire_after, "expire_after");
  order(sla.escalate_after, "escalate_after", sla.expire_after, "expire_after");
  o.finish();
}

void Loader::check_unique(const std::vector<std::pair<std::string, std::string>>& ids,
                          std::string_view what) {
  std::map<std::string, std::string> first;
  for (const auto& [id, path] : ids) {
    if (id.empty()) continue;
    auto [it, inserted] = first.emplace(id, path);
    if (!inserted) {
      error(path,
            "duplicate " + std::string(what) + " \"" + id + "\" (first at " + it->second + ")");
    }
  }
}

void Loader::check_refs(const Directory& d) {
  for (const Ref& r : refs_) {
    switch (r.kind) {
      case Ref::Kind::person:
        if (d.person(r.id) == nullptr) error(r.path, "unknown person \"" + r.id + "\"");
        break;
      case Ref::Kind::group:
        if (d.group(r.id) == nullptr) error(r.path, "unknown group \"" + r.id + "\"");
        break;
      case Ref::Kind::person_or_group:
        if (d.person(r.id) == nullptr && d.group(r.id) == nullptr)
          error(r.path, "unknown person or group \"" + r.id + "\"");
        break;
      case Ref::Kind::request_policy:
      case Ref::Kind::revocation_policy: {
        const Policy* p = d.policy(r.id);
        PolicyKind want =
            r.kind == Ref::Kind::request_policy ? PolicyKind::request : PolicyKind::revocation;
        if (p == nullptr) {
          error(r.path, "unknown policy \"" + r.id + "\"");
        } else if (p->kind != want && bad_kind_policies_.count(r.id) == 0) {
          error(r.path, "policy \"" + r.id + "\" is a " +
                            (p->kind == PolicyKind::request ? "request" : "revocation") +
                            " policy; a " +
                            (want == PolicyKind::request ? "request" : "revocation") +
                            " policy is needed here");
        }
        break;
      }
    }
  }
}

void Loader::check_manager_cycles(const Directory& d) {
  std::set<PersonId> reported;
  for (std::size_t i = 0; i < d.people.size(); ++i) {
    const Person& start = d.people[i];
    if (reported.count(start.id) != 0) continue;
    std::vector<PersonId> chain{start.id};
    const Person* p = &start;
    while (p != nullptr && !p->manager.empty()) {
      auto seen = std::find(chain.begin(), chain.end(), p->manager);
      if (seen != chain.end()) {
        if (seen == chain.begin()) {  // report the cycle once, from its first member
          std::string text;
          for (const PersonId& id : chain) text += id + " → ";
          text += start.id;
          for (const PersonId& id : chain) reported.insert(id);
          error(person_paths_[i] + ".manager", "cycle of managers: " + text);
        }
        break;
      }
      chain.push_back(p->manager);
      p = d.person(p->manager);
    }
  }
}

// "line 4, column 12" for a byte offset into the text.
std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

bool LoadedConfig::ok() const {
  return directory != nullptr && error_count() == 0;
}

std::size_t LoadedConfig::error_count() const {
  return static_cast<std::size_t>(std::count_if(
      issues.begin(), issues.end(),
      [](const ConfigIssue& i) { return i.severity == ConfigIssue::Severity::error; }));
}

LoadedConfig load_config_text(std::string_view text) {
  LoadedConfig out;
  rapidjson::Document doc;
  constexpr unsigned kFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
                              rapidjson::kParseValidateEncodingFlag;
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    out.issues.push_back({ConfigIssue::Severity::error, "$",
                          std::string("not valid JSON at ") + position(text, doc.GetErrorOffset()) +
                              ": " + rapidjson::GetParseError_En(doc.GetParseError())});
    return out;
  }
  auto d = std::make_shared<Directory>();
  Loader loader(out.issues);
  loader.load(doc, *d);
  d->index();
  out.directory = std::move(d);
  return out;
}

LoadedConfig load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedConfig out;
    out.issues.push_back({ConfigIssue::Severity::error, "$", "cannot read " + path});
    return out;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str());
}

std::string format_issue(const ConfigIssue& issue) {
  return std::string(issue.severity == ConfigIssue::Severity::error ? "error: " : "warning: ") +
         issue.path + ": " + issue.message;
}

}  // namespace tollgate
