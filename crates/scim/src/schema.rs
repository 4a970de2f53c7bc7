//! The published schemas (RFC 7643 §7): one table of attribute definitions that drives
//! everything else. Filters and `sortBy` resolve their attribute names here (case-
//! insensitively), projection (`attributes`, `excludedAttributes`) selects by it,
//! write validation checks value types against it, and `/Schemas` prints it. Every
//! attribute is published `readOnly`: the directory is read-only.

use serde_json::{Value, json};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Roster's User extension: the mapped demographics of kind `default`.
pub const ROSTER_USER_SCHEMA: &str = "urn:roster:params:scim:schemas:extension:roster:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Roster's Group extension: which demographic a group stands for.
pub const ROSTER_GROUP_SCHEMA: &str = "urn:roster:params:scim:schemas:extension:roster:2.0:Group";

/// The ServiceProviderConfig schema.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The Schema schema.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// The ResourceType schema.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// The two resource types served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    User,
    Group,
}

impl ResourceType {
    /// `User` or `Group`: the ResourceType id and `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// `/Users` or `/Groups`, relative to the base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "/Users",
            Self::Group => "/Groups",
        }
    }

    /// The core schema URN.
    pub fn core_schema(self) -> &'static str {
        match self {
            Self::User => USER_SCHEMA,
            Self::Group => GROUP_SCHEMA,
        }
    }
}

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    Always,
    Default,
}

/// One attribute definition. Mutability is always `readOnly`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDef {
    pub name: String,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    pub case_exact: bool,
    pub returned: Returned,
    /// `server` when true, else `none`.
    pub unique: bool,
    pub canonical_values: Vec<&'static str>,
    pub reference_types: Vec<&'static str>,
    pub sub_attributes: Vec<AttrDef>,
}

impl AttrDef {
    fn new(name: &str, ty: AttrType, description: &str) -> Self {
        Self {
            name: name.to_string(),
            ty,
            multi_valued: false,
            description: description.to_string(),
            required: false,
            case_exact: false,
            returned: Returned::Default,
            unique: false,
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }
    /// A string attribute, compared case-insensitively.
    pub(crate) fn string(name: &str, description: &str) -> Self {
        Self::new(name, AttrType::String, description)
    }
    pub(crate) fn boolean(name: &str, description: &str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }
    pub(crate) fn integer(name: &str, description: &str) -> Self {
        Self::new(name, AttrType::Integer, description)
    }
    pub(crate) fn date_time(name: &str, description: &str) -> Self {
        Self::new(name, AttrType::DateTime, description)
    }
    pub(crate) fn reference(name: &str, types: &[&'static str], description: &str) -> Self {
        Self {
            reference_types: types.to_vec(),
            case_exact: true,
            ..Self::new(name, AttrType::Reference, description)
        }
    }
    pub(crate) fn complex(name: &str, description: &str, subs: Vec<AttrDef>) -> Self {
        Self {
            sub_attributes: subs,
            ..Self::new(name, AttrType::Complex, description)
        }
    }
    pub(crate) fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub(crate) fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(crate) fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    pub(crate) fn always(mut self) -> Self {
        self.returned = Returned::Always;
        self
    }
    pub(crate) fn canonical(mut self, values: &[&'static str]) -> Self {
        self.canonical_values = values.to_vec();
        self
    }

    /// A sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&AttrDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The attribute as `/Schemas` prints it.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.ty.as_str(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "mutability": "readOnly",
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Default => "default",
            },
        });
        if matches!(self.ty, AttrType::String | AttrType::Reference) {
            v["caseExact"] = json!(self.case_exact);
            v["uniqueness"] = json!(if self.unique { "server" } else { "none" });
        }
        if !self.canonical_values.is_empty() {
            v["canonicalValues"] = json!(self.canonical_values);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub_attributes.is_empty() {
            v["subAttributes"] =
                Value::Array(self.sub_attributes.iter().map(AttrDef::to_json).collect());
        }
        v
    }
}

/// One schema: its URN, name, description and attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttrDef>,
}

impl SchemaDef {
    /// An attribute by name, case-insensitively.
    pub fn attr(&self, name: &str) -> Option<&AttrDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// The schemas of one resource type: the core schema, its extensions, and the common
/// attributes every resource carries (`id`, `externalId`, `meta`, and `schemas`, which
/// RFC 7643 §3 defines outside any schema and `/Schemas` therefore does not list).
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSchemas {
    pub resource: ResourceType,
    pub core: SchemaDef,
    pub extensions: Vec<SchemaDef>,
    pub common: Vec<AttrDef>,
}

/// Where a name was found.
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    /// The schema URN, canonical.
    pub schema: &'static str,
    /// True for an extension's attribute (held under the URN in the representation).
    pub in_extension: bool,
    pub def: &'a AttrDef,
}

impl ResourceSchemas {
    /// The schema with this URN (case-insensitively), core or extension.
    pub fn schema(&self, urn: &str) -> Option<&SchemaDef> {
        std::iter::once(&self.core)
            .chain(&self.extensions)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolve a top-level attribute name, optionally prefixed by its schema URN.
    /// Without a URN, the common attributes and the core schema come first, then the
    /// extensions in order.
    pub fn lookup(&self, urn: Option<&str>, name: &str) -> Option<Found<'_>> {
        let common = || {
            self.common
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .map(|def| Found {
                    schema: self.core.id,
                    in_extension: false,
                    def,
                })
        };
        match urn {
            Some(urn) => {
                let schema = self.schema(urn)?;
                let in_extension = schema.id != self.core.id;
                match schema.attr(name) {
                    Some(def) => Some(Found {
                        schema: schema.id,
                        in_extension,
                        def,
                    }),
                    // `urn:…:core:2.0:User:id` names a common attribute.
                    None if !in_extension => common(),
                    None => None,
                }
            }
            None => common()
                .or_else(|| {
                    self.core.attr(name).map(|def| Found {
                        schema: self.core.id,
                        in_extension: false,
                        def,
                    })
                })
                .or_else(|| {
                    self.extensions.iter().find_map(|s| {
                        s.attr(name).map(|def| Found {
                            schema: s.id,
                            in_extension: true,
                            def,
                        })
                    })
                }),
        }
    }

    /// Every schema URN of the resource type, core first.
    pub fn urns(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.core.id).chain(self.extensions.iter().map(|s| s.id))
    }
}

fn common_attributes() -> Vec<AttrDef> {
    vec![
        AttrDef::string(
            "id",
            "Unique identifier of the resource, assigned by Roster.",
        )
        .exact()
        .always()
        .unique(),
        AttrDef::string(
            "externalId",
            "The identifier of the resource in the HR system.",
        )
        .exact(),
        AttrDef::complex(
            "meta",
            "Resource metadata.",
            vec![
                AttrDef::string("resourceType", "User or Group.").exact(),
                AttrDef::date_time("created", "When the resource was added."),
                AttrDef::date_time("lastModified", "When the resource last changed."),
                AttrDef::reference("location", &["uri"], "The resource's URI."),
                AttrDef::string("version", "The resource's version (a weak ETag).").exact(),
            ],
        ),
        AttrDef::reference("schemas", &["uri"], "The schemas the representation uses.").multi(),
    ]
}

/// The User schemas: core, enterprise, and Roster's extension with one string
/// attribute per published demographic, `(attribute name, demographic name)`.
pub fn user_schemas(demographics: &[(String, String)]) -> ResourceSchemas {
    let multi_value = |kinds: &[&'static str]| {
        vec![
            AttrDef::string("value", "The value."),
            AttrDef::string("type", "The kind of value.").canonical(kinds),
            AttrDef::boolean("primary", "The primary value."),
        ]
    };
    let core = SchemaDef {
        id: USER_SCHEMA,
        name: "User",
        description: "User Account",
        attributes: vec![
            AttrDef::string(
                "userName",
                "The work email; roster-<id> for an employee without one.",
            )
            .required()
            .unique(),
            AttrDef::complex(
                "name",
                "The components of the user's name.",
                vec![
                    AttrDef::string("formatted", "The full name."),
                    AttrDef::string("familyName", "The family (last) name."),
                    AttrDef::string("givenName", "The given (first) name."),
                ],
            ),
            AttrDef::string("displayName", "The preferred (or given) and family name."),
            AttrDef::string("nickName", "The preferred name."),
            AttrDef::string("title", "The job title."),
            AttrDef::string("userType", "The member type."),
            AttrDef::boolean(
                "active",
                "False for a former employee, an excluded one or a merged duplicate.",
            ),
            AttrDef::complex(
                "emails",
                "The work email (primary) and the personal one (home).",
                multi_value(&["work", "home", "other"]),
            )
            .multi(),
            AttrDef::complex(
                "phoneNumbers",
                "The phone number.",
                multi_value(&["work", "home", "mobile", "fax", "pager", "other"]),
            )
            .multi(),
            AttrDef::complex(
                "groups",
                "The groups the user is a member of.",
                vec![
                    AttrDef::string("value", "The group's id.").exact(),
                    AttrDef::reference("$ref", &["Group"], "The group's URI."),
                    AttrDef::string("display", "The group's name."),
                    AttrDef::string("type", "How the user is a member.")
                        .canonical(&["direct", "indirect"]),
                ],
            )
            .multi(),
        ],
    };
    let enterprise = SchemaDef {
        id: ENTERPRISE_USER_SCHEMA,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            AttrDef::string("employeeNumber", "The employee ID."),
            AttrDef::string("department", "The department."),
            AttrDef::complex(
                "manager",
                "The user's manager.",
                vec![
                    AttrDef::string("value", "The manager's id.").exact(),
                    AttrDef::reference("$ref", &["User"], "The manager's URI."),
                    AttrDef::string("displayName", "The manager's name."),
                ],
            ),
        ],
    };
    let roster = SchemaDef {
        id: ROSTER_USER_SCHEMA,
        name: "RosterUser",
        description: "The demographics Roster maps from the HR system",
        attributes: demographics
            .iter()
            .map(|(attr, name)| AttrDef::string(attr, &format!("The \"{name}\" demographic.")))
            .collect(),
    };
    ResourceSchemas {
        resource: ResourceType::User,
        core,
        extensions: vec![enterprise, roster],
        common: common_attributes(),
    }
}

/// The Group schemas: core and Roster's extension.
pub fn group_schemas() -> ResourceSchemas {
    let core = SchemaDef {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "Group",
        attributes: vec![
            AttrDef::string("displayName", "The demographic's value."),
            AttrDef::complex(
                "members",
                "The active employees with this value.",
                vec![
                    AttrDef::string("value", "The member's id.").exact(),
                    AttrDef::reference("$ref", &["User", "Group"], "The member's URI."),
                    AttrDef::string("display", "The member's name."),
                    AttrDef::string("type", "User.").canonical(&["User", "Group"]),
                ],
            )
            .multi(),
        ],
    };
    let roster = SchemaDef {
        id: ROSTER_GROUP_SCHEMA,
        name: "RosterGroup",
        description: "Where a Roster group comes from",
        attributes: vec![AttrDef::string(
            "demographic",
            "The demographic whose value the group stands for.",
        )],
    };
    ResourceSchemas {
        resource: ResourceType::Group,
        core,
        extensions: vec![roster],
        common: common_attributes(),
    }
}

/// The attribute name a demographic gets in Roster's User extension: its ASCII letters
/// and digits in lower camel case (`Job Title` → `jobTitle`, `T-Shirt Size` →
/// `tShirtSize`), `d` in front when it would start with a digit, `demographic` when
/// nothing is left. [`attribute_names`] makes the names unique.
pub fn attribute_name(demographic: &str) -> String {
    let mut out = String::new();
    for word in demographic
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.is_empty() {
            out.push_str(&word.to_ascii_lowercase());
        } else {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    if out.is_empty() {
        return "demographic".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'd');
    }
    out
}

/// `(attribute name, demographic)` for each demographic, sorted by demographic, with
/// names made unique case-insensitively by a numeric suffix (`jobTitle`, `jobTitle2`)
/// in that order, so the same demographics always get the same names.
pub fn attribute_names<'a>(
    demographics: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let mut names: Vec<&str> = demographics.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    let mut taken = std::collections::BTreeSet::new();
    names
        .into_iter()
        .map(|d| {
            let base = attribute_name(d);
            let mut attr = base.clone();
            let mut n = 2;
            while !taken.insert(attr.to_ascii_lowercase()) {
                attr = format!("{base}{n}");
                n += 1;
            }
            (attr, d.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("Job Title", "jobTitle")]
    #[case("Department", "department")]
    #[case("T-Shirt Size", "tShirtSize")]
    #[case("HR business partner", "hrBusinessPartner")]
    #[case("2024 Cohort", "d2024Cohort")]
    #[case("Équipe", "quipe")]
    #[case("   ", "demographic")]
    fn attribute_name_of(#[case] demographic: &str, #[case] expected: &str) {
        assert_eq!(attribute_name(demographic), expected);
    }

    #[test]
    fn attribute_names_are_unique_and_stable() {
        let names = attribute_names(["job-title", "Job Title", "Office", "Job Title"]);
        assert_eq!(
            names,
            vec![
                ("jobTitle".to_string(), "Job Title".to_string()),
                ("office".to_string(), "Office".to_string()),
                ("jobTitle2".to_string(), "job-title".to_string()),
            ]
        );
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_urns() {
        let s = user_schemas(&[("jobTitle".into(), "Job Title".into())]);
        let f = s.lookup(None, "USERNAME").unwrap();
        assert_eq!((f.schema, f.def.name.as_str()), (USER_SCHEMA, "userName"));
        let f = s.lookup(None, "employeenumber").unwrap();
        assert!(f.in_extension);
        assert_eq!(f.schema, ENTERPRISE_USER_SCHEMA);
        let f = s
            .lookup(Some("URN:ietf:params:scim:schemas:core:2.0:user"), "ID")
            .unwrap();
        assert_eq!(f.def.name, "id");
        assert!(s.lookup(Some(ENTERPRISE_USER_SCHEMA), "userName").is_none());
        assert!(s.lookup(Some("urn:nope"), "userName").is_none());
        assert_eq!(
            s.lookup(Some(ROSTER_USER_SCHEMA), "JOBTITLE")
                .unwrap()
                .def
                .name,
            "jobTitle"
        );
        assert!(s.lookup(None, "password").is_none());
    }
}
