//! `SSL_CERT_FILE` and `SSL_CERT_DIR` themselves, read once per process by the global
//! `native_roots()`: set but empty, only separators, both, neither, non-UTF-8 values (what the
//! reader does with the files they name is `it/reader.rs`). Each test re-executes this binary
//! running only itself with exactly its variables set (`test_pki::alone`), and checks the load in
//! that child; a child still running after a minute is killed, the case failing as a hang. Unix
//! only.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use native_roots_cache::NativeRootsErrorKind::NoAnchors;
use native_roots_cache::{LoadReport, NativeRootsError, RootsCache, native_roots};
use native_roots_cache::{SourceError, TrustOrigin};

type Vars = [Option<OsString>; 2];
type Loaded = (Result<usize, NativeRootsError>, Arc<LoadReport>);

/// In the parent, `None`: `vars` writes files in a scratch directory and returns the values of
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` (`None`: unset), then the test `name` must pass in a child
/// with exactly those set. In that child: the global's first load and its report, to check.
fn in_child(name: &str, vars: impl FnOnce(&Path) -> Vars) -> Option<Loaded> {
    let env = |root: &Path| {
        let set = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .into_iter()
            .zip(vars(root));
        set.filter_map(|(var, value)| Some((var, value?))).collect()
    };
    if !test_pki::alone(name, env) {
        return None;
    }
    let roots = native_roots().map(|roots| roots.len());
    Some((roots, RootsCache::global().report().unwrap()))
}

/// A variable's value, in the child.
fn var(name: &str) -> PathBuf {
    std::env::var_os(name).unwrap().into()
}

/// The directory `dir` holding each of `pems` as a file, as a variable's value.
fn certs(dir: PathBuf, pems: &[&str]) -> Option<OsString> {
    std::fs::create_dir_all(&dir).unwrap();
    for (i, pem) in pems.iter().enumerate() {
        test_pki::write_settled(dir.join(format!("{i}.pem")), pem);
    }
    Some(dir.into())
}

fn env_origin(file: impl Into<PathBuf>, dirs: Vec<PathBuf>) -> TrustOrigin {
    let file = Some(file.into());
    TrustOrigin::Environment { file, dirs }
}

/// What `SSL_CERT_FILE=""` records, with no path: it names none.
fn empty_file_var() -> SourceError {
    let advice = "point SSL_CERT_FILE at a PEM bundle file, or unset it to use the platform store";
    SourceError::permanent("SSL_CERT_FILE is set but empty", advice)
}

/// Decided: `SSL_CERT_FILE=""` counts as set (as in rustls-native-certs), so the platform store is
/// not read, and it is an error of its own: alone, the load fails naming the variables.
#[test]
fn file_empty_string() {
    let Some((roots, report)) = in_child("file_empty_string", |_| [Some("".into()), None]) else {
        return;
    };
    let err = roots.unwrap_err();
    let outcome = (err.kind(), err.attempts(), report.certificates);
    assert_eq!(outcome, (NoAnchors, 1, 0), "{err}");
    let m = err.to_string();
    assert!(
        m.starts_with("no usable trust anchors from SSL_CERT_FILE="),
        "{m}"
    );
    let cause = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<SourceError>());
    assert_eq!(cause, Some(&empty_file_var()), "{err:?}");
    let advice = err.advice();
    assert!(
        advice.contains("point SSL_CERT_FILE at a PEM bundle"),
        "{advice}"
    );
    assert!(
        advice.contains("or SSL_CERT_DIR at a directory"),
        "{advice}"
    );
    assert_eq!(report.origin, env_origin("", vec![]));
    assert_eq!(report.errors, [empty_file_var()]);
}

/// Next to a set `SSL_CERT_DIR`, the directory's anchors load and the empty variable is recorded.
#[test]
fn file_empty_string_with_a_dir() {
    let vars = |root: &Path| {
        let dir = certs(root.join("dir"), &[&test_pki::ca_pem("CA a")]);
        [Some("".into()), dir]
    };
    let Some((roots, report)) = in_child("file_empty_string_with_a_dir", vars) else {
        return;
    };
    assert_eq!(roots, Ok(1), "{report:#?}");
    assert_eq!(report.origin, env_origin("", vec![var("SSL_CERT_DIR")]));
    assert_eq!(report.errors, [empty_file_var()]);
}

/// The platform store was read: it has anchors, and outside macOS (where it is openssl-probe's
/// bundle and directory, read by the PEM reader) every recorded error names its file.
fn platform_store((roots, report): Loaded) {
    assert_eq!(report.origin, TrustOrigin::PlatformStore);
    let anchors = roots.unwrap();
    assert!(anchors > 0 && anchors == report.anchors, "{report:#?}");
    let ok = |e: &SourceError| !e.is_transient() && (e.path.is_some() || cfg!(target_os = "macos"));
    assert!(report.errors.iter().all(ok), "{report:#?}");
}

/// Only separators: no directory at all, so the variable counts as unset.
#[test]
fn dir_only_separators() {
    if let Some(loaded) = in_child("dir_only_separators", |_| [None, Some(":::".into())]) {
        platform_store(loaded);
    }
}

/// The machine's own store (this Linux box has one; CI runs the same on macOS).
#[test]
fn neither_set() {
    if let Some(loaded) = in_child("neither_set", |_| [None, None]) {
        platform_store(loaded);
    }
}

/// Both read, deduplicated across them (CA a in the file, CA a and b in the directory); the empty
/// entries of `SSL_CERT_DIR` (`::`, a leading and a trailing `:`) are ignored.
#[test]
fn both_set() {
    let vars = |root: &Path| {
        let [a, b] = ["CA a", "CA b"].map(test_pki::ca_pem);
        let mut dirs = OsString::from(":");
        dirs.push(certs(root.join("dir"), &[&a, &b]).unwrap());
        dirs.push("::");
        let file = test_pki::write_settled(root.join("a.pem"), &a);
        [Some(file.into()), Some(dirs)]
    };
    let Some((roots, report)) = in_child("both_set", vars) else {
        return;
    };
    assert_eq!(roots, Ok(2), "{report:#?}");
    let file = var("SSL_CERT_FILE");
    let dirs = vec![file.with_file_name("dir")];
    assert_eq!(report.origin, env_origin(file, dirs));
    assert!(report.errors.is_empty(), "{report:#?}");
    assert!(report.skipped.is_empty(), "{report:#?}");
}

/// A missing `SSL_CERT_FILE` next to a good `SSL_CERT_DIR`: success, the file's error recorded.
#[test]
fn both_set_file_missing() {
    let vars = |root: &Path| {
        let dir = certs(root.join("dir"), &[&test_pki::ca_pem("CA a")]);
        [Some(root.join("missing.pem").into()), dir]
    };
    let Some((roots, report)) = in_child("both_set_file_missing", vars) else {
        return;
    };
    assert_eq!(roots, Ok(1), "{report:#?}");
    let [err] = &report.errors[..] else {
        panic!("{report:#?}")
    };
    assert_eq!(err.path, Some(var("SSL_CERT_FILE")));
    assert_eq!(err.context, "failed to read PEM from file");
    assert!(err.message.contains("No such file"), "{err}");
    assert!(!err.is_transient(), "{err}");
}

/// Non-UTF-8 values reach the reader and the report byte for byte (they name nothing that
/// exists, so that file systems refusing such names, like APFS, run the case too).
#[test]
fn non_utf8_values() {
    let vars = |root: &Path| {
        let [file, dir] = [&b"\xff\xfe.pem"[..], b"certs-\xff"].map(OsStr::from_bytes);
        [Some(root.join(file).into()), Some(root.join(dir).into())]
    };
    let Some((roots, report)) = in_child("non_utf8_values", vars) else {
        return;
    };
    assert_eq!(roots.unwrap_err().kind(), NoAnchors);
    let (file, dir) = (var("SSL_CERT_FILE"), var("SSL_CERT_DIR"));
    assert!(file.as_os_str().as_bytes().ends_with(b"/\xff\xfe.pem"));
    assert!(dir.as_os_str().as_bytes().ends_with(b"/certs-\xff"));
    let paths: Vec<_> = report.errors.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, [Some(file.clone()), Some(dir.clone())]);
    assert_eq!(report.origin, env_origin(file, vec![dir]));
}
