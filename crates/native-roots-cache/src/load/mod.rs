//! **Layer 2, one load from first attempt to verdict**: the decision table (this file), the
//! policy that bounds it, the report and the error it ends in, the anchors' constraints, and the
//! bounded job that runs it on a thread of its own. It uses `source/` only.
//!
//! One load of the trust store, from first attempt to verdict: the decision table of the crate
//! docs. Pure apart from the injected source and sleep, so every row is unit-tested.

pub(crate) mod advice;
pub(crate) mod bounded_job;
pub(crate) mod constraints;
pub(crate) mod error;
pub(crate) mod heal;
pub(crate) mod policy;
pub(crate) mod report;
pub(crate) mod run;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use crate::load::constraints::non_ca_subject;
use crate::load::error::NativeRootsError;
use crate::load::policy::{LoadPolicy, Sleeper, jitter_seed};
use crate::load::report::{LoadReport, NotedCertificate};
use crate::source::certificate::ReportedCertificate;
use crate::source::signature::SourceSignature;
use crate::source::{IncompleteFile, SourceError, TrustOrigin, TrustSource};

/// The verdict of one load and the report that explains it.
pub(crate) struct Loaded {
    pub(crate) roots: Result<Arc<RootCertStore>, NativeRootsError>,
    pub(crate) report: LoadReport,
    /// The signature of what was read: the source's own, or taken just before the read while a
    /// watcher runs.
    pub(crate) signature: Option<SourceSignature>,
    /// Files the last attempt found cut short or empty.
    pub(crate) incomplete: Vec<IncompleteFile>,
}

/// Run attempts until one has no transient error, or until neither waiting for the files being
/// written to settle nor the policy's retries can help any more.
///
/// A torn read (a file being written) is waited out, not retried blindly: the next attempt starts
/// once every torn file has been quiet for its writer window, measured from its mtime, for as
/// long as the policy's deadline allows. Those waits do not use up the policy's attempts, which
/// are for the other transient errors (macOS `errSecIO`, no descriptor left, ...).
///
/// `settle_for` bounds the waits for torn files: the policy's deadline for a first load, which has
/// nothing to serve meanwhile, its reload wait when a good store is in use (the caller is better
/// served at once by an error naming the file, and the store in use stays).
///
/// No wait or backoff of this function ever runs past the policy's deadline: a wait that one more
/// read would carry past it is not taken, and the load is judged as it stands. So a load of ours
/// is never left running past its deadline by its own sleep (which would keep the next load from
/// starting), only by a read that blocks.
///
/// `attempts` is shared with the waiting caller so that a deadline error can say how far it got.
pub(crate) fn load<S: TrustSource>(
    source: &S,
    sleep: &Sleeper,
    policy: &LoadPolicy,
    origin: TrustOrigin,
    attempts: &AtomicU32,
    settle_for: Duration,
) -> Loaded {
    let started = Instant::now();
    let mut report = LoadReport::empty(origin);
    let (mut attempt, mut retries) = (0, 0);
    loop {
        attempt += 1;
        attempts.store(attempt, Ordering::Release);
        let read_started = Instant::now();
        let output = source.load();
        report.attempts = attempt;
        report.certificates = output.certs.len();
        report.errors = output.errors;

        let transient = report.errors.iter().filter(|e| e.is_transient()).count();
        if transient > 0 {
            let one_read = read_started.elapsed();
            let budget = Budget {
                started,
                one_read,
                settle_for,
                deadline: policy.deadline(),
            };
            match settle_wait(&report.errors) {
                Some(wait) if budget.allows_settling(wait) => {
                    let what = format!("attempt {attempt} met a file being written");
                    log_retry(&report.errors, transient, &what, wait);
                    sleep.sleep(wait);
                    continue;
                }
                // Every transient error is a torn read, and waiting longer is not allowed: the
                // backoff retries are for the other transient errors.
                Some(_) => {}
                None => {
                    let pause = policy.backoff(retries + 1, jitter_seed());
                    if retries + 1 < policy.max_attempts() && budget.allows(pause) {
                        retries += 1;
                        let what = format!(
                            "attempt {attempt} met a transient error (retry {retries} of {})",
                            policy.max_attempts() - 1
                        );
                        log_retry(&report.errors, transient, &what, pause);
                        sleep.sleep(pause);
                        continue;
                    }
                }
            }
        }

        let built = build_store(output.certs, policy.drop_non_ca_anchors());
        report.anchors = built.store.roots.len();
        report.anchor_certificates = built.anchors;
        report.skipped = built.skipped;
        report.non_ca_anchors = built.non_ca;
        report.elapsed = started.elapsed();
        let roots = judge(built.store, &report, transient, policy);
        if roots.is_ok() {
            log_loaded(&report);
        }
        return Loaded {
            roots,
            report,
            signature: output.signature,
            incomplete: output.incomplete,
        };
    }
}

/// How much waiting one load may still do: the one place that decides whether a pause is taken.
struct Budget {
    started: Instant,
    /// How long the last read took: the next one is assumed to take as long.
    one_read: Duration,
    /// How long torn files may be waited for, from the load's start.
    settle_for: Duration,
    deadline: Duration,
}

impl Budget {
    /// Whether a pause of `wait`, then one more read, ends before the deadline.
    fn allows(&self, wait: Duration) -> bool {
        self.started.elapsed() + wait + self.one_read.saturating_mul(2) < self.deadline
    }

    /// Whether waiting `wait` more for torn files stays within both the settle bound and the
    /// deadline.
    fn allows_settling(&self, wait: Duration) -> bool {
        self.started.elapsed() + wait <= self.settle_for && self.allows(wait)
    }
}

/// How long to wait before reading again when every transient error is a torn read: until the
/// last torn file settles (at least [`MIN_SETTLE_WAIT`], so that a writer that keeps a file busy
/// is not read in a tight loop). `None` when some transient error is not a torn read.
fn settle_wait(errors: &[SourceError]) -> Option<Duration> {
    let mut last = None;
    for err in errors.iter().filter(|e| e.is_transient()) {
        let settles_at = err.settles_at?;
        last = last.max(Some(settles_at));
    }
    // The clock is read only for torn reads (miri's isolation has no wall clock).
    let wait = last
        .and_then(|at| at.duration_since(SystemTime::now()).ok())
        .unwrap_or(Duration::ZERO)
        .max(MIN_SETTLE_WAIT);
    Some(wait)
}

/// The shortest wait for a torn file to settle.
const MIN_SETTLE_WAIT: Duration = Duration::from_millis(5);

/// One log line for a retry, naming the first transient error and how many there were (a
/// directory being filled can hold thousands of torn files).
fn log_retry(errors: &[SourceError], transient: usize, what: &str, pause: Duration) {
    let Some(first) = errors.iter().find(|e| e.is_transient()) else {
        return;
    };
    let more = match transient {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    log::warn!("trust store: {what}, reading again in {pause:.0?}: {first}{more}");
}

/// What parsing a source's certificates into anchors produced.
struct Built {
    store: RootCertStore,
    anchors: Vec<ReportedCertificate>,
    skipped: Vec<NotedCertificate>,
    non_ca: Vec<NotedCertificate>,
}

/// Parse certificates into anchors one by one, so that each rejected one is recorded with its
/// reason instead of only being counted, and each that says it is not a CA is named (and dropped
/// when the policy says so).
fn build_store(certs: Vec<ReportedCertificate>, drop_non_ca: bool) -> Built {
    let mut built = Built {
        store: RootCertStore::empty(),
        anchors: Vec::with_capacity(certs.len()),
        skipped: Vec::new(),
        non_ca: Vec::new(),
    };
    for (index, certificate) in certs.into_iter().enumerate() {
        let not_a_ca = non_ca_subject(certificate.der.as_ref());
        if let (Some(subject), true) = (&not_a_ca, drop_non_ca) {
            let reason =
                format!("{subject} is not a CA (basicConstraints CA:FALSE); dropped by policy");
            built
                .skipped
                .push(NotedCertificate::new(index, certificate, reason));
            continue;
        }
        let (added, _) = built
            .store
            .add_parsable_certificates([CertificateDer::from(certificate.der.as_ref())]);
        if added == 0 {
            let reason = rejection_reason(&certificate.der);
            built
                .skipped
                .push(NotedCertificate::new(index, certificate, reason));
            continue;
        }
        if not_a_ca.is_some() {
            let reason = "trusted as an anchor, but it says it is not a CA (basicConstraints \
                          CA:FALSE)";
            built.non_ca.push(NotedCertificate::new(
                index,
                certificate.clone(),
                reason.to_owned(),
            ));
        }
        built.anchors.push(certificate);
    }
    built
}

/// Why webpki will not take `der` as a trust anchor, in words.
fn rejection_reason(der: &CertificateDer<'_>) -> String {
    /// The largest certificate webpki reads: its outer SEQUENCE has a two-byte length.
    const WEBPKI_MAX_DER: usize = 0xFFFF;
    match webpki::anchor_from_trusted_cert(der) {
        Err(webpki::Error::TrailingData(webpki::DerTypeId::SignedData))
            if der.as_ref().len() > WEBPKI_MAX_DER =>
        {
            format!(
                "the certificate is {} bytes of DER, more than the {WEBPKI_MAX_DER} bytes webpki \
                 (and so rustls) reads for one certificate",
                der.as_ref().len()
            )
        }
        Err(webpki::Error::TrailingData(webpki::DerTypeId::SignedData)) => {
            "not a parsable X.509 certificate: its DER is cut short or has bytes after it \
             (TrailingData(SignedData))"
                .to_owned()
        }
        Err(err) => format!("not a parsable X.509 certificate ({err})"),
        Ok(_) => "rejected by rustls".to_owned(),
    }
}

/// The decision table: which outcomes are fatal.
fn judge(
    store: RootCertStore,
    report: &LoadReport,
    transient: usize,
    policy: &LoadPolicy,
) -> Result<Arc<RootCertStore>, NativeRootsError> {
    let (attempts, origin) = (report.attempts, &report.origin);
    if let Some(last) = report.errors.iter().rev().find(|e| e.is_transient()) {
        return Err(NativeRootsError::transient_exhausted(
            origin,
            attempts,
            transient,
            last,
            report.anchors,
        ));
    }
    if policy.strict() && (!report.errors.is_empty() || !report.skipped.is_empty()) {
        return Err(NativeRootsError::strict(
            origin,
            attempts,
            report.anchors,
            &report.errors,
            &report.skipped,
        ));
    }
    if report.anchors == 0 {
        return Err(NativeRootsError::no_anchors(
            origin,
            attempts,
            report.certificates,
            report.skipped.len(),
            &report.errors,
        ));
    }
    Ok(Arc::new(store))
}

/// The log lines of a load that succeeded: what it skipped, and what it loaded. (A failure is
/// logged once by the cache, where it is handled.)
fn log_loaded(report: &LoadReport) {
    for err in &report.errors {
        match err.advice() {
            Some(advice) => log::warn!("trust store: skipped a source: {err}; {advice}"),
            None => log::warn!("trust store: skipped a source: {err}"),
        }
    }
    for skipped in &report.skipped {
        log::warn!("trust store: skipped {skipped}");
    }
    for anchor in &report.non_ca_anchors {
        log::warn!("trust store: {anchor}");
    }
    log::info!("trust store loaded: {report}");
}
