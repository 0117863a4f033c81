-- Transactions, ledger, outbox and idempotency keys, PostgreSQL (see docs/transactions-design.md and
-- PostgresTransactionStore). Idempotent like every script. Every table is scoped by service_id like
-- grain_state, so several services (and test runs) can share one database.

-- The commit record: at most one outcome per transaction id, forever. A commit inserts 'committed';
-- resolving an in-doubt id inserts 'aborted'; whichever comes first wins (ON CONFLICT DO NOTHING).
CREATE TABLE IF NOT EXISTS tx_commits (
    service_id  text        NOT NULL,
    tx_id       uuid        NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('committed', 'aborted')),
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, tx_id)
);

-- The double-entry journal: one hash chain per account (sequence from 1, previous_hash -> hash).
-- amount is signed (credit > 0, debit < 0). numeric without a typmod keeps the scale it was given.
CREATE TABLE IF NOT EXISTS journal_entries (
    service_id     text        NOT NULL,
    account_id     text        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence > 0),
    tx_id          uuid        NOT NULL,
    currency       text        NOT NULL,
    amount         numeric     NOT NULL,
    balance_after  numeric     NOT NULL,
    posted_at      timestamptz NOT NULL,
    previous_hash  text        NOT NULL,
    hash           text        NOT NULL,
    PRIMARY KEY (service_id, account_id, sequence)
);
CREATE INDEX IF NOT EXISTS journal_entries_tx ON journal_entries (service_id, tx_id);

-- Entries are never changed or removed; corrections are new, compensating entries. The trigger makes
-- that a rule of the database, not only of the code (a superuser can still bypass it on purpose).
CREATE OR REPLACE FUNCTION journal_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal entries are immutable: % on journal_entries refused', TG_OP;
END;
$$;
DROP TRIGGER IF EXISTS journal_entries_no_update_delete ON journal_entries;
CREATE TRIGGER journal_entries_no_update_delete BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entries_immutable();
DROP TRIGGER IF EXISTS journal_entries_no_truncate ON journal_entries;
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_immutable();

-- What a committed movement was: kind ('transfer', 'deposit'...), the caller's reference, details.
CREATE TABLE IF NOT EXISTS ledger_transactions (
    service_id  text        NOT NULL,
    tx_id       uuid        NOT NULL,
    kind        text        NOT NULL,
    reference   text        NULL,
    details     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (service_id, tx_id)
);

-- Domain events committed with the change that caused them; a publisher sets published_at.
CREATE TABLE IF NOT EXISTS outbox (
    service_id    text        NOT NULL,
    event_id      uuid        NOT NULL,
    tx_id         uuid        NOT NULL,
    topic         text        NOT NULL,
    key           text        NOT NULL,
    payload       jsonb       NOT NULL,
    occurred_at   timestamptz NOT NULL,
    published_at  timestamptz NULL,
    PRIMARY KEY (service_id, event_id)
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (service_id, occurred_at) WHERE published_at IS NULL;

-- Idempotency keys: claimed (in_progress, owner + lease) while a request runs, completed with the
-- stored answer, in the same commit as the money it moved when it moved any.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    service_id    text        NOT NULL,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
    owner         uuid        NULL,
    lease_until   timestamptz NULL,
    status_code   integer     NULL,
    response      text        NULL,
    tx_id         uuid        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, key)
);
