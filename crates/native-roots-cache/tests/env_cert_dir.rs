//! The process-wide store read from several `SSL_CERT_DIR` directories, some bad.
//! Its own binary: the cache is per process and the environment is set once, first.
#![allow(clippy::unwrap_used)]

mod common;

use native_roots_cache::{native_roots, native_roots_report, TrustOrigin};

#[test]
fn ssl_cert_dir_keeps_the_good_files_and_reports_the_bad() {
    common::clear_cert_env();
    let root = common::fresh_dir("cert-dir");
    let (one, empty, missing) = (root.join("one"), root.join("empty"), root.join("missing"));
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(one.join("a.pem"), common::ca_pem("CA a")).unwrap();
    std::fs::write(one.join("b.pem"), common::ca_pem("CA b")).unwrap();
    let truncated = common::ca_pem("CA c").replace("-----END CERTIFICATE-----", "");
    let truncated_path = one.join("truncated.pem");
    std::fs::write(&truncated_path, truncated).unwrap();
    // Cut short long ago, not being written: a permanent error that costs this file only.
    common::settle(&truncated_path);
    let dirs = std::env::join_paths([&one, &empty, &missing]).unwrap();
    std::env::set_var("SSL_CERT_DIR", &dirs);

    assert_eq!(native_roots().unwrap().len(), 2);
    let report = native_roots_report().unwrap();
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
