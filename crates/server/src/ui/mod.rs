//! The admin web UI: server-rendered pages (askama templates in `templates/`), usable
//! without JavaScript.
//!
//! Every page calls the same handlers as the REST API (`crate::api`), so the UI adds
//! no rules of its own: the API's role checks, validation and error catalogue apply.
//!
//! - **Sign-in** goes through `api::access::login` (the `roster_session` cookie).
//! - **CSRF**: the API reads the token from the `X-CSRF-Token` header; a browser
//!   form cannot set a header, so every form here carries the same token (derived
//!   from the session, [`crate::auth::csrf_token`]) in a hidden `csrf_token` field,
//!   and [`Posted`] checks it with [`crate::auth::csrf_matches`] before the handler
//!   runs. That check lives here, apart from the API's.
//! - **Roles**: [`UiUser::auth`] gives the API's `Auth<L>` only when the role allows
//!   `L`, so a viewer's post is refused before anything runs.
//! - Errors are pages with the catalogue's status and message (a 5xx shows only the
//!   error id). Logs carry ids only.

mod chart;
mod csv_files;
mod dashboard;
mod demographics;
mod directory;
mod erase;
mod imports;
mod integrations;
mod login;
mod mapping;
mod notifications;
mod org;
mod retention;
mod review;
mod settings;
mod tree;
mod upcoming;
mod users;
mod words;

use std::marker::PhantomData;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use roster_store::access::Role;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::{self, Auth, Level, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// Every page of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(dashboard::routes())
        .merge(login::routes())
        .merge(integrations::routes())
        .merge(review::routes())
        .merge(imports::routes())
        .merge(users::routes())
        .merge(erase::routes())
        .merge(retention::routes())
        .merge(org::routes())
        .merge(settings::routes())
        .merge(mapping::routes())
        .merge(demographics::routes())
        .merge(upcoming::routes())
        .merge(notifications::routes())
        .merge(csv_files::routes())
}

/// The signed-in web user of a page.
#[derive(Clone, Debug)]
pub struct UiUser {
    pub principal: Principal,
    pub email: String,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    session: String,
}

impl UiUser {
    /// The API's `Auth<L>`, when the role allows `L`.
    pub fn auth<L: Level>(&self) -> Result<Auth<L>, UiError> {
        if !L::PERMISSION.allows(self.principal.role) {
            return Err(UiError::Forbidden);
        }
        Ok(Auth(self.principal.clone(), PhantomData))
    }

    pub fn can_edit(&self) -> bool {
        auth::Permission::EditData.allows(self.principal.role)
    }

    pub fn can_admin(&self) -> bool {
        auth::Permission::Admin.allows(self.principal.role)
    }

    /// The cookie and CSRF headers an API handler that reads headers expects.
    fn api_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("{}={}", auth::SESSION_COOKIE, self.session))
        {
            h.insert(COOKIE, v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.csrf) {
            h.insert(auth::CSRF_HEADER, v);
        }
        h
    }

    /// What the layout shows.
    pub fn layout(&self, active: &'static str, notice: Option<&str>) -> Layout {
        Layout {
            csrf: self.csrf.clone(),
            email: self.email.clone(),
            role: role_label(self.principal.role),
            active,
            notice: notice.and_then(notice_text).map(str::to_string),
            can_edit: self.can_edit(),
            can_admin: self.can_admin(),
        }
    }
}

fn role_label(r: Role) -> &'static str {
    match r {
        Role::Viewer => "viewer",
        Role::EmployeeDataAdmin => "employee data admin",
        Role::AccountAdmin => "account admin",
    }
}

/// The session of the request, if it is valid (the cookie only: no bearer tokens in
/// the UI).
async fn session_user(headers: &HeaderMap, st: &AppState) -> Result<Option<UiUser>, UiError> {
    let Some(session) = auth::session_cookie(headers) else {
        return Ok(None);
    };
    let found = st
        .store
        .session_by_digest(&auth::digest(&session), st.clock.now())
        .await
        .map_err(ApiError::from)?;
    Ok(found.map(|s| UiUser {
        principal: Principal {
            account: s.account_id,
            role: s.user.role,
            credential: auth::Credential::Session(s.user.id),
        },
        email: s.user.email,
        csrf: auth::csrf_token(&session),
        session,
    }))
}

impl FromRequestParts<AppState> for UiUser {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, UiError> {
        match session_user(&parts.headers, st).await? {
            Some(u) => Ok(u),
            None => Err(UiError::SignIn),
        }
    }
}

/// A posted form (`application/x-www-form-urlencoded`) of a signed-in user, whose
/// `csrf_token` field has been checked against the session.
pub struct Posted<T> {
    pub user: UiUser,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, UiError> {
        let (mut parts, body) = req.into_parts();
        let user = UiUser::from_request_parts(&mut parts, st).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), st)
            .await
            .map_err(|_| UiError::Api(ApiError::TooLarge))?;
        let token: CsrfOnly = parse_form(&bytes).await?;
        if !auth::csrf_matches(&user.session, &token.csrf_token) {
            return Err(UiError::Api(ApiError::Csrf));
        }
        let form = parse_form(&bytes).await?;
        Ok(Posted { user, form })
    }
}

/// An `application/x-www-form-urlencoded` body, read with axum's `Form`.
async fn parse_form<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, UiError> {
    let req = Request::builder()
        .method(axum::http::Method::POST)
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(axum::body::Body::from(bytes.clone()))
        .map_err(|e| UiError::Api(ApiError::internal(&e)))?;
    axum::extract::Form::<T>::from_request(req, &())
        .await
        .map(|f| f.0)
        .map_err(|e| UiError::Api(ApiError::bad_request(e.body_text(), None)))
}

/// What goes wrong on a page.
#[derive(Debug)]
pub enum UiError {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// The role does not allow it.
    Forbidden,
    /// An API error, shown as a page.
    Api(ApiError),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unauthenticated => Self::SignIn,
            other => Self::Api(other),
        }
    }
}

impl From<roster_engine::EngineError> for UiError {
    fn from(e: roster_engine::EngineError) -> Self {
        Self::Api(e.into())
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        Self::Api(ApiError::internal(&e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Self::SignIn => return Redirect::to("/login").into_response(),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not allowed".to_string(),
                "Your role does not allow this. Ask an account admin.".to_string(),
            ),
            Self::Api(e) => {
                let status = e.status();
                let title = match e {
                    ApiError::Csrf => "The form has expired".to_string(),
                    ApiError::Forbidden { .. } => "Not allowed".to_string(),
                    ApiError::NotFound(_) => "Not found".to_string(),
                    _ => status
                        .canonical_reason()
                        .unwrap_or("Something went wrong")
                        .to_string(),
                };
                let message = match e {
                    ApiError::Csrf => {
                        "The form was not sent from this session. Go back, reload the page and try again.".to_string()
                    }
                    other => other.to_string(),
                };
                (status, title, message)
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    }
}

/// A rendered page.
pub fn page<T: Template>(t: &T) -> Result<Response, UiError> {
    Ok(Html(t.render()?).into_response())
}

/// After a post: see the result (303, so the browser GETs it).
pub fn see(to: impl AsRef<str>) -> Response {
    Redirect::to(to.as_ref()).into_response()
}

/// The shared layout's data.
pub struct Layout {
    pub csrf: String,
    pub email: String,
    pub role: &'static str,
    pub active: &'static str,
    pub notice: Option<String>,
    pub can_edit: bool,
    pub can_admin: bool,
}

/// The messages a redirect may show (`?notice=code`): fixed texts, so a link cannot
/// make the page say anything else.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "signed_out" => "You are signed out.",
        "connected" => "Justworks is connected. Run the setup sync next.",
        "oauth_denied" => "Justworks is not connected: the consent was refused on Justworks' page.",
        "oauth_failed" => {
            "Justworks is not connected: the authorisation did not finish (it may have taken longer than 15 minutes, or been used already). Connect again; the server log says why."
        }
        "setup_done" => "Setup sync done: check the mapping, then review the first sync.",
        "deleted" => "The integration is deleted. The directory and the import history stay.",
        "autosync_on" => "Auto-sync is on.",
        "autosync_off" => "Auto-sync is off.",
        "paused" => "Auto-sync is paused.",
        "resumed" => "Auto-sync resumed.",
        "applied" => "Imported.",
        "partially_applied" => {
            "Imported, except the privacy-held employees: confirm them in a new review to import them."
        }
        "blocked" => "Nothing was imported: a guard blocked it.",
        "needs_confirmation" => "Nothing was imported: confirm the mass change first.",
        "discarded" => "The review is discarded: nothing was imported (it is kept in the history).",
        "email_set" => "The email is changed.",
        "excluded" => "Excluded: this employee stays deactivated in later syncs until included.",
        "included" => "Included again.",
        "merged" => "Merged: the duplicate is deactivated.",
        "erased" => {
            "Erased: the personal data is replaced by neutral values everywhere Roster keeps it."
        }
        "removed" => {
            "Removed: the record is anonymised and gone from the directory; its reports follow its manager."
        }
        "held" => {
            "Retention hold placed: retention leaves this employee alone until it is released."
        }
        "hold_released" => "Retention hold released: retention applies to this employee again.",
        "retention_applied" => {
            "Retention applied: the former employees due are anonymised, recorded as an import of kind retention."
        }
        "nothing" => "Nothing to change.",
        "settings_saved" => "Settings saved.",
        "mapping_saved" => "Mapping saved.",
        "demographic_deleted" => "The demographic is deleted.",
        "channel_added" => "Channel added.",
        "channel_removed" => "Channel removed.",
        "rolled_back" => "Rolled back.",
        _ => return None,
    })
}

/// The `notice` query parameter of a page.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

/// A path segment, percent-encoded (employee IDs and emails in links).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b'+') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string from pairs (values percent-encoded).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `2026-03-01 14:05 UTC`.
pub fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn when_opt(t: Option<jiff::Timestamp>) -> String {
    t.map(when).unwrap_or_else(|| "never".into())
}

/// `—` for nothing.
pub fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("—").to_string()
}

/// A change's old and new values and rule, for the templates: the field in words,
/// a manager by name and linked.
pub struct ChangeView {
    /// The field's name as stored (`data-field`).
    pub field: String,
    pub label: String,
    pub old: String,
    pub new: String,
    pub old_person: Option<words::Person>,
    pub new_person: Option<words::Person>,
    pub rule: String,
}

impl ChangeView {
    fn of(field: &str, old: Option<&str>, new: Option<&str>, rule: &str) -> Self {
        Self {
            field: field.to_string(),
            label: words::field_label(field),
            old: or_dash(old),
            new: or_dash(new),
            old_person: None,
            new_person: None,
            rule: words::rule_words(rule).to_string(),
        }
    }

    /// Put managers' names on manager changes (`people`: lower-case email → person).
    pub fn name_managers(&mut self, people: &std::collections::HashMap<String, words::Person>) {
        if self.field != "manager_email" {
            return;
        }
        self.old_person = people.get(&self.old.to_lowercase()).cloned();
        self.new_person = people.get(&self.new.to_lowercase()).cloned();
    }
}

impl From<&crate::dto::ChangeDto> for ChangeView {
    fn from(c: &crate::dto::ChangeDto) -> Self {
        Self::of(&c.field, c.old.as_deref(), c.new.as_deref(), &c.rule)
    }
}

impl From<&roster_core::plan::Change> for ChangeView {
    fn from(c: &roster_core::plan::Change) -> Self {
        Self::of(
            &c.field,
            c.old.as_deref(),
            c.new.as_deref(),
            c.rule.as_str(),
        )
    }
}

/// One employee's changes, for the templates (`changes.html`).
pub struct EntryView {
    pub employee_id: String,
    pub name: String,
    pub link: String,
    /// The action as stored (`data-action`) and in words.
    pub action: String,
    pub action_words: String,
    pub privacy: bool,
    pub held: bool,
    pub id_change: bool,
    pub duplicate_of: Option<String>,
    pub changes: Vec<ChangeView>,
}

impl EntryView {
    pub fn new(employee_id: &str, name: String, action: &str, changes: Vec<ChangeView>) -> Self {
        Self {
            employee_id: employee_id.to_string(),
            name,
            link: format!("/users/{}", seg(employee_id)),
            action: action.to_string(),
            action_words: words::action_words(action).to_string(),
            privacy: false,
            held: false,
            id_change: false,
            duplicate_of: None,
            changes,
        }
    }
}

impl From<&crate::dto::ReviewEntryDto> for EntryView {
    /// Named from the entry's own name changes (a new employee's), else its ID.
    fn from(e: &crate::dto::ReviewEntryDto) -> Self {
        let new = |f: &str| {
            e.changes
                .iter()
                .find(|c| c.field == f)
                .and_then(|c| c.new.clone())
        };
        let first = new("preferred_name").or_else(|| new("first_name"));
        let name = match (first, new("last_name")) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            (Some(n), None) | (None, Some(n)) => n,
            (None, None) => e.employee_id.clone(),
        };
        let mut v = EntryView::new(
            &e.employee_id,
            name,
            &e.action,
            e.changes.iter().map(ChangeView::from).collect(),
        );
        v.privacy = e.privacy;
        v.held = e.held;
        v.id_change = e.id_change;
        v.duplicate_of = e.possible_duplicate_of.clone();
        v
    }
}

/// The manager emails the changes of `entries` name.
pub fn manager_emails(entries: &[EntryView]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|e| &e.changes)
        .filter(|c| c.field == "manager_email")
        .flat_map(|c| [c.old.clone(), c.new.clone()])
        .filter(|e| e.contains('@'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_queries_are_encoded() {
        assert_eq!(seg("a b/c@x.example"), "a%20b%2Fc@x.example");
        assert_eq!(query(&[("search", "a&b"), ("action", "")]), "search=a%26b");
    }

    #[test]
    fn notices_are_fixed_texts() {
        assert!(notice_text("applied").is_some());
        assert!(notice_text("<script>").is_none());
    }
}
