//! [`GraphBuilder`] and [`NodeSpec`]: the graph as the user describes it, by name, before
//! validation.

use super::{Dag, GraphError, NodeId, validate};
use crate::lane::Lane;

/// Collects named nodes and their dependencies; [`build`](Self::build) validates them into a
/// [`Dag`].
///
/// Nothing is checked while nodes are added: a node may name a dependency that is added later.
/// Every check (names, edges, costs, cycles) happens in [`build`](Self::build).
///
/// # Examples
///
/// ```
/// use taskyard::Lane;
/// use taskyard::graph::GraphBuilder;
///
/// let mut g = GraphBuilder::new();
/// g.node("extract").cost_ms(40.0);
/// g.node("monitor").cost_ms(5.0).lane(Lane::High).after_start("extract");
/// g.node("load").cost_ms(25.0).after("extract");
/// let dag = g.build()?;
/// assert_eq!(dag.len(), 3);
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    pub(super) nodes: Vec<NodeSpec>,
}

impl GraphBuilder {
    /// An empty graph.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::GraphBuilder::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `nodes` nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = taskyard::graph::GraphBuilder::with_capacity(1000);
    /// assert_eq!(g.len(), 0);
    /// ```
    pub fn with_capacity(nodes: usize) -> Self {
        Self {
            nodes: Vec::with_capacity(nodes),
        }
    }

    /// Adds a node named `name` (cost unknown, lane [`Lane::Normal`], no dependencies) and
    /// returns it to be configured. Nodes are numbered in the order they are added: the
    /// [`NodeId`] of the node added `k`-th (from 0) is `k`, here and in the built [`Dag`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(1.5);
    /// g.node("b").after("a");
    /// assert_eq!(g.len(), 2);
    /// ```
    pub fn node(&mut self, name: impl Into<String>) -> &mut NodeSpec {
        // A graph of more than `MAX_NODES` nodes is refused by `build`, so a saturated id is
        // never resolved.
        let id = NodeId(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX));
        self.nodes.push(NodeSpec::new(id, name.into()));
        self.nodes.last_mut().expect("a node was just pushed")
    }

    /// The nodes added so far, in submission order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// assert_eq!(g.nodes()[0].name(), "a");
    /// ```
    pub fn nodes(&self) -> &[NodeSpec] {
        &self.nodes
    }

    /// Number of nodes added so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// assert_eq!(g.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node was added.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::GraphBuilder::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Validates the graph and computes every node's rank, in time linear in nodes plus edges.
    ///
    /// # Errors
    ///
    /// The checks run in this order, and within one check the earliest offending node in
    /// submission order is reported:
    ///
    /// 1. costs: a negative, NaN or infinite cost ([`GraphError::is_invalid_cost`]);
    /// 2. names: two nodes with one name ([`GraphError::is_duplicate`]);
    /// 3. edges: a node depending on itself ([`GraphError::is_self_edge`]) or on a name no node
    ///    has ([`GraphError::is_unknown_node`]);
    /// 4. a cycle through finish or start edges ([`GraphError::is_cycle`]), with its path.
    ///
    /// A graph of more than 2<sup>30</sup> nodes is refused before them, and one of more than
    /// `u32::MAX` edges as its edges are read ([`GraphError::is_too_large`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("b").after("a");
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.name(dag.find("a").unwrap()), "a");
    /// ```
    pub fn build(self) -> Result<Dag, GraphError> {
        validate::validate(self.nodes)
    }
}

/// One node of a [`GraphBuilder`]: a name, an optional cost estimate, a lane and the nodes it
/// waits for.
///
/// A dependency is given by name ([`after`](Self::after), [`after_start`](Self::after_start)),
/// which may be a node added later, or by the [`NodeId`] of a node already added
/// ([`after_node`](Self::after_node), [`after_start_node`](Self::after_start_node)). Both kinds
/// mean the same edge; an id costs no string and no lookup when the graph is built, which
/// matters for large generated graphs.
///
/// # Examples
///
/// ```
/// use taskyard::Lane;
///
/// let mut g = taskyard::graph::GraphBuilder::new();
/// let spec = g.node("report").cost_ms(12.0).lane(Lane::Low).after("load").after("audit");
/// assert_eq!(spec.after_names(), ["load", "audit"]);
/// assert_eq!(spec.cost(), Some(12.0));
/// ```
#[derive(Clone, Debug)]
pub struct NodeSpec {
    id: NodeId,
    pub(super) name: String,
    pub(super) cost_ms: Option<f64>,
    pub(super) lane: Lane,
    pub(super) after: Vec<String>,
    pub(super) after_start: Vec<String>,
    /// Dependencies given by id, finish and start edges together: each a [`NodeId`]'s index,
    /// with [`START_EDGE`] set for a start-to-start edge. Four bytes an edge, where a name
    /// takes a string of its own; see [`NodeSpec::after_node`].
    pub(super) by_id: Vec<u32>,
}

/// Marks a start-to-start edge in [`NodeSpec::by_id`]: an index has at most 30 bits.
pub(super) const START_EDGE: u32 = 1 << 31;

impl NodeSpec {
    fn new(id: NodeId, name: String) -> Self {
        Self {
            id,
            name,
            cost_ms: None,
            lane: Lane::Normal,
            after: Vec::new(),
            after_start: Vec::new(),
            by_id: Vec::new(),
        }
    }

    /// The node's id: its index in submission order, which the built [`Dag`] keeps (so
    /// [`Dag::find`] of its name returns it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// let a = g.node("a").id();
    /// let b = g.node("b").id();
    /// assert_eq!((a.index(), b.index()), (0, 1));
    /// assert_eq!(g.build().unwrap().find("b"), Some(b));
    /// ```
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Sets the cost estimate in milliseconds. It must be finite and not negative (checked by
    /// [`GraphBuilder::build`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("a").cost_ms(2.5).cost(), Some(2.5));
    /// ```
    pub fn cost_ms(&mut self, ms: f64) -> &mut Self {
        self.cost_ms = Some(ms);
        self
    }

    /// Sets the lane; ready nodes of a higher lane start before those of a lower one.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::Lane;
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("a").lane(Lane::High).lane_of(), Lane::High);
    /// ```
    pub fn lane(&mut self, lane: Lane) -> &mut Self {
        self.lane = lane;
        self
    }

    /// Finish-to-start edge: this node starts only after `name` has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("b").after("a");
    /// let dag = g.build().unwrap();
    /// let a = dag.find("a").unwrap();
    /// assert_eq!(dag.successors_after_finish(a).len(), 1);
    /// ```
    pub fn after(&mut self, name: impl Into<String>) -> &mut Self {
        self.after.push(name.into());
        self
    }

    /// Start-to-start edge: this node may start once `name` has started.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("load");
    /// g.node("monitor").after_start("load");
    /// let dag = g.build().unwrap();
    /// let load = dag.find("load").unwrap();
    /// assert_eq!(dag.successors_after_start(load), [dag.find("monitor").unwrap()]);
    /// ```
    pub fn after_start(&mut self, name: impl Into<String>) -> &mut Self {
        self.after_start.push(name.into());
        self
    }

    /// Finish-to-start edge, by id: this node starts only after `node` has finished. The
    /// same edge as [`after`](Self::after) with `node`'s name.
    ///
    /// `node` should come from this graph ([`NodeSpec::id`]). An id is only an index: one from
    /// another graph names this graph's node of the same index if there is one, and is
    /// otherwise refused by the build ([`GraphError::is_unknown_node`], the missing name being
    /// the id, such as `node#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::GraphBuilder;
    ///
    /// // A 3 x 3 wavefront: each cell waits for the cell above it and the one to its left.
    /// let mut g = GraphBuilder::new();
    /// let mut above = Vec::new();
    /// for i in 0..3 {
    ///     let mut row = Vec::new();
    ///     for j in 0..3 {
    ///         let cell = g.node(format!("c{i}{j}"));
    ///         if i > 0 {
    ///             cell.after_node(above[j]);
    ///         }
    ///         if j > 0 {
    ///             cell.after_node(row[j - 1]);
    ///         }
    ///         row.push(cell.id());
    ///     }
    ///     above = row;
    /// }
    /// let dag = g.build()?;
    /// let first = dag.find("c00").unwrap();
    /// assert_eq!(dag.successors_after_finish(first).len(), 2);
    /// assert_eq!(dag.rank(first), 9); // itself and its eight descendants
    /// # Ok::<(), taskyard::graph::GraphError>(())
    /// ```
    pub fn after_node(&mut self, node: NodeId) -> &mut Self {
        self.by_id.push(Self::untagged(node));
        self
    }

    /// Start-to-start edge, by id: this node may start once `node` has started. The same edge
    /// as [`after_start`](Self::after_start) with `node`'s name; see
    /// [`after_node`](Self::after_node) for what `node` must be.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// let load = g.node("load").id();
    /// g.node("monitor").after_start_node(load);
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.successors_after_start(load), [dag.find("monitor").unwrap()]);
    /// ```
    pub fn after_start_node(&mut self, node: NodeId) -> &mut Self {
        self.by_id.push(Self::untagged(node) | START_EDGE);
        self
    }

    /// `node`'s index, kept clear of [`START_EDGE`]. An index that large could only come from
    /// a builder of over 2<sup>31</sup> nodes, and names no node of a graph that builds either
    /// way.
    fn untagged(node: NodeId) -> u32 {
        node.0.min(START_EDGE - 1)
    }

    /// The node's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("a").name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cost estimate in milliseconds, if one was set.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("a").cost(), None);
    /// ```
    pub fn cost(&self) -> Option<f64> {
        self.cost_ms
    }

    /// The node's lane.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("a").lane_of(), taskyard::Lane::Normal);
    /// ```
    pub fn lane_of(&self) -> Lane {
        self.lane
    }

    /// The nodes this node waits to finish that were given by name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("b").after("a").after_names(), ["a"]);
    /// ```
    pub fn after_names(&self) -> &[String] {
        &self.after
    }

    /// The nodes this node waits to start that were given by name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// assert_eq!(g.node("b").after_start("a").after_start_names(), ["a"]);
    /// ```
    pub fn after_start_names(&self) -> &[String] {
        &self.after_start
    }

    /// The nodes this node waits to finish that were given by id.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// let a = g.node("a").id();
    /// let b = g.node("b").after_node(a).after_start_node(a);
    /// assert!(b.after_nodes().eq([a]));
    /// ```
    pub fn after_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.ids(0)
    }

    /// The nodes this node waits to start that were given by id.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// let a = g.node("a").id();
    /// let b = g.node("b").after_node(a).after_start_node(a);
    /// assert!(b.after_start_nodes().eq([a]));
    /// ```
    pub fn after_start_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.ids(START_EDGE)
    }

    /// The ids of this node's dependencies of one kind: `kind` is 0 or [`START_EDGE`].
    fn ids(&self, kind: u32) -> impl Iterator<Item = NodeId> + '_ {
        self.by_id
            .iter()
            .filter(move |&&id| id & START_EDGE == kind)
            .map(|&id| NodeId(id & !START_EDGE))
    }
}
