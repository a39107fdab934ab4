//! [`CrlSource`]: where CRLs are read from (files, directories, the native store's own as OpenSSL
//! finds them), and one read of them with the trust store's file rules.
//!
//! Guarantees: every file is read whole by the core's settled read (regular files only, never
//! half a rewrite: a torn read is "being written", not a CRL); a CRL cut short (a PEM section
//! without its END line, DER shorter than its length says) is an error that keeps the last good
//! set, never part of a set; anything else that is not a CRL is skipped with the reason. Nothing
//! is parsed for use here: rustls parses each CRL once per trust set that applies it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use native_roots_cache::{PlatformSource, ReloadGate, SourceSignature};
use rustls::pki_types::CertificateRevocationListDer;
use rustls::pki_types::pem::{self, PemObject};

use crate::crl::der::{CrlFacts, NotACrl};
use crate::crl::error::CrlError;
use crate::crl::info::CrlInfo;

/// Where a [`Crls`](crate::Crls) reads its certificate revocation lists: files holding one or
/// more CRLs (PEM `X509 CRL` sections, or one DER CRL), directories of such files (any names,
/// OpenSSL's `HASH.rN` included), and the CRLs the native trust store holds as OpenSSL finds
/// them.
///
/// ```
/// use tls_client_builder::CrlSource;
///
/// let source = CrlSource::new()
///     .with_file("/etc/my-app/ca.crl")
///     .with_dir("/etc/my-app/crls.d")
///     .with_native_store();
/// assert_eq!(source.files().len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CrlSource {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    native_store: bool,
}

impl CrlSource {
    /// No CRL yet: add files, directories or the native store's.
    pub fn new() -> Self {
        Self::default()
    }

    /// The CRLs of the native trust store, as OpenSSL finds them: the `X509 CRL` sections of the
    /// bundle (`SSL_CERT_FILE`, or the system bundle) and the `HASH.rN` files of the directory
    /// (`SSL_CERT_DIR`, or the system directory; `c_rehash` and `openssl rehash` make them).
    /// OpenSSL loads these but checks them only when asked; so does this crate. On macOS and
    /// Windows the native store has no files and holds no CRL here.
    pub fn native_store() -> Self {
        Self::new().with_native_store()
    }

    /// Add a file of one or more CRLs: PEM `X509 CRL` sections (other sections are skipped), or
    /// one DER CRL.
    #[must_use]
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Add a directory: each regular file in it (symlinks followed, subdirectories and hidden
    /// names not: a writer's temporary file, Kubernetes' `..data`), in name order, read as [`with_file`](Self::with_file) reads one; a file holding no CRL is skipped
    /// with the reason.
    #[must_use]
    pub fn with_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.dirs.push(path.into());
        self
    }

    /// Add the native store's CRLs (see [`native_store`](Self::native_store)).
    #[must_use]
    pub fn with_native_store(mut self) -> Self {
        self.native_store = true;
        self
    }

    /// The files given.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The directories given.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Whether the native store's CRLs are read too.
    pub fn reads_native_store(&self) -> bool {
        self.native_store
    }

    /// Every path read, as `(files, directories)`: those given, then the native store's.
    fn paths(&self) -> (Vec<Place>, Vec<Place>) {
        let mut files: Vec<Place> = self.files.iter().cloned().map(Place::Any).collect();
        let mut dirs: Vec<Place> = self.dirs.iter().cloned().map(Place::Any).collect();
        if let Some(native) = self
            .native_store
            .then(|| PlatformSource::new().files())
            .flatten()
        {
            files.extend(native.file().map(|file| Place::Native(file.to_owned())));
            dirs.extend(native.dirs().iter().cloned().map(Place::Native));
        }
        (files, dirs)
    }

    /// The cheap signature of every path read: a `stat` of each file, each directory and each
    /// of its entries.
    pub(crate) fn signature(&self) -> SourceSignature {
        let (files, dirs) = self.paths();
        SourceSignature::of_paths(
            files.iter().map(|f| f.path()),
            dirs.iter().map(|d| d.path()),
        )
    }
}

/// `files a.crl, b.crl; directories crls.d; the native store`, for logs.
impl std::fmt::Display for CrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.files.is_empty() {
            parts.push(format!("files {}", list(&self.files)));
        }
        if !self.dirs.is_empty() {
            parts.push(format!("directories {}", list(&self.dirs)));
        }
        if self.native_store {
            parts.push("the native store".to_owned());
        }
        if parts.is_empty() {
            return f.write_str("no CRL source");
        }
        f.write_str(&parts.join("; "))
    }
}

/// A file or directory read, and what it is expected to hold.
enum Place {
    /// Given for its CRLs: a file without one is skipped with the reason; in a directory, every
    /// regular file.
    Any(PathBuf),
    /// The native store's: the bundle, whose CRL sections are an extra beside its certificates
    /// (none is the rule, not a skip); the directory, whose only OpenSSL `HASH.rN` files count.
    Native(PathBuf),
}

impl Place {
    fn path(&self) -> &Path {
        match self {
            Self::Any(path) | Self::Native(path) => path,
        }
    }
}

/// One CRL as read: its DER and its report.
#[derive(Clone, Debug)]
pub(crate) struct LoadedCrl {
    pub(crate) der: CertificateRevocationListDer<'static>,
    pub(crate) info: CrlInfo,
}

/// What one read yields: the CRLs, and what was skipped with the reason.
#[derive(Clone, Debug, Default)]
pub(crate) struct CrlRead {
    pub(crate) crls: Vec<LoadedCrl>,
    pub(crate) skipped: Vec<CrlInfo>,
}

impl CrlRead {
    /// Whether `other` holds the same CRLs, in the same order.
    pub(crate) fn same_crls(&self, other: &Self) -> bool {
        self.crls.len() == other.crls.len()
            && self
                .crls
                .iter()
                .zip(&other.crls)
                .all(|(a, b)| a.der == b.der)
    }
}

/// What one read of the source found.
pub(crate) enum Found {
    Whole(CrlRead),
    /// A file changed during the read, or is empty and was written just now: it is being
    /// written. Neither usable nor refused: read it again later.
    BeingWritten(PathBuf),
}

/// Read `source` once, with `gate`'s bounded read (on a thread of its own, bounded by `timeout`).
pub(crate) fn read(
    source: &CrlSource,
    gate: &mut ReloadGate,
    timeout: std::time::Duration,
) -> Result<Found, CrlError> {
    let source = source.clone();
    gate.run(timeout, move || read_once(&source))
        .map_err(|unread| CrlError::Unfinished {
            timeout,
            source: unread,
        })?
}

fn read_once(source: &CrlSource) -> Result<Found, CrlError> {
    let (files, dirs) = source.paths();
    let mut read = CrlRead::default();
    let mut seen = Vec::new();
    for file in &files {
        let (path, expected) = match file {
            Place::Any(path) => (path, true),
            Place::Native(path) => (path, false),
        };
        if !seen.contains(path) {
            seen.push(path.clone());
            if let Some(path) = read_file(path, expected, &mut read)? {
                return Ok(Found::BeingWritten(path));
            }
        }
    }
    for dir in &dirs {
        let entries = fs::read_dir(dir.path())
            .and_then(|entries| entries.map(|entry| entry.map(|e| e.path())).collect());
        let mut entries: Vec<PathBuf> = match entries {
            Ok(entries) => entries,
            // The native store need not have a directory.
            Err(err)
                if matches!(dir, Place::Native(_)) && err.kind() == io::ErrorKind::NotFound =>
            {
                continue;
            }
            Err(err) => return Err(CrlError::read(dir.path(), err)),
        };
        entries.sort_unstable();
        for entry in entries {
            // Hidden names are a writer's temporary files and Kubernetes' `..data` links.
            let hidden = entry
                .file_name()
                .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."));
            let counts = !hidden
                && match dir {
                    Place::Any(_) => entry.is_file(),
                    Place::Native(_) => is_openssl_crl_name(&entry) && entry.is_file(),
                };
            if counts && !seen.contains(&entry) {
                seen.push(entry.clone());
                if let Some(path) = read_file(&entry, true, &mut read)? {
                    return Ok(Found::BeingWritten(path));
                }
            }
        }
    }
    Ok(Found::Whole(read))
}

/// Whether `path` is named as OpenSSL names a CRL in a hashed directory: eight hex digits, `.r`,
/// a number (`5d8e9c2a.r0`).
fn is_openssl_crl_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let Some((hash, number)) = name.split_once(".r") else {
        return false;
    };
    hash.len() == 8
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Read the CRLs of `path` into `read`; `Some(path)` when it is being written. A file not
/// `expected` to hold a CRL (the native bundle) is not reported when it holds none.
fn read_file(path: &Path, expected: bool, read: &mut CrlRead) -> Result<Option<PathBuf>, CrlError> {
    let bytes = match ReloadGate::read_file(path) {
        Ok(bytes) => bytes,
        // The core's torn read.
        Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(Some(path.to_owned())),
        Err(err) => return Err(CrlError::read(path, err)),
    };
    let skip = |read: &mut CrlRead, why: &str| {
        read.skipped.push(CrlInfo::skipped(path, why.to_owned()));
    };
    if bytes.is_empty() {
        if expected {
            skip(read, "the file is empty");
        }
        return Ok(None);
    }
    if !bytes.starts_with(b"0") && bytes.windows(10).any(|w| w == b"-----BEGIN") {
        let before = read.crls.len();
        for section in CertificateRevocationListDer::pem_slice_iter(&bytes) {
            match section {
                Ok(der) => add(path, der, read)?,
                Err(pem::Error::MissingSectionEnd { .. }) => {
                    return Err(CrlError::CutShort {
                        path: path.to_owned(),
                    });
                }
                Err(err) => skip(read, &format!("a PEM section that cannot be read ({err})")),
            }
        }
        if expected
            && read.crls.len() == before
            && read.skipped.last().is_none_or(|info| info.path != path)
        {
            skip(read, "the file holds no X509 CRL section");
        }
        return Ok(None);
    }
    add(path, CertificateRevocationListDer::from(bytes), read)?;
    Ok(None)
}

/// One CRL's DER: reported and kept, skipped with the reason, or an error when it is cut short.
fn add(
    path: &Path,
    der: CertificateRevocationListDer<'static>,
    read: &mut CrlRead,
) -> Result<(), CrlError> {
    match CrlFacts::parse(&der) {
        Ok(facts) => {
            let info = CrlInfo::of(path, &facts);
            read.crls.push(LoadedCrl { der, info });
            Ok(())
        }
        Err(NotACrl::CutShort) => Err(CrlError::CutShort {
            path: path.to_owned(),
        }),
        Err(NotACrl::Malformed(why)) => {
            read.skipped
                .push(CrlInfo::skipped(path, format!("not a CRL: {why}")));
            Ok(())
        }
    }
}

/// Shared, for configs that apply them.
pub(crate) type SharedRead = Arc<CrlRead>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_crl_names() {
        assert!(is_openssl_crl_name(Path::new("/etc/ssl/certs/5d8e9c2a.r0")));
        assert!(is_openssl_crl_name(Path::new("5D8E9C2A.r12")));
        assert!(!is_openssl_crl_name(Path::new("5d8e9c2a.0")));
        assert!(!is_openssl_crl_name(Path::new("ca.crl")));
        assert!(!is_openssl_crl_name(Path::new("5d8e9c2a.r")));
    }
}
