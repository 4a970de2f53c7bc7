//! The schemas of the discovery resources themselves (RFC 7643 §5–7, §8.7.2, and RFC
//! 9865's `pagination`), listed by `/Schemas` after the resource schemas.

use crate::schema::{
    AttrDef, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, SchemaDef,
};

fn supported(name: &str, description: &str, more: Vec<AttrDef>) -> AttrDef {
    let mut subs =
        vec![AttrDef::boolean("supported", "Whether the operation is supported.").required()];
    subs.extend(more);
    AttrDef::complex(name, description, subs).required()
}

/// ServiceProviderConfig, ResourceType and Schema.
pub fn meta_schemas() -> Vec<SchemaDef> {
    vec![service_provider_config(), resource_type(), schema()]
}

fn service_provider_config() -> SchemaDef {
    SchemaDef {
        id: SERVICE_PROVIDER_CONFIG_SCHEMA,
        name: "ServiceProviderConfig",
        description: "Service Provider Configuration",
        attributes: vec![
            AttrDef::reference(
                "documentationUri",
                &["external"],
                "Help about the service provider.",
            ),
            supported("patch", "PATCH configuration options.", vec![]),
            supported(
                "bulk",
                "Bulk configuration options.",
                vec![
                    AttrDef::integer("maxOperations", "The most operations in one request.")
                        .required(),
                    AttrDef::integer("maxPayloadSize", "The largest payload, in bytes.").required(),
                ],
            ),
            supported(
                "filter",
                "Filter options.",
                vec![
                    AttrDef::integer("maxResults", "The most resources in one response.")
                        .required(),
                ],
            ),
            supported("changePassword", "Change password options.", vec![]),
            supported("sort", "Sort options.", vec![]),
            supported("etag", "ETag options.", vec![]),
            AttrDef::complex(
                "pagination",
                "Pagination options (RFC 9865).",
                vec![
                    AttrDef::boolean("cursor", "Cursor paging is supported.").required(),
                    AttrDef::boolean("index", "Index paging is supported.").required(),
                    AttrDef::string("defaultPaginationMethod", "cursor or index.")
                        .canonical(&["cursor", "index"]),
                    AttrDef::integer("defaultPageSize", "Page size without a count."),
                    AttrDef::integer("maxPageSize", "The largest page."),
                    AttrDef::integer("cursorTimeout", "Seconds a cursor stays valid."),
                ],
            ),
            AttrDef::complex(
                "authenticationSchemes",
                "The supported authentication schemes.",
                vec![
                    AttrDef::string("type", "The scheme's type.")
                        .canonical(&[
                            "oauth",
                            "oauth2",
                            "oauthbearertoken",
                            "httpbasic",
                            "httpdigest",
                        ])
                        .required(),
                    AttrDef::string("name", "The scheme's name.").required(),
                    AttrDef::string("description", "How to authenticate.").required(),
                    AttrDef::reference("specUri", &["external"], "The scheme's specification."),
                    AttrDef::reference("documentationUri", &["external"], "Help about the scheme."),
                    AttrDef::boolean("primary", "The preferred scheme."),
                ],
            )
            .multi()
            .required(),
        ],
    }
}

fn resource_type() -> SchemaDef {
    SchemaDef {
        id: RESOURCE_TYPE_SCHEMA,
        name: "ResourceType",
        description: "Specifies the schema that describes a SCIM resource type",
        attributes: vec![
            AttrDef::string("id", "The resource type's id.").exact(),
            AttrDef::string("name", "The resource type's name.").required(),
            AttrDef::string("description", "The resource type's description."),
            AttrDef::reference(
                "endpoint",
                &["uri"],
                "The endpoint, relative to the base URL.",
            )
            .required(),
            AttrDef::reference("schema", &["uri"], "The core schema's URN.").required(),
            AttrDef::complex(
                "schemaExtensions",
                "The schema extensions.",
                vec![
                    AttrDef::reference("schema", &["uri"], "The extension's URN.").required(),
                    AttrDef::boolean("required", "Whether resources must carry it.").required(),
                ],
            )
            .multi(),
        ],
    }
}

fn schema_attribute_fields() -> Vec<AttrDef> {
    vec![
        AttrDef::string("name", "The attribute's name.")
            .exact()
            .required(),
        AttrDef::string("type", "The attribute's data type.")
            .canonical(&[
                "string",
                "complex",
                "boolean",
                "decimal",
                "integer",
                "dateTime",
                "reference",
                "binary",
            ])
            .required(),
        AttrDef::boolean("multiValued", "Whether it holds several values.").required(),
        AttrDef::string("description", "The attribute's description."),
        AttrDef::boolean("required", "Whether it is required."),
        AttrDef::string("canonicalValues", "Suggested values.").multi(),
        AttrDef::boolean("caseExact", "Whether strings compare case-sensitively."),
        AttrDef::string("mutability", "Whether it can be changed.").canonical(&[
            "readOnly",
            "readWrite",
            "immutable",
            "writeOnly",
        ]),
        AttrDef::string("returned", "When it is returned.")
            .canonical(&["always", "never", "default", "request"]),
        AttrDef::string("uniqueness", "How unique its value is.")
            .canonical(&["none", "server", "global"]),
        AttrDef::string("referenceTypes", "The resource types a reference may name.").multi(),
    ]
}

fn schema() -> SchemaDef {
    let mut attribute = schema_attribute_fields();
    attribute.push(
        AttrDef::complex(
            "subAttributes",
            "The sub-attributes of a complex attribute.",
            schema_attribute_fields(),
        )
        .multi(),
    );
    SchemaDef {
        id: SCHEMA_SCHEMA,
        name: "Schema",
        description: "Specifies the schema attributes",
        attributes: vec![
            AttrDef::reference("id", &["uri"], "The schema's URN.").required(),
            AttrDef::string("name", "The schema's name."),
            AttrDef::string("description", "The schema's description."),
            AttrDef::complex("attributes", "The schema's attributes.", attribute)
                .multi()
                .required(),
        ],
    }
}
