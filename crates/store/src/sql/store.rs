//! [`Store`] for every [`Adapter`]: each method is one of the shared operations in
//! the sibling modules, or the adapter's own.

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::rollback::RecordedChange;

use super::adapter::Adapter;
use std::collections::BTreeSet;

use roster_core::plan::Lookups;

use super::{erasure, feed, history, integrations, locks, part, reads, selection, subscriptions};
use crate::{
    AccountId, Changeset, Cursor, Dated, DemographicMember, EmployeeFilter, EmployeeQuery,
    EventQuery, FeedDone, FeedEvent, FeedSubscription, Fence, HistoryEntry, ImportId, ImportRecord,
    ImportSummary, Integration, IntegrationId, KeyPage, NewFeedSubscription, NewIntegration,
    OutboxMessage, Result, SourceEmail, Store, SyncLockInfo,
};

#[async_trait]
impl<A: Adapter> Store for A {
    async fn ensure_account(&self, name: &str) -> Result<AccountId> {
        integrations::ensure_account(self, name).await
    }

    async fn accounts(&self) -> Result<Vec<(AccountId, String)>> {
        integrations::accounts(self).await
    }

    async fn create_integration(&self, new: NewIntegration) -> Result<Integration> {
        integrations::create_integration(self, new).await
    }

    async fn integration(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<Option<Integration>> {
        integrations::integration(self, account, id).await
    }

    async fn integrations(&self, account: AccountId) -> Result<Vec<Integration>> {
        integrations::integrations(self, account).await
    }

    async fn save_integration(&self, integration: &Integration) -> Result<()> {
        integrations::save_integration(self, integration).await
    }

    async fn delete_integration(&self, account: AccountId, id: IntegrationId) -> Result<bool> {
        integrations::delete_integration(self, account, id).await
    }

    async fn directory(&self, account: AccountId) -> Result<Vec<Employee>> {
        reads::directory(self, account).await
    }

    async fn directory_outline(&self, account: AccountId) -> Result<Vec<Employee>> {
        reads::directory_outline(self, account).await
    }

    async fn employees_by_key(
        &self,
        account: AccountId,
        keys: &[EmployeeKey],
    ) -> Result<Vec<Employee>> {
        reads::employees_by_key(self, account, keys).await
    }

    async fn employee(&self, account: AccountId, key: EmployeeKey) -> Result<Option<Employee>> {
        reads::employee(self, account, key).await
    }

    async fn find_employee(
        &self,
        account: AccountId,
        id_or_email: &str,
    ) -> Result<Option<Employee>> {
        reads::find_employee(self, account, id_or_email).await
    }

    async fn employees(&self, account: AccountId, query: &EmployeeQuery) -> Result<Vec<Employee>> {
        reads::employees(self, account, query).await
    }

    async fn count_employees(&self, account: AccountId, active_only: bool) -> Result<u64> {
        reads::count_employees(self, account, active_only).await
    }

    async fn select_employees(
        &self,
        account: AccountId,
        filter: &EmployeeFilter,
        page: KeyPage,
    ) -> Result<Vec<Dated>> {
        selection::select_employees(self, account, filter, page).await
    }

    async fn count_selected(&self, account: AccountId, filter: &EmployeeFilter) -> Result<u64> {
        selection::count_selected(self, account, filter).await
    }

    async fn demographic_members(
        &self,
        account: AccountId,
        demographics: &[String],
    ) -> Result<Vec<DemographicMember>> {
        selection::demographic_members(self, account, demographics).await
    }

    async fn employees_matching(
        &self,
        account: AccountId,
        lookups: &Lookups,
    ) -> Result<Vec<Employee>> {
        part::employees_matching(self, account, lookups).await
    }

    async fn source_emails(
        &self,
        account: AccountId,
        source_ids: &[String],
    ) -> Result<Vec<SourceEmail>> {
        part::source_emails(self, account, source_ids).await
    }

    async fn active_report_counts(
        &self,
        account: AccountId,
        manager_keys: &[String],
    ) -> Result<Vec<(String, u64)>> {
        part::active_report_counts(self, account, manager_keys).await
    }

    async fn employee_ids_with_prefix(
        &self,
        account: AccountId,
        prefix: &str,
    ) -> Result<Vec<String>> {
        part::employee_ids_with_prefix(self, account, prefix).await
    }

    async fn demographic_names(&self, account: AccountId, rows: usize) -> Result<BTreeSet<String>> {
        part::demographic_names(self, account, rows).await
    }

    async fn key_manager_emails(&self, account: AccountId) -> Result<u64> {
        part::key_manager_emails(self, account).await
    }

    async fn lock_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        until: Timestamp,
    ) -> Result<i64> {
        locks::lock_sync(self, account, integration, holder, until).await
    }

    async fn renew_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        generation: i64,
        until: Timestamp,
    ) -> Result<bool> {
        locks::renew_sync(self, account, integration, holder, generation, until).await
    }

    async fn unlock_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
    ) -> Result<()> {
        locks::unlock_sync(self, account, integration, holder).await
    }

    async fn sync_lock(
        &self,
        account: AccountId,
        integration: IntegrationId,
    ) -> Result<Option<SyncLockInfo>> {
        locks::sync_lock(self, account, integration).await
    }

    async fn break_sync_lock(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        generation: i64,
    ) -> Result<bool> {
        locks::break_sync_lock(self, account, integration, holder, generation).await
    }

    async fn write(&self, account: AccountId, changeset: Changeset) -> Result<ImportId> {
        self.write_changeset(account, changeset, None).await
    }

    async fn write_fenced(
        &self,
        account: AccountId,
        changeset: Changeset,
        fence: &Fence,
    ) -> Result<ImportId> {
        self.write_changeset(account, changeset, Some(fence)).await
    }

    async fn imports(&self, account: AccountId, limit: usize) -> Result<Vec<ImportSummary>> {
        history::imports(self, account, limit).await
    }

    async fn import(&self, account: AccountId, id: ImportId) -> Result<Option<ImportRecord>> {
        history::import(self, account, id).await
    }

    async fn import_head(
        &self,
        account: AccountId,
        id: ImportId,
    ) -> Result<Option<(ImportSummary, serde_json::Value)>> {
        history::import_head(self, account, id).await
    }

    async fn import_changes(
        &self,
        account: AccountId,
        id: ImportId,
    ) -> Result<Vec<RecordedChange>> {
        history::import_changes(self, account, id).await
    }

    async fn employee_history(
        &self,
        account: AccountId,
        key: EmployeeKey,
    ) -> Result<Vec<HistoryEntry>> {
        history::employee_history(self, account, key).await
    }

    async fn events(&self, account: AccountId, query: &EventQuery) -> Result<Vec<FeedEvent>> {
        feed::events(self, account, query).await
    }

    async fn events_since(&self, account: AccountId, since: Timestamp) -> Result<Vec<FeedEvent>> {
        feed::events_since(self, account, since).await
    }

    async fn events_from_history(&self, account: AccountId) -> Result<Vec<FeedEvent>> {
        feed::events_from_the_history(self, account).await
    }

    async fn subscribe_feed(
        &self,
        account: AccountId,
        sub: NewFeedSubscription,
    ) -> Result<FeedSubscription> {
        subscriptions::subscribe_feed(self, account, sub).await
    }

    async fn feed_subscriptions(&self, account: AccountId) -> Result<Vec<FeedSubscription>> {
        subscriptions::feed_subscriptions(self, account).await
    }

    async fn claim_feed(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<FeedSubscription>> {
        subscriptions::claim_feed(self, worker, now, lease_until, limit).await
    }

    async fn start_feed_batch(
        &self,
        account: AccountId,
        channel: crate::jobs::ChannelId,
        worker: &str,
        until: Cursor,
        lease_until: Timestamp,
    ) -> Result<bool> {
        subscriptions::start_feed_batch(self, account, channel, worker, until, lease_until).await
    }

    async fn accept_feed_batch(
        &self,
        account: AccountId,
        channel: crate::jobs::ChannelId,
        worker: &str,
        until: Cursor,
        at: Timestamp,
    ) -> Result<bool> {
        subscriptions::accept_feed_batch(self, account, channel, worker, until, at).await
    }

    async fn finish_feed(
        &self,
        account: AccountId,
        channel: crate::jobs::ChannelId,
        worker: &str,
        done: FeedDone,
    ) -> Result<bool> {
        subscriptions::finish_feed(self, account, channel, worker, done).await
    }

    async fn outbox(&self, account: AccountId, limit: usize) -> Result<Vec<OutboxMessage>> {
        history::outbox(self, account, limit).await
    }

    async fn mark_delivered(&self, account: AccountId, id: i64, at: Timestamp) -> Result<()> {
        history::mark_delivered(self, account, id, at).await
    }

    async fn close(&self) -> Result<()> {
        self.close_store().await
    }

    async fn anonymise(
        &self,
        account: AccountId,
        request: &crate::Anonymisation,
    ) -> Result<crate::Anonymised> {
        let done = erasure::anonymise(self, account, request).await?;
        self.after_erasure().await?;
        Ok(done)
    }

    async fn erasures(&self, account: AccountId) -> Result<Vec<crate::Erasure>> {
        erasure::erasures(self, account).await
    }

    async fn key_check(&self) -> Result<Option<Vec<u8>>> {
        integrations::key_check(self).await
    }

    async fn init_key_check(&self, value: &[u8], at: Timestamp) -> Result<Vec<u8>> {
        integrations::init_key_check(self, value, at).await
    }

    async fn encrypted_samples(&self, limit: usize) -> Result<Vec<Vec<u8>>> {
        integrations::encrypted_samples(self, limit).await
    }
}
