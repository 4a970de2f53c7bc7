use rstest::rstest;
use serde_json::{Value, json};

use super::*;

const Q: u64 = 7;

fn resources(n: i64) -> Vec<Value> {
    (1..=n).map(|i| json!({"id": i.to_string()})).collect()
}

fn ids(r: &ListResponse) -> Vec<i64> {
    r.resources
        .iter()
        .map(|v| v["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[rstest]
#[case(None, None, 1, DEFAULT_COUNT)]
#[case(Some("1"), Some("2"), 1, 2)]
#[case(Some("0"), Some("10"), 1, 10)]
#[case(Some("-5"), Some("10"), 1, 10)]
#[case(Some(" 3 "), Some("0"), 3, 0)]
#[case(Some("2"), Some("-1"), 2, 0)]
#[case(Some("1"), Some("1001"), 1, MAX_COUNT)]
#[case(Some("1"), Some("9223372036854775807"), 1, MAX_COUNT)]
#[case(Some("9223372036854775807"), None, 9223372036854775807, DEFAULT_COUNT)]
fn index_parameters(
    #[case] start: Option<&str>,
    #[case] count: Option<&str>,
    #[case] start_index: usize,
    #[case] expected_count: usize,
) {
    assert_eq!(
        Paging::parse(start, count, None, Q).unwrap(),
        Paging::Index {
            start_index,
            count: expected_count
        }
    );
}

#[rstest]
#[case(Some("one"), None)]
#[case(Some("1.5"), None)]
#[case(None, Some("ten"))]
#[case(None, Some(""))]
#[case(Some("99999999999999999999"), None)]
fn bad_parameters(#[case] start: Option<&str>, #[case] count: Option<&str>) {
    let err = Paging::parse(start, count, None, Q).unwrap_err();
    assert_eq!(err.scim_type(), Some("invalidValue"));
}

#[rstest]
#[case(1, 2, &[1, 2])]
#[case(4, 2, &[4, 5])]
#[case(5, 10, &[5])]
#[case(6, 10, &[])]
#[case(600, 10, &[])]
#[case(1, 0, &[])]
#[case(1, 100, &[1, 2, 3, 4, 5])]
fn index_pages(#[case] start_index: usize, #[case] count: usize, #[case] expected: &[i64]) {
    let p = Paging::Index { start_index, count };
    let r = p.page(resources(5), None, Q);
    assert_eq!(ids(&r), expected);
    assert_eq!(r.total_results, 5);
    assert_eq!(r.start_index, Some(start_index));
    assert!(r.next_cursor.is_none());
    let j = r.to_json();
    assert_eq!(j["itemsPerPage"], expected.len());
    assert_eq!(j["startIndex"], start_index);
    assert_eq!(j["schemas"][0], LIST_RESPONSE_SCHEMA);
    assert!(j.get("nextCursor").is_none());
}

/// Follow `nextCursor` to the end.
fn enumerate(all: &[Value], count: &str) -> (Vec<i64>, usize) {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let p = Paging::parse(None, Some(count), Some(&cursor), Q).unwrap();
        let r = p.page(all.to_vec(), None, Q);
        assert_eq!(r.total_results, all.len() as u64);
        assert!(r.start_index.is_none());
        seen.extend(ids(&r));
        pages += 1;
        match r.next_cursor {
            Some(c) => cursor = c,
            None => return (seen, pages),
        }
        assert!(pages < 100);
    }
}

#[rstest]
#[case(7, "3", 3)]
#[case(6, "3", 2)]
#[case(1, "3", 1)]
#[case(0, "3", 1)]
#[case(5, "1000", 1)]
fn cursor_enumerates_everything_once(#[case] n: i64, #[case] count: &str, #[case] pages: usize) {
    let all = resources(n);
    let (seen, p) = enumerate(&all, count);
    assert_eq!(seen, (1..=n).collect::<Vec<_>>());
    assert_eq!(p, pages);
}

#[test]
fn cursor_across_changes() {
    // Page 1 of 1..=6, then 2 is removed and 9 added: no one is skipped or repeated.
    let p = Paging::parse(None, Some("3"), Some(""), Q).unwrap();
    let r = p.page(resources(6), None, Q);
    assert_eq!(ids(&r), [1, 2, 3]);
    let mut changed: Vec<Value> = resources(6)
        .into_iter()
        .filter(|v| v["id"] != "2")
        .collect();
    changed.push(json!({"id": "9"}));
    let p = Paging::parse(None, Some("3"), r.next_cursor.as_deref(), Q).unwrap();
    let r = p.page(changed.clone(), None, Q);
    assert_eq!(ids(&r), [4, 5, 6]);
    let p = Paging::parse(None, Some("3"), r.next_cursor.as_deref(), Q).unwrap();
    let r = p.page(changed, None, Q);
    assert_eq!(ids(&r), [9]);
    assert!(r.next_cursor.is_none());
}

#[test]
fn cursor_with_count_zero_stays_in_place() {
    let p = Paging::parse(None, Some("0"), Some(""), Q).unwrap();
    let r = p.page(resources(3), None, Q);
    assert!(r.resources.is_empty());
    assert_eq!(r.total_results, 3);
    let again = Paging::parse(None, Some("2"), r.next_cursor.as_deref(), Q).unwrap();
    assert_eq!(ids(&again.page(resources(3), None, Q)), [1, 2]);
    // Nothing at all: no cursor.
    let r = p.page(Vec::new(), None, Q);
    assert!(r.next_cursor.is_none());
}

#[test]
fn cursor_errors() {
    assert_eq!(
        Paging::parse(None, None, Some("garbage"), Q)
            .unwrap_err()
            .scim_type(),
        Some("invalidCursor")
    );
    assert_eq!(
        Paging::parse(Some("2"), None, Some(""), Q)
            .unwrap_err()
            .scim_type(),
        Some("invalidValue")
    );
    // startIndex=1 with a cursor is cursor paging.
    assert!(matches!(
        Paging::parse(Some("1"), None, Some(""), Q).unwrap(),
        Paging::Cursor { after: None, .. }
    ));
    let token = Paging::Cursor {
        after: None,
        count: 1,
    }
    .page(resources(3), None, Q)
    .next_cursor
    .unwrap();
    assert_eq!(
        Paging::parse(None, None, Some(&token), Q + 1)
            .unwrap_err()
            .scim_type(),
        Some("invalidCursor")
    );
    let p = Paging::parse(None, None, Some(&token), Q).unwrap();
    assert_eq!(p.after_key(), Some(1));
    assert_eq!(p.offset(), 0);
}

#[test]
fn store_cut_pages() {
    let p = Paging::parse(None, Some("2"), Some(""), Q).unwrap();
    let r = p.finish(5, resources(2), true, None, Q);
    let next = Paging::parse(None, Some("2"), r.next_cursor.as_deref(), Q).unwrap();
    assert_eq!(next.after_key(), Some(2));
    let r = next.finish(5, vec![json!({"id": "3"})], false, None, Q);
    assert!(r.next_cursor.is_none());
    let j = r.to_json();
    assert_eq!(j["totalResults"], 5);
    assert!(j.get("startIndex").is_none());
    let idx = Paging::parse(Some("3"), Some("2"), None, Q).unwrap();
    assert_eq!(idx.offset(), 2);
    assert_eq!(idx.after_key(), None);
    assert_eq!(
        idx.finish(5, resources(2), true, None, Q).to_json()["startIndex"],
        3
    );
}

#[test]
fn unpaged_lists() {
    let j = ListResponse::all(resources(2)).to_json();
    assert_eq!(j["totalResults"], 2);
    assert_eq!(j["itemsPerPage"], 2);
    assert_eq!(j["startIndex"], 1);
}
