//! A `SystemTime` as an RFC 3339 UTC date, for the messages that name a certificate's expiry.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::DateTime;

/// Shows a `SystemTime` as `2026-11-28T09:30:00Z` (whole seconds, UTC), within what an X.509 date
/// can hold (1970 to 9999, where every time shown here comes from): one outside shows as the bound.
pub(crate) struct Utc(pub(crate) SystemTime);

impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = match DateTime::from_system_time(self.0) {
            Ok(time) => time,
            Err(_) if self.0 > UNIX_EPOCH => DateTime::INFINITY,
            Err(_) => DateTime::from_unix_duration(Duration::ZERO).map_err(|_| fmt::Error)?,
        };
        fmt::Display::fmt(&time, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let at = |secs| Utc(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // `date -u -d @951782400`: the leap day of 2000, a year divisible by 400.
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        // Before 1970, out of an X.509 date's range: the bound.
        assert_eq!(
            Utc(UNIX_EPOCH - Duration::from_secs(1)).to_string(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Utc(UNIX_EPOCH + Duration::from_secs(253_402_300_799)).to_string(),
            "9999-12-31T23:59:59Z"
        );
    }
}
