// How storage writes workflow values as text: tasks as JSON documents, event
// and effect data as JSON arrays of [key, value] pairs, and the event hash
// chain. Private to storage/.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/store.h"
#include "base/status.h"
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
// hex(SHA-256(prev_hash "\n" seq "\n" task "\n" type "\n" actor "\n" at_ms "\n" data_json)),
// or hex(HMAC-SHA-256(key, the same text)) when `key` is not empty (events of a sealed log).
std::string event_hash(const std::string& prev_hash, std::int64_t seq, TaskNumber task,
                       std::string_view type, std::string_view actor, std::int64_t at_ms,
                       std::string_view data_json, std::string_view key = {});

// The chain_head row: where the log ends, kept outside the events so that
// removing events from the end (or all of them) shows. Once sealed, events
// from `sealed_from` on are HMACs under the audit key and `mac` authenticates
// the whole row under the same key; someone who can write the database but
// does not hold the key can neither rewrite those events nor move the head.
struct ChainHead {
  std::int64_t last_seq = 0;
  std::string last_hash = genesis_hash();
  std::int64_t sealed_from = 0;  // first keyed event; 0: not sealed
  std::int64_t sealed_at_ms = 0;
  std::string key_id;  // key_id() of the key that sealed it
  std::string mac;     // head_mac(); empty while not sealed

  bool sealed() const { return sealed_from > 0; }
};

// The columns every read of chain_head selects, in ChainHead's order.
inline constexpr const char* kChainHeadColumns =
    "last_seq, last_hash, sealed_from, sealed_at, key_id, mac";

// An audit key is 32 to 64 bytes (HMAC-SHA-256 hashes longer keys down).
inline constexpr std::size_t kMinAuditKeyBytes = 32;
inline constexpr std::size_t kMaxAuditKeyBytes = 64;
Status check_audit_key(std::string_view key);
// A public name of a key (16 hex digits of an HMAC under it): says which key
// sealed a log without revealing anything of the key.
std::string key_id(std::string_view key);
// hex(HMAC-SHA-256(key, every field of `head` but mac)).
std::string head_mac(std::string_view key, const ChainHead& head);
// Seals `head` under `key` at `now_ms`: the next event is the first keyed one.
void seal_head(ChainHead& head, std::string_view key, std::int64_t now_ms);
// Moves a head to the event (seq, hash) just appended; its MAC is renewed
// once, when the head is written (renew_head_mac), not per event.
void advance_head(ChainHead& head, std::int64_t seq, std::string hash);
void renew_head_mac(ChainHead& head, std::string_view key);
// Ok when `head` is sealed under `key` and was not changed since Tollgate
// wrote it; Code::permission_denied with the reason otherwise (another key,
// a forged or edited row, not sealed).
Status check_head(const ChainHead& head, std::string_view key);
// Whether a writer holding `key` (empty: none) may append to a log with this
// head; the reason when not: Code::permission_denied for the key (none,
// another, or a head it does not authenticate), internal when the row is
// missing (`head` null). An append refused so fails with Code::internal
// (append_refusal), since no actor can do anything about it.
Status may_append(const ChainHead* head, std::string_view key);
// Why a keyed serve or migrate refuses a log that is not sealed at schema
// kAuditSealVersion (only the open that created the head seals on its own):
// Code::permission_denied, naming `tollgate audit seal`.
Status unsealed_refusal(const ChainHead& head);
// The Status an append gets when may_append refused: Code::internal, same message.
inline Status append_refusal(const Status& refusal) {
  return refusal.ok() ? refusal : Status(Code::internal, refusal.message());
}

// The outbox columns every read selects, in this order.
inline constexpr const char* kOutboxColumns =
    "id, task, kind, recipient, data, attempts, created_at, next_attempt_at, last_error, claim, "
    "done_calls";

// A fresh outbox claim: 128 random bits in hex, so that no two claims of an
// item (by any instance) are alike.
inline std::string new_outbox_claim() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int word = 0; word < 2; ++word) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) out += kHex[v & 0xf];
  }
  return out;
}

// The done_calls column holds each key followed by a line break.
inline Status check_outbox_call_key(const std::string& key) {
  if (key.empty() || key.find('\n') != std::string::npos)
    return invalid_argument("an outbox call key is not empty and has no line break");
  return {};
}

// What record/finish answer for an item that is no longer held under the
// claim given (finished, or claimed by another worker since): not_found, which
// no failure of the database itself is (a constraint or a serialization
// failure is Code::conflict).
inline Status outbox_claim_lost(std::int64_t id) {
  return not_found("outbox item " + std::to_string(id) + " is no longer held under this claim");
}

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
  it.claim = row.text(9);
  const std::string done = row.text(10);
  for (std::size_t at = 0, nl; (nl = done.find('\n', at)) != std::string::npos; at = nl + 1)
    it.done_calls.push_back(done.substr(at, nl - at));
  return it;
}

// Recomputes the hash chain event by event, in seq order, from the rows as
// stored (data as its stored JSON text), then compares where it ends with the
// head. Both backends feed it.
class ChainChecker {
 public:
  // `head`: the chain_head row (null: missing). `key`: the store's audit key;
  // with one, the head must be sealed under it and every event from
  // sealed_from on must be its HMAC. Without one, those events are checked
  // for their links only (report().authenticated stays false).
  ChainChecker(const ChainHead* head, std::string key);
  // False once the chain is found broken; report() then says where.
  bool next(std::int64_t seq, TaskNumber task, const std::string& type, const std::string& actor,
            std::int64_t at_ms, const std::string& data_json, const std::string& prev_hash,
            const std::string& hash);
  // After the last event: compares the log's end with the head's count and hash.
  const ChainReport& finish();
  const ChainReport& report() const { return report_; }

 private:
  void broken(std::int64_t seq, std::string problem);
  void compare_end();

  ChainReport report_;
  std::optional<ChainHead> head_;
  std::string key_;
  std::string head_problem_;  // the head does not verify under key_ (reported last)
  std::string prev_ = genesis_hash();
  std::int64_t expected_seq_ = 1;
};

// Who a task concerns, as task_people rows (person, role): requester,
// subject, the open step's assignees, and past reviewers.
std::vector<std::pair<PersonId, std::string>> task_people(const Task& t);

}  // namespace tollgate::codec
