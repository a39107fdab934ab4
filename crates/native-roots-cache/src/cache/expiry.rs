//! Expiry warnings for the anchors in use: at each look (each [`RootsCache::check_for_changes`],
//! so each poll of a watcher), the anchors that entered the warning window since the last look are
//! logged at `warn` in one line, and so are those that expired; each anchor once per stage, for
//! as long as it stays in the store. The dates are decoded on the looking thread, once per
//! published store, never on the load's path.
//!
//! [`RootsCache::check_for_changes`]: crate::RootsCache::check_for_changes

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::load::report::LoadReport;
use crate::source::TrustOrigin;

/// The stages of an end of validity, in order: a warning is given once per stage entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    None,
    Window,
    Expired,
}

impl Stage {
    /// The stage of a value ending at `not_after`, at `now`, warned of `window` ahead.
    fn at(not_after: SystemTime, now: SystemTime, window: Duration) -> Self {
        if not_after <= now {
            Self::Expired
        } else if not_after <= now + window {
            Self::Window
        } else {
            Self::None
        }
    }
}

/// The warnings given for the end of validity of one value in use (a client identity): once when
/// it enters the warning window, once more when it passes; afresh for a value with another end.
/// The trust store's anchors keep the same stages, one per anchor ([`ExpiryWatch`]).
#[derive(Debug)]
pub(crate) struct ExpiryWarnings {
    not_after: Option<SystemTime>,
    warned: Stage,
}

impl ExpiryWarnings {
    pub(crate) const fn new() -> Self {
        Self {
            not_after: None,
            warned: Stage::None,
        }
    }

    /// Whether a value ending at `not_after`, looked at `now`, is due a warning `window` ahead:
    /// `Some` of the time left when it entered the window since the last look, `Some(ZERO)` when
    /// it expired since; `None` when that warning was given already, or none is due.
    pub(crate) fn due(
        &mut self,
        not_after: SystemTime,
        now: SystemTime,
        window: Duration,
    ) -> Option<Duration> {
        if self.not_after != Some(not_after) {
            self.not_after = Some(not_after);
            self.warned = Stage::None;
        }
        let stage = Stage::at(not_after, now, window);
        if stage <= self.warned {
            return None;
        }
        self.warned = stage;
        Some(not_after.duration_since(now).unwrap_or(Duration::ZERO))
    }
}

#[derive(Debug)]
struct Anchor {
    sha256: String,
    name: String,
    not_after: SystemTime,
    warned: Stage,
}

/// The anchors of the published store with their ends of validity, and the warnings given.
#[derive(Debug)]
pub(crate) struct ExpiryWatch {
    /// The generation the list was made for; `None` before the first look.
    generation: Option<u64>,
    anchors: Vec<Anchor>,
}

/// What one look found newly in the window, and newly expired, as `name (not after)` lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Entered {
    pub(crate) window: Vec<String>,
    pub(crate) expired: Vec<String>,
}

impl Entered {
    /// One `warn` line for the anchors from `origin` that expired, one for those that entered
    /// the `window`; nothing when there are none.
    pub(crate) fn log(&self, origin: &TrustOrigin, window: Duration) {
        let days = window.as_secs() / 86_400;
        let anchors = |n: usize| match n {
            1 => "1 anchor".to_owned(),
            n => format!("{n} anchors"),
        };
        if !self.expired.is_empty() {
            log::warn!(
                "trust store: {} in use from {origin} expired: {}; servers that chain only to it \
                 fail verification (remove or renew it)",
                anchors(self.expired.len()),
                self.expired.join(", ")
            );
        }
        if !self.window.is_empty() {
            log::warn!(
                "trust store: {} in use from {origin} expire within {days} days: {}",
                anchors(self.window.len()),
                self.window.join(", ")
            );
        }
    }
}

impl ExpiryWatch {
    pub(crate) const fn new() -> Self {
        Self {
            generation: None,
            anchors: Vec::new(),
        }
    }

    /// Follow the store of `generation` (its `report`), keeping the warnings already given for
    /// the anchors it still holds.
    pub(crate) fn track(&mut self, generation: u64, report: &LoadReport) {
        if self.generation == Some(generation) {
            return;
        }
        let warned: HashMap<String, Stage> = self
            .anchors
            .drain(..)
            .map(|anchor| (anchor.sha256, anchor.warned))
            .collect();
        self.anchors = report
            .anchor_certificates
            .iter()
            .filter_map(|certificate| {
                let not_after = certificate.not_after()?;
                let sha256 = certificate.sha256_hex();
                Some(Anchor {
                    warned: warned.get(&sha256).copied().unwrap_or(Stage::None),
                    name: certificate
                        .subject()
                        .unwrap_or_else(|| format!("sha256 {sha256}")),
                    sha256,
                    not_after,
                })
            })
            .collect();
        self.anchors.sort_by_key(|anchor| anchor.not_after);
        self.generation = Some(generation);
    }

    /// How many anchors have expired at `now`, and the earliest end of validity among the others.
    pub(crate) fn census(&self, now: SystemTime) -> (usize, Option<SystemTime>) {
        let expired = self
            .anchors
            .partition_point(|anchor| anchor.not_after <= now);
        (
            expired,
            self.anchors.get(expired).map(|anchor| anchor.not_after),
        )
    }

    /// The anchors that entered `window` before their end, or expired, at `now` since the last
    /// look.
    pub(crate) fn look(&mut self, now: SystemTime, window: Duration) -> Entered {
        let mut entered = Entered::default();
        let horizon = now + window;
        for anchor in &mut self.anchors {
            if anchor.not_after > horizon {
                break; // sorted: every later one ends later still
            }
            let stage = Stage::at(anchor.not_after, now, window);
            if stage > anchor.warned {
                anchor.warned = stage;
                let line = format!(
                    "{} (not after {})",
                    anchor.name,
                    der::DateTime::from_system_time(anchor.not_after).map_or_else(
                        |_| "a date out of range".to_owned(),
                        |date| date.to_string()
                    )
                );
                match stage {
                    Stage::Expired => entered.expired.push(line),
                    _ => entered.window.push(line),
                }
            }
        }
        entered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_warned_of_once_per_stage_and_afresh_for_another_end() {
        let day = Duration::from_secs(86_400);
        let now = SystemTime::UNIX_EPOCH + 1000 * day;
        let mut warnings = ExpiryWarnings::new();
        assert_eq!(warnings.due(now + 10 * day, now, 7 * day), None);
        assert_eq!(warnings.due(now + 5 * day, now, 7 * day), Some(5 * day));
        assert_eq!(warnings.due(now + 5 * day, now + day, 7 * day), None);
        assert_eq!(
            warnings.due(now + 5 * day, now + 6 * day, 7 * day),
            Some(Duration::ZERO)
        );
        assert_eq!(warnings.due(now + 5 * day, now + 7 * day, 7 * day), None);
        // A renewed value starts afresh.
        assert_eq!(
            warnings.due(now + 9 * day, now + 7 * day, 7 * day),
            Some(2 * day)
        );
    }
}
