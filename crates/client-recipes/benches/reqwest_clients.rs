//! Building reqwest 0.13 clients (issue 18 §4): the default way, whose platform verifier on Linux
//! reads the whole system store at every `build()`, against `Trust::Platform` configs from the
//! cache (the README's recipe), per client: the time (criterion), then the trust-store reads of
//! 200 clients each way (a counting run: the bytes this process read, from `/proc/self/io`, in
//! units of one full store load).
//!
//! `cargo bench -p client-recipes --bench reqwest_clients` (the platform store: `SSL_CERT_*` are
//! cleared first).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use client_recipes::with_reqwest;
use criterion::Criterion;
use native_roots_cache::RootsCache;
use tls_client_builder::ClientConfigCache;

const GROUP: &str = "reqwest_0_13_client";
const CLIENTS: u32 = 200;

fn default_client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Bytes read by this process so far (`rchar`), where the kernel says (Linux).
fn bytes_read() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
}

/// `f` run `CLIENTS` times: the time per run, and the bytes read in units of `unit`.
fn count(unit: u64, f: impl Fn()) -> (f64, Option<f64>) {
    let before = bytes_read();
    let started = Instant::now();
    for _ in 0..CLIENTS {
        f();
    }
    let per_client = started.elapsed().as_secs_f64() / f64::from(CLIENTS);
    let reads = bytes_read()
        .zip(before)
        .map(|(after, before)| (after - before) as f64 / unit as f64);
    (per_client, reads)
}

fn store_reads(cache: &ClientConfigCache) -> String {
    // One full load of the native store, as the platform verifier does it: the unit.
    let before = bytes_read();
    black_box(rustls_native_certs::load_native_certs());
    let Some(unit) = bytes_read()
        .zip(before)
        .map(|(a, b)| a - b)
        .filter(|&u| u > 0)
    else {
        return "not measured: /proc/self/io is not readable here\n".to_owned();
    };
    let loads_before = RootsCache::global().stats().loads;
    let (default_time, default_reads) = count(unit, || drop(black_box(default_client())));
    let (cached_time, cached_reads) = count(unit, || {
        drop(black_box(with_reqwest::client(cache).unwrap()));
    });
    let loads = RootsCache::global().stats().loads - loads_before;
    let reads = |r: Option<f64>| r.map_or_else(|| "?".to_owned(), |r| format!("{r:.1}"));
    format!(
        "{CLIENTS} clients each way, one store load = {unit} bytes read\n\
         default build(): {:.1} µs per client, {} store loads read\n\
         from the cache: {:.2} µs per client, {} store loads read, {loads} RootsCache loads\n",
        default_time * 1e6,
        reads(default_reads),
        cached_time * 1e6,
        reads(cached_reads),
    )
}

fn main() {
    test_pki::rerun_without_cert_variables();
    // reqwest's default build needs a process-wide provider (its `rustls-no-provider` feature).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut criterion = Criterion::default().configure_from_args();
    let cache = ClientConfigCache::new();
    // The first load and the first build are not what this measures.
    with_reqwest::client(&cache).unwrap();
    let mut group = criterion.benchmark_group(GROUP);
    group.sample_size(20);
    group.bench_function("default build(), platform verifier (baseline)", |b| {
        b.iter(default_client)
    });
    group.bench_function("from the cache (Trust::Platform)", |b| {
        b.iter(|| with_reqwest::client(&cache).unwrap())
    });
    group.finish();
    let reads = store_reads(&cache);
    print!("{reads}");
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        let dir = std::path::Path::new(&home).join(GROUP);
        let file = dir.join("store_reads");
        if let Err(err) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, &reads))
        {
            eprintln!("could not write {}: {err}", file.display());
        }
    }
    criterion.final_summary();
}
