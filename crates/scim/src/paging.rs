//! Paging: RFC 7644 §3.4.2.4 index paging (`startIndex`, `count`) and RFC 9865 cursor
//! paging (`cursor`, `nextCursor`), and the ListResponse.
//!
//! - `startIndex` is 1-based; below 1 it is read as 1. Past the end: no resources,
//!   `totalResults` still right.
//! - `count` below 0 is read as 0 (`totalResults` only); above [`MAX_COUNT`] it is
//!   clamped to it; absent, [`DEFAULT_COUNT`].
//! - `cursor` empty (or `?cursor` alone) asks for the first page; a `nextCursor`
//!   asks for the next. `startIndex` above 1 with a cursor is `invalidValue`.
//! - Non-numbers are `invalidValue`; a bad cursor is `invalidCursor`.

use serde_json::{Value, json};

use crate::cursor::Cursor;
use crate::error::ScimError;
use crate::sort::{OrderId, Position};
use crate::sort::{Sort, position};

/// Page size when the client gives no `count`.
pub const DEFAULT_COUNT: usize = 100;
/// The most resources in one response (`filter.maxResults`, `maxPageSize`).
pub const MAX_COUNT: usize = 1000;

/// The ListResponse message schema.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// How a client pages.
#[derive(Clone, Debug, PartialEq)]
pub enum Paging {
    /// Offsets: the `start_index`-th (1-based) result and `count` more.
    Index { start_index: usize, count: usize },
    /// Keyset: `count` results after `after` (`None`: from the start).
    Cursor {
        after: Option<Position>,
        count: usize,
    },
}

fn int(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::InvalidValue(format!("{name} must be an integer, not {text:?}")))
}

impl Paging {
    /// From the parameters as text; `query` is the query key ([`crate::Query::key`]) a
    /// cursor must carry.
    pub fn parse(
        start_index: Option<&str>,
        count: Option<&str>,
        cursor: Option<&str>,
        query: u64,
    ) -> Result<Paging, ScimError> {
        let start_index = match start_index {
            None => 1,
            Some(s) => int("startIndex", s)?.clamp(1, i64::MAX) as usize,
        };
        let count = match count {
            None => DEFAULT_COUNT,
            Some(c) => int("count", c)?.clamp(0, MAX_COUNT as i64) as usize,
        };
        match cursor {
            None => Ok(Paging::Index { start_index, count }),
            Some(_) if start_index > 1 => Err(ScimError::InvalidValue(
                "use either startIndex or cursor, not both".into(),
            )),
            Some(c) if c.trim().is_empty() => Ok(Paging::Cursor { after: None, count }),
            Some(c) => Ok(Paging::Cursor {
                after: Cursor::decode(c.trim(), query)?.after,
                count,
            }),
        }
    }

    /// The page size.
    pub fn count(&self) -> usize {
        match self {
            Paging::Index { count, .. } | Paging::Cursor { count, .. } => *count,
        }
    }

    /// For a store paging users by key: the key after which the page starts.
    pub fn after_key(&self) -> Option<i64> {
        match self {
            Paging::Cursor {
                after:
                    Some(Position {
                        id: OrderId::Num(k),
                        ..
                    }),
                ..
            } => Some(*k),
            _ => None,
        }
    }

    /// For a store paging by offset: how many rows to skip.
    pub fn offset(&self) -> usize {
        match self {
            Paging::Index { start_index, .. } => start_index - 1,
            Paging::Cursor { .. } => 0,
        }
    }

    /// Page resources already filtered and ordered ([`crate::sort::sort_resources`]
    /// with the same `sort`).
    pub fn page(&self, ordered: Vec<Value>, sort: Option<&Sort>, query: u64) -> ListResponse {
        let total = ordered.len() as u64;
        match self {
            Paging::Index { start_index, count } => ListResponse {
                total_results: total,
                start_index: Some(*start_index),
                resources: ordered
                    .into_iter()
                    .skip(start_index - 1)
                    .take(*count)
                    .collect(),
                next_cursor: None,
            },
            Paging::Cursor { after, count } => {
                let descending = sort.is_some_and(|s| s.descending);
                let start = match after {
                    None => 0,
                    Some(a) => ordered
                        .iter()
                        .position(|r| position(sort, r).cmp(a, descending).is_gt())
                        .unwrap_or(ordered.len()),
                };
                let rest = ordered.len() - start;
                let page: Vec<Value> = ordered.into_iter().skip(start).take(*count).collect();
                self.finish(total, page, rest > *count, sort, query)
            }
        }
    }

    /// The response for a page the store cut itself: `page` holds the rows in order,
    /// `more` says whether rows follow it (fetch `count + 1` to know).
    pub fn finish(
        &self,
        total: u64,
        page: Vec<Value>,
        more: bool,
        sort: Option<&Sort>,
        query: u64,
    ) -> ListResponse {
        match self {
            Paging::Index { start_index, .. } => ListResponse {
                total_results: total,
                start_index: Some(*start_index),
                resources: page,
                next_cursor: None,
            },
            Paging::Cursor { after, .. } => {
                let next_cursor = more.then(|| {
                    Cursor {
                        query,
                        after: match page.last() {
                            Some(last) => Some(position(sort, last)),
                            // count=0: the same place again.
                            None => after.clone(),
                        },
                    }
                    .encode()
                });
                ListResponse {
                    total_results: total,
                    start_index: None,
                    resources: page,
                    next_cursor,
                }
            }
        }
    }
}

/// A ListResponse (RFC 7644 §3.4.2): `itemsPerPage` is the number of resources.
#[derive(Clone, Debug, PartialEq)]
pub struct ListResponse {
    pub total_results: u64,
    /// Index paging only.
    pub start_index: Option<usize>,
    pub resources: Vec<Value>,
    /// Cursor paging: present unless this is the last page.
    pub next_cursor: Option<String>,
}

impl ListResponse {
    /// A list without paging (`/Schemas`, `/ResourceTypes`).
    pub fn all(resources: Vec<Value>) -> Self {
        ListResponse {
            total_results: resources.len() as u64,
            start_index: Some(1),
            resources,
            next_cursor: None,
        }
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": self.total_results,
            "itemsPerPage": self.resources.len(),
            "Resources": self.resources,
        });
        if let Some(s) = self.start_index {
            v["startIndex"] = json!(s);
        }
        if let Some(c) = &self.next_cursor {
            v["nextCursor"] = json!(c);
        }
        v
    }
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
