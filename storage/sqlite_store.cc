#include "storage/sqlite_store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include "storage/detail/codec.h"
#include "storage/detail/sqlite.h"
#include "storage/migrations.h"

namespace tollgate {
namespace {

using sqlite::Db;
using sqlite::Stmt;

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

Status apply_pragmas(Db& db) {
  TG_TRY(db.exec("PRAGMA journal_mode=WAL"));
  // FULL: in WAL mode, NORMAL may lose the last commits on power loss.
  TG_TRY(db.exec("PRAGMA synchronous=FULL"));
  TG_TRY(db.exec("PRAGMA foreign_keys=ON"));
  return {};
}

StatusOr<int> read_schema_version(Db& db) {
  auto st =
      db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'");
  if (!st.ok()) return st.status();
  auto row = st->next();
  if (!row.ok()) return row.status();
  if (!*row) return 0;
  auto v = db.prepare("SELECT MAX(version) FROM schema_version");
  if (!v.ok()) return v.status();
  auto r = v->next();
  if (!r.ok()) return r.status();
  return *r && !v->is_null(0) ? static_cast<int>(v->i64(0)) : 0;
}

// Applies the pending migrations; returns the schema version found before.
StatusOr<int> migrate(Db& db) {
  TG_TRY(db.exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status s) {
    (void)db.exec("ROLLBACK");
    return s;
  };
  Status s = db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  if (!s.ok()) return fail(s);
  auto v = read_schema_version(db);
  if (!v.ok()) return fail(v.status());
  const auto& all = sqlite_migrations();
  if (*v > static_cast<int>(all.size())) {
    return fail(unavailable("the database has schema version " + std::to_string(*v) +
                            ", newer than this build's " + std::to_string(all.size())));
  }
  for (int i = *v; i < static_cast<int>(all.size()); ++i) {
    if (s = db.exec(all[static_cast<std::size_t>(i)]); !s.ok()) return fail(s);
    if (s = sqlite::run(db, "INSERT INTO schema_version (version) VALUES (?)", i + 1); !s.ok()) {
      return fail(s);
    }
  }
  TG_TRY(db.exec("COMMIT"));
  return *v;
}

constexpr const char* kTaskColumns = "number, version, body";

// Reads the comments of a task into it.
Status load_comments(Db& db, Task& t) {
  auto st = db.prepare(
      "SELECT id, author, text, at, source, slack_channel, slack_ts, edited_at, deleted "
      "FROM comments WHERE task = ? ORDER BY id");
  if (!st.ok()) return st.status();
  st->bind(1, t.number);
  t.comments.clear();
  for (;;) {
    auto r = st->next();
    if (!r.ok()) return r.status();
    if (!*r) break;
    Comment c;
    c.id = st->i64(0);
    c.author = st->text(1);
    c.text = st->text(2);
    c.at = from_ms(st->i64(3));
    c.source = st->text(4);
    c.slack_channel = st->text(5);
    c.slack_ts = st->text(6);
    if (!st->is_null(7)) c.edited_at = from_ms(st->i64(7));
    c.deleted = st->i64(8) != 0;
    t.comments.push_back(std::move(c));
  }
  return {};
}

// A task from a row of (number, version, body).
StatusOr<Task> task_from_row(Db& db, const Stmt& st) {
  auto t = codec::decode_task(st.text(2));
  if (!t.ok()) return t.status();
  t->number = st.i64(0);
  t->version = st.i64(1);
  if (Status s = load_comments(db, *t); !s.ok()) return s;
  return t;
}

StatusOr<Task> load_task(Db& db, TaskNumber n) {
  auto st = db.prepare(std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE number = ?");
  if (!st.ok()) return st.status();
  st->bind(1, n);
  auto r = st->next();
  if (!r.ok()) return r.status();
  if (!*r) return not_found("no task #" + std::to_string(n));
  // Decode before the statement is reused by load_comments (different SQL; fine).
  return task_from_row(db, *st);
}

StatusOr<std::vector<StoredEvent>> read_events(Db& db, const std::string& sql, std::int64_t arg,
                                               std::int64_t limit) {
  auto st = db.prepare(sql);
  if (!st.ok()) return st.status();
  st->bind(1, arg).bind(2, limit);
  std::vector<StoredEvent> out;
  for (;;) {
    auto r = st->next();
    if (!r.ok()) return r.status();
    if (!*r) break;
    StoredEvent e;
    e.seq = st->i64(0);
    e.event.task = st->i64(1);
    e.event.type = st->text(2);
    e.event.actor = st->text(3);
    e.event.at = from_ms(st->i64(4));
    auto data = codec::decode_pairs(st->text(5));
    if (!data.ok()) return data.status();
    e.event.data = std::move(*data);
    e.prev_hash = st->text(6);
    e.hash = st->text(7);
    out.push_back(std::move(e));
  }
  return out;
}

constexpr const char* kEventColumns = "seq, task, type, actor, at, data, prev_hash, hash";

// Delivery keys are needed only while Slack may still retry (minutes); a week
// is ample, and keeps the table from growing without bound.
constexpr auto kSeenFor = std::chrono::hours(24 * 7);

Status prune_seen(Db& db, Time now) {
  return sqlite::run(db, "DELETE FROM seen_deliveries WHERE seen_at < ?",
                     ms(now - std::chrono::duration_cast<Duration>(kSeenFor)));
}

// The chain_head row; nullopt when it is missing.
StatusOr<std::optional<codec::ChainHead>> read_chain_head(Db& db) {
  auto st = db.prepare(std::string("SELECT ") + codec::kChainHeadColumns +
                       " FROM chain_head WHERE id = 1");
  if (!st.ok()) return st.status();
  auto r = st->next();
  if (!r.ok()) return r.status();
  if (!*r) return std::optional<codec::ChainHead>();
  return std::optional<codec::ChainHead>(
      codec::ChainHead{st->i64(0), st->text(1), st->i64(2), st->i64(3), st->text(4), st->text(5)});
}

// The write connection, the chain head and a cache of recently written
// tasks, owned by the writer thread.
//
// The cache saves reading and decoding a task that this writer wrote itself.
// It is write-through and only ever holds committed-or-pending rows of this
// writer: entries touched by a write that rolls back are dropped, and the
// whole cache on a failed commit. Another writer on the same file cannot make
// it lie for long: the version compare-and-swap refuses a stale decision and
// the entry is dropped.
class Writer {
 public:
  Writer(std::unique_ptr<Db> db, std::string audit_key)
      : db_(std::move(db)), key_(std::move(audit_key)) {}
  Db& db() { return *db_; }

  StatusOr<Task> task(TaskNumber n) {
    if (auto it = cache_.find(n); it != cache_.end()) return it->second;
    return load_task(*db_, n);
  }
  void forget(TaskNumber n) { cache_.erase(n); }
  void forget_all() { cache_.clear(); }

  // Reads the chain head and decides whether this writer may append to it
  // (see codec::may_append; a log that does not end where its head says is
  // not extended either). A refusal is kept for append_event, not returned:
  // a store that cannot append can still read, verify and run the outbox.
  Status load_chain_head() {
    auto head = read_chain_head(*db_);
    if (!head.ok()) return head.status();
    head_ = head->value_or(codec::ChainHead{});
    saved_seq_ = head_.last_seq;
    append_refusal_ = codec::may_append(head->has_value() ? &head_ : nullptr, key_);
    if (!append_refusal_.ok()) return {};
    auto st = db_->prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
    if (!st.ok()) return st.status();
    auto r = st->next();
    if (!r.ok()) return r.status();
    std::int64_t seq = *r ? st->i64(0) : 0;
    std::string hash = *r ? st->text(1) : codec::genesis_hash();
    if (seq != head_.last_seq || hash != head_.last_hash) {
      append_refusal_ = internal_error(
          "the audit log does not end where its head says (last event " + std::to_string(seq) +
          ", head " + std::to_string(head_.last_seq) + "); run `tollgate audit verify`");
    }
    return {};
  }
  const Status& append_refusal() const { return append_refusal_; }

  // At the start of serve and migrate, in a transaction of its own: seals a
  // log not sealed yet under the writer's key when `may_seal` (the next event
  // is the first keyed one), refuses one not sealed otherwise; then refuses a
  // log this writer may not extend, or one that does not end where its head
  // says, before anything is committed (as PostgreSQL's Writer::seal).
  Status seal(Time now, bool may_seal) {
    TG_TRY(db_->exec("BEGIN IMMEDIATE"));
    Status s = load_chain_head();
    if (s.ok() && !head_.sealed()) {
      if (may_seal) {
        codec::seal_head(head_, key_, ms(now));
        s = write_chain_head();
        if (s.ok()) s = load_chain_head();  // rechecks the sealed head and the log's end
      } else {
        s = codec::unsealed_refusal(head_);
      }
    }
    if (s.ok()) s = append_refusal_;
    if (s.ok()) s = db_->exec("COMMIT");
    if (!s.ok()) (void)db_->exec("ROLLBACK");
    TG_TRY(s);
    return load_chain_head();
  }

  // After a failed commit: the head as committed. Until it can be read
  // again, appends are refused (the head in memory may name rolled-back
  // events); the next batch retries.
  void reload_chain_head() {
    if (Status s = load_chain_head(); !s.ok()) {
      append_refusal_ = unavailable("the audit head could not be read again after a failed "
                                    "commit: " + s.message());
      head_stale_ = true;
      return;
    }
    head_stale_ = false;
  }
  bool head_stale() const { return head_stale_; }

  // Writes the head once per batch, when events were appended (before COMMIT).
  Status save_chain_head() {
    if (head_.last_seq == saved_seq_) return {};
    TG_TRY(write_chain_head());
    saved_seq_ = head_.last_seq;
    return {};
  }

  struct Mark {
    std::int64_t seq;
    std::string hash;
  };
  Mark mark() const { return {head_.last_seq, head_.last_hash}; }
  void restore(Mark m) { codec::advance_head(head_, m.seq, std::move(m.hash)); }

  Status remember(const std::string& key, Time now) {
    auto st = db_->prepare(
        "INSERT INTO seen_deliveries (key, seen_at) VALUES (?, ?) "
        "ON CONFLICT (key) DO NOTHING");
    if (!st.ok()) return st.status();
    TG_TRY(st->bind_all(key, ms(now)).run());
    if (db_->changes() == 0) return {Code::duplicate, "already processed: " + key};
    if (++remembered_ % 10000 == 0) TG_TRY(prune_seen(*db_, now));
    return {};
  }

  StatusOr<TaskNumber> next_number() {
    auto st =
        db_->prepare("UPDATE task_numbers SET next = next + 1 WHERE id = 1 RETURNING next - 1");
    if (!st.ok()) return st.status();
    auto r = st->next();
    if (!r.ok()) return r.status();
    if (!*r) return internal_error("task number sequence missing");
    TaskNumber n = st->i64(0);
    TG_TRY(st->run());
    return n;
  }

  // Writes one decision. `expected_version` is the version the decision was
  // made on (0 for a new task).
  // Writes one decision. `before` is the task it was made on (null for a new task).
  Status write(const Decision& d, const Task* before) {
    const Task& t = d.task;
    std::int64_t expected_version = before != nullptr ? before->version : 0;
    touched_.push_back(t.number);
    if (t.version <= expected_version) return internal_error("a decision must bump the version");
    std::string body = codec::encode_task(t);
    if (expected_version == 0) {
      TG_TRY(sqlite::run(
          *db_,
          "INSERT INTO tasks (number, version, kind, state, open, requester, subject, "
          "app, resource, created_at, updated_at, body) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          t.number, t.version, kind_name(t.kind), state_name(t.state), t.closed() ? 0 : 1,
          t.requester, t.subject, t.app, t.resource, ms(t.created_at), ms(t.updated_at), body));
    } else {
      TG_TRY(
          sqlite::run(*db_,
                      "UPDATE tasks SET version = ?, state = ?, open = ?, updated_at = ?, body = ? "
                      "WHERE number = ? AND version = ?",
                      t.version, state_name(t.state), t.closed() ? 0 : 1, ms(t.updated_at), body,
                      t.number, expected_version));
      if (db_->changes() == 0) {
        cache_.erase(t.number);
        return {Code::version_conflict, "task #" + std::to_string(t.number) + " changed meanwhile"};
      }
    }
    auto people = codec::task_people(t);
    if (before == nullptr || people != codec::task_people(*before))
      TG_TRY(write_people(t.number, people));
    for (const Comment& c : d.new_comments) {
      auto st = db_->prepare(
          "INSERT INTO comments (task, id, author, text, at, source, slack_channel, slack_ts) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      if (!st.ok()) return st.status();
      TG_TRY(st->bind_all(t.number, c.id, c.author, c.text, ms(c.at), c.source, c.slack_channel,
                          c.slack_ts)
                 .run());
    }
    for (const Comment& c : d.changed_comments) {
      TG_TRY(sqlite::run(
          *db_,
          "UPDATE comments SET text = ?, edited_at = ?, deleted = ? WHERE task = ? AND id = ?",
          c.text, ms(c.edited_at.value_or(t.updated_at)), c.deleted ? 1 : 0, t.number, c.id));
    }
    for (const Event& e : d.events) TG_TRY(append_event(e));
    for (const Effect& e : d.effects) {
      TG_TRY(sqlite::run(
          *db_,
          "INSERT INTO outbox (task, kind, recipient, data, created_at, next_attempt_at) "
          "VALUES (?, ?, ?, ?, ?, ?)",
          e.task, effect_kind_name(e.kind), e.recipient, codec::encode_pairs(e.data),
          ms(t.updated_at), ms(t.updated_at)));
    }
    if (cache_.size() >= kCacheSize) cache_.clear();
    cache_[t.number] = t;
    return {};
  }

  // Appends one event to the hash chain: an HMAC under the key once sealed.
  Status append_event(const Event& e) {
    TG_TRY(codec::append_refusal(append_refusal_));
    std::int64_t seq = head_.last_seq + 1;
    std::string data = codec::encode_pairs(e.data);
    std::string hash = codec::event_hash(head_.last_hash, seq, e.task, e.type, e.actor, ms(e.at),
                                         data, head_.sealed() ? key_ : std::string());
    TG_TRY(sqlite::run(*db_,
                       "INSERT INTO events (seq, task, type, actor, at, data, prev_hash, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       seq, e.task, e.type, e.actor, ms(e.at), data, head_.last_hash, hash));
    codec::advance_head(head_, seq, std::move(hash));
    return {};
  }
  // Jobs run one at a time; these bracket each so that a rolled-back job
  // leaves no trace in the cache.
  void begin_job() { touched_.clear(); }
  void rollback_job() {
    for (TaskNumber n : touched_) cache_.erase(n);
    touched_.clear();
  }

 private:
  static constexpr std::size_t kCacheSize = 50000;

  Status write_people(TaskNumber task,
                      const std::vector<std::pair<PersonId, std::string>>& people) {
    TG_TRY(sqlite::run(*db_, "DELETE FROM task_people WHERE task = ?", task));
    for (const auto& [person, role] : people) {
      TG_TRY(sqlite::run(*db_, "INSERT INTO task_people (task, person, role) VALUES (?, ?, ?)",
                         task, person, role));
    }
    return {};
  }

  Status write_chain_head() {
    codec::renew_head_mac(head_, key_);
    TG_TRY(sqlite::run(*db_,
                       "UPDATE chain_head SET last_seq = ?, last_hash = ?, sealed_from = ?, "
                       "sealed_at = ?, key_id = ?, mac = ? WHERE id = 1",
                       head_.last_seq, head_.last_hash, head_.sealed_from, head_.sealed_at_ms,
                       head_.key_id, head_.mac));
    if (db_->changes() != 1) return internal_error("the audit head (table chain_head) is missing");
    return {};
  }

  std::unique_ptr<Db> db_;
  std::string key_;  // the audit key; empty: none
  codec::ChainHead head_;
  std::int64_t saved_seq_ = 0;  // head_.last_seq as last written
  Status append_refusal_;
  bool head_stale_ = false;  // reload_chain_head failed: retry before appending
  std::unordered_map<TaskNumber, Task> cache_;
  std::vector<TaskNumber> touched_;
  std::uint64_t remembered_ = 0;
};

// A small pool of read connections; WAL lets them read while the writer writes.
class ReadPool {
 public:
  Status open(const std::string& path, int n) {
    for (int i = 0; i < n; ++i) {
      auto db = Db::open(path, true);
      if (!db.ok()) return db.status();
      free_.push_back(std::move(*db));
    }
    return {};
  }

  template <typename F>
  auto with(F&& f) {
    std::unique_ptr<Db> db;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      db = std::move(free_.back());
      free_.pop_back();
    }
    auto result = f(*db);
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(db));
    }
    cv_.notify_one();
    return result;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Db>> free_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Db> write_db, StoreOptions options)
      : writer_(std::move(write_db), options.audit_key), options_(std::move(options)) {}

  ~SqliteStore() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // `head_created`: this open migrated the database to kAuditSealVersion,
  // so the head is new and may be sealed as it is.
  Status start(const std::string& path, bool head_created) {
    TG_TRY(writer_.load_chain_head());
    if (options_.migrate && !options_.audit_key.empty()) {
      // serve and migrate: seal the log only with the head that this open
      // created (or when the operator asks), and never extend one unsealed,
      // sealed under another key or edited outside Tollgate.
      TG_TRY(writer_.seal(now(), head_created || options_.seal_unsealed));
    }
    TG_TRY(readers_.open(path, 4));
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void create(Decide decide, DecisionDone done, std::string key) override {
    auto result = std::make_shared<std::optional<Decision>>();
    submit(
        [this, result, key = std::move(key), decide = std::move(decide)](Writer& w) -> Status {
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
        [result, done = std::move(done)](Status s) {
          if (s.ok()) {
            done(std::move(**result));
          } else {
            done(std::move(s));
          }
        });
  }

  void update(TaskNumber number, Decide decide, DecisionDone done, std::string key) override {
    auto result = std::make_shared<std::optional<Decision>>();
    submit(
        [this, number, result, key = std::move(key),
         decide = std::move(decide)](Writer& w) -> Status {
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
        [result, done = std::move(done)](Status s) {
          if (s.ok()) {
            done(std::move(**result));
          } else {
            done(std::move(s));
          }
        });
  }

  StatusOr<Task> task(TaskNumber number) override {
    return readers_.with([&](Db& db) { return load_task(db, number); });
  }

  StatusOr<std::vector<Task>> tasks(const TaskFilter& f) override {
    std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE number > ?";
    std::vector<std::variant<std::int64_t, std::string>> args{f.after};
    if (!f.assignee.empty()) {
      sql += " AND number IN (SELECT task FROM task_people WHERE person = ? AND role = 'assignee')";
      args.emplace_back(f.assignee);
    }
    if (!f.involving.empty()) {
      sql += " AND number IN (SELECT task FROM task_people WHERE person = ?)";
      args.emplace_back(f.involving);
    }
    if (f.state) {
      sql += " AND state = ?";
      args.emplace_back(std::string(state_name(*f.state)));
    }
    if (f.kind) {
      sql += " AND kind = ?";
      args.emplace_back(std::string(kind_name(*f.kind)));
    }
    if (f.open) {
      sql += " AND open = ?";
      args.emplace_back(std::int64_t{*f.open ? 1 : 0});
    }
    sql += std::string(" ORDER BY number") + (f.newest_first ? " DESC" : "") + " LIMIT ?";
    args.emplace_back(std::int64_t{std::clamp(f.limit, 1, 1000)});
    return readers_.with([&](Db& db) -> StatusOr<std::vector<Task>> {
      auto st = db.prepare(sql);
      if (!st.ok()) return st.status();
      for (std::size_t i = 0; i < args.size(); ++i) {
        std::visit([&](const auto& v) { st->bind(static_cast<int>(i + 1), v); }, args[i]);
      }
      std::vector<Task> out;
      for (;;) {
        auto r = st->next();
        if (!r.ok()) return r.status();
        if (!*r) break;
        auto t = task_from_row(db, *st);
        if (!t.ok()) return t.status();
        out.push_back(std::move(*t));
      }
      return out;
    });
  }

  StatusOr<std::vector<StoredEvent>> events(std::int64_t after_seq, int limit) override {
    return readers_.with([&](Db& db) {
      return read_events(db,
                         std::string("SELECT ") + kEventColumns +
                             " FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                         after_seq, std::clamp(limit, 1, 100000));
    });
  }

  StatusOr<std::vector<StoredEvent>> task_events(TaskNumber number) override {
    return readers_.with([&](Db& db) {
      return read_events(db,
                         std::string("SELECT ") + kEventColumns +
                             " FROM events WHERE task = ? ORDER BY seq LIMIT ?",
                         number, 100000);
    });
  }

  StatusOr<ChainReport> verify_chain() override {
    return readers_.with([&](Db& db) -> StatusOr<ChainReport> {
      // One read transaction: the head and the events as of one commit.
      TG_TRY(db.exec("BEGIN"));
      auto report = verify_in(db);
      (void)db.exec("COMMIT");
      return report;
    });
  }

  StatusOr<ChainReport> verify_in(Db& db) {
    auto head = read_chain_head(db);
    if (!head.ok()) return head.status();
    codec::ChainChecker chain(head->has_value() ? &**head : nullptr, options_.audit_key);
    auto st = db.prepare(std::string("SELECT ") + kEventColumns + " FROM events ORDER BY seq");
    if (!st.ok()) return st.status();
    for (;;) {
      auto r = st->next();
      if (!r.ok()) return r.status();
      if (!*r || !chain.next(st->i64(0), st->i64(1), st->text(2), st->text(3), st->i64(4),
                             st->text(5), st->text(6), st->text(7)))
        break;
    }
    return chain.finish();
  }

  void remember(std::string key, Done done) override {
    submit([this, key = std::move(key)](Writer& w) { return w.remember(key, now()); },
           std::move(done));
  }

  void record_message(SlackMessage m, Done done) override {
    submit(
        [m = std::move(m)](Writer& w) {
          return sqlite::run(
              w.db(),
              "INSERT INTO slack_messages (channel, ts, task, team, person, purpose, "
              "step, posted_at, permalink) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (channel, ts) DO NOTHING",
              m.channel, m.ts, m.task, m.team, m.person, m.purpose, m.step, ms(m.posted_at),
              m.permalink);
        },
        std::move(done));
  }

  StatusOr<std::vector<SlackMessage>> messages(TaskNumber number) override {
    return readers_.with([&](Db& db) -> StatusOr<std::vector<SlackMessage>> {
      auto st = db.prepare(
          "SELECT task, team, channel, ts, person, purpose, step, posted_at, permalink "
          "FROM slack_messages "
          "WHERE task = ? ORDER BY posted_at, channel, ts");
      if (!st.ok()) return st.status();
      st->bind(1, number);
      std::vector<SlackMessage> out;
      for (;;) {
        auto r = st->next();
        if (!r.ok()) return r.status();
        if (!*r) break;
        out.push_back(message_from(*st));
      }
      return out;
    });
  }

  StatusOr<std::optional<SlackMessage>> message_at(const std::string& channel,
                                                   const std::string& ts) override {
    return readers_.with([&](Db& db) -> StatusOr<std::optional<SlackMessage>> {
      auto st = db.prepare(
          "SELECT task, team, channel, ts, person, purpose, step, posted_at, permalink "
          "FROM slack_messages "
          "WHERE channel = ? AND ts = ?");
      if (!st.ok()) return st.status();
      st->bind_all(channel, ts);
      auto r = st->next();
      if (!r.ok()) return r.status();
      if (!*r) return std::optional<SlackMessage>();
      return std::optional<SlackMessage>(message_from(*st));
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
    return readers_.with([&](Db& db) -> StatusOr<std::optional<IdentityEntry>> {
      auto st = db.prepare(
          "SELECT slack_user_id, person, email, fetched_at, tz, tz_offset FROM identity_cache "
          "WHERE " +
          std::string(column) + " = ? ORDER BY fetched_at DESC LIMIT 1");
      if (!st.ok()) return st.status();
      st->bind(1, value);
      auto r = st->next();
      if (!r.ok()) return r.status();
      if (!*r) return std::optional<IdentityEntry>();
      IdentityEntry e{st->text(0), st->text(1), st->text(2), from_ms(st->i64(3)), st->text(4)};
      if (!st->is_null(5)) e.tz_offset = static_cast<int>(st->i64(5));
      return std::optional<IdentityEntry>(std::move(e));
    });
  }

  void set_delegation(Delegation d, Done done) override {
    submit(
        [d = std::move(d)](Writer& w) -> Status {
          TG_TRY(sqlite::run(w.db(),
                             "INSERT INTO delegations (person, delegate, until, set_by, set_at) "
                             "VALUES (?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET "
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
          TG_TRY(sqlite::run(w.db(), "DELETE FROM delegations WHERE person = ?", person));
          if (w.db().changes() == 0) {
            return not_found(person + " has no delegation");
          }
          return w.append_event({0, "delegation_cleared", by, at, {{"person", person}}});
        },
        std::move(done));
  }

  StatusOr<std::vector<Delegation>> delegations() override {
    return readers_.with([&](Db& db) -> StatusOr<std::vector<Delegation>> {
      auto st = db.prepare(
          "SELECT person, delegate, until, set_by, set_at FROM delegations ORDER BY person");
      if (!st.ok()) return st.status();
      std::vector<Delegation> out;
      for (;;) {
        auto r = st->next();
        if (!r.ok()) return r.status();
        if (!*r) break;
        out.push_back(
            {st->text(0), st->text(1), from_ms(st->i64(2)), st->text(3), from_ms(st->i64(4))});
      }
      return out;
    });
  }

  void cache_identity(IdentityEntry e, Done done) override {
    submit(
        [e = std::move(e)](Writer& w) {
          return sqlite::run(
              w.db(),
              "INSERT INTO identity_cache (slack_user_id, person, email, fetched_at, tz, "
              "tz_offset) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slack_user_id) DO UPDATE SET "
              "person = excluded.person, email = excluded.email, "
              "fetched_at = excluded.fetched_at, tz = excluded.tz, tz_offset = excluded.tz_offset",
              e.slack_user_id, e.person, e.email, ms(e.fetched_at), e.tz,
              e.tz_offset ? std::optional<std::int64_t>(*e.tz_offset) : std::nullopt);
        },
        std::move(done));
  }

  void claim_outbox(Time now_t, int limit, Duration lease,
                    std::function<void(StatusOr<std::vector<OutboxItem>>)> done) override {
    auto items = std::make_shared<std::vector<OutboxItem>>();
    submit(
        [items, now_t, limit, lease](Writer& w) -> Status {
          auto st =
              w.db().prepare(std::string("SELECT ") + codec::kOutboxColumns +
                             " FROM outbox AS o WHERE state = 'pending' AND next_attempt_at <= ?1 "
                             "AND claimed_until <= ?1 AND id = (SELECT MIN(id) FROM outbox "
                             "WHERE task = o.task AND state = 'pending') ORDER BY id LIMIT ?2");
          if (!st.ok()) return st.status();
          st->bind(1, ms(now_t)).bind(2, std::int64_t{std::clamp(limit, 1, 10000)});
          for (;;) {
            auto r = st->next();
            if (!r.ok()) return r.status();
            if (!*r) break;
            auto item = codec::outbox_item(*st);
            if (!item.ok()) return item.status();
            items->push_back(std::move(*item));
          }
          for (OutboxItem& it : *items) {
            it.claim = codec::new_outbox_claim();
            TG_TRY(sqlite::run(w.db(),
                               "UPDATE outbox SET claimed_until = ?, claim = ? WHERE id = ?",
                               ms(now_t + lease), it.claim, it.id));
          }
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
            TG_TRY(sqlite::run(w.db(),
                               "UPDATE outbox SET claimed_until = ? WHERE id = ? AND claim = ? "
                               "AND state = 'pending'",
                               ms(until), id, claim));
            if (w.db().changes() == 0) lost->push_back(id);
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
          TG_TRY(sqlite::run(w.db(),
                             "UPDATE outbox SET done_calls = done_calls || ? WHERE id = ? "
                             "AND claim = ? AND state = 'pending'",
                             key + "\n", id, claim));
          if (w.db().changes() == 0) return codec::outbox_claim_lost(id);
          if (!m) return {};
          return sqlite::run(
              w.db(),
              "INSERT INTO slack_messages (channel, ts, task, team, person, purpose, "
              "step, posted_at, permalink) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (channel, ts) DO NOTHING",
              m->channel, m->ts, m->task, m->team, m->person, m->purpose, m->step, ms(m->posted_at),
              m->permalink);
        },
        std::move(done));
  }

  void finish_outbox(std::int64_t id, std::string claim, Status result,
                     std::optional<Time> retry_at, Done done) override {
    submit(
        [id, claim = std::move(claim), result = std::move(result), retry_at](Writer& w) -> Status {
          if (result.ok()) {
            TG_TRY(sqlite::run(w.db(), "DELETE FROM outbox WHERE id = ? AND claim = ?", id, claim));
          } else if (retry_at) {
            TG_TRY(sqlite::run(w.db(),
                               "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                               "claimed_until = 0, last_error = ? WHERE id = ? AND claim = ? "
                               "AND state = 'pending'",
                               ms(*retry_at), result.to_string(), id, claim));
          } else {
            TG_TRY(sqlite::run(w.db(),
                               "UPDATE outbox SET attempts = attempts + 1, state = 'parked', "
                               "claimed_until = 0, last_error = ? WHERE id = ? AND claim = ? "
                               "AND state = 'pending'",
                               result.to_string(), id, claim));
          }
          return w.db().changes() == 0 ? codec::outbox_claim_lost(id) : Status{};
        },
        std::move(done));
  }

  StatusOr<std::vector<OutboxItem>> parked_outbox(int limit) override {
    return readers_.with([&](Db& db) -> StatusOr<std::vector<OutboxItem>> {
      auto st = db.prepare(std::string("SELECT ") + codec::kOutboxColumns +
                           " FROM outbox WHERE state = 'parked' ORDER BY id LIMIT ?");
      if (!st.ok()) return st.status();
      st->bind(1, std::int64_t{std::clamp(limit, 1, 100000)});
      std::vector<OutboxItem> out;
      for (;;) {
        auto r = st->next();
        if (!r.ok()) return r.status();
        if (!*r) break;
        auto item = codec::outbox_item(*st);
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
              "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, "
              "claimed_until = 0, last_error = '' WHERE state = 'parked'";
          if (id) {
            TG_TRY(sqlite::run(w.db(), sql + " AND id = ?", ms(at), *id));
          } else {
            TG_TRY(sqlite::run(w.db(), sql, ms(at)));
          }
          *count = w.db().changes();
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

  void release_claims(Done done) override {
    submit(
        [](Writer& w) {
          return sqlite::run(w.db(), "UPDATE outbox SET claimed_until = 0 WHERE claimed_until > 0");
        },
        std::move(done));
  }

  StatusOr<OutboxStats> outbox_stats() override {
    return readers_.with([&](Db& db) -> StatusOr<OutboxStats> {
      auto st = db.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state");
      if (!st.ok()) return st.status();
      OutboxStats s;
      for (;;) {
        auto r = st->next();
        if (!r.ok()) return r.status();
        if (!*r) break;
        if (st->text(0) == "pending") s.pending = st->i64(1);
        if (st->text(0) == "parked") s.parked = st->i64(1);
      }
      return s;
    });
  }

  void flush(Done done) override {
    // A barrier that writes nothing: not subject to the queue's cap.
    submit([](Writer&) { return Status{}; }, std::move(done), /*capped=*/false);
  }

  StatusOr<int> schema_version() override {
    return readers_.with([&](Db& db) { return read_schema_version(db); });
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

  static SlackMessage message_from(const Stmt& st) {
    return {st.i64(0),
            st.text(1),
            st.text(2),
            st.text(3),
            st.text(4),
            st.text(5),
            static_cast<int>(st.i64(6)),
            from_ms(st.i64(7)),
            st.text(8)};
  }

  // The store keeps no clock of its own for decisions (they carry their
  // time); this is only for bookkeeping rows such as dedupe keys.
  static Time now() { return SystemClock().now(); }

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

  void run() {
    std::vector<Job> batch;
    std::vector<Status> results;
    for (;;) {
      batch.clear();
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything is written
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

  void commit_batch(std::vector<Job>& batch, std::vector<Status>& results) {
    Db& db = writer_.db();
    if (Status s = db.exec("BEGIN IMMEDIATE"); !s.ok()) {
      for (Status& r : results) r = s;
      return;
    }
    if (writer_.head_stale()) writer_.reload_chain_head();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto mark = writer_.mark();
      writer_.begin_job();
      Status s = db.exec("SAVEPOINT job");
      if (s.ok()) s = batch[i].apply(writer_);
      if (!s.ok()) {
        (void)db.exec("ROLLBACK TO job");
        writer_.restore(std::move(mark));
        writer_.rollback_job();
      }
      (void)db.exec("RELEASE job");
      results[i] = std::move(s);
    }
    auto t0 = std::chrono::steady_clock::now();
    Status c = writer_.save_chain_head();
    if (c.ok()) c = db.exec("COMMIT");
    commit_micros_.fetch_add(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    if (!c.ok()) {
      (void)db.exec("ROLLBACK");
      writer_.reload_chain_head();
      writer_.forget_all();
      for (Status& r : results) {
        if (r.ok()) r = unavailable("commit failed: " + c.message());
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

StatusOr<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                   const StoreOptions& options) {
  auto db = Db::open(path, false);
  if (!db.ok()) return db.status();
  if (Status s = apply_pragmas(**db); !s.ok()) return s;
  int before = current_schema_version();
  if (options.migrate) {
    auto found = migrate(**db);
    if (!found.ok()) return found.status();
    before = *found;
  }
  if (options.migrate) {
    if (Status s = prune_seen(**db, SystemClock().now()); !s.ok()) return s;
  }
  auto v = read_schema_version(**db);
  if (!v.ok()) return v.status();
  if (*v != current_schema_version()) {
    return unavailable("the database has schema version " + std::to_string(*v) +
                       "; this build needs " + std::to_string(current_schema_version()) +
                       " (run `tollgate migrate`)");
  }
  StoreOptions o = options;
  o.max_batch = std::max(1, o.max_batch);
  auto store = std::make_unique<SqliteStore>(std::move(*db), o);
  if (Status s = store->start(path, before < kAuditSealVersion); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

int current_schema_version() {
  return static_cast<int>(sqlite_migrations().size());
}

}  // namespace tollgate
