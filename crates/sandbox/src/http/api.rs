//! The Justworks `/v1` endpoints.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::Rng;
use serde_json::json;

use super::Granted;
use crate::error::ApiError;
use crate::model::{Company, Member};
use crate::scopes::{COMPANY_BASIC, COMPANY_DETAIL, MEMBER_BASIC, MEMBER_DETAIL, MEMBER_TAX_ID};
use crate::state::SandboxHandle;
use crate::wire::{MemberView, custom_values};

fn json_bytes(body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

pub(super) async fn unknown() -> ApiError {
    ApiError::not_found("this endpoint is not part of the sandbox")
}

pub(super) async fn company(
    State(h): State<SandboxHandle>,
    g: Granted,
) -> Result<Response, ApiError> {
    g.require(COMPANY_BASIC, "company.basic:read")?;
    let c = h.shared.company.read();
    Ok(json_bytes(
        serde_json::to_vec(&c.profile).expect("plain data"),
    ))
}

pub(super) async fn custom_fields(
    State(h): State<SandboxHandle>,
    g: Granted,
) -> Result<Response, ApiError> {
    g.require(COMPANY_DETAIL, "company.detail:read")?;
    let c = h.shared.company.read();
    let body = json!({ "items": c.custom_fields });
    Ok(json_bytes(serde_json::to_vec(&body).expect("plain data")))
}

/// A visible member's position, or 404.
fn visible(c: &Company, id: &str) -> Result<usize, ApiError> {
    c.find(id)
        .filter(|&p| !c.members[p].hidden)
        .ok_or_else(|| ApiError::not_found(format!("no member has id `{id}`")))
}

pub(super) async fn get_member(
    State(h): State<SandboxHandle>,
    g: Granted,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    g.require(MEMBER_BASIC, "member.basic:read")?;
    let c = h.shared.company.read();
    let pos = visible(&c, &id)?;
    let view = MemberView {
        c: &c,
        m: &c.members[pos],
        scopes: g.expanded(),
    };
    Ok(json_bytes(serde_json::to_vec(&view).expect("plain data")))
}

pub(super) async fn custom_field_values(
    State(h): State<SandboxHandle>,
    g: Granted,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    g.require(MEMBER_DETAIL, "member.detail:read")?;
    let c = h.shared.company.read();
    let pos = visible(&c, &id)?;
    let body = json!({ "items": custom_values(&c, &c.members[pos]) });
    Ok(json_bytes(serde_json::to_vec(&body).expect("plain data")))
}

/// A fake SSN derived from the id: 9 digits starting with 9, a range never issued
/// as an SSN.
fn fake_ssn(id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("9{:08}", h % 100_000_000)
}

pub(super) async fn tax_id(
    State(h): State<SandboxHandle>,
    g: Granted,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    g.require(MEMBER_TAX_ID, "member.tax_id:read")?;
    let c = h.shared.company.read();
    let pos = visible(&c, &id)?;
    let m = &c.members[pos];
    let kind = c.text.get(m.kind);
    if kind == "employee_eor" || kind == "international_employee" {
        return Err(ApiError::not_found(
            "international and EOR members have no U.S. tax id",
        ));
    }
    let international = c.text.get(m.location_type) == "international"
        || c.home_country(m).is_some_and(|cc| cc != "US");
    if kind == "contractor" && international {
        return Err(ApiError::bad_request(
            "tax ids are not available for international contractors",
        ));
    }
    let body = json!({ "US": { "ssn": fake_ssn(c.text.get(m.id)) } });
    Ok(json_bytes(serde_json::to_vec(&body).expect("plain data")))
}

/// Where a listing continues: after the member with this key. `page` counts the pages
/// served so far in this listing (for the insert-while-paging fault).
#[derive(Debug, PartialEq)]
struct Cursor {
    page: u32,
    created_at: Timestamp,
    id: String,
}

impl Cursor {
    fn encode(&self) -> String {
        let raw = format!(
            "c1.{}.{}.{}",
            self.page,
            self.created_at.as_nanosecond(),
            self.id
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    fn decode(s: &str) -> Option<Cursor> {
        let raw = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let rest = raw.strip_prefix("c1.")?;
        let mut parts = rest.splitn(3, '.');
        let page = parts.next()?.parse().ok()?;
        let ns: i128 = parts.next()?.parse().ok()?;
        let id = parts.next()?.to_owned();
        if id.is_empty() {
            return None;
        }
        Some(Cursor {
            page,
            created_at: Timestamp::from_nanosecond(ns).ok()?,
            id,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

struct ListQuery {
    limit: usize,
    cursor: Option<Cursor>,
    status: Option<bool>,
    filters: Vec<(Op, Timestamp)>,
}

fn parse_timestamp(name: &str, v: &str) -> Result<Timestamp, ApiError> {
    // A `+` in an unencoded offset arrives as a space; take it back.
    v.parse::<Timestamp>()
        .or_else(|e| v.replace(' ', "+").parse().map_err(|_| e))
        .map_err(|e| {
            ApiError::bad_request(format!("{name}: `{v}` is not an RFC 3339 timestamp ({e})"))
        })
}

fn parse_list_query(q: Option<&str>) -> Result<ListQuery, ApiError> {
    let mut out = ListQuery {
        limit: 100,
        cursor: None,
        status: None,
        filters: Vec::new(),
    };
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" => {
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("limit: `{v}` is not a number")))?;
                if !(1..=100).contains(&n) {
                    return Err(ApiError::bad_request(format!(
                        "limit: must be between 1 and 100, got {n}"
                    )));
                }
                out.limit = n;
            }
            "cursor" => {
                if !v.is_empty() {
                    out.cursor = Some(
                        Cursor::decode(&v)
                            .ok_or_else(|| ApiError::bad_request("cursor: not a valid cursor"))?,
                    );
                }
            }
            "status" => {
                out.status = match v.to_ascii_lowercase().as_str() {
                    "active" => Some(true),
                    "terminated" => Some(false),
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "status: must be `active` or `terminated`, got `{v}`"
                        )));
                    }
                }
            }
            name => {
                let op = match name {
                    "updated_at" => Op::Eq,
                    "updated_at_ne" => Op::Ne,
                    "updated_at_gt" => Op::Gt,
                    "updated_at_gte" => Op::Gte,
                    "updated_at_lt" => Op::Lt,
                    "updated_at_lte" => Op::Lte,
                    _ => continue,
                };
                out.filters.push((op, parse_timestamp(name, &v)?));
            }
        }
    }
    Ok(out)
}

/// Whether a member changed at `u` passes the query's `updated_at` filters.
fn stamp_matches(u: Timestamp, q: &ListQuery) -> bool {
    q.filters.iter().all(|&(op, ts)| match op {
        Op::Eq => u == ts,
        Op::Ne => u != ts,
        Op::Gt => u > ts,
        Op::Gte => u >= ts,
        Op::Lt => u < ts,
        Op::Lte => u <= ts,
    })
}

/// Whether the query lists `m` by what its record says besides its stamp (shown,
/// of the status asked for).
fn shown(m: &Member, q: &ListQuery) -> bool {
    !m.hidden && q.status.is_none_or(|active| m.active == active)
}

fn matches(m: &Member, q: &ListQuery) -> bool {
    shown(m, q) && stamp_matches(m.updated_at, q)
}

/// The positions from `start` of the members the query lists, in list order: the
/// `updated_at` filters tried on [`Company::stamps`] first (a filtered page of a
/// large company passes over many members for each it lists), a member's record
/// read only when its stamp matches.
fn listed<'c>(c: &'c Company, q: &'c ListQuery, start: usize) -> impl Iterator<Item = usize> + 'c {
    let stamps = c.stamps().get(start..).unwrap_or_default();
    stamps
        .iter()
        .enumerate()
        .filter(move |&(_, &u)| stamp_matches(u, q))
        .map(move |(i, _)| start + i)
        .filter(move |&i| shown(&c.members[i], q))
}

pub(super) async fn list_members(
    State(h): State<SandboxHandle>,
    g: Granted,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    g.require(MEMBER_BASIC, "member.basic:read")?;
    let q = parse_list_query(q.as_deref())?;
    let faults = h.faults();
    if faults.insert_while_paging && q.cursor.as_ref().is_some_and(|c| c.page == 1) {
        h.hire_random().map_err(ApiError::from)?;
    }
    let scopes = g.expanded();
    let mut body = Vec::with_capacity(q.limit * 1400 + 64);
    {
        let c = h.shared.company.read();
        let start = q
            .cursor
            .as_ref()
            .map_or(0, |k| c.position_after(k.created_at, &k.id));
        let mut picked: Vec<usize> = Vec::with_capacity(q.limit);
        let mut new_items = q.limit;
        if faults.duplicate_across_pages && q.limit >= 2 && start > 0 && q.cursor.is_some() {
            let prev = start - 1;
            let m = &c.members[prev];
            if let Some(k) = &q.cursor
                && m.created_at == k.created_at
                && c.text.get(m.id) == k.id
                && matches(m, &q)
            {
                picked.push(prev);
                new_items -= 1;
            }
        }
        let dup = picked.len();
        let mut more = false;
        for i in listed(&c, &q, start) {
            if picked.len() - dup == new_items {
                more = true;
                break;
            }
            picked.push(i);
        }
        body.extend_from_slice(b"{\"items\":[");
        for (k, &i) in picked.iter().enumerate() {
            if k > 0 {
                body.push(b',');
            }
            let view = MemberView {
                c: &c,
                m: &c.members[i],
                scopes,
            };
            serde_json::to_writer(&mut body, &view).expect("writing to a Vec cannot fail");
        }
        body.push(b']');
        if more && let Some(&last) = picked.last() {
            let m = &c.members[last];
            let next = Cursor {
                page: q.cursor.as_ref().map_or(1, |k| k.page.saturating_add(1)),
                created_at: m.created_at,
                id: c.text.get(m.id).to_owned(),
            };
            body.extend_from_slice(b",\"next_cursor\":");
            serde_json::to_writer(&mut body, &next.encode()).expect("writing to a Vec cannot fail");
        }
        body.push(b'}');
    }
    if faults.truncated_page_rate > 0.0 {
        let cut = h.shared.fault_rng.lock().random::<f64>() < faults.truncated_page_rate;
        if cut {
            body.truncate(body.len() / 2);
        }
    }
    Ok(json_bytes(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            page: 3,
            created_at: "2024-05-01T09:30:00.000001Z".parse().unwrap(),
            id: "mbr_a.b".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("garbage!"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("c1.x.1.mbr")), None);
    }

    #[test]
    fn list_query_bounds() {
        assert!(parse_list_query(Some("limit=0")).is_err());
        assert!(parse_list_query(Some("limit=101")).is_err());
        assert_eq!(parse_list_query(None).unwrap().limit, 100);
        assert!(parse_list_query(Some("status=gone")).is_err());
        assert!(parse_list_query(Some("updated_at_gte=yesterday")).is_err());
        let q = parse_list_query(Some("updated_at_gte=2024-05-01T09:30:00+00:00")).unwrap();
        assert_eq!(q.filters.len(), 1);
    }

    #[test]
    fn fake_ssn_is_stable_and_nine_digits() {
        let a = fake_ssn("mbr_1");
        assert_eq!(a, fake_ssn("mbr_1"));
        assert_eq!(a.len(), 9);
        assert!(a.starts_with('9'));
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
    }
}
