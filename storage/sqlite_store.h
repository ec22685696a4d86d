// The embedded SQLite backend of Store. See store.h for the contract.
//
// One writer thread owns the only write connection: it takes every queued
// write (up to StoreOptions::max_batch), runs each inside its own SAVEPOINT of
// one IMMEDIATE transaction, commits once, and then completes them in order.
// A write that fails is rolled back to its savepoint without disturbing the
// others. The audit head (chain_head) is written once per transaction, when
// events were appended. The database runs in WAL mode with synchronous=FULL: every COMMIT
// is flushed to the log before any completion runs, so a committed write
// survives a power loss. Readers use their own connections.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace tollgate {

StatusOr<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                   const StoreOptions& options);

}  // namespace tollgate
