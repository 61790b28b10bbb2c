//! Dependency graphs: named nodes with cost estimates, lanes and two kinds of edges, validated
//! before anything runs, ranked so that the work that unblocks the most starts first, and
//! simulated in virtual time.
//!
//! | file | mechanism |
//! | --- | --- |
//! | `builder.rs` | [`GraphBuilder`], [`NodeSpec`]: the graph by name |
//! | `names.rs` | the name → index hash index |
//! | `validate.rs` | names, edges, costs, cycles → [`Dag`], in `O(V + E)` |
//! | `dag.rs` | [`Dag`], [`NodeId`]: compact successor lists, predecessor counts |
//! | `rank.rs` | ranks (longest path to the end), critical path |
//! | `order.rs` | [`Policy`], [`ReadyOrder`], [`ReadyKey`], [`ReadyQueue`]: which ready node starts first, for simulator and runtime alike |
//! | `plan.rs` | [`Policy::Planned`]: the best of several orders, found in virtual time |
//! | `run/mod.rs` | [`Graph`], [`RunnableGraph`], [`GraphHandle`]: running on a [`Runtime`](crate::Runtime) or a [`LocalExecutor`](crate::LocalExecutor) |
//! | `run/engine.rs` | searcher tasks, release, stealing, the no-lost-node protocol |
//! | `run/table.rs` | a run's per-node state in ready order: release words, records, works |
//! | `run/queue.rs` | a worker's ready nodes: per lane, a bit set of order positions |
//! | `run/work.rs` | a node's work behind one box: closure, task or future |
//! | `simulate.rs` | the virtual-time run on `P` workers |
//! | `report.rs` | [`GraphReport`], [`NodeReport`], [`NodeStatus`] |
//!
//! # Edges
//!
//! `b.after("a")` is a *finish-to-start* edge: `b` starts after `a` finished. `b.after_start("a")`
//! is a *start-to-start* edge: `b` may start once `a` has started (a monitor that watches a load,
//! say). Both kinds count for cycles.
//!
//! A dependency already added can also be given by its [`NodeId`] ([`NodeSpec::id`],
//! [`NodeSpec::after_node`], [`NodeSpec::after_start_node`]): the same edge, without a string
//! to make and look up, for graphs generated in code.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use taskyard::Lane;
//! use taskyard::graph::{GraphBuilder, Policy};
//!
//! let mut g = GraphBuilder::new();
//! g.node("stage").cost_ms(30.0);
//! g.node("monitor").cost_ms(5.0).lane(Lane::High).after_start("stage");
//! for i in 0..4 {
//!     g.node(format!("dim{i}")).cost_ms(10.0).after("stage");
//! }
//! g.node("fact").cost_ms(20.0).after("dim0").after("dim1");
//! g.node("cleanup").cost_ms(10.0);
//! let dag = g.build()?;
//!
//! let report = dag.simulate(2, Policy::Rank)?;
//! // `monitor` waits for a worker until `cleanup` ends; `fact` goes before `dim2` and `dim3`.
//! assert_eq!(report.makespan(), Duration::from_millis(60));
//! assert_eq!(report.lower_bound(), Duration::from_millis(60));
//! assert_eq!(report.critical_path_names(), ["stage", "dim0", "fact"]);
//! # Ok::<(), taskyard::graph::GraphError>(())
//! ```

mod builder;
mod dag;
mod error;
mod names;
mod order;
mod plan;
mod rank;
mod report;
mod run;
mod simulate;
mod validate;

pub use builder::{GraphBuilder, NodeSpec};
pub use dag::{Dag, NodeId};
pub use error::GraphError;
pub use order::{Policy, ReadyKey, ReadyOrder, ReadyQueue};
pub use report::{GraphReport, NodeReport, NodeStatus};
pub use run::{Graph, GraphHandle, IntoNodeResult, LocalGraphHandle, RunnableGraph};

impl Dag {
    /// The order in which ready nodes start under `policy` on `workers` workers; see
    /// [`ReadyOrder::new`].
    ///
    /// # Errors
    ///
    /// Fails when `workers` is zero ([`GraphError::is_zero_workers`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let mut g = GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.order(Policy::Planned, 8).unwrap().len(), 1);
    /// ```
    pub fn order(&self, policy: Policy, workers: usize) -> Result<ReadyOrder, GraphError> {
        ReadyOrder::new(self, policy, workers)
    }

    /// Runs the graph in virtual time on `workers` identical workers, ready nodes ordered by
    /// `policy`, every node taking exactly its cost; see [`simulate_order`](Self::simulate_order)
    /// for the rules.
    ///
    /// # Errors
    ///
    /// Fails when `workers` is zero ([`GraphError::is_zero_workers`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskyard::graph::{GraphBuilder, Policy};
    ///
    /// let mut g = GraphBuilder::new();
    /// g.node("a").cost_ms(2.0);
    /// g.node("b").cost_ms(2.0);
    /// g.node("c").cost_ms(2.0).after("a").after("b");
    /// let report = g.build()?.simulate(2, Policy::Rank)?;
    /// assert_eq!(report.makespan(), Duration::from_millis(4));
    /// # Ok::<(), taskyard::graph::GraphError>(())
    /// ```
    pub fn simulate(&self, workers: usize, policy: Policy) -> Result<GraphReport, GraphError> {
        let order = self.order(policy, workers)?;
        Ok(simulate::report(self, &order, workers))
    }

    /// Runs the graph in virtual time on `workers` workers in a given `order` (made for this
    /// graph), deterministically:
    ///
    /// 1. at time 0 every node with nothing to wait for is released;
    /// 2. while a worker is free and a node is ready, the free worker with the lowest index
    ///    takes the ready node with the greatest [`ReadyKey`]; its start releases, at the same
    ///    instant, the nodes that waited only for that start;
    /// 3. otherwise time jumps to the earliest end, and every node ending then completes (lowest
    ///    worker first) before anything starts at that time, releasing the nodes that waited for
    ///    it to finish.
    ///
    /// Times are whole nanoseconds, so integer costs give exact integer makespans.
    ///
    /// # Errors
    ///
    /// Fails when `workers` is zero ([`GraphError::is_zero_workers`]).
    ///
    /// # Panics
    ///
    /// Panics if `order` was made for a graph with a different number of nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let mut g = GraphBuilder::new();
    /// g.node("a").cost_ms(1.0);
    /// let dag = g.build().unwrap();
    /// let order = dag.order(Policy::Fifo, 1).unwrap();
    /// assert_eq!(dag.simulate_order(1, &order).unwrap().makespan().as_millis(), 1);
    /// ```
    #[track_caller]
    pub fn simulate_order(
        &self,
        workers: usize,
        order: &ReadyOrder,
    ) -> Result<GraphReport, GraphError> {
        assert_eq!(
            order.len(),
            self.len(),
            "the order was made for another graph"
        );
        if workers == 0 {
            return Err(GraphError::zero_workers());
        }
        Ok(simulate::report(self, order, workers))
    }

    /// The makespan of a virtual-time run, without building a report (cheap enough to call in
    /// a loop).
    ///
    /// # Errors
    ///
    /// Fails when `workers` is zero ([`GraphError::is_zero_workers`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let mut g = GraphBuilder::new();
    /// g.node("a").cost_ms(1.5);
    /// let dag = g.build().unwrap();
    /// assert_eq!(dag.makespan(4, Policy::Rank).unwrap().as_micros(), 1500);
    /// ```
    pub fn makespan(
        &self,
        workers: usize,
        policy: Policy,
    ) -> Result<std::time::Duration, GraphError> {
        let order = self.order(policy, workers)?;
        Ok(std::time::Duration::from_nanos(simulate::run(
            self, &order, workers, None,
        )))
    }
}

#[cfg(test)]
mod tests;
