#include "bot/outbox_worker.h"

#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "bot/identity.h"
#include "bot/json.h"
#include "bot/mail/smtp.h"
#include "bot/mail/templates.h"
#include "bot/metrics.h"
#include "bot/slack/blocks.h"
#include "bot/slack/web_client.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using Steady = std::chrono::steady_clock;

// Slack's budgets, kept on our side (PROTOCOL.md §6). chat.postMessage is
// paced per channel instead.
int per_minute(const std::string& method) {
  static const std::map<std::string, int> kBudget = {
      {"chat.update", 50}, {"chat.postEphemeral", 100}, {"views.publish", 100},
      {"users.info", 100}, {"users.lookupByEmail", 50}, {"conversations.replies", 50},
  };
  auto it = kBudget.find(method);
  return it == kBudget.end() ? 0 : it->second;
}

// A little over a second between two posts to one channel, so that network
// jitter cannot bring two of them closer than Slack's one per second.
constexpr auto kChannelGap = std::chrono::milliseconds(1050);

class Pacer {
 public:
  // Whether a call may go now; if not, when to look again.
  bool try_acquire(const std::string& method, const std::string& channel, Steady::time_point now,
                   Steady::time_point* when) {
    if (auto b = blocked_.find(method); b != blocked_.end() && b->second > now)
      return wait(b->second, when);
    if (method == "chat.postMessage" && !channel.empty()) {
      const std::string& key = canonical(channel);
      if (auto b = blocked_.find("channel:" + key); b != blocked_.end() && b->second > now) {
        return wait(b->second, when);
      }
      auto& next = channel_next_[key];
      if (next > now) return wait(next, when);
      next = now + kChannelGap;
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

struct Call {
  std::string method;   // a Web API method, or kSmtp
  std::string channel;  // for pacing
  std::string body;
  std::function<void(const slack::ApiResult&)> on_ok;
  std::optional<mail::MailMessage> mail;  // kSmtp
};

constexpr const char* kSmtp = "smtp";

// https://acme.slack.com/archives/D0123/p1700000000123456: Slack's permalink
// form, from the workspace's address, the channel and the message's ts.
std::string permalink(const std::string& workspace_url, const std::string& channel,
                      const std::string& ts) {
  if (workspace_url.empty() || channel.empty() || ts.empty()) return {};
  std::string digits;
  for (char c : ts) {
    if (c != '.') digits += c;
  }
  std::string base = workspace_url;
  if (base.back() != '/') base += '/';
  return base + "archives/" + channel + "/p" + digits;
}

struct Delivery {
  OutboxItem item;
  std::vector<Call> calls;
  std::size_t next = 0;
  Status failure;  // planning failed: finish with this
  Steady::time_point ready_at{};
};

std::string post_body(const std::string& channel, const slack::Message& m,
                      const std::string& thread_ts = {}) {
  return slack::kit::post_message(channel, m, thread_ts);
}

}  // namespace

struct OutboxWorker::Impl : std::enable_shared_from_this<OutboxWorker::Impl> {
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
  int in_flight = 0;                             // deliveries sent to Slack or being finished
  std::list<std::shared_ptr<Delivery>> claimed;  // to plan
  std::list<std::shared_ptr<Delivery>> ready;    // planned, waiting for the pacer
  std::map<PersonId, std::string> dm_channel;    // person -> D... (learnt from postMessage answers)
  mail::SmtpClient* mailer = nullptr;
  std::string workspace_url;
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

  std::string channel_for(const PersonId& person, const std::string& slack_id) {
    std::lock_guard lock(mu);
    auto it = dm_channel.find(person);
    return it != dm_channel.end() ? it->second : slack_id;
  }

  // Turns an effect into the Web API calls that deliver it, from the task as it is now.
  void plan(Delivery& d) {
    const Effect& e = d.item.effect;
    auto task = store.task(e.task);
    if (!task.ok()) {
      d.failure = task.status();
      return;
    }
    auto eng = engine();
    const Directory& dir = eng->directory();
    auto self = shared_from_this();
    auto dm = [&](const PersonId& person, std::string* channel) -> Status {
      auto slack_id = identity.slack_id_for(person);
      if (!slack_id) {
        identity.learn_people();
        return unavailable("no Slack account known for " + dir.display_name(person) + " yet");
      }
      *channel = channel_for(person, *slack_id);
      return {};
    };
    auto remember_dm = [self](const PersonId& person, const slack::ApiResult& r) {
      rapidjson::Document doc;
      if (!json::parse(doc, r.body).ok()) return std::string();
      std::string channel = json::str(doc, "channel");
      std::lock_guard lock(self->mu);
      if (!channel.empty()) {
        auto slack_id = self->identity.slack_id_for(person);
        if (slack_id) self->pacer.alias(*slack_id, channel);
        self->dm_channel[person] = channel;
      }
      return json::str(doc, "ts");
    };
    switch (e.kind) {
      case EffectKind::assign: {
        int step = e.get("step") != nullptr ? std::stoi(*e.get("step")) : task->current_step();
        const TaskStep* s = step >= 0 && step < static_cast<int>(task->steps.size())
                                ? &task->steps[static_cast<std::size_t>(step)]
                                : nullptr;
        // Moved on before we got here (decided, reassigned): nothing to ask.
        if (s == nullptr || s->state != StepState::current ||
            std::find(s->assignees.begin(), s->assignees.end(), e.recipient) ==
                s->assignees.end()) {
          return;
        }
        std::string channel;
        if (Status st = dm(e.recipient, &channel); !st.ok()) {
          d.failure = st;
          return;
        }
        slack::Message m = slack::task_message(*eng, *task, e.recipient, step);
        d.calls.push_back({"chat.postMessage", channel, post_body(channel, m),
                           [self, remember_dm, n = task->number, person = e.recipient,
                            step](const slack::ApiResult& r) {
                             std::string ts = remember_dm(person, r);
                             rapidjson::Document doc;
                             (void)json::parse(doc, r.body);
                             std::string posted_in = json::str(doc, "channel");
                             self->store.record_message(
                                 {n, "", posted_in, ts, person, "assign", step, self->clock.now(),
                                  permalink(self->url(), posted_in, ts)},
                                 [](Status) {});
                           }});
        return;
      }
      case EffectKind::update_messages: {
        auto messages = store.messages(task->number);
        if (!messages.ok()) {
          d.failure = messages.status();
          return;
        }
        for (const SlackMessage& m : *messages) {
          if (m.purpose != "assign") continue;
          slack::Message view = slack::task_message(*eng, *task, m.person, m.step);
          d.calls.push_back({"chat.update", m.channel,
                             slack::kit::update_message(m.channel, m.ts, view), nullptr});
        }
        return;
      }
      case EffectKind::notify: {
        std::string channel;
        if (Status st = dm(e.recipient, &channel); !st.ok()) {
          d.failure = st;
          return;
        }
        const std::string* event = e.get("event");
        const std::string* by = e.get("by");
        slack::Message m =
            slack::notification(*eng, *task, e.recipient, event ? *event : "", by ? *by : "");
        d.calls.push_back({"chat.postMessage", channel, post_body(channel, m),
                           [self, remember_dm, n = task->number,
                            person = e.recipient](const slack::ApiResult& r) {
                             std::string ts = remember_dm(person, r);
                             rapidjson::Document doc;
                             (void)json::parse(doc, r.body);
                             std::string posted_in = json::str(doc, "channel");
                             self->store.record_message(
                                 {n, "", posted_in, ts, person, "notify", -1, self->clock.now(),
                                  permalink(self->url(), posted_in, ts)},
                                 [](Status) {});
                           }});
        return;
      }
      case EffectKind::post_comment: {
        const std::string* id = e.get("comment_id");
        const Comment* c = nullptr;
        for (const Comment& x : task->comments) {
          if (id != nullptr && std::to_string(x.id) == *id) c = &x;
        }
        if (c == nullptr || c->deleted) return;
        auto messages = store.messages(task->number);
        if (!messages.ok()) {
          d.failure = messages.status();
          return;
        }
        slack::Message m = slack::comment_reply(dir, *task, *c);
        for (const SlackMessage& msg : *messages) {
          if (msg.purpose != "assign") continue;
          // Not back into the thread it was written in.
          if (c->source == "slack" && c->slack_channel == msg.channel) continue;
          d.calls.push_back(
              {"chat.postMessage", msg.channel, post_body(msg.channel, m, msg.ts), nullptr});
        }
        return;
      }
      case EffectKind::remind: {
        int step = e.get("step") != nullptr ? std::stoi(*e.get("step")) : -1;
        // Decided or moved on since: nothing to remind of.
        if (step != task->current_step() ||
            !std::count(task->current()->assignees.begin(), task->current()->assignees.end(),
                        e.recipient)) {
          return;
        }
        std::string channel;
        if (Status st = dm(e.recipient, &channel); !st.ok()) {
          d.failure = st;
          return;
        }
        auto messages = store.messages(task->number);
        if (!messages.ok()) {
          d.failure = messages.status();
          return;
        }
        // Into the thread of their message about this step (the latest copy).
        const SlackMessage* parent = nullptr;
        for (const SlackMessage& m : *messages) {
          if (m.purpose == "assign" && m.person == e.recipient && m.step == step) parent = &m;
        }
        const std::string* waiting = e.get("waiting");
        slack::Message m =
            slack::reminder(*eng, *task, e.recipient, *identity.slack_id_for(e.recipient),
                            waiting != nullptr ? *waiting : "", parent == nullptr);
        std::string to = parent != nullptr ? parent->channel : channel;
        d.calls.push_back({"chat.postMessage", to,
                           post_body(to, m, parent != nullptr ? parent->ts : ""), nullptr});
        return;
      }
      case EffectKind::email: {
        const Person* p = dir.person(e.recipient);
        if (p == nullptr || p->email.empty()) {
          d.failure = invalid_argument("no email address for " + e.recipient);
          return;
        }
        if (mailer == nullptr) {
          d.failure = invalid_argument("email is not configured (TOLLGATE_SMTP_URL)");
          return;
        }
        auto messages = store.messages(task->number);
        std::string link;
        if (messages.ok()) {
          for (const SlackMessage& m : *messages) {
            if (m.person == e.recipient && !m.permalink.empty()) link = m.permalink;
          }
        }
        if (link.empty()) link = url();
        Call call{kSmtp, "", "", nullptr, mail::task_mail(*eng, *task, e, link)};
        d.calls.push_back(std::move(call));
        return;
      }
    }
  }

  std::chrono::milliseconds jitter(std::chrono::milliseconds upto) {
    std::uniform_int_distribution<long long> j(0, upto.count());
    return std::chrono::milliseconds(j(rng));
  }

  std::chrono::milliseconds backoff(int attempts) {
    auto b = options.base_backoff * (1LL << std::min(attempts, 16));
    if (b > options.max_backoff) b = options.max_backoff;
    std::uniform_int_distribution<long long> j(0, b.count() / 4 + 1);
    return b + std::chrono::milliseconds(j(rng));
  }

  // Records the outcome of a delivery in the outbox, then frees its place.
  void finish(std::shared_ptr<Delivery> d, Status result,
              std::optional<std::chrono::milliseconds> retry_after) {
    const OutboxItem& item = d->item;
    std::string kind(effect_kind_name(item.effect.kind));
    std::optional<Time> retry_at;
    if (!result.ok()) {
      bool retryable =
          result.code() == Code::unavailable && item.attempts + 1 < options.max_attempts;
      if (retryable) {
        // A 429 says when to come back: then, not later. Anything else backs off.
        auto wait = retry_after ? *retry_after + jitter(std::chrono::milliseconds(250))
                                : backoff(item.attempts);
        retry_at = clock.now() + std::chrono::duration_cast<Duration>(wait);
        metrics.inc("tollgate_outbox_retries_total", {{"kind", kind}});
        spdlog::warn("outbox: {} for task #{} failed ({}); retry in {} ms", kind, item.effect.task,
                     result.to_string(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
      } else {
        metrics.inc("tollgate_outbox_parked_total", {{"kind", kind}});
        spdlog::error("outbox: {} for task #{} parked after {} attempt(s): {}", kind,
                      item.effect.task, item.attempts + 1, result.to_string());
      }
    } else {
      metrics.inc("tollgate_outbox_delivered_total", {{"kind", kind}});
      metrics.observe("tollgate_outbox_delivery_seconds", {{"kind", kind}},
                      std::chrono::duration<double>(clock.now() - item.created_at).count());
    }
    auto self = shared_from_this();
    store.finish_outbox(item.id, result, retry_at, [self](Status s) {
      if (!s.ok()) spdlog::error("outbox: could not record a delivery: {}", s.to_string());
      {
        std::lock_guard lock(self->mu);
        --self->in_flight;
        self->woken = true;
        self->kick = true;
      }
      self->cv.notify_all();
    });
  }

  void send(std::shared_ptr<Delivery> d) {
    Call& call = d->calls[d->next];
    auto self = shared_from_this();
    if (call.method == kSmtp) {
      mailer->send(*call.mail, [self, d](Status s) {
        self->metrics.inc("tollgate_mails_total", {{"result", s.ok() ? "sent" : "failed"}});
        self->finish(d, s, std::nullopt);
      });
      return;
    }
    slack.call(call.method, call.body, [self, d](slack::ApiResult r) {
      Call& c = d->calls[d->next];
      self->metrics.inc("tollgate_slack_calls_total", {{"method", c.method},
                                                       {"result", r.ok()            ? "ok"
                                                                  : r.error.empty() ? "error"
                                                                                    : r.error}});
      if (!r.ok()) {
        if (r.retry_after) {
          std::lock_guard lock(self->mu);
          self->pacer.penalize(c.method, c.channel, Steady::now() + *r.retry_after);
        }
        return self->finish(d, r.status, r.retry_after);
      }
      if (c.on_ok) c.on_ok(r);
      if (++d->next < d->calls.size()) {
        {
          std::lock_guard lock(self->mu);
          --self->in_flight;
          self->ready.push_back(d);
          self->kick = true;
        }
        self->cv.notify_all();
        return;
      }
      self->finish(d, {}, std::nullopt);
    });
  }

  int capacity() const {
    return options.max_in_flight - in_flight - static_cast<int>(ready.size() + claimed.size());
  }

  void run() {
    std::unique_lock lock(mu);
    auto next_poll = Steady::now();
    auto next_claim = Steady::now();
    while (!stopping) {
      kick = false;
      auto now = Steady::now();
      // Claim when there is room, no claim is pending, and there is reason to
      // look (new effects, freed room, or the poll); at most every 20 ms, so
      // that a burst of commits does not turn into a burst of claims.
      if (!claiming && capacity() > 0 && (woken || now >= next_poll) && now >= next_claim) {
        claiming = true;
        woken = false;
        next_poll = now + options.poll;
        next_claim = now + std::chrono::milliseconds(20);
        auto self = shared_from_this();
        int want = capacity();
        lock.unlock();
        store.claim_outbox(clock.now(), want, options.lease,
                           [self](StatusOr<std::vector<OutboxItem>> r) {
                             {
                               std::lock_guard l(self->mu);
                               self->claiming = false;
                               if (!r.ok()) {
                                 spdlog::warn("outbox: cannot claim: {}", r.status().to_string());
                               } else {
                                 for (OutboxItem& it : *r) {
                                   auto d = std::make_shared<Delivery>();
                                   d->item = std::move(it);
                                   self->claimed.push_back(std::move(d));
                                 }
                               }
                             }
                             self->cv.notify_all();
                           });
        lock.lock();
      } else if (capacity() <= 0) {
        woken = false;  // no room: a finishing delivery wakes us again
      }
      // Plan what was claimed, outside the lock (it reads the store).
      while (!claimed.empty()) {
        auto d = claimed.front();
        claimed.pop_front();
        ++in_flight;
        lock.unlock();
        plan(*d);
        lock.lock();
        if (!d->failure.ok() || d->calls.empty()) {
          Status failure = d->failure;
          lock.unlock();
          finish(d, failure, std::nullopt);  // keeps its place until recorded
          lock.lock();
        } else {
          --in_flight;
          ready.push_back(d);
        }
      }
      // Send what the pacer allows; note when to look again for the rest.
      now = Steady::now();
      auto wake_at = std::max(next_poll, now + std::chrono::milliseconds(5));
      for (auto it = ready.begin(); it != ready.end();) {
        auto d = *it;
        Steady::time_point when;
        const Call& c = d->calls[d->next];
        if (pacer.try_acquire(c.method, c.channel, now, &when)) {
          it = ready.erase(it);
          ++in_flight;
          lock.unlock();
          send(d);
          lock.lock();
        } else {
          wake_at = std::min(wake_at, std::max(when, now + std::chrono::milliseconds(1)));
          ++it;
        }
      }
      if (woken && !claiming && capacity() > 0)
        wake_at = std::min(wake_at, std::max(next_claim, now + std::chrono::milliseconds(1)));
      // The predicate must be false whenever waiting is the right thing to
      // do: a true one returns without releasing the lock. `kick` is set by
      // an event and cleared by the next turn, so it cannot stay true.
      cv.wait_until(lock, wake_at, [&] { return stopping || kick || !claimed.empty(); });
    }
  }
};

OutboxWorker::OutboxWorker(Store& store, slack::WebClient& slack, Identity& identity,
                           std::function<std::shared_ptr<const Engine>()> engine,
                           const Clock& clock, Metrics& metrics, OutboxOptions options)
    : impl_(std::make_shared<Impl>(store, slack, identity, std::move(engine), clock, metrics,
                                   options)) {
  metrics.describe("tollgate_outbox_delivered_total", "counter",
                   "Effects delivered to Slack, by kind");
  metrics.describe("tollgate_outbox_retries_total", "counter",
                   "Deliveries that failed and were rescheduled");
  metrics.describe("tollgate_outbox_parked_total", "counter",
                   "Deliveries given up on and parked, by kind");
  metrics.describe("tollgate_outbox_delivery_seconds", "histogram",
                   "From commit to delivery, by kind");
  metrics.describe("tollgate_slack_calls_total", "counter",
                   "Slack Web API calls by method and result");
  metrics.describe("tollgate_mails_total", "counter", "Mails handed to the SMTP server, by result");
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
  impl_->cv.wait_for(lock, grace, [&] { return impl_->in_flight == 0; });
  // What was claimed or planned but not sent stays in the outbox for the next
  // start. Drop it here: a planned call holds the worker (its completion does),
  // so keeping it would keep the worker alive in a cycle.
  impl_->claimed.clear();
  impl_->ready.clear();
}

void OutboxWorker::set_mailer(mail::SmtpClient* mailer) {
  std::lock_guard lock(impl_->mu);
  impl_->mailer = mailer;
}

void OutboxWorker::set_workspace_url(std::string url) {
  std::lock_guard lock(impl_->mu);
  impl_->workspace_url = std::move(url);
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
