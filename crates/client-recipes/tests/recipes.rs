//! Each recipe of the README, run against a loopback HTTPS server whose CA is in the cache's
//! native roots. The server answers `alpn=<negotiated protocol>`, so each test also shows what
//! was offered: the upstream key's ALPN (reqwest, tokio-rustls, rustls), or hyper-rustls' own.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use client_recipes::grpc;
use client_recipes::loopback::{Loopback, http_get, runtime};
use client_recipes::{
    with_hyper_rustls, with_reqwest, with_reqwest_0_12, with_rustls, with_tokio_rustls, with_tonic,
    with_ureq,
};
use http_body_util::BodyExt;
use rustls::ClientConfig;
use tls_client_builder::{Trust, UpstreamTls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn reqwest_0_13() {
    let server = Loopback::start();
    let client = with_reqwest::client(&server.cache()).unwrap();
    let body = runtime().block_on(async {
        let response = client.get(server.url()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    });
    assert_eq!(body, "alpn=http/1.1");
}

/// ureq 3 through the recipe's connector: the cache's config, `Trust::Platform`; a server the
/// roots do not trust is refused with rustls' error.
#[test]
fn ureq_3() {
    let server = Loopback::start();
    let agent = with_ureq::agent(&server.cache()).unwrap();
    let mut response = agent.get(server.url()).call().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "alpn=http/1.1"
    );
    // A second request reuses the pooled connection: no second handshake to count, same answer.
    let mut again = agent.get(server.url()).call().unwrap();
    assert_eq!(again.body_mut().read_to_string().unwrap(), "alpn=http/1.1");

    let untrusted = Loopback::start();
    let err = agent.get(untrusted.url()).call().unwrap_err();
    let ureq::Error::Io(io) = &err else {
        panic!("{err:?}");
    };
    let rustls_err = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(
        rustls_err,
        Some(&rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer
        ))
    );
}

/// tonic 0.14 over the recipe's connector: a unary call to a loopback gRPC server over HTTP/2;
/// a server the roots do not trust fails to connect.
#[test]
fn tonic_0_14() {
    let server = Loopback::start_grpc();
    let cache = server.cache();
    let reply = runtime().block_on(async {
        let channel = with_tonic::channel(&cache, &server.url()).await.unwrap();
        grpc::hello(channel, "recipes").await.unwrap()
    });
    assert_eq!(reply, "hello, recipes");

    let untrusted = Loopback::start_grpc();
    let err = runtime()
        .block_on(with_tonic::channel(&cache, &untrusted.url()))
        .unwrap_err();
    let chain = test_pki::error_chain(&*err);
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("unknown issuer"),
        "{chain}"
    );
}

#[test]
fn reqwest_0_12() {
    let server = Loopback::start();
    let client = with_reqwest_0_12::client(&server.cache()).unwrap();
    let body = runtime().block_on(async {
        let response = client.get(server.url()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    });
    assert_eq!(body, "alpn=http/1.1");
}

/// What the README warns about: reqwest recognises a `ClientConfig`, not an `Arc` of one.
#[test]
fn reqwest_refuses_the_arc_itself() {
    let server = Loopback::start();
    let config = server
        .cache()
        .get(&UpstreamTls::builder(Trust::Native).build())
        .unwrap();
    let err = reqwest::Client::builder()
        .tls_backend_preconfigured(Arc::clone(&config))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("builder error"), "{err}");
    let err = reqwest_0_12::Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("builder error"), "{err}");
}

#[test]
fn hyper_rustls_without_alpn_in_the_upstream_does_not_panic() {
    let server = Loopback::start();
    let client = with_hyper_rustls::client(&server.cache()).unwrap();
    let uri: http::Uri = server.url().parse().unwrap();
    let body = runtime().block_on(async {
        let response = client.get(uri).await.unwrap();
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.unwrap().to_bytes()
    });
    // The upstream key has no ALPN, and hyper-rustls offers none for HTTP/1 alone (it sets `h2`
    // when HTTP/2 is enabled).
    assert_eq!(&body[..], b"alpn=none");
}

/// What the README warns about: hyper-rustls panics on a config that already has ALPN.
#[test]
#[should_panic(expected = "ALPN protocols should not be pre-defined")]
fn hyper_rustls_panics_on_a_config_with_alpn() {
    let server = Loopback::start();
    let with_alpn = UpstreamTls::builder(Trust::Native)
        .alpn(["http/1.1"])
        .build();
    let config = server.cache().get(&with_alpn).unwrap();
    let _connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(ClientConfig::clone(&config))
        .https_only()
        .enable_http1()
        .build();
}

#[test]
fn tokio_rustls() {
    let server = Loopback::start();
    let cache = server.cache();
    let response = runtime().block_on(async {
        let mut tls = with_tokio_rustls::connect(&cache, server.host(), server.port())
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        tls.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        tls.read_to_string(&mut response).await.unwrap();
        response
    });
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(response.ends_with("\r\n\r\nalpn=http/1.1"), "{response}");
}

#[test]
fn rustls_connection() {
    let server = Loopback::start();
    let tls = with_rustls::connect(&server.cache(), server.host(), server.port()).unwrap();
    assert_eq!(http_get(tls).unwrap(), "alpn=http/1.1");
}

/// The recipes trust what the cache's roots trust, and nothing else: a server certified by
/// another CA is refused by the first of them.
#[test]
fn a_server_the_roots_do_not_trust_is_refused() {
    let trusted = Loopback::start();
    let untrusted = Loopback::start();
    let tls = with_rustls::connect(&trusted.cache(), untrusted.host(), untrusted.port()).unwrap();
    let err = http_get(tls).unwrap_err();
    let rustls_err = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(
        rustls_err,
        Some(&rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer
        ))
    );
}
