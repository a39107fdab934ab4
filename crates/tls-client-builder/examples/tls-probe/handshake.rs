//! One verified handshake and how it is reported; `--connect` mode.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection};
use tls_client_builder::{BuildError, ClientConfigCache, Trust, UpstreamTls};
use x509_cert::der::Decode;

use crate::args::Target;
use crate::json::Object;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What a handshake negotiated and who answered.
pub(crate) struct Outcome {
    protocol: String,
    suite: String,
    alpn: Option<String>,
    chain: Vec<PeerCertificate>,
}

struct PeerCertificate {
    subject: String,
    issuer: String,
    der_len: usize,
}

/// Why a handshake did not complete.
pub(crate) struct Failure {
    /// The message for operators.
    message: String,
    /// The rustls error as its variant is named, when rustls ended it.
    rustls: Option<String>,
}

impl Failure {
    fn other(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            rustls: None,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        match err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            Some(tls) => tls.clone().into(),
            None => Self::other(format!("I/O error: {err}")),
        }
    }
}

impl From<rustls::Error> for Failure {
    fn from(err: rustls::Error) -> Self {
        Self {
            message: err.to_string(),
            rustls: Some(format!("rustls::Error::{err:?}")),
        }
    }
}

impl From<BuildError> for Failure {
    fn from(err: BuildError) -> Self {
        Self::other(format!("no config: {err}"))
    }
}

/// Complete a handshake over `tcp`, verifying the server as `server_name`.
pub(crate) fn handshake(
    config: Arc<ClientConfig>,
    tcp: &mut TcpStream,
    server_name: &str,
) -> Result<Outcome, Failure> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|err| Failure::other(format!("`{server_name}` is not a server name: {err}")))?;
    let mut conn = ClientConnection::new(config, name)?;
    while conn.is_handshaking() {
        conn.complete_io(tcp)?;
    }
    let outcome = Outcome {
        protocol: conn
            .protocol_version()
            .map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}")),
        suite: conn
            .negotiated_cipher_suite()
            .map_or_else(|| "unknown".to_owned(), |s| format!("{:?}", s.suite())),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        chain: conn
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(describe)
            .collect(),
    };
    conn.send_close_notify();
    // The server may already have gone; the handshake's verdict is what counts.
    let _ = conn.complete_io(tcp);
    let _ = tcp.flush();
    Ok(outcome)
}

fn describe(der: &CertificateDer<'_>) -> PeerCertificate {
    match x509_cert::Certificate::from_der(der) {
        Ok(cert) => PeerCertificate {
            subject: cert.tbs_certificate.subject.to_string(),
            issuer: cert.tbs_certificate.issuer.to_string(),
            der_len: der.len(),
        },
        Err(err) => PeerCertificate {
            subject: format!("(unparsable: {err})"),
            issuer: String::new(),
            der_len: der.len(),
        },
    }
}

/// Print (or add to `out`) a handshake's result; whether it succeeded.
pub(crate) fn report(
    what: &str,
    trust: &str,
    result: &Result<Outcome, Failure>,
    json: bool,
    out: &mut Object,
) -> bool {
    let mut obj = Object::new();
    obj.str("target", what);
    obj.str("trust", trust);
    obj.bool("ok", result.is_ok());
    match result {
        Ok(outcome) => {
            obj.str("protocol", &outcome.protocol);
            obj.str("cipher_suite", &outcome.suite);
            obj.opt_str("alpn", outcome.alpn.as_deref());
            obj.objects(
                "peer_chain",
                outcome.chain.iter().map(|cert| {
                    let mut c = Object::new();
                    c.str("subject", &cert.subject);
                    c.str("issuer", &cert.issuer);
                    c.num("der_bytes", cert.der_len as u64);
                    c
                }),
            );
            obj.null("error");
        }
        Err(failure) => {
            obj.str("error", &failure.message);
            obj.opt_str("rustls_error", failure.rustls.as_deref());
        }
    }
    out.object("handshake", obj);
    if json {
        return result.is_ok();
    }
    match result {
        Ok(outcome) => {
            println!("handshake with {what}: verified");
            println!("  trust         {trust}");
            println!("  protocol      {}", outcome.protocol);
            println!("  cipher suite  {}", outcome.suite);
            println!(
                "  ALPN          {}",
                outcome.alpn.as_deref().unwrap_or("(none)")
            );
            for (i, cert) in outcome.chain.iter().enumerate() {
                let label = if i == 0 { "  peer chain" } else { "" };
                println!(
                    "{label:<16}#{i} {} (issuer {}, {} bytes)",
                    cert.subject, cert.issuer, cert.der_len
                );
            }
        }
        Err(failure) => {
            println!("handshake with {what}: FAILED");
            println!("  trust         {trust}");
            println!("  error         {}", failure.message);
            if let Some(variant) = &failure.rustls {
                println!("  rustls error  {variant}");
            }
        }
    }
    result.is_ok()
}

/// `--connect`: verify a real server with the system store plus `--ca` anchors.
pub(crate) fn connect(
    cache: &ClientConfigCache,
    target: &Target,
    json: bool,
    out: &mut Object,
) -> bool {
    let what = format!("{} as {}", target.address, target.server_name);
    let built = fingerprint(target).and_then(|fp| cache.get_built(&fp).map_err(Failure::from));
    let (trust, result) = match built {
        Ok(built) => {
            let trust = built.provenance().to_string();
            let result = dial(&target.address).and_then(|mut tcp| {
                handshake(Arc::clone(built.config()), &mut tcp, &target.server_name)
            });
            (trust, result)
        }
        Err(failure) => ("(none)".to_owned(), Err(failure)),
    };
    report(&what, &trust, &result, json, out)
}

fn fingerprint(target: &Target) -> Result<UpstreamTls, Failure> {
    let mut builder = UpstreamTls::builder(Trust::Native).alpn(&target.alpn);
    for file in &target.ca_files {
        let pem = std::fs::read(file)
            .map_err(|err| Failure::other(format!("cannot read --ca {file}: {err}")))?;
        builder = builder
            .extra_anchors_pem(pem)
            .map_err(|err| Failure::other(format!("--ca {file}: {err}")))?;
    }
    Ok(builder.build())
}

fn dial(address: &str) -> Result<TcpStream, Failure> {
    let addrs = address
        .to_socket_addrs()
        .map_err(|err| Failure::other(format!("cannot resolve {address}: {err}")))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, TIMEOUT) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(TIMEOUT))
                    .and_then(|()| tcp.set_write_timeout(Some(TIMEOUT)))
                    .map_err(|err| Failure::other(format!("socket setup: {err}")))?;
                return Ok(tcp);
            }
            Err(err) => last = Some(format!("cannot connect to {addr}: {err}")),
        }
    }
    Err(Failure::other(last.unwrap_or_else(|| {
        format!("{address} resolved to no address")
    })))
}
