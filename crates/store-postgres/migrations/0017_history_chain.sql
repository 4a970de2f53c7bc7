-- An employee's history found through a chain instead of an index by employee
-- (issue #15). import_entries_employee (account, employee, import) put each new
-- entry on a random page of it: one more page written per changed employee (at a
-- million employees, 886 of the 2,036 pages an incremental sync of 1,000 updates
-- wrote after 0016). Now the employee's row names the last import with an entry
-- about it (history_import_id), each entry about an employee names the import
-- before it with one (prev_import_id), and entries are found by import and
-- employee: an index whose new entries go at its end, as import ids grow. The
-- store keeps both (roster_store::sql::write::link_history; a create's row names
-- its import when it is inserted) and walks the chain from the row
-- (roster_store::sql::history::chain).
ALTER TABLE employees ADD COLUMN history_import_id BIGINT;
ALTER TABLE import_entries ADD COLUMN prev_import_id BIGINT;
UPDATE import_entries SET prev_import_id = (
    SELECT MAX(p.import_id) FROM import_entries p
    WHERE p.account_id = import_entries.account_id
      AND p.employee_key = import_entries.employee_key
      AND p.import_id < import_entries.import_id)
WHERE employee_key IS NOT NULL;
UPDATE employees SET history_import_id = (
    SELECT MAX(ie.import_id) FROM import_entries ie
    WHERE ie.account_id = employees.account_id AND ie.employee_key = employees.key);
CREATE INDEX import_entries_import_employee ON import_entries (import_id, employee_key)
    WHERE employee_key IS NOT NULL;
DROP INDEX import_entries_employee;
-- The records merged into an employee (its history and record include theirs) were
-- found by reading every row of the account: 0.5 s of an employee's history at a
-- million. Only merged rows are in this index.
CREATE INDEX employees_merged ON employees (account_id, merged_into)
    WHERE merged_into IS NOT NULL;
