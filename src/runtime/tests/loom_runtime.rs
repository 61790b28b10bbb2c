//! The whole runtime: spawn from a foreign thread, the injector hand-off, a worker waking from
//! park, and a task that spawns another (which a second worker may steal).

use std::time::Duration;

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
