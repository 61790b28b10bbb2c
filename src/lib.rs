//! taskyard: an in-process cooperative multitasking scheduler that host programs embed.
//!
//! | concept | what it is | where |
//! | --- | --- | --- |
//! | **Tasks** | explicit state machines: each [`step`](Task::step) does a bounded piece of work and returns [`Step::Yield`], [`Step::Pending`] or [`Step::Done`]; any `Future` is a task too | [`Task`], [`Cx`], [`FutureTask`], [`yield_now`] |
//! | **Executors** | a [`Runtime`] runs one single-threaded step loop per worker thread, idle workers steal; a [`LocalExecutor`] runs the same loop inside a host program's own loop | [`Runtime`], [`Handle`], [`LocalExecutor`], [`JoinHandle`] |
//! | **Lanes** | five priorities; higher lanes go first, lower lanes keep a guaranteed share of steps | [`Lane`], [`LaneShares`] |
//! | **Graphs** | named nodes with costs, finish-to-start and start-to-start edges, validated before anything runs; ready nodes start in rank order (the work that unblocks the most first); the same order drives a virtual-time simulation | [`graph`] |
//! | **Failure and shutdown** | a panicking step is caught and reported by name; [`Runtime::shutdown`] drains with a deadline and accounts for every task | [`JoinError`], [`ShutdownReport`] |
//! | **Metrics** | per-worker steps, completions, steals, parks, busy time, queue depths | [`RuntimeMetrics`] |
//! | **Time** | every budget and deadline reads a [`Clock`]: the real one, or a [`ManualClock`] in tests | [`Clock`] |
//!
//! # Example
//!
//! A state machine and a future on a two-worker runtime, on different lanes:
//!
//! ```
//! use taskyard::{Cx, Lane, Runtime, SpawnOptions, Step, Task};
//!
//! /// Counts primes below `limit`, checking 1,000 numbers per step.
//! struct CountPrimes { next: u64, limit: u64, found: u64 }
//!
//! impl Task for CountPrimes {
//!     type Output = u64;
//!     fn step(&mut self, _cx: &mut Cx<'_>) -> Step<u64> {
//!         let end = (self.next + 1_000).min(self.limit);
//!         for n in self.next..end {
//!             if n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0) {
//!                 self.found += 1;
//!             }
//!         }
//!         self.next = end;
//!         if end == self.limit { Step::Done(self.found) } else { Step::Yield }
//!     }
//! }
//!
//! let rt = Runtime::builder().workers(2).build()?;
//! let primes = rt.spawn_task_with(
//!     SpawnOptions::new().name("primes").lane(Lane::Background),
//!     CountPrimes { next: 0, limit: 20_000, found: 0 },
//! )?;
//! let greeting = rt.spawn_with(SpawnOptions::new().lane(Lane::High), async { "hello" })?;
//! assert_eq!(greeting.join()?, "hello");
//! assert_eq!(primes.join()?, 2262);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod error;
pub mod graph;
mod lane;
mod local;
mod park;
mod runtime;
pub(crate) mod sync;
mod task;
mod time;

pub use error::{BuildError, JoinError, SpawnError};
pub use lane::{Lane, LaneShares, ParseLaneError};
pub use local::{LocalExecutor, LocalJoinHandle, LocalSpawner};
pub use runtime::TaskTotals;
pub use runtime::{
    Builder, Handle, Runtime, RuntimeMetrics, ShutdownReport, TaskOutcome, TaskRecord,
    WorkerMetrics,
};
pub use task::{Cx, FutureTask, JoinHandle, SpawnOptions, Step, Task, TaskId, YieldNow, yield_now};
pub use time::{Clock, ManualClock, SystemClock};
