// Socket Mode (slack/socket_mode.h): envelopes parsed from Slack's own
// fixtures, the HTTP request each stands for, the acknowledgement of each
// answer, the deduplication of redelivered envelopes; then the client against
// the fake Slack's Socket Mode server (sandbox/fake_socket_mode.h), with
// a handler standing in for the router.
#include "slack/socket_mode.h"

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "http/server.h"
#include "base/metrics.h"
#include "http/net.h"
#include "sandbox/fake_slack.h"
#include "slack/payloads.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls.h"

namespace tollgate::slack {
namespace {

using namespace std::chrono_literals;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(TOLLGATE_SLACK_FIXTURES) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SocketModeToken, AcceptsAnAppTokenAndNamesTheVariableOtherwise) {
  EXPECT_TRUE(check_app_token("xapp-1-A0TEST-1-test", "SLACK_APP_TOKEN").ok());
  for (std::string bad : {"", "xapp-", "xoxb-123", "XAPP-1-A", "xapp-1 2", " xapp-1"}) {
    Status s = check_app_token(bad, "SLACK_APP_TOKEN");
    EXPECT_EQ(s.code(), Code::invalid_argument) << bad;
    EXPECT_NE(s.message().find("SLACK_APP_TOKEN"), std::string::npos) << s.message();
  }
  EXPECT_NE(check_app_token("xoxb-123", "SLACK_APP_TOKEN").message().find("bot token"),
            std::string::npos);
}

TEST(SocketModeMessage, ParsesSlacksHelloAndDisconnect) {
  auto hello = parse_socket_message(fixture("socket_mode_hello.json"));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->kind, SocketMessage::Kind::hello);
  auto bye = parse_socket_message(fixture("socket_mode_disconnect.json"));
  ASSERT_TRUE(bye.ok());
  EXPECT_EQ(bye->kind, SocketMessage::Kind::disconnect);
  EXPECT_EQ(bye->reason, "too_many_websockets");
}

TEST(SocketModeMessage, ParsesSlacksEnvelopes) {
  auto ev = parse_socket_message(fixture("socket_mode_envelope_events_api.json"));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->kind, SocketMessage::Kind::envelope);
  EXPECT_EQ(ev->envelope.envelope_id, "cda4159a-72a5-4744-aba3-4d66eb52682b");
  EXPECT_EQ(ev->envelope.type, "events_api");
  EXPECT_FALSE(ev->envelope.accepts_response_payload);
  EXPECT_EQ(ev->envelope.retry_attempt, 0);
  EXPECT_NE(ev->envelope.payload_json.find("\"event_id\":\"Ev111\""), std::string::npos);

  auto cmd = parse_socket_message(fixture("socket_mode_envelope_slash_commands.json"));
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->envelope.type, "slash_commands");
  EXPECT_TRUE(cmd->envelope.accepts_response_payload);

  auto retried = parse_socket_message(
      R"({"envelope_id":"e1","type":"events_api","payload":{},"retry_attempt":2,"retry_reason":"timeout"})");
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->envelope.retry_attempt, 2);
  EXPECT_EQ(retried->envelope.retry_reason, "timeout");
}

TEST(SocketModeMessage, RefusesWhatIsNotAMessage) {
  EXPECT_EQ(parse_socket_message("not json").status().code(), Code::invalid_argument);
  EXPECT_EQ(parse_socket_message("[1]").status().code(), Code::invalid_argument);
  EXPECT_EQ(parse_socket_message(R"({"envelope_id":"x"})").status().code(), Code::invalid_argument);
  EXPECT_EQ(parse_socket_message(R"({"type":"events_api","envelope_id":"x"})").status().code(),
            Code::invalid_argument);  // no payload
  auto other = parse_socket_message(R"({"type":"something_new"})");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->kind, SocketMessage::Kind::other);
}

TEST(SocketModeRequest, EventIsTheJsonBodyOfSlackEvents) {
  auto m = parse_socket_message(fixture("socket_mode_envelope_events_api.json"));
  auto r = envelope_request(m->envelope);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/slack/events");
  EXPECT_EQ(*r->header("content-type"), "application/json");
  auto ev = parse_event(r->body);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_EQ(ev->event_id, "Ev111");
}

TEST(SocketModeRequest, InteractionIsAFormWithThePayload) {
  auto m = parse_socket_message(fixture("socket_mode_envelope_interactive_shortcut.json"));
  auto r = envelope_request(m->envelope);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/slack/interactions");
  EXPECT_EQ(*r->header("content-type"), "application/x-www-form-urlencoded");
  auto form = parse_form(r->body);
  ASSERT_TRUE(form.ok());
  ASSERT_NE(form->get("payload"), nullptr);
  EXPECT_EQ(*form->get("payload"), m->envelope.payload_json);
}

TEST(SocketModeRequest, CommandIsAFormOfThePayloadsFields) {
  auto m = parse_socket_message(fixture("socket_mode_envelope_slash_commands.json"));
  auto r = envelope_request(m->envelope);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/slack/commands");
  auto form = parse_form(r->body);
  ASSERT_TRUE(form.ok());
  auto cmd = parse_slash_command(*form);
  ASSERT_TRUE(cmd.ok()) << cmd.status().message();
  EXPECT_EQ(cmd->command, "/hello-socket-mode");
  EXPECT_EQ(cmd->user_id, "U111");
  EXPECT_EQ(cmd->team_id, "T111");
  EXPECT_EQ(cmd->response_url, "https://hooks.slack.com/commands/T111/111/xxx");

  SocketEnvelope odd{"e", "slash_commands", R"({"text":3})"};
  EXPECT_EQ(envelope_request(odd).status().code(), Code::invalid_argument);
  SocketEnvelope unknown{"e", "something_new", "{}"};
  EXPECT_EQ(envelope_request(unknown).status().code(), Code::invalid_argument);
}

TEST(SocketModeAck, AcknowledgesAfterAnAnswerWithThePayloadWhereAccepted) {
  SocketEnvelope e{"abc-1", "interactive", "{}", /*accepts_response_payload=*/true};
  std::string errors = R"({"response_action":"errors","errors":{"reason":"Say why"}})";
  EXPECT_EQ(envelope_ack(e, http::Response::json(200, errors)),
            R"({"envelope_id":"abc-1","payload":)" + errors + "}");
  EXPECT_EQ(envelope_ack(e, http::Response::empty(200)), R"({"envelope_id":"abc-1"})");
  // A text body is not a payload.
  EXPECT_EQ(envelope_ack(e, http::Response::text(200, "ok\n")), R"({"envelope_id":"abc-1"})");
  // Refused for good (4xx): acknowledged, or Slack would deliver it again and again.
  EXPECT_EQ(envelope_ack(e, http::Response::text(403, "no\n")), R"({"envelope_id":"abc-1"})");
  // Not recorded (5xx): not acknowledged, so that Slack delivers it again.
  EXPECT_EQ(envelope_ack(e, http::Response::text(503, "later\n")), std::nullopt);
  EXPECT_EQ(envelope_ack(e, http::Response::text(500, "oops\n")), std::nullopt);

  SocketEnvelope no_payload{"abc-2", "events_api", "{}", /*accepts_response_payload=*/false};
  EXPECT_EQ(envelope_ack(no_payload, http::Response::json(200, errors)),
            R"({"envelope_id":"abc-2"})");
  SocketEnvelope quoted{"a\"b", "events_api", "{}"};
  EXPECT_EQ(envelope_ack(quoted, http::Response::empty(200)), R"({"envelope_id":"a\"b"})");
}

TEST(SocketModeDedupe, ARetryInFlightIsDroppedAndAnAckedOneAckedAgain) {
  EnvelopeDedupe d(100, std::chrono::seconds(60));
  auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(d.see("e1", now), EnvelopeDedupe::Seen::first);
  EXPECT_EQ(d.see("e1", now), EnvelopeDedupe::Seen::in_flight);
  d.done("e1", std::string(R"({"envelope_id":"e1"})"));
  EXPECT_EQ(d.see("e1", now), EnvelopeDedupe::Seen::acked);
  EXPECT_EQ(d.ack_of("e1"), R"({"envelope_id":"e1"})");
  // Not acknowledged (5xx): forgotten, so that Slack's retry is handled.
  EXPECT_EQ(d.see("e2", now), EnvelopeDedupe::Seen::first);
  d.done("e2", std::nullopt);
  EXPECT_EQ(d.see("e2", now), EnvelopeDedupe::Seen::first);
}

TEST(SocketModeDedupe, IsBoundedAndForgetsAfterItsTtl) {
  EnvelopeDedupe d(3, std::chrono::seconds(60));
  auto now = std::chrono::steady_clock::now();
  for (std::string id : {"a", "b", "c", "d"})
    EXPECT_EQ(d.see(id, now), EnvelopeDedupe::Seen::first);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.see("a", now), EnvelopeDedupe::Seen::first);  // the oldest went first
  EXPECT_EQ(d.see("d", now), EnvelopeDedupe::Seen::in_flight);
  EXPECT_EQ(d.see("d", now + std::chrono::seconds(61)), EnvelopeDedupe::Seen::first);
}

// ---------------------------------------------------------------------------
// The client against the fake Slack's Socket Mode server.

struct Handled {
  std::mutex mu;
  std::vector<http::Request> requests;
  int count(const std::string& path) {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& r : requests) n += r.path == path;
    return n;
  }
};

class SocketModeClientTest : public ::testing::Test {
 protected:
  SocketModeOptions options() {
    SocketModeOptions o;
    o.app_token = slack.options().app_token;
    o.api_url = slack.api_url();
    o.connections = 2;
    o.backoff = 100ms;
    return o;
  }
  // A handler answering `answer` after `delay`, from another thread (as a
  // store's completion does).
  std::unique_ptr<SocketModeClient> client(
      std::function<http::Response(const http::Request&)> answer,
      std::chrono::milliseconds delay = 0ms) {
    auto c = std::make_unique<SocketModeClient>(
        options(),
        [this, answer, delay](http::Request req, http::Respond respond) {
          {
            std::lock_guard lock(handled.mu);
            handled.requests.push_back(req);
          }
          std::thread([answer, delay, req = std::move(req), respond = std::move(respond)] {
            std::this_thread::sleep_for(delay);
            respond(answer(req));
          }).detach();
        },
        &metrics);
    return c;
  }
  // Everything handled: an empty 200.
  static http::Response answer_200(const http::Request&) { return http::Response::empty(200); }
  // Starts `c` and waits until both its connections are open.
  void start_both(SocketModeClient& c) {
    ASSERT_TRUE(c.start().ok());
    ASSERT_TRUE(slack.socket_mode().wait_connections(2, 15s));
  }
  // Starts client_, whose handler answers an empty 200 after `delay`, and waits until both its
  // connections are open.
  void start_client(std::chrono::milliseconds delay = 0ms) {
    client_ = client(answer_200, delay);
    start_both(*client_);
  }

  sandbox::FakeSlack slack;
  Metrics metrics;
  Handled handled;
  std::unique_ptr<SocketModeClient> client_;  // start_client()'s
};

TEST_F(SocketModeClientTest, RefusesABotTokenAndTooManyConnections) {
  SocketModeOptions o = options();
  o.app_token = "xoxb-test-token";
  SocketModeClient bad(
      o, [](http::Request, http::Respond r) { r(http::Response::empty()); }, nullptr);
  EXPECT_EQ(bad.start().code(), Code::invalid_argument);
  o = options();
  o.connections = 11;
  SocketModeClient many(
      o, [](http::Request, http::Respond r) { r(http::Response::empty()); }, nullptr);
  EXPECT_EQ(many.start().code(), Code::invalid_argument);
}

TEST_F(SocketModeClientTest, HoldsTwoConnectionsAndAcksAfterTheHandlerAnswers) {
  ASSERT_NO_FATAL_FAILURE(start_client(300ms));
  auto t0 = std::chrono::steady_clock::now();
  auto id = slack.socket_mode().send(
      {.type = "events_api", .payload = R"({"type":"event_callback","event_id":"Ev1"})"});
  ASSERT_TRUE(id);
  auto ack = slack.socket_mode().wait_ack(*id, 5s);
  ASSERT_TRUE(ack);
  EXPECT_GE(ack->at - t0, 300ms);  // not before the handler answered
  EXPECT_EQ(ack->payload, "");
  EXPECT_EQ(handled.count("/slack/events"), 1);
  EXPECT_EQ(client_->health().connected, 2);
  EXPECT_TRUE(client_->health().last_envelope.has_value());
  EXPECT_EQ(client_->stop(1s), 0);
}

TEST_F(SocketModeClientTest, SendsTheHandlersJsonAnswerInTheAck) {
  std::string answer = R"({"response_type":"ephemeral","text":"hi"})";
  auto c = client([&](const http::Request&) { return http::Response::json(200, answer); });
  ASSERT_NO_FATAL_FAILURE(start_both(*c));
  auto ack = slack.socket_mode().send_and_wait(
      {.type = "slash_commands",
       .payload = R"({"command":"/tasks","text":"","user_id":"U1","team_id":"T1"})",
       .accepts_response_payload = true},
      5s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->payload, answer);
  EXPECT_EQ(handled.count("/slack/commands"), 1);
}

TEST_F(SocketModeClientTest, AFiveHundredIsNotAcknowledgedAndItsRedeliveryIsHandled) {
  std::atomic<int> calls{0};
  auto c = client([&](const http::Request&) {
    return ++calls == 1 ? http::Response::text(503, "later\n") : http::Response::empty(200);
  });
  ASSERT_NO_FATAL_FAILURE(start_both(*c));
  auto id = slack.socket_mode().send({.type = "events_api", .payload = "{}"});
  ASSERT_TRUE(id);
  EXPECT_FALSE(slack.socket_mode().wait_ack(*id, 1s));
  ASSERT_TRUE(slack.socket_mode().redeliver(*id));
  EXPECT_TRUE(slack.socket_mode().wait_ack(*id, 5s));
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(SocketModeClientTest, ARedeliveryOnTheOtherConnectionIsHandledOnce) {
  // The handler takes 2 s: the first redelivery arrives while the envelope is in flight even
  // on a slow machine.
  ASSERT_NO_FATAL_FAILURE(start_client(2000ms));
  auto conns = slack.socket_mode().connections();
  auto id = slack.socket_mode().send({.type = "events_api", .payload = "{}"}, conns[0]);
  ASSERT_TRUE(id);
  ASSERT_TRUE(slack.socket_mode().redeliver(*id, conns[1]));  // while the first is in flight
  ASSERT_TRUE(slack.socket_mode().wait_ack(*id, 10s));
  ASSERT_TRUE(slack.socket_mode().redeliver(*id, conns[1]));  // after it was acknowledged
  auto acks = [&] {
    int n = 0;
    for (const auto& a : slack.socket_mode().acks()) n += a.envelope_id == *id;
    return n;
  };
  // The second ack waited for (it is late on a slow machine), then a moment for a third.
  for (int i = 0; i < 500 && acks() < 2; ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(handled.count("/slack/events"), 1);
  EXPECT_EQ(acks(), 2);  // the second redelivery is acknowledged again, not handled again
  EXPECT_TRUE(slack.socket_mode().unparsed().empty());
}

TEST_F(SocketModeClientTest, DisconnectOpensTheNewConnectionBeforeClosingTheOld) {
  // The handler takes 3 s: the old connection carries the envelope that long, and the
  // replacement must open meanwhile, which takes a while on a slow machine.
  ASSERT_NO_FATAL_FAILURE(start_client(3000ms));
  auto before = slack.socket_mode().connections();
  auto id = slack.socket_mode().send({.type = "events_api", .payload = "{}"}, before[0]);
  ASSERT_TRUE(id);
  std::this_thread::sleep_for(50ms);  // in flight on the old connection
  ASSERT_TRUE(slack.socket_mode().disconnect(before[0], "refresh_requested"));
  auto still_open = [&](int conn) {
    auto now = slack.socket_mode().connections();
    return std::find(now.begin(), now.end(), conn) != now.end();
  };
  // The replacement opens while the old one is open (and still carries an envelope).
  bool overlap = false;
  for (int i = 0; i < 2500 && !overlap; ++i) {
    overlap = slack.socket_mode().connections_opened() == 3 && still_open(before[0]);
    if (!overlap) std::this_thread::sleep_for(2ms);
  }
  EXPECT_TRUE(overlap);
  // The envelope is acknowledged on the connection it came on, which is closed after.
  auto ack = slack.socket_mode().wait_ack(*id, 10s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->connection, before[0]);
  bool old_open = true;
  for (int i = 0; i < 300 && old_open; ++i) {
    old_open = still_open(before[0]);
    if (old_open) std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(old_open);  // closed by the client, well before the fake's 10 s
  EXPECT_EQ(slack.socket_mode().connections_opened(), 3);
  EXPECT_EQ(slack.socket_mode().open_connections(), 2);
  EXPECT_NE(
      metrics.render().find(R"(tollgate_socket_disconnects_total{reason="refresh_requested"} 1)"),
      std::string::npos)
      << metrics.render();
  EXPECT_TRUE(slack.socket_mode().send_and_wait({.type = "events_api", .payload = "{}"}, 10s));
}

TEST_F(SocketModeClientTest, ADroppedConnectionIsReplaced) {
  ASSERT_NO_FATAL_FAILURE(start_client());
  auto before = slack.socket_mode().connections();
  ASSERT_TRUE(slack.socket_mode().drop(before[1]));
  bool replaced = false;
  for (int i = 0; i < 500 && !replaced; ++i) {
    replaced = slack.socket_mode().connections_opened() == 3 &&
               slack.socket_mode().open_connections() == 2;
    if (!replaced) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(replaced);
  EXPECT_EQ(client_->health().reconnects, 1u);
  auto ack = slack.socket_mode().send_and_wait({.type = "events_api", .payload = "{}"}, 5s);
  EXPECT_TRUE(ack);
}

// A Slack that says hello and then nothing at all: it answers no ping (Beast
// answers pings only while it reads, and this one never reads). wss:// with
// `cert` and `key`, else ws://. Its apps.connections.open is a plain HTTP server.
class SilentSlack {
 public:
  explicit SilentSlack(const std::string& cert = {}, const std::string& key = {})
      : tls_(!cert.empty()) {
    if (tls_) {
      tls_ctx_.use_certificate_chain_file(cert);
      tls_ctx_.use_private_key_file(key, ssl::context::pem);
    }
    acceptor_.open(tcp::v4());
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { accept_loop(); });
    http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    std::string url = std::string(tls_ ? "wss" : "ws") +
                      "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/link";
    api_ = std::make_unique<http::Server>(o, [url](http::Request, http::Respond respond) {
      respond(http::Response::json(200, R"({"ok":true,"url":")" + url + R"("})"));
    });
    EXPECT_TRUE(api_->start().ok());
  }
  ~SilentSlack() {
    api_->stop(std::chrono::milliseconds(100));
    stop_ = true;
    net::io_context io;
    tcp::socket poke(io);
    error_code ec;
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes accept()
    thread_.join();
  }
  std::string api_url() const {
    return "http://127.0.0.1:" + std::to_string(api_->port()) + "/api";
  }
  int accepted() const { return accepted_; }

 private:
  template <class Ws>
  void greet(std::shared_ptr<Ws> ws) {
    error_code ec;
    ws->accept(ec);
    if (ec) return;
    ws->text(true);
    ws->write(net::buffer(std::string(R"({"type":"hello","num_connections":1})")), ec);
    ++accepted_;
    held_.push_back(ws);  // held open, never read
  }
  void accept_loop() {
    while (!stop_) {
      tcp::socket socket(io_);
      error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) break;
      if (!tls_) {
        greet(std::make_shared<beast::websocket::stream<tcp::socket>>(std::move(socket)));
        continue;
      }
      auto ws = std::make_shared<beast::websocket::stream<ssl::stream<tcp::socket>>>(
          std::move(socket), tls_ctx_);
      ws->next_layer().handshake(ssl::stream_base::server, ec);
      if (!ec) greet(ws);
    }
  }
  bool tls_;
  ssl::context tls_ctx_{ssl::context::tls_server};
  net::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<std::shared_ptr<void>> held_;
  std::unique_ptr<http::Server> api_;
};

TEST(SocketModeUrl, WssOrWsOnLoopbackOnly) {
  EXPECT_TRUE(check_socket_url("wss://wss-primary.slack.com/link/?ticket=1&app_id=A1").ok());
  EXPECT_TRUE(check_socket_url("ws://127.0.0.1:4000/link/?ticket=1").ok());
  EXPECT_TRUE(check_socket_url("ws://localhost:4000/link").ok());
  EXPECT_TRUE(check_socket_url("ws://[::1]:4000/link").ok());
  for (std::string bad : {"ws://wss-primary.slack.com/link", "ws://127.example.org/x",
                          "https://slack.com/link", "wss://", "not a url", ""}) {
    EXPECT_EQ(check_socket_url(bad).code(), Code::invalid_argument) << bad;
  }
}

TEST(SocketModeTls, VerifiesTheServersCertificateAndName) {
  testing::TempDir dir;
  auto good = testing::make_certificate(dir.path().string(), "ip", "IP:127.0.0.1");
  auto wrong_name = testing::make_certificate(dir.path().string(), "dns", "DNS:example.org");
  ASSERT_TRUE(good.ok && wrong_name.ok) << "the openssl command is needed";
  // Waits up to `patience` for the connection (refusals are checked at the end of it).
  auto connect = [](SilentSlack& server, std::chrono::milliseconds patience = 1000ms) {
    SocketModeOptions o;
    o.app_token = "xapp-1-A0TEST-1-test";
    o.api_url = server.api_url();
    o.connections = 1;
    o.backoff = 50ms;
    auto c = std::make_unique<SocketModeClient>(
        o, [](http::Request, http::Respond r) { r(http::Response::empty()); }, nullptr);
    EXPECT_TRUE(c->start().ok());
    for (auto until = std::chrono::steady_clock::now() + patience;
         c->health().connected == 0 && std::chrono::steady_clock::now() < until;)
      std::this_thread::sleep_for(10ms);
    return c;
  };
  {
    SilentSlack untrusted(good.cert, good.key);
    auto c = connect(untrusted);
    EXPECT_EQ(c->health().connected, 0);
    EXPECT_EQ(untrusted.accepted(), 0);
    c->stop(0ms);
  }
  ::setenv("SSL_CERT_FILE", good.cert.c_str(), 1);
  {
    SilentSlack trusted(good.cert, good.key);
    auto c = connect(trusted, 15s);  // returns once connected
    EXPECT_EQ(c->health().connected, 1) << "a trusted certificate for 127.0.0.1";
    c->stop(0ms);
  }
  ::setenv("SSL_CERT_FILE", wrong_name.cert.c_str(), 1);
  {
    SilentSlack other_name(wrong_name.cert, wrong_name.key);
    auto c = connect(other_name);
    EXPECT_EQ(c->health().connected, 0) << "a trusted certificate for another name is refused";
    EXPECT_EQ(other_name.accepted(), 0);
    c->stop(0ms);
  }
  ::unsetenv("SSL_CERT_FILE");
}

TEST(SocketModeDeadline, AConnectionThatHearsNothingIsReplaced) {
  SilentSlack silent;
  SocketModeOptions o;
  o.app_token = "xapp-1-A0TEST-1-test";
  o.api_url = silent.api_url();
  o.connections = 1;
  o.idle_timeout = 400ms;  // a ping at 200 ms goes unanswered
  o.backoff = 50ms;
  SocketModeClient c(
      o, [](http::Request, http::Respond r) { r(http::Response::empty()); }, nullptr);
  ASSERT_TRUE(c.start().ok());
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (silent.accepted() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_GE(silent.accepted(), 3);  // each declared dead and replaced
  EXPECT_GE(c.health().reconnects, 2u);
  c.stop(0ms);
}

TEST_F(SocketModeClientTest, PingsAreAnsweredAndKeepAQuietConnection) {
  // The fake pings every 100 ms and answers the client's pings: a connection
  // with nothing else to say for several idle deadlines stays. (A deadline of a
  // second: a client thread that a loaded machine holds up for a few hundred
  // milliseconds is not taken for a silent Slack.)
  SocketModeOptions o = options();
  o.idle_timeout = 1000ms;
  sandbox::FakeSlack::Options fo;
  fo.socket_mode_ping_interval = 100ms;
  sandbox::FakeSlack pinging(fo);
  o.api_url = pinging.api_url();
  SocketModeClient c(
      o, [](http::Request, http::Respond r) { r(http::Response::empty()); }, nullptr);
  ASSERT_TRUE(c.start().ok());
  ASSERT_TRUE(pinging.socket_mode().wait_connections(2, 15s));
  std::this_thread::sleep_for(3500ms);
  EXPECT_EQ(pinging.socket_mode().connections_opened(), 2);
  EXPECT_EQ(c.health().connected, 2);
  EXPECT_EQ(c.health().reconnects, 0u);
}

}  // namespace
}  // namespace tollgate::slack
