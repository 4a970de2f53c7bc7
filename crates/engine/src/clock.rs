//! The `Clock` port: tests control "now" and "today".

use std::sync::Mutex;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Today's date in the account's time zone (DESIGN §7: an end date takes effect
    /// at the start of that day where the company is).
    fn today(&self, timezone: &str) -> Date {
        let tz = TimeZone::get(timezone).unwrap_or(TimeZone::UTC);
        self.now().to_zoned(tz).date()
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stays where it is set (tests, demos, `--today`).
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// Noon UTC on a date.
    pub fn on(date: Date) -> Self {
        Self::new(noon(date))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn set_date(&self, date: Date) {
        self.set(noon(date));
    }
}

fn noon(date: Date) -> Timestamp {
    date.at(12, 0, 0, 0)
        .to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_the_accounts_local_date() {
        // 03:30 UTC on 24 Nov is still 23 Nov in New York and already 24 Nov in Tokyo.
        let clock = FixedClock::new("2026-11-24T03:30:00Z".parse().unwrap());
        assert_eq!(
            clock.today("America/New_York"),
            jiff::civil::date(2026, 11, 23)
        );
        assert_eq!(clock.today("Asia/Tokyo"), jiff::civil::date(2026, 11, 24));
        assert_eq!(clock.today("UTC"), jiff::civil::date(2026, 11, 24));
    }
}
