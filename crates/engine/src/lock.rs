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
    // SQLite cannot renew while this run's own apply transaction holds the database
    // (nor can anyone else take the lock then), so a failed renewal is only worth a
    // warning once half the lease has gone by without one.
    let mut renewed = std::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let until = Timestamp::now()
            .saturating_add(lease)
            .unwrap_or(Timestamp::MAX);
        match store
            .renew_sync(account, integration, &holder, generation, until)
            .await
        {
            Ok(true) => renewed = std::time::Instant::now(),
            Ok(false) => {
                tracing::warn!(
                    integration,
                    "the sync lock was taken over: this run's changes will not be applied"
                );
                return;
            }
            Err(e) if renewed.elapsed() < lease.unsigned_abs() / 2 => {
                tracing::debug!(integration, error = %e, "sync lock renewal will be retried");
            }
            Err(e) => {
                tracing::warn!(integration, error = %e, "could not renew the sync lock");
            }
        }
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
