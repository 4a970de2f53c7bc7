//! Erasing a person's personal data (issue #17) from their page: a confirmation
//! page, then the API's erase (account admins only).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Layout, Posted, UiError, UiUser, page, see, seg};
use crate::api::users as api;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/users/{who}/erase", get(confirm_form).post(erase))
}

#[derive(Template)]
#[template(path = "erase.html")]
struct ErasePage {
    l: Layout,
    /// The path segment of the user's page.
    who: String,
    employee_id: String,
    name: String,
    /// The employee is active (in the source as of the last sync): their data comes
    /// back with the next sync unless they leave the source.
    still_active: Option<String>,
}

async fn confirm_form(
    State(st): State<AppState>,
    Path(who): Path<String>,
    user: UiUser,
) -> Result<Response, UiError> {
    let admin = user.auth::<crate::auth::Admin>()?;
    let e = st
        .engine(admin.0.account)
        .find(&who)
        .await
        .map_err(crate::error::ApiError::from)?;
    page(&ErasePage {
        l: user.layout("users", None),
        who: seg(&who),
        employee_id: e.employee_id.clone(),
        name: e.display_name(),
        still_active: roster_engine::Engine::erasure_warning(&e),
    })
}

#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: Option<String>,
    /// `yes`: remove the record entirely.
    #[serde(default)]
    remove: Option<String>,
}

async fn erase(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<EraseForm>,
) -> Result<Response, UiError> {
    if p.form.confirm.as_deref() != Some("yes") {
        return Ok(see(format!("/users/{}/erase", seg(&who))));
    }
    let remove = p.form.remove.as_deref() == Some("yes");
    let query = ApiQuery(crate::dto::EraseQuery { remove });
    let axum::Json(done) =
        api::erase(State(st), p.user.auth()?, ApiPath(who.clone()), query).await?;
    if done.removed {
        return Ok(see("/users?notice=removed"));
    }
    let id = done
        .employees
        .first()
        .map(|e| e.employee_id.clone())
        .unwrap_or(who);
    Ok(see(format!("/users/{}?notice=erased", seg(&id))))
}
