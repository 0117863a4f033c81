-- Transactions, ledger, outbox and idempotency keys, SQLite: the twin of sql/postgres/004_transactions.sql
-- (see SqliteTransactionStore). Idempotent. Ids are lower-case uuid text; timestamps are UTC ISO-8601
-- text to the microsecond ('2024-01-31T12:00:00.123456Z'), which sorts correctly as text; decimals
-- are invariant-culture text with their scale ('-10.50'), so they read back exactly.

CREATE TABLE IF NOT EXISTS tx_commits (
    service_id  TEXT NOT NULL,
    tx_id       TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('committed', 'aborted')),
    decided_at  TEXT NOT NULL,
    PRIMARY KEY (service_id, tx_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS journal_entries (
    service_id     TEXT    NOT NULL,
    account_id     TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence > 0),
    tx_id          TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    amount         TEXT    NOT NULL,
    balance_after  TEXT    NOT NULL,
    posted_at      TEXT    NOT NULL,
    previous_hash  TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    PRIMARY KEY (service_id, account_id, sequence)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS journal_entries_tx ON journal_entries (service_id, tx_id);

-- Entries are never changed or removed (see the PostgreSQL script).
CREATE TRIGGER IF NOT EXISTS journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are immutable: UPDATE on journal_entries refused');
END;
CREATE TRIGGER IF NOT EXISTS journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are immutable: DELETE on journal_entries refused');
END;

CREATE TABLE IF NOT EXISTS ledger_transactions (
    service_id  TEXT NOT NULL,
    tx_id       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    reference   TEXT NULL,
    details     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (service_id, tx_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS outbox (
    service_id    TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    tx_id         TEXT NOT NULL,
    topic         TEXT NOT NULL,
    key           TEXT NOT NULL,
    payload       TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    published_at  TEXT NULL,
    PRIMARY KEY (service_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (service_id, occurred_at) WHERE published_at IS NULL;

CREATE TABLE IF NOT EXISTS idempotency_keys (
    service_id    TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('in_progress', 'completed')),
    owner         TEXT    NULL,
    lease_until   TEXT    NULL,
    status_code   INTEGER NULL,
    response      TEXT    NULL,
    tx_id         TEXT    NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (service_id, key)
) STRICT, WITHOUT ROWID;
