//! Live trust with real files: a watcher follows the ways trust files really change under a
//! running process (`update-ca-certificates`, a Kubernetes ConfigMap's `..data` swap, an editor
//! writing in place), each picked up without a call from the test; the subscriptions, blocking
//! and async; and the faults that must not cost the store in use.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{self, Fake};
use native_roots_cache::{
    ChangeCheck, LoadPolicy, NativeRootsErrorKind, PemFiles, RootsCache, SourceOutput,
    SourceSignature, TrustOrigin, TrustSource, Watcher,
};
use rustls::RootCertStore;

/// How long a test waits for what must come: a bound against a hang, not a timing.
const PATIENCE: Duration = Duration::from_secs(30);
/// Poll fast in tests; the debounce still needs two looks.
const FAST: Watcher = Watcher::new().with_poll_interval(Duration::from_millis(10));

fn subjects(store: &RootCertStore) -> Vec<Vec<u8>> {
    let mut subjects: Vec<_> = store.roots.iter().map(|a| a.subject.to_vec()).collect();
    subjects.sort();
    subjects
}

fn subjects_of(pems: &[&str]) -> Vec<Vec<u8>> {
    let mut store = RootCertStore::empty();
    for pem in pems {
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).unwrap();
        store.add(der).unwrap();
    }
    subjects(&store)
}

/// Wait for the watcher to publish generations newer than `seen` until the store holds exactly
/// `expected` (a writer that takes several steps may be seen half-way, as a whole store of the
/// files as they were then); return the generation that did.
fn wait_for_store<S: TrustSource>(cache: &RootsCache<S>, seen: u64, expected: &[Vec<u8>]) -> u64 {
    let started = Instant::now();
    let mut seen = seen;
    loop {
        let left = PATIENCE.saturating_sub(started.elapsed());
        let generation = cache
            .wait_for_generation(seen, left)
            .expect("the watcher published the change");
        assert!(generation > seen);
        if subjects(&cache.native_roots().unwrap()) == expected {
            return generation;
        }
        seen = generation;
    }
}

/// Poll a future to completion on this thread with std's `Waker` alone (no runtime).
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let started = Instant::now();
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        assert!(started.elapsed() < PATIENCE, "the future never resolved");
        thread::park_timeout(Duration::from_millis(100));
    }
}

#[cfg(unix)]
fn symlink(target: impl AsRef<std::path::Path>, link: impl AsRef<std::path::Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// `update-ca-certificates`: the bundle is built as `ca-certificates.crt.new` inside the
/// directory, the per-CA links are replaced, then the new bundle is renamed over the old one.
#[cfg(unix)]
#[test]
fn an_update_ca_certificates_run_is_picked_up() {
    let root = common::scratch_dir("live-update-ca");
    let dir = root.join("certs");
    std::fs::create_dir(&dir).unwrap();
    let store = root.join("share");
    std::fs::create_dir(&store).unwrap();
    let (a, b, c) = (
        common::ca_pem("CA a"),
        common::ca_pem("CA b"),
        common::ca_pem("CA c"),
    );
    for (name, pem) in [("a.crt", &a), ("b.crt", &b), ("c.crt", &c)] {
        common::write_settled(store.join(name), pem);
    }
    symlink(store.join("a.crt"), dir.join("a.pem"));
    symlink(store.join("b.crt"), dir.join("b.pem"));
    let bundle = common::write_settled(dir.join("ca-certificates.crt"), format!("{a}{b}"));

    let cache = Arc::new(RootsCache::with_source(
        PemFiles::new().with_file(&bundle).with_dir(&dir),
    ));
    assert_eq!(
        subjects(&cache.native_roots().unwrap()),
        subjects_of(&[&a, &b])
    );
    let seen = cache.generation();
    let watching = FAST.start(Arc::clone(&cache)).unwrap();

    // Remove CA a, add CA c.
    let new = dir.join("ca-certificates.crt.new");
    std::fs::write(&new, &b).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&new)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(c.as_bytes())
        })
        .unwrap();
    std::fs::remove_file(dir.join("a.pem")).unwrap();
    symlink(store.join("c.crt"), dir.join("c.pem"));
    std::fs::rename(&new, &bundle).unwrap();

    wait_for_store(&cache, seen, &subjects_of(&[&b, &c]));
    assert!(watching.is_running());
    watching.stop();
}

/// A Kubernetes ConfigMap volume: `ca.crt -> ..data/ca.crt`, and the kubelet swaps `..data` to a
/// new timestamped directory in one rename. The link `ca.crt` itself never changes.
#[cfg(unix)]
#[test]
fn a_configmap_data_swap_is_picked_up() {
    let mount = common::scratch_dir("live-configmap");
    let (old_ca, new_ca) = (
        common::ca_pem("ConfigMap CA 1"),
        common::ca_pem("ConfigMap CA 2"),
    );
    let v1 = mount.join("..2026_11_29_04_00_00.000000001");
    std::fs::create_dir(&v1).unwrap();
    common::write_settled(v1.join("ca.crt"), &old_ca);
    symlink(v1.file_name().unwrap(), mount.join("..data"));
    symlink("..data/ca.crt", mount.join("ca.crt"));

    let cache = Arc::new(RootsCache::with_source(
        PemFiles::new().with_file(mount.join("ca.crt")),
    ));
    assert_eq!(
        subjects(&cache.native_roots().unwrap()),
        subjects_of(&[&old_ca])
    );
    let seen = cache.generation();
    let watching = FAST.start(Arc::clone(&cache)).unwrap();

    // The kubelet's atomic writer.
    let v2 = mount.join("..2026_11_29_04_01_00.000000002");
    std::fs::create_dir(&v2).unwrap();
    common::write_settled(v2.join("ca.crt"), &new_ca);
    symlink(v2.file_name().unwrap(), mount.join("..data_tmp"));
    std::fs::rename(mount.join("..data_tmp"), mount.join("..data")).unwrap();
    std::fs::remove_dir_all(&v1).unwrap();

    // One rename: the only change there is to see.
    assert_eq!(
        wait_for_store(&cache, seen, &subjects_of(&[&new_ca])),
        seen + 1
    );
    drop(watching);
}

/// An editor or `cat >` writing the bundle in place: same inode, new content.
#[test]
fn an_in_place_write_is_picked_up_whole() {
    let dir = common::scratch_dir("live-in-place");
    let (a, b) = (common::ca_pem("in-place a"), common::ca_pem("in-place b"));
    let bundle = common::write_settled(dir.join("bundle.pem"), &a);
    let cache = Arc::new(RootsCache::with_source(PemFiles::new().with_file(&bundle)));
    cache.native_roots().unwrap();
    let seen = cache.generation();
    let _watching = FAST.start(Arc::clone(&cache)).unwrap();
    std::fs::write(&bundle, format!("{a}{b}")).unwrap();
    wait_for_store(&cache, seen, &subjects_of(&[&a, &b]));
}

/// `check_for_changes` for callers with their own scheduler: unchanged files cost nothing; a
/// change is read only once it held across two checks; the report names what changed.
#[test]
fn checks_debounce_and_report_the_anchors_added_and_removed() {
    let dir = common::scratch_dir("live-check");
    let (a, b) = (common::ca_pem("check a"), common::ca_pem("check b"));
    let bundle = common::write_settled(dir.join("bundle.pem"), &a);
    let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle));
    // A store loaded before anyone watched recorded the signature of what it read: checks that
    // start later find it unchanged and read nothing again.
    let early = RootsCache::with_source(PemFiles::new().with_file(&bundle));
    early.native_roots().unwrap();
    for _ in 0..3 {
        assert!(matches!(early.check_for_changes(), ChangeCheck::Unchanged));
    }
    assert_eq!((early.generation(), early.stats().loads), (1, 1));

    // The first check loads, taking the signature with it: nothing to do after that.
    assert!(matches!(cache.check_for_changes(), ChangeCheck::Unchanged));
    assert!(matches!(cache.check_for_changes(), ChangeCheck::Unchanged));
    assert_eq!(cache.stats().loads, 1);
    let loads = cache.stats().loads;

    common::write_settled(bundle.clone(), &b);
    assert!(matches!(cache.check_for_changes(), ChangeCheck::Pending));
    assert_eq!(
        cache.stats().loads,
        loads,
        "a change is not read at first sight"
    );
    let ChangeCheck::Reloaded(refresh) = cache.check_for_changes() else {
        panic!("the change held: it is read")
    };
    assert!(refresh.changed);
    assert_eq!(refresh.generation, 2);
    assert_eq!(refresh.added.len(), 1);
    assert_eq!(refresh.removed.len(), 1);
    assert!(refresh.added[0].subject().unwrap().contains("check b"));
    assert!(refresh.removed[0].subject().unwrap().contains("check a"));
    assert!(matches!(cache.check_for_changes(), ChangeCheck::Unchanged));
}

/// The future of the next generation and of the first load, on std's `Waker` alone.
#[test]
fn futures_resolve_on_publish_without_a_runtime() {
    let dir = common::scratch_dir("live-futures");
    let (a, b) = (common::ca_pem("future a"), common::ca_pem("future b"));
    let bundle = common::write_settled(dir.join("bundle.pem"), &a);
    let cache = Arc::new(RootsCache::with_source(PemFiles::new().with_file(&bundle)));
    // Nothing loaded yet: the watcher's thread does the first load, the future waits for it.
    let watching = FAST.start(Arc::clone(&cache)).unwrap();
    let first = block_on(cache.loaded()).unwrap();
    assert_eq!(subjects(&first), subjects_of(&[&a]));

    let seen = cache.generation();
    let writer = {
        let bundle = bundle.clone();
        let pem = format!("{a}{b}");
        thread::spawn(move || std::fs::write(bundle, pem).unwrap())
    };
    let generation = block_on(cache.next_generation(seen));
    assert_eq!(generation, seen + 1);
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    writer.join().unwrap();
    watching.stop();
}

/// Deleted, replaced by garbage, or its symlink left dangling during a swap: each failed reload
/// keeps the store in use, and a fixed file is picked up again.
#[cfg(unix)]
#[test]
fn broken_files_never_cost_the_store_in_use() {
    let dir = common::scratch_dir("live-faults");
    let (a, b) = (common::ca_pem("fault a"), common::ca_pem("fault b"));
    let target = common::write_settled(dir.join("v1.pem"), &a);
    let link = dir.join("bundle.pem");
    symlink(&target, &link);
    let cache = RootsCache::with_source(PemFiles::new().with_file(&link))
        .with_policy(LoadPolicy::DEFAULT.with_backoff(Duration::ZERO, Duration::ZERO));
    let good = cache.native_roots().unwrap();
    let settle_into = |cache: &RootsCache<PemFiles>| {
        // Two looks at the same files: the second one reads them.
        for _ in 0..3 {
            if let check @ (ChangeCheck::Reloaded(_) | ChangeCheck::Failed(_)) =
                cache.check_for_changes()
            {
                return check;
            }
        }
        ChangeCheck::Unchanged
    };
    settle_into(&cache); // learn the signature

    // The symlink's target missing, as mid-swap.
    std::fs::remove_file(&target).unwrap();
    let ChangeCheck::Failed(err) = settle_into(&cache) else {
        panic!("a dangling bundle link fails the reload")
    };
    assert!(err.to_string().contains("bundle.pem"), "{err}");
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &good));
    assert!(
        matches!(cache.check_for_changes(), ChangeCheck::Unchanged),
        "not retried"
    );

    // Garbage in its place.
    common::write_settled(target.clone(), "this is not PEM\n");
    assert!(matches!(settle_into(&cache), ChangeCheck::Failed(_)));
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &good));

    // Deleted link.
    std::fs::remove_file(&link).unwrap();
    assert!(matches!(settle_into(&cache), ChangeCheck::Failed(_)));
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &good));

    // Fixed.
    common::write_settled(target.clone(), format!("{a}{b}"));
    symlink(&target, &link);
    let ChangeCheck::Reloaded(refresh) = settle_into(&cache) else {
        panic!("the fixed file is read")
    };
    assert!(refresh.changed);
    assert_eq!(cache.native_roots().unwrap().len(), 2);
}

/// A source whose signature panics: the watcher dies loudly, the cache keeps serving.
#[test]
fn a_panicking_watcher_stops_and_the_cache_keeps_serving() {
    #[derive(Clone)]
    struct PanicsOnLook(Fake, Arc<AtomicBool>);
    impl TrustSource for PanicsOnLook {
        fn load(&self) -> SourceOutput {
            self.0.load()
        }
        fn origin(&self) -> TrustOrigin {
            self.0.origin()
        }
        fn signature(&self) -> Option<SourceSignature> {
            assert!(!self.1.load(Ordering::SeqCst), "the file system exploded");
            Some(SourceSignature::default())
        }
    }
    let armed = Arc::new(AtomicBool::new(false));
    let source = PanicsOnLook(
        Fake::new(|_| SourceOutput::new(vec![common::root(0)], vec![])),
        Arc::clone(&armed),
    );
    let cache = Arc::new(RootsCache::with_source(source));
    let store = cache.native_roots().unwrap();
    let watching = FAST.start(Arc::clone(&cache)).unwrap();
    armed.store(true, Ordering::SeqCst);
    let started = Instant::now();
    while watching.is_running() {
        assert!(started.elapsed() < PATIENCE, "the watcher stopped");
        thread::sleep(Duration::from_millis(5));
    }
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &store));
}

/// A source that blocks: the reload meets the deadline; the store in use stays, and so does the
/// watcher.
#[test]
fn a_blocking_source_meets_the_deadline_and_keeps_the_store() {
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let blocked = std::sync::Mutex::new(blocked);
    let fake = Fake::new(move |n| {
        if n > 1 {
            let _ = blocked.lock().unwrap().recv();
        }
        SourceOutput::new(vec![common::root(0)], vec![])
    });
    let cache = RootsCache::with_source(fake)
        .with_policy(LoadPolicy::DEFAULT.with_deadline(Duration::from_millis(50)));
    let store = cache.native_roots().unwrap();
    // No signature: every check reloads.
    let ChangeCheck::Failed(err) = cache.check_for_changes() else {
        panic!("the blocked reload fails")
    };
    assert_eq!(err.kind(), NativeRootsErrorKind::Deadline);
    assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &store));
    release.send(()).unwrap();
}

/// A reload that keeps failing (a store without a signature, read in full at each poll, as the
/// macOS keychains are) is logged once at `warn` while it repeats, then once at `info` when a
/// reload succeeds again, with the count of failed polls; every poll still hands its outcome to
/// the caller of `Watcher::start_with`.
#[test]
fn a_failing_reload_is_reported_once_and_so_is_its_recovery() {
    const FAILED_POLLS: u32 = 20;
    common::logs::install();
    let cause = "streak test: the keychain's trust settings are corrupted";
    let source = Fake::new(move |n| match n {
        1 => SourceOutput::new(vec![common::root(0)], Vec::new()),
        n if n <= 1 + FAILED_POLLS => SourceOutput::new(
            Vec::<rustls::pki_types::CertificateDer<'static>>::new(),
            vec![native_roots_cache::SourceError::permanent(
                "reading the keychain",
                cause,
            )],
        ),
        _ => SourceOutput::new(vec![common::root(0), common::root(1)], Vec::new()),
    });
    let cache = Arc::new(RootsCache::with_source(source.clone()));
    cache.native_roots().unwrap();
    let (polls, seen) = std::sync::mpsc::channel();
    let watching = Watcher::new()
        .with_reload_interval(Duration::from_millis(5))
        .start_with(Arc::clone(&cache), move |check| {
            let _ = polls.send(check);
        })
        .unwrap();
    let mut failed = 0;
    loop {
        match seen.recv_timeout(PATIENCE).expect("the watcher polls") {
            ChangeCheck::Failed(err) => {
                assert_eq!(err.kind(), NativeRootsErrorKind::NoAnchors);
                failed += 1;
            }
            ChangeCheck::Reloaded(refresh) if refresh.changed => break,
            other => panic!("a source without a signature is read at every poll: {other:?}"),
        }
    }
    watching.stop();
    assert_eq!(failed, FAILED_POLLS, "each failed poll reached the caller");
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    let warned = common::logs::lines(log::Level::Warn, cause);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    let recovered = common::logs::lines(
        log::Level::Info,
        &format!("recovered after {FAILED_POLLS} failed polls"),
    );
    assert_eq!(recovered.len(), 1, "{recovered:#?}");
}

/// `check_now` reads a change at the first look (no second look to wait for), and reads nothing
/// when nothing changed.
#[test]
fn check_now_reads_a_change_at_once_and_nothing_otherwise() {
    let dir = common::scratch_dir("check-now");
    let (a, b) = (common::ca_pem("Check Now A"), common::ca_pem("Check Now B"));
    let bundle = dir.write("bundle.pem", &a);
    let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle));
    assert_eq!(cache.native_roots().unwrap().len(), 1);
    let loads = cache.stats().loads;
    for _ in 0..3 {
        assert!(matches!(cache.check_now(), ChangeCheck::Unchanged));
    }
    assert_eq!(cache.stats().loads, loads, "an unchanged store is not read");

    common::replace_file(&bundle, [a.as_str(), b.as_str()].concat());
    match cache.check_now() {
        ChangeCheck::Reloaded(refresh) => assert!(refresh.changed),
        other => panic!("the change is read at the first look: {other:?}"),
    }
    assert_eq!(cache.native_roots().unwrap().len(), 2);
    assert!(matches!(cache.check_now(), ChangeCheck::Unchanged));
}

/// Each poll warns of the anchors in use that entered the expiry window, or expired, since the
/// last one: once per anchor and stage, in one line each; the window is the policy's.
#[test]
fn anchors_about_to_expire_are_warned_of_once() {
    const DAY: Duration = Duration::from_secs(86_400);
    common::logs::install();
    let now = std::time::SystemTime::now();
    let expired = common::Ca::valid_until("Expiry Test Lapsed Root", now - 3 * DAY);
    let soon = common::Ca::valid_until("Expiry Test Closing Root", now + 10 * DAY);
    let later = common::Ca::valid_until("Expiry Test Lasting Root", now + 400 * DAY);
    let dir = common::scratch_dir("expiry");
    let bundle = dir.write(
        "bundle.pem",
        &[expired.pem(), soon.pem(), later.pem()].concat(),
    );
    let lines = |level, needle| common::logs::lines(level, needle).len();

    // A 5-day window: only the lapsed root is news.
    let narrow = RootsCache::with_source(PemFiles::new().with_file(&bundle))
        .with_policy(LoadPolicy::DEFAULT.with_expiry_warning(5 * DAY));
    narrow.check_for_changes();
    assert_eq!(lines(log::Level::Warn, "Expiry Test Lapsed Root"), 1);
    assert_eq!(lines(log::Level::Warn, "Expiry Test Closing Root"), 0);

    // The default 30 days: the closing root too; neither again at the next polls.
    let cache = RootsCache::with_source(PemFiles::new().with_file(&bundle));
    for _ in 0..3 {
        cache.check_for_changes();
    }
    assert_eq!(
        lines(log::Level::Warn, "Expiry Test Lapsed Root"),
        2,
        "one per cache"
    );
    let closing = common::logs::lines(log::Level::Warn, "Expiry Test Closing Root");
    assert_eq!(closing.len(), 1, "{closing:#?}");
    assert!(
        closing[0].contains("expire within 30 days"),
        "{}",
        closing[0]
    );
    assert_eq!(lines(log::Level::Warn, "Expiry Test Lasting Root"), 0);
}
