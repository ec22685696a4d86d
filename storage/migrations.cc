#include "storage/migrations.h"

#include <string>

namespace tollgate {
namespace {

// What the two backends share is written once, in SQL where the types that
// differ are named by their role:
//   {int64}   a 64-bit integer: SQLite's INTEGER (already 64 bits; and
//             INTEGER PRIMARY KEY, exactly, is an alias of the rowid),
//             PostgreSQL's BIGINT;
//   {serial}  a key the database numbers: SQLite's INTEGER (a rowid alias),
//             PostgreSQL's BIGSERIAL.
struct Types {
  std::string_view int64;
  std::string_view serial;
};
constexpr Types kSqliteTypes{"INTEGER", "INTEGER"};
constexpr Types kPostgresTypes{"BIGINT", "BIGSERIAL"};

std::string typed(std::string_view sql, const Types& types) {
  std::string out(sql);
  auto replace = [&out](std::string_view token, std::string_view by) {
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at + by.size()))
      out.replace(at, token.size(), by);
  };
  replace("{int64}", types.int64);
  replace("{serial}", types.serial);
  return out;
}

// 1: the first schema. The events' append-only triggers are each backend's own.
constexpr std::string_view kFirstSchema = R"sql(
CREATE TABLE task_numbers (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  next {int64} NOT NULL
);
INSERT INTO task_numbers (id, next) VALUES (1, 1);

-- The projection of each task's events; `version` is the compare-and-swap key.
CREATE TABLE tasks (
  number     {int64} PRIMARY KEY,
  version    {int64} NOT NULL,
  kind       TEXT NOT NULL,
  state      TEXT NOT NULL,
  open       INTEGER NOT NULL,
  requester  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  app        TEXT NOT NULL,
  resource   TEXT NOT NULL,
  created_at {int64} NOT NULL,
  updated_at {int64} NOT NULL,
  body       TEXT NOT NULL
);
CREATE INDEX tasks_open ON tasks (open, number);

-- Who a task concerns: requester, subject, current assignees, past reviewers.
CREATE TABLE task_people (
  task   {int64} NOT NULL,
  person TEXT NOT NULL,
  role   TEXT NOT NULL,
  PRIMARY KEY (person, role, task)
);
CREATE INDEX task_people_task ON task_people (task);

-- The record. Append-only and hash-chained: hash = sha256(prev_hash, content).
CREATE TABLE events (
  seq       {int64} PRIMARY KEY,
  task      {int64} NOT NULL,
  type      TEXT NOT NULL,
  actor     TEXT NOT NULL,
  at        {int64} NOT NULL,
  data      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX events_task ON events (task, seq);

CREATE TABLE comments (
  task          {int64} NOT NULL,
  id            {int64} NOT NULL,
  author        TEXT NOT NULL,
  text          TEXT NOT NULL,
  at            {int64} NOT NULL,
  source        TEXT NOT NULL,
  slack_channel TEXT NOT NULL DEFAULT '',
  slack_ts      TEXT NOT NULL DEFAULT '',
  edited_at     {int64},
  deleted       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (task, id)
);

-- Every message the bot posted about a task, so that all copies can be updated.
CREATE TABLE slack_messages (
  channel   TEXT NOT NULL,
  ts        TEXT NOT NULL,
  task      {int64} NOT NULL,
  team      TEXT NOT NULL,
  person    TEXT NOT NULL,
  purpose   TEXT NOT NULL,
  step      INTEGER NOT NULL,
  posted_at {int64} NOT NULL,
  PRIMARY KEY (channel, ts)
);
CREATE INDEX slack_messages_task ON slack_messages (task);

-- Effects waiting for delivery; written in the same transaction as their command.
CREATE TABLE outbox (
  id              {serial} PRIMARY KEY,
  task            {int64} NOT NULL,
  kind            TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  data            TEXT NOT NULL,
  created_at      {int64} NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at {int64} NOT NULL,
  claimed_until   {int64} NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (state, task, id);

-- Dedupe keys of deliveries already processed (Slack event_id, action ids).
CREATE TABLE seen_deliveries (
  key     TEXT PRIMARY KEY,
  seen_at {int64} NOT NULL
);

CREATE TABLE identity_cache (
  slack_user_id TEXT PRIMARY KEY,
  person        TEXT NOT NULL,
  email         TEXT NOT NULL,
  fetched_at    {int64} NOT NULL
);
)sql";

constexpr std::string_view kSqliteFirstSchema = R"sql(
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql";

constexpr std::string_view kPostgresFirstSchema = R"sql(
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- The head of the hash chain. Every write transaction locks this row first,
-- so that instances append to one chain in turn (and never deadlock).
CREATE TABLE chain_head (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq  BIGINT NOT NULL,
  last_hash TEXT NOT NULL
);
INSERT INTO chain_head (id, last_seq, last_hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
)sql";

// 2: service levels, delegation, permalinks, time zones.
constexpr std::string_view kDelegations = R"sql(
ALTER TABLE slack_messages ADD COLUMN permalink TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_cache ADD COLUMN tz TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_cache ADD COLUMN tz_offset INTEGER;

-- Out of office: who takes a person's new review steps, until when (exclusive).
CREATE TABLE delegations (
  person   TEXT PRIMARY KEY,
  delegate TEXT NOT NULL,
  until    {int64} NOT NULL,
  set_by   TEXT NOT NULL,
  set_at   {int64} NOT NULL
);
)sql";

// 3: the outbox records the Slack calls of an item that succeeded, and the
// claim it is held under; identities learnt before the strict checks (team,
// deletion, guests) are forgotten, to be learnt again.
constexpr std::string_view kOutboxCalls = R"sql(
ALTER TABLE outbox ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN done_calls TEXT NOT NULL DEFAULT '';
DELETE FROM identity_cache;
)sql";

// 4 (SQLite): the audit log's head, a record outside the events of where the
// log ends (so removing events from the end, or all of them, shows), and of
// the event from which it is sealed: HMACs under the audit key, the row itself
// authenticated by `mac` (codec::ChainHead). Filled from the events as they
// are; the first store opened with the key seals it.
constexpr std::string_view kSqliteAuditSeal = R"sql(
CREATE TABLE chain_head (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq    INTEGER NOT NULL,
  last_hash   TEXT NOT NULL,
  sealed_from INTEGER NOT NULL DEFAULT 0,
  sealed_at   INTEGER NOT NULL DEFAULT 0,
  key_id      TEXT NOT NULL DEFAULT '',
  mac         TEXT NOT NULL DEFAULT ''
);
INSERT INTO chain_head (id, last_seq, last_hash)
  SELECT 1, COALESCE(MAX(seq), 0),
         COALESCE((SELECT hash FROM events ORDER BY seq DESC LIMIT 1),
                  '0000000000000000000000000000000000000000000000000000000000000000')
  FROM events;
CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
  BEGIN SELECT RAISE(ABORT, 'the audit head is kept'); END;
)sql";

// 4 (PostgreSQL): the audit log's seal (as SQLite's 4; chain_head already
// holds the end of the log), and TRUNCATE, which skips row triggers, refused
// on the events and the head; the head row cannot be deleted either.
constexpr std::string_view kPostgresAuditSeal = R"sql(
ALTER TABLE chain_head
  ADD COLUMN sealed_from BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN sealed_at   BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN key_id      TEXT NOT NULL DEFAULT '',
  ADD COLUMN mac         TEXT NOT NULL DEFAULT '';
CREATE FUNCTION audit_log_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME; END $$;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_kept();
CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_kept();
CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_log_kept();
)sql";

// 5: the access ledger, one row per access held (task.h, Holding), and an
// index that finds a subject's open tasks for one resource (one open request
// each).
constexpr std::string_view kAccessLedger = R"sql(
CREATE TABLE access (
  person      TEXT NOT NULL,
  app         TEXT NOT NULL,
  resource    TEXT NOT NULL,
  since       {int64} NOT NULL,
  expires_at  {int64},
  task        {int64} NOT NULL DEFAULT 0,
  how         TEXT NOT NULL,
  last_used   {int64},
  warned_at   {int64},
  ending_task {int64} NOT NULL DEFAULT 0,
  PRIMARY KEY (person, app, resource)
);
CREATE INDEX access_app ON access (app, resource);
-- The configuration's grants seeded once: one revoked or ended through
-- Tollgate is not brought back by the next start.
CREATE TABLE seeded_grants (
  person   TEXT NOT NULL,
  app      TEXT NOT NULL,
  resource TEXT NOT NULL,
  PRIMARY KEY (person, app, resource)
);
CREATE INDEX access_expires ON access (expires_at);
CREATE INDEX tasks_open_subject ON tasks (subject, app, resource, open);
)sql";

// 6: which connector made the change of access held ("SCIM (Okta)"): the
// ledger says what did the work, the access_grant event what it answered.
constexpr std::string_view kAccessVia = R"sql(
ALTER TABLE access ADD COLUMN via TEXT NOT NULL DEFAULT '';
)sql";

// 7: a person's tasks in task order, each role beside it: the tasks involving
// someone, newest first, are read from here and stop at the page's end
// (SqlStore::tasks) instead of looking each of the person's tasks up.
constexpr std::string_view kPeopleByTask = R"sql(
CREATE INDEX task_people_person ON task_people (person, task, role);
)sql";

// One backend's migrations: the shared steps in its types, with its own parts.
std::vector<std::string> migrations_for(const Types& types, std::string_view first_schema_tail,
                                        std::string_view audit_seal) {
  return {typed(kFirstSchema, types) + std::string(first_schema_tail), typed(kDelegations, types),
          std::string(kOutboxCalls), std::string(audit_seal), typed(kAccessLedger, types),
          std::string(kAccessVia), std::string(kPeopleByTask)};
}

}  // namespace

const std::vector<std::string_view>& sqlite_migrations() {
  static const std::vector<std::string> kTexts =
      migrations_for(kSqliteTypes, kSqliteFirstSchema, kSqliteAuditSeal);
  static const std::vector<std::string_view> kMigrations(kTexts.begin(), kTexts.end());
  return kMigrations;
}

const std::vector<std::string_view>& postgres_migrations() {
  static const std::vector<std::string> kTexts =
      migrations_for(kPostgresTypes, kPostgresFirstSchema, kPostgresAuditSeal);
  static const std::vector<std::string_view> kMigrations(kTexts.begin(), kTexts.end());
  return kMigrations;
}

int current_schema_version() {
  return static_cast<int>(sqlite_migrations().size());
}

}  // namespace tollgate
