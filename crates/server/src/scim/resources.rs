//! The directory as SCIM resources, read from the store: a list's filter runs as an
//! indexed selection ([`selection`]), paged and counted in SQL when the index answers
//! it exactly; a single read loads one employee and its manager; groups load (value,
//! member) pairs, not whole records. `meta.created`/`lastModified` are each
//! employee's own times from its row ([`roster_store::Dated`]).

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use roster_core::normalise::email_key;
use roster_core::{Employee, Settings};
use roster_scim::{
    GroupMeta, ListResponse, ManagerLink, Paging, Query, ScimConfig, ScimProvider, UserMeta,
};
use roster_store::{Dated, EmployeeFilter, KeyPage};
use serde_json::Value;

use super::response::{Scim, base_url};
use super::selection;
use crate::auth::Principal;
use crate::state::AppState;

/// The account's service provider: the first integration's settings (the account's
/// defaults without one), grouping by its `scim_group_demographics`.
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
        group_demographics: settings.scim_group_demographics.clone(),
    };
    Ok(ScimProvider::new(&settings, config))
}

/// Reads of one account's directory for one request.
pub(super) struct Reader<'a> {
    pub st: &'a AppState,
    pub account: roster_store::AccountId,
    pub provider: &'a ScimProvider,
}

impl Reader<'_> {
    /// The manager links of these employees: each `manager_email` to the active,
    /// unmerged employee with that email (one indexed lookup for all of them).
    async fn managers(
        &self,
        employees: &[&Employee],
    ) -> Result<HashMap<String, ManagerLink>, Scim> {
        let mut emails: Vec<String> = employees
            .iter()
            .filter_map(|e| e.manager_email.as_deref())
            .map(email_key)
            .filter(|k| !k.is_empty())
            .collect();
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        emails.sort_unstable();
        emails.dedup();
        let filter = EmployeeFilter::And(vec![
            EmployeeFilter::Emails(emails),
            EmployeeFilter::Served(true),
        ]);
        let rows = self
            .st
            .store
            .select_employees(self.account, &filter, KeyPage::default())
            .await?;
        Ok(rows
            .into_iter()
            .map(|d| {
                let e = d.employee;
                let link = ManagerLink {
                    key: e.key,
                    display_name: self
                        .provider
                        .display_name(&e)
                        .unwrap_or_else(|| roster_scim::ids::user_name(&e)),
                };
                (email_key(&e.email), link)
            })
            .collect())
    }

    /// These employees as Users.
    async fn users(&self, rows: &[Dated]) -> Result<Vec<Value>, Scim> {
        let employees: Vec<&Employee> = rows.iter().map(|d| &d.employee).collect();
        let managers = self.managers(&employees).await?;
        Ok(rows
            .iter()
            .map(|d| {
                let manager = d
                    .employee
                    .manager_email
                    .as_deref()
                    .and_then(|m| managers.get(&email_key(m)));
                let meta = UserMeta {
                    created: d.created,
                    last_modified: d.modified,
                };
                self.provider.user(&d.employee, &meta, manager)
            })
            .collect())
    }

    async fn select(&self, filter: &EmployeeFilter, page: KeyPage) -> Result<Vec<Dated>, Scim> {
        Ok(self
            .st
            .store
            .select_employees(self.account, filter, page)
            .await?)
    }

    /// A list of Users. When the index answers the filter exactly and no sort is
    /// asked, the store counts and cuts the page (by offset, or after the cursor's
    /// key); otherwise the index's rows are the candidates, filtered, sorted and
    /// paged in memory.
    pub(super) async fn list_users(&self, query: &Query) -> Result<ListResponse, Scim> {
        let filter = selection::filter_of(&query.plan.index);
        if !query.pages_in_store() {
            let rows = self.select(&filter, KeyPage::default()).await?;
            return Ok(query.respond(self.users(&rows).await?));
        }
        let count = query.paging.count();
        let (page, more) = match &query.paging {
            Paging::Index { .. } if count == 0 => (Vec::new(), false),
            Paging::Index { .. } => {
                let page = KeyPage {
                    after: None,
                    offset: query.paging.offset(),
                    limit: Some(count),
                };
                (self.select(&filter, page).await?, false)
            }
            Paging::Cursor { .. } => {
                let page = KeyPage {
                    after: query.paging.after_key(),
                    offset: 0,
                    limit: Some(count + 1),
                };
                let mut rows = self.select(&filter, page).await?;
                let more = rows.len() > count;
                rows.truncate(count);
                (rows, more)
            }
        };
        // A first page that holds every match is its own total (a lookup by userName
        // is then one query); otherwise the store counts.
        let whole = match &query.paging {
            Paging::Index { .. } => count > 0 && query.paging.offset() == 0 && page.len() < count,
            Paging::Cursor { .. } => query.paging.after_key().is_none() && !more,
        };
        let total = if whole {
            page.len() as u64
        } else {
            self.st.store.count_selected(self.account, &filter).await?
        };
        Ok(query.respond_page(total, self.users(&page).await?, more))
    }

    /// The User with this SCIM id (the store key), if the account has it.
    pub(super) async fn user(&self, id: &str) -> Result<Option<Value>, Scim> {
        let Some(key) = roster_scim::ids::key_of(id) else {
            return Ok(None);
        };
        let rows = self
            .select(&EmployeeFilter::Keys(vec![key]), KeyPage::default())
            .await?;
        Ok(self.users(&rows).await?.into_iter().next())
    }

    /// Every group, with its meta: the earliest `created` and latest `lastModified`
    /// of its members.
    pub(super) async fn groups(&self) -> Result<Vec<Value>, Scim> {
        let demographics = self.provider.group_demographics();
        let members = self
            .st
            .store
            .demographic_members(self.account, demographics)
            .await?;
        let mut times: BTreeMap<i64, (Timestamp, Timestamp)> = BTreeMap::new();
        for m in &members {
            times.insert(m.employee.key, (m.created, m.modified));
        }
        let groups = self.provider.groups(members.iter().map(|m| &m.employee));
        Ok(groups
            .iter()
            .map(|g| {
                let mut meta = GroupMeta::default();
                for (created, modified) in g.members.iter().filter_map(|m| times.get(&m.key)) {
                    meta.created = Some(meta.created.map_or(*created, |c| c.min(*created)));
                    meta.last_modified =
                        Some(meta.last_modified.map_or(*modified, |c| c.max(*modified)));
                }
                self.provider.group(g, &meta)
            })
            .collect())
    }

    /// The Group with this id, if the directory has it.
    pub(super) async fn group(&self, id: &str) -> Result<Option<Value>, Scim> {
        Ok(self
            .groups()
            .await?
            .into_iter()
            .find(|g| g["id"].as_str() == Some(id)))
    }
}
