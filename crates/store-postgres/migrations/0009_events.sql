-- The change feed (issue #14): the events of every applied import, derived from
-- its entries (roster_core::feed) in the transaction that writes the import, so
-- the feed and the history cannot disagree. cursor_no increases strictly per
-- account in commit order: the next one is taken while the write holds the
-- account's row lock (FOR NO KEY UPDATE, see roster_store::sql::write), not from a
-- sequence, whose numbers follow the order transactions start, not commit. The
-- event's time and import kind are the import's. A history written before this
-- table existed gets its events when the store opens
-- (roster_store::sql::feed::backfill). import_id is not a foreign key, as for
-- import_entries (see 0001).
CREATE TABLE events (
    account_id    BIGINT NOT NULL,
    cursor_no     BIGINT NOT NULL,
    import_id     BIGINT NOT NULL,
    event_type    TEXT COLLATE "C" NOT NULL,
    employee_key  BIGINT,  -- NULL for import.applied
    employee_id   TEXT,
    changes       TEXT,    -- JSON list of [field, before, after, rule]; NULL: none
    PRIMARY KEY (account_id, cursor_no)
);
CREATE INDEX events_employee ON events (account_id, employee_key, cursor_no)
    WHERE employee_key IS NOT NULL;
CREATE INDEX events_import ON events (import_id);
