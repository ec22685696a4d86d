// Delegation (out of office): while a person is away, the review steps that
// would be assigned to them go to their delegate, unless the policy step
// forbids it (allow_delegation: false).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "workflow/directory.h"

namespace tollgate {

struct Delegation {
  PersonId person;    // who is away
  PersonId delegate;  // who takes their tasks
  Time until{};       // exclusive: in force while now < until
  PersonId set_by;
  Time set_at{};
};

// The delegations in force, shared by the engine (which reads them while
// deciding) and the service (which changes them once the store has them).
// Thread-safe.
class DelegationBook {
 public:
  void replace(std::vector<Delegation> all);
  void set(Delegation d);
  void clear(const PersonId& person);
  // The delegation of `person` in force at `now`.
  std::optional<Delegation> active(const PersonId& person, Time now) const;
  std::vector<Delegation> all() const;

 private:
  mutable std::mutex mu_;
  std::map<PersonId, Delegation> by_person_;
};

}  // namespace tollgate
