//! `Trust::Platform` against `rustls_platform_verifier::Verifier` given the same environment: for
//! each case of the table, a loopback server, a handshake through each, and the same verdict and
//! the same rustls error. Its own binary: the platform verifier reads the system store from the
//! environment (`SSL_CERT_FILE` on Linux), so each environment runs in a child of its own
//! (`test_pki::alone`), given its `SSL_CERT_FILE` at its start.
//!
//! On Linux and the BSDs the system store is a bundle of the test's; where the operating system
//! verifies (macOS, Windows), only the cases that do not depend on the machine's store run (a
//! private CA given as an extra anchor, or trusted by nobody).
#![cfg(feature = "platform-verifier")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rcgen::ExtendedKeyUsagePurpose;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, Error};
use rustls_platform_verifier::Verifier;
use test_pki::{Ca, Leaf, ServerOptions, exchange, provider, spawn_server};
use tls_client_builder::{BuildError, ClientConfigCache, Trust, UpstreamTls};

/// Whether the platform verifier reads `SSL_CERT_FILE` here (webpki over the native store).
const FILE_STORE: bool = cfg!(not(any(
    target_vendor = "apple",
    windows,
    target_os = "android"
)));

fn alone(test: &str, bundle: &'static str) -> bool {
    test_pki::alone(test, |dir| vec![("SSL_CERT_FILE", dir.join(bundle).into())])
}

fn bundle() -> std::path::PathBuf {
    std::env::var_os("SSL_CERT_FILE").unwrap().into()
}

/// The platform verifier as reqwest 0.13 builds it: a new one over the store as it is now.
fn platform_config(extra: &[CertificateDer<'static>]) -> Result<Arc<ClientConfig>, Error> {
    let verifier = Verifier::new_with_extra_roots(extra.iter().cloned(), provider())?;
    Ok(Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
    ))
}

/// Ours: `Trust::Platform` from the process-wide native roots.
fn our_config(
    cache: &ClientConfigCache,
    extra: &[CertificateDer<'static>],
) -> Result<Arc<ClientConfig>, BuildError> {
    let mut upstream = UpstreamTls::builder(Trust::Platform);
    for anchor in extra {
        upstream = upstream.extra_anchor_der(anchor.clone());
    }
    cache.get(&upstream.build())
}

/// The same rustls error: equal, or for the errors rustls never finds equal (`Other`, and the
/// dated ones, whose time is the moment of each handshake), the same variant and text but for the
/// time.
fn same_error(ours: &Error, theirs: &Error) -> bool {
    use rustls::CertificateError::{ExpiredContext, Other};
    match (ours, theirs) {
        (
            Error::InvalidCertificate(ExpiredContext { not_after: a, .. }),
            Error::InvalidCertificate(ExpiredContext { not_after: b, .. }),
        ) => a == b,
        (Error::InvalidCertificate(Other(a)), Error::InvalidCertificate(Other(b))) => {
            a.to_string() == b.to_string()
        }
        _ => ours == theirs,
    }
}

struct Case {
    name: &'static str,
    leaf: Leaf,
    extra: Vec<CertificateDer<'static>>,
    accepted: bool,
}

fn leaf_for(ca: &Ca, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Leaf {
    ca.issue(names, purpose)
}

/// Run every case through both and compare; returns the cases run.
fn compare(cases: &[Case]) -> usize {
    let cache = ClientConfigCache::with_provider(provider());
    for case in cases {
        let addr = spawn_server(&case.leaf, ServerOptions::default());
        let theirs = exchange(platform_config(&case.extra).unwrap(), addr).map(|_| ());
        let ours = exchange(our_config(&cache, &case.extra).unwrap(), addr).map(|_| ());
        assert_eq!(theirs.is_ok(), case.accepted, "{}: {theirs:?}", case.name);
        match (&ours, &theirs) {
            (Ok(()), Ok(())) => {}
            (Err(ours), Err(theirs)) => assert!(
                same_error(ours, theirs),
                "{}: ours {ours:?}, the platform verifier's {theirs:?}",
                case.name
            ),
            _ => panic!(
                "{}: ours {ours:?}, the platform verifier's {theirs:?}",
                case.name
            ),
        }
    }
    cases.len()
}

/// Cases that hold on every OS: a CA nobody trusts, and one given as an extra anchor.
fn portable_cases() -> Vec<Case> {
    let private = Ca::new("parity private CA");
    let nobody = Ca::new("parity CA nobody trusts");
    let expired = private.issue_with(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth, |p| {
        p.not_before = rcgen::date_time_ymd(1990, 1, 1);
        p.not_after = rcgen::date_time_ymd(2000, 1, 1);
    });
    let server = ExtendedKeyUsagePurpose::ServerAuth;
    vec![
        Case {
            name: "unknown issuer",
            leaf: nobody.server_leaf(),
            extra: vec![],
            accepted: false,
        },
        Case {
            name: "trusted only through an extra anchor",
            leaf: private.server_leaf(),
            extra: vec![private.der()],
            accepted: true,
        },
        Case {
            name: "expired leaf under an extra anchor",
            leaf: expired,
            extra: vec![private.der()],
            accepted: false,
        },
        Case {
            name: "wrong name under an extra anchor",
            leaf: leaf_for(&private, &["other.example"], server),
            extra: vec![private.der()],
            accepted: false,
        },
    ]
}

#[test]
fn the_platform_verifiers_verdicts_and_errors() {
    if !alone("the_platform_verifiers_verdicts_and_errors", "system.pem") {
        return;
    }
    let system = Ca::new("parity system CA");
    std::fs::write(bundle(), system.pem()).unwrap();
    let mut cases = portable_cases();
    if FILE_STORE {
        let expired = system.issue_with(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth, |p| {
            p.not_before = rcgen::date_time_ymd(1990, 1, 1);
            p.not_after = rcgen::date_time_ymd(2001, 1, 1);
        });
        cases.extend([
            Case {
                name: "valid chain to the system store",
                leaf: system.server_leaf(),
                extra: vec![],
                accepted: true,
            },
            Case {
                name: "expired leaf under the system store",
                leaf: expired,
                extra: vec![],
                accepted: false,
            },
            Case {
                name: "wrong name under the system store",
                leaf: leaf_for(
                    &system,
                    &["other.example"],
                    ExtendedKeyUsagePurpose::ServerAuth,
                ),
                extra: vec![],
                accepted: false,
            },
            Case {
                name: "a certificate for client authentication only",
                leaf: leaf_for(&system, &["localhost"], ExtendedKeyUsagePurpose::ClientAuth),
                extra: vec![],
                accepted: false,
            },
        ]);
    }
    let ran = compare(&cases);
    assert_eq!(ran, if FILE_STORE { 8 } else { 4 });
}

/// An empty system store: accepted with an extra anchor by both, refused without one by both
/// (when the config is built, before any handshake).
#[test]
#[cfg(not(any(target_vendor = "apple", windows, target_os = "android")))]
fn an_empty_system_store_with_an_extra_anchor() {
    if !alone("an_empty_system_store_with_an_extra_anchor", "empty.pem") {
        return;
    }
    std::fs::write(bundle(), "").unwrap();
    test_pki::settle(&bundle());
    let private = Ca::new("parity private CA");
    let ran = compare(&[Case {
        name: "an empty system store and an extra anchor",
        leaf: private.server_leaf(),
        extra: vec![private.der()],
        accepted: true,
    }]);
    assert_eq!(ran, 1);

    let cache = ClientConfigCache::with_provider(provider());
    let built = cache
        .get_built(
            &UpstreamTls::builder(Trust::Platform)
                .extra_anchor_der(private.der())
                .build(),
        )
        .unwrap();
    assert!(
        matches!(
            built.provenance(),
            tls_client_builder::TrustProvenance::Platform {
                anchors: 0,
                extra_anchors: 1,
                native_error: Some(_),
                ..
            }
        ),
        "{}",
        built.provenance()
    );
    // Without an extra anchor neither can verify anything: both refuse to build.
    let theirs = platform_config(&[]).unwrap_err();
    assert_eq!(
        theirs,
        Error::General("No CA certificates were loaded from the system".into())
    );
    let ours = our_config(&cache, &[]).unwrap_err();
    assert!(ours.native_roots_error().is_some(), "{ours:?}");
}
