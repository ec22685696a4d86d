// `tollgate audit export`: the event history as JSON lines, oldest first,
// each with its hash and the previous event's hash (so the chain can be
// checked outside Tollgate: the links by anyone, the hashes of a sealed
// log's events, HMACs, by whoever holds the audit key), the actor's Slack
// identity and the person it mapped to, and the permalink of the Slack
// message the event was made from (the button's message, the thread of a
// reply) or, failing that, of the actor's own message about the task, where
// one exists.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"

namespace tollgate {

class Directory;
class Store;
struct SlackMessage;
struct StoredEvent;

// The Slack permalinks of events, read from the messages the bot recorded.
// Reads the store; keeps the messages of the last task asked about.
class EventLinks {
 public:
  explicit EventLinks(Store& store) : store_(store) {}
  ~EventLinks();
  std::string permalink(const StoredEvent& event);

 private:
  Store& store_;
  std::int64_t task_ = -1;
  std::unique_ptr<std::vector<SlackMessage>> messages_;  // of task_
};

// One event as a JSON object: seq, task, type, actor, actor_person,
// actor_name, actor_slack_id, at, data, slack_permalink, prev_hash, hash.
// `directory` may be null; `links` may be null (no permalinks).
std::string event_json(const StoredEvent& event, const Directory* directory, EventLinks* links);

// Writes every event with seq > since. `directory` may be null (no names).
// Returns the number of events written.
StatusOr<std::int64_t> export_audit(Store& store, const Directory* directory, std::int64_t since,
                                    std::ostream& out);

}  // namespace tollgate
