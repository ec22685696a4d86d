#include "storage/detail/writer.h"

#include "storage/detail/access.h"

#include <algorithm>
#include <chrono>

#include "storage/detail/tables.h"

namespace tollgate::detail {
namespace {

// Delivery keys are needed only while Slack may still retry (minutes); a week
// is ample, and keeps the table from growing without bound.
constexpr auto kSeenFor = std::chrono::hours(24 * 7);

}  // namespace

Status prune_seen(Connection& c, Time now) {
  return status_of(run(c, "DELETE FROM seen_deliveries WHERE seen_at < ?",
                       ms(now - std::chrono::duration_cast<Duration>(kSeenFor))));
}

Writer::Writer(std::unique_ptr<Connection> conn, std::string audit_key, WriteMode mode)
    : conn_(std::move(conn)), key_(std::move(audit_key)), mode_(std::move(mode)) {}

// --- The chain head.

// Reads the head (locked when the database is shared) and whether this writer
// may append to it.
Status Writer::read_chain_head() {
  ASSIGN_OR_RETURN(auto head, detail::read_chain_head(*conn_, mode_.shared));
  if (!head && mode_.shared) return internal_error("the audit head (table chain_head) is missing");
  head_ = head.value_or(codec::ChainHead{});
  saved_seq_ = head_.last_seq;
  append_refusal_ = codec::may_append(head ? &head_ : nullptr, key_);
  return {};
}

// Whether the last event is the one the head names.
Status Writer::check_end() {
  std::int64_t seq = 0;
  std::string hash = codec::genesis_hash();
  RETURN_IF_ERROR(
      query(*conn_, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", [&](const Row& r) {
        seq = r.i64(0);
        hash = r.text(1);
        return Status{};
      }));
  if (seq == head_.last_seq && hash == head_.last_hash) return {};
  return internal_error("the audit log does not end where its head says (last event " +
                        std::to_string(seq) + ", head " + std::to_string(head_.last_seq) +
                        "); run `tollgate audit verify`");
}

Status Writer::load_chain_head() {
  RETURN_IF_ERROR(read_chain_head());
  if (append_refusal_.ok()) append_refusal_ = check_end();
  return {};
}

// After a failed commit: the head as committed. Until it can be read again,
// appends are refused (the head in memory may name rolled-back events); the
// next batch retries.
void Writer::reload_chain_head() {
  if (Status s = load_chain_head(); !s.ok()) {
    append_refusal_ =
        unavailable("the audit head could not be read again after a failed commit: " + s.message());
    head_stale_ = true;
    return;
  }
  head_stale_ = false;
}

Status Writer::write_chain_head() {
  codec::renew_head_mac(head_, key_);
  ASSIGN_OR_RETURN(std::int64_t changed,
                   run(*conn_,
                       "UPDATE chain_head SET last_seq = ?, last_hash = ?, sealed_from = ?, "
                       "sealed_at = ?, key_id = ?, mac = ? WHERE id = 1",
                       head_.last_seq, head_.last_hash, head_.sealed_from, head_.sealed_at_ms,
                       head_.key_id, head_.mac));
  if (changed != 1) return internal_error("the audit head (table chain_head) is missing");
  saved_seq_ = head_.last_seq;
  return {};
}

Status Writer::seal_in_transaction(Time now, bool may_seal) {
  RETURN_IF_ERROR(read_chain_head());
  if (!head_.sealed()) {
    if (!may_seal) return codec::unsealed_refusal(head_);
    codec::seal_head(head_, key_, ms(now));
    RETURN_IF_ERROR(write_chain_head());
    append_refusal_ = codec::may_append(&head_, key_);
  }
  RETURN_IF_ERROR(append_refusal_);
  return check_end();
}

Status Writer::seal(Time now, bool may_seal) {
  RETURN_IF_ERROR(conn_->script(mode_.begin));
  Status s = seal_in_transaction(now, may_seal);
  if (s.ok()) s = conn_->script("COMMIT");
  if (!s.ok()) (void)conn_->script("ROLLBACK");
  RETURN_IF_ERROR(s);
  // A single writer keeps the head as committed; a shared one locks it anew
  // in every transaction.
  return mode_.shared ? Status{} : load_chain_head();
}

// --- The batch transaction.

Status Writer::begin() {
  batch_broken_ = {};
  RETURN_IF_ERROR(conn_->ready());
  Status s = conn_->script(mode_.begin);
  if (!mode_.shared) {
    if (s.ok() && head_stale_) reload_chain_head();
    return s;
  }
  // The chain's head is not locked yet: the batch's events are linked into
  // it at commit (link_events), so that instances take turns for that only.
  events_.clear();
  return s.ok() || s.code() == Code::unavailable ? s : unavailable(s.message());
}

Status Writer::read_ahead(std::vector<TaskNumber> numbers) {
  read_ahead_.clear();
  if (!mode_.shared || numbers.empty()) return {};
  // In a savepoint of its own: should a task not be read (a body this version cannot decode, a
  // lock not granted), the batch goes on without reading ahead, and the write on that task fails
  // alone when it reads it. Only a failure to undo the read fails the batch.
  RETURN_IF_ERROR(later(*conn_, nullptr, "SAVEPOINT ahead"));
  StatusOr<std::unordered_map<TaskNumber, LockedTask>> read =
      lock_tasks(*conn_, std::move(numbers));
  if (read.ok()) {
    read_ahead_ = std::move(*read);
  } else {
    RETURN_IF_ERROR(conn_->script("ROLLBACK TO SAVEPOINT ahead"));
  }
  return later(*conn_, nullptr, "RELEASE SAVEPOINT ahead");
}

Status Writer::begin_job(bool own_savepoint) {
  job_seq_ = head_.last_seq;
  job_hash_ = head_.last_hash;
  job_events_ = events_.size();
  touched_.clear();
  people_read_.reset();
  refused_unwritten_ = false;
  return own_savepoint ? later(*conn_, nullptr, "SAVEPOINT job") : Status{};
}

Status Writer::begin_run() {
  run_events_ = events_.size();
  return later(*conn_, nullptr, "SAVEPOINT run");
}

void Writer::abort_run() {
  (void)conn_->settle();  // what is still pending, so that the rollback runs
  if (Status s = conn_->script("ROLLBACK TO SAVEPOINT run"); !s.ok() && batch_broken_.ok()) {
    batch_broken_ = unavailable("a failed run of writes could not be undone: " + s.message());
  }
  (void)later(*conn_, nullptr, "RELEASE SAVEPOINT run");  // so that the next run's is the only one
  events_.resize(run_events_);
  // Tasks the run read are read again, under the lock the batch holds.
  read_ahead_.clear();
  people_read_.reset();
}

void Writer::end_run() {
  (void)later(*conn_, nullptr, "RELEASE SAVEPOINT run");
}

Status Writer::settle() {
  return conn_->settle();
}

void Writer::abort_job() {
  // Should the job's writes not be undone, none of the batch may commit.
  if (Status s = conn_->script("ROLLBACK TO SAVEPOINT job"); !s.ok() && batch_broken_.ok()) {
    batch_broken_ = unavailable("a failed write could not be undone: " + s.message());
  }
  codec::advance_head(head_, job_seq_, std::move(job_hash_));
  events_.resize(job_events_);
  for (TaskNumber n : touched_) cache_.erase(n);
  touched_.clear();
}

void Writer::end_job() {
  // A failure here fails what comes next in the batch, or its commit.
  (void)later(*conn_, nullptr, "RELEASE SAVEPOINT job");
}

Status Writer::commit() {
  RETURN_IF_ERROR(batch_broken_);
  if (mode_.shared) {
    // The head is written only under the lock link_events took in this
    // transaction: one kept in memory may be stale (another instance's, or a
    // failed commit's).
    auto kept = [](const Unlinked& u) { return !u.dropped; };
    if (std::any_of(events_.begin(), events_.end(), kept)) {
      RETURN_IF_ERROR(link_events());
      RETURN_IF_ERROR(write_chain_head());
    }
    return conn_->script("COMMIT");
  }
  if (head_.last_seq != saved_seq_) RETURN_IF_ERROR(write_chain_head());
  return conn_->script("COMMIT");
}

// Shared mode, at commit: locks the head as the other instances last
// committed it and links the batch's events into the chain after it, in the
// order they were appended. The head is the last lock a transaction takes, so
// two instances cannot wait for each other; a refusal to append (a log this
// writer may not extend) fails the batch.
Status Writer::link_events() {
  RETURN_IF_ERROR(read_chain_head());
  for (const Unlinked& u : events_) {
    if (!u.dropped) RETURN_IF_ERROR(link_event(u.event));
  }
  events_.clear();
  return {};
}

void Writer::abort() {
  (void)conn_->script("ROLLBACK");
  events_.clear();
  // A connection that lost its place in a pipeline sent nothing since, not
  // even this ROLLBACK: reconnecting now ends the transaction on the server
  // and releases its locks, which other instances may be waiting for.
  (void)conn_->ready();
  if (mode_.shared) return;  // the next transaction links its events to the head as committed
  reload_chain_head();
  cache_.clear();
}

// --- Writes.

namespace {
Status already_processed(const std::string& key) {
  return {Code::duplicate, "already processed: " + key};
}
}  // namespace

Status Writer::remember(const std::string& key, Time now) {
  auto added = [key](std::int64_t n) -> Status {
    if (n == 0) return already_processed(key);
    return {};
  };
  RETURN_IF_ERROR(later(*conn_, added,
                        "INSERT INTO seen_deliveries (key, seen_at) VALUES (?, ?) "
                        "ON CONFLICT (key) DO NOTHING",
                        key, ms(now)));
  if (++remembered_ % 10000 == 0) RETURN_IF_ERROR(prune_seen(*conn_, now));
  return {};
}

Status Writer::unseen(const std::string& key) {
  // What earlier writes of a run sent is answered first, so that a failure of theirs (a
  // duplicate of their own key, say) cannot pass for this key's answer.
  if (Status earlier = conn_->settle(); !earlier.ok()) {
    return unavailable("an earlier write of the batch failed: " + earlier.message());
  }
  bool seen = false;
  RETURN_IF_ERROR(query(
      *conn_, "SELECT 1 FROM seen_deliveries WHERE key = ?",
      [&seen](const Row&) {
        seen = true;
        return Status{};
      },
      key));
  return seen ? already_processed(key) : Status{};
}

Status Writer::forget(const std::string& key) {
  return status_of(run(*conn_, "DELETE FROM seen_deliveries WHERE key = ?", key));
}

StatusOr<TaskNumber> Writer::next_number() {
  std::optional<TaskNumber> n;
  RETURN_IF_ERROR(query(*conn_,
                        "UPDATE task_numbers SET next = next + 1 WHERE id = 1 RETURNING next - 1",
                        [&](const Row& r) {
                          n = r.i64(0);
                          return Status{};
                        }));
  if (!n) return internal_error("task number sequence missing");
  return *n;
}

StatusOr<Task> Writer::task(TaskNumber n) {
  if (auto it = cache_.find(n); it != cache_.end()) return it->second;
  if (!mode_.shared) return load_task(*conn_, n, /*for_update=*/false);
  if (auto it = read_ahead_.find(n); it != read_ahead_.end()) {
    people_read_.emplace(n, std::move(it->second.people));
    Task t = std::move(it->second.task);
    read_ahead_.erase(it);
    return t;
  }
  // Locked, and its people read in the same round trip for write_people.
  people_read_.emplace(n, std::vector<PersonRole>{});
  return load_task(*conn_, n, /*for_update=*/true, &people_read_->second);
}

Status Writer::write(const Decision& d, const Task* before) {
  const Task& t = d.task;
  std::int64_t expected_version = before != nullptr ? before->version : 0;
  touched_.push_back(t.number);
  if (t.version <= expected_version) return internal_error("a decision must bump the version");
  std::string body = codec::encode_task(t);
  if (expected_version == 0 && d.one_open) RETURN_IF_ERROR(check_one_open(t));
  if (expected_version == 0) {
    RETURN_IF_ERROR(later(
        *conn_, nullptr,
        "INSERT INTO tasks (number, version, kind, state, open, requester, subject, "
        "app, resource, created_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        t.number, t.version, kind_name(t.kind), state_name(t.state), t.closed() ? 0 : 1,
        t.requester, t.subject, t.app, t.resource, ms(t.created_at), ms(t.updated_at), body));
  } else {
    auto swapped = [this, n = t.number](std::int64_t changed) -> Status {
      if (changed != 0) return {};
      cache_.erase(n);
      return {Code::version_conflict, "task #" + std::to_string(n) + " changed meanwhile"};
    };
    RETURN_IF_ERROR(later(*conn_, swapped,
                          "UPDATE tasks SET version = ?, state = ?, open = ?, updated_at = ?, "
                          "body = ? WHERE number = ? AND version = ?",
                          t.version, state_name(t.state), t.closed() ? 0 : 1, ms(t.updated_at),
                          body, t.number, expected_version));
  }
  auto people = codec::task_people(t);
  if (before == nullptr || people != codec::task_people(*before))
    RETURN_IF_ERROR(write_people(t.number, people, before == nullptr));
  RETURN_IF_ERROR(write_comments(d));
  for (const Event& e : d.events) RETURN_IF_ERROR(append_event(e));
  RETURN_IF_ERROR(write_access(d.access, d.effects, t.updated_at));
  if (!mode_.shared) {
    if (cache_.size() >= kCacheSize) cache_.clear();
    cache_[t.number] = t;
  }
  return {};
}

// Two instances cannot both pass this check for one access: a new task took
// its number first (next_number), which locks task_numbers' one row until
// the commit, so the other instance's check waits for that commit and sees it.
Status Writer::check_one_open(const Task& t) {
  std::optional<TaskNumber> other;
  RETURN_IF_ERROR(query(*conn_,
                        "SELECT number FROM tasks WHERE subject = ? AND app = ? AND resource = ? "
                        "AND open = 1 AND kind = ? AND number <> ? LIMIT 1",
                        [&](const Row& r) {
                          other = r.i64(0);
                          return Status{};
                        },
                        t.subject, t.app, t.resource, kind_name(t.kind), t.number));
  if (!other) return {};
  return {Code::conflict, "#" + std::to_string(*other) + " is already open for this access"};
}

Status Writer::write_access(const std::vector<AccessChange>& changes,
                            const std::vector<Effect>& effects, Time at) {
  for (const AccessChange& ch : changes) RETURN_IF_ERROR(write_change(ch));
  for (const Effect& e : effects) {
    RETURN_IF_ERROR(later(*conn_, nullptr,
                          "INSERT INTO outbox (task, kind, recipient, data, created_at, "
                        "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                        e.task, effect_kind_name(e.kind), e.recipient, codec::encode_pairs(e.data),
                        ms(at), ms(at)));
  }
  return {};
}

Status Writer::write_change(const AccessChange& ch) {
  if (!mode_.shared) {  // linked into the chain at once
    return apply_access(*conn_, ch, /*deferred=*/false, [this](std::optional<Event> e) {
      return e ? append_event(*e) : Status{};
    });
  }
  // Its event takes its place among the batch's now, dropped unless the
  // change's answer (which may come at the settle) says it changed a row.
  // Whether this writer may append is known before: the answer's callback
  // may not read.
  if (!append_refusal_.ok()) RETURN_IF_ERROR(recheck_refusal());
  std::size_t at = events_.size();
  events_.push_back({Event{}, /*dropped=*/true});
  return apply_access(*conn_, ch, /*deferred=*/true, [this, at](std::optional<Event> e) -> Status {
    if (!e) return {};
    RETURN_IF_ERROR(codec::append_refusal(append_refusal_));
    events_[at] = {std::move(*e), /*dropped=*/false};
    return {};
  });
}

// Only the rows that changed: a decision usually moves one person from
// assignee to reviewer, and each row written dirties pages of the table and
// its three indexes (primary key, by task, by person and task).
// Compared with the rows as stored, not as derived from the task before, so
// that, whenever who a task concerns changes, rows written by another version
// of this code are put right too.
Status Writer::write_people(TaskNumber task, const std::vector<PersonRole>& now, bool is_new) {
  std::vector<PersonRole> stored;
  if (!is_new && people_read_ && people_read_->first == task) {
    stored = std::move(people_read_->second);
    people_read_.reset();
  } else if (!is_new) {
    RETURN_IF_ERROR(query(*conn_, "SELECT person, role FROM task_people WHERE task = ?",
                          [&](const Row& r) {
                            stored.emplace_back(r.text(0), r.text(1));
                            return Status{};
                          },
                          task));
  }
  auto in = [](const std::vector<PersonRole>& rows, const PersonRole& r) {
    return std::find(rows.begin(), rows.end(), r) != rows.end();
  };
  for (const auto& row : stored) {
    if (in(now, row)) continue;
    RETURN_IF_ERROR(later(*conn_, nullptr,
                          "DELETE FROM task_people WHERE task = ? AND person = ? AND role = ?",
                          task, row.first, row.second));
  }
  for (const auto& row : now) {
    if (in(stored, row)) continue;
    RETURN_IF_ERROR(later(*conn_, nullptr,
                          "INSERT INTO task_people (task, person, role) VALUES (?, ?, ?)", task,
                          row.first, row.second));
  }
  return {};
}

Status Writer::write_comments(const Decision& d) {
  const Task& t = d.task;
  for (const Comment& c : d.new_comments) {
    RETURN_IF_ERROR(later(*conn_, nullptr,
                          "INSERT INTO comments (task, id, author, text, at, source, slack_channel, "
                        "slack_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        t.number, c.id, c.author, c.text, ms(c.at), c.source, c.slack_channel,
                        c.slack_ts));
  }
  for (const Comment& c : d.changed_comments) {
    RETURN_IF_ERROR(
        later(*conn_, nullptr,
              "UPDATE comments SET text = ?, edited_at = ?, deleted = ? WHERE task = ? AND id = ?",
            c.text, ms(c.edited_at.value_or(t.updated_at)), c.deleted ? 1 : 0, t.number, c.id));
  }
  return {};
}

Status Writer::append_event(const Event& e) {
  if (!mode_.shared) return link_event(e);
  // Linked at commit; refused now when the head last read says this writer
  // may not extend the log (read again first: it may have been sealed since).
  if (!append_refusal_.ok()) {
    RETURN_IF_ERROR(recheck_refusal());
    RETURN_IF_ERROR(codec::append_refusal(append_refusal_));
  }
  events_.push_back({e});
  return {};
}

Status Writer::recheck_refusal() {
  ASSIGN_OR_RETURN(auto head, detail::read_chain_head(*conn_, /*for_update=*/false));
  if (head) append_refusal_ = codec::may_append(&*head, key_);
  return {};
}

Status Writer::link_event(const Event& e) {
  RETURN_IF_ERROR(codec::append_refusal(append_refusal_));
  std::int64_t seq = head_.last_seq + 1;
  std::string data = codec::encode_pairs(e.data);
  std::string hash = codec::event_hash(head_.last_hash, seq, e.task, e.type, e.actor, ms(e.at),
                                       data, head_.sealed() ? key_ : std::string());
  RETURN_IF_ERROR(later(*conn_, nullptr,
                        "INSERT INTO events (seq, task, type, actor, at, data, prev_hash, hash) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      seq, e.task, e.type, e.actor, ms(e.at), data, head_.last_hash, hash));
  codec::advance_head(head_, seq, std::move(hash));
  return {};
}

// --- The group-commit core.

GroupCommit::GroupCommit(Writer& writer, int max_batch, int max_queue)
    : writer_(writer),
      max_batch_(static_cast<std::size_t>(std::max(1, max_batch))),
      max_queue_(static_cast<std::size_t>(std::max(0, max_queue))) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GroupCommit::start() {
  thread_ = std::thread([this] { run(); });
}

void GroupCommit::submit(Apply apply, Store::Done complete, bool capped, Store::Done applied,
                         std::optional<TaskNumber> task) {
  bool closing = false;
  {
    std::lock_guard lock(mu_);
    closing = stopping_;
    if (!closing && (!capped || queue_.size() < max_queue_)) {
      queue_.push_back({std::move(apply), std::move(complete), std::move(applied), task});
      cv_.notify_one();
      return;
    }
  }
  // Refused outside the lock: the completion may call back into the store.
  complete(unavailable(closing ? "the store is closing" : "the store's write queue is full"));
}

StoreStats GroupCommit::stats() const {
  return {commits_.load(), writes_.load(), failed_writes_.load(), commit_micros_.load(),
          redone_writes_.load()};
}

void GroupCommit::run() {
  std::vector<Job> batch;
  std::vector<Status> results;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      std::size_t n = std::min(queue_.size(), max_batch_);
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

// One write inside the batch's transaction: on failure, nothing of it is left.
Status GroupCommit::run_job(Job& job) {
  Status s = writer_.begin_job();
  if (s.ok()) s = job.apply(writer_);
  if (Status settled = writer_.settle(); s.ok()) s = std::move(settled);
  if (!s.ok()) writer_.abort_job();
  writer_.end_job();
  if (job.applied) job.applied(s);
  return s;
}

// Decisions [from, to) as one run (Writer::writes_runs), their outcomes in `results`: whether
// the run was written; if not, nothing of it is left. A decision refused before it wrote
// anything (Writer::refused_unwritten) has its refusal and the run goes on without it.
bool GroupCommit::run_together(std::vector<Job>& batch, std::size_t from, std::size_t to,
                               std::vector<Status>& results) {
  Status s = writer_.begin_run();
  for (std::size_t i = from; i < to && s.ok(); ++i) {
    s = writer_.begin_job(/*own_savepoint=*/false);
    if (s.ok()) s = batch[i].apply(writer_);
    results[i] = s;
    if (!s.ok() && writer_.refused_unwritten()) s = {};
  }
  if (s.ok()) s = writer_.settle();
  if (!s.ok()) {
    writer_.abort_run();
    redone_writes_.fetch_add(static_cast<std::int64_t>(to - from));
    return false;
  }
  writer_.end_run();
  for (std::size_t i = from; i < to; ++i) {
    if (batch[i].applied) batch[i].applied(results[i]);
  }
  return true;
}

void GroupCommit::commit_batch(std::vector<Job>& batch, std::vector<Status>& results) {
  auto fail_all = [&](const Status& s) {
    for (Status& r : results) r = s;
  };
  if (Status s = writer_.begin(); !s.ok()) return fail_all(s);
  std::vector<TaskNumber> named;
  for (const Job& job : batch) {
    if (job.task) named.push_back(*job.task);
  }
  if (Status s = writer_.read_ahead(std::move(named)); !s.ok()) {
    writer_.abort();
    return fail_all(s);
  }
  for (std::size_t i = 0; i < batch.size();) {
    // Decisions that follow one another go as a run; should it fail, each
    // is made again on its own below.
    std::size_t end = i + 1;
    while (writer_.writes_runs() && batch[i].task && end < batch.size() && batch[end].task) ++end;
    if (end - i > 1 && run_together(batch, i, end, results)) {
      i = end;
      continue;
    }
    for (; i < end; ++i) results[i] = run_job(batch[i]);
  }
  auto t0 = std::chrono::steady_clock::now();
  Status c = writer_.commit();
  commit_micros_.fetch_add(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  if (!c.ok()) {
    // Every write is told to try again, refusals too: a refusal may rest on a write of this
    // batch that is now undone (a delivery answered as a duplicate of one that was not
    // committed, a click refused because an undone decision closed the task). Made again,
    // a refusal that stands is given then.
    writer_.abort();
    for (Status& r : results) r = unavailable("commit failed: " + c.message());
    return;
  }
  commits_.fetch_add(1);
}

}  // namespace tollgate::detail
