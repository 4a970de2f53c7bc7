//! Reading the change feed, and the directory as it stood at the end of a day.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::feed::{Directory, rewind};
use roster_core::normalise::email_key;
use roster_store::{EventQuery, FeedEvent};

use crate::{Engine, EngineError, Result};

impl Engine {
    /// The account's time zone: its first integration's (UTC without one).
    pub async fn time_zone(&self) -> Result<TimeZone> {
        let zone = match self.store.integrations(self.account).await?.first() {
            Some(i) => i.settings.timezone.clone(),
            None => return Ok(TimeZone::UTC),
        };
        Ok(TimeZone::get(&zone).unwrap_or(TimeZone::UTC))
    }

    /// The change feed, as `query` selects it, in cursor order.
    pub async fn events(&self, query: &EventQuery) -> Result<Vec<FeedEvent>> {
        Ok(self.store.events(self.account, query).await?)
    }

    /// One employee's events (by the directory key, the id SCIM uses) as `query`
    /// selects them, in cursor order. An unknown key is `NotFound`.
    pub async fn employee_events(
        &self,
        key: EmployeeKey,
        query: EventQuery,
    ) -> Result<Vec<FeedEvent>> {
        if self.store.employee(self.account, key).await?.is_none() {
            return Err(EngineError::NotFound(format!("no employee {key}")));
        }
        let query = EventQuery {
            employee: Some(key),
            ..query
        };
        self.events(&query).await
    }

    /// The last instant of `day` in the account's time zone.
    pub async fn end_of_day(&self, day: Date) -> Result<Timestamp> {
        let tz = self.time_zone().await?;
        let next = day
            .tomorrow()
            .and_then(|d| d.to_zoned(tz))
            .map_err(|e| EngineError::Invalid(format!("the date {day}: {e}")))?;
        Ok(next.timestamp() - SignedDuration::from_nanos(1))
    }

    /// The directory (every employee, in key order) as it stood at the end of `day`
    /// in the account's time zone: today's directory with every event of a later
    /// import undone. An employee created after it is absent; a rollback after it
    /// does not change it.
    pub async fn directory_as_of(&self, day: Date) -> Result<Vec<Employee>> {
        let end = self.end_of_day(day).await?;
        let later = self.store.events_since(self.account, end).await?;
        let mut directory: Directory = self
            .directory()
            .await?
            .into_iter()
            .map(|e| (e.key, e))
            .collect();
        rewind(&mut directory, &later)
            .map_err(|e| EngineError::Store(roster_store::StoreError::Corrupt(e.to_string())))?;
        Ok(directory.into_values().collect())
    }

    /// One employee as of the end of `day`, by the employee ID or email it had
    /// then (case-insensitive email).
    pub async fn find_as_of(&self, who: &str, day: Date) -> Result<Employee> {
        let wanted = email_key(who);
        self.directory_as_of(day)
            .await?
            .into_iter()
            .find(|e| {
                e.employee_id == who || (!e.email.is_empty() && email_key(&e.email) == wanted)
            })
            .ok_or_else(|| {
                EngineError::NotFound(format!("no employee with ID or email {who:?} on {day}"))
            })
    }
}
