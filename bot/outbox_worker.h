// Delivers the effects the engine wrote to the outbox: assignment DMs,
// updates of every posted copy, notifications, thread comments, reminders
// (thread replies that mention the assignee) and mails.
//
// Order: the store offers only the oldest pending effect of each task, so a
// task's effects reach Slack in the order they were decided. Messages are
// rendered at delivery time from the task as it is then.
//
// Pace: at most one chat.postMessage per second per channel, and per-method
// budgets from Slack's tiers (sliding 60-second windows), kept on this side so
// that a burst of thousands of assignments drains at Slack's pace instead of
// provoking 429s. A 429 that comes anyway blocks that method or channel for
// its Retry-After.
//
// Failures: a network error, 5xx or 429 is retried with exponential backoff
// and jitter (at least Retry-After); a refusal by Slack (invalid_blocks,
// channel_not_found, ...) or too many attempts parks the effect with its
// error, counted in /metrics and logged; nothing is dropped silently.
// Everything is durable: a restart resumes from the outbox.
//
// Thread-safe. Runs its own thread between start() and stop().
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "workflow/clock.h"

namespace tollgate {

class Engine;
class Identity;
class Metrics;
class Store;
namespace slack {
class WebClient;
}
namespace mail {
class SmtpClient;
}

struct OutboxOptions {
  // Effects claimed and not yet finished. Large enough that reviewers whose
  // channels are waiting for their second do not hold up the others.
  int max_in_flight = 512;
  std::chrono::milliseconds poll{250};
  std::chrono::milliseconds lease{60 * 1000};
  int max_attempts = 12;
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{30 * 1000};
};

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

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tollgate
