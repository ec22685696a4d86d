#include "workflow/delegation.h"

namespace tollgate {

void DelegationBook::replace(std::vector<Delegation> all) {
  std::map<PersonId, Delegation> next;
  for (Delegation& d : all) next[d.person] = std::move(d);
  std::lock_guard lock(mu_);
  by_person_.swap(next);
}

void DelegationBook::set(Delegation d) {
  std::lock_guard lock(mu_);
  by_person_[d.person] = std::move(d);
}

void DelegationBook::clear(const PersonId& person) {
  std::lock_guard lock(mu_);
  by_person_.erase(person);
}

std::optional<Delegation> DelegationBook::active(const PersonId& person, Time now) const {
  std::lock_guard lock(mu_);
  auto it = by_person_.find(person);
  if (it == by_person_.end() || now >= it->second.until) return std::nullopt;
  return it->second;
}

std::vector<Delegation> DelegationBook::all() const {
  std::lock_guard lock(mu_);
  std::vector<Delegation> out;
  for (const auto& [id, d] : by_person_) out.push_back(d);
  return out;
}

}  // namespace tollgate
