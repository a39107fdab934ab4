//! Trust sources whose answers a test scripts, and the certificates they answer with.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use native_roots_cache::{SourceError, SourceOutput, TrustOrigin, TrustSource};
use rustls::pki_types::CertificateDer;

use crate::Ca;

const ROOT_DER: [&[u8]; 3] = [
    include_bytes!("../../native-roots-cache/testdata/root1.der"),
    include_bytes!("../../native-roots-cache/testdata/root2.der"),
    include_bytes!("../../native-roots-cache/testdata/root3.der"),
];

/// One of three real Mozilla roots, kept as DER fixtures by `native-roots-cache`.
pub fn root(i: usize) -> CertificateDer<'static> {
    CertificateDer::from(ROOT_DER[i])
}

/// A DER SEQUENCE that is not a certificate.
pub fn garbage() -> CertificateDer<'static> {
    CertificateDer::from(&b"\x30\x03\x02\x01\x00"[..])
}

/// A well-formed PEM block whose DER (`SEQUENCE { INTEGER 0 }`) is not a certificate.
pub const UNPARSABLE_CERT_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

/// A self-signed CA certificate named `name`, as PEM.
pub fn ca_pem(name: &str) -> String {
    Ca::new(name).pem()
}

/// Answers scripted by call number: call `n` (from 1) gets `script(n)`; the calls are counted.
///
/// Generic in the answer so that `native-roots-cache`'s own unit tests, whose `SourceOutput` is
/// another type than the one this crate sees, make their `Fake` of it too.
pub struct Script<T> {
    calls: Arc<AtomicU32>,
    script: Arc<dyn Fn(u32) -> T + Send + Sync>,
}

impl<T> Script<T> {
    /// Answer each call with `script(call number)`.
    pub fn new(script: impl Fn(u32) -> T + Send + Sync + 'static) -> Self {
        Self {
            calls: Arc::new(AtomicU32::new(0)),
            script: Arc::new(script),
        }
    }

    /// The answer to the next call.
    pub fn answer(&self) -> T {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        (self.script)(n)
    }

    /// How many times it was called.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl<T> Clone for Script<T> {
    fn clone(&self) -> Self {
        Self {
            calls: Arc::clone(&self.calls),
            script: Arc::clone(&self.script),
        }
    }
}

/// A trust source that answers load `n` (from 1) with `script(n)` and counts its loads.
pub type Fake = Script<SourceOutput>;

impl TrustSource for Fake {
    fn load(&self) -> SourceOutput {
        self.answer()
    }

    fn origin(&self) -> TrustOrigin {
        TrustOrigin::Custom("the fake source".into())
    }
}

/// What a [`ScriptedSource`] answers now.
#[derive(Clone, Debug)]
enum Answer {
    Anchors(Vec<CertificateDer<'static>>),
    Fails,
}

/// A trust source whose answer the test sets: the anchors it yields, or a permanent error and no
/// certificate (which a `RootsCache` turns into a `NoAnchors` error). It counts its loads.
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
