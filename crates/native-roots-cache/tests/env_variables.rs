//! `SSL_CERT_FILE` and `SSL_CERT_DIR` themselves, read once per process by the global
//! `native_roots()`: set but empty, only separators, both, neither, non-UTF-8 values (what the
//! reader does with the files they name is `it/reader.rs`). Each test re-executes this binary
//! running only itself with exactly its variables set, and checks the load in that child; a
//! child still running after 20 s is killed, the case failing as a hang. Unix only.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use native_roots_cache::NativeRootsErrorKind::NoAnchors;
use native_roots_cache::{native_roots, native_roots_report, LoadReport, NativeRootsError};
use native_roots_cache::{SourceError, TrustOrigin};

/// Set only in a child.
const CHILD: &str = "NRC_ENV_CHILD";

type Vars = [Option<OsString>; 2];
type Loaded = (Result<usize, NativeRootsError>, Arc<LoadReport>);

/// In the parent, `None`: `vars` writes files in a scratch directory and returns the values of
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` (`None`: unset), then the test `name` must pass in a child
/// with exactly those set. In that child: the global's first load and its report, to check.
fn in_child(name: &str, vars: impl FnOnce(&Path) -> Vars) -> Option<Loaded> {
    if std::env::var_os(CHILD).is_some() {
        let roots = native_roots().map(|roots| roots.len());
        return Some((roots, native_roots_report().unwrap()));
    }
    let root = common::scratch_dir(&format!("env-{name}"));
    let values = vars(&root);
    let set = ["SSL_CERT_FILE", "SSL_CERT_DIR"].into_iter().zip(&values);
    let set = set.filter_map(|(var, value)| Some((var, value.as_deref()?)));
    let env: Vec<(&str, &OsStr)> = [(CHILD, OsStr::new("1"))].into_iter().chain(set).collect();
    let child = common::spawn_runner(name, &env, false);
    let run = common::wait_bounded(child, Duration::from_secs(20));
    let run = run.unwrap_or_else(|hang| panic!("{name}: {hang}"));
    // The child's harness ran exactly this test, and it passed.
    let why = format!("{name}: {}\n{}\n{}", run.status, run.stdout, run.stderr);
    assert!(run.stdout.contains(" 1 passed;"), "{why}");
    None
}

/// A variable's value, in the child.
fn var(name: &str) -> PathBuf {
    std::env::var_os(name).unwrap().into()
}

/// The directory `dir` holding each of `pems` as a file, as a variable's value.
fn certs(dir: PathBuf, pems: &[&str]) -> Option<OsString> {
    std::fs::create_dir_all(&dir).unwrap();
    for (i, pem) in pems.iter().enumerate() {
        common::write_settled(dir.join(format!("{i}.pem")), pem);
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
    let m = err.message();
    assert!(m.starts_with("the system trust store yielded"), "{m}");
    assert!(m.contains("SSL_CERT_FILE is set but empty"), "{m}");
    assert!(m.contains("Set SSL_CERT_FILE to a PEM bundle"), "{m}");
    assert!(m.contains("or SSL_CERT_DIR to a directory"), "{m}");
    assert_eq!(report.origin, env_origin("", vec![]));
    assert_eq!(report.errors, [empty_file_var()]);
}

/// Next to a set `SSL_CERT_DIR`, the directory's anchors load and the empty variable is recorded.
#[test]
fn file_empty_string_with_a_dir() {
    let vars = |root: &Path| {
        let dir = certs(root.join("dir"), &[&common::ca_pem("CA a")]);
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
        let [a, b] = ["CA a", "CA b"].map(common::ca_pem);
        let mut dirs = OsString::from(":");
        dirs.push(certs(root.join("dir"), &[&a, &b]).unwrap());
        dirs.push("::");
        let file = common::write_settled(root.join("a.pem"), &a);
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
        let dir = certs(root.join("dir"), &[&common::ca_pem("CA a")]);
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
