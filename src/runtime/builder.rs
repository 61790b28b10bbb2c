//! [`Builder`]: configuring and starting a [`Runtime`].

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use super::{Handle, Registry, Remote, Runtime, Shared, WorkerLocal, idle::Idle, worker};
use crate::error::{BuildError, panic_message};
use crate::lane::{Lane, LaneShares};
use crate::park::Parker;
use crate::sync::atomic::AtomicBool;
use crate::sync::deque::{Injector, Worker as LocalQueue};
use crate::sync::{Arc, Condvar, Mutex, thread};
use crate::time::{Clock, SharedClock, SystemClock};

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// use taskyard::{Lane, LaneShares, Runtime};
///
/// let rt = Runtime::builder()
///     .workers(2)
///     .lane_shares(LaneShares::default().with(Lane::Background, 1, 10)?)
///     .thread_name("yard")
///     .build()?;
/// assert_eq!(rt.workers(), 2);
/// # Ok::<(), taskyard::BuildError>(())
/// ```
#[derive(Debug)]
pub struct Builder {
    workers: usize,
    shares: LaneShares,
    clock: SharedClock,
    thread_name: String,
    start_hook: Option<ThreadHook>,
    stop_hook: Option<ThreadHook>,
}

/// What [`Builder::on_thread_start`] or [`Builder::on_thread_stop`] was given.
#[derive(Clone)]
pub(super) struct ThreadHook(Arc<dyn Fn(usize) + Send + Sync>);

impl ThreadHook {
    /// Runs the hook for worker `index`, catching a panic.
    pub(super) fn call(&self, index: usize) -> std::thread::Result<()> {
        catch_unwind(AssertUnwindSafe(|| (self.0)(index)))
    }
}

impl fmt::Debug for ThreadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadHook(..)")
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// How many workers a runtime has unless told otherwise: one per available core.
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Builder {
    /// The defaults: one worker per available core, [`LaneShares::default`], the real clock,
    /// threads named `taskyard-worker-N`.
    pub fn new() -> Self {
        Self {
            workers: default_workers(),
            shares: LaneShares::default(),
            clock: Arc::new(SystemClock::new()),
            thread_name: "taskyard-worker".to_owned(),
            start_hook: None,
            stop_hook: None,
        }
    }

    /// The number of worker threads. Zero is refused by [`build`](Self::build).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// The minimum share of steps each lane keeps while it has work waiting.
    pub fn lane_shares(mut self, shares: LaneShares) -> Self {
        self.shares = shares;
        self
    }

    /// The clock for shutdown deadlines and busy-time metrics (a
    /// [`ManualClock`](crate::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The prefix of worker thread names; worker `N` is called `{prefix}-{N}`.
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name = prefix.into();
        self
    }

    /// Runs `hook` on each worker thread, with the worker's index (`0..workers`), before that
    /// worker looks for its first task. [`build`](Self::build) returns once every worker's hook
    /// has returned, so whatever the hooks do (pin the thread to a core, raise its priority,
    /// register it with a profiler) is in place before the first task can be spawned. A hook
    /// that never returns keeps `build` waiting.
    ///
    /// A hook that panics makes `build` fail with [`BuildError::thread_start_worker`] naming
    /// the worker; the workers already started are stopped, and no runtime is returned.
    ///
    /// # Examples
    ///
    /// One worker per core, each pinned to its own, so that the operating system never queues
    /// two workers on one core while another core is idle (this uses the `core_affinity`
    /// crate, which is not a dependency of taskyard):
    ///
    /// ```
    /// let cores = core_affinity::get_core_ids().unwrap_or_default();
    /// let rt = taskyard::Runtime::builder()
    ///     .workers(cores.len().max(1))
    ///     .on_thread_start(move |worker| {
    ///         if let Some(&core) = cores.get(worker) {
    ///             core_affinity::set_for_current(core);
    ///         }
    ///     })
    ///     .build()?;
    /// assert_eq!(rt.spawn(async { 6 * 7 }).unwrap().join().unwrap(), 42);
    /// # Ok::<(), taskyard::BuildError>(())
    /// ```
    pub fn on_thread_start(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.start_hook = Some(ThreadHook(Arc::new(hook)));
        self
    }

    /// Runs `hook` on each worker thread, with the worker's index, once that worker has stopped
    /// taking tasks for good (the runtime is shutting down or being dropped), before its thread
    /// ends: the counterpart of [`on_thread_start`](Self::on_thread_start), to undo what that
    /// did. Shutdown counts a worker as exited only after its hook has returned, so the hooks
    /// have run when [`Runtime::shutdown`] returns, unless a hook is still running after the
    /// shutdown's grace period (its thread is then left behind, as a step that never returns
    /// leaves its own). A panic in the hook is caught there and ends nothing else. When `build`
    /// fails on a panicking start hook, every worker it started runs this hook as it stops,
    /// the one whose start hook panicked included.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// let stopped = Arc::new(Mutex::new(Vec::new()));
    /// let rt = {
    ///     let stopped = stopped.clone();
    ///     taskyard::Runtime::builder()
    ///         .workers(2)
    ///         .on_thread_stop(move |worker| stopped.lock().unwrap().push(worker))
    ///         .build()?
    /// };
    /// rt.shutdown(Duration::from_secs(1));
    /// let mut stopped = stopped.lock().unwrap().clone();
    /// stopped.sort();
    /// assert_eq!(stopped, [0, 1]);
    /// # Ok::<(), taskyard::BuildError>(())
    /// ```
    pub fn on_thread_stop(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.stop_hook = Some(ThreadHook(Arc::new(hook)));
        self
    }

    /// Starts the workers.
    ///
    /// # Errors
    ///
    /// [`BuildError`] for zero workers, when the operating system refuses a thread, or when
    /// the [thread start hook](Self::on_thread_start) panics.
    pub fn build(self) -> Result<Runtime, BuildError> {
        if self.workers == 0 {
            return Err(BuildError::zero_workers());
        }
        let queues: Vec<[LocalQueue<_>; Lane::COUNT]> = (0..self.workers)
            .map(|_| std::array::from_fn(|_| LocalQueue::new_fifo()))
            .collect();
        let remotes = queues
            .iter()
            .map(|queues| Remote {
                stealers: std::array::from_fn(|lane| queues[lane].stealer()),
                parker: Parker::new(),
                activity: Default::default(),
                counters: Default::default(),
            })
            .collect();
        let shared = Arc::new(Shared {
            injector: std::array::from_fn(|_| Injector::new()),
            remotes,
            idle: Idle::new(self.workers),
            registry: Registry::new(self.workers.next_power_of_two() * 4),
            shares: self.shares,
            clock: self.clock,
            stopping: AtomicBool::new(false),
            cancelling: AtomicBool::new(false),
            exited: Mutex::new(0),
            exited_cv: Condvar::new(),
        });
        let mut runtime = Runtime {
            handle: Handle {
                shared: shared.clone(),
            },
            threads: Vec::new(),
            shut_down: false,
        };
        let start = self
            .start_hook
            .map(|hook| (hook, Arc::new(StartGate::new(self.workers))));
        for (index, queues) in queues.into_iter().enumerate() {
            let shared = shared.clone();
            let start = start.clone();
            let stop_hook = self.stop_hook.clone();
            let spawned = spawn_thread(format!("{}-{index}", self.thread_name), move || {
                if let Some((hook, gate)) = start {
                    let ran = hook.call(index);
                    gate.arrive(
                        index,
                        ran.map_err(|payload| panic_message(payload.as_ref()).map(str::to_owned)),
                    );
                }
                // After a failed hook too: `build` then drops the runtime, which stops every
                // worker the same way, so shutdown needs no path for a thread that never ran.
                worker::run(shared, Rc::new(WorkerLocal { index, queues }), stop_hook);
            });
            match spawned {
                Ok(thread) => runtime.threads.push(thread),
                // Dropping the runtime stops the workers already started.
                Err(err) => return Err(BuildError::thread_spawn(err)),
            }
        }
        if let Some((_, gate)) = start
            && let Some((worker, message)) = gate.wait()
        {
            return Err(BuildError::thread_start(worker, message));
        }
        Ok(runtime)
    }
}

/// Where the workers report that their start hook has returned, and `build` waits for them all.
#[derive(Debug)]
struct StartGate {
    state: Mutex<GateState>,
    all_arrived: Condvar,
}

#[derive(Debug)]
struct GateState {
    waiting_for: usize,
    /// The lowest worker whose hook panicked, with the panic's message.
    failure: Option<(usize, Option<String>)>,
}

impl StartGate {
    fn new(workers: usize) -> Self {
        Self {
            state: Mutex::new(GateState {
                waiting_for: workers,
                failure: None,
            }),
            all_arrived: Condvar::new(),
        }
    }

    /// Worker `index`'s hook has returned (`Ok`), or panicked (`Err`, with the panic's message
    /// if it was a string).
    fn arrive(&self, index: usize, hook: Result<(), Option<String>>) {
        let mut state = self.state.lock();
        if let Err(message) = hook
            && state
                .failure
                .as_ref()
                .is_none_or(|(first, _)| index < *first)
        {
            state.failure = Some((index, message));
        }
        state.waiting_for -= 1;
        if state.waiting_for == 0 {
            self.all_arrived.notify_all();
        }
    }

    /// Blocks until every worker has arrived; returns the failure, if any.
    fn wait(&self) -> Option<(usize, Option<String>)> {
        let mut state = self.state.lock();
        while state.waiting_for > 0 {
            self.all_arrived.wait(&mut state);
        }
        state.failure.take()
    }
}

#[cfg(not(taskyard_loom))]
fn spawn_thread(
    name: String,
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new().name(name).spawn(f)
}

#[cfg(taskyard_loom)]
fn spawn_thread(
    _name: String,
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<thread::JoinHandle<()>> {
    Ok(thread::spawn(f))
}
