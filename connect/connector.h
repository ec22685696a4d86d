// Connectors: the change of an access made in the target system itself, by a
// signed webhook (Standard Webhooks) or a SCIM 2.0 group membership
// (docs/connectors.md). The outbox worker runs one Job per provisioning or
// deprovisioning step; what the system answered decides the step (the engine's
// connector actions), so a failure reaches people and is never "granted".
//
// Transport: HTTPS on libcurl with the peer's certificate and host name
// verified (the system's trust store, or SSL_CERT_FILE / SSL_CERT_DIR); plain
// http:// only to a loopback address. Redirects are not followed (a bearer
// token never goes anywhere but the configured host). Answers are read up to
// 1 MiB.
//
// Thread-safe: run() may be called from any thread; completions run on the
// connectors' own thread and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "workflow/directory.h"

namespace tollgate::connect {

enum class Op { grant, revoke };

// One change to make: who gets or loses which access, for which task.
struct Job {
  // Stable across the retries of one attempt ("tollgate-42-3-1": task, step,
  // attempt): the webhook's `webhook-id` and the event's `id`, so a receiver
  // can drop a delivery it has acted on already.
  std::string idempotency_id;
  Op op = Op::grant;
  std::int64_t task = 0;
  std::string app, app_name, resource, resource_name;
  std::string person, person_name, email;  // the subject
  std::optional<Time> expires_at;          // a time-bound grant's end
  std::string scim_group;                  // the resource's
  // Where a webhook receiver that answered 202 confirms the outcome
  // ("https://tollgate.acme.test/api/v1/tasks/42/provisioning", for grants
  // and revocations alike; the path alone when Tollgate has no public URL).
  std::string callback_url;
};

enum class Outcome {
  done,       // the change is made (or was already: a member already added)
  accepted,   // webhook 202: the receiver confirms later (the callback)
  transient,  // may pass: network, timeout, 5xx, 408, 429 — try again
  failed,     // will not pass without people: 4xx, a user or group missing, a secret unset
};
std::string_view outcome_name(Outcome o);  // "done", "accepted", "transient", "failed"

struct Result {
  Outcome outcome = Outcome::failed;
  // What the system said, one line for people and the audit log:
  // "HTTP 204: member added to group \"Engineering\"", "SCIM 409 uniqueness: …".
  std::string answer;
  int http_status = 0;  // the last answer's status; 0 when none came
  std::optional<std::chrono::milliseconds> retry_after;  // a 429's
};

// One line of `tollgate connectors test APP`.
struct CheckLine {
  bool ok = false;
  std::string what;    // "provisioning: SCIM https://okta.test/scim/v2"
  std::string detail;  // "token accepted; group \"Engineering\" found (id 7f3…)"
};

struct Options {
  // Reads an environment variable (secret_env, token_env); defaults to getenv.
  std::function<std::optional<std::string>(const std::string&)> env;
  Clock* clock = nullptr;  // webhook-timestamp; the system clock when null
};

class Connectors {
 public:
  explicit Connectors(Options options = {});
  ~Connectors();
  Connectors(const Connectors&) = delete;
  Connectors& operator=(const Connectors&) = delete;

  // Makes `job` with the app's `mode` connector (webhook or scim); `done`
  // gets what came of it. Each run is one attempt: retries are the caller's.
  void run(ProvisioningMode mode, const Connector& connector, const Job& job,
           std::function<void(Result)> done);
  // Tries each connector of `app` (credentials, reachability, the resources'
  // SCIM groups; a webhook gets a signed "tollgate.ping" event) and says what
  // works. Blocking; for the CLI.
  std::vector<CheckLine> test(const App& app);
  // Calls under way are abandoned; their completions never run.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The Standard Webhooks signature of a delivery: "v1,<base64 HMAC-SHA256 of
// `id.timestamp.body`>", the key being the secret's base64 after "whsec_"
// (a secret without the prefix is taken as base64 too). invalid_argument when
// the secret is not base64.
StatusOr<std::string> webhook_signature(const std::string& secret, const std::string& id,
                                        std::int64_t timestamp, const std::string& body);
// Verifies a signed request (the receiver's side, for the callback):
// `signature_header` may hold several space-separated "v1,…" entries; one must
// match. The timestamp must be within `tolerance` of `now`. permission_denied
// with the reason otherwise ("webhook signature does not match", "webhook
// timestamp is 400 s away from now"); invalid_argument for a malformed header.
Status verify_webhook(const std::string& secret, const std::string& id,
                      const std::string& timestamp, const std::string& signature_header,
                      const std::string& body, Time now,
                      std::chrono::seconds tolerance = std::chrono::seconds(300));
// At most `max` characters of `text` on one line: control characters become
// spaces, runs of spaces one space; "…" marks a cut. For what a system said,
// shown to people and kept in the log.
std::string snippet(std::string_view text, std::size_t max = 200);

// The event a webhook delivers for `job` (JSON): {"type": "access.grant" |
// "access.revoke", "timestamp", "data": {"id", "task", "person": {...}, "app":
// {...}, "resource": {...}, "expires_at", "callback_url"}}.
std::string webhook_event(const Job& job, Time now);

}  // namespace tollgate::connect
