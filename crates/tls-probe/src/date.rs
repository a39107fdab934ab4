//! Dates for people: a `SystemTime` as RFC 3339 in UTC, with no calendar crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAY: i64 = 86_400;

/// `2026-03-01T12:00:00Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let secs = unix_seconds(time);
    let (year, month, day) = civil_from_days(secs.div_euclid(DAY));
    let of_day = secs.rem_euclid(DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// `2026-03-01`.
pub(crate) fn date(time: SystemTime) -> String {
    let (year, month, day) = civil_from_days(unix_seconds(time).div_euclid(DAY));
    format!("{year:04}-{month:02}-{day:02}")
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

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // In range by construction: month 1..=12, day 1..=31.
    (year, month as u32, day as u32)
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
        assert_eq!(rfc3339(at(-1)), "1969-12-31T23:59:59Z");
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
