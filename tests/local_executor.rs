//! Behaviour of the `LocalExecutor`: the step loop on the caller's thread.
//!
//! Everything here is deterministic: one thread runs the tasks, time is a `ManualClock`, and the
//! only other threads are ones the test starts and synchronises with channels.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Waker;
use std::time::Duration;

use taskyard::{Cx, LocalExecutor, ManualClock, Step, Task, yield_now};

mod common;
use common::{DropSignal, Gate, recv};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// Yields `yields` times, then waits once for a wake-up, then finishes with its step count.
struct Script {
    yields: u32,
    steps: u32,
    parked: Rc<RefCell<Option<Waker>>>,
    released: Rc<Cell<bool>>,
}

impl Task for Script {
    type Output = u32;

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<u32> {
        self.steps += 1;
        if self.yields > 0 {
            self.yields -= 1;
            return Step::Yield;
        }
        if !self.released.get() {
            *self.parked.borrow_mut() = Some(cx.waker().clone());
            return Step::Pending;
        }
        Step::Done(self.steps)
    }
}

#[test]
fn state_machine_yields_waits_and_finishes() {
    let ex = LocalExecutor::new();
    let parked = Rc::new(RefCell::new(None));
    let released = Rc::new(Cell::new(false));
    let handle = ex.spawn_task(Script {
        yields: 2,
        steps: 0,
        parked: parked.clone(),
        released: released.clone(),
    });

    // Two yields and the step that goes pending.
    assert_eq!(ex.run_until_idle(), 3);
    assert!(!handle.is_finished());
    assert!(handle.try_take().is_none());
    assert_eq!(ex.len(), 1);

    // A pending task is not stepped again without a wake-up.
    assert_eq!(ex.run_until_idle(), 0);
    assert_eq!(ex.tick(10), 0);

    released.set(true);
    parked
        .borrow_mut()
        .take()
        .expect("the task left its waker")
        .wake();
    assert_eq!(ex.run_until_idle(), 1);
    assert!(handle.is_finished());
    assert_eq!(handle.try_take().unwrap().unwrap(), 4);
    assert!(ex.is_empty());
}

#[test]
fn futures_run_and_await_each_other() {
    let ex = LocalExecutor::new();
    let a = ex.spawn(async { 20 });
    let b = ex.spawn(async move { a.await.unwrap() + 22 });
    let named = ex.spawn_named("named", async { "x" });
    assert_eq!(named.name(), Some("named"));
    ex.run_until_idle();
    assert_eq!(b.try_take().unwrap().unwrap(), 42);
    assert_eq!(named.try_take().unwrap().unwrap(), "x");
    // The output is handed out once.
    assert!(b.try_take().is_none());
    assert!(ex.is_empty());

    let c = ex.spawn(async {
        yield_now().await;
        7
    });
    assert_eq!(ex.block_on(c).unwrap(), 7);
}

#[test]
fn yield_now_interleaves_round_robin_within_a_lane() {
    let ex = LocalExecutor::new();
    let log = log();
    for name in ["a", "b", "c"] {
        let log = log.clone();
        ex.spawn(async move {
            for round in 0..3 {
                log.borrow_mut().push(format!("{name}{round}"));
                yield_now().await;
            }
        });
    }
    // Three tasks, three rounds, plus the final poll that completes each one.
    assert_eq!(ex.run_until_idle(), 12);
    assert_eq!(
        *log.borrow(),
        ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]
    );
}

/// Logs its label on every step; finishes after `steps` steps.
struct Logger {
    label: &'static str,
    steps: u32,
    log: Log,
}

impl Task for Logger {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.log.borrow_mut().push(self.label.to_owned());
        self.steps -= 1;
        if self.steps == 0 {
            Step::Done(())
        } else {
            Step::Yield
        }
    }
}

#[test]
fn yielding_state_machines_take_turns_and_leave_when_done() {
    let ex = LocalExecutor::new();
    let log = log();
    for (label, steps) in [("a", 3), ("b", 1), ("c", 2)] {
        ex.spawn_task(Logger {
            label,
            steps,
            log: log.clone(),
        });
    }
    assert_eq!(ex.run_until_idle(), 6);
    assert_eq!(*log.borrow(), ["a", "b", "c", "a", "c", "a"]);
}

/// Counts its steps and yields forever.
struct Spin(Rc<Cell<u32>>);

impl Task for Spin {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.0.set(self.0.get() + 1);
        Step::Yield
    }
}

#[test]
fn tick_runs_exactly_the_budget() {
    let ex = LocalExecutor::new();
    let steps = Rc::new(Cell::new(0));
    ex.spawn_task(Spin(steps.clone()));

    assert_eq!(ex.tick(5), 5);
    assert_eq!(steps.get(), 5);
    assert_eq!(ex.tick(0), 0);
    assert_eq!(steps.get(), 5);
    assert_eq!(ex.tick(7), 7);
    assert_eq!(steps.get(), 12);
    assert_eq!(ex.len(), 1);
}

#[test]
fn tick_stops_early_when_nothing_is_runnable() {
    let ex = LocalExecutor::new();
    let log = log();
    ex.spawn_task(Logger {
        label: "a",
        steps: 2,
        log: log.clone(),
    });
    ex.spawn_task(Logger {
        label: "b",
        steps: 1,
        log: log.clone(),
    });
    assert_eq!(ex.tick(10), 3);
    assert_eq!(ex.tick(10), 0);
    assert!(ex.is_empty());
}

#[test]
fn run_until_idle_returns_the_number_of_steps() {
    let ex = LocalExecutor::new();
    let log = log();
    for (label, steps) in [("a", 1), ("b", 2), ("c", 3)] {
        ex.spawn_task(Logger {
            label,
            steps,
            log: log.clone(),
        });
    }
    assert_eq!(ex.run_until_idle(), 6);
    assert_eq!(log.borrow().len(), 6);
    assert_eq!(ex.run_until_idle(), 0);
}

/// Advances the shared manual clock by `per_step` on every step and yields forever.
struct Busy {
    clock: ManualClock,
    per_step: Duration,
    steps: Rc<Cell<u32>>,
}

impl Task for Busy {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.clock.advance(self.per_step);
        self.steps.set(self.steps.get() + 1);
        Step::Yield
    }
}

#[test]
fn run_for_runs_steps_until_the_manual_clock_passes_the_budget() {
    let clock = ManualClock::new();
    let ex = LocalExecutor::new().with_clock(clock.clone());
    let steps = Rc::new(Cell::new(0));
    ex.spawn_task(Busy {
        clock: clock.clone(),
        per_step: Duration::from_millis(3),
        steps: steps.clone(),
    });

    // The clock is read before each step: 0, 3, 6 and 9 ms are inside a 10 ms budget.
    assert_eq!(ex.run_for(Duration::from_millis(10)), 4);
    assert_eq!(steps.get(), 4);
    assert_eq!(clock.now_ms(), 12);

    // The next budget starts from the clock's current reading: 12, 15, 18, 21.
    assert_eq!(ex.run_for(Duration::from_millis(10)), 4);
    assert_eq!(clock.now_ms(), 24);

    // A zero budget runs nothing.
    assert_eq!(ex.run_for(Duration::ZERO), 0);
    assert_eq!(steps.get(), 8);
}

#[test]
fn run_for_counts_steps_that_take_no_time_and_stops_when_idle() {
    let clock = ManualClock::new();
    let ex = LocalExecutor::new().with_clock(clock.clone());
    let slow = Rc::new(Cell::new(0));
    let fast = Rc::new(Cell::new(0));
    ex.spawn_task(Busy {
        clock: clock.clone(),
        per_step: Duration::from_millis(5),
        steps: slow.clone(),
    });
    ex.spawn_task(Busy {
        clock: clock.clone(),
        per_step: Duration::ZERO,
        steps: fast.clone(),
    });
    // slow (0 -> 5), fast (5), slow (5 -> 10): the budget is spent.
    assert_eq!(ex.run_for(Duration::from_millis(10)), 3);
    assert_eq!((slow.get(), fast.get()), (2, 1));

    // Tasks that finish make run_for return early, whatever the budget.
    let ex = LocalExecutor::new().with_clock(ManualClock::new());
    let log = log();
    ex.spawn_task(Logger {
        label: "a",
        steps: 2,
        log,
    });
    assert_eq!(ex.run_for(Duration::from_secs(3600)), 2);
    assert!(ex.is_empty());
}

trait NowMs {
    fn now_ms(&self) -> u128;
}

impl NowMs for ManualClock {
    fn now_ms(&self) -> u128 {
        taskyard::Clock::now(self).as_millis()
    }
}

#[test]
fn block_on_sleeps_until_a_waker_fires_on_another_thread() {
    let ex = LocalExecutor::new();

    // The main future waits for a waker fired by another thread.
    let (polled_tx, polled_rx) = mpsc::channel();
    let gate = Gate::reporting(polled_tx);
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            recv(&polled_rx, "the first poll of the main future");
            gate.open();
        })
    };
    ex.block_on(gate.wait());
    opener.join().unwrap();

    // A task of the executor waits for a waker fired by another thread; block_on waits for it.
    let (polled_tx, polled_rx) = mpsc::channel();
    let gate = Gate::reporting(polled_tx);
    let task = {
        let gate = gate.clone();
        ex.spawn(async move {
            gate.wait().await;
            5
        })
    };
    let opener = std::thread::spawn(move || {
        recv(&polled_rx, "the task's first poll");
        gate.open();
    });
    assert_eq!(ex.block_on(task).unwrap(), 5);
    opener.join().unwrap();
    assert!(ex.is_empty());
}

#[test]
fn a_wake_from_another_thread_makes_a_task_runnable_for_tick() {
    let ex = LocalExecutor::new();
    let gate = Gate::new();
    let task = {
        let gate = gate.clone();
        ex.spawn(async move {
            gate.wait().await;
            "opened"
        })
    };
    assert_eq!(ex.run_until_idle(), 1);
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || gate.open())
    };
    opener.join().unwrap();
    assert_eq!(ex.tick(1), 1);
    assert_eq!(task.try_take().unwrap().unwrap(), "opened");
}

#[test]
fn tasks_spawn_tasks_through_an_rc_of_the_executor() {
    let ex = Rc::new(LocalExecutor::new());

    let spawner = ex.clone();
    let outer = ex.spawn(async move {
        let inner = spawner.spawn(async { 21 });
        inner.await.unwrap() * 2
    });

    /// Spawns `n` children from inside its step, then waits for them to report.
    struct FanOut {
        ex: Rc<LocalExecutor>,
        n: usize,
        done: Rc<Cell<usize>>,
        spawned: bool,
    }
    impl Task for FanOut {
        type Output = usize;
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<usize> {
            if !self.spawned {
                self.spawned = true;
                for _ in 0..self.n {
                    let done = self.done.clone();
                    self.ex.spawn(async move { done.set(done.get() + 1) });
                }
                return Step::Yield;
            }
            // The children were queued behind this task, so they have run by now.
            Step::Done(self.done.get())
        }
    }
    let fan = ex.spawn_task(FanOut {
        ex: ex.clone(),
        n: 10,
        done: Rc::new(Cell::new(0)),
        spawned: false,
    });

    ex.run_until_idle();
    assert_eq!(outer.try_take().unwrap().unwrap(), 42);
    assert_eq!(fan.try_take().unwrap().unwrap(), 10);
    assert!(ex.is_empty());
}

#[test]
fn non_send_tasks_run() {
    let ex = LocalExecutor::new();
    let shared = Rc::new(RefCell::new(Vec::new()));

    let fut = {
        let shared = shared.clone();
        ex.spawn(async move {
            shared.borrow_mut().push(1);
            yield_now().await;
            shared.borrow_mut().push(3);
            Rc::new(shared.borrow().len())
        })
    };

    /// A state machine holding an `Rc`.
    struct Pusher(Rc<RefCell<Vec<i32>>>);
    impl Task for Pusher {
        type Output = Rc<str>;
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<Rc<str>> {
            self.0.borrow_mut().push(2);
            Step::Done(Rc::from("pushed"))
        }
    }
    let sm = ex.spawn_task(Pusher(shared.clone()));

    ex.run_until_idle();
    assert_eq!(*shared.borrow(), [1, 2, 3]);
    assert_eq!(*fut.try_take().unwrap().unwrap(), 3);
    assert_eq!(&*sm.try_take().unwrap().unwrap(), "pushed");
}

/// Panics with a formatted message; typed so that futures calling it have an output type.
fn explode(n: u32) -> u32 {
    panic!("kaboom {n}")
}

#[test]
fn a_panicking_task_reports_its_name_and_message_and_others_keep_running() {
    let ex = LocalExecutor::new();
    let before = ex.spawn(async {
        yield_now().await;
        1
    });
    let boom = ex.spawn_named("boom", async {
        yield_now().await;
        explode(7)
    });
    let after = ex.spawn(async {
        yield_now().await;
        yield_now().await;
        2
    });

    ex.run_until_idle();
    let err = boom.try_take().unwrap().unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(err.task_name(), Some("boom"));
    assert_eq!(err.task_id(), boom.id());
    assert_eq!(err.panic_message(), Some("kaboom 7"));
    let text = err.to_string();
    assert!(text.contains("boom") && text.contains("kaboom 7"), "{text}");
    assert_eq!(before.try_take().unwrap().unwrap(), 1);
    assert_eq!(after.try_take().unwrap().unwrap(), 2);
    assert!(ex.is_empty());

    // The executor is still usable.
    let later = ex.spawn(async { 3 });
    ex.run_until_idle();
    assert_eq!(later.try_take().unwrap().unwrap(), 3);
}

#[test]
fn a_state_machine_that_panics_mid_way_ends_with_a_payload() {
    struct PanicAt(u32);
    impl Task for PanicAt {
        type Output = ();
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
            if self.0 == 0 {
                std::panic::panic_any(42_u32);
            }
            self.0 -= 1;
            Step::Yield
        }
    }
    let ex = LocalExecutor::new();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let guard = DropSignal(dropped_tx);
    let handle = ex.spawn_task(PanicAt(2));
    let bystander = ex.spawn(async move {
        let _guard = guard;
        for _ in 0..5 {
            yield_now().await;
        }
    });
    ex.run_until_idle();
    let err = handle.try_take().unwrap().unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.task_name(), None);
    assert_eq!(err.panic_message(), None, "the payload is not a string");
    assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);
    bystander.try_take().unwrap().unwrap();
    assert!(dropped_rx.try_recv().is_ok());
}

#[test]
fn running_the_executor_from_inside_its_own_task_fails_that_task_only() {
    let ex = Rc::new(LocalExecutor::new());
    let inner = ex.clone();
    let reentrant = ex.spawn_named("reentrant", async move {
        inner.tick(1);
    });
    let other = ex.spawn(async { 5 });
    ex.run_until_idle();
    let err = reentrant.try_take().unwrap().unwrap_err();
    assert!(err.is_panic());
    assert!(
        err.panic_message()
            .unwrap()
            .contains("inside one of its own tasks"),
        "{err}"
    );
    assert_eq!(other.try_take().unwrap().unwrap(), 5);
    // The guard was released: the executor runs again.
    let again = ex.spawn(async { 6 });
    ex.run_until_idle();
    assert_eq!(again.try_take().unwrap().unwrap(), 6);
}

/// Counts its steps and waits forever without keeping its waker.
struct Forever {
    steps: Rc<Cell<u32>>,
    _dropped: DropSignal,
}

impl Task for Forever {
    type Output = ();

    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
        self.steps.set(self.steps.get() + 1);
        Step::Pending
    }
}

#[test]
fn cancelling_a_pending_task_ends_it_without_another_step() {
    let ex = LocalExecutor::new();
    let steps = Rc::new(Cell::new(0));
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let handle = ex.spawn_task_with(
        taskyard::SpawnOptions::new().name("sleeper"),
        Forever {
            steps: steps.clone(),
            _dropped: DropSignal(dropped_tx),
        },
    );
    assert_eq!(ex.run_until_idle(), 1);
    assert!(dropped_rx.try_recv().is_err());

    handle.cancel();
    ex.run_until_idle();
    assert!(handle.is_finished());
    let err = handle.try_take().unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert!(!err.is_panic());
    assert_eq!(err.task_name(), Some("sleeper"));
    assert_eq!(steps.get(), 1, "a cancelled task is not stepped again");
    assert!(dropped_rx.try_recv().is_ok(), "the body was dropped");
    assert!(ex.is_empty());
}

#[test]
fn cancelling_a_queued_task_ends_it_before_its_first_step() {
    let ex = LocalExecutor::new();
    let steps = Rc::new(Cell::new(0));
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let cancelled = ex.spawn_task(Forever {
        steps: steps.clone(),
        _dropped: DropSignal(dropped_tx),
    });
    let kept = ex.spawn(async { "kept" });
    cancelled.cancel();
    cancelled.cancel(); // idempotent
    ex.run_until_idle();
    assert!(cancelled.try_take().unwrap().unwrap_err().is_cancelled());
    assert_eq!(steps.get(), 0);
    assert!(dropped_rx.try_recv().is_ok());
    assert_eq!(kept.try_take().unwrap().unwrap(), "kept");
    assert!(ex.is_empty());
}

#[test]
fn cancelling_a_finished_task_keeps_its_output() {
    let ex = LocalExecutor::new();
    let handle = ex.spawn(async { 5 });
    ex.run_until_idle();
    handle.cancel();
    ex.run_until_idle();
    assert_eq!(handle.try_take().unwrap().unwrap(), 5);
}

#[test]
fn a_task_can_cancel_and_await_another() {
    let ex = LocalExecutor::new();
    let victim = ex.spawn_named("victim", std::future::pending::<()>());
    let killer = ex.spawn(async move {
        yield_now().await; // let the victim start waiting
        victim.cancel();
        victim.await
    });
    ex.run_until_idle();
    let err = killer.try_take().unwrap().unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.task_name(), Some("victim"));
    assert!(ex.is_empty());
}

/// Leaves its waker in `slot` and finishes at once.
struct LeaveWakerAndFinish(Rc<RefCell<Option<Waker>>>);

impl Task for LeaveWakerAndFinish {
    type Output = ();

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
        *self.0.borrow_mut() = Some(cx.waker().clone());
        Step::Done(())
    }
}

/// Counts its steps, leaves its waker in `slot` and waits.
struct CountAndWait {
    steps: Rc<Cell<u32>>,
    slot: Rc<RefCell<Option<Waker>>>,
}

impl Task for CountAndWait {
    type Output = ();

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
        self.steps.set(self.steps.get() + 1);
        *self.slot.borrow_mut() = Some(cx.waker().clone());
        Step::Pending
    }
}

#[test]
fn a_stale_waker_does_not_step_the_task_that_reused_its_slot() {
    let ex = LocalExecutor::new();

    // Task A finishes and leaves its waker behind. It was the only task, so its slot is the one
    // the next spawn reuses.
    let a_slot = Rc::new(RefCell::new(None));
    let a = ex.spawn_task(LeaveWakerAndFinish(a_slot.clone()));
    assert_eq!(ex.run_until_idle(), 1);
    a.try_take().unwrap().unwrap();
    assert!(ex.is_empty());
    let stale = a_slot.borrow_mut().take().unwrap();

    // Task B takes A's slot and waits for its own waker.
    let steps = Rc::new(Cell::new(0));
    let b_slot = Rc::new(RefCell::new(None));
    let b = ex.spawn_task(CountAndWait {
        steps: steps.clone(),
        slot: b_slot.clone(),
    });
    assert_eq!(ex.run_until_idle(), 1);
    assert_eq!(steps.get(), 1);

    // A's waker, fired on this thread and from another one, must not run B.
    stale.wake_by_ref();
    assert_eq!(ex.run_until_idle(), 0);
    std::thread::spawn(move || stale.wake()).join().unwrap();
    assert_eq!(ex.run_until_idle(), 0);
    assert_eq!(
        steps.get(),
        1,
        "a stale waker stepped the task that reused its slot"
    );
    assert!(!b.is_finished());

    // B's own waker still works.
    b_slot.borrow_mut().take().unwrap().wake();
    assert_eq!(ex.run_until_idle(), 1);
    assert_eq!(steps.get(), 2);
}

#[test]
fn a_waker_fired_many_times_queues_the_task_once() {
    let ex = LocalExecutor::new();
    let steps = Rc::new(Cell::new(0));
    let slot = Rc::new(RefCell::new(None));
    ex.spawn_task(CountAndWait {
        steps: steps.clone(),
        slot: slot.clone(),
    });
    assert_eq!(ex.run_until_idle(), 1);
    let waker = slot.borrow_mut().take().unwrap();
    for _ in 0..5 {
        waker.wake_by_ref();
    }
    assert_eq!(ex.run_until_idle(), 1);
    assert_eq!(steps.get(), 2);
}

#[test]
fn dropping_the_executor_cancels_remaining_tasks() {
    let ex = LocalExecutor::new();
    let (dropped_tx, dropped_rx) = mpsc::channel();

    // One that waits, one that yields forever, one that never got a step.
    let waiting = ex.spawn_named("waiting", {
        let guard = DropSignal(dropped_tx.clone());
        async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }
    });
    let steps = Rc::new(Cell::new(0));
    let spinning = ex.spawn_task(Spin(steps.clone()));
    ex.tick(4);
    let queued = ex.spawn_named("queued", {
        let guard = DropSignal(dropped_tx);
        async move {
            let _guard = guard;
        }
    });
    assert_eq!(ex.len(), 3);

    drop(ex);
    for handle in [&waiting, &queued] {
        assert!(handle.is_finished());
        let err = handle.try_take().unwrap().unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert_eq!(err.task_name(), handle.name());
    }
    assert!(spinning.try_take().unwrap().unwrap_err().is_cancelled());
    assert_eq!(dropped_rx.try_iter().count(), 2, "the bodies were dropped");
}

#[test]
fn a_join_handle_awaited_in_block_on_sees_a_cancellation() {
    let ex = LocalExecutor::new();
    let handle = ex.spawn(std::future::pending::<u8>());
    ex.run_until_idle();
    handle.cancel();
    assert!(ex.block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    let ex = LocalExecutor::new();
    let ran = Rc::new(Cell::new(false));
    let (dropped_tx, dropped_rx) = mpsc::channel();
    {
        let ran = ran.clone();
        let handle = ex.spawn(async move {
            yield_now().await;
            ran.set(true);
            DropSignal(dropped_tx) // the output
        });
        drop(handle);
    }
    ex.run_until_idle();
    assert!(ran.get(), "a detached task still runs");
    assert!(
        dropped_rx.try_recv().is_ok(),
        "a detached task's output is dropped"
    );
    assert!(ex.is_empty());
}
