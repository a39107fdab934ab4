//! Runs one load away from the caller: on a worker thread, so that a source that panics becomes an
//! error and a source that never returns meets the policy's deadline instead of blocking every
//! caller. (Under `cfg(loom)` the load runs inline: loom models no timeouts.)

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};

use crate::error::NativeRootsError;
use crate::load::load;
pub(crate) use crate::load::Loaded;
use crate::policy::{LoadPolicy, Sleeper};
use crate::progress::{Progress, Tracking};
use crate::report::LoadReport;
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
) -> Loaded {
    let origin = source.origin();
    {
        let mut stuck = stuck.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(progress) = stuck.as_ref() {
            if !progress.finished() {
                let err = NativeRootsError::loader_stuck(&origin, progress.path().as_deref());
                return failed(err, origin, 0);
            }
            *stuck = None;
        }
    }
    let attempts = Arc::new(AtomicU32::new(0));
    let progress = Arc::new(Progress::default());
    let job = {
        let (source, sleep, policy) = (source.clone(), sleep.clone(), *policy);
        let (origin, attempts) = (origin.clone(), Arc::clone(&attempts));
        let progress = Arc::clone(&progress);
        move || {
            let _mark = LoadingMark::set(cache_id);
            let _tracking = Tracking::start(progress);
            catch_unwind(AssertUnwindSafe(|| {
                // Taken before the read: a change during the read then shows as a change.
                let before = with_signature.then(|| source.signature()).flatten();
                let mut loaded = load(&source, &sleep, &policy, origin, &attempts);
                // The source's own signature of what it read, when it gives one, is exact.
                loaded.signature = loaded.signature.or(before);
                loaded
            }))
            .map_err(|payload| panic_message(payload.as_ref()))
        }
    };
    let finished = wait(job, policy);
    let attempts = attempts.load(Ordering::Acquire);
    match finished {
        Finished::Done(done) => match *done {
            Ok(loaded) => loaded,
            Err(panic) => failed(
                NativeRootsError::panicked(&origin, attempts, &panic),
                origin,
                attempts,
            ),
        },
        Finished::Deadline => {
            let err = NativeRootsError::deadline(
                &origin,
                attempts,
                policy.deadline(),
                progress.path().as_deref(),
            );
            *stuck.lock().unwrap_or_else(PoisonError::into_inner) = Some(progress);
            failed(err, origin, attempts)
        }
        Finished::NotStarted(why) => {
            failed(NativeRootsError::not_started(&origin, &why), origin, 0)
        }
    }
}

type Outcome = Result<Loaded, String>;

// Under loom the load runs inline, so it never misses a deadline or fails to start.
#[cfg_attr(loom, allow(dead_code))]
enum Finished {
    Done(Box<Outcome>),
    Deadline,
    NotStarted(String),
}

#[cfg(not(loom))]
fn wait(job: impl FnOnce() -> Outcome + Send + 'static, policy: &LoadPolicy) -> Finished {
    use std::sync::mpsc;
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("native-roots-load".into())
        // The receiver is gone only if the caller gave up at the deadline.
        .spawn(move || drop(tx.send(job())));
    if let Err(err) = spawned {
        return Finished::NotStarted(err.to_string());
    }
    // A worker past its deadline is left to finish on its own; its result is dropped.
    match rx.recv_timeout(policy.deadline()) {
        Ok(outcome) => Finished::Done(Box::new(outcome)),
        Err(mpsc::RecvTimeoutError::Timeout) => Finished::Deadline,
        Err(mpsc::RecvTimeoutError::Disconnected) => Finished::Done(Box::new(Err(
            "the loader thread ended without a result".to_owned(),
        ))),
    }
}

#[cfg(loom)]
fn wait(job: impl FnOnce() -> Outcome + Send + 'static, _policy: &LoadPolicy) -> Finished {
    Finished::Done(Box::new(job()))
}

fn failed(err: NativeRootsError, origin: TrustOrigin, attempts: u32) -> Loaded {
    log::error!("trust store load failed: {}", err.explained());
    let mut report = LoadReport::empty(origin);
    report.attempts = attempts;
    Loaded {
        roots: Err(err),
        report,
        signature: None,
        incomplete: Vec::new(),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
