//! The cache's state machine under loom: every interleaving (to a preemption bound) of threads
//! racing the first load and a refresh. `RUSTFLAGS="--cfg loom" cargo test -p native-roots-cache
//! --lib --release loom`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::SourceOutput;
use crate::test_support::{Fake, root};

/// Call `n` of the source yields `n` anchors, so every load publishes a different set.
fn growing() -> Fake {
    Fake::new(|n| SourceOutput::new((0..n.min(3) as usize).map(root), vec![]))
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

#[test]
fn loom_two_first_callers_and_a_refresh() {
    model(|| {
        let fake = growing();
        let cache = loom::sync::Arc::new(RootsCache::with_source(fake.clone()));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let cache = loom::sync::Arc::clone(&cache);
                loom::thread::spawn(move || {
                    let first = cache.native_roots().unwrap();
                    let generation = cache.generation();
                    let second = cache.native_roots().unwrap();
                    (first.len(), generation, second.len())
                })
            })
            .collect();
        let refresh = cache.refresh().unwrap();
        let seen: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();

        // The refresh always reads; a first caller reads only if it got the lock first.
        let loads = cache.loads();
        assert!(loads == 1 || loads == 2, "{loads} loads");
        assert_eq!(u64::from(fake.calls()), loads);
        // Nothing is published after the refresh: the refresh's store is the final one.
        assert!(Arc::ptr_eq(&cache.native_roots().unwrap(), &refresh.roots));
        assert_eq!(cache.generation(), loads);
        assert_eq!(refresh.roots.len() as u64, loads);
        for (first, generation, second) in seen {
            // Reads move forward only, and a generation is never ahead of the store read after it.
            assert!(
                first <= second,
                "went back from {first} to {second} anchors"
            );
            assert!(generation <= second as u64);
        }
    });
}

#[test]
fn loom_a_cached_error_is_sticky_under_races() {
    model(|| {
        let fake = Fake::new(|_| SourceOutput::default());
        let cache = loom::sync::Arc::new(RootsCache::with_source(fake.clone()));
        let other = {
            let cache = loom::sync::Arc::clone(&cache);
            loom::thread::spawn(move || cache.native_roots().unwrap_err())
        };
        let mine = cache.native_roots().unwrap_err();
        assert_eq!(
            other.join().unwrap(),
            mine,
            "both callers see the one cached error"
        );
        assert_eq!(fake.calls(), 1);
        assert_eq!(cache.generation(), 0);
    });
}
