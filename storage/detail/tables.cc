#include "storage/detail/tables.h"

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

// Reads the comments of a task into it.
Status load_comments(Connection& c, Task& t) {
  t.comments.clear();
  return query(
      c,
      "SELECT id, author, text, at, source, slack_channel, slack_ts, edited_at, deleted "
      "FROM comments WHERE task = ? ORDER BY id",
      [&](const Row& row) {
        t.comments.push_back(comment_from_row(row));
        return Status{};
      },
      t.number);
}

}  // namespace

StatusOr<Task> task_from_row(Connection& c, const Row& row) {
  ASSIGN_OR_RETURN(Task t, codec::decode_task(row.text(2)));
  t.number = row.i64(0);
  t.version = row.i64(1);
  RETURN_IF_ERROR(load_comments(c, t));
  return t;
}

StatusOr<Task> load_task(Connection& c, TaskNumber n, bool for_update) {
  std::optional<Task> found;
  RETURN_IF_ERROR(query(
      c,
      std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE number = ?" +
          (for_update ? " FOR UPDATE" : ""),
      [&](const Row& row) -> Status {
        ASSIGN_OR_RETURN(found, task_from_row(c, row));
        return {};
      },
      n));
  if (!found) return not_found("no task #" + std::to_string(n));
  return std::move(*found);
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
