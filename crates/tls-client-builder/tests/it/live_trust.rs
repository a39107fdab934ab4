//! Configs follow the native roots (issue 12 §2): a config built before a published change is
//! rebuilt on its next lookup with a fresh session store, so a session made under the old trust
//! never resumes under the new; a `ConfigHandle` follows the same changes without a map lookup.

use std::sync::{Arc, Barrier};
use std::thread;

use rustls::{CertificateError, HandshakeKind};
use tls_client_builder::{TlsVersions, Trust, TrustProvenance, UpstreamTls};

use crate::support::{Ca, ScriptedSource, ServerOptions, cache_over, exchange, spawn_server};

/// Whether the test asks the cache each time or keeps a handle.
#[derive(Clone, Copy)]
enum Lookup {
    Get,
    Handle,
}

/// A session resumed before the server's CA leaves the trust store must not resume after: the
/// next connection is a full handshake and fails verification.
///
/// Recent rustls (0.23.27 at least) also refuses on its own to resume a session made under
/// another verifier; the unit test `a_rebuilt_config_has_a_session_store_of_its_own` (src/cache.rs)
/// checks the builder's part, a new store per rebuild, whatever the rustls version.
fn no_session_survives_removing_the_servers_ca(versions: TlsVersions, lookup: Lookup) {
    let ca = Ca::new("live trust CA");
    let replacement = Ca::new("replacement CA");
    let source = ScriptedSource::trusting(&[&ca]);
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let (cache, roots) = cache_over(&source);
    let upstream = UpstreamTls::builder(Trust::Native)
        .versions(versions)
        .build();
    let handle = cache.handle(&upstream).unwrap();
    let config = || match lookup {
        Lookup::Get => cache.get(&upstream).unwrap(),
        Lookup::Handle => handle.config(),
    };

    assert_eq!(exchange(config(), addr).unwrap().kind, HandshakeKind::Full);
    // The session store works: the second connection resumes, skipping verification.
    assert_eq!(
        exchange(config(), addr).unwrap().kind,
        HandshakeKind::Resumed
    );

    source.now_trusting(&[&replacement]);
    let refresh = roots.refresh().unwrap();
    assert!(refresh.changed);
    assert_eq!(refresh.removed.len(), 1, "the server's CA left the store");

    // A reused session store would resume here and succeed without verifying anything.
    let err = exchange(config(), addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
}

#[test]
fn no_tls13_session_survives_a_trust_change_through_get() {
    no_session_survives_removing_the_servers_ca(TlsVersions::Tls13Only, Lookup::Get);
}

#[test]
fn no_tls12_session_survives_a_trust_change_through_get() {
    no_session_survives_removing_the_servers_ca(TlsVersions::Tls12Only, Lookup::Get);
}

#[test]
fn no_tls13_session_survives_a_trust_change_through_a_handle() {
    no_session_survives_removing_the_servers_ca(TlsVersions::Tls13Only, Lookup::Handle);
}

#[test]
fn no_tls12_session_survives_a_trust_change_through_a_handle() {
    no_session_survives_removing_the_servers_ca(TlsVersions::Tls12Only, Lookup::Handle);
}

#[test]
fn a_handle_follows_the_cache_across_trust_changes() {
    let old_ca = Ca::new("handle old CA");
    let new_ca = Ca::new("handle new CA");
    let source = ScriptedSource::trusting(&[&old_ca]);
    let addr = spawn_server(&new_ca.server_leaf(), ServerOptions::default());
    let (cache, roots) = cache_over(&source);
    let upstream = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
    let handle = cache.handle(&upstream).unwrap();
    assert_eq!(handle.upstream(), &upstream);

    let before = handle.config();
    // The handle answers the cache's own config, the same on every call.
    assert!(Arc::ptr_eq(&before, &cache.get(&upstream).unwrap()));
    assert!(Arc::ptr_eq(&before, &handle.config()));
    assert_eq!(
        exchange(Arc::clone(&before), addr).unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );

    // Unchanged anchors keep the generation: nothing is rebuilt.
    assert!(!roots.refresh().unwrap().changed);
    assert!(Arc::ptr_eq(&before, &handle.config()));

    source.now_trusting(&[&new_ca]);
    assert!(roots.refresh().unwrap().changed);
    let after = handle.config();
    assert!(!Arc::ptr_eq(&before, &after), "the handle did not rebuild");
    exchange(Arc::clone(&after), addr).unwrap();
    // Rebuilt through the cache: the cache answers the same config, without building again.
    assert!(Arc::ptr_eq(&after, &cache.get(&upstream).unwrap()));
    assert!(Arc::ptr_eq(&after, &handle.config()));
    assert!(matches!(
        handle.built().provenance(),
        TrustProvenance::Native { generation: 2, .. }
    ));
    assert_eq!(cache.stats().builds, 2, "one build per generation");
}

#[test]
fn a_handle_whose_trust_does_not_read_the_native_roots_never_rebuilds() {
    let ca = Ca::new("anchors-only CA");
    let other = Ca::new("other CA");
    let source = ScriptedSource::trusting(&[&ca]);
    let (cache, roots) = cache_over(&source);
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .build();
    let handle = cache.handle(&upstream).unwrap();
    let before = handle.config();
    source.now_trusting(&[&other]);
    assert!(roots.refresh().unwrap().changed);
    assert!(Arc::ptr_eq(&before, &handle.config()));
    assert_eq!(cache.stats().builds, 1);
}

#[test]
fn every_thread_on_one_handle_sees_the_rebuilt_config_and_it_is_built_once() {
    #[cfg(not(miri))]
    const THREADS: usize = 16;
    #[cfg(miri)]
    const THREADS: usize = 3;
    let old_ca = Ca::new("threads old CA");
    let new_ca = Ca::new("threads new CA");
    let source = ScriptedSource::trusting(&[&old_ca]);
    let (cache, roots) = cache_over(&source);
    let upstream = UpstreamTls::builder(Trust::Native).build();
    let handle = cache.handle(&upstream).unwrap();
    let before = handle.config();
    let warmed = Barrier::new(THREADS + 1);
    let refreshed = Barrier::new(THREADS + 1);

    let seen: Vec<_> = thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (handle, warmed, refreshed) = (&handle, &warmed, &refreshed);
                s.spawn(move || {
                    // Each thread now remembers the old config under the old stamp.
                    let old = handle.config();
                    warmed.wait();
                    refreshed.wait();
                    (old, handle.config())
                })
            })
            .collect();
        warmed.wait();
        source.now_trusting(&[&new_ca]);
        assert!(roots.refresh().unwrap().changed);
        refreshed.wait();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });

    let after = cache.get(&upstream).unwrap();
    assert!(!Arc::ptr_eq(&before, &after));
    for (old, new) in &seen {
        assert!(Arc::ptr_eq(old, &before));
        assert!(
            Arc::ptr_eq(new, &after),
            "a thread answered a config of the old trust"
        );
    }
    // Threads racing to rebuild wait on one build.
    assert_eq!(cache.stats().builds, 2);
}

#[test]
fn a_handle_outlives_its_cache_entry_and_rebuilds_through_the_cache() {
    let ca = Ca::new("retain CA");
    let other = Ca::new("retain other CA");
    let source = ScriptedSource::trusting(&[&ca]);
    let (cache, roots) = cache_over(&source);
    let upstream = UpstreamTls::builder(Trust::Native).build();
    let handle = cache.handle(&upstream).unwrap();
    let before = handle.config();

    cache.retain(|_| false);
    assert!(cache.is_empty());
    assert!(Arc::ptr_eq(&before, &handle.config()));

    source.now_trusting(&[&other]);
    assert!(roots.refresh().unwrap().changed);
    let after = handle.config();
    assert!(!Arc::ptr_eq(&before, &after));
    assert_eq!(cache.len(), 1, "the rebuild put the entry back");
    assert!(Arc::ptr_eq(&after, &cache.get(&upstream).unwrap()));
}

#[test]
fn handles_on_many_upstreams_from_one_thread_each_answer_their_own_config() {
    // More handles than a thread remembers pairs for: the pairs are shared by slot, never
    // confused.
    let ca = Ca::new("many handles CA");
    let (cache, _roots) = cache_over(&ScriptedSource::trusting(&[&ca]));
    let upstreams: Vec<_> = (0..40)
        .map(|i| {
            UpstreamTls::builder(Trust::Native)
                .alpn([format!("proto-{i}")])
                .build()
        })
        .collect();
    let handles: Vec<_> = upstreams
        .iter()
        .map(|upstream| cache.handle(upstream).unwrap())
        .collect();
    for _ in 0..3 {
        for (upstream, handle) in upstreams.iter().zip(&handles) {
            assert!(Arc::ptr_eq(&handle.config(), &cache.get(upstream).unwrap()));
        }
    }
}
