-- Which process last wrote each grain state (kept in step with sql/postgres; the embedded single silo
-- leaves it empty). SQLite has no ADD COLUMN IF NOT EXISTS: SchemaMigrator runs each script once.
ALTER TABLE grain_state ADD COLUMN writer TEXT;
