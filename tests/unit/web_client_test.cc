// The Slack Web API client against real local servers: TLS peer and host-name
// verification, Bearer and JSON charset, ok:false, 5xx retries, 429.
#include "slack/web_client.h"

#include <atomic>
#include <future>

#include <gtest/gtest.h>

#include "http/server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls.h"

namespace tollgate::slack {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

ApiResult call(WebClient& c, const std::string& method, const std::string& body = "{}") {
  std::promise<ApiResult> p;
  c.call(method, body, [&](ApiResult r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

// A local server answering every request with `answer(n)` for the n-th request.
struct LocalServer {
  std::atomic<int> requests{0};
  std::vector<http::Request> seen;
  std::mutex mu;
  std::function<http::Response(int)> answer;
  std::unique_ptr<http::Server> server;

  explicit LocalServer(std::function<http::Response(int)> a, std::string cert = {},
                       std::string key = {})
      : answer(std::move(a)) {
    http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.tls_cert_file = std::move(cert);
    o.tls_key_file = std::move(key);
    server = std::make_unique<http::Server>(o, [this](http::Request req, http::Respond respond) {
      int n = requests.fetch_add(1);
      {
        std::lock_guard lock(mu);
        seen.push_back(req);
      }
      respond(answer(n));
    });
    EXPECT_TRUE(server->start().ok());
  }
  ~LocalServer() { server->stop(100ms); }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(server->port()) + "/api";
  }
};

WebClientOptions options(const std::string& base) {
  WebClientOptions o;
  o.base_url = base;
  o.token = "xoxb-secret";
  o.backoff = 10ms;
  return o;
}

TEST(WebClient, SendsBearerAndJsonWithCharsetAndReadsOk) {
  LocalServer s([](int) { return http::Response::json(200, R"({"ok":true,"ts":"1.2"})"); });
  WebClient c(options(s.url()));
  ApiResult r = call(c, "chat.postMessage", R"({"channel":"C1","text":"hi"})");
  ASSERT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.body, R"({"ok":true,"ts":"1.2"})");
  std::lock_guard lock(s.mu);
  ASSERT_EQ(s.seen.size(), 1u);
  EXPECT_EQ(s.seen[0].path, "/api/chat.postMessage");
  EXPECT_EQ(*s.seen[0].header("authorization"), "Bearer xoxb-secret");
  EXPECT_EQ(*s.seen[0].header("content-type"), "application/json; charset=utf-8");
}

TEST(WebClient, OkFalseCarriesSlacksErrorCodeAndIsNotRetried) {
  LocalServer s(
      [](int) { return http::Response::json(200, R"({"ok":false,"error":"channel_not_found"})"); });
  WebClient c(options(s.url()));
  ApiResult r = call(c, "chat.postMessage");
  EXPECT_EQ(r.status.code(), Code::invalid_argument);
  EXPECT_EQ(r.error, "channel_not_found");
  EXPECT_EQ(s.requests.load(), 1);
}

TEST(WebClient, ServerErrorsAreRetriedWithBackoffThenSucceed) {
  LocalServer s([](int n) {
    return n < 2 ? http::Response::text(503, "busy") : http::Response::json(200, R"({"ok":true})");
  });
  WebClient c(options(s.url()));
  EXPECT_TRUE(call(c, "auth.test").ok());
  EXPECT_EQ(s.requests.load(), 3);
}

TEST(WebClient, ServerErrorsGiveUpAfterMaxAttempts) {
  LocalServer s([](int) { return http::Response::text(500, "down"); });
  WebClient c(options(s.url()));
  ApiResult r = call(c, "auth.test");
  EXPECT_EQ(r.status.code(), Code::unavailable);
  EXPECT_EQ(r.error, "http_500");
  EXPECT_EQ(s.requests.load(), 3);
}

TEST(WebClient, RateLimitIsReturnedWithRetryAfterOrWaitedWhenAllowed) {
  LocalServer s([](int n) {
    if (n == 0) {
      http::Response r = http::Response::json(429, R"({"ok":false,"error":"ratelimited"})");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return http::Response::json(200, R"({"ok":true})");
  });
  WebClient returns(options(s.url()));
  ApiResult r = call(returns, "chat.update");
  EXPECT_EQ(r.error, "ratelimited");
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, 1s);
  EXPECT_EQ(s.requests.load(), 1) << "not retried: the caller reschedules";

  s.requests = 0;
  WebClientOptions o = options(s.url());
  o.max_retry_after = 2s;
  WebClient waits(o);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(call(waits, "chat.update").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1s) << "no retry before Retry-After";
  EXPECT_EQ(s.requests.load(), 2);
}

TEST(WebClient, VerifiesTheServersCertificateAndName) {
  TempDir dir;
  auto good = testing::make_certificate(dir.path().string(), "ip", "IP:127.0.0.1");
  auto wrong_name = testing::make_certificate(dir.path().string(), "dns", "DNS:example.org");
  ASSERT_TRUE(good.ok && wrong_name.ok) << "the openssl command is needed";
  auto ok = [](int) { return http::Response::json(200, R"({"ok":true})"); };
  {
    LocalServer s(ok, good.cert, good.key);
    WebClient untrusted(options(s.url("https")));
    ApiResult r = call(untrusted, "auth.test");
    EXPECT_EQ(r.status.code(), Code::unavailable);
    EXPECT_NE(r.status.message().find("certificate verify failed"), std::string::npos)
        << r.status.to_string();
    // Trusting the certificate (as a CA file would in production) makes it work.
    ::setenv("SSL_CERT_FILE", good.cert.c_str(), 1);
    WebClient trusted(options(s.url("https")));
    ApiResult t = call(trusted, "auth.test");
    EXPECT_TRUE(t.ok()) << t.status.to_string();
    EXPECT_EQ(testing::https_get(s.server->port(), "/api/x", good.cert).status, 200);
  }
  {
    LocalServer s(ok, wrong_name.cert, wrong_name.key);
    ::setenv("SSL_CERT_FILE", wrong_name.cert.c_str(), 1);
    WebClient c(options(s.url("https")));
    ApiResult r = call(c, "auth.test");
    EXPECT_EQ(r.status.code(), Code::unavailable)
        << "a trusted certificate for another name is refused";
  }
  ::unsetenv("SSL_CERT_FILE");
}

TEST(WebClient, ResponseUrlsOnlyToSlack) {
  WebClient c(options("https://slack.com/api"));
  EXPECT_TRUE(c.allowed_response_url("https://hooks.slack.com/actions/T1/2/abc"));
  EXPECT_FALSE(c.allowed_response_url("https://hooks.slack.com.evil.test/actions"));
  EXPECT_FALSE(c.allowed_response_url("http://hooks.slack.com/actions/T1"));
  EXPECT_FALSE(c.allowed_response_url("https://169.254.169.254/latest/meta-data"));
  EXPECT_TRUE(c.allowed_response_url("https://slack.com/api/x"));
  std::promise<ApiResult> p;
  c.post_response_url("https://attacker.test/x", "{}", [&](ApiResult r) { p.set_value(r); });
  EXPECT_EQ(p.get_future().get().status.code(), Code::permission_denied);
}

}  // namespace
}  // namespace tollgate::slack
