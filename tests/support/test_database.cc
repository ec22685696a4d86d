#include "tests/support/test_database.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <libpq-fe.h>
#include <sstream>
#include <unistd.h>

#include <sqlite3.h>

namespace tollgate::testing {
namespace {

Status pg_exec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    return unavailable(why);
  }
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  Status out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                   ? Status{}
                   : internal_error(PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
  return out;
}

// postgresql://u@h:p/base -> postgresql://u@h:p/name
std::string with_database(const std::string& url, const std::string& name) {
  return url.substr(0, url.rfind('/') + 1) + name;
}

}  // namespace

std::string pg_cluster_url(std::string* why) {
  std::ifstream f(std::string(TOLLGATE_PG_STATE) + "/url");
  std::string url;
  if (!f || !std::getline(f, url) || url.empty()) {
    if (why != nullptr) {
      *why = "no PostgreSQL test cluster (" + std::string(TOLLGATE_PG_STATE) +
             "/url): run the tests with ctest, which starts it (scripts/pg_cluster.sh)";
    }
    return {};
  }
  return url;
}

TestDatabase::TestDatabase(const std::string& backend, const std::string& dir) {
  if (backend == "sqlite") {
    url_ = "sqlite:" + dir + "/tollgate.db";
    return;
  }
  postgres_ = true;
  std::string base = pg_cluster_url(&error_);
  if (base.empty()) return;
  static std::atomic<int> counter{0};
  name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  Status s = pg_exec(base, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  if (s.ok()) s = pg_exec(base, "CREATE DATABASE " + name_);
  if (!s.ok()) {
    error_ = "cannot create the test database: " + s.message();
    return;
  }
  url_ = with_database(base, name_);
}

TestDatabase::~TestDatabase() {
  if (!postgres_ || name_.empty()) return;
  std::string base = pg_cluster_url();
  if (!base.empty()) (void)pg_exec(base, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

// A running server holds the SQLite file's write lock now and then: wait for
// it, as a loaded machine may make it long, instead of failing SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 30000;

std::int64_t TestDatabase::number(const std::string& sql) const {
  std::int64_t out = -1;
  if (postgres_) {
    PGconn* c = PQconnectdb(url_.c_str());
    if (PQstatus(c) == CONNECTION_OK) {
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        out = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
      PQclear(r);
    }
    PQfinish(c);
    return out;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(url_.substr(7).c_str(), &db) == SQLITE_OK) {
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

Status TestDatabase::raw(const std::string& sql) const {
  if (postgres_) return pg_exec(url_, sql);
  sqlite3* db = nullptr;
  if (sqlite3_open(url_.substr(7).c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return unavailable("cannot open " + url_);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  Status out = rc == SQLITE_OK ? Status{} : internal_error(err != nullptr ? err : "error");
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

}  // namespace tollgate::testing
