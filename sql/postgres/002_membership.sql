-- Cluster membership, PostgreSQL. Idempotent like every script (SchemaMigrator applies it once, in
-- file-name order, in one transaction under an advisory lock).

-- One version row per cluster. Every membership change except a heartbeat moves it from the version
-- the writer read to the next (UPDATE ... WHERE version = @expected) in the same transaction as the
-- row change: the compare-and-swap that lets only one of several silos acting on one view win.
CREATE TABLE IF NOT EXISTS membership_version (
    cluster_id  text        NOT NULL PRIMARY KEY,
    version     bigint      NOT NULL CHECK (version >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation: a restarted silo (same address and port, new generation) is a new
-- row. suspicions is a JSON array of {"suspecter": "ip:port@generation", "at": "...Z"}. Rows go with
-- their cluster's version row, so deleting a cluster is one statement.
CREATE TABLE IF NOT EXISTS membership (
    cluster_id     text        NOT NULL REFERENCES membership_version (cluster_id) ON DELETE CASCADE,
    address        text        NOT NULL,
    port           integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    generation     integer     NOT NULL CHECK (generation > 0),
    silo_name      text        NOT NULL,
    host_name      text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('Joining', 'Active', 'ShuttingDown', 'Dead')),
    start_time     timestamptz NOT NULL,
    iamalive_time  timestamptz NOT NULL,
    suspicions     jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(suspicions) = 'array'),
    PRIMARY KEY (cluster_id, address, port, generation)
);
