//! [`PrivacyStore`] for every [`Adapter`]: everything held about one person (their
//! row, the records merged into them, every entry and import about them), and
//! retention holds (`retention_holds`, migration 0012).

use async_trait::async_trait;
use roster_core::employee::EmployeeKey;

use super::adapter::{Adapter, Begin};
use super::codec::{action, from_json};
use super::employee;
use super::history::{CHAIN, CHAIN_ENTRY, FAMILY, IMPORT_SELECT, changes_from, summary_from_row};
use super::query::{Columns, Executor, Query, Transaction};
use crate::privacy::{PersonEntry, PersonRecord, PrivacyStore, RetentionHold};
use crate::{AccountId, Result, StoreError};

async fn person_record<A: Adapter>(
    a: &A,
    account: AccountId,
    key: EmployeeKey,
) -> Result<Option<PersonRecord>> {
    let mut tx = a.begin(Begin::Snapshot).await?;
    let sql = format!(
        "{FAMILY}SELECT {} FROM family f CROSS JOIN employees e \
         WHERE e.key = f.key AND e.account_id = $1 ORDER BY e.key",
        employee::select(A::DIALECT, "e")
    );
    let mut rows = Vec::new();
    tx.for_each(Query::new(sql).bind(account).bind(key), &mut |row| {
        rows.push(employee::read(A::DIALECT, row, 0)?);
        Ok(())
    })
    .await?;
    let Some(at) = rows.iter().position(|e| e.key == key) else {
        return Ok(None);
    };
    let employee = rows.remove(at);

    let sql = format!(
        "{FAMILY}{CHAIN}SELECT ie.import_id, ie.employee_key, ie.employee_id, ie.action, \
         ie.applied, ie.held, ie.privacy, ie.changes, ie.after \
         FROM chain c CROSS JOIN import_entries ie \
         WHERE {CHAIN_ENTRY} AND ie.account_id = $1 ORDER BY ie.import_id, ie.seq"
    );
    let mut entries = Vec::new();
    tx.for_each(Query::new(sql).bind(account).bind(key), &mut |row| {
        entries.push(PersonEntry {
            import_id: row.int(0, "import_entries.import_id")?,
            employee_key: row.int(1, "import_entries.employee_key")?,
            employee_id: row.string(2, "import_entries.employee_id")?,
            action: action(row.text(3, "import_entries.action")?)?,
            applied: row.boolean(4, "import_entries.applied")?,
            held: row.boolean(5, "import_entries.held")?,
            privacy: row.boolean(6, "import_entries.privacy")?,
            changes: changes_from(row.opt_text(7, "import_entries.changes")?)?,
            after: row
                .opt_text(8, "import_entries.after")?
                .map(|json| from_json(json, "import_entries.after"))
                .transpose()?,
        });
        Ok(())
    })
    .await?;

    let sql = format!(
        "{FAMILY}{CHAIN}SELECT {IMPORT_SELECT} FROM imports WHERE account_id = $1 AND id IN ( \
             SELECT c.import_id FROM chain c) \
         ORDER BY id"
    );
    let imports = tx
        .fetch_all(Query::new(sql).bind(account).bind(key))
        .await?
        .iter()
        .map(summary_from_row)
        .collect::<Result<_>>()?;
    tx.commit().await?;
    Ok(Some(PersonRecord {
        employee,
        merged: rows,
        entries,
        imports,
    }))
}

async fn hold_retention<A: Adapter>(a: &A, account: AccountId, hold: RetentionHold) -> Result<()> {
    let mut tx = a.begin(Begin::Write).await?;
    let exists = tx
        .fetch_optional(
            Query::new("SELECT key FROM employees WHERE key = $1 AND account_id = $2")
                .bind(hold.employee_key)
                .bind(account),
        )
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound {
            what: "employee",
            id: hold.employee_key.to_string(),
        });
    }
    tx.execute(
        Query::new(
            "INSERT INTO retention_holds (account_id, employee_key, reason, since) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, employee_key) DO UPDATE SET reason = excluded.reason",
        )
        .bind(account)
        .bind(hold.employee_key)
        .bind(hold.reason)
        .bind(hold.since),
    )
    .await?;
    tx.commit().await
}

#[async_trait]
impl<A: Adapter> PrivacyStore for A {
    async fn person_record(
        &self,
        account: AccountId,
        key: EmployeeKey,
    ) -> Result<Option<PersonRecord>> {
        person_record(self, account, key).await
    }

    async fn hold_retention(&self, account: AccountId, hold: RetentionHold) -> Result<()> {
        hold_retention(self, account, hold).await
    }

    async fn release_retention(&self, account: AccountId, key: EmployeeKey) -> Result<bool> {
        let n = self
            .pool_executor()
            .execute(
                Query::new(
                    "DELETE FROM retention_holds WHERE account_id = $1 AND employee_key = $2",
                )
                .bind(account)
                .bind(key),
            )
            .await?;
        Ok(n > 0)
    }

    async fn retention_holds(&self, account: AccountId) -> Result<Vec<RetentionHold>> {
        let rows = self
            .pool_executor()
            .fetch_all(
                Query::new(
                    "SELECT employee_key, reason, since FROM retention_holds \
                     WHERE account_id = $1 ORDER BY employee_key",
                )
                .bind(account),
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RetentionHold {
                    employee_key: row.int(0, "retention_holds.employee_key")?,
                    reason: row.string(1, "retention_holds.reason")?,
                    since: row.ts(2, "retention_holds.since")?,
                })
            })
            .collect()
    }
}
