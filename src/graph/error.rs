//! [`GraphError`]: why a graph was refused before anything ran.

use std::fmt;

/// A dependency graph was refused: it has a cycle, a self edge, an unknown or duplicate node, an
/// invalid cost, it was asked to run on zero workers, or to run again with a body that runs
/// once.
///
/// The message names the offending nodes; the predicates tell the cases apart and the accessors
/// return the names without parsing the message.
///
/// # Examples
///
/// ```
/// use taskyard::graph::GraphBuilder;
///
/// let mut g = GraphBuilder::new();
/// g.node("a").after("c");
/// g.node("b").after("a");
/// g.node("c").after("b");
/// let err = g.build().unwrap_err();
/// assert!(err.is_cycle());
/// assert_eq!(err.cycle(), Some(&["a".to_owned(), "b".to_owned(), "c".to_owned()][..]));
/// assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GraphError {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Cycle(Vec<String>),
    SelfEdge {
        node: String,
        start: bool,
    },
    UnknownNode {
        node: String,
        missing: String,
        start: bool,
    },
    Duplicate {
        name: String,
    },
    InvalidCost {
        node: String,
        cost: f64,
    },
    ZeroWorkers,
    RunsOnce {
        node: String,
    },
    TooLarge {
        what: &'static str,
        count: usize,
        limit: usize,
    },
}

impl GraphError {
    pub(crate) fn cycle_of(path: Vec<String>) -> Self {
        Self {
            kind: Kind::Cycle(path),
        }
    }

    pub(crate) fn self_edge(node: &str, start: bool) -> Self {
        Self {
            kind: Kind::SelfEdge {
                node: node.to_owned(),
                start,
            },
        }
    }

    pub(crate) fn unknown_node(node: &str, missing: &str, start: bool) -> Self {
        Self {
            kind: Kind::UnknownNode {
                node: node.to_owned(),
                missing: missing.to_owned(),
                start,
            },
        }
    }

    pub(crate) fn duplicate(name: &str) -> Self {
        Self {
            kind: Kind::Duplicate {
                name: name.to_owned(),
            },
        }
    }

    pub(crate) fn invalid_cost(node: &str, cost: f64) -> Self {
        Self {
            kind: Kind::InvalidCost {
                node: node.to_owned(),
                cost,
            },
        }
    }

    pub(crate) fn zero_workers() -> Self {
        Self {
            kind: Kind::ZeroWorkers,
        }
    }

    pub(crate) fn runs_once(node: &str) -> Self {
        Self {
            kind: Kind::RunsOnce {
                node: node.to_owned(),
            },
        }
    }

    pub(crate) fn too_large(what: &'static str, count: usize, limit: usize) -> Self {
        Self {
            kind: Kind::TooLarge { what, count, limit },
        }
    }

    /// The graph has a cycle; [`cycle`](Self::cycle) lists its nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").after_start("b");
    /// g.node("b").after("a");
    /// assert!(g.build().unwrap_err().is_cycle());
    /// ```
    pub fn is_cycle(&self) -> bool {
        matches!(self.kind, Kind::Cycle(_))
    }

    /// A node depends on itself (`a` after `a`, or `a` after the start of `a`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").after("a");
    /// let err = g.build().unwrap_err();
    /// assert!(err.is_self_edge());
    /// assert_eq!(err.node(), Some("a"));
    /// ```
    pub fn is_self_edge(&self) -> bool {
        matches!(self.kind, Kind::SelfEdge { .. })
    }

    /// A node depends on a name that no node has; [`node`](Self::node) is the dependent and
    /// [`missing`](Self::missing) the unknown name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("b").after("x");
    /// let err = g.build().unwrap_err();
    /// assert!(err.is_unknown_node());
    /// assert_eq!((err.node(), err.missing()), (Some("b"), Some("x")));
    /// assert_eq!(err.to_string(), "node `b` depends on `x`, which does not exist");
    /// ```
    pub fn is_unknown_node(&self) -> bool {
        matches!(self.kind, Kind::UnknownNode { .. })
    }

    /// Two nodes have the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// g.node("a");
    /// let err = g.build().unwrap_err();
    /// assert!(err.is_duplicate());
    /// assert_eq!(err.to_string(), "duplicate node name `a`");
    /// ```
    pub fn is_duplicate(&self) -> bool {
        matches!(self.kind, Kind::Duplicate { .. })
    }

    /// A cost estimate is negative, NaN, infinite or too large to represent in nanoseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(-1.0);
    /// let err = g.build().unwrap_err();
    /// assert!(err.is_invalid_cost());
    /// assert_eq!(err.cost(), Some(-1.0));
    /// ```
    pub fn is_invalid_cost(&self) -> bool {
        matches!(self.kind, Kind::InvalidCost { .. })
    }

    /// A run or a plan was asked for zero workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    ///
    /// let dag = GraphBuilder::new().build().unwrap();
    /// assert!(dag.simulate(0, Policy::Rank).unwrap_err().is_zero_workers());
    /// ```
    pub fn is_zero_workers(&self) -> bool {
        matches!(self.kind, Kind::ZeroWorkers)
    }

    /// A graph was to be cloned for another run, but [`node`](Self::node)'s body runs once:
    /// only [`fn_node`](crate::graph::Graph::fn_node) bodies can run again.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut graph = taskyard::graph::Graph::new();
    /// graph.fn_node("again", || ());
    /// graph.node("once", || ());
    /// let err = graph.build().unwrap().try_clone().unwrap_err();
    /// assert!(err.is_runs_once());
    /// assert_eq!(err.node(), Some("once"));
    /// ```
    pub fn is_runs_once(&self) -> bool {
        matches!(self.kind, Kind::RunsOnce { .. })
    }

    /// The graph has more than 2<sup>30</sup> nodes (1,073,741,824) or more edges than a `u32`
    /// index can address.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// assert!(!g.build().is_err_and(|e| e.is_too_large()));
    /// ```
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, Kind::TooLarge { .. })
    }

    /// The nodes on the cycle, in execution order: each node waits for the one before it, and
    /// the first waits for the last. The first node is the one submitted earliest.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("x");
    /// g.node("b").after("c");
    /// g.node("c").after("b");
    /// let err = g.build().unwrap_err();
    /// assert_eq!(err.cycle().unwrap(), ["b", "c"]);
    /// ```
    pub fn cycle(&self) -> Option<&[String]> {
        match &self.kind {
            Kind::Cycle(path) => Some(path),
            _ => None,
        }
    }

    /// The offending node: the one with the self edge, the unknown dependency or the invalid
    /// cost, the duplicated name, the first node of a cycle, or the first node whose body runs
    /// once.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("slow").cost_ms(f64::NAN);
    /// assert_eq!(g.build().unwrap_err().node(), Some("slow"));
    /// ```
    pub fn node(&self) -> Option<&str> {
        match &self.kind {
            Kind::Cycle(path) => path.first().map(String::as_str),
            Kind::SelfEdge { node, .. }
            | Kind::UnknownNode { node, .. }
            | Kind::InvalidCost { node, .. }
            | Kind::RunsOnce { node } => Some(node),
            Kind::Duplicate { name } => Some(name),
            Kind::ZeroWorkers | Kind::TooLarge { .. } => None,
        }
    }

    /// The name a node depends on that no node has.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("b").after_start("ghost");
    /// let err = g.build().unwrap_err();
    /// assert_eq!(err.missing(), Some("ghost"));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "node `b` waits for the start of `ghost`, which does not exist"
    /// );
    /// ```
    pub fn missing(&self) -> Option<&str> {
        match &self.kind {
            Kind::UnknownNode { missing, .. } => Some(missing),
            _ => None,
        }
    }

    /// The invalid cost estimate, in milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a").cost_ms(f64::INFINITY);
    /// assert_eq!(g.build().unwrap_err().cost(), Some(f64::INFINITY));
    /// ```
    pub fn cost(&self) -> Option<f64> {
        match self.kind {
            Kind::InvalidCost { cost, .. } => Some(cost),
            _ => None,
        }
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Cycle(path) => {
                f.write_str("dependency cycle: ")?;
                for name in path {
                    write!(f, "{name} -> ")?;
                }
                f.write_str(path.first().map_or("", String::as_str))
            }
            Kind::SelfEdge { node, start: false } => write!(f, "node `{node}` depends on itself"),
            Kind::SelfEdge { node, start: true } => {
                write!(f, "node `{node}` waits for its own start")
            }
            Kind::UnknownNode {
                node,
                missing,
                start: false,
            } => {
                write!(
                    f,
                    "node `{node}` depends on `{missing}`, which does not exist"
                )
            }
            Kind::UnknownNode {
                node,
                missing,
                start: true,
            } => {
                write!(
                    f,
                    "node `{node}` waits for the start of `{missing}`, which does not exist"
                )
            }
            Kind::Duplicate { name } => write!(f, "duplicate node name `{name}`"),
            Kind::InvalidCost { node, cost } => write!(
                f,
                "node `{node}` has an invalid cost estimate of {cost} ms \
                 (must be finite, not negative and below 584 years)"
            ),
            Kind::ZeroWorkers => f.write_str("a graph needs at least one worker to run (got 0)"),
            Kind::RunsOnce { node } => write!(
                f,
                "node `{node}` runs once (added with `node`, `task_node` or `future_node`): \
                 a graph that runs again needs `fn_node` bodies"
            ),
            Kind::TooLarge { what, count, limit } => {
                write!(
                    f,
                    "graph too large: {count} {what} (at most {limit} are supported)"
                )
            }
        }
    }
}

impl std::error::Error for GraphError {}
