//! A list request, from the query string of `GET /Users` (`/Groups`) or the body of
//! `POST /Users/.search`, checked and resolved into a [`Query`]: filter, query plan,
//! sort, projection and paging. Then either the store pages (indexed, unsorted: see
//! [`Query::pages_in_store`]) and [`Query::respond_page`] wraps the page, or the store
//! returns the candidates and [`Query::respond`] filters, sorts and pages them.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ScimError;
use crate::filter::{Filter, evaluate};
use crate::paging::{ListResponse, Paging};
use crate::plan::QueryPlan;
use crate::projection::Projection;
use crate::provider::ScimProvider;
use crate::schema::ResourceType;
use crate::sort::{Sort, sort_resources};

/// The SearchRequest message schema.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The parameters of a list request, as the client sent them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchRequest {
    pub filter: Option<String>,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    /// `Some("")` for `cursor` without a value: the first page of cursor paging.
    pub cursor: Option<String>,
}

fn list(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl SearchRequest {
    /// From URL-decoded query pairs; names case-insensitively, lists comma-separated,
    /// unknown parameters ignored.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut r = SearchRequest::default();
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "filter" => r.filter = Some(v.to_string()),
                "attributes" => r.attributes.extend(list(v)),
                "excludedattributes" => r.excluded_attributes.extend(list(v)),
                "sortby" => r.sort_by = Some(v.to_string()),
                "sortorder" => r.sort_order = Some(v.to_string()),
                "startindex" => r.start_index = Some(v.to_string()),
                "count" => r.count = Some(v.to_string()),
                "cursor" => r.cursor = Some(v.to_string()),
                _ => {}
            }
        }
        r
    }

    /// From a `POST /.search` body (RFC 7644 §3.4.3). Not JSON, not an object or
    /// without the SearchRequest schema: `invalidSyntax`; a member of the wrong type:
    /// `invalidValue`. Member names are case-insensitive.
    pub fn from_json(body: &[u8]) -> Result<Self, ScimError> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ScimError::InvalidSyntax(format!("the request body is not JSON: {e}")))?;
        let Value::Object(obj) = v else {
            return Err(ScimError::InvalidSyntax(
                "the request body must be a JSON object".into(),
            ));
        };
        let get = |name: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .filter(|v| !v.is_null())
        };
        let has_schema = get("schemas").and_then(Value::as_array).is_some_and(|s| {
            s.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
            })
        });
        if !has_schema {
            return Err(ScimError::InvalidSyntax(format!(
                "a SearchRequest needs \"schemas\": [\"{SEARCH_REQUEST_SCHEMA}\"]"
            )));
        }
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ScimError::InvalidValue(format!("{name} must be a string"))),
            }
        };
        let number = |name: &str| -> Result<Option<String>, ScimError> {
            match get(name) {
                None => Ok(None),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ScimError::InvalidValue(format!(
                    "{name} must be an integer"
                ))),
            }
        };
        let names = |name: &str| -> Result<Vec<String>, ScimError> {
            match get(name) {
                None => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(list(s).collect()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_string).ok_or_else(|| {
                            ScimError::InvalidValue(format!("{name} must hold strings"))
                        })
                    })
                    .collect(),
                Some(_) => Err(ScimError::InvalidValue(format!(
                    "{name} must be an array of attribute names"
                ))),
            }
        };
        Ok(SearchRequest {
            filter: text("filter")?,
            attributes: names("attributes")?,
            excluded_attributes: names("excludedAttributes")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: number("startIndex")?,
            count: number("count")?,
            cursor: text("cursor")?,
        })
    }
}

/// A checked list request.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub resource: ResourceType,
    pub filter: Option<Filter>,
    /// For Users, what the store loads; for Groups (computed in memory) `All` with the
    /// filter as residual.
    pub plan: QueryPlan,
    pub sort: Option<Sort>,
    pub projection: Projection,
    pub paging: Paging,
    /// Fingerprint of the resource type, filter and sort: cursors carry it.
    pub key: u64,
}

/// The query key: the first 8 bytes of SHA-256 over the resource type, the filter's
/// canonical text and the sort.
pub fn query_key(resource: ResourceType, filter: Option<&Filter>, sort: Option<&Sort>) -> u64 {
    let mut h = Sha256::new();
    h.update(resource.name());
    h.update([0]);
    if let Some(f) = filter {
        h.update(f.to_string());
    }
    h.update([0]);
    if let Some(s) = sort {
        h.update(s.by.to_string());
        h.update(if s.descending { "d" } else { "a" });
    }
    let d = h.finalize();
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl ScimProvider {
    /// Check and resolve a list request.
    pub fn query(&self, resource: ResourceType, req: &SearchRequest) -> Result<Query, ScimError> {
        let filter = match req.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(self.filter(resource, text)?),
        };
        let plan = match (&filter, resource) {
            (None, _) => QueryPlan::all(),
            (Some(f), ResourceType::User) => self.plan_query(f),
            (Some(f), ResourceType::Group) => QueryPlan {
                index: crate::plan::IndexQuery::All,
                residual: Some(f.clone()),
            },
        };
        let sort = self.sort(resource, req.sort_by.as_deref(), req.sort_order.as_deref())?;
        let projection =
            self.projection_from_lists(resource, &req.attributes, &req.excluded_attributes)?;
        let key = query_key(resource, filter.as_ref(), sort.as_ref());
        let paging = Paging::parse(
            req.start_index.as_deref(),
            req.count.as_deref(),
            req.cursor.as_deref(),
            key,
        )?;
        Ok(Query {
            resource,
            filter,
            plan,
            sort,
            projection,
            paging,
            key,
        })
    }
}

impl Query {
    /// True when the store can count and page itself: the index answers the filter
    /// exactly and the order is by key. Then: `total` = count of the index query, rows
    /// ordered by key from [`Paging::offset`] or after [`Paging::after_key`], `count
    /// + 1` of them to know whether more follow, and [`Query::respond_page`].
    pub fn pages_in_store(&self) -> bool {
        self.plan.residual.is_none() && self.sort.is_none()
    }

    /// Filter the candidates (full representations of any superset of the matches,
    /// such as the rows the plan's index returned, in any order), sort, page and
    /// project them. The whole filter is evaluated, not only the residual: cheap next
    /// to building the representations, and correct whatever the store returned.
    pub fn respond(&self, candidates: Vec<Value>) -> ListResponse {
        let mut matches: Vec<Value> = match &self.filter {
            Some(f) => candidates.into_iter().filter(|r| evaluate(f, r)).collect(),
            None => candidates,
        };
        sort_resources(&mut matches, self.sort.as_ref());
        let mut out = self.paging.page(matches, self.sort.as_ref(), self.key);
        self.project(&mut out);
        out
    }

    /// Wrap a page the store cut itself ([`Query::pages_in_store`]).
    pub fn respond_page(&self, total: u64, page: Vec<Value>, more: bool) -> ListResponse {
        let mut out = self
            .paging
            .finish(total, page, more, self.sort.as_ref(), self.key);
        self.project(&mut out);
        out
    }

    fn project(&self, out: &mut ListResponse) {
        if !self.projection.is_default() {
            for r in &mut out.resources {
                *r = self.projection.apply(std::mem::take(r));
            }
        }
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
