//! What every test needs: the built binary run as a child with its own trust store, and the
//! workspace's test helpers (`test-pki`: temporary files, a test PKI, loopback rustls servers)
//! with the probe's names.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa};
use test_pki::ServerOptions;
pub(crate) use test_pki::{Leaf, ScratchDir, scratch_dir};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tls-probe");

/// A PEM block whose content is not a certificate: base64 of "not a certificate".
pub(crate) const GARBAGE_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

/// `tls-probe` with `SSL_CERT_FILE` set to `bundle` and `SSL_CERT_DIR` removed (this machine sets
/// both), so that the child's trust store is the test's alone.
pub(crate) fn probe(bundle: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("SSL_CERT_FILE", bundle)
        .env_remove("SSL_CERT_DIR");
    command
}

/// Run it; the output, with stdout and stderr printed for a failing assertion to show.
pub(crate) fn run(command: &mut Command) -> Output {
    let output = command.output().expect("tls-probe runs");
    println!("status: {:?}", output.status.code());
    println!("stdout:\n{}", String::from_utf8_lossy(&output.stdout));
    println!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// A CA in the organisation "tls-probe tests", whose subject the probe prints (the workspace's
/// test CA underneath).
pub(crate) struct Ca(test_pki::Ca);

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        Self::with(name, |_| {})
    }

    /// A CA whose validity ended on 2020-01-01.
    pub(crate) fn expired(name: &str) -> Self {
        Self::with(name, |params| {
            params.not_before = rcgen::date_time_ymd(2015, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    fn with(name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Self {
        Self(test_pki::Ca::with(name, |params| {
            params
                .distinguished_name
                .push(DnType::OrganizationName, "tls-probe tests");
            adjust(params);
        }))
    }

    /// The subject as tls-probe prints it: RFC 4514, which lists the last RDN first (rcgen
    /// encodes the CN before the O).
    pub(crate) fn subject(&self, name: &str) -> String {
        format!("O=tls-probe tests,CN={name}")
    }

    /// A server certificate for `names`, valid now.
    pub(crate) fn server(&self, names: &[&str]) -> Leaf {
        self.issue(names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A server certificate for `names` that expired on 2020-01-01.
    pub(crate) fn expired_server(&self, names: &[&str]) -> Leaf {
        self.issue_with(names, ExtendedKeyUsagePurpose::ServerAuth, |params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    /// A client certificate.
    pub(crate) fn client(&self, name: &str) -> Leaf {
        self.issue(&[name], ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// A certificate that says it is not a CA (basicConstraints CA:FALSE), as Debian's
    /// snakeoil certificate does.
    pub(crate) fn not_a_ca(&self, name: &str) -> Leaf {
        self.issue_with(&[name], ExtendedKeyUsagePurpose::ServerAuth, |params| {
            params.is_ca = IsCa::ExplicitNoCa;
        })
    }
}

impl std::ops::Deref for Ca {
    type Target = test_pki::Ca;
    fn deref(&self) -> &test_pki::Ca {
        &self.0
    }
}

/// A TLS server on 127.0.0.1 presenting `leaf`, requiring a client certificate issued by
/// `client_ca` when one is given; it serves every connection until the test process ends.
pub(crate) fn serve(leaf: &Leaf, client_ca: Option<&Ca>) -> SocketAddr {
    let options = ServerOptions {
        client_ca: client_ca.map(|ca| ca.der()),
        ..ServerOptions::default()
    };
    test_pki::spawn_server(leaf, options)
}
