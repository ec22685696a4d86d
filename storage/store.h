// The Store: the only door to persistence (docs/architecture.md).
//
// What it promises:
//  * A command is decided and written in one transaction: the task row
//    (compare-and-swap on its version), its events (append-only, hash-chained),
//    its new comments and the effects it puts in the outbox. All or nothing.
//  * Writes are asynchronous. Each call returns at once; its completion runs
//    once the transaction is durably committed (or has failed). Concurrent
//    writes share one commit (group commit), so durability costs one disk flush
//    per batch, not per command. A network thread never waits on the disk.
//  * A decision is computed inside the writer against the latest committed
//    version of the task, so two concurrent decisions on one step are applied
//    one after the other: the second sees the first and the engine names the
//    outcome ("already approved by ...").
//  * Completions run on the store's writer thread, in commit order. They must
//    be short and must not block; they may submit further writes.
//  * Reads are synchronous and may run on any thread concurrently with writes;
//    they see committed data only.
//  * A write refused because the store is closing, or its queue is full, is
//    completed at once with Code::unavailable and changes nothing.
//  * When a batch's commit fails, every write of the batch is completed with
//    Code::unavailable, refusals too (one may rest on a write the failure undid),
//    and none of them changed anything: each may be made again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflow/delegation.h"
#include "base/status.h"
#include "workflow/task.h"

namespace tollgate {

struct StoredEvent {
  std::int64_t seq = 0;
  Event event;
  std::string prev_hash;  // the previous event's hash; 64 zeros for the first
  // hex SHA-256 over prev_hash and this event's content; in a sealed log,
  // HMAC-SHA-256 under the audit key instead (see StoreOptions::audit_key).
  std::string hash;
};

struct TaskFilter {
  PersonId assignee;   // tasks whose open step is assigned to this person
  PersonId involving;  // tasks this person requested, is the subject of, or reviewed
  std::optional<TaskState> state;
  std::optional<TaskKind> kind;
  std::optional<bool> open;  // true: open tasks only; false: closed only
  TaskNumber after = 0;      // pagination: numbers greater than this
  int limit = 100;           // at most 1000
  // The highest numbers first: the newest `limit` tasks (completed lists).
  // Otherwise the lowest first, for paging with `after`.
  bool newest_first = false;
};

// A message the bot posted about a task; every copy is updated when the task moves on.
struct SlackMessage {
  TaskNumber task = 0;
  std::string team;
  std::string channel;
  std::string ts;
  PersonId person;      // whose DM it is (empty for a channel post)
  std::string purpose;  // "assign", "notify", ...
  int step = -1;
  Time posted_at{};
  // https://WORKSPACE.slack.com/archives/CHANNEL/pTS, when the workspace's
  // address was known at posting time (empty otherwise).
  std::string permalink;
};

struct IdentityEntry {
  std::string slack_user_id;
  PersonId person;  // empty: Slack knows the user, the directory does not
  std::string email;
  Time fetched_at{};
  std::string tz;                // "Europe/Paris", from users.info
  std::optional<int> tz_offset;  // seconds east of UTC, as Slack reported it then
};

struct OutboxItem {
  std::int64_t id = 0;
  Effect effect;
  int attempts = 0;
  Time created_at{};
  Time next_attempt_at{};
  std::string last_error;
  bool parked = false;  // given up on (refused by Slack, or too old); kept for an operator
  // The claim this item is held under; claim_outbox makes a new one each time.
  // renew_outbox, record_outbox_call and finish_outbox act only while it is
  // still the item's claim, so a worker whose lease has lapsed cannot renew,
  // record or finish what another worker has claimed since.
  std::string claim;
  // Keys of this item's Slack calls that succeeded (record_outbox_call), in
  // order: a later delivery of the item skips them, so no call is made twice.
  std::vector<std::string> done_calls;
};

struct OutboxStats {
  std::int64_t pending = 0;
  std::int64_t parked = 0;
};

// Counters since the store was opened; cheap to read from any thread.
struct StoreStats {
  std::int64_t commits = 0;        // transactions committed
  std::int64_t writes = 0;         // write jobs completed ok
  std::int64_t failed_writes = 0;  // jobs completed with an error
  std::int64_t commit_micros = 0;  // total time spent in COMMIT (flush)
  // Decisions made again one by one after a run of them failed (PostgreSQL:
  // decisions in a row are written with one round trip, Writer::writes_runs).
  std::int64_t redone_writes = 0;
};

// Which rows of the access ledger to read.
struct AccessFilter {
  PersonId person;       // empty: anyone's
  std::string app;       // empty: every app
  std::string resource;  // with app; empty: every resource of it
  // Only rows held with an end before this instant (expiries, reminders).
  std::optional<Time> expiring_before;
  std::vector<PersonId> people;  // not empty: only these people's rows (at most 1000)
  bool not_ending = false;       // only rows without a deprovisioning task (ending_task 0)
  bool not_warned = false;       // only rows whose holder was not warned of the end yet
  // Ordered by end, soonest first (what the scheduler needs first), rather
  // than by person, app and resource.
  bool soonest_first = false;
  int limit = 1000;  // 1 to 100000
};

// What verify_chain() found. The log is intact when `problem` is empty.
struct ChainReport {
  std::int64_t events = 0;
  // Set when the chain is broken: the first event whose hash or link is wrong,
  // or the first one missing (from the middle, from the end, or all of them).
  std::optional<std::int64_t> broken_seq;
  // Why it is broken; also set without broken_seq when the head itself fails
  // (missing, sealed with another key, edited outside Tollgate).
  std::string problem;
  // The last event's hash (64 zeros for an empty log): what a checkpoint signs.
  std::string head_hash;
  // The first event authenticated with the audit key (HMAC-SHA-256); 0: the
  // log is not sealed, every event is a plain SHA-256 link.
  std::int64_t sealed_from = 0;
  Time sealed_at{};
  std::string key_id;  // of the key that sealed the log (16 hex digits)
  // The store's key checked the head and every event from sealed_from on.
  // False without a key: keyed events were then checked for their links only.
  bool authenticated = false;
  bool intact() const { return problem.empty(); }
};

class Store {
 public:
  // Decides a command. `current` is the task as last committed (null when
  // opening a new task); `number` is the task's number (freshly allocated for
  // a new task). Runs on the writer thread; must be pure and quick: it may
  // run more than once for one write (PostgreSQL makes a write again when
  // others it was written with failed), and only its last result counts.
  using Decide = std::function<StatusOr<Decision>(const Task* current, TaskNumber number)>;
  using DecisionDone = std::function<void(StatusOr<Decision>)>;
  using Done = std::function<void(Status)>;

  virtual ~Store() = default;

  // Allocates the next task number, decides and commits. `dedupe_key`, when
  // not empty, makes the write happen at most once: a second write with the
  // same key completes with Code::duplicate and changes nothing.
  virtual void create(Decide decide, DecisionDone done, std::string dedupe_key = {}) = 0;
  // Decides on the latest version of task `number` and commits. Code::not_found
  // when there is no such task (Code::duplicate when `dedupe_key` was seen:
  // a refusal, like the decision's own, does not hide a replay).
  virtual void update(TaskNumber number, Decide decide, DecisionDone done,
                      std::string dedupe_key = {}) = 0;

  virtual StatusOr<Task> task(TaskNumber number) = 0;
  virtual StatusOr<std::vector<Task>> tasks(const TaskFilter& filter) = 0;
  // Events with seq > after_seq, oldest first; at most `limit`.
  virtual StatusOr<std::vector<StoredEvent>> events(std::int64_t after_seq, int limit) = 0;
  virtual StatusOr<std::vector<StoredEvent>> task_events(TaskNumber number) = 0;
  // Recomputes the hash chain from the first event, with the store's audit
  // key, and compares where it ends with the head (chain_head).
  virtual StatusOr<ChainReport> verify_chain() = 0;

  // Records a delivery key (Slack event_id, action id) as seen. Code::duplicate
  // when it was seen before.
  virtual void remember(std::string key, Done done) = 0;
  // remember(key, done), and `written` runs on the store's writer as soon as
  // the key is written in the transaction under way (Code::duplicate when it
  // was seen), before that transaction commits; `done` runs once it has, or
  // has failed (then `written` may have said OK). So a caller can go on while
  // the key is being committed and answer only after `done`: a write it
  // queues meanwhile goes in a later transaction, which commits only after
  // the key's has. If the key's commit fails, such a write may still commit
  // (the caller answers that it failed all the same). `written` must return
  // at once and wait for nothing of the store's. It is not called when the
  // key is not written at all (a full queue, a closing store, a transaction
  // that could not begin): `done` says why.
  virtual void remember_then(std::string key, Done written, Done done) = 0;
  // Undoes remember(key): a delivery recorded but not handled (answered 503, say) is handled
  // when it comes again. Nothing happens for a key not recorded.
  virtual void forget(std::string key, Done done) = 0;

  virtual void record_message(SlackMessage message, Done done) = 0;
  virtual StatusOr<std::vector<SlackMessage>> messages(TaskNumber number) = 0;
  // The message at channel/ts, if the bot posted it (thread replies find their task this way).
  virtual StatusOr<std::optional<SlackMessage>> message_at(const std::string& channel,
                                                           const std::string& ts) = 0;

  virtual StatusOr<std::optional<IdentityEntry>> identity(const std::string& slack_user_id) = 0;
  // The cache entry that maps to `person`, if any (time zones are looked up so).
  virtual StatusOr<std::optional<IdentityEntry>> identity_of(const PersonId& person) = 0;
  virtual void cache_identity(IdentityEntry entry, Done done) = 0;

  // Claims up to `limit` outbox items that are due at `now`: for each task,
  // only its oldest pending item (delivery in order per task). A claimed item
  // is not offered again until `lease` has passed (renew_outbox extends it)
  // or it is finished. Each item comes with a fresh `claim` and the calls
  // already done.
  virtual void claim_outbox(Time now, int limit, Duration lease,
                            std::function<void(StatusOr<std::vector<OutboxItem>>)> done) = 0;
  // Extends to `until` the lease of each item still held under its claim
  // (id, claim). Completes with the ids that are no longer (finished, or
  // claimed by another worker once their lease had lapsed).
  virtual void renew_outbox(std::vector<std::pair<std::int64_t, std::string>> held, Time until,
                            std::function<void(StatusOr<std::vector<std::int64_t>>)> done) = 0;
  // Records that the call `call_key` of item `id` succeeded and, when given,
  // the Slack message it posted, in one transaction. `call_key` is not empty
  // and has no line break (Code::invalid_argument). Code::not_found, changing
  // nothing, when the item is no longer held under `claim`.
  virtual void record_outbox_call(std::int64_t id, std::string claim, std::string call_key,
                                  std::optional<SlackMessage> message, Done done) = 0;
  // Finishes an item held under `claim`: delivered (ok: removed), retried at
  // `retry_at` (one more attempt counted), or parked with its error when
  // `retry_at` is empty. The calls recorded as done stay done.
  // Code::not_found, changing nothing, when the item is no longer held under
  // `claim`.
  virtual void finish_outbox(std::int64_t id, std::string claim, Status result,
                             std::optional<Time> retry_at, Done done) = 0;
  virtual StatusOr<OutboxStats> outbox_stats() = 0;
  // Parked items (given up on), oldest first, for an operator to look at.
  virtual StatusOr<std::vector<OutboxItem>> parked_outbox(int limit) = 0;
  // Puts parked items back in line, due at `now` with their attempts reset:
  // item `id`, or every parked item when `id` is empty. Completes with how many.
  virtual void requeue_parked(std::optional<std::int64_t> id, Time now,
                              std::function<void(StatusOr<std::int64_t>)> done) = 0;
  // Makes every claimed item claimable again. For the start of a process that
  // is the only one delivering from this store (SQLite): whatever it had
  // claimed before a crash is offered again at once instead of after its lease.
  virtual void release_claims(Done done) = 0;

  // Delegations (out of office). Setting or clearing one also appends an
  // event to the history (task 0: not about one task), in the same transaction.
  virtual void set_delegation(Delegation d, Done done) = 0;
  // Code::not_found when `person` has no delegation.
  virtual void clear_delegation(PersonId person, PersonId by, Time at, Done done) = 0;
  virtual StatusOr<std::vector<Delegation>> delegations() = 0;

  // The access ledger (task.h, Holding): rows ordered by person, app and resource.
  virtual StatusOr<std::vector<Holding>> holdings(const AccessFilter& filter) = 0;
  // Changes of the ledger that no task decision carries (the configuration's
  // grants, an expiry or "I'm done" on an app that removes access by itself,
  // the "ends soon" warning), with their effects, in one transaction; an
  // event is appended for every change applied. A guarded change that no
  // longer applies refuses the whole write (Code::conflict).
  virtual void write_access(std::vector<AccessChange> changes, std::vector<Effect> effects,
                            Done done) = 0;

  // Completes once every write submitted before it has committed.
  virtual void flush(Done done) = 0;
  // The applied schema version, and whether the database answers.
  virtual StatusOr<int> schema_version() = 0;
  virtual StoreStats stats() const = 0;
};

struct StoreOptions {
  // Writes committed together at most. 1 disables group commit (one flush per write).
  int max_batch = 512;
  // Writes waiting at most; beyond, writes are refused with Code::unavailable.
  int max_queue = 20000;
  // Apply pending migrations when opening. Otherwise a database behind the
  // code's schema is refused.
  bool migrate = true;
  // The audit key (raw bytes, 32 to 64; kept outside the database). With it,
  // the open that creates the head (a fresh database, or the upgrade through
  // migration kAuditSealVersion) seals the log (its next event is the first
  // keyed one; earlier events stay plain SHA-256 links), events are HMACs
  // under it and the head is authenticated; any later opening with `migrate`
  // refuses a log that is not sealed (Code::permission_denied: its seal was
  // removed, or it was migrated without a key; see seal_unsealed), sealed
  // under another key, or whose head was edited. Empty:
  // the plain chain, for tests and tools; a store without the key cannot
  // append to a sealed log (Code::internal) but can read and verify its
  // links. `tollgate serve` always passes one.
  std::string audit_key;
  // `tollgate audit seal`: with `migrate` and a key, seal a log found not
  // sealed at any open. Only for an operator who knows why the log is not
  // sealed: a log whose seal was removed would be sealed as it now is.
  bool seal_unsealed = false;
};

// Opens the store named by `url`: "sqlite:PATH" (or a bare path), or a
// PostgreSQL database, "postgresql://..." or "postgres://..." (several
// instances may share one; see postgres_store.h). Code::unavailable when the
// database cannot be reached; Code::invalid_argument, before anything is
// opened, for an audit key that is not 32 to 64 bytes.
StatusOr<std::unique_ptr<Store>> open_store(const std::string& url,
                                            const StoreOptions& options = {});

// The schema version this build writes.
int current_schema_version();

// Whether `url` names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres_url(std::string_view url);

// The database URL as it may be shown (logs, output, errors): a PostgreSQL
// URL without its user and password ("postgresql://***@db:5432/tollgate"),
// and with the values of its user and *password* query parameters as ***.
// Anything else (sqlite:PATH) is returned as it is.
std::string redact_database_url(std::string_view url);
// `text` (an error message, say libpq's "password authentication failed for
// user \"alice\"") with every credential of `url` in it replaced by ***: the
// URL itself, the password wherever it appears, the user where quoted. The
// one redaction of database credentials: everything that may show them goes
// through here or redact_database_url.
std::string redact_database_text(std::string text, std::string_view url);

// The ledger as the event log tells it: every "access_*" event among
// `events` (oldest first, as Store::events returns them) applied in order.
// Equal to Store::holdings over the same log, except for last_used, which no
// event records.
StatusOr<std::vector<Holding>> replay_access(const std::vector<StoredEvent>& events);

// Blocking helpers for the command line and tests: submit and wait.
StatusOr<Decision> create_and_wait(Store& store, Store::Decide decide, std::string dedupe_key = {});
StatusOr<Decision> update_and_wait(Store& store, TaskNumber number, Store::Decide decide,
                                   std::string dedupe_key = {});
Status flush_and_wait(Store& store);
Status write_access_and_wait(Store& store, std::vector<AccessChange> changes,
                             std::vector<Effect> effects = {});

}  // namespace tollgate
