//! No byte sequence makes the importer panic: reading and then planning any input
//! gives a file error or a plan.

use jiff::civil::date;
use proptest::prelude::*;
use roster_core::plan::{PlanOptions, plan};
use roster_core::settings::Settings;
use roster_csv::{DateFormat, ReadOptions, describe, read};

fn import(bytes: &[u8], options: &ReadOptions, full: bool) {
    let settings = Settings::default();
    let Ok(f) = read(bytes, &settings, options) else {
        return;
    };
    let names = f.layout.column_names();
    let p = plan(
        &[],
        f.members,
        &f.rejected,
        &settings,
        date(2026, 11, 23),
        &PlanOptions {
            complete: full,
            deactivate_missing: false,
            only_fields: Some(f.layout.fields(full)),
            returning: Default::default(),
        },
    );
    for i in &p.issues {
        let _ = describe(i, &names);
    }
}

/// Bytes that look like a users file often enough to reach the row code.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::sample::select(vec![
        &b"Employee ID,Email,First Name,End Date,Manager Email,Employee Deactivated\n"[..],
        &b"\xEF\xBB\xBFemail;start date;latest rehire date;job title\r\n"[..],
        &b"Employee ID,Date of Birth,Secondary Email,Email\n"[..],
        &b""[..],
    ]);
    let cell = prop::sample::select(vec![
        &b"E1"[..],
        b"a@acme.example",
        b"A@ACME.EXAMPLE",
        b"2026-11-23",
        b"11/23/2026",
        b"TRUE",
        b"false",
        b"\"",
        b"\"\"",
        b"\"x\r\ny\"",
        b",",
        b";",
        b"\n",
        b"\r",
        b"\xFF\xFE",
        b"",
        b"   ",
    ]);
    (header, prop::collection::vec(cell, 0..60), any::<Vec<u8>>()).prop_map(|(h, cells, noise)| {
        let mut out = h.to_vec();
        for c in cells {
            out.extend_from_slice(c);
            out.push(b',');
        }
        out.extend(noise);
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in any::<Vec<u8>>(), semi in any::<bool>(), mdy in any::<bool>(), full in any::<bool>()) {
        let options = ReadOptions {
            delimiter: semi.then_some(b';'),
            date_format: if mdy { DateFormat::Mdy } else { DateFormat::Iso },
            map: Vec::new(),
        };
        import(&bytes, &options, full);
    }

    #[test]
    fn csv_like_bytes_never_panic(bytes in csvish(), mdy in any::<bool>(), full in any::<bool>()) {
        let options = ReadOptions {
            delimiter: None,
            date_format: if mdy { DateFormat::Mdy } else { DateFormat::Iso },
            map: Vec::new(),
        };
        import(&bytes, &options, full);
    }
}
