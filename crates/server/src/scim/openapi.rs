//! The SCIM surface in the OpenAPI document: the `/scim/v2` reads with their query
//! parameters, under the tag `scim`. The bodies are SCIM's own (RFC 7643 resources,
//! RFC 7644 ListResponse and Error, `application/scim+json`), described in words:
//! `/scim/v2/Schemas` publishes the schemas, and `docs/scim.md` the mapping.

use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::tag::Tag;
use utoipa::openapi::{Content, Required};

use super::response::SCIM_JSON;

/// Adds the SCIM paths and the `scim` tag.
pub struct ScimDoc;

fn param(name: &str, at: ParameterIn, ty: Type, description: &str) -> ParameterBuilder {
    let required = if at == ParameterIn::Path {
        Required::True
    } else {
        Required::False
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(at)
        .required(required)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(ty)))
}

/// The list parameters of `GET /Users` and `GET /Groups` (RFC 7644 §3.4.2, RFC 9865).
fn list_params() -> Vec<ParameterBuilder> {
    let q = || ParameterIn::Query;
    vec![
        param(
            "filter",
            q(),
            Type::String,
            "RFC 7644 §3.4.2.2 filter, e.g. `userName eq \"ada@example.com\"`; lookups by userName, emails.value, externalId, id, employeeNumber, active and meta.lastModified run on indexes",
        ),
        param("startIndex", q(), Type::Integer, "1-based index paging"),
        param(
            "count",
            q(),
            Type::Integer,
            "page size: default 100, at most 1000 (larger is clamped); 0 answers totalResults only",
        ),
        param(
            "cursor",
            q(),
            Type::String,
            "RFC 9865 cursor paging: empty for the first page, then each page's nextCursor",
        ),
        param(
            "attributes",
            q(),
            Type::String,
            "comma-separated attributes to return",
        ),
        param(
            "excludedAttributes",
            q(),
            Type::String,
            "comma-separated attributes to leave out (e.g. members)",
        ),
        param("sortBy", q(), Type::String, "attribute to sort by"),
        param("sortOrder", q(), Type::String, "ascending | descending"),
    ]
}

fn operation(summary: &str, params: Vec<ParameterBuilder>, ok: &str) -> OperationBuilder {
    let json = || Content::new(Some(ObjectBuilder::new().schema_type(Type::Object)));
    let mut op = OperationBuilder::new()
        .tag("scim")
        .summary(Some(summary))
        .response(
            "200",
            ResponseBuilder::new()
                .description(ok)
                .content(SCIM_JSON, json()),
        )
        .response(
            "4XX",
            ResponseBuilder::new()
                .description("RFC 7644 §3.12 error (`urn:ietf:params:scim:api:messages:2.0:Error`)")
                .content(SCIM_JSON, json()),
        );
    for p in params {
        op = op.parameter(p);
    }
    op
}

impl Modify for ScimDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.tags.get_or_insert_with(Vec::new).push(
            Tag::builder()
                .name("scim")
                .description(Some(
                    "SCIM 2.0 service provider (RFC 7643, RFC 7644, RFC 9865 cursors), read-only, per account, with the account's API tokens. Writes (POST, PUT, PATCH, DELETE on Users and Groups) are validated, then answered 501. See docs/scim.md for the attribute mapping and client setup.",
                ))
                .build(),
        );
        let id = || param("id", ParameterIn::Path, Type::String, "the resource id");
        let paths = [
            (
                "/scim/v2/ServiceProviderConfig",
                operation(
                    "What the service provider supports",
                    vec![],
                    "ServiceProviderConfig",
                ),
            ),
            (
                "/scim/v2/Schemas",
                operation(
                    "Every schema, attributes all readOnly",
                    vec![],
                    "ListResponse of Schemas",
                ),
            ),
            (
                "/scim/v2/ResourceTypes",
                operation("User and Group", vec![], "ListResponse of ResourceTypes"),
            ),
            (
                "/scim/v2/Users",
                operation(
                    "Employees as Users (core, enterprise and Roster extensions)",
                    list_params(),
                    "ListResponse of Users",
                ),
            ),
            (
                "/scim/v2/Users/{id}",
                operation(
                    "One User, with ETag (If-None-Match answers 304)",
                    vec![id()],
                    "User",
                ),
            ),
            (
                "/scim/v2/Groups",
                operation(
                    "One Group per value of the scim_group_demographics setting",
                    list_params(),
                    "ListResponse of Groups",
                ),
            ),
            (
                "/scim/v2/Groups/{id}",
                operation("One Group, with ETag", vec![id()], "Group"),
            ),
        ];
        for (path, op) in paths {
            openapi
                .paths
                .add_path_operation(path, vec![HttpMethod::Get], op.build());
        }
        for (path, what) in [
            ("/scim/v2/Users/.search", "Users"),
            ("/scim/v2/Groups/.search", "Groups"),
        ] {
            let op = operation(
                &format!("{what} by a SearchRequest body (the list parameters as JSON)"),
                vec![],
                &format!("ListResponse of {what}"),
            );
            openapi
                .paths
                .add_path_operation(path, vec![HttpMethod::Post], op.build());
        }
    }
}
