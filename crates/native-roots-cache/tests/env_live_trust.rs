//! The process-wide store, live: `RootsCache::global().load_async()` loads off the calling thread, and
//! `.start(RootsCache::global())` follows `SSL_CERT_FILE` without a call from the test.
//! Its own binary: the cache is per process; the test runs in a child (`test_pki::alone`), given
//! its environment at its start.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use native_roots_cache::{RootsCache, Watcher, native_roots};

/// Poll `future` once with a waker that records being woken; `Some` if it was ready.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>, waker: &Waker) -> Option<F::Output> {
    match future.poll(&mut Context::from_waker(waker)) {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

struct Flag(std::sync::Mutex<bool>, std::sync::Condvar);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
}

#[test]
fn the_global_store_loads_off_thread_and_follows_its_file() {
    let test = "the_global_store_loads_off_thread_and_follows_its_file";
    if !test_pki::alone(test, |dir| {
        vec![("SSL_CERT_FILE", dir.join("bundle.pem").into())]
    }) {
        return;
    }
    let (a, b) = (test_pki::ca_pem("live a"), test_pki::ca_pem("live b"));
    let bundle = test_pki::write_settled(std::env::var_os("SSL_CERT_FILE").unwrap().into(), &a);

    // The first poll starts the load on another thread and returns at once; the waker fires
    // when the outcome is published.
    let flag = Arc::new(Flag(
        std::sync::Mutex::new(false),
        std::sync::Condvar::new(),
    ));
    let waker = Waker::from(Arc::clone(&flag));
    let mut future = pin!(RootsCache::global().load_async());
    let store = match poll_once(future.as_mut(), &waker) {
        Some(ready) => ready.unwrap(), // the load thread was quicker than this poll
        None => {
            let woken = flag.0.lock().unwrap();
            let (woken, _) = flag
                .1
                .wait_timeout_while(woken, Duration::from_secs(30), |woken| !*woken)
                .unwrap();
            assert!(*woken, "woken by the publish");
            drop(woken);
            poll_once(future.as_mut(), &waker)
                .expect("ready once woken")
                .unwrap()
        }
    };
    assert_eq!(store.len(), 1);
    assert!(Arc::ptr_eq(&store, &native_roots().unwrap()));
    assert_eq!(RootsCache::global().stats().loads, 1);

    let seen = RootsCache::global().generation();
    let watching = Watcher::new()
        .with_poll_interval(Duration::from_millis(10))
        .start(RootsCache::global())
        .unwrap();
    std::fs::write(&bundle, format!("{a}{b}")).unwrap();
    let generation = RootsCache::global()
        .wait_for_generation(seen, Duration::from_secs(30))
        .expect("the watcher published the change");
    assert_eq!(generation, seen + 1);
    assert_eq!(native_roots().unwrap().len(), 2);
    watching.stop();
}
