//! PEM errors spelled out for an operator: what a section is missing, with its markers as text
//! rather than byte lists, and the error about a file that holds one.

use std::path::Path;

use rustls::pki_types::pem;

use crate::source::SourceError;
use crate::source::os_error::io_error;

/// Why a file whose last section has no END line is taken for one being written.
pub(super) fn cut_short(err: &pem::Error) -> String {
    let marker = match err {
        pem::Error::MissingSectionEnd { end_marker } => String::from_utf8_lossy(end_marker),
        _ => "CERTIFICATE".into(),
    };
    format!(
        "its last section has no \"-----END {marker}-----\" line: the file is cut short, or was \
         being written"
    )
}

/// A PEM error about `path`, spelled out for an operator.
pub(crate) fn pem_error(err: &pem::Error, path: &Path) -> SourceError {
    match err {
        pem::Error::Io(err) => io_error("failed to read PEM from file", err, path),
        _ => SourceError::permanent("failed to read PEM from file", describe_pem(err))
            .with_path(path),
    }
}

/// A PEM error in words, with its markers as text rather than byte lists.
pub(crate) fn describe_pem(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a section has no \"-----END {}-----\" line (truncated file?)",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "malformed section start line: {:?}",
            String::from_utf8_lossy(line)
        ),
        pem::Error::Base64Decode(what) => format!("invalid base64 in a section: {what}"),
        other => other.to_string(),
    }
}
