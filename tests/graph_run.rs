//! Running graphs for real: exactly-once release, edge semantics, rank order shared with the
//! simulator, lanes, failure propagation and the report.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use taskyard::graph::{Graph, GraphReport, NodeStatus, Policy};
use taskyard::{Lane, LocalExecutor, ManualClock, Runtime};

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

/// Clears what the bodies of [`random_graph`] record, for a run of `n` nodes.
fn reset_ticks(ticks: &Ticks, n: usize) {
    *ticks.start.lock().unwrap() = vec![None; n];
    *ticks.end.lock().unwrap() = vec![None; n];
    *ticks.runs.lock().unwrap() = vec![0; n];
}

/// A random DAG (edges only from lower to higher index, so acyclic): returns the graph and the
/// edges as (pred, succ, is_start_edge). Every node's body is added with `Graph::node`.
fn random_graph(seed: u64, n: usize, ticks: &Arc<Ticks>) -> (Graph, Vec<(usize, usize, bool)>) {
    random_graph_with(seed, n, ticks, |_| false)
}

/// [`random_graph`], with the bodies of the nodes for which `shared(i)` holds added with
/// `Graph::fn_node` instead.
fn random_graph_with(
    seed: u64,
    n: usize,
    ticks: &Arc<Ticks>,
    shared: impl Fn(usize) -> bool,
) -> (Graph, Vec<(usize, usize, bool)>) {
    let mut rng = Rng(seed);
    reset_ticks(ticks, n);
    let mut graph = Graph::new();
    let mut edges = Vec::new();
    for i in 0..n {
        let ticks = ticks.clone();
        let body = move || {
            let t = ticks.clock.fetch_add(1, SeqCst);
            ticks.start.lock().unwrap()[i] = Some(t);
            ticks.runs.lock().unwrap()[i] += 1;
            let t = ticks.clock.fetch_add(1, SeqCst);
            ticks.end.lock().unwrap()[i] = Some(t);
        };
        let node = if shared(i) {
            graph.fn_node(format!("n{i}"), body)
        } else {
            graph.node(format!("n{i}"), body)
        };
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

/// Every node ran exactly once, reports `Done`, and started after its predecessors.
///
/// Finish edges are checked on the bodies' own ticks: a successor's body begins after its
/// predecessor's body returned. A start edge releases the successor once the scheduler has
/// started the predecessor, after which both bodies run in parallel with no order between
/// their first instructions, so start edges are checked on the scheduler's start times.
fn check_run(ticks: &Ticks, report: &GraphReport, edges: &[(usize, usize, bool)], n: usize) {
    assert!(report.nodes().iter().all(|node| node.status().is_done()));
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
            check_run(&ticks, &report, &edges, n);
            assert!(
                report
                    .nodes()
                    .iter()
                    .all(|node| node.worker().unwrap() < workers)
            );
        }
    }
}

/// Graphs wide enough (hundreds of ready nodes at once) for thieves to take batches along, on
/// two workers, with and without node times: every node once, after its predecessors.
#[test]
fn wide_random_graphs_with_batched_steals() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    for seed in 1..=6 {
        let timed = seed % 2 == 0;
        let ticks = Arc::new(Ticks::default());
        let n = 3000;
        let (graph, mut edges) = random_graph(seed, n, &ticks);
        let graph = graph.build().unwrap().record_node_times(timed);
        let report = rt.run_graph(graph, Policy::Rank).unwrap().join();
        if !timed {
            // Start edges are checked on the report's start times, which an untimed run lacks.
            edges.retain(|&(_, _, start_edge)| !start_edge);
        }
        check_run(&ticks, &report, &edges, n);
        assert!(
            report
                .nodes()
                .iter()
                .all(|node| node.start().is_some() == timed)
        );
    }
}

/// Bodies called in place (`fn_node`), alone and mixed with bodies moved out at start, under
/// both the build-time order and one laid out when the run starts: each runs exactly once,
/// after its predecessors.
#[test]
fn fn_node_bodies_run_once_after_their_predecessors() {
    let patterns: [fn(usize) -> bool; 2] = [|_| true, |i| i % 3 != 0];
    for workers in [1, 2] {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        for (seed, shared) in (1..=6).zip(patterns.iter().cycle()) {
            for policy in [Policy::Rank, Policy::Fifo] {
                let ticks = Arc::new(Ticks::default());
                let n = 300;
                let (graph, edges) = random_graph_with(seed, n, &ticks, shared);
                let report = rt.run_graph(graph.build().unwrap(), policy).unwrap().join();
                check_run(&ticks, &report, &edges, n);
            }
        }
    }
}

/// An `fn_node` that returns an error or panics fails, and its dependents are skipped.
#[test]
fn fn_node_failures_skip_dependents() {
    let ex = LocalExecutor::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let mut graph = Graph::new();
    graph.fn_node("parse", || Err::<(), _>("line 3: unexpected token"));
    graph.fn_node("explodes", || -> () { panic!("index out of range") });
    for (name, after) in [("check", "parse"), ("render", "explodes"), ("free", "")] {
        let ran = ran.clone();
        let node = graph.fn_node(name, move || {
            ran.fetch_add(1, SeqCst);
        });
        if !after.is_empty() {
            node.after(after);
        }
    }
    let report = ex.block_on(ex.run_graph(graph.build().unwrap(), Policy::Rank));
    let node = |name: &str| report.find(name).unwrap();
    assert_eq!(node("parse").error(), Some("line 3: unexpected token"));
    assert_eq!(
        node("explodes").error(),
        Some("panicked: index out of range")
    );
    for (name, cause) in [("check", "parse"), ("render", "explodes")] {
        match node(name).status() {
            NodeStatus::Skipped { cause: id } => assert_eq!(report.node(id).name(), cause),
            other => panic!("{name} should be skipped, is {other:?}"),
        }
    }
    assert_eq!(node("free").status(), NodeStatus::Done);
    assert_eq!(ran.load(SeqCst), 1, "only the independent node ran");
}

#[test]
fn random_graphs_on_the_local_executor() {
    let ex = LocalExecutor::new();
    for seed in 1..=10 {
        let ticks = Arc::new(Ticks::default());
        let (graph, edges) = random_graph(seed, 150, &ticks);
        let report = ex.block_on(ex.run_graph(graph.build().unwrap(), Policy::Planned));
        check_run(&ticks, &report, &edges, 150);
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

/// A node's one successor runs right after it on the same searcher only when it is of the
/// same lane: one of a lower lane waits for what is queued in the higher ones.
#[test]
fn a_successor_in_a_lower_lane_waits_for_the_higher_lanes() {
    let rt = Runtime::builder().workers(1).build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut graph = Graph::new();
    // `alarm` is released when `load` starts, so it is queued while `load` runs; `report`,
    // `load`'s only successor, is released when `load` ends.
    for (name, lane, after, after_start) in [
        ("load", Lane::Normal, None, None),
        ("report", Lane::Low, Some("load"), None),
        ("alarm", Lane::High, None, Some("load")),
    ] {
        let order = order.clone();
        let node = graph
            .node(name, move || order.lock().unwrap().push(name))
            .lane(lane);
        if let Some(after) = after {
            node.after(after);
        }
        if let Some(after_start) = after_start {
            node.after_start(after_start);
        }
    }
    rt.run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    assert_eq!(*order.lock().unwrap(), ["load", "alarm", "report"]);
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

/// A chain long enough to span several searcher steps (the 9,000 nodes before its failure are
/// more than two steps' node budget, whatever the clock says), with closures and shared bodies
/// mixed, a node that yields in the middle and one that panics (or returns an error) further
/// on: every node before the failure runs once and in order, and every node after it is
/// skipped because of it. The same with owned bodies only (closures and the yielding task),
/// whose chain hands its bodies out together and takes them back at each step's end, at the
/// yield and at the failure, and with shared bodies only (no yield then), which run their links
/// in a loop of their own.
#[test]
fn a_long_chain_runs_in_order_through_yields_step_ends_and_a_failure() {
    use taskyard::{Cx, Step, Task};
    struct YieldsTwice(u8, usize, Arc<Mutex<Vec<usize>>>);
    impl Task for YieldsTwice {
        type Output = ();
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
            self.0 += 1;
            if self.0 < 3 {
                return Step::Yield;
            }
            self.2.lock().unwrap().push(self.1);
            Step::Done(())
        }
    }
    const NODES: usize = 10_000;
    const YIELDS: usize = 3_000;
    const FAILS: usize = 9_000;
    #[derive(Clone, Copy, PartialEq)]
    enum Bodies {
        Mixed,
        OwnedOnly,
        SharedOnly,
    }
    let chain = |timed: bool, bodies: Bodies, error: bool| {
        let ran = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        let shared_only = bodies == Bodies::SharedOnly;
        for i in 0..NODES {
            let ran = ran.clone();
            let name = format!("n{i}");
            let node = match i {
                FAILS if error && bodies == Bodies::OwnedOnly => {
                    graph.node(name, move || Err(format!("node {i} gives up")))
                }
                FAILS if error => graph.fn_node(name, move || Err(format!("node {i} gives up"))),
                FAILS if shared_only => {
                    graph.fn_node(name, move || -> () { panic!("node {i} gives up") })
                }
                _ if shared_only => graph.fn_node(name, move || ran.lock().unwrap().push(i)),
                YIELDS => graph.task_node(name, YieldsTwice(0, i, ran)),
                FAILS => graph.node(name, move || -> () { panic!("node {i} gives up") }),
                _ if i % 2 == 0 || bodies == Bodies::OwnedOnly => {
                    graph.node(name, move || ran.lock().unwrap().push(i))
                }
                _ => graph.fn_node(name, move || ran.lock().unwrap().push(i)),
            };
            if i > 0 {
                node.after(format!("n{}", i - 1));
            }
        }
        (graph.build().unwrap().record_node_times(timed), ran)
    };
    let check = |report: GraphReport, ran: Arc<Mutex<Vec<usize>>>, error: bool| {
        assert_eq!(*ran.lock().unwrap(), (0..FAILS).collect::<Vec<_>>());
        let nodes = report.nodes();
        assert!(nodes[..FAILS].iter().all(|node| node.status().is_done()));
        let expected = if error { "" } else { "panicked: " }.to_owned() + "node 9000 gives up";
        assert_eq!(nodes[FAILS].error(), Some(expected.as_str()));
        for node in &nodes[FAILS + 1..] {
            match node.status() {
                NodeStatus::Skipped { cause } => assert_eq!(report.node(cause).name(), "n9000"),
                other => panic!("{} should be skipped, is {other:?}", node.name()),
            }
        }
    };
    for timed in [true, false] {
        for bodies in [Bodies::Mixed, Bodies::OwnedOnly, Bodies::SharedOnly] {
            for error in [false, true] {
                for workers in [1, 2] {
                    let rt = Runtime::builder().workers(workers).build().unwrap();
                    let (graph, ran) = chain(timed, bodies, error);
                    check(
                        rt.run_graph(graph, Policy::Rank).unwrap().join(),
                        ran,
                        error,
                    );
                    // No step runs more than its node budget, 4,096 nodes.
                    let steps: u64 = rt.metrics().workers.iter().map(|w| w.steps).sum();
                    assert!(steps >= 3, "{steps} steps");
                }
                let ex = LocalExecutor::new();
                let (graph, ran) = chain(timed, bodies, error);
                check(ex.block_on(ex.run_graph(graph, Policy::Rank)), ran, error);
            }
        }
    }
}

/// A chain that gives way to a better node halfway: `head`, `mid` and `tail` (1 ms each) make
/// a chain, and `other` (2.5 ms) ranks between `head` and `mid`. On one worker `head` runs,
/// then `other` before `mid`, so the searcher leaves the chain at `head`'s end with the rest
/// of its bodies, which must be found again when `mid` starts. The order matches the
/// simulator's under every policy, on the runtime and on the local executor, and every body
/// runs once.
#[test]
fn a_chain_that_gives_way_to_a_better_node_picks_up_where_it_left() {
    let chain_graph = |log: &Arc<Mutex<Vec<&'static str>>>| {
        let mut graph = Graph::new();
        for (name, cost, after) in [
            ("head", 1.0, None),
            ("mid", 1.0, Some("head")),
            ("tail", 1.0, Some("mid")),
            ("other", 2.5, None),
        ] {
            let log = log.clone();
            let node = graph
                .node(name, move || log.lock().unwrap().push(name))
                .cost_ms(cost);
            if let Some(after) = after {
                node.after(after);
            }
        }
        graph.build().unwrap()
    };
    for policy in [Policy::Rank, Policy::Fifo, Policy::Planned] {
        let log = Arc::new(Mutex::new(Vec::new()));
        let simulated = start_order(&chain_graph(&log).simulate(1, policy).unwrap());
        if policy == Policy::Rank {
            assert_eq!(simulated, ["head", "other", "mid", "tail"]);
        }
        let rt = Runtime::builder().workers(1).build().unwrap();
        rt.run_graph(chain_graph(&log), policy).unwrap().join();
        assert_eq!(*log.lock().unwrap(), simulated, "runtime, {policy:?}");
        log.lock().unwrap().clear();
        let ex = LocalExecutor::new();
        ex.block_on(ex.run_graph(chain_graph(&log), policy));
        assert_eq!(
            *log.lock().unwrap(),
            simulated,
            "local executor, {policy:?}"
        );
    }
}

/// A graph and, per node (by index), the nodes it waits for with finish edges.
type WithPreds = (Graph, Vec<Vec<usize>>);

/// A binary fan-out tree of `depth` levels below one root, then a fan-in back to one sink:
/// every fan-in node waits for two nodes that often end on different workers.
fn fan_out_fan_in(depth: u32) -> WithPreds {
    let mut graph = Graph::new();
    let mut preds: Vec<Vec<usize>> = Vec::new();
    let mut add = |graph: &mut Graph, after: Vec<usize>| {
        let id = preds.len();
        let node = graph.node(format!("t{id}"), || ());
        for &pred in &after {
            node.after(format!("t{pred}"));
        }
        preds.push(after);
        id
    };
    let mut level = vec![add(&mut graph, Vec::new())];
    for _ in 0..depth {
        level = level
            .iter()
            .flat_map(|&parent| [parent, parent])
            .map(|parent| add(&mut graph, vec![parent]))
            .collect();
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| add(&mut graph, pair.to_vec()))
            .collect();
    }
    (graph, preds)
}

/// An `n` by `n` wavefront: node (i, j) waits for (i-1, j) and (i, j-1).
fn wavefront(n: usize) -> WithPreds {
    let mut graph = Graph::new();
    let mut preds = Vec::with_capacity(n * n);
    let name = |i: usize, j: usize| format!("w{i},{j}");
    for i in 0..n {
        for j in 0..n {
            let node = graph.node(name(i, j), || ());
            let mut after = Vec::new();
            if i > 0 {
                node.after(name(i - 1, j));
                after.push((i - 1) * n + j);
            }
            if j > 0 {
                node.after(name(i, j - 1));
                after.push(i * n + j - 1);
            }
            preds.push(after);
        }
    }
    (graph, preds)
}

/// Fan-in nodes are released by the last of their predecessors to retire its edge, which may
/// not be the last to end: the released node's start must still be at or after every
/// predecessor's end (in the report's own times). The tree spreads over both workers even with
/// empty bodies; the wavefront mostly runs as one worker's chain.
#[test]
fn fan_in_nodes_start_after_every_predecessor_ends() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    for run in 0..20 {
        for (shape, (graph, preds)) in [("tree", fan_out_fan_in(10)), ("grid", wavefront(64))] {
            let report = rt
                .run_graph(graph.build().unwrap(), Policy::Rank)
                .unwrap()
                .join();
            let nodes = report.nodes();
            assert_eq!(nodes.len(), preds.len());
            for (node, preds) in nodes.iter().zip(&preds) {
                let at = format!("{shape}, run {run}, {}", node.name());
                assert_eq!(node.status(), NodeStatus::Done, "{at}");
                let start = node.start().unwrap();
                for pred in preds.iter().map(|&p| &nodes[p]) {
                    assert!(
                        start >= pred.end().unwrap(),
                        "{at} started at {start:?}, before {} ended at {:?}",
                        pred.name(),
                        pred.end().unwrap()
                    );
                }
            }
        }
    }
}

/// On one worker, a node whose future waits must not keep the worker's only searcher: the node
/// it waits for is ready, ranks lower and would never run otherwise.
#[test]
fn a_waiting_future_node_does_not_hold_up_other_ready_nodes() {
    let ex = LocalExecutor::new();
    let gate = common::Gate::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut graph = Graph::new();
    let (wait_gate, wait_order) = (gate.clone(), order.clone());
    graph
        .future_node("wait", async move {
            wait_gate.wait().await;
            wait_order.lock().unwrap().push("wait");
        })
        .cost_ms(10.0);
    let set_order = order.clone();
    graph
        .node("set", move || {
            set_order.lock().unwrap().push("set");
            gate.open();
        })
        .cost_ms(1.0);
    let handle = ex.run_graph(graph.build().unwrap(), Policy::Rank);
    // `run_until_idle` rather than `block_on`: a run stuck on the waiting node ends here with
    // no report instead of hanging.
    ex.run_until_idle();
    let report = handle
        .try_take()
        .expect("the run ended: `set` ran while `wait` waited");
    assert_eq!(*order.lock().unwrap(), ["set", "wait"]);
    let (wait, set) = (report.find("wait").unwrap(), report.find("set").unwrap());
    assert_eq!(wait.status(), NodeStatus::Done);
    assert_eq!(set.status(), NodeStatus::Done);
    assert!(set.end().unwrap() <= wait.end().unwrap());
}

/// The same with a state-machine node that polls by yielding: on one worker, the independent
/// node it waits for runs between its steps.
#[test]
fn a_yielding_node_does_not_hold_up_other_ready_nodes() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use taskyard::{Cx, Step, Task};
    struct PollFlag(Arc<AtomicBool>);
    impl Task for PollFlag {
        type Output = ();
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
            if self.0.load(SeqCst) {
                Step::Done(())
            } else {
                Step::Yield
            }
        }
    }
    let ex = LocalExecutor::new();
    let flag = Arc::new(AtomicBool::new(false));
    let mut graph = Graph::new();
    graph
        .task_node("poll", PollFlag(flag.clone()))
        .cost_ms(10.0);
    graph
        .node("set", move || flag.store(true, SeqCst))
        .cost_ms(1.0);
    let handle = ex.run_graph(graph.build().unwrap(), Policy::Rank);
    // A bounded number of steps: a run stuck on the polling node ends here with no report.
    ex.tick(10_000);
    let report = handle
        .try_take()
        .expect("the run ended: `set` ran between polls");
    let (poll, set) = (report.find("poll").unwrap(), report.find("set").unwrap());
    assert_eq!(poll.status(), NodeStatus::Done);
    assert_eq!(set.status(), NodeStatus::Done);
    assert!(
        poll.start().unwrap() <= set.start().unwrap(),
        "`poll` ranks first"
    );
    assert!(set.end().unwrap() <= poll.end().unwrap());
}

/// A runtime shut down under a running graph drops its searchers; the run then reports at
/// once, with the nodes that had not ended as `NotRun`, and `join` returns.
#[test]
fn shutdown_mid_run_reports_unfinished_nodes_not_run() {
    use taskyard::{Cx, Step, Task};
    /// Yields forever; reports its first step on `started`.
    struct Spin(Option<mpsc::Sender<()>>);
    impl Task for Spin {
        type Output = ();
        fn step(&mut self, _cx: &mut Cx<'_>) -> Step<()> {
            if let Some(started) = self.0.take() {
                started.send(()).unwrap();
            }
            Step::Yield
        }
    }
    let rt = Runtime::builder().workers(1).build().unwrap();
    let (started_tx, started) = mpsc::channel();
    let mut graph = Graph::new();
    graph.task_node("spin", Spin(Some(started_tx)));
    graph.node("after", || ()).after("spin");
    let handle = rt.run_graph(graph.build().unwrap(), Policy::Rank).unwrap();
    common::recv(&started, "spin's first step");
    rt.shutdown(Duration::ZERO);
    // `join` on another thread, so a run that never reports fails the test instead of
    // hanging it.
    let (report_tx, report) = mpsc::channel();
    std::thread::spawn(move || report_tx.send(handle.join()).unwrap());
    let report = common::recv(&report, "the report of the abandoned run");
    assert_eq!(report.find("after").unwrap().status(), NodeStatus::NotRun);
    assert!(!report.find("spin").unwrap().status().is_done());
}

/// A real run's lines are built when first read; a clone taken before that builds its own,
/// and both are the same however often and through whichever accessor they are read.
#[test]
fn report_lines_are_the_same_however_often_read() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let mut graph = Graph::new();
    graph.node("a", || ()).cost_ms(3.0);
    graph.node("b", || ()).cost_ms(2.0).after("a");
    graph
        .node("fails", || Err::<(), _>("disk full"))
        .cost_ms(1.0)
        .after("a");
    graph.node("skipped", || ()).after("fails");
    graph.node("c", || ()).after("b").after_start("a");
    let report = rt
        .run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    let clone = report.clone();
    let first: Vec<_> = report.nodes().to_vec();
    assert_eq!(report.nodes(), first, "read twice");
    assert_eq!(report.find("fails").unwrap().error(), Some("disk full"));
    assert_eq!(clone.find("fails"), report.find("fails"));
    assert_eq!(clone.nodes(), first);
    assert_eq!(clone, report);
    assert_eq!(report.clone(), clone, "a clone of a report already read");
    assert_eq!(format!("{clone:?}"), format!("{report:?}"));
    assert!(matches!(
        clone.find("skipped").unwrap().status(),
        NodeStatus::Skipped { .. }
    ));
    for name in ["a", "b", "c"] {
        assert_eq!(
            clone.find(name).unwrap().status(),
            NodeStatus::Done,
            "{name}"
        );
    }
}

/// Without node times a run reads the clock per step, not per node: statuses, workers and
/// errors are all there, node times are not, and the makespan and busy time come from the
/// steps. On one worker with a manual clock only the nodes move, both are exact either way.
#[test]
fn untimed_run_reports_statuses_makespan_and_busy_without_node_times() {
    for policy in [Policy::Rank, Policy::Fifo] {
        for timed in [true, false] {
            let clock = ManualClock::new();
            let ex = LocalExecutor::new().with_clock(clock.clone());
            let mut graph = Graph::new();
            for (name, after) in [("a", None), ("b", Some("a")), ("c", Some("b"))] {
                let clock = clock.clone();
                let node = graph.node(name, move || clock.advance(Duration::from_millis(2)));
                if let Some(after) = after {
                    node.after(after);
                }
            }
            graph.node("fails", || Err::<(), _>("boom")).after("a");
            graph.node("skipped", || ()).after("fails");
            let graph = graph.build().unwrap().record_node_times(timed);
            let report = ex.block_on(ex.run_graph(graph, policy));
            let case = format!("{policy:?}, timed: {timed}");
            assert_eq!(report.makespan(), Duration::from_millis(6), "{case}");
            assert_eq!(report.busy(), [Duration::from_millis(6)], "{case}");
            for name in ["a", "b", "c"] {
                let node = report.find(name).unwrap();
                assert!(node.status().is_done(), "{case}: {node:?}");
                assert_eq!(node.worker(), Some(0), "{case}: {node:?}");
                assert_eq!(node.start().is_some(), timed, "{case}: {node:?}");
                assert_eq!(node.end().is_some(), timed, "{case}: {node:?}");
            }
            assert_eq!(report.find("fails").unwrap().error(), Some("boom"));
            let skipped = report.find("skipped").unwrap().status();
            assert!(matches!(skipped, NodeStatus::Skipped { .. }), "{case}");
        }
    }
}

/// A searcher hands its worker back once its step has spent the time budget (50 µs), also
/// when it reads the clock only now and then: on nodes of 2 µs, 16 nodes in it reads the clock
/// and then reads it more and more often (after 4, 2, 1, 1 and 1 more nodes) as the budget
/// runs out, so each step runs exactly 25 nodes, its last one ending at 50 µs. With node times
/// the clock is read after every node: 25 nodes as well. Every way a searcher goes from one
/// node to the next goes through the same count: both of the chain's loops (shared and owned
/// bodies), the queue alone (independent nodes), and nodes released in the searcher's inner
/// loop, with no count (a binary tree fanning out) or with counts and a trade against the queue
/// (a 6 x 10 grid, each node after its left and upper neighbours).
#[test]
fn a_searcher_step_stops_at_its_time_budget() {
    const NODES: usize = 60;
    const GRID_COLUMNS: usize = 10;
    for timed in [false, true] {
        for shape in ["fn chain", "chain", "independent", "tree", "grid"] {
            let case = format!("{shape}, timed: {timed}");
            let clock = ManualClock::new();
            let ex = LocalExecutor::new().with_clock(clock.clone());
            let ran = Arc::new(AtomicUsize::new(0));
            let mut graph = Graph::new();
            for v in 0..NODES {
                let (clock, ran) = (clock.clone(), ran.clone());
                let body = move || {
                    clock.advance(Duration::from_micros(2));
                    ran.fetch_add(1, SeqCst);
                };
                let node = match shape {
                    "fn chain" => graph.fn_node(format!("n{v}"), body),
                    _ => graph.node(format!("n{v}"), body),
                };
                let predecessors = match shape {
                    "independent" => [None, None],
                    "tree" => [v.checked_sub(1).map(|p| p / 2), None],
                    "grid" => [
                        (v % GRID_COLUMNS > 0).then(|| v - 1),
                        v.checked_sub(GRID_COLUMNS),
                    ],
                    _ => [v.checked_sub(1), None],
                };
                for p in predecessors.into_iter().flatten() {
                    node.after(format!("n{p}"));
                }
            }
            let graph = graph.build().unwrap().record_node_times(timed);
            let handle = ex.run_graph(graph, Policy::Rank);
            assert_eq!(ex.tick(1), 1, "{case}");
            assert_eq!(ran.load(SeqCst), 25, "{case}: first step");
            assert_eq!(ex.tick(1), 1, "{case}");
            assert_eq!(ran.load(SeqCst), 50, "{case}: second step");
            let report = ex.block_on(handle);
            assert_eq!(ran.load(SeqCst), NODES, "{case}");
            assert!(
                report.nodes().iter().all(|n| n.status().is_done()),
                "{case}"
            );
        }
    }
}

/// When its budget runs out in a chain, a searcher queues the next link for itself and takes
/// it again after its yield: no second searcher is spawned for it. (One was, before: it woke the
/// idle worker to race the first for the link, and carried the chain from core to core at
/// every step.) On a manual clock each step runs 25 nodes of 2 µs (see the budget test above),
/// so a chain of 100 is 4 steps, each ending on the budget; a fifth finds nothing left and ends
/// the searcher, the only task the run spawns, on either kind of body, with node times or
/// without.
#[test]
fn a_chain_keeps_its_one_searcher_across_budget_yields() {
    const NODES: usize = 100;
    for timed in [false, true] {
        for shared in [false, true] {
            let case = format!("timed: {timed}, fn_node: {shared}");
            let clock = ManualClock::new();
            let rt = Runtime::builder()
                .workers(2)
                .clock(clock.clone())
                .build()
                .unwrap();
            let mut graph = Graph::new();
            for v in 0..NODES {
                let clock = clock.clone();
                let body = move || clock.advance(Duration::from_micros(2));
                let node = if shared {
                    graph.fn_node(format!("n{v}"), body)
                } else {
                    graph.node(format!("n{v}"), body)
                };
                if v > 0 {
                    node.after(format!("n{}", v - 1));
                }
            }
            let graph = graph.build().unwrap().record_node_times(timed);
            let report = rt.run_graph(graph, Policy::Rank).unwrap().join();
            assert!(
                report.nodes().iter().all(|n| n.status().is_done()),
                "{case}"
            );
            let handle = rt.handle();
            // The searcher's last step may run after the join: a drain with no time would
            // cancel it first. On the manual clock this one waits until no task is live.
            let shutdown = rt.shutdown(Duration::from_secs(10));
            assert_eq!(shutdown.totals().spawned, 1, "{case}: searchers spawned");
            // Read once every worker has exited.
            let steps: u64 = handle.metrics().workers.iter().map(|w| w.steps).sum();
            assert_eq!(steps, 5, "{case}: searcher steps");
        }
    }
}

/// An untimed run on two workers still runs every node of a wide graph exactly once.
#[test]
fn untimed_run_on_two_workers_runs_every_node_once() {
    const NODES: usize = 4095;
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..NODES).map(|_| AtomicUsize::new(0)).collect());
    let mut graph = Graph::new();
    for v in 0..NODES {
        let runs = runs.clone();
        let node = graph.node(format!("n{v}"), move || {
            runs[v].fetch_add(1, SeqCst);
        });
        if v > 0 {
            node.after(format!("n{}", (v - 1) / 2));
        }
    }
    let rt = Runtime::builder().workers(2).build().unwrap();
    let graph = graph.build().unwrap().record_node_times(false);
    let report = rt.run_graph(graph, Policy::Rank).unwrap().join();
    assert!(runs.iter().all(|r| r.load(SeqCst) == 1));
    assert!(
        report
            .nodes()
            .iter()
            .all(|n| n.status().is_done() && n.worker().is_some() && n.start().is_none())
    );
    assert!(report.makespan() > Duration::ZERO);
}

/// A graph of `fn_node` bodies built once runs again and again through copies, under every
/// policy (those other than `Rank` lay their copy out again, around bodies the other copies
/// still hold), and the graph itself runs last: every run runs every node exactly once,
/// after its predecessors.
#[test]
fn copies_of_a_graph_run_every_node_once_per_run() {
    for workers in [1, 2] {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        for seed in 1..=4 {
            let ticks = Arc::new(Ticks::default());
            let n = 300;
            let (graph, edges) = random_graph_with(seed, n, &ticks, |_| true);
            let graph = graph.build().unwrap();
            for policy in [Policy::Rank, Policy::Fifo, Policy::Planned, Policy::Rank] {
                reset_ticks(&ticks, n);
                let copy = graph.try_clone().unwrap();
                let report = rt.run_graph(copy, policy).unwrap().join();
                check_run(&ticks, &report, &edges, n);
                assert_eq!(report.policy(), policy);
            }
            reset_ticks(&ticks, n);
            let policy = if seed % 2 == 0 {
                Policy::Rank
            } else {
                Policy::Fifo
            };
            let report = rt.run_graph(graph, policy).unwrap().join();
            check_run(&ticks, &report, &edges, n);
        }
    }
}

/// Two copies of one graph run at the same time on one runtime: each node runs twice, once
/// per run, and each report is complete and ordered on its own.
#[test]
fn copies_of_a_graph_run_at_the_same_time() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let n = 2000;
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
    let mut graph = Graph::new();
    let mut rng = Rng(7);
    let mut edges = Vec::new();
    for i in 0..n {
        let runs = runs.clone();
        let node = graph.fn_node(format!("n{i}"), move || {
            runs[i].fetch_add(1, SeqCst);
        });
        if i > 0 {
            let pred = rng.below(i as u64) as usize;
            node.after(format!("n{pred}"));
            edges.push((pred, i));
        }
    }
    let graph = graph.build().unwrap();
    let first = rt
        .run_graph(graph.try_clone().unwrap(), Policy::Rank)
        .unwrap();
    let second = rt
        .run_graph(graph.try_clone().unwrap(), Policy::Fifo)
        .unwrap();
    for report in [first.join(), second.join()] {
        assert!(report.nodes().iter().all(|node| node.status().is_done()));
        for &(pred, succ) in &edges {
            let (pred, succ) = (&report.nodes()[pred], &report.nodes()[succ]);
            assert!(succ.start().unwrap() >= pred.end().unwrap());
        }
    }
    assert!(runs.iter().all(|count| count.load(SeqCst) == 2));
}

/// A copy starts from the graph as built, whatever another copy's run did: a node that fails
/// in the first run (and skips its dependent) runs and succeeds in the second; a copy keeps
/// the graph's choice of node times; and copies run on a `LocalExecutor` too.
#[test]
fn a_copy_starts_afresh_and_keeps_the_node_times_choice() {
    let ex = LocalExecutor::new();
    for timed in [true, false] {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let counter = calls.clone();
        graph.fn_node("flaky", move || {
            if counter.fetch_add(1, SeqCst) == 0 {
                Err("first call fails")
            } else {
                Ok(())
            }
        });
        graph.fn_node("after", || ()).after("flaky");
        graph.fn_node("apart", || ());
        let graph = graph.build().unwrap().record_node_times(timed);
        let first = ex.block_on(ex.run_graph(graph.try_clone().unwrap(), Policy::Rank));
        assert_eq!(
            first.find("flaky").unwrap().error(),
            Some("first call fails")
        );
        assert!(matches!(
            first.find("after").unwrap().status(),
            NodeStatus::Skipped { .. }
        ));
        assert_eq!(first.find("apart").unwrap().status(), NodeStatus::Done);
        let second = ex.block_on(ex.run_graph(graph.try_clone().unwrap(), Policy::Rank));
        assert!(second.nodes().iter().all(|node| node.status().is_done()));
        for report in [&first, &second] {
            let ran = report.nodes().iter().filter(|node| node.worker().is_some());
            assert!(ran.clone().count() >= 2);
            assert!(ran.into_iter().all(|node| node.start().is_some() == timed));
        }
        assert_eq!(calls.load(SeqCst), 2);
    }
}

/// A graph with a body that runs once cannot be copied: the error names the first such node
/// in the order the nodes were added, whatever their rank, and a graph of `node` bodies
/// only (a chain among them) is refused on its first node.
#[test]
fn a_graph_with_a_body_that_runs_once_cannot_be_copied() {
    let mut mixed = Graph::new();
    mixed.fn_node("shared", || ());
    mixed.node("light", || ()).cost_ms(1.0);
    mixed.future_node("heavy", async {}).cost_ms(100.0);
    mixed.node("tail", || ()).after("heavy");
    let mixed = mixed.build().unwrap();
    let err = mixed.try_clone().unwrap_err();
    assert!(err.is_runs_once());
    assert_eq!(err.node(), Some("light"));
    assert_eq!(
        err.to_string(),
        "node `light` runs once (added with `node`, `task_node` or `future_node`): a graph \
         that runs again needs `fn_node` bodies"
    );

    let mut chain = Graph::new();
    chain.node("first", || ());
    chain.node("second", || ()).after("first");
    let err = chain.build().unwrap().try_clone().unwrap_err();
    assert_eq!((err.is_runs_once(), err.node()), (true, Some("first")));

    // Refused, the graph still runs as it is.
    let ex = LocalExecutor::new();
    let report = ex.block_on(ex.run_graph(mixed, Policy::Rank));
    assert!(report.nodes().iter().all(|node| node.status().is_done()));
}
