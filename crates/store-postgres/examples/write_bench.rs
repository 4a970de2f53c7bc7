//! First-import and directory-load timings of the PostgreSQL store (the twin of
//! `crates/store-sqlite/examples/write_bench.rs`).
//!
//! ```text
//! bash .ci/postgres.sh start
//! export ROSTER_TEST_POSTGRES_URL="$(bash .ci/postgres.sh url)"
//! cargo run --release -p roster-store-postgres --example pg_write_bench -- --employees 100000
//! ```
//!
//! Writes N creates in one changeset into a fresh database on that server (dropped
//! afterwards), then loads the directory, and prints both times, the peak resident
//! memory of this process and the database size. Then every employee changes one
//! field and swaps its email with a neighbour in a second changeset (the update
//! path), timed too.

use roster_core::fields::FieldMap;
use std::time::Instant;

use roster_bench::{Meter, peak_rss_mib};

use jiff::Timestamp;
use jiff::civil::date;
use roster_core::employee::Employee;
use roster_core::plan::{Action, Rule};
use roster_store::contract::{change_entry, changeset, create_entry};
use roster_store::{ImportKind, Store};
use roster_store_postgres::testing::TestDb;

fn employee(i: usize) -> Employee {
    let day = (i % 28) as i8 + 1;
    let month = (i % 12) as i8 + 1;
    Employee {
        key: 0,
        employee_id: format!("E{i:07}"),
        source_id: Some(format!("mbr_{i:010x}")),
        email: format!("first.last{i}@acme.example"),
        secondary_email: i.is_multiple_of(3).then(|| format!("me{i}@home.example")),
        first_name: Some(format!("First{}", i % 977)),
        last_name: Some(format!("Last{}", i % 4099)),
        preferred_name: i.is_multiple_of(5).then(|| "Pat".to_string()),
        date_of_birth: Some(date(1960 + (i % 40) as i16, month, day)),
        start_date: Some(date(2000 + (i % 25) as i16, month, day)),
        latest_rehire_date: None,
        hire_date: Some(date(2000 + (i % 25) as i16, month, day)),
        end_date: None,
        manager_email: (i > 0).then(|| format!("first.last{}@acme.example", i / 8)),
        phone: Some(format!("+1 212 555 {:04}", i % 10_000)),
        demographics: FieldMap::from([
            ("Department".to_string(), format!("Department {}", i % 40)),
            (
                "Office".to_string(),
                ["New York", "London", "Zürich", "東京"][i % 4].to_string(),
            ),
            ("Job Title".to_string(), format!("Title {}", i % 300)),
        ]),
        active: true,
        deactivation_reason: None,
        is_manager: i < i.max(1) / 8,
        excluded: false,
        email_edited: false,
        merged_into: None,
    }
}

/// Write and load timings of the store.
#[derive(clap::Parser, Debug)]
#[command(name = "write_bench")]
struct Args {
    /// Employees in the changeset.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    employees: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = <Args as clap::Parser>::parse().employees;

    let db = TestDb::create().await;
    let store = db.store().await;
    let account = store.ensure_account("bench").await?;

    let started = Instant::now();
    let entries = (0..n).map(|i| create_entry(employee(i))).collect();
    let cs = changeset(ImportKind::Sync, Timestamp::now(), entries);
    let built = started.elapsed();

    let meter = Meter::start();
    store.write(account, cs).await?;
    let wrote = meter.stop();

    let meter = Meter::start();
    let directory = store.directory(account).await?;
    let loaded = meter.stop();
    assert_eq!(directory.len(), n);

    // Every employee gets a new phone number and swaps its email with a neighbour.
    let entries = directory
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut after = e.clone();
            after.phone = Some(format!("+44 20 7946 {:04}", i % 10_000));
            if let Some(neighbour) = directory.get(i ^ 1) {
                after.email = neighbour.email.clone();
            }
            change_entry(Action::Update, e, after, Rule::Source)
        })
        .collect();
    let cs = changeset(ImportKind::Sync, Timestamp::now(), entries);
    let meter = Meter::start();
    store.write(account, cs).await?;
    let updated = meter.stop();

    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(store.pool())
        .await?;
    println!("employees:      {n}");
    println!("build changeset {:>8.3} s", built.as_secs_f64());
    println!("write           {wrote}");
    println!("load directory  {loaded}");
    println!("update all      {updated}");
    println!("peak RSS        {:.0} MiB", peak_rss_mib());
    println!(
        "database size   {:>8.1} MiB",
        size as f64 / (1024.0 * 1024.0)
    );
    drop(directory);
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
