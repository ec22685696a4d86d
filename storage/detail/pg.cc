#include "storage/detail/pg.h"

#include <cstdlib>
#include <cstring>
#include <libpq-fe.h>

#include "storage/store.h"

namespace tollgate::pg {
namespace {

// libpq's messages end with a newline.
std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result::Result(pg_result* r) : r_(r) {}
Result::~Result() {
  if (r_ != nullptr) PQclear(r_);
}
int Result::rows() const {
  return PQntuples(r_);
}
std::int64_t Result::affected() const {
  const char* n = PQcmdTuples(r_);
  return n != nullptr && *n != '\0' ? std::strtoll(n, nullptr, 10) : 0;
}
std::string Result::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}
std::int64_t Result::i64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
bool Result::is_null(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}

StatusOr<std::unique_ptr<Conn>> Conn::open(const std::string& url) {
  pg_conn* c = PQconnectdb(url.c_str());
  if (c == nullptr) return unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(c) != CONNECTION_OK) {
    // libpq names the user, and may quote a malformed URL: never shown.
    std::string why = redact_database_text(trimmed(PQerrorMessage(c)), url);
    PQfinish(c);
    return unavailable("cannot connect to PostgreSQL: " + why);
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") on stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Conn>(new Conn(url, c));
}

Conn::~Conn() {
  if (c_ != nullptr) PQfinish(c_);
}

bool Conn::broken() const {
  return PQstatus(c_) != CONNECTION_OK;
}

bool Conn::ensure() {
  if (!broken()) return true;
  PQreset(c_);
  prepared_.clear();  // a new session knows none of them
  return !broken();
}

Status Conn::exec_script(const std::string& sql) {
  Result r(PQexec(c_, sql.c_str()));
  ExecStatusType st = r.r_ != nullptr ? PQresultStatus(r.r_) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
  std::string why = trimmed(r.r_ != nullptr ? PQresultErrorMessage(r.r_) : PQerrorMessage(c_));
  return broken() ? unavailable("PostgreSQL is unavailable: " + why)
                  : internal_error("PostgreSQL: " + why);
}

StatusOr<Result> Conn::exec(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Parsed and planned once per connection: a decision runs a dozen statements.
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size());
    Result prep(PQprepare(c_, name.c_str(), sql.c_str(), static_cast<int>(values.size()), nullptr));
    if (prep.r_ == nullptr || PQresultStatus(prep.r_) != PGRES_COMMAND_OK) {
      std::string why =
          trimmed(prep.r_ != nullptr ? PQresultErrorMessage(prep.r_) : PQerrorMessage(c_));
      if (broken()) return unavailable("PostgreSQL is unavailable: " + why);
      return internal_error("PostgreSQL: " + why);
    }
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  Result r(PQexecPrepared(c_, it->second.c_str(), static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0));
  // A null result (out of memory, lost connection) reads as a fatal error.
  pg_result* raw = r.r_;
  ExecStatusType st = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  std::string why = trimmed(raw != nullptr ? PQresultErrorMessage(raw) : PQerrorMessage(c_));
  const char* state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state != nullptr ? state : "";
  if (broken() || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0 || code == "53300") {
    return unavailable("PostgreSQL is unavailable: " + why);
  }
  if (code == "40001" || code == "40P01") return conflict("PostgreSQL: " + why);
  return internal_error("PostgreSQL: " + why);
}

}  // namespace tollgate::pg
