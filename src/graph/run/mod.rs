//! Running a graph on a [`Runtime`](crate::Runtime) or a [`LocalExecutor`]: the [`Graph`] of
//! nodes with work, its validated [`RunnableGraph`], and the handles that wait for the
//! [`GraphReport`]. How ready nodes reach workers is in the `engine` module.

mod engine;
mod queue;
mod table;
mod work;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::builder::{GraphBuilder, NodeSpec};
use super::dag::Dag;
use super::error::GraphError;
use super::order::{Policy, ReadyOrder};
use super::report::{CriticalPath, GraphReport};
use crate::error::SpawnError;
use crate::lane::Lane;
use crate::local::{LocalExecutor, LocalSpawner};
use crate::runtime::{Handle, default_workers};
use crate::sync::Arc;
use crate::task::{FutureTask, Task};
use crate::time::SharedClock;
use engine::{GraphRun, WorkerQueues};
use table::NodeTable;
use work::{Call, NodeBody, Stepped};

pub(crate) use engine::SearcherSpawner;
pub use work::IntoNodeResult;

/// How the message of a panic for a broken invariant of the run's own code begins (see
/// [`fault`]).
const FAULT: &str = "taskyard graph run: broken invariant: ";

/// Panics for a broken invariant of the run's own code, `what` saying which: a bug in
/// taskyard, never the fault of a node.
///
/// Such a check may sit inside the panic boundary that a searcher keeps around the nodes it
/// runs (taking the next node's body, releasing successors). The searcher lets a panic whose
/// message begins with [`FAULT`] go on out of its step instead of failing the node that ran
/// last: the executor counts the searcher as a task that panicked, and its drop ends the run
/// as abandoned, so the run's handle still gets a report (nodes that had not ended are not
/// run). Failing a node instead would end that node twice and could leave the run waiting for
/// ever. The process's panic hook prints the message, where it was raised.
#[cold]
#[inline(never)]
#[track_caller]
fn fault(what: &str) -> ! {
    panic!("{FAULT}{what}")
}

/// Whether a caught panic's `payload` is a [`fault`].
fn is_fault(payload: &(dyn std::any::Any + Send)) -> bool {
    crate::error::panic_message(payload).is_some_and(|message| message.starts_with(FAULT))
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
        self.add(name, NodeBody::Owned(Box::new(Call(body))))
    }

    /// Adds a node that runs `body` once, in one step, calling it through a shared reference
    /// (`Fn`, not `FnOnce`): where [`node`](Self::node) moves its closure out of the graph's
    /// shared state when the node starts, which takes a locked instruction, this one is called
    /// where it is. That saves about five nanoseconds per node; it matters for bodies that take
    /// well under a microsecond. (Along a chain of `node` bodies, nodes each of which only the
    /// one before it releases, the bodies move out together, a stretch of the chain at a time,
    /// and the difference is gone.) The closure, and what it captures, lives until the run's
    /// report is dropped rather than until the node ends (with copies made by
    /// [`RunnableGraph::try_clone`], until the last copy and report are). A graph whose bodies
    /// are all `fn_node`s can be copied to run again without being built again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    ///
    /// use taskyard::graph::{Graph, Policy};
    /// use taskyard::LocalExecutor;
    ///
    /// let cells: Arc<Vec<AtomicU64>> = Arc::new((0..64).map(AtomicU64::new).collect());
    /// let mut graph = Graph::new();
    /// for i in 0..64 {
    ///     let cells = Arc::clone(&cells);
    ///     // Each cell adds its left neighbour's final value.
    ///     let node = graph.fn_node(format!("cell{i}"), move || {
    ///         if i > 0 {
    ///             let left = cells[i - 1].load(Ordering::Relaxed);
    ///             cells[i].fetch_add(left, Ordering::Relaxed);
    ///         }
    ///     });
    ///     if i > 0 {
    ///         node.after(format!("cell{}", i - 1));
    ///     }
    /// }
    /// let executor = LocalExecutor::new();
    /// let report = executor.block_on(executor.run_graph(graph.build()?, Policy::Rank));
    /// assert!(report.nodes().iter().all(|node| node.status().is_done()));
    /// assert_eq!(cells[63].load(Ordering::Relaxed), (0..64).sum::<u64>());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fn_node<F, R>(&mut self, name: impl Into<String>, body: F) -> &mut NodeSpec
    where
        F: Fn() -> R + Send + Sync + 'static,
        R: IntoNodeResult + 'static,
    {
        let body = move || work::node_result(body());
        self.add(name, NodeBody::Shared(Box::new(body)))
    }

    /// Adds a node that runs a state-machine [`Task`], step by step.
    pub fn task_node<T>(&mut self, name: impl Into<String>, task: T) -> &mut NodeSpec
    where
        T: Task + Send + 'static,
        T::Output: IntoNodeResult,
    {
        self.add(name, NodeBody::Owned(Box::new(Stepped(task))))
    }

    /// Adds a node that runs a future.
    pub fn future_node<F>(&mut self, name: impl Into<String>, future: F) -> &mut NodeSpec
    where
        F: Future + Send + 'static,
        F::Output: IntoNodeResult,
    {
        self.add(
            name,
            NodeBody::Owned(Box::new(Stepped(FutureTask::new(future)))),
        )
    }

    fn add(&mut self, name: impl Into<String>, body: NodeBody) -> &mut NodeSpec {
        self.bodies.push(body);
        self.spec.node(name)
    }

    /// Validates the graph, then computes what every run of it needs and what no run changes:
    /// the [`Policy::Rank`] order, the critical path and the per-node state a run works in
    /// (release counters, records, and ready queues for as many workers as the machine has
    /// threads). A run with [`Policy::Rank`] (the default) on that many workers starts without
    /// allocating per node; the other policies compute their order when the run starts.
    ///
    /// # Errors
    ///
    /// [`GraphError`] naming the offender: a cycle (with its path), a self edge, an unknown
    /// node, a duplicate name, a negative or non-finite cost; or a graph of more than
    /// 2<sup>30</sup> nodes.
    pub fn build(self) -> Result<RunnableGraph, GraphError> {
        let dag = self.spec.build()?;
        let rank_order = ReadyOrder::new(&dag, Policy::Rank, 1)?;
        let mut used = [false; Lane::COUNT];
        for node in dag.nodes() {
            used[dag.lane(node).index()] = true;
        }
        let lanes = Lane::ALL.into_iter().filter(|lane| used[lane.index()]);
        Ok(RunnableGraph {
            queues: WorkerQueues::new(dag.len(), lanes.collect(), default_workers()),
            table: NodeTable::new(&dag, &rank_order, self.bodies),
            rank_order: Arc::new(rank_order),
            critical: CriticalPath::of(&dag),
            dag: Arc::new(dag),
        })
    }
}

/// A validated [`Graph`], ready to simulate or run. A run consumes it; to run a graph of
/// [`Graph::fn_node`] bodies again and again, run copies made by
/// [`try_clone`](Self::try_clone).
pub struct RunnableGraph {
    /// Shared with the graph's clones, as are the rank order, the critical path and what the
    /// table holds that no run writes.
    dag: Arc<Dag>,
    /// What a run needs per node, made here (in `rank_order`) so that a run starts without
    /// per-node work.
    table: NodeTable,
    /// The run's ready queues, made here too (see [`WorkerQueues`] for why).
    queues: WorkerQueues,
    rank_order: Arc<ReadyOrder>,
    critical: CriticalPath,
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

    /// Whether a run records each node's ready, start and end times: `true` by default.
    ///
    /// Recording them costs a clock reading per node, which dominates the cost of running a
    /// node whose body is tiny. Without them a searcher reads the clock once per runtime step
    /// (and, within one, for its time budget, after up to 64 nodes, fewer when they are slow),
    /// and the report still gives every node's status and worker, the makespan and each
    /// worker's busy time, but `None` for a node's [`ready`], [`start`] and [`end`]. The
    /// makespan is then the end of the last step that ended a node, and busy time is the time
    /// the run's steps took on each worker: both include the release work between nodes.
    ///
    /// [`ready`]: crate::graph::NodeReport::ready
    /// [`start`]: crate::graph::NodeReport::start
    /// [`end`]: crate::graph::NodeReport::end
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::Runtime;
    /// use taskyard::graph::{Graph, Policy};
    ///
    /// let mut graph = Graph::new();
    /// for i in 0..1000 {
    ///     let node = graph.node(format!("n{i}"), || ());
    ///     if i > 0 {
    ///         node.after(format!("n{}", i - 1));
    ///     }
    /// }
    /// let rt = Runtime::builder().workers(2).build()?;
    /// let graph = graph.build()?.record_node_times(false);
    /// let report = rt.run_graph(graph, Policy::Rank)?.join();
    /// let last = report.find("n999").unwrap();
    /// assert!(last.status().is_done() && last.worker().is_some());
    /// assert_eq!(last.start(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_node_times(mut self, record: bool) -> Self {
        self.table.set_timed(record);
        self
    }

    /// Another copy of this graph to run, as it is before its run: for a graph that runs
    /// again and again (a frame's work, a periodic job), without validating, ranking and
    /// laying it out again. The copy shares with this one what no run changes (the
    /// structure, the rank order, the critical path, the successor lists and the bodies), and
    /// gets state of its own for what a run does change (release counters, records, ready
    /// queues): it takes a pass over the nodes, a small part of what [`Graph::build`] takes.
    /// Copies may run at the same time, on one runtime or several; each gets its own report.
    /// Whether node times are recorded is copied too.
    ///
    /// A run moves a [`Graph::node`], [`task_node`](Graph::task_node) or
    /// [`future_node`](Graph::future_node) body out and consumes it, so only a graph whose
    /// bodies are all [`Graph::fn_node`]s, called through a shared reference, can be copied.
    ///
    /// # Errors
    ///
    /// [`GraphError::is_runs_once`], naming the first node (in the order they were added)
    /// whose body runs once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// use taskyard::Runtime;
    /// use taskyard::graph::{Graph, Policy};
    ///
    /// let frames = Arc::new(AtomicU64::new(0));
    /// let mut graph = Graph::new();
    /// graph.fn_node("input", || ());
    /// graph.fn_node("physics", || ()).after("input");
    /// let counter = Arc::clone(&frames);
    /// graph
    ///     .fn_node("render", move || {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .after("physics");
    /// let frame = graph.build()?;
    ///
    /// let rt = Runtime::builder().workers(2).build()?;
    /// for _ in 0..3 {
    ///     let report = rt.run_graph(frame.try_clone()?, Policy::Rank)?.join();
    ///     assert!(report.nodes().iter().all(|node| node.status().is_done()));
    /// }
    /// assert_eq!(frames.load(Ordering::Relaxed), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_clone(&self) -> Result<RunnableGraph, GraphError> {
        let table = self
            .table
            .try_clone(&self.rank_order)
            .map_err(|node| GraphError::runs_once(self.dag.name(node)))?;
        Ok(RunnableGraph {
            dag: Arc::clone(&self.dag),
            table,
            queues: self.queues.fresh(),
            rank_order: Arc::clone(&self.rank_order),
            critical: self.critical.clone(),
        })
    }
}

/// A running graph; wait for its [`GraphReport`] with [`join`](Self::join) or `.await`.
pub struct GraphHandle {
    run: Arc<GraphRun<Handle>>,
}

impl fmt::Debug for GraphHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphHandle")
            .field("remaining", &self.run.remaining())
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

    /// Nodes that have not ended yet, as last counted: the workers count the nodes they end
    /// once per runtime step, not per node, so the figure may lag by a step.
    pub fn remaining(&self) -> usize {
        self.run.remaining()
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
            .field("remaining", &self.run.remaining())
            .finish()
    }
}

impl LocalGraphHandle {
    /// Nodes that have not ended yet, as last counted: the workers count the nodes they end
    /// once per runtime step, not per node, so the figure may lag by a step.
    pub fn remaining(&self) -> usize {
        self.run.remaining()
    }

    /// The report, once every node has ended (after the executor ran them).
    pub fn try_take(&self) -> Option<GraphReport> {
        self.run.try_take()
    }
}

impl Future for LocalGraphHandle {
    type Output = GraphReport;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GraphReport> {
        self.run.poll_report(cx)
    }
}

impl RunnableGraph {
    /// Starts the run: the order for `policy` on `workers` workers (the one computed at build
    /// time for [`Policy::Rank`]), the run's state, the first searchers.
    fn start<S: SearcherSpawner>(
        self,
        policy: Policy,
        workers: usize,
        spawner: S,
        clock: SharedClock,
    ) -> Arc<GraphRun<S>> {
        let (order, table) = match policy {
            Policy::Rank => (self.rank_order, self.table),
            other => {
                // The table is laid out in rank order; another order lays it out again.
                let order = ReadyOrder::new(&self.dag, other, workers)
                    .expect("an executor has at least one worker");
                let table = self.table.relaid(&self.dag, &self.rank_order, &order);
                (Arc::new(order), table)
            }
        };
        let mut queues = self.queues;
        queues.fit(workers);
        let run = GraphRun::new(
            self.dag,
            self.critical,
            table,
            order,
            queues,
            spawner,
            clock,
        );
        run.begin();
        run
    }
}

impl LocalExecutor {
    /// Starts running `graph` on this executor (one worker): ready nodes start in `policy`
    /// order as the executor runs. Await the handle (e.g. in [`block_on`](Self::block_on)) or
    /// run the executor and call [`LocalGraphHandle::try_take`].
    pub fn run_graph(&self, graph: RunnableGraph, policy: Policy) -> LocalGraphHandle {
        LocalGraphHandle {
            run: graph.start(policy, 1, self.spawner(), self.clock()),
        }
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
        Ok(GraphHandle {
            run: graph.start(policy, self.workers(), self.clone(), self.clock()),
        })
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
