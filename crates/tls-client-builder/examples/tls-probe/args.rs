//! Command-line arguments, parsed by hand.

pub(crate) const USAGE: &str = "\
usage: tls-probe [--json]
       tls-probe --connect HOST:PORT [--server-name NAME] [--alpn PROTO]... [--ca FILE]... [--json]

Without --connect: print the system trust-store report, run a reload storm and a handshake
with an in-process loopback server (no network).

  --connect HOST:PORT   verify this server with the system store (plus --ca anchors)
  --server-name NAME    the name to verify (and send as SNI); default: HOST
  --alpn PROTO          offer this ALPN protocol; repeatable, in preference order
  --ca FILE             also trust the certificates in this PEM file; repeatable
  --json                print the same facts as one JSON object";

/// What to do.
pub(crate) enum Mode {
    /// Report, storm and loopback handshake.
    Local,
    /// Verify a real server.
    Connect(Target),
}

/// A server to verify.
pub(crate) struct Target {
    /// `HOST:PORT` as given.
    pub(crate) address: String,
    /// The name verified against the certificate.
    pub(crate) server_name: String,
    pub(crate) alpn: Vec<String>,
    pub(crate) ca_files: Vec<String>,
}

pub(crate) struct Args {
    pub(crate) mode: Mode,
    pub(crate) json: bool,
    pub(crate) help: bool,
}

impl Args {
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let (mut json, mut help) = (false, false);
        let (mut connect, mut server_name) = (None, None);
        let (mut alpn, mut ca_files) = (Vec::new(), Vec::new());
        while let Some(arg) = args.next() {
            let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
            match arg.as_str() {
                "--json" => json = true,
                "-h" | "--help" => help = true,
                "--connect" => connect = Some(value("--connect")?),
                "--server-name" => server_name = Some(value("--server-name")?),
                "--alpn" => alpn.push(value("--alpn")?),
                "--ca" => ca_files.push(value("--ca")?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let mode = match connect {
            Some(address) => {
                let host = host_of(&address)?;
                Mode::Connect(Target {
                    server_name: server_name.unwrap_or_else(|| host.to_owned()),
                    address,
                    alpn,
                    ca_files,
                })
            }
            None if server_name.is_some() || !alpn.is_empty() || !ca_files.is_empty() => {
                return Err("--server-name, --alpn and --ca go with --connect".to_owned())
            }
            None => Mode::Local,
        };
        Ok(Self { mode, json, help })
    }
}

/// The host part of `HOST:PORT` or `[V6]:PORT`.
fn host_of(address: &str) -> Result<&str, String> {
    let bad = || format!("--connect wants HOST:PORT, got `{address}`");
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad());
    }
    Ok(host)
}
