//! Reading PEM bundles and directories of PEM files: `SSL_CERT_FILE`, `SSL_CERT_DIR`, and on
//! Linux and the BSDs the system bundle and directory that OpenSSL would use.
//!
//! This follows rustls-native-certs' rules (a directory contributes its regular files, symlinks
//! followed, not its subdirectories; a file reached twice, as through OpenSSL's hash links, is read
//! once) but records every error with the path it concerns, which rustls-native-certs does not do
//! for PEM errors.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::certificate::{CertificateLocation, ReportedCertificate};
use crate::source::{SourceError, SourceOutput};

/// A bundle and directories to read.
pub(crate) struct PemPaths {
    pub(crate) file: Option<PathBuf>,
    pub(crate) dirs: Vec<PathBuf>,
    /// What the bundle is called in errors: `SSL_CERT_FILE`, or the system CA bundle.
    pub(crate) file_name: &'static str,
}

impl PemPaths {
    /// Read the file, then each directory; a certificate found in several places is one.
    pub(crate) fn load(&self) -> SourceOutput {
        let mut out = SourceOutput::default();
        let mut seen = SeenFiles::default();
        if let Some(file) = &self.file {
            load_bundle(file, self.file_name, &mut out, &mut seen);
        }
        for dir in &self.dirs {
            load_dir(dir, &mut out, &mut seen);
        }
        // Stable: of a certificate found in several files, the first one read is named.
        out.certs.sort_by(|a, b| a.der.as_ref().cmp(b.der.as_ref()));
        out.certs.dedup_by(|a, b| a.der == b.der);
        out
    }
}

/// The bundle named by `SSL_CERT_FILE` (or the system bundle): unlike a directory entry, a bundle
/// that yields nothing is worth an error, since the operator named it on purpose.
fn load_bundle(file: &Path, name: &str, out: &mut SourceOutput, seen: &mut SeenFiles) {
    if file.as_os_str().is_empty() {
        out.errors.push(SourceError::permanent(
            format!("{name} is set but empty"),
            "unset it to use the platform store, or point it at a PEM bundle",
        ));
        return;
    }
    if let Some(refused) = not_a_regular_file(file, name) {
        out.errors.push(refused);
        return;
    }
    if let Ok(metadata) = fs::metadata(file) {
        seen.first_visit(&metadata);
    }
    let (certs, errors) = (out.certs.len(), out.errors.len());
    load_pem_file(file, out);
    if out.certs.len() == certs && out.errors.len() == errors {
        out.errors.push(
            SourceError::permanent(
                "no PEM certificate in file",
                "the file holds no \"-----BEGIN CERTIFICATE-----\" section (is it empty, DER, or \
                 a key?); convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`",
            )
            .with_path(file),
        );
    }
}

fn load_dir(dir: &Path, out: &mut SourceOutput, seen: &mut SeenFiles) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            out.errors
                .push(SourceError::io("opening directory", &err, dir));
            return;
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(err) => {
                out.errors
                    .push(SourceError::io("reading directory entries", &err, dir));
            }
        }
    }
    // Sorted, so that which name of a hash-linked file is read (and reported) is stable.
    paths.sort_unstable();
    for path in paths {
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            // A dangling symlink, as certificate directories often hold.
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                out.errors
                    .push(SourceError::io("failed to open file", &err, &path));
                continue;
            }
        };
        if metadata.is_file() && seen.first_visit(&metadata) {
            load_pem_file(&path, out);
        }
    }
}

/// Every certificate of one PEM file; every error names the file.
fn load_pem_file(path: &Path, out: &mut SourceOutput) {
    let items = match CertificateDer::pem_file_iter(path) {
        Ok(items) => items,
        Err(err) => {
            out.errors.push(SourceError::pem(&err, path));
            return;
        }
    };
    for item in items {
        match item {
            Ok(cert) => out.certs.push(ReportedCertificate::new(
                cert,
                CertificateLocation::File(path.to_owned()),
            )),
            Err(err) => {
                let io = matches!(err, rustls::pki_types::pem::Error::Io(_));
                out.errors.push(SourceError::pem(&err, path));
                // A read error would repeat on every further read.
                if io {
                    break;
                }
            }
        }
    }
}

/// Files already read, by device and inode, so that hash links and overlapping sources are read
/// once.
#[derive(Default)]
struct SeenFiles {
    #[cfg(unix)]
    ids: std::collections::HashSet<(u64, u64)>,
}

impl SeenFiles {
    fn first_visit(&mut self, metadata: &fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.ids.insert((metadata.dev(), metadata.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            true
        }
    }
}

/// A permanent error when `path` exists but is a FIFO, socket or device, which must not be opened:
/// reading it could block forever.
#[cfg(unix)]
fn not_a_regular_file(path: &Path, name: &str) -> Option<SourceError> {
    use std::os::unix::fs::FileTypeExt;
    let kind = fs::metadata(path).ok()?.file_type();
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        return None;
    };
    Some(
        SourceError::permanent(
            format!("{name} is not a regular file"),
            format!(
                "it is {what}, which is not opened because reading it could block forever; point \
                 {name} at a PEM bundle"
            ),
        )
        .with_path(path),
    )
}

#[cfg(not(unix))]
fn not_a_regular_file(_path: &Path, _name: &str) -> Option<SourceError> {
    None
}
