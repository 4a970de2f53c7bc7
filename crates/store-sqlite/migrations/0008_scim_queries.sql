-- SCIM (issue #13): per-employee times and the columns SCIM filters look up.
--
-- created_at: when the employee was added (the finished_at of the changeset that
-- created the row); updated_at (since version 1) is when any writer last changed
-- it: together SCIM's meta.created and meta.lastModified. Old rows: the earliest
-- applied import entry of the employee, else updated_at.
--
-- employee_id_lower and secondary_email_lower: the employee ID in lower case and the
-- secondary email as core's email_key (trimmed, lower case), computed by the store
-- when it writes a row. Here only for pure-ASCII values (SQLite's lower() knows no
-- other letters); the store fills in the others in Rust when it opens the database.
ALTER TABLE employees ADD COLUMN created_at TEXT;
ALTER TABLE employees ADD COLUMN employee_id_lower TEXT;
ALTER TABLE employees ADD COLUMN secondary_email_lower TEXT;

UPDATE employees SET created_at = COALESCE(
    (SELECT MIN(i.finished_at) FROM import_entries ie JOIN imports i ON i.id = ie.import_id
     WHERE ie.account_id = employees.account_id AND ie.employee_key = employees.key
       AND ie.applied = 1),
    updated_at);
UPDATE employees SET employee_id_lower = lower(employee_id)
    WHERE employee_id IS NOT NULL AND length(CAST(employee_id AS BLOB)) = length(employee_id);
UPDATE employees SET secondary_email_lower = lower(trim(secondary_email))
    WHERE trim(secondary_email) <> ''
      AND length(CAST(secondary_email AS BLOB)) = length(secondary_email);

CREATE INDEX employees_employee_id_lower ON employees (account_id, employee_id_lower);
CREATE INDEX employees_secondary_email_lower ON employees (account_id, secondary_email_lower)
    WHERE secondary_email_lower IS NOT NULL;
-- meta.lastModified gt "…": what changed since a client's last read.
CREATE INDEX employees_updated ON employees (account_id, updated_at);
