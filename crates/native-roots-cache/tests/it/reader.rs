//! The PEM reader (`PemFiles`, which also reads `SSL_CERT_FILE`/`SSL_CERT_DIR` for the global)
//! against every input an operator might point it at, each case on a fresh `RootsCache`. Files
//! are dated an hour back: an empty or cut-short file modified within the last 2 s is taken
//! for one being rewritten (`torn_reads`). A test covering several cases of RELIABILITY.md §1
//! names them. Unix only: FIFOs, devices, symlinks and non-UTF-8 names are Unix inputs.
#![cfg(unix)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use native_roots_cache::NativeRootsErrorKind::NoAnchors;
use native_roots_cache::{CertificateLocation, LoadReport, PemFiles, RootsCache, SourceError};

use crate::common::{self, ca_pem};

const PEM: &str = "failed to read PEM from file";
const OPEN_DIR: &str = "opening directory";
const NO_CERT: &str = "no PEM certificate in file";
const NO_CERT_MESSAGE: &str = "the file holds no \"-----BEGIN CERTIFICATE-----\" section (is it \
    DER, or a key?); convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`";
/// `PemFiles` calls its bundle "the CA bundle" (the global says `SSL_CERT_FILE`).
const NOT_REGULAR: &str = "the CA bundle is not a regular file";
const NO_END: &str = "a section has no \"-----END CERTIFICATE-----\" line (truncated file?)";
/// [`bad_base64`] puts a `!` (33) in the body.
const BAD_BASE64: &str = "invalid base64 in a section: InvalidCharacter(33)";
/// How `NoAnchors` begins, before the origin.
const NO_ANCHORS: &str = "no usable trust anchors from";
/// What `NoAnchors` of `PemFiles` advises: unlike the global's advice, it names no variable.
const ADVICE: &str = "point the configuration at a PEM bundle or a directory of PEM certificates";

/// An error the report must hold: its path, its context, a fragment of its message.
type Recorded<'a> = (&'a Path, &'a str, &'a str);

/// Load `files` with a fresh cache and assert: `anchors` anchors in one attempt (for 0, the
/// `NoAnchors` error, not retried, naming the files tried and the counts, its cause the first
/// recorded error);
/// `skipped` certificates of the bundle skipped as unparsable; exactly `errors`, all permanent.
fn expect(files: PemFiles, anchors: usize, skipped: usize, errors: &[Recorded<'_>]) -> LoadReport {
    let bundle = files.file().map(|f| CertificateLocation::File(f.into()));
    let cache = RootsCache::with_source(files);
    let roots = cache.native_roots();
    let report = cache.report().unwrap();
    let counts = (report.anchors, report.attempts, report.skipped.len());
    assert_eq!(counts, (anchors, 1, skipped), "{report:#?}");
    match roots {
        Ok(store) => assert_eq!(store.len(), anchors),
        Err(err) => {
            assert_eq!((err.kind(), err.attempts()), (NoAnchors, 1), "{err}");
            let (origin, found, message) = (&report.origin, report.certificates, err.to_string());
            let tried = format!("{NO_ANCHORS} {origin}: {found} certificate");
            assert!(message.starts_with(&tried), "{message}");
            let counts = format!(", {skipped} unparsable, {} error", report.errors.len());
            assert!(message.contains(&counts), "{message}");
            assert!(err.advice().starts_with(ADVICE), "{}", err.advice());
            let cause =
                std::error::Error::source(&err).and_then(|s| s.downcast_ref::<SourceError>());
            assert_eq!(cause, report.errors.first(), "{err:?}");
        }
    }
    let errs = &report.errors;
    assert_eq!(errs.len(), errors.len(), "{errs:#?}");
    for &(path, context, message) in errors {
        let found = errs.iter().find(|e| e.path.as_deref() == Some(path));
        let found = found.unwrap_or_else(|| panic!("no error for {path:?}: {report:#?}"));
        assert_eq!(found.context, context, "{found:#?}");
        assert!(found.message.contains(message), "{found:#?}");
        assert!(!found.is_transient(), "{found:#?}");
    }
    for s in &report.skipped {
        assert_eq!(Some(&s.certificate.location), bundle.as_ref(), "{s}");
        assert!(s.reason.contains("not a parsable X.509 certificate"), "{s}");
    }
    Arc::unwrap_or_clone(report)
}

fn file(path: &Path) -> PemFiles {
    PemFiles::new().with_file(path)
}

fn dir(path: &Path) -> PemFiles {
    PemFiles::new().with_dir(path)
}

/// Write `dir/name`, dated an hour back.
fn put(dir: &Path, name: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
    common::write_settled(dir.join(name), contents)
}

fn mkdir(path: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&path).unwrap();
    path
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status();
    assert!(status.unwrap().success(), "mkfifo {}", path.display());
}

/// `pem` without its END line.
fn without_end(pem: &str) -> String {
    pem.replace("-----END CERTIFICATE-----\n", "")
}

/// `pem` with a character that is not base64 in the middle of its body.
fn bad_base64(pem: &str) -> String {
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    lines[2].replace_range(10..11, "!");
    lines.join("\n") + "\n"
}

/// `pem` with only the first half of its body lines: valid base64 (whole 64-character lines), a
/// truncated DER certificate.
fn truncated_body(pem: &str) -> String {
    let lines: Vec<&str> = pem.lines().collect();
    let (first, body, last) = (lines[0], &lines[1..lines.len() - 1], lines[lines.len() - 1]);
    let kept = &body[..body.len() / 2];
    assert!(kept.iter().all(|l| l.len() % 4 == 0));
    format!("{first}\n{}\n{last}\n", kept.join("\n"))
}

/// Deterministic binary garbage: bytes 0 to 250, never two equal ones in a row, so never a PEM
/// BEGIN line.
fn noise(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * i * 7919 % 251) as u8).collect()
}

/// `file_missing`, `file_is_a_directory`, `file_empty`: each is the error, naming the path. An
/// empty file (an hour old) is not opened: it was named on purpose.
#[test]
fn file_missing_a_directory_or_empty() {
    let root = common::scratch_dir("r-file-missing");
    let missing = root.join("missing.pem");
    expect(file(&missing), 0, 0, &[(&missing, PEM, "No such file")]);
    put(&root, "a.pem", ca_pem("CA a"));
    let dir = "it is a directory, which is read as a bundle of PEM files only when named as a \
               directory";
    expect(file(&root), 0, 0, &[(&root, NOT_REGULAR, dir)]);
    let empty = put(&root, "empty.pem", "");
    let recorded = (empty.as_path(), "empty file not read", "its size is 0");
    expect(file(&empty), 0, 0, &[recorded]);
}

/// `file_dev_null`, `file_dev_zero`, `file_fifo`, `file_symlink_to_a_fifo`: refused unopened
/// (the check follows links), at once, not after a wait on the deadline: `/dev/zero` never ends
/// and has no newline (opened, it would grow one PEM line until memory runs out).
#[test]
fn file_devices_and_fifos() {
    let root = common::scratch_dir("r-file-fifo");
    let (fifo, link) = (root.join("fifo.pem"), root.join("bundle.pem"));
    mkfifo(&fifo);
    symlink(&fifo, &link).unwrap();
    let device = "it is a device, which is not opened because reading it could block forever";
    let [null, zero] = ["/dev/null", "/dev/zero"].map(Path::new);
    for path in [null, zero, &fifo, &link] {
        let what = if path.starts_with("/dev") {
            device
        } else {
            "it is a FIFO"
        };
        expect(file(path), 0, 0, &[(path, NOT_REGULAR, what)]);
    }
}

/// `file_binary_garbage`, `file_der_instead_of_pem`, `file_private_key_only`: the error (which says
/// how to convert DER), recorded even next to a good directory, as it was named on purpose
/// (`file_without_certificates_is_recorded_next_to_a_good_dir`).
#[test]
fn file_without_certificates() {
    let root = common::scratch_dir("r-file-no-certs");
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let der = put(&root, "ca.der", common::Ca::new("CA der").cert.der());
    let garbage = put(&root, "garbage.pem", noise(64 * 1024));
    for path in [&garbage, &der, &put(&root, "key.pem", key)] {
        expect(file(path), 0, 0, &[(path, NO_CERT, NO_CERT_MESSAGE)]);
    }
    let good = mkdir(root.join("dir"));
    put(&good, "a.pem", ca_pem("CA a"));
    let recorded = (der.as_path(), NO_CERT, NO_CERT_MESSAGE);
    expect(file(&der).with_dir(&good), 1, 0, &[recorded]);
}

/// `file_binary_garbage_around_a_certificate`, `file_crlf_line_endings`,
/// `file_no_trailing_newline`: none of these hides a certificate or records a problem.
#[test]
fn file_noise_crlf_and_no_trailing_newline() {
    let root = common::scratch_dir("r-file-tolerated");
    let two = ca_pem("CA a") + &ca_pem("CA b");
    let c = "\n".to_owned() + &ca_pem("CA c");
    let around = [noise(4096), c.into_bytes(), noise(4096)].concat();
    expect(file(&put(&root, "around.pem", around)), 1, 0, &[]);
    let crlf = put(&root, "crlf.pem", two.replace('\n', "\r\n"));
    expect(file(&crlf), 2, 0, &[]);
    let no_newline = put(&root, "no-newline.pem", two.trim_end());
    expect(file(&no_newline), 2, 0, &[]);
}

/// `file_missing_end_line_middle`: its body runs on into the next one's, one merged block: a
/// base64 error when the first body ends in padding, else DER with trailing bytes that webpki
/// rejects (both ways are checked). Both certificates are lost, one problem is recorded.
#[test]
fn file_missing_end_line_middle() {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let root = common::scratch_dir("r-file-noend-mid");
    let [a, c, d] = ["CA a", "CA c", "CA d"].map(ca_pem);
    let mut seen = [false; 2];
    for _ in 0..100 {
        let b = ca_pem("CA b");
        let padded = CertificateDer::from_pem_slice(b.as_bytes()).unwrap().len() % 3 != 0;
        if std::mem::replace(&mut seen[usize::from(padded)], true) {
            continue;
        }
        let path = put(&root, "bundle.pem", format!("{a}{}{c}{d}", without_end(&b)));
        // Padding amid the merged base64 is an error; without it, the DER has trailing bytes.
        let base64 = (path.as_path(), PEM, "invalid base64 in a section");
        let (skipped, errors): (_, &[_]) = if padded { (0, &[base64]) } else { (1, &[]) };
        expect(file(&path), 2, skipped, errors);
    }
    assert_eq!(seen, [true; 2], "100 certificates of one length modulo 3");
}

/// `file_bad_base64`, `file_truncated_certificate_body`, `file_only_a_truncated_certificate`,
/// `file_unparsable_certificate`: a block that is not base64 is recorded, one whose DER is not a
/// certificate is skipped; neither is fatal, unless it is all there is.
#[test]
fn file_bad_blocks() {
    let root = common::scratch_dir("r-file-bad-blocks");
    let [a, b, c] = ["CA a", "CA b", "CA c"].map(ca_pem);
    let base64 = put(&root, "base64.pem", format!("{a}{}{c}", bad_base64(&b)));
    expect(file(&base64), 2, 0, &[(&base64, PEM, BAD_BASE64)]);
    let cut = put(&root, "cut.pem", format!("{a}{}{c}", truncated_body(&b)));
    expect(file(&cut), 2, 1, &[]);
    expect(file(&put(&root, "only.pem", truncated_body(&a))), 0, 1, &[]);
    let unparsable = put(&root, "x.pem", common::UNPARSABLE_CERT_PEM.to_owned() + &a);
    expect(file(&unparsable), 1, 1, &[]);
}

/// `file_duplicates`, `file_40_mib_bundle`: duplicates are one certificate. 40 MiB: four CAs
/// repeated between comment blocks such as `openssl x509 -text` leaves in real bundles (distinct
/// certificates all the way, some 60,000, would spend the time generating keys, not reading).
#[test]
fn file_duplicates_and_40_mib_bundle() {
    let root = common::scratch_dir("r-file-dup");
    let dup = put(&root, "dup.pem", ca_pem("CA a").repeat(3));
    let report = expect(file(&dup), 1, 0, &[]);
    assert_eq!(report.certificates, 1, "duplicates are one certificate");

    let comment = "# Certificate: Data: Version: 3 (0x2) Serial Number: padding padding\n";
    let ca = |i: usize| comment.repeat(128) + &ca_pem(&format!("CA {i}"));
    let four = [ca(0), ca(1), ca(2), ca(3)].concat();
    let copies = 40 * 1024 * 1024 / four.len() + 1;
    let big = put(&root, "big.pem", four.repeat(copies));
    let report = expect(file(&big), 4, 0, &[]);
    assert_eq!(report.certificates, 4, "{copies} copies of 4 CAs");
}

/// `dir_several_some_missing_or_empty`, `dir_only_missing_or_empty`: missing and empty
/// directories cost nothing but the missing one's error; alone, they are the error.
#[test]
fn dir_several_some_missing_or_empty() {
    let root = common::scratch_dir("r-dir-several");
    let [one, empty, two] = ["one", "empty", "two"].map(|d| mkdir(root.join(d)));
    let missing = root.join("missing");
    put(&one, "a.pem", ca_pem("CA a"));
    put(&one, "b.pem", ca_pem("CA b"));
    put(&two, "c.pem", ca_pem("CA c"));
    let gone = [(missing.as_path(), OPEN_DIR, "No such file")];
    let all = dir(&one).with_dir(&empty).with_dir(&missing).with_dir(&two);
    expect(all, 3, 0, &gone);
    expect(dir(&empty).with_dir(&missing), 0, 0, &gone);
}

/// `c_rehash` links (`<hash>.0 -> a.pem`): each file is read once, so a file with a bad block
/// reports its error once, not once per name. Entries are read in sorted path order, so the name
/// reported is the lexicographically first one: `1234abcd.0` (digits sort before `a.pem`).
#[test]
fn dir_hash_symlinks() {
    let root = common::scratch_dir("r-dir-hash");
    let a = ca_pem("CA a") + &bad_base64(&ca_pem("CA x"));
    put(&root, "a.pem", a);
    put(&root, "b.pem", ca_pem("CA b"));
    symlink("a.pem", root.join("1234abcd.0")).unwrap();
    symlink("b.pem", root.join("5678ef01.0")).unwrap();
    symlink(root.join("b.pem"), root.join("5678ef01.1")).unwrap();
    let first = root.join("1234abcd.0");
    expect(dir(&root), 2, 0, &[(&first, PEM, BAD_BASE64)]);
}

/// `dir_dangling_symlinks`, `dir_subdirectory` (not searched, as in OpenSSL), `dir_fifo_inside`
/// (never opened), `dir_files_without_certificates_are_not_reported` (empty, DER, a key, a
/// README): passed over silently, as certificate directories routinely hold them.
#[test]
fn dir_entries_passed_over() {
    let root = common::scratch_dir("r-dir-passed-over");
    put(&root, "a.pem", ca_pem("CA a"));
    symlink("gone.pem", root.join("deadbeef.0")).unwrap();
    symlink("/nonexistent/ca.pem", root.join("deadbeef.1")).unwrap();
    put(&mkdir(root.join("sub")), "b.pem", ca_pem("CA b"));
    mkfifo(&root.join("fifo.pem"));
    put(&root, "empty.pem", "");
    put(&root, "ca.der", common::Ca::new("CA der").cert.der());
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    put(&root, "key.pem", key);
    put(&root, "README", "Certificates for this host.\n");
    expect(dir(&root), 1, 0, &[]);
}

/// `dir_symlink_loop`, `dir_is_a_file`: each link of a loop is recorded; a file named as a
/// directory is the error.
#[test]
fn dir_symlink_loop_or_a_file() {
    let root = common::scratch_dir("r-dir-loop");
    let a = put(&root, "a.pem", ca_pem("CA a"));
    let [one, two, me] = ["loop1.0", "loop2.0", "self.0"].map(|name| root.join(name));
    symlink("loop2.0", &one).unwrap();
    symlink("loop1.0", &two).unwrap();
    symlink("self.0", &me).unwrap();
    let loops = [&one, &two, &me].map(|l| (l.as_path(), "failed to open file", "symbolic links"));
    expect(dir(&root), 1, 0, &loops);
    expect(dir(&a), 0, 0, &[(&a, OPEN_DIR, "Not a directory")]);
}

#[test]
fn dir_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let root = common::scratch_dir("r-dir-unreadable");
    put(&root, "a.pem", ca_pem("CA a"));
    let locked = put(&root, "locked.pem", ca_pem("CA b"));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_ok() {
        return println!("dir_unreadable_file: skipped: this process reads mode-000 files (root)");
    }
    expect(dir(&root), 1, 0, &[(&locked, PEM, "ermission denied")]);
}

/// `file_non_utf8_path_missing`, `file_non_utf8_path`, `dir_non_utf8_names`: errors and anchors
/// keep their paths' exact bytes, messages a lossy rendering. APFS refuses such names (and says
/// "Illegal byte sequence" for the missing one): there, the rest is skipped, saying so.
#[test]
fn non_utf8_names() {
    let root = common::scratch_dir("r-nonutf8");
    let missing = root.join(OsStr::from_bytes(b"\xff\xfe-missing.pem"));
    expect(file(&missing), 0, 0, &[(&missing, PEM, "")]);
    let certs = root.join(OsStr::from_bytes(b"certs-\xff"));
    if let Err(err) = std::fs::create_dir(&certs) {
        return println!("non_utf8_names: skipped: no non-UTF-8 file names here ({err})");
    }
    let odd = put(&certs, OsStr::from_bytes(b"\xff\xfe.pem"), ca_pem("CA a"));
    put(&certs, "b.pem", ca_pem("CA b"));
    for (files, anchors) in [(file(&odd), 1), (dir(&certs), 2)] {
        let report = expect(files, anchors, 0, &[]);
        let odd = CertificateLocation::File(odd.clone());
        assert!(report.anchor_certificates.iter().any(|c| c.location == odd));
    }
}

/// `dir_same_dir_twice`, `files_reachable_twice_are_read_once`: one (dev, inode) set spans the
/// bundle and every directory, so a file reached twice is read (and its errors reported) once,
/// under the path first reached: the bundle first, then the directories in order.
#[test]
fn files_reachable_twice_are_read_once() {
    let root = common::scratch_dir("r-read-once");
    let [one, two] = ["one", "two"].map(|d| mkdir(root.join(d)));
    let bundle = put(&one, "a.pem", ca_pem("CA a") + &bad_base64(&ca_pem("CA x")));
    let link = two.join("1234abcd.0");
    symlink(&bundle, &link).unwrap();
    for (files, named) in [
        (dir(&one).with_dir(&one), &bundle),
        (dir(&one).with_dir(&one).with_dir(&two), &bundle),
        (file(&bundle).with_dir(&one), &bundle),
        (file(&link).with_dir(&one).with_dir(&two), &link),
    ] {
        expect(files, 1, 0, &[(named, PEM, BAD_BASE64)]);
    }
}

/// `pem_errors_name_their_file`: each names its file, in words, in a bundle or a directory; a
/// missing END line costs that certificate (`file_missing_end_line_last`) or, alone, is the
/// error (`file_only_a_certificate_without_end_line`); bad base64; a malformed BEGIN line.
#[test]
fn pem_errors_name_their_file() {
    let root = common::scratch_dir("r-pem-path");
    let broken = without_end(&ca_pem("CA x"));
    let bundle = put(&root, "bundle.pem", ca_pem("CA a") + &broken);
    expect(file(&bundle), 1, 0, &[(&bundle, PEM, NO_END)]);

    let certs = mkdir(root.join("dir"));
    put(&certs, "a.pem", ca_pem("CA a"));
    put(&certs, "b.pem", ca_pem("CA b"));
    let no_end = put(&certs, "no-end.pem", &broken);
    expect(file(&no_end), 0, 0, &[(&no_end, PEM, NO_END)]);
    let base64 = put(&certs, "base64.pem", bad_base64(&ca_pem("CA y")));
    // Four dashes closing the BEGIN line: the section is refused, the certificate after it loads.
    let begin = ca_pem("CA z").replacen("-----\n", "----\n", 1) + &ca_pem("CA c");
    let begin = put(&certs, "begin.pem", begin);
    let start = r#"malformed section start line: "-----BEGIN CERTIFICATE----""#;
    let all = [(&no_end, NO_END), (&base64, BAD_BASE64), (&begin, start)];
    let all = all.map(|(path, why)| (path.as_path(), PEM, why));
    expect(dir(&certs), 3, 0, &all);
}
