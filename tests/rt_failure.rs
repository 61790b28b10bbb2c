//! Failure paths of the `Runtime`: panicking tasks, refused builds and spawns, and the shutdown
//! report that must account for every task however it ended.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use taskyard::{
    Cx, Handle, Lane, LaneShares, ManualClock, Runtime, ShutdownReport, SpawnOptions, Step, Task,
    TaskOutcome, TaskRecord, TaskTotals, yield_now,
};

#[macro_use]
mod common;
use common::{DropSignal, Gate, HANG, recv};

/// Panics with `message`; typed so that futures calling it have an output type.
fn explode(message: &str) -> u8 {
    panic!("{message}")
}

fn record<'a>(report: &'a ShutdownReport, name: &str) -> &'a TaskRecord {
    report
        .tasks()
        .iter()
        .find(|t| t.name() == Some(name))
        .unwrap_or_else(|| panic!("no task `{name}` in the report:\n{report}"))
}

fn assert_totals_add_up(t: TaskTotals) {
    assert_eq!(
        t.spawned,
        t.completed + t.failed + t.cancelled + t.never_started + t.abandoned,
        "{t:?}"
    );
}

rt_test! {
    fn a_panicking_task_gives_a_join_error_with_name_and_message(rt) {
        let handle = rt
            .spawn_named("exploder", async {
                yield_now().await;
                explode("boom 1")
            })
            .unwrap();
        let id = handle.id();
        let err = handle.join().unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert_eq!(err.task_name(), Some("exploder"));
        assert_eq!(err.task_id(), id);
        assert_eq!(err.panic_message(), Some("boom 1"));
        let text = err.to_string();
        assert!(text.contains("exploder") && text.contains("boom 1"), "{text}");
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("boom 1"));
    }

    fn a_non_string_panic_payload_is_kept(rt) {
        let err = rt
            .spawn(async { std::panic::panic_any(42_u32) })
            .unwrap()
            .join()
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), None);
        assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);
    }

    fn many_panics_lose_no_task(rt) {
        const N: usize = 300;
        let ran = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let ran = ran.clone();
                rt.spawn(async move {
                    ran.fetch_add(1, SeqCst);
                    yield_now().await;
                    if i % 3 == 0 {
                        explode("planned");
                    }
                    i
                })
                .unwrap()
            })
            .collect();
        let (mut ok, mut panicked) = (0, 0);
        for (i, handle) in handles.into_iter().enumerate() {
            match handle.join() {
                Ok(v) => {
                    assert_eq!(v, i);
                    ok += 1;
                }
                Err(err) => {
                    assert!(err.is_panic() && i % 3 == 0, "task {i}: {err}");
                    panicked += 1;
                }
            }
        }
        assert_eq!((ok, panicked), (200, 100));
        assert_eq!(ran.load(SeqCst), N);

        let report = rt.shutdown(Duration::from_secs(10));
        let t = report.totals();
        assert_eq!((t.spawned, t.completed, t.failed), (300, 200, 100));
        assert_totals_add_up(t);
        assert!(!report.is_clean());
    }

    fn a_body_whose_destructor_panics_still_completes(rt) {
        struct LoudDrop;
        impl Drop for LoudDrop {
            fn drop(&mut self) {
                panic!("panic in a task's destructor");
            }
        }
        struct Finisher(#[allow(dead_code)] LoudDrop);
        impl Task for Finisher {
            type Output = u8;
            fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u8> {
                Step::Done(5)
            }
        }
        assert_eq!(rt.spawn_task(Finisher(LoudDrop)).unwrap().join().unwrap(), 5);
        assert_eq!(rt.spawn(async { 6 }).unwrap().join().unwrap(), 6);
    }

    fn spawning_after_shutdown_is_refused_with_the_task_name(rt) {
        let handle = rt.handle();
        assert!(!handle.is_shut_down());
        let report = rt.shutdown(Duration::from_secs(10));
        assert!(report.is_clean());
        assert!(handle.is_shut_down());

        let err = handle.spawn(async {}).unwrap_err();
        assert!(err.is_shutdown());
        assert_eq!(err.task_name(), None);

        let err = handle.spawn_named("late", async {}).unwrap_err();
        assert!(err.is_shutdown());
        assert_eq!(err.task_name(), Some("late"));
        assert!(err.to_string().contains("late"), "{err}");

        let err = handle
            .spawn_with(SpawnOptions::new().name("late-bg").lane(Lane::Background), async {})
            .unwrap_err();
        assert_eq!(err.task_name(), Some("late-bg"));

        struct Never;
        impl Task for Never {
            type Output = ();
            fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
                unreachable!("a refused task never runs")
            }
        }
        assert!(handle.spawn_task(Never).unwrap_err().is_shutdown());
        assert!(
            handle
                .spawn_task_with(SpawnOptions::new().name("sm"), Never)
                .unwrap_err()
                .task_name()
                == Some("sm")
        );
    }

    fn a_clean_shutdown_reports_every_task_completed(rt) {
        let handles: Vec<_> = (0..50u32)
            .map(|i| rt.spawn(async move { i }).unwrap())
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap() as usize, i);
        }
        let report = rt.shutdown(Duration::from_secs(10));
        assert!(report.is_clean(), "{report}");
        let t = report.totals();
        assert_eq!((t.spawned, t.completed), (50, 50));
        assert_totals_add_up(t);
        // Tasks joined just before shutdown may still be in the registry; they count as completed.
        assert!(report.tasks().iter().all(|t| *t.outcome() == TaskOutcome::Completed));
    }
}

#[test]
fn a_worker_survives_a_panic_and_runs_the_tasks_queued_behind_it() {
    let rt = common::runtime(1);
    // Keep the only worker busy so that the panicking task and the ones after it queue up.
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    rt.spawn(async move {
        entered_tx.send(()).unwrap();
        release_rx.recv_timeout(HANG).unwrap();
    })
    .unwrap();
    recv(&entered_rx, "the worker to be busy");
    let boom = rt.spawn(async { explode("first") }).unwrap();
    let after: Vec<_> = (0..10)
        .map(|i| rt.spawn(async move { i }).unwrap())
        .collect();
    release_tx.send(()).unwrap();

    assert!(boom.join().unwrap_err().is_panic());
    for (i, h) in after.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), i);
    }
    // And again, once the worker has been through a panic.
    assert!(
        rt.spawn(async { explode("second") })
            .unwrap()
            .join()
            .unwrap_err()
            .is_panic()
    );
    assert_eq!(
        rt.spawn(async { "alive" }).unwrap().join().unwrap(),
        "alive"
    );
}

#[test]
fn zero_workers_is_a_build_error() {
    let err = Runtime::builder().workers(0).build().unwrap_err();
    assert!(err.is_zero_workers());
    assert!(!err.is_thread_spawn());
    assert_eq!(err.lane_share_lane(), None);
    assert_eq!(err.thread_start_worker(), None);
    assert!(err.to_string().contains('0'), "{err}");
}

#[test]
fn an_invalid_lane_share_names_its_lane() {
    let err = LaneShares::default()
        .with(Lane::Critical, 1, 2)
        .unwrap_err();
    assert_eq!(err.lane_share_lane(), Some(Lane::Critical));
    assert!(!err.is_zero_workers());
    let err = LaneShares::default().with(Lane::Low, 3, 2).unwrap_err();
    assert_eq!(err.lane_share_lane(), Some(Lane::Low));
    assert!(err.to_string().contains("low"), "{err}");
}

/// Yields forever; reports its first step on `started`.
struct YieldForever {
    started: Option<mpsc::Sender<()>>,
}

impl Task for YieldForever {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        if let Some(started) = self.started.take() {
            started.send(()).unwrap();
        }
        Step::Yield
    }
}

fn must_not_run() {
    panic!("a task that must never start ran a step");
}

/// The shutdown report names every task live at shutdown with how it ended, and the totals add
/// up.
///
/// One worker, a manual clock and a strict policy (no shares except Normal 1/2) make this
/// deterministic:
///
/// * two Critical tasks yield forever, so the Background tasks behind them never start;
/// * the Normal tasks still get every other step, so they start, and the two that a helper thread
///   wakes during the drain finish before the deadline (one completing, one panicking);
/// * every task is spawned from one step of `root` on the worker, so they sit in that worker's
///   registry shard in spawn order, and the never-started ones are cancelled before the yielding
///   ones that keep the worker from reaching them (see
///   `a_task_queued_at_the_deadline_does_not_run_a_step_after_it` for what happens otherwise);
/// * the drain ends only when the helper thread moves the manual clock past the deadline.
#[test]
fn shutdown_report_accounts_for_every_task() {
    let clock = ManualClock::new();
    let rt = Runtime::builder()
        .workers(1)
        .lane_shares(LaneShares::none().with(Lane::Normal, 1, 2).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();

    // Each started task reports its first step here: five of them.
    let (started_tx, started_rx) = mpsc::channel();
    let finisher_gate = Gate::reporting(started_tx.clone());
    let panicker_gate = Gate::reporting(started_tx.clone());
    let (waits_dropped_tx, waits_dropped_rx) = mpsc::channel();

    let root = {
        let finisher_gate = finisher_gate.clone();
        let panicker_gate = panicker_gate.clone();
        rt.spawn_named("root", async move {
            let h = Handle::current();
            let normal = |name: &'static str| SpawnOptions::new().name(name);
            let critical = |name: &'static str| SpawnOptions::new().name(name).lane(Lane::Critical);
            let background =
                |name: &'static str| SpawnOptions::new().name(name).lane(Lane::Background);
            let finisher = h
                .spawn_with(normal("finishes-in-drain"), async move {
                    finisher_gate.wait().await;
                    // Shutdown has begun: a spawn is refused, even from inside a task.
                    let refused = Handle::current().spawn(async {}).is_err();
                    (7, refused)
                })
                .unwrap();
            let panicker = h
                .spawn_with(normal("panics-in-drain"), async move {
                    panicker_gate.wait().await;
                    explode("disk full")
                })
                .unwrap();
            let waits = {
                let started = started_tx.clone();
                h.spawn_with(normal("waits-forever"), async move {
                    let _guard = DropSignal(waits_dropped_tx);
                    started.send(()).unwrap();
                    std::future::pending::<()>().await
                })
                .unwrap()
            };
            let never = [
                h.spawn_with(background("never-1"), async { must_not_run() })
                    .unwrap(),
                h.spawn_with(background("never-2"), async { must_not_run() })
                    .unwrap(),
            ];
            let yields = [
                h.spawn_task_with(
                    critical("yields-forever-1"),
                    YieldForever {
                        started: Some(started_tx.clone()),
                    },
                )
                .unwrap(),
                h.spawn_task_with(
                    critical("yields-forever-2"),
                    YieldForever {
                        started: Some(started_tx),
                    },
                )
                .unwrap(),
            ];
            let early = h
                .spawn_with(critical("completes-early"), async { 1 })
                .unwrap();
            (finisher, panicker, waits, never, yields, early)
        })
        .unwrap()
    };
    let (finisher, panicker, waits, never, yields, early) = root.join().unwrap();
    assert_eq!(early.join().unwrap(), 1);
    for _ in 0..5 {
        recv(
            &started_rx,
            "every task but the never-started ones to have had a step",
        );
    }

    let helper = {
        let handle = rt.handle();
        let clock = clock.clone();
        std::thread::spawn(move || {
            // Spinning on a public flag, not sleeping: nothing moves the clock but this thread.
            while !handle.is_shut_down() {
                std::thread::yield_now();
            }
            finisher_gate.open();
            panicker_gate.open();
            let finished = finisher.join();
            let panicked = panicker.join();
            clock.advance(Duration::from_secs(61));
            (finished, panicked)
        })
    };
    let report = rt.shutdown(Duration::from_secs(60));
    let (finished, panicked) = helper.join().unwrap();

    // Tasks that finished before the deadline ended normally during the drain.
    assert_eq!(finished.unwrap(), (7, true));
    let err = panicked.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("disk full"));

    // Every other task was cancelled at the deadline, and its join handle says so.
    assert!(waits.join().unwrap_err().is_cancelled());
    assert!(
        waits_dropped_rx.try_recv().is_ok(),
        "the waiting task's body was dropped"
    );
    for handle in never.into_iter().chain(yields) {
        let name = handle.name().unwrap().to_owned();
        let err = handle.join().unwrap_err();
        assert!(err.is_cancelled(), "{name}: {err}");
    }

    let expected = [
        ("finishes-in-drain", TaskOutcome::Completed),
        (
            "panics-in-drain",
            TaskOutcome::Failed {
                message: Some("disk full".to_owned()),
            },
        ),
        ("waits-forever", TaskOutcome::Cancelled),
        ("yields-forever-1", TaskOutcome::Cancelled),
        ("yields-forever-2", TaskOutcome::Cancelled),
        ("never-1", TaskOutcome::NeverStarted),
        ("never-2", TaskOutcome::NeverStarted),
    ];
    for (name, outcome) in &expected {
        assert_eq!(
            record(&report, name).outcome(),
            outcome,
            "{name}:\n{report}"
        );
    }
    assert_eq!(record(&report, "never-1").lane(), Lane::Background);
    // Anything else in the report (root and completes-early, if their release raced the
    // shutdown snapshot) completed before shutdown.
    for task in report.tasks() {
        if !expected.iter().any(|(name, _)| task.name() == Some(name)) {
            assert_eq!(*task.outcome(), TaskOutcome::Completed, "{task:?}");
        }
    }
    let ids: Vec<_> = report.tasks().iter().map(TaskRecord::id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");

    let t = report.totals();
    assert_eq!(
        (
            t.spawned,
            t.completed,
            t.failed,
            t.cancelled,
            t.never_started,
            t.abandoned
        ),
        (9, 3, 1, 3, 2, 0),
        "{report}"
    );
    assert_totals_add_up(t);
    assert!(!report.is_clean());
    let text = report.to_string();
    for needle in [
        "never-1",
        "never started",
        "disk full",
        "yields-forever-2",
        "cancelled",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

/// A step that never returns keeps its worker: after the grace period its task is reported
/// abandoned, while the tasks queued behind it (in the injector and in the stuck worker's own
/// queue) are reported as never started, not as abandoned.
#[test]
fn a_step_that_never_returns_is_reported_abandoned() {
    let rt = common::runtime(1);
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let stuck = rt
        .spawn_named("stuck", async move {
            // Queued on this worker's own queue, behind the step that is about to hang.
            Handle::current()
                .spawn_named("queued-locally", async { must_not_run() })
                .unwrap();
            entered_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(HANG);
            yield_now().await; // a yield point, where the cancellation takes effect
        })
        .unwrap();
    recv(&entered_rx, "the step to be running");
    let queued = rt
        .spawn_named("queued-in-injector", async { must_not_run() })
        .unwrap();

    // Returns after the (real-time) grace period, with the step still running.
    let report = rt.shutdown(Duration::ZERO);
    release_tx.send(()).unwrap();

    assert_eq!(*record(&report, "stuck").outcome(), TaskOutcome::Abandoned);
    for name in ["queued-locally", "queued-in-injector"] {
        assert_eq!(
            *record(&report, name).outcome(),
            TaskOutcome::NeverStarted,
            "{name}:\n{report}"
        );
    }
    let t = report.totals();
    assert_eq!(
        (t.spawned, t.abandoned, t.never_started),
        (3, 1, 2),
        "{report}"
    );
    assert_totals_add_up(t);
    assert!(report.to_string().contains("abandoned"), "{report}");
    assert!(queued.join().unwrap_err().is_cancelled());
    // Once its step returns, the abandoned task ends as cancelled on its detached worker.
    assert!(stuck.join().unwrap_err().is_cancelled());
}

/// Blocks whoever drops it until `until` receives (or a short guard passes).
struct BlockOnDrop {
    until: mpsc::Receiver<()>,
}

impl Drop for BlockOnDrop {
    fn drop(&mut self) {
        // Only a guard: with the bug, the message arrives at once; without it, never.
        let _ = self.until.recv_timeout(Duration::from_millis(300));
    }
}

/// The docs of `Runtime::shutdown`: at the deadline "queued tasks [are cancelled] without
/// running another step". The shutdown thread cancels live tasks one at a time while the workers
/// keep running, so a worker freed by an earlier cancellation can pop and step a task that is
/// not flagged yet.
///
/// Constructed deterministically: `root` spawns, in this order (so in this order in the worker's
/// registry shard), a Critical task that yields forever, a Critical task `slow-drop` that waits
/// forever and whose body blocks its dropper until `queued` has run, and a Background task
/// `queued` that strict priority keeps from starting. The shutdown thread flags the yielder, then
/// cancels `slow-drop` (dropping its body, which waits); meanwhile the worker ends the yielder
/// and, finding `queued` not yet flagged, steps it.
#[test]
fn a_task_queued_at_the_deadline_does_not_run_a_step_after_it() {
    let rt = Runtime::builder()
        .workers(1)
        .lane_shares(LaneShares::none())
        .build()
        .unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (ran_tx, ran_rx) = mpsc::channel();
    rt.spawn_named("root", async move {
        let h = Handle::current();
        let critical = |name: &'static str| SpawnOptions::new().name(name).lane(Lane::Critical);
        h.spawn_task_with(critical("yields-forever"), YieldForever { started: None })
            .unwrap();
        h.spawn_with(critical("slow-drop"), async move {
            let _block = BlockOnDrop { until: ran_rx };
            ready_tx.send(()).unwrap();
            std::future::pending::<()>().await
        })
        .unwrap();
        h.spawn_with(
            SpawnOptions::new().name("queued").lane(Lane::Background),
            async move {
                let _ = ran_tx.send(());
            },
        )
        .unwrap();
    })
    .unwrap()
    .join()
    .unwrap();
    recv(&ready_rx, "slow-drop to wait");

    let report = rt.shutdown(Duration::ZERO);
    assert_eq!(
        *record(&report, "yields-forever").outcome(),
        TaskOutcome::Cancelled
    );
    assert_eq!(
        *record(&report, "slow-drop").outcome(),
        TaskOutcome::Cancelled
    );
    assert_eq!(
        *record(&report, "queued").outcome(),
        TaskOutcome::NeverStarted,
        "{report}"
    );
}

/// A detached task's output is dropped by the worker that completes the task. A panic in that
/// destructor must not take the worker down (the task body's destructor is already guarded).
#[test]
fn a_detached_output_whose_destructor_panics_does_not_kill_the_worker() {
    struct LoudDrop;
    impl Drop for LoudDrop {
        fn drop(&mut self) {
            panic!("panic in a detached task's output destructor");
        }
    }
    let rt = common::runtime(1);
    let gate = Gate::new();
    let detached = {
        let gate = gate.clone();
        rt.spawn_named("detached", async move {
            gate.wait().await;
            LoudDrop
        })
        .unwrap()
    };
    drop(detached);
    gate.open();

    let (ran_tx, ran_rx) = mpsc::channel();
    rt.spawn(async move { ran_tx.send(()).unwrap() }).unwrap();
    // Only a guard: with a live worker the message comes at once, with a dead one never.
    assert!(ran_rx.recv_timeout(HANG).is_ok(), "the only worker died");
    let report = rt.shutdown(HANG);
    let t = report.totals();
    assert_eq!((t.spawned, t.completed, t.abandoned), (2, 2, 0), "{report}");
}

thread_local! {
    /// Dropped when its thread exits, which disconnects the channel it holds a sender of.
    static EXIT_SIGNAL: std::cell::RefCell<Option<mpsc::Sender<()>>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn a_panicking_thread_start_hook_fails_the_build_naming_the_worker_and_stops_the_others() {
    let (exit_tx, exit_rx) = mpsc::channel::<()>();
    let hooked = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let err = {
        let (hooked, stopped) = (hooked.clone(), stopped.clone());
        Runtime::builder()
            .workers(4)
            .on_thread_start(move |worker| {
                EXIT_SIGNAL.set(Some(exit_tx.clone()));
                hooked.fetch_add(1, SeqCst);
                if worker >= 2 {
                    panic!("no core left for worker {worker}");
                }
            })
            .on_thread_stop(move |_| {
                stopped.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap_err()
    };
    assert_eq!(
        err.thread_start_worker(),
        Some(2),
        "the lowest failing worker"
    );
    assert_eq!(
        err.to_string(),
        "the thread start hook panicked on worker 2: no core left for worker 2"
    );
    assert!(!err.is_thread_spawn() && !err.is_zero_workers());
    assert_eq!(hooked.load(SeqCst), 4, "every worker ran the hook");
    // Every worker thread exits: the last one to drop its sender disconnects the channel.
    assert_eq!(
        exit_rx.recv_timeout(HANG),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "a worker of the failed build is still running"
    );
    // Each ran its stop hook before its thread ended, the one whose start hook panicked too.
    assert_eq!(stopped.load(SeqCst), 4, "every worker ran the stop hook");
}

/// A stop hook panicking on one worker keeps neither the other workers' hooks nor the tasks'
/// outcomes from being what they would be. That the panic is caught, so the worker still counts
/// itself exited and shutdown need not wait out its grace, only time shows here: the loom model
/// `loom_runtime_a_panicking_thread_stop_hook_still_lets_shutdown_finish` checks it.
#[test]
fn a_panicking_thread_stop_hook_ends_nothing_else() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let rt = {
        let stopped = stopped.clone();
        Runtime::builder()
            .workers(3)
            .on_thread_stop(move |worker| {
                stopped.fetch_add(1, SeqCst);
                assert_ne!(worker, 1, "worker 1 refuses to stop quietly");
            })
            .build()
            .unwrap()
    };
    let handles: Vec<_> = (0..30)
        .map(|i| rt.spawn(async move { i }).unwrap())
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.join().unwrap(), i);
    }
    let report = rt.shutdown(HANG);
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.totals().completed, 30);
    assert_eq!(stopped.load(SeqCst), 3, "every worker ran its stop hook");
}

/// A stop hook that does not return keeps its thread, like a step that does not: shutdown
/// gives up on it after its grace period instead of joining it.
#[test]
fn shutdown_does_not_wait_past_its_grace_for_a_stop_hook_that_hangs() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rt = {
        let finished = finished.clone();
        Runtime::builder()
            .workers(1)
            .on_thread_stop(move |_| {
                let _ = release_rx.lock().unwrap().recv_timeout(HANG);
                finished.store(true, SeqCst);
            })
            .build()
            .unwrap()
    };
    let report = rt.shutdown(Duration::ZERO);
    assert!(!finished.load(SeqCst), "shutdown waited for the stop hook");
    assert!(report.is_clean(), "{report}");
    release_tx.send(()).unwrap();
}
