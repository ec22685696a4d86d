#include "storage/sqlite_store.h"

#include <type_traits>
#include <variant>

#include "storage/detail/codec.h"
#include "storage/detail/sql_store.h"
#include "storage/detail/sqlite.h"
#include "storage/detail/tables.h"
#include "storage/migrations.h"

namespace tollgate {
namespace {

using detail::Connection;
using detail::Value;
using sqlite::Db;
using sqlite::Stmt;

// The current row of a statement.
class StmtRow final : public detail::Row {
 public:
  explicit StmtRow(const Stmt& st) : st_(st) {}
  std::int64_t i64(int col) const override { return st_.i64(col); }
  std::string text(int col) const override { return st_.text(col); }
  bool is_null(int col) const override { return st_.is_null(col); }

 private:
  const Stmt& st_;
};

// The shared store's driver over one SQLite connection. SQLite takes `?`
// placeholders as they are.
class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  StatusOr<std::int64_t> exec(const std::string& sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(Stmt st, prepare(sql, params));
    RETURN_IF_ERROR(st.run());
    return db_->changes();
  }

  Status query(const std::string& sql, std::span<const Value> params,
               const detail::OnRow& on_row) override {
    ASSIGN_OR_RETURN(Stmt st, prepare(sql, params));
    StmtRow row(st);
    for (;;) {
      ASSIGN_OR_RETURN(bool more, st.next());
      if (!more) return {};
      RETURN_IF_ERROR(on_row(row));
    }
  }

  Status script(const std::string& sql) override { return db_->exec(sql); }
  Status ready() override { return {}; }

 private:
  StatusOr<Stmt> prepare(const std::string& sql, std::span<const Value> params) {
    ASSIGN_OR_RETURN(Stmt st, db_->prepare(sql));
    for (std::size_t i = 0; i < params.size(); ++i) {
      int at = static_cast<int>(i + 1);
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
              st.bind_null(at);
            } else {
              st.bind(at, v);
            }
          },
          params[i]);
    }
    return st;
  }

  std::unique_ptr<Db> db_;
};

// A connection to the database at `path`; the write connection sets the
// journal up: WAL, so that readers read while the writer writes, and every
// COMMIT flushed before it returns.
StatusOr<std::unique_ptr<Connection>> connect(const std::string& path, bool read_only) {
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::open(path, read_only));
  if (!read_only) {
    RETURN_IF_ERROR(db->exec("PRAGMA journal_mode=WAL"));
    // FULL: in WAL mode, NORMAL may lose the last commits on power loss.
    RETURN_IF_ERROR(db->exec("PRAGMA synchronous=FULL"));
    RETURN_IF_ERROR(db->exec("PRAGMA foreign_keys=ON"));
    RETURN_IF_ERROR(db->exec("PRAGMA temp_store=MEMORY"));
    // The writer's page cache: 64 MB, not SQLite's 2 MB. At a million tasks
    // the pages a batch touches (leaf and interior pages of about eight
    // B-trees a decision) outgrow 2 MB and were read again from the kernel's
    // cache; docs/benchmarks.md, *A larger page cache for the writer*. SQLite
    // allocates pages as first needed, and keeps them until the connection
    // closes: a server that has been busy holds up to 64 MB more.
    RETURN_IF_ERROR(db->exec("PRAGMA cache_size=-65536"));
  }
  return std::unique_ptr<Connection>(std::make_unique<SqliteConnection>(std::move(db)));
}

// The oldest pending item of each task that is due and not claimed; then
// each is claimed (this writer is the only one: no row locks needed).
Status claim(Connection& c, Time now, int limit, Duration lease, std::vector<OutboxItem>& items) {
  RETURN_IF_ERROR(
      detail::query(c,
                    std::string("SELECT ") + codec::kOutboxColumns +
                        " FROM outbox AS o WHERE state = 'pending' AND next_attempt_at <= ?1 "
                        "AND claimed_until <= ?1 AND id = (SELECT MIN(id) FROM outbox "
                        "WHERE task = o.task AND state = 'pending') ORDER BY id LIMIT ?2",
                    detail::outbox_items_into(items), detail::ms(now), limit));
  for (OutboxItem& it : items) {
    it.claim = codec::new_outbox_claim();
    RETURN_IF_ERROR(detail::run(c, "UPDATE outbox SET claimed_until = ?, claim = ? WHERE id = ?",
                                detail::ms(now + lease), it.claim, it.id));
  }
  return {};
}

detail::Dialect sqlite_dialect() {
  detail::Dialect d;
  // IMMEDIATE: the write lock at once, not at the first write.
  d.write = {"BEGIN IMMEDIATE", /*shared=*/false};
  d.begin_snapshot = "BEGIN";
  d.schema_table_exists =
      "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'";
  d.migrations = &sqlite_migrations();
  d.claim = claim;
  // This process is the only one delivering from the file: whatever it had
  // claimed before a crash is offered again at once.
  d.release_claims = "UPDATE outbox SET claimed_until = 0 WHERE claimed_until > 0";
  return d;
}

}  // namespace

StatusOr<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                   const StoreOptions& options) {
  ASSIGN_OR_RETURN(auto write, connect(path, /*read_only=*/false));
  return detail::open_sql_store(std::move(write), options, sqlite_dialect(),
                                [path] { return connect(path, /*read_only=*/true); });
}

}  // namespace tollgate
