#![allow(dead_code)] // Each includer (the example, each test) uses a different part.

//! Workload files for the `dagload` example: a named list of tasks with cost estimates, lanes
//! and dependencies, read into a [`taskyard::graph::GraphBuilder`].
//!
//! ```json
//! {"name": "nightly", "tasks": [
//!   {"name": "stage", "cost_ms": 300},
//!   {"name": "monitor", "cost_ms": 20, "lane": "high", "after_start": ["stage"]},
//!   {"name": "load", "cost_ms": 120.5, "after": ["stage"]}
//! ]}
//! ```
//!
//! [`load`] gives the validated structure ([`Dag`]); [`Workload::into_graph`] gives a
//! [`RunnableGraph`] whose tasks have bodies, to simulate or run.
//!
//! Included as a module by the example and by the tests:
//! `#[path = "../examples/dagload/workload.rs"] mod workload;`.

use std::fmt;

use serde::Deserialize;
use taskyard::Lane;
use taskyard::graph::{
    Dag, Graph, GraphBuilder, GraphError, IntoNodeResult, NodeSpec, RunnableGraph,
};

/// A workload file as written: its name and its tasks, not yet validated.
#[derive(Debug)]
pub(crate) struct Workload {
    /// The workload's name.
    pub(crate) name: String,
    /// The tasks as graph nodes, in file order.
    pub(crate) graph: GraphBuilder,
}

impl Workload {
    /// Validates the graph.
    ///
    /// # Errors
    ///
    /// The graph's [`GraphError`] (cycle, unknown dependency, duplicate, invalid cost), naming
    /// the tasks, wrapped in a [`WorkloadError`].
    pub(crate) fn build(self) -> Result<(String, Dag), WorkloadError> {
        let dag = self.graph.build().map_err(|e| WorkloadError {
            kind: Kind::Graph(e),
        })?;
        Ok((self.name, dag))
    }

    /// Validates the graph and gives every task a body to run: `body(task)` makes the closure
    /// for the task that `task` describes (its name, cost, lane and edges, as in the file).
    ///
    /// # Errors
    ///
    /// The same graph errors as [`build`](Self::build).
    pub(crate) fn into_graph<B, F, R>(
        self,
        mut body: B,
    ) -> Result<(String, RunnableGraph), WorkloadError>
    where
        B: FnMut(&NodeSpec) -> F,
        F: FnOnce() -> R + Send + 'static,
        R: IntoNodeResult + 'static,
    {
        let mut graph = Graph::new();
        for task in self.graph.nodes() {
            let node = graph.node(task.name(), body(task));
            node.lane(task.lane_of());
            if let Some(cost) = task.cost() {
                node.cost_ms(cost);
            }
            for dep in task.after_names() {
                node.after(dep.as_str());
            }
            for dep in task.after_start_names() {
                node.after_start(dep.as_str());
            }
        }
        let graph = graph.build().map_err(|e| WorkloadError {
            kind: Kind::Graph(e),
        })?;
        Ok((self.name, graph))
    }
}

/// A workload file could not be read: malformed JSON (with its line and column), a field of the
/// wrong type, an unknown lane, or a graph error.
#[derive(Debug)]
pub(crate) struct WorkloadError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Syntax(serde_json::Error),
    UnknownLane { task: String, lane: String },
    Graph(GraphError),
}

impl WorkloadError {
    /// The file is not valid JSON or does not have the workload's shape (a missing field, a
    /// field of the wrong type, an unknown field).
    pub(crate) fn is_syntax(&self) -> bool {
        matches!(self.kind, Kind::Syntax(_))
    }

    /// A task names a lane that does not exist.
    pub(crate) fn is_unknown_lane(&self) -> bool {
        matches!(self.kind, Kind::UnknownLane { .. })
    }

    /// Line and column (both from 1) of a syntax or shape error.
    pub(crate) fn position(&self) -> Option<(usize, usize)> {
        match &self.kind {
            Kind::Syntax(e) => Some((e.line(), e.column())),
            _ => None,
        }
    }

    /// The task with the unknown lane, and the lane it named.
    pub(crate) fn unknown_lane(&self) -> Option<(&str, &str)> {
        match &self.kind {
            Kind::UnknownLane { task, lane } => Some((task, lane)),
            _ => None,
        }
    }

    /// The graph error, when the file was well-formed but the graph is not.
    pub(crate) fn graph(&self) -> Option<&GraphError> {
        match &self.kind {
            Kind::Graph(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // serde_json's message ends with "at line L column C".
            Kind::Syntax(e) => write!(f, "invalid workload file: {e}"),
            Kind::UnknownLane { task, lane } => write!(
                f,
                "task `{task}` has unknown lane `{lane}` \
                 (expected one of: critical, high, normal, low, background)"
            ),
            Kind::Graph(e) => write!(f, "invalid workload graph: {e}"),
        }
    }
}

impl std::error::Error for WorkloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Syntax(e) => Some(e),
            Kind::Graph(e) => Some(e),
            Kind::UnknownLane { .. } => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    tasks: Vec<TaskEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskEntry {
    name: String,
    cost_ms: f64,
    #[serde(default)]
    lane: Option<String>,
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    after_start: Vec<String>,
}

/// Reads a workload file's contents into a graph builder (not yet validated).
///
/// # Errors
///
/// Malformed JSON or a wrong shape ([`WorkloadError::position`] gives the line and column), or
/// an unknown lane ([`WorkloadError::unknown_lane`] names the task and the lane).
pub(crate) fn parse(text: &str) -> Result<Workload, WorkloadError> {
    let file: File = serde_json::from_str(text).map_err(|e| WorkloadError {
        kind: Kind::Syntax(e),
    })?;
    let mut graph = GraphBuilder::with_capacity(file.tasks.len());
    for task in file.tasks {
        let lane = match &task.lane {
            None => Lane::Normal,
            Some(name) => name.parse::<Lane>().map_err(|_| WorkloadError {
                kind: Kind::UnknownLane {
                    task: task.name.clone(),
                    lane: name.clone(),
                },
            })?,
        };
        let node = graph.node(task.name);
        node.cost_ms(task.cost_ms).lane(lane);
        for dep in task.after {
            node.after(dep);
        }
        for dep in task.after_start {
            node.after_start(dep);
        }
    }
    Ok(Workload {
        name: file.name,
        graph,
    })
}

/// Reads and validates a workload file's contents: its name and its graph.
///
/// # Errors
///
/// Everything [`parse`] refuses, and the graph errors of [`GraphBuilder::build`] (cycle, unknown
/// dependency, duplicate task, negative cost), which name the tasks.
pub(crate) fn load(text: &str) -> Result<(String, Dag), WorkloadError> {
    parse(text)?.build()
}
