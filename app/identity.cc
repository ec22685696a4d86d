#include "app/identity.h"

#include <spdlog/spdlog.h>

#include "base/json.h"
#include "slack/web_client.h"

namespace tollgate {
namespace {

bool flag(const json::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

// Empty when the Slack user `user` (a users.info or users.lookupByEmail
// "user" object) may be mapped to a person by email: a member of our team
// (or of our enterprise, when we have one), not deactivated, not a guest
// unless guests are allowed. Otherwise why not. Whatever the object lacks
// counts against it: a user without a team is nobody's.
std::string refusal(const json::Value& user, const std::string& team, const std::string& enterprise,
                    bool allow_guests) {
  if (team.empty()) return "our workspace is not known yet (auth.test has not answered)";
  std::string their_team = json::str(user, "team_id");
  std::string their_enterprise;
  if (const json::Value* eu = json::object(user, "enterprise_user"))
    their_enterprise = json::str(*eu, "enterprise_id");
  bool ours = their_team == team || (!enterprise.empty() && their_enterprise == enterprise);
  if (!ours) {
    return "a user of another workspace (" + (their_team.empty() ? "none given" : their_team) + ")";
  }
  if (flag(user, "deleted")) return "a deactivated account";
  if (!allow_guests && (flag(user, "is_restricted") || flag(user, "is_ultra_restricted")))
    return "a guest account (the directory does not allow guests: \"allow_guests\")";
  return {};
}

// What Slack's answers about users are judged against: the directory and our workspace (team,
// and enterprise on Enterprise Grid), as they stood together at one moment.
struct Snapshot {
  std::shared_ptr<const Directory> dir;
  std::string team;
  std::string enterprise;
};

// A copy of Identity's members, taken under `mu` (which guards them).
Snapshot snapshot(std::mutex& mu, const std::shared_ptr<const Directory>& dir,
                  const std::string& team, const std::string& enterprise) {
  std::lock_guard lock(mu);
  return {dir, team, enterprise};
}

void read_zone(const json::Value& user, IdentityEntry& e) {
  e.tz = json::str(user, "tz");
  auto it = user.FindMember("tz_offset");
  if (it != user.MemberEnd() && it->value.IsInt()) e.tz_offset = it->value.GetInt();
}

}  // namespace

Identity::Identity(std::shared_ptr<const Directory> directory, Store& store,
                   slack::WebClient* client, const Clock& clock)
    : directory_(std::move(directory)), store_(store), client_(client), clock_(clock) {}

void Identity::set_directory(std::shared_ptr<const Directory> directory) {
  std::lock_guard lock(mu_);
  directory_ = std::move(directory);
  lookup_after_.clear();  // emails may have changed: ask again
}

void Identity::set_workspace(std::string team_id, std::string enterprise_id) {
  std::lock_guard lock(mu_);
  team_id_ = std::move(team_id);
  enterprise_id_ = std::move(enterprise_id);
}

Identity::Team Identity::team_of(const std::string& team_id,
                                 const std::string& enterprise_id) const {
  std::lock_guard lock(mu_);
  if (team_id_.empty()) return Team::unknown;
  if (!team_id.empty() && team_id == team_id_) {
    // Our team id under another enterprise is not ours either.
    bool other_enterprise =
        !enterprise_id_.empty() && !enterprise_id.empty() && enterprise_id != enterprise_id_;
    return other_enterprise ? Team::foreign : Team::ours;
  }
  if (!enterprise_id_.empty() && enterprise_id == enterprise_id_) return Team::ours;
  return Team::foreign;
}

std::string Identity::conflict(const Directory& dir, const std::string& slack_user_id,
                               const PersonId& person, bool ask_store) {
  const Person* p = dir.person(person);
  if (p == nullptr) return "not in the directory";
  if (!p->slack_user_id.empty() && p->slack_user_id != slack_user_id)
    return "the directory gives them " + p->slack_user_id;
  if (dir.person_by_slack_id(slack_user_id) != nullptr) return "configured for someone else";
  {
    std::lock_guard lock(mu_);
    if (auto it = slack_by_person_.find(person);
        it != slack_by_person_.end() && it->second != slack_user_id)
      return "already known as " + it->second;
    if (auto it = person_by_slack_.find(slack_user_id);
        it != person_by_slack_.end() && !it->second.empty() && it->second != person)
      return "already known as " + it->second;
  }
  if (!ask_store) return {};
  auto cached = store_.identity_of(person);
  if (!cached.ok()) return "the identity cache does not answer";
  if (cached->has_value() && (*cached)->slack_user_id != slack_user_id)
    return "already known as " + (*cached)->slack_user_id;
  return {};
}

std::optional<PersonId> Identity::person_for(const std::string& slack_user_id) {
  if (slack_user_id.empty()) return std::nullopt;
  std::shared_ptr<const Directory> dir;
  {
    std::lock_guard lock(mu_);
    dir = directory_;
  }
  // The configuration first: nothing learnt overrides it.
  if (const Person* p = dir->person_by_slack_id(slack_user_id)) return p->id;
  PersonId learnt;
  {
    std::lock_guard lock(mu_);
    if (auto it = person_by_slack_.find(slack_user_id); it != person_by_slack_.end()) {
      if (it->second.empty()) return std::nullopt;
      learnt = it->second;
    }
  }
  bool from_cache = learnt.empty();
  if (from_cache) {
    auto cached = store_.identity(slack_user_id);
    if (!cached.ok() || !cached->has_value() || (*cached)->person.empty()) return std::nullopt;
    learnt = (*cached)->person;
  }
  // Checked again on every answer, against the directory as it is now; what
  // comes from the store's cache against the store too (another instance may
  // have learnt another id for them).
  if (std::string why = conflict(*dir, slack_user_id, learnt, from_cache); !why.empty())
    return std::nullopt;
  if (from_cache) {
    std::lock_guard lock(mu_);
    person_by_slack_[slack_user_id] = learnt;
    slack_by_person_[learnt] = slack_user_id;
  }
  return learnt;
}

std::optional<std::string> Identity::slack_id_for(const PersonId& person) {
  std::lock_guard lock(mu_);
  if (const Person* p = directory_->person(person); p != nullptr && !p->slack_user_id.empty()) {
    return p->slack_user_id;
  }
  if (auto it = slack_by_person_.find(person); it != slack_by_person_.end()) return it->second;
  return std::nullopt;
}

// Caches what Slack said of a user. `e.person` is the person it is mapped to,
// already checked (refusal()), or empty; the mapping is dropped here when it
// would give a person a second Slack id or a Slack id a second person.
void Identity::remember(IdentityEntry e) {
  e.fetched_at = clock_.now();
  std::shared_ptr<const Directory> dir;
  {
    std::lock_guard lock(mu_);
    dir = directory_;
  }
  bool configured = dir->person_by_slack_id(e.slack_user_id) != nullptr;
  if (!e.person.empty() && !configured) {
    if (std::string why = conflict(*dir, e.slack_user_id, e.person, true); !why.empty()) {
      spdlog::warn("identity: Slack user {} is not mapped to {}: {}", e.slack_user_id, e.person,
                   why);
      e.person.clear();
    }
  }
  {
    std::lock_guard lock(mu_);
    person_by_slack_[e.slack_user_id] = e.person;
    if (!e.person.empty()) slack_by_person_[e.person] = e.slack_user_id;
    if (!e.person.empty() && e.tz_offset) {
      zones_[e.person] = {e.tz.empty() ? "UTC" : e.tz, std::chrono::seconds(*e.tz_offset)};
    }
  }
  store_.cache_identity(std::move(e), [](Status) {});
}

std::optional<Identity::Zone> Identity::zone_of(const PersonId& person, bool* pending) {
  *pending = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = zones_.find(person); it != zones_.end()) return it->second;
  }
  auto cached = store_.identity_of(person);
  if (cached.ok() && cached->has_value() && (*cached)->tz_offset) {
    Zone z{(*cached)->tz.empty() ? "UTC" : (*cached)->tz,
           std::chrono::seconds(*(*cached)->tz_offset)};
    std::lock_guard lock(mu_);
    zones_[person] = z;
    return z;
  }
  auto slack_id = slack_id_for(person);
  if (client_ != nullptr && slack_id) {
    bool answered = false;
    {
      std::lock_guard lock(mu_);
      answered = answered_.count(*slack_id) != 0;
    }
    // Not asked yet, or asked and not answered yet: wait for Slack. Answered
    // without a zone (or with an error): assume UTC.
    if (!answered) {
      learn_user(*slack_id);
      *pending = true;
      return std::nullopt;
    }
  }
  return Zone{"UTC", std::chrono::seconds(0)};
}

void Identity::learn_user(const std::string& slack_user_id) {
  if (client_ == nullptr || slack_user_id.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (!asked_.insert(slack_user_id).second) return;
  }
  client_->get("users.info", {{"user", slack_user_id}}, [this, slack_user_id](slack::ApiResult r) {
    if (r.ok()) learned_user(slack_user_id, r.body);
    // Marked after what was learnt is remembered: zone_of() reads this.
    std::lock_guard lock(mu_);
    answered_.insert(slack_user_id);
  });
}

void Identity::learned_user(const std::string& slack_user_id, const std::string& body) {
  rapidjson::Document doc;
  if (!json::parse(doc, body).ok()) return;
  const json::Value* user = json::object(doc, "user");
  if (user == nullptr) return;
  const json::Value* profile = json::object(*user, "profile");
  std::string email = profile != nullptr ? json::str(*profile, "email") : "";
  auto [dir, team, enterprise] = snapshot(mu_, directory_, team_id_, enterprise_id_);
  IdentityEntry e{slack_user_id, {}, email, {}};
  read_zone(*user, e);
  if (const Person* p = dir->person_by_slack_id(slack_user_id)) {
    e.person = p->id;  // configured: trusted as it is
  } else if (const Person* by_email = email.empty() ? nullptr : dir->person_by_email(email)) {
    std::string why = refusal(*user, team, enterprise, dir->allow_guests);
    if (team.empty()) {
      // Not known yet which workspace is ours: ask again next time.
      std::lock_guard lock(mu_);
      asked_.erase(slack_user_id);
      return;
    }
    if (!why.empty()) {
      spdlog::warn("identity: Slack user {} is not mapped to {} by email: {}", slack_user_id,
                   by_email->id, why);
    } else {
      e.person = by_email->id;
    }
  }
  remember(std::move(e));
}

void Identity::learned_email(const PersonId& person, const std::string& email,
                             const std::string& body) {
  rapidjson::Document doc;
  if (!json::parse(doc, body).ok()) return;
  const json::Value* user = json::object(doc, "user");
  std::string slack_id = user != nullptr ? json::str(*user, "id") : "";
  if (slack_id.empty()) return;
  auto [dir, team, enterprise] = snapshot(mu_, directory_, team_id_, enterprise_id_);
  if (std::string why = refusal(*user, team, enterprise, dir->allow_guests); !why.empty()) {
    spdlog::warn("identity: {}'s email belongs to Slack user {}, not mapped: {}", person, slack_id,
                 why);
    return;
  }
  IdentityEntry e{slack_id, person, email, {}};
  read_zone(*user, e);
  remember(std::move(e));
}

void Identity::learn_people() {
  if (client_ == nullptr) return;
  std::shared_ptr<const Directory> dir;
  {
    std::lock_guard lock(mu_);
    if (team_id_.empty()) return;  // set_workspace() first: answers could not be checked
    dir = directory_;
  }
  const Time now = clock_.now();
  for (const Person& p : dir->people) {
    if (!p.slack_user_id.empty() || p.email.empty()) continue;
    {
      std::lock_guard lock(mu_);
      if (slack_by_person_.count(p.id) != 0) continue;
      auto [it, first] = lookup_after_.try_emplace(p.id, Time{});
      if (!first && now < it->second) continue;  // under way, or refused not long ago
      it->second = now + kLookupAgainAfter;
    }
    client_->get("users.lookupByEmail", {{"email", p.email}},
                 [this, id = p.id, email = p.email](slack::ApiResult r) {
                   if (r.ok()) {
                     learned_email(id, email, r.body);
                     return;
                   }
                   // Slack answered (users_not_found, ...): asked again after
                   // kLookupAgainAfter. No answer (network, 5xx, 429): sooner.
                   if (r.http_status == 200 && !r.error.empty()) return;
                   std::lock_guard lock(mu_);
                   lookup_after_[id] = clock_.now() + kLookupRetryAfter;
                 });
  }
}

}  // namespace tollgate
