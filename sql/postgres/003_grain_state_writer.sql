-- Which silo incarnation ("ip:port@generation") last wrote each grain state: for operators, and so
-- that a write can be fenced against the writer's membership row (see PostgresGrainStorage).
ALTER TABLE grain_state ADD COLUMN IF NOT EXISTS writer text;
