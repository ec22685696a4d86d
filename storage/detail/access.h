// The access ledger's SQL and its events (task.h, Holding and AccessChange):
// one function applies a change to the `access` table, one reads rows, and
// the event an applied change appends is written and read here, so that the
// table and replay_access() cannot drift apart. Private to storage/.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/detail/sql.h"
#include "storage/store.h"

namespace tollgate::detail {

// Given the event of an applied change, or none when it found nothing to do
// (a seed of a row held, an unseed of a row missing); its failure is the
// change's.
using AccessApplied = std::function<Status(std::optional<Event>)>;

// Applies `change` on `c`; `then` runs once its answer is in. `deferred`:
// its statement goes through Connection::defer, and `then` may run at the
// settle (PostgreSQL), where it must not use the connection; otherwise
// `then` runs before apply_access returns. Code::conflict, naming the
// access, when a guarded change no longer applies (`then` does not run).
Status apply_access(Connection& c, const AccessChange& change, bool deferred, AccessApplied then);

// The rows `filter` selects, ordered by person, app and resource.
StatusOr<std::vector<Holding>> read_holdings(Connection& c, const AccessFilter& filter);

// The changes that bring the ledger in line with the tasks closed before it
// existed, oldest first: granted or provisioned adds the access (held
// without end: durations were not enforced then), revoked or deprovisioned
// removes it. Applied with apply_access, so each has its event.
StatusOr<std::vector<AccessChange>> backfill_access(Connection& c, Time now);

// Replays one "access_*" event onto `ledger` (keyed rows, in key order).
// Events of other types are ignored.
Status replay_access_event(const Event& e, std::vector<Holding>& ledger);

}  // namespace tollgate::detail
