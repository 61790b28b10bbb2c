//! Graph release on the real runtime: concurrent completions of several parents release a
//! child exactly once, and a start-to-start release racing the parent's completion still
//! releases every node once.

use std::time::Duration;

use crate::graph::{Graph, Policy};
use crate::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::sync::{Arc, Mutex};
use crate::{ManualClock, Runtime};

fn counting(graph: &mut Graph, name: &'static str, log: &Arc<Mutex<Vec<&'static str>>>) {
    let log = log.clone();
    graph.node(name, move || log.lock().push(name));
}

#[test]
fn loom_graph_two_parents_release_child_once() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        // A manual clock: the continuation budget must not make control flow depend on real time.
        let rt = Runtime::builder()
            .workers(2)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        counting(&mut graph, "a", &log);
        counting(&mut graph, "b", &log);
        let log2 = log.clone();
        graph
            .node("child", move || log2.lock().push("child"))
            .after("a")
            .after("b");
        let report = rt
            .run_graph(graph.build().unwrap(), Policy::Rank)
            .unwrap()
            .join();
        let log = log.lock().clone();
        assert_eq!(log.iter().filter(|&&n| n == "child").count(), 1);
        assert_eq!(
            log.last(),
            Some(&"child"),
            "the child runs after both parents: {log:?}"
        );
        assert!(report.nodes().iter().all(|n| n.status().is_done()));
        let _ = rt.shutdown(Duration::ZERO);
    });
}

#[test]
fn loom_graph_start_edge_races_parent_completion() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        // A manual clock: the continuation budget must not make control flow depend on real time.
        let rt = Runtime::builder()
            .workers(2)
            .clock(ManualClock::new())
            .build()
            .unwrap();
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
