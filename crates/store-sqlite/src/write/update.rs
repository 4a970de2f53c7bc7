//! Updating employees in bulk without rewriting indexes whose values stay (issue
//! #15: the cost of a sync follows the change, not the company).
//!
//! SQLite rewrites an index entry of every updated row whose index holds a column
//! the `SET` list names, changed or not, and each rewrite touches a page of that
//! index: in a large directory a different page for every row, read, written to
//! the WAL and checkpointed. So one statement sets every column no index of
//! `employees` holds, for every row (with the row's time and import); then, per
//! group of indexed columns ([`INDEXED`]), one statement sets those columns only on
//! the rows where one of them differs. Every column is still written whenever its
//! value changes: the grouping decides only what is left untouched when equal, so
//! an index added later on a column of the first statement costs time, not
//! correctness.
//!
//! Which rows a group's statement would find different is known before it runs:
//! the indexed columns of the updated rows are read once ([`Held::read`]), so a
//! group's statement binds only the rows where a value differs, and is not run
//! when none does (a small sync changes few of them: of the 17 statements of a
//! 1,000-member sync, 15 found nothing to write; skipping them took 4–15 ms off the
//! write; docs/benchmarks.md, issue #15, session 18). The statements keep their own
//! test of difference, so a value read wrongly costs a statement, never a write; and
//! a write updating more than [`HELD_AT_MOST`] rows reads none (every row bound to
//! every statement, as before), so that what is held stays small.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use roster_core::employee::Employee;
use roster_store::sql::employee::{Kind, WRITE_COLUMNS, write_values};
use roster_store::sql::{Arg, Columns, Executor, Query};
use roster_store::{AccountId, ImportId, StoreError};
use sqlx::sqlite::SqliteArguments;

use super::{cached, run, values};
use crate::exec::{Tx, add, bind};

/// The columns of `employees` that its secondary indexes hold (keys or partial
/// index conditions), in the groups set together: an ID and its lower case; the
/// email key; the source id; the birth date; the manager's email and its key; the
/// active flag; the secondary email's key. `updated_at` is indexed too, but it
/// changes with every update.
pub(super) const INDEXED: &[&[&str]] = &[
    &["employee_id", "employee_id_lower"],
    &["email_lower"],
    &["source_id"],
    &["date_of_birth"],
    &["manager_email", "manager_lower"],
    &["active"],
    &["secondary_email_lower"],
];

/// Where a written column goes: the first statement or one of the groups.
fn group_of(column: &str) -> Option<usize> {
    INDEXED.iter().position(|g| g.contains(&column))
}

/// The columns of [`WRITE_COLUMNS`] (after the key) no index holds.
fn plain() -> Vec<&'static str> {
    WRITE_COLUMNS[1..]
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| group_of(c).is_none())
        .collect()
}

/// `(?, ?), (?, ?)` …, per row the key and `columns` values.
fn rows_of(rows: usize, columns: usize) -> String {
    values(rows, columns + 1)
}

/// Binds: updated_at, import id; per row the key and the [`plain`] columns;
/// account.
pub(super) fn update_plain_sql(rows: usize) -> String {
    let columns = plain();
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = v.column{}", i + 2))
        .collect();
    format!(
        "UPDATE employees SET {}, updated_at = ?, last_import_id = ? FROM (VALUES {}) AS v \
         WHERE employees.key = v.column1 AND employees.account_id = ?",
        set.join(", "),
        rows_of(rows, columns.len())
    )
}

/// Binds: per row the key and the group's columns; account. Only rows where one
/// of them differs are written.
pub(super) fn update_group_sql(group: usize, rows: usize) -> String {
    let columns = INDEXED[group];
    let (mut set, mut differs) = (Vec::new(), Vec::new());
    for (i, c) in columns.iter().enumerate() {
        set.push(format!("{c} = v.column{}", i + 2));
        differs.push(format!("employees.{c} IS NOT v.column{}", i + 2));
    }
    format!(
        "UPDATE employees SET {} FROM (VALUES {}) AS v \
         WHERE employees.key = v.column1 AND employees.account_id = ? AND ({})",
        set.join(", "),
        rows_of(rows, columns.len()),
        differs.join(" OR ")
    )
}

/// A stored value of an indexed column, as far as it compares with a written one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    /// Did not decode as the column's kind: compares unequal to everything.
    Unknown,
}

impl Cell {
    /// Whether writing `arg` would leave the stored value as it is (SQL's `IS`,
    /// as the statements test it).
    fn is(&self, arg: &Arg) -> bool {
        match (self, arg) {
            (Cell::Text(held), Arg::Text(new)) => held == new,
            (Cell::Int(held), Arg::Int(new)) => held == new,
            (Cell::Int(Some(held)), Arg::Bool(new)) => *held == i64::from(*new),
            _ => false,
        }
    }

    /// [`Cell::is`] for a text, without making an argument of it.
    fn is_text(&self, new: Option<&str>) -> bool {
        matches!(self, Cell::Text(held) if held.as_deref() == new)
    }
}

/// Updated rows whose indexed columns are read at most (≈ 200 bytes each).
pub(super) const HELD_AT_MOST: usize = 50_000;

/// The indexed columns ([`INDEXED`], group by group) of the employees a write
/// updates, as the rows hold them, by key: as read, then as the clear of moving
/// identifiers leaves them ([`Held::moves`]).
#[derive(Debug, Default)]
pub(super) struct Held {
    rows: HashMap<i64, Vec<Cell>>,
}

/// Where group `group`'s columns begin among the held cells.
fn group_start(group: usize) -> usize {
    INDEXED[..group].iter().map(|g| g.len()).sum()
}

/// Where indexed column `name` is among the held cells.
fn cell_of(name: &str) -> usize {
    indexed_columns()
        .position(|(c, _)| c == name)
        .expect("a column of INDEXED")
}

/// The indexed columns, group by group, with their kinds.
fn indexed_columns() -> impl Iterator<Item = (&'static str, Kind)> {
    INDEXED.iter().flat_map(|g| g.iter()).map(|c| {
        let kind = WRITE_COLUMNS
            .iter()
            .find(|(w, _)| w == c)
            .map_or(Kind::Text, |(_, k)| *k);
        (*c, kind)
    })
}

impl Held {
    /// Read the indexed columns of the employees `keys` of `account` (none when
    /// they are more than [`HELD_AT_MOST`]).
    pub(super) async fn read(
        tx: &mut Tx,
        account: AccountId,
        keys: Vec<i64>,
    ) -> Result<Held, StoreError> {
        if keys.is_empty() || keys.len() > HELD_AT_MOST {
            return Ok(Held::default());
        }
        let columns: Vec<(&str, Kind)> = indexed_columns().collect();
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let sql = format!(
            // `+account_id`: found by the table's key alone (through the account's
            // index, every row was two searches).
            "SELECT key, {} FROM employees WHERE key IN (SELECT value FROM json_each(?2)) \
             AND +account_id = ?1",
            names.join(", ")
        );
        let found = tx
            .fetch_all(Query::new(sql).bind(account).bind(Arg::Ints(keys)))
            .await?;
        let mut rows = HashMap::with_capacity(found.len());
        for row in &found {
            let key = row.int(0, "employees.key")?;
            let cells = columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    Kind::Text => row
                        .opt_text(i + 1, "employees")
                        .map_or(Cell::Unknown, |v| Cell::Text(v.map(str::to_owned))),
                    _ => row
                        .opt_int(i + 1, "employees")
                        .map_or(Cell::Unknown, Cell::Int),
                })
                .collect();
            rows.insert(key, cells);
        }
        Ok(Held { rows })
    }

    /// The cells of group `group` of employee `key`, if read.
    fn group(&self, key: i64, group: usize) -> Option<&[Cell]> {
        let start = group_start(group);
        self.rows
            .get(&key)
            .map(|cells| &cells[start..start + INDEXED[group].len()])
    }

    /// Whether writing `new` (group `group`'s values) to employee `key` changes a
    /// value: when it was not read, it may.
    fn differs(&self, key: i64, group: usize, new: &[Arg]) -> bool {
        self.group(key, group).is_none_or(|held| {
            held.len() != new.len() || !held.iter().zip(new).all(|(h, n)| h.is(n))
        })
    }

    /// Whether employee `key`'s ID or email key moves (`employee_id`, `email_lower`
    /// as written): then the write clears them first, and the held row says so
    /// (both `NULL`, as the clear leaves them).
    pub(super) fn moves(&mut self, key: i64, employee_id: &str, email_lower: Option<&str>) -> bool {
        let (id_at, email_at) = (cell_of("employee_id"), cell_of("email_lower"));
        let Some(cells) = self.rows.get_mut(&key) else {
            return true;
        };
        let moves =
            !(cells[id_at].is_text(Some(employee_id)) && cells[email_at].is_text(email_lower));
        if moves {
            cells[id_at] = Cell::Text(None);
            cells[email_at] = Cell::Text(None);
        }
        moves
    }
}

static UPDATE_PLAIN: OnceLock<Arc<str>> = OnceLock::new();
static UPDATE_GROUP: [OnceLock<Arc<str>>; 7] = [const { OnceLock::new() }; 7];

/// One chunk of updates: the arguments of the first statement, and of each group's
/// with how many rows it binds (those where a value differs from `held`).
fn chunk_args(
    chunk: Vec<(i64, Employee)>,
    finished: &Arc<str>,
    (account, import_id): (AccountId, ImportId),
    held: &Held,
) -> Result<(SqliteArguments, Vec<(SqliteArguments, usize)>), StoreError> {
    let mut first = SqliteArguments::default();
    add(&mut first, finished.clone())?;
    bind(&mut first, Arg::Int(Some(import_id)))?;
    let mut groups: Vec<(SqliteArguments, usize)> =
        INDEXED.iter().map(|_| Default::default()).collect();
    let targets: Vec<Option<usize>> = WRITE_COLUMNS[1..]
        .iter()
        .map(|(c, _)| group_of(c))
        .collect();
    let mut row: Vec<Vec<Arg>> = INDEXED
        .iter()
        .map(|g| Vec::with_capacity(g.len()))
        .collect();
    for (key, e) in chunk {
        bind(&mut first, Arg::Int(Some(key)))?;
        // write_values gives the key first, then the columns in WRITE_COLUMNS order,
        // the order in which INDEXED lists each group's (a test checks it).
        for (v, target) in write_values(key, e)?.into_iter().skip(1).zip(&targets) {
            match target {
                None => bind(&mut first, v)?,
                Some(g) => row[*g].push(v),
            }
        }
        for (g, values) in row.iter_mut().enumerate() {
            if held.differs(key, g, values) {
                let (args, n) = &mut groups[g];
                bind(args, Arg::Int(Some(key)))?;
                for v in values.drain(..) {
                    bind(args, v)?;
                }
                *n += 1;
            } else {
                values.clear();
            }
        }
    }
    bind(&mut first, Arg::Int(Some(account)))?;
    for (args, _) in &mut groups {
        bind(args, Arg::Int(Some(account)))?;
    }
    Ok((first, groups))
}

/// Update the employees of `chunk` (at most `full` rows); the rows the first
/// statement found (every row of the chunk unless one is missing). A group's
/// statement runs only for the rows where `held` says one of its values differs.
pub(super) async fn update_chunk(
    tx: &mut Tx,
    chunk: Vec<(i64, Employee)>,
    full: usize,
    (account, import_id, finished): (AccountId, ImportId, &Arc<str>),
    held: &Held,
) -> Result<u64, StoreError> {
    let n = chunk.len();
    let (first, groups) = chunk_args(chunk, finished, (account, import_id), held)?;
    let sql = cached(&UPDATE_PLAIN, n, full, update_plain_sql);
    let found = run(tx.conn(), sql, first).await?;
    for (g, (args, rows)) in groups.into_iter().enumerate() {
        if rows == 0 {
            continue;
        }
        let sql = cached(&UPDATE_GROUP[g], rows, full, |rows| {
            update_group_sql(g, rows)
        });
        run(tx.conn(), sql, args).await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_column_is_set_by_exactly_one_statement() {
        let mut set: Vec<&str> = plain();
        for g in INDEXED {
            set.extend(g.iter());
        }
        set.sort_unstable();
        let mut written: Vec<&str> = WRITE_COLUMNS[1..].iter().map(|(c, _)| *c).collect();
        written.sort_unstable();
        assert_eq!(set, written);
        assert_eq!(UPDATE_GROUP.len(), INDEXED.len());
        let at = |c: &str| WRITE_COLUMNS.iter().position(|(w, _)| *w == c);
        for g in INDEXED {
            let order: Vec<_> = g.iter().map(|c| at(c)).collect();
            assert!(
                order.is_sorted() && order.iter().all(Option::is_some),
                "{g:?}"
            );
        }
    }

    /// What `held` would hold for `e` as written under `key`.
    fn held_as_written(key: i64, e: &Employee) -> Vec<Cell> {
        let values = write_values(key, e.clone()).unwrap();
        indexed_columns()
            .map(|(c, _)| {
                let at = WRITE_COLUMNS.iter().position(|(w, _)| *w == c).unwrap();
                match &values[at] {
                    Arg::Text(v) => Cell::Text(v.clone()),
                    Arg::Int(v) => Cell::Int(*v),
                    Arg::Bool(b) => Cell::Int(Some(i64::from(*b))),
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    }

    fn employee() -> Employee {
        Employee {
            employee_id: "E1".into(),
            email: "Ada@Acme.example".into(),
            manager_email: Some("Boss@acme.example".into()),
            active: true,
            ..Employee::default()
        }
    }

    /// How many rows each group's statement binds for `new` over `held`.
    fn bound(new: &Employee, held: &Held) -> Vec<usize> {
        let (_, groups) = chunk_args(vec![(7, new.clone())], &"t".into(), (1, 1), held).unwrap();
        groups.iter().map(|(_, n)| *n).collect()
    }

    #[test]
    fn a_group_binds_only_the_rows_where_one_of_its_values_differs() {
        let before = employee();
        let mut held = Held::default();
        held.rows.insert(7, held_as_written(7, &before));
        assert_eq!(bound(&before, &held), [0; 7], "nothing differs");

        let mut after = before.clone();
        after.employee_id = "e1".into();
        after.active = false;
        assert_eq!(bound(&after, &held), [1, 0, 0, 0, 0, 1, 0]);
        let mut after = before.clone();
        after.manager_email = None;
        after.secondary_email = Some("ada@home.example".into());
        assert_eq!(bound(&after, &held), [0, 0, 0, 0, 1, 0, 1]);

        // Not read (missing, or a value that did not decode): every group may differ.
        assert_eq!(bound(&before, &Held::default()), [1; 7]);
        let mut odd = held_as_written(7, &before);
        odd[3] = Cell::Unknown;
        let held = Held {
            rows: HashMap::from([(7, odd)]),
        };
        assert_eq!(bound(&before, &held), [0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn a_row_whose_identifiers_move_is_cleared_and_both_set_again() {
        let before = employee();
        let mut held = Held::default();
        held.rows.insert(7, held_as_written(7, &before));
        assert!(!held.moves(7, "E1", Some("ada@acme.example")));
        assert_eq!(bound(&before, &held), [0; 7]);
        // The ID moves, the email stays: the clear sets both to NULL, so both
        // groups write the row again.
        assert!(held.moves(7, "E2", Some("ada@acme.example")));
        assert_eq!(bound(&before, &held), [1, 1, 0, 0, 0, 0, 0]);
        assert!(Held::default().moves(8, "E8", None), "not read: cleared");
    }

    #[tokio::test]
    async fn a_large_write_reads_nothing_and_a_small_one_reads_its_rows() {
        use roster_store::sql::{Adapter, Begin, Transaction};
        let store = crate::SqliteStore::open("sqlite::memory:").await.unwrap();
        let mut tx = store.begin(Begin::Write).await.unwrap();
        for sql in [
            "INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 't'), (2, 'b', 't')",
            "INSERT INTO employees (key, account_id, employee_id, email_lower, search_text, \
             demographics, active, is_manager, excluded, email_edited, updated_at) VALUES \
             (1, 1, 'E1', 'ada@x.example', '', '{}', 1, 0, 0, 0, 't'), \
             (2, 2, 'E2', NULL, '', '{}', 0, 0, 0, 0, 't')",
        ] {
            tx.execute(Query::new(sql)).await.unwrap();
        }
        // The account's rows only; a key without a row is not held.
        let small = Held::read(&mut tx, 1, vec![1, 2, 3]).await.unwrap();
        assert_eq!(small.rows.keys().collect::<Vec<_>>(), [&1]);
        assert_eq!(small.group(1, 0).unwrap()[0], Cell::Text(Some("E1".into())));
        assert_eq!(
            small.group(1, 1).unwrap(),
            [Cell::Text(Some("ada@x.example".into()))]
        );
        assert_eq!(small.group(1, 5).unwrap(), [Cell::Int(Some(1))]);
        // Too many to hold: not read.
        let keys: Vec<i64> = (1..=HELD_AT_MOST as i64 + 1).collect();
        let large = Held::read(&mut tx, 1, keys).await.unwrap();
        assert!(large.rows.is_empty());
        tx.commit().await.unwrap();
    }

    #[test]
    fn a_stored_value_is_the_written_one_only_when_sql_would_say_so() {
        let text = |v: Option<&str>| Arg::Text(v.map(str::to_owned));
        assert!(Cell::Text(Some("a".into())).is(&text(Some("a"))));
        assert!(!Cell::Text(Some("a".into())).is(&text(Some("A"))));
        assert!(Cell::Text(None).is(&text(None)));
        assert!(!Cell::Text(None).is(&text(Some(""))));
        assert!(Cell::Int(Some(1)).is(&Arg::Bool(true)));
        assert!(!Cell::Int(Some(0)).is(&Arg::Bool(true)));
        assert!(!Cell::Int(None).is(&Arg::Bool(false)));
        assert!(!Cell::Unknown.is(&text(None)));
        assert!(!Cell::Text(Some("1".into())).is(&Arg::Int(Some(1))));
        for (cell, new) in [
            (Cell::Text(Some("a".into())), Some("a")),
            (Cell::Text(Some("a".into())), Some("A")),
            (Cell::Text(None), None),
            (Cell::Text(None), Some("")),
            (Cell::Int(None), None),
            (Cell::Unknown, None),
        ] {
            assert_eq!(cell.is_text(new), cell.is(&text(new)), "{cell:?} {new:?}");
        }
    }

    #[test]
    fn a_group_writes_only_rows_where_it_differs() {
        let sql = update_group_sql(0, 2);
        assert_eq!(
            sql,
            "UPDATE employees SET employee_id = v.column2, employee_id_lower = v.column3 \
             FROM (VALUES (?, ?, ?), (?, ?, ?)) AS v WHERE employees.key = v.column1 \
             AND employees.account_id = ? AND (employees.employee_id IS NOT v.column2 \
             OR employees.employee_id_lower IS NOT v.column3)"
        );
        let plain = update_plain_sql(1);
        assert!(plain.starts_with("UPDATE employees SET email = v.column2, "));
        assert!(!plain.contains("employee_id"), "{plain}");
        assert!(plain.contains("updated_at = ?, last_import_id = ?"));
    }
}
