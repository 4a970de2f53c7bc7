-- Access control and the server's state between requests (roster serve).
-- Secrets are never stored in the clear: tokens and session ids as SHA-256 digests
-- (lower-case hex), passwords as argon2 PHC strings, a pending OAuth connection as
-- bytes the server encrypted.

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    digest        TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX api_tokens_account ON api_tokens (account_id, id);

-- email_lower is unique over every account: it names the account at sign-in.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    email          TEXT NOT NULL,
    email_lower    TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX users_account ON users (account_id, id);

CREATE TABLE sessions (
    digest      TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A reviewed sync waiting for apply or discard; payload is the server's JSON.
CREATE TABLE sync_reviews (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    integration_id  INTEGER NOT NULL,
    status          TEXT NOT NULL,  -- pending | applied | discarded
    created_at      TEXT NOT NULL,
    closed_at       TEXT,
    import_id       INTEGER,
    payload         TEXT NOT NULL  -- JSON
);
CREATE INDEX sync_reviews_account ON sync_reviews (account_id, id);

CREATE TABLE oauth_states (
    state_digest  TEXT PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    payload       BLOB NOT NULL,  -- encrypted by the server
    expires_at    TEXT NOT NULL
);
