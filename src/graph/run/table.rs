//! A graph's per-node run state: release counters, successor lists, the nodes' work, and what
//! a run records of each node. It is made when the graph is built, so a run starts without
//! allocating or touching memory per node, and it is laid out for the release path.
//!
//! # Slots
//!
//! Everything here is indexed by a node's *slot*: its position in the run's ready order, not
//! its submission index. Nodes that become ready together and run one after another (a level
//! of a tree, a diagonal of a wavefront under [`Policy::Rank`](crate::graph::Policy::Rank))
//! then sit side by side in every array, so a run walks its memory forwards, as it would for
//! a chain. In submission order the same walk jumps a row (or a level) per node: on a
//! 1024 x 1024 wavefront that cost more than twice as much per node as the release itself.

use crate::graph::dag::{Dag, MAX_NODES, NodeId};
use crate::graph::order::ReadyOrder;
use crate::graph::report::{LineSource, NodeReport, NodeStatus};
use crate::lane::Lane;
use crate::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use crate::sync::{Arc, Mutex, TakeOnce};

use super::fault;
use super::work::{NodeBody, NodeWork, SharedWork, StartedBody};

/// How a node's run ended, in the top two bits of its [`SlotLink::outcome`].
pub(super) const NOT_RUN: u32 = 0;
pub(super) const DONE: u32 = 1;
pub(super) const FAILED: u32 = 2;
pub(super) const SKIPPED: u32 = 3;

/// The `pending` entry of a node with exactly one predecessor. Such a node is released by that
/// predecessor's one finish (or start) without counting: no read-modify-write on the release
/// path of a chain or a fan-out. The entry is never written, so it cannot be confused with a
/// counter on its way down.
const SOLE: u64 = 1 << 63;

/// The `pending` entry of a node with several predecessors packs the count still to retire
/// (low [`COUNT_BITS`]) with the latest event time retired so far (the next [`TIME_BITS`],
/// nanoseconds since the run's start; the top two bits are [`SOLE`] and [`WIDE`]), so that
/// one compare-and-swap on one dense word both retires an edge and keeps the node's ready
/// time: the release of a wide front touches no record. A run without node times keeps no
/// time there and retires an edge with one decrement. Whoever reads a count of one retires
/// the last edge with a plain store (see [`NodeTable::retire_edge`]).
const COUNT_BITS: u32 = 14;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const TIME_BITS: u32 = 48;
/// Event times saturate here (about 78 hours into a run); events after it are raised in the
/// node's record instead, which the releaser then reads.
const TIME_MAX: u64 = (1 << TIME_BITS) - 1;
const _: () = assert!(
    COUNT_BITS + TIME_BITS <= 62,
    "the packed word leaves the flag bits"
);

/// A node with more predecessors than the packed count holds: `WIDE | count`, decremented
/// as a whole, with event times raised in the node's record.
const WIDE: u64 = 1 << 62;

/// The times a run writes of one node: the ready time of a queued node when it is queued, and
/// all three when the node ends (none, without node times, but a fallback ready time).
#[derive(Default)]
struct NodeRecord {
    /// Nanoseconds since the run's start. Before the node is released it is a fallback for
    /// its predecessors' event times ([`WIDE`] nodes, and times past [`TIME_MAX`]): each
    /// raises it before retiring its edge, so the releaser reads the latest of them.
    ready: AtomicU64,
    start: AtomicU64,
    end: AtomicU64,
}

/// The most workers a run can record: a node's outcome keeps the index of the worker that
/// started it in [`DETAIL_BITS`] bits.
pub(super) const MAX_WORKERS: usize = 1 << DETAIL_BITS;

/// The bits of an outcome below its status: a worker's index or a node's id.
const DETAIL_BITS: u32 = 30;
const DETAIL_MASK: u32 = (1 << DETAIL_BITS) - 1;
const _: () = assert!(
    MAX_NODES <= 1 << DETAIL_BITS,
    "a node's id fits below the status"
);

fn outcome(status: u32, detail: u32) -> u32 {
    debug_assert!(status <= SKIPPED && detail <= DETAIL_MASK);
    status << DETAIL_BITS | detail
}

/// How a node that ended ran: on which worker it started, when it was ready and started.
#[derive(Clone, Copy, Default)]
pub(super) struct Ran {
    pub(super) worker: usize,
    pub(super) ready: u64,
    pub(super) start: u64,
}

/// A node's position in the run's ready order, which indexes its state (see the module docs).
pub(super) type Slot = u32;

/// Successor lists by slot, of slots. No run writes them: the tables of a graph's clones
/// share them.
#[derive(Clone)]
struct SlotLists {
    offsets: Arc<[u32]>,
    targets: Arc<[Slot]>,
}

impl SlotLists {
    fn new<'d>(
        dag: &'d Dag,
        order: &ReadyOrder,
        successors: impl Fn(&'d Dag, NodeId) -> &'d [NodeId],
    ) -> Self {
        let slots = order.positions();
        let mut offsets = Vec::with_capacity(dag.len() + 1);
        let mut targets = Vec::new();
        offsets.push(0);
        for slot in 0..dag.len() as Slot {
            let node = order.node_at(slot);
            targets.extend(successors(dag, node).iter().map(|s| slots[s.index()]));
            offsets.push(targets.len() as u32);
        }
        Self {
            offsets: offsets.into(),
            targets: targets.into(),
        }
    }

    fn of(&self, slot: Slot) -> &[Slot] {
        let slot = slot as usize;
        &self.targets[self.offsets[slot] as usize..self.offsets[slot + 1] as usize]
    }
}

/// The [`SlotLink::next`] of a node that has none (see [`NodeTable::inline_successor_before`]).
const NO_SUCCESSOR: Slot = Slot::MAX;

/// Where a node's body waits for the node to start.
enum BodyCell {
    /// Taken by whoever starts the node (once: a node is released once).
    Owned(TakeOnce<NodeWork>),
    /// Called in place (see [`NodeBody::Shared`]).
    Shared(SharedWork),
}

impl From<NodeBody> for BodyCell {
    fn from(body: NodeBody) -> Self {
        match body {
            NodeBody::Owned(work) => Self::Owned(TakeOnce::new(work)),
            NodeBody::Shared(work) => Self::Shared(work),
        }
    }
}

impl BodyCell {
    /// The body, if the node has not started.
    fn into_body(self) -> Option<NodeBody> {
        match self {
            Self::Owned(cell) => cell.into_inner().map(NodeBody::Owned),
            Self::Shared(work) => Some(NodeBody::Shared(work)),
        }
    }
}

/// The nodes' bodies by slot. A graph whose bodies are all of one kind keeps them in an array
/// of that kind: an [`fn_node`](super::Graph::fn_node) graph's entries are then 16 bytes, not
/// the 32 of a [`BodyCell`], which a chain reads once per node.
enum BodyCells {
    /// Shared with the tables of the graph's clones (see [`NodeTable::try_clone`]), which run
    /// the same bodies.
    Shared(Arc<Vec<SharedWork>>),
    /// Shared bodies that another table, in another order, holds too: a node's is at
    /// `at[slot]` in `works`. A clone's run in another order than the graph's takes this
    /// indirection, off the path of the common case, where bodies are laid out by slot.
    SharedAt {
        works: Arc<Vec<SharedWork>>,
        at: Box<[u32]>,
    },
    /// Every body owned, and no node linked to a successor (no chain).
    Owned(Box<[TakeOnce<NodeWork>]>),
    /// Every body owned, and some nodes on chains.
    Chained(ChainedBodies),
    Mixed(Box<[BodyCell]>),
}

impl BodyCells {
    fn new(bodies: Vec<NodeBody>, links: &[SlotLink]) -> Self {
        let shared = |body: &NodeBody| matches!(body, NodeBody::Shared(_));
        if bodies.iter().all(shared) {
            let works = bodies.into_iter().map(|body| match body {
                NodeBody::Shared(work) => work,
                NodeBody::Owned(_) => unreachable!("every body is shared"),
            });
            Self::Shared(Arc::new(works.collect()))
        } else if !bodies.iter().any(shared) {
            let works = bodies.into_iter().map(|body| match body {
                NodeBody::Owned(work) => work,
                NodeBody::Shared(_) => unreachable!("every body is owned"),
            });
            if links.iter().all(|link| link.next == NO_SUCCESSOR) {
                Self::Owned(works.map(TakeOnce::new).collect())
            } else {
                Self::Chained(ChainedBodies::new(works.collect(), links))
            }
        } else {
            Self::Mixed(bodies.into_iter().map(BodyCell::from).collect())
        }
    }

    /// The bodies of the nodes that have not started, by slot; `Err` with the shared bodies
    /// when another table holds them too (the graph was cloned), so none can be moved out.
    fn into_bodies(
        self,
        links: &[SlotLink],
    ) -> Result<Vec<Option<NodeBody>>, Arc<Vec<SharedWork>>> {
        Ok(match self {
            // `try_unwrap`, not a look at the count: a clone may be cloned again meanwhile.
            Self::Shared(works) => Arc::try_unwrap(works)?
                .into_iter()
                .map(|work| Some(NodeBody::Shared(work)))
                .collect(),
            Self::SharedAt { .. } => fault("a graph's own table is in its rank order"),
            Self::Owned(cells) => cells
                .into_iter()
                .map(|cell| cell.into_inner().map(NodeBody::Owned))
                .collect(),
            Self::Chained(chained) => chained
                .into_works(links)
                .into_iter()
                .map(|work| work.map(NodeBody::Owned))
                .collect(),
            Self::Mixed(cells) => cells.into_iter().map(BodyCell::into_body).collect(),
        })
    }
}

/// The [`ChainedBodies::chain_of`] entry of a node on no chain.
const NO_CHAIN: u32 = u32::MAX;

/// The owned bodies of a graph some of whose nodes make *chains*: runs of nodes each linked to
/// the one before it (see [`SlotLink::next`]), which one searcher runs one after another for
/// as long as it stays within its budget and nothing better is queued.
///
/// A chain's bodies are kept in one list and handed out together. The searcher that starts a
/// node of a chain takes the rest of the chain along (a [`ChainStash`]) and runs each next
/// node's body from there, for one lock per stretch it runs. (A cell per node costs a
/// compare-and-swap per node: on a million-node chain with no node times, about 10.5 ns per
/// link against 5 to 6 this way.) A searcher that leaves the chain before its end puts the
/// rest back, under the next node's name, before that node can be released: whoever starts it
/// finds it there. A chain's nodes run one at a time, each released by the end of the one
/// before, so its list is never wanted by two threads at once; the lock is there to say so to
/// the compiler, and costs two locked instructions each time the list changes hands.
struct ChainedBodies {
    /// The bodies of the nodes on no chain, by slot; a chain node's cell is empty.
    cells: Box<[TakeOnce<NodeWork>]>,
    /// By slot, the chain a node is on, or [`NO_CHAIN`].
    chain_of: Box<[u32]>,
    chains: Box<[Mutex<ChainBodies>]>,
}

/// The bodies of a chain that no searcher holds: those of `front` and of the nodes after it.
struct ChainBodies {
    /// [`NO_SUCCESSOR`] while a searcher holds them.
    front: Slot,
    bodies: std::vec::IntoIter<NodeWork>,
}

impl ChainedBodies {
    fn new(works: Vec<NodeWork>, links: &[SlotLink]) -> Self {
        let mut linked_to = vec![false; works.len()];
        for link in links {
            if link.next != NO_SUCCESSOR {
                linked_to[link.next as usize] = true;
            }
        }
        let mut works: Vec<Option<NodeWork>> = works.into_iter().map(Some).collect();
        let mut chain_of = vec![NO_CHAIN; works.len()];
        let mut chains = Vec::new();
        // A chain starts at a node linked to a successor but not from a predecessor. Each node
        // has at most one link either way, so the chains are disjoint paths.
        for head in 0..works.len() {
            if linked_to[head] || links[head].next == NO_SUCCESSOR {
                continue;
            }
            let chain = chains.len() as u32;
            let mut bodies = Vec::new();
            let mut slot = head as Slot;
            while slot != NO_SUCCESSOR {
                chain_of[slot as usize] = chain;
                bodies.push(works[slot as usize].take().expect("a node is on one chain"));
                slot = links[slot as usize].next;
            }
            chains.push(Mutex::new(ChainBodies {
                front: head as Slot,
                bodies: bodies.into_iter(),
            }));
        }
        let cells = works
            .into_iter()
            .map(|work| work.map_or_else(TakeOnce::taken, TakeOnce::new));
        Self {
            cells: cells.collect(),
            chain_of: chain_of.into(),
            chains: chains.into(),
        }
    }

    /// The body of the node in `slot`, which starts; a chain's rest goes into `stash`.
    #[inline]
    fn take(&self, slot: Slot, stash: &mut ChainStash) -> NodeWork {
        match self.chain_of[slot as usize] {
            NO_CHAIN => take_owned(&self.cells[slot as usize]),
            chain => self.take_chain(chain, slot, stash),
        }
    }

    /// Out of line: once per stretch of a chain, not per node.
    #[inline(never)]
    fn take_chain(&self, chain: u32, slot: Slot, stash: &mut ChainStash) -> NodeWork {
        if !stash.is_empty() {
            fault("a searcher leaves a chain before it starts another node");
        }
        let mut bodies = {
            let mut held = self.chains[chain as usize].lock();
            if held.front != slot {
                fault("a chain's bodies wait at its next node");
            }
            held.front = NO_SUCCESSOR;
            std::mem::take(&mut held.bodies)
        };
        let work = bodies
            .next()
            .unwrap_or_else(|| fault("a chain's rest holds the next node's body"));
        stash.0 = bodies;
        work
    }

    /// Puts the bodies in `stash` back, under `front`'s name: the node whose body is first.
    #[inline(never)]
    fn give_back(&self, front: Slot, stash: &mut ChainStash) {
        let mut held = self.chains[self.chain_of[front as usize] as usize].lock();
        if cfg!(debug_assertions) && (held.front != NO_SUCCESSOR || held.bodies.len() != 0) {
            fault("a chain's bodies go back to a list that is empty");
        }
        held.front = front;
        held.bodies = std::mem::take(&mut stash.0);
    }

    /// The bodies not taken, by slot.
    fn into_works(self, links: &[SlotLink]) -> Vec<Option<NodeWork>> {
        let mut works: Vec<Option<NodeWork>> =
            self.cells.into_iter().map(TakeOnce::into_inner).collect();
        for chain in self.chains {
            let ChainBodies { front, bodies } = chain.into_inner();
            let mut slot = front;
            for work in bodies {
                works[slot as usize] = Some(work);
                slot = links[slot as usize].next;
            }
        }
        works
    }
}

/// The bodies a searcher took along from a chain (see [`ChainedBodies`]): those of the nodes
/// after the one it runs, in chain order. Empty whenever the searcher is not on a chain.
#[derive(Default)]
pub(super) struct ChainStash(std::vec::IntoIter<NodeWork>);

impl ChainStash {
    /// The body of the node linked to the one that ended, if the searcher holds it.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<NodeWork> {
        self.0.next()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

fn take_owned(cell: &TakeOnce<NodeWork>) -> NodeWork {
    cell.take().unwrap_or_else(|| fault("a node starts once"))
}

/// A node's chain link and outcome.
struct SlotLink {
    /// The successor that the node's finish alone releases and that may run right after it on
    /// the same searcher (see [`NodeTable::inline_successor_before`]), or [`NO_SUCCESSOR`].
    /// Worked out once, when the table is made, so that a chain's release reads one word.
    next: Slot,
    /// The status in the top two bits; below it, the worker that started the node, or for a
    /// skipped node the failed node it traces back to. Apart from the records: a run without
    /// node times writes only these 4 bytes per node (an `fn_node` chain reads 24 bytes per
    /// node in all: its body and this link).
    outcome: AtomicU32,
}

/// Per-node state for one run of a graph, by slot.
///
/// The arrays that no run writes (lanes, successor lists, roots, and bodies that are all
/// [`fn_node`](super::Graph::fn_node)s) are behind `Arc`s, shared with the tables of the
/// graph's clones; indexing one costs what indexing a `Box` does.
pub(super) struct NodeTable {
    /// Predecessor events (finishes and starts) each node still waits for: [`SOLE`], a packed
    /// count and time (see [`COUNT_BITS`]), or [`WIDE`].
    pending: Box<[AtomicU64]>,
    records: Box<[NodeRecord]>,
    /// Per node, its chain link and its outcome, side by side: the chain's loop reads the one
    /// and writes the other for each node, from one array with one bounds check (see
    /// [`SlotLink`]).
    links: Box<[SlotLink]>,
    bodies: BodyCells,
    lanes: Arc<[Lane]>,
    /// Successors that wait for the node to finish, and those that wait for it to start.
    after_finish: SlotLists,
    after_start: SlotLists,
    /// Nodes that wait for nothing.
    roots: Arc<[Slot]>,
    /// Whether runs record each node's times (see `RunnableGraph::record_node_times`).
    timed: bool,
}

impl NodeTable {
    /// The state of a run of `dag` in `order`, with `bodies` given by submission index.
    pub(super) fn new(dag: &Dag, order: &ReadyOrder, bodies: Vec<NodeBody>) -> Self {
        debug_assert_eq!(bodies.len(), dag.len());
        Self::with_bodies(dag, order, |links| {
            let mut bodies: Vec<Option<NodeBody>> = bodies.into_iter().map(Some).collect();
            let by_slot = (0..dag.len() as Slot).map(|slot| {
                let node = order.node_at(slot);
                bodies[node.index()].take().expect("one body per node")
            });
            BodyCells::new(by_slot.collect(), links)
        })
    }

    /// [`new`](Self::new), with the bodies made by `bodies` from the nodes' links.
    fn with_bodies(
        dag: &Dag,
        order: &ReadyOrder,
        bodies: impl FnOnce(&[SlotLink]) -> BodyCells,
    ) -> Self {
        let nodes = || (0..dag.len() as Slot).map(|slot| order.node_at(slot));
        let pending = nodes()
            .map(|node| match u64::from(dag.pending(node)) {
                1 => AtomicU64::new(SOLE),
                count if count > COUNT_MASK => AtomicU64::new(WIDE | count),
                count => AtomicU64::new(count),
            })
            .collect();
        let after_finish = SlotLists::new(dag, order, Dag::successors_after_finish);
        let after_start = SlotLists::new(dag, order, Dag::successors_after_start);
        let lanes: Arc<[Lane]> = nodes().map(|node| dag.lane(node)).collect();
        let links = (0..dag.len() as Slot)
            .map(|slot| {
                let next = match after_finish.of(slot) {
                    &[only]
                        if dag.pending(order.node_at(only)) == 1
                            && lanes[only as usize] == lanes[slot as usize]
                            && after_start.of(only).is_empty() =>
                    {
                        only
                    }
                    _ => NO_SUCCESSOR,
                };
                SlotLink {
                    next,
                    outcome: AtomicU32::new(outcome(NOT_RUN, 0)),
                }
            })
            .collect::<Box<[SlotLink]>>();
        let bodies = bodies(&links);
        Self {
            pending,
            records: nodes().map(|_| NodeRecord::default()).collect(),
            links,
            bodies,
            lanes,
            after_finish,
            after_start,
            roots: (0..dag.len() as Slot)
                .filter(|&slot| dag.pending(order.node_at(slot)) == 0)
                .collect(),
            timed: true,
        }
    }

    /// A table for another run of the same graph, from this one, which has not run (it is
    /// laid out in `order`): counters, records and outcomes of its own, copied from this
    /// one's, which are as they were made, and everything no run writes shared with this one,
    /// bodies included. `Err` with a node whose body runs once (every body must be shared),
    /// the first submitted.
    pub(super) fn try_clone(&self, order: &ReadyOrder) -> Result<Self, NodeId> {
        let bodies = match &self.bodies {
            BodyCells::Shared(works) => BodyCells::Shared(Arc::clone(works)),
            BodyCells::SharedAt { .. } => fault("a graph's own table is in its rank order"),
            BodyCells::Owned(_) | BodyCells::Chained(_) => {
                return Err(NodeId(0));
            }
            BodyCells::Mixed(cells) => {
                let owned = (0..cells.len() as Slot)
                    .filter(|&slot| matches!(cells[slot as usize], BodyCell::Owned(_)))
                    .map(|slot| order.node_at(slot));
                return Err(owned.min().expect("a mixed table has an owned body"));
            }
        };
        // Copied in slot order, not worked out again from the graph: the graph's arrays are
        // by node, and a wavefront's rank order visits them a diagonal at a time, a cache
        // miss per node (clones took 15.6 ns per node on a 1024 x 1024 wavefront that way).
        let pending = self.pending.iter().map(|p| AtomicU64::new(p.load(Relaxed)));
        let links = self.links.iter().map(|link| SlotLink {
            next: link.next,
            outcome: AtomicU32::new(link.outcome.load(Relaxed)),
        });
        Ok(Self {
            pending: pending.collect(),
            records: (0..self.records.len())
                .map(|_| NodeRecord::default())
                .collect(),
            links: links.collect(),
            bodies,
            lanes: Arc::clone(&self.lanes),
            after_finish: self.after_finish.clone(),
            after_start: self.after_start.clone(),
            roots: Arc::clone(&self.roots),
            timed: self.timed,
        })
    }

    pub(super) fn timed(&self) -> bool {
        self.timed
    }

    pub(super) fn set_timed(&mut self, timed: bool) {
        self.timed = timed;
    }

    /// The body of every node, by submission index, from a table that never ran, laid out in
    /// `order`; `Err` with the shared bodies when another table holds them too.
    fn into_bodies(self, order: &ReadyOrder) -> Result<Vec<NodeBody>, Arc<Vec<SharedWork>>> {
        let by_slot = self.bodies.into_bodies(&self.links)?;
        let mut by_node: Vec<Option<NodeBody>> = (0..by_slot.len()).map(|_| None).collect();
        for (slot, body) in by_slot.into_iter().enumerate() {
            by_node[order.node_at(slot as Slot).index()] = body;
        }
        let bodies = by_node
            .into_iter()
            .map(|body| body.expect("a table that never ran has every node's body"));
        Ok(bodies.collect())
    }

    /// This table, which never ran and is laid out in `from` order, the graph's rank order,
    /// laid out in `to` order instead, for a run under another policy. Bodies that no other
    /// table holds move over; shared ones (the graph was cloned) stay where they are, and the
    /// new table finds each node's through an index.
    pub(super) fn relaid(self, dag: &Dag, from: &ReadyOrder, to: &ReadyOrder) -> Self {
        let timed = self.timed;
        let mut table = match self.into_bodies(from) {
            Ok(bodies) => Self::new(dag, to, bodies),
            Err(works) => {
                let slots = from.positions();
                let at = (0..dag.len() as Slot).map(|slot| slots[to.node_at(slot).index()]);
                let bodies = BodyCells::SharedAt {
                    works,
                    at: at.collect(),
                };
                Self::with_bodies(dag, to, |_| bodies)
            }
        };
        table.set_timed(timed);
        table
    }

    pub(super) fn lane(&self, slot: Slot) -> Lane {
        self.lanes[slot as usize]
    }

    pub(super) fn roots(&self) -> &[Slot] {
        &self.roots
    }

    pub(super) fn successors_after_finish(&self, slot: Slot) -> &[Slot] {
        self.after_finish.of(slot)
    }

    /// Most graphs have no start-to-start edge: then a node's start checks one flag, not its
    /// list.
    #[inline]
    pub(super) fn successors_after_start(&self, slot: Slot) -> &[Slot] {
        if self.after_start.targets.is_empty() {
            return &[];
        }
        self.after_start.of(slot)
    }

    /// The one successor of the node in `slot` that the node's finish releases by itself (it
    /// waits for nothing else), when it is of the same lane and releases nothing as it starts:
    /// the searcher that ran the node may run it next with no counter, queue or start-time
    /// release to go through.
    ///
    /// Only a successor that ranks above `bar` (has a lower slot) is returned: the searcher
    /// passes its queue's best, and [`NO_SUCCESSOR`], the highest slot of all, ranks above no
    /// bar, so one comparison answers both questions.
    #[inline]
    pub(super) fn inline_successor_before(&self, slot: Slot, bar: Slot) -> Option<Slot> {
        let next = self.links[slot as usize].next;
        (next < bar).then_some(next)
    }

    /// Records when a node that is about to be queued became ready. (A node run at once by
    /// the thread that released it carries its ready time to [`end`](Self::end) instead.)
    pub(super) fn set_ready(&self, slot: Slot, ready: u64) {
        if self.timed {
            self.records[slot as usize].ready.store(ready, Relaxed);
        }
    }

    /// Retires one predecessor event of the node in `slot`, which happened at `now`. Returns its
    /// ready time, the latest of its predecessors' events, if this released it: exactly one
    /// caller does, the one that retires the last event, and it sees every other predecessor's
    /// writes (the `AcqRel` read-modify-writes of one counter form a release sequence, which
    /// the last one's `Acquire` read of the counter synchronizes with).
    /// Without node times the ready time is `now`, the last event's.
    ///
    /// A caller that reads a count of one holds the last edge: every other predecessor has
    /// retired its own, so no one else writes the counter again, and it retires the edge
    /// with a plain store instead of a read-modify-write. Where one worker runs all of a
    /// node's predecessors, as on most of a wavefront, only the first retirement is a locked
    /// instruction.
    #[inline]
    pub(super) fn retire_edge(&self, slot: Slot, now: u64) -> Option<u64> {
        let pending = &self.pending[slot as usize];
        let current = pending.load(Acquire);
        if current == SOLE {
            return Some(now);
        }
        if !self.timed {
            // Without node times no ready time is kept: one decrement retires the edge in
            // either format (the count is in the low bits, no time was packed above it, and
            // `WIDE` is above both).
            if current & !WIDE == 1 {
                pending.store(current - 1, Relaxed);
                return Some(now);
            }
            let before = pending.fetch_sub(1, AcqRel);
            if cfg!(debug_assertions) && before & !WIDE == 0 {
                fault("an edge is retired once");
            }
            return (before & !WIDE == 1).then_some(now);
        }
        self.retire_timed_edge(slot, pending, current, now)
    }

    /// [`retire_edge`](Self::retire_edge) with node times, for the node in `slot` whose counter
    /// is `pending`, from `current`, the counter as read there: apart, so that the untimed case
    /// stays small enough to inline.
    fn retire_timed_edge(
        &self,
        slot: Slot,
        pending: &AtomicU64,
        mut current: u64,
        now: u64,
    ) -> Option<u64> {
        let record = &self.records[slot as usize];
        if current & WIDE != 0 {
            if current & !WIDE == 1 {
                // The others raised the record before retiring their edges.
                pending.store(current - 1, Relaxed);
                return Some(record.ready.load(Relaxed).max(now));
            }
            // Raised before the edge is retired, so the counter carries it to the releaser.
            record.ready.fetch_max(now, Relaxed);
            let released = pending.fetch_sub(1, AcqRel) == WIDE | 1;
            return released.then(|| record.ready.load(Relaxed));
        }
        if now >= TIME_MAX {
            record.ready.fetch_max(now, Relaxed);
        }
        loop {
            let (latest, count) = (current >> COUNT_BITS, current & COUNT_MASK);
            if cfg!(debug_assertions) && count == 0 {
                fault("an edge is retired once");
            }
            let latest = latest.max(now.min(TIME_MAX));
            let next = latest << COUNT_BITS | (count - 1);
            if count > 1 {
                match pending.compare_exchange_weak(current, next, AcqRel, Acquire) {
                    Ok(_) => return None,
                    Err(actual) => {
                        current = actual;
                        continue;
                    }
                }
            }
            pending.store(next, Relaxed);
            // Saturated: the events past the saturation point are in the record, and those
            // before it are no later than `now`.
            if latest == TIME_MAX {
                return Some(record.ready.load(Relaxed).max(now));
            }
            return Some(latest);
        }
    }

    /// The time a queued node was released at (see [`set_ready`](Self::set_ready)).
    /// Without node times, 0: the node's start is the time it is taken at.
    pub(super) fn ready(&self, slot: Slot) -> u64 {
        if self.timed {
            self.records[slot as usize].ready.load(Relaxed)
        } else {
            0
        }
    }

    /// Hands out the body of a node that starts: an owned body is taken out (once: a node
    /// starts once), a shared one is lent. A node on a chain hands out the rest of the chain
    /// too, into `stash`, which must be empty.
    #[inline]
    pub(super) fn take_body(&self, slot: Slot, stash: &mut ChainStash) -> StartedBody<'_> {
        let index = slot as usize;
        match &self.bodies {
            BodyCells::Shared(works) => StartedBody::Shared(&works[index]),
            BodyCells::SharedAt { works, at } => StartedBody::Shared(&works[at[index] as usize]),
            BodyCells::Owned(cells) => StartedBody::Owned(take_owned(&cells[index])),
            BodyCells::Chained(chained) => StartedBody::Owned(chained.take(slot, stash)),
            BodyCells::Mixed(cells) => match &cells[index] {
                BodyCell::Owned(cell) => StartedBody::Owned(take_owned(cell)),
                BodyCell::Shared(work) => StartedBody::Shared(work),
            },
        }
    }

    /// Called when a searcher leaves a chain at the node in `slot` (which ended, paused or
    /// failed) before the chain's end: puts the bodies it took along back, under the name of
    /// the node linked to `slot`, which must not be released yet.
    #[inline]
    pub(super) fn leave_chain(&self, slot: Slot, stash: &mut ChainStash) {
        if stash.is_empty() {
            return;
        }
        let BodyCells::Chained(chained) = &self.bodies else {
            fault("only a chained graph's bodies are taken along");
        };
        chained.give_back(self.links[slot as usize].next, stash);
    }

    /// The bodies, by slot, when every node's is shared ([`Graph::fn_node`]): a chain of them
    /// is run by indexing this array, with no per-node look at the kind of body.
    ///
    /// [`Graph::fn_node`]: crate::graph::Graph::fn_node
    #[inline]
    pub(super) fn shared_bodies(&self) -> Option<&[SharedWork]> {
        match &self.bodies {
            BodyCells::Shared(works) => Some(works),
            _ => None,
        }
    }

    /// Records that the node in `slot` ended at `now`, done or failed, after it ran as `ran`
    /// says. The whole record is written here, when the node's line is complete: a run
    /// abandoned while the node ran reports it not run. Without node times, only the outcome.
    pub(super) fn end(&self, slot: Slot, ran: Ran, now: u64, ok: bool) {
        if self.timed {
            self.end_as::<true>(slot, ran, now, ok);
        } else {
            self.end_as::<false>(slot, ran, now, ok);
        }
    }

    /// [`end`](Self::end) for a caller that knows whether nodes are timed (`TIMED` is
    /// [`timed`](Self::timed)).
    #[inline]
    pub(super) fn end_as<const TIMED: bool>(&self, slot: Slot, ran: Ran, now: u64, ok: bool) {
        debug_assert_eq!(TIMED, self.timed);
        if TIMED {
            let record = &self.records[slot as usize];
            record.ready.store(ran.ready, Relaxed);
            record.start.store(ran.start, Relaxed);
            record.end.store(now, Relaxed);
        }
        let status = if ok { DONE } else { FAILED };
        let outcome = outcome(status, ran.worker as u32);
        self.links[slot as usize].outcome.store(outcome, Relaxed);
    }

    /// Marks the node in `slot` skipped because `cause` failed; false if it was already
    /// marked. A node reached here was never released (see `skip_dependents`), so only a skip
    /// changes it.
    pub(super) fn skip(&self, slot: Slot, cause: NodeId) -> bool {
        self.links[slot as usize]
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
    fn outcome(&self, slot: Slot) -> (u32, u32) {
        let outcome = self.links[slot as usize].outcome.load(Relaxed);
        (outcome >> DETAIL_BITS, outcome & DETAIL_MASK)
    }
}

/// What a run records of its nodes; shared with the report, which builds its lines from it.
pub(super) struct RunRecord {
    pub(super) dag: Arc<Dag>,
    /// The run's ready order, which maps nodes to slots.
    pub(super) order: Arc<ReadyOrder>,
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
            .zip(self.order.positions())
            .map(|(node, &slot)| {
                let mut line = NodeReport::not_run(&dag.names, node.index(), dag.lane(node));
                let record = &self.table.records[slot as usize];
                let (status, detail) = self.table.outcome(slot);
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
                if self.table.timed {
                    let times =
                        [&record.ready, &record.start, &record.end].map(|t| t.load(Relaxed));
                    line.ran_nanos(status, detail, times);
                } else {
                    line.ran_untimed(status, detail);
                }
                line
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{NodeTable, Slot};
    use crate::graph::run::work::{Call, NodeBody};
    use crate::graph::{GraphBuilder, Policy, ReadyOrder};

    /// `a` and `b` before `child`, `child` before `last`; `wide` after `child` and `others`
    /// more nodes. Returns the table (in rank order) and the slot of each named node.
    fn fan_in(others: usize) -> (NodeTable, impl Fn(&str) -> Slot) {
        let mut graph = GraphBuilder::new();
        graph.node("a");
        graph.node("b");
        graph.node("child").after("a").after("b");
        graph.node("last").after("child");
        let wide = graph.node("wide");
        wide.after("child");
        for other in 0..others {
            wide.after(format!("other{other}"));
        }
        for other in 0..others {
            graph.node(format!("other{other}"));
        }
        table_of(graph)
    }

    /// The table of `graph`'s run in rank order, and the slot of each named node.
    fn table_of(graph: GraphBuilder) -> (NodeTable, impl Fn(&str) -> Slot) {
        let dag = graph.build().unwrap();
        let work = dag
            .nodes()
            .map(|_| NodeBody::Owned(Box::new(Call(|| ()))))
            .collect();
        let order = ReadyOrder::new(&dag, Policy::Rank, 1).unwrap();
        let table = NodeTable::new(&dag, &order, work);
        (table, move |name| {
            order.key(dag.find(name).unwrap()).position()
        })
    }

    #[cfg(not(taskyard_loom))]
    #[test]
    fn release_waits_for_every_predecessor_and_takes_the_latest() {
        let (table, slot) = fan_in(0);
        let [child, last] = ["child", "last"].map(&slot);
        // `b` retires its edge first although it ended later: the child is ready at `b`'s end.
        assert_eq!(table.retire_edge(child, 9), None);
        assert_eq!(table.retire_edge(child, 4), Some(9));
        // A node with one predecessor is released by it, without counting.
        assert_eq!(table.retire_edge(last, 12), Some(12));
    }

    /// Slots follow the ready order, and successor lists are given in slots.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn slots_follow_the_ready_order() {
        let (table, slot) = fan_in(2);
        let [a, b, child, last, wide] = ["a", "b", "child", "last", "wide"].map(&slot);
        // `other0` and `other1` rank below `a` and `b`, which have two descendants each.
        assert_eq!(table.roots(), [a, b, slot("other0"), slot("other1")]);
        assert!(a < child && child < last && child < wide);
        assert_eq!(table.successors_after_finish(a), [child]);
        let mut after_child = table.successors_after_finish(child).to_vec();
        after_child.sort_unstable();
        assert_eq!(after_child, [last, wide]);
        assert!(table.successors_after_start(a).is_empty());
    }

    /// An outcome keeps its status apart from the largest worker index and node id it can
    /// hold, and a skip marks only a node that has not ended.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn outcomes_keep_the_status_beside_the_largest_detail() {
        use super::{DONE, FAILED, MAX_WORKERS, NOT_RUN, Ran, SKIPPED};
        use crate::graph::dag::{MAX_NODES, NodeId};

        let (table, slot) = fan_in(0);
        let [a, b, child] = ["a", "b", "child"].map(&slot);
        let last_worker = Ran {
            worker: MAX_WORKERS - 1,
            ..Ran::default()
        };
        assert_eq!(table.outcome(a), (NOT_RUN, 0));
        table.end(a, last_worker, 0, true);
        table.end(b, last_worker, 0, false);
        let last_node = NodeId(MAX_NODES as u32 - 1);
        assert!(table.skip(child, last_node));
        assert!(!table.skip(a, NodeId(0)) && !table.skip(child, NodeId(0)));
        assert_eq!(table.outcome(a), (DONE, MAX_WORKERS as u32 - 1));
        assert_eq!(table.outcome(b), (FAILED, MAX_WORKERS as u32 - 1));
        assert_eq!(table.outcome(child), (SKIPPED, MAX_NODES as u32 - 1));
    }

    /// A node's inline successor is its one finish-successor, only when that waits for it
    /// alone, is of its lane and releases nothing as it starts.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn inline_successor_is_a_chain_link_only() {
        use crate::lane::Lane;

        let mut graph = GraphBuilder::new();
        for name in ["a", "b", "c", "d", "e", "f", "g", "h", "x"] {
            graph.node(name);
        }
        graph.node("link").after("a");
        graph.node("fork1").after("b");
        graph.node("fork2").after("b");
        graph.node("join").after("c").after("x");
        graph.node("urgent").after("d").lane(Lane::High);
        graph.node("starter").after("e");
        graph.node("watcher").after_start("starter");
        graph.node("half").after("f").after_start("x");
        graph.node("follower").after_start("g");
        let (table, slot) = table_of(graph);
        let inline = |name| table.inline_successor_before(slot(name), super::NO_SUCCESSOR);
        assert_eq!(inline("a"), Some(slot("link")));
        // A successor that does not beat the bar (the queue's best) is not returned.
        let before = |bar| table.inline_successor_before(slot("a"), bar);
        assert_eq!(before(slot("link") + 1), Some(slot("link")));
        assert_eq!(before(slot("link")), None);
        for name in ["b", "c", "d", "e", "f", "g", "h", "link"] {
            assert_eq!(inline(name), None, "{name}");
        }
    }

    /// The predecessor events the node in `slot` still waits for, as its counter says: zero
    /// once its last edge is retired, whether by a read-modify-write or by a store.
    #[cfg(not(taskyard_loom))]
    fn count_left(table: &NodeTable, slot: Slot) -> u64 {
        use crate::sync::atomic::Ordering::Relaxed;

        let current = table.pending[slot as usize].load(Relaxed);
        if current & super::WIDE != 0 {
            current & !super::WIDE
        } else {
            current & super::COUNT_MASK
        }
    }

    /// Times past what the packed counter holds, before and after the latest.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn release_takes_the_latest_past_the_packed_time_range() {
        let late = super::TIME_MAX + 5;
        for (first, second, ready) in [(late, 7, late), (7, late, late), (late + 3, late, late + 3)]
        {
            let (table, slot) = fan_in(0);
            let child = slot("child");
            assert_eq!(table.retire_edge(child, first), None);
            assert_eq!(count_left(&table, child), 1);
            assert_eq!(table.retire_edge(child, second), Some(ready));
            assert_eq!(count_left(&table, child), 0);
        }
    }

    /// A node with more predecessors than the packed count holds.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn release_of_a_node_with_very_many_predecessors() {
        let others = super::COUNT_MASK as usize;
        let (table, slot) = fan_in(others);
        let wide = slot("wide");
        for time in 0..others as u64 {
            assert_eq!(table.retire_edge(wide, 1_000 - time % 1_000), None);
        }
        assert_eq!(count_left(&table, wide), 1);
        assert_eq!(table.retire_edge(wide, 3), Some(1_000));
        assert_eq!(count_left(&table, wide), 0);
    }

    /// Without node times an edge is retired by one decrement (the last by a store), in both
    /// counter formats: the last event releases the node, at its own time, and no earlier one
    /// does.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn untimed_release_counts_down_both_formats() {
        let others = super::COUNT_MASK as usize;
        let (mut table, slot) = fan_in(others);
        table.set_timed(false);
        let (child, wide, last) = (slot("child"), slot("wide"), slot("last"));
        assert_eq!(table.retire_edge(child, 9), None);
        assert_eq!(table.retire_edge(child, 4), Some(4));
        for time in 0..others as u64 {
            assert_eq!(table.retire_edge(wide, 100_000 - time), None);
        }
        assert_eq!(table.retire_edge(wide, 3), Some(3));
        assert_eq!(table.retire_edge(last, 12), Some(12));
        for slot in [child, wide] {
            assert_eq!(count_left(&table, slot), 0);
        }
        // Nothing is recorded as the nodes' ready times.
        assert_eq!(table.ready(child), 0);
    }

    /// A chain's bodies go out together: starting a node on the chain `a`, `b`, `c`, `d` hands
    /// out the rest of the chain too, which goes back under the next node's name when the
    /// searcher leaves the chain there, and a node on no chain hands out its own body only. A
    /// table that never ran gives every body back by submission index, chain nodes included.
    #[cfg(not(taskyard_loom))]
    #[test]
    fn a_chain_hands_out_its_rest_and_takes_it_back() {
        use std::sync::{Arc, Mutex};
        use std::task::Waker;

        use super::{ChainStash, StartedBody};
        use crate::graph::dag::Dag;
        use crate::graph::run::work::Progress;
        use crate::lane::Lane;
        use crate::task::{Cx, TaskId};

        let mut graph = GraphBuilder::new();
        graph.node("a");
        for (name, after) in [("b", "a"), ("c", "b"), ("d", "c")] {
            graph.node(name).after(after);
        }
        graph.node("x");
        let dag = graph.build().unwrap();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let bodies = |dag: &Dag| {
            let bodies = dag.nodes().map(|node| {
                let (ran, name) = (ran.clone(), dag.name(node).to_owned());
                NodeBody::Owned(Box::new(Call(move || ran.lock().unwrap().push(name))))
            });
            bodies.collect()
        };
        let run = |body: StartedBody<'_>| {
            let mut cx = Cx::new(Waker::noop(), TaskId::next(), Lane::Normal);
            assert!(matches!(body.step(&mut cx), Progress::Done(Ok(()))));
        };
        let order = ReadyOrder::new(&dag, Policy::Rank, 1).unwrap();
        let slot = |name| order.key(dag.find(name).unwrap()).position();
        let [a, b, c, d, x] = ["a", "b", "c", "d", "x"].map(slot);

        let table = NodeTable::new(&dag, &order, bodies(&dag));
        let mut stash = ChainStash::default();
        run(table.take_body(x, &mut stash));
        assert!(stash.is_empty(), "x is on no chain");
        run(table.take_body(a, &mut stash));
        assert_eq!(stash.0.len(), 3, "b, c and d come along");
        run(StartedBody::Owned(stash.pop().unwrap()));
        table.leave_chain(b, &mut stash);
        assert!(stash.is_empty());
        run(table.take_body(c, &mut stash));
        run(StartedBody::Owned(stash.pop().unwrap()));
        assert!(stash.is_empty(), "d ends the chain");
        // Leaving at the end of a chain, or off any chain, gives nothing back.
        table.leave_chain(d, &mut stash);
        table.leave_chain(x, &mut stash);
        assert_eq!(*ran.lock().unwrap(), ["x", "a", "b", "c", "d"]);

        ran.lock().unwrap().clear();
        let table = NodeTable::new(&dag, &order, bodies(&dag));
        let Ok(bodies) = table.into_bodies(&order) else {
            panic!("no other table holds them")
        };
        for body in bodies {
            let NodeBody::Owned(work) = body else {
                panic!("every body is owned")
            };
            run(StartedBody::Owned(work));
        }
        assert_eq!(*ran.lock().unwrap(), ["a", "b", "c", "d", "x"]);
    }

    /// Two parents of `fan_in`'s child retire their edges at once, one at time 3 on this
    /// thread and one at time 7 on another: what each retirement returned. Each parent first
    /// writes a flag of its own, as a node's body writes what its successors read, and the
    /// one that releases the child asserts it sees both: a last edge retired without a
    /// read-modify-write must still see the other parent's writes.
    #[cfg(taskyard_loom)]
    fn race_two_parents(timed: bool) -> (Option<u64>, Option<u64>) {
        use crate::sync::atomic::{AtomicBool, Ordering::Relaxed};
        use crate::sync::{Arc, thread};

        let (mut table, slot) = fan_in(0);
        table.set_timed(timed);
        let child = slot("child");
        let table = Arc::new(table);
        let written = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let retire = move |table: &NodeTable, written: &[AtomicBool; 2], parent: usize, now| {
            written[parent].store(true, Relaxed);
            let released = table.retire_edge(child, now);
            if released.is_some() {
                assert!(
                    written.iter().all(|flag| flag.load(Relaxed)),
                    "the child was released before a parent's write could be seen"
                );
            }
            released
        };
        let other = {
            let (table, written) = (table.clone(), written.clone());
            thread::spawn(move || retire(&table, &written, 1, 7))
        };
        let here = retire(&table, &written, 0, 3);
        (here, other.join().unwrap())
    }

    /// Two parents retire their edges at once: exactly one releases the child, and the ready
    /// time it gets is the later parent's end, whichever retires first.
    #[cfg(taskyard_loom)]
    #[test]
    fn loom_graph_release_counter_takes_latest_event() {
        loom::model(|| match race_two_parents(true) {
            (Some(ready), None) | (None, Some(ready)) => assert_eq!(ready, 7),
            both => panic!("released {both:?}"),
        });
    }

    /// The same race without node times (a decrement per edge, or a store for the last):
    /// exactly one parent releases the child, at its own event's time.
    #[cfg(taskyard_loom)]
    #[test]
    fn loom_graph_untimed_release_counter_releases_once() {
        loom::model(|| match race_two_parents(false) {
            (Some(3), None) | (None, Some(7)) => {}
            both => panic!("released {both:?}"),
        });
    }
}
