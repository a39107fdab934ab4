//! A reload failure that repeats, reported once: at `warn` when it starts (or says something
//! else), at `debug` while it repeats, and once at `info` when a reload succeeds again, with the
//! number of failed polls in between. A store whose reloads fail every 5 minutes for a week logs
//! two lines, not two thousand.

use std::fmt::Display;

/// The failure streak of a value's reloads (the value in use is good throughout).
#[derive(Debug)]
pub(crate) struct Streak {
    failing: Option<Failing>,
}

#[derive(Debug)]
struct Failing {
    /// The `Display` of the last failure logged at `warn`.
    logged: String,
    /// Polls since the streak started that did not end it (failed, or found nothing new).
    polls: u64,
}

impl Streak {
    pub(crate) const fn new() -> Self {
        Self { failing: None }
    }

    /// A failed reload: whether it is news (the first of a streak, or a failure that reads
    /// differently from the last one reported), to be logged at `warn`.
    pub(crate) fn failed(&mut self, err: &dyn Display) -> bool {
        let message = err.to_string();
        match &mut self.failing {
            Some(failing) => {
                failing.polls += 1;
                let news = failing.logged != message;
                failing.logged = message;
                news
            }
            None => {
                self.failing = Some(Failing {
                    logged: message,
                    polls: 1,
                });
                true
            }
        }
    }

    /// A poll that found nothing to read while the streak runs (the failing files unchanged).
    pub(crate) fn polled(&mut self) {
        if let Some(failing) = &mut self.failing {
            failing.polls += 1;
        }
    }

    /// A reload that succeeded: the failed polls of the streak it ends, if one ran.
    pub(crate) fn succeeded(&mut self) -> Option<u64> {
        self.failing.take().map(|failing| failing.polls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::error::{NativeRootsError, NativeRootsErrorKind};
    use crate::source::TrustOrigin;

    fn err(path: &str) -> NativeRootsError {
        NativeRootsError::incomplete_file(
            &TrustOrigin::Custom("test".into()),
            1,
            std::path::Path::new(path),
            "is cut short",
        )
    }

    #[test]
    fn a_repeated_failure_is_news_once_and_its_end_counts_the_polls() {
        let mut streak = Streak::new();
        assert_eq!(streak.succeeded(), None, "no streak, nothing to report");
        assert!(streak.failed(&err("/a.pem")));
        assert_eq!(err("/a.pem").kind(), NativeRootsErrorKind::IncompleteFile);
        for _ in 0..18 {
            streak.polled();
        }
        assert!(!streak.failed(&err("/a.pem")), "the same failure again");
        assert!(streak.failed(&err("/b.pem")), "another failure is news");
        assert_eq!(streak.succeeded(), Some(21));
        assert_eq!(streak.succeeded(), None);
        streak.polled();
        assert!(streak.failed(&err("/a.pem")), "a new streak reports again");
    }
}
