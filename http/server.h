// The HTTP/1.1 server (Boost.Beast): keep-alive, one strand per connection, a
// thread pool, HTTPS when a certificate and key are given.
//
// Limits: a deadline on every read (the whole header within header_timeout:
// a slow client is dropped), every body read and every write; request bodies
// over body_limit (or their path's limit) are refused with 413 without being
// read; headers over header_limit with 431; the bodies of all connections
// together within body_budget (a body that finds no room waits, then gets
// 503); at most max_connections open at once (more are closed on accept),
// capped below the open-files limit; out of descriptors, accepting pauses
// (a timer) instead of spinning.
//
// Thread safety: start() and stop() from one controlling thread; the handler
// is called on connection strands, concurrently, and may respond from any
// thread. Every Respond must have been called or dropped before the Server
// is destroyed (stop the server, then drain whatever holds them, e.g. the
// store, then destroy the server).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"
#include "base/status.h"

namespace tollgate::http {

struct AccessLogEntry {
  std::string method;
  std::string path;
  int status = 0;
  std::chrono::microseconds latency{0};
  std::string remote;
};

// A smaller body limit for the requests whose target starts with `prefix`.
struct PathBodyLimit {
  std::string prefix;
  std::size_t body_limit = 0;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 3000;  // 0: any free port (see Server::port())
  int threads = 0;            // 0: one per core
  std::size_t body_limit = 1024 * 1024;
  // The first prefix that matches sets the limit; no more than body_limit.
  std::vector<PathBodyLimit> path_body_limits;
  // Bytes that the bodies being read or handled may hold, across every
  // connection. A body's share is reserved from its declared Content-Length
  // (its path's limit when chunked) before a byte of it is read, and returned
  // when its answer is sent. A body that finds no room waits up to body_wait,
  // then gets 503 and the connection closes. Bodies over 64 KiB may fill only
  // three quarters of it, so that small requests (Slack's) still find room
  // when large ones crowd in. Raised to 4/3 of body_limit when smaller.
  std::size_t body_budget = 64 * 1024 * 1024;
  std::chrono::milliseconds body_wait{1000};
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds header_timeout{10000};  // idle keep-alive connections too
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  // Capped at start by connection_cap() of the open-files limit then in force.
  int max_connections = 20000;
  std::string tls_cert_file;  // both set: HTTPS
  std::string tls_key_file;
  // Called once per answered request, on a connection strand.
  std::function<void(const AccessLogEntry&)> on_request;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads. Code::unavailable when the address
  // cannot be bound or the TLS files cannot be loaded.
  Status start();
  std::uint16_t port() const;
  int open_connections() const;
  // max_connections after the cap of start().
  int max_connections() const;

  // Graceful stop: stop accepting; close idle connections; let requests in
  // flight finish and be answered (with "Connection: close") within `grace`;
  // then close everything and join the threads. Returns the number of
  // requests still unanswered when the grace ran out.
  int stop(std::chrono::milliseconds grace);

  struct Impl;  // opaque; public only so that the sessions in server.cc can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// Raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit, once
// at start; returns the soft limit in force afterwards (0: unknown). An
// unlimited hard limit raises it to fs.nr_open (2^20 where that is unknown).
std::uint64_t raise_open_files_limit();
// The soft limit raise_open_files_limit() aims for, given the current ones
// (RLIM_INFINITY: unlimited); never below `soft`.
std::uint64_t open_files_target(std::uint64_t soft, std::uint64_t hard);

// How many connections fit in `open_files` descriptors: all but 128 of them
// (half of a limit under 256), kept for what else the process opens: the
// database (SQLite's files, PostgreSQL's connections), the Slack and mail
// clients' connections, the sandbox, the logs, the event loop's own.
int connection_cap(std::uint64_t open_files);

}  // namespace tollgate::http
