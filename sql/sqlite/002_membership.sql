-- Cluster membership, SQLite: the twin of sql/postgres/002_membership.sql, kept so both dialects
-- carry the same scripts. The embedded single silo does not use these tables. Idempotent.
-- Timestamps are UTC ISO-8601 text to the microsecond ('2024-01-31T12:00:00.123456Z'), which sorts
-- correctly as text; suspicions is a JSON array as text.

CREATE TABLE IF NOT EXISTS membership_version (
    cluster_id  TEXT    NOT NULL PRIMARY KEY,
    version     INTEGER NOT NULL CHECK (version >= 0),
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS membership (
    cluster_id     TEXT    NOT NULL REFERENCES membership_version (cluster_id) ON DELETE CASCADE,
    address        TEXT    NOT NULL,
    port           INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    generation     INTEGER NOT NULL CHECK (generation > 0),
    silo_name      TEXT    NOT NULL,
    host_name      TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('Joining', 'Active', 'ShuttingDown', 'Dead')),
    start_time     TEXT    NOT NULL,
    iamalive_time  TEXT    NOT NULL,
    suspicions     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(suspicions) AND json_type(suspicions) = 'array'),
    PRIMARY KEY (cluster_id, address, port, generation)
) STRICT, WITHOUT ROWID;
