// Delivers the effects the engine wrote to the outbox: assignment DMs,
// updates of every posted copy, notifications, thread comments, reminders
// (thread replies that mention the assignee) and mails.
//
// Order: the store offers only the oldest pending effect of each task, so a
// task's effects reach Slack in the order they were decided. Messages are
// rendered at delivery time from the task as it is then: what to send for an
// effect is decided by the planner (outbox_planner.h, pure); this worker reads
// what the planner needs, and claims, paces, retries and records the calls.
//
// Once: an effect may take several calls (a comment goes into every thread
// of its task). Each call that succeeds is recorded with its item before the
// next is made (Store::record_outbox_call, with the message it posted in the
// same transaction), and a retry of the item skips the calls recorded, so no
// call that succeeded is made again. A call whose record fails is not made
// again either: its record is retried from memory until it is written. What
// remains is the window between Slack's answer and the record's commit: if
// this process dies in it (or loses its claim, see below), the call is made
// again by whoever delivers the item next. Delivery is at least once, and
// more than once only then.
//
// Claims: an item is this worker's under a claim with a lease, renewed every
// third of the lease while the worker holds it (waiting for its channel's
// second, for a Retry-After, or for a record), so the lease does not lapse
// while it waits. A claim of an item the worker already holds adopts the new
// claim instead of delivering it twice. A worker whose claim has passed to
// another (its lease lapsed) drops the item: the store refuses its records.
//
// Pace: at most one chat.postMessage per second per channel, and per-method
// budgets from Slack's tiers (sliding 60-second windows), kept on this side so
// that a burst of thousands of assignments drains at Slack's pace instead of
// provoking 429s. A 429 that comes anyway blocks that method or channel for
// its Retry-After, and the call waits for it, held: a 429 is not a failure
// and uses up no attempt.
//
// Failures: a network error or 5xx is retried with exponential backoff and
// jitter, capped (5 minutes); an effect is given up on (parked) when Slack
// refuses it (invalid_blocks, channel_not_found, ...) or when it is still
// undelivered `max_age` after it was decided (24 hours), not after a count of
// attempts: an outage of an hour parks nothing. Parked effects are counted in
// /metrics, logged and kept for `tollgate outbox requeue`; nothing is dropped
// silently. Everything is durable: a restart resumes from the outbox.
//
// Thread-safe. Runs its own thread between start() and stop().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace tollgate {

class Engine;
class Identity;
struct Command;
class Metrics;
class Store;
namespace slack {
class WebClient;
}
namespace mail {
class SmtpClient;
}
namespace connect {
class Connectors;
}

struct OutboxOptions {
  // Effects claimed and not yet finished. Large enough that reviewers whose
  // channels are waiting for their second do not hold up the others.
  int max_in_flight = 512;
  std::chrono::milliseconds poll{250};
  // How long a claim is this worker's without renewal; renewed every third
  // of it while held.
  std::chrono::milliseconds lease{60 * 1000};
  // An effect still undelivered this long after it was decided is parked at
  // its next failure (by the injected clock).
  std::chrono::milliseconds max_age{24 * 3600 * 1000};
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{5 * 60 * 1000};
};

// Which of `refused`, the ids renew_outbox answered for the (id, claim) pairs
// `sent`, this worker has lost: those it still holds (`held`: id -> claim)
// under the claim that was renewed. An item it re-claimed after the renewal
// went out is held under a newer claim, its own: not lost.
std::vector<std::int64_t> lost_on_renewal(
    const std::vector<std::pair<std::int64_t, std::string>>& sent,
    const std::vector<std::int64_t>& refused, const std::map<std::int64_t, std::string>& held);

class OutboxWorker {
 public:
  OutboxWorker(Store& store, slack::WebClient& slack, Identity& identity,
               std::function<std::shared_ptr<const Engine>()> engine, const Clock& clock,
               Metrics& metrics, OutboxOptions options = {});
  ~OutboxWorker();

  void start();
  // Stops claiming; waits up to `grace` for deliveries in flight.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // New effects were committed: look now rather than at the next poll.
  void wake();
  // Email effects go through `mailer`; without one they are parked with a
  // reason. Set before start().
  void set_mailer(mail::SmtpClient* mailer);
  // The workspace's address ("https://acme.slack.com/", from auth.test): the
  // messages posted are recorded with their permalink, and mails link to them.
  void set_workspace_url(std::string url);
  // Connector effects: the call goes through `connectors`, and what the
  // app's system answered is decided on the task through `decide` (the
  // task service's act, as kSystemActor; its completion gets the outcome).
  // The item is finished once that decision is committed (or refused: the
  // task moved on); a call that may pass is tried again after the
  // connector's own backoff, up to its max_attempts, then decided failed.
  // Without connectors, such effects fail their step to people. Set before
  // start(). `public_url`: Tollgate's address, for a webhook's callback_url.
  using Decide = std::function<void(std::int64_t task, Command cmd, std::function<void(Status)>)>;
  void set_connectors(connect::Connectors* connectors, Decide decide, std::string public_url);
  // The task page's links in messages and mails (web/links.h), signed with
  // `key` and valid `ttl`; with the public URL of set_connectors. Unset (an
  // empty key): none. Set before start().
  void set_task_links(std::string key, Duration ttl);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tollgate
