// The PostgreSQL backend of Store, for several instances on one database
// (docs/operating.md, "Several instances on PostgreSQL"). See store.h for the contract;
// what differs from SQLite:
//
// * Each instance has one writer thread with group commit, like SQLite (one
//   write path for both: detail/writer.h): every queued write (up to
//   StoreOptions::max_batch) runs in its own SAVEPOINT of one transaction,
//   committed once. Every write transaction first locks the hash chain's head
//   row (chain_head), so the instances append to one chain in turn and always
//   take locks in the same order (no deadlock). Inside that lock a decision
//   reads the task as last committed by any instance, and the version
//   compare-and-swap guards the write. The head's HMAC is checked when it is
//   locked and it is written back once per transaction (no round trip per
//   event); every instance must hold the same audit key.
// * Task numbers come from one row, under that lock: unique and gap-free.
// * Outbox items are claimed with FOR UPDATE SKIP LOCKED and a lease, so each
//   is delivered by one instance; release_claims() does nothing (another
//   instance may hold a lease; an instance that died loses its claims when
//   their lease ends).
// * Connections (the writer's and a pool of readers) reconnect after a
//   failure. While the server is unreachable every write completes with
//   Code::unavailable (nothing is acknowledged that is not committed) and
//   reads fail the same way; the store recovers by itself.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace tollgate {

StatusOr<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                     const StoreOptions& options);

}  // namespace tollgate
