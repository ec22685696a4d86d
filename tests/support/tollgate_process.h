// Runs the real `tollgate serve` binary as a child process for end-to-end
// tests and benchmarks: with its environment, on a free port
// (TOLLGATE_LISTEN=127.0.0.1:0), its output collected, stopped with a signal.
// It can run another server program the same way (the benchmark's reference).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace tollgate::testing {

inline constexpr const char* kSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
// The audit key every serve started here gets unless `env` names one
// (PostgreSQL has no default key file: app/audit_seal.h), as raw bytes and
// as TOLLGATE_AUDIT_KEY writes it.
inline constexpr const char* kTestAuditKey = "tollgate-test-audit-key-32-bytes";
inline constexpr const char* kTestAuditKeyHex =
    "746f6c6c676174652d746573742d61756469742d6b65792d33322d6279746573";
// The options of a store a test writes with before (or beside) serve: the
// key serve gets, so that the first open of a new database seals its log as
// serve's would (serve refuses a log created unsealed: StoreOptions).
inline StoreOptions serve_store_options() {
  StoreOptions o;
  o.audit_key = kTestAuditKey;
  return o;
}

struct ProcessOptions {
  std::string config = std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json";
  std::string db;             // "sqlite:/tmp/..."
  std::string slack_api_url;  // the fake's
  std::string token = "xoxb-test-token";
  std::string secret = kSigningSecret;
  std::vector<std::pair<std::string, std::string>> env;  // extra variables
  std::vector<std::string> args;                         // extra arguments to serve
  // Another program instead of `tollgate serve` (argv[0] is its path), which
  // must print "listening on" followed by its port when ready.
  std::vector<std::string> program;
};

class TollgateProcess {
 public:
  explicit TollgateProcess(ProcessOptions options);
  ~TollgateProcess();  // SIGKILL if still running

  // Starts it and waits until it listens; false (with the log) if it does not.
  bool start(std::chrono::seconds timeout = std::chrono::seconds(20));
  std::uint16_t port() const { return port_; }
  // Sends `signal` and waits for the exit; returns the exit code (-signal if killed).
  int stop(int signal, std::chrono::seconds timeout = std::chrono::seconds(30));
  void kill9();
  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }
  std::string log() const;
  // Waits until the log contains `text`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  struct Reader;
  ProcessOptions options_;
  int pid_ = -1;
  std::uint16_t port_ = 0;
  std::shared_ptr<Reader> reader_;
};

}  // namespace tollgate::testing
