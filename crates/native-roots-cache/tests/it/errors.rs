//! `NativeRootsError` the rustls way, kind by kind: a one-line lowercase `Display` naming where the
//! load failed, the cause as its `source()` (a `SourceError`), and `advice()` apart, which names
//! `RootsCache::refresh` and never a call wrong for the cache at hand. Roots that are not the
//! system's (a `PemFiles` source, or a custom one) are never called "system" anywhere in the error.

use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use crate::common::{self, Fake};
use native_roots_cache::{
    LoadPolicy, NativeRootsError, NativeRootsErrorKind as Kind, PemFiles, RootsCache, SourceError,
    SourceOutput, TrustOrigin, TrustSource,
};
use rustls::pki_types::CertificateDer;

/// A scripted source reporting the origin the test gives it.
#[derive(Clone)]
struct Labelled {
    script: Fake,
    origin: TrustOrigin,
}

impl TrustSource for Labelled {
    fn load(&self) -> SourceOutput {
        self.script.answer()
    }

    fn origin(&self) -> TrustOrigin {
        self.origin.clone()
    }
}

/// The origins each scripted kind is checked under: a custom source and application PEM files.
fn origins() -> [TrustOrigin; 2] {
    [
        TrustOrigin::Custom("the billing service's trust source".into()),
        TrustOrigin::PemFiles {
            file: Some("/etc/app/ca.pem".into()),
            dirs: vec!["/etc/app/ca.d".into()],
        },
    ]
}

fn cache(origin: &TrustOrigin, script: Fake, policy: LoadPolicy) -> RootsCache<Labelled> {
    let source = Labelled {
        script,
        origin: origin.clone(),
    };
    let policy = policy.with_backoff(Duration::ZERO, Duration::ZERO);
    RootsCache::with_source(source).with_policy(policy)
}

/// The error of the first load of a fresh cache over `script`, reporting `origin`.
fn first_error(
    origin: &TrustOrigin,
    policy: LoadPolicy,
    script: impl Fn(u32) -> SourceOutput + Send + Sync + 'static,
) -> NativeRootsError {
    let cache = cache(origin, Fake::new(script), policy);
    cache.native_roots().unwrap_err()
}

/// No certificate, these errors.
fn only(errors: Vec<SourceError>) -> SourceOutput {
    SourceOutput::new(Vec::<CertificateDer<'static>>::new(), errors)
}

fn transient() -> SourceError {
    SourceError::transient(
        "reading the keychain",
        "errSecIO (-36): the keychain was busy",
    )
}

fn missing() -> SourceError {
    SourceError::permanent("failed to read PEM from file", "No such file or directory")
        .with_path("/etc/app/ca.pem")
}

/// Asserts the shape every `NativeRootsError` has, with `cause` (a fragment of its source's text,
/// or `None` for no source), and returns the error's whole text (line, causes and advice).
fn assert_shape(err: &NativeRootsError, origin: &TrustOrigin, cause: Option<&str>) -> String {
    let line = err.to_string();
    assert!(!line.contains('\n'), "one line: {line:?}");
    assert!(
        line.starts_with(|c: char| c.is_lowercase()),
        "starts lowercase: {line:?}"
    );
    assert!(!line.ends_with('.'), "not a sentence: {line:?}");
    assert!(
        line.contains(&origin.to_string()),
        "names {origin}: {line:?}"
    );

    let source = err.source();
    match (source, cause) {
        (Some(source), Some(cause)) => {
            let typed = source.downcast_ref::<SourceError>();
            assert!(typed.is_some(), "the source is a SourceError: {source:?}");
            assert!(source.to_string().contains(cause), "{source} / {cause}");
            assert!(
                source.source().is_none(),
                "the chain ends at the SourceError"
            );
            assert!(
                !line.contains(&source.to_string()),
                "{line:?} repeats its cause"
            );
        }
        (None, None) => {}
        (source, cause) => panic!("{line:?}: source {source:?}, expected {cause:?}"),
    }

    let advice = err.advice();
    assert!(
        !advice.is_empty() && !line.contains(&advice),
        "{line:?} / {advice:?}"
    );
    assert!(!advice.ends_with('.'), "{advice:?}");
    for wrong in ["refresh_native_roots", "native_roots()"] {
        assert!(!advice.contains(wrong), "{advice:?} names {wrong}");
    }
    // A cached error says how it heals: by a refresh of the cache, named for any cache (the two
    // kinds never cached heal by themselves).
    if !matches!(err.kind(), Kind::IncompleteFile | Kind::Reentrant) {
        assert!(advice.contains("RootsCache::refresh"), "{advice:?}");
    }
    let text = format!("{}; {advice}", common::error_chain(err));
    if matches!(
        origin,
        TrustOrigin::PemFiles { .. } | TrustOrigin::Custom(_)
    ) {
        assert!(
            !text.to_lowercase().contains("system"),
            "not the system's roots: {text:?}"
        );
    }
    text
}

/// The kinds a load's outcome decides, each with its cause: the attempts, a fragment of the line
/// and one of the cause for each.
#[test]
fn each_kind_names_its_origin_and_keeps_its_cause() {
    type Case = (
        LoadPolicy,
        fn(u32) -> SourceOutput,
        Kind,
        u32,
        &'static str,
        &'static str,
    );
    let (default, strict) = (LoadPolicy::DEFAULT, LoadPolicy::DEFAULT.with_strict(true));
    let cases: [Case; 4] = [
        // The last attempt's transient error, not the permanent one beside it.
        (
            default,
            |_| only(vec![missing(), transient()]),
            Kind::TransientExhausted,
            3,
            "3 attempts",
            "errSecIO",
        ),
        (
            default,
            |_| only(vec![missing()]),
            Kind::NoAnchors,
            1,
            "1 error",
            "/etc/app/ca.pem",
        ),
        // The skipped certificate is the cause when nothing else was recorded.
        (
            strict,
            |_| SourceOutput::new(vec![common::root(0), common::garbage()], vec![]),
            Kind::Strict,
            1,
            "1 problem",
            "certificate #1",
        ),
        (
            default,
            |_| panic!("the keychain went away"),
            Kind::Panicked,
            1,
            "attempt 1",
            "the keychain went away",
        ),
    ];
    for origin in origins() {
        for (policy, script, kind, attempts, line, cause) in cases {
            let err = first_error(&origin, policy, script);
            assert_eq!((err.kind(), err.attempts()), (kind, attempts), "{err}");
            assert!(err.to_string().contains(line), "{err}");
            let text = assert_shape(&err, &origin, Some(cause));
            assert!(
                !text.contains("SSL_CERT_"),
                "no variable for these roots: {text}"
            );
            // A failure that read files heals when they change, too; a panic read nothing.
            let files = matches!(origin, TrustOrigin::PemFiles { .. }) && kind != Kind::Panicked;
            assert_eq!(err.advice().contains("files change"), files, "{text}");
        }
    }
}

#[test]
fn a_deadline_then_a_stuck_loader_name_where_they_stopped() {
    for origin in origins() {
        let (open, wait) = mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        let script = Fake::new(move |_| {
            let _ = wait.lock().unwrap().recv();
            SourceOutput::new(vec![common::root(0)], vec![])
        });
        let policy = LoadPolicy::DEFAULT.with_deadline(Duration::from_millis(50));
        let cache = cache(&origin, script, policy);
        let err = cache.native_roots().unwrap_err();
        assert_eq!((err.kind(), err.attempts()), (Kind::Deadline, 1));
        assert_shape(&err, &origin, None);
        assert!(err.to_string().contains("50ms"), "{err}");

        let stuck = cache.refresh().unwrap_err();
        assert_eq!(stuck.kind(), Kind::LoaderStuck);
        assert_shape(&stuck, &origin, None);
        drop(open);
    }
}

#[test]
fn a_source_asking_its_own_cache_is_told_so() {
    for origin in origins() {
        let inner: Arc<OnceLock<Result<(), NativeRootsError>>> = Arc::default();
        let cell: Arc<OnceLock<&'static RootsCache<Labelled>>> = Arc::default();
        let script = {
            let (inner, cell) = (Arc::clone(&inner), Arc::clone(&cell));
            Fake::new(move |_| {
                let _ = inner.set(cell.get().unwrap().native_roots().map(drop));
                SourceOutput::new(vec![common::root(0)], vec![])
            })
        };
        let cache: &'static RootsCache<Labelled> =
            Box::leak(Box::new(cache(&origin, script, LoadPolicy::DEFAULT)));
        cell.set(cache).ok().unwrap();
        assert!(cache.native_roots().is_ok());
        let err = inner.get().unwrap().clone().unwrap_err();
        assert_eq!(err.kind(), Kind::Reentrant);
        assert_shape(&err, &origin, None);
    }
}

/// A reload finding the bundle cut short keeps the store in use; the error names the file.
#[test]
fn an_incomplete_file_names_it() {
    let dir = common::scratch_dir("errors-incomplete");
    let pem = common::ca_pem("incomplete CA");
    let bundle: PathBuf = common::write_settled(dir.join("bundle.pem"), &pem);
    let files = PemFiles::new().with_file(&bundle);
    let origin = files.origin();
    let cache = RootsCache::with_source(files);
    assert_eq!(cache.native_roots().unwrap().len(), 1);

    let cut = &pem[..pem.find("-----END").unwrap()];
    common::write_settled(bundle.clone(), cut);
    let err = cache.refresh().unwrap_err();
    assert_eq!(err.kind(), Kind::IncompleteFile);
    assert_shape(&err, &origin, None);
    assert!(
        err.to_string().contains(&bundle.display().to_string()),
        "{err}"
    );
}

/// A reload refused while a good store stays in use says so in its advice, not how a cached
/// error heals (nothing is cached): what to do, then that the store in use stays and when the
/// files are read again.
#[test]
fn a_refused_reload_advises_as_a_reload_not_as_a_cached_failure() {
    let dir = common::scratch_dir("kept-store-advice");
    let bundle = dir.write("bundle.pem", &common::ca_pem("Kept Store Root"));
    let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle));
    let first = cache.native_roots().unwrap();
    common::replace_file(&bundle, "an operator pasted the wrong file\n");
    let err = match cache.check_now() {
        native_roots_cache::ChangeCheck::Failed(err) => err,
        other => panic!("the bad bundle is read at once and refused: {other:?}"),
    };
    assert_eq!(err.kind(), Kind::NoAnchors);
    let advice = err.advice();
    assert!(
        advice.starts_with("point the configuration at a PEM bundle"),
        "what to do comes first: {advice}"
    );
    assert!(
        advice.ends_with(
            "; the store in use stays, and is read again when the files change (a watcher's \
             next poll, RootsCache::check_for_changes) or on RootsCache::refresh"
        ),
        "{advice}"
    );
    assert!(!advice.contains("cached"), "{advice}");
    assert!(Arc::ptr_eq(&first, &cache.native_roots().unwrap()));
}
