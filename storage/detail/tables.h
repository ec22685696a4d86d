// Reading the store's tables back into workflow values, for the writer and
// the readers of both backends. Private to storage/.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/detail/codec.h"
#include "storage/detail/sql.h"
#include "storage/store.h"

namespace tollgate::detail {

// The columns a task is read by, in the order task_from_row expects.
inline constexpr const char* kTaskColumns = "number, version, body";

// A task from a row of kTaskColumns, with its comments.
StatusOr<Task> task_from_row(Connection& c, const Row& row);
// Task `n` (Code::not_found when there is none); `for_update` locks its row
// until the transaction ends (PostgreSQL). `people`, when set, receives the
// task's rows of task_people (person, role) as stored.
StatusOr<Task> load_task(Connection& c, TaskNumber n, bool for_update,
                         std::vector<std::pair<PersonId, std::string>>* people = nullptr);

// A task as read under lock by lock_tasks, with its rows of task_people.
struct LockedTask {
  Task task;
  std::vector<std::pair<PersonId, std::string>> people;
};
// Tasks `numbers` (in any order, repeats allowed), each with its comments and people, locked until
// the transaction ends in ascending order (so that two writers locking the
// same tasks this way cannot wait for each other), in one round trip on
// PostgreSQL. A number with no task is absent.
StatusOr<std::unordered_map<TaskNumber, LockedTask>> lock_tasks(Connection& c,
                                                                std::vector<TaskNumber> numbers);

// A row callback that appends each row of codec::kOutboxColumns to `out`.
OnRow outbox_items_into(std::vector<OutboxItem>& out);

// The chain_head row; nullopt when it is missing. `for_update`: locked until
// the transaction ends (PostgreSQL).
StatusOr<std::optional<codec::ChainHead>> read_chain_head(Connection& c, bool for_update);

}  // namespace tollgate::detail
