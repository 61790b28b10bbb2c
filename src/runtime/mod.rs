//! The multi-threaded runtime: one single-threaded step loop per worker thread, work stealing
//! between them, priority lanes inside each.
//!
//! * [`builder.rs`](builder) configures and starts it;
//! * [`worker.rs`](worker) is the step loop and its find-work order;
//! * [`idle.rs`](idle) is the sleep protocol (park/unpark without lost wake-ups);
//! * [`registry.rs`](registry) keeps every live task so that shutdown accounts for all of them;
//! * [`shutdown.rs`](shutdown) is the drain and its [`ShutdownReport`];
//! * [`metrics.rs`](metrics) holds the per-worker activity record and counters.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::error::SpawnError;
use crate::lane::{Lane, LaneShares};
use crate::park::Parker;
use crate::sync::atomic::{AtomicBool, Ordering, Ordering::SeqCst};
use crate::sync::deque::{Injector, Steal, Stealer, Worker as LocalQueue};
use crate::sync::{Arc, Condvar, Mutex};
use crate::task::cell::{Header, Outcome, RawTask, Schedule, TaskCell};
use crate::task::{FutureTask, JoinHandle, SpawnOptions, Task, TaskId, TaskMeta};
use crate::time::SharedClock;

mod builder;
pub(crate) mod idle;
pub(crate) mod metrics;
mod registry;
mod shutdown;
mod worker;

#[cfg(all(test, taskyard_loom))]
mod tests;

pub use builder::Builder;
pub(crate) use builder::default_workers;
pub use metrics::{RuntimeMetrics, WorkerMetrics};
pub use shutdown::{ShutdownReport, TaskOutcome, TaskRecord, TaskTotals};

use idle::Idle;
use metrics::{Activity, Counters};
use registry::Registry;

/// A task as queues hold it.
pub(crate) type TaskRef = Arc<dyn RawTask>;
#[cfg(test)]
/// Names the runtime's scheduler for size tests of task cells.
pub(crate) type SharedForProbe = Shared;

/// What other threads can see of one worker.
pub(crate) struct Remote {
    stealers: [Stealer<TaskRef>; Lane::COUNT],
    parker: Parker,
    activity: CachePadded<Activity>,
    counters: CachePadded<Counters>,
}

impl AsRef<Parker> for Remote {
    fn as_ref(&self) -> &Parker {
        &self.parker
    }
}

/// State shared by the workers and every [`Handle`].
pub(crate) struct Shared {
    injector: [Injector<TaskRef>; Lane::COUNT],
    remotes: Box<[Remote]>,
    idle: Idle,
    registry: Registry,
    shares: LaneShares,
    clock: SharedClock,
    /// Set once the shutdown deadline has passed and every live task was told to cancel:
    /// workers finish what is queued (cancelling it) and exit.
    stopping: AtomicBool,
    /// Set when the shutdown deadline passes, before live tasks are told to cancel one by one:
    /// a worker that pops a task after this cancels it rather than stepping it.
    cancelling: AtomicBool,
    exited: Mutex<usize>,
    exited_cv: Condvar,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.remotes.len())
            .finish_non_exhaustive()
    }
}

/// The queues a worker thread owns. Shared with the thread-local context (`Rc`), so a task that
/// spawns or wakes another from inside a step pushes to its own worker's queue.
pub(crate) struct WorkerLocal {
    index: usize,
    queues: [LocalQueue<TaskRef>; Lane::COUNT],
}

/// The runtime a thread is in: a worker's, or one entered by `block_on`.
struct Entered {
    shared: Arc<Shared>,
    worker: Option<Rc<WorkerLocal>>,
}

crate::sync::thread_local! {
    static CONTEXT: RefCell<Option<Entered>> = const { RefCell::new(None) };
}

/// Restores the thread's previous context when dropped.
struct EnterGuard(Option<Entered>);

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        CONTEXT.with(|ctx| *ctx.borrow_mut() = previous);
    }
}

fn enter(shared: Arc<Shared>, worker: Option<Rc<WorkerLocal>>) -> EnterGuard {
    let previous = CONTEXT.with(|ctx| ctx.borrow_mut().replace(Entered { shared, worker }));
    EnterGuard(previous)
}

impl Shared {
    fn is_current(&self, entered: &Entered) -> bool {
        std::ptr::eq(Arc::as_ptr(&entered.shared), self)
    }

    /// The index of the worker the current thread is, if it is one of *this* runtime's
    /// workers (a worker of another runtime has an index that means nothing here).
    fn current_worker(&self) -> Option<usize> {
        CONTEXT.with(|ctx| {
            ctx.borrow()
                .as_ref()
                .filter(|e| self.is_current(e))
                .and_then(|e| e.worker.as_ref().map(|w| w.index))
        })
    }

    /// Pushes a task that the caller owns (state `SCHEDULED`) to a run queue: the current
    /// worker's own queue when called from one of this runtime's workers, else the injector.
    /// A peer is woken only when the push leaves a backlog it could take, so a chain of tasks
    /// each spawning or waking the next stays on one core. Peers that are awake find the rest
    /// of a growing backlog themselves: a worker scans its peers before it sleeps.
    fn push(&self, task: TaskRef) {
        let lane = task.header().meta.lane.index();
        let mut task = Some(task);
        let backlog = CONTEXT.with(|ctx| {
            let ctx = ctx.borrow();
            let local = ctx
                .as_ref()
                .filter(|e| self.is_current(e))?
                .worker
                .as_ref()?;
            let queue = &local.queues[lane];
            queue.push(task.take().expect("task not yet pushed"));
            // Wake a peer when a backlog forms, and again every so often while it grows (a
            // peer that went back to sleep after stealing part of it gets another call).
            let len = queue.len();
            Some(len == 2 || len % 64 == 0)
        });
        match (task, backlog) {
            (None, Some(false)) => {}
            (None, _) => self.idle.notify_one(&self.remotes),
            (Some(task), _) => {
                self.injector[lane].push(task);
                // `notify_one` issues the SeqCst fence that pairs with the one shutdown issues
                // after setting `stopping`.
                self.idle.notify_one(&self.remotes);
                if self.stopping.load(SeqCst) {
                    // The workers may have exited before this push: end what they left.
                    self.cancel_queued();
                }
            }
        }
    }

    /// Ends, as cancelled, every task left in the injector and the workers' queues. Called
    /// after the workers stop: each such task was live when the registry closed, so it was
    /// told to cancel and runs no step here.
    fn cancel_queued(&self) {
        fn drain(steal: impl Fn() -> Steal<TaskRef>) {
            loop {
                match steal() {
                    Steal::Success(task) => {
                        task.cancel();
                        let _ = task.run();
                    }
                    Steal::Empty => return,
                    Steal::Retry => std::hint::spin_loop(),
                }
            }
        }
        for queue in &self.injector {
            drain(|| queue.steal());
        }
        for stealer in self.remotes.iter().flat_map(|r| r.stealers.iter()) {
            drain(|| stealer.steal());
        }
    }

    fn spawn<T>(
        self: &Arc<Self>,
        task: T,
        meta: TaskMeta,
    ) -> Result<JoinHandle<T::Output>, SpawnError>
    where
        T: Task + Send + 'static,
        T::Output: Send + 'static,
    {
        let id = TaskId::next();
        // Tasks spawned on a worker go to that worker's shard: spawn and completion usually
        // happen there, so the shard lock stays uncontended.
        let shard = self
            .registry
            .shard_for(self.current_worker().unwrap_or(id.as_u64() as usize));
        let cell = self
            .registry
            .insert(shard, (task, meta), |slot, (task, meta)| {
                TaskCell::new(task, id, meta, slot, self.clone())
            })
            .map_err(|(_, meta)| SpawnError::shutdown(meta.name()))?;
        self.push(cell.clone());
        Ok(JoinHandle::new(cell))
    }
}

impl Schedule for Shared {
    fn schedule(&self, task: TaskRef) {
        self.push(task);
    }

    fn release(&self, header: &Header, outcome: Outcome, panic: Option<&str>) {
        self.registry.remove(header, outcome, panic);
        // Counted before the joiner is woken, so metrics read after a join include the task.
        if let Some(index) = self.current_worker() {
            metrics::Counters::bump(&self.remotes[index].counters.completed);
        }
    }
}

/// A cheap, cloneable, `Send` reference to a [`Runtime`], for spawning from anywhere.
///
/// # Examples
///
/// Spawning from inside a task:
///
/// ```
/// use taskyard::{Handle, Runtime};
///
/// let rt = Runtime::builder().workers(2).build().unwrap();
/// let outer = rt.spawn(async {
///     let inner = Handle::current().spawn(async { 6 * 7 }).unwrap();
///     inner.await.unwrap()
/// }).unwrap();
/// assert_eq!(outer.join().unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.remotes.len())
            .finish()
    }
}

impl Handle {
    /// The handle of the runtime the current thread is in: a worker thread, or a thread inside
    /// [`Runtime::block_on`].
    ///
    /// # Panics
    ///
    /// Panics outside a runtime; use [`try_current`](Self::try_current) to check.
    #[track_caller]
    pub fn current() -> Handle {
        Self::try_current().expect("Handle::current() called outside a taskyard runtime")
    }

    /// The handle of the runtime the current thread is in, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        CONTEXT.with(|ctx| {
            ctx.borrow().as_ref().map(|e| Handle {
                shared: e.shared.clone(),
            })
        })
    }

    /// Spawns a future on [`Lane::Normal`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// let handle = rt.handle();
    /// assert_eq!(handle.spawn(async { 1 }).unwrap().join().unwrap(), 1);
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared
            .spawn(FutureTask::new(future), TaskMeta::default())
    }

    /// Spawns a future with a name used in reports and errors.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_named<F>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(SpawnOptions::new().name(name), future)
    }

    /// Spawns a future with a name and lane.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_with<F>(
        &self,
        options: SpawnOptions,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(FutureTask::new(future), options.meta)
    }

    /// Spawns a state-machine [`Task`] on [`Lane::Normal`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::{Cx, Runtime, Step, Task};
    ///
    /// struct Sum { next: u64, total: u64 }
    /// impl Task for Sum {
    ///     type Output = u64;
    ///     fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u64> {
    ///         // Ten numbers per step, then hand control back.
    ///         for _ in 0..10 {
    ///             if self.next > 100 { return Step::Done(self.total) }
    ///             self.total += self.next;
    ///             self.next += 1;
    ///         }
    ///         Step::Yield
    ///     }
    /// }
    ///
    /// let rt = Runtime::builder().workers(2).build().unwrap();
    /// assert_eq!(rt.spawn_task(Sum { next: 1, total: 0 }).unwrap().join().unwrap(), 5050);
    /// ```
    pub fn spawn_task<T>(&self, task: T) -> Result<JoinHandle<T::Output>, SpawnError>
    where
        T: Task + Send + 'static,
        T::Output: Send + 'static,
    {
        self.shared.spawn(task, TaskMeta::default())
    }

    /// Spawns a state-machine [`Task`] with a name and lane.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_task_with<T>(
        &self,
        options: SpawnOptions,
        task: T,
    ) -> Result<JoinHandle<T::Output>, SpawnError>
    where
        T: Task + Send + 'static,
        T::Output: Send + 'static,
    {
        self.shared.spawn(task, options.meta)
    }

    /// Runs `future` to completion on the current thread, inside this runtime's context (so
    /// [`Handle::current`] works), while the workers run spawned tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// let out = rt.handle().block_on(async { taskyard::Handle::current().spawn(async { 3 }).unwrap().await });
    /// assert_eq!(out.unwrap(), 3);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _guard = enter(self.shared.clone(), None);
        crate::park::block_on(future)
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.shared.remotes.len()
    }

    /// A snapshot of every worker's counters and queue depths.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.shared.metrics()
    }

    /// The index of the worker the current thread is, if it is one of this runtime's.
    pub(crate) fn current_worker(&self) -> Option<usize> {
        self.shared.current_worker()
    }

    /// Wakes one parked worker, if any: for work queued on this worker that it will not reach
    /// soon because its current step goes on.
    pub(crate) fn wake_idle_worker(&self) {
        self.shared.idle.notify_one(&self.shared.remotes);
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> crate::time::SharedClock {
        self.shared.clock.clone()
    }

    /// Whether shutdown has begun (spawns are refused).
    pub fn is_shut_down(&self) -> bool {
        self.shared.registry.is_closed()
    }
}

impl Shared {
    fn metrics(&self) -> RuntimeMetrics {
        let now = duration_nanos(self.clock.now());
        let workers = self
            .remotes
            .iter()
            .map(|remote| {
                let counters = &remote.counters;
                let since = counters.busy_since.load(Ordering::Relaxed);
                let running = if since == u64::MAX {
                    0
                } else {
                    now.saturating_sub(since)
                };
                WorkerMetrics {
                    steps: remote.activity.steps.load(Ordering::Relaxed),
                    tasks_completed: counters.completed.load(Ordering::Relaxed),
                    steals: counters.steals.load(Ordering::Relaxed),
                    parks: counters.parks.load(Ordering::Relaxed),
                    busy: Duration::from_nanos(
                        counters.busy_nanos.load(Ordering::Relaxed) + running,
                    ),
                    queue_depth: std::array::from_fn(|lane| remote.stealers[lane].len()),
                }
            })
            .collect();
        RuntimeMetrics {
            workers,
            injector_depth: std::array::from_fn(|lane| self.injector[lane].len()),
            live_tasks: self.registry.live(),
        }
    }
}

pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A pool of worker threads, one single-threaded step loop each, stealing from one another.
///
/// Dropping a runtime shuts it down with a zero deadline: queued and waiting tasks are
/// cancelled. Call [`shutdown`](Self::shutdown) to drain with a deadline and get the report.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::{Lane, Runtime, SpawnOptions};
///
/// let rt = Runtime::builder().workers(2).build()?;
/// let urgent = rt.spawn_with(SpawnOptions::new().name("urgent").lane(Lane::High), async { 1 })?;
/// let chores = rt.spawn_named("chores", async { 2 })?;
/// assert_eq!(urgent.join()? + chores.join()?, 3);
///
/// let report = rt.shutdown(Duration::from_secs(1));
/// assert_eq!(report.totals().spawned, 2);
/// assert!(report.is_clean());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Runtime {
    handle: Handle,
    threads: Vec<crate::sync::thread::JoinHandle<()>>,
    shut_down: bool,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.handle.workers())
            .finish()
    }
}

impl Runtime {
    /// A [`Builder`] with the defaults: one worker per available core, the default
    /// [`LaneShares`], the real clock.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A `Send` handle for spawning from other threads and from inside tasks.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Spawns a future on [`Lane::Normal`]. See [`Handle::spawn`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Spawns a named future. See [`Handle::spawn_named`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_named<F>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn_named(name, future)
    }

    /// Spawns a future with a name and lane. See [`Handle::spawn_with`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_with<F>(
        &self,
        options: SpawnOptions,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn_with(options, future)
    }

    /// Spawns a state-machine task. See [`Handle::spawn_task`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_task<T>(&self, task: T) -> Result<JoinHandle<T::Output>, SpawnError>
    where
        T: Task + Send + 'static,
        T::Output: Send + 'static,
    {
        self.handle.spawn_task(task)
    }

    /// Spawns a state-machine task with a name and lane. See [`Handle::spawn_task_with`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime is shutting down.
    pub fn spawn_task_with<T>(
        &self,
        options: SpawnOptions,
        task: T,
    ) -> Result<JoinHandle<T::Output>, SpawnError>
    where
        T: Task + Send + 'static,
        T::Output: Send + 'static,
    {
        self.handle.spawn_task_with(options, task)
    }

    /// Runs a future on the current thread inside this runtime. See [`Handle::block_on`].
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// A snapshot of every worker's counters and queue depths. See [`Handle::metrics`].
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.handle.workers()
    }

    /// Drains and stops the runtime.
    ///
    /// Spawning is refused from now on. Until `deadline` (measured on the runtime's clock)
    /// tasks run as usual, so tasks that finish in time complete normally. At the deadline,
    /// every task still live is cancelled at its next yield point: queued tasks without running
    /// another step, waiting tasks at once, a task inside a step when that step returns. The
    /// [`ShutdownReport`] names every task that was live when shutdown began and how it ended.
    ///
    /// A step that never returns cannot be interrupted: after a grace period its task is
    /// reported as [`TaskOutcome::Abandoned`] and its worker thread is left behind.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = taskyard::Runtime::builder().workers(1).build().unwrap();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// rt.spawn_named("forever", async move {
    ///     started_tx.send(()).unwrap();
    ///     std::future::pending::<()>().await
    /// }).unwrap();
    /// started.recv().unwrap(); // it has run its first step and now waits forever
    /// let report = rt.shutdown(Duration::from_millis(10));
    /// assert_eq!(report.cancelled().count(), 1);
    /// assert_eq!(report.tasks()[0].name(), Some("forever"));
    /// ```
    pub fn shutdown(mut self, deadline: Duration) -> ShutdownReport {
        self.shut_down = true;
        shutdown::shutdown(
            &self.handle.shared,
            std::mem::take(&mut self.threads),
            deadline,
        )
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.shut_down {
            let _ = shutdown::shutdown(
                &self.handle.shared,
                std::mem::take(&mut self.threads),
                Duration::ZERO,
            );
        }
    }
}
