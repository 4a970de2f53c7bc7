-- Counting a company's active employees (the users list's total) reads an index of
-- the active rows instead of every row.
CREATE INDEX employees_active ON employees (account_id) WHERE active = 1;
