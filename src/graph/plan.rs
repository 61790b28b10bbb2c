//! [`Policy::Planned`]: try several candidate orders in virtual time and
//! keep the one with the shortest makespan.
//!
//! List scheduling by rank is good but not optimal: when ranks tie or nearly tie, the choice
//! between two ready nodes can decide whether a worker idles later. The planner simulates a
//! handful of orders that differ exactly there — rank with other tie-breakers, then rank plus
//! small deterministic perturbations of growing size — on the worker count of the run, and
//! keeps the first order with the shortest makespan. Rank with the default tie-breaker is always
//! the first candidate, so a plan is never worse in simulation than [`Policy::Rank`].
//!
//! The effort is capped by the graph's size: about [`BUDGET`] node-and-edge visits in total,
//! at least one simulation, at most [`MAX_CANDIDATES`].

use super::dag::Dag;
use super::order::{self, Policy, ReadyOrder, Tiebreak};
use super::simulate;

/// Total simulation effort of one plan, in node and edge visits.
const BUDGET: u64 = 4_000_000;
/// Most candidate orders tried, whatever the size.
const MAX_CANDIDATES: u64 = 512;

/// Positions of the best order found for `workers` workers.
pub(crate) fn plan(dag: &Dag, workers: usize) -> Vec<u32> {
    let size = (dag.len() + dag.edge_count()).max(1) as u64;
    let limit = (BUDGET / size).clamp(1, MAX_CANDIDATES);
    let mut search = Search {
        dag,
        workers,
        limit,
        tried: 0,
        best: None,
    };

    for tiebreak in Tiebreak::ALL {
        search.try_sequence(|| order::rank_sequence(dag, tiebreak));
    }

    // Perturbed ranks: noise up to a growing fraction of the mean cost.
    let mean = dag.costs.iter().map(|&c| u128::from(c)).sum::<u128>() / dag.len().max(1) as u128;
    let mean = u64::try_from(mean).unwrap_or(u64::MAX).max(1);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut round = 0u64;
    while search.tried < search.limit {
        let scale = mean / 8 * (1 + round % 8);
        let tiebreak = if round.is_multiple_of(2) {
            Tiebreak::Work
        } else {
            Tiebreak::Index
        };
        let primary: Vec<u64> = dag
            .ranks
            .iter()
            .map(|&r| r.saturating_add(rng.next() % scale.max(1)))
            .collect();
        search.try_sequence(|| order::keyed_sequence(dag, &primary, tiebreak));
        round += 1;
    }
    search.best.map(|(_, pos)| pos).unwrap_or_default()
}

struct Search<'a> {
    dag: &'a Dag,
    workers: usize,
    limit: u64,
    tried: u64,
    best: Option<(u64, Vec<u32>)>,
}

impl Search<'_> {
    fn try_sequence(&mut self, sequence: impl FnOnce() -> Vec<u32>) {
        if self.tried >= self.limit {
            return;
        }
        self.tried += 1;
        let order =
            ReadyOrder::from_positions(self.dag, Policy::Planned, order::positions(&sequence()));
        let makespan = simulate::run(self.dag, &order, self.workers, None);
        if self.best.as_ref().is_none_or(|(best, _)| makespan < *best) {
            self.best = Some((makespan, order.positions().to_vec()));
        }
    }
}

/// A tiny deterministic generator (Marsaglia's xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
