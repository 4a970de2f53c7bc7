-- The credentials key's check value (issue #18.2): bytes encrypted (AES-256-GCM) with
-- the key that encrypts integration credentials and webhook secrets, holding a fixed
-- constant; never the key itself. A process whose key does not decrypt it refuses to
-- start, instead of failing every sync it claims. One row at most; written by the
-- first process whose key fits the secrets already stored (or when there are none).
CREATE TABLE key_check (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    value       BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
