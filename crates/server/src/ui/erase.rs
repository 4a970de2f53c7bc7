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
use crate::extract::ApiPath;
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
    })
}

#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: Option<String>,
}

async fn erase(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<EraseForm>,
) -> Result<Response, UiError> {
    if p.form.confirm.as_deref() != Some("yes") {
        return Ok(see(format!("/users/{}/erase", seg(&who))));
    }
    let axum::Json(done) = api::erase(State(st), p.user.auth()?, ApiPath(who.clone())).await?;
    let id = done
        .employees
        .first()
        .map(|e| e.employee_id.clone())
        .unwrap_or(who);
    Ok(see(format!("/users/{}?notice=erased", seg(&id))))
}
