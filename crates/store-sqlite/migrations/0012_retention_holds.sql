-- Retention holds (issue #17): an admin keeps a former employee's data past
-- retention_days (a legal hold), with the reason and since when. One row per held
-- employee; it goes with the employee's row (an employee removed entirely takes its
-- hold along). Kept apart from the employees table: a hold is the admin's, not the
-- source's, and no sync, export or feed carries it.
CREATE TABLE retention_holds (
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    employee_key  INTEGER NOT NULL REFERENCES employees (key) ON DELETE CASCADE,
    reason        TEXT NOT NULL,
    since         TEXT NOT NULL,
    PRIMARY KEY (account_id, employee_key)
);
