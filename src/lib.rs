//! taskyard: an in-process cooperative multitasking scheduler.
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
