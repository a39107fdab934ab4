//! The hostile-input matrix: every case points `SSL_CERT_FILE`/`SSL_CERT_DIR` at something an
//! operator might, and runs the real global `native_roots()` in a process of its own.
//!
//! Each `#[test]` below prepares its files, then re-executes this test binary running only
//! [`case_runner`] with exactly the case's environment (both variables removed first). The child
//! loads the store once, prints its outcome and report as `NRC`-prefixed, tab-separated lines, and
//! exits; the parent parses them and asserts the documented outcome. A child that does not end
//! within [`CHILD_LIMIT`] is killed and the case fails as a hang. RELIABILITY.md lists the cases.
//!
//! Unix only: FIFOs, devices, symlinks and non-UTF-8 names are Unix inputs. Windows reads the same
//! variables through the same code, covered by the cross-platform tests.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use native_roots_cache::{native_roots, native_roots_report, TrustOrigin};

/// Set only in a child: the name of the case it runs.
const CASE_VAR: &str = "NRC_CASE";
/// How long one case may take before it counts as a hang.
const CHILD_LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// The child side.

/// Run in a child process only (when `NRC_CASE` is set): load the process-wide store once and
/// print the outcome for the parent. In the normal test run it returns at once.
#[test]
fn case_runner() {
    if std::env::var_os(CASE_VAR).is_none() {
        return;
    }
    let roots = native_roots();
    let report = native_roots_report().expect("a report exists after the first load");
    let mut lines = Vec::new();
    match &roots {
        Ok(store) => lines.push(format!("ok\t{}", store.len())),
        Err(err) => lines.push(format!(
            "err\t{:?}\t{}\t{}",
            err.kind(),
            err.attempts(),
            esc(&err.to_string())
        )),
    }
    lines.push(match &report.origin {
        TrustOrigin::Environment { file, dirs } => format!(
            "origin-env\t{}\t{}",
            file.as_deref().map_or_else(|| "-".to_owned(), hex),
            dirs.iter().map(|d| hex(d)).collect::<Vec<_>>().join(",")
        ),
        TrustOrigin::PlatformStore => "origin-platform".to_owned(),
        other => format!("origin-other\t{}", esc(&other.to_string())),
    });
    lines.push(format!(
        "counts\t{}\t{}\t{}",
        report.certificates, report.anchors, report.attempts
    ));
    for skipped in &report.skipped {
        lines.push(format!("skipped\t{}", esc(&skipped.to_string())));
    }
    for err in &report.errors {
        lines.push(format!(
            "error\t{}\t{}\t{}\t{}",
            if err.is_transient() {
                "transient"
            } else {
                "permanent"
            },
            err.path.as_deref().map_or_else(|| "-".to_owned(), hex),
            esc(&err.context),
            esc(&err.message)
        ));
    }
    lines.push("done".to_owned());
    for line in lines {
        println!("NRC\t{line}");
    }
}

fn esc(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unesc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Paths travel as hex of their bytes, so that non-UTF-8 names compare exactly.
fn hex(path: &Path) -> String {
    path.as_os_str()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn unhex(text: &str) -> PathBuf {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    PathBuf::from(OsString::from_vec(bytes))
}

// ---------------------------------------------------------------------------------------------
// The parent side.

/// Where the child's report said the anchors came from.
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    Environment {
        file: Option<PathBuf>,
        dirs: Vec<PathBuf>,
    },
    PlatformStore,
    Other(String),
}

/// One error of the child's report.
#[derive(Debug)]
struct ReportedError {
    transient: bool,
    path: Option<PathBuf>,
    context: String,
    message: String,
}

/// What the child's `native_roots()` returned and what its report said.
#[derive(Debug)]
struct Outcome {
    case: String,
    /// `Ok(store length)` or `Err((kind, attempts, message))`.
    result: Result<usize, (String, u32, String)>,
    origin: Origin,
    certificates: usize,
    anchors: usize,
    attempts: u32,
    skipped: Vec<String>,
    errors: Vec<ReportedError>,
}

/// The environment of one case: `None` leaves a variable unset.
fn run_case(case: &str, file: Option<&OsStr>, dir: Option<&OsStr>) -> Outcome {
    let mut env = vec![(CASE_VAR, OsStr::new(case))];
    if let Some(file) = file {
        env.push(("SSL_CERT_FILE", file));
    }
    if let Some(dir) = dir {
        env.push(("SSL_CERT_DIR", dir));
    }
    let child = common::spawn_runner("case_runner", &env, false);
    let run =
        common::wait_bounded(child, CHILD_LIMIT).unwrap_or_else(|hang| panic!("{case}: {hang}"));
    assert!(
        run.status.success(),
        "{case}: the child failed ({}), which means native_roots() panicked or the runner broke.\nstdout:\n{}\nstderr:\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    parse(case, &run.stdout).unwrap_or_else(|| {
        panic!(
            "{case}: no complete outcome in the child's output:\n{}\n{}",
            run.stdout, run.stderr
        )
    })
}

fn parse(case: &str, stdout: &str) -> Option<Outcome> {
    let mut outcome = Outcome {
        case: case.to_owned(),
        result: Ok(0),
        origin: Origin::Other(String::new()),
        certificates: 0,
        anchors: 0,
        attempts: 0,
        skipped: Vec::new(),
        errors: Vec::new(),
    };
    let mut done = false;
    for line in stdout.lines() {
        let Some(line) = line.strip_prefix("NRC\t") else {
            continue;
        };
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["ok", len] => outcome.result = Ok(len.parse().ok()?),
            ["err", kind, attempts, message] => {
                outcome.result = Err((kind.to_owned(), attempts.parse().ok()?, unesc(message)));
            }
            ["origin-env", file, dirs] => {
                outcome.origin = Origin::Environment {
                    file: (file != "-").then(|| unhex(file)),
                    dirs: dirs
                        .split(',')
                        .filter(|d| !d.is_empty())
                        .map(unhex)
                        .collect(),
                };
            }
            ["origin-platform"] => outcome.origin = Origin::PlatformStore,
            ["origin-other", text] => outcome.origin = Origin::Other(unesc(text)),
            ["counts", certificates, anchors, attempts] => {
                outcome.certificates = certificates.parse().ok()?;
                outcome.anchors = anchors.parse().ok()?;
                outcome.attempts = attempts.parse().ok()?;
            }
            ["skipped", reason] => outcome.skipped.push(unesc(reason)),
            ["error", transience, path, context, message] => outcome.errors.push(ReportedError {
                transient: transience == "transient",
                path: (path != "-").then(|| unhex(path)),
                context: unesc(context),
                message: unesc(message),
            }),
            ["done"] => done = true,
            _ => return None,
        }
    }
    done.then_some(outcome)
}

impl Outcome {
    /// Success with exactly `anchors` anchors, in one attempt.
    fn assert_anchors(&self, anchors: usize) -> &Self {
        assert_eq!(self.result, Ok(anchors), "{self:#?}");
        assert_eq!((self.anchors, self.attempts), (anchors, 1), "{self:#?}");
        self
    }

    /// The sticky `NoAnchors` error after one attempt (no retry), whose message names every
    /// `needle` (the path, the variables) so that an operator knows where to look.
    fn assert_no_anchors(&self, needles: &[&str]) -> &Self {
        let Err((kind, attempts, message)) = &self.result else {
            panic!("expected a NoAnchors error: {self:#?}");
        };
        assert_eq!((kind.as_str(), *attempts), ("NoAnchors", 1), "{self:#?}");
        assert_eq!(self.anchors, 0, "{self:#?}");
        for needle in ["SSL_CERT_FILE", "SSL_CERT_DIR"].iter().chain(needles) {
            assert!(
                message.contains(needle),
                "{needle:?} missing from: {message}"
            );
        }
        self
    }

    /// Nothing skipped, no error recorded.
    fn assert_clean(&self) -> &Self {
        assert!(
            self.skipped.is_empty() && self.errors.is_empty(),
            "{self:#?}"
        );
        self
    }

    /// Exactly these errors, all permanent: `(path, context, message fragment)` each, in any
    /// order. The path and the context must match exactly.
    fn assert_errors(&self, expected: &[(Option<&Path>, &str, &str)]) -> &Self {
        assert_eq!(self.errors.len(), expected.len(), "{self:#?}");
        for (path, context, message) in expected {
            assert!(
                self.errors.iter().any(|e| e.path.as_deref() == *path
                    && e.context == *context
                    && e.message.contains(message)),
                "no error ({path:?}, {context:?}, {message:?}) in {self:#?}"
            );
        }
        assert!(self.errors.iter().all(|e| !e.transient), "{self:#?}");
        self
    }

    /// Exactly `count` skipped certificates, each reason containing `reason`.
    fn assert_skipped(&self, count: usize, reason: &str) -> &Self {
        assert_eq!(self.skipped.len(), count, "{self:#?}");
        assert!(self.skipped.iter().all(|s| s.contains(reason)), "{self:#?}");
        self
    }

    fn assert_origin(&self, origin: Origin) -> &Self {
        assert_eq!(self.origin, origin, "{}", self.case);
        self
    }

    fn assert_file_origin(&self, file: &Path) -> &Self {
        self.assert_origin(Origin::Environment {
            file: Some(file.to_owned()),
            dirs: vec![],
        })
    }

    fn assert_dir_origin(&self, dirs: &[&Path]) -> &Self {
        self.assert_origin(Origin::Environment {
            file: None,
            dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// What the report says.

/// The context of every error met while opening or reading a PEM file.
const PEM_CONTEXT: &str = "failed to read PEM from file";
/// An `SSL_CERT_FILE` that yields no certificate and no error.
const NO_CERT_CONTEXT: &str = "no PEM certificate in file";
const NO_CERT_MESSAGE: &str = "the file holds no \"-----BEGIN CERTIFICATE-----\" section";
const NO_CERT_DER_HINT: &str = "convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`";
/// `SSL_CERT_FILE=""`.
const EMPTY_VAR_CONTEXT: &str = "SSL_CERT_FILE is set but empty";
const EMPTY_VAR_MESSAGE: &str = "unset it to use the platform store, or point it at a PEM bundle";
/// A FIFO, socket or device as `SSL_CERT_FILE`.
const NOT_REGULAR_CONTEXT: &str = "SSL_CERT_FILE is not a regular file";
/// The PEM errors, spelled out.
const NO_END_MESSAGE: &str =
    "a section has no \"-----END CERTIFICATE-----\" line (truncated file?)";
/// [`with_bad_base64`] puts a `!` (33) in the body.
const BAD_BASE64_MESSAGE: &str = "invalid base64 in a section: InvalidCharacter(33)";

// ---------------------------------------------------------------------------------------------
// Inputs.

/// Write a file that then looks an hour old: the matrix is about files nobody is writing (the
/// reader takes an empty or cut-short file modified within the last second for one being
/// rewritten; the torn-read tests cover that).
fn write(path: PathBuf, contents: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(&path, contents).unwrap();
    common::settle(&path);
    path
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Whether this file system accepts a non-UTF-8 file name (APFS on macOS refuses them); prints
/// why the case is skipped when it does not.
fn non_utf8_names_supported(dir: &Path, case: &str) -> bool {
    let probe = dir.join(OsStr::from_bytes(b"probe-\xff"));
    match std::fs::write(&probe, "") {
        Ok(()) => {
            std::fs::remove_file(&probe).unwrap();
            true
        }
        Err(err) => {
            println!("{case}: skipped: this file system refuses non-UTF-8 file names ({err})");
            false
        }
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// `pem` without its END line.
fn without_end(pem: &str) -> String {
    pem.replace("-----END CERTIFICATE-----\n", "")
}

/// `pem` with a character that is not base64 in the middle of its body.
fn with_bad_base64(pem: &str) -> String {
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    lines[2].replace_range(10..11, "!");
    lines.join("\n") + "\n"
}

/// `pem` with only the first half of its body lines: valid base64 (whole 64-character lines), a
/// truncated DER certificate.
fn with_truncated_body(pem: &str) -> String {
    let lines: Vec<&str> = pem.lines().collect();
    let body = &lines[1..lines.len() - 1];
    let kept = &body[..body.len() / 2];
    assert!(kept.iter().all(|l| l.len() % 4 == 0));
    format!(
        "{}\n{}\n{}\n",
        lines[0],
        kept.join("\n"),
        lines[lines.len() - 1]
    )
}

/// Deterministic pseudo-random bytes (xorshift), never containing a PEM BEGIN line.
fn garbage(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// SSL_CERT_FILE.

#[test]
fn file_missing() {
    let dir = common::scratch_dir("m-file-missing");
    let path = dir.join("missing.pem");
    run_case("file_missing", Some(path.as_os_str()), None)
        .assert_no_anchors(&[&display(&path), "No such file"])
        .assert_file_origin(&path)
        .assert_errors(&[(Some(&path), PEM_CONTEXT, "No such file")]);
}

/// An empty `SSL_CERT_FILE` (an hour old) is not opened, and is itself the error: the operator
/// named it on purpose.
#[test]
fn file_empty() {
    let dir = common::scratch_dir("m-file-empty");
    let path = write(dir.join("empty.pem"), "");
    run_case("file_empty", Some(path.as_os_str()), None)
        .assert_no_anchors(&[
            &display(&path),
            "0 certificates found",
            "empty file not read",
        ])
        .assert_file_origin(&path)
        .assert_errors(&[(Some(&path), "empty file not read", "its size is 0")]);
}

#[test]
fn file_dev_null() {
    let path = Path::new("/dev/null");
    run_case("file_dev_null", Some(path.as_os_str()), None)
        .assert_no_anchors(&["/dev/null", NOT_REGULAR_CONTEXT, "a device"])
        .assert_errors(&[(Some(path), NOT_REGULAR_CONTEXT, "a device")]);
}

/// `/dev/zero` never ends and has no newline: opened, it would grow one PEM line until memory
/// runs out. Refused like every device.
#[test]
fn file_dev_zero() {
    let path = Path::new("/dev/zero");
    run_case("file_dev_zero", Some(path.as_os_str()), None)
        .assert_no_anchors(&["/dev/zero", "a device"])
        .assert_errors(&[(Some(path), NOT_REGULAR_CONTEXT, "a device")]);
}

#[test]
fn file_is_a_directory() {
    let dir = common::scratch_dir("m-file-dir");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    run_case("file_is_a_directory", Some(dir.as_os_str()), None)
        .assert_no_anchors(&[&display(&dir), "Is a directory"])
        .assert_errors(&[(Some(&dir), PEM_CONTEXT, "Is a directory")]);
}

#[test]
fn file_binary_garbage() {
    let dir = common::scratch_dir("m-file-garbage");
    let path = write(dir.join("garbage.pem"), garbage(64 * 1024));
    run_case("file_binary_garbage", Some(path.as_os_str()), None)
        .assert_no_anchors(&[&display(&path), "0 certificates found", NO_CERT_CONTEXT])
        .assert_errors(&[(Some(&path), NO_CERT_CONTEXT, NO_CERT_MESSAGE)]);
}

/// Garbage around a good certificate does not hide it.
#[test]
fn file_binary_garbage_around_a_certificate() {
    let dir = common::scratch_dir("m-file-garbage-around");
    let mut contents = garbage(4096);
    contents.push(b'\n');
    contents.extend_from_slice(common::ca_pem("CA a").as_bytes());
    contents.extend_from_slice(&garbage(4096));
    let path = write(dir.join("bundle.pem"), contents);
    run_case(
        "file_binary_garbage_around_a_certificate",
        Some(path.as_os_str()),
        None,
    )
    .assert_anchors(1)
    .assert_clean();
}

#[test]
fn file_der_instead_of_pem() {
    let dir = common::scratch_dir("m-file-der");
    let ca = common::TestCa::new("CA der");
    let path = write(dir.join("ca.der"), ca.cert.der());
    run_case("file_der_instead_of_pem", Some(path.as_os_str()), None)
        .assert_no_anchors(&[&display(&path), "0 certificates found", NO_CERT_DER_HINT])
        .assert_errors(&[(Some(&path), NO_CERT_CONTEXT, NO_CERT_MESSAGE)])
        .assert_errors(&[(Some(&path), NO_CERT_CONTEXT, NO_CERT_DER_HINT)]);
}

#[test]
fn file_private_key_only() {
    let dir = common::scratch_dir("m-file-key");
    let key = rcgen::KeyPair::generate().unwrap();
    let path = write(dir.join("key.pem"), key.serialize_pem());
    run_case("file_private_key_only", Some(path.as_os_str()), None)
        .assert_no_anchors(&[&display(&path), "0 certificates found", NO_CERT_CONTEXT])
        .assert_errors(&[(Some(&path), NO_CERT_CONTEXT, NO_CERT_MESSAGE)]);
}

/// The last certificate lacks its END line: the ones before it load, the error is recorded.
#[test]
fn file_missing_end_line_last() {
    let dir = common::scratch_dir("m-file-noend-last");
    let (a, b) = (common::ca_pem("CA a"), common::ca_pem("CA b"));
    let path = write(dir.join("bundle.pem"), format!("{a}{}", without_end(&b)));
    run_case("file_missing_end_line_last", Some(path.as_os_str()), None)
        .assert_anchors(1)
        .assert_errors(&[(Some(&path), PEM_CONTEXT, NO_END_MESSAGE)]);
}

/// A certificate in the middle lacks its END line: its body runs on into the next one's, so the
/// parser yields one merged block: a base64 error when the first body ends in padding, else a
/// DER certificate with trailing bytes that webpki rejects. Both certificates are lost, one
/// problem is recorded, the certificates before and after load.
#[test]
fn file_missing_end_line_middle() {
    let dir = common::scratch_dir("m-file-noend-mid");
    let (a, b, c, d) = (
        common::ca_pem("CA a"),
        common::ca_pem("CA b"),
        common::ca_pem("CA c"),
        common::ca_pem("CA d"),
    );
    let path = write(
        dir.join("bundle.pem"),
        format!("{a}{}{c}{d}", without_end(&b)),
    );
    let outcome = run_case("file_missing_end_line_middle", Some(path.as_os_str()), None);
    outcome.assert_anchors(2);
    match (&outcome.errors[..], &outcome.skipped[..]) {
        ([_], []) => {
            outcome.assert_errors(&[(Some(&path), PEM_CONTEXT, "invalid base64 in a section: ")]);
        }
        ([], [_]) => {
            outcome.assert_skipped(1, "not a parsable X.509 certificate");
        }
        _ => panic!("expected one recorded problem: {outcome:#?}"),
    }
}

#[test]
fn file_only_a_certificate_without_end_line() {
    let dir = common::scratch_dir("m-file-noend-only");
    let path = write(dir.join("bundle.pem"), without_end(&common::ca_pem("CA a")));
    run_case(
        "file_only_a_certificate_without_end_line",
        Some(path.as_os_str()),
        None,
    )
    .assert_no_anchors(&[&display(&path), NO_END_MESSAGE])
    .assert_errors(&[(Some(&path), PEM_CONTEXT, NO_END_MESSAGE)]);
}

#[test]
fn file_bad_base64() {
    let dir = common::scratch_dir("m-file-base64");
    let (a, b, c) = (
        common::ca_pem("CA a"),
        common::ca_pem("CA b"),
        common::ca_pem("CA c"),
    );
    let path = write(
        dir.join("bundle.pem"),
        format!("{a}{}{c}", with_bad_base64(&b)),
    );
    run_case("file_bad_base64", Some(path.as_os_str()), None)
        .assert_anchors(2)
        .assert_errors(&[(Some(&path), PEM_CONTEXT, BAD_BASE64_MESSAGE)]);
}

#[test]
fn file_truncated_certificate_body() {
    let dir = common::scratch_dir("m-file-truncated");
    let (a, b, c) = (
        common::ca_pem("CA a"),
        common::ca_pem("CA b"),
        common::ca_pem("CA c"),
    );
    let path = write(
        dir.join("bundle.pem"),
        format!("{a}{}{c}", with_truncated_body(&b)),
    );
    let outcome = run_case(
        "file_truncated_certificate_body",
        Some(path.as_os_str()),
        None,
    );
    outcome
        .assert_anchors(2)
        .assert_skipped(1, "not a parsable X.509 certificate");
    assert!(outcome.errors.is_empty(), "{outcome:#?}");
}

#[test]
fn file_only_a_truncated_certificate() {
    let dir = common::scratch_dir("m-file-truncated-only");
    let path = write(
        dir.join("bundle.pem"),
        with_truncated_body(&common::ca_pem("CA a")),
    );
    run_case(
        "file_only_a_truncated_certificate",
        Some(path.as_os_str()),
        None,
    )
    .assert_no_anchors(&[&display(&path), "1 certificates found, 1 unparsable"])
    .assert_skipped(1, "not a parsable X.509 certificate");
}

#[test]
fn file_crlf_line_endings() {
    let dir = common::scratch_dir("m-file-crlf");
    let bundle = format!("{}{}", common::ca_pem("CA a"), common::ca_pem("CA b"));
    let path = write(dir.join("bundle.pem"), bundle.replace('\n', "\r\n"));
    run_case("file_crlf_line_endings", Some(path.as_os_str()), None)
        .assert_anchors(2)
        .assert_clean();
}

#[test]
fn file_no_trailing_newline() {
    let dir = common::scratch_dir("m-file-no-newline");
    let bundle = format!("{}{}", common::ca_pem("CA a"), common::ca_pem("CA b"));
    let path = write(dir.join("bundle.pem"), bundle.trim_end());
    run_case("file_no_trailing_newline", Some(path.as_os_str()), None)
        .assert_anchors(2)
        .assert_clean();
}

#[test]
fn file_duplicates() {
    let dir = common::scratch_dir("m-file-dup");
    let a = common::ca_pem("CA a");
    let path = write(dir.join("bundle.pem"), format!("{a}{a}{a}"));
    let outcome = run_case("file_duplicates", Some(path.as_os_str()), None);
    outcome.assert_anchors(1).assert_clean();
    assert_eq!(
        outcome.certificates, 1,
        "duplicates are one certificate: {outcome:#?}"
    );
}

/// 40 MiB: four distinct CAs, each repeated many times, between comment blocks such as
/// `openssl x509 -text` dumps leave in real bundles. Duplicates collapse to four anchors. Distinct
/// certificates all the way to 40 MiB (some 60,000) would spend the test's time in key generation,
/// not in the reading this case is about.
#[test]
fn file_40_mib_bundle() {
    const SIZE: usize = 40 * 1024 * 1024;
    let dir = common::scratch_dir("m-file-40mib");
    let path = dir.join("bundle.pem");
    let cas: Vec<String> = (0..4).map(|i| common::ca_pem(&format!("CA {i}"))).collect();
    let comment: String = (0..128)
        .map(|i| {
            format!("# {i:04} Certificate: Data: Version: 3 (0x2) Serial Number: padding padding\n")
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let (mut written, mut copies) = (0, 0);
    while written < SIZE {
        let ca = &cas[copies % cas.len()];
        out.write_all(comment.as_bytes()).unwrap();
        out.write_all(ca.as_bytes()).unwrap();
        written += comment.len() + ca.len();
        copies += 1;
    }
    out.flush().unwrap();
    drop(out);
    let outcome = run_case("file_40_mib_bundle", Some(path.as_os_str()), None);
    outcome.assert_anchors(4).assert_clean();
    assert_eq!(
        outcome.certificates, 4,
        "{copies} copies of 4 CAs: {outcome:#?}"
    );
    let _ = std::fs::remove_file(&path);
}

/// A FIFO is refused before it is opened: a clear error at once, not a wait on the deadline.
#[test]
fn file_fifo() {
    let dir = common::scratch_dir("m-file-fifo");
    let path = dir.join("fifo.pem");
    mkfifo(&path);
    run_case("file_fifo", Some(path.as_os_str()), None)
        .assert_no_anchors(&[&display(&path), "a FIFO"])
        .assert_errors(&[(Some(&path), NOT_REGULAR_CONTEXT, "a FIFO")]);
}

#[test]
fn file_symlink_to_a_fifo() {
    let dir = common::scratch_dir("m-file-fifo-link");
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let link = dir.join("bundle.pem");
    symlink(&fifo, &link);
    run_case("file_symlink_to_a_fifo", Some(link.as_os_str()), None)
        .assert_no_anchors(&[&display(&link), "a FIFO"])
        .assert_errors(&[(Some(&link), NOT_REGULAR_CONTEXT, "a FIFO")]);
}

/// Decided: an empty `SSL_CERT_FILE` counts as set, as in rustls-native-certs (Go treats it as
/// unset), and is a recorded error of its own: alone, nothing is read and the load fails naming
/// the variable. The platform store is not consulted.
#[test]
fn file_empty_string() {
    let outcome = run_case("file_empty_string", Some(OsStr::new("")), None);
    outcome
        .assert_no_anchors(&[EMPTY_VAR_CONTEXT, EMPTY_VAR_MESSAGE])
        .assert_file_origin(Path::new(""))
        .assert_errors(&[(None, EMPTY_VAR_CONTEXT, EMPTY_VAR_MESSAGE)]);
    assert_eq!(outcome.certificates, 0, "{outcome:#?}");
}

/// An empty `SSL_CERT_FILE` next to a set `SSL_CERT_DIR`: the directory's anchors load, the empty
/// variable is recorded.
#[test]
fn file_empty_string_with_a_dir() {
    let dir = common::scratch_dir("m-file-emptystr-dir");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    run_case(
        "file_empty_string_with_a_dir",
        Some(OsStr::new("")),
        Some(dir.as_os_str()),
    )
    .assert_anchors(1)
    .assert_origin(Origin::Environment {
        file: Some(PathBuf::new()),
        dirs: vec![dir.to_path_buf()],
    })
    .assert_errors(&[(None, EMPTY_VAR_CONTEXT, EMPTY_VAR_MESSAGE)]);
}

#[test]
fn file_non_utf8_path() {
    let dir = common::scratch_dir("m-file-nonutf8");
    if !non_utf8_names_supported(&dir, "file_non_utf8_path") {
        return;
    }
    let path = dir.join(OsStr::from_bytes(b"\xff\xfe-bundle.pem"));
    write(path.clone(), common::ca_pem("CA a"));
    run_case("file_non_utf8_path", Some(path.as_os_str()), None)
        .assert_anchors(1)
        .assert_file_origin(&path)
        .assert_clean();
}

/// A missing file with a non-UTF-8 name: the report keeps its exact bytes, the message its lossy
/// rendering. (The OS error is "No such file" on Linux, "Illegal byte sequence" on APFS.)
#[test]
fn file_non_utf8_path_missing() {
    let dir = common::scratch_dir("m-file-nonutf8-missing");
    let path = dir.join(OsStr::from_bytes(b"\xff\xfe-missing.pem"));
    run_case("file_non_utf8_path_missing", Some(path.as_os_str()), None)
        .assert_no_anchors(&[&display(&path)])
        .assert_errors(&[(Some(&path), PEM_CONTEXT, "")]);
}

/// A well-formed PEM block whose DER is not a certificate: skipped and recorded, not fatal.
#[test]
fn file_unparsable_certificate() {
    let dir = common::scratch_dir("m-file-unparsable");
    let path = write(
        dir.join("bundle.pem"),
        format!("{}{}", common::UNPARSABLE_CERT_PEM, common::ca_pem("CA a")),
    );
    run_case("file_unparsable_certificate", Some(path.as_os_str()), None)
        .assert_anchors(1)
        .assert_skipped(1, "not a parsable X.509 certificate");
}

// ---------------------------------------------------------------------------------------------
// SSL_CERT_DIR.

#[test]
fn dir_several_some_missing_or_empty() {
    let root = common::scratch_dir("m-dir-several");
    let (one, empty, missing, two) = (
        root.join("one"),
        root.join("empty"),
        root.join("missing"),
        root.join("two"),
    );
    for dir in [&one, &empty, &two] {
        std::fs::create_dir_all(dir).unwrap();
    }
    write(one.join("a.pem"), common::ca_pem("CA a"));
    write(one.join("b.pem"), common::ca_pem("CA b"));
    write(two.join("c.pem"), common::ca_pem("CA c"));
    // Empty entries (`::`, a trailing `:`) are ignored.
    let mut value = OsString::new();
    for (i, dir) in [&one, &empty, &missing, &two].iter().enumerate() {
        if i > 0 {
            value.push("::");
        }
        value.push(dir.as_os_str());
    }
    value.push(":");
    run_case("dir_several_some_missing_or_empty", None, Some(&value))
        .assert_anchors(3)
        .assert_dir_origin(&[&one, &empty, &missing, &two])
        .assert_errors(&[(Some(&missing), "opening directory", "No such file")]);
}

#[test]
fn dir_only_missing_or_empty() {
    let root = common::scratch_dir("m-dir-none");
    let (empty, missing) = (root.join("empty"), root.join("missing"));
    std::fs::create_dir_all(&empty).unwrap();
    let value = std::env::join_paths([&empty, &missing]).unwrap();
    run_case("dir_only_missing_or_empty", None, Some(&value))
        .assert_no_anchors(&[&display(&empty), &display(&missing)])
        .assert_errors(&[(Some(&missing), "opening directory", "No such file")]);
}

/// `c_rehash` links (`<hash>.0 -> a.pem`): each file is read once, so a file with a bad block
/// reports its error once, not once per name. Entries are read in sorted path order, so the name
/// reported is the lexicographically first one: `1234abcd.0` (digits sort before `a.pem`).
#[test]
fn dir_hash_symlinks() {
    let dir = common::scratch_dir("m-dir-hash");
    let (a, b) = (common::ca_pem("CA a"), common::ca_pem("CA b"));
    write(
        dir.join("a.pem"),
        format!("{a}{}", with_bad_base64(&common::ca_pem("CA x"))),
    );
    write(dir.join("b.pem"), &b);
    symlink("a.pem", &dir.join("1234abcd.0"));
    symlink("b.pem", &dir.join("5678ef01.0"));
    symlink(dir.join("b.pem"), &dir.join("5678ef01.1"));
    run_case("dir_hash_symlinks", None, Some(dir.as_os_str()))
        .assert_anchors(2)
        .assert_errors(&[(
            Some(&dir.join("1234abcd.0")),
            PEM_CONTEXT,
            BAD_BASE64_MESSAGE,
        )]);
}

#[test]
fn dir_dangling_symlinks() {
    let dir = common::scratch_dir("m-dir-dangling");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    symlink("gone.pem", &dir.join("deadbeef.0"));
    symlink("/nonexistent/ca.pem", &dir.join("deadbeef.1"));
    run_case("dir_dangling_symlinks", None, Some(dir.as_os_str()))
        .assert_anchors(1)
        .assert_clean();
}

#[test]
fn dir_symlink_loop() {
    let dir = common::scratch_dir("m-dir-loop");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    let (one, two, me) = (dir.join("loop1.0"), dir.join("loop2.0"), dir.join("self.0"));
    symlink("loop2.0", &one);
    symlink("loop1.0", &two);
    symlink("self.0", &me);
    let loop_message = "symbolic links";
    run_case("dir_symlink_loop", None, Some(dir.as_os_str()))
        .assert_anchors(1)
        .assert_errors(&[
            (Some(&one), "failed to open file", loop_message),
            (Some(&two), "failed to open file", loop_message),
            (Some(&me), "failed to open file", loop_message),
        ]);
}

/// Directories are not searched recursively (as OpenSSL's hashed directories are not).
#[test]
fn dir_subdirectory() {
    let dir = common::scratch_dir("m-dir-subdir");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(dir.join("sub").join("b.pem"), common::ca_pem("CA b"));
    run_case("dir_subdirectory", None, Some(dir.as_os_str()))
        .assert_anchors(1)
        .assert_clean();
}

/// A FIFO in a directory is not a regular file: passed over without being opened.
#[test]
fn dir_fifo_inside() {
    let dir = common::scratch_dir("m-dir-fifo");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    mkfifo(&dir.join("fifo.pem"));
    run_case("dir_fifo_inside", None, Some(dir.as_os_str()))
        .assert_anchors(1)
        .assert_clean();
}

#[test]
fn dir_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::scratch_dir("m-dir-unreadable");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    let locked = write(dir.join("locked.pem"), common::ca_pem("CA b"));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_ok() {
        println!(
            "dir_unreadable_file: skipped: this process can read a mode-000 file (it runs as \
             root or with CAP_DAC_OVERRIDE), so an unreadable file cannot be made here"
        );
        return;
    }
    run_case("dir_unreadable_file", None, Some(dir.as_os_str()))
        .assert_anchors(1)
        .assert_errors(&[(Some(&locked), PEM_CONTEXT, "ermission denied")]);
}

#[test]
fn dir_non_utf8_names() {
    let root = common::scratch_dir("m-dir-nonutf8");
    if !non_utf8_names_supported(&root, "dir_non_utf8_names") {
        return;
    }
    let dir = root.join(OsStr::from_bytes(b"certs-\xff"));
    std::fs::create_dir_all(&dir).unwrap();
    write(
        dir.join(OsStr::from_bytes(b"\xff\xfe.pem")),
        common::ca_pem("CA a"),
    );
    write(dir.join("b.pem"), common::ca_pem("CA b"));
    run_case("dir_non_utf8_names", None, Some(dir.as_os_str()))
        .assert_anchors(2)
        .assert_dir_origin(&[&dir])
        .assert_clean();
}

/// `SSL_CERT_DIR` naming a file: the directory cannot be opened, and the error names it.
#[test]
fn dir_is_a_file() {
    let root = common::scratch_dir("m-dir-file");
    let path = write(root.join("bundle.pem"), common::ca_pem("CA a"));
    run_case("dir_is_a_file", None, Some(path.as_os_str()))
        .assert_no_anchors(&[&display(&path), "Not a directory"])
        .assert_errors(&[(Some(&path), "opening directory", "Not a directory")]);
}

/// Only separators: no directory at all, so the variable counts as unset.
#[test]
fn dir_only_separators() {
    let outcome = run_case("dir_only_separators", None, Some(OsStr::new(":::")));
    outcome.assert_origin(Origin::PlatformStore);
    assert!(matches!(outcome.result, Ok(n) if n > 0), "{outcome:#?}");
}

/// The same directory listed twice: its files are read once, so its anchors count once and its
/// errors are reported once.
#[test]
fn dir_same_dir_twice() {
    let dir = common::scratch_dir("m-dir-twice");
    let bundle = write(
        dir.join("a.pem"),
        format!(
            "{}{}",
            common::ca_pem("CA a"),
            with_bad_base64(&common::ca_pem("CA x"))
        ),
    );
    let value = std::env::join_paths([&dir, &dir]).unwrap();
    run_case("dir_same_dir_twice", None, Some(&value))
        .assert_anchors(1)
        .assert_dir_origin(&[&dir, &dir])
        .assert_errors(&[(Some(&bundle), PEM_CONTEXT, BAD_BASE64_MESSAGE)]);
}

/// Each file is read once across all sources (one (dev, inode) set spans `SSL_CERT_FILE` and
/// every `SSL_CERT_DIR` directory): a hash link in a second directory, or the `SSL_CERT_FILE`
/// bundle found again in `SSL_CERT_DIR`, does not read the file (and report its errors) twice.
/// The error names the path the file was first reached by: `SSL_CERT_FILE` comes first, then the
/// directories in order.
#[test]
fn files_reachable_twice_are_read_once() {
    let root = common::scratch_dir("m-read-once");
    let (one, two) = (root.join("one"), root.join("two"));
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let bundle = write(
        one.join("a.pem"),
        format!(
            "{}{}",
            common::ca_pem("CA a"),
            with_bad_base64(&common::ca_pem("CA x"))
        ),
    );
    let link = two.join("1234abcd.0");
    symlink(&bundle, &link);

    let dirs = std::env::join_paths([&one, &one, &two]).unwrap();
    run_case(
        "files_reachable_twice_are_read_once/dirs",
        None,
        Some(&dirs),
    )
    .assert_anchors(1)
    .assert_dir_origin(&[&one, &one, &two])
    .assert_errors(&[(Some(&bundle), PEM_CONTEXT, BAD_BASE64_MESSAGE)]);

    run_case(
        "files_reachable_twice_are_read_once/file-and-dir",
        Some(bundle.as_os_str()),
        Some(one.as_os_str()),
    )
    .assert_anchors(1)
    .assert_errors(&[(Some(&bundle), PEM_CONTEXT, BAD_BASE64_MESSAGE)]);

    // Reached first through a link named by SSL_CERT_FILE: the link is the path reported.
    let dirs = std::env::join_paths([&one, &two]).unwrap();
    run_case(
        "files_reachable_twice_are_read_once/link-as-file",
        Some(link.as_os_str()),
        Some(&dirs),
    )
    .assert_anchors(1)
    .assert_errors(&[(Some(&link), PEM_CONTEXT, BAD_BASE64_MESSAGE)]);
}

/// Every PEM error names the file it was found in, in words: a missing END line, bad base64, a
/// malformed BEGIN line; in `SSL_CERT_FILE` and in an `SSL_CERT_DIR` of several files alike.
#[test]
fn pem_errors_name_their_file() {
    let root = common::scratch_dir("m-pem-path");
    let broken = without_end(&common::ca_pem("CA x"));
    let file = write(
        root.join("bundle.pem"),
        format!("{}{broken}", common::ca_pem("CA a")),
    );
    run_case(
        "pem_errors_name_their_file/file",
        Some(file.as_os_str()),
        None,
    )
    .assert_anchors(1)
    .assert_errors(&[(Some(&file), PEM_CONTEXT, NO_END_MESSAGE)]);

    let dir = root.join("dir");
    std::fs::create_dir_all(&dir).unwrap();
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    write(dir.join("b.pem"), common::ca_pem("CA b"));
    let no_end = write(dir.join("no-end.pem"), &broken);
    let base64 = write(
        dir.join("base64.pem"),
        with_bad_base64(&common::ca_pem("CA y")),
    );
    // Four dashes closing the BEGIN line: the section is refused, the certificate after it loads.
    let bad_begin = write(
        dir.join("begin.pem"),
        format!(
            "{}{}",
            common::ca_pem("CA z").replacen("-----\n", "----\n", 1),
            common::ca_pem("CA c")
        ),
    );
    run_case(
        "pem_errors_name_their_file/dir",
        None,
        Some(dir.as_os_str()),
    )
    .assert_anchors(3)
    .assert_errors(&[
        (Some(&no_end), PEM_CONTEXT, NO_END_MESSAGE),
        (Some(&base64), PEM_CONTEXT, BAD_BASE64_MESSAGE),
        (
            Some(&bad_begin),
            PEM_CONTEXT,
            r#"malformed section start line: "-----BEGIN CERTIFICATE----""#,
        ),
    ]);
}

/// An `SSL_CERT_FILE` that holds no PEM certificate at all (a DER file, a key) is recorded even
/// when `SSL_CERT_DIR` supplies anchors: the operator pointed at it on purpose.
#[test]
fn file_without_certificates_is_recorded_next_to_a_good_dir() {
    let root = common::scratch_dir("m-file-der-dir");
    let ca = common::TestCa::new("CA der");
    let file = write(root.join("ca.der"), ca.cert.der());
    let dir = root.join("dir");
    std::fs::create_dir_all(&dir).unwrap();
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    run_case(
        "file_without_certificates_is_recorded_next_to_a_good_dir",
        Some(file.as_os_str()),
        Some(dir.as_os_str()),
    )
    .assert_anchors(1)
    .assert_origin(Origin::Environment {
        file: Some(file.clone()),
        dirs: vec![dir.clone()],
    })
    .assert_errors(&[(Some(&file), NO_CERT_CONTEXT, NO_CERT_MESSAGE)]);
}

/// Unlike the `SSL_CERT_FILE` bundle, a directory entry with no certificate (empty, DER, a key, a
/// README) is passed over silently: certificate directories hold such files routinely.
#[test]
fn dir_files_without_certificates_are_not_reported() {
    let dir = common::scratch_dir("m-dir-no-certs");
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    write(dir.join("empty.pem"), "");
    write(dir.join("ca.der"), common::TestCa::new("CA der").cert.der());
    write(
        dir.join("key.pem"),
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    );
    write(dir.join("README"), "Certificates for this host.\n");
    run_case(
        "dir_files_without_certificates_are_not_reported",
        None,
        Some(dir.as_os_str()),
    )
    .assert_anchors(1)
    .assert_clean();
}

// ---------------------------------------------------------------------------------------------
// Both and neither.

#[test]
fn both_set() {
    let root = common::scratch_dir("m-both");
    let (a, b) = (common::ca_pem("CA a"), common::ca_pem("CA b"));
    let file = write(root.join("bundle.pem"), &a);
    let dir = root.join("dir");
    std::fs::create_dir_all(&dir).unwrap();
    write(dir.join("a.pem"), &a);
    write(dir.join("b.pem"), &b);
    run_case("both_set", Some(file.as_os_str()), Some(dir.as_os_str()))
        .assert_anchors(2)
        .assert_origin(Origin::Environment {
            file: Some(file.clone()),
            dirs: vec![dir.clone()],
        })
        .assert_clean();
}

/// A broken `SSL_CERT_FILE` next to a good `SSL_CERT_DIR`: success, the file's error recorded.
#[test]
fn both_set_file_missing() {
    let root = common::scratch_dir("m-both-missing");
    let file = root.join("missing.pem");
    let dir = root.join("dir");
    std::fs::create_dir_all(&dir).unwrap();
    write(dir.join("a.pem"), common::ca_pem("CA a"));
    run_case(
        "both_set_file_missing",
        Some(file.as_os_str()),
        Some(dir.as_os_str()),
    )
    .assert_anchors(1)
    .assert_errors(&[(Some(&file), PEM_CONTEXT, "No such file")]);
}

/// The machine's own store (this Linux box has one; CI runs the same on macOS and Windows).
#[test]
fn neither_set() {
    let outcome = run_case("neither_set", None, None);
    outcome.assert_origin(Origin::PlatformStore);
    assert!(
        matches!(outcome.result, Ok(n) if n > 0 && n == outcome.anchors),
        "{outcome:#?}"
    );
    assert!(outcome.errors.iter().all(|e| !e.transient), "{outcome:#?}");
    // Outside macOS the store is the bundle and directories openssl-probe finds, read as
    // SSL_CERT_FILE and SSL_CERT_DIR are: every error names its file.
    if !cfg!(target_os = "macos") {
        assert!(
            outcome.errors.iter().all(|e| e.path.is_some()),
            "{outcome:#?}"
        );
    }
}
