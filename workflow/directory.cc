#include "workflow/directory.h"

#include <algorithm>

#include "workflow/enum_names.h"

namespace tollgate {
namespace {

template <typename T>
const T* find_in(const std::map<std::string, std::size_t>& index, const std::vector<T>& items,
                 const std::string& key) {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &items[it->second];
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

void Directory::index() {
  people_by_id_.clear();
  people_by_slack_.clear();
  people_by_email_.clear();
  for (std::size_t i = 0; i < people.size(); ++i) {
    people_by_id_.emplace(people[i].id, i);
    if (!people[i].slack_user_id.empty()) people_by_slack_.emplace(people[i].slack_user_id, i);
    if (!people[i].email.empty()) people_by_email_.emplace(lower(people[i].email), i);
  }
  groups_by_id_.clear();
  for (std::size_t i = 0; i < groups.size(); ++i) groups_by_id_.emplace(groups[i].id, i);
  apps_by_id_.clear();
  for (std::size_t i = 0; i < apps.size(); ++i) apps_by_id_.emplace(apps[i].id, i);
  policies_by_id_.clear();
  for (std::size_t i = 0; i < policies.size(); ++i) policies_by_id_.emplace(policies[i].id, i);
  admin_set_ = std::set<PersonId>(admins.begin(), admins.end());
}

const Person* Directory::person(const PersonId& id) const {
  return find_in(people_by_id_, people, id);
}
const Person* Directory::person_by_slack_id(const std::string& id) const {
  return find_in(people_by_slack_, people, id);
}
const Person* Directory::person_by_email(const std::string& email) const {
  return find_in(people_by_email_, people, lower(email));
}
const Group* Directory::group(const std::string& id) const {
  return find_in(groups_by_id_, groups, id);
}
const App* Directory::app(const std::string& id) const {
  return find_in(apps_by_id_, apps, id);
}
const Policy* Directory::policy(const std::string& id) const {
  return find_in(policies_by_id_, policies, id);
}

const Resource* Directory::resource(const std::string& app_id,
                                    const std::string& resource_id) const {
  const App* a = app(app_id);
  if (a == nullptr) return nullptr;
  for (const Resource& r : a->resources) {
    if (r.id == resource_id) return &r;
  }
  return nullptr;
}

bool Directory::is_admin(const PersonId& id) const {
  return admin_set_.count(id) > 0;
}

bool Directory::manages(const PersonId& manager, const PersonId& person) const {
  std::set<PersonId> seen;
  for (const Person* p = this->person(person); p != nullptr && !p->manager.empty();
       p = this->person(p->manager)) {
    if (p->manager == manager) return true;
    if (!seen.insert(p->manager).second) return false;
  }
  return false;
}

std::vector<const Person*> Directory::reports_of(const PersonId& manager) const {
  std::vector<const Person*> out;
  for (const Person& p : people) {
    if (p.manager == manager) out.push_back(&p);
  }
  return out;
}

std::string Directory::display_name(const PersonId& id) const {
  const Person* p = person(id);
  if (p == nullptr && id == kSystemActor) return "Tollgate";
  return p != nullptr && !p->name.empty() ? p->name : id;
}

namespace {
constexpr std::pair<Action, std::string_view> kActionNames[] = {
    {Action::approve, "approve"},
    {Action::deny, "deny"},
    {Action::confirm, "confirm"},
    {Action::provisioned, "provisioned"},
    {Action::wont_provision, "wont_provision"},
    {Action::deprovisioned, "deprovisioned"},
    {Action::wont_deprovision, "wont_deprovision"},
    {Action::reassign, "reassign"},
    {Action::comment, "comment"},
    {Action::cancel, "cancel"},
    {Action::edit_comment, "edit_comment"},
    {Action::delete_comment, "delete_comment"},
    {Action::remind, "remind"},
    {Action::escalate, "escalate"},
    {Action::expire, "expire"},
};

// As the configuration names them.
constexpr std::pair<ReviewerType, std::string_view> kReviewerTypeNames[] = {
    {ReviewerType::manager, "manager"},
    {ReviewerType::app_owners, "app_owners"},
    {ReviewerType::resource_owners, "resource_owners"},
    {ReviewerType::users, "users"},
    {ReviewerType::group, "group"},
};
}  // namespace

std::string_view action_name(Action a) {
  return enum_names::name_of(kActionNames, a);
}

std::optional<Action> parse_action(std::string_view name) {
  std::string normal(name);
  std::replace(normal.begin(), normal.end(), '-', '_');
  return enum_names::parse_of<Action>(kActionNames, normal);
}

std::string_view reviewer_type_name(ReviewerType t) {
  return enum_names::name_of(kReviewerTypeNames, t);
}

std::optional<ReviewerType> parse_reviewer_type(std::string_view name) {
  return enum_names::parse_of<ReviewerType>(kReviewerTypeNames, name);
}

}  // namespace tollgate
