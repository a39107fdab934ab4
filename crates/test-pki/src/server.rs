//! Loopback rustls servers on 127.0.0.1 speaking just enough HTTP/1.1, and a client for them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

use crate::{Ca, Leaf};

/// A socket read that takes longer than this has hung (a bound, not a timing).
const IO_LIMIT: Duration = Duration::from_secs(20);

/// The provider every test uses, whatever the crate features.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// How the loopback server is set up.
#[derive(Default)]
pub struct ServerOptions {
    /// The ALPN protocols the server accepts, in preference order.
    pub alpn: Vec<Vec<u8>>,
    /// Require a client certificate issued by this CA.
    pub client_ca: Option<CertificateDer<'static>>,
    /// Require a client certificate this verifier accepts (instead of `client_ca`).
    pub client_verifier: Option<Arc<dyn ClientCertVerifier>>,
    /// Where to record each connection's client leaf, as the server holds it after the
    /// handshake: the one presented, or the one of the session it resumed.
    pub client_leaves: Option<ClientLeaves>,
    /// Where to count the requests answered, each counted before its reply (so that a client
    /// that has its reply is always counted).
    pub requests: Option<Arc<AtomicUsize>>,
}

/// The client leaves a server saw, in order of connection.
pub type ClientLeaves = Arc<Mutex<Vec<CertificateDer<'static>>>>;

/// A client-certificate verifier that accepts only the leaf pinned now (its chain verified by a
/// webpki verifier for one CA): a server that revoked the client's previous certificate.
#[derive(Debug)]
pub struct PinnedClientVerifier {
    chain: Arc<dyn ClientCertVerifier>,
    pinned: Mutex<CertificateDer<'static>>,
}

impl PinnedClientVerifier {
    /// Accept `leaf`, issued by `ca`, and no other.
    pub fn new(ca: &Ca, leaf: &Leaf) -> Arc<Self> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.der()).unwrap();
        let chain = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
        Arc::new(Self {
            chain,
            pinned: Mutex::new(leaf.chain[0].clone()),
        })
    }

    /// Accept `leaf` from now on, and no longer the leaf pinned before.
    pub fn pin(&self, leaf: &Leaf) {
        *self.pinned.lock().unwrap_or_else(PoisonError::into_inner) = leaf.chain[0].clone();
    }
}

impl ClientCertVerifier for PinnedClientVerifier {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.chain.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let pinned = self.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        if end_entity.as_ref() != pinned.as_ref() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Revoked,
            ));
        }
        self.chain
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// A rustls server on 127.0.0.1:0 speaking just enough HTTP/1.1: each connection's request is
/// answered `200 OK` with the body `alpn=<negotiated protocol or none>`, then closed. It runs until
/// the process exits.
pub fn spawn_server(leaf: &Leaf, options: ServerOptions) -> SocketAddr {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match (options.client_verifier, options.client_ca) {
        (Some(verifier), _) => builder.with_client_cert_verifier(verifier),
        (None, Some(ca)) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        (None, None) => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(leaf.chain.clone(), leaf.key())
        .unwrap();
    config.alpn_protocols = options.alpn;
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::new(Record {
        leaves: options.client_leaves,
        requests: options.requests,
    });
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (config, record) = (Arc::clone(&config), Arc::clone(&record));
            thread::spawn(move || serve(config, stream, &record));
        }
    });
    addr
}

/// What a server records of its connections (see [`ServerOptions`]).
struct Record {
    leaves: Option<ClientLeaves>,
    requests: Option<Arc<AtomicUsize>>,
}

fn serve(config: Arc<ServerConfig>, mut tcp: TcpStream, record: &Record) {
    let Ok(mut conn) = ServerConnection::new(config) else {
        return;
    };
    let _ = tcp.set_read_timeout(Some(IO_LIMIT));
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    if read_head(&mut tls).is_ok() {
        if let (Some(leaves), Some([leaf, ..])) = (&record.leaves, tls.conn.peer_certificates()) {
            leaves
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(leaf.clone().into_owned());
        }
        if let Some(requests) = &record.requests {
            requests.fetch_add(1, Ordering::SeqCst);
        }
        let body = match tls.conn.alpn_protocol() {
            Some(alpn) => format!("alpn={}", String::from_utf8_lossy(alpn)),
            None => "alpn=none".to_owned(),
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tls.write_all(response.as_bytes());
        let _ = tls.flush();
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
}

/// Read up to the blank line that ends an HTTP request head.
fn read_head(stream: &mut impl Read) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    Ok(())
}

/// Send `GET /` over `stream` and return the response's body; the status must be 200.
pub fn http_get(mut stream: impl Read + Write) -> std::io::Result<String> {
    stream.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")?;
    stream.flush()?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.1 200 "),
        "unexpected response: {response}"
    );
    Ok(body.to_owned())
}

/// What a completed exchange negotiated.
#[derive(Debug)]
pub struct Negotiated {
    /// Whether the handshake was full or resumed a session.
    pub kind: rustls::HandshakeKind,
    /// The protocol version.
    pub protocol: rustls::ProtocolVersion,
    /// The ALPN protocol, if one was agreed.
    pub alpn: Option<Vec<u8>>,
    /// The cipher suite.
    pub suite: rustls::SupportedCipherSuite,
    /// The body of the server's answer.
    pub body: String,
}

/// Connect to `addr` as `localhost`, complete the handshake and a `GET /`.
///
/// The rustls error that ended the exchange comes back as is.
pub fn exchange(config: Arc<ClientConfig>, addr: SocketAddr) -> Result<Negotiated, rustls::Error> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config, name)?;
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let outcome = (|| {
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        http_get(rustls::Stream::new(&mut conn, &mut tcp))
    })();
    match outcome {
        Ok(body) => Ok(Negotiated {
            kind: conn.handshake_kind().unwrap(),
            protocol: conn.protocol_version().unwrap(),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            suite: conn.negotiated_cipher_suite().unwrap(),
            body,
        }),
        Err(err) => Err(rustls_error(err)),
    }
}

fn rustls_error(err: std::io::Error) -> rustls::Error {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.clone(),
        None => rustls::Error::General(format!("I/O error: {err}")),
    }
}
