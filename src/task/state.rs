//! The lifecycle of a runtime task in one atomic word.
//!
//! ```text
//!            wake / spawn                 pop
//!   IDLE ─────────────────▶ SCHEDULED ───────────▶ RUNNING ──Done/panic──▶ COMPLETE
//!    ▲                          ▲                    │  ▲
//!    │        Pending           │ Yield, or Pending  │  │ wake while running
//!    └──────────────────────────┼── with NOTIFIED ◀──┘  └── sets NOTIFIED
//! ```
//!
//! * `SCHEDULED`: the task is in exactly one run queue (or owned by whoever set the bit and is
//!   about to push or cancel it). Never together with `RUNNING` or `COMPLETE`.
//! * `RUNNING`: one worker is inside `step`. Never together with `SCHEDULED` or `COMPLETE`.
//! * `NOTIFIED`: woken while `RUNNING`; the worker re-queues the task after the step instead of
//!   letting it go idle. Only together with `RUNNING`.
//! * `COMPLETE`: terminal; the body has been dropped. Alone, or with `CANCELLED` / `STARTED`.
//! * `CANCELLED`: cancellation was requested; whoever next owns the task completes it as
//!   cancelled instead of stepping it. May coexist with anything.
//! * `STARTED`: the first step has begun (the shutdown report tells "never started" apart).
//!
//! Exactly one party owns a task at a time: the queue that holds it (`SCHEDULED`), the worker
//! stepping it (`RUNNING`), or nobody (`IDLE`, held only by wakers). Every transition is one
//! compare-exchange loop and returns what the caller must do next.

use crate::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};

const SCHEDULED: usize = 1 << 0;
const RUNNING: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const COMPLETE: usize = 1 << 3;
const CANCELLED: usize = 1 << 4;
const STARTED: usize = 1 << 5;

/// A copy of the state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_started(self) -> bool {
        self.0 & STARTED != 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    #[cfg(test)]
    pub(crate) fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
}

/// What a waker must do after [`State::transition_to_scheduled`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToScheduled {
    /// The task was idle and is now owned by the caller: push it to a run queue.
    Submit,
    /// Already queued, running (now notified) or complete: nothing to do.
    DoNothing,
}

/// What a worker must do after [`State::transition_to_running`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Step the task.
    Success,
    /// Cancellation was requested: complete the task as cancelled without stepping it.
    Cancelled,
}

/// What a worker must do after a step returned [`Step::Yield`](crate::Step::Yield) or
/// [`Step::Pending`](crate::Step::Pending).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionAfterStep {
    /// Push the task back to a run queue (it yielded, or was woken during the step).
    Requeue,
    /// The task waits for a wake-up; drop the worker's reference.
    Idle,
    /// Cancellation was requested: complete the task as cancelled.
    Cancel,
}

/// What [`State::request_cancel`] leaves to the caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToCancelled {
    /// The task was idle: the caller now owns it and must complete it as cancelled.
    CancelNow,
    /// Queued or running: its owner will see the request at its next yield point.
    Deferred,
    /// Already complete.
    AlreadyComplete,
}

/// The state word of one task.
#[derive(Debug)]
pub(crate) struct State(AtomicUsize);

impl State {
    /// A freshly spawned task: owned by the spawner, which pushes it to a queue.
    pub(crate) fn new_scheduled() -> Self {
        State(AtomicUsize::new(SCHEDULED))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// One compare-exchange loop: `f` maps the current word to the next and a result, or
    /// returns `None` for "leave the word as it is" with a result.
    fn transition<R>(&self, mut f: impl FnMut(usize) -> (Option<usize>, R)) -> R {
        let mut current = self.0.load(Acquire);
        loop {
            let (next, result) = f(current);
            let Some(next) = next else { return result };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// A wake-up. `AcqRel`: the worker that later runs the task sees what the waker wrote
    /// before waking it.
    pub(crate) fn transition_to_scheduled(&self) -> TransitionToScheduled {
        self.transition(|s| {
            if s & (COMPLETE | SCHEDULED) != 0 || s & (RUNNING | NOTIFIED) == RUNNING | NOTIFIED {
                (None, TransitionToScheduled::DoNothing)
            } else if s & RUNNING != 0 {
                (Some(s | NOTIFIED), TransitionToScheduled::DoNothing)
            } else {
                (Some(s | SCHEDULED), TransitionToScheduled::Submit)
            }
        })
    }

    /// A worker popped the task from a queue.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.transition(|s| {
            debug_assert!(
                s & SCHEDULED != 0 && s & (RUNNING | COMPLETE) == 0,
                "bad state {s:#b}"
            );
            if s & CANCELLED != 0 {
                // Keep SCHEDULED: the popping worker owns the task until it completes it.
                (None, TransitionToRunning::Cancelled)
            } else {
                (
                    Some((s & !SCHEDULED) | RUNNING | STARTED),
                    TransitionToRunning::Success,
                )
            }
        })
    }

    /// The step returned `Yield` (`yielded`) or `Pending`.
    pub(crate) fn transition_after_step(&self, yielded: bool) -> TransitionAfterStep {
        self.transition(|s| {
            debug_assert!(s & RUNNING != 0, "bad state {s:#b}");
            if s & CANCELLED != 0 {
                (None, TransitionAfterStep::Cancel)
            } else if yielded || s & NOTIFIED != 0 {
                (
                    Some((s & !(RUNNING | NOTIFIED)) | SCHEDULED),
                    TransitionAfterStep::Requeue,
                )
            } else {
                (Some(s & !RUNNING), TransitionAfterStep::Idle)
            }
        })
    }

    /// Terminal transition, made by the task's owner. Returns the final snapshot.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        self.transition(|s| {
            debug_assert!(s & COMPLETE == 0, "task completed twice");
            let next = (s & !(SCHEDULED | RUNNING | NOTIFIED)) | COMPLETE;
            (Some(next), Snapshot(next))
        })
    }

    /// Requests cancellation. An idle task has no owner, so the caller takes it over.
    pub(crate) fn request_cancel(&self) -> TransitionToCancelled {
        self.transition(|s| {
            if s & COMPLETE != 0 {
                (None, TransitionToCancelled::AlreadyComplete)
            } else if s & (SCHEDULED | RUNNING) != 0 {
                (Some(s | CANCELLED), TransitionToCancelled::Deferred)
            } else {
                // SCHEDULED without a queue: wakers now see "already queued" and keep off.
                (
                    Some(s | CANCELLED | SCHEDULED),
                    TransitionToCancelled::CancelNow,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_while_running_requeues_after_pending() {
        let state = State::new_scheduled();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(
            state.transition_to_scheduled(),
            TransitionToScheduled::DoNothing
        );
        assert_eq!(
            state.transition_to_scheduled(),
            TransitionToScheduled::DoNothing
        );
        assert_eq!(
            state.transition_after_step(false),
            TransitionAfterStep::Requeue
        );
        assert!(state.load().is_scheduled());
    }

    #[test]
    fn pending_without_wake_goes_idle_and_next_wake_submits_once() {
        let state = State::new_scheduled();
        let _ = state.transition_to_running();
        assert_eq!(
            state.transition_after_step(false),
            TransitionAfterStep::Idle
        );
        assert_eq!(
            state.transition_to_scheduled(),
            TransitionToScheduled::Submit
        );
        assert_eq!(
            state.transition_to_scheduled(),
            TransitionToScheduled::DoNothing
        );
    }

    #[test]
    fn cancel_of_idle_task_hands_it_to_the_canceller() {
        let state = State::new_scheduled();
        let _ = state.transition_to_running();
        let _ = state.transition_after_step(false);
        assert_eq!(state.request_cancel(), TransitionToCancelled::CancelNow);
        // A late wake must not queue a task that the canceller owns.
        assert_eq!(
            state.transition_to_scheduled(),
            TransitionToScheduled::DoNothing
        );
        let done = state.transition_to_complete();
        assert!(done.is_complete() && done.is_started());
        assert_eq!(
            state.request_cancel(),
            TransitionToCancelled::AlreadyComplete
        );
    }

    #[test]
    fn cancel_of_queued_task_is_seen_when_popped() {
        let state = State::new_scheduled();
        assert_eq!(state.request_cancel(), TransitionToCancelled::Deferred);
        assert_eq!(
            state.transition_to_running(),
            TransitionToRunning::Cancelled
        );
        assert!(!state.transition_to_complete().is_started());
    }

    #[test]
    fn cancel_of_running_task_is_seen_after_the_step() {
        let state = State::new_scheduled();
        let _ = state.transition_to_running();
        assert_eq!(state.request_cancel(), TransitionToCancelled::Deferred);
        assert_eq!(
            state.transition_after_step(true),
            TransitionAfterStep::Cancel
        );
    }
}
