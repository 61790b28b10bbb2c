//! The release engine of a graph run: per-node release counters and timings, rank-ordered
//! ready queues (one per worker), and the *searcher* tasks that run ready nodes.
//!
//! # Searchers
//!
//! A run does not spawn a runtime task per node. It keeps, per lane, a few *searchers*: runtime
//! tasks (on that lane) that each loop taking the best ready node of their lane and running it.
//! A searcher first looks in its own worker's ready queue, then in the peer queue whose best
//! node ranks highest, so whoever takes a node, owner or thief, takes in rank order. From a
//! wide front a thief takes a share of the victim's next best nodes along (see
//! [`STEAL_BATCH`]), so it goes on for a while in a band of consecutive slots of its own
//! instead of coming back for every node. (On a wavefront such a band narrows as it advances:
//! its edge nodes go to whichever worker retires their last edge, the victim when the thief is
//! ahead.)
//!
//! When a node finishes, the searcher that ran it releases its successors. If the best released
//! node of the searcher's lane beats everything in the worker's own queue, the searcher runs it
//! next without queueing it: a chain runs on one worker with no queue and no spawn per node.
//! Otherwise that node is queued and the queue's best taken in one pass over the queue (on a
//! wavefront, nearly every node releases one that ranks below the queued front).
//! The other released nodes go to the worker's queue (one lock for all of them), and a new
//! searcher is spawned only while a lane has fewer searchers than the runtime has workers: more
//! could not run at once anyway, so a wide graph costs a handful of spawns, not one per node.
//!
//! A chain's link (a node whose one successor waits for nothing else, is of its lane and
//! releases nothing as it starts) is known from the graph alone: the table records it when the
//! graph is built, and the searcher goes from node to node in an inner loop that reads that one
//! word and the queue's best, and touches no counter, list or queue (see
//! [`NodeTable::inline_successor_before`]). Other nodes end in the same loop: it releases
//! their successors and goes on with the node to run next, and hands back to the searcher's
//! step only when a node fails, yields or waits, the budget is spent, or nothing is released
//! to run next.
//!
//! A searcher keeps going for up to [`CONTINUATION_BUDGET`] or [`CONTINUATION_NODES`], then
//! yields to the runtime (lane shares, other tasks) and goes on at its next step; the node it
//! would have run next is queued for it to take again, with no searcher added for it. It ends
//! when it finds no ready node of its lane. A searcher whose node yields or waits (`Pending`)
//! stops counting as one until its next step, so the lane may get another meanwhile: the node
//! may be waiting for a node that is only queued.
//!
//! # Not losing a ready node
//!
//! A node pushed while every searcher of its lane is about to end must still run. The pusher
//! publishes the node (under its queue's lock, which also updates the queue's per-lane `best`
//! summary), issues a `SeqCst` fence, then reads the lane's searcher count and spawns a
//! searcher if it is below the worker count. A searcher that found nothing decrements the
//! count, issues a `SeqCst` fence, then reads every queue's `best`: if a node is there it counts
//! itself back in and goes on. The two fences forbid both sides missing each other (the same
//! argument as the runtime's sleep protocol); `loom_graph_searcher_exit_races_push` checks it.
//!
//! # Release and accounting
//!
//! Each node has an atomic count of the predecessors it still waits for (finish edges and
//! start edges). A start decrements the start-successors, a finish the finish-successors; the
//! caller that brings a count to zero releases the node, so each node is released exactly once
//! without a lock. A node with a single predecessor has no count: that predecessor's one event
//! releases it; and whoever finds a count of one, its own edge the only one left, retires it
//! with a store, not a read-modify-write (see [`NodeTable`]). A node that fails marks its
//! transitive dependents skipped, naming it as the cause; independent branches go on.
//!
//! Node timings are plain atomics written once each by the one thread that runs (or releases)
//! the node. A searcher counts the nodes it ended, and the time its worker spent on them, and
//! adds them to the run's totals when its step ends (one contended atomic per step, not per
//! node); the `AcqRel` subtractions from `remaining` form one release sequence, so whoever
//! brings it to zero sees every node's record and every searcher's totals, and builds the
//! report without a pass over the nodes.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use super::is_fault;
use super::queue::ReadySets;
use super::table::{ChainStash, MAX_WORKERS, NodeTable, Ran, RunRecord, Slot};
use super::work::{NodeResult, NodeWork, Pause, Progress, StartedBody};
use crate::graph::dag::Dag;
use crate::graph::order::ReadyOrder;
use crate::graph::report::{CriticalPath, GraphReport, LineSource};
use crate::lane::Lane;
use crate::local::LocalSpawner;
use crate::runtime::Handle;
use crate::sync::atomic::{
    AtomicU32, AtomicU64, AtomicUsize,
    Ordering::{AcqRel, Relaxed, SeqCst},
    fence,
};
use crate::sync::{Arc, Mutex, SpinGuard, SpinLock};
use crate::task::{Cx, SpawnOptions, Step, Task};
use crate::time::SharedClock;

/// How long a searcher may keep running nodes inside one runtime step, and how many at most:
/// a chain of tiny nodes runs without a runtime round trip per node, and a searcher still hands
/// its worker back often enough for lane shares and other tasks.
///
/// The time budget is what ends a step. The node count is there for a clock that does not move
/// (an injected one), and is above what fits in the budget unless nodes take under 12 ns: a
/// runtime step cost about 300 ns on session 25's bench host (the yield and the pick, two clock
/// readings, the run's totals), which a step of 256 nodes made 1.1 ns per node of a chain of
/// tiny ones (6.1 ns per node against 5.0 with 4,096, on one worker or two).
pub(super) const CONTINUATION_BUDGET: Duration = Duration::from_micros(50);
pub(super) const CONTINUATION_NODES: u32 = 4096;

/// At most how many nodes a thief takes along with the one it runs, and how many the victim
/// must hold for it to take any (see `take_ready`).
const STEAL_BATCH: usize = 128;
#[cfg(not(taskyard_loom))]
const STEAL_BATCH_FROM: usize = 64;
/// Small enough for a loom model's graph to take a batch.
#[cfg(taskyard_loom)]
const STEAL_BATCH_FROM: usize = 2;

/// Without node times, a searcher reads the clock (for its [`CONTINUATION_BUDGET`]) after its
/// first `UNTIMED_CLOCK_FIRST` nodes, then after as many nodes as the pace so far says fit in
/// the budget's rest, at most `UNTIMED_CLOCK_GAP` (see [`untimed_clock_gap`]). A reading costs
/// about a hundred instructions, twice what a chain's link does: on tiny nodes a reading per
/// 64 adds under 2 per node, where one per 16 added 6.
const UNTIMED_CLOCK_FIRST: u32 = 16;
const UNTIMED_CLOCK_GAP: u32 = 64;

/// How many times a searcher looks again when a peer took the node it saw first.
const RETAKE_ATTEMPTS: usize = 64;

/// A queue's `best` entry for a lane with nothing queued.
const EMPTY: u32 = u32::MAX;

/// Where a run's searchers go: a runtime's workers or a local executor.
pub(crate) trait SearcherSpawner: Clone + Sized + 'static {
    /// Spawns a searcher; `false` if the executor refuses (shut down or dropped).
    fn spawn_searcher(&self, searcher: Searcher<Self>) -> bool;
    /// The index of the worker running the current step.
    fn current_worker(&self) -> usize;
    /// Wakes an idle worker, if any, for searchers just spawned: the spawning searcher goes on
    /// running nodes, so what it spawned is a backlog even when it is a single task.
    fn wake_idle(&self);
}

impl SearcherSpawner for Handle {
    fn spawn_searcher(&self, searcher: Searcher<Self>) -> bool {
        self.spawn_task_with(SpawnOptions::new().lane(searcher.lane), searcher)
            .is_ok()
    }
    fn current_worker(&self) -> usize {
        Handle::current_worker(self).unwrap_or(0)
    }
    fn wake_idle(&self) {
        self.wake_idle_worker();
    }
}

impl SearcherSpawner for LocalSpawner {
    fn spawn_searcher(&self, searcher: Searcher<Self>) -> bool {
        self.spawn_task_with(SpawnOptions::new().lane(searcher.lane), searcher)
            .is_ok()
    }
    fn current_worker(&self) -> usize {
        0
    }
    fn wake_idle(&self) {}
}

/// One worker's released nodes.
struct WorkerReady {
    /// Held by whoever reads or changes `sets`: the only way to them is [`HeldQueue`]. A spin
    /// lock, not a mutex, because the owner takes it about once per node it runs, for a few
    /// dozen instructions (see [`SpinLock`]).
    lock: SpinLock,
    sets: ReadySets,
    /// Per lane, the position of the best node in `sets`, [`EMPTY`] for none. Written under
    /// the lock by whoever changes the queue, read without it: by the owner, to run a released
    /// node at once when it beats everything queued; by thieves, to pick a victim; by a
    /// searcher about to end (see the module docs).
    best: [AtomicU32; Lane::COUNT],
}

impl WorkerReady {
    fn new(nodes: usize, lanes: &[Lane]) -> Self {
        Self {
            lock: SpinLock::new(),
            sets: ReadySets::with_lanes(nodes, lanes),
            best: std::array::from_fn(|_| AtomicU32::new(EMPTY)),
        }
    }

    #[inline]
    fn lock(&self) -> HeldQueue<'_> {
        HeldQueue {
            _held: self.lock.lock(),
            ready: self,
        }
    }

    #[inline]
    fn best(&self, lane: Lane) -> u32 {
        self.best[lane.index()].load(Relaxed)
    }
}

/// A worker's queue with its lock held (released on drop).
struct HeldQueue<'a> {
    _held: SpinGuard<'a>,
    ready: &'a WorkerReady,
}

impl HeldQueue<'_> {
    #[inline]
    fn push(&self, lane: Lane, slot: Slot) {
        self.ready.sets.push(lane, slot);
        let best = &self.ready.best[lane.index()];
        if slot < best.load(Relaxed) {
            best.store(slot, Relaxed);
        }
    }

    #[inline]
    fn pop(&self, lane: Lane) -> Option<Slot> {
        let (slot, next) = self.ready.sets.pop(lane)?;
        self.ready.best[lane.index()].store(next.unwrap_or(EMPTY), Relaxed);
        Some(slot)
    }

    /// Queues `slot`, of `lane`, and takes the lane's best node, which may be `slot` itself.
    #[inline]
    fn push_pop(&self, lane: Lane, slot: Slot) -> Slot {
        let (slot, next) = self.ready.sets.push_pop(lane, slot);
        self.ready.best[lane.index()].store(next.unwrap_or(EMPTY), Relaxed);
        slot
    }

    fn len(&self, lane: Lane) -> usize {
        self.ready.sets.len(lane)
    }
}

/// The per-worker part of a run's state: each worker's ready queue (a bit per node for each
/// lane the graph uses) and busy-time counter.
///
/// [`Graph::build`](super::Graph::build) makes them for as many workers as the machine has
/// threads (the runtime's default), so that starting a run allocates nothing in proportion
/// to the graph. Right after a large graph is built, the allocator holds hundreds of
/// thousands of freed small blocks, and each allocation it cannot serve from a per-thread
/// cache sorts up to several thousand of them first: about half a millisecond each, measured
/// here on the 100,000-node benchmark graph, where the whole run takes seven.
pub(super) struct WorkerQueues {
    nodes: usize,
    lanes: Vec<Lane>,
    ready: Vec<CachePadded<WorkerReady>>,
    busy: Vec<CachePadded<AtomicU64>>,
}

impl WorkerQueues {
    /// Queues for `workers` workers, for a graph of `nodes` nodes on `lanes`.
    pub(super) fn new(nodes: usize, lanes: Vec<Lane>, workers: usize) -> Self {
        let mut queues = Self {
            nodes,
            lanes,
            ready: Vec::with_capacity(workers),
            busy: Vec::with_capacity(workers),
        };
        queues.fit(workers);
        queues
    }

    /// Empty queues like these, for a clone of the graph.
    pub(super) fn fresh(&self) -> Self {
        Self::new(self.nodes, self.lanes.clone(), self.ready.len())
    }

    /// Makes the queues of a run on `workers` workers out of these: makes those missing,
    /// drops the extra.
    pub(super) fn fit(&mut self, workers: usize) {
        assert!(
            workers <= MAX_WORKERS,
            "a graph run records at most {MAX_WORKERS} workers (got {workers})"
        );
        self.ready.truncate(workers);
        self.busy.truncate(workers);
        while self.ready.len() < workers {
            let ready = WorkerReady::new(self.nodes, &self.lanes);
            self.ready.push(CachePadded::new(ready));
            self.busy.push(CachePadded::new(AtomicU64::new(0)));
        }
    }
}

#[derive(Default)]
struct Done {
    /// Set once, by whoever builds the report (the last node's end, or an abandoned run).
    finished: bool,
    report: Option<GraphReport>,
    waker: Option<Waker>,
}

pub(super) struct GraphRun<S> {
    record: Arc<RunRecord>,
    critical: CriticalPath,
    workers: usize,
    spawner: S,
    clock: SharedClock,
    origin: Duration,
    ready: Vec<CachePadded<WorkerReady>>,
    /// Per lane, searchers that are running or queued to run (not those whose node waits).
    searching: CachePadded<[AtomicUsize; Lane::COUNT]>,
    /// Nodes not yet ended, less what searchers have not flushed yet.
    ///
    /// This, `makespan` and `done` are written by every worker (each searcher step ends with
    /// the first two) and sit each on a line of its own: laid out by the compiler, they
    /// shared one with `clock`, `origin` and `workers`, which every clock reading reads, so a
    /// step's end on one worker took from the other the line its next reading needed (a
    /// cross-core round trip of a line took 57 ns or 390-460 ns on the 2-core bench host of
    /// session 25, depending on where its two vCPUs sat).
    remaining: CachePadded<AtomicUsize>,
    /// Per worker, nanoseconds spent running nodes started on it, and the latest end of any
    /// node: added up by searchers as they go, so the report needs no pass over the nodes.
    busy: Vec<CachePadded<AtomicU64>>,
    makespan: CachePadded<AtomicU64>,
    done: CachePadded<Mutex<Done>>,
}

impl<S> GraphRun<S> {
    pub(super) fn new(
        dag: Arc<Dag>,
        critical: CriticalPath,
        table: NodeTable,
        order: Arc<ReadyOrder>,
        queues: WorkerQueues,
        spawner: S,
        clock: SharedClock,
    ) -> Arc<Self> {
        debug_assert_eq!(queues.nodes, dag.len());
        Arc::new(GraphRun {
            critical,
            workers: queues.ready.len(),
            spawner,
            origin: clock.now(),
            clock,
            ready: queues.ready,
            searching: CachePadded::new(std::array::from_fn(|_| AtomicUsize::new(0))),
            remaining: CachePadded::new(AtomicUsize::new(dag.len())),
            busy: queues.busy,
            makespan: CachePadded::new(AtomicU64::new(0)),
            done: CachePadded::new(Mutex::new(Done::default())),
            record: Arc::new(RunRecord {
                dag,
                order,
                table,
                failures: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Nodes not yet ended (searchers report theirs when their step ends).
    pub(super) fn remaining(&self) -> usize {
        self.remaining.load(Relaxed)
    }

    pub(super) fn poll_report(&self, cx: &mut Context<'_>) -> Poll<GraphReport> {
        let mut done = self.done.lock();
        match done.report.take() {
            Some(report) => Poll::Ready(report),
            None => {
                done.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    pub(super) fn try_take(&self) -> Option<GraphReport> {
        self.done.lock().report.take()
    }

    fn now(&self) -> u64 {
        let elapsed = self.clock.now().saturating_sub(self.origin);
        u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Builds the report once: when the last node ended, or when the run was abandoned (a
    /// searcher dropped by a shutting-down executor; nodes that had not ended are `NotRun`).
    /// The lines of a finished run are built when first read; an abandoned run's are built
    /// now, while nodes that were still running may go on and change their records.
    fn finish_run(&self, abandoned: bool) {
        if self.done.lock().finished {
            return;
        }
        let record = &self.record;
        let policy = record.order.policy();
        let report = if abandoned {
            let lines = record.lines();
            GraphReport::with_critical_path(
                &record.dag,
                &self.critical,
                policy,
                self.workers,
                lines,
            )
        } else {
            let makespan = Duration::from_nanos(self.makespan.load(Relaxed));
            let busy = self
                .busy
                .iter()
                .map(|busy| Duration::from_nanos(busy.load(Relaxed)))
                .collect();
            let source = Arc::clone(record) as Arc<dyn LineSource>;
            GraphReport::deferred(&self.critical, policy, Some(source), makespan, busy)
        };
        let waker = {
            let mut done = self.done.lock();
            if done.finished {
                return;
            }
            done.finished = true;
            done.report = Some(report);
            done.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<S: SearcherSpawner> GraphRun<S> {
    /// Queues the nodes that wait for nothing (or reports an empty graph at once).
    pub(super) fn begin(self: &Arc<Self>) {
        if self.record.dag.is_empty() {
            self.finish_run(false);
            return;
        }
        let now = self.now();
        let mut per_lane = [0; Lane::COUNT];
        // Roots are dealt round-robin over the workers' queues, so every worker starts on
        // nodes of its own.
        let table = &self.record.table;
        let workers = self.ready.len();
        for (first, ready) in self.ready.iter().enumerate() {
            let queue = ready.lock();
            for &slot in table.roots().iter().skip(first).step_by(workers) {
                table.set_ready(slot, now);
                let lane = table.lane(slot);
                per_lane[lane.index()] += 1;
                queue.push(lane, slot);
            }
        }
        for lane in Lane::ALL {
            self.add_searchers(lane, per_lane[lane.index()]);
        }
    }

    /// A node with one successor, without the queueing machinery of [`release`](Self::release)
    /// (the searcher's inner loop runs a chain's links; this is for a successor that is not
    /// one, such as one that also waits for others in a fan-in): when `slot`, the one successor
    /// of a node that ended at `now` on `worker`, is of the searcher's `lane` and beats
    /// everything queued there, retires its edge and returns what to run next (`Some(None)`:
    /// nothing was released). `None` when the case does not apply and nothing was retired.
    /// Checking the queue first is sound because only this worker adds to its queue: a thief
    /// can only make its best worse.
    #[inline]
    fn release_sole(
        &self,
        (slot, lane): (Slot, Lane),
        now: u64,
        worker: usize,
    ) -> Option<Option<Released>> {
        let table = &self.record.table;
        if table.lane(slot) != lane || slot >= self.ready[worker].best(lane) {
            return None;
        }
        Some(table.retire_edge(slot, now).map(|ready| Released {
            slot,
            ready,
            start: ready,
        }))
    }

    /// Retires one predecessor event, at `now`, of each of `successors`; those that waited for
    /// no other are released here (exactly once, see [`NodeTable::retire_edge`]), ready at the
    /// latest of their predecessors' events. With `take`, the best released node of that lane is
    /// kept back from the queue and returned if it beats everything in `worker`'s queue, or
    /// else traded under the lock for the queue's best; either is returned for the caller to
    /// run next.
    #[inline(never)]
    fn release(
        self: &Arc<Self>,
        successors: &[Slot],
        now: u64,
        take: Option<Lane>,
        worker: usize,
    ) -> Option<Released> {
        let own = &self.ready[worker];
        let table = &self.record.table;
        let mut kept: Option<(Slot, u64)> = None;
        let mut queue: Option<HeldQueue<'_>> = None;
        // Nodes queued of the taken lane, and of the others: most graphs have one lane, and
        // their releases then never build the per-lane counts.
        let mut queued_taken = 0;
        let mut queued_other: Option<[usize; Lane::COUNT]> = None;
        for &slot in successors {
            let Some(ready) = table.retire_edge(slot, now) else {
                continue;
            };
            let (mut slot, mut ready, lane) = (slot, ready, table.lane(slot));
            if take == Some(lane) {
                // A lower slot ranks higher.
                match kept {
                    None => {
                        kept = Some((slot, ready));
                        continue;
                    }
                    Some((kept_slot, kept_ready)) if slot < kept_slot => {
                        kept = Some((slot, ready));
                        (slot, ready) = (kept_slot, kept_ready);
                    }
                    Some(_) => {}
                }
                queued_taken += 1;
            } else {
                queued_other.get_or_insert([0; Lane::COUNT])[lane.index()] += 1;
            }
            // A node run next carries its ready time; one queued leaves it in its record.
            table.set_ready(slot, ready);
            queue.get_or_insert_with(|| own.lock()).push(lane, slot);
        }
        let next = match (take, kept) {
            (Some(lane), Some((slot, ready))) if slot >= own.best(lane) => {
                // The queue holds a better node (unless a thief took it meanwhile): queue this
                // one and take the best in one pass; the one taken, maybe this one, has its
                // ready time in its record.
                table.set_ready(slot, ready);
                let slot = queue.get_or_insert_with(|| own.lock()).push_pop(lane, slot);
                Some((slot, table.ready(slot)))
            }
            (_, kept) => kept,
        };
        // A node starts no earlier than it was ready: another predecessor may have read the
        // clock after `now` and retired its edge first.
        let next = next.map(|(slot, ready)| Released {
            slot,
            ready,
            start: ready.max(now),
        });
        if queue.is_some() {
            drop(queue);
            if let Some(lane) = take {
                self.add_searchers(lane, queued_taken);
            }
            if let Some(queued_other) = queued_other {
                for lane in Lane::ALL {
                    self.add_searchers(lane, queued_other[lane.index()]);
                }
            }
        }
        next
    }

    /// Queues `next`, the node a searcher of `lane` on `worker` would have run next had its
    /// budget not run out, for that searcher to take again after it yields. No searcher is
    /// added for it: this one still counts as searching and comes back within a pick of the
    /// runtime, where a new one would wake an idle worker to race it for the node and carry a
    /// chain back and forth between the cores (once per budget, about every 10 µs).
    #[cold]
    fn queue_for_return(&self, next: Released, lane: Lane, worker: usize) {
        self.record.table.set_ready(next.slot, next.ready);
        self.ready[worker].lock().push(lane, next.slot);
    }

    /// After `count` nodes of `lane` were queued: spawns searchers for them while the lane has
    /// fewer than one per worker (see the module docs for why the fence).
    fn add_searchers(self: &Arc<Self>, lane: Lane, count: usize) {
        if count == 0 {
            return;
        }
        fence(SeqCst);
        let searching = &self.searching[lane.index()];
        let mut spawned = 0;
        while spawned < count
            && searching
                .fetch_update(SeqCst, Relaxed, |n| (n < self.workers).then_some(n + 1))
                .is_ok()
        {
            spawned += 1;
            let searcher = Searcher {
                run: self.clone(),
                lane,
                current: None,
                waiting: false,
                ended: false,
            };
            if !self.spawner.spawn_searcher(searcher) {
                // The executor is shutting down; the refused searcher's drop ended the run.
                return;
            }
        }
        if spawned > 0 {
            self.spawner.wake_idle();
        }
    }

    /// Called by a searcher that stops searching (it found nothing, or its node waits):
    /// whether a node of `lane` is queued anywhere after all (see the module docs).
    fn leave_searching(&self, lane: Lane) -> bool {
        self.searching[lane.index()].fetch_sub(1, SeqCst);
        fence(SeqCst);
        self.ready.iter().any(|ready| ready.best(lane) != EMPTY)
    }

    /// The best ready node of `lane` for a searcher on `worker`: from its own queue, or else
    /// from the peer queue whose best ranks highest. `None` when nothing is queued (that the
    /// searcher could see).
    fn take_ready(self: &Arc<Self>, lane: Lane, worker: usize) -> Option<Slot> {
        let own = &self.ready[worker];
        if own.best(lane) != EMPTY
            && let Some(slot) = own.lock().pop(lane)
        {
            return Some(slot);
        }
        for _ in 0..RETAKE_ATTEMPTS {
            let victim = self
                .ready
                .iter()
                .map(|ready| ready.best(lane))
                .enumerate()
                .filter(|&(_, best)| best != EMPTY)
                .min_by_key(|&(_, best)| best)?;
            let victim = &self.ready[victim.0];
            let queue = victim.lock();
            if let Some(slot) = queue.pop(lane) {
                // From a wide front, take the next best few along, up to half of what the
                // victim holds: they sit in consecutive slots, so the thief goes on in a band
                // of its own and releases their successors to itself, instead of coming back
                // for one node at a time and trading cache lines with the victim (on a 1024 x
                // 1024 wavefront, twice the time per node). A narrow front is left alone: there
                // the victim's next node may be the one the critical path needs.
                let queued = queue.len(lane);
                let share = if queued >= STEAL_BATCH_FROM {
                    (queued / 2).min(STEAL_BATCH)
                } else {
                    0
                };
                let mut batch = [0; STEAL_BATCH];
                let mut taken = 0;
                while taken < share
                    && let Some(next) = queue.pop(lane)
                {
                    batch[taken] = next;
                    taken += 1;
                }
                drop(queue);
                if taken > 0 {
                    let queue = own.lock();
                    for &next in &batch[..taken] {
                        queue.push(lane, next);
                    }
                    drop(queue);
                    self.add_searchers(lane, taken);
                }
                return Some(slot);
            }
            drop(queue);
            // Taken meanwhile: look again.
            std::hint::spin_loop();
        }
        None
    }

    /// Starts a released node on `worker`: releases the nodes that waited only for this start,
    /// and returns where and when it started. (Its body is taken from the table just before it
    /// runs.)
    #[inline]
    fn start(self: &Arc<Self>, next: Released, worker: usize) -> Ran {
        let Released { slot, ready, start } = next;
        let successors = self.record.table.successors_after_start(slot);
        if !successors.is_empty() {
            self.release(successors, start, None, worker);
        }
        Ran {
            worker,
            ready,
            start,
        }
    }

    /// Records the end at `now` of the node in `slot`, which ran as `ran` says, and releases its
    /// successors, keeping back the best of `lane` (see [`release`](Self::release)). Returns
    /// how many nodes ended (more than one when a failure skipped dependents) and the node to
    /// run next.
    fn finish(
        self: &Arc<Self>,
        (slot, ran): (Slot, Ran),
        result: NodeResult,
        now: u64,
        lane: Lane,
        worker: usize,
    ) -> (usize, Option<Released>) {
        self.record.table.end(slot, ran, now, result.is_ok());
        match result {
            Ok(()) => (1, self.release_successors(slot, now, lane, worker)),
            Err(message) => {
                let node = self.record.order.node_at(slot);
                self.record.failures.lock().push((node, message.into()));
                (1 + self.skip_dependents(slot), None)
            }
        }
    }

    /// Releases the successors of the node in `slot`, which ended at `now` on `worker`, and
    /// returns the one to run next on a searcher of `lane` (see [`release`](Self::release)).
    #[inline]
    fn release_successors(
        self: &Arc<Self>,
        slot: Slot,
        now: u64,
        lane: Lane,
        worker: usize,
    ) -> Option<Released> {
        let successors = self.record.table.successors_after_finish(slot);
        if let &[only] = successors
            && let Some(next) = self.release_sole((only, lane), now, worker)
        {
            return next;
        }
        self.release(successors, now, Some(lane), worker)
    }

    /// Marks every node that can no longer start because `failed` did not finish; returns how
    /// many it marked. A node is marked once even if several of its predecessors fail, and a
    /// marked node was never released: a failed or skipped predecessor never retires its edge.
    fn skip_dependents(&self, failed: Slot) -> usize {
        let (table, cause) = (&self.record.table, self.record.order.node_at(failed));
        let mut stack = table.successors_after_finish(failed).to_vec();
        let mut skipped = 0;
        while let Some(slot) = stack.pop() {
            if !table.skip(slot, cause) {
                continue;
            }
            skipped += 1;
            stack.extend_from_slice(table.successors_after_finish(slot));
            stack.extend_from_slice(table.successors_after_start(slot));
        }
        skipped
    }

    /// Counts `ended` nodes as ended, after adding what a searcher's step ran on `worker` to
    /// the run's totals; the caller that ends the last node builds the report (the `AcqRel`
    /// subtractions carry every searcher's additions to it).
    fn retire(&self, ended: usize, worker: usize, busy: u64, latest_end: u64) {
        if busy > 0 {
            self.busy[worker].fetch_add(busy, Relaxed);
        }
        if latest_end > 0 {
            self.makespan.fetch_max(latest_end, Relaxed);
        }
        if ended > 0 && self.remaining.fetch_sub(ended, AcqRel) == ended {
            self.finish_run(false);
        }
    }
}

/// A released node a searcher is about to start, with its ready time and the time it starts.
#[derive(Clone, Copy)]
struct Released {
    slot: Slot,
    ready: u64,
    start: u64,
}

/// A node whose work yielded or waits, kept by its searcher until its next step.
struct Paused {
    slot: Slot,
    work: NodeWork,
    /// Where and when it started (a searcher whose node yielded may go on on another worker).
    ran: Ran,
}

/// A runtime task that runs ready nodes of its lane (see the module docs).
pub(crate) struct Searcher<S: SearcherSpawner> {
    run: Arc<GraphRun<S>>,
    lane: Lane,
    /// The node being run, when its work yielded or waits.
    current: Option<Paused>,
    /// Whether this searcher stopped counting as one because its node yielded or waits.
    waiting: bool,
    /// Set when the searcher ended normally. One dropped otherwise was cancelled or refused by
    /// an executor that is shutting down: its run can no longer finish, so the drop reports it.
    ended: bool,
}

impl<S: SearcherSpawner> Task for Searcher<S> {
    type Output = ();

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
        let Searcher {
            run,
            lane,
            current,
            waiting,
            ended,
        } = self;
        let lane = *lane;
        // A step runs on one worker: look it up once, not per node.
        let worker = run.spawner.current_worker() % run.ready.len();
        if std::mem::take(waiting) {
            run.searching[lane.index()].fetch_add(1, SeqCst);
        }
        let table = &run.record.table;
        let timed = table.timed();
        let step_start = run.now();
        let mut state = StepState {
            worker,
            step_start,
            slot: 0,
            how: Ran::default(),
            clock: step_start,
            ran: 0,
            clock_at: UNTIMED_CLOCK_FIRST,
            finished: 0,
            busy: 0,
            latest_end: 0,
            chain: ChainStash::default(),
        };
        // A node that yielded or waited goes on first; then the node the last one released, if
        // it is to run next on this searcher; then the best queued one.
        let mut resumed = current.take();
        let mut released: Option<Released> = None;
        let step = loop {
            let (slot, ran, body) = match resumed.take() {
                Some(Paused { slot, work, ran }) => (slot, ran, StartedBody::Owned(work)),
                None => {
                    let next = match released.take() {
                        Some(next) => next,
                        None => match run.take_ready(lane, worker) {
                            Some(slot) => {
                                if timed {
                                    state.clock = run.now();
                                }
                                Released {
                                    slot,
                                    ready: table.ready(slot),
                                    start: state.clock,
                                }
                            }
                            None if run.leave_searching(lane) => {
                                // A node appeared meanwhile: count back in and go on.
                                run.searching[lane.index()].fetch_add(1, SeqCst);
                                continue;
                            }
                            None => {
                                *ended = true;
                                break Step::Done(());
                            }
                        },
                    };
                    let ran = run.start(next, worker);
                    (next.slot, ran, table.take_body(next.slot, &mut state.chain))
                }
            };
            (state.slot, state.how) = (slot, ran);
            // One panic boundary around the node and the chain's links after it: the state
            // says which node was running when a panic unwound out of the loop. A broken
            // invariant of the run's own code, checked inside it, is no node's failure: it goes
            // on out of the step (see `fault`).
            let ran_before = state.ran;
            let links = match catch_unwind(AssertUnwindSafe(|| {
                if timed {
                    run.run_links::<true>(&mut state, body, lane, cx)
                } else {
                    run.run_links::<false>(&mut state, body, lane, cx)
                }
            })) {
                Err(payload) if is_fault(payload.as_ref()) => resume_unwind(payload),
                links => links,
            };
            // A chain's bodies that the step took along go back before the node they are for
            // can be released (by `finish`) or queued (see `ChainedBodies`).
            table.leave_chain(state.slot, &mut state.chain);
            // Every node the loop ran was closed (see `StepState::close`) and, but for the
            // last, ended in the loop; the last one closed too unless it paused or panicked,
            // and ended there too if the loop released its successors. Counting the ends from
            // `ran` keeps a second counter off the links' path. Each arm below adds its own
            // count: one `matches!` ahead of the match instead led the compiler to keep the
            // chain loop's slot on the stack (scratch A/B medians: 4.4-5.2 -> 4.7-5.5 ns per
            // link).
            let closed = (state.ran - ran_before) as usize;
            let (result, now, within_budget) = match links {
                Ok(LinksEnd::Ended {
                    result,
                    now,
                    within_budget,
                }) => {
                    state.finished += closed - 1;
                    (result, now, within_budget)
                }
                Ok(LinksEnd::Released) => {
                    state.finished += closed;
                    continue;
                }
                Ok(LinksEnd::Paused(work, pause)) => {
                    state.finished += closed;
                    // The node keeps this searcher, which stops counting as one until its
                    // next step, so that queued nodes of the lane get a searcher of their
                    // own: the node may be waiting (by polling or by a waker) for one of them.
                    *current = Some(Paused {
                        slot: state.slot,
                        work,
                        ran: state.how,
                    });
                    *waiting = true;
                    if run.leave_searching(lane) {
                        run.add_searchers(lane, 1);
                    }
                    break match pause {
                        Pause::Yield => Step::Yield,
                        Pause::Pending => Step::Pending,
                    };
                }
                Err(payload) => {
                    state.finished += closed;
                    let message = match crate::error::panic_message(payload.as_ref()) {
                        Some(message) => format!("panicked: {message}"),
                        None => "panicked".to_owned(),
                    };
                    let (now, within_budget) = state.close(run, timed);
                    (Err(message.into_boxed_str()), now, within_budget)
                }
            };
            let (count, next) = run.finish((state.slot, state.how), result, now, lane, worker);
            state.finished += count;
            match next {
                Some(next) if within_budget => released = Some(next),
                Some(next) => {
                    run.queue_for_return(next, lane, worker);
                    break Step::Yield;
                }
                None if !within_budget => break Step::Yield,
                None => {}
            }
        };
        debug_assert!(state.chain.is_empty(), "a step ends off any chain");
        let StepState {
            mut busy,
            mut latest_end,
            finished,
            ..
        } = state;
        if !timed {
            // Without node times, a worker's busy time is the time its searchers' steps took,
            // and the run's end the latest end of a step that ended a node.
            let step_end = run.now();
            busy = step_end.saturating_sub(step_start);
            if finished > 0 {
                latest_end = step_end;
            }
        }
        run.retire(finished, worker, busy, latest_end);
        step
    }
}

/// Where a searcher's step stands: the node it runs, the latest clock reading and what the
/// step has counted so far. [`GraphRun::run_links`] updates it node by node, so that when a
/// node panics, the caller knows which one.
struct StepState {
    /// The worker the step runs on.
    worker: usize,
    step_start: u64,
    /// The node running, and where and when it started.
    slot: Slot,
    how: Ran,
    /// Taken after every node when nodes are timed, else when `ran` reaches `clock_at`, for
    /// the step's budget.
    clock: u64,
    /// Nodes run in this step, for the budget (and, in the chain's loop, to count its links).
    ran: u32,
    /// Without node times, the value of `ran` at which the clock is read next.
    clock_at: u32,
    /// Nodes ended in this step.
    finished: usize,
    /// Time spent on nodes started on this worker, and the latest end: added to the run's
    /// totals once per step.
    busy: u64,
    latest_end: u64,
    /// The bodies of the chain the running node is on, taken along (see `ChainedBodies` in
    /// the table's module). Here, not in the loop, so that a panic does not drop them while
    /// unwinding.
    chain: ChainStash,
}

impl StepState {
    /// Counts the running node's end: reads the clock if it is time to, and returns the end's
    /// time (also the ready time of what it releases and the start of the node run next) and
    /// whether the step is still within its budget (checked when the clock is read). `timed`
    /// is the table's [`NodeTable::timed`]; the chain's loop passes it as a constant.
    #[inline]
    fn close<S>(&mut self, run: &GraphRun<S>, timed: bool) -> (u64, bool) {
        self.ran += 1;
        if !timed && self.ran < self.clock_at {
            return (self.clock, true);
        }
        let now = run.now();
        self.clock = now;
        let spent = now.saturating_sub(self.step_start);
        let within_budget = self.ran < CONTINUATION_NODES && spent < BUDGET_NANOS;
        if timed {
            let ran_for = now.saturating_sub(self.how.start);
            if self.how.worker == self.worker {
                self.busy += ran_for;
            } else {
                run.busy[self.how.worker].fetch_add(ran_for, Relaxed);
            }
            self.latest_end = self.latest_end.max(now);
        } else if within_budget {
            self.clock_at = self.ran + untimed_clock_gap(self.ran, spent);
        }
        (now, within_budget)
    }
}

/// The step's budget in the clock's unit.
const BUDGET_NANOS: u64 = CONTINUATION_BUDGET.as_nanos() as u64;

/// After `ran` nodes took `spent` of a step's budget, and with both budgets left: how many
/// nodes to run before the next reading of the clock. Half as many as fit in the budget's rest
/// at the pace so far, so that a few slower nodes do not overrun it far, and no more than the
/// node budget's rest or [`UNTIMED_CLOCK_GAP`]. Out of line: the chain's loop inlines
/// [`StepState::close`], and this runs once per dozens of nodes.
#[inline(never)]
fn untimed_clock_gap(ran: u32, spent: u64) -> u32 {
    let per_node = (spent / u64::from(ran)).max(1);
    let fit = (BUDGET_NANOS - spent) / per_node / 2;
    let gap = fit.clamp(1, u64::from(UNTIMED_CLOCK_GAP)) as u32;
    gap.min(CONTINUATION_NODES - ran)
}

/// How [`GraphRun::run_links`] stopped.
enum LinksEnd {
    /// The last node it ran ended, at `now`, and its successors are not released yet.
    Ended {
        result: NodeResult,
        now: u64,
        within_budget: bool,
    },
    /// The node in the state's slot yielded or waits; here is its work back.
    Paused(NodeWork, Pause),
    /// The last node it ran ended and released its successors, and none of them is to run
    /// next on this searcher.
    Released,
}

impl<S: SearcherSpawner> GraphRun<S> {
    /// Runs `body`, the body of the node in `state.slot`, and then, while the step is within
    /// its budget and each node succeeds, the node to run next after it; `TIMED` is the
    /// table's [`NodeTable::timed`].
    ///
    /// The chain's case first: the node's one successor, released by this end alone, runs next
    /// if it beats everything queued on this worker (only this worker adds to its queue, so a
    /// thief can only make the queue's best worse meanwhile). Such a link touches no counter,
    /// list or queue, and this loop keeps little more than that in flight. Any other node ends
    /// here as well, and releases its successors with [`release`](GraphRun::release), which
    /// returns the node to run next; when it returns none, so does this loop
    /// ([`LinksEnd::Released`]).
    #[inline]
    fn run_links<'t, const TIMED: bool>(
        self: &'t Arc<Self>,
        state: &mut StepState,
        body: StartedBody<'t>,
        lane: Lane,
        cx: &mut Cx<'_>,
    ) -> LinksEnd {
        let table = &self.record.table;
        match (body, table.shared_bodies()) {
            // Every body is shared: a link is a call through `works[next]`, with no look at the
            // kind of body and nothing to pause.
            (StartedBody::Shared(first), Some(works)) => self.link_loop::<TIMED, _>(
                state,
                first,
                lane,
                |work| Progress::Done(work()),
                |_, next| &works[next as usize],
                |_, _| {},
            ),
            // A link on a chain takes its body from the chain's bodies the searcher holds.
            (body, _) => self.link_loop::<TIMED, _>(
                state,
                body,
                lane,
                |body| body.step(cx),
                |state, next| match state.chain.pop() {
                    Some(work) => StartedBody::Owned(work),
                    None => table.take_body(next, &mut state.chain),
                },
                |state, slot| table.leave_chain(slot, &mut state.chain),
            ),
        }
    }

    /// The loop of [`run_links`](Self::run_links), for bodies of type `B`: `step` runs one,
    /// `take` hands out the body of a node about to run, and `leave` is told of a node that
    /// ended and is not followed by its link, before its successors are released.
    #[inline(always)]
    fn link_loop<const TIMED: bool, B>(
        self: &Arc<Self>,
        state: &mut StepState,
        mut body: B,
        lane: Lane,
        mut step: impl FnMut(B) -> Progress,
        mut take: impl FnMut(&mut StepState, Slot) -> B,
        mut leave: impl FnMut(&mut StepState, Slot),
    ) -> LinksEnd {
        let table = &self.record.table;
        let best = &self.ready[state.worker].best[lane.index()];
        // The state's slot is written for the panic path, which reads it after unwinding, but
        // the loop goes on with its own copy: the body's call may, for all the compiler knows,
        // write the state, so reading the slot back from it would put a reload after every
        // call on the path from one link to the next.
        let mut slot = state.slot;
        loop {
            match step(body) {
                Progress::Done(Ok(())) => {}
                Progress::Done(result) => {
                    // A failure ends the links here, before the next call, so that the
                    // message's two words are not kept across it on the path every link takes.
                    let (now, within_budget) = state.close(self, TIMED);
                    return LinksEnd::Ended {
                        result,
                        now,
                        within_budget,
                    };
                }
                Progress::Paused(work, pause) => return LinksEnd::Paused(work, pause),
            }
            let (now, within_budget) = state.close(self, TIMED);
            if within_budget
                && let Some(next) = table.inline_successor_before(slot, best.load(Relaxed))
            {
                table.end_as::<TIMED>(slot, state.how, now, true);
                body = take(state, next);
                slot = next;
                state.slot = next;
                // Only node times read a link's ready and start time. (The node before it
                // may have started on another worker, before it yielded.)
                if TIMED {
                    state.how = Ran {
                        worker: state.worker,
                        ready: now,
                        start: now,
                    };
                } else {
                    state.how.worker = state.worker;
                }
                continue;
            }
            if !within_budget {
                return LinksEnd::Ended {
                    result: Ok(()),
                    now,
                    within_budget,
                };
            }
            // Any other node ends here too, and the best node its end releases, or else the
            // best queued one, runs next, without a return to the searcher's step loop.
            table.end_as::<TIMED>(slot, state.how, now, true);
            leave(state, slot);
            let Some(next) = self.release_successors(slot, now, lane, state.worker) else {
                return LinksEnd::Released;
            };
            state.how = self.start(next, state.worker);
            body = take(state, next.slot);
            slot = next.slot;
            state.slot = next.slot;
        }
    }
}

impl<S: SearcherSpawner> Drop for Searcher<S> {
    fn drop(&mut self) {
        if !self.ended {
            self.run.finish_run(true);
        }
    }
}

#[cfg(all(test, not(taskyard_loom)))]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::{BUDGET_NANOS, CONTINUATION_NODES, UNTIMED_CLOCK_GAP, untimed_clock_gap};
    use crate::graph::run::table::ChainStash;
    use crate::graph::{Graph, NodeStatus, Policy, RunnableGraph};
    use crate::runtime::TaskOutcome;
    use crate::sync::Arc;
    use crate::{LocalExecutor, Runtime};

    /// `root` before `first` and `second`, and with `chained`, `first` before `after_first`
    /// (a chain of two), every body owned; `first`'s body (with the rest of its chain) is
    /// taken before the run, as a bug that started a node twice would. Its searcher comes to
    /// take it inside the panic boundary around the nodes it runs, right after `root` ends.
    fn graph_with_a_body_taken_early(
        chained: bool,
        ran: &Arc<Mutex<Vec<&'static str>>>,
    ) -> RunnableGraph {
        let mut graph = Graph::new();
        let mut add = |name: &'static str, after: Option<&str>| {
            let ran = Arc::clone(ran);
            let node = graph.node(name, move || ran.lock().unwrap().push(name));
            if let Some(after) = after {
                node.after(after);
            }
        };
        add("root", None);
        add("first", Some("root"));
        add("second", Some("root"));
        if chained {
            add("after_first", Some("first"));
        }
        let graph = graph.build().unwrap();
        let first = graph.rank_order.key(graph.dag.find("first").unwrap());
        drop(
            graph
                .table
                .take_body(first.position(), &mut ChainStash::default()),
        );
        graph
    }

    /// A broken invariant of the run's own code goes on out of the searcher (see `fault`):
    /// the node that ran before it is not failed for it, nothing else runs on that searcher,
    /// and the run still ends, abandoned, with a report.
    #[test]
    fn a_broken_invariant_ends_the_run_and_blames_no_node() {
        let check = |report: &crate::graph::GraphReport, chained: bool| {
            let status = |name| report.find(name).unwrap().status();
            assert_eq!(status("root"), NodeStatus::Done, "chained: {chained}");
            let mut never = vec!["first", "second"];
            if chained {
                never.push("after_first");
            }
            for name in never {
                assert_eq!(
                    status(name),
                    NodeStatus::NotRun,
                    "{name}, chained: {chained}"
                );
            }
        };
        for chained in [false, true] {
            let ran = Arc::new(Mutex::new(Vec::new()));
            let executor = LocalExecutor::new();
            let handle =
                executor.run_graph(graph_with_a_body_taken_early(chained, &ran), Policy::Rank);
            executor.run_until_idle();
            check(&handle.try_take().expect("the run ended"), chained);
            assert_eq!(*ran.lock().unwrap(), ["root"]);

            ran.lock().unwrap().clear();
            let rt = Runtime::builder().workers(1).build().unwrap();
            let graph = graph_with_a_body_taken_early(chained, &ran);
            check(&rt.run_graph(graph, Policy::Rank).unwrap().join(), chained);
            assert_eq!(*ran.lock().unwrap(), ["root"]);
            let shutdown = rt.shutdown(Duration::from_secs(10));
            let failed: Vec<_> = shutdown
                .failures()
                .iter()
                .map(|task| task.outcome())
                .collect();
            let expected = if chained {
                "taskyard graph run: broken invariant: a chain's bodies wait at its next node"
            } else {
                "taskyard graph run: broken invariant: a node starts once"
            };
            assert!(
                matches!(failed[..], [TaskOutcome::Failed { message: Some(message) }] if message == expected),
                "{failed:?}"
            );
        }
    }

    #[test]
    fn tiny_nodes_read_the_clock_at_the_widest_gap() {
        // 16 nodes in 200 ns: thousands more would fit.
        assert_eq!(untimed_clock_gap(16, 200), UNTIMED_CLOCK_GAP);
        // A clock that does not move (an injected one) reads as nodes that take no time.
        assert_eq!(untimed_clock_gap(16, 0), UNTIMED_CLOCK_GAP);
    }

    #[test]
    fn slower_nodes_read_the_clock_before_the_budget_runs_out() {
        // 16 nodes of 1 µs: 34 more fit in the 50 µs budget; half of them run before the next
        // reading.
        assert_eq!(BUDGET_NANOS, 50_000);
        assert_eq!(untimed_clock_gap(16, 16_000), 17);
        // 20 nodes of 2 µs: 5 more fit, so 2 run before the next reading.
        assert_eq!(untimed_clock_gap(20, 40_000), 2);
        // One node took almost all of it: read after the next one.
        assert_eq!(untimed_clock_gap(1, 49_999), 1);
    }

    #[test]
    fn the_gap_never_passes_the_node_budget() {
        assert_eq!(untimed_clock_gap(CONTINUATION_NODES - 10, 100), 10);
        assert_eq!(untimed_clock_gap(CONTINUATION_NODES - 1, 100), 1);
    }
}
