//! `tls-probe store`: every certificate of the bundle accounted for, with its facts, and the
//! CRLs the store holds.

use std::time::{Duration, SystemTime};

use crate::common::{Ca, GARBAGE_PEM, json, probe, run, scratch_dir, stdout};

#[test]
fn json_names_every_anchor_and_every_skipped_certificate_with_its_file() {
    let dir = scratch_dir("store-json");
    let (current, old) = (Ca::new("Current Root"), Ca::expired("Old Root"));
    let snakeoil = current.not_a_ca("snakeoil.example");
    let bundle = dir.write(
        "bundle.pem",
        &[
            current.pem(),
            GARBAGE_PEM.to_owned(),
            old.pem(),
            snakeoil.chain_pem.clone(),
        ]
        .concat(),
    );
    let output = run(probe(&bundle).args(["store", "--json", "--expiring-within", "30"]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "a skipped certificate is not fatal"
    );
    let report = json(&output);
    let location = bundle.display().to_string();

    assert_eq!(report["ok"], true);
    assert_eq!(report["error"], serde_json::Value::Null);
    assert_eq!(report["certificates"], 4);
    let anchors = report["anchors"].as_array().expect("anchors");
    // The garbage is skipped; the snakeoil certificate is trusted, and listed as non-CA.
    assert_eq!(anchors.len(), 3, "{anchors:#?}");
    for anchor in anchors {
        assert!(
            anchor["subject"]
                .as_str()
                .is_some_and(|s| s.contains("CN="))
        );
        let sha256 = anchor["sha256"].as_str().expect("sha256");
        assert_eq!(sha256.len(), 64);
        assert!(
            sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        );
        assert!(
            anchor["not_after"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert!(anchor["not_before"].is_string());
        assert_eq!(anchor["location"], location.as_str());
    }
    let subjects: Vec<&str> = anchors
        .iter()
        .filter_map(|a| a["subject"].as_str())
        .collect();
    assert!(subjects.contains(&current.subject("Current Root").as_str()));

    let skipped = report["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{skipped:#?}");
    assert!(skipped[0]["index"].is_u64());
    assert!(
        skipped[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not a parsable X.509 certificate"))
    );
    assert_eq!(skipped[0]["location"], location.as_str());
    assert_eq!(skipped[0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(
        skipped[0]["subject"],
        serde_json::Value::Null,
        "undecodable"
    );

    let non_ca = report["non_ca_anchors"].as_array().expect("non-CA anchors");
    assert_eq!(non_ca.len(), 1);
    assert_eq!(non_ca[0]["subject"], "CN=snakeoil.example");
    assert_eq!(non_ca[0]["location"], location.as_str());

    let expiring = report["expiring"].as_array().expect("expiring");
    assert_eq!(expiring.len(), 1, "only the old root: {expiring:#?}");
    assert_eq!(expiring[0]["subject"], old.subject("Old Root").as_str());
    assert_eq!(expiring[0]["expired"], true);
    assert_eq!(expiring[0]["not_after"], "2020-01-01T00:00:00Z");
    assert!(expiring[0]["days_left"].as_i64().is_some_and(|d| d < 0));
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
}

#[test]
fn text_is_a_table_of_anchors_then_the_exceptions() {
    let dir = scratch_dir("store-text");
    let ca = Ca::new("Table Root");
    let bundle = dir.write("bundle.pem", &[ca.pem(), GARBAGE_PEM.to_owned()].concat());
    let output = run(probe(&bundle).arg("store"));
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let sha256 = native_roots_cache::ReportedCertificate::from(ca.der()).sha256_hex();
    assert!(
        text.starts_with("trust store: 1 anchor from SSL_CERT_FILE="),
        "{text}"
    );
    assert!(text.contains(&format!("anchors (1, all from {}):", bundle.display())));
    assert!(text.contains("NOT AFTER   SHA-256"));
    assert!(text.contains(&sha256), "the anchor's full SHA-256");
    assert!(text.contains(&ca.subject("Table Root")));
    assert!(text.contains("skipped (1): not usable as trust anchors"));
    assert!(text.contains("reason     not a parsable X.509 certificate"));
}

#[test]
fn a_store_that_does_not_load_exits_3_and_says_why() {
    let dir = scratch_dir("store-missing");
    let missing = dir.write("placeholder", "").with_file_name("missing.pem");
    let output = run(probe(&missing).args(["store", "--json"]));
    assert_eq!(output.status.code(), Some(3));
    let report = json(&output);
    assert_eq!(report["ok"], false);
    // The store's one-line error naming the variable, its cause and its advice apart.
    let error = &report["error"];
    assert_eq!(error["kind"], "trust_store");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("SSL_CERT_FILE"), "{error}");
    assert!(!message.contains('\n'), "{error}");
    assert!(
        error["caused_by"][0]
            .as_str()
            .is_some_and(|cause| cause.contains(&missing.display().to_string()))
    );
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains("RootsCache::refresh"))
    );
    let text = stdout(&run(probe(&missing).arg("store")));
    assert!(
        text.starts_with(&format!(
            "trust store: FAILED to load: {message}\n  caused by: "
        )),
        "{text}"
    );
    assert!(text.contains("\n  hint: "), "{text}");
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["path"] == missing.display().to_string().as_str()),
        "the error names the file: {errors:#?}"
    );
}

/// `store` says what each `connect --trust` mode would use on this OS.
#[test]
fn store_says_what_each_trust_mode_uses() {
    let dir = scratch_dir("store-modes");
    let bundle = dir.write("bundle.pem", &Ca::new("Modes Root").pem());
    let view = json(&run(probe(&bundle).args(["store", "--json"])));
    let modes = &view["trust_modes"];
    let native = modes["native"].as_str().expect("native");
    assert!(native.contains("the 1 anchor listed"), "{native}");
    let platform = modes["platform"].as_str().expect("platform");
    assert!(platform.contains("platform verifier"), "{platform}");
    let text = stdout(&run(probe(&bundle).arg("store")));
    assert!(text.contains("connect --trust platform"), "{text}");
}

/// The CRLs the native store holds as OpenSSL finds them: an `X509 CRL` section of the bundle
/// (`SSL_CERT_FILE`) and `HASH.rN` files of the directory (`SSL_CERT_DIR`), each with its
/// issuer, file, dates, count and whether it is past its next update; a file that holds no CRL
/// with the reason.
#[test]
fn crls_of_the_store_are_listed_with_their_facts() {
    let dir = scratch_dir("store-crls");
    let now = SystemTime::now();
    let (in_bundle, in_dir) = (Ca::new("Bundle CA"), Ca::new("Hashed CA"));
    let bundle = dir.write(
        "bundle.pem",
        &[
            in_bundle.pem(),
            in_bundle
                .crl(3, &[7], now + Duration::from_secs(86_400))
                .pem,
        ]
        .concat(),
    );
    let certs = dir.join("certs");
    std::fs::create_dir(&certs).expect("certs");
    test_pki::replace_file(&certs.join("1a2b3c4d.0"), in_dir.pem());
    // Issued an hour ago, its next update a minute ago: past it.
    let stale = in_dir.crl(1, &[8, 9], now - Duration::from_secs(60));
    test_pki::replace_file(&certs.join("1a2b3c4d.r0"), stale.pem);
    test_pki::replace_file(&certs.join("5e6f7a8b.r0"), "not a CRL\n");
    let store = || {
        let mut command = probe(&bundle);
        command.env("SSL_CERT_DIR", &certs).arg("store");
        command
    };

    let output = run(store().arg("--json"));
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["crl_error"], serde_json::Value::Null);
    let crls = report["crls"].as_array().expect("crls");
    assert_eq!(crls.len(), 3, "{crls:#?}");
    let in_use: Vec<_> = crls.iter().filter(|c| c.get("skipped").is_none()).collect();
    assert_eq!(in_use.len(), 2);
    let of = |issuer: &str| {
        *in_use
            .iter()
            .find(|crl| crl["issuer"] == issuer)
            .unwrap_or_else(|| panic!("a CRL of {issuer}: {crls:#?}"))
    };
    let from_bundle = of(&in_bundle.subject("Bundle CA"));
    assert_eq!(from_bundle["file"], bundle.display().to_string().as_str());
    assert_eq!(from_bundle["revoked"], 1);
    assert_eq!(from_bundle["expired"], false);
    assert!(
        from_bundle["this_update"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(
        from_bundle["next_update"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let hashed = of(&in_dir.subject("Hashed CA"));
    let r0 = certs.join("1a2b3c4d.r0");
    assert_eq!(hashed["file"], r0.display().to_string().as_str());
    assert_eq!(hashed["revoked"], 2);
    assert_eq!(hashed["expired"], true);
    let skipped: Vec<_> = crls.iter().filter(|c| c.get("skipped").is_some()).collect();
    assert_eq!(skipped.len(), 1);
    let not_a_crl = certs.join("5e6f7a8b.r0");
    assert_eq!(skipped[0]["file"], not_a_crl.display().to_string().as_str());
    assert!(
        skipped[0]["skipped"]
            .as_str()
            .is_some_and(|why| !why.is_empty())
    );
    assert_eq!(skipped[0]["issuer"], serde_json::Value::Null);

    let text = stdout(&run(&mut store()));
    assert!(
        text.contains(
            "CRLs in the store: 2 CRLs revoking 3 certificates, 1 file skipped; connect \
             --crl-from-store applies them\n  THIS UPDATE "
        ),
        "{text}"
    );
    let line = text
        .lines()
        .find(|line| line.contains("1a2b3c4d.r0"))
        .expect("the hashed CRL's line");
    assert!(line.contains("EXPIRED"), "{line}");
    assert!(line.ends_with("O=tls-probe tests,CN=Hashed CA"), "{line}");
    assert!(
        text.contains(&format!("  skipped {}: ", not_a_crl.display())),
        "{text}"
    );
}

#[test]
fn a_store_without_crls_says_so() {
    let dir = scratch_dir("store-no-crls");
    let bundle = dir.write("bundle.pem", &Ca::new("Plain Root").pem());
    let report = json(&run(probe(&bundle).args(["store", "--json"])));
    assert_eq!(report["crls"], serde_json::json!([]));
    let text = stdout(&run(probe(&bundle).arg("store")));
    assert!(text.contains("\nCRLs: none ("), "{text}");
}
