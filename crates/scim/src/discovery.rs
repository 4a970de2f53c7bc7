//! Discovery documents (RFC 7644 §4, RFC 7643 §5–7, RFC 9865 §4): what this service
//! provider supports, exactly. Patch, bulk and password changes: no (the directory is
//! read-only). Filters, sorting, ETags, index and cursor paging: yes.

use serde_json::{Value, json};

use crate::paging::{DEFAULT_COUNT, ListResponse, MAX_COUNT};
use crate::provider::ScimProvider;
use crate::schema::{
    AttrDef, RESOURCE_TYPE_SCHEMA, ResourceSchemas, ResourceType, SCHEMA_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA, SchemaDef,
};

impl ScimProvider {
    /// `GET /ServiceProviderConfig`.
    pub fn service_provider_config(&self) -> Value {
        json!({
            "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
            "patch": {"supported": false},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "pagination": {
                "cursor": true,
                "index": true,
                "defaultPaginationMethod": "index",
                "defaultPageSize": DEFAULT_COUNT,
                "maxPageSize": MAX_COUNT,
            },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A Roster API token of any role in the Authorization \
                    header: Authorization: Bearer rst_…",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{}/ServiceProviderConfig", self.config().base_url),
            },
        })
    }

    fn schema_json(&self, s: &SchemaDef) -> Value {
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "attributes": s.attributes.iter().map(AttrDef::to_json).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{}", self.config().base_url, s.id),
            },
        })
    }

    fn all_schemas(&self) -> impl Iterator<Item = &SchemaDef> {
        [ResourceType::User, ResourceType::Group]
            .into_iter()
            .flat_map(|r| {
                let s: &ResourceSchemas = self.schemas(r);
                std::iter::once(&s.core).chain(&s.extensions)
            })
            .chain(&self.meta_schemas)
    }

    /// `GET /Schemas`: User, EnterpriseUser, Roster's User extension (with the served
    /// demographics), Group, Roster's Group extension, then ServiceProviderConfig,
    /// ResourceType and Schema.
    pub fn schemas_document(&self) -> Value {
        ListResponse::all(self.all_schemas().map(|s| self.schema_json(s)).collect()).to_json()
    }

    /// `GET /Schemas/{id}` (the URN, case-insensitively).
    pub fn schema_document(&self, id: &str) -> Option<Value> {
        self.all_schemas()
            .find(|s| s.id.eq_ignore_ascii_case(id))
            .map(|s| self.schema_json(s))
    }

    fn resource_type_json(&self, r: ResourceType) -> Value {
        let s = self.schemas(r);
        let extensions: Vec<Value> = s
            .extensions
            .iter()
            .map(|e| json!({"schema": e.id, "required": false}))
            .collect();
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": r.name(),
            "name": r.name(),
            "endpoint": r.endpoint(),
            "description": match r {
                ResourceType::User => "The employees in Roster's directory",
                ResourceType::Group => "One group per value of the chosen demographics",
            },
            "schema": s.core.id,
            "schemaExtensions": extensions,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{}/ResourceTypes/{}", self.config().base_url, r.name()),
            },
        })
    }

    /// `GET /ResourceTypes`.
    pub fn resource_types_document(&self) -> Value {
        ListResponse::all(vec![
            self.resource_type_json(ResourceType::User),
            self.resource_type_json(ResourceType::Group),
        ])
        .to_json()
    }

    /// `GET /ResourceTypes/{id}` (`User` or `Group`, case-insensitively).
    pub fn resource_type_document(&self, id: &str) -> Option<Value> {
        [ResourceType::User, ResourceType::Group]
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(id))
            .map(|r| self.resource_type_json(r))
    }
}

#[cfg(test)]
mod tests {
    use roster_core::Settings;

    use super::*;
    use crate::user::tests::config;

    fn provider() -> ScimProvider {
        ScimProvider::new(&Settings::default(), config())
    }

    #[test]
    fn service_provider_config() {
        insta::assert_json_snapshot!(
            "service_provider_config",
            provider().service_provider_config()
        );
    }

    #[test]
    fn resource_types() {
        let p = provider();
        let doc = p.resource_types_document();
        insta::assert_json_snapshot!("resource_types", doc);
        assert_eq!(
            p.resource_type_document("user").unwrap(),
            doc["Resources"][0]
        );
        assert_eq!(
            p.resource_type_document("Group").unwrap(),
            doc["Resources"][1]
        );
        assert!(p.resource_type_document("Nope").is_none());
    }

    #[test]
    fn schemas() {
        let p = provider();
        let doc = p.schemas_document();
        insta::assert_json_snapshot!("schemas", doc);
        assert_eq!(doc["totalResults"], 8);
        for r in doc["Resources"].as_array().unwrap() {
            let id = r["id"].as_str().unwrap();
            assert_eq!(p.schema_document(&id.to_uppercase()).as_ref(), Some(r));
        }
        assert!(p.schema_document("urn:nope").is_none());
        // Every attribute, at every depth, is readOnly.
        fn all_read_only(attrs: &Value) -> bool {
            attrs.as_array().unwrap().iter().all(|a| {
                a["mutability"] == "readOnly" && a.get("subAttributes").is_none_or(all_read_only)
            })
        }
        for r in doc["Resources"].as_array().unwrap() {
            assert!(all_read_only(&r["attributes"]), "{}", r["id"]);
        }
    }

    #[test]
    fn the_roster_extension_lists_the_served_demographics() {
        let mut settings = Settings::default();
        settings.exclude_fields.insert("Home City".into());
        let p = ScimProvider::new(&settings, config());
        let doc = p
            .schema_document(crate::schema::ROSTER_USER_SCHEMA)
            .unwrap();
        let names: Vec<&str> = doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"jobTitle"));
        assert!(!names.contains(&"homeCity"));
        assert_eq!(names.len(), 11);
    }
}
