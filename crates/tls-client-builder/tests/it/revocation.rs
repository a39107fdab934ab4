//! Revocation (issue 24): a CA revokes one of its two server certificates, and configs from the
//! cache refuse that server with rustls' `Revoked` and accept the other, under each trust that
//! applies CRLs; a CRL added to a watched directory is in force within a poll plus the debounce,
//! and no session resumes across it; a CRL cut mid-write never replaces the last good set; a CRL
//! signed by another CA of the same name is skipped with the reason. Real handshakes over
//! loopback, real files on disk.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use native_roots_cache::Watcher;
use rustls::{CertificateError, HandshakeKind};
use tls_client_builder::{
    ClientConfigCache, CrlCheck, CrlError, CrlSource, Crls, Revocation, Trust, UpstreamTls,
};

use crate::logs;
use crate::support::{
    Ca, ScriptedSource, ServerOptions, cache, cache_over, exchange, replace_file, scratch_dir,
    settle, spawn_server, write_settled,
};

const REVOKED: u64 = 1001;
const GOOD: u64 = 1002;

/// A CA, a server it revoked and one it did not, and its CRL saying so.
struct Pki {
    ca: Ca,
    revoked: std::net::SocketAddr,
    good: std::net::SocketAddr,
}

impl Pki {
    fn new(name: &str) -> Self {
        let ca = Ca::new(name);
        let revoked = spawn_server(&ca.server_leaf_serial(REVOKED), ServerOptions::default());
        let good = spawn_server(&ca.server_leaf_serial(GOOD), ServerOptions::default());
        Self { ca, revoked, good }
    }

    fn crl_pem(&self, number: u64, revoked: &[u64]) -> String {
        self.ca.crl(number, revoked, in_days(30)).pem
    }
}

fn in_days(days: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(days * 86_400)
}

fn revoked() -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Revoked)
}

/// Wait (bounded) until `done`: the outcome is then asserted, not the time it took.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_revoked_server_is_refused_and_the_other_accepted_under_each_trust() {
    let pki = Pki::new("revocation CA");
    let dir = scratch_dir("revocation-each-trust");
    let file = write_settled(dir.join("ca.crl"), pki.crl_pem(1, &[REVOKED]));
    let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
    let revocation = Revocation::new(crls.clone());

    let source = ScriptedSource::trusting(&[&pki.ca]);
    let (native_cache, _roots) = cache_over(&source);
    // Pushed to below only with webpki-roots, or a platform verifier that takes CRLs.
    #[cfg_attr(
        not(any(
            feature = "webpki-roots",
            all(
                feature = "platform-verifier",
                not(any(target_vendor = "apple", windows, target_os = "android"))
            )
        )),
        allow(unused_mut)
    )]
    let mut trusts: Vec<(ClientConfigCache, UpstreamTls)> = vec![
        (
            cache(),
            UpstreamTls::builder(Trust::AnchorsOnly)
                .extra_anchor_der(pki.ca.der())
                .revocation(revocation.clone())
                .build(),
        ),
        (
            native_cache,
            UpstreamTls::builder(Trust::Native)
                .revocation(revocation.clone())
                .build(),
        ),
    ];
    #[cfg(feature = "webpki-roots")]
    trusts.push((
        cache(),
        UpstreamTls::builder(Trust::WebpkiRoots)
            .extra_anchor_der(pki.ca.der())
            .revocation(revocation.clone())
            .build(),
    ));
    #[cfg(all(
        feature = "platform-verifier",
        not(any(target_vendor = "apple", windows, target_os = "android"))
    ))]
    {
        let (platform_cache, _roots) = cache_over(&source);
        trusts.push((
            platform_cache,
            UpstreamTls::builder(Trust::Platform)
                .revocation(revocation.clone())
                .build(),
        ));
    }
    for (cache, upstream) in &trusts {
        let config = cache.get(upstream).unwrap();
        assert_eq!(
            exchange(Arc::clone(&config), pki.revoked).unwrap_err(),
            revoked(),
            "{upstream}"
        );
        exchange(config, pki.good).unwrap_or_else(|err| panic!("{upstream}: {err}"));
    }
    // Without revocation, the same trust accepts the revoked server: the CRL is what refuses it.
    let plain = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(pki.ca.der())
        .build();
    exchange(cache().get(&plain).unwrap(), pki.revoked).unwrap();

    let stats = crls.stats();
    assert_eq!(
        (stats.crls, stats.revoked, stats.expired, stats.generation),
        (1, 1, 0, 1)
    );
    let info = crls.crls();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].issuer.as_deref(), Some("CN=revocation CA"));
    assert_eq!((info[0].revoked, info[0].skipped.as_deref()), (1, None));
    assert!(!info[0].expired_at(SystemTime::now()));
}

/// An operator drops a CRL into a watched directory: within a poll plus the debounce, with no
/// call from the application, a server it revokes is refused, by a config from the cache and by
/// a handle, and a session resumed before does not resume after (the trust set was rebuilt, with
/// fresh session stores).
#[test]
fn a_crl_added_to_a_watched_directory_is_in_force_and_no_session_resumes_across_it() {
    let pki = Pki::new("watched CRL CA");
    let dir = scratch_dir("revocation-watched");
    let crls_dir = dir.join("crls.d");
    std::fs::create_dir(&crls_dir).unwrap();
    let crls = Crls::new(CrlSource::new().with_dir(&crls_dir)).unwrap();
    assert!(crls.crls().is_empty());
    let _watching = Watcher::new()
        .with_poll_interval(Duration::from_millis(50))
        .start(crls.clone())
        .unwrap();
    let cache = cache();
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(pki.ca.der())
        .revocation(Revocation::new(crls.clone()))
        .build();
    let handle = cache.handle(&upstream).unwrap();
    assert_eq!(
        exchange(cache.get(&upstream).unwrap(), pki.revoked)
            .unwrap()
            .kind,
        HandshakeKind::Full
    );
    // The config from the cache and the handle's are one: the second connection resumed.
    assert_eq!(
        exchange(handle.config(), pki.revoked).unwrap().kind,
        HandshakeKind::Resumed
    );

    let generation = crls.generation();
    replace_file(&crls_dir.join("ca.crl"), pki.crl_pem(1, &[REVOKED]));
    wait_for("the watcher reads the new CRL", || {
        crls.generation() > generation
    });
    assert_eq!(
        exchange(cache.get(&upstream).unwrap(), pki.revoked).unwrap_err(),
        revoked(),
        "no session resumes across the CRL"
    );
    assert_eq!(
        exchange(handle.config(), pki.revoked).unwrap_err(),
        revoked()
    );
    exchange(handle.config(), pki.good).unwrap();
}

/// A writer cuts the CRL file short and leaves it so (settled: not a torn read): the read is
/// refused, the last good set stays in force, and the whole file is read once written.
#[test]
fn a_crl_cut_mid_write_never_replaces_the_last_good_one() {
    let pki = Pki::new("cut CRL CA");
    let dir = scratch_dir("revocation-cut");
    let file = write_settled(dir.join("ca.crl"), pki.crl_pem(1, &[REVOKED]));
    let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(pki.ca.der())
        .revocation(Revocation::new(crls.clone()))
        .build();
    let cache = cache();

    let next = pki.crl_pem(2, &[REVOKED, GOOD]);
    write_settled(file.clone(), &next[..next.len() / 2]);
    let err = crls.reload().unwrap_err();
    assert!(
        matches!(&err, CrlError::CutShort { path, .. } if path == &file),
        "{err:?}"
    );
    assert_eq!(crls.generation(), 1);
    assert!(matches!(crls.last_error(), Some(CrlError::CutShort { .. })));
    assert_eq!(crls.stats().rejected_reloads, 1);
    // The last good set: the revoked server refused, the other accepted.
    assert_eq!(
        exchange(cache.get(&upstream).unwrap(), pki.revoked).unwrap_err(),
        revoked()
    );
    exchange(cache.get(&upstream).unwrap(), pki.good).unwrap();

    write_settled(file, &next);
    assert!(crls.reload().unwrap());
    assert_eq!(crls.generation(), 2);
    assert!(crls.last_error().is_none());
    assert_eq!(
        exchange(cache.get(&upstream).unwrap(), pki.good).unwrap_err(),
        revoked()
    );
}

/// A CRL named for the trust set's CA but signed by another key (another CA of the same name)
/// is skipped, with the reason in a `warn` line; the real CA's CRL still applies.
#[test]
fn a_crl_signed_by_another_ca_is_skipped_with_the_reason() {
    logs::install();
    let pki = Pki::new("impostor target CA");
    let impostor = Ca::new("impostor target CA");
    let dir = scratch_dir("revocation-impostor");
    let real = write_settled(dir.join("real.crl"), pki.crl_pem(1, &[REVOKED]));
    let forged = impostor.crl(2, &[GOOD], in_days(30));
    let forged_path = write_settled(dir.join("forged.crl"), forged.der.as_ref());
    // The forged one first: webpki consults the first CRL with authority for a certificate.
    let crls = Crls::new(CrlSource::new().with_file(&forged_path).with_file(&real)).unwrap();
    assert_eq!(
        crls.crls().len(),
        2,
        "both are CRLs: read, then judged per trust set"
    );
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(pki.ca.der())
        .revocation(Revocation::new(crls))
        .build();
    let config = cache().get(&upstream).unwrap();
    exchange(Arc::clone(&config), pki.good).unwrap();
    assert_eq!(exchange(config, pki.revoked).unwrap_err(), revoked());
    let warned = logs::lines(log::Level::Warn, "signed by another CA");
    assert!(
        warned
            .iter()
            .any(|line| line.contains(&forged_path.display().to_string())),
        "{warned:?}"
    );
}

/// A directory of CRLs holds a file that is none: it is skipped with the reason, the others
/// apply.
#[test]
fn a_file_that_holds_no_crl_is_skipped_with_the_reason() {
    let pki = Pki::new("dir CRL CA");
    let dir = scratch_dir("revocation-dir");
    write_settled(dir.join("a.crl"), pki.crl_pem(1, &[REVOKED]));
    write_settled(dir.join("b.txt"), "not a CRL\n");
    write_settled(dir.join("c.pem"), pki.ca.pem());
    let crls = Crls::new(CrlSource::new().with_dir(&*dir)).unwrap();
    let info = crls.crls();
    let skipped: Vec<_> = info.iter().filter_map(|i| i.skipped.as_deref()).collect();
    assert_eq!(info.len() - skipped.len(), 1, "{info:?}");
    assert_eq!(skipped.len(), 2, "{info:?}");
    assert!(
        skipped.iter().any(|why| why.starts_with("not a CRL")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|why| why.contains("no X509 CRL section")),
        "{skipped:?}"
    );
}

/// Only the first check sees the change; the second reads it (the debounce), and an unchanged
/// set is not swapped.
#[test]
fn checks_read_a_change_once_it_holds_still() {
    let pki = Pki::new("debounce CRL CA");
    let dir = scratch_dir("revocation-debounce");
    let file = write_settled(dir.join("ca.crl"), pki.crl_pem(1, &[]));
    let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
    assert!(matches!(crls.check_for_changes(), CrlCheck::Unchanged));
    write_settled(file.clone(), pki.crl_pem(2, &[REVOKED]));
    assert!(matches!(crls.check_for_changes(), CrlCheck::Pending));
    assert!(matches!(crls.check_for_changes(), CrlCheck::Reloaded));
    assert_eq!(crls.generation(), 2);
    settle(&file);
    let before = crls.generation();
    assert!(!matches!(crls.check_for_changes(), CrlCheck::Reloaded));
    assert_eq!(crls.generation(), before);
    let _ = Path::new(&file);
}

/// A CRL past its next update is warned of once however often it is looked at, counted by
/// `stats()` (and the facade's gauge with the `metrics` feature), and still revokes what it lists
/// unless expiry is enforced, in which case it fails the handshake.
#[test]
fn an_expired_crl_is_warned_of_once_and_applied_unless_expiry_is_enforced() {
    logs::install();
    let pki = Pki::new("expired CRL CA");
    let dir = scratch_dir("revocation-expired");
    let past = SystemTime::now() - Duration::from_secs(60);
    let file = write_settled(dir.join("expired.crl"), pki.ca.crl(1, &[REVOKED], past).pem);
    let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
    for _ in 0..3 {
        crls.check_for_changes();
    }
    let needle = format!(
        "CRL past its next update: CN=expired CRL CA ({})",
        file.display()
    );
    assert_eq!(logs::lines(log::Level::Warn, &needle).len(), 1);
    assert_eq!(crls.stats().expired, 1);
    #[cfg(feature = "metrics")]
    {
        let recorded = test_pki::metrics::Recorded::new();
        recorded.run(|| crls.stats());
        let source = [("source", format!("files {}", file.display()))];
        let labels: Vec<(&str, &str)> = source.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            recorded.gauge("tls_client_crls_expired", &labels),
            Some(1.0)
        );
    }

    let applied = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(pki.ca.der())
        .revocation(Revocation::new(crls.clone()))
        .build();
    assert_eq!(
        exchange(cache().get(&applied).unwrap(), pki.revoked).unwrap_err(),
        revoked()
    );
    let enforced = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(pki.ca.der())
        .revocation(Revocation::new(crls).enforce_expiry())
        .build();
    assert!(matches!(
        exchange(cache().get(&enforced).unwrap(), pki.good).unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::ExpiredRevocationList)
            | rustls::Error::InvalidCertificate(
                CertificateError::ExpiredRevocationListContext { .. }
            )
    ),);
}
