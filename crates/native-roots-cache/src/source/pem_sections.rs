//! The `CERTIFICATE` sections of PEM files, each distinct text decoded once per read, and each
//! certificate found several times counted once.
//!
//! A Linux trust store holds every root at least twice: in the bundle (`ca-certificates.crt`) and
//! in the directory beside it, with the same PEM text. A certificate found twice counts once (the
//! reader keeps the first), so decoding the second copy's base64 is work thrown away: a quarter
//! of a load's time here. Sections whose text was already decoded during this read are skipped
//! before decoding; a file holding anything but `CERTIFICATE` sections is left to the full PEM
//! reader, so that its errors are exactly what they were.

use std::collections::HashMap;

use rustls::pki_types::CertificateDer;

use crate::source::certificate::ReportedCertificate;
use rustls::pki_types::pem::{self, PemObject};

const BEGIN: &[u8] = b"-----BEGIN ";
const BEGIN_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END_CERTIFICATE: &[u8] = b"-----END CERTIFICATE-----";

/// A section's length and its last bytes: cheap to compute, and it tells certificates apart
/// (their texts start alike); equal keys are confirmed by comparing the whole texts.
type Key = (usize, [u8; 32]);

/// The section texts decoded so far in one read.
#[derive(Default)]
pub(super) struct SeenSections {
    texts: HashMap<Key, Vec<Box<[u8]>>>,
}

impl SeenSections {
    /// The certificates of `bytes`, leaving out sections whose text this read already decoded;
    /// `None` when the file holds something else than `CERTIFICATE` sections (or one without its
    /// END line): read it with the full PEM reader then.
    pub(super) fn certificates(
        &mut self,
        bytes: &[u8],
    ) -> Option<Vec<Result<CertificateDer<'static>, pem::Error>>> {
        let mut items = Vec::new();
        let mut rest = bytes;
        while let Some(at) = find(rest, BEGIN) {
            let section = &rest[at..];
            if !section.starts_with(BEGIN_CERTIFICATE) {
                return None;
            }
            let end = find(section, END_CERTIFICATE)? + END_CERTIFICATE.len();
            let (section, after) = section.split_at(end);
            // Another BEGIN before this END: a section cut short.
            if find(&section[BEGIN_CERTIFICATE.len()..], BEGIN).is_some() {
                return None;
            }
            let text = &section[BEGIN_CERTIFICATE.len()..end - END_CERTIFICATE.len()];
            if !self.first_time(text) {
                rest = after;
                continue;
            }
            items.push(CertificateDer::from_pem_slice(section));
            rest = after;
        }
        Some(items)
    }

    /// Whether `text` is new to this read (and now remembered).
    fn first_time(&mut self, text: &[u8]) -> bool {
        let mut tail = [0; 32];
        let last = &text[text.len().saturating_sub(32)..];
        tail[..last.len()].copy_from_slice(last);
        let texts = self.texts.entry((text.len(), tail)).or_default();
        if texts.iter().any(|seen| **seen == *text) {
            return false;
        }
        texts.push(text.into());
        true
    }
}

/// For each certificate, whether it is the first with its DER. Sorting indices by DER costs a
/// few byte comparisons per certificate (they differ within their first bytes); hashing each
/// whole DER costs more, and a bundle beside a hashed directory holds every root twice.
pub(super) fn first_occurrences(certs: &[ReportedCertificate]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..certs.len()).collect();
    // Stable, so that among equal certificates the first read comes first.
    order.sort_by(|&a, &b| certs[a].der.as_ref().cmp(certs[b].der.as_ref()));
    let mut first = vec![true; certs.len()];
    for pair in order.windows(2) {
        if certs[pair[0]].der == certs[pair[1]].der {
            first[pair[1]] = false;
        }
    }
    first
}

/// Where `needle` (which starts with `-`, a byte base64 never holds) first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|&byte| byte == needle[0]) {
        let at = from + offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ONE: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const TWO: &str = "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_text_seen_before_is_not_decoded_again() {
        let mut seen = SeenSections::default();
        let bundle = format!("{ONE}# a comment\n{TWO}");
        assert_eq!(seen.certificates(bundle.as_bytes()).unwrap().len(), 2);
        // The same texts in other files: nothing new.
        assert!(seen.certificates(ONE.as_bytes()).unwrap().is_empty());
        assert!(
            seen.certificates(format!("{TWO}{ONE}").as_bytes())
                .unwrap()
                .is_empty()
        );
        // A file with another kind of section, or a section without its END line, is left to
        // the full reader.
        let key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
        assert!(
            seen.certificates(format!("{ONE}{key}").as_bytes())
                .is_none()
        );
        let cut = "-----BEGIN CERTIFICATE-----\nMAA";
        assert!(seen.certificates(cut.as_bytes()).is_none());
        assert!(
            seen.certificates(format!("{cut}\n{TWO}").as_bytes())
                .is_none()
        );
    }
}
