//! `BuildError`: `Display` is one short line naming what is at fault; the cause is the typed
//! source (`rustls::Error`, `NativeRootsError`), never rendered into the message.

use std::error::Error as _;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use tls_client_builder::{BuildError, ClientConfigCache, TlsVersions, Trust, UpstreamTls};

use crate::support::{cache, Ca};

fn rustls_source(err: &BuildError) -> Option<&rustls::Error> {
    err.source()?.downcast_ref::<rustls::Error>()
}

#[test]
fn an_unusable_anchor_keeps_the_rustls_error() {
    let ca = Ca::new("good CA");
    let fingerprint = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .extra_anchor_der(ca.der())
        .extra_anchor_der(vec![0x30, 0x03, 0x02, 0x01, 0x00])
        .build();
    let err = cache().get(&fingerprint).unwrap_err();
    assert_eq!(err.to_string(), "extra trust anchor #2 is unusable");
    let source = rustls_source(&err).expect("a typed rustls error");
    assert!(
        matches!(source, rustls::Error::InvalidCertificate(_)),
        "{source:?}"
    );
    // The source's text is not repeated in the message.
    assert!(!err.to_string().contains(&source.to_string()));
}

#[test]
fn a_rejected_identity_keeps_the_rustls_error() {
    let ca = Ca::new("identity CA");
    let one = ca.client_leaf();
    let other = ca.client_leaf();
    let fingerprint = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .client_identity_der(one.chain.clone(), other.key())
        .build();
    let err = cache().get(&fingerprint).unwrap_err();
    assert_eq!(err.to_string(), "the client identity was rejected");
    assert!(rustls_source(&err).is_some(), "{err:?}");
}

#[test]
fn versions_without_cipher_suites_keep_the_rustls_error() {
    let ring = rustls::crypto::ring::default_provider();
    let tls13_only = CryptoProvider {
        cipher_suites: vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256],
        ..ring
    };
    let cache = ClientConfigCache::with_provider(Arc::new(tls13_only));
    let ca = Ca::new("versions CA");
    let fingerprint = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .versions(TlsVersions::Tls12Only)
        .build();
    let err = cache.get(&fingerprint).unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::Versions {
                versions: TlsVersions::Tls12Only,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the crypto provider cannot do TLS 1.2 only"
    );
    assert!(rustls_source(&err).is_some(), "{err:?}");
    // Cached errors compare equal, typed source included.
    assert_eq!(cache.get(&fingerprint).unwrap_err(), err);
}

#[test]
fn errors_without_a_source_say_what_is_at_fault() {
    let err = cache()
        .get(&UpstreamTls::builder(Trust::AnchorsOnly).build())
        .unwrap_err();
    assert_eq!(err, BuildError::NoAnchors);
    assert!(err.source().is_none());
    assert!(err.to_string().contains("AnchorsOnly"), "{err}");

    let err = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem("no PEM here")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad PEM in `extra_anchors_pem`: no certificate found"
    );
}
