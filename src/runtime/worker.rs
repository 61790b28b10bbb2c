//! The step loop of one worker thread.
//!
//! Each step: pick a lane with the [`LanePicker`], take a task of that lane (own queue, then the
//! injector, then a peer's queue), run one step, and put the task back, let it wait, or count
//! it ended. When no lane has work anywhere the worker goes to sleep by the protocol in
//! [`idle`](super::idle).
//!
//! What a worker counts as "waiting work" for the lane policy: its own queues and the injector on
//! every step (cheap), and its peers' queues every [`PEER_SCAN_INTERVAL`] steps or whenever it
//! runs dry. That is what makes lane shares hold across workers: low-lane work queued on a busy
//! peer still earns credit here and is stolen when due.

use std::rc::Rc;

use super::builder::ThreadHook;
use super::{Shared, TaskRef, WorkerLocal, duration_nanos, enter};
use crate::lane::{Lane, LaneMask, LanePicker};
use crate::sync::Arc;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use crate::sync::deque::Steal;
use crate::task::cell::RunResult;

use super::metrics::Counters;

/// Steps between two looks at the peers' queues while the worker has work of its own.
const PEER_SCAN_INTERVAL: u32 = 32;

/// Every this many steps a worker takes from the injector before its own queue, so tasks
/// spawned or woken from outside the workers are not starved by local tasks that keep
/// yielding (tokio checks its global queue on the same kind of interval).
const INJECTOR_FIRST_INTERVAL: u32 = 61;

struct Worker {
    shared: Arc<Shared>,
    local: Rc<WorkerLocal>,
    picker: LanePicker,
    /// Lanes with work in peers' queues, as of the last scan.
    peer_mask: LaneMask,
    ticks: u32,
}

/// Runs the worker loop until the runtime stops, then `on_stop`, then counts the worker exited.
pub(super) fn run(shared: Arc<Shared>, local: Rc<WorkerLocal>, on_stop: Option<ThreadHook>) {
    let _context = enter(shared.clone(), Some(local.clone()));
    let mut worker = Worker {
        picker: LanePicker::new(shared.shares),
        shared,
        local,
        peer_mask: LaneMask::EMPTY,
        ticks: 0,
    };
    worker.mark_awake();
    worker.run_loop();
    worker.mark_parked();
    if let Some(hook) = on_stop {
        // Before the exit count, so that shutdown waits for the hook, and gives up on one that
        // hangs after its grace period as on a stuck step. A panic in it was printed by the
        // process's panic hook; the worker still counts itself exited.
        let _ = hook.call(worker.index());
    }
    let shared = &worker.shared;
    *shared.exited.lock() += 1;
    shared.exited_cv.notify_all();
}

impl Worker {
    fn index(&self) -> usize {
        self.local.index
    }

    fn run_loop(&mut self) {
        loop {
            while let Some(task) = self.next_task() {
                self.run_task(task);
            }
            // Nothing visible: announce sleep, look once more, then park.
            self.shared.idle.announce_sleep(self.index());
            let stopping = self.shared.stopping.load(SeqCst);
            self.peer_mask = self.scan_peers();
            if !self.peer_mask.is_empty() || !self.own_and_injector_mask().is_empty() {
                self.shared.idle.cancel_sleep(self.index());
                continue;
            }
            if stopping {
                self.shared.idle.cancel_sleep(self.index());
                return;
            }
            self.park();
        }
    }

    fn park(&mut self) {
        Counters::bump(&self.shared.remotes[self.index()].counters.parks);
        self.mark_parked();
        self.shared.remotes[self.index()].parker.park();
        self.mark_awake();
    }

    fn mark_awake(&self) {
        let now = duration_nanos(self.shared.clock.now());
        self.shared.remotes[self.index()]
            .counters
            .busy_since
            .store(now, Relaxed);
    }

    fn mark_parked(&self) {
        let counters = &self.shared.remotes[self.index()].counters;
        let since = counters.busy_since.swap(u64::MAX, Relaxed);
        if since != u64::MAX {
            let now = duration_nanos(self.shared.clock.now());
            let busy = counters.busy_nanos.load(Relaxed) + now.saturating_sub(since);
            counters.busy_nanos.store(busy, Relaxed);
        }
    }

    fn run_task(&mut self, task: TaskRef) {
        if self.shared.cancelling.load(Acquire) {
            // Past the shutdown deadline: a task popped now ends without another step, even
            // if the shutdown thread has not reached it yet.
            task.cancel();
        }
        let remote = &self.shared.remotes[self.index()];
        let lane = task.header().meta.lane.index();
        remote.activity.begin_step(task.header().id.as_u64());
        let result = task.run();
        remote.activity.end_step();
        // An ended task was counted by `Shared::release`, before its joiner woke.
        if let RunResult::Requeue(task) = result {
            self.local.queues[lane].push(task);
        }
    }

    /// Lanes with work in this worker's queues or the injector.
    fn own_and_injector_mask(&self) -> LaneMask {
        let mut mask = LaneMask::EMPTY;
        for lane in Lane::ALL {
            let i = lane.index();
            if !self.local.queues[i].is_empty() || !self.shared.injector[i].is_empty() {
                mask = mask.with(lane);
            }
        }
        mask
    }

    fn scan_peers(&self) -> LaneMask {
        let mut mask = LaneMask::EMPTY;
        for (index, remote) in self.shared.remotes.iter().enumerate() {
            if index == self.index() {
                continue;
            }
            for lane in Lane::ALL {
                if !remote.stealers[lane.index()].is_empty() {
                    mask = mask.with(lane);
                }
            }
        }
        mask
    }

    /// The next task by the lane policy, or `None` when no lane has visible work.
    fn next_task(&mut self) -> Option<TaskRef> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(PEER_SCAN_INTERVAL) {
            self.peer_mask = self.scan_peers();
        }
        loop {
            let mut waiting = self.own_and_injector_mask();
            waiting.0 |= self.peer_mask.0;
            if waiting.is_empty() {
                // Our view of the peers may be stale: look once before giving up.
                self.peer_mask = self.scan_peers();
                if self.peer_mask.is_empty() {
                    return None;
                }
                continue;
            }
            let lane = self.picker.pick(waiting)?;
            if let Some(task) = self.take(lane) {
                return Some(task);
            }
            // The lane's work went to someone else between the look and the take.
            self.peer_mask.0 &= !LaneMask::EMPTY.with(lane).0;
            self.picker.forget(lane);
        }
    }

    fn take(&self, lane: Lane) -> Option<TaskRef> {
        let i = lane.index();
        let own = &self.local.queues[i];
        if self.ticks.is_multiple_of(INJECTOR_FIRST_INTERVAL)
            && let Some(task) = steal_until_settled(|| self.shared.injector[i].steal())
        {
            return Some(task);
        }
        if let Some(task) = own.pop() {
            return Some(task);
        }
        if let Some(task) = steal_until_settled(|| self.shared.injector[i].steal_batch_and_pop(own))
        {
            return Some(task);
        }
        let peers = self.shared.remotes.len();
        for offset in 1..peers {
            let victim = (self.index() + offset) % peers;
            let stealer = &self.shared.remotes[victim].stealers[i];
            if let Some(task) = steal_until_settled(|| stealer.steal_batch_and_pop(own)) {
                Counters::bump(&self.shared.remotes[self.index()].counters.steals);
                return Some(task);
            }
        }
        None
    }
}

fn steal_until_settled(mut attempt: impl FnMut() -> Steal<TaskRef>) -> Option<TaskRef> {
    loop {
        match attempt() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}
