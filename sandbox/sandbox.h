// The sandbox: Tollgate without a Slack workspace. `tollgate serve` runs it
// when it has no Slack credentials, or with --sandbox.
//
// It is two parts. The fake Slack Web API (fake_slack.h) runs on a loopback
// port of its own, with a Slack user for every person of the configuration
// (their slack_user_id, else "U0SB" and their id); Tollgate is pointed at it
// with a token and a signing secret made up at start. And a web page at
// /sandbox on Tollgate's own port shows that workspace as Slack would: pick
// a person, see their DM with Tollgate and its threads, their App Home and
// their modals, rendered from the Block Kit JSON Tollgate sent.
//
// What the person does in the page (a click, a modal submitted or closed, a
// /tasks command, a message in a thread, opening the App Home) reaches the
// sandbox's JSON API under /sandbox/api/, which builds the payload Slack
// would send, signs it with the signing secret and POSTs it to Tollgate's
// /slack/... endpoints over loopback HTTP, then does what Slack's client does
// with the answer (show a modal's errors, update or close it, show a
// command's reply). With use_socket_mode(), the same payloads go as Socket
// Mode envelopes over the connections Tollgate holds to the fake, and the
// ack (with its payload) is the answer. The page polls /sandbox/api/state, so messages change
// live when Tollgate changes them.
//
// The page lets anyone act as anyone: Tollgate refuses to run the sandbox
// unless it listens on loopback. Every /sandbox request must name this
// server in its Host header as 127.0.0.1, localhost or [::1] with Tollgate's
// port (a rebound DNS name is refused, 403). The API answers only requests
// carrying the session made at start and written into the page (header
// X-Sandbox-Session; 403 without it), takes only application/json (which a
// cross-site form cannot send without a CORS preflight, never granted), and
// refuses another Origin. The page follows links only to http, https and
// mailto.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/message.h"
#include "base/status.h"

namespace tollgate {
struct Directory;
}

namespace tollgate::sandbox {

class FakeSlack;

class Sandbox {
 public:
  explicit Sandbox(std::shared_ptr<const Directory> directory);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Starts the fake Slack on a free loopback port.
  Status start();
  // What Tollgate talks to and verifies with.
  std::string api_url() const;
  const std::string& bot_token() const;
  const std::string& signing_secret() const;
  const std::string& team_id() const;
  // The app-level token of the fake's Socket Mode server (apps.connections.open at api_url()).
  const std::string& app_token() const;
  // Delivers what the page does as Socket Mode envelopes on Tollgate's connections to the
  // fake (`tollgate serve --sandbox --socket-mode`), not as signed HTTP requests; the ack
  // stands for the HTTP answer. Call before start().
  void use_socket_mode();
  // Tollgate's own port and the loopback address it listens on, where the
  // page's actions are delivered ("::1" for [::1]); the sandbox also answers
  // a Host naming that address (an IPv4 loopback one: 127.0.0.2, say).
  void set_tollgate_port(std::uint16_t port, std::string address = "127.0.0.1");

  // Serves GET /sandbox and /sandbox/api/…; false (untouched) for any other path.
  bool handle(http::Request& request, http::Respond& respond);

  // Waits for the deliveries in flight, then stops the fake Slack. Call after
  // Tollgate has stopped talking to it.
  void stop();

  FakeSlack& slack();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The page, built into the binary from sandbox/page.html.
extern const char* const kPageHtml;

}  // namespace tollgate::sandbox
