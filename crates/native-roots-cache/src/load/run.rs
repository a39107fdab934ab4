//! Runs one load away from the caller: on a worker thread, so that a source that panics becomes an
//! error and a source that never returns meets the policy's deadline instead of blocking every
//! caller. (Under `cfg(loom)` the load runs inline: loom models no timeouts.)

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

pub(crate) use crate::load::Loaded;
use crate::load::bounded_job::{self, Unread};
use crate::load::error::NativeRootsError;
use crate::load::load;
use crate::load::policy::{LoadPolicy, Sleeper};
use crate::load::report::LoadReport;
use crate::source::read_progress::Progress;
use crate::source::{TrustOrigin, TrustSource};
use crate::sync::Mutex;

#[cfg(not(loom))]
std::thread_local! {
    /// The cache whose source this thread is running (0: none).
    static LOADING: Cell<usize> = const { Cell::new(0) };
}

#[cfg(loom)]
loom::thread_local! {
    static LOADING: Cell<usize> = Cell::new(0);
}

/// Whether the current thread is running the source of cache `cache_id`: a call back into that
/// cache would wait for itself.
pub(crate) fn is_loading(cache_id: usize) -> bool {
    LOADING.try_with(Cell::get).is_ok_and(|id| id == cache_id)
}

/// Marks the current thread as loading `cache_id` until dropped.
struct LoadingMark;

impl LoadingMark {
    fn set(cache_id: usize) -> Self {
        let _ = LOADING.try_with(|loading| loading.set(cache_id));
        Self
    }
}

impl Drop for LoadingMark {
    fn drop(&mut self) {
        let _ = LOADING.try_with(|loading| loading.set(0));
    }
}

/// The progress of a load that missed its deadline and may still be running: at most one per
/// cache.
pub(crate) type StuckLoader = Mutex<Option<Arc<Progress>>>;

/// Run one load and turn a panic, a deadline or a failure to start into a [`Loaded`] error.
///
/// While a previous load of the same cache is still stuck past its deadline (`stuck`), no second
/// loader is started: the call returns at once with an error naming where the first one is stuck.
pub(crate) fn run<S: TrustSource>(
    source: &S,
    sleep: &Sleeper,
    policy: &LoadPolicy,
    cache_id: usize,
    stuck: &StuckLoader,
    with_signature: bool,
    settle_for: Duration,
) -> Loaded {
    let origin = source.origin();
    let attempts = Arc::new(AtomicU32::new(0));
    let job = {
        let (source, sleep, policy) = (source.clone(), sleep.clone(), *policy);
        let (origin, attempts) = (origin.clone(), Arc::clone(&attempts));
        move || {
            let _mark = LoadingMark::set(cache_id);
            // Taken before the read: a change during the read then shows as a change.
            let before = with_signature.then(|| source.signature()).flatten();
            let mut loaded = load(&source, &sleep, &policy, origin, &attempts, settle_for);
            // The source's own signature of what it read, when it gives one, is exact.
            loaded.signature = loaded.signature.or(before);
            loaded
        }
    };
    // Loads are serialised by the cache's load lock, so holding this one across the load costs
    // no caller anything.
    let mut stuck = stuck.lock().unwrap_or_else(PoisonError::into_inner);
    let finished = bounded_job::run(&mut stuck, "native-roots-load", policy.deadline(), job);
    let attempts = attempts.load(Ordering::Acquire);
    let err = match finished {
        Ok(loaded) => return loaded,
        Err(Unread::StillRunning { stuck_in }) => {
            return failed(
                NativeRootsError::loader_stuck(&origin, stuck_in.as_deref()),
                origin,
                0,
            );
        }
        Err(Unread::Deadline { stuck_in }) => {
            NativeRootsError::deadline(&origin, attempts, policy.deadline(), stuck_in.as_deref())
        }
        Err(Unread::NotStarted(why)) => NativeRootsError::not_started(&origin, &why),
        Err(Unread::Panicked(panic)) => NativeRootsError::panicked(&origin, attempts, &panic),
    };
    failed(err, origin, attempts)
}

fn failed(err: NativeRootsError, origin: TrustOrigin, attempts: u32) -> Loaded {
    let mut report = LoadReport::empty(origin);
    report.attempts = attempts;
    Loaded {
        roots: Err(err),
        report,
        signature: None,
        incomplete: Vec::new(),
    }
}
