-- Personal data erased (issue #17): one row per employee an anonymisation (an
-- import of kind `erasure`, or `retention`) rewrote. The row holds the field
-- *names* it replaced, never their values, and a keyed digest (HMAC-SHA256 with the
-- account's key material, by the engine) of the source id the employee had, so that
-- a person re-hired in the source is matched to the anonymous record without Roster
-- keeping the id itself. employee_key is not a foreign key: `users erase --remove`
-- deletes the row. import_id is not a foreign key, as for import_entries (see 0001).
CREATE TABLE erasures (
    account_id     BIGINT NOT NULL,
    employee_key   BIGINT NOT NULL,
    import_id      BIGINT NOT NULL,
    source_digest  TEXT COLLATE "C",
    fields         TEXT NOT NULL,  -- JSON list of field names
    PRIMARY KEY (account_id, employee_key, import_id)
);
CREATE INDEX erasures_digest ON erasures (account_id, source_digest)
    WHERE source_digest IS NOT NULL;
