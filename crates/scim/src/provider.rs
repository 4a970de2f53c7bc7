//! The service provider of one account: its settings read once into what SCIM serves.

use std::collections::BTreeSet;

use roster_core::Settings;
use roster_core::employee::EmployeeKey;
use roster_core::fields;
use roster_core::settings::FieldKind;

use crate::error::ScimError;
use crate::filter::{Filter, parse_filter, resolve};
use crate::ids::user_id;
use crate::plan::{self, QueryPlan};
use crate::schema::{self, ResourceSchemas, ResourceType};

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
    pub(crate) config: ScimConfig,
    pub(crate) users: ResourceSchemas,
    pub(crate) groups: ResourceSchemas,
    /// Directory fields (`phone`, `secondary_email`, …) excluded or redacted.
    pub(crate) hidden: BTreeSet<String>,
    /// Roster extension: `(attribute name, demographic)`, sorted by demographic.
    pub(crate) demographics: Vec<(String, String)>,
    /// The demographics behind `title`, `userType` and enterprise `department`.
    pub(crate) title: Option<String>,
    pub(crate) user_type: Option<String>,
    pub(crate) department: Option<String>,
    /// The served demographics among `config.group_demographics`.
    pub(crate) group_demographics: Vec<String>,
    /// The discovery resources' own schemas.
    pub(crate) meta_schemas: Vec<schema::SchemaDef>,
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
            meta_schemas: crate::meta_schemas::meta_schemas(),
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
        resolve(self.schemas(resource), parse_filter(text)?)
    }

    /// The store query for a resolved User filter ([`plan`] lists what is indexed).
    pub fn plan_query(&self, filter: &Filter) -> QueryPlan {
        let served = plan::Served {
            secondary_email: self.serves("secondary_email"),
            external_id: self.serves("source_id"),
        };
        plan::plan_query(&served, filter)
    }

    /// `meta.location` of a user.
    pub fn user_location(&self, key: EmployeeKey) -> String {
        format!("{}/Users/{}", self.config.base_url, user_id(key))
    }

    /// `meta.location` of a group.
    pub fn group_location(&self, id: &str) -> String {
        format!("{}/Groups/{id}", self.config.base_url)
    }
}
