#include "storage/migrations.h"

namespace tollgate {

const std::vector<std::string_view>& sqlite_migrations() {
  static const std::vector<std::string_view> kMigrations = {
      // 1: the first schema.
      R"sql(
CREATE TABLE task_numbers (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  next INTEGER NOT NULL
);
INSERT INTO task_numbers (id, next) VALUES (1, 1);

-- The projection of each task's events; `version` is the compare-and-swap key.
CREATE TABLE tasks (
  number     INTEGER PRIMARY KEY,
  version    INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  state      TEXT NOT NULL,
  open       INTEGER NOT NULL,
  requester  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  app        TEXT NOT NULL,
  resource   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body       TEXT NOT NULL
);
CREATE INDEX tasks_open ON tasks (open, number);

-- Who a task concerns: requester, subject, current assignees, past reviewers.
CREATE TABLE task_people (
  task   INTEGER NOT NULL,
  person TEXT NOT NULL,
  role   TEXT NOT NULL,
  PRIMARY KEY (person, role, task)
);
CREATE INDEX task_people_task ON task_people (task);

-- The record. Append-only and hash-chained: hash = sha256(prev_hash, content).
CREATE TABLE events (
  seq       INTEGER PRIMARY KEY,
  task      INTEGER NOT NULL,
  type      TEXT NOT NULL,
  actor     TEXT NOT NULL,
  at        INTEGER NOT NULL,
  data      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX events_task ON events (task, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE comments (
  task          INTEGER NOT NULL,
  id            INTEGER NOT NULL,
  author        TEXT NOT NULL,
  text          TEXT NOT NULL,
  at            INTEGER NOT NULL,
  source        TEXT NOT NULL,
  slack_channel TEXT NOT NULL DEFAULT '',
  slack_ts      TEXT NOT NULL DEFAULT '',
  edited_at     INTEGER,
  deleted       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (task, id)
);

-- Every message the bot posted about a task, so that all copies can be updated.
CREATE TABLE slack_messages (
  channel   TEXT NOT NULL,
  ts        TEXT NOT NULL,
  task      INTEGER NOT NULL,
  team      TEXT NOT NULL,
  person    TEXT NOT NULL,
  purpose   TEXT NOT NULL,
  step      INTEGER NOT NULL,
  posted_at INTEGER NOT NULL,
  PRIMARY KEY (channel, ts)
);
CREATE INDEX slack_messages_task ON slack_messages (task);

-- Effects waiting for delivery; written in the same transaction as their command.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  task            INTEGER NOT NULL,
  kind            TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  data            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_until   INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (state, task, id);

-- Dedupe keys of deliveries already processed (Slack event_id, action ids).
CREATE TABLE seen_deliveries (
  key     TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
);

CREATE TABLE identity_cache (
  slack_user_id TEXT PRIMARY KEY,
  person        TEXT NOT NULL,
  email         TEXT NOT NULL,
  fetched_at    INTEGER NOT NULL
);
)sql",
      // 2: service levels, delegation, permalinks, time zones.
      R"sql(
ALTER TABLE slack_messages ADD COLUMN permalink TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_cache ADD COLUMN tz TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_cache ADD COLUMN tz_offset INTEGER;

-- Out of office: who takes a person's new review steps, until when (exclusive).
CREATE TABLE delegations (
  person   TEXT PRIMARY KEY,
  delegate TEXT NOT NULL,
  until    INTEGER NOT NULL,
  set_by   TEXT NOT NULL,
  set_at   INTEGER NOT NULL
);
)sql",
      // 3: the outbox records the Slack calls of an item that succeeded, and
      // the claim it is held under; identities learnt before the strict
      // checks (team, deletion, guests) are forgotten, to be learnt again.
      R"sql(
ALTER TABLE outbox ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN done_calls TEXT NOT NULL DEFAULT '';
DELETE FROM identity_cache;
)sql",
      // 4: the audit log's head, a record outside the events of where the log
      // ends (so removing events from the end, or all of them, shows), and of
      // the event from which it is sealed: HMACs under the audit key, the row
      // itself authenticated by `mac` (codec::ChainHead). Filled from the
      // events as they are; the first store opened with the key seals it.
      R"sql(
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
)sql",
  };
  return kMigrations;
}

const std::vector<std::string_view>& postgres_migrations() {
  static const std::vector<std::string_view> kMigrations = {
      // 1: the first schema.
      R"sql(
CREATE TABLE task_numbers (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  next BIGINT NOT NULL
);
INSERT INTO task_numbers (id, next) VALUES (1, 1);

CREATE TABLE tasks (
  number     BIGINT PRIMARY KEY,
  version    BIGINT NOT NULL,
  kind       TEXT NOT NULL,
  state      TEXT NOT NULL,
  open       INTEGER NOT NULL,
  requester  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  app        TEXT NOT NULL,
  resource   TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  body       TEXT NOT NULL
);
CREATE INDEX tasks_open ON tasks (open, number);

CREATE TABLE task_people (
  task   BIGINT NOT NULL,
  person TEXT NOT NULL,
  role   TEXT NOT NULL,
  PRIMARY KEY (person, role, task)
);
CREATE INDEX task_people_task ON task_people (task);

CREATE TABLE events (
  seq       BIGINT PRIMARY KEY,
  task      BIGINT NOT NULL,
  type      TEXT NOT NULL,
  actor     TEXT NOT NULL,
  at        BIGINT NOT NULL,
  data      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX events_task ON events (task, seq);
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

CREATE TABLE comments (
  task          BIGINT NOT NULL,
  id            BIGINT NOT NULL,
  author        TEXT NOT NULL,
  text          TEXT NOT NULL,
  at            BIGINT NOT NULL,
  source        TEXT NOT NULL,
  slack_channel TEXT NOT NULL DEFAULT '',
  slack_ts      TEXT NOT NULL DEFAULT '',
  edited_at     BIGINT,
  deleted       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (task, id)
);

CREATE TABLE slack_messages (
  channel   TEXT NOT NULL,
  ts        TEXT NOT NULL,
  task      BIGINT NOT NULL,
  team      TEXT NOT NULL,
  person    TEXT NOT NULL,
  purpose   TEXT NOT NULL,
  step      INTEGER NOT NULL,
  posted_at BIGINT NOT NULL,
  PRIMARY KEY (channel, ts)
);
CREATE INDEX slack_messages_task ON slack_messages (task);

CREATE TABLE outbox (
  id              BIGSERIAL PRIMARY KEY,
  task            BIGINT NOT NULL,
  kind            TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  data            TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claimed_until   BIGINT NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (state, task, id);

CREATE TABLE seen_deliveries (
  key     TEXT PRIMARY KEY,
  seen_at BIGINT NOT NULL
);

CREATE TABLE identity_cache (
  slack_user_id TEXT PRIMARY KEY,
  person        TEXT NOT NULL,
  email         TEXT NOT NULL,
  fetched_at    BIGINT NOT NULL
);
)sql",
      // 2: service levels, delegation, permalinks, time zones.
      R"sql(
ALTER TABLE slack_messages ADD COLUMN permalink TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_cache ADD COLUMN tz TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_cache ADD COLUMN tz_offset INTEGER;
CREATE TABLE delegations (
  person   TEXT PRIMARY KEY,
  delegate TEXT NOT NULL,
  until    BIGINT NOT NULL,
  set_by   TEXT NOT NULL,
  set_at   BIGINT NOT NULL
);
)sql",
      // 3: the outbox records the Slack calls of an item that succeeded, and
      // the claim it is held under; identities learnt before the strict
      // checks (team, deletion, guests) are forgotten, to be learnt again.
      R"sql(
ALTER TABLE outbox ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN done_calls TEXT NOT NULL DEFAULT '';
DELETE FROM identity_cache;
)sql",
      // 4: the audit log's seal (as SQLite's 4; chain_head already holds the
      // end of the log), and TRUNCATE, which skips row triggers, refused on
      // the events and the head; the head row cannot be deleted either.
      R"sql(
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
)sql",
  };
  return kMigrations;
}

}  // namespace tollgate
