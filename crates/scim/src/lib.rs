#![forbid(unsafe_code)]
//! Roster's SCIM 2.0 service provider (RFC 7643, RFC 7644, RFC 9865 cursors), the
//! pure part: no I/O, no async. The HTTP routes and the store queries sit on top; the
//! crate's README has the attribute mapping and the request flow.
//!
//! - [`ScimProvider`] is built per request from the account's settings and a
//!   [`ScimConfig`] (base URL, group demographics): what is served, the published
//!   schemas ([`schema`]), and every operation below.
//! - [`filter`]: the RFC 7644 §3.4.2.2 grammar (our own parser; why, in its docs),
//!   resolution against the schema, [`evaluate`].
//! - [`plan`]: which User filters the store answers from an index ([`QueryPlan`]).
//! - [`user`] and [`group`]: an employee as a User, the groups of a directory, with
//!   `meta.version` from [`etag`] and ids from [`ids`].
//! - [`query`]: a list request ([`SearchRequest`]) checked into a [`Query`] (filter,
//!   plan, [`sort`], [`projection`], [`paging`] with [`cursor`]s) that turns rows into
//!   a [`ListResponse`].
//! - [`discovery`]: ServiceProviderConfig, Schemas, ResourceTypes.
//! - [`write`](mod@write): writes validated, then refused (501); [`error`]: RFC 7644 §3.12 bodies.

pub mod cursor;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod filter;
pub mod group;
pub mod ids;
pub mod meta_schemas;
pub mod paging;
pub mod plan;
pub mod projection;
pub mod provider;
pub mod query;
pub mod schema;
pub mod sort;
pub mod user;
pub mod write;

/// The SCIM media type (RFC 7644 §8.1); requests with `application/json` are
/// accepted too.
pub const CONTENT_TYPE: &str = "application/scim+json";

pub use cursor::Cursor;
pub use error::ScimError;
pub use filter::{AttrPath, CompareOp, Filter, Value, evaluate, parse_filter};
pub use group::{GroupMember, GroupMeta, ScimGroup};
pub use ids::{group_id, user_id};
pub use paging::{DEFAULT_COUNT, ListResponse, MAX_COUNT, Paging};
pub use plan::{Bound, IndexQuery, IndexTerm, QueryPlan};
pub use projection::Projection;
pub use provider::{ScimConfig, ScimProvider};
pub use query::{Query, SearchRequest};
pub use schema::{ResourceSchemas, ResourceType};
pub use sort::{OrderId, Position, Sort, SortValue};
pub use user::{ManagerLink, UserMeta};
pub use write::WriteMethod;
