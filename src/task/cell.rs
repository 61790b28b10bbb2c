//! The runtime's task cell: state word, metadata, body and join slot in one allocation.
//!
//! A spawned task is one `Arc<TaskCell<T, S>>`. Run queues and the task registry hold it as
//! `Arc<dyn RawTask>`, its [`JoinHandle`](crate::JoinHandle) as `Arc<dyn Joinable<T::Output>>`,
//! and its wakers as a `Waker` made from the same `Arc`, so spawning allocates once.
//!
//! The body and the join slot have separate locks on purpose: a step may run for a while with
//! the body locked, and a join handle polled meanwhile from another task must not wait for it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll, Wake, Waker};

use super::state::{
    State, TransitionAfterStep, TransitionToCancelled, TransitionToRunning, TransitionToScheduled,
};
use super::{Cx, Step, Task, TaskId, TaskMeta};
use crate::error::JoinError;
use crate::sync::atomic::{AtomicU8, Ordering};
use crate::sync::{Arc, Mutex};

/// How a task ended, as reports record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Outcome {
    /// Still live.
    Live = 0,
    /// The last step returned `Done`.
    Completed = 1,
    /// A step panicked.
    Panicked = 2,
    /// Cancelled after at least one step.
    Cancelled = 3,
    /// Cancelled before its first step.
    CancelledUnstarted = 4,
}

impl Outcome {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Outcome::Completed,
            2 => Outcome::Panicked,
            3 => Outcome::Cancelled,
            4 => Outcome::CancelledUnstarted,
            _ => Outcome::Live,
        }
    }
}

/// Where a task sits in the runtime's registry of live tasks.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RegistrySlot {
    pub(crate) shard: u32,
    pub(crate) key: u32,
}

/// What every task has, whatever its type.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) id: TaskId,
    pub(crate) meta: TaskMeta,
    pub(crate) slot: RegistrySlot,
    outcome: AtomicU8,
}

impl Header {
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::from_u8(self.outcome.load(Ordering::Acquire))
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.meta.name.as_deref()
    }
}

/// The scheduler a task belongs to.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Puts a woken task (owned by the caller, state `SCHEDULED`) into a run queue.
    fn schedule(&self, task: Arc<dyn RawTask>);

    /// A task has ended: forget it and count the outcome, with the panic message of a task
    /// that panicked. Called exactly once per task.
    fn release(&self, header: &Header, outcome: Outcome, panic: Option<&str>);
}

/// What a worker does with a task after running it.
#[must_use]
pub(crate) enum RunResult {
    /// Put it back at the end of its lane.
    Requeue(Arc<dyn RawTask>),
    /// It waits for a wake-up; a waker owns it now.
    Waiting,
    /// It ended (completed, panicked or cancelled).
    Ended,
}

/// A task with its type erased, as queues and the registry hold it.
pub(crate) trait RawTask: Send + Sync + 'static {
    fn header(&self) -> &Header;

    /// Runs one step, or completes the task as cancelled if that was requested.
    fn run(self: Arc<Self>) -> RunResult;

    /// Requests cancellation (at the next yield point if the task is queued or running).
    fn cancel(&self);
}

/// The join side of a task, with its body type erased.
pub(crate) trait Joinable<O>: Send + Sync {
    fn header(&self) -> &Header;
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<O, JoinError>>;
    fn try_take(&self) -> Option<Result<O, JoinError>>;
    fn detach(&self);
    fn cancel(&self);
}

struct JoinSlot<O> {
    output: Option<Result<O, JoinError>>,
    waker: Option<Waker>,
    detached: bool,
    taken: bool,
}

/// The task itself and its waker, both dropped when the task ends.
///
/// The waker holds a reference to the cell that holds it: that cycle is what lets a step run
/// without making a waker (two reference-count updates) each time, and it is broken when the
/// task ends, which every task does (shutdown cancels whatever is left).
struct Body<T> {
    task: Option<T>,
    waker: Option<Waker>,
}

pub(crate) struct TaskCell<T: Task, S> {
    header: Header,
    scheduler: Arc<S>,
    body: Mutex<Body<T>>,
    join: Mutex<JoinSlot<T::Output>>,
}

impl<T, S> TaskCell<T, S>
where
    T: Task + Send + 'static,
    T::Output: Send + 'static,
    S: Schedule,
{
    /// A new task in state `SCHEDULED`, owned by the caller, who must push it to a queue.
    pub(crate) fn new(
        task: T,
        id: TaskId,
        meta: TaskMeta,
        slot: RegistrySlot,
        scheduler: Arc<S>,
    ) -> Arc<Self> {
        Arc::new(TaskCell {
            header: Header {
                state: State::new_scheduled(),
                id,
                meta,
                slot,
                outcome: AtomicU8::new(Outcome::Live as u8),
            },
            scheduler,
            body: Mutex::new(Body {
                task: Some(task),
                waker: None,
            }),
            join: Mutex::new(JoinSlot {
                output: None,
                waker: None,
                detached: false,
                taken: false,
            }),
        })
    }

    /// Ends the task: drops the body if still there, publishes the result, wakes the joiner and
    /// releases the task from the scheduler. Called once, by the task's owner.
    /// Takes the task and its waker out of the cell (the caller drops them outside the lock).
    fn take_body(&self) -> (Option<T>, Option<Waker>) {
        let mut body = self.body.lock();
        (body.task.take(), body.waker.take())
    }

    /// `body` is what [`take_body`](Self::take_body) returned: the task's own state, dropped
    /// here so that a destructor that panics is caught like a step.
    fn complete(
        &self,
        result: Result<T::Output, JoinError>,
        outcome: Outcome,
        body: (Option<T>, Option<Waker>),
    ) {
        let panic: Option<Box<str>> = match &result {
            Err(err) if err.is_panic() => {
                Some(err.panic_message().unwrap_or("<non-string payload>").into())
            }
            _ => None,
        };
        // A body whose destructor panics must not take the worker down either.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(body)));
        self.header.state.transition_to_complete();
        self.header.outcome.store(outcome as u8, Ordering::Release);
        // Released before the output is published, so whoever joins sees the task gone from
        // the registry and counted in the metrics.
        self.scheduler
            .release(&self.header, outcome, panic.as_deref());
        let (waker, unclaimed) = {
            let mut join = self.join.lock();
            if join.detached {
                (None, Some(result))
            } else {
                join.output = Some(result);
                (join.waker.take(), None)
            }
        };
        // Outside the lock: both may run user code. An output nobody will read is dropped
        // here, on the worker, so a destructor that panics must not take the worker down.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(unclaimed)));
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn complete_cancelled(&self) {
        let outcome = if self.header.state.load().is_started() {
            Outcome::Cancelled
        } else {
            Outcome::CancelledUnstarted
        };
        let err = JoinError::cancelled(self.header.id, self.header.name());
        self.complete(Err(err), outcome, self.take_body());
    }
}

impl<T, S> RawTask for TaskCell<T, S>
where
    T: Task + Send + 'static,
    T::Output: Send + 'static,
    S: Schedule,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn run(self: Arc<Self>) -> RunResult {
        if self.header.state.transition_to_running() == TransitionToRunning::Cancelled {
            self.complete_cancelled();
            return RunResult::Ended;
        }
        // `Ok(yielded)`: the task goes on. `Err`: it ended, and gave up its body under the lock
        // already held rather than a second one.
        let step = {
            let mut body = self.body.lock();
            let Body { task, waker } = &mut *body;
            let cx_waker = waker.get_or_insert_with(|| Waker::from(self.clone()));
            let mut cx = Cx::new(cx_waker, self.header.id, self.header.meta.lane);
            let running = task.as_mut().expect("a running task has its body");
            match catch_unwind(AssertUnwindSafe(|| running.step(&mut cx))) {
                Ok(Step::Yield) => Ok(true),
                Ok(Step::Pending) => Ok(false),
                Ok(Step::Done(output)) => Err((Ok(output), (task.take(), waker.take()))),
                Err(payload) => Err((Err(payload), (task.take(), waker.take()))),
            }
        };
        let yielded = match step {
            Ok(yielded) => yielded,
            Err((Ok(output), body)) => {
                self.complete(Ok(output), Outcome::Completed, body);
                return RunResult::Ended;
            }
            Err((Err(payload), body)) => {
                let err = JoinError::panic(self.header.id, self.header.name(), payload);
                self.complete(Err(err), Outcome::Panicked, body);
                return RunResult::Ended;
            }
        };
        match self.header.state.transition_after_step(yielded) {
            TransitionAfterStep::Requeue => RunResult::Requeue(self),
            TransitionAfterStep::Idle => RunResult::Waiting,
            TransitionAfterStep::Cancel => {
                self.complete_cancelled();
                RunResult::Ended
            }
        }
    }

    fn cancel(&self) {
        if self.header.state.request_cancel() == TransitionToCancelled::CancelNow {
            self.complete_cancelled();
        }
    }
}

impl<T, S> Wake for TaskCell<T, S>
where
    T: Task + Send + 'static,
    T::Output: Send + 'static,
    S: Schedule,
{
    fn wake(self: Arc<Self>) {
        if self.header.state.transition_to_scheduled() == TransitionToScheduled::Submit {
            let scheduler = self.scheduler.clone();
            scheduler.schedule(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.header.state.transition_to_scheduled() == TransitionToScheduled::Submit {
            self.scheduler.schedule(self.clone());
        }
    }
}

impl<T, S> Joinable<T::Output> for TaskCell<T, S>
where
    T: Task + Send + 'static,
    T::Output: Send + 'static,
    S: Schedule,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T::Output, JoinError>> {
        let mut join = self.join.lock();
        if let Some(output) = join.output.take() {
            join.taken = true;
            return Poll::Ready(output);
        }
        assert!(
            !join.taken,
            "JoinHandle polled after it returned its output"
        );
        match &join.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => join.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn try_take(&self) -> Option<Result<T::Output, JoinError>> {
        let mut join = self.join.lock();
        let output = join.output.take();
        join.taken |= output.is_some();
        output
    }

    fn detach(&self) {
        let output = {
            let mut join = self.join.lock();
            join.detached = true;
            join.waker = None;
            join.output.take()
        };
        drop(output);
    }

    fn cancel(&self) {
        RawTask::cancel(self);
    }
}

#[cfg(test)]
mod tests {
    /// Every pending task costs one cell: a budget on its size catches a field that would make
    /// a million pending tasks grow by megabytes. (64-bit targets.)
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn cell_stays_within_its_budget() {
        struct Waits;
        impl crate::Task for Waits {
            type Output = ();
            fn step(&mut self, _cx: &mut crate::Cx<'_>) -> crate::Step<()> {
                crate::Step::Pending
            }
        }
        type Cell = super::TaskCell<Waits, crate::runtime::SharedForProbe>;
        assert!(std::mem::size_of::<super::Header>() <= 56);
        assert!(
            std::mem::size_of::<Cell>() <= 144,
            "{}",
            std::mem::size_of::<Cell>()
        );
    }
}
