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

-- A notification channel's subscription to the change feed: which event types, the
-- fields whose values it may receive (others: names only), events per request, and
-- where it is: the last event it accepted (cursor_no), the last event of the batch
-- being delivered (pending_until: a retry sends the same batch, with the same
-- delivery id), the back-off, and a lease so that one worker at a time delivers it.
CREATE TABLE feed_subscriptions (
    channel_id       INTEGER PRIMARY KEY REFERENCES notification_channels (id) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL,
    types            TEXT NOT NULL,  -- JSON list of event types
    fields           TEXT NOT NULL,  -- JSON list of field names
    batch_size       INTEGER NOT NULL,
    cursor_no        INTEGER NOT NULL,
    pending_until    INTEGER,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT,
    last_error       TEXT,
    delivered_at     TEXT,
    lease_holder     TEXT,
    lease_until      TEXT
);
CREATE INDEX feed_subscriptions_account ON feed_subscriptions (account_id, channel_id);
