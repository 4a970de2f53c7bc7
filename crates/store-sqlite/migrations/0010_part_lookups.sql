-- An incremental sync reads the part of the directory it plans over by indexed
-- look-ups (issue #15): the active reports of a manager, found by the key of the
-- manager's email, and the employees born on a date (a new employee is checked
-- against existing ones with the same name and birth date).
--
-- manager_lower is the key of manager_email (trimmed, lower-cased), written with
-- every row. SQL computes the same key only for printable ASCII: other rows are
-- keyed by the store on first use (the last index finds them).
ALTER TABLE employees ADD COLUMN manager_lower TEXT;
UPDATE employees SET manager_lower = lower(trim(manager_email, ' '))
    WHERE manager_email IS NOT NULL AND manager_email NOT GLOB '*[^ -~]*';
CREATE INDEX employees_reports ON employees (account_id, manager_lower) WHERE active = 1;
CREATE INDEX employees_birth_date ON employees (account_id, date_of_birth)
    WHERE date_of_birth IS NOT NULL;
CREATE INDEX employees_manager_unkeyed ON employees (account_id)
    WHERE manager_email IS NOT NULL AND manager_lower IS NULL;
