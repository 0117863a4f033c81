-- BankGrains schema, PostgreSQL. Applied by SchemaMigrator in file-name order, one transaction per
-- script, under an advisory lock. Every statement is idempotent so a half-known state is harmless.

-- Which scripts have run. The migrator looks for this table before anything else.
CREATE TABLE IF NOT EXISTS schema_migrations (
    script_name text        NOT NULL PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (service, grain, state name). version is the ETag: every write and clear bumps it by
-- one, and a clear keeps the row with payload NULL (a tombstone) so versions are never reused.
CREATE TABLE IF NOT EXISTS grain_state (
    service_id  text        NOT NULL,
    grain_id    text        NOT NULL,
    state_name  text        NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    payload     jsonb       NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_id, state_name)
);

-- Durable reminders. period is in milliseconds. version comes from reminder_version_seq so a reminder
-- that is removed and created again never gets a version a stale remover could still hold.
CREATE TABLE IF NOT EXISTS reminders (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    start_at      timestamptz NOT NULL,
    period        bigint      NOT NULL CHECK (period >= 0),
    version       bigint      NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE SEQUENCE IF NOT EXISTS reminder_version_seq AS bigint;
