-- BankGrains schema, SQLite. Applied by SchemaMigrator in file-name order, one IMMEDIATE transaction
-- per script. Every statement is idempotent so a half-known state is harmless.
-- STRICT tables: SQLite would otherwise store whatever type it is given.
-- Timestamps are UTC ISO-8601 text, which sorts correctly as text: updated_at and applied_at to the
-- millisecond ('2024-01-31T12:00:00.123Z'), start_at to the microsecond like PostgreSQL's timestamptz.

-- Which scripts have run. The migrator looks for this table before anything else.
CREATE TABLE IF NOT EXISTS schema_migrations (
    script_name TEXT NOT NULL PRIMARY KEY,
    applied_at  TEXT NOT NULL
) STRICT;

-- One row per (service, grain, state name). version is the ETag: every write and clear bumps it by
-- one, and a clear keeps the row with payload NULL (a tombstone) so versions are never reused.
CREATE TABLE IF NOT EXISTS grain_state (
    service_id TEXT    NOT NULL,
    grain_id   TEXT    NOT NULL,
    state_name TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version > 0),
    payload    TEXT    NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (service_id, grain_id, state_name)
) STRICT, WITHOUT ROWID;

-- Durable reminders. period is in milliseconds. version comes from reminder_version_seq so a reminder
-- that is removed and created again never gets a version a stale remover could still hold.
CREATE TABLE IF NOT EXISTS reminders (
    service_id    TEXT    NOT NULL,
    grain_id      TEXT    NOT NULL,
    reminder_name TEXT    NOT NULL,
    start_at      TEXT    NOT NULL,
    period        INTEGER NOT NULL CHECK (period >= 0),
    version       INTEGER NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
) STRICT, WITHOUT ROWID;

-- SQLite has no sequences: a one-row counter, bumped inside the upsert's transaction.
CREATE TABLE IF NOT EXISTS reminder_version_seq (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_version  INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO reminder_version_seq (id, last_version) VALUES (1, 0);
