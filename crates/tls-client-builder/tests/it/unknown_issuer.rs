//! Reload on the first unknown issuer (issue 19 §4), with real files and a loopback server and no
//! watcher: the failing handshake is the signal that has the bundle looked at, and a CA rolled out
//! a moment ago is trusted at the next lookup; a storm of failures starts about one look a second.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use native_roots_cache::{PemFiles, RootsCache};
use rustls::CertificateError;
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

use crate::support::{
    Ca, ScratchDir, ServerOptions, cache, exchange, replace_file, scratch_dir, spawn_server,
};

const UNKNOWN_ISSUER: rustls::Error =
    rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);

/// A cache over a bundle of `trusted` (a real file, no watcher), the upstream key of the native
/// roots, and a loopback server whose certificate `issuer` signed.
fn setup(tag: &str, trusted: &Ca, issuer: &Ca) -> Setup {
    let dir = scratch_dir(tag);
    let bundle = dir.write("bundle.pem", &trusted.pem());
    let roots = Arc::new(RootsCache::with_source(PemFiles::new().with_file(&bundle)));
    Setup {
        configs: cache().with_roots(Arc::clone(&roots)),
        upstream: UpstreamTls::builder(Trust::Native).build(),
        addr: spawn_server(&issuer.server_leaf(), ServerOptions::default()),
        bundle,
        roots,
        _dir: dir,
    }
}

/// What `setup` made; the scratch directory is deleted when `_dir` drops, so bind it.
struct Setup {
    configs: ClientConfigCache,
    upstream: UpstreamTls,
    addr: SocketAddr,
    bundle: PathBuf,
    roots: Arc<RootsCache<PemFiles>>,
    _dir: ScratchDir,
}

#[test]
fn a_ca_added_after_an_unknown_issuer_is_trusted_within_two_seconds() {
    let (old, new) = (Ca::new("Old Root"), Ca::new("Rolled Out Root"));
    let Setup {
        configs,
        upstream,
        addr,
        bundle,
        roots,
        _dir,
        ..
    } = setup("unknown-issuer", &old, &new);

    let err = exchange(configs.get(&upstream).unwrap(), addr).unwrap_err();
    assert_eq!(err, UNKNOWN_ISSUER);
    // The operator rolls the CA out: a new file renamed over the bundle.
    replace_file(&bundle, [old.pem(), new.pem()].concat());
    let rolled_out = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(100));
        match exchange(configs.get(&upstream).unwrap(), addr) {
            Ok(_) => break,
            Err(err) => assert_eq!(err, UNKNOWN_ISSUER),
        }
        assert!(
            rolled_out.elapsed() < Duration::from_secs(2),
            "the new CA is still unknown 2 s after it was written"
        );
    }
    assert_eq!(roots.generation(), 2);
    assert!(configs.stats().unknown_issuer_checks >= 1);
}

#[test]
fn a_storm_of_unknown_issuers_starts_about_one_look_a_second() {
    let (trusted, unknown) = (Ca::new("Trusted Root"), Ca::new("Unknown Root"));
    let Setup {
        configs,
        upstream,
        addr,
        roots,
        _dir,
        ..
    } = setup("unknown-issuer-storm", &trusted, &unknown);

    let started = Instant::now();
    for _ in 0..1_000 {
        let err = exchange(configs.get(&upstream).unwrap(), addr).unwrap_err();
        assert_eq!(err, UNKNOWN_ISSUER);
    }
    let seconds = started.elapsed().as_secs();
    let looks = configs.stats().unknown_issuer_checks;
    println!(
        "1,000 failing handshakes in {:?}: {looks} looks",
        started.elapsed()
    );
    assert!(looks >= 1, "the first failure starts a look");
    assert!(
        looks <= seconds + 1,
        "{looks} looks in {seconds} whole seconds: at most one a second"
    );
    // Nothing changed on disk, so nothing was read again after the first load.
    assert_eq!(roots.stats().loads, 1);
}

#[test]
fn the_look_can_be_turned_off() {
    let (trusted, unknown) = (Ca::new("Trusted Root"), Ca::new("Unknown Root"));
    let Setup {
        configs,
        upstream,
        addr,
        _dir,
        ..
    } = setup("unknown-issuer-off", &trusted, &unknown);
    let configs = configs.reload_on_unknown_issuer(false);
    let err = exchange(configs.get(&upstream).unwrap(), addr).unwrap_err();
    assert_eq!(err, UNKNOWN_ISSUER);
    assert_eq!(configs.stats().unknown_issuer_checks, 0);
}
