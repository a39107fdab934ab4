//! `tls-probe connect` against loopback servers: a verified chain, and each failure an operator
//! meets, in words.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;

use crate::common::{Ca, Leaf, ScratchDir, json, probe, run, scratch_dir, serve, stdout};

/// A loopback server with a certificate for `localhost` and 127.0.0.1, and a trust store (the
/// child's `SSL_CERT_FILE`) that holds an unrelated CA, so it loads but does not trust the server.
struct Setup {
    dir: ScratchDir,
    ca: Ca,
    store: PathBuf,
    ca_file: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Self {
        let dir = scratch_dir(name);
        let ca = Ca::new("Loopback Test CA");
        let store = dir.write("store.pem", &Ca::new("Unrelated Root").pem());
        let ca_file = dir.write("ca.pem", &ca.pem());
        Self {
            dir,
            ca,
            store,
            ca_file,
        }
    }

    fn connect(&self, addr: SocketAddr, args: &[&str]) -> Output {
        run(probe(&self.store)
            .args(["connect", &addr.to_string(), "--timeout", "5"])
            .args(args))
    }

    fn ca(&self) -> [&str; 2] {
        ["--ca", self.ca_file.to_str().expect("utf-8 path")]
    }
}

fn localhost(ca: &Ca) -> Leaf {
    ca.server(&["localhost", "127.0.0.1"])
}

#[test]
fn verified_with_an_extra_anchor() {
    let setup = Setup::new("connect-ok");
    let addr = serve(&localhost(&setup.ca), None);
    let output = setup.connect(
        addr,
        &[&setup.ca()[..], &["--server-name", "localhost", "--json"]].concat(),
    );
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["ok"], true);
    assert_eq!(report["server_name"], "localhost");
    assert!(
        report["protocol"]
            .as_str()
            .is_some_and(|p| p.starts_with("TLS 1."))
    );
    assert!(
        report["cipher_suite"]
            .as_str()
            .is_some_and(|s| s.starts_with("TLS"))
    );
    let chain = report["peer_chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0]["subject"], "CN=localhost");
    assert_eq!(
        chain[0]["issuer"],
        setup.ca.subject("Loopback Test CA").as_str()
    );
    assert_eq!(
        chain[0]["names"],
        serde_json::json!(["DNS:localhost", "IP:127.0.0.1"])
    );
    assert_eq!(chain[0]["sha256"].as_str().map(str::len), Some(64));
    assert!(chain[0]["not_after"].is_string());
    // The chain ends at the --ca anchor, named with the file it came from.
    let anchor = report["anchor"].as_array().expect("anchor");
    assert_eq!(anchor.len(), 1, "{anchor:#?}");
    assert_eq!(
        anchor[0]["subject"],
        setup.ca.subject("Loopback Test CA").as_str()
    );
    assert_eq!(
        anchor[0]["location"],
        setup.ca_file.display().to_string().as_str()
    );
    assert!(
        report["trust"]
            .as_str()
            .is_some_and(|t| t.contains("1 extra anchor"))
    );
}

#[test]
fn text_output_says_what_was_negotiated() {
    let setup = Setup::new("connect-text");
    let addr = serve(&localhost(&setup.ca), None);
    let output = setup.connect(
        addr,
        &[&setup.ca()[..], &["--alpn", "h2", "--tls12"]].concat(),
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("{addr} as 127.0.0.1: verified")),
        "{text}"
    );
    assert!(text.contains("protocol       TLS 1.2"));
    assert!(text.contains("peer chain     #0 CN=localhost"));
    assert!(text.contains("names      DNS:localhost, IP:127.0.0.1"));
    assert!(text.contains("anchor         O=tls-probe tests,CN=Loopback Test CA (sha256 "));
}

#[test]
fn unknown_issuer_in_words() {
    let setup = Setup::new("connect-unknown");
    let addr = serve(&localhost(&setup.ca), None);
    let output = setup.connect(addr, &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("FAILED"));
    assert!(text.contains("unknown issuer: the chain the server sent ends at CN=localhost, issued by O=tls-probe tests,CN=Loopback Test CA, which is not a trusted anchor"), "{text}");
    assert!(text.contains("--ca FILE"));
}

#[test]
fn name_mismatch_names_the_names_the_certificate_holds() {
    let setup = Setup::new("connect-name");
    let addr = serve(&localhost(&setup.ca), None);
    let output = setup.connect(
        addr,
        &[
            &setup.ca()[..],
            &["--server-name", "other.example", "--json"],
        ]
        .concat(),
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["error"]["kind"], "name_mismatch");
    let message = report["error"]["message"].as_str().expect("message");
    assert!(message.contains("not valid for other.example"), "{message}");
    assert!(
        message.contains("it holds DNS:localhost, IP:127.0.0.1"),
        "{message}"
    );
}

#[test]
fn expired_says_when() {
    let setup = Setup::new("connect-expired");
    let addr = serve(&setup.ca.expired_server(&["localhost"]), None);
    let output = setup.connect(
        addr,
        &[&setup.ca()[..], &["--server-name", "localhost"]].concat(),
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("expired: the certificate CN=localhost (#0 of the chain) expired on 2020-01-01T00:00:00Z"),
        "{text}"
    );
}

#[test]
fn mtls_with_and_without_a_client_certificate() {
    let setup = Setup::new("connect-mtls");
    let client_ca = Ca::new("Client CA");
    let client = client_ca.client("probe-client");
    let cert = setup.dir.write("client.pem", &client.chain_pem);
    let key = setup.dir.write("client.key", &client.key_pem);
    let addr = serve(&localhost(&setup.ca), Some(&client_ca));

    let with = setup.connect(
        addr,
        &[
            &setup.ca()[..],
            &[
                "--client-cert",
                cert.to_str().expect("utf-8"),
                "--client-key",
            ],
            &[key.to_str().expect("utf-8"), "--json"],
        ]
        .concat(),
    );
    assert_eq!(with.status.code(), Some(0));
    let report = json(&with);
    assert_eq!(report["client_certificate_requested"], true);
    assert_eq!(report["client_certificate_sent"], true);

    let without = setup.connect(addr, &[&setup.ca()[..], &["--json"]].concat());
    assert_eq!(without.status.code(), Some(1));
    let report = json(&without);
    assert_eq!(report["error"]["kind"], "client_certificate_required");
    assert!(
        report["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--client-cert FILE --client-key FILE"))
    );

    // TLS 1.2: the server's verdict comes inside the handshake.
    let tls12 = setup.connect(addr, &[&setup.ca()[..], &["--tls12", "--json"]].concat());
    assert_eq!(tls12.status.code(), Some(1));
    assert_eq!(json(&tls12)["error"]["kind"], "client_certificate_required");
}

#[test]
fn nothing_listening_is_a_failed_connection() {
    let setup = Setup::new("connect-refused");
    // Bind and drop: the port is (almost certainly) closed for the moment of the test.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let output = setup.connect(addr, &["--json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["error"]["kind"], "connect");
}

#[test]
fn unusable_files_are_bad_arguments() {
    let setup = Setup::new("connect-bad-files");
    let addr: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let missing = setup.dir.write("x", "").with_file_name("missing.pem");
    let output = setup.connect(addr, &["--ca", missing.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("cannot read --ca"));
    let not_pem = setup.dir.write("not.pem", "hello");
    let output = setup.connect(addr, &["--ca", not_pem.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    // The builder's one-line error, then its advice on a line of its own.
    let text = stdout(&output);
    let why = format!(
        "  why            --ca {}: bad PEM in `extra_anchors_pem`: no certificate found\n",
        not_pem.display()
    );
    assert!(text.contains(&why), "{text}");
    assert!(
        text.contains("\n  hint           pass PEM text with at least one"),
        "{text}"
    );
    let output = setup.connect(addr, &["--ca", not_pem.to_str().expect("utf-8"), "--json"]);
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "argument");
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains("BEGIN CERTIFICATE"))
    );
    assert!(
        error.get("caused_by").is_none(),
        "a PEM error has no source"
    );
}

#[test]
fn a_failed_store_still_verifies_on_the_ca_anchors_and_exits_3() {
    let setup = Setup::new("connect-no-store");
    let addr = serve(&localhost(&setup.ca), None);
    let missing = setup.store.with_file_name("missing.pem");
    let connect = |extra: &[&str]| {
        run(probe(&missing)
            .args(["connect", &addr.to_string(), "--json"])
            .args(extra))
    };

    let output = connect(&setup.ca());
    assert_eq!(output.status.code(), Some(3), "the store failed");
    let report = json(&output);
    assert_eq!(
        report["ok"], true,
        "the handshake verified on the --ca anchor"
    );
    assert!(
        report["trust"]
            .as_str()
            .is_some_and(|t| t.starts_with("extra anchors only"))
    );
    let store_error = &report["trust_store_error"];
    assert_eq!(store_error["kind"], "trust_store", "{store_error}");
    assert!(store_error["message"].is_string() && store_error["hint"].is_string());

    let output = connect(&[]);
    assert_eq!(output.status.code(), Some(3), "nothing to verify against");
    assert_eq!(json(&output)["error"]["kind"], "trust_store");
}

/// `--trust platform`: the platform verifier's decisions, served from the cached store here
/// (Linux); the server's CA in the store verifies, an unrelated one does not, as with `native`.
#[test]
fn trust_platform_verifies_as_the_platform_verifier() {
    let setup = Setup::new("connect-platform");
    let addr = serve(&localhost(&setup.ca), None);
    let trusting = setup.dir.write("trusting.pem", &setup.ca.pem());
    let connect = |store: &PathBuf, trust: &str| {
        json(&run(probe(store).args([
            "connect",
            &addr.to_string(),
            "--json",
            "--trust",
            trust,
        ])))
    };
    let platform = connect(&trusting, "platform");
    assert_eq!(platform["ok"], true, "{platform}");
    let trust = platform["trust"].as_str().expect("trust");
    assert!(trust.contains("platform verifier"), "{trust}");
    let native = connect(&trusting, "native");
    assert_eq!(native["ok"], true, "{native}");
    assert!(
        native["trust"]
            .as_str()
            .is_some_and(|t| t.starts_with("system store"))
    );

    let refused = connect(&setup.store, "platform");
    assert_eq!(refused["ok"], false);
    assert_eq!(refused["error"]["kind"], "unknown_issuer", "{refused}");
}
