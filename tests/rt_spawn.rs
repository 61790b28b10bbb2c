//! Spawning, joining, waking and cancelling on the multi-threaded `Runtime`, each behaviour on a
//! 1-worker and on a 4-worker runtime (`rt_test!`).
//!
//! Nothing waits on time: threads meet through channels, gates and join handles, and the only
//! timeouts are hang guards that a passing test never reaches.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Waker};
use std::time::Duration;

use taskyard::{Cx, Handle, JoinHandle, Lane, SpawnOptions, Step, Task, TaskId, yield_now};

#[macro_use]
mod common;
use common::{DropSignal, Gate, HANG, channel_waker, recv};

/// Yields `left` times, then finishes with the number of steps it ran.
struct Countdown {
    left: u32,
    steps: u32,
}

impl Task for Countdown {
    type Output = u32;

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u32> {
        self.steps += 1;
        if self.left == 0 {
            return Step::Done(self.steps);
        }
        self.left -= 1;
        Step::Yield
    }
}

/// A task spawning the next link of a chain and awaiting it: depth `n` is `n + 1` tasks.
fn chain(n: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if n == 0 {
            return 0;
        }
        let next = Handle::current().spawn(chain(n - 1)).unwrap();
        next.await.unwrap() + 1
    })
}

/// Spawns the next link and ends without waiting for it; the last link reports on `done`.
fn relay(n: usize, done: mpsc::Sender<usize>) {
    if n == 0 {
        done.send(0).unwrap();
        return;
    }
    Handle::current()
        .spawn(async move { relay(n - 1, done) })
        .unwrap();
}

rt_test! {
    fn spawn_from_outside_and_join(rt) {
        assert_eq!(rt.spawn(async { 1 + 1 }).unwrap().join().unwrap(), 2);

        let named = rt.spawn_named("named", async { "n" }).unwrap();
        assert_eq!(named.name(), Some("named"));
        assert_eq!(named.lane(), Lane::Normal);
        assert_eq!(named.join().unwrap(), "n");

        let high = rt
            .spawn_with(SpawnOptions::new().name("high").lane(Lane::High), async { 3 })
            .unwrap();
        assert_eq!((high.name(), high.lane()), (Some("high"), Lane::High));
        assert_eq!(high.join().unwrap(), 3);

        let sm = rt.spawn_task(Countdown { left: 3, steps: 0 }).unwrap();
        assert_eq!(sm.join().unwrap(), 4);
    }

    fn spawn_from_other_threads_through_a_handle(rt) {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let handle = rt.handle();
                std::thread::spawn(move || {
                    let joins: Vec<JoinHandle<usize>> = (0..250)
                        .map(|i| handle.spawn(async move { t * 1000 + i }).unwrap())
                        .collect();
                    let ids: Vec<TaskId> = joins.iter().map(JoinHandle::id).collect();
                    for (i, h) in joins.into_iter().enumerate() {
                        assert_eq!(h.join().unwrap(), t * 1000 + i);
                    }
                    ids
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for thread in threads {
            for id in thread.join().unwrap() {
                assert!(ids.insert(id), "{id} given to two tasks");
            }
        }
        assert_eq!(ids.len(), 1000);
    }

    fn spawn_from_inside_a_task_via_handle_current(rt) {
        let outer = rt
            .spawn(async {
                let handle = Handle::current();
                let inner = handle
                    .spawn(async { Handle::try_current().map(|h| h.workers()) })
                    .unwrap();
                inner.await.unwrap()
            })
            .unwrap();
        assert_eq!(outer.join().unwrap(), Some(rt.workers()));
    }

    fn ten_thousand_tasks_each_run_exactly_once(rt) {
        const N: usize = 10_000;
        let runs: Arc<Vec<AtomicU32>> = Arc::new((0..N).map(|_| AtomicU32::new(0)).collect());
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let runs = runs.clone();
                rt.spawn(async move {
                    yield_now().await; // back to a queue once: more chances to be stolen
                    runs[i].fetch_add(1, SeqCst);
                    i
                })
                .unwrap()
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.join().unwrap(), i);
        }
        let wrong: Vec<usize> = (0..N).filter(|&i| runs[i].load(SeqCst) != 1).collect();
        assert!(wrong.is_empty(), "tasks not run exactly once: {wrong:?}");
    }

    fn a_state_machine_yielding_many_times_completes(rt) {
        let handles: Vec<_> = (0..4)
            .map(|_| rt.spawn_task(Countdown { left: 10_000, steps: 0 }).unwrap())
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap(), 10_001);
        }
    }

    fn block_on_runs_a_future_inside_the_runtime(rt) {
        assert_eq!(rt.block_on(async { 5 }), 5);
        let out = rt.block_on(async {
            let a = Handle::current().spawn(async { 20 }).unwrap();
            let b = Handle::current().spawn(async { 22 }).unwrap();
            a.await.unwrap() + b.await.unwrap()
        });
        assert_eq!(out, 42);
        assert!(Handle::try_current().is_none(), "block_on leaves the context behind");

        // The block_on future itself woken from a foreign thread.
        let (polled_tx, polled_rx) = mpsc::channel();
        let gate = Gate::reporting(polled_tx);
        let opener = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                recv(&polled_rx, "block_on's first poll");
                gate.open();
            })
        };
        rt.block_on(gate.wait());
        opener.join().unwrap();
    }

    fn tasks_await_join_handles_of_other_tasks(rt) {
        let parent = rt
            .spawn(async {
                let children: Vec<_> = (0..100u64)
                    .map(|i| {
                        Handle::current()
                            .spawn(async move {
                                yield_now().await;
                                i
                            })
                            .unwrap()
                    })
                    .collect();
                let mut sum = 0;
                for child in children {
                    sum += child.await.unwrap();
                }
                sum
            })
            .unwrap();
        assert_eq!(parent.join().unwrap(), (0..100).sum::<u64>());
    }

    fn a_chain_of_ten_thousand_awaiting_tasks_completes(rt) {
        assert_eq!(rt.spawn(chain(10_000)).unwrap().join().unwrap(), 10_000);
    }

    fn a_relay_of_ten_thousand_tasks_completes(rt) {
        let (done_tx, done_rx) = mpsc::channel();
        rt.spawn(async move { relay(10_000, done_tx) }).unwrap();
        assert_eq!(recv(&done_rx, "the end of the relay"), 0);
    }

    fn tasks_woken_from_a_foreign_thread_complete(rt) {
        const N: usize = 100;
        let (polled_tx, polled_rx) = mpsc::channel();
        let gates: Vec<Gate> = (0..N).map(|_| Gate::reporting(polled_tx.clone())).collect();
        let handles: Vec<_> = gates
            .iter()
            .enumerate()
            .map(|(i, gate)| {
                let gate = gate.clone();
                rt.spawn(async move {
                    gate.wait().await;
                    i
                })
                .unwrap()
            })
            .collect();
        let waker_thread = std::thread::spawn(move || {
            // Every task has stored its waker: each open below is a real cross-thread wake-up.
            for _ in 0..N {
                recv(&polled_rx, "a task waiting on its gate");
            }
            for gate in gates {
                gate.open();
            }
        });
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.join().unwrap(), i);
        }
        waker_thread.join().unwrap();
    }

    fn a_task_is_never_stepped_twice_at_once_under_a_wake_storm(rt) {
        /// Goes pending on every step and checks that no other worker is inside it meanwhile.
        struct Stormy {
            inside: Arc<AtomicBool>,
            waker: Arc<Mutex<Option<Waker>>>,
            steps: u32,
        }
        impl Task for Stormy {
            type Output = u32;
            fn step(&mut self, cx: &mut Cx<'_>) -> Step<u32> {
                assert!(!self.inside.swap(true, SeqCst), "two workers inside one task");
                *self.waker.lock().unwrap() = Some(cx.waker().clone());
                self.steps += 1;
                for _ in 0..10 {
                    std::hint::spin_loop();
                }
                self.inside.store(false, SeqCst);
                if self.steps == 2_000 {
                    Step::Done(self.steps)
                } else if self.steps.is_multiple_of(2) {
                    Step::Yield
                } else {
                    Step::Pending
                }
            }
        }
        let waker = Arc::new(Mutex::new(None::<Waker>));
        let done = Arc::new(AtomicBool::new(false));
        let handle = rt
            .spawn_task(Stormy {
                inside: Arc::new(AtomicBool::new(false)),
                waker: waker.clone(),
                steps: 0,
            })
            .unwrap();
        let wakers: Vec<_> = (0..3)
            .map(|_| {
                let waker = waker.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    while !done.load(SeqCst) {
                        let w = waker.lock().unwrap().clone();
                        if let Some(w) = w {
                            w.wake();
                        }
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        let result = handle.join();
        done.store(true, SeqCst);
        for w in wakers {
            w.join().unwrap();
        }
        assert_eq!(result.unwrap(), 2_000);
    }

    fn dropping_a_join_handle_detaches_the_task(rt) {
        let gate = Gate::new();
        let (out_tx, out_rx) = mpsc::channel();
        let (dropped_tx, dropped_rx) = mpsc::channel();
        let handle = {
            let gate = gate.clone();
            rt.spawn(async move {
                gate.wait().await;
                out_tx.send("ran").unwrap();
                DropSignal(dropped_tx) // the output, dropped since nobody joins
            })
            .unwrap()
        };
        drop(handle);
        gate.open();
        assert_eq!(recv(&out_rx, "the detached task"), "ran");
        recv(&dropped_rx, "the detached task's output to be dropped");
    }

    fn cancelling_a_waiting_task_cancels_it(rt) {
        let (polled_tx, polled_rx) = mpsc::channel();
        let gate = Gate::reporting(polled_tx);
        let (dropped_tx, dropped_rx) = mpsc::channel();
        let handle = {
            let gate = gate.clone();
            rt.spawn_named("waiter", async move {
                let _guard = DropSignal(dropped_tx);
                gate.wait().await;
                "opened"
            })
            .unwrap()
        };
        recv(&polled_rx, "the task to wait on its gate");
        handle.cancel();
        recv(&dropped_rx, "the cancelled task's body to be dropped");
        // A late wake-up of the cancelled task is harmless.
        gate.open();
        let err = handle.join().unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.task_name(), Some("waiter"));
        assert!(err.to_string().contains("waiter"), "{err}");
    }

    fn cancelling_a_running_task_takes_effect_when_its_step_returns(rt) {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (proceed_tx, proceed_rx) = mpsc::channel::<()>();
        let steps = Arc::new(AtomicU32::new(0));
        let handle = {
            let steps = steps.clone();
            rt.spawn(async move {
                steps.fetch_add(1, SeqCst);
                entered_tx.send(()).unwrap();
                proceed_rx.recv_timeout(HANG).unwrap(); // blocks inside the step on purpose
                yield_now().await;
                steps.fetch_add(1, SeqCst);
            })
            .unwrap()
        };
        recv(&entered_rx, "the task to be inside its step");
        handle.cancel();
        proceed_tx.send(()).unwrap();
        assert!(handle.join().unwrap_err().is_cancelled());
        assert_eq!(steps.load(SeqCst), 1, "no step ran after the cancellation");
    }

    fn cancelling_a_finished_task_still_returns_its_output(rt) {
        let gate = Gate::new();
        let mut handle = {
            let gate = gate.clone();
            rt.spawn(async move {
                gate.wait().await;
                99
            })
            .unwrap()
        };
        // Register a waker of our own, so we learn when the output is there without taking it.
        let (waker, woken) = channel_waker();
        assert!(Pin::new(&mut handle).poll(&mut Context::from_waker(&waker)).is_pending());
        gate.open();
        recv(&woken, "the join handle's wake-up");
        assert!(handle.is_finished());
        handle.cancel();
        assert_eq!(handle.join().unwrap(), 99);
    }

    fn handle_current_panics_outside_a_runtime(rt) {
        assert!(Handle::try_current().is_none());
        assert!(std::panic::catch_unwind(Handle::current).is_err());
        let inside = rt.spawn(async { Handle::try_current().is_some() }).unwrap();
        assert!(inside.join().unwrap());
    }

    fn dropping_the_runtime_cancels_unfinished_tasks(rt) {
        let (polled_tx, polled_rx) = mpsc::channel();
        let waiting = rt.spawn_named("waiting", Gate::reporting(polled_tx).wait()).unwrap();
        recv(&polled_rx, "the task to wait");
        drop(rt);
        let err = waiting.join().unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.task_name(), Some("waiting"));
    }

    fn metrics_count_steps_and_ended_tasks(rt) {
        const N: usize = 200;
        let workers = rt.workers();
        let handles: Vec<_> = (0..N)
            .map(|_| rt.spawn(async { yield_now().await }).unwrap())
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }

        // A step is counted when it begins, so every step of a joined task is counted already.
        let m = rt.metrics();
        assert_eq!(m.workers.len(), workers);
        let steps: u64 = m.workers.iter().map(|w| w.steps).sum();
        assert!(steps >= 2 * N as u64, "{steps} steps counted for {N} two-step tasks");
        let ended: u64 = m.workers.iter().map(|w| w.tasks_completed).sum();
        assert!(ended <= N as u64);

        // Once the workers have stopped, every count is final and exact.
        let handle = rt.handle();
        let report = rt.shutdown(Duration::from_secs(10));
        let m = handle.metrics();
        let ended: u64 = m.workers.iter().map(|w| w.tasks_completed).sum();
        assert_eq!(ended, N as u64);
        assert_eq!(m.live_tasks, 0);
        let totals = report.totals();
        assert_eq!((totals.spawned, totals.completed), (N as u64, N as u64));
        assert!(report.is_clean(), "{report}");
    }
}

#[test]
fn cancelling_a_queued_task_ends_it_before_its_first_step() {
    let rt = common::runtime(1);
    // Keep the only worker inside a step while the victim sits in the queue.
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let blocker = rt
        .spawn(async move {
            entered_tx.send(()).unwrap();
            release_rx.recv_timeout(HANG).unwrap();
        })
        .unwrap();
    recv(&entered_rx, "the worker to be busy");

    let started = Arc::new(AtomicUsize::new(0));
    let victim = {
        let started = started.clone();
        rt.spawn_named("victim", async move {
            started.fetch_add(1, SeqCst);
        })
        .unwrap()
    };
    let bystander = rt.spawn(async { 1 }).unwrap();
    victim.cancel();
    release_tx.send(()).unwrap();

    blocker.join().unwrap();
    assert_eq!(bystander.join().unwrap(), 1);
    let err = victim.join().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.task_name(), Some("victim"));
    assert_eq!(started.load(SeqCst), 0, "the cancelled task ran a step");
}

#[test]
fn metrics_count_a_task_once_its_join_handle_resolves() {
    let rt = common::runtime(1);
    let gate = Gate::new();
    let mut handle = {
        let gate = gate.clone();
        rt.spawn(gate.wait()).unwrap()
    };

    /// A join waker that records what the metrics say at the moment the output is published.
    struct Snapshot {
        handle: Handle,
        seen: Mutex<mpsc::Sender<(u64, usize)>>,
    }
    impl std::task::Wake for Snapshot {
        fn wake(self: Arc<Self>) {
            let m = self.handle.metrics();
            let ended = m.workers.iter().map(|w| w.tasks_completed).sum();
            let _ = self.seen.lock().unwrap().send((ended, m.live_tasks));
        }
    }
    let (seen_tx, seen_rx) = mpsc::channel();
    let waker = Waker::from(Arc::new(Snapshot {
        handle: rt.handle(),
        seen: Mutex::new(seen_tx),
    }));
    assert!(
        Pin::new(&mut handle)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    gate.open();
    let (ended, live) = recv(&seen_rx, "the join wake-up");
    // The output is available to the joiner now...
    assert!(handle.try_take().unwrap().is_ok());
    // ...so the metrics should already count the task as ended.
    assert_eq!(
        (ended, live),
        (1, 0),
        "(tasks_completed, live_tasks) when the join resolved"
    );
}

/// `Step::Yield` sends a task "to the back of its lane" and `yield_now` lets "other tasks of the
/// same or a higher lane run before the task continues". A task spawned (or woken) from outside
/// the workers waits in the injector; a worker that always finds work of that lane in its own
/// queue never looks there.
///
/// The yielding task gives the outsider `LIMIT` of its own steps to run, then gives up.
#[test]
fn a_yielding_task_does_not_starve_a_task_spawned_from_outside() {
    const LIMIT: u32 = 100_000;
    let rt = common::runtime(1);
    let spawned = Arc::new(AtomicBool::new(false));
    let outsider_ran = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let yielder = {
        let spawned = spawned.clone();
        let outsider_ran = outsider_ran.clone();
        rt.spawn(async move {
            started_tx.send(()).unwrap();
            let mut steps_since_spawn = 0;
            loop {
                if outsider_ran.load(SeqCst) {
                    return Ok(steps_since_spawn);
                }
                if spawned.load(SeqCst) {
                    steps_since_spawn += 1;
                    if steps_since_spawn == LIMIT {
                        return Err(steps_since_spawn);
                    }
                }
                yield_now().await;
            }
        })
        .unwrap()
    };
    recv(&started_rx, "the yielding task to run");
    let outsider = {
        let outsider_ran = outsider_ran.clone();
        rt.spawn(async move { outsider_ran.store(true, SeqCst) })
            .unwrap()
    };
    spawned.store(true, SeqCst);
    let result = yielder.join().unwrap();
    outsider.join().unwrap();
    assert!(
        result.is_ok(),
        "the outsider waited in the injector through {LIMIT} steps of a yielding task"
    );
}

thread_local! {
    /// The worker index the thread start hook saw on this thread.
    static HOOKED_AS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// A hook call: the worker index and the name of the thread it ran on.
type HookCall = (usize, Option<String>);

/// The calls of a thread hook.
#[derive(Clone, Default)]
struct HookCalls(Arc<Mutex<Vec<HookCall>>>);

impl HookCalls {
    /// Records a call for `worker`, on the calling thread.
    fn record(&self, worker: usize) {
        let name = std::thread::current().name().map(str::to_owned);
        self.0.lock().unwrap().push((worker, name));
    }

    fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }

    /// Asserts one call per worker of `workers`, each on that worker's thread `{prefix}-{i}`.
    fn assert_one_per_worker(&self, workers: usize, prefix: &str) {
        let mut calls = self.0.lock().unwrap().clone();
        calls.sort();
        let expected: Vec<_> = (0..workers)
            .map(|i| (i, Some(format!("{prefix}-{i}"))))
            .collect();
        assert_eq!(
            calls, expected,
            "one call per worker, on that worker's thread"
        );
    }
}

#[test]
fn the_thread_start_hook_runs_once_on_each_worker_before_build_returns() {
    const WORKERS: usize = 4;
    let calls = HookCalls::default();
    let rt = {
        let calls = calls.clone();
        taskyard::Runtime::builder()
            .workers(WORKERS)
            .thread_name("hooked")
            .on_thread_start(move |worker| {
                HOOKED_AS.set(Some(worker));
                calls.record(worker);
            })
            .build()
            .unwrap()
    };
    // No waiting: `build` has returned only after every hook did.
    calls.assert_one_per_worker(WORKERS, "hooked");

    // Every task runs on a thread whose hook has run, and it is that thread's own index.
    let handles: Vec<_> = (0..200)
        .map(|_| {
            rt.spawn(async {
                let name = std::thread::current().name().unwrap().to_owned();
                (HOOKED_AS.get(), name)
            })
            .unwrap()
        })
        .collect();
    for handle in handles {
        let (hooked_as, name) = handle.join().unwrap();
        let worker = hooked_as.expect("a task ran on a thread the hook did not run on");
        assert_eq!(name, format!("hooked-{worker}"));
    }
}

#[test]
fn the_thread_stop_hook_runs_once_on_each_worker_before_shutdown_returns() {
    const WORKERS: usize = 3;
    let calls = HookCalls::default();
    let rt = {
        let calls = calls.clone();
        taskyard::Runtime::builder()
            .workers(WORKERS)
            .thread_name("stopping")
            .on_thread_stop(move |worker| calls.record(worker))
            .build()
            .unwrap()
    };
    assert_eq!(rt.spawn(async { 7 }).unwrap().join().unwrap(), 7);
    assert!(calls.is_empty(), "a worker stopped early");
    let report = rt.shutdown(Duration::from_secs(1));
    assert!(report.is_clean(), "{report}");
    // No waiting: shutdown counts a worker exited only after its hook returned.
    calls.assert_one_per_worker(WORKERS, "stopping");
}
