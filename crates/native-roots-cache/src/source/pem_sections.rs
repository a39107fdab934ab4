//! The `CERTIFICATE` sections of PEM files, each distinct text decoded once per read, and each
//! certificate found several times counted once.
//!
//! A Linux trust store holds every root at least twice: in the bundle (`ca-certificates.crt`) and
//! in the directory beside it, with the same PEM text. A certificate found twice counts once (the
//! reader keeps the first), so decoding the second copy's base64 is work thrown away. Sections
//! whose text was already decoded during this read are skipped before decoding.
//!
//! The rest is found and decoded at memory speed: markers by `memchr`, base64 by the `base64`
//! crate's strict decoder, where rustls-pki-types' reader (right for keys) decodes in constant
//! time, line by line. The fast path takes only what that reader reads the same way: markers at
//! the start of a line, a body of base64 lines with canonical padding. Anything else (a section
//! of another kind, a marker inside a line, a stray character, a section without its END line)
//! goes to rustls-pki-types, the section alone or the whole file, so errors are exactly its own.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use memchr::memmem;
use rustls::pki_types::CertificateDer;

use crate::source::certificate::ReportedCertificate;
use rustls::pki_types::pem::{self, PemObject};

const BEGIN: &[u8] = b"-----BEGIN ";
const BEGIN_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END_CERTIFICATE: &[u8] = b"-----END CERTIFICATE-----";
const DASHES: &[u8] = b"-----";
/// rustls-pki-types refuses a section larger than this (`SectionTooLarge`): left to it.
const MAX_SECTION: usize = 256 * 1024 * 1024;

/// A section's length and its last bytes: cheap to compute, and it tells certificates apart
/// (their texts start alike); equal keys are confirmed by comparing the whole texts.
type Key = (usize, [u8; 32]);

/// A section's text: which kept file, and where in it.
type Text = (usize, std::ops::Range<usize>);

/// The section texts decoded so far in one read, in the files they were read from: a file that
/// gave a new text is kept (a store's bundle, read first, holds nearly all of them), so that no
/// text is copied.
pub(super) struct SeenSections {
    texts: HashMap<Key, Vec<Text>>,
    files: Vec<Vec<u8>>,
    /// A section's base64 without its line breaks, reused from one section to the next.
    base64: Vec<u8>,
    /// The markers' searchers, built once per read rather than once per file.
    begin: memmem::Finder<'static>,
    dashes: memmem::Finder<'static>,
}

impl Default for SeenSections {
    fn default() -> Self {
        Self {
            texts: HashMap::new(),
            files: Vec::new(),
            base64: Vec::new(),
            begin: memmem::Finder::new(BEGIN),
            dashes: memmem::Finder::new(DASHES),
        }
    }
}

/// Where a section is in its file: its BEGIN marker, its text (from the end of the marker to
/// its END line) and its end (after the END marker).
struct Section {
    begin: usize,
    text: std::ops::Range<usize>,
    end: usize,
}

impl SeenSections {
    /// The certificates of the file `bytes`, leaving out sections whose text this read already
    /// decoded; `Err` gives the file back when it holds something else than `CERTIFICATE`
    /// sections, or a marker this reader does not take as rustls-pki-types would: read it with
    /// the full PEM reader then.
    pub(super) fn certificates(
        &mut self,
        bytes: Vec<u8>,
    ) -> Result<Vec<Result<CertificateDer<'static>, pem::Error>>, Vec<u8>> {
        let Some(sections) = self.sections(&bytes) else {
            return Err(bytes);
        };
        let file = self.files.len();
        self.files.push(bytes);
        let mut items = Vec::new();
        for Section { begin, text, end } in sections {
            if !self.first_time(file, text.clone()) {
                continue;
            }
            let bytes = &self.files[file];
            let item = match decode(&mut self.base64, &bytes[text]) {
                Some(der) => Ok(CertificateDer::from(der)),
                None => CertificateDer::from_pem_slice(&bytes[begin..end]),
            };
            items.push(item);
        }
        // Nothing new here (a hash link's file after the bundle): nothing to keep.
        if items.is_empty() {
            self.files.pop();
        }
        Ok(items)
    }

    /// Every section of `bytes`, or `None` when one is not framed as the fast path reads.
    fn sections(&self, bytes: &[u8]) -> Option<Vec<Section>> {
        let mut sections = Vec::new();
        let mut from = 0;
        while let Some(found) = self.begin.find(&bytes[from..]) {
            let begin = from + found;
            let at_line_start = begin == 0 || bytes[begin - 1] == b'\n';
            if !at_line_start || !bytes[begin..].starts_with(BEGIN_CERTIFICATE) {
                return None;
            }
            // The next marker must be this section's END, at the start of a line: another BEGIN
            // means a section cut short.
            let body = begin + BEGIN_CERTIFICATE.len();
            let text_end = body + self.dashes.find(&bytes[body..])?;
            if bytes[text_end - 1] != b'\n' || !bytes[text_end..].starts_with(END_CERTIFICATE) {
                return None;
            }
            from = text_end + END_CERTIFICATE.len();
            sections.push(Section {
                begin,
                text: body..text_end,
                end: from,
            });
        }
        Some(sections)
    }

    /// Whether the text at `range` of kept file `file` is new to this read (and now
    /// remembered).
    fn first_time(&mut self, file: usize, range: std::ops::Range<usize>) -> bool {
        let text = &self.files[file][range.clone()];
        let mut tail = [0; 32];
        let last = &text[text.len().saturating_sub(32)..];
        tail[..last.len()].copy_from_slice(last);
        let seen = self.texts.entry((text.len(), tail)).or_default();
        let files = &self.files;
        if seen.iter().any(|(f, r)| files[*f][r.clone()] == *text) {
            return false;
        }
        seen.push((file, range));
        true
    }
}

/// The DER of a section's `text` (from the end of its BEGIN marker to its END line), when it is
/// the rest of the BEGIN line (blank), then lines of strict base64; `None` otherwise. `base64`
/// is scratch space.
fn decode(base64: &mut Vec<u8>, text: &[u8]) -> Option<Vec<u8>> {
    let line_end = memchr::memchr(b'\n', text)?;
    if !text[..line_end].iter().all(|&b| b == b' ' || b == b'\r') {
        return None;
    }
    if text.len() > MAX_SECTION {
        return None;
    }
    let body = &text[line_end + 1..];
    base64.clear();
    let mut start = 0;
    for line_end in memchr::memchr_iter(b'\n', body).chain([body.len()]) {
        let line = &body[start..line_end];
        base64.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        start = line_end + 1;
    }
    STANDARD.decode(base64).ok()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ONE: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const TWO: &str = "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n";

    /// Each way of writing a file, with what the fast path must do with its first section:
    /// decode it itself (`true`) or leave it to rustls-pki-types.
    fn variants(pem: &str, other: &str) -> Vec<(String, bool)> {
        let body = pem
            .trim_start_matches("-----BEGIN CERTIFICATE-----\n")
            .trim_end_matches("-----END CERTIFICATE-----\n");
        let section = |begin: &str, body: &str, end: &str| format!("{begin}{body}{end}");
        let (begin, end) = (
            "-----BEGIN CERTIFICATE-----\n",
            "-----END CERTIFICATE-----\n",
        );
        vec![
            (pem.to_owned(), true),
            (pem.replace('\n', "\r\n"), true),
            (
                section("-----BEGIN CERTIFICATE-----  \r\n", body, end),
                true,
            ),
            (pem.trim_end().to_owned(), true),
            (format!("# comment\n{pem}\nnot pem\n{other}"), true),
            (
                section(begin, body, "-----END CERTIFICATE----- and more\n"),
                true,
            ),
            (section(begin, "MAA\n", end), false),
            (section(begin, &body.replacen('\n', " \n", 1), end), false),
            (section(begin, &body.replacen('\n', "\t\n", 1), end), false),
            (section(begin, &body.replacen('M', "*", 1), end), false),
            (section(begin, &format!("{body}-----\n"), end), false),
            (section(begin, body.trim_end(), end), false),
            (section(begin, "MAB=\n", end), false),
            (section(begin, "", end), true),
            (format!("x{pem}"), false),
            (format!("  {pem}"), false),
            (section("-----BEGIN CERTIFICATE------\n", body, end), false),
            (section(begin, body, ""), false),
            (format!("{begin}{body}{other}"), false),
            (
                format!("{other}-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"),
                false,
            ),
        ]
    }

    /// A CA certificate's PEM with `\n` line ends: rcgen's, or under Miri (which cannot run
    /// ring's assembly) the same framing around `len` made-up bytes, which the framing never
    /// looks into.
    fn ca_pem(name: &str, len: usize) -> String {
        if cfg!(miri) {
            let der: Vec<u8> = (0..len).map(|i| (i * 7 + name.len()) as u8).collect();
            let text = STANDARD.encode(der);
            let lines: Vec<&str> = text
                .as_bytes()
                .chunks(64)
                .map(|line| std::str::from_utf8(line).unwrap())
                .collect();
            let body = lines.join("\n");
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        } else {
            test_pki::ca_pem(name).replace("\r\n", "\n")
        }
    }

    /// Whatever the fast path reads, it reads as rustls-pki-types does: the same certificates,
    /// the same errors, in the same order.
    #[test]
    fn sections_read_as_rustls_pki_types_reads_them() {
        // With `\n` line ends, which the variants change (rcgen writes `\r\n` on Windows).
        let [pem, other] = [("CA a", 301), ("CA b", 452)].map(|(name, len)| ca_pem(name, len));
        for (i, (file, fast)) in variants(&pem, &other).into_iter().enumerate() {
            let theirs: Vec<_> = CertificateDer::pem_slice_iter(file.as_bytes()).collect();
            let ours = SeenSections::default()
                .certificates(file.as_bytes().to_vec())
                .ok();
            if let Some(ours) = &ours {
                assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{file:?}");
            }
            // Whether the first section was decoded here, not by rustls-pki-types.
            let text = file.split("CERTIFICATE-----").nth(1).unwrap();
            let text = &text[..text.find("-----").unwrap_or(text.len())];
            let decoded = decode(&mut Vec::new(), text.as_bytes());
            assert_eq!(
                ours.is_some() && decoded.is_some(),
                fast,
                "variant {i}: {file:?}"
            );
        }
    }

    /// The same, for 10,000 files mutated at random (a byte inserted, removed or replaced by one
    /// of the bytes PEM framing turns on), from a fixed seed.
    #[test]
    #[cfg_attr(miri, ignore = "10,000 reads: too slow under Miri")]
    fn mutated_files_read_as_rustls_pki_types_reads_them() {
        let pem = format!(
            "# c\n{}{}",
            test_pki::ca_pem("CA a"),
            test_pki::ca_pem("CA b")
        );
        let alphabet = b"-\n\r =A/+*BEGIN";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |bound: usize| {
            // xorshift64*: reproducible, and enough to spread the mutations.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % bound
        };
        let (mut fast, mut left) = (0, 0);
        for _ in 0..10_000 {
            let mut file = pem.clone().into_bytes();
            for _ in 0..1 + next(3) {
                let (at, byte) = (next(file.len()), alphabet[next(alphabet.len())]);
                match next(3) {
                    0 => file.insert(at, byte),
                    1 => drop(file.remove(at)),
                    _ => file[at] = byte,
                }
            }
            let theirs: Vec<_> = CertificateDer::pem_slice_iter(&file).collect();
            match SeenSections::default().certificates(file.clone()).ok() {
                Some(ours) => {
                    let file = String::from_utf8_lossy(&file);
                    assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{file:?}");
                    fast += 1;
                }
                None => left += 1,
            }
        }
        // Both paths were taken: most mutations land in a body, some in a marker.
        assert!(
            fast > 5_000 && left > 50,
            "{fast} read here, {left} left to the full reader"
        );
    }

    #[test]
    fn a_text_seen_before_is_not_decoded_again() {
        let mut seen = SeenSections::default();
        let mut read = |file: String| {
            seen.certificates(file.into_bytes())
                .map_err(String::from_utf8)
        };
        let bundle = format!("{ONE}# a comment\n{TWO}");
        assert_eq!(read(bundle).unwrap().len(), 2);
        // The same texts in other files: nothing new.
        assert!(read(ONE.to_owned()).unwrap().is_empty());
        assert!(read(format!("{TWO}{ONE}")).unwrap().is_empty());
        // A file with another kind of section, or a section without its END line, is given
        // back whole for the full reader.
        let key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
        let with_key = format!("{ONE}{key}");
        assert_eq!(read(with_key.clone()).unwrap_err(), Ok(with_key));
        let cut = "-----BEGIN CERTIFICATE-----\nMAA";
        assert!(read(cut.to_owned()).is_err());
        assert!(read(format!("{cut}\n{TWO}")).is_err());
        // Only the files that gave a new text are kept.
        assert_eq!(seen.files.len(), 1);
    }
}
