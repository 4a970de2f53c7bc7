//! What several pages read from the store: the reporting tree with the broken
//! lines the last syncs reported, and people's names by employee ID.

use std::collections::{HashMap, HashSet};

use roster_store::{AccountId, ImportKind, ImportStatus, ImportSummary};
use serde_json::Value;

use super::UiError;
use super::seg;
use super::tree::{Broken, Tree};
use super::words::{Person, name_of};
use crate::error::ApiError;
use crate::state::AppState;

/// How many recent imports are searched for each integration's last applied sync.
const RECENT: usize = 200;

/// The last applied sync (or users file import) of each integration, newest first.
pub fn last_applied(imports: &[ImportSummary]) -> Vec<&ImportSummary> {
    let mut seen = HashSet::new();
    imports
        .iter()
        .filter(|s| matches!(s.kind, ImportKind::Sync | ImportKind::CsvImport))
        .filter(|s| {
            matches!(
                s.status,
                ImportStatus::Applied | ImportStatus::PartiallyApplied
            )
        })
        .filter(|s| seen.insert(s.integration_id))
        .collect()
}

/// The broken reporting lines the last applied syncs reported: (employee ID, why).
pub async fn reported_lines(
    st: &AppState,
    account: AccountId,
) -> Result<Vec<(String, Broken)>, UiError> {
    let imports = st
        .store
        .imports(account, RECENT)
        .await
        .map_err(ApiError::from)?;
    let mut out = Vec::new();
    for s in last_applied(&imports) {
        let Some((_, details)) = st
            .store
            .import_head(account, s.id)
            .await
            .map_err(ApiError::from)?
        else {
            continue;
        };
        let issues = details.get("issues").and_then(Value::as_array);
        for i in issues.into_iter().flatten() {
            let s = |k: &str| i.get(k).and_then(Value::as_str);
            if let (Some(id), Some(b)) = (
                s("employee_id").or(s("source_id")),
                Broken::from_issue(s("code").unwrap_or(""), s("message").unwrap_or("")),
            ) {
                out.push((id.to_string(), b));
            }
        }
    }
    Ok(out)
}

/// The reporting tree of the account's active employees.
pub async fn tree(st: &AppState, account: AccountId) -> Result<Tree, UiError> {
    let outline = st
        .store
        .directory_outline(account)
        .await
        .map_err(ApiError::from)?;
    let reported = reported_lines(st, account).await?;
    Ok(Tree::build(&outline, &reported))
}

/// People by these IDs (employee ID, or a source ID where it is also one), at most
/// `cap` looked up in the directory; `known` are not looked up again.
pub async fn people(
    st: &AppState,
    account: AccountId,
    ids: impl IntoIterator<Item = String>,
    cap: usize,
    mut known: HashMap<String, Person>,
) -> Result<HashMap<String, Person>, UiError> {
    let mut asked = 0;
    for id in ids {
        if asked >= cap || known.contains_key(&id) {
            continue;
        }
        asked += 1;
        if let Some(e) = st
            .store
            .find_employee(account, &id)
            .await
            .map_err(ApiError::from)?
        {
            known.insert(
                id,
                Person {
                    name: name_of(&e),
                    link: Some(format!("/users/{}", seg(&e.employee_id))),
                },
            );
        }
    }
    Ok(known)
}

/// `e` as a person, under its employee ID and its source ID.
pub fn person_entries(e: &roster_core::employee::Employee) -> Vec<(String, Person)> {
    let p = Person {
        name: name_of(e),
        link: Some(format!("/users/{}", seg(&e.employee_id))),
    };
    let mut out = vec![(e.employee_id.clone(), p.clone())];
    if let Some(s) = e.source_id.clone().filter(|s| *s != e.employee_id) {
        out.push((s, p));
    }
    out
}

/// People by lower-case email (at most `cap` looked up), for managers named by
/// email.
pub async fn people_by_email(
    st: &AppState,
    account: AccountId,
    emails: impl IntoIterator<Item = String>,
    cap: usize,
) -> Result<HashMap<String, Person>, UiError> {
    let mut out = HashMap::new();
    let mut asked = HashSet::new();
    for email in emails {
        let key = email.to_lowercase();
        if asked.len() >= cap || !asked.insert(key.clone()) {
            continue;
        }
        if let Some(e) = st
            .store
            .find_employee(account, &email)
            .await
            .map_err(ApiError::from)?
        {
            out.insert(
                key,
                Person {
                    name: name_of(&e),
                    link: Some(format!("/users/{}", seg(&e.employee_id))),
                },
            );
        }
    }
    Ok(out)
}
