//! Dates for people: a `SystemTime` as RFC 3339 in UTC (`der`'s calendar), and whole days.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::DateTime;
use rustls::pki_types::UnixTime;

const DAY: i64 = 86_400;

/// `2026-03-01T12:00:00Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    utc(time).to_string()
}

/// `2026-03-01`.
pub(crate) fn date(time: SystemTime) -> String {
    let time = utc(time);
    format!("{:04}-{:02}-{:02}", time.year(), time.month(), time.day())
}

/// `time` in whole seconds, UTC, within what an X.509 date can hold (1970 to 9999, where every
/// time shown here comes from): one outside is the bound.
fn utc(time: SystemTime) -> DateTime {
    match DateTime::from_system_time(time) {
        Ok(time) => time,
        Err(_) if time > UNIX_EPOCH => DateTime::INFINITY,
        Err(_) => DateTime::from_unix_duration(Duration::ZERO).unwrap_or(DateTime::INFINITY),
    }
}

/// Whole days from `now` to `time`, rounded down: negative once `time` has passed.
pub(crate) fn days_from(now: SystemTime, time: SystemTime) -> i64 {
    (unix_seconds(time) - unix_seconds(now)).div_euclid(DAY)
}

/// `now` plus `days` days, saturating far in the future.
pub(crate) fn days_after(now: SystemTime, days: u64) -> SystemTime {
    now.checked_add(Duration::from_secs(days.saturating_mul(DAY.unsigned_abs())))
        .unwrap_or(now)
}

/// A time as rustls and webpki carry it.
pub(crate) fn from_unix(time: UnixTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.as_secs())
}

/// Seconds since the Unix epoch, negative before it (rounded down).
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(before.subsec_nanos() > 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> SystemTime {
        if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        // Before 1970, out of an X.509 date's range: the bound.
        assert_eq!(rfc3339(at(-1)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z"); // a leap day of a 400-year
        assert_eq!(rfc3339(at(4_107_542_400)), "2100-03-01T00:00:00Z"); // 2100 is not leap
        assert_eq!(rfc3339(at(1_767_225_599)), "2025-12-31T23:59:59Z");
        // The not-after that RFC 5280 gives certificates with no well-defined expiry.
        assert_eq!(rfc3339(at(253_402_300_799)), "9999-12-31T23:59:59Z");
        assert_eq!(date(at(253_402_300_799)), "9999-12-31");
    }

    #[test]
    fn counts_whole_days() {
        let now = at(1_000_000);
        assert_eq!(days_from(now, at(1_000_000 + DAY * 3 + 5)), 3);
        assert_eq!(days_from(now, at(1_000_000 - 1)), -1);
        assert_eq!(days_from(now, days_after(now, 30)), 30);
    }
}
