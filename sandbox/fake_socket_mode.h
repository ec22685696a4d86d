// The fake Slack's Socket Mode server: a WebSocket server on loopback that
// speaks Slack's Socket Mode protocol, for the tests and the sandbox.
//
// TEST-FACING API (stable; reach it through FakeSlack::socket_mode()):
//   FakeSlack slack;    // Options::app_token "xapp-1-A0TEST-1-test", app_id "A0TEST"
//   POST {api_url}/apps.connections.open with "Authorization: Bearer <app_token>"
//     -> {"ok":true,"url":"ws://127.0.0.1:PORT/link/?ticket=<uuid>&app_id=A0TEST"}
//   FakeSocketMode& sm = slack.socket_mode();
//   sm.wait_connections(2, 5s);               // true once 2 connections are open (hello sent)
//   auto id = sm.send({.type = "events_api", .payload = R"({...})"});   // any open connection
//   auto ack = sm.wait_ack(*id, 5s);          // ack->payload: the ack's "payload" JSON, or ""
//   auto ack2 = sm.send_and_wait({.type = "slash_commands", .payload = ...,
//                                 .accepts_response_payload = true}, 5s);
//   sm.disconnect(conn, "refresh_requested"); // {"type":"disconnect",...}; the socket stays open
//   sm.drop(conn);                            // closes the TCP connection without notice
//   sm.redeliver(*id);                        // same envelope_id, retry_attempt+1, another conn
//   sm.open_connections(); sm.connections(); sm.connections_opened(); sm.acks();
//   sm.unparsed(); sm.sent(conn); sm.clear(); sm.open_url() (a URL without the HTTP call)
//   sm.lose_acks(true);                       // acks dropped on arrival, as if never written
// Connections are numbered 1, 2, 3, ... in the order they were accepted (never reused).
//
// The protocol, as Slack's servers and @slack/socket-mode speak it (docs.slack.dev
// "Using Socket Mode"; docs/slack-protocol.md §8; tests/socket_mode/ proves it with
// Slack's official client):
// - apps.connections.open takes only the app-level token (the bot token gets
//   not_allowed_token_type, another invalid_auth, none not_authed) and gives a URL
//   with a fresh ticket. A ticket opens one connection, once; an unknown or used
//   ticket is refused with HTTP 401 before the WebSocket handshake completes.
// - On accepting a connection the server sends
//   {"type":"hello","num_connections":N,"debug_info":{"host":"applink-fake",
//   "build_number":1,"approximate_connection_time":18060},"connection_info":{"app_id":A}},
//   N counting this connection.
// - Envelopes: {"envelope_id":ID,"type":"events_api"|"interactive"|"slash_commands",
//   "payload":{...},"accepts_response_payload":bool,"retry_attempt":n,"retry_reason":r}
//   (retry_* on events_api only, as Slack sends them). The client acknowledges
//   with {"envelope_id":ID} or {"envelope_id":ID,"payload":{...}}; any other text
//   frame is kept in unparsed() for the tests to assert on.
// - WebSocket pings from the client are answered with pongs (Beast answers
//   control frames); the server pings every client each Options::ping_interval,
//   as Slack does (@slack/socket-mode reconnects after serverPingTimeout
//   without one).
// - disconnect sends {"type":"disconnect","reason":R,"debug_info":{"host":...}}
//   and leaves the socket open, as Slack does, for the client to open a new
//   connection and then close this one; after Options::disconnect_grace (10 s)
//   the server closes it itself, with a close frame (1001 going away).
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tollgate::sandbox {

// An envelope to send. An empty envelope_id gets a fresh one (a UUID).
struct SocketModeEnvelope {
  std::string type = "events_api";  // "events_api" | "interactive" | "slash_commands"
  std::string payload = "{}";       // a JSON object, sent as is
  bool accepts_response_payload = false;
  int retry_attempt = 0;     // events_api only
  std::string retry_reason;  // events_api only; "" on a first attempt, else e.g. "timeout"
  std::string envelope_id;
};

struct SocketModeAck {
  std::string envelope_id;
  // The ack's "payload" as compact JSON; "" when the ack carried none
  // (@slack/socket-mode always sends one: "{}" for a plain ack()).
  std::string payload;
  int connection = 0;  // the connection it came on
  std::chrono::steady_clock::time_point at;
};

class FakeSocketMode {
 public:
  static constexpr int kAnyConnection = -1;

  struct Options {
    std::string app_id = "A0TEST";
    std::chrono::milliseconds ping_interval{5000};
    // How long a connection told to disconnect stays open for its client to close it.
    std::chrono::milliseconds disconnect_grace{10000};
  };

  explicit FakeSocketMode(Options options);
  ~FakeSocketMode();
  FakeSocketMode(const FakeSocketMode&) = delete;
  FakeSocketMode& operator=(const FakeSocketMode&) = delete;

  // "ws://127.0.0.1:PORT/link/?ticket=T&app_id=A" with a fresh single-use
  // ticket (what apps.connections.open answers).
  std::string open_url();
  std::uint16_t port() const;

  // Sends `e` on `connection` (kAnyConnection: the open connections in turn).
  // Returns its envelope_id; nullopt when that connection is not open (or none is).
  std::optional<std::string> send(SocketModeEnvelope e, int connection = kAnyConnection);
  // The first ack of `envelope_id` (also one already received), within `timeout`.
  std::optional<SocketModeAck> wait_ack(const std::string& envelope_id,
                                        std::chrono::milliseconds timeout);
  std::optional<SocketModeAck> send_and_wait(SocketModeEnvelope e,
                                             std::chrono::milliseconds timeout,
                                             int connection = kAnyConnection);
  // Sends a sent envelope again, as Slack redelivers one whose ack did not come:
  // same envelope_id and payload, retry_attempt + 1, retry_reason `reason` (events_api),
  // on `connection`, or (kAnyConnection) an open one other than the last that carried
  // it when there is one. nullopt: unknown envelope or no open connection.
  std::optional<std::string> redeliver(const std::string& envelope_id,
                                       int connection = kAnyConnection,
                                       const std::string& reason = "timeout");

  // {"type":"disconnect","reason":reason}: "refresh_requested", "warning",
  // "link_disabled" (or any, e.g. "too_many_websockets"). False: not open.
  bool disconnect(int connection, const std::string& reason);
  // Closes the TCP connection abruptly: no disconnect, no close frame.
  bool drop(int connection);

  int open_connections() const;
  std::vector<int> connections() const;  // ids of the open ones, oldest first
  int connections_opened() const;        // hellos sent since start (or clear())
  // True once at least `n` connections are open, within `timeout`.
  bool wait_connections(int n, std::chrono::milliseconds timeout) const;
  std::vector<SocketModeAck> acks() const;              // every ack, in order received
  std::vector<std::string> unparsed() const;            // text frames that were not acks
  std::vector<std::string> sent(int connection) const;  // text frames sent, hello included
  void clear();  // forgets acks, unparsed frames and counts (not the connections)
  // While true, acks are dropped on arrival, as if the client had died before writing them
  // (the kill -9 between commit and ack): wait_ack never sees them, redeliver() may follow.
  void lose_acks(bool lose);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tollgate::sandbox
