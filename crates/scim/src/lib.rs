#![forbid(unsafe_code)]
//! Roster's SCIM 2.0 service provider (RFC 7643, RFC 7644, RFC 9865 cursors), the
//! pure part: no I/O, no async. The HTTP routes and the store queries sit on top:
//!
//! - [`ScimProvider`] is built once per request from the account's [`Settings`] and a
//!   [`ScimConfig`] (base URL, group demographics). It resolves filters
//!   ([`ScimProvider::filter`]), plans User queries ([`ScimProvider::plan_query`]),
//!   and publishes the schemas.
//! - [`filter`]: the RFC 7644 §3.4.2.2 grammar, our AST, [`evaluate`].
//! - [`plan`]: which filters the store answers from an index ([`QueryPlan`]).
//!
//! The directory is read-only through SCIM: every attribute is published `readOnly`
//! and writes are validated, then refused with 501 ([`ScimError::read_only`]).

pub mod cursor;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod filter;
pub mod group;
pub mod ids;
pub mod paging;
pub mod plan;
pub mod projection;
pub mod provider;
pub mod query;
pub mod schema;
pub mod sort;
pub mod user;
pub mod write;

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
