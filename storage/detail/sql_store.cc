#include "storage/detail/sql_store.h"

#include <algorithm>
#include <future>

#include "base/clock.h"
#include "storage/detail/access.h"
#include "storage/detail/codec.h"
#include "storage/detail/tables.h"
#include "storage/detail/writer.h"
#include "storage/migrations.h"

namespace tollgate::detail {
namespace {

constexpr const char* kEventColumns = "seq, task, type, actor, at, data, prev_hash, hash";
constexpr const char* kMessageColumns =
    "task, team, channel, ts, person, purpose, step, posted_at, permalink";

StatusOr<StoredEvent> event_from_row(const Row& r) {
  StoredEvent e;
  e.seq = r.i64(0);
  e.event.task = r.i64(1);
  e.event.type = r.text(2);
  e.event.actor = r.text(3);
  e.event.at = from_ms(r.i64(4));
  ASSIGN_OR_RETURN(e.event.data, codec::decode_pairs(r.text(5)));
  e.prev_hash = r.text(6);
  e.hash = r.text(7);
  return e;
}

StatusOr<std::vector<StoredEvent>> read_events(Connection& c, const std::string& where,
                                               std::int64_t arg, int limit) {
  std::vector<StoredEvent> out;
  RETURN_IF_ERROR(query(
      c,
      std::string("SELECT ") + kEventColumns + " FROM events WHERE " + where +
          " ORDER BY seq LIMIT ?",
      [&](const Row& r) -> Status {
        ASSIGN_OR_RETURN(auto e, event_from_row(r));
        out.push_back(std::move(e));
        return {};
      },
      arg, limit));
  return out;
}

SlackMessage message_from_row(const Row& r) {
  return {r.i64(0),
          r.text(1),
          r.text(2),
          r.text(3),
          r.text(4),
          r.text(5),
          static_cast<int>(r.i64(6)),
          from_ms(r.i64(7)),
          r.text(8)};
}

Status insert_message(Connection& c, const SlackMessage& m) {
  return status_of(run(c,
                       "INSERT INTO slack_messages (channel, ts, task, team, person, purpose, "
                       "step, posted_at, permalink) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (channel, ts) DO NOTHING",
                       m.channel, m.ts, m.task, m.team, m.person, m.purpose, m.step,
                       ms(m.posted_at), m.permalink));
}

// A decision refused before it sent any write (`why`): a delivery seen before
// is a duplicate whatever its decision would be, so its key is looked up
// then. `unwritten`: nothing of the write is to be undone
// (Writer::refuse_unwritten); a new task's number was taken.
Status refuse(Writer& w, const std::string& key, bool unwritten, Status why) {
  Status seen = key.empty() ? Status{} : w.unseen(key);
  if (!seen.ok() && seen.code() != Code::duplicate) return seen;
  if (unwritten) w.refuse_unwritten();
  return seen.ok() ? why : seen;
}

// Decides on the latest committed version of task `number` (a new task with
// a fresh number when there is none) and writes the decision. `key`, when not
// empty, is remembered at `now` with it (Code::duplicate if it was seen).
// The decision comes before any write, so that a refused one writes nothing
// (refuse); so does a click on a task that is not there. A decision made on a
// duplicate fails on its key's write, at once (SQLite) or at the settle
// (PostgreSQL).
Status decide_and_write(Writer& w, const std::string& key, Time now,
                        std::optional<TaskNumber> number, const Store::Decide& decide,
                        Decision& out) {
  std::optional<Task> current;
  TaskNumber n = 0;
  if (number) {
    StatusOr<Task> read = w.task(*number);
    // Any other failure of the read (one of a write sent before it, say) is not a refusal. The
    // read settles what the run sent before it, so this holds as long as no answer to a
    // decision's statements is Code::not_found: that is the read's own.
    if (read.code() == Code::not_found) return refuse(w, key, true, read.status());
    RETURN_IF_ERROR(read.status());
    current = std::move(*read);
    n = *number;
  } else {
    ASSIGN_OR_RETURN(n, w.next_number());
  }
  const Task* before = current ? &*current : nullptr;
  StatusOr<Decision> decided = decide(before, n);
  if (!decided.ok()) return refuse(w, key, number.has_value(), decided.status());
  if (!key.empty()) RETURN_IF_ERROR(w.remember(key, now));
  Decision d = std::move(*decided);
  if (d.task.number != n) return internal_error("decision for the wrong task number");
  RETURN_IF_ERROR(w.write(d, before));
  out = std::move(d);
  return {};
}

// The store: reads through readers_, writes through commit_ and writer_.
class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<Connection> write, StoreOptions options, Dialect dialect);
  // See open_sql_store.
  Status open(const ReadPool::Open& open_reader);

  void create(Decide decide, DecisionDone done, std::string dedupe_key) override;
  void update(TaskNumber number, Decide decide, DecisionDone done, std::string dedupe_key) override;

  StatusOr<Task> task(TaskNumber number) override;
  StatusOr<std::vector<Task>> tasks(const TaskFilter& filter) override;
  StatusOr<std::vector<StoredEvent>> events(std::int64_t after_seq, int limit) override;
  StatusOr<std::vector<StoredEvent>> task_events(TaskNumber number) override;
  StatusOr<ChainReport> verify_chain() override;

  void remember(std::string key, Done done) override;
  void remember_then(std::string key, Done written, Done done) override;
  void forget(std::string key, Done done) override;

  void record_message(SlackMessage message, Done done) override;
  StatusOr<std::vector<SlackMessage>> messages(TaskNumber number) override;
  StatusOr<std::optional<SlackMessage>> message_at(const std::string& channel,
                                                   const std::string& ts) override;

  StatusOr<std::optional<IdentityEntry>> identity(const std::string& slack_user_id) override;
  StatusOr<std::optional<IdentityEntry>> identity_of(const PersonId& person) override;
  void cache_identity(IdentityEntry entry, Done done) override;

  void claim_outbox(Time now, int limit, Duration lease,
                    std::function<void(StatusOr<std::vector<OutboxItem>>)> done) override;
  void renew_outbox(std::vector<std::pair<std::int64_t, std::string>> held, Time until,
                    std::function<void(StatusOr<std::vector<std::int64_t>>)> done) override;
  void record_outbox_call(std::int64_t id, std::string claim, std::string call_key,
                          std::optional<SlackMessage> message, Done done) override;
  void finish_outbox(std::int64_t id, std::string claim, Status result,
                     std::optional<Time> retry_at, Done done) override;
  StatusOr<OutboxStats> outbox_stats() override;
  StatusOr<std::vector<OutboxItem>> parked_outbox(int limit) override;
  void requeue_parked(std::optional<std::int64_t> id, Time now,
                      std::function<void(StatusOr<std::int64_t>)> done) override;
  void release_claims(Done done) override;

  void set_delegation(Delegation d, Done done) override;
  void clear_delegation(PersonId person, PersonId by, Time at, Done done) override;
  StatusOr<std::vector<Delegation>> delegations() override;

  StatusOr<std::vector<Holding>> holdings(const AccessFilter& filter) override;
  void write_access(std::vector<AccessChange> changes, std::vector<Effect> effects,
                    Done done) override;

  void flush(Done done) override;
  StatusOr<int> schema_version() override;
  StoreStats stats() const override;

 private:
  // Queues a write (GroupCommit::submit).
  void submit(GroupCommit::Apply apply, Done done, bool capped = true);
  // Queues a write that fills a T; `done` gets it once committed.
  // `task`: the task it decides on (GroupCommit::submit).
  template <typename T>
  void submit_for(std::function<Status(Writer&, T&)> apply, std::function<void(StatusOr<T>)> done,
                  std::optional<TaskNumber> task = std::nullopt) {
    auto out = std::make_shared<T>();
    commit_.submit([out, apply = std::move(apply)](Writer& w) { return apply(w, *out); },
                   [out, done = std::move(done)](Status s) {
                     if (s.ok()) {
                       done(std::move(*out));
                     } else {
                       done(std::move(s));
                     }
                   },
                   /*capped=*/true, /*applied=*/{}, task);
  }

  // The store keeps no clock of its own for decisions (they carry their
  // time); this is only for bookkeeping rows such as dedupe keys.
  static Time now();

  StatusOr<int> migrate(Connection& c);
  StatusOr<int> apply_migrations(Connection& c);
  StatusOr<int> read_schema_version(Connection& c);
  StatusOr<ChainReport> verify_in(Connection& c);
  StatusOr<std::optional<IdentityEntry>> identity_where(std::string_view column,
                                                        const std::string& value);

  Dialect dialect_;
  StoreOptions options_;
  Writer writer_;
  ReadPool readers_;
  GroupCommit commit_;  // last: its thread stops first
};

SqlStore::SqlStore(std::unique_ptr<Connection> write, StoreOptions options, Dialect dialect)
    : dialect_(std::move(dialect)),
      options_(std::move(options)),
      writer_(std::move(write), options_.audit_key, dialect_.write),
      commit_(writer_, options_.max_batch, options_.max_queue) {}

Time SqlStore::now() {
  return SystemClock().now();
}

void SqlStore::submit(GroupCommit::Apply apply, Done done, bool capped) {
  commit_.submit(std::move(apply), std::move(done), capped);
}

// --- Opening: the schema and the seal.

Status SqlStore::open(const ReadPool::Open& open_reader) {
  Connection& c = writer_.conn();
  int before = current_schema_version();
  if (options_.migrate) {
    ASSIGN_OR_RETURN(before, migrate(c));
    RETURN_IF_ERROR(prune_seen(c, now()));
  }
  ASSIGN_OR_RETURN(int version, read_schema_version(c));
  if (version != current_schema_version()) {
    return unavailable("the database has schema version " + std::to_string(version) +
                       "; this build needs " + std::to_string(current_schema_version()) +
                       " (run `tollgate migrate`)");
  }
  if (!dialect_.write.shared) RETURN_IF_ERROR(writer_.load_chain_head());
  if (dialect_.write.shared) (void)writer_.recheck_refusal();
  if (options_.migrate && !options_.audit_key.empty()) {
    // serve and migrate: seal the log only with the head that this open
    // created (it migrated the database to kAuditSealVersion) or when the
    // operator asks, and never extend one unsealed, sealed under another key
    // or edited outside Tollgate.
    RETURN_IF_ERROR(writer_.seal(now(), before < kAuditSealVersion || options_.seal_unsealed));
  }
  RETURN_IF_ERROR(readers_.open(4, open_reader));
  commit_.start();
  if (options_.migrate && before > 0 && before < kAccessLedgerVersion) {
    // Upgraded to the ledger: access granted before it is in it, not lost.
    std::promise<Status> filled;
    submit(
        [](Writer& w) -> Status {
          ASSIGN_OR_RETURN(std::vector<AccessChange> changes, backfill_access(w.conn(), now()));
          return w.write_access(changes, {}, now());
        },
        [&filled](Status s) { filled.set_value(std::move(s)); }, /*capped=*/false);
    RETURN_IF_ERROR(filled.get_future().get());
  }
  return {};
}

StatusOr<int> SqlStore::read_schema_version(Connection& c) {
  bool exists = false;
  RETURN_IF_ERROR(query(c, dialect_.schema_table_exists, [&](const Row&) {
    exists = true;
    return Status{};
  }));
  int version = 0;
  if (!exists) return version;
  RETURN_IF_ERROR(
      query(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version", [&](const Row& r) {
        version = static_cast<int>(r.i64(0));
        return Status{};
      }));
  return version;
}

// Applies the pending migrations; returns the schema version found before.
StatusOr<int> SqlStore::migrate(Connection& c) {
  // Up to date: nothing is written, so a role that does not own the tables
  // (docs/operating.md, "Several instances on PostgreSQL") starts without the right to create any.
  const int latest = static_cast<int>(dialect_.migrations->size());
  if (auto v = read_schema_version(c); v.ok() && *v == latest) return *v;
  RETURN_IF_ERROR(c.script(dialect_.write.begin));
  auto found = apply_migrations(c);
  Status s = found.ok() ? c.script("COMMIT") : found.status();
  if (!s.ok()) {
    (void)c.script("ROLLBACK");
    return s;
  }
  return found;
}

StatusOr<int> SqlStore::apply_migrations(Connection& c) {
  if (!dialect_.migration_lock.empty()) RETURN_IF_ERROR(c.script(dialect_.migration_lock));
  RETURN_IF_ERROR(c.script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  ASSIGN_OR_RETURN(int found, read_schema_version(c));
  const auto& all = *dialect_.migrations;
  if (found > static_cast<int>(all.size())) {
    return unavailable("the database has schema version " + std::to_string(found) +
                       ", newer than this build's " + std::to_string(all.size()));
  }
  for (int i = found; i < static_cast<int>(all.size()); ++i) {
    RETURN_IF_ERROR(c.script(std::string(all[static_cast<std::size_t>(i)])));
    RETURN_IF_ERROR(run(c, "INSERT INTO schema_version (version) VALUES (?)", i + 1));
  }
  return found;
}

StatusOr<int> SqlStore::schema_version() {
  return readers_.with([&](Connection& c) { return read_schema_version(c); });
}

StoreStats SqlStore::stats() const {
  return commit_.stats();
}

// --- Tasks.

void SqlStore::create(Decide decide, DecisionDone done, std::string key) {
  submit_for<Decision>(
      [key = std::move(key), decide = std::move(decide)](Writer& w, Decision& out) {
        return decide_and_write(w, key, now(), std::nullopt, decide, out);
      },
      std::move(done));
}

void SqlStore::update(TaskNumber number, Decide decide, DecisionDone done, std::string key) {
  submit_for<Decision>(
      [number, key = std::move(key), decide = std::move(decide)](Writer& w, Decision& out) {
        return decide_and_write(w, key, now(), number, decide, out);
      },
      std::move(done), number);
}

StatusOr<Task> SqlStore::task(TaskNumber number) {
  return readers_.with([&](Connection& c) { return load_task(c, number, false); });
}

// With `involving`, the person's rows of task_people lead, in task order
// (index task_people_person), one per task (its least role), so that the
// query stops at the page's end: testing each of the person's tasks instead
// (`number IN (...)`) read all of them, about 1.5 ms for a manager's 10,000
// at a million tasks, where a page of 40 reads 40.
StatusOr<std::vector<Task>> SqlStore::tasks(const TaskFilter& f) {
  std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks";
  std::vector<Value> args;
  std::string order = "number";
  if (f.involving.empty()) {
    sql += " WHERE number > ?";
  } else {
    sql +=
        " JOIN task_people AS p ON p.task = number WHERE p.person = ? AND p.task > ?"
        " AND NOT EXISTS (SELECT 1 FROM task_people AS q WHERE q.person = p.person"
        " AND q.task = p.task AND q.role < p.role)";
    args.push_back(value(f.involving));
    order = "p.task";
  }
  args.push_back(value(f.after));
  if (!f.assignee.empty()) {
    sql += " AND number IN (SELECT task FROM task_people WHERE person = ? AND role = 'assignee')";
    args.push_back(value(f.assignee));
  }
  if (f.state) {
    sql += " AND state = ?";
    args.push_back(value(state_name(*f.state)));
  }
  if (f.kind) {
    sql += " AND kind = ?";
    args.push_back(value(kind_name(*f.kind)));
  }
  if (f.open) {
    sql += " AND open = ?";
    args.push_back(value(*f.open ? 1 : 0));
  }
  sql += " ORDER BY " + order + (f.newest_first ? " DESC" : "") + " LIMIT ?";
  args.push_back(value(std::clamp(f.limit, 1, 1000)));
  return readers_.with([&](Connection& c) -> StatusOr<std::vector<Task>> {
    std::vector<Task> out;
    RETURN_IF_ERROR(c.query(sql, args, [&](const Row& row) -> Status {
      ASSIGN_OR_RETURN(Task t, task_from_row(c, row));
      out.push_back(std::move(t));
      return {};
    }));
    return out;
  });
}

// --- The audit log.

StatusOr<std::vector<StoredEvent>> SqlStore::events(std::int64_t after_seq, int limit) {
  return readers_.with([&](Connection& c) {
    return read_events(c, "seq > ?", after_seq, std::clamp(limit, 1, 100000));
  });
}

StatusOr<std::vector<StoredEvent>> SqlStore::task_events(TaskNumber number) {
  return readers_.with([&](Connection& c) { return read_events(c, "task = ?", number, 100000); });
}

StatusOr<ChainReport> SqlStore::verify_chain() {
  // One snapshot for the head and every page of events.
  return readers_.with([&](Connection& c) -> StatusOr<ChainReport> {
    RETURN_IF_ERROR(c.script(dialect_.begin_snapshot));
    auto report = verify_in(c);
    (void)c.script(report.ok() ? "COMMIT" : "ROLLBACK");
    return report;
  });
}

// In pages, from the rows as stored (the data's stored text is what was hashed).
StatusOr<ChainReport> SqlStore::verify_in(Connection& c) {
  ASSIGN_OR_RETURN(auto head, read_chain_head(c, false));
  codec::ChainChecker chain(head ? &*head : nullptr, options_.audit_key);
  bool broken = false;
  for (std::int64_t after = 0, rows = 1; rows > 0 && !broken;) {
    rows = 0;
    RETURN_IF_ERROR(query(
        c,
        std::string("SELECT ") + kEventColumns + " FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        [&](const Row& r) {
          ++rows;
          after = r.i64(0);
          if (!broken && !chain.next(r.i64(0), r.i64(1), r.text(2), r.text(3), r.i64(4), r.text(5),
                                     r.text(6), r.text(7)))
            broken = true;
          return Status{};
        },
        after, 10000));
  }
  return chain.finish();
}

// --- Deliveries, messages, identities.

void SqlStore::remember(std::string key, Done done) {
  remember_then(std::move(key), nullptr, std::move(done));
}
void SqlStore::remember_then(std::string key, Done written, Done done) {
  commit_.submit([key = std::move(key)](Writer& w) { return w.remember(key, now()); },
                 std::move(done), /*capped=*/true, std::move(written));
}
void SqlStore::forget(std::string key, Done done) {
  submit([key = std::move(key)](Writer& w) { return w.forget(key); }, std::move(done));
}

void SqlStore::record_message(SlackMessage m, Done done) {
  submit([m = std::move(m)](Writer& w) { return insert_message(w.conn(), m); }, std::move(done));
}

StatusOr<std::vector<SlackMessage>> SqlStore::messages(TaskNumber number) {
  return readers_.with([&](Connection& c) -> StatusOr<std::vector<SlackMessage>> {
    std::vector<SlackMessage> out;
    RETURN_IF_ERROR(query(
        c,
        std::string("SELECT ") + kMessageColumns +
            " FROM slack_messages WHERE task = ? ORDER BY posted_at, channel, ts",
        [&](const Row& r) {
          out.push_back(message_from_row(r));
          return Status{};
        },
        number));
    return out;
  });
}

StatusOr<std::optional<SlackMessage>> SqlStore::message_at(const std::string& channel,
                                                           const std::string& ts) {
  return readers_.with([&](Connection& c) -> StatusOr<std::optional<SlackMessage>> {
    std::optional<SlackMessage> out;
    RETURN_IF_ERROR(query(
        c,
        std::string("SELECT ") + kMessageColumns +
            " FROM slack_messages WHERE channel = ? AND ts = ?",
        [&](const Row& r) {
          out = message_from_row(r);
          return Status{};
        },
        channel, ts));
    return out;
  });
}

StatusOr<std::optional<IdentityEntry>> SqlStore::identity(const std::string& slack_user_id) {
  return identity_where("slack_user_id", slack_user_id);
}

StatusOr<std::optional<IdentityEntry>> SqlStore::identity_of(const PersonId& person) {
  if (person.empty()) return std::optional<IdentityEntry>();
  return identity_where("person", person);
}

StatusOr<std::optional<IdentityEntry>> SqlStore::identity_where(std::string_view column,
                                                                const std::string& value) {
  return readers_.with([&](Connection& c) -> StatusOr<std::optional<IdentityEntry>> {
    std::optional<IdentityEntry> out;
    RETURN_IF_ERROR(query(
        c,
        "SELECT slack_user_id, person, email, fetched_at, tz, tz_offset FROM identity_cache "
        "WHERE " +
            std::string(column) + " = ? ORDER BY fetched_at DESC LIMIT 1",
        [&](const Row& r) {
          out = IdentityEntry{r.text(0), r.text(1), r.text(2), from_ms(r.i64(3)), r.text(4)};
          if (!r.is_null(5)) out->tz_offset = static_cast<int>(r.i64(5));
          return Status{};
        },
        value));
    return out;
  });
}

void SqlStore::cache_identity(IdentityEntry e, Done done) {
  submit(
      [e = std::move(e)](Writer& w) {
        return status_of(run(
            w.conn(),
            "INSERT INTO identity_cache (slack_user_id, person, email, fetched_at, tz, "
            "tz_offset) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slack_user_id) DO UPDATE SET "
            "person = excluded.person, email = excluded.email, "
            "fetched_at = excluded.fetched_at, tz = excluded.tz, tz_offset = excluded.tz_offset",
            e.slack_user_id, e.person, e.email, ms(e.fetched_at), e.tz, e.tz_offset));
      },
      std::move(done));
}

// --- The outbox.

void SqlStore::claim_outbox(Time now_t, int limit, Duration lease,
                            std::function<void(StatusOr<std::vector<OutboxItem>>)> done) {
  submit_for<std::vector<OutboxItem>>(
      [this, now_t, limit, lease](Writer& w, std::vector<OutboxItem>& items) {
        return dialect_.claim(w.conn(), now_t, std::clamp(limit, 1, 10000), lease, items);
      },
      std::move(done));
}

void SqlStore::renew_outbox(std::vector<std::pair<std::int64_t, std::string>> held, Time until,
                            std::function<void(StatusOr<std::vector<std::int64_t>>)> done) {
  submit_for<std::vector<std::int64_t>>(
      [held = std::move(held), until](Writer& w, std::vector<std::int64_t>& lost) -> Status {
        for (const auto& [id, claim] : held) {
          ASSIGN_OR_RETURN(std::int64_t renewed,
                           run(w.conn(),
                               "UPDATE outbox SET claimed_until = ? WHERE id = ? AND claim = ? "
                               "AND state = 'pending'",
                               ms(until), id, claim));
          if (renewed == 0) lost.push_back(id);
        }
        return {};
      },
      std::move(done));
}

void SqlStore::record_outbox_call(std::int64_t id, std::string claim, std::string call_key,
                                  std::optional<SlackMessage> m, Done done) {
  if (Status k = codec::check_outbox_call_key(call_key); !k.ok()) return done(k);
  submit(
      [id, claim = std::move(claim), key = std::move(call_key),
       m = std::move(m)](Writer& w) -> Status {
        ASSIGN_OR_RETURN(std::int64_t recorded,
                         run(w.conn(),
                             "UPDATE outbox SET done_calls = done_calls || ? WHERE id = ? "
                             "AND claim = ? AND state = 'pending'",
                             key + "\n", id, claim));
        if (recorded == 0) return codec::outbox_claim_lost(id);
        return m ? insert_message(w.conn(), *m) : Status{};
      },
      std::move(done));
}

void SqlStore::finish_outbox(std::int64_t id, std::string claim, Status result,
                             std::optional<Time> retry_at, Done done) {
  submit(
      [id, claim = std::move(claim), result = std::move(result), retry_at](Writer& w) -> Status {
        StatusOr<std::int64_t> finished =
            result.ok() ? run(w.conn(), "DELETE FROM outbox WHERE id = ? AND claim = ?", id, claim)
            : retry_at  ? run(w.conn(),
                              "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                               "claimed_until = 0, last_error = ? WHERE id = ? AND claim = ? "
                               "AND state = 'pending'",
                              ms(*retry_at), result.to_string(), id, claim)
                        : run(w.conn(),
                              "UPDATE outbox SET attempts = attempts + 1, state = 'parked', "
                               "claimed_until = 0, last_error = ? WHERE id = ? AND claim = ? "
                               "AND state = 'pending'",
                              result.to_string(), id, claim);
        if (!finished.ok()) return finished.status();
        return *finished == 0 ? codec::outbox_claim_lost(id) : Status{};
      },
      std::move(done));
}

StatusOr<OutboxStats> SqlStore::outbox_stats() {
  return readers_.with([&](Connection& c) -> StatusOr<OutboxStats> {
    OutboxStats s;
    RETURN_IF_ERROR(
        query(c, "SELECT state, COUNT(*) FROM outbox GROUP BY state", [&](const Row& r) {
          if (r.text(0) == "pending") s.pending = r.i64(1);
          if (r.text(0) == "parked") s.parked = r.i64(1);
          return Status{};
        }));
    return s;
  });
}

StatusOr<std::vector<OutboxItem>> SqlStore::parked_outbox(int limit) {
  return readers_.with([&](Connection& c) -> StatusOr<std::vector<OutboxItem>> {
    std::vector<OutboxItem> out;
    RETURN_IF_ERROR(query(c,
                          std::string("SELECT ") + codec::kOutboxColumns +
                              " FROM outbox WHERE state = 'parked' ORDER BY id LIMIT ?",
                          outbox_items_into(out), std::clamp(limit, 1, 100000)));
    for (OutboxItem& item : out) item.parked = true;
    return out;
  });
}

void SqlStore::requeue_parked(std::optional<std::int64_t> id, Time at,
                              std::function<void(StatusOr<std::int64_t>)> done) {
  submit_for<std::int64_t>(
      [id, at](Writer& w, std::int64_t& count) -> Status {
        std::string sql =
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, "
            "claimed_until = 0, last_error = '' WHERE state = 'parked'";
        ASSIGN_OR_RETURN(count, id ? run(w.conn(), sql + " AND id = ?", ms(at), *id)
                                   : run(w.conn(), sql, ms(at)));
        return {};
      },
      std::move(done));
}

// --- Delegations.

void SqlStore::set_delegation(Delegation d, Done done) {
  submit(
      [d = std::move(d)](Writer& w) -> Status {
        RETURN_IF_ERROR(run(w.conn(),
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

void SqlStore::clear_delegation(PersonId person, PersonId by, Time at, Done done) {
  submit(
      [person = std::move(person), by = std::move(by), at](Writer& w) -> Status {
        ASSIGN_OR_RETURN(std::int64_t cleared,
                         run(w.conn(), "DELETE FROM delegations WHERE person = ?", person));
        if (cleared == 0) return not_found(person + " has no delegation");
        return w.append_event({0, "delegation_cleared", by, at, {{"person", person}}});
      },
      std::move(done));
}

StatusOr<std::vector<Delegation>> SqlStore::delegations() {
  return readers_.with([&](Connection& c) -> StatusOr<std::vector<Delegation>> {
    std::vector<Delegation> out;
    RETURN_IF_ERROR(query(
        c, "SELECT person, delegate, until, set_by, set_at FROM delegations ORDER BY person",
        [&](const Row& r) {
          out.push_back({r.text(0), r.text(1), from_ms(r.i64(2)), r.text(3), from_ms(r.i64(4))});
          return Status{};
        }));
    return out;
  });
}

void SqlStore::release_claims(Done done) {
  if (dialect_.release_claims.empty()) return done({});
  submit([this](Writer& w) { return status_of(run(w.conn(), dialect_.release_claims)); },
         std::move(done));
}

StatusOr<std::vector<Holding>> SqlStore::holdings(const AccessFilter& filter) {
  return readers_.with([&](Connection& c) { return read_holdings(c, filter); });
}

void SqlStore::write_access(std::vector<AccessChange> changes, std::vector<Effect> effects,
                            Done done) {
  submit(
      [changes = std::move(changes), effects = std::move(effects)](Writer& w) {
        Time at = changes.empty() ? now() : changes.front().at;
        return w.write_access(changes, effects, at);
      },
      std::move(done));
}

void SqlStore::flush(Done done) {
  // A barrier that writes nothing: not subject to the queue's cap.
  submit([](Writer&) { return Status{}; }, std::move(done), /*capped=*/false);
}

}  // namespace

StatusOr<std::unique_ptr<Store>> open_sql_store(std::unique_ptr<Connection> write,
                                                const StoreOptions& options, Dialect dialect,
                                                const ReadPool::Open& open_reader) {
  auto store = std::make_unique<SqlStore>(std::move(write), options, std::move(dialect));
  RETURN_IF_ERROR(store->open(open_reader));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tollgate::detail
