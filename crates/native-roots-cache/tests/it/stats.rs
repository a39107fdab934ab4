//! What a cache counts ([`RootsCache::stats`]) and, with the `metrics` feature, what it publishes
//! through the `metrics` facade: each counter and gauge made to move by real files or a scripted
//! source, and checked to stay put when nothing happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{self, Ca, Fake};
use native_roots_cache::{
    LoadPolicy, NativeRootsErrorKind, PemFiles, RootsCache, RootsStats, SourceError, SourceOutput,
};
use rustls::pki_types::CertificateDer;

const DAY: Duration = Duration::from_secs(86_400);

/// A whole second, as a certificate's date holds it.
fn whole_second(at: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(at.duration_since(UNIX_EPOCH).unwrap().as_secs())
}

/// Three CAs: one expired yesterday, one that expires in ten days, one for years.
fn three_cas() -> (Vec<String>, SystemTime) {
    let now = SystemTime::now();
    let soon = whole_second(now + 10 * DAY);
    let cas = [
        Ca::valid_until("stats expired CA", whole_second(now - DAY)),
        Ca::valid_until("stats soon CA", soon),
        Ca::new("stats CA"),
    ];
    (cas.iter().map(Ca::pem).collect(), soon)
}

#[test]
fn the_stats_of_a_bundle_follow_its_loads_changes_and_expiry() {
    let dir = common::scratch_dir("stats-bundle");
    let (pems, soon) = three_cas();
    let bundle = common::write_settled(dir.join("bundle.pem"), pems.concat());
    let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle));
    assert_eq!(cache.stats(), RootsStats::default(), "nothing loaded yet");

    let before = SystemTime::now();
    cache.native_roots().unwrap();
    let first = cache.stats();
    assert_eq!(first.loads, 1);
    assert_eq!(first.changes, 0, "the first store is not a change");
    let published = first.last_change.expect("the first store's time");
    assert!(published >= before && published <= SystemTime::now());
    assert_eq!(first.anchors, 3);
    assert_eq!(first.expired_anchors, 1);
    assert_eq!(
        first.next_expiry,
        Some(soon),
        "the earliest anchor not yet expired"
    );
    assert_eq!(first.rejected(), 0);

    // Read again, unchanged: a load, no change, the same time.
    cache.refresh().unwrap();
    let unchanged = cache.stats();
    assert_eq!((unchanged.loads, unchanged.changes), (2, 0));
    assert_eq!(unchanged.last_change, Some(published));

    // A fourth CA: a change, published later.
    let fourth = Ca::new("stats fourth CA").pem();
    common::write_settled(bundle.clone(), [pems.concat(), fourth.clone()].concat());
    assert!(cache.refresh().unwrap().changed);
    let changed = cache.stats();
    assert_eq!((changed.loads, changed.changes, changed.anchors), (3, 1, 4));
    assert!(changed.last_change.unwrap() >= published);

    // The bundle cut in the middle of the fourth certificate: refused, counted as such.
    let whole = [pems.concat(), fourth].concat();
    common::write_settled(bundle, &whole[..whole.len() - 100]);
    let err = cache.refresh().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::IncompleteFile);
    let refused = cache.stats();
    assert_eq!(refused.loads, 4);
    assert_eq!(refused.rejected_incomplete_file, 1);
    assert_eq!(refused.rejected(), 1);
    assert_eq!(refused.changes, 1, "nothing published");
    assert_eq!(refused.anchors, 4, "the store in use");
    assert_eq!(refused.last_change, changed.last_change);
}

/// What the scripted source answers, by mode.
const GOOD: usize = 0;
const NO_ANCHORS: usize = 1;
const TRANSIENT: usize = 2;
const PANICS: usize = 3;
const HANGS: usize = 4;

fn scripted(mode: &Arc<AtomicUsize>) -> Fake {
    let cas: Arc<Vec<_>> = Arc::new((0..2).map(common::root).collect());
    let mode = Arc::clone(mode);
    Fake::new(move |_| match mode.load(Ordering::SeqCst) {
        GOOD => SourceOutput::new(cas.to_vec(), vec![]),
        NO_ANCHORS => SourceOutput::new(
            Vec::<CertificateDer<'static>>::new(),
            vec![SourceError::permanent("read", "refused")],
        ),
        TRANSIENT => SourceOutput::new(
            Vec::<CertificateDer<'static>>::new(),
            vec![SourceError::transient("read", "errSecIO (-36)")],
        ),
        PANICS => panic!("the scripted source panics"),
        _ => {
            std::thread::sleep(Duration::from_millis(500));
            SourceOutput::new(cas.to_vec(), vec![])
        }
    })
}

#[test]
fn each_rejected_load_is_counted_by_its_reason() {
    let mode = Arc::new(AtomicUsize::new(NO_ANCHORS));
    let cache = RootsCache::with_source(scripted(&mode)).with_policy(
        LoadPolicy::DEFAULT
            .with_backoff(Duration::ZERO, Duration::ZERO)
            .with_deadline(Duration::from_millis(100)),
    );
    let reasons = |stats: &RootsStats| {
        [
            stats.rejected_no_anchors,
            stats.rejected_transient,
            stats.rejected_permanent,
            stats.rejected_deadline,
            stats.rejected_incomplete_file,
        ]
    };

    // A first load with no anchors: cached, counted.
    assert_eq!(
        cache.native_roots().unwrap_err().kind(),
        NativeRootsErrorKind::NoAnchors
    );
    assert_eq!(reasons(&cache.stats()), [1, 0, 0, 0, 0]);
    assert_eq!(cache.stats().last_change, None, "no store published yet");
    // The cached error again: no load, no count.
    let _ = cache.native_roots();
    assert_eq!((cache.stats().loads, cache.stats().rejected()), (1, 1));

    mode.store(GOOD, Ordering::SeqCst);
    cache.refresh().unwrap();
    assert_eq!(
        cache.stats().changes,
        0,
        "the first store published is not a change"
    );
    assert!(cache.stats().last_change.is_some());

    for (next, kind, expected) in [
        (
            TRANSIENT,
            NativeRootsErrorKind::TransientExhausted,
            [1, 1, 0, 0, 0],
        ),
        (PANICS, NativeRootsErrorKind::Panicked, [1, 1, 1, 0, 0]),
        (HANGS, NativeRootsErrorKind::Deadline, [1, 1, 1, 1, 0]),
    ] {
        mode.store(next, Ordering::SeqCst);
        assert_eq!(cache.refresh().unwrap_err().kind(), kind);
        assert_eq!(reasons(&cache.stats()), expected, "after {kind:?}");
        assert_eq!(cache.stats().anchors, 2, "the store in use stays");
    }
    assert_eq!(cache.stats().loads, 5);
}

/// The names, labels and units of the `metrics` facade, as the README's table gives them.
#[cfg(feature = "metrics")]
mod facade {
    use super::*;
    use crate::common::metrics::Recorded;

    #[test]
    fn every_name_moves_through_the_facade() {
        let dir = common::scratch_dir("stats-metrics");
        let (pems, soon) = three_cas();
        let bundle = common::write_settled(dir.join("bundle.pem"), pems.concat());
        let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle));
        let origin = format!("PEM files {}", bundle.display());
        let of = [("origin", origin.as_str())];
        let recorded = Recorded::new();

        recorded.run(|| cache.native_roots().unwrap());
        assert_eq!(recorded.counter("native_roots_loads_total", &of), 1);
        assert_eq!(recorded.counter("native_roots_changes_total", &of), 0);
        // The gauges are set by a look: `stats` (a scrape) or a watcher's poll.
        assert_eq!(recorded.gauge("native_roots_anchors", &of), None);
        recorded.run(|| cache.check_for_changes());
        assert_eq!(recorded.gauge("native_roots_anchors", &of), Some(3.0));
        assert_eq!(
            recorded.gauge("native_roots_expired_anchors", &of),
            Some(1.0)
        );
        let days = recorded
            .gauge("native_roots_next_expiry_days", &of)
            .unwrap();
        let expected = soon
            .duration_since(SystemTime::now())
            .unwrap()
            .as_secs_f64()
            / 86_400.0;
        assert!(
            (days - expected).abs() < 0.01,
            "{days} days, expected {expected}"
        );
        let at = recorded
            .gauge("native_roots_last_change_seconds", &of)
            .unwrap();
        let published = cache.stats().last_change.unwrap();
        let published = published.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((at - published).abs() < 0.001, "{at} against {published}");

        common::write_settled(
            bundle.clone(),
            [pems.concat(), Ca::new("fourth").pem()].concat(),
        );
        recorded.run(|| cache.refresh().unwrap());
        assert_eq!(recorded.counter("native_roots_loads_total", &of), 2);
        assert_eq!(recorded.counter("native_roots_changes_total", &of), 1);
        recorded.run(|| cache.stats());
        assert_eq!(recorded.gauge("native_roots_anchors", &of), Some(4.0));

        common::write_settled(bundle, &pems.concat()[..100]);
        recorded.run(|| cache.refresh().unwrap_err());
        let rejected = "native_roots_rejected_loads_total";
        assert_eq!(
            recorded.counter(rejected, &[("reason", "incomplete_file")]),
            1
        );
        assert_eq!(recorded.counter(rejected, &of), 1);
        assert_eq!(recorded.counter("native_roots_changes_total", &of), 1);
        assert_eq!(
            recorded.unit("native_roots_next_expiry_days"),
            Some(None),
            "described (days are not a metrics unit)"
        );
        assert_eq!(
            recorded.unit("native_roots_last_change_seconds"),
            Some(Some(metrics::Unit::Seconds))
        );
    }

    #[test]
    fn each_reason_is_a_label() {
        let mode = Arc::new(AtomicUsize::new(NO_ANCHORS));
        let cache = RootsCache::with_source(scripted(&mode))
            .with_policy(LoadPolicy::DEFAULT.with_backoff(Duration::ZERO, Duration::ZERO));
        let recorded = Recorded::new();
        recorded.run(|| cache.native_roots().unwrap_err());
        mode.store(TRANSIENT, Ordering::SeqCst);
        recorded.run(|| cache.refresh().unwrap_err());
        let rejected = "native_roots_rejected_loads_total";
        let origin = ("origin", "the fake source");
        assert_eq!(
            recorded.counter(rejected, &[origin, ("reason", "no_anchors")]),
            1
        );
        assert_eq!(
            recorded.counter(rejected, &[origin, ("reason", "transient")]),
            1
        );
        assert_eq!(recorded.counter(rejected, &[]), 2);
    }
}
