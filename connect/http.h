// The connectors' HTTP client (private to connect/): requests on libcurl's
// multi interface, all on one thread of ours, and small helpers shared by the
// webhook and SCIM connectors.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "connect/connector.h"

namespace tollgate::connect {

// Answers are read up to this size; the rest is dropped (`truncated`).
inline constexpr std::size_t kMaxAnswer = 1 << 20;

struct HttpRequest {
  std::string method = "GET";
  std::string url;                   // checked by check_url() first
  std::vector<std::string> headers;  // "name: value"
  std::string body;
  Duration timeout = std::chrono::seconds(10);
};

struct HttpResponse {
  int status = 0;     // 0: no answer came (`error` says why)
  std::string error;  // libcurl's reason, when no answer came
  std::string body;   // at most kMaxAnswer bytes
  bool truncated = false;
  std::optional<std::chrono::milliseconds> retry_after;  // a Retry-After header's
};

// Runs requests concurrently on one thread; each completion runs on it too
// and must not block. After stop(), nothing more runs: queued and running
// requests are dropped without their completions.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void send(HttpRequest request, std::function<void(HttpResponse)> done);
  // Runs `task` on the client's thread (a completion that needs no request).
  void post(std::function<void()> task);
  void stop();
  bool stopped() const;
  // Whether the calling thread is the client's own.
  bool on_thread() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// ok for https://HOST…, and for http:// when HOST is a loopback address
// (127.0.0.0/8, ::1, "localhost"); invalid_argument otherwise.
Status check_url(const std::string& url);
// snippet(): connector.h.
// A Retry-After value (delay-seconds or an HTTP-date) as a delay from `now`,
// at least 0 and at most a day; nullopt when it is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Time now);

}  // namespace tollgate::connect
