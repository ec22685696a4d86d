// Real counterparts for Tollgate's connectors, on loopback, for tests: an in-memory SCIM 2.0
// server (scimmy + scimmy-routers on express 4) and a Standard Webhooks receiver (the
// standardwebhooks reference library), tests/connectors/*.mjs run by node. Each is one child
// process per object, started by the constructor and killed by the destructor, with its port
// read from the "listening <port>" line it prints. The /control endpoints of each are driven
// over tollgate::http::LoopbackClient (link tollgate_http, or tollgate_test_support).
//
// scripts/deps.sh installs their npm packages (tests/connectors/node_modules); without them
// ok() is false and error() says so. The child's stdin is a pipe it watches
// (--stdin-lifeline): it exits with the test process, even one killed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "http/client.h"

namespace tollgate::testing {

namespace connector_detail {

inline std::string connectors_dir() {
  return std::string(TOLLGATE_SOURCE_DIR) + "/tests/connectors";
}

// node from PATH (`command -v node`), else Debian's /usr/bin/node; empty when neither runs.
inline std::string node_binary() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/node";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return access("/usr/bin/node", X_OK) == 0 ? "/usr/bin/node" : "";
}

// Why the servers cannot start on this machine, or "" when they can.
inline std::string missing_dependencies() {
  if (node_binary().empty()) return "node is not on PATH: run scripts/deps.sh";
  for (const char* package : {"scimmy", "scimmy-routers", "express", "standardwebhooks"}) {
    if (!std::filesystem::exists(connectors_dir() + "/node_modules/" + package))
      return connectors_dir() + "/node_modules/" + package + " is missing: run scripts/deps.sh";
  }
  return "";
}

// Writes a JSON object from (key, value) pairs: values are strings, ints or raw JSON.
class JsonObject {
 public:
  JsonObject() { w_.StartObject(); }
  JsonObject& str(const char* key, const std::string& value) {
    w_.Key(key);
    w_.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }
  JsonObject& num(const char* key, std::int64_t value) {
    w_.Key(key);
    w_.Int64(value);
    return *this;
  }
  std::string done() {
    w_.EndObject();
    return buf_.GetString();
  }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buf_};
};

inline std::string string_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

inline int int_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return 0;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : 0;
}

// One node script as a child process, listening on 127.0.0.1.
class NodeServer {
 public:
  NodeServer(const std::string& script, std::vector<std::string> args) {
    error_ = missing_dependencies();
    if (!error_.empty()) {
      std::fprintf(stderr, "connector_servers: %s\n", error_.c_str());
      return;
    }
    start(script, std::move(args));
    if (!error_.empty()) std::fprintf(stderr, "connector_servers: %s\n", error_.c_str());
  }
  ~NodeServer() { stop(); }
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  bool ok() const { return port_ > 0; }
  std::uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }

  // A control call; ADD_FAILUREs (and answers status 0) when the server does not answer 2xx.
  http::ClientResult call(const std::string& method, const std::string& target,
                          const std::string& json = {}) const {
    http::ClientResult r;
    if (!ok()) {
      r.error = "not started: " + error_;
      ADD_FAILURE() << "connector server " << name_ << ": " << r.error;
      return r;
    }
    http::LoopbackClient client(port_);
    http::Headers headers;
    if (!json.empty()) headers.emplace_back("Content-Type", "application/json");
    r = client.request(method, target, json, headers);
    if (r.status < 200 || r.status >= 300) {
      ADD_FAILURE() << "connector server " << name_ << ": " << method << " " << target << " -> "
                    << r.status << " " << r.error << " " << r.body;
    }
    return r;
  }

  // The JSON a control call answered (a null Document when it did not).
  rapidjson::Document call_json(const std::string& method, const std::string& target,
                                const std::string& json = {}) const {
    rapidjson::Document d;
    http::ClientResult r = call(method, target, json);
    if (r.status >= 200 && r.status < 300) d.Parse(r.body.c_str());
    if (d.HasParseError()) d.SetNull();
    return d;
  }

 private:
  void start(const std::string& script, std::vector<std::string> args) {
    name_ = script;
    std::string node = node_binary();
    std::vector<std::string> argv_strings = {node, connectors_dir() + "/" + script};
    for (std::string& a : args) argv_strings.push_back(std::move(a));
    argv_strings.push_back("--stdin-lifeline");
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return fail("pipe failed");
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return fail("pipe failed");
    }
    std::vector<char*> argv;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);  // dup2 clears O_CLOEXEC on 0 and 1; every other pipe end closes on exec
      dup2(out[1], 1);
      long max_fd = std::min(sysconf(_SC_OPEN_MAX), 4096L);
      for (int fd = 3; fd < max_fd; ++fd) close(fd);  // the test's sockets stay the test's
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (pid_ < 0) return fail("fork failed");
    std::string line = read_line(std::chrono::seconds(20));
    int port = 0;
    if (std::sscanf(line.c_str(), "listening %d", &port) == 1 && port > 0 && port < 65536) {
      port_ = static_cast<std::uint16_t>(port);
    } else {
      fail("node " + script + " did not start (stdout: \"" + line +
           "\"; its stderr is above; run scripts/deps.sh if packages are missing)");
    }
  }

  // The first line of the child's stdout, or what came before `timeout` or its exit.
  std::string read_line(std::chrono::milliseconds timeout) {
    std::string line;
    auto until = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[256];
      ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    return line.substr(0, line.find('\n'));
  }

  void fail(const std::string& why) {
    error_ = why;
    stop();
  }

  void stop() {
    if (stdin_ >= 0) close(stdin_);  // the lifeline: the server exits when its stdin closes
    stdin_ = -1;
    if (pid_ > 0) {
      int status = 0;
      bool exited = false;
      for (int i = 0; i < 50 && !exited; ++i) {
        exited = waitpid(pid_, &status, WNOHANG) == pid_;
        if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!exited) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    pid_ = -1;
    if (stdout_ >= 0) close(stdout_);
    stdout_ = -1;
    port_ = 0;
  }

  std::string name_;
  std::string error_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;  // kept open: a late write to stdout must not kill the server with EPIPE
  std::uint16_t port_ = 0;
};

}  // namespace connector_detail

// tests/connectors/scim_server.mjs: SCIM 2.0 at base_url(), bearer kToken. The groups named in
// the constructor exist, empty, at start and after reset().
class ScimServer {
 public:
  static constexpr const char* kToken = "scim-test-token";

  explicit ScimServer(std::vector<std::string> groups = {"Engineering"})
      : server_("scim_server.mjs", {"--port", "0", "--token", kToken, "--groups", join(groups)}) {}

  bool ok() const { return server_.ok(); }
  // Why ok() is false.
  const std::string& error() const { return server_.error(); }
  std::uint16_t port() const { return server_.port(); }
  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/scim/v2";
  }

  // Adds a user behind Tollgate's back (as if created in the identity provider).
  void add_user(const std::string& user_name, const std::string& email,
                const std::string& display_name) {
    server_.call("POST", "/control/users",
                 connector_detail::JsonObject()
                     .str("userName", user_name)
                     .str("email", email)
                     .str("displayName", display_name)
                     .done());
  }

  bool has_user(const std::string& user_name) const {
    rapidjson::Document d = state();
    if (!d.IsObject() || !d.HasMember("users") || !d["users"].IsArray()) return false;
    for (const auto& u : d["users"].GetArray())
      if (connector_detail::string_member(u, "userName") == user_name) return true;
    return false;
  }

  // The userNames of `group`'s members, sorted; empty when there is no such group.
  std::vector<std::string> members(const std::string& group) const {
    std::vector<std::string> out;
    rapidjson::Document d = state();
    if (!d.IsObject() || !d.HasMember("groups") || !d["groups"].IsArray()) return out;
    for (const auto& g : d["groups"].GetArray()) {
      if (connector_detail::string_member(g, "displayName") != group) continue;
      if (!g.HasMember("members") || !g["members"].IsArray()) continue;
      for (const auto& m : g["members"].GetArray())
        if (m.IsString()) out.emplace_back(m.GetString());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Every request that reached /scim/v2 since start or reset(), failed, refused or destroyed
  // ones included.
  int requests() const { return connector_detail::int_member(state(), "requests"); }

  // The next `count` SCIM requests answer `status` with a SCIM error body, and Retry-After:
  // `retry_after_seconds` when it is > 0.
  void fail_next(int status, int count, int retry_after_seconds = 0) {
    connector_detail::JsonObject o;
    o.num("status", status).num("count", count);
    if (retry_after_seconds > 0) o.num("retry_after", retry_after_seconds);
    server_.call("POST", "/control/fail", o.done());
  }

  // For `ms`, every SCIM request has its TCP connection destroyed, unanswered (the port stays).
  void down_for(std::chrono::milliseconds ms) {
    server_.call("POST", "/control/down",
                 connector_detail::JsonObject().num("ms", ms.count()).done());
  }

  void reset() { server_.call("POST", "/control/reset", "{}"); }

 private:
  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
  }
  rapidjson::Document state() const { return server_.call_json("GET", "/control/state"); }

  connector_detail::NodeServer server_;
};

// tests/connectors/webhook_receiver.mjs: verifies every POST to url() with the standardwebhooks
// library under kSecret; refuses a webhook-id already answered 2xx (409) and anything unverified
// (401); otherwise answers 200 unless answer_next() said otherwise.
class WebhookReceiver {
 public:
  static constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

  WebhookReceiver() : server_("webhook_receiver.mjs", {"--port", "0", "--secret", kSecret}) {}

  bool ok() const { return server_.ok(); }
  // Why ok() is false.
  const std::string& error() const { return server_.error(); }
  std::uint16_t port() const { return server_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/hook"; }

  struct Delivery {
    std::string id, timestamp, signature, body;
    bool verified = false;
    std::string error;  // why it was refused ("replay" for a 409)
    int answered = 0;   // the status the receiver answered
  };
  // What reached url() from outside, in order (not replay()'s or tamper()'s own POSTs).
  std::vector<Delivery> deliveries() const {
    std::vector<Delivery> out;
    rapidjson::Document d = server_.call_json("GET", "/control/deliveries");
    if (!d.IsArray()) return out;
    for (const auto& v : d.GetArray()) {
      Delivery x;
      x.id = connector_detail::string_member(v, "id");
      x.timestamp = connector_detail::string_member(v, "timestamp");
      x.signature = connector_detail::string_member(v, "signature");
      x.body = connector_detail::string_member(v, "body");
      x.verified = v.HasMember("verified") && v["verified"].IsBool() && v["verified"].GetBool();
      x.error = connector_detail::string_member(v, "error");
      x.answered = connector_detail::int_member(v, "answered");
      out.push_back(std::move(x));
    }
    return out;
  }

  // The next `count` verified, non-replayed deliveries are answered `status`.
  void answer_next(int status, int count) {
    server_.call("POST", "/control/answer",
                 connector_detail::JsonObject().num("status", status).num("count", count).done());
  }

  // Re-POSTs deliveries()[index] exactly (same headers, same body); the status it was answered.
  int replay(std::size_t index) { return probe("/control/replay", index); }
  // The same with one byte of the body changed.
  int tamper(std::size_t index) { return probe("/control/tamper", index); }

  struct Confirmation {
    int status = 0;  // 0: no answer (body says why)
    std::string body, id, timestamp, signature;
  };
  // Signs `json_body` with standardwebhooks under kSecret and a fresh id, POSTs it to `url`
  // with the webhook-id/-timestamp/-signature headers, and says what `url` answered.
  Confirmation confirm(const std::string& url, const std::string& json_body) {
    Confirmation c;
    rapidjson::Document d = server_.call_json(
        "POST", "/control/confirm",
        connector_detail::JsonObject().str("url", url).str("body", json_body).done());
    c.status = connector_detail::int_member(d, "status");
    c.body = connector_detail::string_member(d, "body");
    c.id = connector_detail::string_member(d, "id");
    c.timestamp = connector_detail::string_member(d, "timestamp");
    c.signature = connector_detail::string_member(d, "signature");
    return c;
  }

  void reset() { server_.call("POST", "/control/reset", "{}"); }

 private:
  int probe(const char* target, std::size_t index) {
    rapidjson::Document d = server_.call_json(
        "POST", target,
        connector_detail::JsonObject().num("index", static_cast<std::int64_t>(index)).done());
    return connector_detail::int_member(d, "status");
  }

  connector_detail::NodeServer server_;
};

}  // namespace tollgate::testing
