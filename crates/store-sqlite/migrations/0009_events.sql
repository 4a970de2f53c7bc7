-- The change feed (issue #14): the events of every applied import, derived from
-- its entries (roster_core::feed) in the transaction that writes the import, so
-- the feed and the history cannot disagree. cursor_no increases strictly per
-- account in commit order (the next one is taken under the write's lock of the
-- account). The event's time and import kind are the import's. A history written
-- before this table existed gets its events when the store opens
-- (roster_store::sql::feed::backfill).
CREATE TABLE events (
    account_id    INTEGER NOT NULL,
    cursor_no     INTEGER NOT NULL,
    import_id     INTEGER NOT NULL REFERENCES imports (id),
    event_type    TEXT NOT NULL,
    employee_key  INTEGER,  -- NULL for import.applied
    employee_id   TEXT,
    changes       TEXT,     -- JSON list of [field, before, after, rule]; NULL: none
    PRIMARY KEY (account_id, cursor_no)
);
CREATE INDEX events_employee ON events (account_id, employee_key, cursor_no)
    WHERE employee_key IS NOT NULL;
CREATE INDEX events_import ON events (import_id);
