#!/bin/bash
# The same sync by two builds, each on its own copy of a base database; the stored
# employees and history compared (every column but the times), and SQLite's
# integrity check of each (issue #15: a faster write must store what the old one did).
#
#   bash scripts/stored_rows_check.sh BASE.db OLD/roster NEW/roster [--incremental]
#
# BASE.db (with its .key beside it) is a database whose integration points at a
# running sandbox; each build runs `sync [--incremental] --apply --yes` on a copy.
set -euo pipefail
base=$1; old=$2; new=$3; flag=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for build in "$old" "$new"; do
  db="$work/copy.db"
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$base" "$db"; cp "$base.key" "$db.key"
  "$build" --db "$db" sync $flag --apply --yes --json >/dev/null
  rows=$(sqlite3 "$db" "SELECT key, account_id, employee_id, source_id, email, email_lower,
    search_text, secondary_email, first_name, last_name, preferred_name, date_of_birth, start_date,
    latest_rehire_date, hire_date, end_date, manager_email, phone, demographics, active,
    deactivation_reason, is_manager, excluded, email_edited, merged_into, last_import_id,
    employee_id_lower, secondary_email_lower, manager_lower, history_import_id
    FROM employees ORDER BY key" | md5sum | cut -d' ' -f1)
  history=$(sqlite3 "$db" "SELECT import_id, seq, employee_key, employee_id, action, applied, held,
    privacy, created, changes, after, prev_import_id FROM import_entries ORDER BY import_id, seq" \
    | md5sum | cut -d' ' -f1)
  echo "$build: employees $rows, entries $history, integrity $(sqlite3 "$db" 'PRAGMA integrity_check')"
done
