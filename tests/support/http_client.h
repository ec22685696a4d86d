// The loopback HTTP client (http/client.h) under the tests' names, and a
// raw TCP connection for misbehaving clients.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/client.h"

namespace tollgate::testing {

using HttpResult = http::ClientResult;
using HttpClient = http::LoopbackClient;
using Headers = http::Headers;

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
