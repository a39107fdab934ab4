//! How a load is retried, bounded and judged: [`LoadPolicy`], and how the cache waits between
//! attempts.

use std::time::Duration;

/// How a trust-store load retries transient errors, how long it may take, and how strict it is.
///
/// The defaults ([`LoadPolicy::DEFAULT`]): 3 attempts, backoff 50 ms then 100 ms, each lengthened
/// by a random 0–25 % so that processes started together do not retry in lockstep, a 30 s
/// deadline for the whole load, strict mode off, anchors that say they are not a CA kept (and
/// reported). The happy path never sleeps: backoff only follows
/// an attempt that met a transient error.
///
/// ```
/// use std::time::Duration;
/// use native_roots_cache::LoadPolicy;
///
/// const POLICY: LoadPolicy = LoadPolicy::DEFAULT
///     .with_max_attempts(5)
///     .with_deadline(Duration::from_secs(5))
///     .with_strict(true);
/// assert_eq!(POLICY.max_attempts(), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    jitter_percent: u32,
    deadline: Duration,
    reload_wait: Duration,
    strict: bool,
    drop_non_ca_anchors: bool,
    expiry_warning: Duration,
}

impl LoadPolicy {
    /// 3 attempts, 50 ms then 100 ms backoff with up to 25 % jitter, 30 s deadline, not strict,
    /// expiry warnings 30 days ahead.
    pub const DEFAULT: Self = Self {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(2),
        jitter_percent: 25,
        deadline: Duration::from_secs(30),
        reload_wait: Duration::from_secs(2),
        strict: false,
        drop_non_ca_anchors: false,
        expiry_warning: Duration::from_secs(30 * 24 * 60 * 60),
    };

    /// Total attempts, the first included; `0` is treated as `1`.
    pub const fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = if attempts == 0 { 1 } else { attempts };
        self
    }

    /// The backoff after the first failed attempt; each further one doubles, up to `max`.
    pub const fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Lengthen each backoff by a random amount between 0 and `percent` % (capped at 100).
    pub const fn with_jitter_percent(mut self, percent: u32) -> Self {
        self.jitter_percent = if percent > 100 { 100 } else { percent };
        self
    }

    /// How long one whole load (all attempts and backoffs) may take before callers get a
    /// [`Deadline`](crate::NativeRootsErrorKind::Deadline) error instead of waiting.
    pub const fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How long a reload with a good store in use (a refresh, a watcher's poll) waits for files
    /// being written to settle before it answers with an error naming the file and keeps the
    /// store in use (2 s by default, the writer window: a file emptied or cut short that long ago
    /// is taken for an operator's mistake, not a writer at work). The next reload tries again.
    ///
    /// A first load, with nothing to serve meanwhile, waits for them up to the
    /// [deadline](Self::with_deadline) instead. Lengthen it for writers slower than 2 s between
    /// their writes (a large bundle on a network file system).
    pub const fn with_reload_wait(mut self, wait: Duration) -> Self {
        self.reload_wait = wait;
        self
    }

    /// How long a reload with a good store in use waits for files being written.
    pub(crate) const fn reload_wait(&self) -> Duration {
        self.reload_wait
    }

    /// How long before an anchor's end of validity [`check_for_changes`] (each poll of a
    /// watcher) warns that it is about to expire (30 days by default); it warns again once it
    /// has. Each anchor is warned about once per stage, in one `warn` line per look.
    ///
    /// [`check_for_changes`]: crate::RootsCache::check_for_changes
    pub const fn with_expiry_warning(mut self, ahead: Duration) -> Self {
        self.expiry_warning = ahead;
        self
    }

    /// How long before an anchor expires the warning comes.
    pub const fn expiry_warning(&self) -> Duration {
        self.expiry_warning
    }

    /// In strict mode any per-source error or unparsable certificate fails the load.
    pub const fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Drop anchors whose certificate says it is not a CA (basicConstraints CA:FALSE) instead of
    /// only listing them in [`LoadReport::non_ca_anchors`](crate::LoadReport::non_ca_anchors).
    ///
    /// Off by default, as in rustls-native-certs and OpenSSL, which trust such certificates.
    pub const fn with_drop_non_ca_anchors(mut self, drop: bool) -> Self {
        self.drop_non_ca_anchors = drop;
        self
    }

    /// Whether anchors that say they are not a CA are dropped.
    pub const fn drop_non_ca_anchors(&self) -> bool {
        self.drop_non_ca_anchors
    }

    /// Total attempts, the first included.
    pub const fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The deadline of one whole load.
    pub const fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether strict mode is on.
    pub const fn strict(&self) -> bool {
        self.strict
    }

    /// The backoff before attempt `failed + 1`, without jitter: `initial * 2^(failed - 1)`,
    /// capped at the maximum.
    pub(crate) fn base_backoff(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// The backoff before attempt `failed + 1`, with jitter drawn from `random` (any `u64`).
    pub(crate) fn backoff(&self, failed: u32, random: u64) -> Duration {
        let base = self.base_backoff(failed);
        if self.jitter_percent == 0 {
            return base;
        }
        let max_extra_nanos = base.as_nanos() * u128::from(self.jitter_percent) / 100;
        let extra = u128::from(random) % (max_extra_nanos + 1);
        base + Duration::from_nanos(u64::try_from(extra).unwrap_or(u64::MAX))
    }
}

impl Default for LoadPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How the cache waits between attempts: the thread's own sleep or, in this crate's unit tests, a
/// recorder that returns at once (integration tests use a zero backoff, or a long one and a short
/// deadline, through the public [`LoadPolicy`]).
#[derive(Clone, Debug, Default)]
pub(crate) enum Sleeper {
    #[default]
    Thread,
    #[cfg(test)]
    #[cfg_attr(loom, allow(dead_code))]
    Recorded(std::sync::Arc<std::sync::Mutex<Vec<Duration>>>),
}

impl Sleeper {
    pub(crate) fn sleep(&self, duration: Duration) {
        match self {
            Self::Thread => std::thread::sleep(duration),
            #[cfg(test)]
            Self::Recorded(waits) => waits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(duration),
        }
    }
}

/// A random `u64` for jitter, different in every process and every call, from std's
/// randomly keyed hasher (no extra dependency for a few bits of noise).
pub(crate) fn jitter_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_backoff_is_50_then_100_ms() {
        let p = LoadPolicy::DEFAULT.with_jitter_percent(0);
        assert_eq!(p.backoff(1, 12345), Duration::from_millis(50));
        assert_eq!(p.backoff(2, 12345), Duration::from_millis(100));
    }

    #[test]
    fn jitter_stays_within_bound_and_varies() {
        let p = LoadPolicy::DEFAULT;
        let mut seen = std::collections::HashSet::new();
        for i in 0..200u64 {
            let d = p.backoff(1, jitter_seed().wrapping_add(i));
            assert!(
                d >= Duration::from_millis(50) && d <= Duration::from_micros(62_500),
                "{d:?}"
            );
            seen.insert(d);
        }
        // Two processes starting together must not back off in lockstep.
        assert!(seen.len() > 1);
    }

    #[test]
    fn backoff_is_capped_and_zero_attempts_means_one() {
        let p = LoadPolicy::DEFAULT
            .with_jitter_percent(0)
            .with_backoff(Duration::from_secs(1), Duration::from_secs(3));
        assert_eq!(p.backoff(10, 0), Duration::from_secs(3));
        assert_eq!(LoadPolicy::DEFAULT.with_max_attempts(0).max_attempts(), 1);
    }
}
