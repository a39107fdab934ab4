//! The default mode's handshake: an in-process rustls server on 127.0.0.1 with a CA made on the
//! spot, trusted by the client as an extra anchor.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

use crate::handshake::{handshake, report, Failure};
use crate::json::Object;

const ALPN: [&str; 2] = ["h2", "http/1.1"];

/// A CA certificate and a server chain and key for `localhost` issued by it.
struct Pki {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn pki() -> Result<Pki, rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tls-probe loopback CA");
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key)?;
    Ok(Pki {
        ca: ca.der().clone(),
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    })
}

/// Serve one TLS connection on 127.0.0.1; returns the connected client socket.
fn serve_once(pki: &Pki) -> Result<TcpStream, String> {
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), pki.key.clone_key())
            .map_err(|err| err.to_string())?;
    config.alpn_protocols = ALPN.iter().map(|p| p.as_bytes().to_vec()).collect();
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let config = Arc::new(config);
    thread::spawn(move || {
        if let Ok((mut tcp, _)) = listener.accept() {
            if let Ok(mut conn) = ServerConnection::new(config) {
                // Drive the handshake and the client's close_notify; errors end the connection.
                while conn.complete_io(&mut tcp).is_ok_and(|(read, _)| read > 0) {}
            }
        }
    });
    TcpStream::connect(addr).map_err(|err| err.to_string())
}

/// Run the loopback handshake and report it; whether it succeeded.
pub(crate) fn probe(
    cache: &ClientConfigCache,
    store_ok: bool,
    json: bool,
    out: &mut Object,
) -> bool {
    let pki = match pki() {
        Ok(pki) => pki,
        Err(err) => {
            let failed = Err(Failure::from(rustls::Error::General(format!(
                "rcgen: {err}"
            ))));
            return report("loopback server", "(none)", &failed, json, out);
        }
    };
    // The system store plus the loopback CA, as a daemon with a private upstream would have it;
    // extra anchors only when the system store failed.
    let trust = if store_ok {
        Trust::Native
    } else {
        Trust::AnchorsOnly
    };
    let fingerprint = UpstreamTls::builder(trust)
        .extra_anchor_der(pki.ca.clone())
        .alpn(ALPN)
        .build();
    let (what, trust, result) = match (cache.get_built(&fingerprint), serve_once(&pki)) {
        (Ok(built), Ok(mut tcp)) => {
            let what = tcp.peer_addr().map_or_else(
                |_| "loopback".to_owned(),
                |a| format!("loopback server {a}"),
            );
            let result = handshake(Arc::clone(built.config()), &mut tcp, "localhost");
            (what, built.provenance().to_string(), result)
        }
        (Err(err), _) => (
            "loopback server".to_owned(),
            "(none)".to_owned(),
            Err(err.into()),
        ),
        (_, Err(err)) => (
            "loopback server".to_owned(),
            "(none)".to_owned(),
            Err(Failure::from(rustls::Error::General(format!(
                "server setup: {err}"
            )))),
        ),
    };
    report(&what, &trust, &result, json, out)
}
