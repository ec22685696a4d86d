#include "bot/identity.h"

#include "bot/json.h"
#include "bot/slack/web_client.h"

namespace tollgate {

Identity::Identity(std::shared_ptr<const Directory> directory, Store& store,
                   slack::WebClient* client, const Clock& clock)
    : directory_(std::move(directory)), store_(store), client_(client), clock_(clock) {}

void Identity::set_directory(std::shared_ptr<const Directory> directory) {
  std::lock_guard lock(mu_);
  directory_ = std::move(directory);
}

std::optional<PersonId> Identity::person_for(const std::string& slack_user_id) {
  if (slack_user_id.empty()) return std::nullopt;
  std::shared_ptr<const Directory> dir;
  {
    std::lock_guard lock(mu_);
    dir = directory_;
    if (auto it = person_by_slack_.find(slack_user_id); it != person_by_slack_.end()) {
      return it->second.empty() ? std::nullopt : std::optional<PersonId>(it->second);
    }
  }
  if (const Person* p = dir->person_by_slack_id(slack_user_id)) return p->id;
  auto cached = store_.identity(slack_user_id);
  if (cached.ok() && cached->has_value() && !(*cached)->person.empty() &&
      dir->person((*cached)->person) != nullptr) {
    std::lock_guard lock(mu_);
    person_by_slack_[slack_user_id] = (*cached)->person;
    slack_by_person_[(*cached)->person] = slack_user_id;
    return (*cached)->person;
  }
  return std::nullopt;
}

std::optional<std::string> Identity::slack_id_for(const PersonId& person) {
  std::lock_guard lock(mu_);
  if (const Person* p = directory_->person(person); p != nullptr && !p->slack_user_id.empty()) {
    return p->slack_user_id;
  }
  if (auto it = slack_by_person_.find(person); it != slack_by_person_.end()) return it->second;
  return std::nullopt;
}

void Identity::remember(IdentityEntry e) {
  e.fetched_at = clock_.now();
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
  const json::Value* profile = user != nullptr ? json::object(*user, "profile") : nullptr;
  std::string email = profile != nullptr ? json::str(*profile, "email") : "";
  std::shared_ptr<const Directory> dir;
  {
    std::lock_guard lock(mu_);
    dir = directory_;
  }
  const Person* p = dir->person_by_slack_id(slack_user_id);
  if (p == nullptr && !email.empty()) p = dir->person_by_email(email);
  IdentityEntry e{slack_user_id, p != nullptr ? p->id : PersonId(), email, {}};
  if (user != nullptr) {
    e.tz = json::str(*user, "tz");
    auto it = user->FindMember("tz_offset");
    if (it != user->MemberEnd() && it->value.IsInt()) e.tz_offset = it->value.GetInt();
  }
  remember(std::move(e));
}

void Identity::learn_people() {
  if (client_ == nullptr) return;
  std::shared_ptr<const Directory> dir;
  {
    std::lock_guard lock(mu_);
    dir = directory_;
  }
  for (const Person& p : dir->people) {
    if (!p.slack_user_id.empty() || p.email.empty()) continue;
    {
      std::lock_guard lock(mu_);
      if (slack_by_person_.count(p.id) != 0) continue;
    }
    client_->get("users.lookupByEmail", {{"email", p.email}},
                 [this, id = p.id, email = p.email](slack::ApiResult r) {
                   if (!r.ok()) return;
                   rapidjson::Document doc;
                   if (!json::parse(doc, r.body).ok()) return;
                   const json::Value* user = json::object(doc, "user");
                   std::string slack_id = user != nullptr ? json::str(*user, "id") : "";
                   if (slack_id.empty()) return;
                   IdentityEntry e{slack_id, id, email, {}};
                   e.tz = json::str(*user, "tz");
                   auto it = user->FindMember("tz_offset");
                   if (it != user->MemberEnd() && it->value.IsInt())
                     e.tz_offset = it->value.GetInt();
                   remember(std::move(e));
                 });
  }
}

}  // namespace tollgate
