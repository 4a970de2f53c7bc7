//! An integration's field mapping (`Settings::map_field`, with the look-alike
//! warning) and its settings, by name.

use axum::Json;
use axum::extract::State;
use roster_core::employee::CORE_FIELDS;
use roster_core::settings::{FieldKind, MappingError, SETTING_KEYS};
use roster_engine::EngineError;

use crate::auth::{Admin, Auth, EditData, Read};
use crate::dto::{
    FieldKindDto, MappedFieldDto, MappingDto, SetMappingRequest, SettingDto, SettingsDto,
    SourceFieldDto,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

fn kind_dto(k: FieldKind) -> FieldKindDto {
    match k {
        FieldKind::Default => FieldKindDto::Default,
        FieldKind::Associated => FieldKindDto::Associated,
        FieldKind::Hidden => FieldKindDto::Hidden,
    }
}

fn mapping_dto(i: &roster_store::Integration) -> MappingDto {
    let sample = |k: &str| {
        i.source_fields
            .iter()
            .find(|f| f.key == k)
            .and_then(|f| f.sample.clone())
    };
    let warnings = i
        .settings
        .look_alikes()
        .iter()
        .map(|l| {
            format!(
                "{:?} and {:?} differ only by case, spacing or punctuation; this splits trend history",
                l.other, l.demographic
            )
        })
        .collect();
    MappingDto {
        core_fields: CORE_FIELDS.iter().map(|s| s.to_string()).collect(),
        mapping: i
            .settings
            .mapping
            .iter()
            .map(|m| MappedFieldDto {
                source_key: m.source_key.clone(),
                demographic: m.demographic.clone(),
                kind: kind_dto(m.kind),
                sample: sample(&m.source_key),
            })
            .collect(),
        source_fields: i
            .source_fields
            .iter()
            .map(|f| SourceFieldDto {
                key: f.key.clone(),
                label: f.label.clone(),
                sample: f.sample.clone(),
            })
            .collect(),
        warnings,
    }
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/mapping", tag = "mapping",
    params(("id" = i64, Path)),
    responses((status = 200, body = MappingDto), (status = "4XX", body = ErrorBody)))]
pub async fn mapping(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MappingDto>, ApiError> {
    let i = st.engine(p.account).integration(Some(id)).await?;
    Ok(Json(mapping_dto(&i)))
}

#[utoipa::path(put, path = "/api/v1/integrations/{id}/mapping/{source_key}", tag = "mapping",
    description = "Map a source field (e.g. `custom:cf_123` or `job_title`) to a demographic.",
    params(("id" = i64, Path), ("source_key" = String, Path)),
    request_body = SetMappingRequest,
    responses((status = 200, body = MappingDto), (status = "4XX", body = ErrorBody)))]
pub async fn set_mapping(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath((id, source_key)): ApiPath<(i64, String)>,
    ApiJson(req): ApiJson<SetMappingRequest>,
) -> Result<Json<MappingDto>, ApiError> {
    let engine = st.engine(p.account);
    let kind = match req.kind.unwrap_or(FieldKindDto::Default) {
        FieldKindDto::Default => FieldKind::Default,
        FieldKindDto::Associated => FieldKind::Associated,
        FieldKindDto::Hidden => FieldKind::Hidden,
    };
    engine
        .set_mapping(id, &source_key, &req.demographic, kind)
        .await
        .map_err(|e| match e {
            EngineError::Mapping(e @ MappingError::UnknownField(_)) => ApiError::NotFound(format!(
                "{e}; GET the mapping for the list (run the setup sync first)"
            )),
            e => e.into(),
        })?;
    tracing::info!(account = p.account, integration = id, principal = %p.label(), "mapping set");
    let i = engine.integration(Some(id)).await?;
    Ok(Json(mapping_dto(&i)))
}

#[utoipa::path(delete, path = "/api/v1/integrations/{id}/mapping/{source_key}", tag = "mapping",
    params(("id" = i64, Path), ("source_key" = String, Path)),
    responses((status = 200, body = MappingDto), (status = "4XX", body = ErrorBody)))]
pub async fn unset_mapping(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath((id, source_key)): ApiPath<(i64, String)>,
) -> Result<Json<MappingDto>, ApiError> {
    let engine = st.engine(p.account);
    engine.unset_mapping(id, &source_key).await?;
    tracing::info!(account = p.account, integration = id, principal = %p.label(), "mapping unset");
    let i = engine.integration(Some(id)).await?;
    Ok(Json(mapping_dto(&i)))
}

fn settings_dto(s: &roster_core::settings::Settings) -> SettingsDto {
    SettingsDto {
        settings: SETTING_KEYS
            .iter()
            .map(|(k, help)| {
                (
                    k.to_string(),
                    SettingDto {
                        value: s.get(k).unwrap_or_default(),
                        help: help.to_string(),
                    },
                )
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/settings", tag = "settings",
    params(("id" = i64, Path)),
    responses((status = 200, body = SettingsDto), (status = "4XX", body = ErrorBody)))]
pub async fn settings(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SettingsDto>, ApiError> {
    let i = st.engine(p.account).integration(Some(id)).await?;
    Ok(Json(settings_dto(&i.settings)))
}

#[utoipa::path(put, path = "/api/v1/integrations/{id}/settings", tag = "settings",
    description = "Change settings by name (values as text, as `GET` shows them). All or nothing: one bad value changes nothing and names the setting.",
    params(("id" = i64, Path)),
    request_body(content = std::collections::BTreeMap<String, String>, description = "setting name → value, e.g. {\"on_missing\": \"deactivate\"}"),
    responses((status = 200, body = SettingsDto), (status = "4XX", body = ErrorBody)))]
pub async fn put_settings(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(values): ApiJson<std::collections::BTreeMap<String, String>>,
) -> Result<Json<SettingsDto>, ApiError> {
    let engine = st.engine(p.account);
    engine.integration(Some(id)).await?;
    // Validate every value on a copy first, so that the error names the setting.
    let mut probe = engine.integration(Some(id)).await?.settings;
    for (k, v) in &values {
        probe
            .set(k, v)
            .map_err(|e| ApiError::invalid(e.to_string(), Some(k)))?;
    }
    let s = engine
        .update_settings(id, |s| {
            for (k, v) in &values {
                s.set(k, v).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .await?;
    let keys: Vec<&str> = values.keys().map(String::as_str).collect();
    tracing::info!(account = p.account, integration = id, principal = %p.label(), settings = ?keys, "settings changed");
    Ok(Json(settings_dto(&s)))
}
