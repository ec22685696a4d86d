// The Store written once for both backends (store.h's contract): its reads
// through a ReadPool, its writes through the one group-commit core
// (detail/writer.h), its SQL with `?` placeholders that each backend's driver
// runs. A backend (sqlite_store.cc, postgres_store.cc) supplies only its
// driver and a Dialect: the few statements and choices that differ. Private
// to storage/.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/detail/read_pool.h"
#include "storage/detail/sql.h"
#include "storage/detail/writer.h"
#include "storage/store.h"

namespace tollgate::detail {

// What differs between the backends, besides their driver.
struct Dialect {
  WriteMode write;
  // Opens verify_chain's read transaction: one snapshot of the head and events.
  std::string begin_snapshot;
  // A query that has a row when the table schema_version exists.
  std::string schema_table_exists;
  // Run first in the migration transaction (PostgreSQL: a lock, so that of
  // two instances starting at once one migrates and the other finds it
  // done); empty: none.
  std::string migration_lock;
  // The backend's schema (migrations.h).
  const std::vector<std::string_view>* migrations = nullptr;
  // Claims outbox items for claim_outbox, on the writer's connection: up to
  // `limit` (1 to 10000) items due at `now`, only the oldest pending item of
  // each task, none claimed by anyone else; each with a fresh claim held
  // until now + lease. `items` in id order.
  std::function<Status(Connection& c, Time now, int limit, Duration lease,
                       std::vector<OutboxItem>& items)>
      claim;
  // What release_claims runs. Empty: nothing; it completes at once.
  std::string release_claims;
};

// Opens the store on its write connection `write`: migrates (with
// StoreOptions::migrate) and forgets old delivery keys, refuses a schema other
// than this build's, seals the log when it may (StoreOptions), opens the read
// connections with `open_reader` and starts the writer thread.
StatusOr<std::unique_ptr<Store>> open_sql_store(std::unique_ptr<Connection> write,
                                                const StoreOptions& options, Dialect dialect,
                                                const ReadPool::Open& open_reader);

}  // namespace tollgate::detail
