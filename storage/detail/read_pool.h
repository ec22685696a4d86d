// The read connections of a store, shared by both backends: a caller takes a
// free one (waiting while all are busy), uses it, and gives it back. Reads run
// concurrently with the writer (SQLite's WAL, PostgreSQL's MVCC). Private to
// storage/.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "storage/detail/sql.h"

namespace tollgate::detail {

class ReadPool {
 public:
  using Open = std::function<StatusOr<std::unique_ptr<Connection>>()>;

  // Opens `n` connections with `open`.
  Status open(int n, const Open& open);

  // Runs `f(Connection&)`, whose result is a Status or a StatusOr, on a free
  // connection. A connection that cannot be used (Connection::ready) makes
  // the read fail with its Status instead, and is tried again next time.
  template <typename F>
  auto with(F&& f) -> decltype(f(std::declval<Connection&>())) {
    Lease lease(*this);
    if (Status s = lease.conn->ready(); !s.ok()) return s;
    return f(*lease.conn);
  }

 private:
  struct Lease {
    explicit Lease(ReadPool& p) : pool(p), conn(p.take()) {}
    ~Lease() { pool.give_back(std::move(conn)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ReadPool& pool;
    std::unique_ptr<Connection> conn;
  };

  std::unique_ptr<Connection> take();
  void give_back(std::unique_ptr<Connection> c);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> free_;
};

}  // namespace tollgate::detail
