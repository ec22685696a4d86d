// How storage writes workflow values as text: tasks as JSON documents, event
// and effect data as JSON arrays of [key, value] pairs, and the event hash
// chain. Private to storage/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

}  // namespace tollgate::codec
