//! **Layer 3, the cache's state machine**: load once, publish atomically, heal a cached failure,
//! count, and the rules it applies (debounce, changes, expiry, failure streaks, waits), plus the
//! process-wide cache. It uses `load/` and `source/`.
//!
//! [`RootsCache`]: the load-once, publish-atomically state machine behind [`native_roots`] and
//! [`RootsCache::global`].
//!
//! Guarantees: at most one load runs per cache at a time (concurrent first callers wait on it);
//! after the first load every read is a lock-free `arc-swap` load plus an `Arc` clone; an outcome
//! is replaced only by a refresh (the caller's, or one a door of a cached failure opens); a load
//! that panics or outlives its deadline becomes a cached error instead of a retry storm or a hang.
//!
//! [`native_roots`]: crate::native_roots

pub(crate) mod changes;
mod check;
pub(crate) mod debounce;
pub(crate) mod expiry;
pub(crate) mod failure_streak;
#[cfg(not(loom))]
pub(crate) mod global;
mod heal;
mod memo;
mod reload;
pub(crate) mod stats;
pub(crate) mod throttle;
mod wait;
pub(crate) mod waiters;

use std::sync::{Arc, PoisonError};
use std::time::{Instant, SystemTime};

use rustls::RootCertStore;

use crate::cache::debounce::Debounce;
use crate::cache::expiry::ExpiryWatch;
use crate::cache::failure_streak::Streak;
use crate::cache::stats::{Counters, RootsStats};
use crate::cache::throttle::Throttle;
use crate::cache::waiters::Notifier;
use crate::load::error::NativeRootsError;
use crate::load::policy::{LoadPolicy, Sleeper};
use crate::load::report::LoadReport;
use crate::load::run;
use crate::source::TrustSource;
use crate::source::platform::PlatformSource;
use crate::sync::{AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering, Slot};

/// A cache of one trust store: loaded on first use, shared as `Arc<RootCertStore>`, replaced only
/// by an explicit [`refresh`](RootsCache::refresh).
///
/// [`native_roots`](crate::native_roots) and [`RootsCache::global`] are one process-wide
/// `RootsCache<PlatformSource>`. Build your own to choose a [`LoadPolicy`], or to read another
/// [`TrustSource`], such as [`PemFiles`](crate::PemFiles) for trust paths from your own
/// configuration (tests inject scripted sources). It is `const`-constructible, so it can live in a
/// `static`:
///
/// ```
/// use std::time::Duration;
/// use native_roots_cache::{LoadPolicy, RootsCache};
///
/// static ROOTS: RootsCache = RootsCache::new()
///     .with_policy(LoadPolicy::DEFAULT.with_deadline(Duration::from_secs(5)));
///
/// if let Ok(store) = ROOTS.native_roots() {
///     println!("{} anchors", store.len());
/// }
/// ```
pub struct RootsCache<S = PlatformSource> {
    source: S,
    sleep: Sleeper,
    policy: LoadPolicy,
    current: Slot<Published>,
    load_lock: Mutex<()>,
    /// A load that missed its deadline and may still be running, so that no second one starts.
    stuck: run::StuckLoader,
    /// Loads, changes and failures, counted (and published through `metrics` with its feature).
    counters: Counters,
    /// A process-unique stamp of `current` (0: nothing published), written after it, that lets
    /// each thread reuse the result it read last without touching `current`.
    epoch: AtomicU64,
    /// The generation of `current`, written after it (under `load_lock`), so that the hot
    /// generation check of derived caches is one atomic load and never runs ahead of the store.
    generation: AtomicU64,
    /// Callers waiting for a publish (blocking or as futures).
    notifier: Notifier,
    /// Whether [`load_async`](Self::load_async) started a loader thread.
    loading_started: AtomicBool,
    /// Whether a watcher (or a caller of `check_for_changes`) follows this cache, so that loads
    /// take the source's signature; off, a load pays nothing for live trust.
    watching: AtomicBool,
    /// Which signature the store in use was read at, and which change waits to hold still.
    debounce: Mutex<Debounce>,
    /// Whether reloads keep failing (the store in use stays good), so that a failure that
    /// repeats is logged once, and once more when it clears.
    streak: Mutex<Streak>,
    /// The anchors' ends of validity and the expiry warnings given.
    expiry: Mutex<ExpiryWatch>,
    /// How a cached failure may heal; held while one caller checks (the others return the
    /// cached error at once).
    healing: Mutex<Healing>,
}

/// What the doors of a cached failure have done so far; held while one caller checks them.
#[derive(Debug)]
struct Healing {
    /// When the failure's files were last compared with what it read (at most once per
    /// [`LOOK_INTERVAL`](crate::load::heal::LOOK_INTERVAL)).
    looks: Throttle,
    /// Timed reads of a failure that met only transient errors, since the last success.
    timed: u32,
}

impl Healing {
    const fn new() -> Self {
        Self {
            looks: Throttle::new(),
            timed: 0,
        }
    }
}

/// The outcome callers see, swapped in as one unit so that a store and its report always agree.
pub(super) struct Published {
    roots: Result<Arc<RootCertStore>, NativeRootsError>,
    report: Arc<LoadReport>,
    /// When it was published.
    at: Instant,
}

/// The constructors, `const` except under loom, whose primitives cannot be built in a constant.
macro_rules! constructors {
    ($($const:tt)?) => {
        impl RootsCache<PlatformSource> {
            /// A cache of the operating system's trust store with the default [`LoadPolicy`].
            pub $($const)? fn new() -> Self {
                Self::with_source(PlatformSource)
            }
        }

        impl<S: TrustSource> RootsCache<S> {
            /// A cache reading `source`, with the default [`LoadPolicy`].
            pub $($const)? fn with_source(source: S) -> Self {
                Self {
                    source,
                    sleep: Sleeper::Thread,
                    policy: LoadPolicy::DEFAULT,
                    current: Slot::const_empty(),
                    load_lock: Mutex::new(()),
                    stuck: Mutex::new(None),
                    counters: Counters::new(),
                    epoch: AtomicU64::new(0),
                    generation: AtomicU64::new(0),
                    notifier: Notifier::new(),
                    loading_started: AtomicBool::new(false),
                    watching: AtomicBool::new(false),
                    debounce: Mutex::new(Debounce::new()),
                    streak: Mutex::new(Streak::new()),
                    expiry: Mutex::new(ExpiryWatch::new()),
                    healing: Mutex::new(Healing::new()),
                }
            }
        }
    };
}

#[cfg(not(loom))]
constructors!(const);
#[cfg(loom)]
constructors!();

impl Default for RootsCache<PlatformSource> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: TrustSource> RootsCache<S> {
    /// The same cache with another policy. Call it before the first load.
    pub const fn with_policy(mut self, policy: LoadPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The same cache waiting with `sleep` between attempts (unit tests record the waits).
    #[cfg(test)]
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn with_sleeper(mut self, sleep: impl Into<Sleeper>) -> Self {
        self.sleep = sleep.into();
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &LoadPolicy {
        &self.policy
    }

    fn lock_debounce(&self) -> MutexGuard<'_, Debounce> {
        self.debounce.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_streak(&self) -> MutexGuard<'_, Streak> {
        self.streak.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many stores have been published: 0 before the first successful load, then advancing
    /// by one each time a load or refresh publishes a different anchor set.
    ///
    /// Caches of derived objects (such as `ClientConfig`s) compare it to know when to rebuild.
    /// Read the generation *before* the store, so that a store is never tagged newer than it is.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The report of the outcome now cached, or `None` before the first load.
    pub fn report(&self) -> Option<Arc<LoadReport>> {
        self.current.load_full().map(|p| Arc::clone(&p.report))
    }

    /// How many times this cache has read its trust source: [`RootsStats::loads`], for the
    /// crate's unit and loom tests.
    #[cfg(test)]
    pub(crate) fn loads(&self) -> u64 {
        self.counters.loads()
    }

    /// What this cache has done and the store in use, counted: loads, changes, failed loads by
    /// reason, when the store in use was published, its anchors, how many have expired and when
    /// the next one does. With the `metrics` feature, each call also sets the gauges of the
    /// facade (the counters move at each event); a [`Watcher`](crate::Watcher) sets them at
    /// each poll.
    ///
    /// Reads atomics, plus, once per published store, the anchors' dates (decoded on this
    /// thread, never on the load's path).
    pub fn stats(&self) -> RootsStats {
        // The generation first, so that the expiry list is never tagged newer than its store.
        let generation = self.generation();
        let mut stats = self.counters.snapshot();
        let Some(published) = self.current.load_full() else {
            return stats;
        };
        if let Ok(roots) = &published.roots {
            stats.anchors = roots.len();
            let mut expiry = self.expiry.lock().unwrap_or_else(PoisonError::into_inner);
            expiry.track(generation, &published.report);
            (stats.expired_anchors, stats.next_expiry) = expiry.census(SystemTime::now());
        }
        stats::set_gauges(&published.report.origin, &stats);
        stats
    }

    fn id(&self) -> usize {
        self as *const Self as usize
    }

    fn reject_reentry(&self) -> Result<(), NativeRootsError> {
        if !run::is_loading(self.id()) {
            return Ok(());
        }
        Err(NativeRootsError::reentrant(&self.source.origin()))
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
