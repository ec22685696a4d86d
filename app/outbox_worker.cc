#include "app/outbox_worker.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "app/identity.h"
#include "app/outbox_planner.h"
#include "base/json.h"
#include "base/metrics.h"
#include "connect/connector.h"
#include "mail/smtp.h"
#include "slack/web_client.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using Steady = std::chrono::steady_clock;

// Slack's budgets, kept on our side (docs/slack-protocol.md §6). chat.postMessage is
// paced per channel instead.
int per_minute(const std::string& method) {
  static const std::map<std::string, int> kBudget = {
      {"chat.update", 50}, {"chat.postEphemeral", 100}, {"views.publish", 100},
      {"users.info", 100}, {"users.lookupByEmail", 50}, {"conversations.replies", 50},
  };
  auto it = kBudget.find(method);
  return it == kBudget.end() ? 0 : it->second;
}

// Slack allows one post a second to a channel. A post goes a second after the
// answer to the one before: that one reached Slack before its answer left, so
// the two arrive at least a second apart whatever the network's jitter (a gap
// measured from the sends would not be: a delayed first post brings them closer).
constexpr auto kChannelGap = std::chrono::seconds(1);
// How long a post's channel is held while it waits for Slack's answer; longer
// than the Web API client's connect and request timeouts, so that only a call
// that never answers (which does not happen) would release it.
constexpr auto kInFlightHold = std::chrono::seconds(30);

class Pacer {
 public:
  // Whether a call may go now; if not, when to look again.
  bool try_acquire(const std::string& method, const std::string& channel, Steady::time_point now,
                   Steady::time_point* when) {
    if (auto b = blocked_.find(method); b != blocked_.end() && b->second > now)
      return wait(b->second, when);
    if (method == outbox::kConnector) {  // one app's Retry-After holds that app only
      if (auto b = blocked_.find(channel); b != blocked_.end() && b->second > now)
        return wait(b->second, when);
      return true;
    }
    if (method == "chat.postMessage" && !channel.empty()) {
      const std::string& key = canonical(channel);
      if (auto b = blocked_.find("channel:" + key); b != blocked_.end() && b->second > now) {
        return wait(b->second, when);
      }
      auto& next = channel_next_[key];
      if (next > now) return wait(next, when);
      next = now + kInFlightHold;  // until settled() by its answer
      return true;
    }
    if (int budget = per_minute(method); budget > 0) {
      auto& w = windows_[method];
      while (!w.empty() && now - w.front() >= std::chrono::seconds(60)) w.pop_front();
      if (static_cast<int>(w.size()) >= budget)
        return wait(w.front() + std::chrono::seconds(60), when);
      w.push_back(now);
    }
    return true;
  }
  // The answer to a post to `channel` came (or the call failed): the next post
  // to it may go a second from now.
  void settled(const std::string& channel, Steady::time_point now) {
    channel_next_[canonical(channel)] = now + kChannelGap;
  }
  // A DM can be named by the user's id or by its D… channel: pace both as one.
  void alias(const std::string& user_id, const std::string& channel) {
    if (user_id.empty() || channel.empty() || user_id == channel) return;
    aliases_[user_id] = channel;
    auto& merged = channel_next_[channel];
    merged = std::max(merged, channel_next_[user_id]);
  }
  // A 429 came anyway: hold the method (or the channel) for Retry-After.
  void penalize(const std::string& method, const std::string& channel, Steady::time_point until) {
    blocked_[method == "chat.postMessage" && !channel.empty() ? "channel:" + canonical(channel)
             : method == outbox::kConnector                   ? channel
                                                              : method] = until;
  }

 private:
  const std::string& canonical(const std::string& channel) const {
    auto it = aliases_.find(channel);
    return it == aliases_.end() ? channel : it->second;
  }
  static bool wait(Steady::time_point t, Steady::time_point* when) {
    *when = t;
    return false;
  }
  std::map<std::string, std::deque<Steady::time_point>> windows_;
  std::map<std::string, Steady::time_point> channel_next_;
  std::map<std::string, Steady::time_point> blocked_;
  std::map<std::string, std::string> aliases_;
};

// The metrics the worker keeps, described once for /metrics.
struct MetricHelp {
  const char* name;
  const char* type;
  const char* help;
};
constexpr MetricHelp kMetrics[] = {
    {"tollgate_outbox_delivered_total", "counter", "Effects delivered to Slack, by kind"},
    {"tollgate_outbox_retries_total", "counter", "Deliveries that failed and were rescheduled"},
    {"tollgate_outbox_parked_total", "counter", "Deliveries given up on and parked, by kind"},
    {"tollgate_outbox_rate_limited_total", "counter",
     "Calls answered 429, waited for (no attempt used), by method"},
    {"tollgate_outbox_store_retries_total", "counter",
     "Records of calls made (or finishes) that failed and are retried from memory"},
    {"tollgate_outbox_delivery_seconds", "histogram", "From commit to delivery, by kind"},
    {"tollgate_slack_calls_total", "counter", "Slack Web API calls by method and result"},
    {"tollgate_mails_total", "counter", "Mails handed to the SMTP server, by result"},
    {"tollgate_connector_calls_total", "counter",
     "Calls to apps' connectors (webhook, SCIM), by app, mode and outcome"},
};

// An item from its claim to its finish. It is in one place at a time: being
// planned, in `ready` (waiting for the pacer), out (a Slack call, a mail or a
// store write in flight), or in `retrying` (a store write to try again).
struct Delivery {
  OutboxItem item;  // item.claim and `lost` change under Impl::mu
  std::vector<outbox::Call> calls;
  std::size_t next = 0;
  Status failure;  // planning failed: finish with this
  // calls[next] succeeded and posted this message: to record with the call.
  std::optional<SlackMessage> posted;
  // Every call succeeded: what is left is to finish the item (in `retrying`
  // when that write failed; otherwise the record of calls[next] is).
  bool finishing = false;
  int store_failures = 0;  // of the record or finish being retried
  bool counted = false;    // its outcome is in the metrics and the log (once)
  Steady::time_point retry_at{};
  bool lost = false;  // its claim has passed to another worker
};

}  // namespace

struct OutboxWorker::Impl : std::enable_shared_from_this<OutboxWorker::Impl> {
  using DeliveryPtr = std::shared_ptr<Delivery>;

  Store& store;
  slack::WebClient& slack;
  Identity& identity;
  std::function<std::shared_ptr<const Engine>()> engine;
  const Clock& clock;
  Metrics& metrics;
  OutboxOptions options;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool woken = true;  // there may be something to claim
  bool kick = false;  // look again now (consumed by each turn of the loop)
  bool claiming = false;
  bool renewing = false;
  int out = 0;                                 // deliveries with a call or store write in flight
  std::map<std::int64_t, DeliveryPtr> held;    // every item this worker holds, by id
  std::list<DeliveryPtr> claimed;              // to plan
  std::list<DeliveryPtr> ready;                // planned, waiting for the pacer
  std::list<DeliveryPtr> retrying;             // a record or finish to try again at retry_at
  std::map<PersonId, std::string> dm_channel;  // person -> D... (learnt from postMessage answers)
  mail::SmtpClient* mailer = nullptr;
  std::string workspace_url;
  connect::Connectors* connectors = nullptr;
  OutboxWorker::Decide decide;
  std::string public_url;
  std::string link_key;
  Duration link_ttl = std::chrono::hours(24 * 7);
  Pacer pacer;
  std::mt19937 rng{std::random_device{}()};
  std::thread thread;

  Impl(Store& s, slack::WebClient& c, Identity& i, std::function<std::shared_ptr<const Engine>()> e,
       const Clock& k, Metrics& m, OutboxOptions o)
      : store(s), slack(c), identity(i), engine(std::move(e)), clock(k), metrics(m), options(o) {}

  std::string url() {
    std::lock_guard lock(mu);
    return workspace_url;
  }

  std::string claim_of(const Delivery& d) {
    std::lock_guard lock(mu);
    return d.item.claim;
  }

  // Turns an effect into the calls that deliver it (outbox_planner.h), from
  // the task as it is now, leaving out the calls the item has recorded as
  // done. Reads here; the planner decides.
  void plan(Delivery& d) {
    const Effect& e = d.item.effect;
    // An access notice is about the access, filed under the task that granted
    // or removes it, open or closed; under none (0), an empty task stands in.
    StatusOr<Task> task = e.kind == EffectKind::access_notice && e.task == 0
                              ? StatusOr<Task>(Task{})
                              : store.task(e.task);
    if (!task.ok()) {
      d.failure = task.status();
      return;
    }
    auto eng = engine();
    outbox::PlanInput in{*eng, *task};
    if (outbox::needs_messages(e.kind)) {
      auto messages = store.messages(task->number);
      if (messages.ok()) {
        in.messages = std::move(*messages);
      } else if (e.kind != EffectKind::email) {  // a mail goes without its link
        d.failure = messages.status();
        return;
      }
    }
    if (!e.recipient.empty()) in.recipient_slack_id = identity.slack_id_for(e.recipient);
    {
      std::lock_guard lock(mu);
      if (auto it = dm_channel.find(e.recipient); it != dm_channel.end())
        in.recipient_dm = it->second;
      in.mail_enabled = mailer != nullptr;
      in.workspace_url = workspace_url;
      in.public_url = public_url;
      in.link_key = link_key;
      in.link_ttl = link_ttl;
    }
    outbox::Planned planned = outbox::plan(e, in);
    if (planned.learn_people) identity.learn_people();
    d.failure = planned.failure;
    d.calls = std::move(planned.calls);
    outbox::drop_done(d.calls, d.item.done_calls);
  }

  std::chrono::milliseconds jitter(std::chrono::milliseconds upto) {
    std::lock_guard lock(mu);
    std::uniform_int_distribution<long long> j(0, upto.count());
    return std::chrono::milliseconds(j(rng));
  }

  // base_backoff doubling per failure, capped at max_backoff, plus up to a quarter of jitter.
  std::chrono::milliseconds backoff(int failures) {
    auto b = options.base_backoff * (1LL << std::clamp(failures, 0, 20));
    if (b > options.max_backoff) b = options.max_backoff;
    return b + jitter(b / 4);
  }

  // Undelivered for max_age since it was decided: the next failure parks it.
  bool too_old(const Delivery& d) const {
    return clock.now() - d.item.created_at >= options.max_age;
  }

  // Back to the loop: into `ready`, or `retrying`. Not when the claim is lost.
  void requeue(const DeliveryPtr& d, bool retry) {
    {
      std::lock_guard lock(mu);
      --out;
      if (d->lost || held.count(d->item.id) == 0) {
        if (auto h = held.find(d->item.id); h != held.end() && h->second == d) held.erase(h);
      } else {
        (retry ? retrying : ready).push_back(d);
      }
      woken = true;
      kick = true;
    }
    cv.notify_all();
  }

  // Done with the item (finished, or no longer ours): frees its place.
  void drop(const DeliveryPtr& d) {
    {
      std::lock_guard lock(mu);
      --out;
      if (auto h = held.find(d->item.id); h != held.end() && h->second == d) held.erase(h);
      woken = true;
      kick = true;
    }
    cv.notify_all();
  }

  // A store write on the item was refused because its claim is not `used`
  // any more. True (and the write is to be made again) when this worker holds
  // it under a newer claim; false when another worker has it.
  bool claim_moved_on(const DeliveryPtr& d, const std::string& used) {
    std::lock_guard lock(mu);
    return !d->lost && d->item.claim != used;
  }

  // A store write failed for another reason: try it again after a backoff,
  // from memory, holding the item meanwhile.
  void retry_store_write(const DeliveryPtr& d, const char* what, const Status& s) {
    auto wait = backoff(d->store_failures++);
    spdlog::warn("outbox: could not {} item {} (task #{}): {}; again in {} ms", what, d->item.id,
                 d->item.effect.task, s.to_string(), wait.count());
    metrics.inc("tollgate_outbox_store_retries_total", {{"write", what}});
    d->retry_at = Steady::now() + wait;
    requeue(d, /*retry=*/true);
  }

  // Records the last call's success with the item, then moves to the next
  // call or finishes. The last call without a message to record is recorded
  // by the finish itself (the item is removed).
  void record(const DeliveryPtr& d) {
    if (d->next + 1 == d->calls.size() && !d->posted) return finish(d, {});
    std::string claim = claim_of(*d);
    auto self = shared_from_this();
    store.record_outbox_call(d->item.id, claim, d->calls[d->next].key, d->posted,
                             [self, d, claim](Status s) { self->recorded(d, claim, s); });
  }

  void recorded(const DeliveryPtr& d, const std::string& claim, const Status& s) {
    if (s.ok()) {
      d->posted.reset();
      d->store_failures = 0;
      if (++d->next < d->calls.size()) return requeue(d, /*retry=*/false);
      return finish(d, {});
    }
    if (s.code() == Code::not_found) {  // not held under `claim`
      if (claim_moved_on(d, claim)) return record(d);
      spdlog::warn("outbox: item {} (task #{}) is another worker's now; dropped", d->item.id,
                   d->item.effect.task);
      return drop(d);
    }
    retry_store_write(d, "record a call of", s);
  }

  // Records the outcome of a delivery in the outbox, then frees its place.
  void finish(const DeliveryPtr& d, Status result,
              std::optional<std::chrono::milliseconds> wait_for = std::nullopt) {
    const OutboxItem& item = d->item;
    std::string kind(effect_kind_name(item.effect.kind));
    std::optional<Time> retry_at;
    bool count = !std::exchange(d->counted, true);
    if (!result.ok()) {
      bool old = too_old(*d);
      if (result.code() == Code::unavailable && !old) {
        auto wait = wait_for.value_or(backoff(item.attempts));
        retry_at = clock.now() + std::chrono::duration_cast<Duration>(wait);
        if (count) {
          metrics.inc("tollgate_outbox_retries_total", {{"kind", kind}});
          spdlog::warn("outbox: {} for task #{} failed ({}); retry in {} ms", kind,
                       item.effect.task, result.to_string(), wait.count());
        }
      } else {
        if (result.code() == Code::unavailable && old) {
          result = Status(result.code(), result.message() + " (undelivered for " +
                                             std::to_string(options.max_age.count() / 60000) +
                                             " min: given up)");
        }
        if (count) {
          metrics.inc("tollgate_outbox_parked_total", {{"kind", kind}});
          spdlog::error("outbox: {} for task #{} parked after {} attempt(s): {}", kind,
                        item.effect.task, item.attempts + 1, result.to_string());
        }
      }
    } else if (count) {
      metrics.inc("tollgate_outbox_delivered_total", {{"kind", kind}});
      metrics.observe("tollgate_outbox_delivery_seconds", {{"kind", kind}},
                      std::chrono::duration<double>(clock.now() - item.created_at).count());
    }
    std::string claim = claim_of(*d);
    auto self = shared_from_this();
    store.finish_outbox(item.id, claim, result, retry_at,
                        [self, d, claim, delivered = result.ok()](Status s) {
                          self->finished(d, claim, delivered, s);
                        });
  }

  void finished(const DeliveryPtr& d, const std::string& claim, bool delivered, const Status& s) {
    if (s.ok()) return drop(d);
    bool lost = s.code() == Code::not_found;  // not held under `claim`
    if (lost && claim_moved_on(d, claim)) {
      // Held under a newer claim: finish under that one.
      if (delivered) return finish(d, {});
      return drop(d);  // a failure: the item is offered again anyway
    }
    if (delivered && !lost) {
      // The last call was made: the item must not be offered again for it.
      d->finishing = true;
      return retry_store_write(d, "finish", s);
    }
    // A failed delivery not recorded: its lease lapses and it is offered again.
    spdlog::error("outbox: could not record the outcome of item {}: {}", d->item.id, s.to_string());
    drop(d);
  }

  // Slack (or the mail server) answered calls[next].
  void answered(const DeliveryPtr& d, const Status& status,
                std::optional<std::chrono::milliseconds> retry_after, const std::string& body) {
    outbox::Call& c = d->calls[d->next];
    if (c.method == "chat.postMessage" && !c.channel.empty()) {
      std::lock_guard lock(mu);
      pacer.settled(c.channel, Steady::now());
    }
    if (!status.ok()) {
      if (retry_after) {
        // Rate limited: hold the method or channel for Retry-After and wait
        // for it. Not a failure: no attempt is used up.
        {
          std::lock_guard lock(mu);
          pacer.penalize(c.method, c.channel, Steady::now() + *retry_after);
        }
        metrics.inc("tollgate_outbox_rate_limited_total", {{"method", c.method}});
        if (!too_old(*d)) return requeue(d, /*retry=*/false);
      }
      return finish(d, status);
    }
    if (c.dm_of.empty() && !c.record) return record(d);
    rapidjson::Document doc;
    std::string channel, ts;
    if (json::parse(doc, body).ok()) {
      channel = json::str(doc, "channel");
      ts = json::str(doc, "ts");
    }
    if (!c.dm_of.empty() && !channel.empty()) {
      auto slack_id = identity.slack_id_for(c.dm_of);
      std::lock_guard lock(mu);
      if (slack_id) pacer.alias(*slack_id, channel);
      dm_channel[c.dm_of] = channel;
    }
    if (c.record && !channel.empty() && !ts.empty()) {
      d->posted = *c.record;
      d->posted->channel = channel;
      d->posted->ts = ts;
      d->posted->posted_at = clock.now();
      d->posted->permalink = outbox::permalink(url(), channel, ts);
    } else if (c.record) {
      spdlog::error("outbox: {} for task #{} answered without channel or ts; not recorded",
                    c.method, d->item.effect.task);
    }
    record(d);
  }

  // --- Connectors.

  // The connector's own backoff for its next try: `backoff` doubling per
  // failure, capped at 10 minutes, plus up to a quarter of jitter.
  std::chrono::milliseconds connector_backoff(const Connector& c, int failures) {
    auto base = std::chrono::duration_cast<std::chrono::milliseconds>(c.backoff);
    auto b = base * (1LL << std::clamp(failures, 0, 20));
    b = std::min<std::chrono::milliseconds>(b, std::chrono::minutes(10));
    return b + jitter(b / 4);
  }

  void call_connector(const DeliveryPtr& d) {
    const outbox::ConnectorCall& cc = *d->calls[d->next].connector;
    connect::Connectors* via = nullptr;
    {
      std::lock_guard lock(mu);
      via = connectors;
    }
    if (!cc.refused.empty() || via == nullptr) {
      connect::Result r;
      r.answer = !cc.refused.empty() ? cc.refused : "connectors are not running in this process";
      return connector_answered(d, std::move(r));
    }
    auto self = shared_from_this();
    via->run(cc.mode, cc.settings, cc.job,
             [self, d](connect::Result r) { self->connector_answered(d, std::move(r)); });
  }

  // The app's system answered: wait and try again, or decide on the task.
  void connector_answered(const DeliveryPtr& d, connect::Result r) {
    outbox::Call& c = d->calls[d->next];
    const outbox::ConnectorCall& cc = *c.connector;
    metrics.inc("tollgate_connector_calls_total",
                {{"app", cc.job.app},
                 {"mode", std::string(provisioning_mode_name(cc.mode))},
                 {"outcome", std::string(connect::outcome_name(r.outcome))}});
    if (r.outcome == connect::Outcome::transient) {
      // A 429: the app is held for Retry-After and no attempt is used, until
      // the change is max_age old (then people take it over).
      if (r.retry_after && !too_old(*d)) {
        // At least a second: a Retry-After of 0 must not turn into a busy loop.
        auto wait = std::max(*r.retry_after, std::chrono::milliseconds(1000));
        {
          std::lock_guard lock(mu);
          pacer.penalize(c.method, c.channel, Steady::now() + wait);
        }
        spdlog::info("connector: {} for task #{} rate limited; again in {} ms", cc.job.app,
                     cc.job.task, wait.count());
        return requeue(d, /*retry=*/false);
      }
      int tries = d->item.attempts + 1;
      bool old = too_old(*d);
      if (tries < cc.settings.max_attempts && !old) {
        spdlog::warn("connector: {} for task #{} (attempt {} of {}): {}", cc.job.app, cc.job.task,
                     tries, cc.settings.max_attempts, r.answer);
        return finish(d, unavailable(r.answer), connector_backoff(cc.settings, d->item.attempts));
      }
      r.outcome = connect::Outcome::failed;
      r.answer += old ? " (not done " + std::to_string(options.max_age.count() / 60000) +
                            " min after it was asked for: given up)"
                      : " (gave up after " + std::to_string(tries) + " tries)";
    }
    Command cmd;
    cmd.action = r.outcome == connect::Outcome::done       ? Action::connector_done
                 : r.outcome == connect::Outcome::accepted ? Action::connector_accepted
                                                           : Action::connector_failed;
    cmd.actor = std::string(kSystemActor);
    cmd.comment = r.answer;
    cmd.step = cc.step;
    cmd.attempt = cc.attempt;
    cmd.source = "connector";
    auto self = shared_from_this();
    decide(cc.job.task, std::move(cmd), [self, d](Status s) { self->connector_decided(d, s); });
  }

  // Committed, or refused because the task moved on (cancelled, answered
  // already): the item is done. Not written (the store unreachable): the call
  // is made again later, which the connectors make safe (idempotent).
  void connector_decided(const DeliveryPtr& d, const Status& s) {
    if (s.ok() || s.code() == Code::conflict || s.code() == Code::not_found) {
      if (!s.ok()) {
        spdlog::info("connector: answer for task #{} not taken: {}", d->item.effect.task,
                     s.to_string());
      }
      return record(d);
    }
    finish(d, s.code() == Code::unavailable || s.code() == Code::version_conflict
                  ? unavailable(s.message())
                  : s);
  }

  void send(const DeliveryPtr& d) {
    outbox::Call& call = d->calls[d->next];
    auto self = shared_from_this();
    if (call.method == outbox::kConnector) return call_connector(d);
    if (call.method == outbox::kSmtp) {
      mailer->send(*call.mail, [self, d](Status s) {
        self->metrics.inc("tollgate_mails_total", {{"result", s.ok() ? "sent" : "failed"}});
        self->answered(d, s, std::nullopt, "");
      });
      return;
    }
    slack.call(call.method, call.body, [self, d](slack::ApiResult r) {
      self->metrics.inc("tollgate_slack_calls_total", {{"method", d->calls[d->next].method},
                                                       {"result", r.ok()            ? "ok"
                                                                  : r.error.empty() ? "error"
                                                                                    : r.error}});
      self->answered(d, r.status, r.retry_after, r.body);
    });
  }

  // What a store write to retry does: finish, or record the call that succeeded.
  void resume(const DeliveryPtr& d) {
    if (d->finishing) return finish(d, {});
    record(d);
  }

  int capacity() const { return options.max_in_flight - static_cast<int>(held.size()); }

  // Items claimed: new ones are planned; one this worker holds already takes
  // the new claim and is not delivered a second time.
  void claimed_items(StatusOr<std::vector<OutboxItem>> r) {
    {
      std::lock_guard l(mu);
      claiming = false;
      if (!r.ok()) {
        spdlog::warn("outbox: cannot claim: {}", r.status().to_string());
      } else {
        for (OutboxItem& it : *r) {
          if (auto h = held.find(it.id); h != held.end()) {
            h->second->item.claim = it.claim;
            h->second->lost = false;
            continue;
          }
          auto d = std::make_shared<Delivery>();
          d->item = std::move(it);
          held[d->item.id] = d;
          claimed.push_back(std::move(d));
        }
      }
    }
    cv.notify_all();
  }

  // Renewal of `sent` (id, claim) answered: drop what is no longer ours and
  // not out (what is out learns it from the store's refusal of its record).
  // An id refused is lost only if it is still held under the claim renewed:
  // re-claimed meanwhile (claimed_items()), its new claim is ours.
  void renewed(const std::vector<std::pair<std::int64_t, std::string>>& sent,
               StatusOr<std::vector<std::int64_t>> r) {
    {
      std::lock_guard l(mu);
      renewing = false;
      if (!r.ok()) {
        spdlog::warn("outbox: cannot renew leases: {}", r.status().to_string());
      } else {
        std::map<std::int64_t, std::string> now_held;
        for (const auto& [id, d] : held) now_held.emplace(id, d->item.claim);
        for (std::int64_t id : lost_on_renewal(sent, *r, now_held)) held[id]->lost = true;
        auto forget = [&](std::list<DeliveryPtr>& waiting) {
          waiting.remove_if([&](const DeliveryPtr& d) {
            if (!d->lost) return false;
            spdlog::warn("outbox: item {} (task #{}) is another worker's now; dropped", d->item.id,
                         d->item.effect.task);
            held.erase(d->item.id);
            return true;
          });
        };
        forget(claimed);
        forget(ready);
        forget(retrying);
      }
      kick = true;
    }
    cv.notify_all();
  }

  std::chrono::milliseconds renew_every() const {
    return std::max(options.lease / 3, std::chrono::milliseconds(10));
  }

  // When the loop next claims, polls and renews (the loop's own state).
  struct Schedule {
    Steady::time_point next_poll;
    Steady::time_point next_claim;
    Steady::time_point next_renew;
  };
  using Lock = std::unique_lock<std::mutex>;
  static constexpr auto kMs = std::chrono::milliseconds(1);

  // Claims when there is room, no claim is pending, and there is reason to
  // look (new effects, freed room, or the poll); at most every 20 ms, so
  // that a burst of commits does not turn into a burst of claims.
  void claim_if_due(Lock& lock, Schedule& s, Steady::time_point now) {
    if (!claiming && capacity() > 0 && (woken || now >= s.next_poll) && now >= s.next_claim) {
      claiming = true;
      woken = false;
      s.next_poll = now + options.poll;
      s.next_claim = now + 20 * kMs;
      int want = capacity();
      auto self = shared_from_this();
      lock.unlock();
      store.claim_outbox(clock.now(), want, options.lease,
                         [self](auto r) { self->claimed_items(std::move(r)); });
      lock.lock();
    } else if (capacity() <= 0) {
      woken = false;  // no room: a finishing delivery wakes us again
    }
  }

  // Keeps what is held ours while it waits (pace, Retry-After, records).
  void renew_if_due(Lock& lock, Schedule& s, Steady::time_point now) {
    if (renewing || held.empty() || now < s.next_renew) return;
    renewing = true;
    s.next_renew = now + renew_every();
    std::vector<std::pair<std::int64_t, std::string>> claims;
    for (const auto& [id, d] : held) claims.emplace_back(id, d->item.claim);
    auto self = shared_from_this();
    lock.unlock();
    store.renew_outbox(claims, clock.now() + options.lease,
                       [self, claims](auto r) { self->renewed(claims, std::move(r)); });
    lock.lock();
  }

  // Plans what was claimed, outside the lock (it reads the store).
  void plan_claimed(Lock& lock) {
    while (!claimed.empty()) {
      auto d = claimed.front();
      claimed.pop_front();
      ++out;
      lock.unlock();
      plan(*d);
      if (!d->failure.ok() || d->calls.empty()) {
        finish(d, d->failure);  // keeps its place until recorded
        lock.lock();
      } else {
        lock.lock();
        --out;
        ready.push_back(d);
      }
    }
  }

  // Store writes to try again, when due; `wake_at` is brought forward to the
  // next one that is not.
  void retry_due(Lock& lock, Steady::time_point now, Steady::time_point& wake_at) {
    for (auto it = retrying.begin(); it != retrying.end();) {
      auto d = *it;
      if (d->lost) {  // lost while being planned: another worker's now
        it = retrying.erase(it);
        held.erase(d->item.id);
        continue;
      }
      if (d->retry_at > now) {
        wake_at = std::min(wake_at, d->retry_at);
        ++it;
        continue;
      }
      it = retrying.erase(it);
      ++out;
      lock.unlock();
      resume(d);
      lock.lock();
    }
  }

  // Sends what the pacer allows; `wake_at` is brought forward to when it
  // allows the next of the rest.
  void send_ready(Lock& lock, Steady::time_point now, Steady::time_point& wake_at) {
    for (auto it = ready.begin(); it != ready.end();) {
      auto d = *it;
      if (d->lost) {
        it = ready.erase(it);
        held.erase(d->item.id);
        continue;
      }
      Steady::time_point when;
      const outbox::Call& c = d->calls[d->next];
      if (pacer.try_acquire(c.method, c.channel, now, &when)) {
        it = ready.erase(it);
        ++out;
        lock.unlock();
        send(d);
        lock.lock();
      } else {
        wake_at = std::min(wake_at, std::max(when, now + kMs));
        ++it;
      }
    }
  }

  void run() {
    Lock lock(mu);
    Schedule s{Steady::now(), Steady::now(), Steady::now() + renew_every()};
    while (!stopping) {
      kick = false;
      auto now = Steady::now();
      claim_if_due(lock, s, now);
      renew_if_due(lock, s, now);
      plan_claimed(lock);
      now = Steady::now();
      auto wake_at =
          std::min(std::max(s.next_poll, now + 5 * kMs), std::max(s.next_renew, now + kMs));
      retry_due(lock, now, wake_at);
      send_ready(lock, now, wake_at);
      if (woken && !claiming && capacity() > 0)
        wake_at = std::min(wake_at, std::max(s.next_claim, now + kMs));
      // The predicate must be false whenever waiting is the right thing to
      // do: a true one returns without releasing the lock. `kick` is set by
      // an event and cleared by the next turn, so it cannot stay true.
      cv.wait_until(lock, wake_at, [&] { return stopping || kick || !claimed.empty(); });
    }
  }
};

std::vector<std::int64_t> lost_on_renewal(
    const std::vector<std::pair<std::int64_t, std::string>>& sent,
    const std::vector<std::int64_t>& refused, const std::map<std::int64_t, std::string>& held) {
  std::vector<std::int64_t> lost;
  for (std::int64_t id : refused) {
    auto h = held.find(id);
    if (h == held.end()) continue;
    bool renewed_claim = std::any_of(sent.begin(), sent.end(), [&](const auto& c) {
      return c.first == id && c.second == h->second;
    });
    if (renewed_claim) lost.push_back(id);
  }
  return lost;
}

OutboxWorker::OutboxWorker(Store& store, slack::WebClient& slack, Identity& identity,
                           std::function<std::shared_ptr<const Engine>()> engine,
                           const Clock& clock, Metrics& metrics, OutboxOptions options)
    : impl_(std::make_shared<Impl>(store, slack, identity, std::move(engine), clock, metrics,
                                   options)) {
  for (const MetricHelp& m : kMetrics) metrics.describe(m.name, m.type, m.help);
}

OutboxWorker::~OutboxWorker() {
  stop(std::chrono::milliseconds(0));
}

void OutboxWorker::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([impl = impl_] { impl->run(); });
}

void OutboxWorker::stop(std::chrono::milliseconds grace) {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
  // Deliveries already sent finish on their own; give them a moment to record it.
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, grace, [&] { return impl_->out == 0; });
  // What was claimed or planned but not sent, and records not yet written,
  // stay in the outbox for the next start (a call whose record is lost here
  // is made again then).
  impl_->claimed.clear();
  impl_->ready.clear();
  impl_->retrying.clear();
  impl_->held.clear();
}

void OutboxWorker::set_mailer(mail::SmtpClient* mailer) {
  std::lock_guard lock(impl_->mu);
  impl_->mailer = mailer;
}

void OutboxWorker::set_workspace_url(std::string url) {
  std::lock_guard lock(impl_->mu);
  impl_->workspace_url = std::move(url);
}

void OutboxWorker::set_connectors(connect::Connectors* connectors, Decide decide,
                                  std::string public_url) {
  std::lock_guard lock(impl_->mu);
  impl_->connectors = connectors;
  impl_->decide = std::move(decide);
  impl_->public_url = std::move(public_url);
}

void OutboxWorker::set_task_links(std::string key, Duration ttl) {
  std::lock_guard lock(impl_->mu);
  impl_->link_key = std::move(key);
  impl_->link_ttl = ttl;
}

void OutboxWorker::wake() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->woken = true;
    impl_->kick = true;
  }
  impl_->cv.notify_all();
}

}  // namespace tollgate
