//! Properties of validation and simulation over random DAGs.

use std::time::Duration;

use proptest::prelude::*;
use taskyard::Lane;
use taskyard::graph::{Dag, GraphBuilder, GraphReport, Policy};

/// A generated node: cost in ms, lane, and the nodes it waits for (finish, start) by position in
/// a topological order.
#[derive(Clone, Debug)]
struct Node {
    cost: u32,
    lane: usize,
    after: Vec<usize>,
    after_start: Vec<usize>,
}

/// A DAG in topological order, submitted rotated by `rotate` so submission order and
/// topological order differ.
#[derive(Clone, Debug)]
struct Model {
    nodes: Vec<Node>,
    rotate: usize,
}

impl Model {
    fn name(i: usize) -> String {
        format!("node{i}")
    }

    /// Builder with extra `(waiter, waited_for, start)` edges.
    fn builder(&self, extra: &[(usize, usize, bool)]) -> GraphBuilder {
        let n = self.nodes.len();
        let mut g = GraphBuilder::new();
        for k in 0..n {
            let i = (k + self.rotate) % n;
            let node = &self.nodes[i];
            let spec = g.node(Self::name(i));
            spec.cost_ms(f64::from(node.cost))
                .lane(Lane::ALL[node.lane]);
            for &p in &node.after {
                spec.after(Self::name(p));
            }
            for &p in &node.after_start {
                spec.after_start(Self::name(p));
            }
            for &(w, p, start) in extra {
                if w == i {
                    if start {
                        spec.after_start(Self::name(p));
                    } else {
                        spec.after(Self::name(p));
                    }
                }
            }
        }
        g
    }

    /// Whether `w` waits for `p` (either kind), directly.
    fn has_edge(&self, p: usize, w: usize, extra: &[(usize, usize, bool)]) -> bool {
        let node = &self.nodes[w];
        node.after.contains(&p)
            || node.after_start.contains(&p)
            || extra.iter().any(|&(ew, ep, _)| ew == w && ep == p)
    }
}

fn model() -> impl Strategy<Value = Model> {
    let node = (
        0u32..20,
        prop_oneof![4 => Just(2usize), 1 => 0usize..5],
        prop::collection::vec(any::<u32>(), 0..4),
        prop::collection::vec(any::<u32>(), 0..2),
    );
    (prop::collection::vec(node, 1..40), any::<usize>()).prop_map(|(raw, rotate)| {
        let nodes = raw
            .into_iter()
            .enumerate()
            .map(|(i, (cost, lane, after, after_start))| {
                let pick = |r: Vec<u32>| -> Vec<usize> {
                    if i == 0 {
                        Vec::new()
                    } else {
                        r.iter().map(|&x| x as usize % i).collect()
                    }
                };
                Node {
                    cost,
                    lane,
                    after: pick(after),
                    after_start: pick(after_start),
                }
            })
            .collect::<Vec<_>>();
        let rotate = rotate % nodes.len();
        Model { nodes, rotate }
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Rank),
        Just(Policy::Fifo),
        Just(Policy::Planned)
    ]
}

fn check_schedule(dag: &Dag, report: &GraphReport, workers: usize) -> Result<(), TestCaseError> {
    let mut per_worker: Vec<Vec<(Duration, Duration)>> = vec![Vec::new(); workers];
    for v in dag.nodes() {
        let line = report.node(v);
        prop_assert!(line.status().is_done());
        let (start, end) = (line.start().unwrap(), line.end().unwrap());
        prop_assert_eq!(end - start, dag.cost(v));
        prop_assert!(line.ready().unwrap() <= start);
        let worker = line.worker().unwrap();
        prop_assert!(worker < workers);
        per_worker[worker].push((start, end));
        for &s in dag.successors_after_finish(v) {
            prop_assert!(
                report.node(s).start().unwrap() >= end,
                "{} before {} ends",
                dag.name(s),
                dag.name(v)
            );
        }
        for &s in dag.successors_after_start(v) {
            prop_assert!(
                report.node(s).start().unwrap() >= start,
                "{} before {} starts",
                dag.name(s),
                dag.name(v)
            );
        }
    }
    // One node at a time per worker (zero-length runs may share an instant).
    for runs in &mut per_worker {
        runs.sort();
        for pair in runs.windows(2) {
            prop_assert!(pair[0].1 <= pair[1].0, "overlap on one worker: {:?}", pair);
        }
    }
    prop_assert!(report.makespan() >= report.lower_bound());
    let last_end = dag
        .nodes()
        .map(|v| report.node(v).end().unwrap())
        .max()
        .unwrap();
    prop_assert_eq!(report.makespan(), last_end);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_node_runs_once_after_its_predecessors(
        model in model(),
        workers in 1usize..6,
        policy in policy(),
    ) {
        let dag = model.builder(&[]).build().unwrap();
        prop_assert_eq!(dag.len(), model.nodes.len());
        let report = dag.simulate(workers, policy).unwrap();
        prop_assert_eq!(report.nodes().len(), dag.len());
        check_schedule(&dag, &report, workers)?;
        // Deterministic: the same input gives the same report.
        let again = model.builder(&[]).build().unwrap().simulate(workers, policy).unwrap();
        prop_assert_eq!(report, again);
    }

    #[test]
    fn planned_is_never_worse_than_rank(model in model(), workers in 1usize..6) {
        let dag = model.builder(&[]).build().unwrap();
        prop_assert!(
            dag.makespan(workers, Policy::Planned).unwrap()
                <= dag.makespan(workers, Policy::Rank).unwrap()
        );
    }

    #[test]
    fn an_injected_cycle_is_refused_and_named(
        model in model(),
        from in any::<usize>(),
        steps in prop::collection::vec(any::<usize>(), 0..6),
        start in any::<bool>(),
    ) {
        // Walk forward from a node along random edges, then make the start wait for the end.
        let n = model.nodes.len();
        let succs = |v: usize| -> Vec<usize> {
            (0..n).filter(|&w| model.has_edge(v, w, &[])).collect()
        };
        let first = from % n;
        let mut last = first;
        for step in steps {
            let next = succs(last);
            if next.is_empty() {
                break;
            }
            last = next[step % next.len()];
        }
        let extra = [(first, last, start)];
        let err = model.builder(&extra).build().unwrap_err();
        if first == last {
            prop_assert!(err.is_self_edge());
            let name = Model::name(first);
            prop_assert_eq!(err.node(), Some(name.as_str()));
            return Ok(());
        }
        prop_assert!(err.is_cycle(), "{}", err);
        let cycle: Vec<usize> = err
            .cycle()
            .unwrap()
            .iter()
            .map(|name| name["node".len()..].parse().unwrap())
            .collect();
        prop_assert!(cycle.len() >= 2);
        let mut distinct = cycle.clone();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), cycle.len());
        for (i, &v) in cycle.iter().enumerate() {
            let w = cycle[(i + 1) % cycle.len()];
            prop_assert!(model.has_edge(v, w, &extra), "{} -> {} is not an edge", v, w);
        }
    }
}
