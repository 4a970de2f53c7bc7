//! First-import and directory-load timings of the SQLite store.
//!
//! `cargo run --release -p roster-store-sqlite --example write_bench -- --employees 100000`
//!
//! Writes N creates in one changeset into a fresh temporary file, then loads the
//! directory, and prints both times and the peak resident memory.

use roster_core::fields::FieldMap;
use std::time::Instant;

use roster_bench::{Meter, peak_rss_mib};

use jiff::Timestamp;
use jiff::civil::date;
use roster_core::employee::Employee;
use roster_store::contract::{changeset, create_entry};
use roster_store::{ImportKind, Store};
use roster_store_sqlite::SqliteStore;

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
    /// Keep the database at this path (a new file) instead of a temporary one, to
    /// compare the stored rows of two builds.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = <Args as clap::Parser>::parse();
    let n = args.employees;

    let dir = tempfile::tempdir()?;
    let path = args.keep.unwrap_or_else(|| dir.path().join("bench.db"));
    let store = SqliteStore::open(path.to_str().ok_or("non-UTF-8 temp path")?).await?;
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

    println!("employees:      {n}");
    println!("build changeset {:>8.3} s", built.as_secs_f64());
    println!("write           {wrote}");
    println!("load directory  {loaded}");
    println!("peak RSS        {:.0} MiB", peak_rss_mib());
    drop(directory);
    store.close().await; // checkpoints the WAL into the file
    let size = std::fs::metadata(&path)?.len();
    println!(
        "database size   {:>8.1} MiB",
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
