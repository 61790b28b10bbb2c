//! The ready order: which released node starts first. One piece of code for the simulator and
//! for real executors.
//!
//! A [`ReadyOrder`] gives every node a [`ReadyKey`]: its lane, then its *position* in one total
//! order of the graph fixed before the run by the [`Policy`]. A [`ReadyQueue`] holds the keys of
//! released nodes and pops the greatest: highest lane first, then lowest position. The position
//! folds every tie-breaker into one number, so comparing two keys is two integer comparisons,
//! the order is total and deterministic, and an executor that cannot share a heap (several
//! workers, or several processes sharing one queue table) can order by `(lane, position)`
//! anywhere.
//!
//! # How an executor uses it
//!
//! 1. Build the order once: `dag.order(policy, workers)`.
//! 2. Keep one counter per node, initialised to [`Dag::pending`]; push
//!    `order.key(node)` for every node whose counter is zero.
//! 3. A free worker pops a node (or [`pop_lane`](ReadyQueue::pop_lane) after the lane-share
//!    policy picked a lane), and when the node *starts* decrements the counters of
//!    [`Dag::successors_after_start`], when it *finishes* those of
//!    [`Dag::successors_after_finish`]; a counter reaching zero pushes that node's key.
//!
//! The [simulator](Dag::simulate) does exactly this, in virtual time.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;

use super::dag::{Dag, NodeId};
use super::{GraphError, plan};
use crate::lane::{Lane, LaneMask};

/// How ready nodes of one lane are ordered. Higher lanes always go first, whatever the policy.
///
/// # Examples
///
/// ```
/// use taskyard::graph::{GraphBuilder, Policy};
///
/// let mut g = GraphBuilder::new();
/// g.node("quick").cost_ms(1.0);
/// g.node("head").cost_ms(1.0);
/// g.node("tail").cost_ms(5.0).after("head");
/// let dag = g.build()?;
/// // Rank starts `head` first (it unblocks 5 ms of work); FIFO starts `quick` first.
/// assert_eq!(dag.simulate(1, Policy::Rank)?.makespan().as_millis(), 7);
/// let fifo = dag.order(Policy::Fifo, 1)?;
/// let rank = dag.order(Policy::Rank, 1)?;
/// assert!(rank.key(dag.find("head").unwrap()) > rank.key(dag.find("quick").unwrap()));
/// assert!(fifo.key(dag.find("quick").unwrap()) > fifo.key(dag.find("head").unwrap()));
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Policy {
    /// Higher [rank](Dag::rank) first (critical path first); among equal ranks, the node whose
    /// direct successors carry more work, then the one with more successors, then submission
    /// order.
    #[default]
    Rank,
    /// Submission order: the node added to the builder first starts first.
    Fifo,
    /// The best of several candidate orders (rank with different tie-breakers and small
    /// deterministic perturbations), each tried in a virtual-time run on the given number of
    /// workers before the real run. Never worse in simulation than [`Policy::Rank`]; the
    /// planning effort is capped by the graph's size (a few full simulations for very large
    /// graphs).
    Planned,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Rank => "rank",
            Policy::Fifo => "fifo",
            Policy::Planned => "planned",
        })
    }
}

/// The priority of one ready node: lane, then position in the order, then the node itself.
///
/// Keys compare so that the node to start first is the *greatest*: a higher lane wins, then a
/// lower position. Positions are unique within a [`ReadyOrder`], so no two nodes tie.
///
/// # Examples
///
/// ```
/// use taskyard::Lane;
/// use taskyard::graph::{GraphBuilder, Policy};
///
/// let mut g = GraphBuilder::new();
/// g.node("long").cost_ms(9.0);
/// g.node("urgent").cost_ms(1.0).lane(Lane::High);
/// let dag = g.build().unwrap();
/// let order = dag.order(Policy::Rank, 2).unwrap();
/// let urgent = order.key(dag.find("urgent").unwrap());
/// assert!(urgent > order.key(dag.find("long").unwrap()));
/// assert_eq!(urgent.lane(), Lane::High);
/// assert_eq!(dag.name(urgent.node()), "urgent");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReadyKey {
    lane: Lane,
    position: u32,
    node: NodeId,
}

impl ReadyKey {
    /// The node this key belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let a = dag.find("a").unwrap();
    /// assert_eq!(dag.order(Default::default(), 1).unwrap().key(a).node(), a);
    /// ```
    pub fn node(self) -> NodeId {
        self.node
    }

    /// The node's lane.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let key = dag.order(Default::default(), 1).unwrap().key(dag.find("a").unwrap());
    /// assert_eq!(key.lane(), taskyard::Lane::Normal);
    /// ```
    pub fn lane(self) -> Lane {
        self.lane
    }

    /// The node's position in the order, `0` for the node that goes first (lanes aside).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = taskyard::graph::GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let key = dag.order(Default::default(), 1).unwrap().key(dag.find("a").unwrap());
    /// assert_eq!(key.position(), 0);
    /// ```
    pub fn position(self) -> u32 {
        self.position
    }
}

impl Ord for ReadyKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.lane
            .cmp(&other.lane)
            .then(other.position.cmp(&self.position))
            .then(other.node.cmp(&self.node))
    }
}

impl PartialOrd for ReadyKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order of a graph's nodes under a [`Policy`], fixed before the run: every node's
/// [`ReadyKey`].
///
/// It owns its data (a lane and a position per node), so an executor can share it between
/// threads behind an `Arc`.
///
/// # Examples
///
/// ```
/// use taskyard::graph::{GraphBuilder, Policy};
///
/// let mut g = GraphBuilder::new();
/// g.node("a").cost_ms(1.0);
/// g.node("b").cost_ms(2.0);
/// let dag = g.build()?;
/// let order = dag.order(Policy::Rank, 2)?;
/// let first: Vec<&str> = order.sequence().iter().map(|&n| dag.name(n)).collect();
/// assert_eq!(first, ["b", "a"]);
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReadyOrder {
    policy: Policy,
    lanes: Vec<Lane>,
    position: Vec<u32>,
    /// The inverse of `position`: the node at each position.
    by_position: Vec<NodeId>,
}

impl ReadyOrder {
    /// The order of `dag`'s nodes under `policy`, for a run on `workers` workers (only
    /// [`Policy::Planned`] looks at the worker count).
    ///
    /// # Errors
    ///
    /// Fails when `workers` is zero ([`GraphError::is_zero_workers`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy, ReadyOrder};
    /// let dag = GraphBuilder::new().build().unwrap();
    /// assert!(ReadyOrder::new(&dag, Policy::Planned, 4).unwrap().is_empty());
    /// assert!(ReadyOrder::new(&dag, Policy::Rank, 0).is_err());
    /// ```
    pub fn new(dag: &Dag, policy: Policy, workers: usize) -> Result<Self, GraphError> {
        if workers == 0 {
            return Err(GraphError::zero_workers());
        }
        let position = match policy {
            Policy::Rank => positions(&rank_sequence(dag, Tiebreak::Work)),
            Policy::Fifo => (0..dag.len() as u32).collect(),
            Policy::Planned => plan::plan(dag, workers),
        };
        Ok(Self::from_positions(dag, policy, position))
    }

    /// The key of `node`, to push into a [`ReadyQueue`] when the node is released.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not a node of the graph the order was made for.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy, ReadyQueue};
    /// let mut g = GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let order = dag.order(Policy::Fifo, 1).unwrap();
    /// let mut queue = ReadyQueue::new();
    /// queue.push(order.key(dag.find("a").unwrap()));
    /// assert_eq!(queue.pop(), dag.find("a"));
    /// ```
    #[track_caller]
    pub fn key(&self, node: NodeId) -> ReadyKey {
        ReadyKey {
            lane: self.lanes[node.index()],
            position: self.position[node.index()],
            node,
        }
    }

    /// The policy the order was made with.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let dag = GraphBuilder::new().build().unwrap();
    /// assert_eq!(dag.order(Policy::Fifo, 1).unwrap().policy(), Policy::Fifo);
    /// ```
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Number of nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let dag = GraphBuilder::new().build().unwrap();
    /// assert_eq!(dag.order(Policy::Fifo, 1).unwrap().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.position.len()
    }

    /// Whether the order has no node.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let dag = GraphBuilder::new().build().unwrap();
    /// assert!(dag.order(Policy::Fifo, 1).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.position.is_empty()
    }

    /// Every node by position, first first (lanes not taken into account).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy};
    /// let mut g = GraphBuilder::new();
    /// g.node("a");
    /// g.node("b");
    /// let dag = g.build().unwrap();
    /// let order = dag.order(Policy::Fifo, 1).unwrap();
    /// assert_eq!(order.sequence(), [dag.find("a").unwrap(), dag.find("b").unwrap()]);
    /// ```
    pub fn sequence(&self) -> Vec<NodeId> {
        self.by_position.clone()
    }

    /// The node at `position`.
    pub(crate) fn node_at(&self, position: u32) -> NodeId {
        self.by_position[position as usize]
    }

    pub(crate) fn from_positions(dag: &Dag, policy: Policy, position: Vec<u32>) -> Self {
        let mut by_position = vec![NodeId(0); position.len()];
        for (v, &p) in position.iter().enumerate() {
            by_position[p as usize] = NodeId(v as u32);
        }
        Self {
            policy,
            lanes: dag.lanes.clone(),
            position,
            by_position,
        }
    }

    pub(crate) fn positions(&self) -> &[u32] {
        &self.position
    }
}

/// Secondary keys among nodes of equal rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tiebreak {
    /// Submission order only.
    Index,
    /// Cost of the direct successors, then their number, then submission order.
    Work,
    /// Own cost, larger first, then submission order.
    LongestFirst,
    /// Own cost, smaller first, then submission order.
    ShortestFirst,
    /// Number of direct successors, then submission order.
    Fanout,
    /// Later submission first.
    ReverseIndex,
}

impl Tiebreak {
    /// Every tie-breaker, in the order the planner tries them (the default first).
    pub(crate) const ALL: [Self; 6] = [
        Self::Work,
        Self::Index,
        Self::LongestFirst,
        Self::ShortestFirst,
        Self::Fanout,
        Self::ReverseIndex,
    ];
}

/// Nodes sorted by rank (higher first), then `tiebreak`.
pub(crate) fn rank_sequence(dag: &Dag, tiebreak: Tiebreak) -> Vec<u32> {
    keyed_sequence(dag, &dag.ranks, tiebreak)
}

/// Nodes sorted by `primary` (higher first), then `tiebreak`.
pub(crate) fn keyed_sequence(dag: &Dag, primary: &[u64], tiebreak: Tiebreak) -> Vec<u32> {
    let n = dag.len();
    let secondary = |v: usize| -> (u64, u64) {
        match tiebreak {
            Tiebreak::Index | Tiebreak::ReverseIndex => (0, 0),
            Tiebreak::Work => {
                let succ = dag.finish.row(v).iter().chain(dag.start.row(v));
                let work = succ
                    .clone()
                    .fold(0u64, |a, s| a.saturating_add(dag.costs[s.index()]));
                (work, succ.count() as u64)
            }
            Tiebreak::LongestFirst => (dag.costs[v], 0),
            Tiebreak::ShortestFirst => (u64::MAX - dag.costs[v], 0),
            Tiebreak::Fanout => ((dag.finish.row(v).len() + dag.start.row(v).len()) as u64, 0),
        }
    };
    // Each node's whole key, complemented so that an ascending sort puts the larger first, sits
    // beside its index: the sort compares keys in place. Sorting indices by keys looked up in
    // each comparison read the keys at random; a million-node wavefront builds 3% to 5% faster
    // this way.
    let reverse = tiebreak == Tiebreak::ReverseIndex;
    let mut keyed: Vec<(u64, u64, u64, u32)> = (0..n)
        .map(|v| {
            let (work, count) = secondary(v);
            let index = if reverse { !(v as u32) } else { v as u32 };
            (!primary[v], !work, !count, index)
        })
        .collect();
    keyed.sort_unstable();
    keyed
        .into_iter()
        .map(|(.., index)| if reverse { !index } else { index })
        .collect()
}

/// The inverse of a sequence: `position[node]`.
pub(crate) fn positions(seq: &[u32]) -> Vec<u32> {
    let mut pos = vec![0u32; seq.len()];
    for (p, &v) in seq.iter().enumerate() {
        pos[v as usize] = p as u32;
    }
    pos
}

/// Released nodes waiting for a worker, greatest [`ReadyKey`] first: one binary heap per lane.
///
/// # Examples
///
/// ```
/// use taskyard::Lane;
/// use taskyard::graph::{GraphBuilder, Policy, ReadyQueue};
///
/// let mut g = GraphBuilder::new();
/// g.node("small").cost_ms(1.0);
/// g.node("big").cost_ms(8.0);
/// g.node("alarm").cost_ms(1.0).lane(Lane::Critical);
/// let dag = g.build()?;
/// let order = dag.order(Policy::Rank, 1)?;
/// let mut queue = ReadyQueue::new();
/// for node in dag.nodes() {
///     queue.push(order.key(node));
/// }
/// assert_eq!(queue.peek_key().map(|k| k.lane()), Some(Lane::Critical));
/// let popped: Vec<&str> = std::iter::from_fn(|| queue.pop()).map(|n| dag.name(n)).collect();
/// assert_eq!(popped, ["alarm", "big", "small"]);
/// # Ok::<(), taskyard::graph::GraphError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ReadyQueue {
    /// Per lane, `position << 32 | node`, smallest first.
    lanes: [BinaryHeap<Reverse<u64>>; Lane::COUNT],
    len: usize,
}

impl ReadyQueue {
    /// An empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::ReadyQueue::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a released node.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::graph::{GraphBuilder, Policy, ReadyQueue};
    /// let mut g = GraphBuilder::new();
    /// g.node("a");
    /// let dag = g.build().unwrap();
    /// let mut queue = ReadyQueue::new();
    /// queue.push(dag.order(Policy::Rank, 1).unwrap().key(dag.find("a").unwrap()));
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn push(&mut self, key: ReadyKey) {
        let packed = u64::from(key.position) << 32 | u64::from(key.node.0);
        self.lanes[key.lane.index()].push(Reverse(packed));
        self.len += 1;
    }

    /// Removes and returns the node with the greatest key: highest lane, then lowest position.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::graph::ReadyQueue::new().pop(), None);
    /// ```
    pub fn pop(&mut self) -> Option<NodeId> {
        self.pop_key().map(ReadyKey::node)
    }

    /// Like [`pop`](Self::pop), returning the whole key.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::graph::ReadyQueue::new().pop_key(), None);
    /// ```
    pub fn pop_key(&mut self) -> Option<ReadyKey> {
        let lane = self.highest_lane()?;
        self.pop_lane_key(lane)
    }

    /// Removes and returns the best node of `lane`, for an executor whose lane-share policy
    /// picked the lane.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskyard::Lane;
    /// use taskyard::graph::{GraphBuilder, Policy, ReadyQueue};
    /// let mut g = GraphBuilder::new();
    /// g.node("bg").lane(Lane::Background);
    /// g.node("hi").lane(Lane::High);
    /// let dag = g.build().unwrap();
    /// let order = dag.order(Policy::Rank, 1).unwrap();
    /// let mut queue = ReadyQueue::new();
    /// dag.nodes().for_each(|n| queue.push(order.key(n)));
    /// assert_eq!(queue.pop_lane(Lane::Background), dag.find("bg"));
    /// assert_eq!(queue.pop_lane(Lane::Background), None);
    /// ```
    pub fn pop_lane(&mut self, lane: Lane) -> Option<NodeId> {
        self.pop_lane_key(lane).map(ReadyKey::node)
    }

    fn pop_lane_key(&mut self, lane: Lane) -> Option<ReadyKey> {
        let Reverse(packed) = self.lanes[lane.index()].pop()?;
        self.len -= 1;
        Some(unpack(lane, packed))
    }

    /// The key [`pop`](Self::pop) would return, without removing it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::ReadyQueue::new().peek_key().is_none());
    /// ```
    pub fn peek_key(&self) -> Option<ReadyKey> {
        let lane = self.highest_lane()?;
        self.lanes[lane.index()]
            .peek()
            .map(|&Reverse(packed)| unpack(lane, packed))
    }

    /// Number of nodes waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::graph::ReadyQueue::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no node is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskyard::graph::ReadyQueue::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of nodes waiting in `lane`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskyard::graph::ReadyQueue::new().lane_len(taskyard::Lane::Low), 0);
    /// ```
    pub fn lane_len(&self, lane: Lane) -> usize {
        self.lanes[lane.index()].len()
    }

    /// Which lanes have nodes waiting, for the lane picker.
    #[allow(dead_code)] // for the runtime's lane-share policy
    pub(crate) fn waiting(&self) -> LaneMask {
        Lane::ALL
            .into_iter()
            .filter(|l| !self.lanes[l.index()].is_empty())
            .fold(LaneMask::EMPTY, LaneMask::with)
    }

    fn highest_lane(&self) -> Option<Lane> {
        Lane::ALL
            .into_iter()
            .find(|l| !self.lanes[l.index()].is_empty())
    }
}

fn unpack(lane: Lane, packed: u64) -> ReadyKey {
    ReadyKey {
        lane,
        position: (packed >> 32) as u32,
        node: NodeId(packed as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;
    use crate::graph::tests::random_forward_graph;

    /// The order `keyed_sequence` must give, computed the plain way: indices sorted by a
    /// comparison that looks each key up.
    fn sorted_by_lookups(dag: &Dag, primary: &[u64], tiebreak: Tiebreak) -> Vec<u32> {
        let secondary = |v: usize| -> (u64, u64) {
            let successors = || dag.finish.row(v).iter().chain(dag.start.row(v));
            match tiebreak {
                Tiebreak::Index | Tiebreak::ReverseIndex => (0, 0),
                Tiebreak::Work => (
                    successors().map(|s| dag.costs[s.index()]).sum(),
                    successors().count() as u64,
                ),
                Tiebreak::LongestFirst => (dag.costs[v], 0),
                Tiebreak::ShortestFirst => (u64::MAX - dag.costs[v], 0),
                Tiebreak::Fanout => (successors().count() as u64, 0),
            }
        };
        let mut seq: Vec<u32> = (0..dag.len() as u32).collect();
        seq.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            let index = match tiebreak {
                Tiebreak::ReverseIndex => b.cmp(&a),
                _ => a.cmp(&b),
            };
            primary[b]
                .cmp(&primary[a])
                .then(secondary(b).cmp(&secondary(a)))
                .then(index)
        });
        seq
    }

    /// Random graphs whose costs come from a small set, so that ranks and tie-breaking keys
    /// tie often; and the same shapes without costs (ranks by descendants).
    #[test]
    fn keyed_sequences_sort_by_key_then_tiebreak_then_index() {
        let mut next = crate::graph::tests::numbers(0x2545_f491_4f6c_dd1d);
        for graph in 0..40 {
            let n = 1 + next(80) as usize;
            let mut g = GraphBuilder::new();
            for node in random_forward_graph(&mut next, n, graph % 2 == 0) {
                node.add_to(&mut g);
            }
            let dag = g.build().unwrap();
            let small: Vec<u64> = (0..n).map(|_| next(3)).collect();
            for tiebreak in Tiebreak::ALL {
                for primary in [&dag.ranks, &small] {
                    assert_eq!(
                        keyed_sequence(&dag, primary, tiebreak),
                        sorted_by_lookups(&dag, primary, tiebreak),
                        "graph {graph}, {tiebreak:?}"
                    );
                }
            }
        }
    }
}
