//! `destination::commit_in_order`: stages on threads, commits in index order, stops at the
//! first failure and drops what was staged behind it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use conduit_connector::destination::commit_in_order;

/// A staged value that counts itself when dropped without being committed.
struct Token<'a> {
    index: usize,
    committed: bool,
    dropped: &'a AtomicUsize,
}

impl Drop for Token<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Waits (without timing) until `counter` reaches `at_least`.
fn wait_for(counter: &AtomicUsize, at_least: usize) {
    while counter.load(Ordering::SeqCst) < at_least {
        std::thread::yield_now();
    }
}

#[test]
fn commits_every_index_in_order_even_when_later_stages_finish_first() {
    for threads in [1, 2, 4, 8] {
        let staged = AtomicUsize::new(0);
        let mut committed = Vec::new();
        let result = commit_in_order(
            200,
            threads,
            |_, i| {
                // Index 0 finishes last of the first few: later ones are staged ahead of it.
                if i == 0 && threads > 1 {
                    wait_for(&staged, 3);
                }
                staged.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(i * 10)
            },
            |i, value| {
                assert_eq!(value, i * 10);
                committed.push(i);
                Ok(())
            },
        );
        assert_eq!(result, Ok(()));
        assert_eq!(committed, (0..200).collect::<Vec<_>>(), "{threads} threads");
    }
}

#[test]
fn a_stage_failure_commits_exactly_the_front_and_drops_what_was_staged_behind_it() {
    let (staged, dropped, above) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
    let mut committed = Vec::new();
    let result = commit_in_order(
        100,
        4,
        |_, i| {
            if i == 10 {
                // Fail only once other threads have staged values behind this index.
                wait_for(&above, 3);
                return Err(format!("stage {i} failed"));
            }
            if i > 10 {
                above.fetch_add(1, Ordering::SeqCst);
            }
            staged.fetch_add(1, Ordering::SeqCst);
            Ok(Token { index: i, committed: false, dropped: &dropped })
        },
        |i, mut token| {
            assert_eq!(token.index, i);
            token.committed = true;
            committed.push(i);
            Ok(())
        },
    );
    assert_eq!(result, Err((10, "stage 10 failed".to_owned())));
    assert_eq!(committed, (0..10).collect::<Vec<_>>());
    let dropped = dropped.load(Ordering::SeqCst);
    assert!(dropped >= 3, "values staged behind the failure: {dropped}");
    assert_eq!(staged.load(Ordering::SeqCst), 10 + dropped, "every staged value is committed or dropped by return");
}

#[test]
fn a_commit_failure_stops_likewise() {
    let (staged, dropped) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut committed = Vec::new();
    let result = commit_in_order(
        100,
        3,
        |_, i| {
            staged.fetch_add(1, Ordering::SeqCst);
            Ok(Token { index: i, committed: false, dropped: &dropped })
        },
        |i, mut token| {
            if i == 42 {
                return Err("commit 42 failed");
            }
            token.committed = true;
            committed.push(token.index);
            Ok(())
        },
    );
    assert_eq!(result, Err((42, "commit 42 failed")));
    assert_eq!(committed, (0..42).collect::<Vec<_>>());
    let dropped = dropped.load(Ordering::SeqCst);
    assert!(dropped >= 1, "the value whose commit failed is dropped uncommitted");
    assert_eq!(staged.load(Ordering::SeqCst), 42 + dropped);
}

#[test]
fn no_stage_starts_behind_a_failure_once_it_is_seen() {
    let started = Mutex::new(Vec::new());
    let result = commit_in_order(
        50,
        1,
        |_, i| {
            started.lock().unwrap().push(i);
            if i == 3 { Err(i) } else { Ok(()) }
        },
        |_, ()| Ok(()),
    );
    assert_eq!(result, Err((3, 3)));
    assert_eq!(*started.lock().unwrap(), [0, 1, 2, 3], "one thread sees its own failure before the next stage");
}

#[test]
fn a_panicking_stage_or_commit_is_re_raised_without_hanging() {
    for threads in [1, 3] {
        let outcome = catch_unwind(|| {
            commit_in_order(20, threads, |_, i| if i == 7 { panic!("stage 7") } else { Ok::<_, ()>(i) }, |_, _| Ok(()))
        });
        assert!(outcome.is_err(), "the stage panic is re-raised ({threads} threads)");
    }
    let mut committed = 0;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        commit_in_order(
            20,
            3,
            |_, i| Ok::<_, ()>(i),
            |i, _| {
                assert!(i != 5, "commit 5");
                committed += 1;
                Ok(())
            },
        )
    }));
    assert!(outcome.is_err(), "the commit panic is re-raised");
    assert_eq!(committed, 5);
}

#[test]
fn no_work_spawns_nothing_and_zero_threads_means_one() {
    let result = commit_in_order(
        0,
        4,
        |_, _| -> Result<(), ()> { unreachable!("nothing to stage") },
        |_, ()| unreachable!("nothing to commit"),
    );
    assert_eq!(result, Ok(()));
    let mut committed = Vec::new();
    let result = commit_in_order(
        5,
        0,
        |_, i| Ok::<_, ()>(i),
        |i, _| {
            committed.push(i);
            Ok(())
        },
    );
    assert_eq!(result, Ok(()));
    assert_eq!(committed, [0, 1, 2, 3, 4]);
}

#[test]
fn stages_are_told_which_thread_runs_them() {
    for (n, threads, expected) in [(100, 4, 4), (2, 8, 2), (10, 1, 1)] {
        let seen = Mutex::new(Vec::new());
        let result = commit_in_order(
            n,
            threads,
            |thread, _| {
                seen.lock().unwrap().push(thread);
                Ok::<_, ()>(())
            },
            |_, ()| Ok(()),
        );
        assert_eq!(result, Ok(()));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), n);
        assert!(seen.iter().all(|&thread| thread < expected), "{n} values, {threads} threads: {seen:?}");
    }
}
