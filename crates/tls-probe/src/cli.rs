//! The command line: every subcommand, option and help text (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rustls::pki_types::ServerName;

/// The exit codes every subcommand can return; the README shows the same block.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  ok
  1  verification or handshake failed
  2  bad arguments (including --ca, --crl, --client-cert or --client-key files that cannot be used)
  3  the trust store failed to load (with --crl-from-store: or its CRLs could not be read)"
    };
}

const MAIN_HELP: &str = concat!(
    "\
Examples:
  tls-probe                                         the trust store, then the selftest
  tls-probe connect upstream.internal:443           why does TLS to this upstream fail?
  tls-probe store --expiring-within 90              which anchors expire this quarter?
  tls-probe connect api.internal:443 --crl crls.d   is its certificate revoked?

Environment:
  SSL_CERT_FILE  a PEM bundle read instead of the platform store
  SSL_CERT_DIR   ':'-separated directories of PEM files read instead of the platform store

",
    exit_codes!()
);

const STORE_HELP: &str = "\
Examples:
  tls-probe store
  tls-probe store --json | jq -r '.anchors[] | .sha256 + \"  \" + .subject'
  SSL_CERT_FILE=/etc/pki/tls/certs/ca-bundle.crt tls-probe store --expiring-within 365
  tls-probe store --json | jq -r '.crls[] | select(.expired) | .file'

The CRLs listed are those the native store holds as OpenSSL finds them (X509 CRL sections in
the bundle, HASH.rN files in the directory): `connect --crl-from-store` applies them.

Exit codes:
  0  ok (skipped certificates, per-file errors and expiring anchors are reported, not fatal)
  2  bad arguments
  3  the trust store failed to load";

const CONNECT_HELP: &str = "\
Examples:
  tls-probe connect example.com:443 --alpn h2 --alpn http/1.1
  tls-probe connect 10.0.0.7:8443 --server-name api.internal --ca internal-ca.pem
  tls-probe connect mtls.internal:443 --client-cert client.pem --client-key client.key --json
  tls-probe connect 10.0.0.7:8443 --ca internal-ca.pem --crl internal-ca.crl --crl crls.d/
  tls-probe connect upstream.internal:443 --crl-from-store

The config is built by tls-client-builder from the system store plus the --ca anchors (the
--ca anchors alone when the system store failed to load), exactly as a daemon using these
crates builds it. With --crl or --crl-from-store it checks revocation as the library's
`Revocation::new` does by default: the whole chain, a certificate no CRL covers passes, a CRL
past its next update still applies. A revoked certificate is named with its serial, its
revocation date and the CRL's reason code.

Exit codes:
  0  the handshake completed and the server's chain verified
  1  verification or handshake failed (the reason is spelled out; a revoked certificate too)
  2  bad arguments (a --ca or --crl path that cannot be read, a --crl file with no CRL)
  3  the trust store failed to load (and no --ca anchor was given), or it failed and the
     handshake succeeded on the --ca anchors alone, or --crl-from-store could not read its CRLs";

const WATCH_HELP: &str = "\
Examples:
  tls-probe watch
  tls-probe watch --interval 60 --json >> trust-store-changes.jsonl
  tls-probe watch --crl /etc/pki/crls.d --crl /etc/pki/extra.crl

Prints the store loaded at start, then one line per published change: the generation, the
anchor count, and the anchors added and removed. A failed reload prints a line too, and the
last good store stays in use. With --crl, the CRLs are followed the same way: a line for the
set read at start, one per changed set (the number of CRLs and of revoked serials) and one per
failed reload (the CRLs in use stay). Runs until interrupted (Ctrl-C, SIGTERM).

Exit codes:
  2  bad arguments (a --crl path that cannot be read at start)";

const SELFTEST_HELP: &str = "\
Examples:
  tls-probe selftest
  tls-probe selftest --json

An in-process server on 127.0.0.1 with a CA made on the spot, trusted as an extra anchor beside
the system store: no network and no files of yours.

Exit codes:
  0  the handshake completed and verified
  1  the handshake failed
  2  bad arguments
  3  the trust store failed to load (the handshake then trusts the loopback CA alone)";

/// Why does TLS to an upstream fail? This machine's trust store, anchor by anchor, and verified
/// handshakes with exactly the rules a rustls daemon built on native-roots-cache and
/// tls-client-builder applies.
#[derive(Debug, Parser)]
#[command(name = "tls-probe", version, after_help = MAIN_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// What to do; with none, `store` then `selftest`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Every trust anchor with its subject, SHA-256 and expiry; skipped, non-CA and expiring
    /// certificates; errors with their paths; the CRLs the store holds.
    #[command(after_help = STORE_HELP)]
    Store(StoreArgs),
    /// Verify a server: protocol, cipher suite, ALPN, its chain, and why it fails if it does
    /// (revoked too, with --crl).
    #[command(after_help = CONNECT_HELP)]
    Connect(ConnectArgs),
    /// Print each published change of the trust store (and of the --crl CRLs) until interrupted.
    #[command(after_help = WATCH_HELP)]
    Watch(WatchArgs),
    /// A handshake with an in-process loopback server: no network, no files.
    #[command(after_help = SELFTEST_HELP)]
    Selftest(SelftestArgs),
}

/// `tls-probe store`.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub(crate) json: bool,
    /// List the anchors that expire within this many days (and those already expired).
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub(crate) expiring_within: u64,
}

impl Default for StoreArgs {
    fn default() -> Self {
        Self {
            json: false,
            expiring_within: 30,
        }
    }
}

/// `tls-probe connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// The server to connect to.
    #[arg(value_name = "HOST:PORT", value_parser = parse_address,
          help = "The server: HOST:PORT, or [IPV6]:PORT")]
    pub(crate) address: Address,
    /// The name to verify the certificate against and send as SNI [default: HOST].
    #[arg(long, value_name = "NAME", value_parser = parse_server_name)]
    pub(crate) server_name: Option<String>,
    /// Offer this ALPN protocol; repeat it to offer several, in preference order.
    #[arg(long, value_name = "PROTOCOL")]
    pub(crate) alpn: Vec<String>,
    /// Also trust the certificates in this PEM file; repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Vec<PathBuf>,
    /// Check revocation against the CRLs in this file (PEM `X509 CRL` sections, or one DER CRL)
    /// or directory of such files; repeatable.
    #[arg(long, value_name = "PATH")]
    pub(crate) crl: Vec<PathBuf>,
    /// Check revocation against the CRLs the native store holds (`X509 CRL` sections in the
    /// bundle, `HASH.rN` files in the directory: what `tls-probe store` lists).
    #[arg(long)]
    pub(crate) crl_from_store: bool,
    /// Authenticate with the certificate chain in this PEM file, leaf first (mTLS).
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<PathBuf>,
    /// The private key of --client-cert, in PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<PathBuf>,
    /// Offer TLS 1.2 only.
    #[arg(long, conflicts_with = "tls13")]
    pub(crate) tls12: bool,
    /// Offer TLS 1.3 only.
    #[arg(long)]
    pub(crate) tls13: bool,
    /// Whose decisions verify the server: `native`, webpki over the store `tls-probe store`
    /// lists (what `Trust::Native` does), or `platform`, the platform verifier's (reqwest 0.13's
    /// default; on macOS, Windows and Android the operating system decides). `native` is the
    /// default because it explains a failure anchor by anchor; on Linux both use the same store.
    #[arg(long, value_enum, default_value_t = TrustMode::Native)]
    pub(crate) trust: TrustMode,
    /// Give up connecting, or waiting for the server, after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `connect --trust`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TrustMode {
    /// webpki over the cached native store (`Trust::Native`).
    Native,
    /// The platform verifier's decisions (`Trust::Platform`).
    Platform,
}

/// `tls-probe watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Look for changes every this many seconds. File stores (SSL_CERT_FILE, SSL_CERT_DIR, the
    /// system CA files on Linux) are compared by metadata and read once a change has held for
    /// two looks; the macOS and Windows stores are read in full at every look.
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) interval: u64,
    /// Follow the CRLs in this file or directory too (as `connect --crl` reads them); repeatable.
    #[arg(long, value_name = "PATH")]
    pub(crate) crl: Vec<PathBuf>,
    /// Print each line as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `tls-probe selftest`.
#[derive(Debug, Args, Default)]
pub(crate) struct SelftestArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A `HOST:PORT` the user gave, split.
#[derive(Clone, Debug)]
pub(crate) struct Address {
    /// As given, for messages.
    pub(crate) text: String,
    /// The host, without the brackets of an IPv6 address.
    pub(crate) host: String,
    pub(crate) port: u16,
}

fn parse_address(text: &str) -> Result<Address, String> {
    let bad = || format!("expected HOST:PORT or [IPV6]:PORT, got `{text}`");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']').ok_or_else(bad)?,
        // An unbracketed IPv6 address would have been split at its last colon.
        None if host.contains(':') => return Err(bad()),
        None => host,
    };
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(Address {
        text: text.to_owned(),
        host: host.to_owned(),
        port,
    })
}

fn parse_server_name(text: &str) -> Result<String, String> {
    ServerName::try_from(text)
        .map(|_| text.to_owned())
        .map_err(|err| format!("`{text}` is not a DNS name or IP address: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn addresses() {
        let v4 = parse_address("127.0.0.1:443").expect("valid");
        assert_eq!((v4.host.as_str(), v4.port), ("127.0.0.1", 443));
        let v6 = parse_address("[::1]:8443").expect("valid");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8443));
        let name = parse_address("example.com:443").expect("valid");
        assert_eq!(name.host, "example.com");
        for bad in [
            "example.com",
            ":443",
            "example.com:0",
            "example.com:x",
            "::1:443",
            "[::1:443",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_help_lists_the_exit_codes_it_can_return() {
        assert!(MAIN_HELP.ends_with(exit_codes!()));
        for help in [STORE_HELP, CONNECT_HELP, WATCH_HELP, SELFTEST_HELP] {
            assert!(help.starts_with("Examples:\n  tls-probe "), "{help}");
            assert!(help.contains("Exit codes:\n"), "{help}");
        }
    }
}
