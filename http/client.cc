#include "http/client.h"

#include <chrono>
#include <sys/socket.h>

#include "http/net.h"

namespace tollgate::http {

std::string ClientResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return {};
}

struct LoopbackClient::Impl {
  std::uint16_t port;
  std::string address;
  net::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  bool connect(std::string& error) {
    stream = std::make_unique<beast::tcp_stream>(ioc);
    error_code ec;
    stream->expires_after(std::chrono::seconds(5));
    net::ip::address ip = net::ip::make_address(address, ec);
    if (!ec) stream->socket().connect(tcp::endpoint(ip, port), ec);
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

LoopbackClient::LoopbackClient(std::uint16_t port, std::string address)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->address = std::move(address);
}
LoopbackClient::~LoopbackClient() = default;

ClientResult LoopbackClient::request(const std::string& method, const std::string& target,
                                     const std::string& body, const Headers& headers) {
  ClientResult r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (!impl_->stream) {
      if (!impl_->connect(r.error)) return r;
      fresh = true;
    }
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    const std::string& a = impl_->address;
    req.set(bhttp::field::host, (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" +
                                    std::to_string(impl_->port));
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

}  // namespace tollgate::http
