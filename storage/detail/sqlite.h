// A thin RAII layer over sqlite3: a connection with a cache of prepared
// statements, and statements bound only with parameters (never by pasting
// values into SQL). Private to storage/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tollgate::sqlite {

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s, sqlite3* db) : s_(s), db_(db) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : s_(o.s_), db_(o.db_) { o.s_ = nullptr; }
  // Resets the statement so the cached copy can be used again.
  ~Stmt();

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i);
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }

  // true: a row is ready; false: done. Errors become Status via `run()`/`next()`.
  StatusOr<bool> next();
  // Runs to completion (for statements that return no rows).
  Status run();

  std::int64_t i64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3_stmt* s_;
  sqlite3* db_;
};

class Db {
 public:
  // Opens (creating if needed) the database at `path`.
  static StatusOr<std::unique_ptr<Db>> open(const std::string& path, bool read_only);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(std::string_view sql);
  // A prepared statement from the cache. The returned Stmt must be destroyed
  // before the same SQL is prepared again on this connection.
  StatusOr<Stmt> prepare(const std::string& sql);
  std::int64_t changes() const;
  std::string last_error() const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace tollgate::sqlite
