// The Store: the only door to persistence (DESIGN.md §6).
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
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workflow/delegation.h"
#include "workflow/status.h"
#include "workflow/task.h"

namespace tollgate {

struct StoredEvent {
  std::int64_t seq = 0;
  Event event;
  std::string prev_hash;  // hex SHA-256 of the previous event; 64 zeros for the first
  std::string hash;       // hex SHA-256 over prev_hash and this event's content
};

struct TaskFilter {
  PersonId assignee;   // tasks whose open step is assigned to this person
  PersonId involving;  // tasks this person requested, is the subject of, or reviewed
  std::optional<TaskState> state;
  std::optional<TaskKind> kind;
  std::optional<bool> open;  // true: open tasks only; false: closed only
  TaskNumber after = 0;      // pagination: numbers greater than this
  int limit = 100;           // at most 1000
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
  bool parked = false;  // gave up after too many failures; kept for an operator
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
};

struct ChainReport {
  std::int64_t events = 0;
  // Set when the chain is broken: the first event whose hash or link is wrong.
  std::optional<std::int64_t> broken_seq;
  std::string problem;
};

class Store {
 public:
  // Decides a command. `current` is the task as last committed (null when
  // opening a new task); `number` is the task's number (freshly allocated for
  // a new task). Runs on the writer thread; must be pure and quick.
  using Decide = std::function<StatusOr<Decision>(const Task* current, TaskNumber number)>;
  using DecisionDone = std::function<void(StatusOr<Decision>)>;
  using Done = std::function<void(Status)>;

  virtual ~Store() = default;

  // Allocates the next task number, decides and commits. `dedupe_key`, when
  // not empty, makes the write happen at most once: a second write with the
  // same key completes with Code::duplicate and changes nothing.
  virtual void create(Decide decide, DecisionDone done, std::string dedupe_key = {}) = 0;
  // Decides on the latest version of task `number` and commits. Code::not_found
  // when there is no such task.
  virtual void update(TaskNumber number, Decide decide, DecisionDone done,
                      std::string dedupe_key = {}) = 0;

  virtual StatusOr<Task> task(TaskNumber number) = 0;
  virtual StatusOr<std::vector<Task>> tasks(const TaskFilter& filter) = 0;
  // Events with seq > after_seq, oldest first; at most `limit`.
  virtual StatusOr<std::vector<StoredEvent>> events(std::int64_t after_seq, int limit) = 0;
  virtual StatusOr<std::vector<StoredEvent>> task_events(TaskNumber number) = 0;
  // Recomputes the hash chain from the first event.
  virtual StatusOr<ChainReport> verify_chain() = 0;

  // Records a delivery key (Slack event_id, action id) as seen. Code::duplicate
  // when it was seen before.
  virtual void remember(std::string key, Done done) = 0;

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
  // is not offered again until `lease` has passed or it is finished.
  virtual void claim_outbox(Time now, int limit, Duration lease,
                            std::function<void(StatusOr<std::vector<OutboxItem>>)> done) = 0;
  // Finishes a claimed item: delivered (ok), retried at `retry_at`, or parked
  // with its error when `retry_at` is empty.
  virtual void finish_outbox(std::int64_t id, Status result, std::optional<Time> retry_at,
                             Done done) = 0;
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
};

// Opens the store named by `url`: "sqlite:PATH" (or a bare path). PostgreSQL
// URLs are recognised and refused with Code::unavailable: that backend is not
// built yet.
StatusOr<std::unique_ptr<Store>> open_store(const std::string& url,
                                            const StoreOptions& options = {});

// The schema version this build writes.
int current_schema_version();

// Blocking helpers for the command line and tests: submit and wait.
StatusOr<Decision> create_and_wait(Store& store, Store::Decide decide, std::string dedupe_key = {});
StatusOr<Decision> update_and_wait(Store& store, TaskNumber number, Store::Decide decide,
                                   std::string dedupe_key = {});
Status flush_and_wait(Store& store);

}  // namespace tollgate
