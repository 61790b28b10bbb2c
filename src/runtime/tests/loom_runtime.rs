//! The whole runtime: spawn from a foreign thread, the injector hand-off, a worker waking from
//! park, a task that spawns another (which a second worker may steal), and the workers' start
//! and stop hooks, which `build` and `shutdown` wait for, also when a hook panics.

use std::time::Duration;

use crate::sync::Arc;
use crate::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::{Handle, Runtime};

#[test]
fn loom_runtime_spawn_from_foreign_thread_and_join() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let rt = Runtime::builder().workers(1).build().unwrap();
        let handle = rt.spawn(async { 5 }).unwrap();
        assert_eq!(handle.join().unwrap(), 5);
        let report = rt.shutdown(Duration::ZERO);
        assert_eq!(report.totals().completed, 1);
    });
}

#[test]
fn loom_runtime_spawn_inside_task_with_thief() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.check(|| {
        let rt = Runtime::builder().workers(2).build().unwrap();
        let outer = rt
            .spawn(async {
                let a = Handle::current().spawn(async { 1 }).unwrap();
                let b = Handle::current().spawn(async { 2 }).unwrap();
                a.await.unwrap() + b.await.unwrap()
            })
            .unwrap();
        assert_eq!(outer.join().unwrap(), 3);
        let totals = rt.shutdown(Duration::ZERO).totals();
        assert_eq!((totals.spawned, totals.completed), (3, 3));
    });
}

/// `build` returns only after every worker's start hook has, and `shutdown` only after every
/// stop hook has: what a hook did is visible to the caller's thread through the start gate and
/// the exit count alone (the stores are relaxed).
#[test]
fn loom_runtime_build_and_shutdown_wait_for_the_thread_hooks() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let rt = {
            let (started, stopped) = (started.clone(), stopped.clone());
            Runtime::builder()
                .workers(1)
                .on_thread_start(move |worker| started.store(worker + 1, Relaxed))
                .on_thread_stop(move |worker| stopped.store(worker + 1, Relaxed))
                .build()
                .unwrap()
        };
        assert_eq!(started.load(Relaxed), 1);
        assert_eq!(rt.shutdown(Duration::ZERO).totals().spawned, 0);
        assert_eq!(stopped.load(Relaxed), 1);
    });
}

/// A hook that panics on one of two workers fails the build, and the drop of the half-started
/// runtime stops both workers, the one whose hook panicked included.
#[test]
fn loom_runtime_a_panicking_thread_start_hook_fails_the_build() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.check(|| {
        let err = Runtime::builder()
            .workers(2)
            .on_thread_start(|worker| assert_ne!(worker, 1, "refused"))
            .build()
            .unwrap_err();
        assert_eq!(err.thread_start_worker(), Some(1));
    });
}

/// A stop hook that panics is caught, and its worker still counts itself exited: loom has no
/// time, so a shutdown left waiting for that count (instead of giving up after its grace
/// period, as it does for real) is reported as a deadlock.
#[test]
fn loom_runtime_a_panicking_thread_stop_hook_still_lets_shutdown_finish() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let rt = Runtime::builder()
            .workers(1)
            .on_thread_stop(|worker| panic!("worker {worker} will not stop quietly"))
            .build()
            .unwrap();
        assert!(rt.shutdown(Duration::ZERO).is_clean());
    });
}
