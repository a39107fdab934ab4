//! A reload storm: 32 threads released at once ask for 200 upstream keys each, all trusting the
//! native roots (a scripted source with a generated CA).

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;

use tls_client_builder::{TlsVersions, Trust, UpstreamTls};

use crate::support::{Ca, ScriptedSource, cache_over};

#[cfg(not(miri))]
const THREADS: usize = 32;
#[cfg(miri)]
const THREADS: usize = 4;
const FINGERPRINTS: usize = 200;

fn upstreams() -> Vec<UpstreamTls> {
    (0..FINGERPRINTS)
        .map(|i| {
            UpstreamTls::builder(Trust::Native)
                .alpn([format!("proto-{i}")])
                .versions(if i % 2 == 0 {
                    TlsVersions::Tls12And13
                } else {
                    TlsVersions::Tls13Only
                })
                .build()
        })
        .collect()
}

#[test]
fn each_upstream_is_built_once_and_shared() {
    let ca = Ca::new("storm CA");
    let source = ScriptedSource::trusting(&[&ca]);
    let (cache, roots) = cache_over(&source);
    let cache = Arc::new(cache.max_entries(FINGERPRINTS));
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (cache, barrier) = (Arc::clone(&cache), Arc::clone(&barrier));
            thread::spawn(move || {
                // Each thread builds its own, equal but separately allocated, upstream keys, and
                // walks them in its own order so that threads collide on different entries.
                let mut upstreams = upstreams();
                upstreams.rotate_left(t * 7 % FINGERPRINTS);
                barrier.wait();
                upstreams
                    .into_iter()
                    .map(|fp| {
                        let config = cache.get(&fp).unwrap();
                        (fp, config)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();

    let mut first: HashMap<UpstreamTls, Arc<rustls::ClientConfig>> = HashMap::new();
    for worker in workers {
        for (fp, config) in worker.join().unwrap() {
            let seen = first.entry(fp).or_insert_with(|| Arc::clone(&config));
            assert!(
                Arc::ptr_eq(seen, &config),
                "equal upstream keys got different configs"
            );
        }
    }
    assert_eq!(first.len(), FINGERPRINTS);

    let stats = cache.stats();
    // One build per upstream key, however many threads missed on it at once.
    assert_eq!(stats.builds, FINGERPRINTS as u64);
    // Every other lookup was a hit (or waited on the thread that built).
    assert_eq!(stats.hits, (THREADS * FINGERPRINTS - FINGERPRINTS) as u64);
    // All 200 upstream keys have one trust set: one store obtained, one verifier.
    assert_eq!(stats.trust_store_loads, 1);
    assert_eq!(stats.evictions, 0);
    // The source was read once, however many threads asked at once.
    assert_eq!(roots.stats().loads, 1);
    assert_eq!(source.loads(), 1);
}
