//! Reading PEM bundles and directories of PEM files: `SSL_CERT_FILE`, `SSL_CERT_DIR`, and on
//! Linux and the BSDs the system bundle and directory that OpenSSL would use.
//!
//! This follows rustls-native-certs' rules (a directory contributes its regular files, symlinks
//! followed, not its subdirectories; a file reached twice, as through OpenSSL's hash links, is read
//! once) but records every error with the path it concerns, which rustls-native-certs does not do
//! for PEM errors. On top of that it never publishes a half-written file:
//!
//! - A read is **torn** when the file's identity, size or modification time differ before and
//!   after the read, when it is still being written (modified within [`RACY_WINDOW`], even after
//!   waiting that long once), or when it is empty or its last PEM section ends at end-of-file
//!   without its END line and it was modified within the last 2 s ([`WRITER_WINDOW`]; older,
//!   such a file is an operator's mistake: a permanent error that costs that file only).
//!   A directory scan is torn when an entry vanished between the listing and its open, or when the
//!   directory itself changed during the scan. A torn read is a *transient* error: the load is
//!   retried, and what it read from that file is dropped.
//! - A read that is known to block is never started: FIFOs, sockets and devices are refused, and a
//!   zero-size file (what procfs and sysfs files report) is treated as empty without being opened.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

use crate::source::certificate::{CertificateLocation, ReportedCertificate};
use crate::source::os_error::io_error;
use crate::source::pem_error::{cut_short, pem_error};
use crate::source::pem_sections::{SeenSections, first_occurrences};
use crate::source::read_progress;
use crate::source::settled::{
    FileRead, RACY_WINDOW, Unsettled, WRITER_WINDOW, changed, read_whole, settled_metadata,
    special_kind, young,
};
use crate::source::signature::{SourceSignature, file_id};
use crate::source::{IncompleteFile, SourceError, SourceOutput, TrustOrigin, TrustSource};

/// A trust source of PEM files: a bundle and directories of PEM certificates, for trust paths that
/// come from an application's own configuration.
///
/// It reads them the way [`PlatformSource`](crate::PlatformSource) reads `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` (it is the same reader):
/// - the bundle is read whole; each directory contributes its regular files (symlinks followed,
///   subdirectories not), in name order; a file reached twice (OpenSSL's hash links, or a bundle
///   that is also in a directory) is read once, and a certificate found twice counts once;
/// - every error names the file it concerns; a bad file costs that file only;
/// - a bundle that is a FIFO, socket or device is refused, and zero-size files are never opened
///   (procfs and sysfs files report size 0 and may never end), so a read cannot block forever;
/// - a file that is being rewritten is not half-read: a **torn read** (the file changed during
///   the read, was modified within the last few milliseconds, or is empty or cut short mid-section
///   and was modified within the last 2 s) is a transient error, which the cache retries;
/// - a certificate file may hold other PEM sections (keys, CRLs), which are passed over.
///
/// ```
/// use native_roots_cache::{PemFiles, RootsCache};
///
/// let source = PemFiles::new()
///     .with_file("/etc/my-app/ca-bundle.pem")
///     .with_dir("/etc/my-app/ca.d");
/// let cache = RootsCache::with_source(source);
/// match cache.native_roots() {
///     Ok(roots) => println!("{} anchors", roots.len()),
///     Err(err) => eprintln!("{err}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PemFiles {
    file: Option<PathBuf>,
    dirs: Vec<PathBuf>,
    /// What the bundle is, for the words of its errors.
    bundle: Bundle,
}

/// Whose bundle a [`PemFiles`] reads: its errors name it and say how to fix it accordingly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bundle {
    /// A path from the application's configuration.
    Configured,
    /// `SSL_CERT_FILE`.
    SslCertFile,
    /// The system bundle openssl-probe found (Linux and the BSDs; elsewhere the platform store is
    /// not files).
    #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
    System,
}

impl Bundle {
    fn name(self) -> &'static str {
        match self {
            Self::Configured => "the CA bundle",
            Self::SslCertFile => "SSL_CERT_FILE",
            Self::System => "the system CA bundle",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Self::Configured => "configure the path of a PEM bundle file",
            Self::SslCertFile => {
                "point SSL_CERT_FILE at a PEM bundle file, or unset it to use the platform store"
            }
            Self::System => {
                "reinstall the system CA bundle (the ca-certificates package), or set \
                 SSL_CERT_FILE to a PEM bundle file"
            }
        }
    }
}

impl Default for PemFiles {
    fn default() -> Self {
        Self::new()
    }
}

impl PemFiles {
    /// No bundle and no directory yet.
    pub fn new() -> Self {
        Self {
            file: None,
            dirs: Vec::new(),
            bundle: Bundle::Configured,
        }
    }

    /// Read the PEM bundle at `path` (replacing any bundle set before).
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Also read the PEM files of the directory `path`.
    pub fn with_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.dirs.push(path.into());
        self
    }

    /// The bundle, if one is set.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The directories, in the order they are read.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The same files, their bundle being `bundle` (`SSL_CERT_FILE`, the system's) in errors.
    pub(crate) fn bundle_is(mut self, bundle: Bundle) -> Self {
        self.bundle = bundle;
        self
    }

    /// Read the file, then each directory; a certificate found in several places is one. The
    /// output carries the signature of what was read, built from the reader's own looks.
    pub(crate) fn read(&self) -> SourceOutput {
        let mut reader = Reader::default();
        if let Some(file) = &self.file {
            reader.bundle(file, self.bundle);
        }
        for dir in &self.dirs {
            reader.dir(dir);
        }
        let Reader {
            mut out, signature, ..
        } = reader;
        out.signature = Some(signature);
        // A certificate found in several files counts once, named by the first file read; the
        // others keep the order they were read in, so that "certificate #N" can be found.
        let first = first_occurrences(&out.certs);
        let mut first = first.into_iter();
        out.certs.retain(|_| first.next().unwrap_or(false));
        out
    }
}

impl TrustSource for PemFiles {
    fn load(&self) -> SourceOutput {
        self.read()
    }

    fn origin(&self) -> TrustOrigin {
        TrustOrigin::PemFiles {
            file: self.file.clone(),
            dirs: self.dirs.clone(),
        }
    }

    fn signature(&self) -> Option<SourceSignature> {
        Some(SourceSignature::of_paths(
            self.file.as_deref(),
            self.dirs.iter().map(PathBuf::as_path),
        ))
    }
}

/// One read of a [`PemFiles`]: what it found, which files it already read, and the signature of
/// what it looked at.
#[derive(Default)]
struct Reader {
    out: SourceOutput,
    seen: SeenFiles,
    sections: SeenSections,
    signature: SourceSignature,
}

impl Reader {
    /// The bundle named by `SSL_CERT_FILE` (or the system bundle): unlike a directory entry, a
    /// bundle that yields nothing is worth an error, since the operator named it on purpose.
    fn bundle(&mut self, file: &Path, bundle: Bundle) {
        if file.as_os_str().is_empty() {
            // What a look at "" finds, so that the signature matches `SourceSignature::of_paths`.
            self.signature.record(file, Err(io::ErrorKind::NotFound));
            self.out.errors.push(SourceError::permanent(
                format!("{} is set but empty", bundle.name()),
                bundle.fix(),
            ));
            return;
        }
        read_progress::reading(file);
        let metadata = fs::metadata(file);
        self.signature
            .record(file, metadata.as_ref().map_err(io::Error::kind));
        let metadata = match metadata {
            Ok(metadata) => metadata,
            Err(err) => {
                self.out
                    .errors
                    .push(io_error("failed to read PEM from file", &err, file));
                return;
            }
        };
        if let Some(refused) = not_a_regular_file(file, &metadata, bundle) {
            self.out.errors.push(refused);
            return;
        }
        self.seen.first_visit(&metadata);
        let (certs, errors) = (self.out.certs.len(), self.out.errors.len());
        if !self.pem_file(file, metadata) {
            // procfs and sysfs report size 0 and may never end (`/proc/kmsg`): never opened.
            self.out.errors.push(
                SourceError::permanent(
                    "empty file not read",
                    "its size is 0, so there is nothing to parse (files of procfs and sysfs \
                     report size 0 and can block a reader forever, so zero-size files are never \
                     opened)",
                )
                .with_path(file),
            );
        } else if self.out.certs.len() == certs && self.out.errors.len() == errors {
            self.out.errors.push(
                SourceError::permanent(
                    "no PEM certificate in file",
                    "the file holds no \"-----BEGIN CERTIFICATE-----\" section (is it DER, or a \
                     key?); convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`",
                )
                .with_path(file),
            );
        }
    }

    fn dir(&mut self, dir: &Path) {
        read_progress::reading(dir);
        let before = settled_metadata(dir, fs::metadata(dir));
        self.signature
            .record(dir, before.as_ref().map_err(Unsettled::kind));
        let before = match before {
            Ok(metadata) => metadata,
            Err(unsettled) => {
                self.out
                    .errors
                    .push(unsettled.source_error("opening directory", dir));
                return;
            }
        };
        let paths = match list_dir(dir) {
            Ok(paths) => paths,
            Err(err) => {
                self.out.errors.push(err);
                return;
            }
        };
        let (certs, errors) = (self.out.certs.len(), self.out.errors.len());
        for path in paths {
            let metadata = fs::metadata(&path);
            self.signature
                .record(&path, metadata.as_ref().map_err(io::Error::kind));
            let metadata = match metadata {
                Ok(metadata) => metadata,
                // A dangling symlink, as certificate directories often hold: the link is still
                // there.
                Err(err)
                    if err.kind() == io::ErrorKind::NotFound
                        && fs::symlink_metadata(&path).is_ok() =>
                {
                    continue;
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    self.out.certs.truncate(certs);
                    self.out.errors.truncate(errors);
                    self.out.errors.push(torn(
                        &path,
                        "the entry vanished between the directory listing and its open",
                        SystemTime::now() + RACY_WINDOW,
                    ));
                    return;
                }
                Err(err) => {
                    self.out
                        .errors
                        .push(io_error("failed to open file", &err, &path));
                    continue;
                }
            };
            // An empty entry is passed over like any file without certificates.
            if metadata.is_file() && self.seen.first_visit(&metadata) {
                self.pem_file(&path, metadata);
            }
        }
        if let Some(change) = fs::metadata(dir)
            .ok()
            .and_then(|after| changed(&before, &after))
        {
            self.out.certs.truncate(certs);
            self.out.errors.truncate(errors);
            self.out.errors.push(torn(
                dir,
                &format!("the directory changed while it was read ({change})"),
                SystemTime::now() + RACY_WINDOW,
            ));
        }
    }

    /// Every certificate of one PEM file, or none of them when the read was torn; every error
    /// names the file. `false` when the file is empty, and so was not opened. `metadata` is the
    /// look the caller just took of `path`.
    fn pem_file(&mut self, path: &Path, metadata: fs::Metadata) -> bool {
        read_progress::reading(path);
        let (bytes, metadata) = match read_whole(path, metadata) {
            Ok(FileRead::Whole(bytes, metadata)) => (bytes, metadata),
            Ok(FileRead::Empty) => {
                self.out
                    .incomplete
                    .push(IncompleteFile::Empty(path.to_owned()));
                return false;
            }
            Err(unsettled) => {
                self.out
                    .errors
                    .push(unsettled.source_error("failed to read PEM from file", path));
                return true;
            }
        };
        let start = self.out.certs.len();
        let items = match self.sections.certificates(bytes) {
            Ok(items) => items,
            Err(bytes) => CertificateDer::pem_slice_iter(&bytes).collect(),
        };
        for item in items {
            match item {
                Ok(cert) => self.out.certs.push(ReportedCertificate::new(
                    cert,
                    CertificateLocation::File(path.to_owned()),
                )),
                Err(err @ pem::Error::MissingSectionEnd { .. }) => {
                    self.out
                        .incomplete
                        .push(IncompleteFile::CutShort(path.to_owned()));
                    match young(&metadata, WRITER_WINDOW) {
                        Some(settles_at) => {
                            self.out.certs.truncate(start);
                            self.out
                                .errors
                                .push(torn(path, &cut_short(&err), settles_at));
                        }
                        None => self.out.errors.push(pem_error(&err, path)),
                    }
                    return true;
                }
                Err(err) => self.out.errors.push(pem_error(&err, path)),
            }
        }
        true
    }
}

/// A directory's entries, sorted so that which name of a hash-linked file is read (and reported)
/// is stable.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let entries = fs::read_dir(dir).map_err(|err| io_error("opening directory", &err, dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| io_error("reading directory entries", &err, dir))?;
        names.push(entry.file_name());
    }
    // All share `dir`, so their order is their names' order: sorting the names spares a
    // component-by-component walk of two paths at each comparison.
    names.sort_unstable();
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}

/// A torn read of `path`: transient, read again once the file is quiet at `settles_at`.
fn torn(path: &Path, why: &str, settles_at: SystemTime) -> SourceError {
    SourceError::torn(path, why, settles_at)
}

/// Files already read, by device and inode, so that hash links and overlapping sources are read
/// once.
#[derive(Default)]
struct SeenFiles {
    ids: std::collections::HashSet<(u64, u64)>,
}

impl SeenFiles {
    fn first_visit(&mut self, metadata: &fs::Metadata) -> bool {
        file_id(metadata).is_none_or(|id| self.ids.insert(id))
    }
}

/// A permanent error when the bundle `path` exists but is a directory, a FIFO, a socket or a
/// device: a directory is not a bundle, and reading the others could block forever.
fn not_a_regular_file(path: &Path, metadata: &fs::Metadata, bundle: Bundle) -> Option<SourceError> {
    let kind = metadata.file_type();
    let what = if kind.is_dir() {
        "a directory, which is read as a bundle of PEM files only when named as a directory \
         (SSL_CERT_DIR, PemFiles::with_dir)"
    } else {
        special_kind(&kind)?
    };
    Some(
        SourceError::permanent(
            format!("{} is not a regular file", bundle.name()),
            format!("it is {what}; {}", bundle.fix()),
        )
        .with_path(path),
    )
}
