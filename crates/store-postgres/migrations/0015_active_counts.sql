-- Each account's active employees, counted as the rows change instead of at every
-- read (issue #15: the mass-change guard of a sync read `COUNT(*)` over the active
-- rows, linear in the company). The row equals
--   SELECT COUNT(*) FROM employees WHERE account_id = $1 AND active
-- whenever it exists (the contract suite checks it after each kind of write):
-- the triggers below follow every update and delete of employees; inserts are
-- counted by the one statement that inserts them (`sql::write::count_created`,
-- which also makes the row of an account that has none), as on SQLite, where a
-- trigger per inserted row cost a first import about 4 % of its CPU. An account
-- without its row has no employees.
CREATE TABLE active_counts (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    active      BIGINT NOT NULL
);
INSERT INTO active_counts (account_id, active)
    SELECT a.id, (SELECT COUNT(*) FROM employees e WHERE e.account_id = a.id AND e.active)
    FROM accounts a;

-- Once per statement, over its transition tables: a row trigger would update the
-- account's one row once per employee, and PostgreSQL keeps every version of a row
-- updated within one transaction. A statement that changes no account's count
-- leaves the rows alone (and unlocked).
CREATE FUNCTION active_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE active_counts c SET active = c.active - d.n
    FROM (SELECT account_id, COUNT(*) AS n FROM deleted WHERE active GROUP BY account_id) d
    WHERE c.account_id = d.account_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER employees_active_deleted AFTER DELETE ON employees
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION active_counts_deleted();

-- An update's net change per account: its active rows after, less those before.
CREATE FUNCTION active_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE active_counts c SET active = c.active + d.n
    FROM (SELECT account_id, SUM(n) AS n FROM (
              SELECT account_id, COUNT(*) AS n FROM after_update WHERE active
              GROUP BY account_id
              UNION ALL
              SELECT account_id, -COUNT(*) FROM before_update WHERE active
              GROUP BY account_id) x
          GROUP BY account_id) d
    WHERE c.account_id = d.account_id AND d.n <> 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER employees_active_changed AFTER UPDATE ON employees
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION active_counts_updated();
