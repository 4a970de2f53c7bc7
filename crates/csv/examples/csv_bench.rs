//! CSV export and import throughput and peak RSS (issue #5).
//!
//! ```sh
//! cargo run --release -p roster-csv --example csv_bench -- 100000 --runs 3
//! ```
//!
//! Per run, on a synthetic directory of N employees (6 demographics, a manager
//! tree): export it to a file; then import that file as the engine does: read
//! (streamed) and plan a partial import over the directory (an unchanged round trip:
//! every row matched and compared, nothing to write), and a full one in which 1 % of
//! rows carry a new job title. The store is not involved (see the sync benchmark for
//! SQLite). Times are medians; peak RSS is the first run's `VmHWM` (reset before
//! the export and before each import; later runs would include what the allocator
//! kept from earlier ones).
//!
//! `csv_bench N --write FILE` only writes the synthetic directory as a users file,
//! to measure the `roster` binary itself (docs/benchmarks.md).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::time::Instant;

use jiff::civil::date;
use roster_core::employee::Employee;
use roster_core::plan::{PlanOptions, plan};
use roster_core::settings::{EmployeeIds, FieldKind, MappedField, Settings};
use roster_csv::{ExportOptions, ReadOptions, export, read};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TITLES: [&str; 8] = [
    "Engineer",
    "Senior Engineer",
    "Designer",
    "Product Manager",
    "Accountant",
    "Recruiter",
    "Support Specialist",
    "Sales Lead",
];
const DEPARTMENTS: [&str; 6] = [
    "Engineering",
    "Design",
    "Product",
    "Finance",
    "People",
    "Sales",
];
const CITIES: [(&str, &str); 4] = [
    ("New York", "US"),
    ("Austin", "US"),
    ("Toronto", "CA"),
    ("Lisbon", "PT"),
];

fn settings() -> Settings {
    let mut s = Settings {
        employee_ids: EmployeeIds::Source,
        ..Settings::default()
    };
    s.mapping.push(MappedField {
        source_key: "custom:team".into(),
        demographic: "Team".into(),
        kind: FieldKind::Default,
        privacy: None,
    });
    s
}

fn directory(n: usize) -> Vec<Employee> {
    let email = |i: usize| format!("person{i:07}@acme.example");
    (0..n)
        .map(|i| {
            let start = date(
                2015 + (i % 10) as i16,
                1 + (i % 12) as i8,
                1 + (i % 28) as i8,
            );
            let (city, country) = CITIES[i % CITIES.len()];
            let mut e = Employee {
                key: i as i64 + 1,
                employee_id: format!("E{i:07}"),
                source_id: Some(format!("E{i:07}")),
                email: email(i),
                secondary_email: (i % 3 == 0).then(|| format!("p{i}@home.example")),
                first_name: Some(format!("First{i}")),
                last_name: Some(format!("Last{}", i % 5000)),
                preferred_name: (i % 7 == 0).then(|| format!("Pref{i}")),
                date_of_birth: Some(date(
                    1960 + (i % 40) as i16,
                    1 + (i % 12) as i8,
                    1 + (i % 28) as i8,
                )),
                start_date: Some(start),
                hire_date: Some(start),
                manager_email: (i > 0).then(|| email((i - 1) / 10)),
                phone: Some(format!("+1555{i:07}")),
                active: true,
                is_manager: 10 * i + 1 < n,
                ..Employee::default()
            };
            for (k, v) in [
                ("Job Title", TITLES[i % TITLES.len()]),
                ("Department", DEPARTMENTS[i % DEPARTMENTS.len()]),
                ("Member Type", "employee"),
                ("Work City", city),
                ("Work Country", country),
                ("Team", DEPARTMENTS[(i / 7) % DEPARTMENTS.len()]),
            ] {
                e.demographics.insert(k, v);
            }
            e
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Reset `VmHWM` to the current RSS (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Figures {
    export_s: f64,
    bytes: u64,
    export_peak: f64,
    read_s: f64,
    plan_s: f64,
    import_peak: f64,
    full_read_s: f64,
    full_plan_s: f64,
    full_updated: usize,
    full_peak: f64,
}

fn run(n: usize) -> Figures {
    let s = settings();
    let dir = directory(n);
    let path = std::env::temp_dir().join(format!("roster-csv-bench-{}.csv", std::process::id()));

    reset_peak();
    let t = Instant::now();
    let file = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&path).unwrap());
    let written = export(file, &dir, &ExportOptions::from_settings(&s, true)).unwrap();
    let export_s = t.elapsed().as_secs_f64();
    assert_eq!(written, n);
    let export_peak = peak_rss_mib();
    let bytes = std::fs::metadata(&path).unwrap().len();

    let import = |full: bool, path: &std::path::Path| {
        reset_peak();
        let t = Instant::now();
        let f = read(
            std::fs::File::open(path).unwrap(),
            &s,
            &ReadOptions::default(),
        )
        .unwrap();
        let read_s = t.elapsed().as_secs_f64();
        assert_eq!(f.members.len(), n, "{:?}", f.rejected.first());
        let t = Instant::now();
        let p = plan(
            &dir,
            f.members,
            &f.rejected,
            &s,
            date(2026, 11, 23),
            &PlanOptions {
                complete: full,
                deactivate_missing: false,
                only_fields: Some(f.layout.fields(full)),
                returning: Default::default(),
            },
        );
        let plan_s = t.elapsed().as_secs_f64();
        (
            read_s,
            plan_s,
            p.counts.updated,
            p.entries.len(),
            peak_rss_mib(),
        )
    };

    let (read_s, plan_s, _, entries, import_peak) = import(false, &path);
    assert_eq!(entries, 0, "an unchanged export re-imports to nothing");

    // 1 % of rows with a new job title, imported full.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut edited = String::with_capacity(text.len() + n);
    for (i, line) in text.split_inclusive("\r\n").enumerate() {
        if i > 0 && i % 100 == 0 {
            // Line i holds employee i - 1.
            let t = TITLES[(i - 1) % TITLES.len()];
            edited.push_str(&line.replacen(&format!(",{t},"), &format!(",Staff {t},"), 1));
        } else {
            edited.push_str(line);
        }
    }
    drop(text);
    std::fs::write(&path, edited).unwrap();
    let (full_read_s, full_plan_s, full_updated, _, full_peak) = import(true, &path);
    let _ = std::fs::remove_file(&path);
    Figures {
        export_s,
        bytes,
        export_peak,
        read_s,
        plan_s,
        import_peak,
        full_read_s,
        full_plan_s,
        full_updated,
        full_peak,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CSV export and import with the planner on a synthetic directory.
#[derive(clap::Parser, Debug)]
#[command(name = "csv_bench")]
struct Args {
    /// Rows (employees) of the synthetic directory.
    #[arg(default_value_t = 100_000)]
    rows: usize,
    /// Runs; medians are printed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Only write the synthetic directory's export to this file (input for
    /// measuring the `roster` binary itself).
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let (n, runs) = (args.rows, args.runs as usize);
    if let Some(path) = &args.write {
        let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let s = settings();
        export(file, &directory(n), &ExportOptions::from_settings(&s, true)).unwrap();
        return;
    }
    let meter = roster_bench::Meter::start();
    let figures: Vec<Figures> = (0..runs).map(|_| run(n)).collect();
    let m = |f: fn(&Figures) -> f64| median(figures.iter().map(f).collect());
    let rate = |secs: f64| n as f64 / secs;
    let f0 = &figures[0];
    println!(
        "{n} rows, {runs} run(s), file {:.1} MiB",
        f0.bytes as f64 / (1 << 20) as f64
    );
    let export_s = m(|f| f.export_s);
    println!(
        "export                  {:>7.2} s  {:>9.0} rows/s  peak RSS {:>6.0} MiB",
        export_s,
        rate(export_s),
        f0.export_peak
    );
    let (r, p) = (m(|f| f.read_s), m(|f| f.plan_s));
    println!(
        "import partial, read    {:>7.2} s  {:>9.0} rows/s",
        r,
        rate(r)
    );
    println!(
        "import partial, plan    {:>7.2} s  {:>9.0} rows/s",
        p,
        rate(p)
    );
    println!(
        "import partial, total   {:>7.2} s  {:>9.0} rows/s  peak RSS {:>6.0} MiB",
        r + p,
        rate(r + p),
        f0.import_peak
    );
    let (r, p) = (m(|f| f.full_read_s), m(|f| f.full_plan_s));
    println!(
        "import full 1% changed  {:>7.2} s  {:>9.0} rows/s  peak RSS {:>6.0} MiB  ({} updated; read {:.2} s, plan {:.2} s)",
        r + p,
        rate(r + p),
        f0.full_peak,
        f0.full_updated,
        r,
        p
    );
    println!("all runs: {}", meter.stop());
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
