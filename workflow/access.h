// The access ledger's rules that need no command: what a task that closes
// does to the ledger, the guarded changes that end or warn of a time-bound
// grant, and the notice its holder gets. Pure, like the engine that uses
// them (engine.h: end_access, open_access_end, warn_access).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workflow/task.h"

namespace tollgate {

// The ledger change of a task that has just closed: access granted (granted,
// provisioned: its end counted from `now`, the task's duration) or removed
// (revoked, deprovisioned). None for every other outcome.
std::optional<AccessChange> access_outcome(const Task& closed, const PersonId& actor, Time now);

// The guarded change that marks `end.holding` ending under task `task`.
struct AccessEnd;
AccessChange ending_change(const AccessEnd& end, TaskNumber task, Time now);

// The notices to the holder of `h` about `event` ("ending_soon", "expired",
// "ended", "ending"), filed under task `task`, as their preferences say: an
// access_notice DM (Slack) and an email (data "about": access_notice).
std::vector<Effect> access_notices(const Directory& dir, const Holding& h, std::string event,
                                   TaskNumber task,
                                   std::vector<std::pair<std::string, std::string>> extra = {});

}  // namespace tollgate
