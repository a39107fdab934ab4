//! The decision table, stickiness, refresh and concurrency of `RootsCache`, driven by a scripted
//! source and a recording sleep: no real trust store, no real backoff. Runs under Miri with
//! smaller counts.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::load::policy::Sleeper;
use crate::test_support::{Fake, error_chain, garbage, root};
use crate::{
    CertificateLocation, NativeRootsErrorKind, ReportedCertificate, SourceError, SourceOutput,
};
use rustls::pki_types::CertificateDer;
use std::error::Error as _;
use std::sync::atomic::Ordering;
use std::sync::{Barrier, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::Duration;

/// A sleep that records what it was asked to wait and returns at once.
#[derive(Clone, Default)]
struct RecordedSleep(Arc<Mutex<Vec<Duration>>>);

impl RecordedSleep {
    fn recorded(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl From<RecordedSleep> for Sleeper {
    fn from(sleep: RecordedSleep) -> Self {
        Sleeper::Recorded(sleep.0)
    }
}

const THREADS: usize = if cfg!(miri) { 4 } else { 64 };
const STICKY_CALLS: usize = if cfg!(miri) { 20 } else { 1_000 };

fn good() -> SourceOutput {
    SourceOutput::new(vec![root(0), root(1)], vec![])
}

fn transient() -> SourceOutput {
    SourceOutput::new(
        vec![root(0)],
        vec![SourceError::transient(
            "failed to load admin trust settings",
            "errSecIO (-36): the keychain was busy",
        )],
    )
}

fn no_anchors() -> SourceOutput {
    SourceOutput::new(
        Vec::<CertificateDer<'static>>::new(),
        vec![
            SourceError::permanent("failed to read PEM from file", "No such file or directory")
                .with_path("/nowhere/ca.pem"),
        ],
    )
}

fn cache(fake: &Fake) -> (RootsCache<Fake>, RecordedSleep) {
    let sleep = RecordedSleep::default();
    (
        RootsCache::with_source(fake.clone()).with_sleeper(sleep.clone()),
        sleep,
    )
}

#[test]
fn concurrent_first_callers_share_one_load() {
    let fake = Fake::new(|_| {
        // Give the other threads time to pile up behind the load.
        for _ in 0..100 {
            thread::yield_now();
        }
        good()
    });
    let (cache, _) = cache(&fake);
    let barrier = Barrier::new(THREADS);
    let stores: Vec<_> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    cache.native_roots().unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(fake.calls(), 1, "the source must run exactly once");
    assert_eq!(cache.loads(), 1);
    assert!(stores.iter().all(|s| Arc::ptr_eq(s, &stores[0])));
    // One reference per returned clone plus the one the cache publishes.
    assert_eq!(Arc::strong_count(&stores[0]), THREADS + 1);
}

#[test]
fn the_happy_path_never_sleeps() {
    let fake = Fake::new(|_| good());
    let (cache, sleep) = cache(&fake);
    let store = cache.native_roots().unwrap();
    assert_eq!(store.len(), 2);
    assert!(sleep.recorded().is_empty());
    let report = cache.report().unwrap();
    assert_eq!(
        (report.attempts, report.anchors, report.certificates),
        (1, 2, 2)
    );
    assert_eq!(cache.generation(), 1);
}

#[test]
fn transient_failures_are_retried_with_jittered_backoff() {
    let max = LoadPolicy::DEFAULT.max_attempts();
    for k in 1..max {
        let fake = Fake::new(move |n| if n <= k { transient() } else { good() });
        let (cache, sleep) = cache(&fake);
        assert_eq!(cache.native_roots().unwrap().len(), 2);
        assert_eq!(cache.report().unwrap().attempts, k + 1);
        assert_eq!(fake.calls(), k + 1);
        let sleeps = sleep.recorded();
        assert_eq!(sleeps.len(), k as usize, "one backoff per failed attempt");
        for (i, slept) in sleeps.iter().enumerate() {
            // 50 ms then 100 ms, each lengthened by at most 25 % jitter.
            let base = Duration::from_millis(50) * (1 << i);
            assert!(
                *slept >= base && *slept <= base + base / 4,
                "backoff {i}: {slept:?}"
            );
        }
    }
}

#[test]
fn exhausted_transient_failures_are_sticky_even_with_some_anchors() {
    let fake = Fake::new(|_| transient());
    let (cache, sleep) = cache(&fake);
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::TransientExhausted);
    assert_eq!(err.attempts(), 3);
    assert_eq!(
        sleep.recorded().len(),
        2,
        "no backoff after the last attempt"
    );
    assert!(err.to_string().contains("the fake source"), "{err}");
    let cause = err.source().and_then(|s| s.downcast_ref::<SourceError>());
    assert!(
        cause.is_some_and(|c| c.message.contains("errSecIO")),
        "{cause:?}"
    );
    // The last attempt did yield an anchor; a store missing a keychain domain still must not pass.
    assert_eq!(cache.report().unwrap().anchors, 1);
    assert_eq!(cache.generation(), 0);
}

#[test]
fn zero_anchors_is_not_retried_and_names_the_source() {
    let fake = Fake::new(|_| no_anchors());
    let (cache, sleep) = cache(&fake);
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::NoAnchors);
    assert_eq!(
        (fake.calls(), err.attempts()),
        (1, 1),
        "a permanent error is tried once"
    );
    assert!(sleep.recorded().is_empty());
    // The variables are named for the system store (tests/env_no_anchors.rs), not for a custom
    // source, which they do not affect.
    let message = format!("{}; {}", error_chain(&err), err.advice());
    assert!(!message.contains("SSL_CERT_FILE"), "{message}");
    assert_eq!(
        err.to_string(),
        "no usable trust anchors from the fake source: 0 certificates found, 0 unparsable, 1 error"
    );
    let cause = err.source().and_then(|s| s.downcast_ref::<SourceError>());
    assert_eq!(
        cause,
        Some(&no_anchors().errors[0]),
        "the first recorded error"
    );
    assert!(err.advice().contains("check the trust source"), "{message}");
}

#[test]
fn a_cached_error_is_sticky() {
    let fake = Fake::new(|_| no_anchors());
    let (cache, _) = cache(&fake);
    let first = cache.native_roots().unwrap_err();
    for _ in 0..STICKY_CALLS {
        assert_eq!(cache.native_roots().unwrap_err(), first);
        assert_eq!(cache.native_roots().unwrap_err(), first);
        cache.borrow_roots(|roots| assert_eq!(roots.unwrap_err(), &first));
    }
    assert_eq!(
        fake.calls(),
        1,
        "no call after the first may touch the source"
    );
    assert_eq!(cache.loads(), 1);
}

#[test]
fn a_partial_load_keeps_the_good_anchors_and_reports_the_rest() {
    let fake = Fake::new(|_| {
        SourceOutput::new(
            vec![root(0), garbage(), root(1)],
            vec![
                SourceError::permanent("failed to read PEM from file", "section end not found")
                    .with_path("/etc/ssl/certs/broken.pem"),
            ],
        )
    });
    let (cache, _) = cache(&fake);
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    let report = cache.report().unwrap();
    assert_eq!((report.certificates, report.anchors), (3, 2));
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].index, 1);
    assert!(
        report.skipped[0].reason.contains("not a parsable"),
        "{}",
        report.skipped[0]
    );
    assert_eq!(report.errors.len(), 1);
    assert_eq!(
        report.errors[0].path.as_deref(),
        Some(std::path::Path::new("/etc/ssl/certs/broken.pem"))
    );
}

#[test]
fn the_report_names_each_certificate_and_where_it_came_from() {
    let bundle = std::path::PathBuf::from("/etc/ssl/certs/bundle.pem");
    let location = CertificateLocation::File(bundle.clone());
    let fake = Fake::new(move |_| {
        let at = |der| ReportedCertificate::new(der, location.clone());
        SourceOutput::new(vec![at(root(0)), at(garbage()), at(root(1))], vec![])
    });
    let (cache, _) = cache(&fake);
    cache.native_roots().unwrap();
    let report = cache.report().unwrap();
    // One entry per anchor added, in the source's order; the garbage is skipped, not an anchor.
    assert_eq!(report.anchor_certificates.len(), 2);
    assert_eq!(report.anchor_certificates[0].der, root(0));
    assert_eq!(report.anchor_certificates[1].der, root(1));
    for anchor in &report.anchor_certificates {
        assert_eq!(anchor.location, CertificateLocation::File(bundle.clone()));
        assert!(anchor.subject().is_some_and(|s| s.contains("CN=")));
        assert!(anchor.not_after().is_some());
    }
    let skipped = &report.skipped[0];
    assert_eq!((skipped.index, &skipped.certificate.der), (1, &garbage()));
    assert!(
        skipped.to_string().contains("/etc/ssl/certs/bundle.pem"),
        "{skipped}"
    );
    assert!(
        skipped
            .to_string()
            .contains(&skipped.certificate.sha256_hex()[..16]),
        "{skipped}"
    );
}

#[test]
fn a_certificate_over_the_webpki_size_limit_is_skipped_in_words() {
    // A SEQUENCE with a three-byte length: 70,000 bytes, more than webpki reads.
    let mut huge = vec![0x30, 0x83, 0x01, 0x11, 0x70];
    huge.resize(5 + 70_000, 0);
    let huge = CertificateDer::from(huge);
    let fake = Fake::new(move |_| SourceOutput::new(vec![root(0), huge.clone()], vec![]));
    let (cache, _) = cache(&fake);
    cache.native_roots().unwrap();
    let report = cache.report().unwrap();
    let reason = &report.skipped[0].reason;
    assert!(
        reason.contains("70005 bytes of DER, more than the 65535 bytes"),
        "{reason}"
    );
}

#[test]
fn a_deadline_names_the_path_the_loader_is_stuck_in() {
    let (release, blocked) = mpsc::channel::<()>();
    let blocked = Mutex::new(blocked);
    let fake = Fake::new(move |_| {
        crate::source::read_progress::reading(std::path::Path::new("/etc/ssl/certs/a.pem"));
        crate::source::read_progress::reading(std::path::Path::new("/mnt/dead-nfs/ca.pem"));
        let _ = blocked.lock().unwrap().recv();
        good()
    });
    let cache = RootsCache::with_source(fake)
        .with_sleeper(RecordedSleep::default())
        .with_policy(LoadPolicy::DEFAULT.with_deadline(Duration::from_millis(50)));
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Deadline);
    assert!(
        err.to_string()
            .contains("stuck reading /mnt/dead-nfs/ca.pem"),
        "{err}"
    );
    let again = cache.refresh().unwrap_err();
    assert_eq!(again.kind(), NativeRootsErrorKind::LoaderStuck);
    assert!(
        again
            .to_string()
            .contains("stuck reading /mnt/dead-nfs/ca.pem"),
        "{again}"
    );
    release.send(()).unwrap();
}

#[test]
fn a_permanent_os_error_keeps_the_anchors_that_loaded() {
    // What a Mac with corrupted admin trust settings yields: the user and system domains' anchors
    // and one permanent error naming the domain.
    let fake = Fake::new(|_| {
        SourceOutput::new(
            vec![root(0), root(1)],
            vec![SourceError::permanent(
                "failed to load admin trust settings",
                "errSecInvalidTrustSettings (-25262): the trust settings are corrupted",
            )],
        )
    });
    let (cache, sleep) = cache(&fake);
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    let report = cache.report().unwrap();
    assert_eq!((report.attempts, fake.calls()), (1, 1));
    assert!(sleep.recorded().is_empty());
    assert!(
        report.errors[0]
            .to_string()
            .contains("admin trust settings")
    );
}

#[test]
fn strict_mode_fails_on_any_problem() {
    let fake = Fake::new(|_| SourceOutput::new(vec![root(0), garbage()], vec![]));
    let sleep = RecordedSleep::default();
    let cache = RootsCache::with_source(fake.clone())
        .with_sleeper(sleep)
        .with_policy(LoadPolicy::DEFAULT.with_strict(true));
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Strict);
    assert!(err.to_string().contains("with 1 problem"), "{err}");
    assert!(error_chain(&err).contains("certificate #1"), "{err:?}");
    assert_eq!(fake.calls(), 1);
}

#[test]
fn a_panicking_source_becomes_a_sticky_error() {
    let fake = Fake::new(|_| panic!("keychain exploded"));
    let (cache, _) = cache(&fake);
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Panicked);
    assert!(error_chain(&err).contains("keychain exploded"), "{err:?}");
    assert_eq!(cache.native_roots().unwrap_err(), err);
    assert_eq!(
        fake.calls(),
        1,
        "a panicking source must not be re-run by the next caller"
    );
}

#[test]
fn a_source_that_never_returns_meets_the_deadline() {
    let (release, wait) = mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let fake = Fake::new(move |_| {
        // Blocks until the test releases it, long after the deadline.
        let _ = wait.lock().unwrap().recv();
        good()
    });
    let sleep = RecordedSleep::default();
    // Miri runs the loader thread slowly: give it time to enter its first attempt.
    let deadline = Duration::from_millis(if cfg!(miri) { 2_000 } else { 20 });
    let cache = RootsCache::with_source(fake.clone())
        .with_sleeper(sleep)
        .with_policy(LoadPolicy::DEFAULT.with_deadline(deadline));
    let err = cache.native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::Deadline);
    assert_eq!(
        err.attempts(),
        1,
        "the first attempt was the one still running"
    );
    assert!(err.to_string().contains(&format!("{deadline:?}")), "{err}");
    assert_eq!(
        cache.native_roots().unwrap_err(),
        err,
        "sticky: no second wait"
    );
    assert_eq!(fake.calls(), 1);
    release.send(()).unwrap();
}

#[test]
fn refresh_keeps_an_unchanged_store_and_its_generation() {
    // The same anchors in another order are the same set.
    let fake = Fake::new(|n| {
        if n == 1 {
            good()
        } else {
            SourceOutput::new(vec![root(1), root(0)], vec![])
        }
    });
    let (cache, _) = cache(&fake);
    let before = cache.native_roots().unwrap();
    let refresh = cache.refresh().unwrap();
    assert!(!refresh.changed);
    assert!(Arc::ptr_eq(&refresh.roots, &before));
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &before));
    assert_eq!((refresh.generation, cache.generation()), (1, 1));
    assert_eq!(cache.loads(), 2);
}

#[test]
fn refresh_publishes_a_changed_store_and_survives_a_failure() {
    let fake = Fake::new(|n| match n {
        1 => good(),
        2 => SourceOutput::new(vec![root(0), root(1), root(2)], vec![]),
        _ => no_anchors(),
    });
    let (cache, _) = cache(&fake);
    let first = cache.native_roots().unwrap();
    let refresh = cache.refresh().unwrap();
    assert!(refresh.changed);
    assert_eq!((refresh.generation, cache.generation()), (2, 2));
    let second = cache.native_roots().unwrap();
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(second.len(), 3);

    let err = cache.refresh().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::NoAnchors);
    assert!(
        Arc::ptr_eq(&cache.native_roots().unwrap(), &second),
        "a failure keeps the old store"
    );
    assert_eq!(cache.generation(), 2);
    assert_eq!(
        cache.report().unwrap().anchors,
        3,
        "the report describes the store in use"
    );
}

#[test]
fn refresh_replaces_a_cached_error() {
    let fake = Fake::new(|n| if n == 1 { no_anchors() } else { good() });
    let (cache, _) = cache(&fake);
    assert!(cache.native_roots().is_err());
    assert!(cache.native_roots().is_err(), "sticky until refreshed");
    let refresh = cache.refresh().unwrap();
    assert!(refresh.changed);
    assert_eq!(cache.generation(), 1);
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &refresh.roots));
}

#[test]
fn a_source_that_asks_its_own_cache_gets_an_error_not_a_deadlock() {
    type Cache = RootsCache<Fake>;
    // The source reaches its own cache through a `Weak`, so nothing leaks (Miri checks).
    let cell: Arc<OnceLock<std::sync::Weak<Cache>>> = Arc::new(OnceLock::new());
    let inner_kind = Arc::new(Mutex::new(None));
    let fake = {
        let (cell, inner_kind) = (Arc::clone(&cell), Arc::clone(&inner_kind));
        Fake::new(move |_| {
            let cache = cell.get().unwrap().upgrade().unwrap();
            *inner_kind.lock().unwrap() = Some(cache.native_roots().unwrap_err().kind());
            good()
        })
    };
    let cache = Arc::new(RootsCache::with_source(fake).with_sleeper(RecordedSleep::default()));
    cell.set(Arc::downgrade(&cache)).unwrap();
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    assert_eq!(
        *inner_kind.lock().unwrap(),
        Some(NativeRootsErrorKind::Reentrant)
    );
}

#[test]
fn nothing_is_reported_before_the_first_load() {
    let fake = Fake::new(|_| good());
    let (cache, _) = cache(&fake);
    assert!(cache.report().is_none());
    assert_eq!((cache.generation(), cache.loads(), fake.calls()), (0, 0, 0));
}

#[test]
fn reads_follow_a_refresh_on_every_thread() {
    let fake = Fake::new(|n| {
        if n == 1 {
            good()
        } else {
            SourceOutput::new(vec![root(2)], vec![])
        }
    });
    let (cache, _) = cache(&fake);
    let old = cache.native_roots().unwrap();
    // Remembered by this thread; the borrowed read may call the cache again inside.
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &old));
    let nested = cache.borrow_roots(|outer| {
        let inner = cache.native_roots().unwrap();
        (outer.unwrap().len(), inner.len())
    });
    assert_eq!(nested, (2, 2));
    let new = cache.refresh().unwrap().roots;
    thread::scope(|s| {
        s.spawn(|| assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &new)));
    });
    assert!(
        Arc::ptr_eq(&cache.native_roots().unwrap(), &new),
        "no stale store after a refresh"
    );
    assert_eq!(cache.borrow_roots(|roots| roots.unwrap().len()), 1);
}

#[test]
fn caches_at_the_same_address_never_share_remembered_outcomes() {
    // Each cache lives and dies in turn on the stack, likely at the same address.
    for (n, expected) in [(1usize, 1usize), (2, 2), (3, 3)] {
        let fake = Fake::new(move |_| SourceOutput::new((0..n).map(root), vec![]));
        let (cache, _) = cache(&fake);
        assert_eq!(cache.native_roots().unwrap().len(), expected);
        assert_eq!(cache.native_roots().unwrap().len(), expected);
        assert_eq!(cache.borrow_roots(|roots| roots.unwrap().len()), expected);
    }
}

fn with_leaf() -> SourceOutput {
    SourceOutput::new(
        vec![
            root(0),
            CertificateDer::from(&include_bytes!("../../testdata/leaf.der")[..]),
        ],
        vec![],
    )
}

#[test]
fn anchors_that_are_not_cas_are_reported_and_kept_by_default() {
    let fake = Fake::new(|_| with_leaf());
    let (cache, _) = cache(&fake);
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    let report = cache.report().unwrap();
    assert_eq!(report.non_ca_anchors.len(), 1);
    assert_eq!(report.non_ca_anchors[0].index, 1);
    assert_eq!(
        report.non_ca_anchors[0].certificate.subject().as_deref(),
        Some("CN=localhost")
    );
}

#[test]
fn anchors_that_are_not_cas_can_be_dropped() {
    let fake = Fake::new(|_| with_leaf());
    let cache = RootsCache::with_source(fake)
        .with_sleeper(RecordedSleep::default())
        .with_policy(LoadPolicy::DEFAULT.with_drop_non_ca_anchors(true));
    assert_eq!(cache.native_roots().unwrap().len(), 1);
    let report = cache.report().unwrap();
    assert!(report.non_ca_anchors.is_empty());
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0]
            .reason
            .contains("CN=localhost is not a CA"),
        "{}",
        report.skipped[0]
    );
}

/// Readers racing refreshes: each reader's successive results only move forward, and once the
/// writer is done every reader sees the final store. Guards the per-thread remembered outcome.
#[test]
fn readers_never_go_back_to_an_older_store() {
    const READERS: usize = if cfg!(miri) { 2 } else { 4 };
    const REFRESHES: u32 = if cfg!(miri) { 4 } else { 100 };
    // Every call yields a different anchor set, so every refresh publishes.
    let fake = Fake::new(|n| {
        let count = 1 + (n as usize % 3);
        SourceOutput::new((0..count).map(root), vec![])
    });
    let (cache, _) = cache(&fake);
    // Every published store stays alive here, so no two share an address.
    let published = Mutex::new(vec![cache.native_roots().unwrap()]);
    let done = std::sync::atomic::AtomicBool::new(false);
    let start = Barrier::new(READERS + 1);
    let seen: Vec<Vec<usize>> = thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut seen = Vec::new();
                    while !done.load(Ordering::Acquire) {
                        seen.push(Arc::as_ptr(&cache.native_roots().unwrap()) as usize);
                        cache.borrow_roots(|roots| seen.push(roots.unwrap() as *const _ as usize));
                    }
                    seen.push(Arc::as_ptr(&cache.native_roots().unwrap()) as usize);
                    seen
                })
            })
            .collect();
        start.wait();
        for _ in 0..REFRESHES {
            let refresh = cache.refresh().unwrap();
            assert!(refresh.changed);
            published.lock().unwrap().push(refresh.roots);
        }
        done.store(true, Ordering::Release);
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let published = published.into_inner().unwrap();
    assert_eq!(cache.generation(), u64::from(REFRESHES) + 1);
    let index_of = |ptr: usize| {
        published
            .iter()
            .position(|store| Arc::as_ptr(store) as usize == ptr)
            .expect("a reader saw a store that was never published")
    };
    for reads in seen {
        let order: Vec<usize> = reads.into_iter().map(index_of).collect();
        assert!(
            order.windows(2).all(|w| w[0] <= w[1]),
            "a reader went back in time"
        );
        assert_eq!(
            order.last(),
            Some(&(published.len() - 1)),
            "a reader kept a stale store"
        );
    }
}
