//! Test helpers written once and shared by the unit tests (`mod test_support`), the loom model and
//! the integration tests (`tests/common/mod.rs` includes this file): fixture roots, a scripted
//! trust source, CA certificates from rcgen, and scratch files. Public paths only
//! (`native_roots_cache::…`; the library names itself so under `cfg(test)`), so that it compiles
//! the same in both places.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use native_roots_cache::{SourceOutput, TrustOrigin, TrustSource};
use rustls::pki_types::CertificateDer;

const ROOT_DER: [&[u8]; 3] = [
    include_bytes!("../testdata/root1.der"),
    include_bytes!("../testdata/root2.der"),
    include_bytes!("../testdata/root3.der"),
];

/// One of three real Mozilla roots, kept as DER fixtures.
pub fn root(i: usize) -> CertificateDer<'static> {
    CertificateDer::from(ROOT_DER[i])
}

/// A DER SEQUENCE that is not a certificate.
pub fn garbage() -> CertificateDer<'static> {
    CertificateDer::from(&b"\x30\x03\x02\x01\x00"[..])
}

type Script = dyn Fn(u32) -> SourceOutput + Send + Sync;

/// A source that answers call `n` (from 1) with `script(n)` and counts its calls.
#[derive(Clone)]
pub struct Fake {
    calls: Arc<AtomicU32>,
    script: Arc<Script>,
}

impl Fake {
    /// A source answering each call with `script(call number)`.
    pub fn new(script: impl Fn(u32) -> SourceOutput + Send + Sync + 'static) -> Self {
        Self {
            calls: Arc::new(AtomicU32::new(0)),
            script: Arc::new(script),
        }
    }

    /// How many times the cache called it.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl TrustSource for Fake {
    fn load(&self) -> SourceOutput {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        (self.script)(n)
    }

    fn origin(&self) -> TrustOrigin {
        TrustOrigin::Custom("the fake source".into())
    }
}

/// A CA certificate and its key, to issue leaves from.
pub struct TestCa {
    /// The self-signed CA certificate.
    pub cert: rcgen::Certificate,
    /// Its key.
    pub key: rcgen::KeyPair,
}

impl TestCa {
    /// A fresh self-signed CA named `name`.
    pub fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    /// A leaf certificate for `names` issued by this CA, and the leaf's key.
    pub fn issue(&self, names: &[&str]) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert, key)
    }
}

/// A self-signed CA certificate named `name`, as PEM.
pub fn ca_pem(name: &str) -> String {
    TestCa::new(name).cert.pem()
}

/// A well-formed PEM block whose DER (`SEQUENCE { INTEGER 0 }`) is not a certificate.
pub const UNPARSABLE_CERT_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

/// A fresh, empty directory private to this test process (and tag).
pub fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("native-roots-cache-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory (see [`fresh_dir`]) removed with everything in it when dropped.
pub struct ScratchDir(PathBuf);

/// A fresh, empty directory private to this test process, removed when the value is dropped.
pub fn scratch_dir(tag: &str) -> ScratchDir {
    ScratchDir(fresh_dir(tag))
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for ScratchDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Date `path`'s modification an hour back: a file nobody is writing, as opposed to one written
/// a moment ago (which the reader takes for one that may still be being rewritten).
pub fn settle(path: &Path) {
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(hour_ago))
        .unwrap();
}

/// Write `contents` to `path`, dated an hour back (see [`settle`]); returns the path.
pub fn write_settled(path: PathBuf, contents: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(&path, contents).unwrap();
    settle(&path);
    path
}
