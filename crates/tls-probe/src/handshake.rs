//! One TLS handshake over a config that tls-client-builder built, watched closely enough to say
//! why it failed.
//!
//! The config is used as built, with two observers wrapped around its parts: its own verifier
//! (so the server's chain is known even when verification rejects it) and its client-certificate
//! resolver (so a server that asks for a certificate is noticed). Both delegate every decision,
//! so the verdict is the one a daemon holding the same config would reach.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, DistinguishedName, ProtocolVersion,
    SignatureScheme,
};
use tls_client_builder::BuiltConfig;

/// What a completed handshake agreed on.
#[derive(Debug)]
pub(crate) struct Negotiated {
    pub(crate) protocol: String,
    pub(crate) cipher_suite: String,
    pub(crate) alpn: Option<String>,
}

/// Why a handshake did not complete.
#[derive(Debug)]
pub(crate) enum Failure {
    /// rustls ended it: a rejected certificate, an alert from the server, a protocol error.
    Tls(rustls::Error),
    /// The connection failed under it.
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        // complete_io wraps rustls' own errors in InvalidData.
        match err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => Self::Tls(tls.clone()),
            None => Self::Io(err),
        }
    }
}

/// A handshake and what was seen on the way.
#[derive(Debug)]
pub(crate) struct Attempt {
    pub(crate) result: Result<Negotiated, Failure>,
    /// The certificates the server presented, leaf first, whether or not they verified; empty
    /// when the server sent none.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    /// Whether the server asked for a client certificate.
    pub(crate) client_certificate_requested: bool,
    /// Whether the config had one to send.
    pub(crate) client_certificate_offered: bool,
}

/// How long to wait, after a TLS 1.3 handshake in which the server asked for a client
/// certificate, for the server to reject it (it judges the certificate after the client has
/// finished its side of the handshake).
const CLIENT_CERTIFICATE_VERDICT: Duration = Duration::from_secs(1);

/// Run a handshake as `server_name` over `tcp` with `built`'s config. When the server asked for
/// a client certificate in TLS 1.3, this waits for its verdict for up to a second (or the
/// socket's read timeout, if shorter).
pub(crate) fn handshake(
    built: &BuiltConfig,
    tcp: &mut TcpStream,
    server_name: ServerName<'static>,
) -> Attempt {
    let settle = match tcp.read_timeout() {
        Ok(Some(timeout)) => timeout.min(CLIENT_CERTIFICATE_VERDICT),
        _ => CLIENT_CERTIFICATE_VERDICT,
    };
    let verifier = Arc::new(RecordingVerifier {
        inner: Arc::clone(built.verifier()),
        chain: Mutex::new(Vec::new()),
    });
    let mut config = ClientConfig::clone(built.config());
    config
        .dangerous()
        .set_certificate_verifier(Arc::clone(&verifier) as Arc<dyn ServerCertVerifier>);
    let resolver = Arc::new(NoticingResolver {
        inner: Arc::clone(&config.client_auth_cert_resolver),
        asked: AtomicBool::new(false),
    });
    config.client_auth_cert_resolver = Arc::clone(&resolver) as Arc<dyn ResolvesClientCert>;

    let result = drive(Arc::new(config), tcp, server_name, &resolver, settle);
    let chain = std::mem::take(
        &mut *verifier
            .chain
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    Attempt {
        result,
        chain,
        client_certificate_requested: resolver.asked.load(Ordering::Relaxed),
        client_certificate_offered: resolver.inner.has_certs(),
    }
}

fn drive(
    config: Arc<ClientConfig>,
    tcp: &mut TcpStream,
    server_name: ServerName<'static>,
    resolver: &NoticingResolver,
    settle: Duration,
) -> Result<Negotiated, Failure> {
    let mut conn = ClientConnection::new(config, server_name).map_err(Failure::Tls)?;
    while conn.is_handshaking() {
        conn.complete_io(tcp)?;
    }
    let tls13 = conn.protocol_version() == Some(ProtocolVersion::TLSv1_3);
    if tls13 && resolver.asked.load(Ordering::Relaxed) {
        await_verdict(&mut conn, tcp, settle)?;
    }
    let negotiated = Negotiated {
        protocol: match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLS 1.3".to_owned(),
            Some(ProtocolVersion::TLSv1_2) => "TLS 1.2".to_owned(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_owned(),
        },
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map_or_else(|| "unknown".to_owned(), |s| format!("{:?}", s.suite())),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    };
    conn.send_close_notify();
    // The verdict is in; the server may already have gone.
    let _ = conn.write_tls(tcp);
    let _ = tcp.flush();
    Ok(negotiated)
}

/// Read what the server sends after the handshake for up to `settle`: an alert rejecting the
/// client certificate, or session tickets and then silence (accepted).
fn await_verdict(
    conn: &mut ClientConnection,
    tcp: &mut TcpStream,
    settle: Duration,
) -> Result<(), Failure> {
    let previous = tcp.read_timeout().ok().flatten();
    tcp.set_read_timeout(Some(settle))?;
    let outcome = loop {
        match conn.read_tls(tcp) {
            Ok(0) => break Ok(()),
            Ok(_) => match conn.process_new_packets() {
                Ok(state) if state.peer_has_closed() => break Ok(()),
                Ok(_) => {}
                Err(err) => break Err(Failure::Tls(err)),
            },
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break Ok(());
            }
            Err(err) => break Err(Failure::Io(err)),
        }
    };
    tcp.set_read_timeout(previous)?;
    outcome
}

/// The config's own verifier, remembering the chain it was shown.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.chain.lock().unwrap_or_else(PoisonError::into_inner) = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|cert| cert.clone().into_owned())
            .collect();
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// The config's own client-certificate resolver, noticing that the server asked.
#[derive(Debug)]
struct NoticingResolver {
    inner: Arc<dyn ResolvesClientCert>,
    asked: AtomicBool,
}

impl ResolvesClientCert for NoticingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}
