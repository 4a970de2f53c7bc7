-- The credentials key's check value (issue #18.2), as in the SQLite schema: bytes
-- encrypted (AES-256-GCM) with the key that encrypts integration credentials and
-- webhook secrets, holding a fixed constant; never the key itself. One row at most.
CREATE TABLE key_check (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    value       BYTEA NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);
