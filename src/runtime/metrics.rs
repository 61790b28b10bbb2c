//! Per-worker activity and counters, published through atomics that only the owning worker
//! writes (plain load + store, no read-modify-write) and anyone may read.

use std::time::Duration;

use crate::lane::Lane;
use crate::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What one worker is doing, for metrics now and the blocked-thread detector later.
///
/// `task` is the id of the task in a step (0 when none) and `steps` the number of steps begun.
/// A watchdog that sees the same non-zero `task` and the same `steps` on two ticks knows the step
/// has not returned in between, without the worker reading a clock on every step.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    pub(crate) task: AtomicU64,
    pub(crate) steps: AtomicU64,
}

impl Activity {
    #[inline]
    pub(crate) fn begin_step(&self, task: u64) {
        self.task.store(task, Relaxed);
        self.steps.store(self.steps.load(Relaxed) + 1, Relaxed);
    }

    #[inline]
    pub(crate) fn end_step(&self) {
        self.task.store(0, Relaxed);
    }
}

/// Counters a worker keeps about itself.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) completed: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
    /// Time not parked, up to the last park or the last `busy_since`.
    pub(crate) busy_nanos: AtomicU64,
    /// Clock reading when the worker last woke; `u64::MAX` while parked.
    pub(crate) busy_since: AtomicU64,
}

impl Counters {
    #[inline]
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.store(counter.load(Relaxed) + 1, Relaxed);
    }
}

/// A snapshot of one worker.
///
/// # Examples
///
/// ```
/// let rt = taskyard::Runtime::builder().workers(2).build().unwrap();
/// rt.spawn(async {}).unwrap().join().unwrap();
/// let metrics = rt.metrics();
/// let steps: u64 = metrics.workers.iter().map(|w| w.steps).sum();
/// assert!(steps >= 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Steps begun.
    pub steps: u64,
    /// Tasks that ended on this worker (completed, panicked or cancelled).
    pub tasks_completed: u64,
    /// Tasks taken from another worker's queues.
    pub steals: u64,
    /// Times the worker went to sleep for lack of work.
    pub parks: u64,
    /// Time the worker was not parked (running steps or looking for work).
    pub busy: Duration,
    /// Tasks waiting in this worker's queues, per lane (index with [`Lane::index`]).
    pub queue_depth: [usize; Lane::COUNT],
}

/// A snapshot of the whole runtime.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// One entry per worker, by worker index.
    pub workers: Vec<WorkerMetrics>,
    /// Tasks waiting in the shared injector queue (spawned from outside the workers), per lane.
    pub injector_depth: [usize; Lane::COUNT],
    /// Tasks spawned and not yet ended, whether queued, running or waiting for a wake-up.
    pub live_tasks: usize,
}
