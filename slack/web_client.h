// The Slack Web API client (docs/slack-protocol.md §6).
//
// HTTPS with OpenSSL: the peer's certificate is verified against the system's
// CAs, with host-name verification and SNI; nothing a request carries can turn
// that off. Plain http:// is accepted only as the configured base URL (tests
// and the sandbox point it at a local fake). Connections are kept alive and
// reused, one request in flight on each. Every connect, handshake, write and
// read has a deadline.
//
// Results: HTTP 200 with "ok": true is success. "ok": false is an error that
// carries Slack's code (Code::invalid_argument; `error` holds the code). 429
// is honoured: the call waits Retry-After seconds when that is within
// `max_retry_after`, otherwise it returns Code::unavailable with `error` =
// "ratelimited" and `retry_after` set, for the caller to reschedule. 5xx and
// network errors are retried with exponential backoff and jitter up to
// `max_attempts`, then returned as Code::unavailable.
//
// Thread-safe; calls may be made from any thread. Completions run on the
// client's own thread and must not block.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tollgate::slack {

struct ApiResult {
  Status status;
  std::string error;  // Slack's error code, "ratelimited", "http_503", "network"
  int http_status = 0;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string body;  // the response body (JSON for Web API methods)
  bool ok() const { return status.ok(); }
};

struct WebClientOptions {
  std::string base_url = "https://slack.com/api";
  std::string token;  // xoxb-...
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  int max_attempts = 3;
  std::chrono::milliseconds max_retry_after{0};
  std::chrono::milliseconds backoff{200};  // first retry after ~backoff, then doubling
  int max_idle_per_host = 8;
};

class WebClient {
 public:
  using Done = std::function<void(ApiResult)>;

  explicit WebClient(WebClientOptions options);
  ~WebClient();
  WebClient(const WebClient&) = delete;
  WebClient& operator=(const WebClient&) = delete;

  // POST {base}/{method} with a JSON body ("application/json; charset=utf-8")
  // and "Authorization: Bearer {token}".
  void call(const std::string& method, std::string json_body, Done done);
  // GET {base}/{method}?{query}, for read methods such as users.lookupByEmail.
  void get(const std::string& method, const std::vector<std::pair<std::string, std::string>>& query,
           Done done);
  // POST a message to a response_url. Refused (Code::permission_denied) unless
  // the URL is https://hooks.slack.com/... or on the configured base URL's host.
  void post_response_url(const std::string& url, std::string json_body, Done done);

  // Cancels what is pending and joins the thread. Pending calls complete with
  // Code::unavailable.
  void stop();

  // Whether a response_url may be posted to (see post_response_url).
  bool allowed_response_url(const std::string& url) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tollgate::slack
