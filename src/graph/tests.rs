use std::time::Duration;

use super::*;
use crate::lane::Lane;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A seeded xorshift generator of numbers below a bound, for random graphs that are the same
/// on every run.
pub(super) fn numbers(mut state: u64) -> impl FnMut(u64) -> u64 {
    move |bound| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    }
}

/// A node of [`random_forward_graph`], kept so that a test can add the graph more than once:
/// its index and those of the nodes it waits to finish and to start. Node `k` is named `n<k>`.
pub(super) struct RandomNode {
    index: u64,
    cost: Option<f64>,
    after: Vec<u64>,
    after_start: Vec<u64>,
}

impl RandomNode {
    pub(super) fn add_to(&self, graph: &mut GraphBuilder) {
        self.add_with(graph, |_| false);
    }

    /// Adds the node, giving each dependency by its id where `by_id` says so for its position
    /// among the node's edges (finish edges first), and by name otherwise. Ids are indices, so
    /// only for a graph added in index order.
    fn add_with(&self, graph: &mut GraphBuilder, by_id: impl Fn(usize) -> bool) {
        let node = graph.node(format!("n{}", self.index));
        if let Some(cost) = self.cost {
            node.cost_ms(cost);
        }
        let id = |k: u64| NodeId(k as u32);
        for (at, &k) in self.after.iter().enumerate() {
            if by_id(at) {
                node.after_node(id(k));
            } else {
                node.after(format!("n{k}"));
            }
        }
        for (at, &k) in self.after_start.iter().enumerate() {
            if by_id(self.after.len() + at) {
                node.after_start_node(id(k));
            } else {
                node.after_start(format!("n{k}"));
            }
        }
    }
}

/// `n` nodes named `n0`, `n1`, ..., each waiting for up to three earlier ones (a quarter of
/// the edges start-to-start), and with `with_costs` a cost of 0, 1 or 2 ms each: few distinct
/// values, so that ranks and tie-breaking keys tie often.
pub(super) fn random_forward_graph(
    next: &mut impl FnMut(u64) -> u64,
    n: usize,
    with_costs: bool,
) -> Vec<RandomNode> {
    (0..n as u64)
        .map(|v| {
            let cost = with_costs.then(|| next(3) as f64);
            let (mut after, mut after_start) = (Vec::new(), Vec::new());
            for _ in 0..next(4) {
                if v > 0 {
                    let before = next(v);
                    if next(4) == 0 {
                        after_start.push(before);
                    } else {
                        after.push(before);
                    }
                }
            }
            RandomNode {
                index: v,
                cost,
                after,
                after_start,
            }
        })
        .collect()
}

fn names(dag: &Dag, nodes: &[NodeId]) -> Vec<String> {
    nodes.iter().map(|&n| dag.name(n).to_owned()).collect()
}

#[test]
fn successors_are_compact_and_in_submission_order() {
    let mut g = GraphBuilder::new();
    g.node("a");
    g.node("c").after("a");
    g.node("b").after("a").after_start("c");
    g.node("d").after_start("a");
    let dag = g.build().unwrap();
    let a = dag.find("a").unwrap();
    assert_eq!(names(&dag, dag.successors_after_finish(a)), ["c", "b"]);
    assert_eq!(names(&dag, dag.successors_after_start(a)), ["d"]);
    let b = dag.find("b").unwrap();
    assert_eq!(
        (dag.finish_predecessors(b), dag.start_predecessors(b)),
        (1, 1)
    );
    assert_eq!(dag.finish.offsets.len(), 5);
    assert_eq!(dag.edge_count(), 4);
}

#[test]
fn cycle_path_follows_the_edges_from_the_earliest_node() {
    let mut g = GraphBuilder::new();
    g.node("entry");
    g.node("c").after("b");
    g.node("a").after("c").after("entry");
    g.node("b").after_start("a");
    g.node("tail").after("a");
    let err = g.build().unwrap_err();
    assert!(err.is_cycle());
    // c waits for b, a for c, b for a's start: execution order c -> a -> b -> c.
    assert_eq!(err.cycle().unwrap(), ["c", "a", "b"]);
    assert_eq!(err.to_string(), "dependency cycle: c -> a -> b -> c");
    assert_eq!(err.node(), Some("c"));
}

#[test]
fn cycle_behind_an_acyclic_prefix_is_found() {
    // Nodes downstream of a cycle are unordered too; the walk must still land on the cycle.
    let mut g = GraphBuilder::new();
    g.node("down").after("y");
    g.node("x").after("y");
    g.node("y").after("x");
    let err = g.build().unwrap_err();
    assert_eq!(err.cycle().unwrap(), ["x", "y"]);
}

#[test]
fn checks_run_in_documented_order() {
    let mut g = GraphBuilder::new();
    g.node("a").after("ghost");
    g.node("a");
    g.node("b").cost_ms(-0.5);
    assert!(g.clone().build().unwrap_err().is_invalid_cost());
    g.nodes.pop();
    assert!(g.clone().build().unwrap_err().is_duplicate());
    g.nodes.pop();
    assert!(g.build().unwrap_err().is_unknown_node());
}

#[test]
fn each_error_names_its_offender() {
    let mut g = GraphBuilder::new();
    g.node("loop").after_start("loop");
    let err = g.build().unwrap_err();
    assert!(err.is_self_edge());
    assert_eq!(err.to_string(), "node `loop` waits for its own start");

    for bad in [f64::NAN, f64::NEG_INFINITY, -1.0, 1e300] {
        let mut g = GraphBuilder::new();
        g.node("ok").cost_ms(1.0);
        g.node("bad").cost_ms(bad);
        let err = g.build().unwrap_err();
        assert!(err.is_invalid_cost(), "{bad}");
        assert_eq!(err.node(), Some("bad"));
        assert!(err.to_string().contains("`bad`"), "{err}");
    }

    let mut g = GraphBuilder::new();
    g.node("x");
    g.node("y");
    g.node("x");
    g.node("y");
    let err = g.build().unwrap_err();
    assert_eq!(
        err.node(),
        Some("x"),
        "the earliest second occurrence is reported"
    );
}

#[test]
fn rank_counts_start_edges_as_free() {
    let mut g = GraphBuilder::new();
    g.node("a").cost_ms(2.0);
    g.node("b").cost_ms(10.0).after_start("a");
    g.node("c").cost_ms(3.0).after("a");
    g.node("d").cost_ms(1.0).after("b");
    let dag = g.build().unwrap();
    let rank = |n: &str| dag.rank(dag.find(n).unwrap()) / 1_000_000;
    // a: max(2 + rank(c) = 5, rank(b) = 11)
    assert_eq!([rank("a"), rank("b"), rank("c"), rank("d")], [11, 11, 3, 1]);
    assert_eq!(dag.critical_path(), ms(11));
    assert_eq!(names(&dag, &dag.critical_path_nodes()), ["a", "b", "d"]);
}

#[test]
fn missing_costs_take_the_mean_and_no_costs_count_descendants() {
    let mut g = GraphBuilder::new();
    g.node("a").cost_ms(2.0);
    g.node("b").cost_ms(4.0);
    g.node("c");
    let dag = g.build().unwrap();
    assert!(dag.has_costs());
    assert_eq!(dag.cost(dag.find("c").unwrap()), ms(3));
    assert_eq!(dag.cost_estimate(dag.find("c").unwrap()), None);

    // A diamond: d is reachable twice from a, but counts once.
    let mut g = GraphBuilder::new();
    g.node("a");
    g.node("b").after("a");
    g.node("c").after_start("a");
    g.node("d").after("b").after("c");
    let dag = g.build().unwrap();
    assert!(!dag.has_costs());
    let ranks: Vec<u64> = dag.nodes().map(|n| dag.rank(n)).collect();
    assert_eq!(ranks, [4, 2, 2, 1]);
    assert_eq!(dag.total_work(), ms(4));
}

#[test]
fn descendant_estimate_is_exact_on_trees_and_monotone() {
    // A binary tree and a diamond-heavy lattice, compared with the exact count.
    let mut g = GraphBuilder::new();
    for i in 0..63u32 {
        let node = g.node(format!("t{i}"));
        if i > 0 {
            node.after(format!("t{}", (i - 1) / 2));
        }
    }
    let dag = g.build().unwrap();
    assert_eq!(
        rank::estimated_descendants(&dag),
        rank::exact_descendants(&dag)
    );
    assert_eq!(dag.rank(NodeId(0)), 63);

    let mut g = GraphBuilder::new();
    for row in 0..6 {
        for col in 0..6 {
            let node = g.node(format!("{row}.{col}"));
            if row > 0 {
                node.after(format!("{}.{col}", row - 1)).after(format!(
                    "{}.{}",
                    row - 1,
                    (col + 1) % 6
                ));
            }
        }
    }
    let dag = g.build().unwrap();
    let est = rank::estimated_descendants(&dag);
    for v in dag.nodes() {
        for &s in dag.successors_after_finish(v) {
            assert!(est[v.index()] > est[s.index()]);
        }
    }
}

#[test]
fn ready_queue_orders_by_lane_then_position() {
    let mut g = GraphBuilder::new();
    g.node("low-big").cost_ms(50.0).lane(Lane::Low);
    g.node("n1").cost_ms(1.0);
    g.node("n5").cost_ms(5.0);
    g.node("crit").cost_ms(1.0).lane(Lane::Critical);
    g.node("n5b").cost_ms(5.0);
    let dag = g.build().unwrap();
    let order = dag.order(Policy::Rank, 1).unwrap();
    let mut queue = ReadyQueue::new();
    for n in dag.nodes().rev() {
        queue.push(order.key(n));
    }
    assert_eq!(queue.lane_len(Lane::Normal), 3);
    assert!(queue.waiting().contains(Lane::Low));
    assert_eq!(queue.peek_key().unwrap().node(), dag.find("crit").unwrap());
    let popped: Vec<NodeId> = std::iter::from_fn(|| queue.pop()).collect();
    assert_eq!(names(&dag, &popped), ["crit", "n5", "n5b", "n1", "low-big"]);
    assert!(queue.is_empty() && queue.waiting().is_empty());

    let fifo = dag.order(Policy::Fifo, 1).unwrap();
    let seq = fifo.sequence();
    assert_eq!(seq, dag.nodes().collect::<Vec<_>>());
}

#[test]
fn work_tiebreak_prefers_the_node_that_unblocks_more() {
    let mut g = GraphBuilder::new();
    // Equal ranks (6): `a` unblocks one 3 ms node, `b` two of them.
    g.node("a").cost_ms(3.0);
    g.node("b").cost_ms(3.0);
    g.node("a1").cost_ms(3.0).after("a");
    g.node("b1").cost_ms(3.0).after("b");
    g.node("b2").cost_ms(3.0).after("b");
    let dag = g.build().unwrap();
    let order = dag.order(Policy::Rank, 1).unwrap();
    let (a, b) = (dag.find("a").unwrap(), dag.find("b").unwrap());
    assert_eq!(dag.rank(a), dag.rank(b));
    assert!(order.key(b) > order.key(a));
}

#[test]
fn planned_is_never_worse_than_rank() {
    // Ranks tie between `x` (one long follower) and two short chains; on two workers the rank
    // order leaves a worker idle at the end.
    let mut g = GraphBuilder::new();
    g.node("x").cost_ms(4.0);
    g.node("y").cost_ms(4.0);
    g.node("z").cost_ms(4.0);
    g.node("x1").cost_ms(4.0).after("x");
    g.node("free").cost_ms(2.0);
    g.node("free2").cost_ms(2.0);
    let dag = g.build().unwrap();
    for workers in 1..=4 {
        let rank = dag.makespan(workers, Policy::Rank).unwrap();
        let planned = dag.makespan(workers, Policy::Planned).unwrap();
        assert!(planned <= rank, "{workers}: {planned:?} > {rank:?}");
    }
}

#[test]
fn zero_cost_nodes_complete_before_later_starts() {
    let mut g = GraphBuilder::new();
    g.node("gate").cost_ms(0.0);
    g.node("work").cost_ms(5.0).after("gate");
    g.node("other").cost_ms(1.0);
    let dag = g.build().unwrap();
    let report = dag.simulate(1, Policy::Rank).unwrap();
    // gate (rank 5) starts and ends at 0; work (rank 5) beats other (rank 1) at time 0.
    let start = |n: &str| report.find(n).unwrap().start().unwrap();
    assert_eq!(
        [start("gate"), start("work"), start("other")],
        [ms(0), ms(0), ms(5)]
    );
    assert_eq!(report.makespan(), ms(6));
}

#[test]
fn more_workers_than_nodes() {
    let mut g = GraphBuilder::new();
    g.node("a").cost_ms(1.0);
    let report = g.build().unwrap().simulate(64, Policy::Planned).unwrap();
    assert_eq!(report.busy().len(), 64);
    assert_eq!(report.makespan(), ms(1));
    assert_eq!(report.utilisation()[0], 1.0);
}

/// Report lines share their graph's name table; two lines are equal when they say the same,
/// whichever table they point into.
#[test]
fn report_lines_compare_by_what_they_say_not_by_name_table() {
    let build = |second: &str| {
        let mut g = GraphBuilder::new();
        g.node("a").cost_ms(2.0);
        g.node(second).cost_ms(1.0).after("a");
        g.build().unwrap()
    };
    let (one, two, other) = (build("b"), build("b"), build("c"));
    let simulate = |dag: &Dag| dag.simulate(1, Policy::Rank).unwrap();
    let (one, two, other) = (simulate(&one), simulate(&two), simulate(&other));
    assert_eq!(one.nodes(), two.nodes());
    assert_eq!(one.nodes()[0], other.nodes()[0], "the same `a` line");
    assert_ne!(one.nodes()[1], other.nodes()[1], "`b` is not `c`");
    assert_eq!(
        one.nodes().iter().map(NodeReport::name).collect::<Vec<_>>(),
        ["a", "b"]
    );
}

/// Validation takes submission order as the topological order when every edge points forward,
/// and runs Kahn's algorithm otherwise: the two must agree on everything that follows.
#[test]
fn submission_order_does_not_change_ranks_or_the_critical_path() {
    let mut next = numbers(0x9e37_79b9_7f4a_7c15);
    for graph in 0..30 {
        let n = 2 + next(60) as usize;
        let nodes = random_forward_graph(&mut next, n, graph % 2 == 0);
        let build = |reversed: bool| {
            let mut g = GraphBuilder::new();
            if reversed {
                nodes.iter().rev().for_each(|node| node.add_to(&mut g));
            } else {
                nodes.iter().for_each(|node| node.add_to(&mut g));
            }
            g.build().unwrap()
        };
        let (forward, backward) = (build(false), build(true));
        let identity: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
        assert_eq!(forward.topological_order(), identity);
        for dag in [&forward, &backward] {
            let mut position = vec![0; n];
            for (at, node) in dag.topological_order().iter().enumerate() {
                position[node.index()] = at;
            }
            for node in dag.nodes() {
                let successors = dag.successors_after_finish(node).iter();
                for next in successors.chain(dag.successors_after_start(node)) {
                    assert!(
                        position[node.index()] < position[next.index()],
                        "graph {graph}"
                    );
                }
            }
        }
        assert_eq!(
            forward.critical_path(),
            backward.critical_path(),
            "graph {graph}"
        );
        for node in forward.nodes() {
            let name = forward.name(node);
            let other = backward.find(name).unwrap();
            assert_eq!(
                forward.rank(node),
                backward.rank(other),
                "graph {graph}, {name}"
            );
        }
    }
}

/// An edge given by id is the same edge as one given by name, whether a graph has only the one
/// kind or both, finish and start edges alike.
#[test]
fn edges_by_id_make_the_same_graph_as_edges_by_name() {
    let mut next = numbers(0x2545_f491_4f6c_dd1d);
    for graph in 0..30 {
        let n = 2 + next(60) as usize;
        let nodes = random_forward_graph(&mut next, n, graph % 2 == 0);
        let build = |by_id: &dyn Fn(usize) -> bool| {
            let mut g = GraphBuilder::new();
            nodes.iter().for_each(|node| node.add_with(&mut g, by_id));
            g.build().unwrap()
        };
        let by_name = build(&|_| false);
        let by_id = build(&|_| true);
        let mixed = build(&|at| at % 2 == 1);
        for dag in [&by_id, &mixed] {
            assert_eq!(
                dag.critical_path(),
                by_name.critical_path(),
                "graph {graph}"
            );
            for node in dag.nodes() {
                assert_eq!(dag.name(node), by_name.name(node));
                assert_eq!(
                    dag.successors_after_finish(node),
                    by_name.successors_after_finish(node),
                    "graph {graph}, {node}"
                );
                assert_eq!(
                    dag.successors_after_start(node),
                    by_name.successors_after_start(node),
                    "graph {graph}, {node}"
                );
                assert_eq!(dag.rank(node), by_name.rank(node), "graph {graph}, {node}");
            }
        }
    }
}

#[test]
fn a_bad_id_edge_names_its_node() {
    let mut g = GraphBuilder::new();
    let a = g.node("a").id();
    let b = g.node("b").after_node(a).id();
    assert_eq!((a.index(), b.index()), (0, 1));

    let mut other = g.clone();
    other.node("c").after_node(NodeId(7));
    let err = other.build().unwrap_err();
    assert!(err.is_unknown_node());
    assert_eq!((err.node(), err.missing()), (Some("c"), Some("node#7")));
    assert_eq!(
        err.to_string(),
        "node `c` depends on `node#7`, which does not exist"
    );

    let mut other = g.clone();
    other.node("c").after_start_node(NodeId(3));
    let err = other.build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `c` waits for the start of `node#3`, which does not exist"
    );

    for start in [false, true] {
        let mut other = g.clone();
        let c = other.node("c");
        let own = c.id();
        if start {
            c.after_start_node(own);
        } else {
            c.after_node(own);
        }
        let err = other.build().unwrap_err();
        assert!(err.is_self_edge(), "{err}");
        assert_eq!(err.node(), Some("c"));
    }

    // The earliest offending node is reported, whichever kind of edge it has.
    let mut other = g.clone();
    other.node("c").after_node(NodeId(9));
    other.node("d").after("ghost");
    assert_eq!(other.build().unwrap_err().node(), Some("c"));
    let mut other = g;
    other.node("c").after("ghost");
    other.node("d").after_node(NodeId(9));
    assert_eq!(other.build().unwrap_err().node(), Some("c"));
}

#[test]
fn a_cycle_may_run_through_id_edges() {
    let mut g = GraphBuilder::new();
    let a = g.node("a").after("c").id();
    let b = g.node("b").after_node(a).id();
    g.node("c").after_start_node(b);
    let err = g.build().unwrap_err();
    assert_eq!(err.cycle().unwrap(), ["a", "b", "c"]);
}
