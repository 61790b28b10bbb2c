//! Deterministic virtual-time list scheduling on `P` identical workers.
//!
//! The run follows the executor protocol of the [`order`](super::order) module with a virtual
//! clock in whole nanoseconds: no pre-emption, no communication cost, every node takes exactly
//! its cost. The rules, so that every schedule is reproducible:
//!
//! 1. At time 0 every node with nothing to wait for is released.
//! 2. While a worker is free and a node is ready, the free worker with the lowest index takes
//!    the ready node with the greatest [`ReadyKey`](super::ReadyKey), at the current time. Its
//!    start releases the nodes that waited only for that start (start-to-start edges), at the
//!    same instant, and they compete for the next free worker straight away.
//! 3. Otherwise time jumps to the earliest end among running nodes, and *all* nodes ending then
//!    complete, lowest worker index first, before anything starts at that time: each frees its
//!    worker and releases the nodes that waited for it to finish. Then rule 2 again.
//!
//! A zero-cost node ends at the instant it starts, so rule 3 completes it before later starts.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use super::dag::{Dag, NodeId};
use super::order::{ReadyOrder, ReadyQueue};
use super::report::{GraphReport, NodeReport, NodeStatus};

/// Where and when each node ran, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    pub(crate) ready: Vec<u64>,
    pub(crate) start: Vec<u64>,
    pub(crate) worker: Vec<u32>,
}

/// Runs `dag` on `workers` (at least one) virtual workers in `order`; returns the makespan in
/// nanoseconds and fills `trace` if given.
pub(crate) fn run(dag: &Dag, order: &ReadyOrder, workers: usize, trace: Option<&mut Trace>) -> u64 {
    assert!(workers > 0, "a simulation needs at least one worker");
    let n = dag.len();
    let mut record = trace.map(|t| {
        *t = Trace {
            ready: vec![0; n],
            start: vec![0; n],
            worker: vec![0; n],
        };
        t
    });
    let mut ready = Frontier {
        pending: (0..n).map(|v| dag.pending(NodeId(v as u32))).collect(),
        queue: ReadyQueue::new(),
        order,
    };
    for v in 0..n as u32 {
        if ready.pending[v as usize] == 0 {
            ready.queue.push(order.key(NodeId(v)));
        }
    }
    // Workers beyond the number of nodes would never get one.
    let usable = workers.min(n).max(1) as u32;
    let mut free: BinaryHeap<Reverse<u32>> = (0..usable).map(Reverse).collect();
    let mut running: BinaryHeap<Reverse<(u64, u32, u32)>> =
        BinaryHeap::with_capacity(usable as usize);
    let mut now = 0u64;
    let mut done = 0usize;
    loop {
        while !ready.queue.is_empty() {
            let Some(Reverse(worker)) = free.pop() else {
                break;
            };
            let node = ready.queue.pop().expect("the queue is not empty");
            let v = node.index();
            running.push(Reverse((now.saturating_add(dag.costs[v]), worker, node.0)));
            if let Some(t) = record.as_deref_mut() {
                t.start[v] = now;
                t.worker[v] = worker;
            }
            ready.release(dag.start.row(v), now, record.as_deref_mut());
        }
        let Some(&Reverse((end, _, _))) = running.peek() else {
            break;
        };
        now = end;
        while let Some(&Reverse((end, worker, node))) = running.peek() {
            if end != now {
                break;
            }
            running.pop();
            done += 1;
            free.push(Reverse(worker));
            ready.release(dag.finish.row(node as usize), now, record.as_deref_mut());
        }
    }
    debug_assert_eq!(done, n, "every node of a validated graph runs");
    now
}

/// The nodes still waiting for predecessors, and the queue of those released.
struct Frontier<'o> {
    pending: Vec<u32>,
    queue: ReadyQueue,
    order: &'o ReadyOrder,
}

impl Frontier<'_> {
    /// Retires one edge into each of `successors` at `now`; queues those that waited for no
    /// other.
    fn release(&mut self, successors: &[NodeId], now: u64, mut trace: Option<&mut Trace>) {
        for &node in successors {
            let left = &mut self.pending[node.index()];
            *left -= 1;
            if *left == 0 {
                self.queue.push(self.order.key(node));
                if let Some(t) = trace.as_deref_mut() {
                    t.ready[node.index()] = now;
                }
            }
        }
    }
}

/// A full simulated run, as a report.
pub(crate) fn report(dag: &Dag, order: &ReadyOrder, workers: usize) -> GraphReport {
    let mut trace = Trace::default();
    run(dag, order, workers, Some(&mut trace));
    let nanos = Duration::from_nanos;
    let nodes = (0..dag.len())
        .map(|v| {
            let mut line = NodeReport::not_run(&dag.names, v, dag.lanes[v]);
            let start = trace.start[v];
            line.ran(
                NodeStatus::Done,
                trace.worker[v] as usize,
                nanos(trace.ready[v]),
                nanos(start),
                nanos(start.saturating_add(dag.costs[v])),
            );
            line
        })
        .collect();
    GraphReport::new(dag, order.policy(), workers, nodes)
}
