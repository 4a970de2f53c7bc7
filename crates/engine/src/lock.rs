//! The sync lock: one per integration, held by a sync or a CSV import while it runs
//! (acquire, renew, release on drop), with a fencing token.
//!
//! The lock lives in the store (`Store::lock_sync`) with a lease in real time. While
//! it is held, a task renews the lease every sixth of it, so a live run keeps it and
//! a killed one loses it within one lease. Every take raises the lock's generation;
//! the run's writes go through [`SyncLock::fence`] and `Store::write_fenced`, which
//! commits only while the lock row still holds this holder and generation. A holder
//! paused past its lease (a stopped process, a VM pause, a partition) whose lock was
//! taken over therefore writes nothing when it resumes.
//!
//! A holder names its host, process and that process's start time. A lock whose
//! holder is a process of this host that is no longer running is taken over at
//! once; for other hosts, `roster unlock` releases it (`Engine::unlock`).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use roster_store::jobs::JobId;
use roster_store::{AccountId, Fence, IntegrationId, Store, StoreError};

/// How long a sync lock lives unless renewed: a killed run blocks the next one at
/// most this long. A running one renews it every sixth of the lease. Real time, like
/// the store's expiry check (not the injected clock).
pub const LEASE: SignedDuration = SignedDuration::from_mins(2);

/// A held sync lock. Released when dropped (in the background) or by
/// [`SyncLock::release`].
pub struct SyncLock {
    store: Arc<dyn Store>,
    account: AccountId,
    integration: IntegrationId,
    holder: String,
    generation: i64,
    renew: Option<tokio::task::JoinHandle<()>>,
    released: bool,
}

impl SyncLock {
    /// Take the lock of `integration` for `lease`, taking over a lock whose holder
    /// was a process of this host that is gone. A live lock is
    /// `StoreError::SyncRunning`.
    pub async fn acquire(
        store: &Arc<dyn Store>,
        account: AccountId,
        integration: IntegrationId,
        lease: SignedDuration,
    ) -> Result<Self, StoreError> {
        let holder = Holder::this_process().to_string();
        let until = || {
            Timestamp::now()
                .saturating_add(lease)
                .unwrap_or(Timestamp::MAX)
        };
        let generation = match store
            .lock_sync(account, integration, &holder, until())
            .await
        {
            Err(StoreError::SyncRunning(_)) => {
                // `None`: released between the two calls; the take below finds it free.
                if let Some(info) = store.sync_lock(account, integration).await? {
                    if !Holder::parse(&info.holder).is_some_and(|h| h.is_gone()) {
                        return Err(StoreError::SyncRunning(integration));
                    }
                    tracing::warn!(
                        integration,
                        holder = %info.holder,
                        "the sync lock's holder is no longer running on this host: taking the lock over"
                    );
                    store
                        .break_sync_lock(account, integration, &info.holder, info.generation)
                        .await?;
                }
                store
                    .lock_sync(account, integration, &holder, until())
                    .await?
            }
            taken => taken?,
        };
        let renew = tokio::spawn(renew(
            store.clone(),
            account,
            integration,
            holder.clone(),
            generation,
            lease,
        ));
        Ok(Self {
            store: store.clone(),
            account,
            integration,
            holder,
            generation,
            renew: Some(renew),
            released: false,
        })
    }

    /// The fence for this run's writes (`Store::write_fenced`); with `job`, the
    /// job's lease is checked too.
    pub fn fence(&self, job: Option<(JobId, String)>) -> Fence {
        Fence {
            integration: self.integration,
            holder: self.holder.clone(),
            generation: self.generation,
            job,
        }
    }

    /// Stop renewing and release the lock now.
    pub async fn release(mut self) {
        self.stop_renewing();
        self.released = true;
        if let Err(e) = self
            .store
            .unlock_sync(self.account, self.integration, &self.holder)
            .await
        {
            // A failed unlock leaves a lease that expires.
            tracing::warn!(integration = self.integration, error = %e, "could not release the sync lock");
        }
    }

    fn stop_renewing(&mut self) {
        if let Some(task) = self.renew.take() {
            task.abort();
        }
    }
}

impl Drop for SyncLock {
    fn drop(&mut self) {
        self.stop_renewing();
        if self.released {
            return;
        }
        // Dropped without release (an error path, a cancelled future): release in
        // the background if a runtime is there; otherwise the lease expires.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (store, account, integration, holder) = (
                self.store.clone(),
                self.account,
                self.integration,
                std::mem::take(&mut self.holder),
            );
            rt.spawn(async move {
                if let Err(e) = store.unlock_sync(account, integration, &holder).await {
                    tracing::warn!(integration, error = %e, "could not release the sync lock");
                }
            });
        }
    }
}

async fn renew(
    store: Arc<dyn Store>,
    account: AccountId,
    integration: IntegrationId,
    holder: String,
    generation: i64,
    lease: SignedDuration,
) {
    let every = (lease.unsigned_abs() / 6).max(std::time::Duration::from_millis(20));
    let mut renewed = std::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let until = Timestamp::now()
            .saturating_add(lease)
            .unwrap_or(Timestamp::MAX);
        let result = store
            .renew_sync(account, integration, &holder, generation, until)
            .await;
        // A renewal that failed (SQLite busy with this run's own apply, mostly):
        // read the lock row, which a reader can while a write runs (WAL).
        let held = match &result {
            Err(_) => Some(match store.sync_lock(account, integration).await {
                Ok(Some(info)) => Held::read(&info, &holder, generation),
                Ok(None) => Held::Lost,
                Err(_) => Held::Unknown,
            }),
            Ok(_) => None,
        };
        let since = renewed.elapsed();
        match after_renewal(result.as_ref().map(|ok| *ok).ok(), held, since, lease) {
            Renewal::Renewed => renewed = std::time::Instant::now(),
            Renewal::TakenOver => {
                tracing::warn!(
                    integration,
                    "the sync lock was taken over: this run's changes will not be applied"
                );
                return;
            }
            Renewal::Retry => {
                if let Err(e) = &result {
                    tracing::debug!(integration, error = %e, "sync lock renewal will be retried");
                }
            }
            Renewal::Warn => {
                if let Err(e) = &result {
                    tracing::warn!(integration, error = %e, "could not renew the sync lock");
                }
            }
        }
    }
}

/// What the lock row said when a renewal failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// Still this holder's, at this generation, its lease not run out.
    Ours,
    /// Still this holder's, but its lease ran out unrenewed.
    Lapsed,
    /// Another holder's or another generation's, or no lock at all.
    Lost,
    /// Not readable either.
    Unknown,
}

impl Held {
    fn read(info: &roster_store::SyncLockInfo, holder: &str, generation: i64) -> Self {
        match (
            info.holder == holder && info.generation == generation,
            info.until > Timestamp::now(),
        ) {
            (true, true) => Held::Ours,
            (true, false) => Held::Lapsed,
            (false, _) => Held::Lost,
        }
    }
}

/// What the renewal task does after one renewal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Renewal {
    Renewed,
    /// Stop renewing: another holder has the lock (the fence stops this run's write).
    TakenOver,
    /// Try again at the next tick (logged at debug).
    Retry,
    /// Try again, and warn.
    Warn,
}

/// The renewal's outcome (`Some(renewed)`, `None` when it failed), what the lock row
/// said then (`held`, read only after a failure), and how long since the last
/// renewal. SQLite cannot renew while this run's own apply holds the database — a
/// 1M first import writes for half a minute — and nobody else can take the lock
/// then either: a failed renewal whose lock row still names this run, lease and
/// all, is no news. Otherwise it is worth a warning once half the lease has gone by
/// without a renewal.
fn after_renewal(
    renewed: Option<bool>,
    held: Option<Held>,
    since: std::time::Duration,
    lease: SignedDuration,
) -> Renewal {
    match (renewed, held) {
        (Some(true), _) => Renewal::Renewed,
        (Some(false), _) | (None, Some(Held::Lost)) => Renewal::TakenOver,
        (None, Some(Held::Ours)) => Renewal::Retry,
        (None, _) if since < lease.unsigned_abs() / 2 => Renewal::Retry,
        (None, _) => Renewal::Warn,
    }
}

/// Who holds a lock: `host:pid:start:nonce`, where `start` is the process's start
/// time (so that a reused pid is not mistaken for the holder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    pub start: String,
    pub nonce: String,
}

impl Holder {
    pub fn this_process() -> Self {
        let pid = std::process::id();
        Self {
            host: this_host(),
            pid,
            start: process_start(pid).unwrap_or_default(),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// `None` for holders written by other versions (a plain id).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.rsplitn(4, ':');
        let nonce = parts.next()?.to_string();
        let start = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next()?.to_string();
        Some(Self {
            host,
            pid,
            start,
            nonce,
        })
    }

    /// Whether this holder is a process of this host that is no longer running
    /// (its pid is gone, or belongs to a process started at another time). `false`
    /// when that cannot be told (another host, no `/proc`).
    pub fn is_gone(&self) -> bool {
        if self.host != this_host() || !std::path::Path::new("/proc/self/stat").exists() {
            return false;
        }
        match process_start(self.pid) {
            None => true,
            Some(start) => !self.start.is_empty() && start != self.start,
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.host, self.pid, self.start, self.nonce
        )
    }
}

fn this_host() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
        .replace(':', "_")
}

/// A process's start time in clock ticks since boot (`/proc/PID/stat`, field 22),
/// `None` if there is no such process (or no `/proc`).
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_renewal_warns_only_when_the_lock_may_be_lost() {
        use std::time::Duration;
        let lease = SignedDuration::from_mins(2);
        let (early, late) = (Duration::from_secs(20), Duration::from_secs(61));
        let cases = [
            (Some(true), None, late, Renewal::Renewed),
            (Some(false), None, early, Renewal::TakenOver),
            // Busy with this run's own write: the row still names this run.
            (None, Some(Held::Ours), early, Renewal::Retry),
            (None, Some(Held::Ours), late, Renewal::Retry),
            (None, Some(Held::Lost), early, Renewal::TakenOver),
            (None, Some(Held::Lapsed), early, Renewal::Retry),
            (None, Some(Held::Lapsed), late, Renewal::Warn),
            (None, Some(Held::Unknown), early, Renewal::Retry),
            (None, Some(Held::Unknown), late, Renewal::Warn),
        ];
        for (renewed, held, since, want) in cases {
            assert_eq!(
                after_renewal(renewed, held, since, lease),
                want,
                "{renewed:?} {held:?} {since:?}"
            );
        }
    }

    #[test]
    fn the_lock_row_says_whose_it_is() {
        let now = Timestamp::now();
        let info = |holder: &str, generation, until| roster_store::SyncLockInfo {
            holder: holder.into(),
            generation,
            until,
        };
        let later = now.saturating_add(SignedDuration::from_mins(1)).unwrap();
        let earlier = now.saturating_sub(SignedDuration::from_mins(1)).unwrap();
        assert_eq!(Held::read(&info("me", 3, later), "me", 3), Held::Ours);
        assert_eq!(Held::read(&info("me", 3, earlier), "me", 3), Held::Lapsed);
        assert_eq!(Held::read(&info("me", 4, later), "me", 3), Held::Lost);
        assert_eq!(Held::read(&info("you", 3, later), "me", 3), Held::Lost);
    }

    #[test]
    fn a_holder_reads_back() {
        let h = Holder::this_process();
        assert_eq!(Holder::parse(&h.to_string()), Some(h.clone()));
        assert!(!h.start.is_empty(), "this process's start time is read");
        assert!(!h.is_gone(), "this process is running");
    }

    #[test]
    fn a_dead_or_reused_pid_is_gone_and_another_host_never_is() {
        let mut h = Holder::this_process();
        h.start = "1".into();
        assert!(h.is_gone(), "same pid, other start time: a reused pid");
        let mut h = Holder::this_process();
        h.pid = u32::MAX - 1;
        assert!(h.is_gone(), "no such process");
        h.host = "elsewhere.example".into();
        assert!(!h.is_gone(), "another host's process cannot be checked");
        assert_eq!(Holder::parse("worker-1"), None);
    }
}
