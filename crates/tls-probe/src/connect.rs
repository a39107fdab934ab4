//! `tls-probe connect HOST:PORT`: verify a server with the config a daemon using these crates
//! would build for it, and say why it fails if it does.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, SystemTime};

use native_roots_cache::{CertificateLocation, ReportedCertificate};
use rustls::pki_types::{CertificateDer, ServerName};
use tls_client_builder::{ClientConfigCache, Revocation, TlsVersions, Trust, UpstreamTls};

use crate::cli::{Address, ConnectArgs, TrustMode};
use crate::connection::{ConnectionReport, ErrorView};
use crate::crl::{self, CrlFacts};
use crate::handshake::handshake;
use crate::output;
use crate::status::Status;
use crate::trust::system_trust;

pub(crate) fn run(args: &ConnectArgs) -> Status {
    let server_name = args
        .server_name
        .clone()
        .unwrap_or_else(|| args.address.host.clone());
    let (status, report) = connect(
        args,
        ConnectionReport::new(&args.address.text, &server_name),
    );
    if args.json {
        output::json(&report);
    } else {
        output::text(&report);
    }
    status
}

fn connect(args: &ConnectArgs, mut report: ConnectionReport) -> (Status, ConnectionReport) {
    let system = system_trust();
    let (mut trust, store_status, mut anchors) = (system.trust, system.status, system.anchors);
    if args.trust == TrustMode::Platform {
        trust = Trust::Platform;
    }
    report.trust_store_error = system.error;
    let versions = match (args.tls12, args.tls13) {
        (true, _) => TlsVersions::Tls12Only,
        (_, true) => TlsVersions::Tls13Only,
        _ => TlsVersions::Tls12And13,
    };
    let mut upstream = UpstreamTls::builder(trust)
        .alpn(&args.alpn)
        .versions(versions);
    for path in &args.ca {
        match read_anchors(path) {
            Ok(certs) => {
                for der in certs {
                    let location = CertificateLocation::File(path.clone());
                    anchors.push(ReportedCertificate::new(der.clone(), location));
                    upstream = upstream.extra_anchor_der(der);
                }
            }
            Err(error) => return (Status::BadArguments, report.failed_with(error)),
        }
    }
    // Read before the store's state is judged: an unusable --crl is a bad argument either way.
    let crls = match crl::load(&args.crl, args.crl_from_store) {
        Ok(crls) => crls,
        Err(unusable) => {
            let error = ErrorView::unusable_crls(&unusable);
            return (unusable.status(), report.failed_with(error));
        }
    };
    if let Some(crls) = &crls {
        report.crls = CrlFacts::all(crls, SystemTime::now());
        upstream = upstream.revocation(Revocation::new(crls.clone()));
    }
    // Where the operating system verifies, the platform verifier does not need the store.
    let needs_store = args.trust == TrustMode::Native || Trust::Platform.uses_native();
    if store_status == Status::TrustStore && args.ca.is_empty() && needs_store {
        let message = "the system trust store failed to load and no --ca anchor was given, so \
                       there is nothing to verify against"
            .to_owned();
        return (Status::TrustStore, report.failed("trust_store", message));
    }
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        let pair =
            read(cert, "--client-cert").and_then(|chain| Ok((chain, read(key, "--client-key")?)));
        let (chain, key_pem) = match pair {
            Ok(pair) => pair,
            Err(message) => return (Status::BadArguments, report.failed("argument", message)),
        };
        match upstream.client_identity_pem(chain, key_pem) {
            Ok(with_identity) => upstream = with_identity,
            Err(err) => {
                let context = format!(
                    "--client-cert {} / --client-key {}",
                    cert.display(),
                    key.display()
                );
                let error = ErrorView::build_error("argument", Some(context), &err);
                return (Status::BadArguments, report.failed_with(error));
            }
        }
    }

    let cache = ClientConfigCache::new();
    let built = match cache.get_built(&upstream.build()) {
        Ok(built) => built,
        Err(err) => {
            let status = match err.native_roots_error() {
                Some(_) => Status::TrustStore,
                None => Status::BadArguments,
            };
            let error = ErrorView::build_error("config", None, &err);
            return (status, report.failed_with(error));
        }
    };
    report.trust = Some(built.provenance().to_string());

    let Ok(server_name) = ServerName::try_from(report.server_name.clone()) else {
        let message = format!("`{}` is not a DNS name or IP address", report.server_name);
        return (Status::BadArguments, report.failed("argument", message));
    };
    let timeout = Duration::from_secs(args.timeout);
    let mut tcp = match dial(&args.address, timeout) {
        Ok(tcp) => tcp,
        Err((kind, message)) => return (Status::Failed, report.failed(kind, message)),
    };
    let attempt = handshake(&built, &mut tcp, server_name);
    let report = report.handshake(&attempt, &anchors, crls.as_ref());
    let status = if report.ok {
        store_status
    } else {
        Status::Failed
    };
    (status, report)
}

/// The certificates of a --ca file, read with the same PEM rules as the builder's.
fn read_anchors(path: &Path) -> Result<Vec<CertificateDer<'static>>, ErrorView> {
    let pem = read(path, "--ca").map_err(|message| ErrorView::new("argument", message))?;
    let parsed = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem(pem)
        .map_err(|err| {
            let context = format!("--ca {}", path.display());
            ErrorView::build_error("argument", Some(context), &err)
        })?
        .build();
    Ok(parsed.extra_anchors().to_vec())
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|err| format!("cannot read {flag} {}: {err}", path.display()))
}

/// Connect to the first address of `address` that answers.
fn dial(address: &Address, timeout: Duration) -> Result<TcpStream, (&'static str, String)> {
    let addrs = (address.host.as_str(), address.port)
        .to_socket_addrs()
        .map_err(|err| ("resolve", format!("cannot resolve {}: {err}", address.host)))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(timeout))
                    .and_then(|()| tcp.set_write_timeout(Some(timeout)))
                    .map_err(|err| ("connect", format!("socket setup for {addr}: {err}")))?;
                return Ok(tcp);
            }
            Err(err) => last = Some(format!("cannot connect to {addr}: {err}")),
        }
    }
    let message = last.unwrap_or_else(|| format!("{} resolved to no address", address.host));
    Err(("connect", message))
}
