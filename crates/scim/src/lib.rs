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
pub mod filter;
pub mod group;
pub mod paging;
pub mod plan;
pub mod projection;
pub mod query;
pub mod schema;
pub mod sort;
pub mod user;
pub mod write;

use std::collections::BTreeSet;

use roster_core::Settings;
use roster_core::fields;
use roster_core::settings::FieldKind;

pub use cursor::{Cursor, OrderId, Position};
pub use error::ScimError;
pub use filter::{AttrPath, CompareOp, Filter, Value, evaluate, parse_filter};
pub use group::{GroupMember, GroupMeta, ScimGroup, group_id};
pub use paging::{DEFAULT_COUNT, ListResponse, MAX_COUNT, Paging};
pub use plan::{Bound, IndexQuery, IndexTerm, QueryPlan};
pub use projection::Projection;
pub use query::{Query, SearchRequest};
pub use schema::{ResourceSchemas, ResourceType};
pub use sort::{Sort, SortValue};
pub use user::{ManagerLink, UserMeta};
pub use write::WriteMethod;

/// Where the service provider is and what it groups by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimConfig {
    /// The SCIM base URL without a trailing slash, e.g.
    /// `https://roster.example.com/scim/v2`: `meta.location` and `$ref` start with it.
    pub base_url: String,
    /// The setting `scim_group_demographics`: one group per value of each of these
    /// demographics. Default `Department`. Demographics that are not served (hidden,
    /// associated, excluded or redacted) make no groups.
    pub group_demographics: Vec<String>,
}

impl Default for ScimConfig {
    fn default() -> Self {
        Self {
            base_url: "/scim/v2".into(),
            group_demographics: vec!["Department".into()],
        }
    }
}

/// The service provider for one account: its settings read once into what SCIM
/// serves.
#[derive(Clone, Debug)]
pub struct ScimProvider {
    config: ScimConfig,
    users: ResourceSchemas,
    groups: ResourceSchemas,
    /// Directory fields (`phone`, `secondary_email`, …) excluded or redacted.
    hidden: BTreeSet<String>,
    /// Roster extension: `(attribute name, demographic)`, sorted by demographic.
    demographics: Vec<(String, String)>,
    /// The demographics behind `title`, `userType` and enterprise `department`.
    title: Option<String>,
    user_type: Option<String>,
    department: Option<String>,
    /// The served demographics among `config.group_demographics`.
    group_demographics: Vec<String>,
}

impl ScimProvider {
    /// Read the settings: a demographic is served when it is mapped with kind
    /// `default` only (never `hidden` or `associated`) and neither it nor its source
    /// field is excluded or redacted; a directory field is served unless excluded or
    /// redacted. Dates of birth are never served.
    pub fn new(settings: &Settings, config: ScimConfig) -> Self {
        let mut hidden: BTreeSet<String> = settings
            .exclude_fields
            .iter()
            .chain(&settings.redact_fields)
            .cloned()
            .collect();
        hidden.insert("date_of_birth".into());
        let withheld =
            |name: &str| hidden.contains(name) || hidden.contains(&format!("demographic:{name}"));
        let not_default: BTreeSet<&str> = settings
            .mapping
            .iter()
            .filter(|m| m.kind != FieldKind::Default || withheld(&m.source_key))
            .map(|m| m.demographic.as_str())
            .collect();
        let served: Vec<&str> = settings
            .mapping
            .iter()
            .map(|m| m.demographic.as_str())
            .filter(|d| !not_default.contains(d) && !withheld(d))
            .collect();
        let from = |key: &str| {
            settings
                .mapping
                .iter()
                .find(|m| m.source_key == key)
                .map(|m| m.demographic.clone())
                .filter(|d| served.contains(&d.as_str()))
        };
        let group_demographics = config
            .group_demographics
            .iter()
            .filter(|d| served.contains(&d.as_str()))
            .cloned()
            .collect();
        let demographics = schema::attribute_names(served.iter().copied());
        Self {
            users: schema::user_schemas(&demographics),
            groups: schema::group_schemas(),
            title: from(fields::JOB_TITLE),
            user_type: from(fields::MEMBER_TYPE),
            department: from(fields::DEPARTMENT),
            hidden,
            demographics,
            group_demographics,
            config,
        }
    }

    pub fn config(&self) -> &ScimConfig {
        &self.config
    }

    /// The schemas of a resource type.
    pub fn schemas(&self, resource: ResourceType) -> &ResourceSchemas {
        match resource {
            ResourceType::User => &self.users,
            ResourceType::Group => &self.groups,
        }
    }

    /// Is this directory field (`phone`, `source_id`, …) served?
    pub fn serves(&self, field: &str) -> bool {
        !self.hidden.contains(field)
    }

    /// The Roster extension's `(attribute, demographic)` pairs.
    pub fn demographics(&self) -> &[(String, String)] {
        &self.demographics
    }

    /// The demographics that make groups.
    pub fn group_demographics(&self) -> &[String] {
        &self.group_demographics
    }

    /// Parse a filter and resolve it against the resource type's schema.
    pub fn filter(&self, resource: ResourceType, text: &str) -> Result<Filter, ScimError> {
        filter::resolve(self.schemas(resource), parse_filter(text)?)
    }

    /// The store query for a resolved User filter ([`plan`] lists what is indexed).
    pub fn plan_query(&self, filter: &Filter) -> QueryPlan {
        let served = plan::Served {
            secondary_email: self.serves("secondary_email"),
            external_id: self.serves("source_id"),
        };
        plan::plan_query(&served, filter)
    }
}
