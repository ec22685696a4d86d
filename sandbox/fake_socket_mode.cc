#include "sandbox/fake_socket_mode.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/beast/websocket.hpp>

#include "base/json.h"
#include "http/net.h"

namespace tollgate::sandbox {
namespace {

namespace websocket = beast::websocket;
using SteadyClock = std::chrono::steady_clock;

std::string uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// The value of `key` in the query of `target` ("/link/?ticket=T&app_id=A").
std::string query_param(std::string_view target, std::string_view key) {
  std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

std::string envelope_json(const SocketModeEnvelope& e) {
  std::string s =
      "{\"envelope_id\":" + json::quote(e.envelope_id) + ",\"type\":" + json::quote(e.type) +
      ",\"payload\":" + e.payload +
      ",\"accepts_response_payload\":" + (e.accepts_response_payload ? "true" : "false");
  if (e.type == "events_api") {
    s += ",\"retry_attempt\":" + std::to_string(e.retry_attempt) +
         ",\"retry_reason\":" + json::quote(e.retry_reason);
  }
  return s + "}";
}

}  // namespace

struct FakeSocketMode::Impl : std::enable_shared_from_this<FakeSocketMode::Impl> {
  struct Conn {
    int id = 0;
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    std::deque<std::string> out;  // text frames waiting; out.front() is being written
    net::steady_timer ping_timer;
    net::steady_timer close_timer;
    bool open = true;
    explicit Conn(tcp::socket s)
        : ws(std::move(s)), ping_timer(ws.get_executor()), close_timer(ws.get_executor()) {}
  };

  Options options;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};  // io thread only, once started
  std::uint16_t port = 0;
  std::thread thread;

  // Guarded by mu; the Conn objects themselves are touched only on the io thread.
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::set<std::string> tickets;
  std::map<int, std::shared_ptr<Conn>> conns;  // open ones
  std::map<int, std::vector<std::string>> sent_frames;
  std::map<std::string, std::pair<SocketModeEnvelope, int>> envelopes;  // id -> (last sent, on)
  std::vector<SocketModeAck> acks;
  std::vector<std::string> unparsed;
  bool losing_acks = false;  // lose_acks(): acks are dropped on arrival
  // On the io thread only: what the destructor must close for run() to return.
  std::set<std::shared_ptr<beast::tcp_stream>> handshaking;
  std::set<std::shared_ptr<Conn>> accepting;
  bool stopping = false;
  int next_id = 1;
  int opened = 0;
  std::size_t turn = 0;  // round robin over open connections

  void accept();
  void handshake(tcp::socket socket);
  void start(std::shared_ptr<Conn> c);
  void read(std::shared_ptr<Conn> c);
  void on_text(const std::shared_ptr<Conn>& c, std::string text);
  void write(std::shared_ptr<Conn> c, std::string frame);  // io thread only
  void flush(std::shared_ptr<Conn> c);
  void ping(std::shared_ptr<Conn> c);
  void closed(const std::shared_ptr<Conn>& c);
  void shut_down();
  std::shared_ptr<Conn> pick(int connection, int avoid);  // under mu
  bool enqueue(int connection, std::string frame);
};

void FakeSocketMode::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) self->handshake(std::move(socket));
    self->accept();
  });
}

// Reads the upgrade request itself, so that a bad ticket is refused with 401 as
// Slack's servers refuse it, before any WebSocket is accepted.
void FakeSocketMode::Impl::handshake(tcp::socket socket) {
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  auto buffer = std::make_shared<beast::flat_buffer>();
  auto req = std::make_shared<bhttp::request<bhttp::string_body>>();
  stream->expires_after(std::chrono::seconds(10));
  handshaking.insert(stream);
  bhttp::async_read(*stream, *buffer, *req,
                    [self = shared_from_this(), stream, buffer, req](error_code ec, std::size_t) {
                      self->handshaking.erase(stream);
                      if (ec || self->stopping) return;
                      stream->expires_never();
                      std::string ticket = query_param(
                          std::string_view(req->target().data(), req->target().size()), "ticket");
                      bool valid = false;
                      {
                        std::lock_guard lock(self->mu);
                        valid = websocket::is_upgrade(*req) && self->tickets.erase(ticket) == 1;
                      }
                      if (!valid) {
                        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
                            bhttp::status::unauthorized, 11);
                        res->body() = "invalid ticket";
                        res->keep_alive(false);
                        res->prepare_payload();
                        bhttp::async_write(*stream, *res, [stream, res](error_code, std::size_t) {
                          error_code ignored;
                          stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
                        });
                        return;
                      }
                      auto c = std::make_shared<Conn>(stream->release_socket());
                      self->accepting.insert(c);
                      c->ws.async_accept(*req, [self, c, req](error_code accept_ec) {
                        self->accepting.erase(c);
                        if (!accept_ec && !self->stopping) self->start(c);
                      });
                    });
}

void FakeSocketMode::Impl::start(std::shared_ptr<Conn> c) {
  int n = 0;
  {
    std::lock_guard lock(mu);
    c->id = next_id++;
    ++opened;
    conns[c->id] = c;
    n = static_cast<int>(conns.size());
  }
  cv.notify_all();
  write(c, "{\"type\":\"hello\",\"num_connections\":" + std::to_string(n) +
               ",\"debug_info\":{\"host\":\"applink-fake\",\"build_number\":1,"
               "\"approximate_connection_time\":18060},\"connection_info\":{\"app_id\":" +
               json::quote(options.app_id) + "}}");
  read(c);
  ping(c);
}

void FakeSocketMode::Impl::read(std::shared_ptr<Conn> c) {
  c->ws.async_read(c->buffer, [self = shared_from_this(), c](error_code ec, std::size_t) {
    if (ec) return self->closed(c);
    std::string text = beast::buffers_to_string(c->buffer.data());
    c->buffer.consume(c->buffer.size());
    if (c->ws.got_text()) self->on_text(c, std::move(text));
    self->read(c);
  });
}

// An ack is an object holding a string envelope_id and, perhaps, a payload object.
void FakeSocketMode::Impl::on_text(const std::shared_ptr<Conn>& c, std::string text) {
  rapidjson::Document d;
  bool ack = json::parse(d, text).ok() && d.IsObject() && json::member(d, "type") == nullptr &&
             !json::str(d, "envelope_id").empty();
  const json::Value* payload = ack ? json::member(d, "payload") : nullptr;
  if (payload != nullptr && !payload->IsObject()) ack = false;
  std::lock_guard lock(mu);
  if (!ack) {
    unparsed.push_back(std::move(text));
  } else if (!losing_acks) {
    std::string p;
    if (payload != nullptr) {
      rapidjson::StringBuffer b;
      json::Writer w(b);
      payload->Accept(w);
      p = json::text(b);
    }
    acks.push_back({json::str(d, "envelope_id"), std::move(p), c->id, SteadyClock::now()});
  }
  cv.notify_all();
}

void FakeSocketMode::Impl::write(std::shared_ptr<Conn> c, std::string frame) {
  if (!c->open) return;
  {
    std::lock_guard lock(mu);
    sent_frames[c->id].push_back(frame);
  }
  c->out.push_back(std::move(frame));
  if (c->out.size() == 1) flush(std::move(c));
}

void FakeSocketMode::Impl::flush(std::shared_ptr<Conn> c) {
  c->ws.text(true);
  c->ws.async_write(net::buffer(c->out.front()),
                    [self = shared_from_this(), c](error_code ec, std::size_t) {
                      if (ec) return self->closed(c);
                      c->out.pop_front();
                      if (!c->out.empty()) self->flush(c);
                    });
}

// Slack pings every client; @slack/socket-mode reconnects when pings stop.
void FakeSocketMode::Impl::ping(std::shared_ptr<Conn> c) {
  c->ping_timer.expires_after(options.ping_interval);
  c->ping_timer.async_wait([self = shared_from_this(), c](error_code ec) {
    if (ec || !c->open) return;
    c->ws.async_ping({}, [](error_code) {});
    self->ping(c);
  });
}

void FakeSocketMode::Impl::closed(const std::shared_ptr<Conn>& c) {
  if (!c->open) return;
  c->open = false;
  c->ping_timer.cancel();
  c->close_timer.cancel();
  error_code ignored;
  beast::get_lowest_layer(c->ws).socket().close(ignored);
  {
    std::lock_guard lock(mu);
    conns.erase(c->id);
  }
  cv.notify_all();
}

std::shared_ptr<FakeSocketMode::Impl::Conn> FakeSocketMode::Impl::pick(int connection, int avoid) {
  if (connection != kAnyConnection) {
    auto it = conns.find(connection);
    return it == conns.end() ? nullptr : it->second;
  }
  if (conns.empty()) return nullptr;
  std::vector<std::shared_ptr<Conn>> open;
  for (auto& [id, c] : conns)
    if (id != avoid || conns.size() == 1) open.push_back(c);
  return open[turn++ % open.size()];
}

bool FakeSocketMode::Impl::enqueue(int connection, std::string frame) {
  std::shared_ptr<Conn> c;
  {
    std::lock_guard lock(mu);
    auto it = conns.find(connection);
    if (it == conns.end()) return false;
    c = it->second;
  }
  net::post(ioc, [self = shared_from_this(), c, frame = std::move(frame)]() mutable {
    self->write(c, std::move(frame));
  });
  return true;
}

// Closes everything, so that every pending operation ends and ioc.run() returns
// (the handlers hold the Impl; stopping the io_context instead would leak it).
void FakeSocketMode::Impl::shut_down() {
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  for (const auto& s : handshaking) s->socket().close(ignored);
  for (const auto& c : accepting) beast::get_lowest_layer(c->ws).socket().close(ignored);
  std::vector<std::shared_ptr<Conn>> open;
  {
    std::lock_guard lock(mu);
    for (auto& [id, c] : conns) open.push_back(c);
  }
  for (auto& c : open) closed(c);
}

FakeSocketMode::FakeSocketMode(Options options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  error_code ec;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "fake socket mode: %s\n", ec.message().c_str());
    return;
  }
  impl_->port = impl_->acceptor.local_endpoint(ec).port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_] { impl->ioc.run(); });
}

FakeSocketMode::~FakeSocketMode() {
  net::post(impl_->ioc, [impl = impl_] { impl->shut_down(); });
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t FakeSocketMode::port() const {
  return impl_->port;
}

std::string FakeSocketMode::open_url() {
  std::string ticket = uuid();
  {
    std::lock_guard lock(impl_->mu);
    impl_->tickets.insert(ticket);
  }
  return "ws://127.0.0.1:" + std::to_string(port()) + "/link/?ticket=" + ticket +
         "&app_id=" + impl_->options.app_id;
}

std::optional<std::string> FakeSocketMode::send(SocketModeEnvelope e, int connection) {
  if (e.envelope_id.empty()) e.envelope_id = uuid();
  int on = 0;
  {
    std::lock_guard lock(impl_->mu);
    auto c = impl_->pick(connection, 0);
    if (c == nullptr) return std::nullopt;
    on = c->id;
    impl_->envelopes[e.envelope_id] = {e, on};
  }
  if (!impl_->enqueue(on, envelope_json(e))) return std::nullopt;
  return e.envelope_id;
}

std::optional<SocketModeAck> FakeSocketMode::wait_ack(const std::string& envelope_id,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  std::optional<SocketModeAck> found;
  impl_->cv.wait_for(lock, timeout, [&] {
    for (const SocketModeAck& a : impl_->acks) {
      if (a.envelope_id == envelope_id) {
        found = a;
        return true;
      }
    }
    return false;
  });
  return found;
}

std::optional<SocketModeAck> FakeSocketMode::send_and_wait(SocketModeEnvelope e,
                                                           std::chrono::milliseconds timeout,
                                                           int connection) {
  auto id = send(std::move(e), connection);
  if (!id) return std::nullopt;
  return wait_ack(*id, timeout);
}

std::optional<std::string> FakeSocketMode::redeliver(const std::string& envelope_id, int connection,
                                                     const std::string& reason) {
  SocketModeEnvelope e;
  int on = 0;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->envelopes.find(envelope_id);
    if (it == impl_->envelopes.end()) return std::nullopt;
    auto c = impl_->pick(connection, it->second.second);
    if (c == nullptr) return std::nullopt;
    e = it->second.first;
    ++e.retry_attempt;
    e.retry_reason = reason;
    on = c->id;
    it->second = {e, on};
  }
  if (!impl_->enqueue(on, envelope_json(e))) return std::nullopt;
  return envelope_id;
}

bool FakeSocketMode::disconnect(int connection, const std::string& reason) {
  std::shared_ptr<Impl::Conn> c;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->conns.find(connection);
    if (it == impl_->conns.end()) return false;
    c = it->second;
  }
  net::post(impl_->ioc, [impl = impl_, c, reason] {
    impl->write(c, "{\"type\":\"disconnect\",\"reason\":" + json::quote(reason) +
                       ",\"debug_info\":{\"host\":\"applink-fake\"}}");
    c->close_timer.expires_after(impl->options.disconnect_grace);
    c->close_timer.async_wait([impl, c](error_code ec) {
      if (ec || !c->open) return;
      c->ws.async_close(websocket::close_code::going_away,
                        [impl, c](error_code) { impl->closed(c); });
    });
  });
  return true;
}

bool FakeSocketMode::drop(int connection) {
  std::shared_ptr<Impl::Conn> c;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->conns.find(connection);
    if (it == impl_->conns.end()) return false;
    c = it->second;
    impl_->conns.erase(it);  // not open from now on, for the caller too
  }
  net::post(impl_->ioc, [impl = impl_, c] { impl->closed(c); });
  return true;
}

int FakeSocketMode::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<int>(impl_->conns.size());
}

std::vector<int> FakeSocketMode::connections() const {
  std::lock_guard lock(impl_->mu);
  std::vector<int> ids;
  for (const auto& [id, c] : impl_->conns) ids.push_back(id);
  return ids;
}

int FakeSocketMode::connections_opened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->opened;
}

bool FakeSocketMode::wait_connections(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout,
                            [&] { return static_cast<int>(impl_->conns.size()) >= n; });
}

std::vector<SocketModeAck> FakeSocketMode::acks() const {
  std::lock_guard lock(impl_->mu);
  return impl_->acks;
}

std::vector<std::string> FakeSocketMode::unparsed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->unparsed;
}

std::vector<std::string> FakeSocketMode::sent(int connection) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->sent_frames.find(connection);
  return it == impl_->sent_frames.end() ? std::vector<std::string>{} : it->second;
}

void FakeSocketMode::lose_acks(bool lose) {
  std::lock_guard lock(impl_->mu);
  impl_->losing_acks = lose;
}

void FakeSocketMode::clear() {
  std::lock_guard lock(impl_->mu);
  impl_->acks.clear();
  impl_->unparsed.clear();
  impl_->sent_frames.clear();
  impl_->envelopes.clear();
  impl_->opened = 0;
}

}  // namespace tollgate::sandbox
