//! At most one look per interval: how often a call that meets a cached failure looks at its
//! files, and how often a refused handshake starts a look at a client identity's files.

use std::time::{Duration, Instant};

/// When the last look started.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    last: Option<Instant>,
}

impl Throttle {
    pub(crate) const fn new() -> Self {
        Self { last: None }
    }

    /// Whether a look may start at `now`: none started within `interval` before. Starting one
    /// is recorded.
    pub(crate) fn try_start(&mut self, now: Instant, interval: Duration) -> bool {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < interval)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_look_per_interval() {
        let second = Duration::from_secs(1);
        let start = Instant::now();
        let mut throttle = Throttle::new();
        assert!(throttle.try_start(start, second));
        assert!(!throttle.try_start(start + second / 2, second));
        assert!(throttle.try_start(start + second, second));
        assert!(!throttle.try_start(start + second, second));
    }
}
