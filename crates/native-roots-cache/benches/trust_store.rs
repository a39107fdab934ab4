//! What a trust-store read costs: one real load (the baseline every other figure divides by),
//! and the cached reads this crate offers beside a bare `Arc` clone, from one and two threads.
//!
//! `cargo bench -p native-roots-cache` (the platform store: `SSL_CERT_*` are cleared first).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;
use native_roots_cache::{native_roots, with_native_roots, RootsCache};
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
    group.bench_function("with_native_roots (borrowed)", |b| {
        b.iter(|| with_native_roots(|roots| black_box(roots.map_or(0, RootCertStore::len))))
    });
    group.finish();
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
    group.bench_function("with_native_roots (borrowed)", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, || {
                with_native_roots(|roots| black_box(roots.map_or(0, RootCertStore::len)));
            })
        })
    });
    group.finish();
}

fn main() {
    // Measure the platform store, not whatever this shell points SSL_CERT_FILE at.
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    let mut criterion = Criterion::default().configure_from_args();
    load(&mut criterion);
    cached(&mut criterion);
    cached_two_threads(&mut criterion);
    criterion.final_summary();
}
