#include "workflow/directory.h"

#include <algorithm>
#include <cctype>

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

std::string_view provisioning_mode_name(ProvisioningMode m) {
  switch (m) {
    case ProvisioningMode::automatic: return "automatic";
    case ProvisioningMode::manual: return "manual";
    case ProvisioningMode::webhook: return "webhook";
    case ProvisioningMode::scim: return "scim";
  }
  return "automatic";
}

std::optional<ProvisioningMode> parse_provisioning_mode(std::string_view name) {
  for (ProvisioningMode m : {ProvisioningMode::automatic, ProvisioningMode::manual,
                             ProvisioningMode::webhook, ProvisioningMode::scim}) {
    if (provisioning_mode_name(m) == name) return m;
  }
  return std::nullopt;
}

std::string connector_url_problem(std::string_view url) {
  bool https = url.rfind("https://", 0) == 0, http = url.rfind("http://", 0) == 0;
  if (!https && !http) return "a connector URL starts with https:// (or http:// to loopback)";
  std::string_view rest = url.substr(https ? 8 : 7);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos)
    return "no credentials in the URL: name an environment variable instead";
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') == std::string_view::npos ? host.size()
                                                                    : host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty()) return "the URL names no host";
  for (char ch : authority) {
    if (static_cast<unsigned char>(ch) <= ' ' || ch == '\\') return "the URL's host is malformed";
  }
  if (https) return {};
  bool loopback = lower(std::string(host)) == "localhost" || host == "[::1]" ||
                  (host.rfind("127.", 0) == 0 && std::count(host.begin(), host.end(), '.') == 3 &&
                   host.find_first_not_of("0123456789.") == std::string_view::npos);
  return loopback ? "" : "http:// is only for a loopback address (127.0.0.1, [::1], localhost); "
                         "use https://";
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_';
  });
}

std::string connector_label(const App& app, const Fulfilment& f) {
  std::string system = f.mode == ProvisioningMode::scim ? "SCIM" : "webhook";
  return system + " (" + (f.connector.name.empty() ? app.name : f.connector.name) + ")";
}

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
    {Action::connector_done, "connector_done"},
    {Action::connector_accepted, "connector_accepted"},
    {Action::connector_failed, "connector_failed"},
    {Action::retry, "retry"},
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

bool is_system_action(Action a) {
  return a == Action::remind || a == Action::escalate || a == Action::expire ||
         a == Action::connector_done || a == Action::connector_accepted ||
         a == Action::connector_failed;
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
