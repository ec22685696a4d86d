// A blocking HTTP/1.1 client for loopback: one keep-alive connection to
// 127.0.0.1:port, reconnecting when the server closed it. The sandbox uses it
// to deliver what a person does in the page to Tollgate's own endpoints, and
// the tests to drive the server. Not for the Internet: no TLS, no DNS.
//
// Not thread-safe: one client per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tollgate::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ClientResult {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  Headers headers;
  std::string error;
  bool closed = false;  // the server closed the connection after answering
  std::string header(const std::string& name) const;
};

class LoopbackClient {
 public:
  // `address`: a loopback IP address the server listens on ("127.0.0.1",
  // "127.0.0.2", "::1"); the Host header names it with `port`.
  explicit LoopbackClient(std::uint16_t port, std::string address = "127.0.0.1");
  ~LoopbackClient();
  // Reads and writes give up after 15 s.
  ClientResult request(const std::string& method, const std::string& target,
                       const std::string& body = {}, const Headers& headers = {});
  ClientResult get(const std::string& target) { return request("GET", target); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::http
