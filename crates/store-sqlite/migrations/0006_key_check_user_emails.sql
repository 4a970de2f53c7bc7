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

-- Web-user emails are unique per account, not over every account (issue #18.6): a
-- customer creating a user must not learn that another customer has one with that
-- email. Sign-in asks for the account when an email is in several. SQLite cannot
-- drop a column's UNIQUE, so the table is rebuilt; the sessions (which reference it
-- and would be deleted with it) are kept aside and put back.
CREATE TEMP TABLE sessions_kept AS SELECT * FROM sessions;
DELETE FROM sessions;
CREATE TABLE users_new (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    email          TEXT NOT NULL,
    email_lower    TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (account_id, email_lower)
);
INSERT INTO users_new (id, account_id, email, email_lower, role, password_hash, created_at)
    SELECT id, account_id, email, email_lower, role, password_hash, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_account ON users (account_id, id);
CREATE INDEX users_email ON users (email_lower);
INSERT INTO sessions SELECT * FROM sessions_kept;
DROP TABLE sessions_kept;
