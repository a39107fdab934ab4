//! What one `ClientConfig` per upstream costs, side by side with what users do today, all in one
//! run so that every figure has its baseline beside it:
//!
//! - `config_per_upstream`: (a) reload the store every time, as hyper-rustls
//!   `with_native_roots`, reqwest's default builder and rustls-platform-verifier on Linux do;
//!   (b) deep-clone a cached store; (c) share an `Arc<RootCertStore>` (a verifier per config);
//!   (d) share one verifier; (e) a `ClientConfigCache::get` hit; (f) a miss (a new upstream key),
//!   with `Trust::Native` and with `Trust::Platform`;
//!   (g) `ConfigHandle::config`, beside the bare `Arc<ClientConfig>` clone it is held to (≤ 1.5×)
//!   and arc-swap's `load_full` (what the handle would cost without its per-thread pair).
//! - `hit_2_threads`: hits from two threads at once, on the same upstream key and on 64 keys of
//!   each thread's own (beside one thread alone doing the same: flat is ≤ 1.3× of it) (where two given keys land in the map, and in each thread's recent slots,
//!   depends on the run's hash keys), and `ConfigHandle::config` on one handle, beside a bare
//!   `Arc` clone from two threads (the handle is held to ≤ 1.5× the clone of one `Arc`).
//! - `reload_storm`: 10,000 new upstream keys from 2 and from 8 threads; the trust-store loads are
//!   printed (they must be 1).
//!
//! `cargo bench -p tls-client-builder` (the platform store: `SSL_CERT_*` are cleared first).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::{BatchSize, Criterion};
use native_roots_cache::{RootsCache, native_roots};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config_with_roots(
    provider: &Arc<CryptoProvider>,
    roots: impl Into<Arc<RootCertStore>>,
) -> ClientConfig {
    ClientConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// As [`upstream`], with the platform verifier's trust (served from the same native roots here).
fn platform(i: u64) -> UpstreamTls {
    UpstreamTls::builder(Trust::Platform)
        .alpn([format!("upstream-{i}"), "http/1.1".to_owned()])
        .build()
}

fn upstream(i: u64) -> UpstreamTls {
    UpstreamTls::builder(Trust::Native)
        .alpn([format!("upstream-{i}"), "http/1.1".to_owned()])
        .build()
}

fn per_config(c: &mut Criterion) {
    let provider = provider();
    let roots = native_roots().unwrap();
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&provider))
            .build()
            .unwrap();
    let cache = ClientConfigCache::with_provider(Arc::clone(&provider));
    let hot = upstream(0);
    cache.get(&hot).unwrap();

    let mut group = c.benchmark_group("config_per_upstream");
    group.bench_function("(a) reload the store per config (baseline)", |b| {
        b.iter(|| {
            let mut store = RootCertStore::empty();
            store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            black_box(config_with_roots(&provider, store))
        })
    });
    group.bench_function("(b) deep clone of a cached store", |b| {
        b.iter(|| black_box(config_with_roots(&provider, (*roots).clone())))
    });
    group.bench_function("(c) shared Arc<RootCertStore>", |b| {
        b.iter(|| black_box(config_with_roots(&provider, Arc::clone(&roots))))
    });
    group.bench_function("(d) shared verifier", |b| {
        b.iter(|| {
            black_box(
                ClientConfig::builder_with_provider(Arc::clone(&provider))
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_webpki_verifier(Arc::clone(&verifier))
                    .with_no_client_auth(),
            )
        })
    });
    group.bench_function(
        "(d) shared verifier, every config kept (miss baseline)",
        |b| {
            // Like a miss, every config stays alive, so both pay for fresh memory.
            b.iter_custom(|iters| {
                let mut kept = Vec::with_capacity(usize::try_from(iters).unwrap_or(0));
                let started = Instant::now();
                for _ in 0..iters {
                    kept.push(Arc::new(
                        ClientConfig::builder_with_provider(Arc::clone(&provider))
                            .with_safe_default_protocol_versions()
                            .unwrap()
                            .with_webpki_verifier(Arc::clone(&verifier))
                            .with_no_client_auth(),
                    ));
                }
                let elapsed = started.elapsed();
                drop(black_box(kept));
                elapsed
            })
        },
    );
    let config = cache.get(&hot).unwrap();
    group.bench_function("Arc<ClientConfig>::clone (hit baseline)", |b| {
        b.iter(|| black_box(Arc::clone(&config)))
    });
    // The `Arc` taken out of the `Result`, as a caller's `?` does: the baseline yields an `Arc`
    // too. Black-boxing the whole `Result` (most of its bytes the error's room) costs about 7 ns
    // more on an AMD EPYC, in copies that no caller makes.
    group.bench_function("(e) ClientConfigCache::get hit", |b| {
        b.iter(|| black_box(cache.get(&hot).unwrap()))
    });
    let handle = cache.handle(&hot).unwrap();
    group.bench_function("(g) ConfigHandle::config", |b| {
        b.iter(|| black_box(handle.config()))
    });
    // What the handle would cost with arc-swap alone (see src/handle.rs).
    let swapped = ArcSwap::new(Arc::clone(&config));
    group.bench_function("ArcSwap::load_full (handle design reference)", |b| {
        b.iter(|| black_box(swapped.load_full()))
    });
    group.bench_function("(f) ClientConfigCache::get miss", |b| {
        // A fresh cache per batch keeps memory bounded; its trust set is built before timing.
        b.iter_custom(|iters| {
            let cache = ClientConfigCache::with_provider(Arc::clone(&provider))
                .max_entries(usize::try_from(iters).unwrap_or(usize::MAX).max(1));
            cache.get(&hot).unwrap();
            let upstreams: Vec<_> = (1..=iters).map(upstream).collect();
            let started = Instant::now();
            for fp in &upstreams {
                black_box(cache.get(fp).unwrap());
            }
            started.elapsed()
        })
    });
    group.bench_function("(f) ClientConfigCache::get miss, Trust::Platform", |b| {
        // A fresh cache per batch keeps memory bounded; its trust set is built before timing.
        b.iter_custom(|iters| {
            let cache = ClientConfigCache::with_provider(Arc::clone(&provider))
                .max_entries(usize::try_from(iters).unwrap_or(usize::MAX).max(1));
            cache.get(&platform(0)).unwrap();
            let upstreams: Vec<_> = (1..=iters).map(platform).collect();
            let started = Instant::now();
            for fp in &upstreams {
                black_box(cache.get(fp).unwrap());
            }
            started.elapsed()
        })
    });
    group.finish();
}

/// Run `op(thread, iteration)` `iters` times on each of two threads released together; the slower
/// time.
fn on_two_threads(iters: u64, op: impl Fn(usize, u64) + Sync) -> Duration {
    on_threads(2, iters, op)
}

/// `op(thread, i)` `iters` times on each of `n` threads started together; the slowest's time.
fn on_threads(n: usize, iters: u64, op: impl Fn(usize, u64) + Sync) -> Duration {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        let threads: Vec<_> = (0..n)
            .map(|t| {
                let (barrier, op) = (&barrier, &op);
                s.spawn(move || {
                    barrier.wait();
                    let started = Instant::now();
                    for i in 0..iters {
                        op(t, i);
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

fn hits_two_threads(c: &mut Criterion) {
    const SPREAD: u64 = 64;
    let cache = ClientConfigCache::with_provider(provider());
    let fps = [upstream(0), upstream(1)];
    let configs = [cache.get(&fps[0]).unwrap(), cache.get(&fps[1]).unwrap()];
    // Where a key lands (its bucket in the map, its set of a thread's recent slots) depends on
    // the upstream key's hash, keyed per process: each thread cycles through keys of its own, so
    // that the figure is the expected one, not a coin flip of the run.
    let spread: [Vec<UpstreamTls>; 2] = [0, 1].map(|t| {
        (0..SPREAD)
            .map(|i| upstream(100 + t * SPREAD + i))
            .collect()
    });
    for fp in spread.iter().flatten() {
        cache.get(fp).unwrap();
    }
    let mut group = c.benchmark_group("hit_2_threads");
    group.bench_function("Arc::clone, same config (baseline)", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, |_, _| drop(black_box(Arc::clone(&configs[0]))))
        })
    });
    group.bench_function("Arc::clone, different configs (baseline)", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, |t, _| drop(black_box(Arc::clone(&configs[t]))))
        })
    });
    group.bench_function("get, same upstream key", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, |_, _| drop(black_box(cache.get(&fps[0]).unwrap())))
        })
    });
    group.bench_function("get, different upstream keys", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, |t, i| {
                drop(black_box(
                    cache.get(&spread[t][(i % SPREAD) as usize]).unwrap(),
                ));
            })
        })
    });
    // The same work on one thread (a thread started the same way, cycling its own 64 keys):
    // what the two threads' time is held to (flat: ≤ 1.3×).
    group.bench_function("get, one thread's upstream keys, that thread alone", |b| {
        b.iter_custom(|iters| {
            on_threads(1, iters, |t, i| {
                drop(black_box(
                    cache.get(&spread[t][(i % SPREAD) as usize]).unwrap(),
                ));
            })
        })
    });
    let handle = cache.handle(&fps[0]).unwrap();
    group.bench_function("ConfigHandle::config, one handle", |b| {
        b.iter_custom(|iters| on_two_threads(iters, |_, _| drop(black_box(handle.config()))))
    });
    let swapped = ArcSwap::new(Arc::clone(&configs[0]));
    group.bench_function(
        "ArcSwap::load_full, one ArcSwap (handle design reference)",
        |b| {
            b.iter_custom(|iters| {
                on_two_threads(iters, |_, _| drop(black_box(swapped.load_full())))
            })
        },
    );
    group.finish();
}

fn reload_storm(c: &mut Criterion) {
    const FINGERPRINTS: u64 = 10_000;
    let provider = provider();
    let loads_before = RootsCache::global().stats().loads;
    let mut group = c.benchmark_group("reload_storm");
    group.sample_size(10);
    for threads in [2usize, 8] {
        group.bench_function(
            format!("10,000 new upstream keys, {threads} threads"),
            |b| {
                b.iter_batched(
                    || {
                        let fps: Vec<_> = (0..FINGERPRINTS).map(upstream).collect();
                        let cache = ClientConfigCache::with_provider(Arc::clone(&provider))
                            .max_entries(FINGERPRINTS as usize);
                        (cache, fps)
                    },
                    |(cache, fps)| {
                        let barrier = Barrier::new(threads);
                        thread::scope(|s| {
                            for t in 0..threads {
                                let (cache, fps, barrier) = (&cache, &fps, &barrier);
                                s.spawn(move || {
                                    barrier.wait();
                                    // Every thread asks for every upstream key, from its own offset.
                                    for i in 0..fps.len() {
                                        let fp = &fps[(i + t * fps.len() / threads) % fps.len()];
                                        black_box(cache.get(fp).unwrap());
                                    }
                                });
                            }
                        });
                        assert_eq!(cache.stats().builds, FINGERPRINTS);
                        cache
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
    let loads = RootsCache::global().stats().loads - loads_before;
    println!(
        "reload_storm: trust-store loads: {loads} during all storms, {} in this whole process",
        RootsCache::global().stats().loads
    );
    // `cargo xtask bench` reads this beside criterion's own results.
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        let file = std::path::Path::new(&home)
            .join("reload_storm")
            .join("trust_store_loads");
        if let Err(err) = std::fs::write(&file, format!("{}\n", RootsCache::global().stats().loads))
        {
            eprintln!("could not write {}: {err}", file.display());
        }
    }
}

fn main() {
    test_pki::rerun_without_cert_variables();
    let mut criterion = Criterion::default().configure_from_args();
    per_config(&mut criterion);
    hits_two_threads(&mut criterion);
    reload_storm(&mut criterion);
    criterion.final_summary();
}
