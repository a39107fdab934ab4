//! Real handshakes over loopback with configs from the cache; trust comes from extra anchors only,
//! so nothing here reads the machine's store.

use std::sync::Arc;

use crate::support::{Ca, ServerOptions, cache, exchange, spawn_server};
use rustls::{CertificateError, ProtocolVersion};
use tls_client_builder::{BuildError, SessionResumption, TlsVersions, Trust, UpstreamTls};

#[test]
fn trusted_extra_anchor_completes_a_handshake() {
    let ca = Ca::new("handshake CA");
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let cache = cache();

    let from_pem = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem(ca.pem())
        .unwrap()
        .build();
    exchange(cache.get(&from_pem).unwrap(), addr).unwrap();

    let from_der = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .build();
    // PEM and DER carry the same bytes, so they are the same upstream key and share the config.
    assert_eq!(from_pem, from_der);
    assert!(Arc::ptr_eq(
        &cache.get(&from_pem).unwrap(),
        &cache.get(&from_der).unwrap()
    ));
}

#[test]
fn untrusted_issuer_is_refused_with_unknown_issuer() {
    let server_ca = Ca::new("server CA");
    let other_ca = Ca::new("some other CA");
    let addr = spawn_server(&server_ca.server_leaf(), ServerOptions::default());
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(other_ca.der())
        .build();

    let err = exchange(cache().get(&upstream).unwrap(), addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
}

#[test]
fn alpn_is_negotiated_per_upstream() {
    let ca = Ca::new("alpn CA");
    let addr = spawn_server(
        &ca.server_leaf(),
        ServerOptions {
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            ..ServerOptions::default()
        },
    );
    let cache = cache();
    let with = |alpn: &[&str]| {
        UpstreamTls::builder(Trust::AnchorsOnly)
            .extra_anchor_der(ca.der())
            .alpn(alpn)
            .build()
    };

    let h2 = exchange(cache.get(&with(&["h2"])).unwrap(), addr).unwrap();
    assert_eq!(h2.alpn.as_deref(), Some(&b"h2"[..]));
    let h1 = exchange(cache.get(&with(&["http/1.1"])).unwrap(), addr).unwrap();
    assert_eq!(h1.alpn.as_deref(), Some(&b"http/1.1"[..]));
    let none = exchange(cache.get(&with(&[])).unwrap(), addr).unwrap();
    assert_eq!(none.alpn, None);
    assert_eq!(cache.stats().builds, 3);
}

#[test]
fn client_identity_enables_mtls_and_its_absence_is_refused() {
    let server_ca = Ca::new("mtls server CA");
    let client_ca = Ca::new("mtls client CA");
    let addr = spawn_server(
        &server_ca.server_leaf(),
        ServerOptions {
            client_ca: Some(client_ca.der()),
            ..ServerOptions::default()
        },
    );
    let client = client_ca.client_leaf();
    let cache = cache();
    let anonymous = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(server_ca.der())
        .build();
    let authenticated = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(server_ca.der())
        .client_identity_pem(&client.chain_pem, &client.key_pem)
        .unwrap()
        .build();
    assert_ne!(anonymous, authenticated);

    exchange(cache.get(&authenticated).unwrap(), addr).unwrap();
    let err = exchange(cache.get(&anonymous).unwrap(), addr).unwrap_err();
    // TLS 1.3: the server's verdict arrives as an alert after the client's flight.
    assert_eq!(
        err,
        rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)
    );
}

#[test]
fn versions_are_honoured() {
    let ca = Ca::new("versions CA");
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let cache = cache();
    let with = |versions| {
        UpstreamTls::builder(Trust::AnchorsOnly)
            .extra_anchor_der(ca.der())
            .versions(versions)
            .build()
    };
    let tls12 = exchange(cache.get(&with(TlsVersions::Tls12Only)).unwrap(), addr).unwrap();
    assert_eq!(tls12.protocol, ProtocolVersion::TLSv1_2);
    let tls13 = exchange(cache.get(&with(TlsVersions::Tls13Only)).unwrap(), addr).unwrap();
    assert_eq!(tls13.protocol, ProtocolVersion::TLSv1_3);
}

#[test]
fn sessions_resume_within_a_upstream_and_not_when_off() {
    let ca = Ca::new("resumption CA");
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let cache = cache();
    let on = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .versions(TlsVersions::Tls12Only)
        .build();
    let off = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .versions(TlsVersions::Tls12Only)
        .resumption(SessionResumption::Off)
        .build();
    // The lazy session store works: a second TLS 1.2 connection resumes.
    for upstream in [&on, &off] {
        let config = cache.get(upstream).unwrap();
        exchange(Arc::clone(&config), addr).unwrap();
        exchange(config, addr).unwrap();
    }
    // Resumption shows only in the connection's handshake kind, observed through a fresh exchange.
    let resumed = |config| {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut conn = rustls::ClientConnection::new(config, name).unwrap();
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).unwrap();
        }
        conn.handshake_kind()
    };
    assert_eq!(
        resumed(cache.get(&on).unwrap()),
        Some(rustls::HandshakeKind::Resumed)
    );
    assert_eq!(
        resumed(cache.get(&off).unwrap()),
        Some(rustls::HandshakeKind::Full)
    );
}

#[test]
fn configs_carry_the_upstream_settings() {
    let ca = Ca::new("settings CA");
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .alpn(["h2"])
        .sni(false)
        .build();
    let built = cache().get_built(&upstream).unwrap();
    assert_eq!(built.config().alpn_protocols, vec![b"h2".to_vec()]);
    assert!(!built.config().enable_sni);
    assert_eq!(built.upstream(), &upstream);
    assert_eq!(built.provenance().to_string(), "extra anchors only (1)");
}

#[test]
fn a_key_that_does_not_match_the_chain_is_a_build_error() {
    let ca = Ca::new("identity CA");
    let one = ca.client_leaf();
    let other = ca.client_leaf();
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .client_identity_der(one.chain.clone(), other.key())
        .build();
    let cache = cache();
    let err = cache.get(&upstream).unwrap_err();
    assert!(matches!(err, BuildError::ClientIdentity { .. }), "{err:?}");
    assert!(err.to_string().contains("client identity"), "{err}");
    // The error is cached with the entry: asking again does not rebuild.
    assert_eq!(cache.get(&upstream).unwrap_err(), err);
    assert_eq!(cache.stats().builds, 1);
}
