//! Reading members: the pages of a list (requested while the previous page is
//! mapped), every member's custom-field values, one member's, and managers outside
//! a partial snapshot.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use roster_core::fields::CUSTOM_PREFIX;
use roster_source::{Diagnostic, FetchProgress, ProgressFn, SourceError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;

use super::{JustworksSource, MEMBERS_WHAT};
use crate::accumulate::Accumulator;
use crate::auth::scope_granted;
use crate::http::{Api, Counters, Got};
use crate::known::Probe;
use crate::mapping::{ManagerLookup, missing_scope_diagnostics, scope_code};
use crate::wire::{Page, WireCustomValues, WireEmail, json_error, peek_next_cursor};

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
        counters: &Arc<Counters>,
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
    /// is mapped, and send them to `pages`; `listed` counts the members sent. Each
    /// page is asked for as soon as the body before it names its cursor, while that
    /// body is checked ([`Chain`]).
    pub(super) async fn send_pages(
        &self,
        status: Option<&str>,
        updated_since: Option<jiff::Timestamp>,
        counters: &Arc<Counters>,
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
        let chain = Chain {
            api: self.api.clone(),
            base,
            counters: counters.clone(),
            max_pages: self.config.max_pages,
            cursors_asked: Arc::default(),
            pages_ahead: Arc::default(),
        };
        // However this loop ends, the page asked for ahead is dropped with it, and
        // with that page each page it asked for (see `Ahead`).
        let mut seen_cursors: HashSet<String> = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut next_asked: Option<Ahead> = None;
        let mut count: u32 = 0;
        loop {
            count += 1;
            let fetched = match next_asked.take() {
                Some(mut ahead) if Some(&ahead.cursor) == cursor.as_ref() => {
                    (&mut ahead.task).await.map_err(|e| {
                        SourceError::Other(format!("reading a page of members failed: {e}"))
                    })??
                }
                // None, or asked for a cursor this page's check did not confirm:
                // dropped (its request aborted), and the page asked for here.
                _ => chain.clone().fetch(cursor.clone(), count).await?,
            };
            next_asked = fetched.ahead;
            let page = match fetched.got {
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

    /// One manager looked up by id (`GET /v1/members/{id}`): its work email, or
    /// `Missing` when the source does not show it (404, 403). Owns what it needs, so
    /// that it can run beside the pages ([`crate::known::Asker`]).
    pub(super) fn manager_probe(&self, counters: &Arc<Counters>) -> Probe {
        #[derive(serde::Deserialize)]
        struct ManagerView<'a> {
            #[serde(default, borrow)]
            emails: Option<Vec<WireEmail<'a>>>,
        }
        let api = self.api.clone();
        let members_url = self.members_url.clone();
        let counters = counters.clone();
        Arc::new(move |id: String| {
            let (api, counters) = (api.clone(), counters.clone());
            let mut url = members_url.clone();
            url.path_segments_mut()
                .map(|mut s| {
                    s.push(&id);
                })
                .ok();
            async move {
                let what = format!("GET /v1/members/{id}");
                let got = api
                    .get(&url, &what, &counters, |body| {
                        let view: ManagerView<'_> =
                            serde_json::from_slice(&body).map_err(json_error)?;
                        Ok(crate::mapping::email_of_type(
                            view.emails.as_deref(),
                            "work",
                        ))
                    })
                    .await?;
                Ok(match got {
                    Got::Ok(work_email) => ManagerLookup::Found { work_email },
                    Got::NotFound | Got::Forbidden => ManagerLookup::Missing,
                })
            }
            .boxed()
        })
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

/// Pages asked for ahead of the loop that hands them on, at most: the loop waits
/// for the mapping thread when its queue is full, and the pages asked for meanwhile
/// stay bounded (as do the requests made past a repeated cursor or the last page
/// allowed).
const PAGES_AHEAD: usize = 4;

/// The member pages of one list, each asked for as soon as the body of the page
/// before it arrived: the next page's request, and the source's work on it, run
/// while this page is checked (its UTF-8 and JSON: ≈ 0.1 ms of the ≈ 0.6 ms a 100k
/// list spends per page on loopback; issue #15, session 22). The cursor is read
/// from the body's end ([`peek_next_cursor`]); the page's check confirms it, and a
/// page asked for a cursor the check did not confirm is dropped, its request
/// aborted. A page is retried (and checked) inside [`Api::get`] as before.
#[derive(Clone)]
struct Chain {
    api: Arc<Api>,
    base: Url,
    counters: Arc<Counters>,
    /// The loop's page ceiling: no page is asked for ahead past it.
    max_pages: u32,
    /// The cursors asked for ahead: a cursor the server repeats is not asked for
    /// again (the loop ends the list on it).
    cursors_asked: Arc<Mutex<HashSet<String>>>,
    /// Pages asked for ahead and not yet dropped (each [`Ahead`] counts itself).
    pages_ahead: Arc<AtomicUsize>,
}

/// A page asked for ahead, for `cursor`. Dropped, its request is aborted, and with
/// the task (or its answer) the page that one asked for: a loop that ends leaves no
/// request going.
struct Ahead {
    cursor: String,
    task: JoinHandle<Result<Fetched, SourceError>>,
    pages_ahead: Arc<AtomicUsize>,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.task.abort();
        self.pages_ahead.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One page's answer, and the page after it when it was asked for already.
struct Fetched {
    got: Got<Page>,
    ahead: Option<Ahead>,
}

impl Chain {
    fn url(&self, cursor: Option<&str>) -> Url {
        let mut url = self.base.clone();
        if let Some(cursor) = cursor {
            url.query_pairs_mut().append_pair("cursor", cursor);
        }
        url
    }

    /// The page at `cursor` (the first without), the list's `number`th, checked.
    fn fetch(
        self,
        cursor: Option<String>,
        number: u32,
    ) -> BoxFuture<'static, Result<Fetched, SourceError>> {
        async move {
            let url = self.url(cursor.as_deref());
            let next: Mutex<Option<Ahead>> = Mutex::new(None);
            let got = self
                .api
                .get(&url, MEMBERS_WHAT, &self.counters, |body| {
                    self.ask_ahead(&body, number, &next);
                    Page::parse(body)
                })
                .await;
            let ahead = next.into_inner().unwrap_or_else(PoisonError::into_inner);
            match got? {
                Got::Ok(page) => Ok(Fetched {
                    got: Got::Ok(page),
                    ahead,
                }),
                // No page follows one that failed: the one asked for is dropped.
                other => Ok(Fetched {
                    got: other,
                    ahead: None,
                }),
            }
        }
        .boxed()
    }

    /// Ask for the page `body` (the list's `number`th page) names next, unless the
    /// page would be past the ceiling, its cursor was asked for already or enough
    /// pages are asked for. A body retried replaces the one before: the page it
    /// named is kept when this body names it too, else dropped.
    fn ask_ahead(&self, body: &[u8], number: u32, next: &Mutex<Option<Ahead>>) {
        let peeked = peek_next_cursor(body);
        let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
        if next.as_ref().map(|a| a.cursor.as_str()) == peeked && peeked.is_some() {
            return;
        }
        *next = None;
        let Some(cursor) = peeked else {
            return;
        };
        if number >= self.max_pages {
            return;
        }
        if self.pages_ahead.fetch_add(1, Ordering::Relaxed) >= PAGES_AHEAD
            || !(self
                .cursors_asked
                .lock()
                .unwrap_or_else(PoisonError::into_inner))
            .insert(cursor.to_owned())
        {
            self.pages_ahead.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let task = tokio::spawn(self.clone().fetch(Some(cursor.to_owned()), number + 1));
        *next = Some(Ahead {
            cursor: cursor.to_owned(),
            task,
            pages_ahead: self.pages_ahead.clone(),
        });
    }
}
