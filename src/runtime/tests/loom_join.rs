//! Join handle completion against drop and cancel, and a wake racing the step that registered it.

use std::task::Waker;

use super::support::{QueueScheduler, new_task};
use crate::sync::atomic::Ordering::SeqCst;
use crate::sync::{Arc, Mutex, thread};
use crate::task::cell::{RawTask, RunResult};
use crate::task::{Cx, JoinHandle, Step, Task};

/// Done on its first step.
struct Immediate;
impl Task for Immediate {
    type Output = u32;
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u32> {
        Step::Done(7)
    }
}

/// Where a waker waits for its wake-up; a wake that comes before the waker is registered is
/// remembered, as a real event source (a channel, a timer) would remember it.
#[derive(Default)]
struct Event {
    waker: Option<Waker>,
    fired: bool,
}

/// Waits for one `Event`, then completes.
struct WaitsOnce {
    event: Arc<Mutex<Event>>,
}
impl Task for WaitsOnce {
    type Output = ();
    fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
        let mut event = self.event.lock();
        if event.fired {
            return Step::Done(());
        }
        event.waker = Some(cx.waker().clone());
        Step::Pending
    }
}

/// An [`Immediate`] task, its join handle, and a thread that runs its one step.
fn immediate_on_a_worker() -> (Arc<QueueScheduler>, JoinHandle<u32>, thread::JoinHandle<()>) {
    let scheduler = Arc::new(QueueScheduler::default());
    let cell = new_task(Immediate, &scheduler);
    let handle = JoinHandle::new(cell.clone());
    let worker = thread::spawn(move || {
        let _ = (cell as Arc<dyn RawTask>).run();
    });
    (scheduler, handle, worker)
}

#[test]
fn loom_join_completion_races_awaiting_joiner() {
    loom::model(|| {
        let (scheduler, handle, worker) = immediate_on_a_worker();
        assert_eq!(crate::park::block_on(handle).unwrap(), 7);
        worker.join().unwrap();
        assert_eq!(scheduler.released.load(SeqCst), 1);
    });
}

#[test]
fn loom_join_completion_races_handle_drop() {
    loom::model(|| {
        let (scheduler, handle, worker) = immediate_on_a_worker();
        drop(handle);
        worker.join().unwrap();
        assert_eq!(scheduler.released.load(SeqCst), 1);
    });
}

#[test]
fn loom_join_cancel_races_run() {
    loom::model(|| {
        let (scheduler, handle, worker) = immediate_on_a_worker();
        handle.cancel();
        let result = crate::park::block_on(&mut { handle });
        worker.join().unwrap();
        // Either the step won (output) or the cancel did; never both, never neither.
        match result {
            Ok(v) => assert_eq!(v, 7),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(scheduler.released.load(SeqCst), 1);
    });
}

#[test]
fn loom_wake_races_the_step_that_registered_it() {
    loom::model(|| {
        let scheduler = Arc::new(QueueScheduler::default());
        let event = Arc::new(Mutex::new(Event::default()));
        let cell = new_task(
            WaitsOnce {
                event: event.clone(),
            },
            &scheduler,
        );
        let handle = JoinHandle::new(cell.clone());

        // The wake may land before, during or after the first step.
        let waker_thread = thread::spawn(move || {
            let waker = {
                let mut event = event.lock();
                event.fired = true;
                event.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        let mut requeued = 0;
        if let RunResult::Requeue(task) = (cell as Arc<dyn RawTask>).run() {
            // Woken while running: the worker puts it back itself.
            requeued += 1;
            let _ = task.run();
        }
        waker_thread.join().unwrap();
        scheduler.run_queued();
        assert!(handle.try_take().unwrap().is_ok());
        assert_eq!(scheduler.released.load(SeqCst), 1);
        // At most one resubmission, by the waker or by the worker, never both.
        assert!(scheduler.scheduled.load(SeqCst) + requeued <= 1);
    });
}
