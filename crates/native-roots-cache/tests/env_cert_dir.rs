//! The process-wide store read from several `SSL_CERT_DIR` directories, some bad.
//! Its own binary: the cache is per process; the test runs in a child (`test_pki::alone`), given
//! its environment at its start.
#![allow(clippy::unwrap_used)]

use native_roots_cache::{RootsCache, TrustOrigin, native_roots};

#[test]
fn ssl_cert_dir_keeps_the_good_files_and_reports_the_bad() {
    let test = "ssl_cert_dir_keeps_the_good_files_and_reports_the_bad";
    let dirs = |root: &std::path::Path| {
        let dirs = ["one", "empty", "missing"].map(|name| root.join(name));
        vec![("SSL_CERT_DIR", std::env::join_paths(dirs).unwrap())]
    };
    if !test_pki::alone(test, dirs) {
        return;
    }
    let dirs = std::env::var_os("SSL_CERT_DIR").unwrap();
    let [one, empty, missing] =
        <[_; 3]>::try_from(std::env::split_paths(&dirs).collect::<Vec<_>>()).unwrap();
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(one.join("a.pem"), test_pki::ca_pem("CA a")).unwrap();
    std::fs::write(one.join("b.pem"), test_pki::ca_pem("CA b")).unwrap();
    let truncated = test_pki::ca_pem("CA c").replace("-----END CERTIFICATE-----", "");
    let truncated_path = one.join("truncated.pem");
    std::fs::write(&truncated_path, truncated).unwrap();
    // Cut short long ago, not being written: a permanent error that costs this file only.
    test_pki::settle(&truncated_path);

    assert_eq!(native_roots().unwrap().len(), 2);
    let report = RootsCache::global().report().unwrap();
    assert_eq!(
        report.origin,
        TrustOrigin::Environment {
            file: None,
            dirs: vec![one.clone(), empty, missing.clone()]
        }
    );
    assert_eq!(report.anchors, 2);
    let paths: Vec<_> = report
        .errors
        .iter()
        .filter_map(|e| e.path.clone())
        .collect();
    assert!(
        paths.contains(&missing),
        "the missing directory is reported: {paths:?}"
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.path.as_ref() == Some(&truncated_path)
                && e.context == "failed to read PEM from file"
                && e.message
                    == "a section has no \"-----END CERTIFICATE-----\" line (truncated file?)"),
        "the truncated file is reported with its path: {:?}",
        report.errors
    );
    assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
    assert!(report.errors.iter().all(|e| !e.is_transient()));
}
