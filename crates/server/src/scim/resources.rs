//! The directory as SCIM resources, read through the engine (phase 1: the whole
//! directory, filtered in memory).

use std::collections::HashMap;

use jiff::Timestamp;
use roster_core::{Employee, Settings};
use roster_scim::{GroupMeta, ManagerLink, ScimConfig, ScimProvider, UserMeta};
use serde_json::Value;

use super::response::{Scim, base_url};
use crate::auth::Principal;
use crate::state::AppState;

/// How many imports are read for `meta` (the oldest of them is `created`).
const IMPORTS_FOR_META: usize = 10_000;

/// The account's service provider: the first integration's settings (the account's
/// defaults without one), grouping by the crate's default (`Department`) until the
/// setting `scim_group_demographics` exists.
pub(super) async fn provider(st: &AppState, p: &Principal) -> Result<ScimProvider, Scim> {
    let engine = st.engine(p.account);
    let settings = engine
        .integrations()
        .await?
        .into_iter()
        .next()
        .map(|i| i.settings)
        .unwrap_or_else(Settings::default);
    let config = ScimConfig {
        base_url: base_url(&st.config.public_url),
        ..ScimConfig::default()
    };
    Ok(ScimProvider::new(&settings, config))
}

/// The directory at one read, with the times `meta` uses.
pub(super) struct Snapshot {
    employees: Vec<Employee>,
    /// Phase 1: `meta.created` is the account's first import and `meta.lastModified`
    /// its latest, the same for every user (per-employee times from the history need
    /// the indexed store queries of phase 2).
    meta: UserMeta,
}

impl Snapshot {
    pub(super) async fn read(st: &AppState, p: &Principal) -> Result<Self, Scim> {
        let engine = st.engine(p.account);
        let employees = engine.directory().await?;
        let imports = engine.imports(IMPORTS_FOR_META).await?;
        let created = imports
            .iter()
            .map(|i| i.started_at)
            .min()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let last_modified = imports
            .iter()
            .map(|i| i.finished_at)
            .max()
            .unwrap_or(created);
        Ok(Self {
            employees,
            meta: UserMeta {
                created,
                last_modified,
            },
        })
    }

    /// The manager links: `manager_email` (case-insensitively) to the active employee
    /// with that email.
    fn managers(&self, provider: &ScimProvider) -> HashMap<String, ManagerLink> {
        self.employees
            .iter()
            .filter(|e| e.active && e.merged_into.is_none() && !e.email.is_empty())
            .map(|e| {
                (
                    e.email.to_lowercase(),
                    ManagerLink {
                        key: e.key,
                        display_name: provider
                            .display_name(e)
                            .unwrap_or_else(|| roster_scim::ids::user_name(e)),
                    },
                )
            })
            .collect()
    }

    fn user_of(
        &self,
        provider: &ScimProvider,
        managers: &HashMap<String, ManagerLink>,
        e: &Employee,
    ) -> Value {
        let manager = e
            .manager_email
            .as_deref()
            .and_then(|m| managers.get(&m.trim().to_lowercase()));
        provider.user(e, &self.meta, manager)
    }

    /// Every employee as a User (deactivated and merged ones too).
    pub(super) fn users(&self, provider: &ScimProvider) -> Vec<Value> {
        let managers = self.managers(provider);
        self.employees
            .iter()
            .map(|e| self.user_of(provider, &managers, e))
            .collect()
    }

    /// The User with this SCIM id, if the account has it.
    pub(super) fn user(&self, provider: &ScimProvider, id: &str) -> Option<Value> {
        let e = self
            .employees
            .iter()
            .find(|e| roster_scim::user_id(e.key) == id)?;
        Some(self.user_of(provider, &self.managers(provider), e))
    }

    fn group_meta(&self) -> GroupMeta {
        GroupMeta {
            created: Some(self.meta.created),
            last_modified: Some(self.meta.last_modified),
        }
    }

    /// Every group.
    pub(super) fn groups(&self, provider: &ScimProvider) -> Vec<Value> {
        let meta = self.group_meta();
        provider
            .groups(&self.employees)
            .iter()
            .map(|g| provider.group(g, &meta))
            .collect()
    }

    /// The Group with this id, if the directory has it.
    pub(super) fn group(&self, provider: &ScimProvider, id: &str) -> Option<Value> {
        let g = provider.find_group(&self.employees, id)?;
        Some(provider.group(&g, &self.group_meta()))
    }
}
