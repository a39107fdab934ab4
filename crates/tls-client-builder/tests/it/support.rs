//! Test helpers written once: a CA from rcgen, a trust source whose answers the test scripts, and
//! a loopback HTTPS server. The in-process tests (`tests/it/`) use it as a module,
//! `tests/system_store_file.rs` and the `client-recipes` crate include it by path. Public paths
//! only, so that it compiles the same in all three places.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use native_roots_cache::{RootsCache, SourceError, SourceOutput, TrustOrigin, TrustSource};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use tls_client_builder::ClientConfigCache;

/// The provider every test uses, whatever the crate features.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A cache on *ring* (available with any feature set), building from the process-wide store.
pub fn cache() -> ClientConfigCache {
    ClientConfigCache::with_provider(provider())
}

/// A cache on *ring* whose native roots are a fresh `RootsCache` over `source`, also returned so
/// that the test can refresh it and read its counters.
pub fn cache_over(source: &ScriptedSource) -> (ClientConfigCache, Arc<RootsCache<ScriptedSource>>) {
    let roots = Arc::new(RootsCache::with_source(source.clone()));
    (cache().with_roots(Arc::clone(&roots)), roots)
}

/// A CA that can issue server and client certificates.
pub struct Ca {
    /// The self-signed CA certificate.
    pub cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    /// The CA certificate as PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate as DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A leaf for `localhost` and 127.0.0.1 with the given purpose.
    pub fn issue(&self, purpose: ExtendedKeyUsagePurpose) -> Leaf {
        self.issue_with(purpose, |_| {})
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server_leaf(&self) -> Leaf {
        self.issue(ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (for mTLS).
    pub fn client_leaf(&self) -> Leaf {
        self.issue(ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// A client certificate valid until the first of January of `year` (expired if past).
    pub fn client_leaf_until(&self, year: i32) -> Leaf {
        self.issue_with(ExtendedKeyUsagePurpose::ClientAuth, |params| {
            params.not_before = rcgen::date_time_ymd(1990, 1, 1);
            params.not_after = rcgen::date_time_ymd(year, 1, 1);
        })
    }

    fn issue_with(
        &self,
        purpose: ExtendedKeyUsagePurpose,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![purpose];
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }
}

/// A certificate chain and its key.
#[derive(Clone)]
pub struct Leaf {
    /// The chain (DER), leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The chain as PEM.
    pub chain_pem: String,
    /// The key as PKCS#8 PEM.
    pub key_pem: String,
    /// The key as PKCS#8 DER.
    pub key_der: Vec<u8>,
}

impl Leaf {
    /// The key, for rustls.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// What a [`ScriptedSource`] answers now.
#[derive(Clone, Debug)]
enum Answer {
    Anchors(Vec<CertificateDer<'static>>),
    Fails,
}

/// A trust source whose answers the test scripts: the anchors it yields, or a permanent error
/// and no certificate (which a `RootsCache` turns into a `NoAnchors` error). It counts its loads.
#[derive(Clone)]
pub struct ScriptedSource {
    answer: Arc<Mutex<Answer>>,
    loads: Arc<AtomicU32>,
}

impl ScriptedSource {
    /// A source yielding the certificates of `cas`.
    pub fn trusting(cas: &[&Ca]) -> Self {
        Self::with(Answer::Anchors(cas.iter().map(|ca| ca.der()).collect()))
    }

    /// A source that yields nothing but a permanent error.
    pub fn failing() -> Self {
        Self::with(Answer::Fails)
    }

    fn with(answer: Answer) -> Self {
        Self {
            answer: Arc::new(Mutex::new(answer)),
            loads: Arc::new(AtomicU32::new(0)),
        }
    }

    /// From the next load on, yield the certificates of `cas`.
    pub fn now_trusting(&self, cas: &[&Ca]) {
        *self.answer.lock().unwrap_or_else(PoisonError::into_inner) =
            Answer::Anchors(cas.iter().map(|ca| ca.der()).collect());
    }

    /// How many times a cache read it.
    pub fn loads(&self) -> u32 {
        self.loads.load(Ordering::SeqCst)
    }
}

impl TrustSource for ScriptedSource {
    fn load(&self) -> SourceOutput {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match answer {
            Answer::Anchors(certs) => SourceOutput::new(certs, Vec::new()),
            Answer::Fails => SourceOutput::new(
                Vec::<CertificateDer<'static>>::new(),
                vec![SourceError::permanent(
                    "failed to read the scripted store",
                    "it is scripted to fail",
                )],
            ),
        }
    }

    fn origin(&self) -> TrustOrigin {
        TrustOrigin::Custom("the scripted test source".into())
    }
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
    let leaves = options.client_leaves;
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = Arc::clone(&config);
            let leaves = leaves.clone();
            thread::spawn(move || serve(config, stream, leaves));
        }
    });
    addr
}

fn serve(config: Arc<ServerConfig>, mut tcp: TcpStream, leaves: Option<ClientLeaves>) {
    let Ok(mut conn) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    if read_head(&mut tls).is_ok() {
        if let (Some(leaves), Some([leaf, ..])) = (&leaves, tls.conn.peer_certificates()) {
            leaves
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(leaf.clone().into_owned());
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
}

/// Connect to `addr` as `localhost`, complete the handshake and a `GET /`.
///
/// The rustls error that ended the exchange comes back as is.
pub fn exchange(config: Arc<ClientConfig>, addr: SocketAddr) -> Result<Negotiated, rustls::Error> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config, name)?;
    let mut tcp = TcpStream::connect(addr).unwrap();
    let outcome = (|| {
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        http_get(rustls::Stream::new(&mut conn, &mut tcp))
    })();
    match outcome {
        Ok(_body) => Ok(Negotiated {
            kind: conn.handshake_kind().unwrap(),
            protocol: conn.protocol_version().unwrap(),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            suite: conn.negotiated_cipher_suite().unwrap(),
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

/// Write `contents` to a fresh file in the system's temporary directory and return its path.
pub fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("tls-client-builder-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}.pem", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

/// A fresh, empty directory for `name` in the system's temporary directory.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir()
        .join("tls-client-builder-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replace `path` with `contents` as `mv` does: written beside it, then renamed over it.
pub fn replace_file(path: &std::path::Path, contents: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
