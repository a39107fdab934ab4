//! [`CrlError`]: why CRLs could not be read; the last good set stays in use.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use native_roots_cache::Unread;

/// Why a read of a [`CrlSource`](crate::CrlSource) was refused. A [`Crls`](crate::Crls) keeps
/// the last good set; only the first read, with nothing to keep, fails with it.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// A file or directory could not be read.
    #[error("cannot read CRLs from {}", .path.display())]
    #[non_exhaustive]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: Arc<io::Error>,
    },
    /// A CRL is cut short: a PEM section without its END line, or DER shorter than its length
    /// says (a file being written, or truncated). No part of the set is used.
    #[error("a CRL in {} is cut short", .path.display())]
    #[non_exhaustive]
    CutShort {
        /// The file.
        path: PathBuf,
    },
    /// The read did not finish: past its timeout (a file on a dead network mount), a previous
    /// read still running, a panic, or no thread.
    #[error("reading the CRLs did not finish (timeout {timeout:?})")]
    #[non_exhaustive]
    Unfinished {
        /// The timeout of one read.
        timeout: Duration,
        /// What became of the read.
        #[source]
        source: Unread,
    },
}

impl CrlError {
    pub(crate) fn read(path: &Path, err: io::Error) -> Self {
        Self::Read {
            path: path.to_owned(),
            source: Arc::new(err),
        }
    }

    /// What an operator can do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            Self::Read { .. } => {
                "check that the path exists and is readable; the CRLs in use stay until it reads"
            }
            Self::CutShort { .. } => {
                "write the whole CRL (write a temporary file and rename it over the old one); \
                 the CRLs in use stay until it is whole"
            }
            Self::Unfinished { .. } => {
                "unblock the read (a hung network mount); the CRLs in use stay, and no second \
                 read starts until it ends"
            }
        }
    }
}
