//! What every test needs: the built binary run as a child with its own trust store, temporary
//! files, a test PKI (rcgen) and loopback rustls servers.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tls-probe");

/// A PEM block whose content is not a certificate: base64 of "not a certificate".
pub(crate) const GARBAGE_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

/// `tls-probe` with `SSL_CERT_FILE` set to `bundle` and `SSL_CERT_DIR` removed (this machine sets
/// both), so that the child's trust store is the test's alone.
pub(crate) fn probe(bundle: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("SSL_CERT_FILE", bundle)
        .env_remove("SSL_CERT_DIR");
    command
}

/// Run it; the output, with stdout and stderr printed for a failing assertion to show.
pub(crate) fn run(command: &mut Command) -> Output {
    let output = command.output().expect("tls-probe runs");
    println!("status: {:?}", output.status.code());
    println!("stdout:\n{}", String::from_utf8_lossy(&output.stdout));
    println!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// A directory removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tls-probe-test-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// Write `contents` to `name` in the directory, atomically (a reader sees the old file or
    /// the new one, never half of it).
    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        let partial = self.0.join(format!(".{name}.partial"));
        let mut file = std::fs::File::create(&partial).expect("create");
        file.write_all(contents.as_bytes()).expect("write");
        file.sync_all().expect("sync");
        std::fs::rename(&partial, &path).expect("rename");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA that can issue certificates.
pub(crate) struct Ca {
    pub(crate) cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        Self::with(name, |_| {})
    }

    /// A CA whose validity ended on 2020-01-01.
    pub(crate) fn expired(name: &str) -> Self {
        Self::with(name, |params| {
            params.not_before = rcgen::date_time_ymd(2015, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    fn with(name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "tls-probe tests");
        adjust(&mut params);
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("self-signed CA");
        Self { cert, key }
    }

    pub(crate) fn pem(&self) -> String {
        self.cert.pem()
    }

    pub(crate) fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// The subject as tls-probe prints it: RFC 4514, which lists the last RDN first (rcgen
    /// encodes the CN before the O).
    pub(crate) fn subject(&self, name: &str) -> String {
        format!("O=tls-probe tests,CN={name}")
    }

    /// A server certificate for `names`, valid now.
    pub(crate) fn server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth, |_| {})
    }

    /// A server certificate for `names` that expired on 2020-01-01.
    pub(crate) fn expired_server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth, |params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    /// A client certificate.
    pub(crate) fn client(&self, name: &str) -> Leaf {
        self.leaf(&[name], ExtendedKeyUsagePurpose::ClientAuth, |_| {})
    }

    /// A certificate that says it is not a CA (basicConstraints CA:FALSE), as Debian's
    /// snakeoil certificate does.
    pub(crate) fn not_a_ca(&self, name: &str) -> Leaf {
        self.leaf(&[name], ExtendedKeyUsagePurpose::ServerAuth, |params| {
            params.is_ca = IsCa::ExplicitNoCa;
        })
    }

    fn leaf(
        &self,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].as_str());
        params.extended_key_usages = vec![usage];
        adjust(&mut params);
        let key = KeyPair::generate().expect("key");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("signed");
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// An issued certificate and its key.
pub(crate) struct Leaf {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

/// A TLS server on 127.0.0.1 presenting `leaf`, requiring a client certificate issued by
/// `client_ca` when one is given; it serves every connection until the test process ends.
pub(crate) fn serve(leaf: &Leaf, client_ca: Option<&Ca>) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.der()).expect("client CA");
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = Arc::new(
        builder
            .with_single_cert(leaf.chain.clone(), leaf.key.clone_key())
            .expect("server certificate"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let config = Arc::clone(&config);
            thread::spawn(move || {
                if let Ok(mut conn) = ServerConnection::new(config) {
                    // Until the client goes or the handshake fails (complete_io sends the alert).
                    while conn.complete_io(&mut tcp).is_ok_and(|(read, _)| read > 0) {}
                }
            });
        }
    });
    addr
}
