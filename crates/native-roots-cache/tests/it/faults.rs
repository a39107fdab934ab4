//! Faulty trust sources through the public API: fresh `RootsCache` instances with a scripted
//! source, no backoff (a zero one; the unit tests record backoffs) and, where a source hangs, a
//! 50 ms deadline.
//!
//! `src/cache/tests.rs` unit-tests each row of the decision table once; this file adds what only
//! shows at the public surface: the retry count as a table of k transient failures, panics
//! without a message or in a later attempt or a refresh, many callers waiting on one hung load,
//! a hung refresh or backoff, and every way a source can call back into its own cache.

use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::common::{self, Fake};
use native_roots_cache::{
    LoadPolicy, NativeRootsError, NativeRootsErrorKind, RootsCache, SourceError, SourceOutput,
};
use rustls::pki_types::CertificateDer;

/// The deadline of every cache whose source may hang.
const DEADLINE: Duration = Duration::from_millis(50);
/// How long a test waits for a value that must come (a bound against a hang, not a timing).
const PATIENCE: Duration = Duration::from_secs(20);

fn roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        (0..3)
            .map(|i| common::Ca::new(&format!("fault CA {i}")).cert.der().clone())
            .collect()
    })
}

fn good() -> SourceOutput {
    SourceOutput::new(roots()[..2].to_vec(), vec![])
}

fn transient() -> SourceOutput {
    SourceOutput::new(
        roots()[..1].to_vec(),
        vec![SourceError::transient(
            "failed to load admin trust settings",
            "errSecIO (-36): the keychain was busy",
        )],
    )
}

type Scripted = Fake;
type Cache = RootsCache<Fake>;

/// No backoff: the retries run back to back.
const NO_BACKOFF: LoadPolicy = LoadPolicy::DEFAULT.with_backoff(Duration::ZERO, Duration::ZERO);

/// A cache for `source` with the default policy but no backoff.
fn cache(source: &Scripted) -> Cache {
    RootsCache::with_source(source.clone()).with_policy(NO_BACKOFF)
}

/// A latch a hung source waits on; the test opens it at the end so the worker thread finishes.
#[derive(Clone)]
struct Latch(Arc<Mutex<mpsc::Receiver<()>>>);

impl Latch {
    fn new() -> (mpsc::Sender<()>, Self) {
        let (open, wait) = mpsc::channel();
        (open, Self(Arc::new(Mutex::new(wait))))
    }

    /// Block until the test opens the latch (or drops its end).
    fn wait(&self) {
        let _ = self.0.lock().unwrap().recv();
    }
}

// ---------------------------------------------------------------------------------------------
// Transient and permanent errors.

/// k transient failures with the default 3 attempts: success on attempt k + 1 while attempts
/// remain (one backoff per failure), then a sticky `TransientExhausted` after 3 calls and 2
/// backoffs, however many more failures the source had in store.
#[test]
fn k_transient_failures() {
    for k in [0, 1, 2, 3, 5] {
        let source = Scripted::new(move |n| if n <= k { transient() } else { good() });
        let cache = cache(&source);
        let result = cache.native_roots();
        let report = cache.report().unwrap();
        if k < 3 {
            assert_eq!(result.unwrap().len(), 2, "k = {k}");
            assert_eq!((report.attempts, source.calls()), (k + 1, k + 1), "k = {k}");
            assert!(
                report.errors.is_empty(),
                "the report is the last attempt's, k = {k}"
            );
        } else {
            let err = result.unwrap_err();
            assert_eq!(
                err.kind(),
                NativeRootsErrorKind::TransientExhausted,
                "k = {k}"
            );
            assert_eq!((err.attempts(), source.calls()), (3, 3), "k = {k}");
            assert!(common::error_chain(&err).contains("errSecIO"), "{err:?}");
            assert_eq!(cache.native_roots().unwrap_err(), err, "sticky, k = {k}");
            assert_eq!(
                source.calls(),
                3,
                "no retry storm after the verdict, k = {k}"
            );
        }
    }
}

/// A permanent error is never retried: next to anchors it is recorded, alone it is `NoAnchors`.
#[test]
fn permanent_errors_are_recorded_or_fatal_but_never_retried() {
    let missing = || {
        SourceError::permanent("failed to read PEM from file", "No such file or directory")
            .with_path("/nowhere/ca.pem")
    };
    let with_anchors =
        Scripted::new(move |_| SourceOutput::new(roots()[..1].to_vec(), vec![missing()]));
    let cache_a = cache(&with_anchors);
    assert_eq!(cache_a.native_roots().unwrap().len(), 1);
    let report = cache_a.report().unwrap();
    assert_eq!(report.errors, vec![missing()]);
    assert_eq!((with_anchors.calls(), report.attempts), (1, 1));

    let alone = Scripted::new(move |_| {
        SourceOutput::new(Vec::<CertificateDer<'static>>::new(), vec![missing()])
    });
    let cache_b = cache(&alone);
    let err = cache_b.native_roots().unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts()),
        (NativeRootsErrorKind::NoAnchors, 1)
    );
    let cause = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<SourceError>());
    assert_eq!(cause, Some(&missing()), "the recorded error is the cause");
    assert_eq!(alone.calls(), 1);
}

// ---------------------------------------------------------------------------------------------
// Panics.

/// A panic whose payload is not a string still becomes a sticky `Panicked` error.
#[test]
fn a_panic_without_a_message_is_a_sticky_error() {
    let source = Scripted::new(|_| std::panic::panic_any(42_u32));
    let cache = cache(&source);
    let err = cache.native_roots().unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts()),
        (NativeRootsErrorKind::Panicked, 1)
    );
    assert!(err.to_string().contains("panicked"), "{err}");
    assert_eq!(cache.native_roots().unwrap_err(), err);
    assert_eq!(source.calls(), 1, "never re-run after a panic");
}

/// A panic after a transient failure names the attempt it happened in.
#[test]
fn a_panic_in_a_retry_names_its_attempt() {
    let source = Scripted::new(|n| {
        if n == 1 {
            transient()
        } else {
            panic!("keychain gone")
        }
    });
    let cache = cache(&source);
    let err = cache.native_roots().unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts()),
        (NativeRootsErrorKind::Panicked, 2)
    );
    assert!(err.to_string().contains("in attempt 2"), "{err}");
    assert!(
        common::error_chain(&err).contains("keychain gone"),
        "{err:?}"
    );
    assert_eq!(source.calls(), 2);
}

/// A panicking refresh returns its error and leaves the store in use untouched.
#[test]
fn a_panicking_refresh_keeps_the_store() {
    let source = Scripted::new(|n| {
        if n == 1 {
            good()
        } else {
            panic!("refresh exploded")
        }
    });
    let cache = cache(&source);
    let store = cache.native_roots().unwrap();
    let err = cache.refresh().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Panicked);
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &store));
    assert_eq!(cache.generation(), 1);
}

// ---------------------------------------------------------------------------------------------
// Sources and backoffs that never return.

/// Many first callers waiting on one hung load all get the same `Deadline` error; the source was
/// started once and is not started again.
#[test]
fn every_caller_of_a_hung_load_gets_the_deadline() {
    const CALLERS: usize = 8;
    let (open, latch) = Latch::new();
    let source = Scripted::new(move |_| {
        latch.wait();
        good()
    });
    let cache: &'static Cache = Box::leak(Box::new(
        RootsCache::with_source(source.clone())
            .with_policy(LoadPolicy::DEFAULT.with_deadline(DEADLINE)),
    ));
    let start = Arc::new(Barrier::new(CALLERS));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                cache.native_roots().unwrap_err()
            })
        })
        .collect();
    let errors: Vec<NativeRootsError> = callers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(errors[0].kind(), NativeRootsErrorKind::Deadline);
    assert_eq!(errors[0].attempts(), 1);
    assert!(errors[0].to_string().contains("50ms"), "{}", errors[0]);
    assert!(
        errors[0]
            .to_string()
            .contains("(stuck inside the source, before it opened any file, in attempt 1)"),
        "{}",
        errors[0]
    );
    assert!(!errors[0].to_string().contains("FIFO"), "{}", errors[0]);
    assert!(
        errors.iter().all(|e| *e == errors[0]),
        "one verdict: {errors:?}"
    );
    assert_eq!(source.calls(), 1);
    open.send(()).unwrap();
    assert_eq!(
        cache.native_roots().unwrap_err(),
        errors[0],
        "sticky after the source ends"
    );
    assert_eq!(source.calls(), 1);
}

/// A refresh whose source hangs returns `Deadline` and keeps the store in use.
#[test]
fn a_hung_refresh_keeps_the_store() {
    let (open, latch) = Latch::new();
    let source = Scripted::new(move |n| {
        if n > 1 {
            latch.wait();
        }
        good()
    });
    let cache = RootsCache::with_source(source.clone())
        .with_policy(LoadPolicy::DEFAULT.with_deadline(DEADLINE));
    let store = cache.native_roots().unwrap();
    let err = cache.refresh().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Deadline);
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &store));
    assert_eq!(cache.generation(), 1);
    open.send(()).unwrap();
}

/// A cache never has more than one stuck loader: while the first is stuck past its deadline, a
/// refresh returns at once with an error that says so, without calling the source again; once
/// the stuck load ends, refreshes read the source again.
#[test]
fn a_stuck_loader_is_never_joined_by_a_second() {
    let (open, latch) = Latch::new();
    let (returned_tx, returned) = mpsc::channel();
    let source = Scripted::new(move |n| {
        if n == 1 {
            latch.wait();
            returned_tx.send(()).unwrap();
        }
        good()
    });
    let cache = RootsCache::with_source(source.clone())
        .with_policy(LoadPolicy::DEFAULT.with_deadline(DEADLINE));
    assert_eq!(
        cache.native_roots().unwrap_err().kind(),
        NativeRootsErrorKind::Deadline
    );
    for _ in 0..5 {
        let err = cache.refresh().unwrap_err();
        assert_eq!(err.kind(), NativeRootsErrorKind::LoaderStuck);
        assert!(
            err.to_string().contains("still stuck inside the source"),
            "{err}"
        );
    }
    // Five refreshes, no second loader: the source was entered once.
    assert_eq!(source.calls(), 1);
    open.send(()).unwrap();
    returned.recv().unwrap();
    // The stuck loader's thread marks itself finished as it ends, right after the source returns.
    let refreshed = loop {
        match cache.refresh() {
            Err(err) if err.kind() == NativeRootsErrorKind::LoaderStuck => thread::yield_now(),
            other => break other,
        }
    };
    assert_eq!(refreshed.unwrap().roots.len(), 2);
    assert_eq!(source.calls(), 2);
}

/// A backoff that would carry the load past its deadline is not taken: the load is judged as it
/// stands (its transient error, after one attempt), at once, and no loader of ours is left
/// asleep past the deadline to block the next load, which runs at once. (It used to sleep into
/// the deadline and leave every later call `LoaderStuck` until the hour had passed.)
#[test]
fn a_backoff_longer_than_the_deadline_is_not_taken() {
    let hour = Duration::from_secs(3600);
    let source = Scripted::new(|_| transient());
    let cache = RootsCache::with_source(source.clone()).with_policy(
        LoadPolicy::DEFAULT
            .with_backoff(hour, hour)
            .with_jitter_percent(0)
            .with_deadline(DEADLINE),
    );
    let err = cache.native_roots().unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts()),
        (NativeRootsErrorKind::TransientExhausted, 1)
    );
    assert_eq!(source.calls(), 1);
    let again = cache.refresh().unwrap_err();
    assert_eq!(again.kind(), NativeRootsErrorKind::TransientExhausted);
    assert_eq!(source.calls(), 2, "the second load ran: nothing was stuck");
}

// ---------------------------------------------------------------------------------------------
// Re-entry.

/// What a source saw when it called back into its own cache.
type Seen = Arc<Mutex<Vec<(&'static str, Result<usize, NativeRootsErrorKind>)>>>;

fn kind_or_len<T>(
    result: Result<T, NativeRootsError>,
    len: impl Fn(T) -> usize,
) -> Result<usize, NativeRootsErrorKind> {
    result.map(len).map_err(|e| e.kind())
}

/// A source that calls its own cache through every door during the first load gets `Reentrant`
/// from each (never a deadlock), and the load itself succeeds. During a refresh, a read returns
/// the store already published (reads take no lock), and a nested refresh is `Reentrant`.
#[test]
fn a_source_calling_its_own_cache_gets_errors_not_a_deadlock() {
    let cell: Arc<OnceLock<&'static Cache>> = Arc::new(OnceLock::new());
    let seen: Seen = Arc::default();
    let source = {
        let (cell, seen) = (Arc::clone(&cell), Arc::clone(&seen));
        Scripted::new(move |_| {
            let cache = cell.get().unwrap();
            let mut seen = seen.lock().unwrap();
            seen.push((
                "native_roots",
                kind_or_len(cache.native_roots(), |r| r.len()),
            ));
            seen.push((
                "borrow_roots",
                cache.borrow_roots(|r| r.map(|r| r.len()).map_err(NativeRootsError::kind)),
            ));
            seen.push(("refresh", kind_or_len(cache.refresh(), |r| r.roots.len())));
            good()
        })
    };
    let cache: &'static Cache = Box::leak(Box::new(RootsCache::with_source(source)));
    cell.set(cache).ok().unwrap();

    assert_eq!(cache.native_roots().unwrap().len(), 2);
    let reentrant = Err(NativeRootsErrorKind::Reentrant);
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        vec![
            ("native_roots", reentrant),
            ("borrow_roots", reentrant),
            ("refresh", reentrant),
        ]
    );

    let refresh = cache.refresh().unwrap();
    assert!(!refresh.changed);
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        vec![
            ("native_roots", Ok(2)),
            ("borrow_roots", Ok(2)),
            ("refresh", reentrant),
        ]
    );
}

/// A source that asks its own cache from *another* thread cannot be recognised as re-entry; the
/// load's deadline bounds it: the caller gets `Deadline`, and the helper thread, let in once the
/// verdict is published, gets the same cached error. Nobody waits forever.
#[test]
fn re_entry_from_a_helper_thread_is_bounded_by_the_deadline() {
    let cell: Arc<OnceLock<&'static Cache>> = Arc::new(OnceLock::new());
    let (tell, told) = mpsc::channel();
    let source = {
        let cell = Arc::clone(&cell);
        let tell = Mutex::new(tell);
        Scripted::new(move |_| {
            let cache: &'static Cache = cell.get().copied().unwrap();
            let helper = thread::spawn(move || cache.native_roots());
            let inner = helper.join().unwrap();
            tell.lock().unwrap().send(inner).unwrap();
            good()
        })
    };
    let cache: &'static Cache = Box::leak(Box::new(
        RootsCache::with_source(source).with_policy(LoadPolicy::DEFAULT.with_deadline(DEADLINE)),
    ));
    cell.set(cache).ok().unwrap();

    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Deadline);
    let inner = told
        .recv_timeout(PATIENCE)
        .expect("the helper thread got an answer");
    assert_eq!(inner.unwrap_err(), err);
}

/// A source that reads *another* cache is not re-entry: it gets that cache's store.
#[test]
fn a_source_reading_another_cache_is_not_re_entry() {
    let base = Scripted::new(|_| good());
    let inner = cache(&base);
    let inner: &'static Cache = Box::leak(Box::new(inner));
    let outer_source = Scripted::new(move |_| {
        let mut certs = roots()[2..].to_vec();
        certs.extend(inner.native_roots().map(|_| roots()[..2].to_vec()).unwrap());
        SourceOutput::new(certs, vec![])
    });
    let outer = cache(&outer_source);
    assert_eq!(outer.native_roots().unwrap().len(), 3);
    assert_eq!(base.calls(), 1);
}

/// A failure that met only transient errors has a cause that passes (keychain contention,
/// descriptors or memory exhausted): it is sticky for a while (no retry storm), then a call reads
/// the store again, 2 s after the failure, and heals. A failure with a permanent cause is not
/// read again on a timer.
#[test]
fn a_transient_failure_is_read_again_after_a_while() {
    // Three transient attempts, then the keychain is free again.
    let source = Fake::new(|n| if n <= 3 { transient() } else { good() });
    let cache = cache(&source);
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::TransientExhausted);
    for _ in 0..1000 {
        assert_eq!(cache.native_roots().unwrap_err(), err);
    }
    assert_eq!(source.calls(), 3, "sticky meanwhile: no retry storm");
    thread::sleep(Duration::from_millis(2100));
    let healed = cache.native_roots().expect("read again once 2 s passed");
    assert_eq!(healed.len(), 2);
    assert_eq!((source.calls(), cache.generation()), (4, 1));

    let permanent = Fake::new(|_| SourceOutput::new(Vec::<CertificateDer<'static>>::new(), vec![]));
    let cache = self::cache(&permanent);
    assert_eq!(
        cache.native_roots().unwrap_err().kind(),
        NativeRootsErrorKind::NoAnchors
    );
    thread::sleep(Duration::from_millis(2100));
    assert!(cache.native_roots().is_err());
    assert_eq!(
        permanent.calls(),
        1,
        "no timed door for a permanent failure"
    );
}
