-- Opening a store finds the rows whose lower-cased employee ID or secondary email
-- migration 0008 left to Rust (values beyond ASCII) by these indexes, which hold
-- exactly those rows (none once folded), instead of reading every employee at each
-- start (issue #15: the cost of a sync follows the change, not the company).
CREATE INDEX employees_id_unfolded ON employees (account_id)
    WHERE employee_id IS NOT NULL AND employee_id_lower IS NULL;
CREATE INDEX employees_secondary_unfolded ON employees (account_id)
    WHERE secondary_email_lower IS NULL AND secondary_email IS NOT NULL
      AND TRIM(secondary_email) <> '';
