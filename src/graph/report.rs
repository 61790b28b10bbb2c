//! [`GraphReport`]: what happened to every node of a run (simulated or real), and the figures
//! to judge the schedule by.

use std::fmt;
use std::time::Duration;

use super::dag::{Dag, Names, NodeId};
use super::order::Policy;
use crate::lane::Lane;
use crate::sync::{Arc, OnceLock};

/// How a node's run ended.
///
/// The simulator only produces [`NodeStatus::Done`]; a real run can end in the others.
///
/// # Examples
///
/// ```
/// use taskyard::graph::NodeStatus;
/// assert!(NodeStatus::Done.is_done());
/// assert!(!NodeStatus::NotRun.is_done());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeStatus {
    /// The node ran to completion.
    Done,
    /// The node ran and failed (an error or a panic).
    Failed,
    /// The node did not run because `cause`, a node it waited for, failed or was skipped.
    Skipped {
        /// The failed node the skip traces back to.
        cause: NodeId,
    },
    /// The node never ran: the run was cancelled or shut down first, or it stopped on a broken
    /// invariant of taskyard's own code (a bug, whose panic message the process's panic hook
    /// printed; a runtime also lists it in its shutdown report's failures).
    NotRun,
}

impl NodeStatus {
    /// Whether the node ran to completion.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::NodeStatus::Done.is_done());
    /// ```
    pub fn is_done(self) -> bool {
        self == NodeStatus::Done
    }
}

/// One node's line in a [`GraphReport`]. Times are relative to the start of the run.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::graph::{GraphBuilder, Policy};
///
/// let mut g = GraphBuilder::new();
/// g.node("a").cost_ms(2.0);
/// g.node("b").cost_ms(3.0);
/// let report = g.build()?.simulate(1, Policy::Rank)?;
/// let a = report.find("a").unwrap();
/// assert_eq!(a.start(), Some(Duration::from_millis(3))); // `b` ranks higher
/// assert_eq!(a.queue_wait(), Some(Duration::from_millis(3)));
/// assert_eq!(a.worker(), Some(0));
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone)]
pub struct NodeReport {
    /// The graph's names (see `Dag::names`) and this node's index in them.
    names: Names,
    node: u32,
    // Times in nanoseconds and the worker as `u32`, with `NONE` for "did not run": a report has
    // a line per node, and `Option<Duration>`s would make a million-node report twice as big.
    ready: u64,
    start: u64,
    end: u64,
    worker: u32,
    lane: Lane,
    status: NodeStatus,
    error: Option<Box<str>>,
}

impl std::fmt::Debug for NodeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeReport")
            .field("name", &self.name())
            .field("lane", &self.lane)
            .field("status", &self.status)
            .field("worker", &self.worker())
            .field("ready", &self.ready())
            .field("start", &self.start())
            .field("end", &self.end())
            .field("error", &self.error())
            .finish()
    }
}

/// Lines are equal when they say the same: the same name, lane, status, worker, times and
/// error (not whether they share a name table).
impl PartialEq for NodeReport {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
            && self.lane == other.lane
            && self.status == other.status
            && self.worker == other.worker
            && (self.ready, self.start, self.end) == (other.ready, other.start, other.end)
            && self.error == other.error
    }
}

impl Eq for NodeReport {}

/// "No time" / "no worker" in a [`NodeReport`].
const NONE: u64 = u64::MAX;

fn nanos(d: Duration) -> u64 {
    // A run would have to last 584 years to reach the sentinel.
    u64::try_from(d.as_nanos()).unwrap_or(NONE - 1)
}

fn time(nanos: u64) -> Option<Duration> {
    (nanos != NONE).then(|| Duration::from_nanos(nanos))
}

impl NodeReport {
    /// Node `node` of the graph whose names are `names`, which has not run (yet).
    pub(crate) fn not_run(names: &Names, node: usize, lane: Lane) -> Self {
        debug_assert!(node < names.len());
        Self {
            names: crate::sync::Arc::clone(names),
            node: u32::try_from(node).expect("node indices fit in a u32, as slots do"),
            ready: NONE,
            start: NONE,
            end: NONE,
            worker: u32::MAX,
            lane,
            status: NodeStatus::NotRun,
            error: None,
        }
    }

    /// Records why the node failed.
    pub(crate) fn set_error(&mut self, message: String) {
        self.error = Some(message.into());
    }

    /// Why the node failed: the error's message, or `panicked: …` for a panic.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Records a finished run.
    pub(crate) fn ran(
        &mut self,
        status: NodeStatus,
        worker: usize,
        ready: Duration,
        start: Duration,
        end: Duration,
    ) {
        self.status = status;
        self.worker = u32::try_from(worker).expect("fewer than 2^32 workers");
        self.ready = nanos(ready);
        self.start = nanos(start);
        self.end = nanos(end);
    }

    /// Like [`ran`](Self::ran), with times in nanoseconds since the start of the run.
    pub(crate) fn ran_nanos(&mut self, status: NodeStatus, worker: u32, times: [u64; 3]) {
        debug_assert!(times.iter().all(|&t| t != NONE) && worker != u32::MAX);
        self.status = status;
        self.worker = worker;
        [self.ready, self.start, self.end] = times;
    }

    /// Records a finished run whose times were not recorded.
    pub(crate) fn ran_untimed(&mut self, status: NodeStatus, worker: u32) {
        debug_assert!(worker != u32::MAX);
        self.status = status;
        self.worker = worker;
    }

    /// Records a node skipped because `cause` failed.
    pub(crate) fn skipped(&mut self, cause: NodeId) {
        self.status = NodeStatus::Skipped { cause };
    }

    /// The node's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        &self.names[self.node as usize]
    }

    /// The node's lane.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].lane(), taskyard::Lane::Normal);
    /// ```
    pub fn lane(&self) -> Lane {
        self.lane
    }

    /// How the node's run ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert!(report.nodes()[0].status().is_done());
    /// ```
    pub fn status(&self) -> NodeStatus {
        self.status
    }

    /// The worker that ran the node, numbered from `0`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(3, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].worker(), Some(0));
    /// ```
    pub fn worker(&self) -> Option<usize> {
        (self.worker != u32::MAX).then_some(self.worker as usize)
    }

    /// When the node was released (all its predecessors finished or started), since the run's
    /// start. `None` for a node that did not run, and for every node of a run without node
    /// times ([`RunnableGraph::record_node_times`]); the same holds for [`start`](Self::start),
    /// [`end`](Self::end), [`queue_wait`](Self::queue_wait) and [`duration`](Self::duration).
    ///
    /// [`RunnableGraph::record_node_times`]: crate::graph::RunnableGraph::record_node_times
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(1.0);
    /// g.node("b").after("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[1].ready(), Some(std::time::Duration::from_millis(1)));
    /// ```
    pub fn ready(&self) -> Option<std::time::Duration> {
        time(self.ready)
    }

    /// When the node started.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].start(), Some(std::time::Duration::ZERO));
    /// ```
    pub fn start(&self) -> Option<Duration> {
        time(self.start)
    }

    /// When the node ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(4.0);
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].end(), Some(std::time::Duration::from_millis(4)));
    /// ```
    pub fn end(&self) -> Option<Duration> {
        time(self.end)
    }

    /// How long the node waited for a worker after it was released: `start - ready`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].queue_wait(), Some(std::time::Duration::ZERO));
    /// ```
    pub fn queue_wait(&self) -> Option<Duration> {
        Some(self.start()?.saturating_sub(self.ready()?))
    }

    /// How long the node ran: `end - start`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(2.0);
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes()[0].duration(), Some(std::time::Duration::from_millis(2)));
    /// ```
    pub fn duration(&self) -> Option<Duration> {
        Some(self.end()?.saturating_sub(self.start()?))
    }
}

/// Where a report's lines come from when they are built on first use.
pub(crate) trait LineSource: Send + Sync {
    /// Every node's line, in submission order.
    fn lines(&self) -> Vec<NodeReport>;
}

/// A graph's cost-weighted critical path (its length and one path's nodes, first to last) and
/// its total work: the figures every report of the graph shows, computed once per graph rather
/// than in every run (a pass over the costs is a pass over a million nodes on a large graph).
#[derive(Clone, Debug, Default)]
pub(crate) struct CriticalPath {
    len: u64,
    /// Shared by every report of the graph: on a chain it is the whole graph.
    nodes: Arc<[NodeId]>,
    total_work: Duration,
}

impl CriticalPath {
    pub(crate) fn of(dag: &Dag) -> Self {
        // One pass over the graph for both (a graph without costs has no cached lengths).
        let lengths = dag.path_lengths();
        Self {
            len: super::rank::critical_path_len(&lengths),
            nodes: super::rank::critical_path_nodes(dag, &dag.costs, &lengths).into(),
            total_work: dag.total_work(),
        }
    }
}

/// The outcome of running a graph: every node's line (in submission order) and the figures that
/// say how good the schedule was.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::graph::{GraphBuilder, Policy};
///
/// let mut g = GraphBuilder::new();
/// g.node("a").cost_ms(4.0);
/// g.node("b").cost_ms(2.0);
/// g.node("c").cost_ms(2.0);
/// g.node("d").cost_ms(2.0).after("a");
/// let report = g.build()?.simulate(2, Policy::Rank)?;
/// assert_eq!(report.makespan(), Duration::from_millis(6));
/// assert_eq!(report.critical_path(), Duration::from_millis(6));
/// assert_eq!(report.total_work(), Duration::from_millis(10));
/// assert_eq!(report.lower_bound(), Duration::from_millis(6));
/// assert_eq!(report.utilisation(), [1.0, 4.0 / 6.0]);
/// assert_eq!(report.critical_path_names(), ["a", "d"]);
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone)]
pub struct GraphReport {
    /// Every node's line, built on first use: a real run hands over its raw record instead,
    /// so a caller that only wants the figures never pays for a million lines.
    nodes: OnceLock<Vec<NodeReport>>,
    source: Option<Arc<dyn LineSource>>,
    makespan: Duration,
    critical_path: Duration,
    critical_nodes: Arc<[NodeId]>,
    total_work: Duration,
    workers: usize,
    busy: Vec<Duration>,
    policy: Policy,
}

impl GraphReport {
    /// A report over `nodes` (one per node of `dag`, in submission order). The makespan and the
    /// busy time of each worker come from the nodes' times; the critical path and the total
    /// work from the graph's cost estimates.
    pub(crate) fn new(dag: &Dag, policy: Policy, workers: usize, nodes: Vec<NodeReport>) -> Self {
        Self::with_critical_path(dag, &CriticalPath::of(dag), policy, workers, nodes)
    }

    /// Like [`new`](Self::new), with the graph's critical path computed beforehand (a run
    /// computes it when the graph is built, not after every run).
    pub(crate) fn with_critical_path(
        dag: &Dag,
        critical: &CriticalPath,
        policy: Policy,
        workers: usize,
        nodes: Vec<NodeReport>,
    ) -> Self {
        debug_assert_eq!(nodes.len(), dag.len());
        let mut busy = vec![Duration::ZERO; workers];
        let mut makespan = Duration::ZERO;
        for node in &nodes {
            if let (Some(w), Some(d)) = (node.worker(), node.duration()) {
                busy[w] += d;
            }
            makespan = makespan.max(node.end().unwrap_or_default());
        }
        let mut report = Self::deferred(critical, policy, None, makespan, busy);
        report.nodes = OnceLock::from(nodes);
        report
    }

    /// A report whose lines are built from `source` when first asked for (none without a
    /// source). The caller gives the figures that need every node's times: the makespan and
    /// each worker's busy time.
    pub(crate) fn deferred(
        critical: &CriticalPath,
        policy: Policy,
        source: Option<Arc<dyn LineSource>>,
        makespan: Duration,
        busy: Vec<Duration>,
    ) -> Self {
        Self {
            nodes: OnceLock::new(),
            source,
            makespan,
            critical_path: Duration::from_nanos(critical.len),
            critical_nodes: Arc::clone(&critical.nodes),
            total_work: critical.total_work,
            workers: busy.len(),
            busy,
            policy,
        }
    }

    /// Every node's line, in submission order (index = [`NodeId::index`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.nodes().len(), 1);
    /// ```
    pub fn nodes(&self) -> &[NodeReport] {
        self.nodes.get_or_init(|| {
            self.source
                .as_ref()
                .map_or_else(Vec::new, |source| source.lines())
        })
    }

    /// The line of `node`.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of the graph that ran.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let report = dag.simulate(1, Default::default()).unwrap();
    /// assert_eq!(report.node(dag.find("a").unwrap()).name(), "a");
    /// ```
    #[track_caller]
    pub fn node(&self, node: NodeId) -> &NodeReport {
        &self.nodes()[node.index()]
    }

    /// The line of the node named `name` (a linear search).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let report = g.build().unwrap().simulate(1, Default::default()).unwrap();
    /// assert!(report.find("a").is_some());
    /// assert!(report.find("b").is_none());
    /// ```
    pub fn find(&self, name: &str) -> Option<&NodeReport> {
        self.nodes().iter().find(|n| n.name() == name)
    }

    /// Time from the start of the run to the end of the last node (for a run without node
    /// times, to the end of the runtime step that ended it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(3.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.makespan(), std::time::Duration::from_millis(3));
    /// ```
    pub fn makespan(&self) -> Duration {
        self.makespan
    }

    /// The cost-weighted critical path of the graph (start edges cost nothing along it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(1.0).after("a");
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.critical_path(), std::time::Duration::from_millis(4));
    /// ```
    pub fn critical_path(&self) -> Duration {
        self.critical_path
    }

    /// The nodes of one critical path, first to last, to mark them in a chart.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(1.0).after("a");
    /// let dag = g.build().unwrap();
    /// let report = dag.simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.critical_path_nodes(), [dag.find("a").unwrap(), dag.find("b").unwrap()]);
    /// ```
    pub fn critical_path_nodes(&self) -> &[NodeId] {
        &self.critical_nodes
    }

    /// The names of [`critical_path_nodes`](Self::critical_path_nodes).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(1.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.critical_path_names(), ["a"]);
    /// ```
    pub fn critical_path_names(&self) -> Vec<&str> {
        let nodes = self.nodes();
        self.critical_nodes
            .iter()
            .map(|&n| nodes[n.index()].name())
            .collect()
    }

    /// Whether `node` is on the listed critical path.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(1.0);
    /// let dag = g.build().unwrap();
    /// let report = dag.simulate(2, Default::default()).unwrap();
    /// assert!(report.is_critical(dag.find("a").unwrap()));
    /// assert!(!report.is_critical(dag.find("b").unwrap()));
    /// ```
    pub fn is_critical(&self, node: NodeId) -> bool {
        self.critical_nodes.contains(&node)
    }

    /// Sum of the costs of all nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(1.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.total_work(), std::time::Duration::from_millis(4));
    /// ```
    pub fn total_work(&self) -> Duration {
        self.total_work
    }

    /// No schedule can be shorter than `max(critical path, total work / workers)` (the division
    /// rounded up to the nanosecond).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// g.node("b").cost_ms(3.0);
    /// g.node("c").cost_ms(3.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.lower_bound(), std::time::Duration::from_micros(4500));
    /// assert_eq!(report.makespan(), std::time::Duration::from_millis(6));
    /// ```
    pub fn lower_bound(&self) -> Duration {
        let work = self.total_work.as_nanos();
        let per_worker = work.div_ceil(self.workers.max(1) as u128);
        let per_worker = Duration::from_nanos(u64::try_from(per_worker).unwrap_or(u64::MAX));
        self.critical_path.max(per_worker)
    }

    /// `makespan / lower_bound`: `1.0` is a perfect schedule (`1.0` for an empty graph).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.ratio_to_lower_bound(), 1.0);
    /// ```
    pub fn ratio_to_lower_bound(&self) -> f64 {
        let bound = self.lower_bound();
        if bound.is_zero() {
            1.0
        } else {
            self.makespan.as_secs_f64() / bound.as_secs_f64()
        }
    }

    /// Per worker, the time spent running nodes (for a run without node times, the time its
    /// runtime steps took, release work between nodes included).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.busy(), [Duration::from_millis(3), Duration::ZERO]);
    /// ```
    pub fn busy(&self) -> &[Duration] {
        &self.busy
    }

    /// Per worker, the fraction of the makespan spent running nodes (`0.0` when the makespan is
    /// zero).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(3.0);
    /// let report = g.build().unwrap().simulate(2, Default::default()).unwrap();
    /// assert_eq!(report.utilisation(), [1.0, 0.0]);
    /// ```
    pub fn utilisation(&self) -> Vec<f64> {
        let span = self.makespan.as_secs_f64();
        self.busy
            .iter()
            .map(|b| {
                if span == 0.0 {
                    0.0
                } else {
                    b.as_secs_f64() / span
                }
            })
            .collect()
    }

    /// Number of workers of the run.
    ///
    /// # Examples
    ///
    /// ```
    /// let report = taskyard::graph::GraphBuilder::new().build().unwrap();
    /// assert_eq!(report.simulate(4, Default::default()).unwrap().workers(), 4);
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The policy that ordered ready nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let dag = GraphBuilder::new().build().unwrap();
    /// assert_eq!(dag.simulate(1, Policy::Fifo).unwrap().policy(), Policy::Fifo);
    /// ```
    pub fn policy(&self) -> Policy {
        self.policy
    }
}

impl fmt::Debug for GraphReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphReport")
            .field("makespan", &self.makespan)
            .field("critical_path", &self.critical_path)
            .field("critical_nodes", &self.critical_nodes)
            .field("total_work", &self.total_work)
            .field("workers", &self.workers)
            .field("busy", &self.busy)
            .field("policy", &self.policy)
            .field("nodes", &self.nodes())
            .finish()
    }
}

impl PartialEq for GraphReport {
    /// Equal figures and equal lines, however the lines were built.
    fn eq(&self, other: &Self) -> bool {
        self.makespan == other.makespan
            && self.critical_path == other.critical_path
            && self.critical_nodes == other.critical_nodes
            && self.total_work == other.total_work
            && self.workers == other.workers
            && self.busy == other.busy
            && self.policy == other.policy
            && self.nodes() == other.nodes()
    }
}

impl fmt::Display for GraphReport {
    /// A one-line summary: makespan, bound, ratio, workers and policy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "makespan {:?} on {} workers ({} policy): lower bound {:?} (critical path {:?}, \
             work {:?}), ratio {:.4}",
            self.makespan,
            self.workers,
            self.policy,
            self.lower_bound(),
            self.critical_path,
            self.total_work,
            self.ratio_to_lower_bound()
        )
    }
}
