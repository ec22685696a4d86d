// A fresh database for one test, on either backend: a SQLite file in a
// temporary folder, or a new database in the throwaway PostgreSQL cluster
// that ctest starts (scripts/pg_cluster.sh, fixture "pg"), dropped at the end.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace tollgate::testing {

// The cluster's base URL, from the file scripts/pg_cluster.sh wrote; empty
// (with the reason in *why) when it is not running.
std::string pg_cluster_url(std::string* why = nullptr);

class TestDatabase {
 public:
  // `backend`: "sqlite" or "postgres". `dir`: a folder for the SQLite file.
  TestDatabase(const std::string& backend, const std::string& dir);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool ok() const { return !url_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }  // for open_store()
  bool postgres() const { return postgres_; }

  // Runs SQL on the database directly, as someone with access to it would.
  Status raw(const std::string& sql) const;
  // The first column of the first row of a query, as a number (-1 on error).
  std::int64_t number(const std::string& sql) const;

 private:
  bool postgres_ = false;
  std::string url_;
  std::string name_;  // PostgreSQL database name
  std::string error_;
};

}  // namespace tollgate::testing
