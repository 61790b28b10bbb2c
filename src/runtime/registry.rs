//! The registry of live tasks: what lets shutdown account for every task, including those that
//! sit in no queue because they wait for a wake-up.
//!
//! Sharded by spawning worker so that spawning and completing on one worker take an uncontended
//! lock. Each shard also keeps the lifetime counters of the tasks it saw, under the same lock.
//! Closing a shard under its lock is what makes "spawn racing shutdown" exact: a spawn either
//! lands in a shard before it closes (and is in the shutdown snapshot) or is refused.

use crossbeam_utils::CachePadded;
use slab::Slab;

use crate::sync::{Arc, Condvar, Mutex};
use std::collections::VecDeque;

use crate::lane::Lane;
use crate::task::TaskId;
use crate::task::cell::{Header, Outcome, RawTask, RegistrySlot};

#[derive(Default)]
struct Shard {
    tasks: Slab<Arc<dyn RawTask>>,
    closed: bool,
    totals: Totals,
    /// The most recent panics, for the shutdown report: kept here rather than in every task.
    failures: VecDeque<Failure>,
}

/// A task whose step panicked.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Box<str>>,
    pub(crate) lane: Lane,
    pub(crate) message: Box<str>,
}

/// Failures each shard remembers; older ones are only counted.
const FAILURES_KEPT: usize = 256;

/// Lifetime counts of tasks by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) spawned: u64,
    pub(crate) completed: u64,
    pub(crate) panicked: u64,
    pub(crate) cancelled: u64,
    pub(crate) cancelled_unstarted: u64,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.spawned += other.spawned;
        self.completed += other.completed;
        self.panicked += other.panicked;
        self.cancelled += other.cancelled;
        self.cancelled_unstarted += other.cancelled_unstarted;
    }
}

pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Signalled on every removal after [`close`](Self::close), for the draining shutdown.
    drained: Condvar,
    drained_lock: Mutex<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Self {
        let shards = shards.max(1);
        Self {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
            drained: Condvar::new(),
            drained_lock: Mutex::new(()),
        }
    }

    pub(crate) fn shard_for(&self, hint: usize) -> usize {
        hint % self.shards.len()
    }

    /// Builds a task from `parts` and its slot and records it. If the registry is closed the
    /// task is never built and `parts` come back, so the caller can name what was refused.
    pub(crate) fn insert<C: RawTask, P>(
        &self,
        shard: usize,
        parts: P,
        build: impl FnOnce(RegistrySlot, P) -> Arc<C>,
    ) -> Result<Arc<C>, P> {
        let mut guard = self.shards[shard].lock();
        if guard.closed {
            return Err(parts);
        }
        let entry = guard.tasks.vacant_entry();
        let slot = RegistrySlot {
            shard: u32::try_from(shard).expect("shard index fits in u32"),
            key: u32::try_from(entry.key()).expect("fewer than 2^32 live tasks per shard"),
        };
        let cell = build(slot, parts);
        entry.insert(cell.clone());
        guard.totals.spawned += 1;
        Ok(cell)
    }

    /// Forgets an ended task and counts how it ended.
    pub(crate) fn remove(&self, header: &Header, outcome: Outcome, panic: Option<&str>) {
        let slot = header.slot;
        let (removed, now_drained) = {
            let mut guard = self.shards[slot.shard as usize].lock();
            if let Some(message) = panic {
                if guard.failures.len() == FAILURES_KEPT {
                    guard.failures.pop_front();
                }
                guard.failures.push_back(Failure {
                    id: header.id,
                    name: header.meta.name.clone(),
                    lane: header.meta.lane,
                    message: message.into(),
                });
            }
            let removed = guard.tasks.try_remove(slot.key as usize);
            debug_assert!(removed.is_some(), "task released twice");
            let totals = &mut guard.totals;
            match outcome {
                Outcome::Completed => totals.completed += 1,
                Outcome::Panicked => totals.panicked += 1,
                Outcome::Cancelled => totals.cancelled += 1,
                Outcome::CancelledUnstarted => totals.cancelled_unstarted += 1,
                Outcome::Live => unreachable!("released a live task"),
            }
            (removed, guard.closed)
        };
        // The last reference may go here; drop it outside the shard lock.
        drop(removed);
        if now_drained {
            let _lock = self.drained_lock.lock();
            self.drained.notify_all();
        }
    }

    /// Refuses further spawns and returns every live task.
    pub(crate) fn close(&self) -> Vec<Arc<dyn RawTask>> {
        let mut live = Vec::new();
        for shard in self.shards.iter() {
            let mut guard = shard.lock();
            guard.closed = true;
            live.extend(guard.tasks.iter().map(|(_, task)| task.clone()));
        }
        live
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.shards[0].lock().closed
    }

    pub(crate) fn live(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().tasks.len())
            .sum()
    }

    /// Every task still live, for cancellation at the deadline.
    pub(crate) fn live_tasks(&self) -> Vec<Arc<dyn RawTask>> {
        let mut live = Vec::new();
        for shard in self.shards.iter() {
            live.extend(shard.lock().tasks.iter().map(|(_, task)| task.clone()));
        }
        live
    }

    /// The most recent failures of every shard, oldest first within a shard.
    pub(crate) fn failures(&self) -> Vec<Failure> {
        self.shards
            .iter()
            .flat_map(|shard| shard.lock().failures.clone())
            .collect()
    }

    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for shard in self.shards.iter() {
            totals.add(&shard.lock().totals);
        }
        totals
    }

    /// Waits until `done` holds (checked under the drain lock, so a removal between the check
    /// and the wait is not missed) or `timeout` passes. Returns whether `done` held.
    pub(crate) fn wait_until(
        &self,
        timeout: std::time::Duration,
        done: impl Fn(&Self) -> bool,
    ) -> bool {
        let mut lock = self.drained_lock.lock();
        if done(self) {
            return true;
        }
        self.drained.wait_for(&mut lock, timeout);
        done(self)
    }
}
