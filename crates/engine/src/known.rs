//! The managers an incremental fetch resolves from the directory
//! ([`KnownManagers`]) instead of asking the source, one request each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use roster_core::employee::Employee;
use roster_core::plan;
use roster_source::{KnownMembers, SourceError};

/// The directory as what Roster knows of members: an incremental fetch resolves
/// the managers outside it here (one indexed look-up) instead of one request each.
/// A row tells its member's work email when it took its email from the source (not
/// edited in Roster) and that email cannot be a personal one standing in for a
/// missing work email (a secondary email is kept beside a work email, or the
/// fallback is off); other managers are asked of the source.
///
/// The rows it reads are kept ([`KnownManagers::take_rows`]): the managers of the
/// fetched members are rows of the part the sync then plans over, read once.
pub(crate) struct KnownManagers {
    store: Arc<dyn roster_store::Store>,
    account: roster_store::AccountId,
    fallback_personal: bool,
    rows: Mutex<Vec<Employee>>,
}

impl KnownManagers {
    pub(crate) fn new(
        store: Arc<dyn roster_store::Store>,
        account: roster_store::AccountId,
        fallback_personal: bool,
    ) -> Self {
        KnownManagers {
            store,
            account,
            fallback_personal,
            rows: Mutex::new(Vec::new()),
        }
    }

    /// The rows read so far (taken).
    pub(crate) fn take_rows(&self) -> Vec<Employee> {
        std::mem::take(&mut *self.rows.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait::async_trait]
impl KnownMembers for KnownManagers {
    async fn work_emails(
        &self,
        source_ids: &[String],
    ) -> std::result::Result<HashMap<String, Option<String>>, SourceError> {
        let lookups = plan::Lookups {
            source_ids: source_ids.to_vec(),
            ..plan::Lookups::default()
        };
        let rows = self
            .store
            .employees_matching(self.account, &lookups)
            .await
            .map_err(|e| SourceError::Other(format!("reading known managers: {e}")))?;
        let mut known = HashMap::new();
        for e in &rows {
            let tells = e.merged_into.is_none()
                && !e.email_edited
                && !e.email.is_empty()
                && (e.secondary_email.is_some() || !self.fallback_personal);
            if let (true, Some(id)) = (tells, &e.source_id) {
                known.insert(id.clone(), Some(e.email.clone()));
            }
        }
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(rows);
        Ok(known)
    }
}
