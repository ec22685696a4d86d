#include "storage/detail/pg.h"

#include <cstdlib>
#include <cstring>
#include <libpq-fe.h>

#include "storage/detail/libpq.h"
#include "storage/store.h"

namespace tollgate::pg {
namespace {

// libpq's messages end with a newline.
std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<const char*> values_of(const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
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
  RETURN_IF_ERROR(load_libpq());
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
  if (!broken() && !lost_place_) return true;
  PQreset(c_);
  prepared_.clear();  // a new session knows none of them
  pending_.clear();
  lost_place_ = false;
  return !broken();
}

// A statement's failure in the codes of exec(): a lost connection or server,
// a serialization failure or a deadlock is unavailable; the rest internal.
Status Conn::failure(const pg_result* r) const {
  std::string why = trimmed(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c_));
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state != nullptr ? state : "";
  if (broken() || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0 || code == "53300") {
    return unavailable("PostgreSQL is unavailable: " + why);
  }
  // Two instances' transactions that locked rows in opposite orders: the
  // server ended this one's statement; the write fails and may be made again.
  if (code == "40001" || code == "40P01") {
    return unavailable("PostgreSQL ended a write that met another instance's: " + why);
  }
  return internal_error("PostgreSQL: " + why);
}

Status Conn::exec_script(const std::string& sql) {
  RETURN_IF_ERROR(settle());
  Result r(PQexec(c_, sql.c_str()));
  ExecStatusType st = r.r_ != nullptr ? PQresultStatus(r.r_) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return failure(r.r_);
  // COMMIT of a transaction the server had aborted answers "ROLLBACK", not an error.
  if (sql == "COMMIT" && std::strcmp(PQcmdStatus(r.r_), "COMMIT") != 0) {
    return unavailable("PostgreSQL rolled the transaction back instead of committing it");
  }
  return {};
}

// Parsed and planned once per connection: a decision runs a dozen statements.
StatusOr<std::string> Conn::prepared(const std::string& sql, int params, bool pipelined) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
  std::string name = "s" + std::to_string(++named_);
  if (pipelined) {
    if (PQsendPrepare(c_, name.c_str(), sql.c_str(), params, nullptr) != 1) {
      lost_place_ = true;  // what was queued before cannot be trusted to be read
      return failure(nullptr);
    }
    pending_.push_back({sql, /*prepare=*/true, nullptr});
  } else {
    Result prep(PQprepare(c_, name.c_str(), sql.c_str(), params, nullptr));
    if (prep.r_ == nullptr || PQresultStatus(prep.r_) != PGRES_COMMAND_OK) return failure(prep.r_);
  }
  prepared_.emplace(sql, name);
  return name;
}

StatusOr<Result> Conn::exec(const std::string& sql, const std::vector<Param>& params) {
  RETURN_IF_ERROR(settle());
  std::vector<const char*> values = values_of(params);
  ASSIGN_OR_RETURN(std::string name, prepared(sql, static_cast<int>(values.size()), false));
  Result r(PQexecPrepared(c_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                          nullptr, 0));
  // A null result (out of memory, lost connection) reads as a fatal error.
  ExecStatusType st = r.r_ != nullptr ? PQresultStatus(r.r_) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  return failure(r.r_);
}

// At most this many answers wait: results the client does not read fill the
// server's socket, which then stops reading ours (a blocking client would wait
// for ever). A statement's answer is a few dozen bytes.
constexpr std::size_t kMaxPending = 256;

Status Conn::send(const std::string& sql, const std::vector<Param>& params, Check check) {
  if (lost_place_) return unavailable("PostgreSQL connection is being reset");
  if (pending_.size() >= kMaxPending) RETURN_IF_ERROR(settle());
  if (PQpipelineStatus(c_) == PQ_PIPELINE_OFF && PQenterPipelineMode(c_) != 1) {
    return failure(nullptr);
  }
  std::vector<const char*> values = values_of(params);
  int n = static_cast<int>(values.size());
  int sent = 0;
  if (n == 0) {
    // SAVEPOINT and the like: unnamed, not prepared.
    sent = PQsendQueryParams(c_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
  } else {
    ASSIGN_OR_RETURN(std::string name, prepared(sql, n, true));
    sent = PQsendQueryPrepared(c_, name.c_str(), n, values.data(), nullptr, nullptr, 0);
  }
  if (sent != 1) {
    lost_place_ = true;  // what was queued before cannot be trusted to be read
    return failure(nullptr);
  }
  pending_.push_back({sql, /*prepare=*/false, std::move(check)});
  return {};
}

Status Conn::settle() {
  if (lost_place_) return unavailable("PostgreSQL connection is being reset");
  if (PQpipelineStatus(c_) == PQ_PIPELINE_OFF) return {};
  Status first;
  auto fail = [&first](Status s) {
    if (first.ok()) first = std::move(s);
  };
  if (PQpipelineSync(c_) != 1) lost_place_ = true;
  for (std::size_t i = 0; i < pending_.size() && !lost_place_; ++i) {
    const Pending& p = pending_[i];
    pg_result* raw = PQgetResult(c_);
    if (raw == nullptr) {
      lost_place_ = true;
      break;
    }
    Result r(raw);
    ExecStatusType st = PQresultStatus(raw);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && p.prepare) prepared_.erase(p.sql);  // not prepared after all
    if (ok && p.check) fail(p.check(r));
    if (!ok && st != PGRES_PIPELINE_ABORTED) fail(failure(raw));
    // Each statement's answers end with a null result.
    for (int k = 0; k < 4; ++k) {
      pg_result* more = PQgetResult(c_);
      if (more == nullptr) break;
      PQclear(more);
      if (k == 3) lost_place_ = true;
    }
  }
  if (!lost_place_) {
    Result sync(PQgetResult(c_));
    if (sync.r_ == nullptr || PQresultStatus(sync.r_) != PGRES_PIPELINE_SYNC) lost_place_ = true;
  }
  pending_.clear();
  if (!lost_place_ && PQexitPipelineMode(c_) != 1) lost_place_ = true;
  if (lost_place_) fail(unavailable("PostgreSQL: the answers of a pipeline were lost: " +
                                    trimmed(PQerrorMessage(c_))));
  return first;
}

}  // namespace tollgate::pg
