// A database connection as the store's shared code sees it (detail/sql_store.h,
// detail/writer.h): statements written once, with `?` placeholders, run
// through whichever driver the backend supplies (sqlite_store.cc over
// detail/sqlite.h, postgres_store.cc over detail/pg.h). Values are always
// bound as parameters, never pasted into SQL. Private to storage/.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "workflow/task.h"

namespace tollgate::detail {

// Times are stored as milliseconds since the epoch.
inline std::int64_t ms(Time t) {
  return t.time_since_epoch().count();
}
inline Time from_ms(std::int64_t v) {
  return Time(Duration(v));
}

// One parameter: NULL, an integer or text.
using Value = std::variant<std::monostate, std::int64_t, std::string>;

inline Value value(std::int64_t v) {
  return v;
}
inline Value value(int v) {
  return std::int64_t{v};
}
inline Value value(std::string_view v) {
  return std::string(v);
}
inline Value value(const std::string& v) {
  return v;
}
inline Value value(const char* v) {
  return std::string(v);
}
template <typename T>
Value value(const std::optional<T>& v) {
  return v ? value(*v) : Value();
}

// The current row of a query, read by column (0-based).
class Row {
 public:
  virtual std::int64_t i64(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual bool is_null(int col) const = 0;

 protected:
  ~Row() = default;
};

using OnRow = std::function<Status(const Row&)>;
// What a deferred statement's answer must be: given the rows it changed, a
// failure, or OK.
using Check = std::function<Status(std::int64_t changed)>;

// One connection. Errors keep the driver's codes: Code::unavailable when the
// database cannot be reached or is busy or ended a transaction that met
// another's (a deadlock, a serialization failure), Code::conflict for a
// constraint, Code::internal otherwise.
class Connection {
 public:
  virtual ~Connection() = default;
  // Runs one statement with `?` placeholders; the number of rows it changed.
  virtual StatusOr<std::int64_t> exec(const std::string& sql, std::span<const Value> params) = 0;
  // Runs a query and calls `on_row` for each row, in order; stops at the
  // first error (the driver's or `on_row`'s) and returns it.
  virtual Status query(const std::string& sql, std::span<const Value> params,
                       const OnRow& on_row) = 0;
  // Runs statements without parameters: BEGIN, COMMIT, a migration.
  virtual Status script(const std::string& sql) = 0;
  // Runs a statement whose answer is needed only to know that it went well:
  // `check` (when set) is given the rows it changed and may make that a
  // failure. A driver may send it without waiting for the answer
  // (PostgreSQL's pipeline mode, one round trip for many statements); its
  // failure then comes from settle(), or from the next exec(), query() or
  // script(), which then run nothing. Whatever follows a failure in the same
  // transaction is not run either. The default runs it at once.
  virtual Status defer(const std::string& sql, std::span<const Value> params, Check check) {
    StatusOr<std::int64_t> changed = exec(sql, params);
    if (!changed.ok()) return changed.status();
    return check ? check(*changed) : Status{};
  }
  // A query whose rows are needed only after settle(): `on_row` is called
  // for them then (PostgreSQL), or at once (the default). Several reads in
  // one round trip.
  virtual Status defer_query(const std::string& sql, std::span<const Value> params, OnRow on_row) {
    return query(sql, params, on_row);
  }
  // Waits for the answers of the statements deferred; the first failure.
  virtual Status settle() { return {}; }
  // Ok when the connection can be used (PostgreSQL reconnects once when it
  // cannot); Code::unavailable otherwise.
  virtual Status ready() = 0;
};

// exec() with its parameters as arguments: run(c, "... WHERE id = ?", id).
template <typename... Args>
StatusOr<std::int64_t> run(Connection& c, const std::string& sql, const Args&... args) {
  const std::array<Value, sizeof...(Args)> params{value(args)...};
  return c.exec(sql, params);
}

// defer() with its parameters as arguments, after the check (nullptr: none).
template <typename... Args>
Status later(Connection& c, const Check& check, const std::string& sql, const Args&... args) {
  const std::array<Value, sizeof...(Args)> params{value(args)...};
  return c.defer(sql, params, check);
}

// defer_query() with its parameters as arguments, after the row callback.
template <typename... Args>
Status query_later(Connection& c, OnRow on_row, const std::string& sql, const Args&... args) {
  const std::array<Value, sizeof...(Args)> params{value(args)...};
  return c.defer_query(sql, params, std::move(on_row));
}

// query() with its parameters as arguments, after the row callback.
template <typename... Args>
Status query(Connection& c, const std::string& sql, const OnRow& on_row, const Args&... args) {
  const std::array<Value, sizeof...(Args)> params{value(args)...};
  return c.query(sql, params, on_row);
}

// `sql` in PostgreSQL's notation: each `?` outside a quoted literal or name
// becomes $1, $2, ... in order.
std::string numbered_placeholders(std::string_view sql);

}  // namespace tollgate::detail
