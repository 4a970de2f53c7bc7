//! [`JustworksSource`]: the `Source` over the Partner API.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use roster_core::fields::CUSTOM_PREFIX;
use roster_core::member::SourceField;
use roster_source::{
    CompanyInfo, Diagnostic, FetchProgress, FetchRequest, MemberFn, ProgressFn, Snapshot, Source,
    SourceError, Survey,
};
use tokio::sync::mpsc;
use url::Url;

use crate::accumulate::{Accumulator, Visitor};

mod members;
use crate::auth::{Credentials, OAuthClient, TokenSet, TokenStore, scope_granted};
use crate::client::{HttpClients, build_client};
use crate::config::JustworksConfig;
use crate::http::{Api, Auth, Counters, Got};
use crate::known::{Asker, Probed, ask_source, known_emails, settle};
use crate::mapping::{ManagerLookup, resolve_managers};
use crate::wire::{Page, WireCompany, WireCustomFields, json_error};

const MEMBERS_PATH: &str = "v1/members";
const MEMBERS_WHAT: &str = "GET /v1/members";

/// The Justworks Partner API as a [`Source`].
pub struct JustworksSource {
    config: JustworksConfig,
    api: Arc<Api>,
    members_url: Url,
}

impl std::fmt::Debug for JustworksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JustworksSource")
            .field("base_url", &self.config.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl JustworksSource {
    /// A source without a token store: refreshed tokens live only in memory
    /// (fine for static tokens, scripts and tests).
    pub fn new(config: JustworksConfig, credentials: Credentials) -> Result<Self, SourceError> {
        Self::build(config, credentials, None, None)
    }

    /// A source on a shared HTTP client (see [`HttpClients`]), saving refreshed tokens
    /// to `store` when given.
    pub fn new_shared(
        config: JustworksConfig,
        credentials: Credentials,
        store: Option<Arc<dyn TokenStore>>,
        http: &HttpClients,
    ) -> Result<Self, SourceError> {
        let client = http
            .client_for(&config)
            .map_err(|e| SourceError::Other(format!("HTTP client: {e}")))?;
        Self::build(config, credentials, store, Some(client))
    }

    /// A source that saves refreshed tokens to `store`.
    pub fn with_token_store(
        config: JustworksConfig,
        credentials: Credentials,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, SourceError> {
        Self::build(config, credentials, Some(store), None)
    }

    /// A source whose OAuth tokens come from, and go back to, `store`.
    pub async fn from_token_store(
        config: JustworksConfig,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, SourceError> {
        let tokens = store
            .load()
            .await
            .map_err(|e| SourceError::Other(e.to_string()))?
            .ok_or_else(|| {
                SourceError::Unauthorized("no stored Justworks tokens: connect first".into())
            })?;
        Self::build(config, Credentials::OAuth(tokens), Some(store), None)
    }

    fn build(
        config: JustworksConfig,
        credentials: Credentials,
        store: Option<Arc<dyn TokenStore>>,
        client: Option<reqwest::Client>,
    ) -> Result<Self, SourceError> {
        for url in [
            &config.base_url,
            &config.token_endpoint(),
            &config.revoke_endpoint(),
        ] {
            crate::address::check_url(url, config.url_policy)
                .map_err(|e| SourceError::AddressRefused(e.0))?;
        }
        if !(1..=100).contains(&config.page_limit) {
            return Err(SourceError::Other(format!(
                "page limit {} is outside 1..=100",
                config.page_limit
            )));
        }
        let client = match client {
            Some(c) => c,
            None => build_client(&config)
                .map_err(|e| SourceError::Other(format!("HTTP client: {e}")))?,
        };
        let oauth = match &credentials {
            Credentials::OAuth(_) => Some(
                OAuthClient::with_http(&config, client.clone())
                    .map_err(|e| SourceError::Other(e.to_string()))?,
            ),
            Credentials::Static(_) => None,
        };
        let auth = Auth::new(credentials, oauth, store, config.refresh_margin)?;
        let api = Arc::new(Api::new(&config, client, auth));
        let members_url = config.api_url(MEMBERS_PATH);
        Ok(Self {
            config,
            api,
            members_url,
        })
    }

    /// The OAuth tokens in use now (after any refresh); `None` for a static token.
    pub fn tokens(&self) -> Option<TokenSet> {
        self.api.auth.tokens()
    }

    pub fn config(&self) -> &JustworksConfig {
        &self.config
    }

    /// Granted scopes when known.
    fn scopes(&self) -> Option<Vec<String>> {
        self.api.auth.tokens().and_then(|t| t.scopes)
    }

    fn forbidden(&self, action: &str, scope: &str) -> SourceError {
        let granted = match self.scopes() {
            Some(scopes) => format!(" (granted: {})", scopes.join(" ")),
            None => String::new(),
        };
        SourceError::Forbidden(format!("{action} needs scope {scope}{granted}"))
    }
}

#[async_trait]
impl Source for JustworksSource {
    fn kind(&self) -> &'static str {
        "justworks"
    }

    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        let counters = Counters::default();
        let url = self.config.api_url("v1/company");
        let company = match self
            .api
            .get(&url, "GET /v1/company", &counters, |body| {
                serde_json::from_slice::<WireCompany>(&body).map_err(json_error)
            })
            .await?
        {
            Got::Ok(company) => company,
            Got::Forbidden => {
                return Err(self.forbidden("reading the company", "company.basic:read"));
            }
            Got::NotFound => {
                return Err(SourceError::Status {
                    status: 404,
                    what: "GET /v1/company".into(),
                    attempts: 1,
                });
            }
        };
        let url = self.config.api_url("v1/company/custom-fields");
        let custom_fields = match self
            .api
            .get(&url, "GET /v1/company/custom-fields", &counters, |body| {
                serde_json::from_slice::<WireCustomFields>(&body).map_err(json_error)
            })
            .await?
        {
            Got::Ok(defs) => defs
                .items
                .unwrap_or_default()
                .into_iter()
                .map(|d| SourceField {
                    key: format!("{CUSTOM_PREFIX}{}", d.id),
                    label: d.label.filter(|l| !l.trim().is_empty()).unwrap_or(d.id),
                    sample: None,
                })
                .collect(),
            Got::Forbidden | Got::NotFound => {
                tracing::warn!(
                    "justworks: custom-field definitions not readable (scope company.detail:read)"
                );
                Vec::new()
            }
        };
        let name = company
            .display_name
            .filter(|n| !n.trim().is_empty())
            .or(company.legal_name)
            .unwrap_or_default();
        Ok(CompanyInfo {
            id: company.id,
            name,
            custom_fields,
        })
    }

    async fn fetch(&self, request: FetchRequest) -> Result<Snapshot, SourceError> {
        let started = Instant::now();
        let counters = Arc::new(Counters::default());
        let progress = request.progress.as_ref();
        let full = request.updated_since.is_none();
        let mut acc = Accumulator::expecting(request.expected_members.filter(|_| full));
        // An incremental fetch looks its managers up in what Roster knows while the
        // pages are read, and asks the source about the others meanwhile (`known`).
        let probe = self.manager_probe(&counters);
        let concurrency = self.config.per_member_concurrency;
        if let (false, Some(known)) = (full, &request.known) {
            acc.asker = Some(Asker::start(
                known.clone(),
                Some((probe.clone(), concurrency)),
            ));
        }
        for status in self.statuses() {
            acc = self
                .list(*status, request.updated_since, &counters, acc, progress)
                .await?;
        }

        let scopes = self.scopes();
        let mut diagnostics = self.scope_diagnostics();

        if request.custom_fields && !acc.members.is_empty() {
            let detail_known_missing = scopes
                .as_deref()
                .is_some_and(|g| !scope_granted(g, "member.detail:read"));
            if detail_known_missing {
                tracing::info!(
                    "justworks: skipping custom-field values: scope member.detail:read not granted"
                );
            } else {
                self.custom_values(&mut acc, &counters, progress, &mut diagnostics)
                    .await?;
            }
        }

        let (looked_up, probed) = match acc.asker.take() {
            Some(asker) => {
                let l = asker.finish().await?;
                (Some((l.asked, l.found)), l.probed)
            }
            None => (None, Probed::new()),
        };
        let mut fetched = HashMap::new();
        if !full {
            let mut missing: Vec<String> = acc
                .manager_ids
                .iter()
                .flatten()
                .filter(|id| !acc.index.contains_key(*id))
                .collect::<HashSet<_>>()
                .into_iter()
                .cloned()
                .collect();
            // Managers Roster knows are resolved from what it knows; the source is
            // asked only about the others (most of them beside the pages already).
            if let (Some(known), false) = (&request.known, missing.is_empty()) {
                let emails = known_emails(known.as_ref(), &missing, looked_up).await?;
                missing.retain(|id| !emails.contains_key(id));
                fetched.extend(
                    emails
                        .into_iter()
                        .map(|(id, work_email)| (id, ManagerLookup::Found { work_email })),
                );
            }
            missing.sort_unstable();
            let (answered, missing) = settle(missing, probed)?;
            fetched.extend(answered);
            if !missing.is_empty() {
                tracing::debug!(
                    managers = missing.len(),
                    "justworks: looking up managers outside the partial snapshot"
                );
                let ids = futures::stream::iter(missing.iter().cloned());
                let probed = ask_source(ids, &probe, concurrency).await;
                fetched.extend(settle(missing, probed)?.0);
            }
        }
        let manager_ids = std::mem::take(&mut acc.manager_ids);
        resolve_managers(&mut acc.members, manager_ids, &acc.index, &fetched);
        for (i, member) in acc.members.iter_mut().enumerate() {
            member.position = i + 1;
        }

        if acc.duplicates > 0 {
            diagnostics.push(Diagnostic {
                code: "duplicate_member".into(),
                message: format!(
                    "{} member record(s) appeared on more than one page; the later copy was kept (ids: {})",
                    acc.duplicates,
                    acc.duplicate_ids.join(", ")
                ),
            });
        }
        if self.api.auth.save_failed() {
            diagnostics.push(Diagnostic {
                code: "token_store.save_failed".into(),
                message: "a refreshed Justworks token could not be saved; the next sync may need to reconnect".into(),
            });
        }

        let snapshot = Snapshot {
            members: acc.members,
            complete: full,
            rejected: acc.rejected,
            diagnostics,
            bytes_read: counters.bytes(),
            requests: counters.requests(),
        };
        tracing::info!(
            members = snapshot.members.len(),
            rejected = snapshot.rejected.len(),
            duplicates = acc.duplicates,
            requests = snapshot.requests,
            bytes = snapshot.bytes_read,
            complete = snapshot.complete,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "justworks: fetch done"
        );
        if let Some(progress) = progress {
            progress(FetchProgress {
                members: snapshot.members.len(),
                requests: snapshot.requests,
            });
        }
        Ok(snapshot)
    }

    /// Pages are mapped on a thread of their own and each member handed on there;
    /// nothing is held but the ids seen (a member repeated across pages counts once).
    async fn survey(
        &self,
        visit: MemberFn,
        progress: Option<ProgressFn>,
    ) -> Result<Survey, SourceError> {
        let counters = Arc::new(Counters::default());
        let (pages, mut queue) = mpsc::channel::<Page>(2);
        let visitor = tokio::task::spawn_blocking(move || {
            let mut visitor = Visitor::new(visit);
            while let Some(page) = queue.blocking_recv() {
                visitor.ingest(&page);
            }
            visitor.count()
        });
        let mut listed = 0;
        for status in self.statuses() {
            self.send_pages(
                *status,
                None,
                &counters,
                &pages,
                progress.as_ref(),
                &mut listed,
            )
            .await?;
        }
        drop(pages);
        let members = visitor
            .await
            .map_err(|e| SourceError::Other(format!("reading members failed: {e}")))?;
        Ok(Survey {
            members,
            diagnostics: self.scope_diagnostics(),
            requests: counters.requests(),
        })
    }

    async fn custom_values(
        &self,
        source_id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        self.member_custom_values(source_id).await
    }
}
