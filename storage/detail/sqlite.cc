#include "storage/detail/sqlite.h"

#include <sqlite3.h>

#include <mutex>

namespace tollgate::sqlite {
namespace {

Status error_of(sqlite3* db, int rc, std::string_view what) {
  std::string msg =
      std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  // A busy or locked database, a full disk or an I/O error is a store that is
  // unavailable; anything else is a bug or corruption.
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
      primary == SQLITE_FULL || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) {
    return unavailable(std::move(msg));
  }
  if (primary == SQLITE_CONSTRAINT) return {Code::conflict, std::move(msg)};
  return internal_error(std::move(msg));
}

}  // namespace

Stmt::~Stmt() {
  if (s_ != nullptr) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

StatusOr<bool> Stmt::next() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error_of(db_, rc, "sqlite step");
}

Status Stmt::run() {
  for (;;) {
    auto r = next();
    if (!r.ok()) return r.status();
    if (!*r) return {};
  }
}

std::int64_t Stmt::i64(int col) const {
  return sqlite3_column_int64(s_, col);
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool Stmt::is_null(int col) const {
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

StatusOr<std::unique_ptr<Db>> Db::open(const std::string& path, bool read_only) {
  // Before SQLite initialises (the first open): no memory statistics, which
  // cost a process-wide mutex on every allocation of every connection.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* raw = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = error_of(raw, rc, "cannot open " + path);
    sqlite3_close(raw);
    return unavailable(s.message());
  }
  sqlite3_extended_result_codes(raw, 1);
  // Readers wait for a checkpoint or the writer's brief exclusive moments
  // rather than failing at once.
  sqlite3_busy_timeout(raw, 5000);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return error_of(nullptr, rc, msg);
  }
  return {};
}

StatusOr<Stmt> Db::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second, db_);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error_of(db_, rc, "sqlite prepare");
  cache_.emplace(sql, stmt);
  return Stmt(stmt, db_);
}

std::int64_t Db::changes() const {
  return sqlite3_changes64(db_);
}
std::string Db::last_error() const {
  return sqlite3_errmsg(db_);
}

}  // namespace tollgate::sqlite
