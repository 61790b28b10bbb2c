//! Ranks: cost-weighted longest paths to the end of the graph, descendant counts for graphs
//! without costs, and the critical path.
//!
//! All passes run over the topological order, backwards, in `O(V + E)`, except the exact
//! descendant count, which propagates 64-node bit blocks (`O(V/64 · (V + E))`) and is used only
//! while that stays under a fixed budget.

use super::dag::{Dag, NodeId};

/// Work budget (edge visits) of the exact descendant count.
const EXACT_DESCENDANTS_BUDGET: u64 = 1 << 26;

/// For every node, the longest path from its start to the end of the graph under `costs`
/// (nanoseconds): `max(cost(v) + max over finish successors, max over start successors)`.
pub(crate) fn path_lengths(dag: &Dag, costs: &[u64]) -> Vec<u64> {
    let mut len = vec![0u64; dag.len()];
    for &v in dag.topo.iter().rev() {
        let v = v.index();
        let after_finish = dag
            .finish
            .row(v)
            .iter()
            .map(|s| len[s.index()])
            .max()
            .unwrap_or(0);
        let after_start = dag
            .start
            .row(v)
            .iter()
            .map(|s| len[s.index()])
            .max()
            .unwrap_or(0);
        len[v] = costs[v].saturating_add(after_finish).max(after_start);
    }
    len
}

/// For every node, one plus the number of nodes that wait for it directly or indirectly.
pub(crate) fn descendant_counts(dag: &Dag) -> Vec<u64> {
    let n = dag.len() as u64;
    let blocks = n.div_ceil(64);
    if blocks.saturating_mul(n + dag.edge_count() as u64) <= EXACT_DESCENDANTS_BUDGET {
        exact_descendants(dag)
    } else {
        estimated_descendants(dag)
    }
}

fn successors(dag: &Dag, v: usize) -> impl Iterator<Item = &NodeId> {
    dag.finish.row(v).iter().chain(dag.start.row(v))
}

/// Reachability in blocks of 64 target nodes: `mask[v]` has bit `i` when node `64·b + i` is `v`
/// or one of its descendants.
pub(crate) fn exact_descendants(dag: &Dag) -> Vec<u64> {
    let n = dag.len();
    let mut count = vec![0u64; n];
    let mut mask = vec![0u64; n];
    for block in 0..n.div_ceil(64) {
        let base = block * 64;
        for &v in dag.topo.iter().rev() {
            let v = v.index();
            let mut m = if (base..base + 64).contains(&v) {
                1u64 << (v - base)
            } else {
                0
            };
            for s in successors(dag, v) {
                m |= mask[s.index()];
            }
            mask[v] = m;
            count[v] += u64::from(m.count_ones());
        }
    }
    count
}

/// `1 + max(largest successor estimate, sum of successor estimates shared among their
/// predecessors)`: exact on forests, never below a successor's estimate, linear time.
pub(crate) fn estimated_descendants(dag: &Dag) -> Vec<u64> {
    let mut est = vec![0u64; dag.len()];
    for &v in dag.topo.iter().rev() {
        let v = v.index();
        let mut largest = 0u64;
        let mut shared = 0u64;
        for s in successors(dag, v) {
            let e = est[s.index()];
            largest = largest.max(e);
            shared = shared.saturating_add(e / u64::from(dag.pending(*s).max(1)));
        }
        est[v] = largest.max(shared).saturating_add(1);
    }
    est
}

/// The longest path of the graph under the lengths computed by [`path_lengths`].
pub(crate) fn critical_path_len(len: &[u64]) -> u64 {
    len.iter().copied().max().unwrap_or(0)
}

/// One longest path, first node first, under `len = path_lengths(dag, costs)`.
pub(crate) fn critical_path_nodes(dag: &Dag, costs: &[u64], len: &[u64]) -> Vec<NodeId> {
    let Some(best) = len.iter().copied().max() else {
        return Vec::new();
    };
    let mut v = len.iter().position(|&l| l == best).expect("max exists");
    let mut path = vec![NodeId(v as u32)];
    loop {
        let next = dag
            .finish
            .row(v)
            .iter()
            .find(|s| costs[v].saturating_add(len[s.index()]) == len[v])
            .or_else(|| dag.start.row(v).iter().find(|s| len[s.index()] == len[v]));
        match next {
            Some(&s) => {
                path.push(s);
                v = s.index();
            }
            None => return path,
        }
    }
}
