//! `tls-probe watch`: the store loaded at start, then one line per published change, with the
//! anchors added and removed, and one per failed reload; with `--crl`, the same for the CRLs
//! (their count and the serials they revoke). The library's own watchers poll the process-wide
//! store and the CRLs (`Watcher::start_with`) and hand each outcome here. Runs until a signal
//! ends the process (the default disposition of SIGINT and SIGTERM; nothing here needs to be
//! cleaned up).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use native_roots_cache::{ChangeCheck, NativeRootsError, RootsCache, Watcher, native_roots};
use serde::Serialize;
use tls_client_builder::{CrlCheck, CrlError, Crls};

use crate::cli::WatchArgs;
use crate::connection::ErrorView;
use crate::crl::{self, Summary};
use crate::date;
use crate::output::{self, count};
use crate::status::Status;

/// One line of output.
#[derive(Debug, Serialize)]
struct Line {
    /// `loaded` for the first line, `changed` for a published change, `failed` for a failed
    /// reload.
    event: &'static str,
    /// `trust_store`: what the line is about (a `--crl` line says `crls`).
    source: &'static str,
    /// When the line was printed, RFC 3339.
    time: String,
    generation: u64,
    /// The number of anchors now published (in use).
    anchors: usize,
    /// Where they came from.
    origin: Option<String>,
    /// Whether a store is in use: false until one has loaded.
    store_in_use: bool,
    /// Why the load (on a `loaded` line) or the reload (on a `failed` line) failed.
    error: Option<Failure>,
    added: Vec<AnchorName>,
    removed: Vec<AnchorName>,
    /// The store's counters and gauges at this line (`RootsCache::stats`).
    counters: Counters,
}

/// `RootsStats`, as JSON: what the process-wide store has done since the watch started.
#[derive(Debug, Serialize)]
struct Counters {
    /// Reads of the trust store.
    loads: u64,
    /// New anchor sets published after the first.
    changes: u64,
    /// Failed loads, by reason.
    rejected: Rejected,
    /// When the store in use was published, RFC 3339.
    last_change: Option<String>,
    /// Expired anchors in the store in use.
    expired_anchors: usize,
    /// The earliest end among the anchors not yet expired, RFC 3339.
    next_expiry: Option<String>,
}

#[derive(Debug, Serialize)]
struct Rejected {
    incomplete_file: u64,
    no_anchors: u64,
    transient: u64,
    deadline: u64,
    permanent: u64,
}

impl Counters {
    fn now() -> Self {
        let stats = RootsCache::global().stats();
        Self {
            loads: stats.loads,
            changes: stats.changes,
            rejected: Rejected {
                incomplete_file: stats.rejected_incomplete_file,
                no_anchors: stats.rejected_no_anchors,
                transient: stats.rejected_transient,
                deadline: stats.rejected_deadline,
                permanent: stats.rejected_permanent,
            },
            last_change: stats.last_change.map(date::rfc3339),
            expired_anchors: stats.expired_anchors,
            next_expiry: stats.next_expiry.map(date::rfc3339),
        }
    }
}

/// A failed load or reload, as the library says it.
#[derive(Debug, Serialize)]
struct Failure {
    /// The error's kind (`NoAnchors`, `IncompleteFile`, `TransientExhausted`, …).
    kind: String,
    /// Its one-line `Display`.
    message: String,
    /// The causes under it, outermost first.
    caused_by: Vec<String>,
    /// What an operator can do.
    hint: String,
}

impl Failure {
    fn of(err: &NativeRootsError) -> Self {
        Self {
            kind: format!("{:?}", err.kind()),
            message: err.to_string(),
            caused_by: output::causes(err),
            hint: err.advice().to_owned(),
        }
    }

    fn of_crls(err: &CrlError) -> Self {
        let kind = match err {
            CrlError::Read { .. } => "Read",
            CrlError::CutShort { .. } => "CutShort",
            CrlError::Unfinished { .. } => "Unfinished",
            _ => "Other",
        };
        Self {
            kind: kind.to_owned(),
            message: err.to_string(),
            caused_by: output::causes(err),
            hint: err.advice().to_owned(),
        }
    }
}

/// One line about the `--crl` CRLs.
#[derive(Debug, Serialize)]
struct CrlLine {
    /// `loaded` for the set read at start, `changed` for a changed set in use, `failed` for a
    /// failed reload.
    event: &'static str,
    /// `crls`: what the line is about (the store's lines say `trust_store`).
    source: &'static str,
    /// When the line was printed, RFC 3339.
    time: String,
    /// The CRL set's: 1 for the set read at start, advanced by each change.
    generation: u64,
    /// CRLs in use, the serials they revoke (summed), and the files that gave none.
    #[serde(flatten)]
    summary: Summary,
    /// CRLs in use past their next update (still applied).
    expired: usize,
    /// The earliest next update among them, RFC 3339: when a fresher CRL is due.
    next_update: Option<String>,
    /// Reloads refused so far, the last good set kept.
    rejected_reloads: u64,
    /// Where they are read from.
    origin: String,
    /// Why the reload failed (on a `failed` line); the CRLs in use stay.
    error: Option<Failure>,
    /// The set in use before a change, for the text.
    #[serde(skip)]
    was: Option<Summary>,
}

impl CrlLine {
    fn new(
        event: &'static str,
        crls: &Crls,
        was: Option<Summary>,
        error: Option<&CrlError>,
    ) -> Self {
        let stats = crls.stats();
        Self {
            event,
            source: "crls",
            time: date::rfc3339(SystemTime::now()),
            generation: stats.generation,
            summary: Summary::from(&stats),
            expired: stats.expired,
            next_update: stats.next_update.map(date::rfc3339),
            rejected_reloads: stats.rejected_reloads,
            origin: crls.source().to_string(),
            error: error.map(Failure::of_crls),
            was,
        }
    }
}

/// A poll of one of the watched values that the output tells of.
enum Event {
    Store(ChangeCheck),
    Crls(CrlCheck),
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
    let crls = match crl::load(&args.crl, false) {
        Ok(crls) => crls,
        Err(unusable) => {
            let error = ErrorView::unusable_crls(&unusable);
            eprintln!("tls-probe: error: {}", error.explained());
            return unusable.status();
        }
    };
    let failed = native_roots().err();
    let mut known = published_anchors();
    let first = line("loaded", &known, Vec::new(), Vec::new(), failed.as_ref());
    if emit(&first, args.json).is_err() {
        return current_status();
    }
    let mut crls_in_use = None;
    if let Some(crls) = &crls {
        let start = CrlLine::new("loaded", crls, None, None);
        crls_in_use = Some(start.summary);
        if emit(&start, args.json).is_err() {
            return current_status();
        }
    }
    let (events, received) = mpsc::channel();
    // Every look, file store or not, at the interval asked for.
    let watcher = || {
        Watcher::new()
            .with_poll_interval(interval)
            .with_reload_interval(interval)
    };
    let store_events = events.clone();
    let store = watcher().start_with(RootsCache::global(), move |check| {
        if matches!(check, ChangeCheck::Reloaded(_) | ChangeCheck::Failed(_)) {
            let _ = store_events.send(Event::Store(check));
        }
    });
    let followed = crls.clone().map(|crls| {
        watcher().start_with(crls, move |check| {
            if matches!(check, CrlCheck::Reloaded | CrlCheck::Failed(_)) {
                let _ = events.send(Event::Crls(check));
            }
        })
    });
    let _watching = match (store, followed.transpose()) {
        (Ok(store), Ok(crls)) => (store, crls),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("tls-probe: error: cannot start the watcher thread: {err}");
            return Status::Failed;
        }
    };
    for event in received {
        let written = match (event, &crls) {
            (Event::Store(ChangeCheck::Reloaded(refresh)), _) if refresh.changed => {
                let now = published_anchors();
                let added = difference(&now, &known);
                let removed = difference(&known, &now);
                known = now;
                emit(&line("changed", &known, added, removed, None), args.json)
            }
            (Event::Store(ChangeCheck::Failed(err)), _) => emit(
                &line("failed", &known, Vec::new(), Vec::new(), Some(&err)),
                args.json,
            ),
            (Event::Crls(CrlCheck::Reloaded), Some(crls)) => {
                let line = CrlLine::new("changed", crls, crls_in_use, None);
                crls_in_use = Some(line.summary);
                emit(&line, args.json)
            }
            (Event::Crls(CrlCheck::Failed(err)), Some(crls)) => {
                emit(&CrlLine::new("failed", crls, None, Some(&err)), args.json)
            }
            _ => continue,
        };
        if written.is_err() {
            // Whoever read our output has gone.
            break;
        }
    }
    current_status()
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
    error: Option<&NativeRootsError>,
) -> Line {
    Line {
        event,
        source: "trust_store",
        time: date::rfc3339(SystemTime::now()),
        generation: RootsCache::global().generation(),
        anchors: anchors.len(),
        origin: RootsCache::global()
            .report()
            .map(|report| report.origin.to_string()),
        store_in_use: native_roots().is_ok(),
        error: error.map(Failure::of),
        added,
        removed,
        counters: Counters::now(),
    }
}

fn emit(line: &(impl Serialize + fmt::Display), json: bool) -> std::io::Result<()> {
    if json {
        output::json_line(line)
    } else {
        output::write(&format!("{line}\n"))
    }
}

/// One line: `TIME generation N: COUNT anchors …`; a failure's causes and hint on lines of
/// their own under it.
impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} generation {}: ", self.time, self.generation)?;
        if let Some(error) = &self.error {
            match (self.event, self.store_in_use) {
                ("loaded", _) => f.write_str(
                    "the trust store FAILED to load; watching for a load that succeeds",
                )?,
                (_, true) => write!(
                    f,
                    "reloading FAILED; keeping the store in use ({})",
                    count(self.anchors, "anchor")
                )?,
                (_, false) => f.write_str("reloading FAILED; no trust store has loaded yet")?,
            }
            let message = format!("{} ({})", error.message, error.kind);
            let explained = output::explained_lines(&message, &error.caused_by, Some(&error.hint));
            return write!(f, ": {explained}");
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

/// One line: `TIME CRLs generation N: COUNT CRLs revoking COUNT certificates from …`; a
/// failure's causes and hint on lines of their own under it.
impl fmt::Display for CrlLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} CRLs generation {}: ", self.time, self.generation)?;
        if let Some(error) = &self.error {
            write!(
                f,
                "reloading FAILED; keeping the CRLs in use ({})",
                self.summary
            )?;
            let message = format!("{} ({})", error.message, error.kind);
            let explained = output::explained_lines(&message, &error.caused_by, Some(&error.hint));
            return write!(f, ": {explained}");
        }
        write!(f, "{} from {}", self.summary, self.origin)?;
        if self.expired > 0 {
            write!(f, ", {} past its next update", count(self.expired, "CRL"))?;
        }
        match (self.event, &self.was) {
            ("loaded", _) => f.write_str(" (at start)"),
            (_, Some(was)) => write!(f, " (was {was})"),
            (_, None) => Ok(()),
        }
    }
}
