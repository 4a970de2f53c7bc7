#!/usr/bin/env bash
# Where a first import's apply goes in PostgreSQL (issue #15, docs/benchmarks.md): the rows
# a real first import wrote into SQLite (employees, import_entries, events) are loaded into
# unlogged staging tables of a scratch database built from crates/store-postgres/migrations,
# then copied into the real tables (INSERT … SELECT inside the server, one transaction,
# the deferred unique checks at the commit included) with every index, without the
# secondary indexes of employees, one index dropped at a time, and with the indexes dropped
# and re-created after the insert. The scratch database is dropped at the end.
#   bash scripts/apply_cost_pg.sh /tmp/a/roster.db [postgres://postgres@127.0.0.1:55432]
set -euo pipefail
SRC=$1
SERVER=${2:-postgres://postgres@127.0.0.1:55432}
DB=apply_cost_$$
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
P="psql $SERVER/$DB -q -v ON_ERROR_STOP=1"
psql "$SERVER/postgres" -q -c "CREATE DATABASE $DB"
trap 'psql "$SERVER/postgres" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; rm -rf "$TMP"' EXIT
for f in "$HERE"/crates/store-postgres/migrations/*.sql; do $P -f "$f" > /dev/null; done
cols() { $P -Atc "select string_agg(column_name, ',' order by ordinal_position) from information_schema.columns where table_name='$1'"; }
sqlite3 -csv "$SRC" "select $(cols employees) from employees order by key" > "$TMP/employees.csv"
sqlite3 -csv "$SRC" "select $(cols events) from events order by cursor_no" > "$TMP/events.csv"
sqlite3 -csv "$SRC" "select $(cols import_entries) from import_entries order by import_id, seq" > "$TMP/entries.csv"
$P <<SQL
INSERT INTO accounts (id, name, created_at) SELECT DISTINCT 1, 'bench', 'x';
INSERT INTO imports (id, account_id, kind, trigger_kind, status, started_at, finished_at, counts, details)
    VALUES (1, 1, 'sync', 'manual', 'applied', 'x', 'x', '{}', '{}');
CREATE UNLOGGED TABLE src_employees AS SELECT * FROM employees WITH NO DATA;
CREATE UNLOGGED TABLE src_events AS SELECT * FROM events WITH NO DATA;
CREATE UNLOGGED TABLE src_entries AS SELECT * FROM import_entries WITH NO DATA;
\copy src_employees FROM '$TMP/employees.csv' CSV
\copy src_events FROM '$TMP/events.csv' CSV
\copy src_entries FROM '$TMP/entries.csv' CSV
UPDATE src_employees SET account_id = 1; UPDATE src_events SET account_id = 1, import_id = 1;
UPDATE src_entries SET account_id = 1, import_id = 1;
SQL
$P -Atc "select pg_get_indexdef(i.indexrelid) || ';' from pg_index i where i.indrelid = 'employees'::regclass and not i.indisprimary and not i.indisunique" > "$TMP/indexes.sql"
UNIQUE=(employees_email employees_employee_id)
add_unique() { # name
  case $1 in
    employees_email) echo "ALTER TABLE employees ADD CONSTRAINT employees_email UNIQUE (account_id, email_lower) DEFERRABLE INITIALLY DEFERRED;" ;;
    employees_employee_id) echo "ALTER TABLE employees ADD CONSTRAINT employees_employee_id UNIQUE (account_id, employee_id) DEFERRABLE INITIALLY DEFERRED;" ;;
  esac
}
drop() { # name
  case $1 in employees_email|employees_employee_id) echo "ALTER TABLE employees DROP CONSTRAINT $1;" ;; *) echo "DROP INDEX $1;" ;; esac
}
create() { # name
  case $1 in employees_email|employees_employee_id) add_unique "$1" ;; *) grep " $1 ON" "$TMP/indexes.sql" ;; esac
}
ALL=("${UNIQUE[@]}" $(sed -E 's/^CREATE (UNIQUE )?INDEX ([a-z_]+) .*/\2/' "$TMP/indexes.sql"))
run() { # label, SQL before the inserts, SQL after them (both in the transaction)
  $P -c "TRUNCATE employees, events, import_entries, retention_holds" -c "CHECKPOINT" > /dev/null
  echo "$1 | $($P -At <<SQL
BEGIN;
$2
SELECT clock_timestamp() AS t0 \gset
INSERT INTO employees SELECT * FROM src_employees ORDER BY key;
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS e \gset
$3
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS x \gset
INSERT INTO import_entries SELECT * FROM src_entries ORDER BY seq;
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS i \gset
INSERT INTO events SELECT * FROM src_events ORDER BY cursor_no;
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS v \gset
COMMIT;
SELECT 'employees ' || round(:e::numeric, 2) || ', re-create ' || round((:x - :e)::numeric, 2)
    || ', entries ' || round((:i - :x)::numeric, 2) || ', events ' || round((:v - :i)::numeric, 2)
    || ', total with the commit ' || round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2) || ' s';
SQL
)"
}
restore() { # names: put back what a variant dropped (outside the timing)
  $P -c "TRUNCATE employees, events, import_entries, retention_holds" > /dev/null
  for n in "$@"; do $P -c "$(create "$n")" > /dev/null; done
}
drops() { for n in "${ALL[@]}"; do drop "$n"; done; }
creates() { for n in "${ALL[@]}"; do create "$n"; done; }
run "every index" "" ""
run "no secondary index on employees" "$(drops)" ""; restore "${ALL[@]}"
run "indexes dropped, re-created after the insert" "$(drops)" "$(creates)"
for n in "${ALL[@]}"; do run "- $n" "$(drop "$n")" ""; restore "$n"; done
run "every index, again" "" ""
