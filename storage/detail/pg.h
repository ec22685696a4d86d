// A thin RAII layer over libpq: a connection that knows its URL (so it can
// reconnect), and statements sent with parameters only (prepared once per
// connection, then PQexecPrepared, text format: never values pasted into
// SQL). Private to storage/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

struct pg_conn;
struct pg_result;

namespace tollgate::pg {

// One parameter, in PostgreSQL's text format; nullopt is NULL.
using Param = std::optional<std::string>;

class Result {
 public:
  explicit Result(pg_result* r);
  ~Result();
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  std::int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE
  std::string text(int row, int col) const;
  std::int64_t i64(int row, int col) const;
  bool is_null(int row, int col) const;

 private:
  friend class Conn;
  pg_result* r_;
};

class Conn {
 public:
  // Connects to `url` (postgresql://...). Code::unavailable when it cannot.
  static StatusOr<std::unique_ptr<Conn>> open(const std::string& url);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one statement. An error is Code::unavailable when the connection or
  // the server failed, or ended a serialization failure or deadlock (the
  // caller may try again later), Code::internal otherwise. Settles
  // first what was sent (send()), and runs nothing when that failed.
  StatusOr<Result> exec(const std::string& sql, const std::vector<Param>& params = {});
  // Runs several statements without parameters (migrations). Settles first.
  Status exec_script(const std::string& sql);

  // What a statement sent must have answered: OK, or why not.
  using Check = std::function<Status(const Result&)>;
  // Sends one statement in pipeline mode (entered when not in it) without
  // waiting for its answer, which settle() gives to `check`. After a
  // statement fails, the server skips the others until the settle: a caller
  // inside a transaction rolls back (to a savepoint) after a failed settle.
  Status send(const std::string& sql, const std::vector<Param>& params, Check check);
  // Waits for the answers of everything sent and leaves pipeline mode: the
  // first failure (the server's or a check's), in exec()'s codes. A pipeline
  // whose answers could not all be read leaves the connection unusable until
  // ensure() reconnects it.
  Status settle();

  // Whether the connection is usable; reconnects once when it is not.
  bool ensure();
  bool broken() const;

 private:
  Conn(std::string url, pg_conn* c) : url_(std::move(url)), c_(c) {}
  // The name `sql` is prepared under, prepared now (sync) or sent (pipeline).
  StatusOr<std::string> prepared(const std::string& sql, int params, bool pipelined);
  Status failure(const pg_result* r) const;

  // A statement sent and not yet answered (a Parse of a new one included).
  struct Pending {
    std::string sql;
    bool prepare = false;
    Check check;
  };

  std::string url_;
  pg_conn* c_;
  // Statements prepared on this connection (SQL -> name); lost on reconnect.
  std::unordered_map<std::string, std::string> prepared_;
  std::uint64_t named_ = 0;
  std::vector<Pending> pending_;
  bool lost_place_ = false;  // a pipeline's answers not all read: reconnect
};

}  // namespace tollgate::pg
