// The schema, as an ordered list of migrations. Migration i (1-based) brings
// the schema from version i-1 to version i. Never edit a released migration:
// append a new one.
#pragma once

#include <string_view>
#include <vector>

namespace tollgate {

const std::vector<std::string_view>& sqlite_migrations();
// The same schema versions for PostgreSQL (same tables and columns; its own
// types, triggers, and a chain_head row that serialises writers).
const std::vector<std::string_view>& postgres_migrations();

// The schema version that brings the audit log's sealed head (both
// backends). Only the open that migrates a database from below it to it
// (a fresh one, or an upgrade) seals the log on its own; see
// StoreOptions::seal_unsealed.
constexpr int kAuditSealVersion = 4;

// The schema version that brings the access ledger. The open that migrates
// a database from below it (not a fresh one) fills the ledger from the tasks
// already closed (backfill_access in detail/access.h).
constexpr int kAccessLedgerVersion = 5;

}  // namespace tollgate
