//! A bundle rewritten in place (`cp`, `cat >`, configuration tools) while the cache reads it: no
//! load or refresh may publish anything but the complete old or the complete new store.
//!
//! The writer truncates the file, then appends one certificate per `write` call, as
//! `update-ca-certificates` builds its bundle: most cuts a reader can meet then fall *between*
//! two certificates, where the PEM itself looks whole, and only the reader's metadata checks can
//! tell the file is being written.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use native_roots_cache::{LoadPolicy, NativeRootsErrorKind, PemFiles, RootsCache, native_roots};
use rustls::RootCertStore;

/// Anchor subjects, sorted: what identifies a store's anchor set here.
fn subjects(store: &RootCertStore) -> Vec<Vec<u8>> {
    let mut subjects: Vec<_> = store
        .roots
        .iter()
        .map(|anchor| anchor.subject.as_ref().to_vec())
        .collect();
    subjects.sort();
    subjects
}

/// Two bundles of distinct CAs (`old_count` and `new_count` of them), as PEM certificates, and
/// the subject sets a store read from each must have.
struct Bundles {
    old: Vec<String>,
    new: Vec<String>,
}

impl Bundles {
    fn new(old_count: usize, new_count: usize) -> Self {
        let ca = |prefix: &str, i| common::ca_pem(&format!("{prefix} CA {i}"));
        Self {
            old: (0..old_count).map(|i| ca("old", i)).collect(),
            new: (0..new_count).map(|i| ca("new", i)).collect(),
        }
    }

    fn subjects_of(certs: &[String]) -> Vec<Vec<u8>> {
        let mut store = RootCertStore::empty();
        for pem in certs {
            let der = rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).unwrap();
            store.add(der).unwrap();
        }
        subjects(&store)
    }
}

/// Rewrite `path` in place, alternating between the two bundles, until `stop`; after each full
/// rewrite, pause for 0 to 39 ms so that readers meet both whole and half-written files.
fn rewrite_in_place(path: PathBuf, bundles: Arc<Bundles>, stop: Arc<AtomicBool>) -> usize {
    let mut rewrites = 0;
    while !stop.load(Ordering::Relaxed) {
        let certs = if rewrites % 2 == 0 {
            &bundles.new
        } else {
            &bundles.old
        };
        let mut file = std::fs::File::create(&path).unwrap(); // truncates the same inode
        for cert in certs {
            file.write_all(cert.as_bytes()).unwrap();
        }
        drop(file);
        rewrites += 1;
        // Varies the pause without a random-number crate: 0, 13, 26, 39, 12, ... ms.
        thread::sleep(Duration::from_millis((rewrites as u64 * 13) % 40));
    }
    rewrites
}

fn write_settled(path: &Path, certs: &[String]) {
    common::write_settled(path.to_owned(), certs.concat());
}

#[test]
fn refreshes_during_in_place_rewrites_publish_only_whole_stores() {
    let dir = common::scratch_dir("torn-refresh");
    let bundle = dir.join("bundle.pem");
    let bundles = Arc::new(Bundles::new(40, 60));
    let (old, new) = (
        Bundles::subjects_of(&bundles.old),
        Bundles::subjects_of(&bundles.new),
    );
    write_settled(&bundle, &bundles.old);

    // Short backoffs and a deadline shorter than the writer window keep the test quick: a torn
    // read is then retried rather than waited out (which `writers` tests), and the reader's
    // checks do not depend on either.
    let policy = LoadPolicy::DEFAULT
        .with_backoff(Duration::from_millis(1), Duration::from_millis(4))
        .with_deadline(Duration::from_secs(1));
    let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle)).with_policy(policy);
    assert_eq!(subjects(&cache.native_roots().unwrap()), old);

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (bundle, bundles, stop) = (bundle.clone(), Arc::clone(&bundles), Arc::clone(&stop));
        thread::spawn(move || rewrite_in_place(bundle, bundles, stop))
    };
    let (mut published, mut refused, mut other) = (0, 0, 0);
    for _ in 0..300 {
        match cache.refresh() {
            Ok(refresh) => {
                let got = subjects(&refresh.roots);
                assert!(
                    got == old || got == new,
                    "a refresh published a partial store of {} anchors (old has {}, new {})",
                    got.len(),
                    old.len(),
                    new.len()
                );
                published += 1;
            }
            // A failed refresh publishes nothing (the store in use is checked below). Almost
            // always it is a torn read given up on; a writer starved for over 2 s between
            // truncating and writing leaves an empty or cut file past the writer window, which
            // a refresh refuses as an incomplete file since the store in use has anchors from it.
            Err(err) => {
                assert!(
                    err.to_string().contains(&bundle.display().to_string()),
                    "{err}"
                );
                match err.kind() {
                    NativeRootsErrorKind::TransientExhausted => refused += 1,
                    NativeRootsErrorKind::IncompleteFile => other += 1,
                    kind => panic!("unexpected {kind:?}: {err}"),
                }
            }
        }
        // Whatever the refresh did, readers see a whole store.
        let current = subjects(&cache.native_roots().unwrap());
        assert!(current == old || current == new);
    }
    stop.store(true, Ordering::Relaxed);
    let rewrites = writer.join().unwrap();
    println!(
        "{rewrites} rewrites; {published} refreshes published a whole store, {refused} were \
         refused as torn, {other} found a file a starved writer had left incomplete"
    );
    assert!(
        rewrites > 10,
        "the writer really rewrote the bundle meanwhile"
    );
}

/// In a child process only (when `TORN_CHILD` is set): its first `native_roots()` while the parent
/// rewrites its `SSL_CERT_FILE`, printed as `ok <count>` or `err <kind>`.
#[test]
fn first_load_child() {
    if std::env::var_os("TORN_CHILD").is_none() {
        return;
    }
    match native_roots() {
        Ok(store) => println!("ok {}", store.len()),
        Err(err) => println!("err {:?}", err.kind()),
    }
}

#[test]
fn first_loads_during_in_place_rewrites_cache_only_whole_stores() {
    let dir = common::scratch_dir("torn-first");
    let bundle = dir.join("bundle.pem");
    let bundles = Arc::new(Bundles::new(40, 60));
    write_settled(&bundle, &bundles.old);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (bundle, bundles, stop) = (bundle.clone(), Arc::clone(&bundles), Arc::clone(&stop));
        thread::spawn(move || rewrite_in_place(bundle, bundles, stop))
    };
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        let child = common::spawn_runner(
            "torn_reads::first_load_child",
            &[
                ("SSL_CERT_FILE", bundle.as_os_str()),
                ("TORN_CHILD", "1".as_ref()),
            ],
            false,
        );
        let run = common::wait_bounded(child, Duration::from_secs(60)).unwrap();
        assert!(run.status.success(), "{}", run.stderr);
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("ok ") || l.starts_with("err "))
            .unwrap_or_default()
            .to_owned();
        outcomes.push(line);
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    for outcome in &outcomes {
        // A whole old or new store, or a refusal that names the torn file: never a partial store
        // and never "no anchors" cached for the life of the process.
        assert!(
            ["ok 40", "ok 60", "err TransientExhausted"].contains(&outcome.as_str()),
            "a first load cached {outcome:?}; all: {outcomes:?}"
        );
    }
}
