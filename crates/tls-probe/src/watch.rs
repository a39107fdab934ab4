//! `tls-probe watch`: the store loaded at start, then one line per published change, with the
//! anchors added and removed. Runs until a signal ends the process (the default disposition of
//! SIGINT and SIGTERM; nothing here needs to be cleaned up).

mod poll;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use native_roots_cache::{RootsCache, native_roots};
use serde::Serialize;

use crate::cli::WatchArgs;
use crate::date;
use crate::output::{self, count};
use crate::status::Status;

/// One line of output.
#[derive(Debug, Serialize)]
struct Line {
    /// `loaded` for the first line, `changed` after.
    event: &'static str,
    /// When the line was printed, RFC 3339.
    time: String,
    generation: u64,
    /// The number of anchors now published.
    anchors: usize,
    /// Where they came from.
    origin: Option<String>,
    /// Why the store is not usable, on a first line whose load failed.
    error: Option<String>,
    added: Vec<AnchorName>,
    removed: Vec<AnchorName>,
}

#[derive(Clone, Debug, Serialize)]
struct AnchorName {
    subject: Option<String>,
    sha256: String,
}

/// The published anchors by SHA-256.
type Anchors = BTreeMap<String, Option<String>>;

pub(crate) fn run(args: &WatchArgs) -> Status {
    let interval = Duration::from_secs(args.interval);
    let failed = native_roots().err();
    if let Some(err) = &failed {
        eprintln!(
            "tls-probe: warning: the trust store failed to load; watching for a reload that \
             succeeds: {}",
            crate::output::explained(err, Some(err.advice()))
        );
    }
    let error = failed.map(|err| err.to_string());
    let mut known = published_anchors();
    let first = line("loaded", &known, Vec::new(), Vec::new(), error);
    if emit(&first, args.json).is_err() {
        return current_status();
    }
    loop {
        match poll::next_change(interval) {
            Ok(_) => {
                let now = published_anchors();
                let added = difference(&now, &known);
                let removed = difference(&known, &now);
                known = now;
                if emit(&line("changed", &known, added, removed, None), args.json).is_err() {
                    // Whoever read our output has gone.
                    return current_status();
                }
            }
            Err(err) => eprintln!(
                "tls-probe: warning: reloading the trust store failed; keeping the last good \
                 store (generation {}): {}",
                RootsCache::global().generation(),
                crate::output::explained(&err, Some(err.advice()))
            ),
        }
    }
}

fn current_status() -> Status {
    if native_roots().is_ok() {
        Status::Ok
    } else {
        Status::TrustStore
    }
}

/// The anchors of the store now published (none while the published outcome is an error).
fn published_anchors() -> Anchors {
    if native_roots().is_err() {
        return Anchors::new();
    }
    RootsCache::global()
        .report()
        .map(|report| {
            report
                .anchor_certificates
                .iter()
                .map(|cert| (cert.sha256_hex(), cert.subject()))
                .collect()
        })
        .unwrap_or_default()
}

/// The anchors of `a` that `b` lacks.
fn difference(a: &Anchors, b: &Anchors) -> Vec<AnchorName> {
    a.iter()
        .filter(|(sha256, _)| !b.contains_key(*sha256))
        .map(|(sha256, subject)| AnchorName {
            subject: subject.clone(),
            sha256: sha256.clone(),
        })
        .collect()
}

fn line(
    event: &'static str,
    anchors: &Anchors,
    added: Vec<AnchorName>,
    removed: Vec<AnchorName>,
    error: Option<String>,
) -> Line {
    Line {
        event,
        time: date::rfc3339(SystemTime::now()),
        generation: RootsCache::global().generation(),
        anchors: anchors.len(),
        origin: RootsCache::global()
            .report()
            .map(|report| report.origin.to_string()),
        error,
        added,
        removed,
    }
}

fn emit(line: &Line, json: bool) -> std::io::Result<()> {
    if json {
        output::json_line(line)
    } else {
        output::write(&format!("{line}\n"))
    }
}

/// One line: `TIME generation N: COUNT anchors …`.
impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} generation {}: ", self.time, self.generation)?;
        if let Some(error) = &self.error {
            return write!(f, "the trust store FAILED to load: {error}");
        }
        f.write_str(&count(self.anchors, "anchor"))?;
        if let Some(origin) = &self.origin {
            write!(f, " from {origin}")?;
        }
        if self.event == "loaded" {
            return f.write_str(" (at start)");
        }
        write!(f, " (+{} -{})", self.added.len(), self.removed.len())?;
        for (what, anchors) in [("added", &self.added), ("removed", &self.removed)] {
            for anchor in anchors {
                write!(
                    f,
                    "; {what} {} (sha256 {})",
                    anchor.subject.as_deref().unwrap_or("(subject undecodable)"),
                    anchor.sha256
                )?;
            }
        }
        Ok(())
    }
}
