// The one write path of both backends (store.h's contract), in the style of
// leveldb's: callers queue writes; one writer thread takes every queued write
// (up to StoreOptions::max_batch), runs each inside its own SAVEPOINT of one
// transaction, commits once, and only then completes them, in order. A write
// that fails is rolled back to its savepoint without disturbing the others;
// a failed commit fails every write of the batch. On PostgreSQL, decisions
// that follow one another go as a run, under one savepoint, made again one
// by one should it fail (GroupCommit::run_together). What differs between the
// backends is injected: the driver (detail/sql.h) and a WriteMode.
//
// The Writer also keeps the audit log's head (chain_head, codec::ChainHead):
// events are appended to the hash chain in memory and the head is written
// once per transaction, when events were appended. Private to storage/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/detail/codec.h"
#include "storage/detail/sql.h"
#include "storage/detail/tables.h"
#include "storage/store.h"

namespace tollgate::detail {

// How a backend's database is written.
struct WriteMode {
  // Opens a write transaction: SQLite's "BEGIN IMMEDIATE" takes the write
  // lock at once; PostgreSQL's "BEGIN".
  std::string begin;
  // Several writers (instances) share the database (PostgreSQL). Then a
  // transaction's events are linked into the chain at its commit, under the
  // chain head's lock, the last lock it takes (so the instances append to one
  // chain in turn, and take turns for that only); the writer reads a task FOR
  // UPDATE and caches none; and a transaction that cannot begin fails its
  // writes with Code::unavailable. Otherwise (SQLite) this writer is the only
  // one: the head is read at start and kept in memory, and the tasks it wrote
  // are cached.
  bool shared = false;
};

// The write connection, the chain head and (single writer) a cache of the
// tasks recently written. Used by the writer thread only.
//
// The cache saves reading and decoding a task that this writer wrote itself.
// It is write-through and only ever holds committed-or-pending rows of this
// writer: entries touched by a write that rolls back are dropped, and the
// whole cache on a failed commit. Another writer on the same file cannot make
// it lie for long: the version compare-and-swap refuses a stale decision and
// the entry is dropped.
class Writer {
 public:
  Writer(std::unique_ptr<Connection> conn, std::string audit_key, WriteMode mode);
  Connection& conn() { return *conn_; }

  // At the start of a single writer: reads the chain head and decides
  // whether this writer may append to it (codec::may_append; a log that does
  // not end where its head says is not extended either). A refusal is kept
  // for append_event, not returned: a store that cannot append can still
  // read, verify and run the outbox.
  Status load_chain_head();
  // At the start of serve and migrate, in a transaction of its own: seals a
  // log not sealed yet under the writer's key when `may_seal` (the next event
  // is the first keyed one), refuses one not sealed otherwise; then refuses a
  // log this writer may not extend, or one that does not end where its head
  // says, before anything is committed.
  Status seal(Time now, bool may_seal);

  // The transaction of a batch, driven by GroupCommit. A failure of begin()
  // fails every write of the batch; nothing ran.
  Status begin();
  // Shared mode, first in a batch: locks the tasks its decisions name
  // (GroupCommit::submit's `task`), in ascending order, and reads them with
  // their comments and people in one round trip; task() then answers from
  // them. Nothing in single-writer mode, whose reads cost no round trip.
  Status read_ahead(std::vector<TaskNumber> numbers);
  // Around each write: a savepoint (unless `own_savepoint` is false: the
  // write is in a run), and what abort_job() needs to undo it (the head in
  // memory, the cached tasks it touched).
  Status begin_job(bool own_savepoint = true);
  // Shared mode: decisions one after another may be written as a run, with
  // one savepoint and one settle for all instead of a round trip each. A
  // decision refused before it sent anything (refuse_unwritten) leaves the
  // run going; a run in which anything else fails is undone as a whole
  // (abort_run), and its writes are then made again one by one, so that each
  // fails or not on its own.
  bool writes_runs() const { return mode_.shared; }
  Status begin_run();
  void abort_run();
  void end_run();
  // After a write or a run: what its statements answered
  // (Connection::defer); a failure is the write's (abort_job() follows) or
  // the run's (abort_run()).
  Status settle();
  void abort_job();
  void end_job();
  // Writes the head (when events were appended) and commits.
  Status commit();
  // After a failed commit: rolls back and forgets what it had not committed.
  void abort();

  // What writes do. Code::duplicate when `key` was seen before.
  Status remember(const std::string& key, Time now);
  Status forget(const std::string& key);
  // Code::duplicate when `key` was remembered before (a read: it sends no write); the failure
  // of a statement sent before it, as Code::unavailable.
  Status unseen(const std::string& key);
  // The current write was a decision refused before it sent any write: nothing of it is to be
  // undone, and the run it is in may go on without it (GroupCommit::run_together).
  void refuse_unwritten() { refused_unwritten_ = true; }
  bool refused_unwritten() const { return refused_unwritten_; }
  StatusOr<TaskNumber> next_number();
  // The task as last committed (or written earlier in this transaction).
  StatusOr<Task> task(TaskNumber n);
  // Writes one decision: task row (compare-and-swap on the version `before`
  // had; null for a new task), who it concerns, comments, events, effects.
  Status write(const Decision& d, const Task* before);
  // Applies changes of the access ledger (an event for each change applied)
  // and puts `effects` in the outbox, due at `at`.
  Status write_access(const std::vector<AccessChange>& changes, const std::vector<Effect>& effects,
                      Time at);
  // Appends one event to the hash chain: an HMAC under the key once sealed.
  // In shared mode (PostgreSQL) it is kept and linked at commit.
  Status append_event(const Event& e);
  // Shared mode: reads the head as now committed (not locked) and keeps
  // whether this writer may append, for append_event; the read's failure.
  Status recheck_refusal();

 private:
  static constexpr std::size_t kCacheSize = 50000;

  Status read_chain_head();
  Status check_end();
  void reload_chain_head();
  Status write_chain_head();
  Status link_event(const Event& e);
  Status link_events();
  Status seal_in_transaction(Time now, bool may_seal);
  using PersonRole = std::pair<PersonId, std::string>;
  // The rows of task_people of the task task() read in this job (shared
  // mode: read with it, after its row was locked).
  std::optional<std::pair<TaskNumber, std::vector<PersonRole>>> people_read_;
  // Makes the task's rows of task_people `now` (none stored yet when `is_new`).
  Status write_people(TaskNumber task, const std::vector<PersonRole>& now, bool is_new);
  Status write_comments(const Decision& d);
  // Applies one access change, its event appended when it changed something.
  Status write_change(const AccessChange& ch);
  // Decision::one_open: Code::conflict, naming it, when another task of the
  // same kind is open for the same subject, app and resource.
  Status check_one_open(const Task& t);

  std::unique_ptr<Connection> conn_;
  std::string key_;  // the audit key; empty: none
  WriteMode mode_;
  codec::ChainHead head_;
  std::int64_t saved_seq_ = 0;  // head_.last_seq as last read or written
  Status append_refusal_;
  bool head_stale_ = false;   // reload_chain_head failed: retry before appending
  std::int64_t job_seq_ = 0;  // where the chain ended when the current job began
  std::string job_hash_;
  // Shared mode: the batch's events, linked at commit. An access change's
  // event has its place when the change is sent, and is dropped when the
  // change's answer says it changed nothing (write_change).
  struct Unlinked {
    Event event;
    bool dropped = false;
  };
  std::vector<Unlinked> events_;
  std::size_t run_events_ = 0;  // events_.size() when the current run began
  // Shared mode: the tasks read_ahead locked and read, each handed out once
  // (task()): a later read of the same task in the batch sees its writes.
  std::unordered_map<TaskNumber, LockedTask> read_ahead_;
  Status batch_broken_;          // a job's writes could not be undone: no commit
  std::size_t job_events_ = 0;  // events_.size() when the current job began
  std::unordered_map<TaskNumber, Task> cache_;
  std::vector<TaskNumber> touched_;  // tasks the current job wrote
  std::uint64_t remembered_ = 0;
  bool refused_unwritten_ = false;  // set by refuse_unwritten, until the next job begins
};

// Forgets delivery keys (Writer::remember) older than Slack's retry window.
Status prune_seen(Connection& c, Time now);

// The write queue and the writer thread.
class GroupCommit {
 public:
  using Apply = std::function<Status(Writer&)>;

  // `max_batch` >= 1: writes committed together at most; `max_queue`: writes
  // waiting at most (beyond, refused with Code::unavailable).
  GroupCommit(Writer& writer, int max_batch, int max_queue);
  // Stops the thread once everything queued is written.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  void start();
  // Queues a write. `complete` runs on the writer thread once it is committed
  // (or failed); at once with Code::unavailable when the store is closing or
  // the queue is full (unless not `capped`: barriers that write nothing).
  // `applied`, when set, runs on the writer thread with the write's own
  // outcome as soon as it has run, before the commit (Store::remember_then).
  // `task`, when set, is the task the write decides on (Store::update): the
  // batch reads it ahead (Writer::read_ahead), and the write is a decision,
  // which may run more than once (Store::Decide is pure) and leaves nothing
  // but its statements.
  void submit(Apply apply, Store::Done complete, bool capped = true, Store::Done applied = {},
              std::optional<TaskNumber> task = std::nullopt);
  StoreStats stats() const;

 private:
  struct Job {
    Apply apply;
    Store::Done complete;
    Store::Done applied;
    std::optional<TaskNumber> task;
  };

  void run();
  void commit_batch(std::vector<Job>& batch, std::vector<Status>& results);
  Status run_job(Job& job);
  bool run_together(std::vector<Job>& batch, std::size_t from, std::size_t to,
                    std::vector<Status>& results);

  Writer& writer_;
  const std::size_t max_batch_;
  const std::size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::int64_t> commits_{0}, writes_{0}, failed_writes_{0}, commit_micros_{0},
      redone_writes_{0};
};

}  // namespace tollgate::detail
