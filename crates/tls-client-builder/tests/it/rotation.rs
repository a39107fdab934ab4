//! Client identity rotation (issue 12 §3): an identity named by a stable key, read from PEM files
//! or a callback, rotated under a config that stays the same object, with the config's session
//! store emptied so that no resumed session presents the old identity.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use native_roots_cache::Watcher;
use rustls::{AlertDescription, HandshakeKind};
use tls_client_builder::{
    IdentityCheck, IdentityMaterial, IdentitySource, RotatingIdentity, TlsVersions, Trust,
    UpstreamTls,
};

use crate::support::{
    Ca, ClientLeaves, Leaf, PinnedClientVerifier, ServerOptions, cache, exchange, fresh_dir,
    provider, replace_file, spawn_server,
};

/// The identity's two files in a fresh directory, holding `leaf`.
pub(crate) fn identity_files(name: &str, leaf: &Leaf) -> (PathBuf, PathBuf) {
    let dir = fresh_dir(name);
    let (chain, key) = (dir.join("client.crt"), dir.join("client.key"));
    write_identity(&chain, &key, leaf);
    (chain, key)
}

/// Replace both files, each by a rename, as a secrets agent does.
pub(crate) fn write_identity(chain: &std::path::Path, key: &std::path::Path, leaf: &Leaf) {
    replace_file(chain, &leaf.chain_pem);
    replace_file(key, &leaf.key_pem);
}

/// A server on 127.0.0.1 requiring a client certificate of `client_ca`, accepting only the one
/// pinned (at first `pinned`), and recording the client leaf of each connection.
pub(crate) struct MtlsServer {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) server_ca: Ca,
    pub(crate) verifier: Arc<PinnedClientVerifier>,
    pub(crate) leaves: ClientLeaves,
}

impl MtlsServer {
    pub(crate) fn start(client_ca: &Ca, pinned: &Leaf) -> Self {
        let server_ca = Ca::new("mtls rotation server CA");
        let verifier = PinnedClientVerifier::new(client_ca, pinned);
        let leaves = ClientLeaves::default();
        let addr = spawn_server(
            &server_ca.server_leaf(),
            ServerOptions {
                client_verifier: Some(verifier.clone()),
                client_leaves: Some(Arc::clone(&leaves)),
                ..ServerOptions::default()
            },
        );
        Self {
            addr,
            server_ca,
            verifier,
            leaves,
        }
    }

    /// The client leaf the server held for the last connection.
    pub(crate) fn last_leaf(&self) -> rustls::pki_types::CertificateDer<'static> {
        self.leaves
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last()
            .cloned()
            .unwrap()
    }

    /// An upstream key trusting this server, presenting `identity`.
    pub(crate) fn upstream(
        &self,
        identity: &RotatingIdentity,
        versions: TlsVersions,
    ) -> UpstreamTls {
        UpstreamTls::builder(Trust::AnchorsOnly)
            .extra_anchor_der(self.server_ca.der())
            .versions(versions)
            .rotating_client_identity(identity.clone())
            .build()
    }
}

fn rotation_presents_the_new_identity_through_the_same_config(versions: TlsVersions) {
    let client_ca = Ca::new("rotation client CA");
    let (old, new) = (client_ca.client_leaf(), client_ca.client_leaf());
    let server = MtlsServer::start(&client_ca, &old);
    let (chain, key) = identity_files(&format!("rotation-{versions:?}"), &old);
    let identity =
        RotatingIdentity::with_provider("billing", IdentitySource::files(&chain, &key), provider())
            .unwrap();
    let upstream = server.upstream(&identity, versions);
    let cache = cache();
    let handle = cache.handle(&upstream).unwrap();
    let config = handle.config();

    assert_eq!(
        exchange(handle.config(), server.addr).unwrap().kind,
        HandshakeKind::Full
    );
    assert_eq!(server.last_leaf(), old.chain[0]);
    // A session was stored: the next connection resumes (and would present the old identity).
    assert_eq!(
        exchange(handle.config(), server.addr).unwrap().kind,
        HandshakeKind::Resumed
    );

    // The certificate is renewed and the server stops accepting the old one.
    write_identity(&chain, &key, &new);
    server.verifier.pin(&new);
    // The change must hold still across two looks before it is read.
    assert!(matches!(
        identity.check_for_changes(),
        IdentityCheck::Pending
    ));
    assert!(matches!(
        identity.check_for_changes(),
        IdentityCheck::Rotated
    ));
    assert_eq!(identity.rotations(), 1);
    assert!(matches!(
        identity.check_for_changes(),
        IdentityCheck::Unchanged
    ));

    // Neither the upstream key nor the config changed.
    assert_eq!(server.upstream(&identity, versions), upstream);
    assert!(Arc::ptr_eq(&config, &handle.config()));
    assert!(Arc::ptr_eq(&config, &cache.get(&upstream).unwrap()));
    assert_eq!(cache.stats().builds, 1);

    // A full handshake presenting the new certificate, not a resumption of the old session.
    let after = exchange(Arc::clone(&config), server.addr).unwrap();
    assert_eq!(after.kind, HandshakeKind::Full);
    assert_eq!(server.last_leaf(), new.chain[0]);
    // Sessions resume again, now under the new identity.
    assert_eq!(
        exchange(Arc::clone(&config), server.addr).unwrap().kind,
        HandshakeKind::Resumed
    );
    assert_eq!(server.last_leaf(), new.chain[0]);

    // The server really refuses the old certificate now.
    let old_identity = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(server.server_ca.der())
        .versions(versions)
        .client_identity_pem(&old.chain_pem, &old.key_pem)
        .unwrap()
        .build();
    assert_eq!(
        exchange(cache.get(&old_identity).unwrap(), server.addr).unwrap_err(),
        rustls::Error::AlertReceived(AlertDescription::CertificateRevoked)
    );
}

#[test]
fn a_tls13_rotation_presents_the_new_identity_through_the_same_config() {
    rotation_presents_the_new_identity_through_the_same_config(TlsVersions::Tls13Only);
}

#[test]
fn a_tls12_rotation_presents_the_new_identity_through_the_same_config() {
    rotation_presents_the_new_identity_through_the_same_config(TlsVersions::Tls12Only);
}

#[test]
fn the_identity_reports_its_not_after() {
    let client_ca = Ca::new("not-after CA");
    let (chain, key) = identity_files("not-after", &client_ca.client_leaf_until(2030));
    let identity =
        RotatingIdentity::with_provider("reports", IdentitySource::files(&chain, &key), provider())
            .unwrap();
    assert_eq!(
        identity.not_after(),
        UNIX_EPOCH + Duration::from_secs(1_893_456_000)
    );
    write_identity(&chain, &key, &client_ca.client_leaf_until(2031));
    assert!(
        identity.reload().unwrap(),
        "an explicit reload does not wait"
    );
    assert_eq!(
        identity.not_after(),
        UNIX_EPOCH + Duration::from_secs(1_924_992_000)
    );
    // The same files again: no rotation.
    assert!(!identity.reload().unwrap());
    assert_eq!(identity.rotations(), 1);
}

#[test]
fn the_upstream_names_a_rotating_identity_by_its_key() {
    let client_ca = Ca::new("key CA");
    let (chain, key) = identity_files("upstream key-key", &client_ca.client_leaf());
    let source = IdentitySource::files(&chain, &key);
    let identity = RotatingIdentity::with_provider("billing", source.clone(), provider()).unwrap();
    let build = |identity: &RotatingIdentity| {
        UpstreamTls::builder(Trust::Native)
            .rotating_client_identity(identity.clone())
            .build()
    };
    let upstream = build(&identity);
    assert_eq!(upstream, build(&identity.clone()));
    assert_eq!(upstream.rotating_identity(), Some(&identity));
    assert_eq!(upstream.client_chain(), None);
    assert!(
        upstream
            .to_string()
            .contains("client-auth=rotating `billing`"),
        "{upstream}"
    );
    // Another identity of the same name and files is another key: a config never reads an
    // identity nobody follows.
    let again = RotatingIdentity::with_provider("billing", source, provider()).unwrap();
    assert_ne!(upstream, build(&again));
}

#[test]
fn a_watcher_rotates_the_identity_and_stops_when_dropped() {
    let client_ca = Ca::new("watcher CA");
    let (chain, key) = identity_files("watcher", &client_ca.client_leaf());
    let identity =
        RotatingIdentity::with_provider("watched", IdentitySource::files(&chain, &key), provider())
            .unwrap();
    let watching = Watcher::new()
        .with_poll_interval(Duration::from_millis(10))
        .start(identity.clone())
        .unwrap();
    assert!(watching.is_running());
    let new = client_ca.client_leaf();
    write_identity(&chain, &key, &new);

    let deadline = Instant::now() + Duration::from_secs(30);
    while identity.rotations() == 0 {
        assert!(Instant::now() < deadline, "the watcher never rotated");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(identity.certified_key().cert[0], new.chain[0]);
    watching.stop();
}

#[test]
fn a_callback_identity_rotates_when_the_callback_answers_another() {
    let client_ca = Ca::new("callback CA");
    let (old, new) = (client_ca.client_leaf(), client_ca.client_leaf());
    let server = MtlsServer::start(&client_ca, &old);
    let current = Arc::new(Mutex::new(old.clone()));
    let answer = Arc::clone(&current);
    let source = IdentitySource::callback(move || {
        let leaf = answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Ok(IdentityMaterial::from_pem(leaf.chain_pem, leaf.key_pem)?)
    });
    let identity = RotatingIdentity::with_provider("vault", source, provider()).unwrap();
    let config = cache()
        .get(&server.upstream(&identity, TlsVersions::Tls13Only))
        .unwrap();
    exchange(Arc::clone(&config), server.addr).unwrap();
    assert_eq!(server.last_leaf(), old.chain[0]);

    // The callback answers the identity in use: nothing changes.
    assert!(matches!(
        identity.check_for_changes(),
        IdentityCheck::Unchanged
    ));
    *current.lock().unwrap_or_else(PoisonError::into_inner) = new.clone();
    server.verifier.pin(&new);
    assert!(matches!(
        identity.check_for_changes(),
        IdentityCheck::Rotated
    ));
    let after = exchange(config, server.addr).unwrap();
    assert_eq!(after.kind, HandshakeKind::Full);
    assert_eq!(server.last_leaf(), new.chain[0]);
    assert!(identity.not_after() > SystemTime::now());
}
