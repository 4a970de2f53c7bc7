//! Reviews kept between requests: a sync's or a users file's plan, stored until it is
//! applied or discarded (see ARCHITECTURE.md, "Review lifecycle"): keeping one,
//! reading it (decoded plans cached), reserving it for one apply or discard, and
//! marking a reservation whose process stopped as failed. The handlers are
//! `api::syncs` and `api::imports`; this module knows no HTTP beyond [`ApiError`].

use std::sync::Arc;

use roster_core::guard::Decision;
use roster_core::plan::Plan;
use roster_engine::{Clock, SyncStatus};
use roster_source::Diagnostic;
use roster_store::access::{NewReview, ReviewStatus, StoredReview};
use roster_store::{AccountId, Store};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The reviews of every account: the store, the clock that times reservations, and
/// the decoded plans most recently read.
pub struct Reviews {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cache: ReviewCache,
}

/// The options a review was made with (applied with the same).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ReviewOptions {
    pub incremental: bool,
    pub deactivate_missing: bool,
    pub custom_fields: bool,
}

/// What the store keeps of a review.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ReviewPayload {
    pub options: ReviewOptions,
    pub status: SyncStatus,
    pub plan: Plan,
    pub decision: Decision,
    pub held: Vec<usize>,
    pub diagnostics: Vec<Diagnostic>,
    pub members_fetched: usize,
    /// A users file's review: the file and how to read it (applying imports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileSource>,
}

/// A users file under review: applying the review imports this file as read then.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FileSource {
    pub file_name: String,
    pub full: bool,
    pub date_format: Option<String>,
    pub delimiter: Option<String>,
    pub map: Vec<String>,
    pub deactivate_missing: bool,
    pub rows: usize,
    /// Lines with an error.
    pub bad_rows: Vec<usize>,
    /// Every issue, naming its line and column.
    pub messages: Vec<String>,
    /// The file, base64.
    pub content: String,
}

impl ReviewPayload {
    /// A users file's review: its outcome, and the file and how to read it.
    pub(crate) fn of_file(o: roster_engine::ImportOutcome, file: FileSource) -> Self {
        let s = o.sync;
        Self {
            options: ReviewOptions::default(),
            status: s.status,
            plan: s.plan,
            decision: s.decision,
            held: s.held,
            diagnostics: s.diagnostics,
            members_fetched: o.rows,
            file: Some(file),
        }
    }
}

/// The employee IDs of the entries `held` points at.
pub(crate) fn held_ids(plan: &Plan, held: &[usize]) -> Vec<String> {
    held.iter()
        .filter_map(|&i| plan.entries.get(i))
        .map(|e| e.employee_id().to_string())
        .collect()
}

/// How often a running apply renews its reservation of the review.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
/// A reservation not renewed for this long is stale: its process stopped (killed,
/// crashed) mid-apply, and the review is marked `failed` when next read. Failed, not
/// pending again: whether the stopped apply committed is for the import history to
/// say, and a new sync plans from the directory as it is now.
pub(crate) const STALE_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// One apply's or discard's hold on a review (`pending` → `applying`), renewed in
/// the background until [`Reservation::finish`]. Dropped unfinished (a panic), the
/// renewal stops and the reservation goes stale.
pub(crate) struct Reservation {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    account: AccountId,
    id: i64,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
}

impl Reservation {
    /// End the reservation: the review becomes `status` (`Pending`: released, nothing
    /// was applied). A reservation lost meanwhile (declared stale) is an error: the
    /// review and what this run did could disagree, and the caller must hear it.
    pub(crate) async fn finish(
        self,
        status: ReviewStatus,
        import_id: Option<i64>,
    ) -> Result<(), ApiError> {
        self.renew.abort();
        let done = self
            .store
            .finish_review(
                self.account,
                self.id,
                &self.holder,
                status,
                import_id,
                self.clock.now(),
            )
            .await?;
        if done {
            return Ok(());
        }
        tracing::error!(
            account = self.account,
            review = self.id,
            import = import_id,
            status = status.as_str(),
            "review reservation lost before the run finished"
        );
        Err(ApiError::Conflict(format!(
            "review {} was marked failed while this run went on (its reservation was not renewed for {} s){}",
            self.id,
            STALE_AFTER.as_secs(),
            import_id
                .map(|i| format!("; import {i} records what the run did"))
                .unwrap_or_default()
        )))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.renew.abort();
    }
}

/// The 409 for a review that is not pending.
fn not_pending(r: &StoredReview) -> ApiError {
    let id = r.id;
    ApiError::Conflict(match r.status {
        ReviewStatus::Applying => {
            format!("review {id} is being applied or discarded by another request right now")
        }
        status => format!(
            "review {id} is already {}{}",
            status.as_str(),
            r.import_id
                .map(|i| format!(" (import {i})"))
                .unwrap_or_default()
        ),
    })
}

fn payload(r: &StoredReview) -> Result<ReviewPayload, ApiError> {
    ReviewPayload::deserialize(&r.payload).map_err(|e| ApiError::internal(&e))
}

/// Decoded review plans, most recently used last. A review's plan never changes once
/// stored, so paging through a large review decodes it once, not once per page.
/// Keyed by account and review: one account never reads another's.
#[derive(Default)]
pub struct ReviewCache(
    std::sync::Mutex<std::collections::VecDeque<(ReviewKey, Arc<ReviewPayload>)>>,
);

type ReviewKey = (roster_store::AccountId, i64);

/// How many decoded reviews a server keeps (a 10k-member plan is a few MB).
const CACHED_REVIEWS: usize = 8;

impl ReviewCache {
    fn get(&self, key: ReviewKey) -> Option<Arc<ReviewPayload>> {
        let mut cache = self.0.lock().ok()?;
        let at = cache.iter().position(|(k, _)| *k == key)?;
        let hit = cache.remove(at)?;
        let value = hit.1.clone();
        cache.push_back(hit);
        Some(value)
    }

    fn put(&self, key: ReviewKey, value: Arc<ReviewPayload>) {
        if let Ok(mut cache) = self.0.lock() {
            cache.retain(|(k, _)| *k != key);
            if cache.len() >= CACHED_REVIEWS {
                cache.pop_front();
            }
            cache.push_back((key, value));
        }
    }
}

impl Reviews {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            cache: ReviewCache::default(),
        }
    }

    /// Keep a review (a sync's or a users file's) until it is applied or discarded.
    pub(crate) async fn keep(
        &self,
        account: AccountId,
        integration: i64,
        payload: &ReviewPayload,
    ) -> Result<StoredReview, ApiError> {
        let value = serde_json::to_value(payload).map_err(|e| ApiError::internal(&e))?;
        Ok(self
            .store
            .create_review(NewReview {
                account_id: account,
                integration_id: integration,
                created_at: self.clock.now(),
                payload: value,
            })
            .await?)
    }

    /// `r` as it stands: a review still `applying` whose reservation went stale (its
    /// process stopped) is marked `failed` first.
    async fn settled(&self, r: StoredReview, head: bool) -> Result<StoredReview, ApiError> {
        let stale = r.status == ReviewStatus::Applying
            && r.reserved_at
                .is_none_or(|t| self.clock.now().duration_since(t) > STALE_AFTER);
        if !stale {
            return Ok(r);
        }
        let now = self.clock.now();
        let before = now
            .checked_sub(STALE_AFTER)
            .map_err(|e| ApiError::internal(&e))?;
        if self
            .store
            .fail_stale_review(r.account_id, r.id, before, now)
            .await?
        {
            tracing::warn!(
                account = r.account_id,
                review = r.id,
                "review marked failed: its apply stopped before it finished"
            );
        }
        let again = if head {
            self.store.review_head(r.account_id, r.id).await?
        } else {
            self.store.review(r.account_id, r.id).await?
        };
        again.ok_or_else(|| ApiError::NotFound(format!("no review {}", r.id)))
    }

    /// A review's decoded plan, from the cache or from `r`.
    fn cached_payload(&self, r: &StoredReview) -> Result<Arc<ReviewPayload>, ApiError> {
        let key = (r.account_id, r.id);
        if let Some(p) = self.cache.get(key) {
            return Ok(p);
        }
        let p = Arc::new(payload(r)?);
        self.cache.put(key, p.clone());
        Ok(p)
    }

    /// A review's decoded plan for reading its entries: from the cache without touching
    /// the store when it is there (entries never change), else read and decoded.
    pub(crate) async fn plan_of(
        &self,
        account: AccountId,
        id: i64,
    ) -> Result<Arc<ReviewPayload>, ApiError> {
        if let Some(hit) = self.cache.get((account, id)) {
            return Ok(hit);
        }
        let r = self
            .store
            .review(account, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no review {id}")))?;
        self.cached_payload(&r)
    }

    /// A review (its current status) and its decoded plan: with the plan cached, only the
    /// review's head is read (not its payload, megabytes of JSON for a big sync).
    pub(crate) async fn with_plan(
        &self,
        account: AccountId,
        id: i64,
    ) -> Result<(StoredReview, Arc<ReviewPayload>), ApiError> {
        let not_found = || ApiError::NotFound(format!("no review {id}"));
        if let Some(hit) = self.cache.get((account, id)) {
            let r = self
                .store
                .review_head(account, id)
                .await?
                .ok_or_else(not_found)?;
            return Ok((self.settled(r, true).await?, hit));
        }
        let r = self
            .store
            .review(account, id)
            .await?
            .ok_or_else(not_found)?;
        let plan = self.cached_payload(&r)?;
        Ok((self.settled(r, true).await?, plan))
    }

    /// A pending review and its plan, or 409 when it is not pending (any more).
    pub(crate) async fn pending(
        &self,
        account: AccountId,
        id: i64,
    ) -> Result<(StoredReview, ReviewPayload), ApiError> {
        let r = self
            .store
            .review(account, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no review {id}")))?;
        let r = self.settled(r, false).await?;
        if r.status != ReviewStatus::Pending {
            return Err(not_pending(&r));
        }
        let payload = payload(&r)?;
        Ok((r, payload))
    }

    /// Reserve review `id`, or 409 when another apply or discard holds or closed it.
    pub(crate) async fn reserve(
        &self,
        account: AccountId,
        id: i64,
    ) -> Result<Reservation, ApiError> {
        let holder = format!("apply-{}", uuid::Uuid::new_v4().simple());
        if !self
            .store
            .reserve_review(account, id, &holder, self.clock.now())
            .await?
        {
            let r = self.store.review_head(account, id).await?;
            return Err(match r {
                None => ApiError::NotFound(format!("no review {id}")),
                Some(r) => not_pending(&r),
            });
        }
        let renew = tokio::spawn({
            let store = self.store.clone();
            let clock = self.clock.clone();
            let holder = holder.clone();
            async move {
                let mut tick = tokio::time::interval(RENEW_EVERY);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match store.renew_review(account, id, &holder, clock.now()).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::error!(account, review = id, "review reservation lost");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(account, review = id, error = %e, "could not renew the review reservation");
                        }
                    }
                }
            }
        });
        Ok(Reservation {
            store: self.store.clone(),
            clock: self.clock.clone(),
            account,
            id,
            holder,
            renew,
        })
    }
}
