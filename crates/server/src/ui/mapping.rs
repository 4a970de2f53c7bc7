//! The mapping of an integration: core fields (read-only), mapped fields and every
//! source field with its sample value; map or unmap a field.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Layout, NoticeQuery, Posted, UiError, UiUser, or_dash, page, see};
use crate::api::{integrations, mapping as api};
use crate::dto::{FieldKindDto, SetMappingRequest};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations/{id}/mapping", get(show).post(set))
        .route("/integrations/{id}/mapping/unset", post(unset))
}

fn kind_text(k: FieldKindDto) -> &'static str {
    match k {
        FieldKindDto::Default => "default",
        FieldKindDto::Associated => "associated",
        FieldKindDto::Hidden => "hidden",
    }
}

struct Mapped {
    key: String,
    demographic: String,
    kind: &'static str,
    sample: String,
}

struct Source {
    key: String,
    label: String,
    sample: String,
    mapped_to: Option<String>,
}

#[derive(Template)]
#[template(path = "mapping.html")]
struct MappingPage {
    l: Layout,
    id: i64,
    name: String,
    core: Vec<String>,
    mapped: Vec<Mapped>,
    sources: Vec<Source>,
    warnings: Vec<String>,
}

async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let axum::Json(i) = integrations::show(State(st.clone()), user.auth()?, ApiPath(id)).await?;
    let axum::Json(m) = api::mapping(State(st), user.auth()?, ApiPath(id)).await?;
    page(&MappingPage {
        l: user.layout("integrations", q.notice.as_deref()),
        id,
        name: i.name,
        core: m.core_fields.clone(),
        sources: m
            .source_fields
            .iter()
            .map(|f| Source {
                key: f.key.clone(),
                label: f.label.clone(),
                sample: or_dash(f.sample.as_deref()),
                mapped_to: m
                    .mapping
                    .iter()
                    .find(|x| x.source_key == f.key)
                    .map(|x| x.demographic.clone()),
            })
            .collect(),
        mapped: m
            .mapping
            .iter()
            .map(|x| Mapped {
                key: x.source_key.clone(),
                demographic: x.demographic.clone(),
                kind: kind_text(x.kind),
                sample: or_dash(x.sample.as_deref()),
            })
            .collect(),
        warnings: m.warnings,
    })
}

#[derive(Deserialize)]
struct SetForm {
    source_key: String,
    #[serde(default)]
    demographic: String,
    #[serde(default)]
    kind: String,
}

async fn set(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<SetForm>,
) -> Result<Response, UiError> {
    let kind = match p.form.kind.as_str() {
        "associated" => FieldKindDto::Associated,
        "hidden" => FieldKindDto::Hidden,
        _ => FieldKindDto::Default,
    };
    let _ = api::set_mapping(
        State(st),
        p.user.auth()?,
        ApiPath((id, p.form.source_key.clone())),
        ApiJson(SetMappingRequest {
            demographic: p.form.demographic.clone(),
            kind: Some(kind),
        }),
    )
    .await?;
    Ok(see(format!(
        "/integrations/{id}/mapping?notice=mapping_saved"
    )))
}

#[derive(Deserialize)]
struct UnsetForm {
    source_key: String,
}

async fn unset(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<UnsetForm>,
) -> Result<Response, UiError> {
    let _ = api::unset_mapping(State(st), p.user.auth()?, ApiPath((id, p.form.source_key))).await?;
    Ok(see(format!(
        "/integrations/{id}/mapping?notice=mapping_saved"
    )))
}
