#include "tests/support/http_client.h"

#include <chrono>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bot/net.h"

namespace tollgate::testing {

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return {};
}

struct HttpClient::Impl {
  std::uint16_t port;
  net::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  bool connect(std::string& error) {
    stream = std::make_unique<beast::tcp_stream>(ioc);
    error_code ec;
    stream->expires_after(std::chrono::seconds(5));
    stream->socket().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) {
      error = ec.message();
      stream.reset();
      return false;
    }
    // Blocking reads and writes give up after 15 s rather than hang a test.
    timeval tv{15, 0};
    ::setsockopt(stream->socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(stream->socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
  }
};

HttpClient::HttpClient(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
}
HttpClient::~HttpClient() = default;

HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::string& body, const Headers& headers) {
  HttpResult r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (!impl_->stream) {
      if (!impl_->connect(r.error)) return r;
      fresh = true;
    }
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    error_code ec;
    bhttp::write(impl_->stream->socket(), req, ec);
    bhttp::response<bhttp::string_body> res;
    if (!ec) {
      impl_->buffer.clear();
      bhttp::read(impl_->stream->socket(), impl_->buffer, res, ec);
    }
    if (ec) {
      impl_->stream.reset();
      r.error = ec.message();
      if (fresh) return r;
      continue;  // a kept-alive connection the server had closed: once more, fresh
    }
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    for (const auto& f : res)
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.closed = !res.keep_alive();
    if (r.closed) impl_->stream.reset();
    r.error.clear();
    return r;
  }
  return r;
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                         static_cast<ssize_t>(bytes.size());
}

std::string RawConnection::read_until_closed(int timeout_ms, bool* closed) {
  std::string out;
  *closed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (fd_ >= 0) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace tollgate::testing

#include "tests/support/tls.h"

namespace tollgate::testing {

HttpResult https_get(std::uint16_t port, const std::string& target, const std::string& ca_file) {
  HttpResult r;
  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  error_code ec;
  ctx.load_verify_file(ca_file, ec);
  ctx.set_verify_mode(ssl::verify_peer);
  ssl::stream<tcp::socket> stream(ioc, ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (!ec) stream.handshake(ssl::stream_base::client, ec);
  if (ec) {
    r.error = ec.message();
    return r;
  }
  bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(stream, req, ec);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  if (!ec) bhttp::read(stream, buffer, res, ec);
  if (ec) {
    r.error = ec.message();
    return r;
  }
  r.status = static_cast<int>(res.result_int());
  r.body = res.body();
  return r;
}

}  // namespace tollgate::testing
