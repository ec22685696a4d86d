// `tollgate audit export`: the event history as JSON lines, oldest first,
// each with its hash and the previous event's hash (so the chain can be
// checked outside Tollgate), and the actor's name and Slack id from the
// directory when known.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "workflow/status.h"

namespace tollgate {

class Directory;
class Store;
struct StoredEvent;

// One event as a JSON object: seq, task, type, actor, actor_name,
// actor_slack_id, at, data, prev_hash, hash. `directory` may be null.
std::string event_json(const StoredEvent& event, const Directory* directory);

// Writes every event with seq > since. `directory` may be null (no names).
// Returns the number of events written.
StatusOr<std::int64_t> export_audit(Store& store, const Directory* directory, std::int64_t since,
                                    std::ostream& out);

}  // namespace tollgate
