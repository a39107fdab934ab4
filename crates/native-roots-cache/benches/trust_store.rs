//! What a trust-store read costs: one real load (the baseline every other figure divides by),
//! the cached reads this crate offers beside a bare `Arc` clone, from one and two threads, and
//! what live trust costs (an unchanged poll; the latency of a change).
//!
//! `cargo bench -p native-roots-cache` (the platform store: `SSL_CERT_*` are cleared first).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;
use native_roots_cache::{
    PemFiles, PlatformSource, RootsCache, TrustSource, Watcher, native_roots,
};
use rustls::RootCertStore;

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("trust_store_load");
    group.sample_size(20);
    group.bench_function("load_native_certs + RootCertStore (baseline)", |b| {
        b.iter(|| {
            let mut store = RootCertStore::empty();
            store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            black_box(store)
        })
    });
    group.bench_function("RootsCache first load", |b| {
        b.iter_batched(
            RootsCache::new,
            |cache| black_box(cache.native_roots().unwrap()),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn cached(c: &mut Criterion) {
    let arc = native_roots().unwrap();
    let mut group = c.benchmark_group("cached_read");
    group.bench_function("Arc::clone (baseline)", |b| {
        b.iter(|| black_box(Arc::clone(&arc)))
    });
    group.bench_function("native_roots()", |b| b.iter(|| black_box(native_roots())));
    group.bench_function("borrow_roots (borrowed)", |b| {
        b.iter(|| {
            RootsCache::global()
                .borrow_roots(|roots| black_box(roots.map_or(0, RootCertStore::len)))
        })
    });
    // A cached failure of a file source: each call may look whether its files changed (one stat
    // pass a second, by one caller) and otherwise returns the cached error.
    let dir = std::env::temp_dir().join(format!("nrc-bench-failure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = test_pki::write_settled(dir.join("empty.pem"), "");
    let failing = RootsCache::with_source(PemFiles::new().with_file(&empty));
    assert!(failing.native_roots().is_err());
    group.bench_function("native_roots(), a cached failure", |b| {
        b.iter(|| black_box(failing.native_roots()))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Run `op` `iters` times on each of two threads released together; the slower thread's time.
fn on_two_threads(iters: u64, op: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let started = Instant::now();
                    for _ in 0..iters {
                        op();
                    }
                    started.elapsed()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .max()
            .unwrap()
    })
}

fn cached_two_threads(c: &mut Criterion) {
    let arc = native_roots().unwrap();
    let mut group = c.benchmark_group("cached_read_2_threads");
    group.bench_function("Arc::clone (baseline)", |b| {
        b.iter_custom(|iters| on_two_threads(iters, || drop(black_box(Arc::clone(&arc)))))
    });
    group.bench_function("native_roots()", |b| {
        b.iter_custom(|iters| on_two_threads(iters, || drop(black_box(native_roots()))))
    });
    group.bench_function("borrow_roots (borrowed)", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, || {
                RootsCache::global()
                    .borrow_roots(|roots| black_box(roots.map_or(0, RootCertStore::len)));
            })
        })
    });
    group.finish();
}

/// Live trust: a poll that finds nothing changed (a stat pass over the same files a load reads,
/// to compare with the first load above), and how long a real file change takes to be published
/// by a watcher polling every 50 ms (expected: between one and two intervals, plus the read).
fn live_trust(c: &mut Criterion) {
    let mut group = c.benchmark_group("live_trust");
    let cache = RootsCache::new();
    // Watching from the first load on, so that the store's signature is known.
    let _ = cache.check_for_changes();
    group.bench_function("check_for_changes, nothing changed", |b| {
        b.iter(|| black_box(cache.check_for_changes()))
    });
    group.bench_function("signature only", |b| {
        b.iter(|| black_box(PlatformSource::new().signature()))
    });
    // What a scrape hook pays (the anchors' dates are decoded once per store, not here).
    group.bench_function("stats()", |b| b.iter(|| black_box(cache.stats())));

    let dir = std::env::temp_dir().join(format!("nrc-bench-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("bundle.pem");
    let pems: Vec<String> = (0..2)
        .map(|i| test_pki::ca_pem(&format!("latency CA {i}")))
        .collect();
    std::fs::write(&bundle, &pems[0]).unwrap();
    let watched = Arc::new(RootsCache::with_source(PemFiles::new().with_file(&bundle)));
    watched.native_roots().unwrap();
    let interval = Duration::from_millis(50);
    let _watching = Watcher::new()
        .with_poll_interval(interval)
        .start(Arc::clone(&watched))
        .unwrap();
    group.sample_size(10);
    // Which of `pems` the bundle holds: each iteration writes the other, so that every write is
    // a change to publish.
    let mut holds = 0;
    group.bench_function("detection latency, 50 ms poll", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let seen = watched.generation();
                let started = Instant::now();
                holds = 1 - holds;
                std::fs::write(&bundle, &pems[holds]).unwrap();
                watched
                    .wait_for_generation(seen, Duration::from_secs(30))
                    .expect("published");
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    // Measure the platform store, not whatever this shell points SSL_CERT_FILE at.
    test_pki::rerun_without_cert_variables();
    let mut criterion = Criterion::default().configure_from_args();
    load(&mut criterion);
    cached(&mut criterion);
    cached_two_threads(&mut criterion);
    live_trust(&mut criterion);
    criterion.final_summary();
}
