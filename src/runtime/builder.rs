//! [`Builder`]: configuring and starting a [`Runtime`].

use std::rc::Rc;

use super::{Handle, Registry, Remote, Runtime, Shared, WorkerLocal, idle::Idle, worker};
use crate::error::BuildError;
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

    /// Starts the workers.
    ///
    /// # Errors
    ///
    /// [`BuildError`] for zero workers, or when the operating system refuses a thread.
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
        for (index, queues) in queues.into_iter().enumerate() {
            let shared = shared.clone();
            let spawned = spawn_thread(format!("{}-{index}", self.thread_name), move || {
                worker::run(shared, Rc::new(WorkerLocal { index, queues }));
            });
            match spawned {
                Ok(thread) => runtime.threads.push(thread),
                // Dropping the runtime stops the workers already started.
                Err(err) => return Err(BuildError::thread_spawn(err)),
            }
        }
        Ok(runtime)
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
