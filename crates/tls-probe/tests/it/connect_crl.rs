//! `tls-probe connect --crl` and `--crl-from-store` against loopback servers of a CA that
//! revokes one of two server certificates: the revoked one refused and named (serial, date,
//! reason), the other verified.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

use crate::common::{Ca, ScratchDir, json, probe, run, scratch_dir, serve, stdout};

/// The serial of the revoked server's certificate: 0x2A, which the probe prints as `2A`.
const REVOKED: u64 = 42;
/// The serial of the other server's certificate, which the CRL does not list.
const GOOD: u64 = 43;

/// A CA, its CRL revoking `REVOKED`, and a server for each serial.
struct Revoking {
    dir: ScratchDir,
    ca: Ca,
    ca_file: PathBuf,
    /// A trust store that does not hold the CA.
    store: PathBuf,
    crl: test_pki::Crl,
    revoked: SocketAddr,
    good: SocketAddr,
}

impl Revoking {
    fn new(name: &str) -> Self {
        let dir = scratch_dir(name);
        let ca = Ca::new("Revoking CA");
        let ca_file = dir.write("ca.pem", &ca.pem());
        let store = dir.write("store.pem", &Ca::new("Unrelated Root").pem());
        let crl = ca.crl(1, &[REVOKED], in_days(30));
        let revoked = serve(&ca.server_leaf_serial(REVOKED), None);
        let good = serve(&ca.server_leaf_serial(GOOD), None);
        Self {
            dir,
            ca,
            ca_file,
            store,
            crl,
            revoked,
            good,
        }
    }

    /// `connect ADDR --ca CA` and `args`, with the store that does not hold the CA.
    fn connect(&self, addr: SocketAddr, args: &[&str]) -> Output {
        run(probe(&self.store)
            .args(["connect", &addr.to_string(), "--timeout", "5", "--ca"])
            .arg(&self.ca_file)
            .args(args))
    }
}

fn in_days(days: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(days * 86_400)
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn a_revoked_server_is_refused_with_its_serial_date_and_reason() {
    let setup = Revoking::new("crl-connect");
    let crl = setup.dir.write("ca.crl", &setup.crl.pem);

    let output = setup.connect(setup.revoked, &["--crl", text(&crl), "--json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "revoked: verification failed"
    );
    let report = json(&output);
    assert_eq!(report["ok"], false);
    let error = &report["error"];
    assert_eq!(error["kind"], "revoked");
    assert_eq!(error["rustls_error"], "InvalidCertificate(Revoked)");
    let revoked = &error["revoked"];
    assert_eq!(revoked["position"], 0);
    assert_eq!(revoked["subject"], "CN=localhost");
    assert_eq!(revoked["serial"], "2A");
    assert_eq!(revoked["reason"], "keyCompromise");
    assert_eq!(revoked["crl_file"], text(&crl));
    assert_eq!(
        revoked["crl_issuer"],
        setup.ca.subject("Revoking CA").as_str()
    );
    // test-pki revokes at the CRL's this update.
    let crls = report["crls"].as_array().expect("crls");
    assert_eq!(crls.len(), 1, "{crls:#?}");
    assert_eq!(revoked["revocation_date"], crls[0]["this_update"]);
    assert!(
        revoked["revocation_date"]
            .as_str()
            .is_some_and(|date| date.ends_with('Z'))
    );
    assert_eq!(crls[0]["file"], text(&crl));
    assert_eq!(crls[0]["revoked"], 1);
    assert_eq!(crls[0]["expired"], false);
    assert!(crls[0].get("skipped").is_none(), "{}", crls[0]);

    let output = setup.connect(setup.revoked, &["--crl", text(&crl)]);
    assert_eq!(output.status.code(), Some(1));
    let said = stdout(&output);
    let why = format!(
        "  why            revoked: the certificate CN=localhost (#0 of the chain), serial 2A, \
         was revoked on {} (reason keyCompromise) by the CRL of O=tls-probe tests,CN=Revoking \
         CA in {}",
        crls[0]["this_update"].as_str().expect("date"),
        crl.display()
    );
    assert!(said.contains(&why), "{said}");
    assert!(
        said.contains("  CRLs           1 CRL revoking 1 certificate\n"),
        "{said}"
    );

    let output = setup.connect(setup.good, &["--crl", text(&crl), "--json"]);
    assert_eq!(output.status.code(), Some(0), "the other certificate");
    let report = json(&output);
    assert_eq!(report["ok"], true);
    assert_eq!(report["crls"].as_array().map(Vec::len), Some(1));
}

/// A directory of CRLs: a DER file read, a file that is not a CRL listed as skipped.
#[test]
fn a_directory_of_crls_applies_each_and_lists_what_it_skipped() {
    let setup = Revoking::new("crl-connect-dir");
    let dir = setup.dir.join("crls.d");
    std::fs::create_dir(&dir).expect("crls.d");
    test_pki::replace_file(&dir.join("ca.der"), setup.crl.der.as_ref());
    test_pki::replace_file(&dir.join("notes.txt"), "not a CRL\n");
    let other = Ca::new("Other CA");
    test_pki::replace_file(
        &dir.join("other.pem"),
        other.crl(7, &[1, 2], in_days(7)).pem,
    );

    let output = setup.connect(setup.revoked, &["--crl", text(&dir), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["error"]["kind"], "revoked");
    let ca_der = dir.join("ca.der");
    assert_eq!(report["error"]["revoked"]["crl_file"], text(&ca_der));
    let crls = report["crls"].as_array().expect("crls");
    assert_eq!(crls.len(), 3, "two CRLs and a skipped file: {crls:#?}");
    let skipped: Vec<_> = crls.iter().filter(|c| c.get("skipped").is_some()).collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["file"], text(&dir.join("notes.txt")));
    assert_eq!(skipped[0]["issuer"], serde_json::Value::Null);

    // No CRL of the set covers another CA's server: its status is unknown, which passes.
    let unrelated = serve(&other.server(&["localhost", "127.0.0.1"]), None);
    let other_ca = setup.dir.write("other-ca.pem", &other.pem());
    let output = setup.connect(unrelated, &["--ca", text(&other_ca), "--crl", text(&dir)]);
    assert_eq!(output.status.code(), Some(0));
    let said = stdout(&output);
    assert!(
        said.contains("CRLs           2 CRLs revoking 3 certificates, 1 file skipped"),
        "{said}"
    );
    assert!(said.contains("skipped "), "{said}");
}

#[test]
fn unusable_crl_paths_are_bad_arguments() {
    let setup = Revoking::new("crl-connect-bad");
    let missing = setup.dir.join("missing.crl");
    let output = setup.connect(setup.good, &["--crl", text(&missing), "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "argument");
    let message = error["message"].as_str().expect("message");
    assert!(
        message.starts_with(&format!("--crl {}: cannot read CRLs", missing.display())),
        "{message}"
    );
    assert!(error["hint"].is_string() && error["caused_by"].is_array());

    // A certificate is not a CRL.
    let output = setup.connect(setup.good, &["--crl", text(&setup.ca_file)]);
    assert_eq!(output.status.code(), Some(2));
    let said = stdout(&output);
    assert!(
        said.contains(&format!(
            "--crl {}: no CRL in it: the file holds no X509 CRL section",
            setup.ca_file.display()
        )),
        "{said}"
    );

    // A CRL cut short.
    let pem = &setup.crl.pem;
    let cut = setup.dir.write("cut.crl", &pem[..pem.len() / 2]);
    let output = setup.connect(setup.good, &["--crl", text(&cut), "--json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        json(&output)["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is cut short"))
    );
}

/// `--crl-from-store`: the CRL is an `X509 CRL` section of the bundle that trusts the CA, under
/// both trusts (Linux: `platform` is webpki over the same store).
#[test]
fn crl_from_store_applies_the_crls_of_the_native_store() {
    let setup = Revoking::new("crl-connect-store");
    let bundle = setup.dir.write(
        "bundle.pem",
        &[setup.ca.pem(), setup.crl.pem.clone()].concat(),
    );
    let connect = |addr: SocketAddr, extra: &[&str]| {
        run(probe(&bundle)
            .args(["connect", &addr.to_string(), "--crl-from-store", "--json"])
            .args(extra))
    };
    // Where the operating system verifies `--trust platform` (macOS, Windows), it checks
    // revocation itself and takes no CRLs: asking for them there is a bad argument.
    let os_verifies = cfg!(any(target_vendor = "apple", windows));
    if os_verifies {
        let output = connect(setup.revoked, &["--trust", "platform"]);
        assert_eq!(output.status.code(), Some(2));
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(said.contains("checks revocation itself"), "{said}");
    }
    let trusts: &[&str] = if os_verifies {
        &["native"]
    } else {
        &["native", "platform"]
    };
    for &trust in trusts {
        let output = connect(setup.revoked, &["--trust", trust]);
        assert_eq!(output.status.code(), Some(1), "{trust}");
        let report = json(&output);
        assert_eq!(report["error"]["kind"], "revoked", "{trust}");
        assert_eq!(report["error"]["revoked"]["serial"], "2A");
        assert_eq!(report["crls"][0]["file"], text(&bundle));

        let output = connect(setup.good, &["--trust", trust]);
        assert_eq!(output.status.code(), Some(0), "{trust}");
    }

    // Without them, the revoked server verifies: revocation is opt-in.
    let output = run(probe(&bundle).args(["connect", &setup.revoked.to_string()]));
    assert_eq!(output.status.code(), Some(0));

    // A store that cannot be read: its CRLs cannot be either (3, the store's exit code).
    let missing = setup.dir.join("missing.pem");
    let output = run(probe(&missing)
        .args(["connect", &setup.good.to_string(), "--json", "--ca"])
        .arg(&setup.ca_file)
        .arg("--crl-from-store"));
    assert_eq!(output.status.code(), Some(3));
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "trust_store");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("--crl-from-store: cannot read CRLs")),
        "{error}"
    );
}
