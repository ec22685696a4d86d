// The embedded SQLite backend of Store. See store.h for the contract and
// detail/writer.h for the write path both backends share; what is SQLite's:
//
// * This process is the only writer of the file. The writer thread owns the
//   only write connection; every batch is one IMMEDIATE transaction (the
//   write lock at once). The audit head (chain_head) is read at start and
//   kept in memory, and the tasks the writer wrote are cached.
// * The database runs in WAL mode with synchronous=FULL: every COMMIT is
//   flushed to the log before any completion runs, so a committed write
//   survives a power loss. Readers use their own read-only connections and
//   read while the writer writes.
// * release_claims() makes every claimed outbox item claimable again: this
//   process is the only one delivering.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace tollgate {

StatusOr<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                   const StoreOptions& options);

}  // namespace tollgate
