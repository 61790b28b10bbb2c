//! taskyard: an in-process cooperative multitasking scheduler.
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod error;
mod lane;
pub mod graph;
pub(crate) mod sync;
mod task;

pub use error::{BuildError, JoinError, SpawnError};
pub use lane::{Lane, LaneShares, ParseLaneError};
pub use task::{Cx, FutureTask, Step, Task, TaskId, SpawnOptions, YieldNow, yield_now};
