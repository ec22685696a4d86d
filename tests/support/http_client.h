// A blocking HTTP/1.1 client for tests: one keep-alive connection to
// 127.0.0.1:port, reconnecting when the server closed it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tollgate::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error;
  bool closed = false;  // the server closed the connection after answering
  std::string header(const std::string& name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = {}, const Headers& headers = {});
  HttpResult get(const std::string& target) { return request("GET", target); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw TCP connection, for misbehaving clients.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  bool send(const std::string& bytes);
  // Reads until the peer closes or `timeout_ms` passes; returns what arrived.
  std::string read_until_closed(int timeout_ms, bool* closed);

 private:
  int fd_ = -1;
};

}  // namespace tollgate::testing
