//! Task ids: unique for the life of the process, allocated without a shared counter per spawn.

use std::cell::Cell;
use std::fmt;

use crate::sync::UnmodelledAtomicU64 as AtomicU64;
use crate::sync::atomic::Ordering;

/// A task's id, unique among all tasks of the process.
///
/// Ids are handed out in blocks per thread, so two tasks spawned one after the other from
/// different threads may not have consecutive ids; an id only identifies.
///
/// # Examples
///
/// ```
/// let ex = taskyard::LocalExecutor::new();
/// let a = ex.spawn(async {});
/// let b = ex.spawn(async {});
/// assert_ne!(a.id(), b.id());
/// println!("{}", a.id()); // "task#1"-style
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

impl TaskId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// A fresh id. A process-wide counter hands each thread a block of ids, so spawning does
    /// not contend on one cache line.
    pub(crate) fn next() -> Self {
        const BLOCK: u64 = 1024;
        // Ids start at 1 so that 0 can mean "no task" in a worker's activity record.
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        crate::sync::thread_local! {
            static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        RANGE.with(|range| {
            let (mut next, mut end) = range.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                end = next + BLOCK;
            }
            range.set((next + 1, end));
            TaskId(next)
        })
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task#{}", self.0)
    }
}
