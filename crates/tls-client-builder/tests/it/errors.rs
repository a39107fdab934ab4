//! `BuildError` and `IdentityError`: `Display` is one short lowercase line naming what is at
//! fault; the cause is the typed source (`rustls::Error`, `NativeRootsError`, `io::Error`), never
//! rendered into the message; what to do is `advice()`, never in the message either.

use std::error::Error;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use tls_client_builder::{
    BuildError, ClientConfigCache, IdentityError, IdentityMaterial, IdentitySource,
    RotatingIdentity, TlsVersions, Trust, UpstreamTls,
};

use crate::logs;
use crate::support::{Ca, cache, provider};

/// The shape every public error of the crate has: a one-line lowercase `Display` without the
/// advice or its cause in it, and advice of its own.
fn assert_rustls_style(err: &(dyn Error + 'static), advice: &str) {
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text:?}");
    assert!(
        text.starts_with(|c: char| !c.is_uppercase()),
        "starts lowercase: {text:?}"
    );
    assert!(!text.ends_with('.'), "not a sentence: {text:?}");
    assert!(
        !text.contains(". ") && !text.contains("; "),
        "one clause: {text:?}"
    );
    assert!(
        !advice.is_empty() && !text.contains(advice),
        "{text:?} / {advice:?}"
    );
    if let Some(source) = err.source() {
        assert!(
            !text.contains(&source.to_string()),
            "{text:?} repeats its source"
        );
    }
}

/// Every `Display` of the error and its sources, outermost first.
fn chain(err: &(dyn Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(err), |&err| err.source())
        .map(ToString::to_string)
        .collect()
}

fn rustls_source(err: &BuildError) -> Option<&rustls::Error> {
    err.source()?.downcast_ref::<rustls::Error>()
}

#[test]
fn an_unusable_anchor_keeps_the_rustls_error() {
    let ca = Ca::new("good CA");
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .extra_anchor_der(ca.der())
        .extra_anchor_der(vec![0x30, 0x03, 0x02, 0x01, 0x00])
        .build();
    let err = cache().get(&upstream).unwrap_err();
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
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .client_identity_der(one.chain.clone(), other.key())
        .build();
    let err = cache().get(&upstream).unwrap_err();
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
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .versions(TlsVersions::Tls12Only)
        .build();
    let err = cache.get(&upstream).unwrap_err();
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
    assert_eq!(cache.get(&upstream).unwrap_err(), err);
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

#[test]
fn every_build_error_is_one_line_with_its_cause_and_advice_apart() {
    let ca = Ca::new("style CA");
    let one = ca.client_leaf();
    let other = ca.client_leaf();
    let no_anchors = cache()
        .get(&UpstreamTls::builder(Trust::AnchorsOnly).build())
        .unwrap_err();
    let bad_anchor = cache()
        .get(
            &UpstreamTls::builder(Trust::AnchorsOnly)
                .extra_anchor_der(vec![0x30, 0x03, 0x02, 0x01, 0x00])
                .build(),
        )
        .unwrap_err();
    let rejected_identity = cache()
        .get(
            &UpstreamTls::builder(Trust::AnchorsOnly)
                .extra_anchor_der(ca.der())
                .client_identity_der(one.chain.clone(), other.key())
                .build(),
        )
        .unwrap_err();
    let bad_pem = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem("no PEM here")
        .unwrap_err();
    for (err, causes) in [
        (&no_anchors, 0),
        (&bad_anchor, 1),
        (&rejected_identity, 1),
        (&bad_pem, 0),
    ] {
        assert_rustls_style(err, err.advice());
        assert_eq!(chain(err).len(), 1 + causes, "{err:?}");
    }
    assert_eq!(
        chain(&bad_anchor)[1],
        rustls_source(&bad_anchor).unwrap().to_string()
    );
    assert!(no_anchors.advice().contains("extra_anchors_pem"));
    assert!(bad_pem.advice().contains("BEGIN CERTIFICATE"));
}

/// A `BuildError` is returned, not logged: neither a bad argument that its caller handles nor a
/// failed build leaves a log line, at any level.
#[test]
fn making_a_build_error_logs_nothing() {
    logs::install();
    let bad_pem = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem("no PEM here")
        .unwrap_err();
    let no_anchors = cache()
        .get(&UpstreamTls::builder(Trust::AnchorsOnly).build())
        .unwrap_err();
    for err in [&bad_pem, &no_anchors] {
        let text = err.to_string();
        for level in [
            log::Level::Error,
            log::Level::Warn,
            log::Level::Info,
            log::Level::Debug,
            log::Level::Trace,
        ] {
            let lines = logs::lines(level, &text);
            assert!(lines.is_empty(), "{err:?} was logged: {lines:?}");
        }
    }
}

#[test]
fn every_identity_error_is_one_line_with_its_cause_and_advice_apart() {
    let missing = std::env::temp_dir().join("tls-client-builder-no-such-dir");
    let unreadable = first_read_error(IdentitySource::files(
        missing.join("chain.pem"),
        missing.join("key.pem"),
    ));
    assert!(
        matches!(unreadable, IdentityError::Read { .. }),
        "{unreadable:?}"
    );
    assert_rustls_style(&unreadable, unreadable.advice());
    // The cause is the operating system's error, behind the `Arc` that keeps it `Clone`.
    let io = unreadable
        .source()
        .and_then(|s| s.downcast_ref::<Arc<std::io::Error>>())
        .expect("an io::Error source");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(chain(&unreadable).len(), 2);
    assert_eq!(unreadable.advice(), "check the path and its permissions");

    let bad_pem = IdentityMaterial::from_pem("no PEM", "").unwrap_err();
    assert!(matches!(bad_pem, IdentityError::Pem { .. }), "{bad_pem:?}");
    assert_rustls_style(&bad_pem, bad_pem.advice());
    assert!(bad_pem.source().is_none());

    let ca = Ca::new("identity style CA");
    let one = ca.client_leaf();
    let other = ca.client_leaf();
    let mismatched = IdentityMaterial::new(one.chain.clone(), other.key());
    let mismatch = first_read_error(IdentitySource::callback(move || Ok(mismatched.clone())));
    assert!(
        matches!(mismatch, IdentityError::KeyMismatch { .. }),
        "{mismatch:?}"
    );
    assert_rustls_style(&mismatch, mismatch.advice());
    assert!(
        mismatch
            .source()
            .and_then(|s| s.downcast_ref::<Arc<rustls::Error>>())
            .is_some()
    );
}

/// The error of an identity's first read from `source`.
fn first_read_error(source: IdentitySource) -> IdentityError {
    RotatingIdentity::with_provider("style", source, provider()).unwrap_err()
}
