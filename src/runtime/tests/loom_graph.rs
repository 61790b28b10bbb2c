//! Graph release on the real runtime: concurrent completions of several parents release a
//! child exactly once, a start-to-start release racing the parent's completion still
//! releases every node once, and a searcher that ends while another pushes a released node
//! does not leave that node without a searcher, and a thief that takes a batch of nodes along
//! loses and repeats none, and a searcher whose budget ran out comes back for the node it
//! queued for itself without losing or repeating it, and a chain's bodies, handed from
//! searcher to searcher, each run once and in order.

use std::time::Duration;

use crate::graph::{Graph, GraphReport, NodeSpec, Policy};
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::sync::{Arc, Mutex, thread};
use crate::{ManualClock, Runtime};

fn counting<'g>(
    graph: &'g mut Graph,
    name: &'static str,
    log: &Arc<Mutex<Vec<&'static str>>>,
) -> &'g mut NodeSpec {
    let log = log.clone();
    graph.node(name, move || log.lock().push(name))
}

/// [`counting`], for a node that first moves `clock` past a searcher step's whole budget: the
/// step ends with the node.
fn spending_the_budget<'g>(
    graph: &'g mut Graph,
    name: &'static str,
    clock: &ManualClock,
    log: &Arc<Mutex<Vec<&'static str>>>,
) -> &'g mut NodeSpec {
    let (clock, log) = (clock.clone(), log.clone());
    graph.node(name, move || {
        clock.advance(Duration::from_millis(1));
        log.lock().push(name);
    })
}

/// Checks `body` with a preemption bound of two.
fn model(body: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(body);
}

/// A two-worker runtime on a manual clock: the continuation budget must not make control flow
/// depend on real time.
fn two_workers() -> Runtime {
    two_workers_on(ManualClock::new())
}

/// [`two_workers`] on `clock`, for a model whose nodes move it.
fn two_workers_on(clock: ManualClock) -> Runtime {
    Runtime::builder().workers(2).clock(clock).build().unwrap()
}

/// Runs `graph` to its end on `rt`; every one of `names` logged its run exactly once and every
/// node is done. Returns the run's report.
fn run_each_once(
    rt: Runtime,
    graph: Graph,
    log: &Arc<Mutex<Vec<&'static str>>>,
    names: &[&'static str],
) -> GraphReport {
    let report = rt
        .run_graph(graph.build().unwrap(), Policy::Rank)
        .unwrap()
        .join();
    let log = log.lock().clone();
    for name in names {
        let runs = log.iter().filter(|&n| n == name).count();
        assert_eq!(runs, 1, "{name} ran {runs} times: {log:?}");
    }
    assert!(report.nodes().iter().all(|n| n.status().is_done()));
    let _ = rt.shutdown(Duration::ZERO);
    report
}

#[test]
fn loom_graph_two_parents_release_child_once() {
    model(|| {
        let rt = two_workers();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        counting(&mut graph, "a", &log);
        counting(&mut graph, "b", &log);
        counting(&mut graph, "child", &log).after("a").after("b");
        run_each_once(rt, graph, &log, &["a", "b", "child"]);
        let log = log.lock().clone();
        assert_eq!(
            log.last(),
            Some(&"child"),
            "the child runs after both parents: {log:?}"
        );
    });
}

#[test]
fn loom_graph_start_edge_races_parent_completion() {
    model(|| {
        let rt = two_workers();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        for (name, after, after_start) in [
            ("parent", None, None),
            ("watcher", None, Some("parent")),
            ("next", Some("parent"), None),
        ] {
            let runs = runs.clone();
            let node = graph.node(name, move || {
                runs.fetch_add(1, SeqCst);
            });
            if let Some(a) = after {
                node.after(a);
            }
            if let Some(s) = after_start {
                node.after_start(s);
            }
        }
        let report = rt
            .run_graph(graph.build().unwrap(), Policy::Rank)
            .unwrap()
            .join();
        assert_eq!(runs.load(SeqCst), 3);
        assert!(report.nodes().iter().all(|n| n.status().is_done()));
        let _ = rt.shutdown(Duration::ZERO);
    });
}

/// One searcher ends (its root `r2` released nothing) while the other, having finished `r1`,
/// pushes one of the two children it released (it runs the better-ranked one, `x`, next
/// without queueing it). The searcher that ends must either see the pushed node or leave the
/// lane's count low enough for the pusher to spawn a searcher for it (the two `SeqCst` fences
/// in `add_searchers` and `leave_searching`).
///
/// `x` spins until `y` has run, so the model needs `y` to run *while* `x` runs: the pusher
/// cannot pick up its own queued node later, and a node lost by both sides leaves `x` spinning
/// with every other worker idle, which loom reports. Without the spin, the pusher would take
/// `y` itself after `x` and a lost node would go unnoticed.
#[test]
fn loom_graph_searcher_exit_races_push() {
    model(|| {
        let rt = two_workers();
        let log = Arc::new(Mutex::new(Vec::new()));
        let y_ran = Arc::new(AtomicBool::new(false));
        let mut graph = Graph::new();
        counting(&mut graph, "r1", &log).cost_ms(3.0);
        counting(&mut graph, "r2", &log).cost_ms(1.0);
        let (log_x, y_ran_x) = (log.clone(), y_ran.clone());
        graph
            .node("x", move || {
                while !y_ran_x.load(SeqCst) {
                    thread::yield_now();
                }
                log_x.lock().push("x");
            })
            .cost_ms(2.0)
            .after("r1");
        let log_y = log.clone();
        graph
            .node("y", move || {
                log_y.lock().push("y");
                y_ran.store(true, SeqCst);
            })
            .cost_ms(1.0)
            .after("r1");
        run_each_once(rt, graph, &log, &["r1", "r2", "x", "y"]);
    });
}

/// A thief takes a batch along: the root releases four children; its searcher runs the best
/// and queues three, a searcher on the other worker takes the next best and one more along
/// into its own queue. Every node still runs exactly once and the run ends.
#[test]
fn loom_graph_thief_takes_a_batch() {
    model(|| {
        let rt = two_workers();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        counting(&mut graph, "root", &log).cost_ms(1.0);
        for (name, cost) in [("a", 4.0), ("b", 3.0), ("c", 2.0), ("d", 1.0)] {
            counting(&mut graph, name, &log).cost_ms(cost).after("root");
        }
        run_each_once(rt, graph, &log, &["root", "a", "b", "c", "d"]);
    });
}

/// A searcher whose budget runs out at the root queues the successor it kept for itself
/// (`queue_for_return`), while the other successor gets a searcher of its own that may take
/// either from its queue: each node still runs exactly once, and the run ends.
#[test]
fn loom_graph_budget_yield_requeues_its_next_node_once() {
    model(|| {
        let clock = ManualClock::new();
        let rt = two_workers_on(clock.clone());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        spending_the_budget(&mut graph, "root", &clock, &log);
        counting(&mut graph, "a", &log).after("root");
        counting(&mut graph, "b", &log).after("root");
        run_each_once(rt, graph, &log, &["root", "a", "b"]);
    });
}

/// A chain whose link ends a step: `head` moves the clock past the budget, so its searcher
/// leaves the chain at `head`'s end and puts the chain's other body back before it queues
/// `mid`. The searcher of `other`, an independent node, may take `mid` from the other worker's
/// queue, and its body with it, or the other worker may steal `head`'s searcher: either way,
/// in some of the model's executions `mid` runs on another worker than `head`, so its body
/// crosses threads (the count checks that some do). Each body runs once, `mid` after `head`.
#[test]
fn loom_graph_a_chain_handed_between_searchers_runs_each_body_once() {
    use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
    // Outside the model: how many of its executions ran `mid` on another worker than `head`.
    static HANDED_OVER: StdAtomicUsize = StdAtomicUsize::new(0);
    model(|| {
        let clock = ManualClock::new();
        let rt = two_workers_on(clock.clone());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        spending_the_budget(&mut graph, "head", &clock, &log);
        counting(&mut graph, "mid", &log).after("head");
        counting(&mut graph, "other", &log);
        let report = run_each_once(rt, graph, &log, &["head", "mid", "other"]);
        let chain: Vec<_> = log
            .lock()
            .iter()
            .copied()
            .filter(|&n| n != "other")
            .collect();
        assert_eq!(chain, ["head", "mid"]);
        let worker = |name| report.find(name).unwrap().worker();
        if worker("head") != worker("mid") {
            HANDED_OVER.fetch_add(1, Relaxed);
        }
    });
    assert!(HANDED_OVER.load(Relaxed) > 0);
}
