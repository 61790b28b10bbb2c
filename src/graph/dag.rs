//! [`Dag`]: a validated graph in compact form (CSR successor lists, predecessor counts, costs,
//! lanes and ranks), and [`NodeId`].

use std::fmt;
use std::time::Duration;

use super::names::NameIndex;
use super::rank;
use crate::lane::Lane;

/// A node's index in submission order: the first node added to a
/// [`GraphBuilder`](super::GraphBuilder) is `0`.
///
/// # Examples
///
/// ```
/// let mut g = taskyard::graph::GraphBuilder::new();
/// g.node("a");
/// g.node("b");
/// let dag = g.build().unwrap();
/// assert_eq!(dag.find("b").unwrap().index(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

/// The most nodes a graph may have. A run records how each node ended in 4 bytes, the status
/// beside a node's id (the failure a skipped node traces back to), so an id takes 30 bits.
pub(crate) const MAX_NODES: usize = 1 << 30;

impl NodeId {
    /// The index, in submission order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.nodes().next().unwrap().index(), 0);
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}

/// Adjacency lists in compressed sparse row form: the successors of node `v` are
/// `targets[offsets[v]..offsets[v + 1]]`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Csr {
    pub(crate) offsets: Vec<u32>,
    pub(crate) targets: Vec<NodeId>,
}

impl Csr {
    pub(crate) fn row(&self, v: usize) -> &[NodeId] {
        &self.targets[self.offsets[v] as usize..self.offsets[v + 1] as usize]
    }
}

/// Every node's name, by index: the names given to the builder, moved, not copied.
pub(crate) type Names = crate::sync::Arc<[String]>;

/// A validated dependency graph: acyclic, every edge resolved, every cost valid, every node
/// ranked. Built by [`GraphBuilder::build`](super::GraphBuilder::build).
///
/// Edges come in two kinds. A *finish* edge `a → b` (`b.after("a")`) lets `b` start once `a` has
/// finished; a *start* edge (`b.after_start("a")`) lets `b` start once `a` has started. A node
/// is released when all of its predecessors have finished or started respectively; its
/// [`pending`](Self::pending) count says how many such events it waits for.
///
/// # Costs
///
/// Costs are kept in whole nanoseconds, so integer millisecond estimates give exact integer
/// makespans. A node without an estimate costs the mean of the given estimates; when no node has
/// one, every node costs 1 ms and ranks count descendants instead (see [`rank`](Self::rank)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskyard::graph::GraphBuilder;
///
/// let mut g = GraphBuilder::new();
/// g.node("a").cost_ms(3.0);
/// g.node("b").cost_ms(4.0).after("a");
/// g.node("c").cost_ms(1.0).after_start("a");
/// let dag = g.build()?;
/// let a = dag.find("a").unwrap();
/// assert_eq!(dag.rank(a), 7_000_000); // a then b, in nanoseconds
/// assert_eq!(dag.critical_path(), Duration::from_millis(7));
/// assert_eq!(dag.total_work(), Duration::from_millis(8));
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dag {
    /// Shared with every report line of the graph: a line holds this table and its node's
    /// index, so building a million lines copies no name and touches one reference count, not
    /// a million scattered ones (a cache miss each; building a 1M-node chain's lines went from
    /// 56-59 to 42-48 ns per line).
    pub(crate) names: Names,
    /// Name lookup for [`Dag::find`].
    pub(crate) by_name: NameIndex,
    pub(crate) lanes: Vec<Lane>,
    /// Effective cost of every node in nanoseconds.
    pub(crate) costs: Vec<u64>,
    pub(crate) estimates: Vec<Option<f64>>,
    pub(crate) has_costs: bool,
    pub(crate) finish_preds: Vec<u32>,
    pub(crate) start_preds: Vec<u32>,
    pub(crate) finish: Csr,
    pub(crate) start: Csr,
    pub(crate) topo: Vec<NodeId>,
    pub(crate) ranks: Vec<u64>,
}

impl Dag {
    /// Number of nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::graph::GraphBuilder::new().build().unwrap().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the graph has no node.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::GraphBuilder::new().build().unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Number of edges of both kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b").after("a").after_start("a");
    /// assert_eq!(g.build().unwrap().edge_count(), 2);
    /// ```
    pub fn edge_count(&self) -> usize {
        self.finish.targets.len() + self.start.targets.len()
    }

    /// Every node, in submission order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b");
    /// let dag = g.build().unwrap();
    /// let names: Vec<&str> = dag.nodes().map(|n| dag.name(n)).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator + use<> {
        (0..self.len() as u32).map(NodeId)
    }

    /// The node named `name` (a hash lookup).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// assert!(dag.find("a").is_some());
    /// assert!(dag.find("z").is_none());
    /// ```
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.by_name
            .get(name, |i| &self.names[i as usize])
            .map(NodeId)
    }

    /// The node's name.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.name(dag.find("a").unwrap()), "a");
    /// ```
    #[track_caller]
    pub fn name(&self, node: NodeId) -> &str {
        &self.names[node.index()]
    }

    /// The node's lane.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::Lane;
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").lane(Lane::Low);
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.lane(dag.find("a").unwrap()), Lane::Low);
    /// ```
    #[track_caller]
    pub fn lane(&self, node: NodeId) -> Lane {
        self.lanes[node.index()]
    }

    /// The cost the scheduler assumes for the node (see [Costs](Self#costs)).
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(0.25);
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.cost(dag.find("a").unwrap()), Duration::from_micros(250));
    /// ```
    #[track_caller]
    pub fn cost(&self, node: NodeId) -> Duration {
        Duration::from_nanos(self.costs[node.index()])
    }

    /// The cost estimate given for the node, in milliseconds, if any.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.cost_estimate(dag.find("a").unwrap()), None);
    /// ```
    #[track_caller]
    pub fn cost_estimate(&self, node: NodeId) -> Option<f64> {
        self.estimates[node.index()]
    }

    /// Whether at least one node has a cost estimate (and ranks are cost-weighted paths).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// assert!(!g.build().unwrap().has_costs());
    /// ```
    pub fn has_costs(&self) -> bool {
        self.has_costs
    }

    /// The node's rank: ready nodes of one lane start in decreasing rank.
    ///
    /// With costs, the rank is the cost-weighted longest path from the node's start to the end
    /// of the graph, in nanoseconds: the node's own cost plus the longest rank among the nodes
    /// that wait for it to finish, or the rank of a node that waits for it to start, whichever is
    /// longer (a start edge adds no cost). Without costs, it is the number of nodes that wait
    /// for the node directly or indirectly, plus one; for very large cost-less graphs, where the
    /// exact count would take more than linear time, an estimate that is exact on forests and
    /// never below any successor's.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("root");
    /// g.node("x").after("root");
    /// g.node("y").after("root");
    /// g.node("z").after("x").after("y");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.rank(dag.find("root").unwrap()), 4); // itself and three descendants
    /// ```
    #[track_caller]
    pub fn rank(&self, node: NodeId) -> u64 {
        self.ranks[node.index()]
    }

    /// The nodes that wait for `node` to finish.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b").after("a");
    /// let dag = g.build().unwrap();
    /// let (a, b) = (dag.find("a").unwrap(), dag.find("b").unwrap());
    /// assert_eq!(dag.successors_after_finish(a), [b]);
    /// ```
    #[track_caller]
    pub fn successors_after_finish(&self, node: NodeId) -> &[NodeId] {
        self.finish.row(node.index())
    }

    /// The nodes that wait for `node` to start.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b").after_start("a");
    /// let dag = g.build().unwrap();
    /// let (a, b) = (dag.find("a").unwrap(), dag.find("b").unwrap());
    /// assert_eq!(dag.successors_after_start(a), [b]);
    /// assert!(dag.successors_after_finish(a).is_empty());
    /// ```
    #[track_caller]
    pub fn successors_after_start(&self, node: NodeId) -> &[NodeId] {
        self.start.row(node.index())
    }

    /// How many finish edges point at `node` (predecessors it waits to finish).
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b");
    /// g.node("c").after("a").after("b");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.finish_predecessors(dag.find("c").unwrap()), 2);
    /// ```
    #[track_caller]
    pub fn finish_predecessors(&self, node: NodeId) -> u32 {
        self.finish_preds[node.index()]
    }

    /// How many start edges point at `node` (predecessors it waits to start).
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("c").after_start("a");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.start_predecessors(dag.find("c").unwrap()), 1);
    /// ```
    #[track_caller]
    pub fn start_predecessors(&self, node: NodeId) -> u32 {
        self.start_preds[node.index()]
    }

    /// How many events `node` waits for before it is released: one per finish edge (the
    /// predecessor finishing) and one per start edge (the predecessor starting). An executor
    /// keeps one counter per node initialised to this value, decrements it when a predecessor
    /// finishes or starts, and releases the node when it reaches zero.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of this graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b");
    /// g.node("c").after("a").after_start("b");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.pending(dag.find("c").unwrap()), 2);
    /// assert_eq!(dag.pending(dag.find("a").unwrap()), 0);
    /// ```
    #[track_caller]
    pub fn pending(&self, node: NodeId) -> u32 {
        self.finish_preds[node.index()] + self.start_preds[node.index()]
    }

    /// Every node in a topological order (each node after all of its predecessors of both
    /// kinds).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("b").after("a");
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let names: Vec<&str> = dag.topological_order().iter().map(|&n| dag.name(n)).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn topological_order(&self) -> &[NodeId] {
        &self.topo
    }

    /// Sum of all node costs.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(2.0);
    /// g.node("b").cost_ms(3.0);
    /// assert_eq!(g.build().unwrap().total_work(), Duration::from_millis(5));
    /// ```
    pub fn total_work(&self) -> Duration {
        Duration::from_nanos(self.costs.iter().fold(0u64, |a, &c| a.saturating_add(c)))
    }

    /// Length of the cost-weighted critical path: the longest chain of finish edges and start
    /// edges, where a start edge adds no cost. No schedule on any number of workers is shorter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(2.0);
    /// g.node("b").cost_ms(3.0).after("a");
    /// g.node("c").cost_ms(4.0).after_start("b");
    /// assert_eq!(g.build().unwrap().critical_path(), Duration::from_millis(6));
    /// ```
    pub fn critical_path(&self) -> Duration {
        Duration::from_nanos(rank::critical_path_len(&self.path_lengths()))
    }

    /// The nodes of one critical path, from its first node to its last (ties go to the node
    /// submitted first). Along a start edge the path continues at the node that waits for the
    /// start; both are listed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(2.0);
    /// g.node("side").cost_ms(1.0);
    /// g.node("b").cost_ms(3.0).after("a").after("side");
    /// let dag = g.build().unwrap();
    /// let path: Vec<&str> = dag.critical_path_nodes().iter().map(|&n| dag.name(n)).collect();
    /// assert_eq!(path, ["a", "b"]);
    /// ```
    pub fn critical_path_nodes(&self) -> Vec<NodeId> {
        rank::critical_path_nodes(self, &self.costs, &self.path_lengths())
    }

    /// Cost-weighted path lengths (the rank when the graph has costs).
    pub(crate) fn path_lengths(&self) -> std::borrow::Cow<'_, [u64]> {
        if self.has_costs {
            std::borrow::Cow::Borrowed(&self.ranks)
        } else {
            std::borrow::Cow::Owned(rank::path_lengths(self, &self.costs))
        }
    }
}
