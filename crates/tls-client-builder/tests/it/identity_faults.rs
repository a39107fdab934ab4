//! Faults of a rotating identity (issue 12 §5): each has a clear outcome (an error naming the
//! file, a `warn`), and none loses the identity or the config in use: the next handshake still
//! presents the last good identity, through the same config.

use std::error::Error as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant, UNIX_EPOCH};

use native_roots_cache::Unread;
use rustls::ClientConfig;
use tls_client_builder::{
    IdentityCheck, IdentityError, IdentityMaterial, IdentitySource, RotatingIdentity, TlsVersions,
};

use crate::logs;
use crate::rotation::{MtlsServer, identity_files, write_identity};
use crate::support::{Ca, Leaf, cache, exchange, provider, replace_file};

/// An identity from files holding a good leaf, in use by a config against an mTLS server that
/// accepts that leaf.
struct InUse {
    client_ca: Ca,
    good: Leaf,
    chain: PathBuf,
    key: PathBuf,
    identity: RotatingIdentity,
    server: MtlsServer,
    config: Arc<ClientConfig>,
}

impl InUse {
    fn new(name: &str) -> Self {
        logs::install();
        let client_ca = Ca::new(&format!("{name} client CA"));
        let good = client_ca.client_leaf();
        let (chain, key) = identity_files(name, &good);
        let identity =
            RotatingIdentity::with_provider(name, IdentitySource::files(&chain, &key), provider())
                .unwrap();
        let server = MtlsServer::start(&client_ca, &good);
        let config = cache()
            .get(&server.upstream(&identity, TlsVersions::Tls13Only))
            .unwrap();
        Self {
            client_ca,
            good,
            chain,
            key,
            identity,
            server,
            config,
        }
    }

    /// The identity in use is still the good one, and a handshake through the same config
    /// presents it.
    fn assert_good_identity_in_use(&self) {
        assert_eq!(self.identity.rotations(), 0);
        assert_eq!(self.identity.certified_key().cert[0], self.good.chain[0]);
        exchange(Arc::clone(&self.config), self.server.addr).unwrap();
        assert_eq!(self.server.last_leaf(), self.good.chain[0]);
    }

    /// The refusal was logged at `warn`, naming the identity and `path`.
    fn assert_warned(&self, path: &Path) {
        let lines = logs::lines(log::Level::Warn, &path.display().to_string());
        assert!(
            lines.iter().any(|line| line.contains(self.identity.name())
                && line.contains("keeping the identity in use")),
            "no warn line naming {}: {lines:?}",
            path.display()
        );
    }
}

#[test]
fn a_key_that_does_not_match_keeps_the_identity_in_use() {
    let in_use = InUse::new("fault-key-mismatch");
    // A renewed certificate, but the old key left in place.
    let renewed = in_use.client_ca.client_leaf();
    replace_file(&in_use.chain, &renewed.chain_pem);

    let err = in_use.identity.reload().unwrap_err();
    assert!(matches!(err, IdentityError::KeyMismatch { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the private key in {} does not match the certificate in {}",
            in_use.key.display(),
            in_use.chain.display()
        )
    );
    assert!(
        err.source()
            .and_then(|s| s.downcast_ref::<Arc<rustls::Error>>())
            .is_some()
    );
    assert!(matches!(
        in_use.identity.last_error(),
        Some(IdentityError::KeyMismatch { .. })
    ));
    in_use.assert_warned(&in_use.chain);
    in_use.assert_good_identity_in_use();

    // The key arrives: the pair is used, and the last error is cleared.
    replace_file(&in_use.key, &renewed.key_pem);
    assert!(in_use.identity.reload().unwrap());
    assert!(in_use.identity.last_error().is_none());

    // A first read that fails leaves no identity to use: construction fails.
    let other = in_use.client_ca.client_leaf();
    replace_file(&in_use.key, &other.key_pem);
    let err = RotatingIdentity::with_provider(
        "fault-key-mismatch-new",
        IdentitySource::files(&in_use.chain, &in_use.key),
        provider(),
    )
    .unwrap_err();
    assert!(matches!(err, IdentityError::KeyMismatch { .. }), "{err:?}");
}

#[test]
fn a_chain_file_that_does_not_parse_keeps_the_identity_in_use() {
    let in_use = InUse::new("fault-chain-parse");

    // Cut inside a certificate: bad PEM.
    let cut = &in_use.good.chain_pem[..in_use.good.chain_pem.len() / 2];
    replace_file(&in_use.chain, cut);
    let err = in_use.identity.reload().unwrap_err();
    assert!(
        matches!(
            err,
            IdentityError::Pem {
                expected: "CERTIFICATE",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("bad PEM in {}: ", in_use.chain.display())),
        "{err}"
    );

    // Well-formed PEM around bytes that are no certificate.
    replace_file(
        &in_use.chain,
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    );
    let err = in_use.identity.reload().unwrap_err();
    assert!(
        matches!(err, IdentityError::Certificate { index: 0, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "certificate #0 in {} does not parse",
            in_use.chain.display()
        )
    );
    in_use.assert_warned(&in_use.chain);
    in_use.assert_good_identity_in_use();
}

#[test]
fn an_expired_leaf_keeps_the_identity_in_use() {
    let in_use = InUse::new("fault-expired");
    let expired = in_use.client_ca.client_leaf_until(2000);
    write_identity(&in_use.chain, &in_use.key, &expired);

    let err = in_use.identity.reload().unwrap_err();
    let IdentityError::Expired { not_after, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*not_after, UNIX_EPOCH + Duration::from_secs(946_684_800));
    assert_eq!(
        err.to_string(),
        format!(
            "the certificate in {} expired at 2000-01-01T00:00:00Z",
            in_use.chain.display()
        )
    );
    in_use.assert_warned(&in_use.chain);
    in_use.assert_good_identity_in_use();
    assert!(in_use.identity.not_after() > std::time::SystemTime::now());
}

#[test]
fn deleted_files_keep_the_identity_in_use_until_they_come_back() {
    let in_use = InUse::new("fault-deleted");
    std::fs::remove_file(&in_use.chain).unwrap();
    std::fs::remove_file(&in_use.key).unwrap();

    // Debounced: the deletion is noticed, held, then read, and fails once.
    assert!(matches!(
        in_use.identity.check_for_changes(),
        IdentityCheck::Pending
    ));
    let IdentityCheck::Failed(err) = in_use.identity.check_for_changes() else {
        panic!("the deletion was not read");
    };
    assert!(matches!(err, IdentityError::Read { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("cannot read {}", in_use.chain.display())
    );
    // The source is the `Arc` that keeps the error `Clone`.
    let source = err
        .source()
        .and_then(|s| s.downcast_ref::<Arc<std::io::Error>>());
    assert_eq!(
        source.map(|source| source.kind()),
        Some(std::io::ErrorKind::NotFound)
    );
    in_use.assert_warned(&in_use.chain);
    let warned = logs::lines(log::Level::Warn, &in_use.chain.display().to_string()).len();
    // A failed change is not read again (nor warned about) until the files change again.
    for _ in 0..3 {
        assert!(matches!(
            in_use.identity.check_for_changes(),
            IdentityCheck::Unchanged
        ));
    }
    assert_eq!(
        logs::lines(log::Level::Warn, &in_use.chain.display().to_string()).len(),
        warned
    );
    in_use.assert_good_identity_in_use();

    // The files come back, renewed: the next change is picked up.
    let renewed = in_use.client_ca.client_leaf();
    write_identity(&in_use.chain, &in_use.key, &renewed);
    assert!(matches!(
        in_use.identity.check_for_changes(),
        IdentityCheck::Pending
    ));
    assert!(matches!(
        in_use.identity.check_for_changes(),
        IdentityCheck::Rotated
    ));
    assert!(in_use.identity.last_error().is_none());
}

#[test]
fn a_chain_file_emptied_just_now_is_a_pending_change_not_a_failure() {
    let in_use = InUse::new("fault-emptied");
    // A writer that truncates first (`cat >`), caught before it writes.
    std::fs::write(&in_use.chain, "").unwrap();
    for _ in 0..4 {
        assert!(matches!(
            in_use.identity.check_for_changes(),
            IdentityCheck::Pending
        ));
    }
    // Not taken for a refused identity: nothing is warned about, and it is read again.
    assert!(logs::lines(log::Level::Warn, &in_use.chain.display().to_string()).is_empty());
    in_use.assert_good_identity_in_use();
}

/// A callback answering `leaf`, or blocking until released, or panicking, as the test says.
struct ScriptedCallback {
    leaf: Mutex<Leaf>,
    block: AtomicBool,
    panic: AtomicBool,
    release: Mutex<Option<mpsc::Receiver<()>>>,
    calls: AtomicUsize,
}

impl ScriptedCallback {
    fn new(leaf: &Leaf) -> Arc<Self> {
        Arc::new(Self {
            leaf: Mutex::new(leaf.clone()),
            block: AtomicBool::new(false),
            panic: AtomicBool::new(false),
            release: Mutex::new(None),
            calls: AtomicUsize::new(0),
        })
    }

    fn source(self: &Arc<Self>, timeout: Duration) -> IdentitySource {
        let script = Arc::clone(self);
        IdentitySource::callback(move || {
            script.calls.fetch_add(1, Ordering::SeqCst);
            if script.panic.load(Ordering::SeqCst) {
                panic!("the vault client blew up");
            }
            if script.block.load(Ordering::SeqCst) {
                let release = script
                    .release
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(release) = release {
                    let _ = release.recv();
                }
            }
            let leaf = script
                .leaf
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            Ok(IdentityMaterial::from_pem(leaf.chain_pem, leaf.key_pem)?)
        })
        .with_timeout(timeout)
    }
}

#[test]
fn a_blocked_callback_is_abandoned_after_its_timeout_and_keeps_the_identity_in_use() {
    logs::install();
    let client_ca = Ca::new("blocked callback CA");
    let (good, renewed) = (client_ca.client_leaf(), client_ca.client_leaf());
    let script = ScriptedCallback::new(&good);
    let identity = RotatingIdentity::with_provider(
        "fault-blocked-callback",
        script.source(Duration::from_millis(50)),
        provider(),
    )
    .unwrap();
    let server = MtlsServer::start(&client_ca, &good);
    let config = cache()
        .get(&server.upstream(&identity, TlsVersions::Tls13Only))
        .unwrap();

    let (release, released) = mpsc::channel();
    *script
        .release
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(released);
    script.block.store(true, Ordering::SeqCst);
    *script.leaf.lock().unwrap_or_else(PoisonError::into_inner) = renewed.clone();

    let err = identity.reload().unwrap_err();
    assert!(
        matches!(
            err,
            IdentityError::Unfinished {
                source: Unread::Deadline { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "reading the identity did not finish (timeout 50ms)"
    );
    assert_eq!(
        err.source().map(ToString::to_string).as_deref(),
        Some("the read did not finish within its deadline")
    );
    assert!(
        err.advice()
            .starts_with("the callback (or a file read) is blocked")
    );
    // Handshakes never wait for the callback: the identity in use is presented meanwhile.
    exchange(Arc::clone(&config), server.addr).unwrap();
    assert_eq!(server.last_leaf(), good.chain[0]);
    // While the abandoned call still runs, no second one starts.
    let calls = script.calls.load(Ordering::SeqCst);
    assert!(matches!(
        identity.check_for_changes(),
        IdentityCheck::Failed(IdentityError::Unfinished {
            source: Unread::StillRunning { .. },
            ..
        })
    ));
    assert_eq!(script.calls.load(Ordering::SeqCst), calls);
    assert!(!logs::lines(log::Level::Warn, "fault-blocked-callback").is_empty());

    // Released, the callback ends; the next check calls it again and rotates.
    script.block.store(false, Ordering::SeqCst);
    release.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match identity.check_for_changes() {
            IdentityCheck::Rotated => break,
            IdentityCheck::Failed(IdentityError::Unfinished { .. }) => {
                assert!(
                    Instant::now() < deadline,
                    "the released callback never ended"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            other => panic!("{other:?}"),
        }
    }
    server.verifier.pin(&renewed);
    exchange(config, server.addr).unwrap();
    assert_eq!(server.last_leaf(), renewed.chain[0]);
}

#[test]
fn a_panicking_or_failing_callback_keeps_the_identity_in_use() {
    logs::install();
    let client_ca = Ca::new("panicking callback CA");
    let good = client_ca.client_leaf();
    let script = ScriptedCallback::new(&good);
    let identity = RotatingIdentity::with_provider(
        "fault-panicking-callback",
        script.source(IdentitySource::DEFAULT_TIMEOUT),
        provider(),
    )
    .unwrap();
    let server = MtlsServer::start(&client_ca, &good);
    let config = cache()
        .get(&server.upstream(&identity, TlsVersions::Tls12Only))
        .unwrap();

    script.panic.store(true, Ordering::SeqCst);
    let err = identity.reload().unwrap_err();
    assert!(
        matches!(
            err,
            IdentityError::Unfinished {
                source: Unread::Panicked(ref message),
                ..
            } if message == "the vault client blew up"
        ),
        "{err:?}"
    );
    assert_eq!(err.advice(), "fix the identity callback");
    exchange(Arc::clone(&config), server.addr).unwrap();
    assert_eq!(server.last_leaf(), good.chain[0]);

    // A callback that answers an error: its error is the source.
    script.panic.store(false, Ordering::SeqCst);
    *script.leaf.lock().unwrap_or_else(PoisonError::into_inner) = Leaf {
        chain_pem: "not PEM".to_owned(),
        ..good.clone()
    };
    let err = identity.reload().unwrap_err();
    assert!(matches!(err, IdentityError::Callback { .. }), "{err:?}");
    let cause = err
        .source()
        .and_then(|s| s.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>())
        .and_then(|s| s.downcast_ref::<IdentityError>())
        .unwrap();
    assert!(
        cause.to_string().contains("no certificate found"),
        "{cause}"
    );
    assert!(!logs::lines(log::Level::Warn, "fault-panicking-callback").is_empty());
    exchange(config, server.addr).unwrap();
    assert_eq!(server.last_leaf(), good.chain[0]);
    assert_eq!(identity.rotations(), 0);
}
