//! Graceful shutdown and the [`ShutdownReport`] that accounts for every task.
//!
//! The drain, in order:
//!
//! 1. close the registry: from here on a spawn is refused, and the tasks it holds are exactly the
//!    tasks the report will name (a spawn racing this step is either refused or in that set);
//! 2. let the workers run until no task is live or the deadline passes on the runtime's clock;
//! 3. request cancellation of every task still live: a waiting task is cancelled by this thread
//!    at once, a queued one by the worker that pops it, a running one when its step returns;
//! 4. tell the workers to stop: each one works until nothing is visible in any queue, then exits;
//!    a task pushed to the injector after that (a spawn or a wake racing the stop) is ended by
//!    whichever of the pusher and this thread looks second: the pusher checks `stopping` after a
//!    `SeqCst` fence, this thread drains the queues after its own;
//! 5. wait for the workers, for a grace period only: a step that never returns keeps its thread,
//!    and its task is reported as [`TaskOutcome::Abandoned`].

use std::fmt;
use std::time::Duration;

use super::Shared;
use super::registry::{Failure, Totals};
use crate::lane::Lane;
use crate::sync::Arc;
use crate::sync::atomic::{Ordering::SeqCst, fence};
use crate::sync::thread::JoinHandle;
use crate::task::TaskId;
use crate::task::cell::{Outcome, RawTask};
use crate::time::{Clock, SystemClock};

/// How long shutdown waits for workers after the deadline, for steps to return.
const GRACE: Duration = Duration::from_millis(500);

/// How often a waiting shutdown looks again without being woken: manual time does not wake a
/// sleeping thread, and a task whose step stops returning ("only stuck tasks are left") signals
/// nothing either.
const DRAIN_POLL: Duration = Duration::from_millis(1);

/// How a task live at shutdown ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// Its last step returned `Done`.
    Completed,
    /// A step panicked; the message if the payload was a string.
    Failed {
        /// The panic message.
        message: Option<String>,
    },
    /// Cancelled after it had run at least one step.
    Cancelled,
    /// Cancelled before its first step.
    NeverStarted,
    /// Still inside a step when shutdown gave up waiting for its worker.
    Abandoned,
}

/// One task in a [`ShutdownReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRecord {
    id: TaskId,
    name: Option<String>,
    lane: Lane,
    outcome: TaskOutcome,
}

impl TaskRecord {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }
    /// The task's name, if it had one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The task's lane.
    pub fn lane(&self) -> Lane {
        self.lane
    }
    /// How the task ended.
    pub fn outcome(&self) -> &TaskOutcome {
        &self.outcome
    }
}

/// Lifetime counts of a runtime's tasks. After shutdown,
/// `spawned == completed + failed + cancelled + never_started + abandoned`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskTotals {
    /// Tasks accepted by a spawn.
    pub spawned: u64,
    /// Tasks whose last step returned `Done`.
    pub completed: u64,
    /// Tasks whose step panicked.
    pub failed: u64,
    /// Tasks cancelled after their first step.
    pub cancelled: u64,
    /// Tasks cancelled before their first step.
    pub never_started: u64,
    /// Tasks still inside a step when shutdown gave up on their worker.
    pub abandoned: u64,
}

/// What shutdown did with every task: each task live when shutdown began, by id and name, and
/// lifetime totals over all tasks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::Runtime;
///
/// let rt = Runtime::builder().workers(1).build().unwrap();
/// rt.spawn_named("fails", async { panic!("disk full") }).unwrap();
/// rt.spawn_named("waits", std::future::pending::<()>()).unwrap();
/// let report = rt.shutdown(Duration::ZERO);
/// let totals = report.totals();
/// assert_eq!(totals.spawned, 2);
/// assert_eq!(totals.spawned, totals.completed + totals.failed + totals.cancelled
///     + totals.never_started + totals.abandoned);
/// assert!(!report.is_clean());
/// println!("{report}");
/// ```
#[derive(Clone, Debug, Default)]
pub struct ShutdownReport {
    tasks: Vec<TaskRecord>,
    failures: Vec<TaskRecord>,
    totals: TaskTotals,
}

impl ShutdownReport {
    /// Every task that was live when shutdown began, ordered by id.
    pub fn tasks(&self) -> &[TaskRecord] {
        &self.tasks
    }

    /// Tasks that panicked over the runtime's whole life, not only during shutdown: the most
    /// recent 256 per registry shard (older ones are only counted in
    /// [`totals`](Self::totals)), ordered by id.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// let failed = rt.spawn_named("early", async { panic!("bad input") }).unwrap();
    /// assert!(failed.join().is_err()); // long before shutdown
    /// let report = rt.shutdown(Duration::ZERO);
    /// assert_eq!(report.failures()[0].name(), Some("early"));
    /// ```
    pub fn failures(&self) -> &[TaskRecord] {
        &self.failures
    }

    /// Lifetime counts over every task the runtime accepted.
    pub fn totals(&self) -> TaskTotals {
        self.totals
    }

    fn with_outcome(&self, f: fn(&TaskOutcome) -> bool) -> impl Iterator<Item = &TaskRecord> {
        self.tasks.iter().filter(move |t| f(&t.outcome))
    }

    /// Tasks live at shutdown that completed during the drain.
    pub fn completed(&self) -> impl Iterator<Item = &TaskRecord> {
        self.with_outcome(|o| matches!(o, TaskOutcome::Completed))
    }

    /// Tasks live at shutdown that panicked during the drain.
    pub fn failed(&self) -> impl Iterator<Item = &TaskRecord> {
        self.with_outcome(|o| matches!(o, TaskOutcome::Failed { .. }))
    }

    /// Tasks cancelled at the deadline after running at least one step.
    pub fn cancelled(&self) -> impl Iterator<Item = &TaskRecord> {
        self.with_outcome(|o| matches!(o, TaskOutcome::Cancelled))
    }

    /// Tasks cancelled at the deadline before their first step.
    pub fn never_started(&self) -> impl Iterator<Item = &TaskRecord> {
        self.with_outcome(|o| matches!(o, TaskOutcome::NeverStarted))
    }

    /// Tasks whose step had not returned when shutdown gave up waiting.
    pub fn abandoned(&self) -> impl Iterator<Item = &TaskRecord> {
        self.with_outcome(|o| matches!(o, TaskOutcome::Abandoned))
    }

    /// No task failed, was cancelled or abandoned over the runtime's life.
    pub fn is_clean(&self) -> bool {
        let t = self.totals;
        t.failed == 0 && t.cancelled == 0 && t.never_started == 0 && t.abandoned == 0
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.totals;
        writeln!(
            f,
            "{} spawned: {} completed, {} failed, {} cancelled, {} never started, {} abandoned",
            t.spawned, t.completed, t.failed, t.cancelled, t.never_started, t.abandoned
        )?;
        for task in self
            .tasks
            .iter()
            .filter(|t| t.outcome != TaskOutcome::Completed)
        {
            let name = task.name.as_deref().unwrap_or("<unnamed>");
            write!(f, "  {} {name} ({}): ", task.id, task.lane)?;
            match &task.outcome {
                TaskOutcome::Failed { message: Some(m) } => writeln!(f, "failed: {m}")?,
                TaskOutcome::Failed { message: None } => writeln!(f, "failed")?,
                TaskOutcome::Cancelled => writeln!(f, "cancelled")?,
                TaskOutcome::NeverStarted => writeln!(f, "never started")?,
                TaskOutcome::Abandoned => writeln!(f, "abandoned inside a step")?,
                TaskOutcome::Completed => unreachable!(),
            }
        }
        Ok(())
    }
}

pub(super) fn shutdown(
    shared: &Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    deadline: Duration,
) -> ShutdownReport {
    let clock = &shared.clock;
    let deadline_at = clock.now().saturating_add(deadline);
    let snapshot = shared.registry.close();

    // Until no task is live or the deadline passes on the runtime's clock.
    loop {
        let remaining = deadline_at.saturating_sub(clock.now());
        if remaining.is_zero() {
            break;
        }
        let timeout = if clock.is_real() {
            remaining
        } else {
            DRAIN_POLL
        };
        if shared
            .registry
            .wait_until(timeout, |registry| registry.live() == 0)
        {
            break;
        }
    }
    shared.cancelling.store(true, SeqCst);
    for task in shared.registry.live_tasks() {
        task.cancel();
    }
    shared.stopping.store(true, SeqCst);
    fence(SeqCst);
    shared.idle.notify_all(&shared.remotes);

    // One grace period for both waits below, in real time on purpose: a stuck step is stuck in
    // real time, whatever clock drives tasks.
    let grace = SystemClock::new();
    let give_up_at = grace.now() + GRACE;
    let all_exited = {
        let mut exited = shared.exited.lock();
        while *exited < shared.remotes.len() {
            let remaining = give_up_at.saturating_sub(grace.now());
            if remaining.is_zero() {
                break;
            }
            shared.exited_cv.wait_for(&mut exited, remaining);
        }
        *exited == shared.remotes.len()
    };
    // A push that raced the workers' exit is seen here, or its pusher saw `stopping` and
    // cleans up itself (see `Shared::push`). Either way, wait for it before reporting: the only
    // tasks allowed to stay live are those inside a step that has not returned.
    loop {
        shared.cancel_queued();
        let only_stuck = |registry: &super::registry::Registry| {
            registry
                .live_tasks()
                .iter()
                .all(|task| task.header().state.load().is_running())
        };
        let remaining = give_up_at.saturating_sub(grace.now());
        if remaining.is_zero()
            || shared
                .registry
                .wait_until(remaining.min(DRAIN_POLL), only_stuck)
        {
            break;
        }
    }
    if all_exited {
        for thread in threads {
            // Workers catch task panics; a worker thread itself does not panic.
            let _ = thread.join();
        }
    }
    // Otherwise the threads are detached: a step that never returns keeps its worker.
    report(
        snapshot,
        shared.registry.totals(),
        shared.registry.failures(),
    )
}

fn report(
    snapshot: Vec<Arc<dyn RawTask>>,
    totals: Totals,
    failures: Vec<Failure>,
) -> ShutdownReport {
    let message_of = |id: TaskId| {
        failures
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.message.to_string())
    };
    let mut tasks: Vec<TaskRecord> = snapshot
        .iter()
        .map(|task| {
            let header = task.header();
            let outcome = match header.outcome() {
                Outcome::Completed => TaskOutcome::Completed,
                Outcome::Panicked => TaskOutcome::Failed {
                    message: message_of(header.id),
                },
                Outcome::Cancelled => TaskOutcome::Cancelled,
                Outcome::CancelledUnstarted => TaskOutcome::NeverStarted,
                Outcome::Live => TaskOutcome::Abandoned,
            };
            TaskRecord {
                id: header.id,
                name: header.name().map(str::to_owned),
                lane: header.meta.lane,
                outcome,
            }
        })
        .collect();
    tasks.sort_by_key(|t| t.id);
    let mut failures: Vec<TaskRecord> = failures
        .into_iter()
        .map(|f| TaskRecord {
            id: f.id,
            name: f.name.map(String::from),
            lane: f.lane,
            outcome: TaskOutcome::Failed {
                message: Some(f.message.into()),
            },
        })
        .collect();
    failures.sort_by_key(|t| t.id);
    let ended = totals.completed + totals.panicked + totals.cancelled + totals.cancelled_unstarted;
    ShutdownReport {
        tasks,
        failures,
        totals: TaskTotals {
            spawned: totals.spawned,
            completed: totals.completed,
            failed: totals.panicked,
            cancelled: totals.cancelled,
            never_started: totals.cancelled_unstarted,
            abandoned: totals.spawned - ended,
        },
    }
}
