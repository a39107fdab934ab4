//! `SSL_CERT_FILE` and `SSL_CERT_DIR` on Windows: `;` between directories, empty entries, drive
//! letters (whose `:` must not split a list), forward slashes. Run by the `windows` step of
//! `cargo xtask ci` under Wine, and by the workflow's Windows job. Each test re-executes this
//! binary running only itself with exactly its variables set (`test_pki::alone`), and checks the
//! global's first load in that child. `env_variables.rs` is the Unix side.
#![cfg(windows)]
#![allow(clippy::unwrap_used)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use native_roots_cache::{RootsCache, TrustOrigin, native_roots};

/// The directory `dir` holding each of `pems` as a file.
fn certs(dir: PathBuf, pems: &[&str]) -> PathBuf {
    std::fs::create_dir_all(&dir).unwrap();
    for (i, pem) in pems.iter().enumerate() {
        test_pki::write_settled(dir.join(format!("{i}.pem")), pem);
    }
    dir
}

/// A variable's value, in the child.
fn var(name: &str) -> OsString {
    std::env::var_os(name).unwrap()
}

/// `SSL_CERT_DIR` of two directories named with their drive letter, between empty entries:
/// both are read, the empty entries ignored, and the report lists the two and shows them with
/// Windows' separator.
#[test]
fn dirs_separated_by_semicolons_with_drive_letters() {
    let test = "dirs_separated_by_semicolons_with_drive_letters";
    let env = |root: &Path| {
        let one = certs(root.join("one"), &[&test_pki::ca_pem("CA a")]);
        let two = certs(root.join("two"), &[&test_pki::ca_pem("CA b")]);
        let mut dirs = OsString::from(";");
        dirs.push(&one);
        dirs.push(";;");
        dirs.push(&two);
        dirs.push(";");
        vec![("SSL_CERT_DIR", dirs)]
    };
    if !test_pki::alone(test, env) {
        return;
    }
    let value = var("SSL_CERT_DIR").into_string().unwrap();
    let dirs: Vec<PathBuf> = value
        .split(';')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect();
    assert!(
        dirs.iter()
            .all(|d| d.to_str().unwrap().as_bytes()[1] == b':'),
        "{value}"
    );

    let roots = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    assert_eq!(roots.len(), 2, "{report:#?}");
    assert!(report.errors.is_empty(), "{report:#?}");
    let origin = TrustOrigin::Environment {
        file: None,
        dirs: dirs.clone(),
    };
    assert_eq!(report.origin, origin);
    let shown = format!("SSL_CERT_DIR={};{}", dirs[0].display(), dirs[1].display());
    assert_eq!(report.origin.to_string(), shown);
}

/// `SSL_CERT_FILE` with a drive letter and forward slashes, as tools written for Unix set it.
#[test]
fn file_with_a_drive_letter_and_forward_slashes() {
    let test = "file_with_a_drive_letter_and_forward_slashes";
    let env = |root: &Path| {
        let file = test_pki::write_settled(root.join("a.pem"), test_pki::ca_pem("CA a"));
        let forward = file.to_str().unwrap().replace('\\', "/");
        vec![("SSL_CERT_FILE", OsString::from(forward))]
    };
    if !test_pki::alone(test, env) {
        return;
    }
    let file = PathBuf::from(var("SSL_CERT_FILE"));
    assert!(file.to_str().unwrap().contains(":/"), "{}", file.display());
    let roots = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    assert_eq!(roots.len(), 1, "{report:#?}");
    let origin = TrustOrigin::Environment {
        file: Some(file),
        dirs: vec![],
    };
    assert_eq!(report.origin, origin);
}

/// Only separators: no directory at all, so the variable counts as unset and the Windows store
/// is read.
#[test]
fn dir_only_semicolons_reads_the_windows_store() {
    let test = "dir_only_semicolons_reads_the_windows_store";
    if !test_pki::alone(test, |_| vec![("SSL_CERT_DIR", OsString::from(";;;"))]) {
        return;
    }
    let roots = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    assert!(!roots.is_empty(), "{report:#?}");
    assert_eq!(report.origin, TrustOrigin::PlatformStore);
    let shown = report.to_string();
    assert!(
        shown.contains("the Windows certificate store (ROOT)"),
        "{shown}"
    );
}

/// A missing directory among good ones costs only itself, named with its Windows path.
#[test]
fn a_missing_directory_is_reported_by_its_windows_path() {
    let test = "a_missing_directory_is_reported_by_its_windows_path";
    let env = |root: &Path| {
        let one = certs(root.join("one"), &[&test_pki::ca_pem("CA a")]);
        let dirs = std::env::join_paths([one, root.join("missing")]).unwrap();
        vec![("SSL_CERT_DIR", dirs)]
    };
    if !test_pki::alone(test, env) {
        return;
    }
    let value = var("SSL_CERT_DIR");
    let missing = std::env::split_paths(&value).nth(1).unwrap();
    let roots = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    assert_eq!(roots.len(), 1, "{report:#?}");
    let [err] = &report.errors[..] else {
        panic!("{report:#?}")
    };
    assert_eq!(err.path.as_ref(), Some(&missing), "{err}");
    assert!(!err.is_transient(), "{err}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}
