//! `tls-probe selftest`: a handshake with an in-process rustls server on 127.0.0.1, whose CA is
//! made on the spot and trusted as an extra anchor beside the system store. No network, no files.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use native_roots_cache::{CertificateLocation, ReportedCertificate};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ServerConfig, ServerConnection};
use tls_client_builder::{ClientConfigCache, UpstreamTls};

use crate::cli::SelftestArgs;
use crate::connection::{ConnectionReport, ErrorView};
use crate::handshake::handshake;
use crate::output;
use crate::status::Status;
use crate::trust::system_trust;

const ALPN: [&str; 2] = ["h2", "http/1.1"];
const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn run(args: &SelftestArgs) -> Status {
    let (status, report) = selftest();
    if args.json {
        output::json(&report);
    } else {
        output::text(&report);
    }
    status
}

fn selftest() -> (Status, ConnectionReport) {
    let mut report = ConnectionReport::new("loopback server", "localhost");
    let pki = match Pki::new() {
        Ok(pki) => pki,
        Err(err) => {
            return (
                Status::Failed,
                report.failed("selftest", format!("rcgen: {err}")),
            );
        }
    };
    let system = system_trust();
    let (trust, store_status, mut anchors) = (system.trust, system.status, system.anchors);
    report.trust_store_error = system.error;
    anchors.push(ReportedCertificate::new(
        pki.ca.clone(),
        CertificateLocation::Custom("the selftest's own CA".into()),
    ));
    let upstream = UpstreamTls::builder(trust)
        .extra_anchor_der(pki.ca.clone())
        .alpn(ALPN)
        .build();
    let built = match ClientConfigCache::new().get_built(&upstream) {
        Ok(built) => built,
        Err(err) => {
            let error = ErrorView::build_error("config", None, &err);
            return (Status::Failed, report.failed_with(error));
        }
    };
    report.trust = Some(built.provenance().to_string());
    let mut tcp = match serve_once(&pki) {
        Ok(tcp) => tcp,
        Err(err) => {
            return (
                Status::Failed,
                report.failed("selftest", format!("server: {err}")),
            );
        }
    };
    if let Ok(addr) = tcp.peer_addr() {
        report.target = format!("loopback server {addr}");
    }
    let name = match ServerName::try_from("localhost") {
        Ok(name) => name,
        Err(err) => return (Status::Failed, report.failed("selftest", err.to_string())),
    };
    let attempt = handshake(&built, &mut tcp, name);
    let report = report.handshake(&attempt, &anchors, None);
    let status = if report.ok {
        store_status
    } else {
        Status::Failed
    };
    (status, report)
}

/// A CA certificate, and a server chain and key for `localhost` issued by it.
struct Pki {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Pki {
    fn new() -> Result<Self, rcgen::Error> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "tls-probe selftest CA");
        let ca_key = KeyPair::generate()?;
        let ca = ca_params.self_signed(&ca_key)?;
        let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()])?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key)?;
        Ok(Self {
            ca: ca.der().clone(),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        })
    }
}

/// Serve one TLS connection on 127.0.0.1 from a thread; the connected client socket.
fn serve_once(pki: &Pki) -> Result<TcpStream, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
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
    let tcp = TcpStream::connect(addr).map_err(|err| err.to_string())?;
    tcp.set_read_timeout(Some(TIMEOUT))
        .and_then(|()| tcp.set_write_timeout(Some(TIMEOUT)))
        .map_err(|err| err.to_string())?;
    Ok(tcp)
}
