// How storage writes workflow values as text: tasks as JSON documents, event
// and effect data as JSON arrays of [key, value] pairs, and the event hash
// chain. Private to storage/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/store.h"
#include "workflow/status.h"
#include "workflow/task.h"

namespace tollgate::codec {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The task without its comments (they live in their own table).
std::string encode_task(const Task& task);
StatusOr<Task> decode_task(std::string_view json);

std::string encode_pairs(const Pairs& pairs);
StatusOr<Pairs> decode_pairs(std::string_view json);

// 64 zeros: the link of the first event.
const std::string& genesis_hash();
// hex(SHA-256(prev_hash "\n" seq "\n" task "\n" type "\n" actor "\n" at_ms "\n" data_json)).
std::string event_hash(const std::string& prev_hash, std::int64_t seq, TaskNumber task,
                       std::string_view type, std::string_view actor, std::int64_t at_ms,
                       std::string_view data_json);

// The outbox columns every read selects, in this order.
inline constexpr const char* kOutboxColumns =
    "id, task, kind, recipient, data, attempts, created_at, next_attempt_at, last_error";

// An outbox row of kOutboxColumns, read through the backend's row accessors
// `i64(col)` and `text(col)`.
template <typename Row>
StatusOr<OutboxItem> outbox_item(const Row& row) {
  OutboxItem it;
  it.id = row.i64(0);
  it.effect.task = row.i64(1);
  auto kind = parse_effect_kind(row.text(2));
  if (!kind) return internal_error("outbox item with unknown kind " + row.text(2));
  it.effect.kind = *kind;
  it.effect.recipient = row.text(3);
  auto data = decode_pairs(row.text(4));
  if (!data.ok()) return data.status();
  it.effect.data = std::move(*data);
  it.attempts = static_cast<int>(row.i64(5));
  it.created_at = Time(Duration(row.i64(6)));
  it.next_attempt_at = Time(Duration(row.i64(7)));
  it.last_error = row.text(8);
  return it;
}

// Recomputes the hash chain event by event, in seq order, from the rows as
// stored (data as its stored JSON text). Both backends feed it.
class ChainChecker {
 public:
  // False once the chain is found broken; report() then says where.
  bool next(std::int64_t seq, TaskNumber task, const std::string& type, const std::string& actor,
            std::int64_t at_ms, const std::string& data_json, const std::string& prev_hash,
            const std::string& hash);
  const ChainReport& report() const { return report_; }

 private:
  ChainReport report_;
  std::string prev_ = genesis_hash();
  std::int64_t expected_seq_ = 1;
};

// Who a task concerns, as task_people rows (person, role): requester,
// subject, the open step's assignees, and past reviewers.
std::vector<std::pair<PersonId, std::string>> task_people(const Task& t);

}  // namespace tollgate::codec
