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

void Identity::remember(const std::string& slack_user_id, const PersonId& person,
                        const std::string& email) {
  {
    std::lock_guard lock(mu_);
    person_by_slack_[slack_user_id] = person;
    if (!person.empty()) slack_by_person_[person] = slack_user_id;
  }
  store_.cache_identity({slack_user_id, person, email, clock_.now()}, [](Status) {});
}

void Identity::learn_user(const std::string& slack_user_id) {
  if (client_ == nullptr || slack_user_id.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (!asked_.insert(slack_user_id).second) return;
  }
  client_->get("users.info", {{"user", slack_user_id}}, [this, slack_user_id](slack::ApiResult r) {
    if (!r.ok()) return;
    rapidjson::Document doc;
    if (!json::parse(doc, r.body).ok()) return;
    const json::Value* user = json::object(doc, "user");
    const json::Value* profile = user != nullptr ? json::object(*user, "profile") : nullptr;
    std::string email = profile != nullptr ? json::str(*profile, "email") : "";
    std::shared_ptr<const Directory> dir;
    {
      std::lock_guard lock(mu_);
      dir = directory_;
    }
    const Person* p = email.empty() ? nullptr : dir->person_by_email(email);
    remember(slack_user_id, p != nullptr ? p->id : PersonId(), email);
  });
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
                   if (!slack_id.empty()) remember(slack_id, id, email);
                 });
  }
}

}  // namespace tollgate
