// The `tollgate serve` process: builds every part from its options, runs
// until stopped, and shuts down in stages (stop accepting, let requests in
// flight finish within a deadline, flush the store, stop the Slack client).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "app/scheduler.h"
#include "base/clock.h"
#include "base/status.h"

namespace tollgate {

// The shortest admin API token start() accepts: 32 characters (128 bits as
// hex, 192 as base64) leave nothing to guess.
inline constexpr std::size_t kMinApiToken = 32;

struct ProcessOptions {
  std::string config = "examples/acme.json";
  std::string db = "sqlite:tollgate.db";
  std::string listen = "127.0.0.1:3000";  // port 0: any free port, logged at start
  std::string tls_cert;
  std::string tls_key;
  std::string signing_secret;
  std::string bot_token;
  std::string slack_api_url = "https://slack.com/api";
  // SLACK_APP_TOKEN (xapp-…, scope connections:write): Slack's events,
  // interactions and commands also arrive over Socket Mode
  // (slack/socket_mode.h); the HTTP endpoints stay. Empty: HTTP only.
  std::string app_token;
  // TOLLGATE_SOCKET_CONNECTIONS: Socket Mode connections held at once, 1..10.
  int socket_connections = 2;
  // SLACK_TEAM_ID; optional. Our workspace comes from auth.test and other
  // workspaces are refused either way; this one is accepted from the start,
  // before auth.test answers, and stays the only one if auth.test disagrees.
  std::string team_id;
  // The admin API's bearer token; empty: the API is disabled. At least
  // kMinApiToken characters, or start() refuses it.
  std::string api_token;
  int threads = 0;  // 0: one per core
  // A connection must send its whole request header within this (idle
  // keep-alive connections too); slower clients are dropped.
  std::chrono::milliseconds header_timeout{10000};
  // What the bodies of every request being read or handled may hold together
  // (TOLLGATE_BODY_BUDGET_MB; http::ServerOptions::body_budget).
  std::size_t body_budget = 64 * 1024 * 1024;
  std::chrono::milliseconds shutdown_grace{10000};
  // TOLLGATE_PUBLIC_URL: Tollgate's own address as others reach it
  // ("https://tollgate.acme.test"), without a trailing slash; a webhook
  // connector's event carries its callback URL under it. Empty: the path only.
  std::string public_url;
  // The task page behind every email link (web/, docs/task-page.md), on when
  // both the public URL and TOLLGATE_LINK_KEY (at least 32 characters) are
  // set: links signed with the key, valid TOLLGATE_LINK_TTL (default 7d).
  std::string link_key;
  Duration link_ttl = std::chrono::hours(24 * 7);
  // Email (TOLLGATE_SMTP_URL, TOLLGATE_SMTP_FROM); an empty URL: no mail.
  std::string smtp_url;
  std::string smtp_from;
  // Between two passes of the stale-task scheduler; 0: it does not run by
  // itself (tests call run_scheduler_once()).
  std::chrono::milliseconds scheduler_interval{30000};
  // Whether this instance delivers the outbox (TOLLGATE_DELIVERY=off: it only
  // serves requests; other instances deliver what it commits).
  bool deliver = true;
  // How long a claimed outbox item is this instance's before another instance
  // may deliver it (after a crash, say). TOLLGATE_OUTBOX_LEASE_MS.
  std::chrono::milliseconds outbox_lease{60000};
  // An effect still undelivered this long after it was decided is parked at
  // its next failure, however many attempts that took (OutboxOptions::max_age).
  // TOLLGATE_OUTBOX_MAX_AGE_MS.
  std::chrono::milliseconds outbox_max_age{24 * 3600 * 1000};
  // Run the sandbox (sandbox/sandbox.h): a fake Slack workspace on
  // loopback and its page at /sandbox, instead of Slack. Only on a loopback
  // listen address.
  bool sandbox = false;
  // With the sandbox: Tollgate holds Socket Mode connections to the fake Slack, which delivers
  // the page's actions over them instead of signed HTTP requests (serve --socket-mode).
  bool sandbox_socket_mode = false;
  // Time; null: the system clock. In-process tests pass a ManualClock.
  const Clock* clock = nullptr;
};

class Process {
 public:
  explicit Process(ProcessOptions options);
  ~Process();

  // Builds everything and starts listening. Code::unavailable / invalid_argument
  // with the reason when something cannot start.
  Status start();
  std::uint16_t port() const;
  // Blocks until SIGINT or SIGTERM, then shuts down. Returns the exit code.
  int run_until_signal();
  // The staged shutdown; safe to call once after start().
  void shutdown();
  // One pass of the stale-task scheduler, now (see app/scheduler.h).
  SchedulerPass run_scheduler_once();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:3000", "[::1]:3000", ":3000" (all interfaces).
StatusOr<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text);

}  // namespace tollgate
