#include "storage/detail/tables.h"

#include <algorithm>

namespace tollgate::detail {
namespace {

Comment comment_from_row(const Row& row) {
  Comment c;
  c.id = row.i64(0);
  c.author = row.text(1);
  c.text = row.text(2);
  c.at = from_ms(row.i64(3));
  c.source = row.text(4);
  c.slack_channel = row.text(5);
  c.slack_ts = row.text(6);
  if (!row.is_null(7)) c.edited_at = from_ms(row.i64(7));
  c.deleted = row.i64(8) != 0;
  return c;
}

// comment_from_row's columns.
const std::string kCommentColumns =
    "id, author, text, at, source, slack_channel, slack_ts, edited_at, deleted";
const std::string kCommentsOfTask =
    "SELECT " + kCommentColumns + " FROM comments WHERE task = ? ORDER BY id";

OnRow comments_into(std::vector<Comment>& out) {
  return [&out](const Row& row) {
    out.push_back(comment_from_row(row));
    return Status{};
  };
}

// A task from a row of kTaskColumns, without its comments.
StatusOr<Task> task_body(const Row& row) {
  ASSIGN_OR_RETURN(Task t, codec::decode_task(row.text(2)));
  t.number = row.i64(0);
  t.version = row.i64(1);
  return t;
}

}  // namespace

StatusOr<Task> task_from_row(Connection& c, const Row& row) {
  ASSIGN_OR_RETURN(Task t, task_body(row));
  RETURN_IF_ERROR(query(c, kCommentsOfTask, comments_into(t.comments), t.number));
  return t;
}

// The task, its comments and (when asked) its people in one round trip on
// PostgreSQL: each read is deferred and the answers come with settle(). The
// people are read after the task's row is locked, so that they are the rows
// of the version read.
StatusOr<Task> load_task(Connection& c, TaskNumber n, bool for_update,
                         std::vector<std::pair<PersonId, std::string>>* people) {
  std::optional<Task> found;
  std::vector<Comment> comments;
  RETURN_IF_ERROR(query_later(
      c,
      [&](const Row& row) -> Status {
        ASSIGN_OR_RETURN(found, task_body(row));
        return {};
      },
      std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE number = ?" +
          (for_update ? " FOR UPDATE" : ""),
      n));
  RETURN_IF_ERROR(query_later(c, comments_into(comments), kCommentsOfTask, n));
  if (people != nullptr) {
    people->clear();
    RETURN_IF_ERROR(query_later(
        c,
        [people](const Row& r) {
          people->emplace_back(r.text(0), r.text(1));
          return Status{};
        },
        "SELECT person, role FROM task_people WHERE task = ?", n));
  }
  RETURN_IF_ERROR(c.settle());
  if (!found) return not_found("no task #" + std::to_string(n));
  found->comments = std::move(comments);
  return std::move(*found);
}

StatusOr<std::unordered_map<TaskNumber, LockedTask>> lock_tasks(Connection& c,
                                                                std::vector<TaskNumber> numbers) {
  std::unordered_map<TaskNumber, LockedTask> out;
  if (numbers.empty()) return out;
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  // The list is as long as the next power of two (the last number repeated), so that a
  // connection prepares a few statements (one per length), not one per batch size.
  std::size_t length = 1;
  while (length < numbers.size()) length *= 2;
  std::vector<Value> params(numbers.begin(), numbers.end());
  params.resize(length, Value(numbers.back()));
  std::string in = " IN (?";
  for (std::size_t i = 1; i < length; ++i) in += ", ?";
  in += ")";
  RETURN_IF_ERROR(c.defer_query(
      std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE number" + in +
          " ORDER BY number FOR UPDATE",
      params, [&out](const Row& row) -> Status {
        ASSIGN_OR_RETURN(Task t, task_body(row));
        TaskNumber n = t.number;
        out[n].task = std::move(t);
        return {};
      }));
  // Read after the rows are locked: the comments and people of the versions read.
  RETURN_IF_ERROR(c.defer_query(
      "SELECT " + kCommentColumns + ", task FROM comments WHERE task" + in + " ORDER BY task, id",
      params, [&out](const Row& row) {
        if (auto it = out.find(row.i64(9)); it != out.end())  // task, after the comment's
          it->second.task.comments.push_back(comment_from_row(row));
        return Status{};
      }));
  RETURN_IF_ERROR(c.defer_query(
      "SELECT task, person, role FROM task_people WHERE task" + in, params, [&out](const Row& r) {
        if (auto it = out.find(r.i64(0)); it != out.end())
          it->second.people.emplace_back(r.text(1), r.text(2));
        return Status{};
      }));
  RETURN_IF_ERROR(c.settle());
  return out;
}

OnRow outbox_items_into(std::vector<OutboxItem>& out) {
  return [&out](const Row& r) -> Status {
    ASSIGN_OR_RETURN(OutboxItem item, codec::outbox_item(r));
    out.push_back(std::move(item));
    return {};
  };
}

StatusOr<std::optional<codec::ChainHead>> read_chain_head(Connection& c, bool for_update) {
  std::optional<codec::ChainHead> head;
  RETURN_IF_ERROR(query(c,
                        std::string("SELECT ") + codec::kChainHeadColumns +
                            " FROM chain_head WHERE id = 1" + (for_update ? " FOR UPDATE" : ""),
                        [&](const Row& r) {
                          head = codec::ChainHead{r.i64(0), r.text(1), r.i64(2),
                                                  r.i64(3), r.text(4), r.text(5)};
                          return Status{};
                        }));
  return head;
}

}  // namespace tollgate::detail
