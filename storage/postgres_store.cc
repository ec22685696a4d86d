#include "storage/postgres_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "storage/detail/codec.h"
#include "storage/detail/pg.h"
#include "storage/migrations.h"

namespace tollgate {
namespace {

using pg::Conn;
using pg::Param;
using pg::Result;

std::int64_t ms(Time t) {
  return t.time_since_epoch().count();
}
Time from_ms(std::int64_t v) {
  return Time(Duration(v));
}

#define TG_TRY(expr)                         \
  do {                                       \
    Status tg_status_ = (expr);              \
    if (!tg_status_.ok()) return tg_status_; \
  } while (0)

// Runs a statement whose rows are not needed.
template <typename... Args>
Status run(Conn& c, const std::string& sql, const Args&... args) {
  auto r = c.run(sql, args...);
  return r.ok() ? Status{} : r.status();
}

constexpr auto kSeenFor = std::chrono::hours(24 * 7);
constexpr std::int64_t kMigrationLock = 0x746f6c6c67617465;  // "tollgate"

StatusOr<int> read_schema_version(Conn& c) {
  auto t = c.run("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!t.ok()) return t.status();
  if (t->text(0, 0) != "t") return 0;
  auto v = c.run("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!v.ok()) return v.status();
  return static_cast<int>(v->i64(0, 0));
}

// Applies the pending migrations; returns the schema version found before.
StatusOr<int> migrate(Conn& c) {
  // Up to date: nothing is written, so a role that does not own the tables
  // (README, Several instances) starts without the right to create any.
  if (auto v = read_schema_version(c);
      v.ok() && *v == static_cast<int>(postgres_migrations().size()))
    return *v;
  TG_TRY(c.exec_script("BEGIN"));
  auto fail = [&](Status s) {
    (void)c.exec_script("ROLLBACK");
    return s;
  };
  // Two instances starting at once: one migrates, the other waits and finds it done.
  if (auto r = c.run("SELECT pg_advisory_xact_lock($1)", kMigrationLock); !r.ok())
    return fail(r.status());
  if (Status s =
          c.exec_script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      !s.ok())
    return fail(s);
  auto v = read_schema_version(c);
  if (!v.ok()) return fail(v.status());
  const auto& all = postgres_migrations();
  if (*v > static_cast<int>(all.size())) {
    return fail(unavailable("the database has schema version " + std::to_string(*v) +
                            ", newer than this build's " + std::to_string(all.size())));
  }
  for (int i = *v; i < static_cast<int>(all.size()); ++i) {
    if (Status s = c.exec_script(std::string(all[static_cast<std::size_t>(i)])); !s.ok())
      return fail(s);
    if (Status s = run(c, "INSERT INTO schema_version (version) VALUES ($1)", i + 1); !s.ok())
      return fail(s);
  }
  TG_TRY(c.exec_script("COMMIT"));
  return *v;
}

Status load_comments(Conn& c, Task& t) {
  auto r = c.run(
      "SELECT id, author, text, at, source, slack_channel, slack_ts, edited_at, deleted "
      "FROM comments WHERE task = $1 ORDER BY id",
      t.number);
  if (!r.ok()) return r.status();
  t.comments.clear();
  for (int i = 0; i < r->rows(); ++i) {
    Comment cm;
    cm.id = r->i64(i, 0);
    cm.author = r->text(i, 1);
    cm.text = r->text(i, 2);
    cm.at = from_ms(r->i64(i, 3));
    cm.source = r->text(i, 4);
    cm.slack_channel = r->text(i, 5);
    cm.slack_ts = r->text(i, 6);
    if (!r->is_null(i, 7)) cm.edited_at = from_ms(r->i64(i, 7));
    cm.deleted = r->i64(i, 8) != 0;
    t.comments.push_back(std::move(cm));
  }
  return {};
}

// Tasks from rows of (number, version, body).
StatusOr<std::vector<Task>> tasks_from(Conn& c, const Result& r) {
  std::vector<Task> out;
  for (int i = 0; i < r.rows(); ++i) {
    auto t = codec::decode_task(r.text(i, 2));
    if (!t.ok()) return t.status();
    t->number = r.i64(i, 0);
    t->version = r.i64(i, 1);
    TG_TRY(load_comments(c, *t));
    out.push_back(std::move(*t));
  }
  return out;
}

StatusOr<Task> load_task(Conn& c, TaskNumber n, bool lock) {
  auto r = c.run(std::string("SELECT number, version, body FROM tasks WHERE number = $1") +
                     (lock ? " FOR UPDATE" : ""),
                 n);
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return not_found("no task #" + std::to_string(n));
  auto all = tasks_from(c, *r);
  if (!all.ok()) return all.status();
  return std::move(all->front());
}

StatusOr<std::vector<StoredEvent>> events_from(const Result& r) {
  std::vector<StoredEvent> out;
  for (int i = 0; i < r.rows(); ++i) {
    StoredEvent e;
    e.seq = r.i64(i, 0);
    e.event.task = r.i64(i, 1);
    e.event.type = r.text(i, 2);
    e.event.actor = r.text(i, 3);
    e.event.at = from_ms(r.i64(i, 4));
    auto data = codec::decode_pairs(r.text(i, 5));
    if (!data.ok()) return data.status();
    e.event.data = std::move(*data);
    e.prev_hash = r.text(i, 6);
    e.hash = r.text(i, 7);
    out.push_back(std::move(e));
  }
  return out;
}

// Row `i` of a result, with the accessors codec::outbox_item reads through.
struct RowOf {
  const Result& r;
  int i;
  std::int64_t i64(int col) const { return r.i64(i, col); }
  std::string text(int col) const { return r.text(i, col); }
};

constexpr const char* kEventColumns = "seq, task, type, actor, at, data, prev_hash, hash";
constexpr const char* kMessageColumns =
    "task, team, channel, ts, person, purpose, step, posted_at, permalink";

SlackMessage message_from(const Result& r, int i) {
  return {r.i64(i, 0),
          r.text(i, 1),
          r.text(i, 2),
          r.text(i, 3),
          r.text(i, 4),
          r.text(i, 5),
          static_cast<int>(r.i64(i, 6)),
          from_ms(r.i64(i, 7)),
          r.text(i, 8)};
}

// The write connection and, during a transaction, the chain head it locked.
class Writer {
 public:
  Writer(std::unique_ptr<Conn> c, std::string audit_key)
      : c_(std::move(c)), key_(std::move(audit_key)) {}
  Conn& conn() { return *c_; }

  // Locks the chain head for this transaction and reads it, then decides
  // whether this writer may append to it (codec::may_append: its MAC is
  // checked on every transaction, so a head moved by someone without the
  // key is never extended). A refusal is kept for append_event: writes that
  // append no event (the outbox) go on.
  Status lock_chain_head() {
    auto r = c_->run(std::string("SELECT ") + codec::kChainHeadColumns +
                     " FROM chain_head WHERE id = 1 FOR UPDATE");
    if (!r.ok()) return r.status();
    if (r->rows() != 1) return internal_error("the audit head (table chain_head) is missing");
    head_ = codec::ChainHead{r->i64(0, 0), r->text(0, 1), r->i64(0, 2),
                             r->i64(0, 3), r->text(0, 4), r->text(0, 5)};
    head_seq_ = head_.last_seq;
    append_refusal_ = codec::may_append(&head_, key_);
    return {};
  }
  // Writes the head once per transaction, when events were appended.
  Status save_chain_head() {
    if (head_.last_seq == head_seq_) return {};
    codec::renew_head_mac(head_, key_);
    return run(*c_, "UPDATE chain_head SET last_seq = $1, last_hash = $2, mac = $3 WHERE id = 1",
               head_.last_seq, head_.last_hash, head_.mac);
  }
  const Status& append_refusal() const { return append_refusal_; }

  // At the start of serve and migrate, in a transaction of its own: seals a
  // log not sealed yet under the writer's key when `may_seal` (the next
  // event is the first keyed one), refuses one not sealed otherwise; then
  // refuses a log this writer may not extend, or one that does not end
  // where its head says.
  Status seal(Time now, bool may_seal) {
    TG_TRY(c_->exec_script("BEGIN"));
    Status s = lock_chain_head();
    if (s.ok() && !head_.sealed() && !may_seal) s = codec::unsealed_refusal(head_);
    if (s.ok() && !head_.sealed()) {
      codec::seal_head(head_, key_, ms(now));
      s = run(*c_,
              "UPDATE chain_head SET sealed_from = $1, sealed_at = $2, key_id = $3, mac = $4 "
              "WHERE id = 1",
              head_.sealed_from, head_.sealed_at_ms, head_.key_id, head_.mac);
      if (s.ok()) append_refusal_ = codec::may_append(&head_, key_);
    }
    if (s.ok()) s = append_refusal_;
    if (s.ok()) s = check_end();
    if (s.ok()) s = c_->exec_script("COMMIT");
    if (!s.ok()) (void)c_->exec_script("ROLLBACK");
    return s;
  }

  struct Mark {
    std::int64_t seq;
    std::string hash;
  };
  Mark mark() const { return {head_.last_seq, head_.last_hash}; }
  void restore(Mark m) { codec::advance_head(head_, m.seq, std::move(m.hash)); }

  Status remember(const std::string& key, Time now) {
    auto r = c_->run(
        "INSERT INTO seen_deliveries (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        key, ms(now));
    if (!r.ok()) return r.status();
    if (r->affected() == 0) return {Code::duplicate, "already processed: " + key};
    if (++remembered_ % 10000 == 0) {
      TG_TRY(run(*c_, "DELETE FROM seen_deliveries WHERE seen_at < $1",
                 ms(now - std::chrono::duration_cast<Duration>(kSeenFor))));
    }
    return {};
  }

  StatusOr<TaskNumber> next_number() {
    auto r = c_->run("UPDATE task_numbers SET next = next + 1 WHERE id = 1 RETURNING next - 1");
    if (!r.ok()) return r.status();
    if (r->rows() != 1) return internal_error("task number sequence missing");
    return r->i64(0, 0);
  }

  StatusOr<Task> task(TaskNumber n) { return load_task(*c_, n, true); }

  Status write(const Decision& d, const Task* before) {
    const Task& t = d.task;
    std::int64_t expected_version = before != nullptr ? before->version : 0;
    if (t.version <= expected_version) return internal_error("a decision must bump the version");
    std::string body = codec::encode_task(t);
    if (expected_version == 0) {
      TG_TRY(run(*c_,
                 "INSERT INTO tasks (number, version, kind, state, open, requester, subject, "
                 "app, resource, created_at, updated_at, body) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                 t.number, t.version, kind_name(t.kind), state_name(t.state), t.closed() ? 0 : 1,
                 t.requester, t.subject, t.app, t.resource, ms(t.created_at), ms(t.updated_at),
                 body));
    } else {
      auto r = c_->run(
          "UPDATE tasks SET version = $1, state = $2, open = $3, updated_at = $4, body = $5 "
          "WHERE number = $6 AND version = $7",
          t.version, state_name(t.state), t.closed() ? 0 : 1, ms(t.updated_at), body, t.number,
          expected_version);
      if (!r.ok()) return r.status();
      if (r->affected() == 0) {
        return {Code::version_conflict, "task #" + std::to_string(t.number) + " changed meanwhile"};
      }
    }
    auto people = codec::task_people(t);
    if (before == nullptr || people != codec::task_people(*before)) {
      TG_TRY(run(*c_, "DELETE FROM task_people WHERE task = $1", t.number));
      for (const auto& [person, role] : people) {
        TG_TRY(run(*c_, "INSERT INTO task_people (task, person, role) VALUES ($1, $2, $3)",
                   t.number, person, role));
      }
    }
    for (const Comment& c : d.new_comments) {
      TG_TRY(run(*c_,
                 "INSERT INTO comments (task, id, author, text, at, source, slack_channel, "
                 "slack_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                 t.number, c.id, c.author, c.text, ms(c.at), c.source, c.slack_channel,
                 c.slack_ts));
    }
    for (const Comment& c : d.changed_comments) {
      TG_TRY(run(*c_,
                 "UPDATE comments SET text = $1, edited_at = $2, deleted = $3 "
                 "WHERE task = $4 AND id = $5",
                 c.text, ms(c.edited_at.value_or(t.updated_at)), c.deleted ? 1 : 0, t.number,
                 c.id));
    }
    for (const Event& e : d.events) TG_TRY(append_event(e));
    for (const Effect& e : d.effects) {
      TG_TRY(run(*c_,
                 "INSERT INTO outbox (task, kind, recipient, data, created_at, next_attempt_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6)",
                 e.task, effect_kind_name(e.kind), e.recipient, codec::encode_pairs(e.data),
                 ms(t.updated_at), ms(t.updated_at)));
    }
    return {};
  }

  // Appends one event to the hash chain: an HMAC under the key once sealed.
  Status append_event(const Event& e) {
    TG_TRY(codec::append_refusal(append_refusal_));
    std::int64_t seq = head_.last_seq + 1;
    std::string data = codec::encode_pairs(e.data);
    std::string hash = codec::event_hash(head_.last_hash, seq, e.task, e.type, e.actor, ms(e.at),
                                         data, head_.sealed() ? key_ : std::string());
    TG_TRY(run(*c_,
               "INSERT INTO events (seq, task, type, actor, at, data, prev_hash, hash) "
               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               seq, e.task, e.type, e.actor, ms(e.at), data, head_.last_hash, hash));
    codec::advance_head(head_, seq, std::move(hash));
    return {};
  }

 private:
  std::unique_ptr<Conn> c_;
  // Whether the last event is the one the head names.
  Status check_end() {
    auto r = c_->run("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
    if (!r.ok()) return r.status();
    std::int64_t seq = r->rows() == 1 ? r->i64(0, 0) : 0;
    std::string hash = r->rows() == 1 ? r->text(0, 1) : codec::genesis_hash();
    if (seq == head_.last_seq && hash == head_.last_hash) return {};
    return internal_error("the audit log does not end where its head says (last event " +
                          std::to_string(seq) + ", head " + std::to_string(head_.last_seq) +
                          "); run `tollgate audit verify`");
  }

  std::string key_;  // the audit key; empty: none
  codec::ChainHead head_;
  std::int64_t head_seq_ = 0;  // head_.last_seq as locked
  Status append_refusal_;
  std::uint64_t remembered_ = 0;
};

// Read connections, each reconnecting after a failure.
class ReadPool {
 public:
  Status open(const std::string& url, int n) {
    for (int i = 0; i < n; ++i) {
      auto c = Conn::open(url);
      if (!c.ok()) return c.status();
      free_.push_back(std::move(*c));
    }
    return {};
  }

  template <typename F>
  auto with(F&& f) -> decltype(f(std::declval<Conn&>())) {
    std::unique_ptr<Conn> c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      c = std::move(free_.back());
      free_.pop_back();
    }
    decltype(f(*c)) result = unavailable("PostgreSQL is unavailable");
    if (c->ensure()) result = f(*c);
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(c));
    }
    cv_.notify_one();
    return result;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> free_;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(std::unique_ptr<Conn> write, StoreOptions options)
      : writer_(std::move(write), options.audit_key), options_(std::move(options)) {}

  ~PostgresStore() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // `head_created`: this open migrated the database to kAuditSealVersion,
  // so the head is new and may be sealed as it is.
  Status start(const std::string& url, bool head_created) {
    // serve and migrate: seal the log only with the head that this open
    // created (or when the operator asks), and never extend one unsealed,
    // sealed under another key or edited outside Tollgate.
    if (options_.migrate && !options_.audit_key.empty())
      TG_TRY(writer_.seal(now(), head_created || options_.seal_unsealed));
    TG_TRY(readers_.open(url, 4));
    thread_ = std::thread([this] { loop(); });
    return {};
  }

  void create(Decide decide, DecisionDone done, std::string key) override {
    auto result = std::make_shared<std::optional<Decision>>();
    submit(
        [result, key = std::move(key), decide = std::move(decide)](Writer& w) -> Status {
          if (!key.empty()) TG_TRY(w.remember(key, now()));
          auto n = w.next_number();
          if (!n.ok()) return n.status();
          auto d = decide(nullptr, *n);
          if (!d.ok()) return d.status();
          if (d->task.number != *n) return internal_error("decision for the wrong task number");
          TG_TRY(w.write(*d, nullptr));
          *result = std::move(*d);
          return {};
        },
        finish_decision(result, std::move(done)));
  }

  void update(TaskNumber number, Decide decide, DecisionDone done, std::string key) override {
    auto result = std::make_shared<std::optional<Decision>>();
    submit(
        [number, result, key = std::move(key), decide = std::move(decide)](Writer& w) -> Status {
          if (!key.empty()) TG_TRY(w.remember(key, now()));
          auto current = w.task(number);
          if (!current.ok()) return current.status();
          auto d = decide(&*current, number);
          if (!d.ok()) return d.status();
          if (d->task.number != number) return internal_error("decision for the wrong task number");
          TG_TRY(w.write(*d, &*current));
          *result = std::move(*d);
          return {};
        },
        finish_decision(result, std::move(done)));
  }

  StatusOr<Task> task(TaskNumber number) override {
    return readers_.with([&](Conn& c) { return load_task(c, number, false); });
  }

  StatusOr<std::vector<Task>> tasks(const TaskFilter& f) override {
    std::string sql = "SELECT number, version, body FROM tasks WHERE number > $1";
    std::vector<Param> args{pg::param(f.after)};
    auto next = [&args] { return "$" + std::to_string(args.size() + 1); };
    if (!f.assignee.empty()) {
      sql += " AND number IN (SELECT task FROM task_people WHERE person = " + next() +
             " AND role = 'assignee')";
      args.push_back(f.assignee);
    }
    if (!f.involving.empty()) {
      sql += " AND number IN (SELECT task FROM task_people WHERE person = " + next() + ")";
      args.push_back(f.involving);
    }
    if (f.state) {
      sql += " AND state = " + next();
      args.push_back(std::string(state_name(*f.state)));
    }
    if (f.kind) {
      sql += " AND kind = " + next();
      args.push_back(std::string(kind_name(*f.kind)));
    }
    if (f.open) {
      sql += " AND open = " + next();
      args.push_back(pg::param(*f.open ? 1 : 0));
    }
    sql += std::string(" ORDER BY number") + (f.newest_first ? " DESC" : "") + " LIMIT " + next();
    args.push_back(pg::param(std::clamp(f.limit, 1, 1000)));
    return readers_.with([&](Conn& c) -> StatusOr<std::vector<Task>> {
      auto r = c.exec(sql, args);
      if (!r.ok()) return r.status();
      return tasks_from(c, *r);
    });
  }

  StatusOr<std::vector<StoredEvent>> events(std::int64_t after_seq, int limit) override {
    return readers_.with([&](Conn& c) -> StatusOr<std::vector<StoredEvent>> {
      auto r = c.run(std::string("SELECT ") + kEventColumns +
                         " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                     after_seq, std::clamp(limit, 1, 100000));
      if (!r.ok()) return r.status();
      return events_from(*r);
    });
  }

  StatusOr<std::vector<StoredEvent>> task_events(TaskNumber number) override {
    return readers_.with([&](Conn& c) -> StatusOr<std::vector<StoredEvent>> {
      auto r = c.run(std::string("SELECT ") + kEventColumns +
                         " FROM events WHERE task = $1 ORDER BY seq LIMIT 100000",
                     number);
      if (!r.ok()) return r.status();
      return events_from(*r);
    });
  }

  StatusOr<ChainReport> verify_chain() override {
    // One snapshot for the head and every page of events.
    return readers_.with([&](Conn& c) -> StatusOr<ChainReport> {
      TG_TRY(c.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
      auto report = verify_in(c);
      (void)c.exec_script(report.ok() ? "COMMIT" : "ROLLBACK");
      return report;
    });
  }

  // In pages, from the rows as stored (the data's stored text is what was hashed).
  StatusOr<ChainReport> verify_in(Conn& c) {
    auto h =
        c.run(std::string("SELECT ") + codec::kChainHeadColumns + " FROM chain_head WHERE id = 1");
    if (!h.ok()) return h.status();
    std::optional<codec::ChainHead> head;
    if (h->rows() == 1) {
      head = codec::ChainHead{h->i64(0, 0), h->text(0, 1), h->i64(0, 2),
                              h->i64(0, 3), h->text(0, 4), h->text(0, 5)};
    }
    codec::ChainChecker chain(head ? &*head : nullptr, options_.audit_key);
    for (std::int64_t after = 0;;) {
      auto r = c.run(std::string("SELECT ") + kEventColumns +
                         " FROM events WHERE seq > $1 ORDER BY seq LIMIT 10000",
                     after);
      if (!r.ok()) return r.status();
      if (r->rows() == 0) return chain.finish();
      for (int i = 0; i < r->rows(); ++i) {
        if (!chain.next(r->i64(i, 0), r->i64(i, 1), r->text(i, 2), r->text(i, 3), r->i64(i, 4),
                        r->text(i, 5), r->text(i, 6), r->text(i, 7)))
          return chain.finish();
      }
      after = r->i64(r->rows() - 1, 0);
    }
  }

  void remember(std::string key, Done done) override {
    submit([key = std::move(key)](Writer& w) { return w.remember(key, now()); }, std::move(done));
  }

  void record_message(SlackMessage m, Done done) override {
    submit(
        [m = std::move(m)](Writer& w) {
          return run(w.conn(),
                     "INSERT INTO slack_messages (channel, ts, task, team, person, purpose, step, "
                     "posted_at, permalink) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                     "ON CONFLICT (channel, ts) DO NOTHING",
                     m.channel, m.ts, m.task, m.team, m.person, m.purpose, m.step, ms(m.posted_at),
                     m.permalink);
        },
        std::move(done));
  }

  StatusOr<std::vector<SlackMessage>> messages(TaskNumber number) override {
    return readers_.with([&](Conn& c) -> StatusOr<std::vector<SlackMessage>> {
      auto r = c.run(std::string("SELECT ") + kMessageColumns +
                         " FROM slack_messages WHERE task = $1 ORDER BY posted_at, channel, ts",
                     number);
      if (!r.ok()) return r.status();
      std::vector<SlackMessage> out;
      for (int i = 0; i < r->rows(); ++i) out.push_back(message_from(*r, i));
      return out;
    });
  }

  StatusOr<std::optional<SlackMessage>> message_at(const std::string& channel,
                                                   const std::string& ts) override {
    return readers_.with([&](Conn& c) -> StatusOr<std::optional<SlackMessage>> {
      auto r = c.run(std::string("SELECT ") + kMessageColumns +
                         " FROM slack_messages WHERE channel = $1 AND ts = $2",
                     channel, ts);
      if (!r.ok()) return r.status();
      if (r->rows() == 0) return std::optional<SlackMessage>();
      return std::optional<SlackMessage>(message_from(*r, 0));
    });
  }

  StatusOr<std::optional<IdentityEntry>> identity(const std::string& slack_user_id) override {
    return identity_where("slack_user_id", slack_user_id);
  }

  StatusOr<std::optional<IdentityEntry>> identity_of(const PersonId& person) override {
    if (person.empty()) return std::optional<IdentityEntry>();
    return identity_where("person", person);
  }

  StatusOr<std::optional<IdentityEntry>> identity_where(std::string_view column,
                                                        const std::string& value) {
    return readers_.with([&](Conn& c) -> StatusOr<std::optional<IdentityEntry>> {
      auto r = c.run(
          "SELECT slack_user_id, person, email, fetched_at, tz, tz_offset "
          "FROM identity_cache WHERE " +
              std::string(column) + " = $1 ORDER BY fetched_at DESC LIMIT 1",
          value);
      if (!r.ok()) return r.status();
      if (r->rows() == 0) return std::optional<IdentityEntry>();
      IdentityEntry e{r->text(0, 0), r->text(0, 1), r->text(0, 2), from_ms(r->i64(0, 3)),
                      r->text(0, 4)};
      if (!r->is_null(0, 5)) e.tz_offset = static_cast<int>(r->i64(0, 5));
      return std::optional<IdentityEntry>(std::move(e));
    });
  }

  void cache_identity(IdentityEntry e, Done done) override {
    submit(
        [e = std::move(e)](Writer& w) {
          return run(w.conn(),
                     "INSERT INTO identity_cache (slack_user_id, person, email, fetched_at, tz, "
                     "tz_offset) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (slack_user_id) DO "
                     "UPDATE SET person = excluded.person, email = excluded.email, "
                     "fetched_at = excluded.fetched_at, tz = excluded.tz, "
                     "tz_offset = excluded.tz_offset",
                     e.slack_user_id, e.person, e.email, ms(e.fetched_at), e.tz, e.tz_offset);
        },
        std::move(done));
  }

  void set_delegation(Delegation d, Done done) override {
    submit(
        [d = std::move(d)](Writer& w) -> Status {
          TG_TRY(run(w.conn(),
                     "INSERT INTO delegations (person, delegate, until, set_by, set_at) "
                     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person) DO UPDATE SET "
                     "delegate = excluded.delegate, until = excluded.until, "
                     "set_by = excluded.set_by, set_at = excluded.set_at",
                     d.person, d.delegate, ms(d.until), d.set_by, ms(d.set_at)));
          return w.append_event({0,
                                 "delegation_set",
                                 d.set_by,
                                 d.set_at,
                                 {{"person", d.person},
                                  {"delegate", d.delegate},
                                  {"until", std::to_string(ms(d.until))}}});
        },
        std::move(done));
  }

  void clear_delegation(PersonId person, PersonId by, Time at, Done done) override {
    submit(
        [person = std::move(person), by = std::move(by), at](Writer& w) -> Status {
          auto r = w.conn().run("DELETE FROM delegations WHERE person = $1", person);
          if (!r.ok()) return r.status();
          if (r->affected() == 0) return not_found(person + " has no delegation");
          return w.append_event({0, "delegation_cleared", by, at, {{"person", person}}});
        },
        std::move(done));
  }

  StatusOr<std::vector<Delegation>> delegations() override {
    return readers_.with([&](Conn& c) -> StatusOr<std::vector<Delegation>> {
      auto r =
          c.run("SELECT person, delegate, until, set_by, set_at FROM delegations ORDER BY person");
      if (!r.ok()) return r.status();
      std::vector<Delegation> out;
      for (int i = 0; i < r->rows(); ++i) {
        out.push_back({r->text(i, 0), r->text(i, 1), from_ms(r->i64(i, 2)), r->text(i, 3),
                       from_ms(r->i64(i, 4))});
      }
      return out;
    });
  }

  void claim_outbox(Time now_t, int limit, Duration lease,
                    std::function<void(StatusOr<std::vector<OutboxItem>>)> done) override {
    auto items = std::make_shared<std::vector<OutboxItem>>();
    submit(
        [items, now_t, limit, lease](Writer& w) -> Status {
          // The oldest pending item of each task, not claimed by anyone (nor
          // locked by another instance's claim in flight).
          auto r = w.conn().run(
              "UPDATE outbox SET claimed_until = $3, claim = $4 WHERE id IN ("
              " SELECT id FROM outbox AS o WHERE state = 'pending' AND next_attempt_at <= $1"
              " AND claimed_until <= $1 AND id = (SELECT MIN(id) FROM outbox"
              "  WHERE task = o.task AND state = 'pending')"
              " ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) "
              "RETURNING " +
                  std::string(codec::kOutboxColumns),
              ms(now_t), std::clamp(limit, 1, 10000), ms(now_t + lease), codec::new_outbox_claim());
          if (!r.ok()) return r.status();
          for (int i = 0; i < r->rows(); ++i) {
            auto item = codec::outbox_item(RowOf{*r, i});
            if (!item.ok()) return item.status();
            items->push_back(std::move(*item));
          }
          std::sort(items->begin(), items->end(),
                    [](const OutboxItem& a, const OutboxItem& b) { return a.id < b.id; });
          return {};
        },
        [items, done = std::move(done)](Status s) {
          if (s.ok()) {
            done(std::move(*items));
          } else {
            done(std::move(s));
          }
        });
  }

  void renew_outbox(std::vector<std::pair<std::int64_t, std::string>> held, Time until,
                    std::function<void(StatusOr<std::vector<std::int64_t>>)> done) override {
    auto lost = std::make_shared<std::vector<std::int64_t>>();
    submit(
        [held = std::move(held), until, lost](Writer& w) -> Status {
          for (const auto& [id, claim] : held) {
            auto r = w.conn().run(
                "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND claim = $3 "
                "AND state = 'pending'",
                ms(until), id, claim);
            if (!r.ok()) return r.status();
            if (r->affected() == 0) lost->push_back(id);
          }
          return {};
        },
        [lost, done = std::move(done)](Status s) {
          if (s.ok()) {
            done(std::move(*lost));
          } else {
            done(std::move(s));
          }
        });
  }

  void record_outbox_call(std::int64_t id, std::string claim, std::string call_key,
                          std::optional<SlackMessage> m, Done done) override {
    if (Status k = codec::check_outbox_call_key(call_key); !k.ok()) return done(k);
    submit(
        [id, claim = std::move(claim), key = std::move(call_key),
         m = std::move(m)](Writer& w) -> Status {
          auto r = w.conn().run(
              "UPDATE outbox SET done_calls = done_calls || $1 WHERE id = $2 AND claim = $3 "
              "AND state = 'pending'",
              key + "\n", id, claim);
          if (!r.ok()) return r.status();
          if (r->affected() == 0) return codec::outbox_claim_lost(id);
          if (!m) return {};
          return run(w.conn(),
                     "INSERT INTO slack_messages (channel, ts, task, team, person, purpose, step, "
                     "posted_at, permalink) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                     "ON CONFLICT (channel, ts) DO NOTHING",
                     m->channel, m->ts, m->task, m->team, m->person, m->purpose, m->step,
                     ms(m->posted_at), m->permalink);
        },
        std::move(done));
  }

  void finish_outbox(std::int64_t id, std::string claim, Status result,
                     std::optional<Time> retry_at, Done done) override {
    submit(
        [id, claim = std::move(claim), result, retry_at](Writer& w) -> Status {
          auto r = [&]() -> StatusOr<Result> {
            if (result.ok())
              return w.conn().run("DELETE FROM outbox WHERE id = $1 AND claim = $2", id, claim);
            if (retry_at) {
              return w.conn().run(
                  "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, "
                  "claimed_until = 0, last_error = $2 WHERE id = $3 AND claim = $4 "
                  "AND state = 'pending'",
                  ms(*retry_at), result.to_string(), id, claim);
            }
            return w.conn().run(
                "UPDATE outbox SET attempts = attempts + 1, state = 'parked', "
                "claimed_until = 0, last_error = $1 WHERE id = $2 AND claim = $3 "
                "AND state = 'pending'",
                result.to_string(), id, claim);
          }();
          if (!r.ok()) return r.status();
          return r->affected() == 0 ? codec::outbox_claim_lost(id) : Status{};
        },
        std::move(done));
  }

  StatusOr<std::vector<OutboxItem>> parked_outbox(int limit) override {
    return readers_.with([&](Conn& c) -> StatusOr<std::vector<OutboxItem>> {
      auto r = c.run(std::string("SELECT ") + codec::kOutboxColumns +
                         " FROM outbox WHERE state = 'parked' ORDER BY id LIMIT $1",
                     std::clamp(limit, 1, 100000));
      if (!r.ok()) return r.status();
      std::vector<OutboxItem> out;
      for (int i = 0; i < r->rows(); ++i) {
        auto item = codec::outbox_item(RowOf{*r, i});
        if (!item.ok()) return item.status();
        item->parked = true;
        out.push_back(std::move(*item));
      }
      return out;
    });
  }

  void requeue_parked(std::optional<std::int64_t> id, Time at,
                      std::function<void(StatusOr<std::int64_t>)> done) override {
    auto count = std::make_shared<std::int64_t>(0);
    submit(
        [id, at, count](Writer& w) -> Status {
          std::string sql =
              "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, "
              "claimed_until = 0, last_error = '' WHERE state = 'parked'";
          auto r = id ? w.conn().run(sql + " AND id = $2", ms(at), *id) : w.conn().run(sql, ms(at));
          if (!r.ok()) return r.status();
          *count = r->affected();
          return {};
        },
        [count, done = std::move(done)](Status s) {
          if (s.ok()) {
            done(*count);
          } else {
            done(std::move(s));
          }
        });
  }

  // Other instances may hold leases: nothing is released early here.
  void release_claims(Done done) override { done({}); }

  StatusOr<OutboxStats> outbox_stats() override {
    return readers_.with([&](Conn& c) -> StatusOr<OutboxStats> {
      auto r = c.run("SELECT state, COUNT(*) FROM outbox GROUP BY state");
      if (!r.ok()) return r.status();
      OutboxStats s;
      for (int i = 0; i < r->rows(); ++i) {
        if (r->text(i, 0) == "pending") s.pending = r->i64(i, 1);
        if (r->text(i, 0) == "parked") s.parked = r->i64(i, 1);
      }
      return s;
    });
  }

  void flush(Done done) override {
    submit([](Writer&) { return Status{}; }, std::move(done), /*capped=*/false);
  }

  StatusOr<int> schema_version() override {
    return readers_.with([&](Conn& c) { return read_schema_version(c); });
  }

  StoreStats stats() const override {
    return {commits_.load(), writes_.load(), failed_writes_.load(), commit_micros_.load()};
  }

 private:
  using Apply = std::function<Status(Writer&)>;
  struct Job {
    Apply apply;
    Done complete;
  };

  static Time now() { return SystemClock().now(); }

  static Done finish_decision(std::shared_ptr<std::optional<Decision>> result, DecisionDone done) {
    return [result, done = std::move(done)](Status s) {
      if (s.ok()) {
        done(std::move(**result));
      } else {
        done(std::move(s));
      }
    };
  }

  void submit(Apply apply, Done complete, bool capped = true) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_ && (!capped || static_cast<int>(queue_.size()) < options_.max_queue)) {
        queue_.push_back({std::move(apply), std::move(complete)});
        cv_.notify_one();
        return;
      }
    }
    complete(unavailable(stopping_ ? "the store is closing" : "the store's write queue is full"));
  }

  void loop() {
    std::vector<Job> batch;
    std::vector<Status> results;
    for (;;) {
      batch.clear();
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        std::size_t n =
            std::min<std::size_t>(queue_.size(), static_cast<std::size_t>(options_.max_batch));
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      results.assign(batch.size(), Status{});
      commit_batch(batch, results);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        (results[i].ok() ? writes_ : failed_writes_).fetch_add(1);
        if (batch[i].complete) batch[i].complete(std::move(results[i]));
      }
    }
  }

  void fail_all(std::vector<Status>& results, const Status& why) {
    for (Status& r : results) {
      if (r.ok() || r.code() != Code::duplicate) r = why;
    }
  }

  void commit_batch(std::vector<Job>& batch, std::vector<Status>& results) {
    Conn& c = writer_.conn();
    if (!c.ensure()) {
      fail_all(results, unavailable("PostgreSQL is unavailable"));
      return;
    }
    Status s = c.exec_script("BEGIN");
    if (s.ok()) s = writer_.lock_chain_head();
    if (!s.ok()) {
      (void)c.exec_script("ROLLBACK");
      fail_all(results, s.code() == Code::unavailable ? s : unavailable(s.message()));
      return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto mark = writer_.mark();
      Status js = c.exec_script("SAVEPOINT job");
      if (js.ok()) js = batch[i].apply(writer_);
      if (!js.ok()) {
        (void)c.exec_script("ROLLBACK TO SAVEPOINT job");
        writer_.restore(std::move(mark));
      }
      (void)c.exec_script("RELEASE SAVEPOINT job");
      results[i] = std::move(js);
    }
    auto t0 = std::chrono::steady_clock::now();
    Status cs = writer_.save_chain_head();
    if (cs.ok()) cs = c.exec_script("COMMIT");
    commit_micros_.fetch_add(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    if (!cs.ok()) {
      (void)c.exec_script("ROLLBACK");
      for (Status& r : results) {
        if (r.ok()) r = unavailable("commit failed: " + cs.message());
      }
      return;
    }
    commits_.fetch_add(1);
  }

  Writer writer_;
  ReadPool readers_;
  StoreOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::int64_t> commits_{0}, writes_{0}, failed_writes_{0}, commit_micros_{0};
};

}  // namespace

StatusOr<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                     const StoreOptions& options) {
  auto c = Conn::open(url);
  if (!c.ok()) return c.status();
  int before = current_schema_version();
  if (options.migrate) {
    auto found = migrate(**c);
    if (!found.ok()) return found.status();
    before = *found;
    // Delivery keys older than Slack's retry window, as SQLite does at open.
    TG_TRY(run(**c, "DELETE FROM seen_deliveries WHERE seen_at < $1",
               ms(SystemClock().now() - std::chrono::duration_cast<Duration>(kSeenFor))));
  }
  auto v = read_schema_version(**c);
  if (!v.ok()) return v.status();
  if (*v != current_schema_version()) {
    return unavailable("the database has schema version " + std::to_string(*v) +
                       "; this build needs " + std::to_string(current_schema_version()) +
                       " (run `tollgate migrate`)");
  }
  StoreOptions o = options;
  o.max_batch = std::max(1, o.max_batch);
  auto store = std::make_unique<PostgresStore>(std::move(*c), o);
  TG_TRY(store->start(url, before < kAuditSealVersion));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tollgate
