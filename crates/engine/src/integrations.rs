//! An account's integrations: connect, read, credentials, settings and mapping,
//! delete; who holds an integration's sync lock, and releasing it.

use jiff::Timestamp;
use roster_core::settings::{FieldKind, LookAlike, Settings};
use roster_store::{
    ImportId, Integration, IntegrationId, IntegrationKind, NewIntegration, SyncLockInfo,
};

use crate::engine::{Engine, EngineError, Result};
use crate::record;

impl Engine {
    /// Store a new integration; credentials are encrypted here.
    pub async fn connect(
        &self,
        kind: IntegrationKind,
        name: &str,
        config: serde_json::Value,
        credentials: Option<&[u8]>,
    ) -> Result<Integration> {
        let integration = self
            .store
            .create_integration(NewIntegration {
                account_id: self.account,
                kind,
                name: name.to_string(),
                config,
                credentials: credentials.map(|c| self.cipher().encrypt(c)),
                settings: Settings::default(),
            })
            .await?;
        tracing::info!(
            integration = integration.id,
            kind = kind.as_str(),
            "integration connected"
        );
        Ok(integration)
    }

    /// An integration by id, or the only/first one when `id` is `None`.
    pub async fn integration(&self, id: Option<IntegrationId>) -> Result<Integration> {
        match id {
            Some(id) => self
                .store
                .integration(self.account, id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("no integration {id}"))),
            None => self
                .store
                .integrations(self.account)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    EngineError::NotFound(
                        "no integration yet: run `roster connect justworks` first".into(),
                    )
                }),
        }
    }

    pub async fn integrations(&self) -> Result<Vec<Integration>> {
        Ok(self.store.integrations(self.account).await?)
    }

    /// The decrypted credentials of an integration.
    pub fn credentials(&self, integration: &Integration) -> Result<Option<Vec<u8>>> {
        Ok(integration
            .credentials
            .as_deref()
            .map(|c| self.cipher().decrypt(c))
            .transpose()?)
    }

    /// Replace an integration's credentials (e.g. refreshed tokens), encrypted.
    pub async fn save_credentials(&self, id: IntegrationId, plaintext: &[u8]) -> Result<()> {
        let mut i = self.integration(Some(id)).await?;
        i.credentials = Some(self.cipher().encrypt(plaintext));
        self.store.save_integration(&i).await?;
        Ok(())
    }

    /// Change settings through a validated closure; nothing is saved on error.
    pub async fn update_settings(
        &self,
        id: IntegrationId,
        f: impl FnOnce(&mut Settings) -> std::result::Result<(), String>,
    ) -> Result<Settings> {
        let mut i = self.integration(Some(id)).await?;
        let mut s = i.settings.clone();
        f(&mut s).map_err(EngineError::Invalid)?;
        i.settings = s.clone();
        self.store.save_integration(&i).await?;
        Ok(s)
    }

    /// Map a source field to a demographic (`Settings::map_field`: a known field, a
    /// name, replacing the field's mapping) and save. The settings as saved, and the
    /// look-alike warning if the name looks like another mapped one.
    pub async fn set_mapping(
        &self,
        id: IntegrationId,
        source_key: &str,
        demographic: &str,
        kind: FieldKind,
    ) -> Result<(Settings, Option<LookAlike>)> {
        let mut i = self.integration(Some(id)).await?;
        let warning = i
            .settings
            .map_field(source_key, demographic, kind, &i.source_fields)?;
        self.store.save_integration(&i).await?;
        Ok((i.settings, warning))
    }

    /// Remove a source field's mapping and save; the settings as saved.
    pub async fn unset_mapping(&self, id: IntegrationId, source_key: &str) -> Result<Settings> {
        let mut i = self.integration(Some(id)).await?;
        i.settings.unmap_field(source_key)?;
        self.store.save_integration(&i).await?;
        Ok(i.settings)
    }

    pub async fn delete_integration(&self, id: IntegrationId) -> Result<bool> {
        Ok(self.store.delete_integration(self.account, id).await?)
    }

    /// Who holds the sync lock of an integration, if anyone.
    pub async fn sync_lock(&self, id: IntegrationId) -> Result<Option<SyncLockInfo>> {
        self.integration(Some(id)).await?;
        Ok(self.store.sync_lock(self.account, id).await?)
    }

    /// Release the sync lock of an integration as it was read (`lock`), whatever its
    /// lease, and record that in the history (an `unlock` import). For a holder that
    /// is gone on another host; its writes are fenced off from then on. `None`: the
    /// lock changed hands or was released meanwhile, and nothing was done.
    pub async fn unlock(&self, id: IntegrationId, lock: &SyncLockInfo) -> Result<Option<ImportId>> {
        if !self
            .store
            .break_sync_lock(self.account, id, &lock.holder, lock.generation)
            .await?
        {
            return Ok(None);
        }
        tracing::warn!(integration = id, holder = %lock.holder, "sync lock released by an operator");
        let changeset = record::unlock(id, lock, self.clock.now(), Timestamp::now());
        Ok(Some(self.write(changeset, None).await?))
    }
}
