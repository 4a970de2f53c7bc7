-- The credentials key's check value (issue #18.2), as in the SQLite schema: bytes
-- encrypted (AES-256-GCM) with the key that encrypts integration credentials and
-- webhook secrets, holding a fixed constant; never the key itself. One row at most.
CREATE TABLE key_check (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    value       BYTEA NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);

-- Web-user emails are unique per account, not over every account (issue #18.6), as in
-- the SQLite schema; sign-in asks for the account when an email is in several.
ALTER TABLE users DROP CONSTRAINT users_email_lower_key;
ALTER TABLE users ADD CONSTRAINT users_account_email_lower_key UNIQUE (account_id, email_lower);
CREATE INDEX users_email ON users (email_lower);
