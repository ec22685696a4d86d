#include "slack/socket_mode.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "base/json.h"
#include "base/metrics.h"
#include "http/net.h"
#include "slack/payloads.h"
#include "slack/web_client.h"

namespace tollgate::slack {

Status check_app_token(const std::string& token, const std::string& variable) {
  constexpr std::string_view kPrefix = "xapp-";
  bool printable = !token.empty();
  for (char c : token) printable = printable && c > ' ' && c < 127;
  if (token.size() <= kPrefix.size() || token.compare(0, kPrefix.size(), kPrefix) != 0 ||
      !printable) {
    return invalid_argument(
        variable + " must be an app-level token (xapp-…, with the scope connections:write)" +
        (token.rfind("xoxb-", 0) == 0 ? "; this is a bot token, which is SLACK_BOT_TOKEN's" : ""));
  }
  return {};
}

StatusOr<SocketMessage> parse_socket_message(std::string_view text) {
  rapidjson::Document doc;
  if (Status s = json::parse(doc, text); !s.ok()) return s;
  if (!doc.IsObject()) return invalid_argument("a Socket Mode message is a JSON object");
  SocketMessage m;
  m.type = json::str(doc, "type");
  if (m.type.empty()) return invalid_argument("a Socket Mode message without a type");
  if (m.type == "hello") {
    m.kind = SocketMessage::Kind::hello;
    return m;
  }
  if (m.type == "disconnect") {
    m.kind = SocketMessage::Kind::disconnect;
    m.reason = json::str(doc, "reason");
    return m;
  }
  SocketEnvelope& e = m.envelope;
  e.envelope_id = json::str(doc, "envelope_id");
  if (e.envelope_id.empty()) {
    m.kind = SocketMessage::Kind::other;
    return m;
  }
  const json::Value* payload = json::object(doc, "payload");
  if (payload == nullptr) return invalid_argument("envelope " + e.envelope_id + " has no payload");
  m.kind = SocketMessage::Kind::envelope;
  e.type = m.type;
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  payload->Accept(w);
  e.payload_json = json::text(buffer);
  e.accepts_response_payload = json::boolean(doc, "accepts_response_payload");
  e.retry_attempt = static_cast<int>(json::i64(doc, "retry_attempt"));
  e.retry_reason = json::str(doc, "retry_reason");
  return m;
}

namespace {

http::Request post(std::string path, std::string content_type, std::string body) {
  http::Request r;
  r.method = "POST";
  r.target = path;
  r.path = std::move(path);
  r.headers = {{"content-type", std::move(content_type)}};
  r.body = std::move(body);
  r.remote = "socket-mode";
  return r;
}

constexpr const char* kForm = "application/x-www-form-urlencoded";

}  // namespace

StatusOr<http::Request> envelope_request(const SocketEnvelope& e) {
  if (e.type == "events_api") return post("/slack/events", "application/json", e.payload_json);
  if (e.type == "interactive") {
    auto r = post("/slack/interactions", kForm, form_encode({{"payload", e.payload_json}}));
    r.headers.emplace_back(kEnvelopeIdHeader, e.envelope_id);
    return r;
  }
  if (e.type != "slash_commands") return invalid_argument("unknown envelope type " + e.type);
  // A command's payload holds the fields of the form Slack would have posted.
  rapidjson::Document doc;
  if (Status s = json::parse(doc, e.payload_json); !s.ok()) return s;
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& m : doc.GetObject()) {
    if (m.value.IsNull()) continue;
    if (!m.value.IsString())
      return invalid_argument(std::string("slash command field ") + m.name.GetString() +
                              " is not a string");
    fields.emplace_back(m.name.GetString(), m.value.GetString());
  }
  auto r = post("/slack/commands", kForm, form_encode(fields));
  r.headers.emplace_back(kEnvelopeIdHeader, e.envelope_id);
  return r;
}

std::optional<std::string> envelope_ack(const SocketEnvelope& e, const http::Response& r) {
  if (r.status < 200 || r.status >= 500 || (r.status >= 300 && r.status < 400)) return std::nullopt;
  std::string ack = "{\"envelope_id\":" + json::quote(e.envelope_id);
  bool json_body =
      r.status < 300 && !r.body.empty() && r.content_type.rfind("application/json", 0) == 0;
  if (e.accepts_response_payload && json_body) {
    rapidjson::Document doc;
    // Our own JSON; checked all the same, so that an ack is always valid JSON.
    if (json::parse(doc, r.body).ok() && doc.IsObject()) ack += ",\"payload\":" + r.body;
  }
  return ack + "}";
}

EnvelopeDedupe::EnvelopeDedupe(std::size_t capacity, std::chrono::seconds ttl)
    : capacity_(std::max<std::size_t>(1, capacity)), ttl_(ttl) {}

void EnvelopeDedupe::expire(std::chrono::steady_clock::time_point now) {
  while (!order_.empty() && (order_.size() > capacity_ || now - order_.front().at >= ttl_)) {
    index_.erase(order_.front().id);
    order_.pop_front();
  }
}

EnvelopeDedupe::Seen EnvelopeDedupe::see(const std::string& id,
                                         std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  expire(now);
  if (auto it = index_.find(id); it != index_.end())
    return it->second->answered ? Seen::acked : Seen::in_flight;
  order_.push_back({id, now, std::nullopt, false});
  index_[id] = std::prev(order_.end());
  expire(now);
  return Seen::first;
}

void EnvelopeDedupe::done(const std::string& id, std::optional<std::string> ack) {
  std::lock_guard lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return;
  if (!ack) {
    order_.erase(it->second);
    index_.erase(it);
    return;
  }
  it->second->answered = true;
  it->second->ack = std::move(ack);
}

std::optional<std::string> EnvelopeDedupe::ack_of(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = index_.find(id);
  return it == index_.end() ? std::nullopt : it->second->ack;
}

std::size_t EnvelopeDedupe::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

// ---------------------------------------------------------------------------
// The client.

namespace {

namespace websocket = beast::websocket;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

struct WsUrl {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;
};

// "localhost", or a loopback address (127.0.0.0/8, ::1); not a name that
// merely starts with "127.".
bool loopback_host(std::string host) {
  if (host == "localhost") return true;
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  error_code ec;
  auto address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

StatusOr<WsUrl> parse_ws_url(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (u.has_error()) return invalid_argument("apps.connections.open: not a URL: " + url);
  WsUrl w;
  std::string scheme(u->scheme());
  w.host = std::string(u->host());
  if (scheme == "wss") {
    w.tls = true;
  } else if (scheme == "ws" && loopback_host(w.host)) {
    w.tls = false;  // the fake Slack on this machine
  } else {
    return invalid_argument("apps.connections.open: refusing " + scheme + "://" + w.host +
                            " (wss:// only; ws:// on loopback)");
  }
  if (w.host.empty()) return invalid_argument("apps.connections.open: a URL without a host");
  if (w.host.size() >= 2 && w.host.front() == '[') w.host = w.host.substr(1, w.host.size() - 2);
  w.port = u->has_port() ? std::string(u->port()) : (w.tls ? "443" : "80");
  w.target = std::string(u->encoded_path());
  if (w.target.empty()) w.target = "/";
  if (u->has_query()) w.target += "?" + std::string(u->encoded_query());
  return w;
}

}  // namespace

Status check_socket_url(const std::string& url) {
  return parse_ws_url(url).status();
}

namespace {

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<ssl::stream<beast::tcp_stream>>;

}  // namespace

struct SocketModeClient::Impl : std::enable_shared_from_this<SocketModeClient::Impl> {
  // One WebSocket: plain (loopback) or TLS.
  struct Conn {
    int slot = 0;
    std::unique_ptr<PlainWs> plain;
    std::unique_ptr<TlsWs> tls;
    bool hello = false;
    bool closing = false;  // the close handshake has begun
    // Replaced: closed once its successor has said hello and its own
    // envelopes in flight are acknowledged on it.
    bool retired = false;
    int pending = 0;  // envelopes received here whose handler has not answered
    bool open = true;
    std::deque<std::string> outbox;  // acks waiting to be written, one write at a time
    bool writing = false;
  };
  using ConnPtr = std::shared_ptr<Conn>;

  SocketModeOptions options;
  http::Handler handler;
  Metrics* metrics;
  std::unique_ptr<WebClient> web;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::thread thread;
  std::mt19937 rng{std::random_device{}()};
  EnvelopeDedupe dedupe;
  std::vector<ConnPtr> conns;  // only on the client thread
  std::atomic<bool> stopping{false};
  std::atomic<int> open_sockets{0};  // connected and not yet ended

  mutable std::mutex mu_;  // guards what health() and stop() read
  std::condition_variable idle_cv;
  int in_flight = 0;
  int connected = 0;
  std::uint64_t envelopes = 0;
  std::uint64_t reconnects = 0;
  std::optional<std::chrono::system_clock::time_point> last_envelope;

  Impl(SocketModeOptions o, http::Handler h, Metrics* m)
      : options(std::move(o)),
        handler(std::move(h)),
        metrics(m),
        dedupe(options.dedupe_capacity, options.dedupe_ttl) {
    configure_tls_client(tls_ctx);
  }

  void count(const std::string& name, Metrics::Labels labels = {}) {
    if (metrics != nullptr) metrics->inc(name, labels);
  }

  // apps.connections.open through the Web API client, awaited on our thread.
  net::awaitable<StatusOr<std::string>> open_url() {
    auto result = std::make_shared<std::optional<ApiResult>>();
    auto timer =
        std::make_shared<net::steady_timer>(ioc, std::chrono::steady_clock::time_point::max());
    web->call("apps.connections.open", "{}", [this, result, timer](ApiResult r) {
      net::post(ioc, [result, timer, r = std::move(r)]() mutable {
        *result = std::move(r);
        timer->cancel();
      });
    });
    while (!*result) {
      co_await timer->async_wait(kTuple);
      if (stopping && !*result) co_return unavailable("stopping");
    }
    ApiResult& r = **result;
    if (r.retry_after) retry_after = *r.retry_after;  // rate-limited: no sooner than Slack says
    if (!r.ok()) co_return unavailable("apps.connections.open: " + r.status.to_string());
    rapidjson::Document doc;
    if (!json::parse(doc, r.body).ok()) co_return unavailable("apps.connections.open: bad JSON");
    std::string url = json::str(doc, "url");
    if (url.empty()) co_return unavailable("apps.connections.open: no url");
    co_return url;
  }

  template <class Ws>
  void configure(Ws& ws) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = options.connect_timeout;
    // Nothing heard within idle_timeout: closed. A ping at half of it asks the peer.
    t.idle_timeout = options.idle_timeout;
    t.keep_alive_pings = true;
    ws.set_option(t);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(bhttp::field::user_agent, "tollgate"); }));
    // Slack's payloads are those of HTTP mode, well under 256 KiB (process.cc,
    // kSlackBodyLimit); a larger message ends the connection.
    ws.read_message_max(1024 * 1024);
  }

  net::awaitable<StatusOr<ConnPtr>> connect(int slot, const WsUrl& url) {
    auto conn = std::make_shared<Conn>();
    conn->slot = slot;
    tcp::resolver resolver(ioc);
    auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, kTuple);
    if (rec) co_return unavailable("cannot resolve " + url.host + ": " + rec.message());
    std::string host = url.host + ":" + url.port;
    if (url.tls) {
      conn->tls = std::make_unique<TlsWs>(ioc, tls_ctx);
      auto& stream = conn->tls->next_layer();
      // SNI, and the certificate must name the host (as the Web API client does).
      if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
        co_return unavailable("cannot set SNI for " + url.host);
      stream.set_verify_callback(ssl::host_name_verification(url.host));
      beast::get_lowest_layer(*conn->tls).expires_after(options.connect_timeout);
      auto [cec, ep] = co_await beast::get_lowest_layer(*conn->tls).async_connect(results, kTuple);
      if (cec) co_return unavailable("cannot connect to " + host + ": " + cec.message());
      auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
      if (hec) co_return unavailable("TLS handshake with " + url.host + ": " + hec.message());
      beast::get_lowest_layer(*conn->tls).expires_never();
      configure(*conn->tls);
      auto [wec] = co_await conn->tls->async_handshake(url.host, url.target, kTuple);
      if (wec) co_return unavailable("WebSocket handshake with " + url.host + ": " + wec.message());
    } else {
      conn->plain = std::make_unique<PlainWs>(ioc);
      beast::get_lowest_layer(*conn->plain).expires_after(options.connect_timeout);
      auto [cec, ep] =
          co_await beast::get_lowest_layer(*conn->plain).async_connect(results, kTuple);
      if (cec) co_return unavailable("cannot connect to " + host + ": " + cec.message());
      beast::get_lowest_layer(*conn->plain).expires_never();
      configure(*conn->plain);
      auto [wec] = co_await conn->plain->async_handshake(host, url.target, kTuple);
      if (wec) co_return unavailable("WebSocket handshake with " + host + ": " + wec.message());
    }
    co_return conn;
  }

  net::awaitable<std::tuple<error_code, std::size_t>> read(Conn& c, beast::flat_buffer& b) {
    if (c.tls) co_return co_await c.tls->async_read(b, kTuple);
    co_return co_await c.plain->async_read(b, kTuple);
  }

  void close(const ConnPtr& c) {
    if (!c->open || c->closing) return;
    c->closing = true;
    auto self = shared_from_this();
    net::co_spawn(
        ioc,
        [self, c]() -> net::awaitable<void> {
          websocket::close_reason why(websocket::close_code::normal);
          if (c->tls)
            co_await c->tls->async_close(why, kTuple);
          else
            co_await c->plain->async_close(why, kTuple);
        },
        net::detached);
  }

  void send(const ConnPtr& c, std::string text) {
    // On the connection it came from; if that one is gone, any open one.
    ConnPtr target = c;
    if (!target->open) {
      target = nullptr;
      for (const ConnPtr& o : conns)
        if (o->open && o->hello) target = o;
      if (target == nullptr) {
        spdlog::warn("socket mode: no open connection for an ack; Slack will deliver again");
        return;
      }
    }
    target->outbox.push_back(std::move(text));
    if (target->writing) return;
    target->writing = true;
    net::co_spawn(ioc, write_all(target), net::detached);
  }

  net::awaitable<void> write_all(ConnPtr c) {
    while (!c->outbox.empty() && c->open) {
      std::string text = std::move(c->outbox.front());
      c->outbox.pop_front();
      auto [ec, n] = c->tls ? co_await c->tls->async_write(net::buffer(text), kTuple)
                            : co_await c->plain->async_write(net::buffer(text), kTuple);
      if (ec) {
        spdlog::warn("socket mode: writing an ack failed: {}", ec.message());
        break;
      }
      count("tollgate_socket_acks_total",
            {{"payload", text.find("\"payload\"") != std::string::npos ? "yes" : "no"}});
    }
    c->writing = false;
  }

  void on_envelope(const ConnPtr& c, const SocketEnvelope& e) {
    {
      std::lock_guard lock(mu_);
      ++envelopes;
      last_envelope = std::chrono::system_clock::now();
    }
    count("tollgate_socket_envelopes_total", {{"type", e.type}});
    if (stopping) return;  // not acknowledged: Slack delivers it again
    switch (dedupe.see(e.envelope_id, std::chrono::steady_clock::now())) {
      case EnvelopeDedupe::Seen::in_flight:
        count("tollgate_socket_duplicates_total", {{"state", "in_flight"}});
        return;  // the first one's ack answers it
      case EnvelopeDedupe::Seen::acked:
        count("tollgate_socket_duplicates_total", {{"state", "acked"}});
        if (auto ack = dedupe.ack_of(e.envelope_id)) send(c, *ack);
        return;
      case EnvelopeDedupe::Seen::first:
        break;
    }
    auto req = envelope_request(e);
    if (!req.ok()) {
      spdlog::warn("socket mode: envelope {} ignored: {}", e.envelope_id, req.status().message());
      std::string ack = "{\"envelope_id\":" + json::quote(e.envelope_id) + "}";
      dedupe.done(e.envelope_id, ack);
      return send(c, ack);
    }
    {
      std::lock_guard lock(mu_);
      ++in_flight;
    }
    ++c->pending;
    auto self = shared_from_this();
    // The handler answers once, from any thread (a store's completion, say).
    handler(std::move(*req), [self, c, e](http::Response r) {
      net::post(self->ioc, [self, c, e, r = std::move(r)] { self->answered(c, e, r); });
    });
  }

  void answered(const ConnPtr& c, const SocketEnvelope& e, const http::Response& r) {
    std::optional<std::string> ack = envelope_ack(e, r);
    dedupe.done(e.envelope_id, ack);
    if (ack) {
      send(c, *ack);
    } else {
      count("tollgate_socket_unacknowledged_total");
      spdlog::warn("socket mode: envelope {} not acknowledged (HTTP {}); Slack delivers it again",
                   e.envelope_id, r.status);
    }
    if (--c->pending == 0 && c->retired) close(c);  // after the ack just queued
    {
      std::lock_guard lock(mu_);
      --in_flight;
    }
    idle_cv.notify_all();
  }

  // One message from Slack. `replaced`: whether this connection's successor
  // has been asked for already (a second disconnect asks for none).
  void on_message(const ConnPtr& c, const SocketMessage& m, bool& replaced) {
    switch (m.kind) {
      case SocketMessage::Kind::hello:
        c->hello = true;
        failures[c->slot] = 0;
        set_connected(+1);
        return retire_predecessors(c);
      case SocketMessage::Kind::disconnect:
        count("tollgate_socket_disconnects_total", {{"reason", m.reason}});
        spdlog::info("socket mode: Slack asks connection {} to reconnect ({})", c->slot, m.reason);
        if (replaced || stopping) return;
        replaced = true;
        net::co_spawn(ioc, run_slot(c->slot, "disconnect"), net::detached);
        return;
      case SocketMessage::Kind::envelope:
        return on_envelope(c, m.envelope);
      case SocketMessage::Kind::other:
        return;  // a type Slack may add later
    }
  }

  // Reads one connection until it ends. On a disconnect the replacement is
  // opened at once, and this one is still read until the replacement says
  // hello and this one's envelopes are acknowledged (retire_predecessors). A
  // connection lost otherwise is replaced when it ends, with backoff.
  net::awaitable<void> read_loop(ConnPtr c) {
    beast::flat_buffer buffer;
    bool replaced = false;
    for (;;) {
      auto [ec, n] = co_await read(*c, buffer);
      if (ec) {
        if (!c->closing && !stopping)
          spdlog::warn("socket mode: connection {} lost: {}", c->slot, ec.message());
        break;
      }
      auto m = parse_socket_message(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      if (m.ok()) {
        on_message(c, *m, replaced);
      } else {
        spdlog::warn("socket mode: unreadable message: {}", m.status().message());
      }
    }
    c->open = false;
    --open_sockets;
    if (c->hello) set_connected(-1);
    c->hello = false;
    // Lost without a disconnect (or refused before hello): this slot connects again.
    if (!replaced && !stopping) {
      ++failures[c->slot];
      net::co_spawn(ioc, run_slot(c->slot, "lost"), net::detached);
    }
  }

  SocketModeHealth health_snapshot() const {
    std::lock_guard lock(mu_);
    SocketModeHealth h;
    h.wanted = options.connections;
    h.connected = connected;
    h.last_envelope = last_envelope;
    h.envelopes = envelopes;
    h.reconnects = reconnects;
    return h;
  }

  void set_connected(int delta) {
    std::lock_guard lock(mu_);
    connected += delta;
  }

  // A new connection said hello: the one it replaces in its slot is closed
  // now, or once the envelopes it carried are acknowledged on it.
  void retire_predecessors(const ConnPtr& c) {
    for (const ConnPtr& o : conns) {
      if (o == c || o->slot != c->slot || !o->open) continue;
      o->retired = true;
      if (o->pending == 0) close(o);
    }
    std::erase_if(conns, [](const ConnPtr& o) { return !o->open && !o->writing; });
  }

  // Consecutive failures of each slot (reset by a hello): the backoff's exponent.
  std::map<int, int> failures;
  // apps.connections.open's last Retry-After (it is a Tier 1 method): the
  // next attempt waits at least this long.
  std::chrono::milliseconds retry_after{0};

  std::chrono::milliseconds backoff(int failed) {
    if (failed <= 0) return std::chrono::milliseconds(0);
    auto wait = options.backoff * (1LL << std::min(failed - 1, 16));
    wait = std::min<std::chrono::milliseconds>(wait, options.max_backoff);
    std::uniform_int_distribution<long long> d(0, wait.count() / 4 + 1);
    return wait + std::chrono::milliseconds(d(rng));
  }

  net::awaitable<StatusOr<ConnPtr>> open_connection(int slot) {
    auto url = co_await open_url();
    if (!url.ok()) co_return url.status();
    auto parsed = parse_ws_url(*url);
    if (!parsed.ok()) co_return parsed.status();
    co_return co_await connect(slot, *parsed);
  }

  // Opens a connection for `slot` (after the backoff its failures call for,
  // and again with more until one opens) and reads it.
  // `cause`: why it connects again ("disconnect", "lost"); empty at start.
  net::awaitable<void> run_slot(int slot, std::string cause) {
    if (!cause.empty()) {
      {
        std::lock_guard lock(mu_);
        ++reconnects;
      }
      count("tollgate_socket_reconnects_total", {{"cause", cause}});
    }
    while (!stopping) {
      auto wait = std::max(backoff(failures[slot]), std::exchange(retry_after, {}));
      if (wait.count() > 0) {
        net::steady_timer t(ioc, wait);
        co_await t.async_wait(kTuple);
        if (stopping) co_return;
      }
      StatusOr<ConnPtr> conn = co_await open_connection(slot);
      if (stopping) co_return;
      if (!conn.ok()) {
        ++failures[slot];
        spdlog::warn("socket mode: connection {}: {}", slot, conn.status().message());
        continue;
      }
      conns.push_back(*conn);
      ++open_sockets;
      co_await read_loop(*conn);
      co_return;  // read_loop has started what comes next
    }
  }

  void start() {
    work.emplace(ioc.get_executor());
    for (int slot = 0; slot < options.connections; ++slot)
      net::co_spawn(ioc, run_slot(slot, ""), net::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  int stop(std::chrono::milliseconds grace) {
    stopping = true;
    int left = 0;
    {
      std::unique_lock lock(mu_);
      idle_cv.wait_for(lock, grace, [this] { return in_flight == 0; });
      left = in_flight;
    }
    // The acks just posted are written before the connections are closed
    // (the close is queued behind them); the closing handshakes get a second.
    net::post(ioc, [self = shared_from_this()] {
      for (const ConnPtr& c : self->conns) self->close(c);
    });
    for (int i = 0; i < 100 && open_sockets > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    work.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
    if (web) web->stop();
    return left;
  }
};

SocketModeClient::SocketModeClient(SocketModeOptions options, http::Handler handler,
                                   Metrics* metrics)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler), metrics)) {}

SocketModeClient::~SocketModeClient() {
  if (impl_->thread.joinable()) impl_->stop(std::chrono::milliseconds(0));
}

Status SocketModeClient::start() {
  Impl& s = *impl_;
  if (Status t = check_app_token(s.options.app_token, "SLACK_APP_TOKEN"); !t.ok()) return t;
  if (s.options.connections < 1 || s.options.connections > 10)
    return invalid_argument("Socket Mode holds 1 to 10 connections, not " +
                            std::to_string(s.options.connections));
  WebClientOptions wo;
  wo.base_url = s.options.api_url;
  wo.token = s.options.app_token;  // apps.connections.open takes the app-level token
  s.web = std::make_unique<WebClient>(wo);
  if (s.metrics != nullptr) {
    s.metrics->describe("tollgate_socket_envelopes_total", "counter",
                        "Socket Mode envelopes received, by type");
    s.metrics->describe("tollgate_socket_acks_total", "counter",
                        "Socket Mode envelopes acknowledged, by whether a payload was sent");
    s.metrics->describe("tollgate_socket_duplicates_total", "counter",
                        "Socket Mode envelopes delivered again, by the first one's state");
    s.metrics->describe("tollgate_socket_unacknowledged_total", "counter",
                        "Socket Mode envelopes left unacknowledged (5xx), for Slack to retry");
    s.metrics->describe("tollgate_socket_disconnects_total", "counter",
                        "Socket Mode disconnect messages from Slack, by reason");
    std::weak_ptr<Impl> weak = impl_;
    s.metrics->gauge("tollgate_socket_connections", "Socket Mode connections open (said hello)",
                     [weak] {
                       auto self = weak.lock();
                       return self ? static_cast<double>(self->health_snapshot().connected) : 0.0;
                     });
    s.metrics->describe("tollgate_socket_reconnects_total", "counter",
                        "Socket Mode connections opened again, by cause (disconnect, lost)");
  }
  s.start();
  return {};
}

int SocketModeClient::stop(std::chrono::milliseconds grace) {
  if (!impl_->thread.joinable()) return 0;
  return impl_->stop(grace);
}

SocketModeHealth SocketModeClient::health() const {
  return impl_->health_snapshot();
}

}  // namespace tollgate::slack
