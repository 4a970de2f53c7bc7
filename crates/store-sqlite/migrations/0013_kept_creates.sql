-- A create's event kept on its import entry (issue #14): an `employee.created`
-- whose import recorded no changes (every create of a sync or CSV import) gets no
-- `events` row; its cursor is `event_cursor` of the create's `import_entries` row,
-- and its values are the employee's row walked back through the employee's later
-- events (roster_store::sql::feed::kept). A first import so writes one integer per
-- create for its events. The feed's reads merge these with `events` in cursor order.
ALTER TABLE import_entries ADD COLUMN event_cursor INTEGER;
CREATE INDEX import_entries_event ON import_entries (account_id, event_cursor)
    WHERE event_cursor IS NOT NULL;
