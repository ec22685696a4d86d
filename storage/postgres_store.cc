#include "storage/postgres_store.h"

#include <algorithm>
#include <unordered_map>
#include <variant>

#include "storage/detail/codec.h"
#include "storage/detail/pg.h"
#include "storage/detail/sql_store.h"
#include "storage/detail/tables.h"
#include "storage/migrations.h"

namespace tollgate {
namespace {

using detail::Connection;
using detail::Value;
using pg::Conn;
using pg::Param;
using pg::Result;

// Row `i` of a result.
class ResultRow final : public detail::Row {
 public:
  ResultRow(const Result& r, int i) : r_(r), i_(i) {}
  std::int64_t i64(int col) const override { return r_.i64(i_, col); }
  std::string text(int col) const override { return r_.text(i_, col); }
  bool is_null(int col) const override { return r_.is_null(i_, col); }

 private:
  const Result& r_;
  int i_;
};

// The shared store's driver over one libpq connection: `?` placeholders
// become $1, $2, ..., parameters PostgreSQL's text format.
class PgConnection final : public Connection {
 public:
  explicit PgConnection(std::unique_ptr<Conn> c) : c_(std::move(c)) {}

  StatusOr<std::int64_t> exec(const std::string& sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(Result r, run(sql, params));
    return r.affected();
  }

  Status query(const std::string& sql, std::span<const Value> params,
               const detail::OnRow& on_row) override {
    ASSIGN_OR_RETURN(Result r, run(sql, params));
    for (int i = 0; i < r.rows(); ++i) RETURN_IF_ERROR(on_row(ResultRow(r, i)));
    return {};
  }

  Status script(const std::string& sql) override { return c_->exec_script(sql); }

  // Pipelined: the writer's inserts of a decision cost one round trip together.
  Status defer(const std::string& sql, std::span<const Value> params,
               detail::Check check) override {
    Conn::Check on_result;
    if (check) on_result = [check = std::move(check)](const Result& r) { return check(r.affected()); };
    return c_->send(numbered(sql), texts(params), std::move(on_result));
  }

  Status defer_query(const std::string& sql, std::span<const Value> params,
                     detail::OnRow on_row) override {
    auto rows = [on_row = std::move(on_row)](const Result& r) -> Status {
      for (int i = 0; i < r.rows(); ++i) RETURN_IF_ERROR(on_row(ResultRow(r, i)));
      return {};
    };
    return c_->send(numbered(sql), texts(params), std::move(rows));
  }

  Status settle() override { return c_->settle(); }

  Status ready() override {
    return c_->ensure() ? Status{} : unavailable("PostgreSQL is unavailable");
  }

 private:
  StatusOr<Result> run(const std::string& sql, std::span<const Value> params) {
    return c_->exec(numbered(sql), texts(params));
  }

  static std::vector<Param> texts(std::span<const Value> params) {
    std::vector<Param> texts;
    texts.reserve(params.size());
    for (const Value& v : params) {
      if (const auto* i = std::get_if<std::int64_t>(&v)) {
        texts.push_back(std::to_string(*i));
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        texts.push_back(*s);
      } else {
        texts.push_back(std::nullopt);
      }
    }
    return texts;
  }

  const std::string& numbered(const std::string& sql) {
    auto [it, added] = numbered_.try_emplace(sql);
    if (added) it->second = detail::numbered_placeholders(sql);
    return it->second;
  }

  std::unique_ptr<Conn> c_;
  std::unordered_map<std::string, std::string> numbered_;  // SQL with ? -> with $n
};

StatusOr<std::unique_ptr<Connection>> connect(const std::string& url) {
  ASSIGN_OR_RETURN(std::unique_ptr<Conn> c, Conn::open(url));
  return std::unique_ptr<Connection>(std::make_unique<PgConnection>(std::move(c)));
}

// Two instances starting at once: one migrates, the other waits and finds it done.
constexpr std::int64_t kMigrationLock = 0x746f6c6c67617465;  // "tollgate"

// In one statement: the items are claimed as they are chosen, and an item
// locked by another instance's claim in flight is skipped.
Status claim(Connection& c, Time now, int limit, Duration lease, std::vector<OutboxItem>& items) {
  RETURN_IF_ERROR(
      detail::query(c,
                    "UPDATE outbox SET claimed_until = ?, claim = ? WHERE id IN ("
                    " SELECT id FROM outbox AS o WHERE state = 'pending' AND next_attempt_at <= ?"
                    " AND claimed_until <= ? AND id = (SELECT MIN(id) FROM outbox"
                    "  WHERE task = o.task AND state = 'pending')"
                    " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) "
                    "RETURNING " +
                        std::string(codec::kOutboxColumns),
                    detail::outbox_items_into(items), detail::ms(now + lease),
                    codec::new_outbox_claim(), detail::ms(now), detail::ms(now), limit));
  std::sort(items.begin(), items.end(),
            [](const OutboxItem& a, const OutboxItem& b) { return a.id < b.id; });
  return {};
}

detail::Dialect postgres_dialect() {
  detail::Dialect d;
  d.write = {"BEGIN", /*shared=*/true};
  d.begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  d.schema_table_exists = "SELECT 1 WHERE to_regclass('schema_version') IS NOT NULL";
  d.migration_lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")";
  d.migrations = &postgres_migrations();
  d.claim = claim;
  // Other instances may hold leases: release_claims releases nothing early.
  return d;
}

}  // namespace

StatusOr<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                     const StoreOptions& options) {
  ASSIGN_OR_RETURN(auto write, connect(url));
  return detail::open_sql_store(std::move(write), options, postgres_dialect(),
                                [url] { return connect(url); });
}

}  // namespace tollgate
