-- The sync lock's fencing token: it grows with every take of the lock, and a write
-- under the lock commits only while the lock row still holds the writer's holder
-- and generation. A released lock keeps its row (holder '' and an expired lease), so
-- the generation never goes back.
ALTER TABLE sync_locks ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

-- A job put off without running (its integration's sync lock was held) says why
-- until it runs: `roster autosync status` shows it.
ALTER TABLE jobs ADD COLUMN postponed TEXT;
