//! Running a graph on a [`Runtime`](crate::Runtime): release counters, rank-ordered ready
//! nodes, failure propagation and the real-time [`GraphReport`].
//!
//! # How ready nodes reach workers in rank order
//!
//! A released node goes into a rank-ordered [`ReadyQueue`] (ordered by the same
//! [`ReadyOrder`] the simulator uses) and one *token* task goes into the runtime on the node's
//! lane. There is one ready queue per worker: a worker queues what it releases in its own, so
//! releasing takes an uncontended lock. A token does not carry a node: when a worker runs it,
//! it takes the best ready node of its lane from that worker's queue, or, when that has none,
//! from the peer queue whose best node of the lane ranks highest. Tokens per lane never
//! outnumber ready nodes per lane, so a token always finds one, and whichever worker runs it,
//! the owner or a thief, takes in rank order: thieves cannot undo it. (With one queue per
//! worker the order is exact within a worker's queue and approximate across them; on one
//! worker, and on the `LocalExecutor`, it is the simulated order exactly.)
//!
//! When a node finishes and releases successors, its token keeps one token's worth for itself:
//! under the same lock that queues the released nodes it takes the best ready node of its lane
//! and runs it in the same step, for up to 50 µs or 256 nodes, then yields and goes on at its
//! next step. A chain of small nodes runs on one worker without a spawn or a runtime round trip
//! per node, and the rank order still holds because the token takes the best node, not
//! necessarily the one it released.
//!
//! # Release
//!
//! Each node has an atomic count of the predecessors it still waits for (finish edges and
//! start edges). A start decrements the start-successors, a finish the finish-successors; the
//! caller that brings a count to zero releases the node, so each node is released exactly once
//! without a lock. A node that fails marks its transitive dependents skipped, naming it as the
//! cause; independent branches go on.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::builder::{GraphBuilder, NodeSpec};
use super::dag::{Dag, NodeId};
use super::error::GraphError;
use super::order::{Policy, ReadyKey, ReadyOrder, ReadyQueue};
use super::report::{GraphReport, NodeReport, NodeStatus};
use crate::error::SpawnError;
use crate::lane::Lane;
use crate::local::{LocalExecutor, LocalSpawner};
use crate::runtime::Handle;
use crate::sync::atomic::{
    AtomicBool, AtomicU32, AtomicUsize,
    Ordering::{AcqRel, Acquire},
};
use crossbeam_utils::CachePadded;

use crate::sync::{Arc, Mutex};
use crate::task::{Cx, FutureTask, SpawnOptions, Step, Task};
use crate::time::SharedClock;

/// What a node's body may return: `()` for "done", or a `Result` whose error fails the node.
pub trait IntoNodeResult {
    /// `Ok(())` for success, the error's message for a failure.
    fn into_node_result(self) -> Result<(), String>;
}

impl IntoNodeResult for () {
    fn into_node_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> IntoNodeResult for Result<(), E> {
    fn into_node_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

type NodeBody = Box<dyn Task<Output = Result<(), String>> + Send>;

/// Adapts a task whose output is `()` or a `Result` to a node body.
struct Body<T>(T);

impl<T: Task> Task for Body<T>
where
    T::Output: IntoNodeResult,
{
    type Output = Result<(), String>;
    fn step(&mut self, cx: &mut Cx<'_>) -> Step<Result<(), String>> {
        match self.0.step(cx) {
            Step::Done(out) => Step::Done(out.into_node_result()),
            Step::Yield => Step::Yield,
            Step::Pending => Step::Pending,
        }
    }
}

/// A closure as a one-step task.
struct Once<F>(Option<F>);

impl<F: FnOnce() -> R, R: IntoNodeResult> Task for Once<F> {
    type Output = Result<(), String>;
    fn step(&mut self, _cx: &mut Cx<'_>) -> Step<Result<(), String>> {
        let f = self.0.take().expect("a closure node runs once");
        Step::Done(f().into_node_result())
    }
}

/// A dependency graph whose nodes have work to do: closures, state-machine tasks or futures.
///
/// Nodes are named; [`NodeSpec`] sets a node's cost estimate, lane and edges by name.
/// [`build`](Self::build) validates the whole graph before anything runs.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use taskyard::Runtime;
/// use taskyard::graph::{Graph, NodeStatus, Policy};
///
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let mut graph = Graph::new();
/// for (name, after) in [("extract", None), ("transform", Some("extract")), ("load", Some("transform"))] {
///     let log = log.clone();
///     let node = graph.node(name, move || log.lock().unwrap().push(name));
///     if let Some(after) = after {
///         node.after(after);
///     }
/// }
/// graph.node("fails", || Err::<(), _>("no such table")).cost_ms(1.0);
/// graph.node("never", || ()).after("fails");
///
/// let rt = Runtime::builder().workers(2).build()?;
/// let report = rt.run_graph(graph.build()?, Policy::Rank)?.join();
/// assert_eq!(*log.lock().unwrap(), ["extract", "transform", "load"]);
/// assert_eq!(report.find("fails").unwrap().error(), Some("no such table"));
/// assert!(matches!(report.find("never").unwrap().status(), NodeStatus::Skipped { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Graph {
    spec: GraphBuilder,
    bodies: Vec<NodeBody>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("nodes", &self.spec.len())
            .finish()
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node that runs `body` once, in one step. `body` returns `()` or a `Result`; an
    /// error (or a panic) fails the node.
    pub fn node<F, R>(&mut self, name: impl Into<String>, body: F) -> &mut NodeSpec
    where
        F: FnOnce() -> R + Send + 'static,
        R: IntoNodeResult + 'static,
    {
        self.add(name, Box::new(Once(Some(body))))
    }

    /// Adds a node that runs a state-machine [`Task`], step by step.
    pub fn task_node<T>(&mut self, name: impl Into<String>, task: T) -> &mut NodeSpec
    where
        T: Task + Send + 'static,
        T::Output: IntoNodeResult,
    {
        self.add(name, Box::new(Body(task)))
    }

    /// Adds a node that runs a future.
    pub fn future_node<F>(&mut self, name: impl Into<String>, future: F) -> &mut NodeSpec
    where
        F: Future + Send + 'static,
        F::Output: IntoNodeResult,
    {
        self.add(name, Box::new(Body(FutureTask::new(future))))
    }

    fn add(&mut self, name: impl Into<String>, body: NodeBody) -> &mut NodeSpec {
        self.bodies.push(body);
        self.spec.node(name)
    }

    /// Validates the graph.
    ///
    /// # Errors
    ///
    /// [`GraphError`] naming the offender: a cycle (with its path), a self edge, an unknown
    /// node, a duplicate name, a negative or non-finite cost.
    pub fn build(self) -> Result<RunnableGraph, GraphError> {
        Ok(RunnableGraph {
            dag: self.spec.build()?,
            bodies: self.bodies,
        })
    }
}

/// A validated [`Graph`], ready to simulate or run.
pub struct RunnableGraph {
    dag: Dag,
    bodies: Vec<NodeBody>,
}

impl fmt::Debug for RunnableGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunnableGraph")
            .field("nodes", &self.dag.len())
            .finish()
    }
}

impl RunnableGraph {
    /// The graph's structure: names, costs, edges, ranks.
    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    /// Simulates the graph in virtual time with its cost estimates; see [`Dag::simulate`].
    ///
    /// # Errors
    ///
    /// Fails when `workers` is zero.
    pub fn simulate(&self, workers: usize, policy: Policy) -> Result<GraphReport, GraphError> {
        self.dag.simulate(workers, policy)
    }
}

/// What a run knows of one node, under one lock: touched when the node is released, when it
/// starts and when it ends, and read once to build the report.
#[derive(Default)]
struct NodeRecord {
    body: Option<NodeBody>,
    ready: Duration,
    start: Duration,
    end: Duration,
    worker: usize,
    outcome: RecordOutcome,
}

#[derive(Default)]
enum RecordOutcome {
    #[default]
    NotRun,
    Done,
    Failed(String),
    Skipped(NodeId),
}

/// Where a run's tokens go: a runtime's workers or a local executor.
pub(crate) trait TokenSpawner: Clone + Sized + 'static {
    /// Spawns a token; `false` if the executor refuses (shut down or dropped).
    fn spawn_token(&self, token: Token<Self>) -> bool;
    /// The index of the worker running the current step.
    fn current_worker(&self) -> usize;
    /// Wakes an idle worker, if any, for tokens just spawned: the spawning token goes on to run
    /// a node body, so what it spawned is a backlog even when it is a single token.
    fn wake_idle(&self);
}

impl TokenSpawner for Handle {
    fn spawn_token(&self, token: Token<Self>) -> bool {
        self.spawn_task_with(SpawnOptions::new().lane(token.lane), token)
            .is_ok()
    }
    fn current_worker(&self) -> usize {
        Handle::current_worker(self).unwrap_or(0)
    }
    fn wake_idle(&self) {
        self.wake_idle_worker();
    }
}

impl TokenSpawner for LocalSpawner {
    fn spawn_token(&self, token: Token<Self>) -> bool {
        self.spawn_task_with(SpawnOptions::new().lane(token.lane), token)
            .is_ok()
    }
    fn current_worker(&self) -> usize {
        0
    }
    fn wake_idle(&self) {}
}

struct GraphRun<S> {
    dag: Dag,
    order: ReadyOrder,
    workers: usize,
    spawner: S,
    clock: SharedClock,
    origin: Duration,
    pending: Box<[AtomicU32]>,
    /// Set once for a node that can no longer run because a node it waited for failed: the
    /// flag makes several failing predecessors mark it (and count it) once. A node that is
    /// marked was never released, since a failed or skipped predecessor never retires its edge.
    skipped: Box<[AtomicBool]>,
    records: Box<[Mutex<NodeRecord>]>,
    /// Released nodes, one rank-ordered queue per worker: a worker queues what it releases in
    /// its own (an uncontended lock) and a token takes from its own worker's queue first, from
    /// the peer queue whose best node of the lane ranks highest otherwise.
    ready: Box<[CachePadded<Mutex<ReadyQueue>>]>,
    remaining: AtomicUsize,
    done: Mutex<Done>,
}

#[derive(Default)]
struct Done {
    report: Option<GraphReport>,
    waker: Option<Waker>,
}

impl<S: TokenSpawner> GraphRun<S> {
    fn now(&self) -> Duration {
        self.clock.now().saturating_sub(self.origin)
    }

    /// Retires one predecessor of each of `successors`; the nodes whose count reaches zero are
    /// released here (exactly once: only one caller sees the count go from one to zero) into
    /// the ready queue, at time `now`. Returns how many went to each lane and, if `take` names
    /// a lane that received one, the best ready node of that lane, taken under the same lock
    /// (the caller runs it next instead of waking a token for it).
    fn release_successors(
        &self,
        successors: &[NodeId],
        now: Duration,
        take: Option<Lane>,
        worker: usize,
    ) -> ([usize; Lane::COUNT], Option<NodeId>) {
        let mut per_lane = [0; Lane::COUNT];
        let mut ready = None;
        for &node in successors {
            if self.pending[node.index()].fetch_sub(1, AcqRel) != 1 {
                continue;
            }
            let key = self.mark_ready(node, now, &mut per_lane);
            ready
                .get_or_insert_with(|| self.ready[worker % self.ready.len()].lock())
                .push(key);
        }
        let next = match (take, ready.as_mut()) {
            (Some(lane), Some(ready)) if per_lane[lane.index()] > 0 => {
                per_lane[lane.index()] -= 1;
                ready.pop_lane(lane)
            }
            _ => None,
        };
        (per_lane, next)
    }

    /// The best ready node of `lane` for a token without a node: from this worker's queue, or
    /// else the peer queue's whose best ranks highest. Tokens of a lane never outnumber its
    /// ready nodes, so a node exists; a peer token may take the one seen first, hence the
    /// retries. `None` only while the run is torn down after the runtime refused a token.
    fn take_ready(&self, lane: Lane, worker: usize) -> Option<NodeId> {
        let own = worker % self.ready.len();
        if let Some(node) = self.ready[own].lock().pop_lane(lane) {
            return Some(node);
        }
        for _ in 0..RETAKE_ATTEMPTS {
            let best = (0..self.ready.len())
                .filter(|&i| i != own)
                .filter_map(|i| self.ready[i].lock().peek_lane_key(lane).map(|key| (key, i)))
                .max_by_key(|&(key, _)| key);
            if let Some((_, victim)) = best {
                if let Some(node) = self.ready[victim].lock().pop_lane(lane) {
                    return Some(node);
                }
            }
            // Taken meanwhile, or queued after the scan passed its queue: look again.
            if let Some(node) = self.ready[own].lock().pop_lane(lane) {
                return Some(node);
            }
            std::hint::spin_loop();
        }
        None
    }

    /// Records that `node` became ready at `now` and counts it in its lane; returns its key for
    /// a ready queue.
    fn mark_ready(
        &self,
        node: NodeId,
        now: Duration,
        per_lane: &mut [usize; Lane::COUNT],
    ) -> ReadyKey {
        self.records[node.index()].lock().ready = now;
        per_lane[self.dag.lane(node).index()] += 1;
        self.order.key(node)
    }

    fn spawn_tokens(self: &Arc<Self>, per_lane: [usize; Lane::COUNT]) {
        if per_lane == [0; Lane::COUNT] {
            return;
        }
        for lane in Lane::ALL {
            for _ in 0..per_lane[lane.index()] {
                let token = Token {
                    run: self.clone(),
                    lane,
                    node: None,
                };
                if !self.spawner.spawn_token(token) {
                    // The runtime is shutting down: what has not run is reported as not run.
                    self.finish_run();
                    return;
                }
            }
        }
        self.spawner.wake_idle();
    }

    /// Starts `node`: takes its body, records when and where, and releases the nodes that
    /// waited only for this start. The clock is read here, after the node was taken from the
    /// ready queue, so a node never appears to start before whatever released it (its
    /// start-predecessors' starts, its finish-predecessors' ends), whichever worker that was.
    fn start(self: &Arc<Self>, node: NodeId, worker: usize) -> NodeBody {
        let now = self.now();
        let body = {
            let mut record = self.records[node.index()].lock();
            record.start = now;
            record.worker = worker;
            record.body.take().expect("a node starts once")
        };
        let (per_lane, _) =
            self.release_successors(self.dag.successors_after_start(node), now, None, worker);
        self.spawn_tokens(per_lane);
        body
    }

    /// Records the end of `node` at `end`; returns the nodes released per lane, less the one
    /// taken for the caller's lane `take` (see `release_successors`).
    fn finish(
        &self,
        node: NodeId,
        result: Result<(), String>,
        end: Duration,
        take: Option<Lane>,
        worker: usize,
    ) -> ([usize; Lane::COUNT], Option<NodeId>) {
        let failed = result.is_err();
        {
            let mut record = self.records[node.index()].lock();
            record.end = end;
            record.outcome = match result {
                Ok(()) => RecordOutcome::Done,
                Err(message) => RecordOutcome::Failed(message),
            };
        }
        let mut ended = 1;
        let released = if failed {
            ended += self.skip_dependents(node);
            ([0; Lane::COUNT], None)
        } else {
            self.release_successors(self.dag.successors_after_finish(node), end, take, worker)
        };
        if self.remaining.fetch_sub(ended, AcqRel) == ended {
            self.finish_run();
        }
        released
    }

    /// Marks every node that can no longer start because `failed` did not finish; returns how
    /// many it marked. A node is marked once even if several of its predecessors fail.
    fn skip_dependents(&self, failed: NodeId) -> usize {
        let mut stack: Vec<NodeId> = self.dag.successors_after_finish(failed).to_vec();
        let mut skipped = 0;
        while let Some(node) = stack.pop() {
            if self.skipped[node.index()].swap(true, AcqRel) {
                continue;
            }
            skipped += 1;
            self.records[node.index()].lock().outcome = RecordOutcome::Skipped(failed);
            stack.extend_from_slice(self.dag.successors_after_finish(node));
            stack.extend_from_slice(self.dag.successors_after_start(node));
        }
        skipped
    }

    /// Builds the report once every node has ended (or the runtime refused more work).
    fn finish_run(&self) {
        let nodes = self
            .dag
            .nodes()
            .map(|node| {
                let record = std::mem::take(&mut *self.records[node.index()].lock());
                let mut report =
                    NodeReport::not_run(self.dag.names[node.index()].clone(), self.dag.lane(node));
                let status = match record.outcome {
                    RecordOutcome::NotRun => return report,
                    RecordOutcome::Skipped(cause) => {
                        report.skipped(cause);
                        return report;
                    }
                    RecordOutcome::Done => NodeStatus::Done,
                    RecordOutcome::Failed(message) => {
                        report.set_error(message);
                        NodeStatus::Failed
                    }
                };
                report.ran(
                    status,
                    record.worker,
                    record.ready,
                    record.start,
                    record.end,
                );
                report
            })
            .collect();
        let report = GraphReport::new(&self.dag, self.order.policy(), self.workers, nodes);
        let waker = {
            let mut done = self.done.lock();
            if done.report.is_some() {
                return;
            }
            done.report = Some(report);
            done.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// How long a token may keep running released nodes of its lane inside one step, and how
/// many at most: a chain of tiny nodes runs without a runtime round trip per node, and a
/// token still hands its worker back often enough for lane shares and other tasks.
const CONTINUATION_BUDGET: Duration = Duration::from_micros(50);
const CONTINUATION_NODES: u32 = 256;

/// How many times a token looks again when a peer token took the node it saw first.
const RETAKE_ATTEMPTS: usize = 64;

/// A runtime task that runs the best ready node of its lane (see the module docs).
pub(crate) struct Token<S> {
    run: Arc<GraphRun<S>>,
    lane: Lane,
    node: Option<(NodeId, NodeBody)>,
}

impl<S: TokenSpawner> Task for Token<S> {
    type Output = ();

    fn step(&mut self, cx: &mut Cx<'_>) -> Step<()> {
        let run = &self.run;
        // A step runs on one worker: look it up once, not per node.
        let worker = run.spawner.current_worker();
        let step_start = run.now();
        let mut ran = 0;
        loop {
            if self.node.is_none() {
                let Some(node) = run.take_ready(self.lane, worker) else {
                    // Only after the runtime refused a token: the run is being torn down.
                    return Step::Done(());
                };
                self.node = Some((node, run.start(node, worker)));
            }
            let (node, body) = self.node.as_mut().expect("a node was just taken");
            let result = match catch_unwind(AssertUnwindSafe(|| body.step(cx))) {
                Ok(Step::Yield) => return Step::Yield,
                Ok(Step::Pending) => return Step::Pending,
                Ok(Step::Done(result)) => result,
                Err(payload) => Err(match crate::error::panic_message(payload.as_ref()) {
                    Some(message) => format!("panicked: {message}"),
                    None => "panicked".to_owned(),
                }),
            };
            let node = *node;
            self.node = None;
            // This node's end, and the ready time of what it releases.
            let now = run.now();
            ran += 1;
            let within_budget =
                ran < CONTINUATION_NODES && now.saturating_sub(step_start) < CONTINUATION_BUDGET;
            let take = within_budget.then_some(self.lane);
            let (mut per_lane, next) = run.finish(node, result, now, take, worker);
            match next {
                Some(next) => {
                    // Runs in this same step: no runtime round trip per node of a chain.
                    run.spawn_tokens(per_lane);
                    self.node = Some((next, run.start(next, worker)));
                }
                None => {
                    // Over budget, or nothing released in this lane: keep one released node of
                    // this lane for this token (taken on its next step), wake tokens for the
                    // rest, and give the worker back.
                    let keep = per_lane[self.lane.index()] > 0;
                    if keep {
                        per_lane[self.lane.index()] -= 1;
                    }
                    run.spawn_tokens(per_lane);
                    return if keep { Step::Yield } else { Step::Done(()) };
                }
            }
        }
    }
}

/// A running graph; wait for its [`GraphReport`] with [`join`](Self::join) or `.await`.
pub struct GraphHandle {
    run: Arc<GraphRun<Handle>>,
}

impl fmt::Debug for GraphHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphHandle")
            .field("remaining", &self.run.remaining.load(Acquire))
            .finish()
    }
}

impl GraphHandle {
    /// Blocks the current thread until every node has ended, then returns the report.
    ///
    /// Call it from outside the runtime; inside a task, `.await` the handle.
    pub fn join(self) -> GraphReport {
        crate::park::block_on(self)
    }

    /// Nodes that have not ended yet.
    pub fn remaining(&self) -> usize {
        self.run.remaining.load(Acquire)
    }
}

impl Future for GraphHandle {
    type Output = GraphReport;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GraphReport> {
        self.run.poll_report(cx)
    }
}

/// A graph running on a [`LocalExecutor`]; drive the executor, then take the report.
///
/// # Examples
///
/// ```
/// use taskyard::LocalExecutor;
/// use taskyard::graph::{Graph, Policy};
///
/// let ex = LocalExecutor::new();
/// let mut graph = Graph::new();
/// graph.node("a", || ()).cost_ms(1.0);
/// graph.node("b", || ()).cost_ms(1.0).after("a");
/// let run = ex.run_graph(graph.build()?, Policy::Rank);
/// let report = ex.block_on(run);
/// assert_eq!(report.find("b").unwrap().worker(), Some(0));
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
pub struct LocalGraphHandle {
    run: Arc<GraphRun<LocalSpawner>>,
}

impl fmt::Debug for LocalGraphHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalGraphHandle")
            .field("remaining", &self.run.remaining.load(Acquire))
            .finish()
    }
}

impl LocalGraphHandle {
    /// Nodes that have not ended yet.
    pub fn remaining(&self) -> usize {
        self.run.remaining.load(Acquire)
    }

    /// The report, once every node has ended (after the executor ran them).
    pub fn try_take(&self) -> Option<GraphReport> {
        self.run.done.lock().report.take()
    }
}

impl Future for LocalGraphHandle {
    type Output = GraphReport;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GraphReport> {
        self.run.poll_report(cx)
    }
}

impl<S> GraphRun<S> {
    fn poll_report(&self, cx: &mut Context<'_>) -> Poll<GraphReport> {
        let mut done = self.done.lock();
        match done.report.take() {
            Some(report) => Poll::Ready(report),
            None => {
                done.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn new(
        graph: RunnableGraph,
        order: ReadyOrder,
        workers: usize,
        spawner: S,
        clock: SharedClock,
    ) -> Arc<Self> {
        let RunnableGraph { dag, bodies } = graph;
        let n = dag.len();
        Arc::new(GraphRun {
            order,
            workers,
            spawner,
            origin: clock.now(),
            clock,
            pending: dag
                .nodes()
                .map(|v| AtomicU32::new(dag.pending(v)))
                .collect(),
            skipped: (0..n).map(|_| AtomicBool::new(false)).collect(),
            records: bodies
                .into_iter()
                .map(|body| {
                    Mutex::new(NodeRecord {
                        body: Some(body),
                        ..NodeRecord::default()
                    })
                })
                .collect(),
            ready: (0..workers)
                .map(|_| CachePadded::new(Mutex::new(ReadyQueue::new())))
                .collect(),
            remaining: AtomicUsize::new(n),
            done: Mutex::new(Done::default()),
            dag,
        })
    }
}

impl<S: TokenSpawner> GraphRun<S> {
    /// Releases the nodes that wait for nothing (or reports an empty graph at once).
    fn begin(self: &Arc<Self>) {
        if self.dag.is_empty() {
            self.finish_run();
            return;
        }
        let now = self.now();
        let mut per_lane = [0; Lane::COUNT];
        // Roots are dealt round-robin over the workers' queues, so every worker starts on
        // nodes of its own.
        let roots = self.dag.nodes().filter(|&v| self.dag.pending(v) == 0);
        for (i, node) in roots.enumerate() {
            let key = self.mark_ready(node, now, &mut per_lane);
            self.ready[i % self.ready.len()].lock().push(key);
        }
        self.spawn_tokens(per_lane);
    }
}

impl LocalExecutor {
    /// Starts running `graph` on this executor (one worker): ready nodes start in `policy`
    /// order as the executor runs. Await the handle (e.g. in [`block_on`](Self::block_on)) or
    /// run the executor and call [`LocalGraphHandle::try_take`].
    pub fn run_graph(&self, graph: RunnableGraph, policy: Policy) -> LocalGraphHandle {
        let order = graph.dag.order(policy, 1).expect("one worker is valid");
        let run = GraphRun::new(graph, order, 1, self.spawner(), self.clock());
        run.begin();
        LocalGraphHandle { run }
    }
}

impl Handle {
    /// Starts running `graph` on this runtime: ready nodes start in `policy` order (computed
    /// for this runtime's number of workers), each on its own lane.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the runtime is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::Runtime;
    /// use taskyard::graph::{Graph, Policy};
    ///
    /// let rt = Runtime::builder().workers(2).build()?;
    /// let mut graph = Graph::new();
    /// graph.node("a", || ()).cost_ms(5.0);
    /// graph.future_node("b", async {}).cost_ms(1.0).after_start("a");
    /// let report = rt.handle().run_graph(graph.build()?, Policy::Planned)?.join();
    /// assert!(report.nodes().iter().all(|n| n.status().is_done()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_graph(
        &self,
        graph: RunnableGraph,
        policy: Policy,
    ) -> Result<GraphHandle, SpawnError> {
        if self.is_shut_down() {
            return Err(SpawnError::shutdown(None));
        }
        let workers = self.workers();
        let order = graph
            .dag
            .order(policy, workers)
            .expect("a runtime has at least one worker");
        let run = GraphRun::new(graph, order, workers, self.clone(), self.clock());
        run.begin();
        Ok(GraphHandle { run })
    }
}

impl crate::Runtime {
    /// Starts running `graph`; see [`Handle::run_graph`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the runtime is shut down.
    pub fn run_graph(
        &self,
        graph: RunnableGraph,
        policy: Policy,
    ) -> Result<GraphHandle, SpawnError> {
        self.handle().run_graph(graph, policy)
    }
}
