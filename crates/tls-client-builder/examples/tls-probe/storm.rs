//! The reload storm: many threads released at once, each asking for every fingerprint (as a
//! daemon's workers do after a config reload), then the cost of a hit.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use native_roots_cache::native_roots_loads;
use tls_client_builder::{ClientConfigCache, TlsVersions, Trust, UpstreamTls};

use crate::json::Object;

/// Distinct fingerprints built during the storm (the cache is bounded to this).
pub(crate) const FINGERPRINTS: usize = 10_000;
const THREADS: usize = 8;
const HIT_ROUNDS: u32 = 1_000_000;

pub(crate) struct StormReport {
    lookups: usize,
    failures: usize,
    first_error: Option<String>,
    builds: u64,
    hits: u64,
    trust_store_loads: u64,
    os_store_reads: u64,
    trust: String,
    wall: Duration,
    rss_per_config: Option<f64>,
    hit: HitCost,
    /// Microseconds per build on one thread, trust set already built.
    miss_us: f64,
}

/// Nanoseconds per operation.
struct HitCost {
    one_thread: f64,
    two_threads_same: f64,
    two_threads_distinct: f64,
    arc_clone: f64,
    arc_clone_two_threads_same: f64,
    arc_clone_two_threads_distinct: f64,
}

fn fingerprints(trust: Trust, anchor: Option<&[u8]>) -> Vec<UpstreamTls> {
    (0..FINGERPRINTS)
        .map(|i| {
            let mut builder = UpstreamTls::builder(trust)
                .alpn([format!("upstream-{i}"), "http/1.1".to_owned()])
                .versions(match i % 3 {
                    0 => TlsVersions::Tls12And13,
                    1 => TlsVersions::Tls13Only,
                    _ => TlsVersions::Tls12Only,
                });
            if let Some(der) = anchor {
                builder = builder.extra_anchor_der(der.to_vec());
            }
            builder.build()
        })
        .collect()
}

/// Build configs for [`FINGERPRINTS`] fingerprints from [`THREADS`] threads at once.
pub(crate) fn run(cache: &ClientConfigCache, store_ok: bool) -> StormReport {
    // Without a system store, trust a CA made on the spot so the storm still measures something.
    let fallback_anchor = (!store_ok).then(|| {
        let key = rcgen::KeyPair::generate().expect("key generation");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .self_signed(&key)
            .expect("self-signed CA")
            .der()
            .to_vec()
    });
    let trust = if store_ok {
        Trust::Native
    } else {
        Trust::AnchorsOnly
    };
    let fps = Arc::new(fingerprints(trust, fallback_anchor.as_deref()));

    let rss_before = resident_kib();
    let barrier = Barrier::new(THREADS);
    let start = Instant::now();
    let (failures, first_error) = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (fps, barrier) = (Arc::clone(&fps), &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let offset = t * FINGERPRINTS / THREADS;
                    let mut failures = (0, None);
                    for i in 0..FINGERPRINTS {
                        if let Err(err) = cache.get(&fps[(offset + i) % FINGERPRINTS]) {
                            failures.0 += 1;
                            failures.1.get_or_insert(err.to_string());
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("storm thread panicked"))
            .fold((0, None), |(n, first), (m, err)| (n + m, first.or(err)))
    });
    let wall = start.elapsed();
    let rss_after = resident_kib();
    let stats = cache.stats();
    let trust_description = cache
        .get_built(&fps[0])
        .map_or_else(|err| err.to_string(), |b| b.provenance().to_string());

    StormReport {
        lookups: THREADS * FINGERPRINTS,
        failures,
        first_error,
        builds: stats.builds,
        hits: stats.hits,
        trust_store_loads: stats.trust_store_loads,
        os_store_reads: native_roots_loads(),
        trust: trust_description,
        wall,
        rss_per_config: rss_before.zip(rss_after).map(|(before, after)| {
            (after.saturating_sub(before) * 1024) as f64 / FINGERPRINTS as f64
        }),
        hit: hit_cost(cache, &fps),
        miss_us: miss_cost(cache, &fps),
    }
}

/// One thread building configs for fingerprints it has not seen, in a fresh cache on the same
/// provider whose trust set is already built (as in a daemon adding upstreams one by one).
fn miss_cost(cache: &ClientConfigCache, fps: &[UpstreamTls]) -> f64 {
    const MISSES: usize = 2_000;
    let fresh = ClientConfigCache::with_provider(Arc::clone(cache.provider())).max_entries(MISSES);
    if fresh.get(&fps[0]).is_err() {
        return f64::NAN;
    }
    let start = Instant::now();
    for fp in &fps[1..=MISSES] {
        drop(black_box(fresh.get(fp)));
    }
    start.elapsed().as_secs_f64() * 1e6 / MISSES as f64
}

fn hit_cost(cache: &ClientConfigCache, fps: &[UpstreamTls]) -> HitCost {
    let per_op = |elapsed: Duration| elapsed.as_nanos() as f64 / f64::from(HIT_ROUNDS);
    let gets = |fp: &UpstreamTls| {
        let start = Instant::now();
        for _ in 0..HIT_ROUNDS {
            drop(black_box(cache.get(black_box(fp))));
        }
        per_op(start.elapsed())
    };
    let clones = |config: &Arc<rustls::ClientConfig>| {
        let start = Instant::now();
        for _ in 0..HIT_ROUNDS {
            drop(black_box(Arc::clone(black_box(config))));
        }
        per_op(start.elapsed())
    };
    let pair = |a: &(dyn Fn() -> f64 + Sync), b: &(dyn Fn() -> f64 + Sync)| {
        let barrier = Barrier::new(2);
        thread::scope(|scope| {
            let x = scope.spawn(|| {
                barrier.wait();
                a()
            });
            barrier.wait();
            let y = b();
            (x.join().expect("timing thread") + y) / 2.0
        })
    };
    let (first, second) = (&fps[0], &fps[FINGERPRINTS / 2]);
    let _ = gets(first); // warm up
    let (Ok(config), Ok(other)) = (cache.get(first), cache.get(second)) else {
        return HitCost {
            one_thread: f64::NAN,
            two_threads_same: f64::NAN,
            two_threads_distinct: f64::NAN,
            arc_clone: f64::NAN,
            arc_clone_two_threads_same: f64::NAN,
            arc_clone_two_threads_distinct: f64::NAN,
        };
    };
    HitCost {
        one_thread: gets(first),
        two_threads_same: pair(&|| gets(first), &|| gets(first)),
        two_threads_distinct: pair(&|| gets(first), &|| gets(second)),
        arc_clone: clones(&config),
        arc_clone_two_threads_same: pair(&|| clones(&config), &|| clones(&config)),
        arc_clone_two_threads_distinct: pair(&|| clones(&config), &|| clones(&other)),
    }
}

/// This process's resident memory in KiB (Linux `/proc/self/status`), if available.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl StormReport {
    pub(crate) fn print(&self) {
        let per_build = self.wall.as_secs_f64() * 1e6 / self.builds.max(1) as f64;
        println!(
            "reload storm: {THREADS} threads x {FINGERPRINTS} fingerprints ({} lookups) at once",
            self.lookups
        );
        println!("  trust             {}", self.trust);
        println!(
            "  trust-store loads {} by this cache ({} OS store read(s) in this process)",
            self.trust_store_loads, self.os_store_reads
        );
        println!(
            "  configs built     {} in {:.1?} ({per_build:.2} us wall per build), {} hits",
            self.builds, self.wall, self.hits
        );
        if self.failures > 0 {
            println!(
                "  FAILED lookups    {}: {}",
                self.failures,
                self.first_error.as_deref().unwrap_or("?")
            );
        }
        println!("  miss (build)      {:.2} us on 1 thread", self.miss_us);
        match self.rss_per_config {
            Some(bytes) => println!(
                "  resident memory   {:.1} MiB for {FINGERPRINTS} configs = {bytes:.0} bytes per config",
                bytes * FINGERPRINTS as f64 / (1024.0 * 1024.0)
            ),
            None => println!("  resident memory   n/a (no /proc/self/status)"),
        }
        let hit = &self.hit;
        println!(
            "  hit (get)         {:.1} ns on 1 thread; 2 threads: {:.1} ns same fingerprint, \
             {:.1} ns different ones",
            hit.one_thread, hit.two_threads_same, hit.two_threads_distinct
        );
        println!(
            "  bare Arc clone    {:.1} ns on 1 thread; 2 threads: {:.1} ns same Arc, {:.1} ns \
             different ones",
            hit.arc_clone, hit.arc_clone_two_threads_same, hit.arc_clone_two_threads_distinct
        );
    }

    pub(crate) fn to_json(&self) -> Object {
        let mut obj = Object::new();
        obj.num("threads", THREADS as u64);
        obj.num("fingerprints", FINGERPRINTS as u64);
        obj.num("lookups", self.lookups as u64);
        obj.num("failures", self.failures as u64);
        obj.opt_str("first_error", self.first_error.as_deref());
        obj.num("configs_built", self.builds);
        obj.num("hits", self.hits);
        obj.num("trust_store_loads", self.trust_store_loads);
        obj.num("os_store_reads", self.os_store_reads);
        obj.str("trust", &self.trust);
        obj.float("wall_ms", self.wall.as_secs_f64() * 1e3);
        obj.float(
            "us_per_build",
            self.wall.as_secs_f64() * 1e6 / self.builds.max(1) as f64,
        );
        match self.rss_per_config {
            Some(bytes) => obj.float("rss_bytes_per_config", bytes),
            None => obj.null("rss_bytes_per_config"),
        }
        obj.float("miss_us", self.miss_us);
        obj.float("hit_ns", self.hit.one_thread);
        obj.float("hit_ns_two_threads_same", self.hit.two_threads_same);
        obj.float("hit_ns_two_threads_distinct", self.hit.two_threads_distinct);
        obj.float("arc_clone_ns", self.hit.arc_clone);
        obj.float(
            "arc_clone_ns_two_threads_same",
            self.hit.arc_clone_two_threads_same,
        );
        obj.float(
            "arc_clone_ns_two_threads_distinct",
            self.hit.arc_clone_two_threads_distinct,
        );
        obj
    }
}
