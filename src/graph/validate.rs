//! Validation: from [`NodeSpec`]s (dependencies by name or by id) to a [`Dag`] (indices), in
//! `O(V + E)` (names are resolved through a hash index).
//!
//! Nothing here recurses, so a chain of a million nodes validates on any stack. Cycles are found
//! with Kahn's algorithm: the nodes it cannot order all lie on or behind a cycle, and each of
//! them has a predecessor that is also unordered, so walking predecessors from one of them must
//! come back to a node already seen; the stretch between the two visits is a cycle.

use super::builder::{NodeSpec, START_EDGE};
use super::dag::{Csr, Dag, MAX_NODES, NodeId};
use super::names::{NameIndex, UNKNOWN};
use super::{GraphError, rank};

/// Largest cost in nanoseconds: leaves room to add a few costs before saturating.
const MAX_COST_NS: f64 = (u64::MAX >> 1) as f64;

pub(super) fn validate(mut specs: Vec<NodeSpec>) -> Result<Dag, GraphError> {
    let n = specs.len();
    if n > MAX_NODES {
        return Err(GraphError::too_large("nodes", n, MAX_NODES));
    }

    // 1. Costs, checked in the same pass over the specs (a large graph's specs do not fit in
    // the cache) that moves out the names and reads the lanes.
    let mut estimates = Vec::with_capacity(n);
    let mut given_ns = Vec::with_capacity(n);
    let mut names: Vec<String> = Vec::with_capacity(n);
    let mut lanes = Vec::with_capacity(n);
    for spec in &mut specs {
        let ns = match spec.cost_ms {
            None => None,
            Some(ms) => {
                let ns = (ms * 1e6).round();
                if !(ms.is_finite() && ms >= 0.0 && ns <= MAX_COST_NS) {
                    return Err(GraphError::invalid_cost(&spec.name, ms));
                }
                Some(ns as u64)
            }
        };
        estimates.push(spec.cost_ms);
        given_ns.push(ns);
        // 2. Names, moved out of the specs into one array: resolving an edge reads its
        // target's name, and on most graphs that target was added shortly before the edge's
        // node, so its name sits near the names just read (the specs are five times as far
        // apart).
        names.push(std::mem::take(&mut spec.name));
        lanes.push(spec.lane);
    }
    let by_name = NameIndex::build(n, |i| &names[i as usize])
        .map_err(|dup| GraphError::duplicate(&names[dup as usize]))?;
    let name_of = |i: u32| -> &str { &names[i as usize] };

    // 3. Edges, resolved into predecessor lists (CSR by dependent).
    let mut finish_pred = Csr {
        offsets: Vec::with_capacity(n + 1),
        targets: Vec::new(),
    };
    let mut start_pred = Csr {
        offsets: Vec::with_capacity(n + 1),
        targets: Vec::new(),
    };
    finish_pred.offsets.push(0);
    start_pred.offsets.push(0);
    // Every edge's target first (in batches, see `NameIndex::get_all`), in the order the loop
    // below reads them.
    let mut targets = by_name
        .get_all(
            specs
                .iter()
                .flat_map(|spec| spec.after.iter().chain(&spec.after_start))
                .map(String::as_str),
            name_of,
        )
        .into_iter();
    for (i, spec) in specs.iter().enumerate() {
        for (deps, csr, start) in [
            (&spec.after, &mut finish_pred, false),
            (&spec.after_start, &mut start_pred, true),
        ] {
            for dep in deps {
                let j = match targets.next().expect("one target per name") {
                    UNKNOWN => return Err(GraphError::unknown_node(&names[i], dep, start)),
                    j => j,
                };
                if j as usize == i {
                    return Err(GraphError::self_edge(&names[i], start));
                }
                csr.targets.push(NodeId(j));
            }
            let kind = if start { START_EDGE } else { 0 };
            for &dep in spec.by_id.iter().filter(|&&dep| dep & START_EDGE == kind) {
                let j = dep & !START_EDGE;
                if j as usize >= n {
                    let missing = NodeId(j).to_string();
                    return Err(GraphError::unknown_node(&names[i], &missing, start));
                }
                if j as usize == i {
                    return Err(GraphError::self_edge(&names[i], start));
                }
                csr.targets.push(NodeId(j));
            }
            let len = u32::try_from(csr.targets.len()).map_err(|_| {
                GraphError::too_large("edges", csr.targets.len(), u32::MAX as usize)
            })?;
            csr.offsets.push(len);
        }
    }
    let finish = transpose(&finish_pred, n);
    let start = transpose(&start_pred, n);
    let counts = |csr: &Csr| -> Vec<u32> { csr.offsets.windows(2).map(|w| w[1] - w[0]).collect() };
    let finish_preds = counts(&finish_pred);
    let start_preds = counts(&start_pred);

    // 4. Cycles (Kahn over both edge kinds), unless submission order is already topological:
    // most graphs are added dependencies first, and in that order the rank and critical path
    // passes walk their arrays from end to start instead of jumping about in Kahn's order
    // (diagonal by diagonal on a wavefront).
    let forward = |csr: &Csr| (0..n).all(|v| csr.row(v).iter().all(|p| p.index() < v));
    let topo = if forward(&finish_pred) && forward(&start_pred) {
        Ok((0..n as u32).map(NodeId).collect())
    } else {
        topological_order(&finish, &start, &finish_preds, &start_preds)
    };
    let topo = match topo {
        Ok(topo) => topo,
        Err(left) => {
            let cycle = find_cycle(&finish_pred, &start_pred, &left);
            return Err(GraphError::cycle_of(
                cycle
                    .into_iter()
                    .map(|v| names[v as usize].clone())
                    .collect(),
            ));
        }
    };

    // Effective costs: unknown costs are the mean of the known ones; no costs at all, 1 ms each.
    let known: Vec<u64> = given_ns.iter().flatten().copied().collect();
    let has_costs = !known.is_empty();
    let fill = if has_costs {
        let sum: u128 = known.iter().map(|&c| u128::from(c)).sum();
        (sum / known.len() as u128) as u64
    } else {
        1_000_000
    };
    let costs: Vec<u64> = given_ns.iter().map(|c| c.unwrap_or(fill)).collect();

    drop(specs);
    let mut dag = Dag {
        names: names.into(),
        by_name,
        lanes,
        costs,
        estimates,
        has_costs,
        finish_preds,
        start_preds,
        finish,
        start,
        topo,
        ranks: Vec::new(),
    };
    dag.ranks = if has_costs {
        rank::path_lengths(&dag, &dag.costs)
    } else {
        rank::descendant_counts(&dag)
    };
    Ok(dag)
}

/// Successor lists from predecessor lists (a counting sort, so each row keeps dependents in
/// submission order).
fn transpose(preds: &Csr, n: usize) -> Csr {
    let mut offsets = vec![0u32; n + 1];
    for &p in &preds.targets {
        offsets[p.index() + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut targets = vec![NodeId(0); preds.targets.len()];
    for v in 0..n {
        for &p in preds.row(v) {
            let slot = &mut fill[p.index()];
            targets[*slot as usize] = NodeId(v as u32);
            *slot += 1;
        }
    }
    Csr { offsets, targets }
}

/// Kahn's algorithm. On a cycle, returns the remaining in-degrees (non-zero exactly for the nodes
/// that could not be ordered).
fn topological_order(
    finish: &Csr,
    start: &Csr,
    finish_preds: &[u32],
    start_preds: &[u32],
) -> Result<Vec<NodeId>, Vec<u32>> {
    let n = finish_preds.len();
    let mut left: Vec<u32> = finish_preds
        .iter()
        .zip(start_preds)
        .map(|(a, b)| a + b)
        .collect();
    let mut topo: Vec<NodeId> = (0..n as u32)
        .filter(|&v| left[v as usize] == 0)
        .map(NodeId)
        .collect();
    topo.reserve(n - topo.len());
    let mut head = 0;
    while head < topo.len() {
        let v = topo[head].index();
        head += 1;
        for &s in finish.row(v).iter().chain(start.row(v)) {
            let l = &mut left[s.index()];
            *l -= 1;
            if *l == 0 {
                topo.push(s);
            }
        }
    }
    if topo.len() == n { Ok(topo) } else { Err(left) }
}

/// A cycle among the nodes with `left[v] > 0`, in execution order, starting at its
/// earliest-submitted node.
fn find_cycle(finish_pred: &Csr, start_pred: &Csr, left: &[u32]) -> Vec<u32> {
    let first = left
        .iter()
        .position(|&l| l > 0)
        .expect("Kahn left some node unordered");
    // Walk predecessors; `seen[v]` is v's position on the walk plus one.
    let mut seen = vec![0u32; left.len()];
    let mut walk: Vec<u32> = Vec::new();
    let mut v = first;
    while seen[v] == 0 {
        walk.push(v as u32);
        seen[v] = walk.len() as u32;
        v = finish_pred
            .row(v)
            .iter()
            .chain(start_pred.row(v))
            .map(|p| p.index())
            .find(|&p| left[p] > 0)
            .expect("an unordered node has an unordered predecessor");
    }
    let mut cycle = walk.split_off(seen[v] as usize - 1);
    // The walk went against the edges.
    cycle.reverse();
    let min_at = cycle
        .iter()
        .enumerate()
        .min_by_key(|&(_, &v)| v)
        .map_or(0, |(i, _)| i);
    cycle.rotate_left(min_at);
    cycle
}
