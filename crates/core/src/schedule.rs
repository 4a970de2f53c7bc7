//! When an automatic sync runs (DESIGN §2.4): daily, weekly on a weekday, or monthly
//! on a day of the month, at a local time in an IANA time zone.
//!
//! Pure: the caller resolves the time zone and passes it in, so this module does no
//! I/O. The engine resolves it with `jiff::tz::TimeZone::get`, which reads the system's
//! time-zone database (jiff's bundled copy when there is none); core itself checks
//! names only against the bundled copy ([`bundled_zone`]), data compiled into the
//! binary.
//!
//! Rules:
//! - A run is due at the first instant strictly after the previous one whose local
//!   date matches the frequency and whose local time is `at`.
//! - Monthly on a day the month does not have (29–31) runs on the month's last day.
//! - A local time that does not exist (the spring-forward gap) runs as much later as
//!   the gap is long (02:30 in a one-hour gap runs at 03:30 local time): the day's run
//!   is never skipped.
//! - A local time that happens twice (the fall-back hour) runs at the first of the
//!   two: the day's run never happens twice.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("frequency must be daily, weekly or monthly, not {0:?}")]
    Frequency(String),
    #[error("weekday must be one of mon, tue, wed, thu, fri, sat, sun, not {0:?}")]
    Weekday(String),
    #[error("day of month must be 1 to 31, not {0}")]
    Day(i64),
    #[error("time must be HH:MM (24-hour), not {0:?}")]
    Time(String),
    #[error("a weekly schedule needs a weekday (e.g. --weekday mon)")]
    MissingWeekday,
    #[error("a monthly schedule needs a day of the month (e.g. --day 1)")]
    MissingDay,
}

/// How often: every day, one weekday a week, or one day a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    Weekly {
        #[serde(with = "weekday_text")]
        weekday: Weekday,
    },
    /// Day 1–31; clamped to the month's last day.
    Monthly {
        day: i8,
    },
}

impl Frequency {
    /// From the words an admin types: `daily`, `weekly` + weekday, `monthly` + day.
    pub fn parse(
        frequency: &str,
        weekday: Option<&str>,
        day: Option<i64>,
    ) -> Result<Self, ScheduleError> {
        match frequency.trim().to_ascii_lowercase().as_str() {
            "daily" => Ok(Self::Daily),
            "weekly" => {
                let w = weekday.ok_or(ScheduleError::MissingWeekday)?;
                Ok(Self::Weekly {
                    weekday: parse_weekday(w)?,
                })
            }
            "monthly" => {
                let d = day.ok_or(ScheduleError::MissingDay)?;
                if !(1..=31).contains(&d) {
                    return Err(ScheduleError::Day(d));
                }
                Ok(Self::Monthly { day: d as i8 })
            }
            other => Err(ScheduleError::Frequency(other.to_string())),
        }
    }

    /// Whether a run falls on this local date.
    pub fn matches(self, d: Date) -> bool {
        match self {
            Self::Daily => true,
            Self::Weekly { weekday } => d.weekday() == weekday,
            Self::Monthly { day } => d.day() == day.min(d.days_in_month()),
        }
    }

    /// `daily`, `weekly on mon`, `monthly on day 31`.
    pub fn describe(self) -> String {
        match self {
            Self::Daily => "daily".into(),
            Self::Weekly { weekday } => format!("weekly on {}", weekday_name(weekday)),
            Self::Monthly { day } => format!("monthly on day {day}"),
        }
    }
}

/// A time zone by IANA name (case-insensitive) from jiff's bundled copy of the time-zone
/// database: data compiled into the binary, so no I/O. The error is jiff's
/// "failed to find time zone" for an unknown name, as with `TimeZone::get`.
pub fn bundled_zone(name: &str) -> Result<TimeZone, jiff::Error> {
    jiff::tz::TimeZoneDatabase::bundled().get(name)
}

/// An auto-sync schedule: when, at what local time, in which time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub frequency: Frequency,
    /// Local wall-clock time (minutes precision).
    #[serde(with = "time_text")]
    pub at: Time,
    /// IANA name, e.g. `Europe/Paris`; the caller checks it exists.
    pub timezone: String,
}

impl Schedule {
    /// The first run strictly after `after`, with `tz` the resolved `self.timezone`.
    /// `None` only at the end of representable time.
    pub fn next_after(&self, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
        // Start a day early: a late local time on the previous day may, through a
        // gap, land after `after`.
        let mut d = after.to_zoned(tz.clone()).date().yesterday().ok()?;
        // A monthly run is at most two months away; a weekly one a week.
        for _ in 0..70 {
            if self.frequency.matches(d)
                && let Ok(z) = tz.to_ambiguous_zoned(d.to_datetime(self.at)).compatible()
            {
                let t = z.timestamp();
                if t > after {
                    return Some(t);
                }
            }
            d = d.tomorrow().ok()?;
        }
        None
    }

    /// `weekly on mon at 09:00 Europe/Paris`.
    pub fn describe(&self) -> String {
        format!(
            "{} at {} {}",
            self.frequency.describe(),
            time_text::format(self.at),
            self.timezone
        )
    }
}

/// `HH:MM`, 24-hour.
pub fn parse_time(text: &str) -> Result<Time, ScheduleError> {
    let bad = || ScheduleError::Time(text.to_string());
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

pub fn parse_weekday(text: &str) -> Result<Weekday, ScheduleError> {
    let t = text.trim().to_ascii_lowercase();
    let w = match t.get(..3).unwrap_or(&t) {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return Err(ScheduleError::Weekday(text.to_string())),
    };
    // `monday` and `mon` are fine; `monkey` is not.
    let full = weekday_full(w);
    if t.len() > 3 && t != full {
        return Err(ScheduleError::Weekday(text.to_string()));
    }
    Ok(w)
}

pub fn weekday_name(w: Weekday) -> &'static str {
    &weekday_full(w)[..3]
}

fn weekday_full(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

mod weekday_text {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(w: &Weekday, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(super::weekday_name(*w))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Weekday, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_weekday(&text).map_err(serde::de::Error::custom)
    }
}

mod time_text {
    use jiff::civil::Time;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: Time) -> String {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }

    pub fn serialize<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> TimeZone {
        bundled_zone(name).expect("time zone database")
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn schedule(f: Frequency, at: &str, zone: &str) -> Schedule {
        Schedule {
            frequency: f,
            at: parse_time(at).unwrap(),
            timezone: zone.into(),
        }
    }

    fn next(s: &Schedule, after: &str) -> Timestamp {
        s.next_after(&tz(&s.timezone), ts(after))
            .expect("a next run")
    }

    #[test]
    fn daily_runs_at_the_local_time_strictly_after() {
        let s = schedule(Frequency::Daily, "02:00", "UTC");
        assert_eq!(next(&s, "2026-01-10T01:59:59Z"), ts("2026-01-10T02:00:00Z"));
        assert_eq!(next(&s, "2026-01-10T02:00:00Z"), ts("2026-01-11T02:00:00Z"));
        let ny = schedule(Frequency::Daily, "23:30", "America/New_York");
        // 03:00 UTC on 10 Jan is 22:00 on 9 Jan in New York.
        assert_eq!(
            next(&ny, "2026-01-10T03:00:00Z"),
            ts("2026-01-10T04:30:00Z")
        );
    }

    #[test]
    fn weekly_runs_on_its_weekday() {
        let s = schedule(
            Frequency::parse("weekly", Some("mon"), None).unwrap(),
            "09:00",
            "Europe/Paris",
        );
        // 2026-01-07 is a Wednesday; the next Monday is 12 Jan, 09:00 CET = 08:00 UTC.
        assert_eq!(next(&s, "2026-01-07T12:00:00Z"), ts("2026-01-12T08:00:00Z"));
        assert_eq!(next(&s, "2026-01-12T08:00:00Z"), ts("2026-01-19T08:00:00Z"));
    }

    #[test]
    fn monthly_clamps_to_the_month_end() {
        let s = schedule(
            Frequency::parse("monthly", None, Some(31)).unwrap(),
            "06:00",
            "UTC",
        );
        assert_eq!(next(&s, "2026-01-31T06:00:00Z"), ts("2026-02-28T06:00:00Z"));
        assert_eq!(next(&s, "2026-02-28T06:00:00Z"), ts("2026-03-31T06:00:00Z"));
        assert_eq!(next(&s, "2026-04-01T00:00:00Z"), ts("2026-04-30T06:00:00Z"));
        // A leap year's February has a 29th.
        assert_eq!(next(&s, "2028-02-01T00:00:00Z"), ts("2028-02-29T06:00:00Z"));
        let first = schedule(Frequency::Monthly { day: 1 }, "00:00", "UTC");
        assert_eq!(
            next(&first, "2026-12-15T00:00:00Z"),
            ts("2027-01-01T00:00:00Z")
        );
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_runs_after_the_gap() {
        // Paris skips 02:00–03:00 on 29 March 2026: 02:30 runs at 03:30 CEST.
        let s = schedule(Frequency::Daily, "02:30", "Europe/Paris");
        assert_eq!(next(&s, "2026-03-28T12:00:00Z"), ts("2026-03-29T01:30:00Z"));
        // The day after, 02:30 CEST again.
        assert_eq!(next(&s, "2026-03-29T01:30:00Z"), ts("2026-03-30T00:30:00Z"));
    }

    #[test]
    fn a_time_in_the_fall_back_hour_runs_once() {
        // Paris repeats 02:00–03:00 on 25 October 2026: 02:30 CEST (00:30 UTC) runs,
        // 02:30 CET (01:30 UTC) does not; the next run is on the 26th.
        let s = schedule(Frequency::Daily, "02:30", "Europe/Paris");
        assert_eq!(next(&s, "2026-10-24T12:00:00Z"), ts("2026-10-25T00:30:00Z"));
        assert_eq!(next(&s, "2026-10-25T00:30:00Z"), ts("2026-10-26T01:30:00Z"));
    }

    #[test]
    fn parsing_refuses_bad_input() {
        assert!(parse_time("24:00").is_err());
        assert!(parse_time("9").is_err());
        assert!(parse_time("09:5").is_err());
        assert!(parse_time("-1:00").is_err());
        assert_eq!(parse_time("9:05").unwrap(), Time::constant(9, 5, 0, 0));
        assert!(parse_weekday("monkey").is_err());
        assert_eq!(parse_weekday("Monday").unwrap(), Weekday::Monday);
        assert_eq!(
            Frequency::parse("weekly", None, None),
            Err(ScheduleError::MissingWeekday)
        );
        assert_eq!(
            Frequency::parse("monthly", None, Some(32)),
            Err(ScheduleError::Day(32))
        );
        assert!(Frequency::parse("hourly", None, None).is_err());
    }

    #[test]
    fn round_trips_as_json() {
        let s = schedule(
            Frequency::Weekly {
                weekday: Weekday::Friday,
            },
            "17:45",
            "Asia/Tokyo",
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"frequency": {"every": "weekly", "weekday": "fri"}, "at": "17:45", "timezone": "Asia/Tokyo"})
        );
        assert_eq!(serde_json::from_value::<Schedule>(json).unwrap(), s);
        assert_eq!(s.describe(), "weekly on fri at 17:45 Asia/Tokyo");
    }
}
