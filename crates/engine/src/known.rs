//! The directory as an incremental fetch's knowledge of members (issue #15): the
//! managers outside the fetched members are resolved from their rows.

use std::collections::HashMap;
use std::sync::Arc;

use roster_core::normalise::holds_work_email;
use roster_source::{KnownMembers, SourceError};

/// The directory as what Roster knows of members: an incremental fetch resolves
/// the managers outside it here (one indexed look-up) instead of one request each.
/// A row tells its member's work email when core says it holds one
/// ([`holds_work_email`]); other managers are asked of the source.
pub(crate) struct KnownManagers {
    pub(crate) store: Arc<dyn roster_store::Store>,
    pub(crate) account: roster_store::AccountId,
}

#[async_trait::async_trait]
impl KnownMembers for KnownManagers {
    async fn work_emails(
        &self,
        source_ids: &[String],
    ) -> std::result::Result<HashMap<String, Option<String>>, SourceError> {
        let rows = self
            .store
            .source_emails(self.account, source_ids)
            .await
            .map_err(|e| SourceError::Other(format!("reading known managers: {e}")))?;
        let mut known = HashMap::new();
        for e in rows {
            if holds_work_email(&e.email, e.email_edited, e.secondary_email, e.merged) {
                known.insert(e.source_id, Some(e.email));
            }
        }
        Ok(known)
    }
}
