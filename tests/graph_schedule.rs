//! Exact schedules of small hand-made graphs: the start time and worker of every node.

use std::time::Duration;

use taskyard::Lane;
use taskyard::graph::{Dag, GraphBuilder, GraphReport, Policy};

/// `(name, start ms, worker)` for every node, in submission order.
fn schedule(report: &GraphReport) -> Vec<(&str, u64, usize)> {
    report
        .nodes()
        .iter()
        .map(|n| {
            (
                n.name(),
                n.start().unwrap().as_millis() as u64,
                n.worker().unwrap(),
            )
        })
        .collect()
}

fn diamond() -> Dag {
    let mut g = GraphBuilder::new();
    g.node("a").cost_ms(2.0);
    g.node("b").cost_ms(3.0).after("a");
    g.node("c").cost_ms(1.0).after("a");
    g.node("d").cost_ms(1.0).after("b").after("c");
    g.build().unwrap()
}

#[test]
fn diamond_on_two_workers() {
    let report = diamond().simulate(2, Policy::Rank).unwrap();
    // d: worker 1 is free since 3, worker 0 frees at 5; both free at 5, the lowest index wins.
    assert_eq!(
        schedule(&report),
        [("a", 0, 0), ("b", 2, 0), ("c", 2, 1), ("d", 5, 0)]
    );
    assert_eq!(report.makespan(), Duration::from_millis(6));
    assert_eq!(report.critical_path_names(), ["a", "b", "d"]);
    let c = report.find("c").unwrap();
    assert_eq!(
        (c.ready(), c.queue_wait()),
        (Some(Duration::from_millis(2)), Some(Duration::ZERO))
    );
    assert_eq!(
        report.busy(),
        [Duration::from_millis(6), Duration::from_millis(1)]
    );
}

#[test]
fn start_edge_releases_at_the_same_instant_and_the_high_lane_goes_first() {
    let mut g = GraphBuilder::new();
    g.node("x").cost_ms(3.0);
    g.node("stage").cost_ms(5.0);
    g.node("monitor")
        .cost_ms(1.0)
        .lane(Lane::High)
        .after_start("stage");
    g.node("y").cost_ms(3.0);
    let report = g.build().unwrap().simulate(2, Policy::Rank).unwrap();
    // stage (rank 5) takes worker 0 and releases monitor at 0; monitor (high) beats x and y
    // for worker 1; then x (earlier than y at equal rank), then y.
    assert_eq!(
        schedule(&report),
        [("x", 1, 1), ("stage", 0, 0), ("monitor", 0, 1), ("y", 4, 1)]
    );
    assert_eq!(report.makespan(), Duration::from_millis(7));
}

#[test]
fn completions_are_processed_before_starts_at_the_same_time() {
    let mut g = GraphBuilder::new();
    g.node("a").cost_ms(2.0);
    g.node("c").cost_ms(2.0);
    g.node("b").cost_ms(2.0).after("a");
    let report = g.build().unwrap().simulate(1, Policy::Rank).unwrap();
    // At 2, a's completion releases b before the worker picks: b (rank 2, successor-free)
    // and c tie, and c was submitted first.
    assert_eq!(schedule(&report), [("a", 0, 0), ("c", 2, 0), ("b", 4, 0)]);
    let b = report.find("b").unwrap();
    assert_eq!(b.queue_wait(), Some(Duration::from_millis(2)));
}

#[test]
fn rank_starts_the_blocking_node_first_and_fifo_does_not() {
    let mut g = GraphBuilder::new();
    g.node("quick1").cost_ms(1.0);
    g.node("quick2").cost_ms(1.0);
    g.node("head").cost_ms(1.0);
    g.node("tail").cost_ms(4.0).after("head");
    let dag = g.build().unwrap();

    let rank = dag.simulate(2, Policy::Rank).unwrap();
    assert_eq!(
        schedule(&rank),
        [
            ("quick1", 0, 1),
            ("quick2", 1, 1),
            ("head", 0, 0),
            ("tail", 1, 0)
        ]
    );
    assert_eq!(rank.makespan(), Duration::from_millis(5));

    let fifo = dag.simulate(2, Policy::Fifo).unwrap();
    assert_eq!(
        schedule(&fifo),
        [
            ("quick1", 0, 0),
            ("quick2", 0, 1),
            ("head", 1, 0),
            ("tail", 2, 0)
        ]
    );
    assert_eq!(fifo.makespan(), Duration::from_millis(6));
}

#[test]
fn fractional_costs_are_exact_in_nanoseconds() {
    let mut g = GraphBuilder::new();
    g.node("a").cost_ms(0.1);
    g.node("b").cost_ms(0.2).after("a");
    g.node("c").cost_ms(0.3).after("b");
    let report = g.build().unwrap().simulate(1, Policy::Rank).unwrap();
    assert_eq!(report.makespan(), Duration::from_micros(600));
    assert_eq!(
        report.find("c").unwrap().start(),
        Some(Duration::from_micros(300))
    );
}

#[test]
fn graphs_without_costs_run_one_millisecond_per_node_in_descendant_order() {
    let mut g = GraphBuilder::new();
    g.node("leaf");
    g.node("root");
    g.node("mid").after("root");
    g.node("end").after("mid");
    let report = g.build().unwrap().simulate(1, Policy::Rank).unwrap();
    // Ranks: root 3, mid 2, leaf and end 1; at 2, leaf and end tie and leaf came first.
    assert_eq!(
        schedule(&report),
        [("leaf", 2, 0), ("root", 0, 0), ("mid", 1, 0), ("end", 3, 0)]
    );
}

#[test]
fn zero_workers_is_an_error() {
    let dag = diamond();
    for policy in [Policy::Rank, Policy::Fifo, Policy::Planned] {
        let err = dag.simulate(0, policy).unwrap_err();
        assert!(err.is_zero_workers());
        assert!(err.to_string().contains("at least one worker"));
    }
    let order = dag.order(Policy::Rank, 1).unwrap();
    assert!(dag.simulate_order(0, &order).unwrap_err().is_zero_workers());
}
