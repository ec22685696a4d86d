// The fake Slack's Socket Mode server (sandbox/fake_socket_mode.h) from a plain
// WebSocket client: what tests/socket_mode/ (Slack's official client) does not reach:
// several connections, redelivery on another one, abrupt drops, the records.
#include "sandbox/fake_socket_mode.h"

#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "http/net.h"
#include "sandbox/fake_slack.h"

namespace tollgate::sandbox {
namespace {

using namespace std::chrono_literals;
namespace websocket = beast::websocket;

// A WebSocket client with a deadline on each step (5 s): a fake that stays silent
// fails the test instead of hanging it.
class Client {
 public:
  // Connects to a "ws://127.0.0.1:PORT/link/?ticket=..." URL; false when refused.
  bool connect(const std::string& url) {
    std::string rest = url.substr(std::string("ws://127.0.0.1:").size());
    auto port = static_cast<std::uint16_t>(std::stoi(rest.substr(0, rest.find('/'))));
    error_code ec;
    ws_.next_layer().connect({net::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return false;
    ws_.async_handshake("127.0.0.1", rest.substr(rest.find('/')), [&](error_code e) { ec = e; });
    return run() && !ec;
  }
  // The next text frame; "" on timeout or error (error() tells which).
  std::string read() {
    beast::flat_buffer b;
    error_ = {};
    bool done = false;
    ws_.async_read(b, [&](error_code e, std::size_t) {
      error_ = e;
      done = true;
    });
    if (!run() || !done || error_) return {};
    return beast::buffers_to_string(b.data());
  }
  void write(const std::string& text) {
    ws_.text(true);
    error_code ec;
    ws_.write(net::buffer(text), ec);
  }
  error_code error() const { return error_; }
  // Connects to a new URL of `sm`'s and reads its hello; false when refused or silent.
  bool open(FakeSocketMode& sm) { return connect(sm.open_url()) && !read().empty(); }

 private:
  bool run() {
    ioc_.restart();
    ioc_.run_for(5s);
    if (ioc_.stopped()) return true;
    error_code ignored;
    ws_.next_layer().close(ignored);  // ends the pending operation
    ioc_.restart();
    ioc_.run();
    return false;
  }
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
  error_code error_;
};

// Connects each of `clients` in turn, past its hello, and waits until `sm` counts them all.
void connect_all(FakeSocketMode& sm, std::initializer_list<Client*> clients) {
  for (Client* c : clients) ASSERT_TRUE(c->open(sm));
  ASSERT_TRUE(sm.wait_connections(static_cast<int>(clients.size()), 5s));
}

TEST(FakeSocketMode, GreetsEachConnectionAndCountsThem) {
  FakeSlack slack;
  FakeSocketMode& sm = slack.socket_mode();
  Client a, b;
  ASSERT_TRUE(a.connect(sm.open_url()));
  EXPECT_EQ(
      a.read(),
      R"({"type":"hello","num_connections":1,"debug_info":{"host":"applink-fake",)"
      R"("build_number":1,"approximate_connection_time":18060},"connection_info":{"app_id":"A0TEST"}})");
  ASSERT_TRUE(b.connect(sm.open_url()));
  EXPECT_NE(b.read().find(R"("num_connections":2)"), std::string::npos);
  ASSERT_TRUE(sm.wait_connections(2, 5s));
  EXPECT_EQ(sm.connections(), (std::vector<int>{1, 2}));
  EXPECT_EQ(sm.connections_opened(), 2);
  ASSERT_EQ(sm.sent(1).size(), 1u);
  EXPECT_NE(sm.sent(1)[0].find(R"("type":"hello")"), std::string::npos);
}

TEST(FakeSocketMode, RefusesAnUnknownOrUsedTicket) {
  FakeSlack slack;
  FakeSocketMode& sm = slack.socket_mode();
  std::string url = sm.open_url();
  Client first, again, forged;
  ASSERT_TRUE(first.connect(url));
  EXPECT_FALSE(again.connect(url));
  EXPECT_FALSE(forged.connect("ws://127.0.0.1:" + std::to_string(sm.port()) +
                              "/link/?ticket=00000000-0000-4000-8000-000000000000&app_id=A0TEST"));
  EXPECT_EQ(sm.connections_opened(), 1);
}

TEST(FakeSocketMode, RedeliversOnAnotherConnectionWithTheNextRetryAttempt) {
  FakeSlack slack;
  FakeSocketMode& sm = slack.socket_mode();
  Client a, b;
  ASSERT_NO_FATAL_FAILURE(connect_all(sm, {&a, &b}));

  auto id =
      sm.send({.type = "events_api", .payload = R"({"event_id":"Ev1"})", .envelope_id = "E1"}, 1);
  ASSERT_EQ(id, "E1");
  EXPECT_EQ(a.read(), R"({"envelope_id":"E1","type":"events_api","payload":{"event_id":"Ev1"},)"
                      R"("accepts_response_payload":false,"retry_attempt":0,"retry_reason":""})");
  EXPECT_EQ(sm.redeliver("E1"), "E1");
  EXPECT_EQ(b.read(),
            R"({"envelope_id":"E1","type":"events_api","payload":{"event_id":"Ev1"},)"
            R"("accepts_response_payload":false,"retry_attempt":1,"retry_reason":"timeout"})");
  b.write(R"({"envelope_id":"E1"})");
  auto ack = sm.wait_ack("E1", 5s);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->connection, 2);
  EXPECT_EQ(ack->payload, "");
  EXPECT_EQ(sm.redeliver("unknown"), std::nullopt);
}

TEST(FakeSocketMode, SendAndWaitReturnsTheAcksPayload) {
  FakeSlack slack;
  FakeSocketMode& sm = slack.socket_mode();
  Client a;
  ASSERT_NO_FATAL_FAILURE(connect_all(sm, {&a}));
  std::thread client([&] {
    std::string frame = a.read();
    std::string id = frame.substr(frame.find(':') + 2, 36);
    a.write(R"({"envelope_id":")" + id +
            R"(","payload":{"response_action":"errors","errors":{"reason":"Required"}}})");
  });
  auto ack = sm.send_and_wait({.type = "interactive",
                               .payload = R"({"type":"view_submission"})",
                               .accepts_response_payload = true},
                              5s);
  client.join();
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->payload, R"({"response_action":"errors","errors":{"reason":"Required"}})");
  ASSERT_EQ(sm.acks().size(), 1u);
  EXPECT_EQ(sm.acks()[0].envelope_id, ack->envelope_id);
  EXPECT_EQ(ack->envelope_id.size(), 36u);  // a UUID, as Slack's
  sm.clear();
  EXPECT_TRUE(sm.acks().empty());
  EXPECT_EQ(sm.connections_opened(), 0);
  EXPECT_EQ(sm.open_connections(), 1);  // clear() keeps the connections
}

TEST(FakeSocketMode, DisconnectNoticesAndDropsWithoutNotice) {
  FakeSlack slack;
  FakeSocketMode& sm = slack.socket_mode();
  Client a, b;
  ASSERT_NO_FATAL_FAILURE(connect_all(sm, {&a, &b}));

  EXPECT_TRUE(sm.disconnect(1, "refresh_requested"));
  EXPECT_EQ(
      a.read(),
      R"({"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-fake"}})");
  EXPECT_EQ(sm.open_connections(), 2);  // open until the client closes it

  EXPECT_TRUE(sm.drop(2));
  EXPECT_EQ(sm.connections(), (std::vector<int>{1}));
  EXPECT_EQ(b.read(), "");
  EXPECT_TRUE(b.error());
  EXPECT_NE(b.error(), websocket::error::closed);  // no close frame: the TCP connection ended
  EXPECT_FALSE(sm.drop(2));
  EXPECT_FALSE(sm.disconnect(2, "warning"));
  EXPECT_EQ(sm.send({}, 2), std::nullopt);
}

TEST(FakeSocketMode, ClosesADisconnectedConnectionAfterTheGrace) {
  FakeSocketMode sm({.disconnect_grace = 300ms});
  Client a;
  ASSERT_TRUE(a.open(sm));
  auto asked = std::chrono::steady_clock::now();  // the grace starts after this
  ASSERT_TRUE(sm.disconnect(1, "link_disabled"));
  EXPECT_NE(a.read().find(R"("reason":"link_disabled")"), std::string::npos);
  EXPECT_EQ(a.read(), "");
  EXPECT_EQ(a.error(), websocket::error::closed);  // a close frame, not a dropped connection
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 300ms);
  for (int i = 0; i < 100 && sm.open_connections() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sm.open_connections(), 0);
}

TEST(FakeSocketMode, ShutsDownWithClientsStillConnected) {
  Client a;
  net::io_context ioc;
  tcp::socket raw(ioc);  // a TCP connection that never sends its upgrade request
  auto start = std::chrono::steady_clock::now();
  {
    FakeSlack slack;
    ASSERT_TRUE(a.connect(slack.socket_mode().open_url()));
    raw.connect({net::ip::make_address("127.0.0.1"), slack.socket_mode().port()});
    ASSERT_TRUE(slack.socket_mode().wait_connections(1, 5s));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace tollgate::sandbox
