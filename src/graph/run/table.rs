//! A graph's per-node run state: release counters, the nodes' work, and what a run records of
//! each node. It is made when the graph is built, so a run starts without allocating or
//! touching memory per node, and it is laid out for the release path: the counters that
//! every release touches are dense, apart from the records a node writes once.

use crate::graph::dag::{Dag, NodeId};
use crate::graph::report::{LineSource, NodeReport, NodeStatus};
use crate::sync::Mutex;
use crate::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Relaxed},
};

use super::work::NodeWork;

/// How a node's run ended, in the high half of [`NodeRecord::outcome`].
pub(super) const NOT_RUN: u32 = 0;
pub(super) const DONE: u32 = 1;
pub(super) const FAILED: u32 = 2;
pub(super) const SKIPPED: u32 = 3;

/// The `pending` entry of a node with exactly one predecessor. Such a node is released by that
/// predecessor's one finish (or start) without counting: no read-modify-write on the release
/// path of a chain or a fan-out. The entry is never written, so it cannot be confused with a
/// counter on its way down.
const SOLE: u32 = 1 << 31;

/// What a run writes of one node, each field once: by the thread that releases the node
/// (`ready`), starts it (`start`) and ends it (`end`, `outcome`).
#[derive(Default)]
struct NodeRecord {
    /// Nanoseconds since the run's start. For a node with several predecessors, each raises
    /// `ready` to its own end (or start) before retiring its edge, so the releaser reads the
    /// latest of them: a node is never ready before its last predecessor's event.
    ready: AtomicU64,
    start: AtomicU64,
    end: AtomicU64,
    /// The status in the high half; in the low half, the worker that started the node, or for
    /// a skipped node the failed node it traces back to.
    outcome: AtomicU64,
}

fn outcome(status: u32, detail: u32) -> u64 {
    u64::from(status) << 32 | u64::from(detail)
}

/// Per-node state for one run of a graph.
pub(super) struct NodeTable {
    /// Predecessor events (finishes and starts) each node still waits for, or [`SOLE`].
    pending: Box<[AtomicU32]>,
    records: Box<[NodeRecord]>,
    /// Taken by whoever starts the node (once: a node is released once).
    works: Box<[Mutex<Option<NodeWork>>]>,
}

impl NodeTable {
    pub(super) fn new(dag: &Dag, work: Vec<NodeWork>) -> Self {
        debug_assert_eq!(work.len(), dag.len());
        let pending = dag
            .nodes()
            .map(|node| match dag.pending(node) {
                1 => AtomicU32::new(SOLE),
                count => {
                    assert!(count < SOLE, "a node waits for over 2^31 predecessors");
                    AtomicU32::new(count)
                }
            })
            .collect();
        Self {
            pending,
            records: dag.nodes().map(|_| NodeRecord::default()).collect(),
            works: work.into_iter().map(|w| Mutex::new(Some(w))).collect(),
        }
    }

    /// Marks a node without predecessors ready at `now`.
    pub(super) fn set_ready(&self, node: NodeId, now: u64) {
        self.records[node.index()].ready.store(now, Relaxed);
    }

    /// Retires one predecessor event of `node`, which happened at `now`. Returns the node's
    /// ready time if this released it: exactly one caller does, the one that retires the last
    /// event, and it sees every other predecessor's writes.
    #[inline]
    pub(super) fn retire_edge(&self, node: NodeId, now: u64) -> Option<u64> {
        let pending = &self.pending[node.index()];
        let record = &self.records[node.index()];
        if pending.load(Relaxed) == SOLE {
            record.ready.store(now, Relaxed);
            return Some(now);
        }
        // Raised before the edge is retired, so the `AcqRel` counter carries it to the
        // releaser (the counter's read-modify-writes form one release sequence).
        record.ready.fetch_max(now, Relaxed);
        if pending.fetch_sub(1, AcqRel) != 1 {
            return None;
        }
        Some(record.ready.load(Relaxed))
    }

    /// The time `node` was released at (set by [`retire_edge`](Self::retire_edge) or
    /// [`set_ready`](Self::set_ready)).
    pub(super) fn ready(&self, node: NodeId) -> u64 {
        self.records[node.index()].ready.load(Relaxed)
    }

    /// Starts `node` at `now`: records the time and hands out its work.
    pub(super) fn start(&self, node: NodeId, now: u64) -> NodeWork {
        self.records[node.index()].start.store(now, Relaxed);
        self.works[node.index()]
            .lock()
            .take()
            .expect("a node starts once")
    }

    /// Records that `node`, started on `worker`, ended at `now`, done or failed.
    pub(super) fn end(&self, node: NodeId, now: u64, worker: usize, ok: bool) {
        let record = &self.records[node.index()];
        record.end.store(now, Relaxed);
        let status = if ok { DONE } else { FAILED };
        record
            .outcome
            .store(outcome(status, worker as u32), Relaxed);
    }

    /// Marks `node` skipped because `cause` failed; false if it was already marked. A node
    /// reached here was never released (see `skip_dependents`), so only a skip changes it.
    pub(super) fn skip(&self, node: NodeId, cause: NodeId) -> bool {
        self.records[node.index()]
            .outcome
            .compare_exchange(
                outcome(NOT_RUN, 0),
                outcome(SKIPPED, cause.0),
                Relaxed,
                Relaxed,
            )
            .is_ok()
    }

    /// The node's status and the worker that ran it (or the node that caused its skip).
    fn outcome(&self, node: usize) -> (u32, u32) {
        let outcome = self.records[node].outcome.load(Relaxed);
        ((outcome >> 32) as u32, outcome as u32)
    }
}

/// What a run records of its nodes; shared with the report, which builds its lines from it.
pub(super) struct RunRecord {
    pub(super) dag: Dag,
    pub(super) table: NodeTable,
    pub(super) failures: Mutex<Vec<(NodeId, String)>>,
}

impl LineSource for RunRecord {
    fn lines(&self) -> Vec<NodeReport> {
        let failures = self.failures.lock();
        let mut failed: Vec<&(NodeId, String)> = failures.iter().collect();
        failed.sort_unstable_by_key(|&&(node, _)| node);
        let mut failed = failed.into_iter().peekable();
        let dag = &self.dag;
        dag.nodes()
            .zip(self.table.records.iter())
            .map(|(node, record)| {
                let mut line = NodeReport::not_run(dag.names[node.index()].clone(), dag.lane(node));
                let (status, detail) = self.table.outcome(node.index());
                let status = match status {
                    DONE => NodeStatus::Done,
                    FAILED => {
                        let (_, message) = failed
                            .next_if(|&&(failed, _)| failed == node)
                            .expect("a failed node left its message");
                        line.set_error(message.clone());
                        NodeStatus::Failed
                    }
                    SKIPPED => {
                        line.skipped(NodeId(detail));
                        return line;
                    }
                    _ => return line,
                };
                let times = [&record.ready, &record.start, &record.end].map(|t| t.load(Relaxed));
                line.ran_nanos(status, detail, times);
                line
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::NodeTable;
    use crate::graph::GraphBuilder;
    use crate::graph::dag::Dag;
    use crate::graph::run::work::{Call, NodeWork};

    /// `a` and `b` before `child`, `child` before `last`.
    fn fan_in() -> (Dag, NodeTable) {
        let mut graph = GraphBuilder::new();
        graph.node("a");
        graph.node("b");
        graph.node("child").after("a").after("b");
        graph.node("last").after("child");
        let dag = graph.build().unwrap();
        let work = dag
            .nodes()
            .map(|_| Box::new(Call(|| ())) as NodeWork)
            .collect();
        let table = NodeTable::new(&dag, work);
        (dag, table)
    }

    #[cfg(not(taskyard_loom))]
    #[test]
    fn release_waits_for_every_predecessor_and_takes_the_latest() {
        let (dag, table) = fan_in();
        let [child, last] = ["child", "last"].map(|name| dag.find(name).unwrap());
        // `b` retires its edge first although it ended later: the child is ready at `b`'s end.
        assert_eq!(table.retire_edge(child, 9), None);
        assert_eq!(table.retire_edge(child, 4), Some(9));
        assert_eq!(table.ready(child), 9);
        // A node with one predecessor is released by it, without counting.
        assert_eq!(table.retire_edge(last, 12), Some(12));
        assert_eq!(table.ready(last), 12);
    }

    /// Two parents retire their edges at once: exactly one releases the child, and the ready
    /// time it gets is the later parent's end, whichever retires first.
    #[cfg(taskyard_loom)]
    #[test]
    fn loom_graph_release_counter_takes_latest_event() {
        use crate::sync::{Arc, thread};

        loom::model(|| {
            let (dag, table) = fan_in();
            let child = dag.find("child").unwrap();
            let table = Arc::new(table);
            let other = {
                let table = table.clone();
                thread::spawn(move || table.retire_edge(child, 7))
            };
            let here = table.retire_edge(child, 3);
            let there = other.join().unwrap();
            match (here, there) {
                (Some(ready), None) | (None, Some(ready)) => assert_eq!(ready, 7),
                both => panic!("released {both:?}"),
            }
        });
    }
}
