#include "slack/web_client.h"

#include <map>
#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include "base/json.h"
#include "http/net.h"
#include "slack/payloads.h"

namespace tollgate::slack {
namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

struct Endpoint {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;  // path and query

  std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

StatusOr<Endpoint> parse_endpoint(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (u.has_error()) return invalid_argument("not an absolute URL: " + url);
  Endpoint e;
  std::string scheme(u->scheme());
  if (scheme == "https") {
    e.tls = true;
  } else if (scheme == "http") {
    e.tls = false;
  } else {
    return invalid_argument("unsupported URL scheme: " + scheme);
  }
  e.host = std::string(u->host());
  e.port = u->has_port() ? std::string(u->port()) : (e.tls ? "443" : "80");
  e.target = std::string(u->encoded_path());
  if (e.target.empty()) e.target = "/";
  if (u->has_query()) e.target += "?" + std::string(u->encoded_query());
  if (e.host.empty()) return invalid_argument("URL without a host: " + url);
  return e;
}

// One keep-alive connection, plain or TLS.
struct Conn {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

struct Call {
  bhttp::verb verb = bhttp::verb::post;
  Endpoint endpoint;
  std::string body;
  bool json = true;
  bool auth = true;
  bool json_result = true;  // Web API methods answer {"ok": ...}; response_urls need only a 200
};

}  // namespace

struct WebClient::Impl : std::enable_shared_from_this<WebClient::Impl> {
  WebClientOptions options;
  Endpoint base;
  bool base_ok = false;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle;  // only on the client thread
  std::thread thread;
  std::mt19937 rng{std::random_device{}()};

  explicit Impl(WebClientOptions o) : options(std::move(o)) {
    auto e = parse_endpoint(options.base_url);
    if (e.ok()) {
      base = *e;
      base_ok = true;
      while (!base.target.empty() && base.target.back() == '/') base.target.pop_back();
    }
    configure_tls_client(tls_ctx);
    work.emplace(ioc.get_executor());
    thread = std::thread([this] { ioc.run(); });
  }

  std::chrono::milliseconds jitter(std::chrono::milliseconds upto) {
    std::uniform_int_distribution<long long> d(0, std::max<long long>(1, upto.count()));
    return std::chrono::milliseconds(d(rng));
  }

  net::awaitable<void> sleep(std::chrono::milliseconds d) {
    net::steady_timer t(ioc, d);
    co_await t.async_wait(kTuple);
  }

  net::awaitable<std::unique_ptr<Conn>> connect(const Endpoint& e, Status& failure) {
    auto conn = std::make_unique<Conn>();
    tcp::resolver resolver(ioc);
    auto [rec, results] = co_await resolver.async_resolve(e.host, e.port, kTuple);
    if (rec) {
      failure = unavailable("cannot resolve " + e.host + ": " + rec.message());
      co_return nullptr;
    }
    if (e.tls) {
      conn->tls = std::make_unique<ssl::stream<beast::tcp_stream>>(ioc, tls_ctx);
      // SNI, and the certificate must name the host.
      if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), e.host.c_str())) {
        failure = unavailable("cannot set SNI for " + e.host);
        co_return nullptr;
      }
      conn->tls->set_verify_callback(ssl::host_name_verification(e.host));
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(ioc);
    }
    conn->lowest().expires_after(options.connect_timeout);
    auto [cec, ep] = co_await conn->lowest().async_connect(results, kTuple);
    if (cec) {
      failure = unavailable("cannot connect to " + e.key() + ": " + cec.message());
      co_return nullptr;
    }
    if (e.tls) {
      conn->lowest().expires_after(options.connect_timeout);
      auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kTuple);
      if (hec) {
        failure = unavailable("TLS handshake with " + e.host + " failed: " + hec.message());
        co_return nullptr;
      }
    }
    co_return conn;
  }

  // One exchange on one connection. `network` is set when the connection failed.
  net::awaitable<ApiResult> exchange(Conn& conn, const Call& c, bool& network, bool& keep) {
    bhttp::request<bhttp::string_body> req{c.verb, c.endpoint.target, 11};
    req.set(bhttp::field::host, c.endpoint.host);
    req.set(bhttp::field::user_agent, "tollgate");
    if (c.auth && !options.token.empty())
      req.set(bhttp::field::authorization, "Bearer " + options.token);
    if (c.verb == bhttp::verb::post) {
      req.set(bhttp::field::content_type,
              c.json ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded");
      req.body() = c.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    conn.lowest().expires_after(options.request_timeout);
    bhttp::response<bhttp::string_body> res;
    auto [wec, wn] = c.endpoint.tls ? co_await bhttp::async_write(*conn.tls, req, kTuple)
                                    : co_await bhttp::async_write(*conn.plain, req, kTuple);
    ApiResult r;
    if (wec) {
      network = true;
      r.status = unavailable("write failed: " + wec.message());
      r.error = "network";
      co_return r;
    }
    auto [rec, rn] = c.endpoint.tls
                         ? co_await bhttp::async_read(*conn.tls, conn.buffer, res, kTuple)
                         : co_await bhttp::async_read(*conn.plain, conn.buffer, res, kTuple);
    if (rec) {
      network = true;
      r.status = unavailable("read failed: " + rec.message());
      r.error = "network";
      co_return r;
    }
    keep = res.keep_alive();
    r.http_status = static_cast<int>(res.result_int());
    r.body = std::move(res.body());
    if (r.http_status == 429) {
      long long secs = 1;
      if (auto it = res.find(bhttp::field::retry_after); it != res.end()) {
        try {
          secs = std::max(0LL, std::stoll(std::string(it->value())));
        } catch (...) {
          secs = 1;
        }
      }
      r.retry_after = std::chrono::seconds(secs);
      r.error = "ratelimited";
      r.status = unavailable("rate limited; retry after " + std::to_string(secs) + "s");
    } else if (r.http_status >= 500) {
      r.error = "http_" + std::to_string(r.http_status);
      r.status = unavailable("Slack answered HTTP " + std::to_string(r.http_status));
    } else if (r.http_status != 200) {
      r.error = "http_" + std::to_string(r.http_status);
      r.status = {r.http_status == 404 ? Code::not_found : Code::invalid_argument,
                  "Slack answered HTTP " + std::to_string(r.http_status)};
    } else if (c.json_result) {
      rapidjson::Document doc;
      if (!json::parse(doc, r.body).ok() || !doc.IsObject()) {
        r.error = "invalid_response";
        r.status = unavailable("Slack's answer is not JSON");
      } else if (!json::boolean(doc, "ok")) {
        r.error = json::str(doc, "error");
        if (r.error.empty()) r.error = "unknown_error";
        r.status = invalid_argument("Slack refused: " + r.error);
      }
    }
    co_return r;
  }

  net::awaitable<ApiResult> once(const Call& c) {
    std::string key = c.endpoint.key();
    for (int fresh = 0; fresh < 2; ++fresh) {
      std::unique_ptr<Conn> conn;
      bool reused = false;
      auto& pool = idle[key];
      if (!pool.empty()) {
        conn = std::move(pool.back());
        pool.pop_back();
        reused = true;
      } else {
        Status failure;
        conn = co_await connect(c.endpoint, failure);
        if (!conn) {
          ApiResult r;
          r.status = failure;
          r.error = "network";
          co_return r;
        }
      }
      bool network = false;
      bool keep = false;
      ApiResult r = co_await exchange(*conn, c, network, keep);
      // A kept-alive connection the server has since closed: try once more on a new one.
      if (network && reused) continue;
      if (!network && keep && static_cast<int>(idle[key].size()) < options.max_idle_per_host) {
        idle[key].push_back(std::move(conn));
      }
      co_return r;
    }
    ApiResult r;
    r.status = unavailable("connection lost");
    r.error = "network";
    co_return r;
  }

  net::awaitable<ApiResult> perform(Call c) {
    ApiResult r;
    for (int attempt = 1;; ++attempt) {
      r = co_await once(c);
      if (r.ok() || attempt >= options.max_attempts) break;
      if (r.http_status == 429) {
        if (*r.retry_after > options.max_retry_after) break;
        co_await sleep(*r.retry_after + jitter(std::chrono::milliseconds(250)));
        continue;
      }
      if (r.status.code() != Code::unavailable) break;  // Slack said no: retrying will not help
      auto backoff = options.backoff * (1 << (attempt - 1));
      co_await sleep(backoff + jitter(backoff));
    }
    co_return r;
  }

  void start(Call c, Done done) {
    net::co_spawn(ioc, perform(std::move(c)),
                  [done = std::move(done)](std::exception_ptr e, ApiResult r) {
                    if (e) {
                      r = ApiResult{};
                      r.status = internal_error("Slack client failure");
                      r.error = "internal";
                    }
                    done(std::move(r));
                  });
  }
};

WebClient::WebClient(WebClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

WebClient::~WebClient() {
  stop();
}

void WebClient::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

void WebClient::call(const std::string& method, std::string json_body, Done done) {
  if (!impl_->base_ok) {
    done({invalid_argument("bad Slack API base URL " + impl_->options.base_url),
          "config",
          0,
          {},
          {}});
    return;
  }
  Call c;
  c.endpoint = impl_->base;
  c.endpoint.target = impl_->base.target + "/" + method;
  c.body = std::move(json_body);
  impl_->start(std::move(c), std::move(done));
}

void WebClient::get(const std::string& method,
                    const std::vector<std::pair<std::string, std::string>>& query, Done done) {
  if (!impl_->base_ok) {
    done({invalid_argument("bad Slack API base URL " + impl_->options.base_url),
          "config",
          0,
          {},
          {}});
    return;
  }
  Call c;
  c.verb = bhttp::verb::get;
  c.endpoint = impl_->base;
  c.endpoint.target =
      impl_->base.target + "/" + method + (query.empty() ? "" : "?" + form_encode(query));
  impl_->start(std::move(c), std::move(done));
}

bool WebClient::allowed_response_url(const std::string& url) const {
  auto e = parse_endpoint(url);
  if (!e.ok()) return false;
  if (e->tls && e->host == "hooks.slack.com" && e->port == "443") return true;
  return impl_->base_ok && e->tls == impl_->base.tls && e->host == impl_->base.host &&
         e->port == impl_->base.port;
}

void WebClient::post_response_url(const std::string& url, std::string json_body, Done done) {
  if (!allowed_response_url(url)) {
    done({permission_denied("response_url is not Slack's: " + url), "forbidden_url", 0, {}, {}});
    return;
  }
  Call c;
  c.endpoint = *parse_endpoint(url);
  c.body = std::move(json_body);
  c.auth = false;
  c.json_result = false;
  impl_->start(std::move(c), std::move(done));
}

}  // namespace tollgate::slack
