//! What the builder counts: configs built, rebuilt and evicted (`CacheStats`), a rotating
//! identity's rotations, refused reloads by reason and end of validity (`IdentityStats`), the
//! identity's expiry warnings, and, with the `metrics` feature, the same through the facade.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tls_client_builder::{IdentitySource, RotatingIdentity, Trust, UpstreamTls};

use crate::logs;
use crate::rotation::{identity_files, write_identity};
use crate::support::{Ca, ScriptedSource, cache_over, provider};

#[test]
fn rebuilds_and_evictions_are_counted_apart_from_first_builds() {
    let (old_ca, new_ca) = (Ca::new("stats old CA"), Ca::new("stats new CA"));
    let source = ScriptedSource::trusting(&[&old_ca]);
    let (cache, roots) = cache_over(&source);
    let cache = cache.max_entries(2);
    let native = UpstreamTls::builder(Trust::Native).build();
    let h2 = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
    cache.get(&native).unwrap();
    cache.get(&h2).unwrap();
    let first = cache.stats();
    assert_eq!((first.builds, first.rebuilds, first.evictions), (2, 0, 0));

    source.now_trusting(&[&new_ca]);
    assert!(roots.refresh().unwrap().changed);
    cache.get(&native).unwrap();
    cache.get(&native).unwrap();
    let rebuilt = cache.stats();
    assert_eq!((rebuilt.builds, rebuilt.rebuilds), (3, 1), "rebuilt once");

    // A third upstream key past the bound of 2: the oldest inserted goes.
    cache
        .get(
            &UpstreamTls::builder(Trust::Native)
                .alpn(["http/1.1"])
                .build(),
        )
        .unwrap();
    let evicted = cache.stats();
    assert_eq!(
        (evicted.builds, evicted.rebuilds, evicted.evictions),
        (4, 1, 1)
    );
}

#[test]
fn an_identity_counts_rotations_and_refused_reloads_by_reason() {
    let client_ca = Ca::new("stats identity CA");
    let (chain, key) = identity_files("stats-identity", &client_ca.client_leaf_until(2040));
    let identity =
        RotatingIdentity::with_provider("stats", IdentitySource::files(&chain, &key), provider())
            .unwrap();
    let reasons = |identity: &RotatingIdentity| {
        let stats = identity.stats();
        [
            stats.rejected_read,
            stats.rejected_invalid,
            stats.rejected_expired,
            stats.rejected_callback,
            stats.rejected_unfinished,
        ]
    };
    assert_eq!(reasons(&identity), [0; 5]);
    assert_eq!(
        identity.stats().not_after,
        UNIX_EPOCH + Duration::from_secs(2_208_988_800)
    );

    write_identity(&chain, &key, &client_ca.client_leaf_until(2000));
    identity.reload().unwrap_err();
    assert_eq!(reasons(&identity), [0, 0, 1, 0, 0], "expired");

    // The key of another leaf: it does not match the certificate.
    let other = client_ca.client_leaf_until(2041);
    std::fs::write(&chain, &client_ca.client_leaf_until(2041).chain_pem).unwrap();
    std::fs::write(&key, &other.key_pem).unwrap();
    identity.reload().unwrap_err();
    assert_eq!(reasons(&identity), [0, 1, 1, 0, 0], "key mismatch");

    std::fs::remove_file(&key).unwrap();
    identity.reload().unwrap_err();
    assert_eq!(reasons(&identity), [1, 1, 1, 0, 0], "unreadable");
    assert_eq!(identity.stats().rotations, 0);

    write_identity(&chain, &key, &other);
    assert!(identity.reload().unwrap());
    let rotated = identity.stats();
    assert_eq!((rotated.rotations, rotated.rejected()), (1, 3));
    assert_eq!(
        rotated.not_after,
        UNIX_EPOCH + Duration::from_secs(2_240_611_200)
    );
}

/// A whole second, as a certificate's date holds it.
fn whole_second(at: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(at.duration_since(UNIX_EPOCH).unwrap().as_secs())
}

#[test]
fn an_identity_near_its_end_is_warned_of_once_then_once_more_when_it_expires() {
    logs::install();
    let client_ca = Ca::new("stats expiring CA");
    let ends = whole_second(SystemTime::now() + Duration::from_secs(3));
    let (chain, key) = identity_files("stats-expiring", &client_ca.client_leaf_valid_until(ends));
    let identity = RotatingIdentity::with_provider(
        "expiring-soon",
        IdentitySource::files(&chain, &key),
        provider(),
    )
    .unwrap();
    let warned = |what: &str| {
        logs::lines(log::Level::Warn, "`expiring-soon`")
            .into_iter()
            .filter(|line| line.contains(what))
            .count()
    };
    // Within the default window of 7 days: warned at the first look, once.
    for _ in 0..3 {
        identity.check_for_changes();
    }
    assert_eq!(warned("expires within 7 days"), 1, "once");
    assert_eq!(warned("expired at"), 0);

    // Past its end (the identity in use stays: nothing better was offered).
    while SystemTime::now() <= ends {
        std::thread::sleep(Duration::from_millis(100));
    }
    for _ in 0..3 {
        identity.check_for_changes();
    }
    assert_eq!(warned("expired at"), 1, "once when it expires");

    // A window of one day: an identity of two days is not warned of.
    let later =
        client_ca.client_leaf_valid_until(SystemTime::now() + Duration::from_secs(2 * 86_400));
    let (chain, key) = identity_files("stats-two-days", &later);
    let identity = RotatingIdentity::with_provider(
        "two-days",
        IdentitySource::files(&chain, &key),
        provider(),
    )
    .unwrap()
    .with_expiry_warning(Duration::from_secs(86_400));
    identity.check_for_changes();
    assert!(logs::lines(log::Level::Warn, "`two-days`").is_empty());
    assert_eq!(
        identity.stats().not_after,
        whole_second(identity.not_after())
    );
}

#[cfg(feature = "metrics")]
mod facade {
    use super::*;
    use crate::support::{ServerOptions, exchange, spawn_server};
    use test_pki::metrics::Recorded;

    #[test]
    fn every_builder_name_moves_through_the_facade() {
        let (old_ca, new_ca) = (Ca::new("facade old CA"), Ca::new("facade new CA"));
        let source = ScriptedSource::trusting(&[&old_ca]);
        let (cache, roots) = cache_over(&source);
        let cache = cache.max_entries(1);
        let addr = spawn_server(&new_ca.server_leaf(), ServerOptions::default());
        let native = UpstreamTls::builder(Trust::Native).build();
        let recorded = Recorded::new();

        recorded.run(|| {
            let config = cache.get(&native).unwrap();
            exchange(config, addr).unwrap_err();
        });
        assert_eq!(recorded.counter("tls_client_configs_built_total", &[]), 1);
        assert_eq!(
            recorded.counter("tls_client_unknown_issuer_checks_total", &[]),
            1
        );

        source.now_trusting(&[&new_ca]);
        roots.refresh().unwrap();
        recorded.run(|| {
            cache.get(&native).unwrap();
            cache
                .get(&UpstreamTls::builder(Trust::Native).alpn(["h2"]).build())
                .unwrap();
        });
        // The rebuild of `native`, then the first build of `h2`, which evicts `native`.
        assert_eq!(recorded.counter("tls_client_configs_built_total", &[]), 3);
        assert_eq!(recorded.counter("tls_client_configs_rebuilt_total", &[]), 1);
        assert_eq!(recorded.counter("tls_client_configs_evicted_total", &[]), 1);

        let client_ca = Ca::new("facade identity CA");
        let (chain, key) = identity_files("facade-identity", &client_ca.client_leaf_until(2040));
        let label = [("identity", "facade")];
        let identity = recorded.run(|| {
            RotatingIdentity::with_provider(
                "facade",
                IdentitySource::files(&chain, &key),
                provider(),
            )
            .unwrap()
        });
        let days = recorded
            .gauge("tls_client_identity_expiry_days", &label)
            .unwrap();
        let expected = (2_208_988_800.0
            - SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64())
            / 86_400.0;
        assert!((days - expected).abs() < 0.01, "{days} against {expected}");
        write_identity(&chain, &key, &client_ca.client_leaf_until(2000));
        recorded.run(|| identity.reload().unwrap_err());
        let rejected = "tls_client_identity_rejected_reloads_total";
        assert_eq!(
            recorded.counter(rejected, &[label[0], ("reason", "expired")]),
            1
        );
        write_identity(&chain, &key, &client_ca.client_leaf_until(2041));
        recorded.run(|| identity.reload().unwrap());
        assert_eq!(
            recorded.counter("tls_client_identity_rotations_total", &label),
            1
        );
        let days = recorded
            .gauge("tls_client_identity_expiry_days", &label)
            .unwrap();
        assert!(days > expected + 360.0, "the new identity's end: {days}");
    }
}
