//! [`GraphBuilder`] and [`NodeSpec`]: the graph as the user describes it, by name, before
//! validation.

use super::{Dag, GraphError, validate};
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
    /// returns it to be configured. Nodes are numbered in the order they are added.
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
        self.nodes.push(NodeSpec::new(name.into()));
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
    pub(super) name: String,
    pub(super) cost_ms: Option<f64>,
    pub(super) lane: Lane,
    pub(super) after: Vec<String>,
    pub(super) after_start: Vec<String>,
}

impl NodeSpec {
    fn new(name: String) -> Self {
        Self {
            name,
            cost_ms: None,
            lane: Lane::Normal,
            after: Vec::new(),
            after_start: Vec::new(),
        }
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

    /// The names this node waits to finish.
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

    /// The names this node waits to start.
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
}
