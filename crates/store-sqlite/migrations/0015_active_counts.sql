-- Each account's active employees, counted as the rows change instead of at every
-- read (issue #15: the mass-change guard of a sync read `COUNT(*)` over the active
-- rows, linear in the company). The row equals
--   SELECT COUNT(*) FROM employees WHERE account_id = ? AND active = 1
-- whenever it exists (the contract suite checks it after each kind of write):
-- the triggers below follow every update and delete of employees; inserts are
-- counted by the one statement that inserts them (`sql::write::count_created`,
-- which also makes the row of an account that has none), because a trigger per
-- inserted row cost a 100k first import about 4 % of its CPU. An account without
-- its row has no employees.
CREATE TABLE active_counts (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    active      INTEGER NOT NULL
);
INSERT INTO active_counts (account_id, active)
    SELECT a.id, (SELECT COUNT(*) FROM employees e WHERE e.account_id = a.id AND e.active = 1)
    FROM accounts a;

-- Fire only for rows that were active, and updates only when they name `active`
-- (or `account_id`) and change whether the row counts.
CREATE TRIGGER employees_active_deleted AFTER DELETE ON employees
WHEN OLD.active = 1
BEGIN
    UPDATE active_counts SET active = active - 1 WHERE account_id = OLD.account_id;
END;

CREATE TRIGGER employees_active_changed AFTER UPDATE OF active, account_id ON employees
WHEN (OLD.active = 1) IS NOT (NEW.active = 1) OR OLD.account_id IS NOT NEW.account_id
BEGIN
    UPDATE active_counts SET active = active - 1
        WHERE account_id = OLD.account_id AND OLD.active = 1;
    UPDATE active_counts SET active = active + 1
        WHERE account_id = NEW.account_id AND NEW.active = 1;
END;
