-- Scheduled work and notification delivery (schema version 3).
--
-- jobs: one row per (account, kind, integration): the auto-sync of an integration
-- (kind sync) or the daily end-date tick of an account (kind tick, no integration).
-- Workers claim due rows with a lease (holder + until); a lease that runs out (a
-- crashed worker) makes the row due again. Deleting an integration deletes its job.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    integration_id  INTEGER REFERENCES integrations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,     -- sync | tick
    schedule        TEXT NOT NULL,     -- JSON: frequency, local time, time zone
    enabled         INTEGER NOT NULL,
    paused          INTEGER NOT NULL,
    next_run_at     TEXT,              -- NULL while off or paused
    lease_holder    TEXT,
    lease_until     TEXT,
    runs            INTEGER NOT NULL DEFAULT 0,
    last_run_at     TEXT,
    last_status     TEXT,
    last_import_id  INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_target ON jobs (account_id, kind, COALESCE(integration_id, 0));
CREATE INDEX jobs_due ON jobs (next_run_at) WHERE enabled = 1 AND paused = 0;

-- Where an account's notifications go: webhooks (secret encrypted by the engine)
-- and admins' email addresses. events: JSON list; empty means the default set.
CREATE TABLE notification_channels (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,     -- webhook | email
    target      TEXT NOT NULL,     -- URL or email address
    secret      BLOB,
    events      TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX notification_channels_account ON notification_channels (account_id, id);

-- Delivery rounds of an outbox message: attempts counts rounds, next_attempt_at is
-- the back-off, a lease keeps two workers from delivering one message at once,
-- failed_at marks a message given up.
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN lease_holder TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN failed_at TEXT;
CREATE INDEX outbox_due ON outbox (id) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- One row per (message, channel): what each destination got.
CREATE TABLE deliveries (
    outbox_id        INTEGER NOT NULL REFERENCES outbox (id),
    channel_id       INTEGER NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    last_attempt_at  TEXT NOT NULL,
    delivered_at     TEXT,
    last_error       TEXT,
    PRIMARY KEY (outbox_id, channel_id)
);
