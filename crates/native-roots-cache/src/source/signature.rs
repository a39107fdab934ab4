//! [`SourceSignature`]: a cheap summary of the files a trust source reads (metadata only, no
//! parse), so that a watcher can tell whether a reload is worth doing.
//!
//! Each path is looked at *through* its symlinks (a Kubernetes ConfigMap swaps a `..data` link:
//! the link itself does not change, what it leads to does), by device, inode, size and
//! modification time; a directory also contributes the sorted names of its entries and the same
//! facts of each. A path that cannot be read contributes its error kind, so that a file appearing
//! or vanishing is a change too.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What one look at a path found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Look {
    Found {
        id: Option<(u64, u64)>,
        len: u64,
        modified: Option<SystemTime>,
    },
    Failed(io::ErrorKind),
}

impl Look {
    fn at(path: &Path) -> Self {
        Self::of(fs::metadata(path).as_ref().map_err(io::Error::kind))
    }

    fn of(metadata: Result<&fs::Metadata, io::ErrorKind>) -> Self {
        match metadata {
            Ok(metadata) => Self::Found {
                id: file_id(metadata),
                len: metadata.len(),
                modified: metadata.modified().ok(),
            },
            Err(kind) => Self::Failed(kind),
        }
    }
}

/// A cheap summary of a trust source's files: equal signatures mean that, as far as metadata
/// can tell, a reload would read the same bytes.
///
/// [`PemFiles`](crate::PemFiles) and the system store's files on Linux and the BSDs (and
/// `SSL_CERT_FILE`/`SSL_CERT_DIR` everywhere) have one; the macOS and Windows stores do not, so a
/// watcher reloads them in full on a timer instead. A custom [`TrustSource`](crate::TrustSource)
/// that reads files can build one with [`SourceSignature::of_paths`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceSignature {
    looks: Vec<(PathBuf, Look)>,
}

impl SourceSignature {
    /// The signature of `files` (each looked at through its symlinks) and of `dirs` (each, plus
    /// every entry in it).
    pub fn of_paths<'a>(
        files: impl IntoIterator<Item = &'a Path>,
        dirs: impl IntoIterator<Item = &'a Path>,
    ) -> Self {
        let mut looks = Vec::new();
        for file in files {
            looks.push((file.to_owned(), Look::at(file)));
        }
        for dir in dirs {
            looks.push((dir.to_owned(), Look::at(dir)));
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect();
            paths.sort_unstable();
            looks.extend(paths.into_iter().map(|path| {
                let look = Look::at(&path);
                (path, look)
            }));
        }
        Self { looks }
    }

    /// Record what a reader's own look at `path` found, in the order [`of_paths`](Self::of_paths)
    /// looks (each file, then each directory followed by its sorted entries): a reader that
    /// stats every path anyway builds the signature of what it read at no extra cost, equal to
    /// the one `of_paths` takes of the same, unchanged files.
    pub(crate) fn record(&mut self, path: &Path, metadata: Result<&fs::Metadata, io::ErrorKind>) {
        self.looks.push((path.to_owned(), Look::of(metadata)));
    }

    /// A signature of one path that was not found, made without touching the file system (for the
    /// debounce's unit tests, which also run under Miri).
    #[cfg(test)]
    pub(crate) fn of_missing(path: &str) -> Self {
        Self {
            looks: vec![(PathBuf::from(path), Look::Failed(io::ErrorKind::NotFound))],
        }
    }

    /// How many paths it covers.
    #[cfg(all(test, unix))]
    fn len(&self) -> usize {
        self.looks.len()
    }
}

/// A file's identity (device and inode), where the platform has one.
#[cfg(unix)]
pub(crate) fn file_id(metadata: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
pub(crate) fn file_id(_metadata: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use test_pki::{scratch_dir, settle};

    fn sig(dir: &Path, file: &Path) -> SourceSignature {
        SourceSignature::of_paths([file], [dir])
    }

    #[test]
    #[cfg_attr(miri, ignore = "real files: Miri isolates the file system")]
    fn a_signature_changes_with_what_a_reload_would_read() {
        let root = scratch_dir("signature");
        let dir = root.join("certs");
        fs::create_dir(&dir).unwrap();
        let bundle = root.join("bundle.pem");
        fs::write(&bundle, "one").unwrap();
        fs::write(dir.join("a.pem"), "a").unwrap();
        let before = sig(&dir, &bundle);
        assert_eq!(sig(&dir, &bundle), before, "nothing changed");
        assert_eq!(before.len(), 3);

        // An in-place rewrite of the same size, dated differently.
        fs::write(&bundle, "two").unwrap();
        settle(&bundle);
        let rewritten = sig(&dir, &bundle);
        assert_ne!(rewritten, before);

        // A new entry in the directory.
        fs::write(dir.join("b.pem"), "b").unwrap();
        let added = sig(&dir, &bundle);
        assert_ne!(added, rewritten);

        // A symlink swapped to another target, as the kubelet swaps `..data`.
        let (v1, v2) = (root.join("v1"), root.join("v2"));
        fs::write(&v1, "v1").unwrap();
        fs::write(&v2, "v2").unwrap();
        let link = root.join("link.pem");
        std::os::unix::fs::symlink(&v1, &link).unwrap();
        let through_v1 = SourceSignature::of_paths([link.as_path()], []);
        let tmp = root.join("link.tmp");
        std::os::unix::fs::symlink(&v2, &tmp).unwrap();
        fs::rename(&tmp, &link).unwrap();
        assert_ne!(SourceSignature::of_paths([link.as_path()], []), through_v1);

        // A file that vanishes.
        fs::remove_file(&bundle).unwrap();
        assert_ne!(sig(&dir, &bundle), added);
    }
}
