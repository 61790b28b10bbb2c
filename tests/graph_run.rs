//! Running graphs for real: exactly-once release, edge semantics, rank order shared with the
//! simulator, lanes, failure propagation and the report.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use taskyard::graph::{Graph, GraphReport, NodeStatus, Policy};
use taskyard::{Lane, LocalExecutor, Runtime};

/// A seeded xorshift, so every graph here is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Start and end tick of each node, from one shared counter.
#[derive(Default)]
struct Ticks {
    clock: AtomicUsize,
    start: Mutex<Vec<Option<usize>>>,
    end: Mutex<Vec<Option<usize>>>,
    runs: Mutex<Vec<usize>>,
}

/// A random DAG (edges only from lower to higher index, so acyclic): returns the graph and the
/// edges as (pred, succ, is_start_edge).
fn random_graph(seed: u64, n: usize, ticks: &Arc<Ticks>) -> (Graph, Vec<(usize, usize, bool)>) {
    let mut rng = Rng(seed);
    *ticks.start.lock().unwrap() = vec![None; n];
    *ticks.end.lock().unwrap() = vec![None; n];
    *ticks.runs.lock().unwrap() = vec![0; n];
    let mut graph = Graph::new();
    let mut edges = Vec::new();
    for i in 0..n {
        let ticks = ticks.clone();
        let node = graph.node(format!("n{i}"), move || {
            let t = ticks.clock.fetch_add(1, SeqCst);
            ticks.start.lock().unwrap()[i] = Some(t);
            ticks.runs.lock().unwrap()[i] += 1;
            let t = ticks.clock.fetch_add(1, SeqCst);
            ticks.end.lock().unwrap()[i] = Some(t);
        });
        node.cost_ms((rng.below(20) + 1) as f64);
        if i > 0 {
            for _ in 0..rng.below(3) {
                let pred = rng.below(i as u64) as usize;
                if edges.iter().any(|&(p, s, _)| p == pred && s == i) {
                    continue;
                }
                let start_edge = rng.below(5) == 0;
                if start_edge {
                    node.after_start(format!("n{pred}"));
                } else {
                    node.after(format!("n{pred}"));
                }
                edges.push((pred, i, start_edge));
            }
        }
    }
    (graph, edges)
}

/// Finish edges are checked on the bodies' own ticks: a successor's body begins after its
/// predecessor's body returned. A start edge releases the successor once the scheduler has
/// started the predecessor, after which both bodies run in parallel with no order between
/// their first instructions, so start edges are checked on the scheduler's start times.
fn check_edges(ticks: &Ticks, report: &GraphReport, edges: &[(usize, usize, bool)], n: usize) {
    let start = ticks.start.lock().unwrap();
    let end = ticks.end.lock().unwrap();
    assert_eq!(
        *ticks.runs.lock().unwrap(),
        vec![1; n],
        "every node runs exactly once"
    );
    for &(pred, succ, start_edge) in edges {
        if start_edge {
            let started = |i: usize| report.nodes()[i].start().unwrap();
            assert!(
                started(succ) >= started(pred),
                "n{succ} started before n{pred} started"
            );
        } else {
            assert!(
                start[succ].unwrap() > end[pred].unwrap(),
                "n{succ} started before n{pred} ended"
            );
        }
    }
}

#[test]
fn random_graphs_run_every_node_once_after_its_predecessors() {
    for workers in [1, 4] {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        for seed in 1..=20 {
            let ticks = Arc::new(Ticks::default());
            let n = 200;
            let (graph, edges) = random_graph(seed, n, &ticks);
            let report = rt
                .run_graph(graph.build().unwrap(), Policy::Rank)
                .unwrap()
                .join();
            check_edges(&ticks, &report, &edges, n);
            assert!(report.nodes().iter().all(|node| node.status().is_done()));
            assert!(
                report
                    .nodes()
                    .iter()
                    .all(|node| node.worker().unwrap() < workers)
            );
        }
    }
}

#[test]
fn random_graphs_on_the_local_executor() {
    let ex = LocalExecutor::new();
    for seed in 1..=10 {
        let ticks = Arc::new(Ticks::default());
        let (graph, edges) = random_graph(seed, 150, &ticks);
        let report = ex.block_on(ex.run_graph(graph.build().unwrap(), Policy::Planned));
        check_edges(&ticks, &report, &edges, 150);
        assert_eq!(report.workers(), 1);
    }
}

/// The order in which nodes started, by name.
fn start_order(report: &GraphReport) -> Vec<String> {
    let mut nodes: Vec<_> = report.nodes().iter().collect();
    nodes.sort_by_key(|n| n.start().unwrap());
    nodes.iter().map(|n| n.name().to_owned()).collect()
}

/// The real run uses the simulator's ordering code: on one worker, where only the order
/// matters, both start the nodes in exactly the same sequence.
#[test]
fn one_worker_real_order_matches_the_simulated_order() {
    for policy in [Policy::Rank, Policy::Fifo, Policy::Planned] {
        for seed in [3, 7, 11] {
            let ticks = Arc::new(Ticks::default());
            let (graph, _) = random_graph(seed, 60, &ticks);
            let graph = graph.build().unwrap();
            let simulated = graph.simulate(1, policy).unwrap();
            // The real order comes from the start ticks (report times may tie at clock
            // resolution on a fast machine).
            let ex = LocalExecutor::new();
            ex.block_on(ex.run_graph(graph, policy));
            let start = ticks.start.lock().unwrap();
            let mut real: Vec<usize> = (0..60).collect();
            real.sort_by_key(|&i| start[i].unwrap());
            let real: Vec<String> = real.iter().map(|i| format!("n{i}")).collect();
            assert_eq!(
                real,
                start_order(&simulated),
                "policy {policy:?}, seed {seed}"
            );
        }
    }
}

#[test]
fn one_worker_runtime_follows_rank_then_lane() {
    let rt = Runtime::builder().workers(1).build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let (gate_tx, gate) = mpsc::channel::<()>();
    let mut graph = Graph::new();
    // `gate` holds the only worker until every other node is ready, so the rest start in
    // pure priority order.
    graph
        .node("gate", move || gate.recv().unwrap())
        .cost_ms(100.0);
    for (name, cost, lane) in [
        ("small", 1.0, Lane::Normal),
        ("big", 50.0, Lane::Normal),
        ("alarm", 1.0, Lane::High),
        ("medium", 10.0, Lane::Normal),
        ("chores", 90.0, Lane::Low),
    ] {
        let order = order.clone();
        graph
            .node(name, move || order.lock().unwrap().push(name))
            .cost_ms(cost)
            .lane(lane);
    }
    let handle = rt.run_graph(graph.build().unwrap(), Policy::Rank).unwrap();
    gate_tx.send(()).unwrap();
    handle.join();
    assert_eq!(
        *order.lock().unwrap(),
        ["alarm", "big", "medium", "small", "chores"]
    );
}

#[test]
fn start_to_start_edge_lets_the_child_run_while_the_parent_runs() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let mut graph = Graph::new();
    // The parent cannot finish until the watcher has run: a finish-to-start edge would
    // deadlock here, a start-to-start edge must not.
    graph.node("load", move || rx.recv().unwrap());
    graph
        .node("watch", move || tx.send(()).unwrap())
        .after_start("load");
    let report = rt
        .run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    let load = report.find("load").unwrap();
    let watch = report.find("watch").unwrap();
    assert!(watch.start().unwrap() >= load.start().unwrap());
    assert!(watch.start().unwrap() <= load.end().unwrap());
}

#[test]
fn failure_skips_dependents_and_independent_branches_go_on() {
    for policy in [Policy::Rank, Policy::Fifo] {
        let rt = Runtime::builder().workers(2).build().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let count = |ran: &Arc<AtomicUsize>| {
            let ran = ran.clone();
            move || {
                ran.fetch_add(1, SeqCst);
            }
        };
        graph.node("extract", count(&ran));
        graph
            .node("transform", || Err::<(), _>("bad row 17"))
            .after("extract");
        graph.node("load", count(&ran)).after("transform");
        graph.node("notify", count(&ran)).after_start("load");
        graph.node("explodes", || -> () { panic!("out of memory") });
        graph.node("after_panic", count(&ran)).after("explodes");
        graph.node("independent", count(&ran));
        graph.node("independent2", count(&ran)).after("independent");
        let report = rt.run_graph(graph.build().unwrap(), policy).unwrap().join();

        let status = |name: &str| report.find(name).unwrap().status();
        let transform = report.find("transform").unwrap();
        assert_eq!(transform.status(), NodeStatus::Failed);
        assert_eq!(transform.error(), Some("bad row 17"));
        let explodes = report.find("explodes").unwrap();
        assert_eq!(explodes.status(), NodeStatus::Failed);
        assert_eq!(explodes.error(), Some("panicked: out of memory"));
        let cause_of = |name: &str| match status(name) {
            NodeStatus::Skipped { cause } => report.node(cause).name().to_owned(),
            other => panic!("{name} should be skipped, is {other:?}"),
        };
        assert_eq!(cause_of("load"), "transform");
        assert_eq!(cause_of("notify"), "transform");
        assert_eq!(cause_of("after_panic"), "explodes");
        for name in ["extract", "independent", "independent2"] {
            assert_eq!(status(name), NodeStatus::Done, "{name}");
        }
        assert_eq!(ran.load(SeqCst), 3);
    }
}

#[test]
fn report_accounts_for_times_and_workers() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let mut graph = Graph::new();
    graph.node("a", || ()).cost_ms(3.0);
    graph.node("b", || ()).cost_ms(2.0).after("a");
    graph.node("c", || ()).cost_ms(4.0).after("a");
    graph.node("d", || ()).cost_ms(1.0).after("b").after("c");
    let report = rt
        .run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    assert_eq!(report.workers(), 2);
    assert_eq!(report.critical_path(), Duration::from_millis(8));
    assert_eq!(report.total_work(), Duration::from_millis(10));
    assert_eq!(report.lower_bound(), Duration::from_millis(8));
    for node in report.nodes() {
        let (ready, start, end) = (
            node.ready().unwrap(),
            node.start().unwrap(),
            node.end().unwrap(),
        );
        assert!(
            ready <= start && start <= end,
            "{}: {ready:?} {start:?} {end:?}",
            node.name()
        );
        assert_eq!(node.queue_wait(), Some(start - ready));
        assert!(end <= report.makespan());
    }
    let d = report.find("d").unwrap();
    assert!(d.start() >= report.find("b").unwrap().end());
    assert!(d.start() >= report.find("c").unwrap().end());
}

#[test]
fn empty_graph_and_shut_down_runtime() {
    let rt = Runtime::builder().workers(1).build().unwrap();
    let report = rt
        .run_graph(Graph::new().build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    assert!(report.nodes().is_empty());
    let handle = rt.handle();
    rt.shutdown(Duration::from_secs(1));
    let mut graph = Graph::new();
    graph.node("late", || ());
    let err = handle
        .run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap_err();
    assert!(err.is_shutdown());
}

#[test]
fn future_and_state_machine_nodes() {
    use taskyard::{Cx, Step, Task};
    struct ThreeSteps(u8);
    impl Task for ThreeSteps {
        type Output = Result<(), String>;
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<Self::Output> {
            self.0 += 1;
            if self.0 == 3 {
                Step::Done(Ok(()))
            } else {
                Step::Yield
            }
        }
    }
    let rt = Runtime::builder().workers(2).build().unwrap();
    let mut graph = Graph::new();
    graph.task_node("machine", ThreeSteps(0));
    graph
        .future_node("future", async {
            taskyard::yield_now().await;
            Err::<(), _>("late data")
        })
        .after("machine");
    graph.node("after_future", || ()).after("future");
    let report = rt
        .run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    assert_eq!(report.find("machine").unwrap().status(), NodeStatus::Done);
    assert_eq!(report.find("future").unwrap().error(), Some("late data"));
    assert!(matches!(
        report.find("after_future").unwrap().status(),
        NodeStatus::Skipped { .. }
    ));
}
