-- Roster's SQLite schema, version 1. Migrations are append-only: never edit a file
-- once released; add the next number instead.
--
-- Portable on purpose (a PostgreSQL adapter mirrors it): every table carries
-- account_id and every query filters by it; timestamps are RFC 3339 UTC text with
-- nine fractional digits (so text order is time order), dates are YYYY-MM-DD text,
-- JSON is text, booleans are 0/1.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE integrations (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    state          TEXT NOT NULL,
    settings       TEXT NOT NULL,  -- JSON
    config         TEXT NOT NULL,  -- JSON
    credentials    BLOB,           -- encrypted by the engine
    source_fields  TEXT NOT NULL,  -- JSON
    company_name   TEXT,
    member_count   INTEGER,
    last_fetch_at  TEXT,
    last_sync_at   TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX integrations_account ON integrations (account_id, id);

-- employee_id and email_lower are NULL only inside a write that swaps identifiers.
-- email and email_lower are NULL when the employee has no email.
CREATE TABLE employees (
    key                  INTEGER PRIMARY KEY,
    account_id           INTEGER NOT NULL REFERENCES accounts (id),
    employee_id          TEXT,
    source_id            TEXT,
    email                TEXT,
    email_lower          TEXT,
    search_text          TEXT NOT NULL,  -- lower-cased ID, email and names for search
    secondary_email      TEXT,
    first_name           TEXT,
    last_name            TEXT,
    preferred_name       TEXT,
    date_of_birth        TEXT,
    start_date           TEXT,
    latest_rehire_date   TEXT,
    hire_date            TEXT,
    end_date             TEXT,
    manager_email        TEXT,
    phone                TEXT,
    demographics         TEXT NOT NULL,  -- JSON object of name to value
    active               INTEGER NOT NULL,
    deactivation_reason  TEXT,
    is_manager           INTEGER NOT NULL,
    excluded             INTEGER NOT NULL,
    email_edited         INTEGER NOT NULL,
    merged_into          INTEGER,
    updated_at           TEXT NOT NULL,
    last_import_id       INTEGER
);
CREATE INDEX employees_account ON employees (account_id, key);
CREATE UNIQUE INDEX employees_employee_id ON employees (account_id, employee_id);
CREATE UNIQUE INDEX employees_email ON employees (account_id, email_lower)
    WHERE email_lower IS NOT NULL;
CREATE INDEX employees_source_id ON employees (account_id, source_id)
    WHERE source_id IS NOT NULL;

-- integration_id is not a foreign key: history outlives a deleted integration.
CREATE TABLE imports (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    integration_id  INTEGER,
    kind            TEXT NOT NULL,
    trigger_kind    TEXT NOT NULL,  -- manual | automatic
    status          TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    counts          TEXT NOT NULL,  -- JSON
    details         TEXT NOT NULL,  -- JSON
    rolls_back      INTEGER REFERENCES imports (id)
);
CREATE INDEX imports_account ON imports (account_id, id);

-- One row per employee an import touched or would have touched.
-- Applied entries keep no copy of the employee: an applied create has created = 1
-- and changes NULL (its values are in the employees row), an applied update keeps
-- its field changes. Entries not applied (blocked, held) keep `after` as JSON.
CREATE TABLE import_entries (
    account_id    INTEGER NOT NULL,
    import_id     INTEGER NOT NULL REFERENCES imports (id),
    seq           INTEGER NOT NULL,
    employee_key  INTEGER,  -- NULL for a create that was not applied
    employee_id   TEXT NOT NULL,
    action        TEXT NOT NULL,
    applied       INTEGER NOT NULL,
    held          INTEGER NOT NULL,
    privacy       INTEGER NOT NULL,
    created       INTEGER NOT NULL,
    changes       TEXT,  -- JSON list of {field, old, new, rule}
    after         TEXT,  -- JSON employee, only when not applied
    PRIMARY KEY (import_id, seq)
);
CREATE INDEX import_entries_employee ON import_entries (account_id, employee_key, import_id);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    import_id     INTEGER REFERENCES imports (id),
    event         TEXT NOT NULL,
    payload       TEXT NOT NULL,  -- JSON
    created_at    TEXT NOT NULL,
    delivered_at  TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (account_id, id) WHERE delivered_at IS NULL;

CREATE TABLE sync_locks (
    integration_id  INTEGER PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL,
    holder          TEXT NOT NULL,
    until           TEXT NOT NULL
);
