//! The users-file reader: dialect, header matching, and every bad-input case with
//! its exact message (file-level, row-level, and the core's issues named by line and
//! column).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use jiff::civil::date;
use roster_core::employee::Employee;
use roster_core::member::ManagerRef;
use roster_core::plan::{Plan, PlanOptions, plan};
use roster_core::settings::{EmployeeIds, Settings};
use roster_csv::{DateFormat, FileError, ReadOptions, describe, read};
use rstest::rstest;

fn opts() -> ReadOptions {
    ReadOptions::default()
}

fn parse(text: &[u8]) -> roster_csv::CsvFile {
    read(text, &Settings::default(), &opts()).expect("the file reads")
}

fn fail(text: &[u8], o: &ReadOptions) -> String {
    read(text, &Settings::default(), o)
        .expect_err("the file fails as a whole")
        .to_string()
}

/// Plan a file into `directory` the way the engine does, and describe every issue.
fn plan_file(directory: &[Employee], text: &[u8], full: bool) -> (Plan, Vec<String>) {
    let f = parse(text);
    let s = Settings {
        employee_ids: EmployeeIds::Source,
        ..Settings::default()
    };
    let p = plan(
        directory,
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
    let names = f.layout.column_names();
    let described = p.issues.iter().map(|i| describe(i, &names)).collect();
    (p, described)
}

const HEADER: &str = "Employee ID,Email,First Name,Last Name,Start Date,End Date,Manager Email";

#[test]
fn reads_the_directory_columns() {
    let f = parse(
        format!(
            "{HEADER},Job Title,Employee Deactivated\n\
             E1,ada@acme.example,Ada,Lovelace,2020-01-06,,,CEO,FALSE\n\
             E2,grace@acme.example,Grace,Hopper,2021-03-01,2026-12-31,ada@acme.example,Admiral,TRUE\n"
        )
        .as_bytes(),
    );
    assert_eq!(f.rows, 2);
    assert!(f.rejected.is_empty(), "{:?}", f.rejected);
    let grace = &f.members[1];
    assert_eq!(grace.source_id, "E2");
    assert_eq!(grace.position, 3, "position is the line");
    assert_eq!(grace.work_email.as_deref(), Some("grace@acme.example"));
    assert_eq!(grace.original_start_date.as_deref(), Some("2021-03-01"));
    assert_eq!(grace.end_date.as_deref(), Some("2026-12-31"));
    assert_eq!(
        grace.manager,
        ManagerRef::Email {
            email: "ada@acme.example".into()
        }
    );
    assert_eq!(grace.fields.get("job_title"), Some("Admiral"));
    assert_eq!(grace.exclude, Some(true));
    assert_eq!(f.members[0].exclude, Some(false));
    assert_eq!(f.members[0].manager, ManagerRef::None);
    assert!(f.notes.is_empty(), "{:?}", f.notes);
}

#[rstest]
#[case::spaces_and_case("employee id,EMAIL,first_name, Last  Name ")]
#[case::punctuation("Employee-ID;E-mail;First Name;Last Name")]
fn headers_match_case_and_space_insensitively(#[case] header: &str) {
    let sep = if header.contains(';') { ";" } else { "," };
    let text = format!(
        "{header}\nE1{sep}ada@acme.example{sep}Ada{sep}Lovelace\n",
        header = header
    );
    let f = parse(text.as_bytes());
    assert_eq!(f.members.len(), 1, "{:?}", f.rejected);
    let m = &f.members[0];
    assert_eq!(m.source_id, "E1");
    assert_eq!(m.work_email.as_deref(), Some("ada@acme.example"));
    assert_eq!(m.family_name.as_deref(), Some("Lovelace"));
}

#[test]
fn byte_order_mark_crlf_and_quoted_newlines() {
    let text = b"\xEF\xBB\xBFEmployee ID,Email,Last Name\r\nE1,ada@acme.example,\"Love\r\nlace\"\r\nE2,grace@acme.example,\"Hopper, \"\"Amazing\"\"\"\r\n";
    let f = parse(text);
    assert_eq!(f.members.len(), 2, "{:?}", f.rejected);
    assert_eq!(
        f.members[0].source_id, "E1",
        "the BOM is not part of the header"
    );
    assert_eq!(f.members[0].family_name.as_deref(), Some("Love\r\nlace"));
    assert_eq!(
        f.members[1].position, 4,
        "the quoted newline counts as a line"
    );
    assert_eq!(
        f.members[1].family_name.as_deref(),
        Some("Hopper, \"Amazing\"")
    );
    assert_eq!(f.bytes, text.len() as u64);
}

#[test]
fn semicolon_files_are_detected_or_told() {
    let text = b"Employee ID;Email;Job Title\nE1;ada@acme.example;CEO, founder\n";
    let f = parse(text);
    assert_eq!(f.delimiter, b';');
    assert_eq!(f.members[0].fields.get("job_title"), Some("CEO, founder"));
    assert_eq!(
        f.notes[0].message,
        "columns are separated by ';' (detected)"
    );
    let told = read(
        &text[..],
        &Settings::default(),
        &ReadOptions {
            delimiter: Some(b';'),
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(told.members.len(), 1);
    assert!(told.notes.is_empty());
}

#[rstest]
#[case::us("11/23/2026", Some("2026-11-23"))]
#[case::short("1/5/2026", Some("2026-01-05"))]
#[case::iso_still("2026-01-05", Some("2026-01-05"))]
#[case::day_first("23/11/2026", None)]
#[case::two_digit_year("11/23/26", None)]
#[case::feb_30("02/30/2026", None)]
fn month_day_year_dates(#[case] text: &str, #[case] want: Option<&str>) {
    let d = DateFormat::Mdy.read(text).map(|d| d.to_string());
    assert_eq!(d.as_deref(), want);
    let f = read(
        format!("Employee ID,End Date\nE1,{text}\n").as_bytes(),
        &Settings::default(),
        &ReadOptions {
            date_format: DateFormat::Mdy,
            ..opts()
        },
    )
    .unwrap();
    match want {
        Some(w) => assert_eq!(f.members[0].end_date.as_deref(), Some(w)),
        None => assert_eq!(
            f.rejected[0].reason,
            "column \"End Date\" is not a date in MM/DD/YYYY form"
        ),
    }
}

#[test]
fn iso_is_the_default_and_strict() {
    let f = parse(b"Employee ID,End Date,Date of Birth\nE1,11/23/2026,1990-5-1\nE2,2026-11-23,\n");
    assert_eq!(f.members.len(), 1);
    assert_eq!(f.rejected.len(), 1);
    assert_eq!(f.rejected[0].position, 2);
    assert_eq!(
        f.rejected[0].reason,
        "column \"End Date\" is not a date in YYYY-MM-DD form; column \"Date of Birth\" is not a date in YYYY-MM-DD form"
    );
}

// ---- bad input: every case with its exact message ------------------------------

#[rstest]
#[case::bad_date(
    "Employee ID,Email,End Date\nE1,a@acme.example,2026-13-01\n",
    "error: line 2: column \"End Date\" is not a date in YYYY-MM-DD form"
)]
#[case::wrong_column_count(
    "Employee ID,Email,First Name\nE1,a@acme.example\n",
    "error: line 2: 2 fields, but the header has 3 columns"
)]
#[case::too_many_columns(
    "Employee ID,Email\nE1,a@acme.example,extra\n",
    "error: line 2: 3 fields, but the header has 2 columns"
)]
#[case::invalid_utf8(
    "Employee ID,Email,Last Name\nE1,a@acme.example,Lovel\u{FFFD}\n",
    "error: line 2: column \"Last Name\" is not valid UTF-8"
)]
#[case::bad_flag(
    "Employee ID,Email,Employee Deactivated\nE1,a@acme.example,maybe\n",
    "error: line 2: column \"Employee Deactivated\" is neither TRUE nor FALSE"
)]
#[case::malformed_email(
    "Employee ID,Email\nE1,not-an-email\n",
    "error: line 2, column \"Email\": work_email is not a valid email address"
)]
#[case::duplicate_identifier(
    "Employee ID,Email\nE1,a@acme.example\nE2,b@acme.example\nE1,c@acme.example\n",
    "error: line 2, column \"Employee ID\": the same employee ID is on lines 2, 4"
)]
#[case::duplicate_email(
    "Employee ID,Email\nE1,a@acme.example\nE2,A@acme.example\n",
    "error: line 2, column \"Email\": the same email is on lines 2, 3"
)]
#[case::unknown_manager(
    "Employee ID,Email,Manager Email\nE1,a@acme.example,nobody@acme.example\n",
    "warning: line 2, column \"Manager Email\": the manager is not an active employee in the sync"
)]
#[case::no_identifier(
    "Employee ID,Email,First Name\n,,Ada\n",
    "error: line 2: member has neither an email nor an employee ID"
)]
fn bad_rows_name_line_and_column(#[case] text: &str, #[case] expected: &str) {
    // Invalid UTF-8 cannot sit in a &str: swap the replacement character for a
    // lone continuation byte.
    let bytes: Vec<u8> = text
        .replace('\u{FFFD}', "\u{0}")
        .bytes()
        .map(|b| if b == 0 { 0x80 } else { b })
        .collect();
    let (_, described) = plan_file(&[], &bytes, false);
    assert!(
        described.iter().any(|d| d == expected),
        "expected {expected:?} among {described:#?}"
    );
}

#[test]
fn a_bad_row_is_skipped_and_the_rest_planned() {
    let (p, described) = plan_file(
        &[],
        b"Employee ID,Email,End Date\nE1,a@acme.example,2026-13-01\nE2,b@acme.example,\n",
        false,
    );
    assert_eq!(p.counts.created, 1);
    assert_eq!(p.counts.skipped, 1);
    assert_eq!(p.counts.errors, 1);
    assert_eq!(described.len(), 1, "{described:?}");
}

#[rstest]
#[case::empty(b"" as &[u8], "the file is empty: a users file starts with a header row")]
#[case::only_blank_lines(
    b"\n\n\r\n",
    "the file is empty: a users file starts with a header row"
)]
#[case::no_identifier(
    b"First Name,Last Name\nAda,Lovelace\n",
    "line 1: the header has neither an \"Employee ID\" nor an \"Email\" column, so no row could be matched"
)]
#[case::header_not_utf8(
    b"Employee ID,Em\xFFail\n",
    "line 1, column 2: the header is not valid UTF-8"
)]
#[case::duplicate_column(
    b"Employee ID,Email,Work Email\n",
    "line 1: columns \"Email\" and \"Work Email\" both hold email"
)]
#[case::rehire_alone(
    b"Employee ID,Latest Rehire Date\n",
    "line 1: column \"Latest Rehire Date\" needs a \"Start Date\" column beside it"
)]
#[case::secondary_alone(
    b"Employee ID,Secondary Email\n",
    "line 1: column \"Secondary Email\" needs a \"Email\" column beside it"
)]
fn files_that_fail_as_a_whole(#[case] text: &[u8], #[case] expected: &str) {
    assert_eq!(fail(text, &opts()), expected);
}

#[test]
fn unknown_columns_are_reported_and_ignored_or_mapped() {
    let text = b"Employee ID,Email,Team Name,Notes,Hire Date,Is Manager\nE1,a@acme.example,Platform,hello,2020-01-01,TRUE\n";
    let f = parse(text);
    let notes: Vec<&str> = f.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        notes,
        [
            "column \"Team Name\" is no directory field or mapped demographic: ignored (map it with --map \"Team Name=FIELD\")",
            "column \"Notes\" is no directory field or mapped demographic: ignored (map it with --map \"Notes=FIELD\")",
            "\"Hire Date\", \"Is Manager\" derived by Roster: ignored",
        ]
    );
    assert!(f.members[0].fields.is_empty());

    let mapped = read(
        &text[..],
        &Settings::default(),
        &ReadOptions {
            map: vec![
                ("team name".into(), "Department".into()),
                ("Notes".into(), String::new()),
            ],
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(mapped.members[0].fields.get("department"), Some("Platform"));
    assert_eq!(mapped.notes.len(), 1, "{:?}", mapped.notes);
}

#[rstest]
#[case::unknown_target(
    "Team Name=Squad",
    "--map \"Team Name=Squad\": \"Squad\" is no directory field or mapped demographic (see `roster mapping`)"
)]
#[case::derived_target(
    "Team Name=Hire Date",
    "--map \"Team Name=Hire Date\": \"Hire Date\" is derived by Roster and cannot be imported"
)]
#[case::missing_column(
    "Squad=Department",
    "--map \"Squad\": the file has no column \"Squad\""
)]
fn bad_maps_fail_the_file(#[case] spec: &str, #[case] expected: &str) {
    let (h, t) = roster_csv::parse_map(spec).unwrap();
    let o = ReadOptions {
        map: vec![(h, t)],
        ..opts()
    };
    assert_eq!(fail(b"Employee ID,Team Name\nE1,x\n", &o), expected);
}

#[test]
fn a_map_without_equals_sign_is_refused() {
    assert_eq!(
        roster_csv::parse_map("Team Name").unwrap_err(),
        "--map \"Team Name\" must look like \"Header=field\" (or \"Header=\" to ignore the column)"
    );
}

#[test]
fn delimiters_parse() {
    assert_eq!(roster_csv::parse_delimiter(";"), Ok(b';'));
    assert_eq!(roster_csv::parse_delimiter("tab"), Ok(b'\t'));
    assert!(roster_csv::parse_delimiter(";;").is_err());
    assert!(roster_csv::parse_delimiter("\"").is_err());
}

#[test]
fn blank_rows_are_not_rows() {
    let f = parse(b"Employee ID,Email\nE1,a@acme.example\n,\n  ,  \n\nE2,b@acme.example\n");
    assert_eq!(f.rows, 2);
    assert_eq!(f.members.len(), 2);
    assert!(f.rejected.is_empty());
    assert_eq!(f.members[1].position, 6);
}

#[test]
fn an_io_error_fails_the_file() {
    struct Broken(usize);
    impl std::io::Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let line = b"Employee ID,Email\n";
            let n = line.len().min(buf.len());
            buf[..n].copy_from_slice(&line[..n]);
            self.0 -= 1;
            Ok(n)
        }
    }
    let e = read(Broken(1), &Settings::default(), &opts()).unwrap_err();
    assert!(matches!(e, FileError::Io(_)), "{e}");
    assert!(e.to_string().contains("disk on fire"), "{e}");
}
