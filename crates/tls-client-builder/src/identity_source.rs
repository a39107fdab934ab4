//! [`IdentitySource`]: where a rotating client identity is read from (PEM files, or a callback);
//! [`IdentityMaterial`]: what one read yields; and the checks a new identity passes before it is
//! used.
//!
//! Guarantees: a read runs on a thread of its own, bounded by the source's timeout, so that a
//! blocked callback or a dead mount never blocks the caller past it; while an abandoned read
//! still runs, no second one starts; a panic in the read is an error, not a crash. An identity
//! is accepted only when every certificate of the chain parses, the leaf has not expired, the
//! crypto provider can use the key and the key matches the leaf (`CertifiedKey::keys_match`).

use std::error::Error as StdError;
use std::fmt;
use std::fs;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use native_roots_cache::{ReportedCertificate, SourceSignature};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::InconsistentKeys;

use crate::identity_error::IdentityError;
use crate::pem;

/// The callback of [`IdentitySource::callback`].
type Callback = dyn Fn() -> Result<IdentityMaterial, Box<dyn StdError + Send + Sync>> + Send + Sync;

/// Where a [`RotatingIdentity`](crate::RotatingIdentity) reads its certificate chain and key:
/// two PEM files (or one file holding both), or a callback (a secrets manager, a vault agent);
/// each read bounded by a timeout.
///
/// ```
/// use std::time::Duration;
/// use tls_client_builder::{IdentityMaterial, IdentitySource};
///
/// let files = IdentitySource::files("/etc/my-app/client.crt", "/etc/my-app/client.key");
/// let vault = IdentitySource::callback(|| {
///     # let (chain_pem, key_pem) = (String::new(), String::new());
///     // let (chain_pem, key_pem) = my_vault_client.fetch("billing")?;
///     Ok(IdentityMaterial::from_pem(chain_pem, key_pem)?)
/// })
/// .with_timeout(Duration::from_secs(2));
/// ```
#[derive(Clone)]
pub struct IdentitySource {
    kind: Kind,
    timeout: Duration,
}

#[derive(Clone)]
enum Kind {
    Files { chain: PathBuf, key: PathBuf },
    Callback(Arc<Callback>),
}

impl IdentitySource {
    /// How long one read may take unless [`with_timeout`](Self::with_timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Read the certificate chain (leaf first) from `chain` and the private key (PKCS#8, PKCS#1
    /// or SEC1) from `key`, both PEM. They may be the same file: certificates in the key file,
    /// and a key in the chain file, are skipped.
    ///
    /// A watcher follows both files through their symlinks (a Kubernetes Secret volume swaps a
    /// `..data` link), by a cheap `stat` signature.
    pub fn files(chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            kind: Kind::Files {
                chain: chain.into(),
                key: key.into(),
            },
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Ask `callback` for the identity. It runs on a thread of its own, never on a handshake's
    /// path: at the first read, and then at each check ([`RotatingIdentity::check_for_changes`],
    /// or each poll of a watcher), where an identity equal to the one in use changes nothing.
    ///
    /// A callback that errs, panics or blocks past the timeout leaves the identity in use as it
    /// is.
    ///
    /// [`RotatingIdentity::check_for_changes`]: crate::RotatingIdentity::check_for_changes
    pub fn callback<F>(callback: F) -> Self
    where
        F: Fn() -> Result<IdentityMaterial, Box<dyn StdError + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        Self {
            kind: Kind::Callback(Arc::new(callback)),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Give up on a read after `timeout` ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT) by
    /// default). The abandoned read is not started again until it ends.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one read may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The certificate and key files, or `None` for a callback.
    pub fn paths(&self) -> Option<(&Path, &Path)> {
        match &self.kind {
            Kind::Files { chain, key } => Some((chain, key)),
            Kind::Callback(_) => None,
        }
    }

    /// The cheap signature of the files (each looked at through its symlinks), or `None` for a
    /// callback, which has none: a check then calls it.
    pub(crate) fn signature(&self) -> Option<FilesSignature> {
        let (chain, key) = self.paths()?;
        Some(FilesSignature::of(chain, key))
    }
}

/// `files(chain.pem, key.pem)` or `callback`, for logs.
impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Files { chain, key } if chain == key => write!(f, "file {}", chain.display()),
            Kind::Files { chain, key } => {
                write!(f, "files {} and {}", chain.display(), key.display())
            }
            Kind::Callback(_) => f.write_str("a callback"),
        }
    }
}

impl fmt::Debug for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("IdentitySource");
        match &self.kind {
            Kind::Files { chain, key } => debug.field("chain", chain).field("key", key),
            Kind::Callback(_) => debug.field("callback", &"<fn>"),
        };
        debug.field("timeout", &self.timeout).finish()
    }
}

/// The signatures of the chain file and of the key file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FilesSignature {
    chain: SourceSignature,
    key: SourceSignature,
}

impl FilesSignature {
    fn of(chain: &Path, key: &Path) -> Self {
        Self {
            chain: SourceSignature::of_paths([chain], []),
            key: SourceSignature::of_paths([key], []),
        }
    }
}

/// A certificate chain (leaf first) and its private key, as a callback returns them.
pub struct IdentityMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl IdentityMaterial {
    /// A chain (DER, leaf first) and its key. Checked when the identity is read.
    pub fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Self {
        Self { chain, key }
    }

    /// The certificates of `chain_pem` (leaf first) and the one private key of `key_pem`
    /// (PKCS#8, PKCS#1 or SEC1). As with files, a key in the chain text and certificates in the
    /// key text are skipped, so one text holding both can be passed twice.
    ///
    /// # Errors
    /// [`IdentityError::Pem`] when a text holds no item of its kind, a truncated or undecodable
    /// section, a block of another kind, or more than one key.
    pub fn from_pem(
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, IdentityError> {
        Ok(Self {
            chain: chain_from_pem(None, chain_pem.as_ref())?,
            key: key_from_pem(None, key_pem.as_ref())?,
        })
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    fn same_as(&self, other: &Self) -> bool {
        self.chain == other.chain && self.key.secret_der() == other.key.secret_der()
    }
}

impl Clone for IdentityMaterial {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for IdentityMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityMaterial")
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// An identity that passed every check, ready to be swapped in.
pub(crate) struct CheckedIdentity {
    pub(crate) key: Arc<CertifiedKey>,
    pub(crate) not_after: SystemTime,
    material: IdentityMaterial,
}

impl CheckedIdentity {
    /// Whether `other` holds the same chain and key (a touched file, a callback answering the
    /// same): no rotation then.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.material.same_as(&other.material)
    }
}

/// Read `source` once and check what it yields, on a thread of its own bounded by the source's
/// timeout. `running` holds a read that outlived its timeout: while it runs, this fails at once.
pub(crate) fn read_bounded(
    source: &IdentitySource,
    provider: &Arc<CryptoProvider>,
    running: &mut Option<JoinHandle<()>>,
) -> Result<CheckedIdentity, IdentityError> {
    if running.as_ref().is_some_and(|read| !read.is_finished()) {
        return Err(IdentityError::timed_out(source.timeout));
    }
    *running = None;
    let (answer, answered) = mpsc::sync_channel(1);
    let (kind, provider) = (source.kind.clone(), Arc::clone(provider));
    let read = std::thread::Builder::new()
        .name("client-identity-read".into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| read_once(&kind, &provider)))
                .unwrap_or_else(|panic| Err(IdentityError::panicked(panic_message(&*panic))));
            let _ = answer.send(outcome);
        })
        .map_err(IdentityError::thread)?;
    match answered.recv_timeout(source.timeout) {
        Ok(outcome) => {
            let _ = read.join();
            outcome
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            *running = Some(read);
            Err(IdentityError::timed_out(source.timeout))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = read.join();
            Err(IdentityError::panicked(
                "the read ended without an answer".to_owned(),
            ))
        }
    }
}

fn read_once(kind: &Kind, provider: &CryptoProvider) -> Result<CheckedIdentity, IdentityError> {
    match kind {
        Kind::Files { chain, key } => {
            let (chain_pem, key_pem) = read_pair(chain, key, read_file)?;
            let material = IdentityMaterial {
                chain: chain_from_pem(Some(chain), &chain_pem)?,
                key: key_from_pem(Some(key), &key_pem)?,
            };
            check(material, Some(chain), Some(key), provider)
        }
        Kind::Callback(callback) => {
            let material = callback().map_err(IdentityError::callback)?;
            check(material, None, None, provider)
        }
    }
}

/// Both files' bytes with `read`, refused when either file's signature differs after the read
/// from before it: a file being rewritten in place can be read as a valid but shorter chain.
fn read_pair(
    chain: &Path,
    key: &Path,
    read: impl Fn(&Path) -> Result<Vec<u8>, IdentityError>,
) -> Result<(Vec<u8>, Vec<u8>), IdentityError> {
    let before = FilesSignature::of(chain, key);
    let chain_pem = read(chain)?;
    let key_pem = read(key)?;
    let after = FilesSignature::of(chain, key);
    if after.chain != before.chain {
        return Err(IdentityError::changing(chain));
    }
    if after.key != before.key {
        return Err(IdentityError::changing(key));
    }
    Ok((chain_pem, key_pem))
}

/// A regular file's bytes; a FIFO or device is refused rather than opened (reading one could
/// block until the timeout).
fn read_file(path: &Path) -> Result<Vec<u8>, IdentityError> {
    let metadata = fs::metadata(path).map_err(|err| IdentityError::read(path, err))?;
    if !metadata.is_file() {
        return Err(IdentityError::read(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
        ));
    }
    fs::read(path).map_err(|err| IdentityError::read(path, err))
}

/// The checks of the module docs, in the order an operator would fix them.
fn check(
    material: IdentityMaterial,
    chain_path: Option<&Path>,
    key_path: Option<&Path>,
    provider: &CryptoProvider,
) -> Result<CheckedIdentity, IdentityError> {
    let mut leaf_not_after = None;
    for (index, der) in material.chain.iter().enumerate() {
        let not_after = ReportedCertificate::from(der.clone())
            .not_after()
            .ok_or_else(|| IdentityError::certificate(chain_path, index))?;
        leaf_not_after.get_or_insert(not_after);
    }
    let Some(not_after) = leaf_not_after else {
        return Err(IdentityError::pem(
            chain_path,
            "CERTIFICATE",
            "no certificate found".to_owned(),
        ));
    };
    if not_after <= SystemTime::now() {
        return Err(IdentityError::expired(chain_path, not_after));
    }
    let signing_key = provider
        .key_provider
        .load_private_key(material.key.clone_key())
        .map_err(|err| IdentityError::key(key_path, err))?;
    let key = CertifiedKey::new(material.chain.clone(), signing_key);
    match key.keys_match() {
        Ok(()) => {}
        // The provider's key cannot say its public key (a hardware key): nothing to compare.
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => log::debug!(
            "the client key from {} cannot be compared with its certificate",
            key_path.map_or_else(|| "the callback".into(), |p| p.display().to_string())
        ),
        Err(err @ rustls::Error::InconsistentKeys(_)) => {
            return Err(IdentityError::key_mismatch(chain_path, key_path, err))
        }
        // webpki could not parse the leaf that x509 decoding accepted.
        Err(_) => return Err(IdentityError::certificate(chain_path, 0)),
    }
    Ok(CheckedIdentity {
        key: Arc::new(key),
        not_after,
        material,
    })
}

/// Every certificate of `pem`, in order; private keys are skipped (a file holding both).
fn chain_from_pem(
    path: Option<&Path>,
    text: &[u8],
) -> Result<Vec<CertificateDer<'static>>, IdentityError> {
    const EXPECTED: &str = "CERTIFICATE";
    let mut chain = Vec::new();
    for (item, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(text).enumerate() {
        match section {
            Ok((SectionKind::Certificate, der)) => chain.push(CertificateDer::from(der)),
            Ok((
                SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey,
                _,
            )) => {}
            Ok((kind, _)) => {
                return Err(IdentityError::pem(
                    path,
                    EXPECTED,
                    format!(
                        "item #{item} is a {} block, not a certificate",
                        pem::label(kind)
                    ),
                ))
            }
            Err(err) => {
                return Err(IdentityError::pem(
                    path,
                    EXPECTED,
                    format!("item #{item}: {}", pem::reason(&err)),
                ))
            }
        }
    }
    if chain.is_empty() {
        return Err(IdentityError::pem(
            path,
            EXPECTED,
            "no certificate found".to_owned(),
        ));
    }
    Ok(chain)
}

/// The one private key of `pem`; certificates are skipped (a file holding both).
fn key_from_pem(path: Option<&Path>, text: &[u8]) -> Result<PrivateKeyDer<'static>, IdentityError> {
    const EXPECTED: &str = "PRIVATE KEY";
    let mut key = None;
    for (item, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(text).enumerate() {
        let (kind, der) = section.map_err(|err| {
            IdentityError::pem(
                path,
                EXPECTED,
                format!("item #{item}: {}", pem::reason(&err)),
            )
        })?;
        if kind == SectionKind::Certificate {
            continue;
        }
        let Some(parsed) = PrivateKeyDer::from_pem(kind, der) else {
            return Err(IdentityError::pem(
                path,
                EXPECTED,
                format!(
                    "item #{item} is a {} block, not a private key",
                    pem::label(kind)
                ),
            ));
        };
        if key.replace(parsed).is_some() {
            return Err(IdentityError::pem(
                path,
                EXPECTED,
                format!("item #{item} is a second private key"),
            ));
        }
    }
    key.ok_or_else(|| {
        IdentityError::pem(
            path,
            EXPECTED,
            "no private key found (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC1 \
             `EC PRIVATE KEY`)"
                .to_owned(),
        )
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
    const CSR: &str =
        "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n";

    #[test]
    fn one_text_holding_both_serves_as_chain_and_key() {
        let both = format!("{CERT}{KEY}{CERT}");
        let material = IdentityMaterial::from_pem(&both, &both).expect("both");
        assert_eq!(material.chain().len(), 2);
    }

    #[test]
    fn other_blocks_and_second_keys_are_refused() {
        let err = IdentityMaterial::from_pem(format!("{CERT}{CSR}"), KEY).expect_err("csr");
        assert!(err.to_string().contains("CERTIFICATE REQUEST"), "{err}");
        let err = IdentityMaterial::from_pem(CERT, format!("{KEY}{KEY}")).expect_err("two keys");
        assert!(err.to_string().contains("second private key"), "{err}");
        let err = IdentityMaterial::from_pem(KEY, KEY).expect_err("no certificate");
        assert!(err.to_string().contains("no certificate found"), "{err}");
        let err = IdentityMaterial::from_pem(CERT, CERT).expect_err("no key");
        assert!(err.to_string().contains("no private key found"), "{err}");
    }

    #[test]
    fn a_file_rewritten_during_the_read_is_refused() {
        let dir = std::env::temp_dir().join(format!(
            "tls-client-builder-torn-read-{}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("scratch dir");
        let (chain, key) = (dir.join("chain.pem"), dir.join("key.pem"));
        fs::write(&chain, CERT).expect("chain");
        fs::write(&key, KEY).expect("key");
        assert!(read_pair(&chain, &key, read_file).is_ok());

        // A writer appends to the chain (in place, as `cat >>` does) while it is read.
        let torn = read_pair(&chain, &key, |path| {
            let bytes = read_file(path)?;
            if path == chain {
                fs::write(path, format!("{CERT}{CERT}")).expect("rewrite");
            }
            Ok(bytes)
        });
        assert!(
            matches!(&torn, Err(IdentityError::Changing { path }) if *path == chain),
            "{torn:?}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_redacts_the_key() {
        let material = IdentityMaterial::from_pem(CERT, KEY).expect("parses");
        assert!(format!("{material:?}").contains("<redacted>"));
    }
}
