//! Test PKI (rcgen) and a loopback rustls server, shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use tls_client_builder::ClientConfigCache;

/// The provider every test uses, whatever the crate features.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A cache on *ring*, available with any feature set.
pub fn cache() -> ClientConfigCache {
    ClientConfigCache::with_provider(provider())
}

/// A CA that can issue server and client certificates.
pub struct Ca {
    pub cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A leaf for `localhost` and 127.0.0.1 with the given purpose.
    pub fn issue(&self, purpose: ExtendedKeyUsagePurpose) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }

    pub fn server_leaf(&self) -> Leaf {
        self.issue(ExtendedKeyUsagePurpose::ServerAuth)
    }

    pub fn client_leaf(&self) -> Leaf {
        self.issue(ExtendedKeyUsagePurpose::ClientAuth)
    }
}

/// A certificate chain and its key.
#[derive(Clone)]
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub chain_pem: String,
    pub key_pem: String,
    pub key_der: Vec<u8>,
}

impl Leaf {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// How the loopback server is set up.
#[derive(Default)]
pub struct ServerOptions {
    pub alpn: Vec<Vec<u8>>,
    /// Require a client certificate issued by this CA.
    pub client_ca: Option<CertificateDer<'static>>,
}

/// A rustls server on 127.0.0.1:0 that answers every connection's "ping" with "pong"; it runs
/// until the test process exits.
pub fn spawn_server(leaf: &Leaf, options: ServerOptions) -> SocketAddr {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match options.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(leaf.chain.clone(), leaf.key())
        .unwrap();
    config.alpn_protocols = options.alpn;
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = Arc::clone(&config);
            thread::spawn(move || serve(config, stream));
        }
    });
    addr
}

fn serve(config: Arc<ServerConfig>, mut tcp: TcpStream) {
    let Ok(mut conn) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let mut ping = [0u8; 4];
    if tls.read_exact(&mut ping).is_ok() {
        let _ = tls.write_all(b"pong");
        let _ = tls.flush();
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
}

/// What a completed exchange negotiated.
#[derive(Debug)]
pub struct Negotiated {
    pub protocol: rustls::ProtocolVersion,
    pub alpn: Option<Vec<u8>>,
    pub suite: rustls::SupportedCipherSuite,
}

/// Connect to `addr` as `localhost`, complete the handshake, send "ping" and read "pong".
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
        let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
        tls.write_all(b"ping")?;
        let mut pong = [0u8; 4];
        tls.read_exact(&mut pong)?;
        assert_eq!(&pong, b"pong");
        Ok::<_, std::io::Error>(())
    })();
    match outcome {
        Ok(()) => Ok(Negotiated {
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

/// Write `pem` to a fresh file in the target's tmp dir and return its path.
pub fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tls-client-builder");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}.pem", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}
