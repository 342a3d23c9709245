//! Time as the business reads it: in Asia/Riyadh, which keeps UTC+3 all year (no daylight
//! saving). Periods given as dates start at Riyadh's midnight; documents are numbered per Riyadh
//! calendar year.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};

const OFFSET_HOURS: i64 = 3;

/// The Riyadh calendar year of an instant.
pub fn year_of(at: DateTime<Utc>) -> i32 {
    (at + TimeDelta::hours(OFFSET_HOURS)).year()
}

/// An instant as a person writes it: RFC 3339 (`2026-03-01T09:00:00Z`), or a date
/// (`2026-03-01`) meaning its midnight in Riyadh.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_time(NaiveTime::MIN).and_utc() - TimeDelta::hours(OFFSET_HOURS))
}
