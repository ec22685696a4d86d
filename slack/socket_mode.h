// Slack's Socket Mode (docs/slack-protocol.md §8): Slack's events, interactions
// and slash commands arrive over outbound WebSockets instead of HTTP requests,
// so Tollgate needs no public address.
//
// The client opens each connection with apps.connections.open (the app-level
// token, xapp-…, scope connections:write), then connects to the URL it
// answers: wss:// with the peer's certificate and host name verified (SNI),
// as the Web API client does; ws:// only on a loopback host (the fake Slack of
// the tests and the sandbox). It holds `connections` of them at once.
//
// Every envelope is turned into the HTTP request Slack would have sent
// (envelope_request) and given to the same handler as HTTP; its answer is
// turned into the acknowledgement (envelope_ack): {"envelope_id"} once the
// handler has answered 2xx (which it does only after the durable commit, the
// promise of the HTTP 200), with "payload" when Slack accepts one and the
// handler answered JSON (a modal's errors, a command's answer). A 5xx is not
// acknowledged: Slack delivers the envelope again. A retried envelope that
// arrives on another connection while the first is in flight is dropped, and
// one already acknowledged is acknowledged again (EnvelopeDedupe); behind the
// handler, events are also deduplicated durably by event_id, and interactions
// and commands by envelope_id (kEnvelopeIdHeader), so that a redelivery after a
// crash or to another instance is not acted on again.
//
// `disconnect` (refresh_requested, warning, link_disabled, …) opens the
// replacement before the old connection is closed, and the old one is read
// until then. A connection that hears nothing (not even a ping; the client
// pings it at half the deadline) within `idle_timeout`, or that fails, is
// replaced with exponential backoff and jitter. Pings are answered.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/message.h"
#include "base/status.h"

namespace tollgate {
class Metrics;
}

namespace tollgate::slack {

// Checks an app-level token's form ("xapp-" and more); invalid_argument
// naming `variable` otherwise (a bot token given by mistake, say).
Status check_app_token(const std::string& token, const std::string& variable);

// Where a connection may go (apps.connections.open's answer): wss://, or
// ws:// on a loopback host (the fake Slack); invalid_argument otherwise.
Status check_socket_url(const std::string& url);

struct SocketEnvelope {
  std::string envelope_id;
  std::string type;          // events_api, interactive, slash_commands
  std::string payload_json;  // the payload, as JSON text
  bool accepts_response_payload = false;
  int retry_attempt = 0;
  std::string retry_reason;
};

// One message from Slack over a connection.
struct SocketMessage {
  enum class Kind { hello, disconnect, envelope, other };
  Kind kind = Kind::other;
  std::string type;    // Slack's "type"
  std::string reason;  // disconnect's reason
  SocketEnvelope envelope;
};

// invalid_argument when the text is not a JSON object with a type, or an
// envelope has no envelope_id or no object payload.
StatusOr<SocketMessage> parse_socket_message(std::string_view text);

// The request Slack would have sent over HTTP: POST /slack/events with the
// payload as JSON; /slack/interactions with the form body payload=<json>;
// /slack/commands with the payload's fields as a form. invalid_argument for
// another type, or a command payload that is not an object of strings.
StatusOr<http::Request> envelope_request(const SocketEnvelope& envelope);
// The header of that request which carries the envelope_id (only requests made
// by envelope_request have it: the router reads it on the Socket Mode path only).
inline constexpr const char* kEnvelopeIdHeader = "tollgate-envelope-id";

// The acknowledgement of a handler's answer, or nothing for a 5xx (or any
// status other than 2xx/4xx: Slack retries an unacknowledged envelope; a 4xx
// would be refused again, so it is acknowledged). The payload is included
// when the envelope accepts one and the answer is a JSON body.
std::optional<std::string> envelope_ack(const SocketEnvelope& envelope,
                                        const http::Response& response);

// Which envelopes were seen, in memory: bounded (the oldest forgotten first)
// and each remembered for `ttl`. Thread-safe.
class EnvelopeDedupe {
 public:
  enum class Seen { first, in_flight, acked };
  EnvelopeDedupe(std::size_t capacity, std::chrono::seconds ttl);
  // `first` the first time an id is seen (it is now in flight).
  Seen see(const std::string& id, std::chrono::steady_clock::time_point now);
  // The handler answered: `ack` is what was sent, or nothing (not
  // acknowledged: the id is forgotten so that Slack's retry is handled).
  void done(const std::string& id, std::optional<std::string> ack);
  // The acknowledgement sent for an id, when there was one.
  std::optional<std::string> ack_of(const std::string& id) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string id;
    std::chrono::steady_clock::time_point at;
    std::optional<std::string> ack;
    bool answered = false;
  };
  void expire(std::chrono::steady_clock::time_point now);
  std::size_t capacity_;
  std::chrono::seconds ttl_;
  mutable std::mutex mu_;
  std::list<Entry> order_;  // oldest first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

struct SocketModeOptions {
  std::string app_token;  // xapp-…
  std::string api_url = "https://slack.com/api";
  int connections = 2;  // 1..10 (Slack's limit)
  // Nothing heard for this long: the connection is dead (replaced).
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  // The first wait before reconnecting after a failure, doubling up to max_backoff.
  std::chrono::milliseconds backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  std::size_t dedupe_capacity = 10000;
  std::chrono::seconds dedupe_ttl{3600};
};

struct SocketModeHealth {
  int wanted = 0;
  int connected = 0;  // said hello and still open
  // When the last envelope arrived (system time); none yet: nullopt.
  std::optional<std::chrono::system_clock::time_point> last_envelope;
  std::uint64_t envelopes = 0;
  std::uint64_t reconnects = 0;
};

class SocketModeClient {
 public:
  // `handler` is the HTTP handler (Router::handle_envelope); `metrics` may be null.
  SocketModeClient(SocketModeOptions options, http::Handler handler, Metrics* metrics);
  ~SocketModeClient();
  SocketModeClient(const SocketModeClient&) = delete;
  SocketModeClient& operator=(const SocketModeClient&) = delete;

  // Checks the options and starts connecting (in the background).
  Status start();
  // Takes no new envelope, waits up to `grace` for those in flight to be
  // acknowledged, then closes every connection and joins. Returns how many
  // were left unacknowledged (Slack delivers them again).
  int stop(std::chrono::milliseconds grace);
  SocketModeHealth health() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tollgate::slack
