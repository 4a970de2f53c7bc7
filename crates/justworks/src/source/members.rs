//! Reading members: the pages of a list (requested while the previous page is
//! mapped), every member's custom-field values, one member's, and managers outside
//! a partial snapshot.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;
use roster_core::fields::CUSTOM_PREFIX;
use roster_source::{Diagnostic, FetchProgress, ProgressFn, SourceError};
use tokio::sync::mpsc;
use url::Url;

use super::{JustworksSource, MEMBERS_WHAT};
use crate::accumulate::Accumulator;
use crate::auth::scope_granted;
use crate::http::{Counters, Got};
use crate::mapping::{ManagerLookup, missing_scope_diagnostics, scope_code};
use crate::wire::{Page, WireCustomValues, WireEmail, json_error};

/// Pages read ahead of the mapping thread at most.
const PAGES_QUEUED: usize = 16;

impl JustworksSource {
    /// List members (one status, or all), feeding `acc`; it comes back with the
    /// members. Pages are mapped on a thread of their own (`ingest`) while the next
    /// page is requested and read here: the network waits and the mapping work on
    /// two cores.
    pub(super) async fn list(
        &self,
        status: Option<&str>,
        updated_since: Option<jiff::Timestamp>,
        counters: &Counters,
        acc: Accumulator,
        progress: Option<&ProgressFn>,
    ) -> Result<Accumulator, SourceError> {
        let mut listed = acc.members.len();
        // Sixteen pages in the queue at most (≈ 2 MB): memory stays bounded if mapping
        // is slower, and the requests go on while the mapping thread waits for a core
        // (with two pages the request loop waited 50–120 ms of a 100k daily sync for
        // the queue; with sixteen ≈ 13 ms; docs/benchmarks.md, issue #15, session 17).
        let (pages, mut queue) = mpsc::channel::<Page>(PAGES_QUEUED);
        let mapper = tokio::task::spawn_blocking(move || {
            let mut acc = acc;
            while let Some(page) = queue.blocking_recv() {
                acc.ingest(&page);
            }
            acc
        });
        self.send_pages(
            status,
            updated_since,
            counters,
            &pages,
            progress,
            &mut listed,
        )
        .await?;
        drop(pages);
        mapper
            .await
            .map_err(|e| SourceError::Other(format!("mapping members failed: {e}")))
    }

    /// Request the member pages of one status (or all), each while the previous one
    /// is mapped, and send them to `pages`; `listed` counts the members sent.
    pub(super) async fn send_pages(
        &self,
        status: Option<&str>,
        updated_since: Option<jiff::Timestamp>,
        counters: &Counters,
        pages: &mpsc::Sender<Page>,
        progress: Option<&ProgressFn>,
        listed: &mut usize,
    ) -> Result<(), SourceError> {
        let mut base = self.members_url.clone();
        {
            let mut query = base.query_pairs_mut();
            query.append_pair("limit", &self.config.page_limit.to_string());
            if let Some(status) = status {
                query.append_pair("status", status);
            }
            if let Some(since) = updated_since {
                query.append_pair("updated_at_gte", &since.to_string());
            }
        }
        let mut seen_cursors: HashSet<String> = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut count: u32 = 0;
        loop {
            let url = match &cursor {
                None => base.clone(),
                Some(cursor) => {
                    let mut url = base.clone();
                    url.query_pairs_mut().append_pair("cursor", cursor);
                    url
                }
            };
            count += 1;
            let page = match self
                .api
                .get(&url, MEMBERS_WHAT, counters, Page::parse)
                .await?
            {
                Got::Ok(page) => page,
                Got::Forbidden => {
                    return Err(self.forbidden("listing members", "member.basic:read"));
                }
                Got::NotFound => {
                    return Err(SourceError::Status {
                        status: 404,
                        what: MEMBERS_WHAT.into(),
                        attempts: 1,
                    });
                }
            };
            tracing::debug!(
                page = count,
                items = page.items.len(),
                "justworks: page read"
            );
            *listed += page.items.len();
            if let Some(progress) = progress {
                progress(FetchProgress {
                    members: *listed,
                    requests: counters.requests(),
                });
            }
            let next = page.next_cursor.clone();
            if pages.send(page).await.is_err() {
                return Ok(());
            }
            match next {
                None => return Ok(()),
                Some(next) => {
                    if !seen_cursors.insert(next.clone()) {
                        return Err(SourceError::Pagination(format!(
                            "the server repeated a cursor after {count} page(s)"
                        )));
                    }
                    if count >= self.config.max_pages {
                        return Err(SourceError::Pagination(format!(
                            "more than {} pages; stopping",
                            self.config.max_pages
                        )));
                    }
                    cursor = Some(next);
                }
            }
        }
    }

    /// The member lists to read: active and terminated apart, or all at once.
    pub(super) fn statuses(&self) -> &'static [Option<&'static str>] {
        if self.config.split_by_status {
            &[Some("active"), Some("terminated")]
        } else {
            &[None]
        }
    }

    /// The diagnostics of withheld scopes, when the granted scopes are known.
    pub(super) fn scope_diagnostics(&self) -> Vec<Diagnostic> {
        match &self.scopes() {
            Some(granted) => missing_scope_diagnostics(granted, &self.config.scopes),
            None => Vec::new(),
        }
    }

    /// Read every member's custom-field values. A 403 becomes a diagnostic.
    pub(super) async fn custom_values(
        &self,
        acc: &mut Accumulator,
        counters: &Counters,
        progress: Option<&ProgressFn>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<(), SourceError> {
        let jobs: Vec<(usize, Url, String)> = acc
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut url = self.members_url.clone();
                url.path_segments_mut()
                    .map(|mut s| {
                        s.push(&m.source_id).push("custom-field-values");
                    })
                    .ok();
                let what = format!("GET /v1/members/{}/custom-field-values", m.source_id);
                (i, url, what)
            })
            .collect();
        let total = jobs.len();
        let api = &self.api;
        let mut results = futures::stream::iter(jobs)
            .map(|(i, url, what)| async move {
                let got = api
                    .get(&url, &what, counters, |body| {
                        serde_json::from_slice::<WireCustomValues>(&body).map_err(json_error)
                    })
                    .await;
                (i, got)
            })
            .buffer_unordered(self.config.per_member_concurrency.max(1));
        let mut done = 0usize;
        while let Some((i, got)) = results.next().await {
            done += 1;
            match got? {
                Got::Ok(values) => {
                    let member = &mut acc.members[i];
                    for value in values.items.iter().flatten() {
                        if let Some(joined) = value.joined() {
                            member
                                .fields
                                .insert(format!("{CUSTOM_PREFIX}{}", value.id), joined);
                        }
                    }
                    member.fields.shrink_to_fit();
                }
                Got::NotFound => {
                    tracing::debug!(member = %acc.members[i].source_id, "justworks: custom-field values not found");
                }
                Got::Forbidden => {
                    tracing::warn!("justworks: custom-field values forbidden (403)");
                    diagnostics.push(Diagnostic {
                        code: scope_code("member.detail:read"),
                        message: "custom field values not shared: the API answered 403 (scope member.detail:read)".into(),
                    });
                    return Ok(());
                }
            }
            if let Some(progress) = progress
                && (done.is_multiple_of(100) || done == total)
            {
                progress(FetchProgress {
                    members: acc.members.len(),
                    requests: counters.requests(),
                });
            }
        }
        Ok(())
    }

    /// Look up managers that are not in a partial snapshot.
    pub(super) async fn lookup_managers(
        &self,
        ids: Vec<String>,
        counters: &Counters,
    ) -> Result<HashMap<String, ManagerLookup>, SourceError> {
        #[derive(serde::Deserialize)]
        struct ManagerView<'a> {
            #[serde(default, borrow)]
            emails: Option<Vec<WireEmail<'a>>>,
        }
        let api = &self.api;
        let members_url = &self.members_url;
        let mut results = futures::stream::iter(ids)
            .map(|id| async move {
                let mut url = members_url.clone();
                url.path_segments_mut()
                    .map(|mut s| {
                        s.push(&id);
                    })
                    .ok();
                let what = format!("GET /v1/members/{id}");
                let got = api
                    .get(&url, &what, counters, |body| {
                        let view: ManagerView<'_> =
                            serde_json::from_slice(&body).map_err(json_error)?;
                        Ok(crate::mapping::email_of_type(
                            view.emails.as_deref(),
                            "work",
                        ))
                    })
                    .await;
                (id, got)
            })
            .buffer_unordered(self.config.per_member_concurrency.max(1));
        let mut found = HashMap::new();
        while let Some((id, got)) = results.next().await {
            let lookup = match got? {
                Got::Ok(work_email) => ManagerLookup::Found { work_email },
                Got::NotFound | Got::Forbidden => ManagerLookup::Missing,
            };
            found.insert(id, lookup);
        }
        Ok(found)
    }

    /// One member's custom-field values; `None` when not shared (403, or the scope
    /// is known to be missing: then no request).
    pub(super) async fn member_custom_values(
        &self,
        source_id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        let detail_known_missing = self
            .scopes()
            .as_deref()
            .is_some_and(|g| !scope_granted(g, "member.detail:read"));
        if detail_known_missing {
            return Ok(None);
        }
        let mut url = self.members_url.clone();
        url.path_segments_mut()
            .map(|mut s| {
                s.push(source_id).push("custom-field-values");
            })
            .ok();
        let what = "GET /v1/members/{id}/custom-field-values";
        let counters = Counters::default();
        let got = self
            .api
            .get(&url, what, &counters, |body| {
                serde_json::from_slice::<WireCustomValues>(&body).map_err(json_error)
            })
            .await?;
        Ok(match got {
            Got::Ok(values) => Some(
                values
                    .items
                    .iter()
                    .flatten()
                    .filter_map(|v| Some((format!("{CUSTOM_PREFIX}{}", v.id), v.joined()?)))
                    .collect(),
            ),
            Got::NotFound => Some(BTreeMap::new()),
            Got::Forbidden => None,
        })
    }
}
