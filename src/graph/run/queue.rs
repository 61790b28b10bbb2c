//! One worker's released nodes during a run: per lane, the set of their positions in the
//! ready order, smallest first.
//!
//! Positions are unique and below the node count, so a lane's queue is a bit set with a
//! summary level per 64 words: pushing sets a bit (and a summary bit when its word was empty),
//! taking the smallest reads the lowest word that is not empty, which the set keeps track of,
//! and walks the levels only when that word empties. A graph that fans out queues a whole
//! level of nodes at once (rank order is breadth first on a tree); a binary heap would pay a
//! cache miss per level of the heap on each pop, where this pays one word read, and about
//! `log64(nodes)` more once per 64 nodes of a dense front.

use super::fault;
use crate::lane::Lane;
use crate::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The most levels a [`PositionSet`] has: `u32` positions, six bits per level.
const MAX_LEVELS: usize = 6;

/// A set of positions below a bound, with the smallest found in a few word reads.
///
/// Its state is in atomics so that a worker's queue can be guarded by a
/// [`SpinLock`](crate::sync::SpinLock), which guards no data itself: every method must be
/// called with that lock held (or, in tests, by one thread), and reads and writes each atomic
/// with a `Relaxed` load or store, never a read-modify-write: plain moves, ordered by the lock.
pub(super) struct PositionSet {
    /// Every level in one array, the bottom one first: it has a bit per position; each next
    /// level has a bit per word of the one before, set when that word is not zero. The last
    /// level is one word. One array, so that a push or a pop that stays in the bottom level
    /// indexes it directly.
    words: Box<[AtomicU64]>,
    /// Where each level begins in `words` (`starts[0]` is 0), for the `depth` levels.
    starts: [usize; MAX_LEVELS],
    depth: usize,
    len: AtomicUsize,
    /// While the set is not empty, the index of its lowest bottom word that is not zero: a
    /// front popped in order takes its next position from that word without walking the
    /// levels, and walks them once per 64 positions.
    low: AtomicUsize,
}

impl PositionSet {
    /// An empty set for positions below `bound`.
    pub(super) fn new(bound: usize) -> Self {
        let mut starts = [0; MAX_LEVELS];
        let (mut depth, mut total, mut bits) = (0, 0, bound.max(1));
        loop {
            let words = bits.div_ceil(64);
            debug_assert!(depth < MAX_LEVELS, "positions are u32");
            starts[depth] = total;
            depth += 1;
            total += words;
            if words == 1 {
                return Self {
                    words: (0..total).map(|_| AtomicU64::new(0)).collect(),
                    starts,
                    depth,
                    len: AtomicUsize::new(0),
                    low: AtomicUsize::new(0),
                };
            }
            bits = words;
        }
    }

    #[inline]
    pub(super) fn insert(&self, position: u32) {
        let index = position as usize / 64;
        let len = self.len.load(Relaxed);
        if len == 0 || index < self.low.load(Relaxed) {
            self.low.store(index, Relaxed);
        }
        self.len.store(len + 1, Relaxed);
        self.set_bits(position);
    }

    /// Sets `position`'s bit, and the summary bits up the levels while the word they stand
    /// for was empty: `len` and `low` are the caller's to keep.
    #[inline]
    fn set_bits(&self, position: u32) {
        let index = position as usize / 64;
        let word = &self.words[index];
        let before = word.load(Relaxed);
        word.store(before | 1 << (position % 64), Relaxed);
        if before == 0 {
            self.set_summary_bits(index);
        }
    }

    /// The rest of [`set_bits`](Self::set_bits) when the bottom word at `index` was empty:
    /// once per 64 positions of a dense front, so out of the way of the common case.
    #[cold]
    fn set_summary_bits(&self, mut index: usize) {
        for &start in &self.starts[1..self.depth] {
            let word = &self.words[start + index / 64];
            let before = word.load(Relaxed);
            word.store(before | 1 << (index % 64), Relaxed);
            if before != 0 {
                return;
            }
            index /= 64;
        }
    }

    /// Inserts `position` (not in the set) and removes the smallest, which may be `position`
    /// itself; returns it and the smallest of those left, as [`pop_first`](Self::pop_first)
    /// does. One pass where an insert and a pop would take two: the count does not change, and
    /// a `position` in the lowest word is set by the same store that clears the taken bit.
    #[inline]
    pub(super) fn insert_pop_first(&self, position: u32) -> (u32, Option<u32>) {
        let len = self.len.load(Relaxed);
        if len == 0 {
            return (position, None);
        }
        let low = self.low.load(Relaxed);
        let word = &self.words[low];
        let bits = word.load(Relaxed);
        let first = (low * 64) as u32 + bits.trailing_zeros();
        if position < first {
            return (position, Some(first));
        }
        let mut rest = bits & (bits - 1);
        if position as usize / 64 == low {
            rest |= 1 << (position % 64);
        } else {
            self.set_bits(position);
        }
        word.store(rest, Relaxed);
        if rest != 0 {
            return (first, Some((low * 64) as u32 + rest.trailing_zeros()));
        }
        self.pop_slow(first, low, len)
    }

    /// Removes the smallest position; returns it and the smallest of those left. Both come
    /// from the lowest word; only when that word empties does the pop clear its bits up the
    /// levels (up to the first word that keeps one) and walk down to the next lowest word.
    #[inline]
    pub(super) fn pop_first(&self) -> Option<(u32, Option<u32>)> {
        let len = self.len.load(Relaxed);
        if len == 0 {
            return None;
        }
        self.len.store(len - 1, Relaxed);
        let low = self.low.load(Relaxed);
        let word = &self.words[low];
        let bits = word.load(Relaxed);
        let first = (low * 64) as u32 + bits.trailing_zeros();
        let rest = bits & (bits - 1);
        word.store(rest, Relaxed);
        if rest != 0 {
            return Some((first, Some((low * 64) as u32 + rest.trailing_zeros())));
        }
        Some(self.pop_slow(first, low, len - 1))
    }

    /// The rest of a pop that emptied the lowest word, `low`, and left `len` positions.
    #[cold]
    fn pop_slow(&self, first: u32, low: usize, len: usize) -> (u32, Option<u32>) {
        let mut index = low;
        for &start in &self.starts[1..self.depth] {
            let word = &self.words[start + index / 64];
            let rest = word.load(Relaxed) & !(1 << (index % 64));
            word.store(rest, Relaxed);
            if rest != 0 {
                break;
            }
            index /= 64;
        }
        if len == 0 {
            return (first, None);
        }
        let mut index = 0;
        for &start in self.starts[1..self.depth].iter().rev() {
            index = index * 64 + self.words[start + index].load(Relaxed).trailing_zeros() as usize;
        }
        self.low.store(index, Relaxed);
        let next = index * 64 + self.words[index].load(Relaxed).trailing_zeros() as usize;
        (first, Some(next as u32))
    }

    /// How many positions the set holds (each is inserted once and removed once).
    pub(super) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// The smallest position, for tests to compare with a model.
    #[cfg(all(test, not(taskyard_loom)))]
    fn first(&self) -> Option<u32> {
        let mut index = 0;
        for &start in self.starts[..self.depth].iter().rev() {
            let word = self.words[start + index].load(Relaxed);
            if word == 0 {
                return None;
            }
            index = index * 64 + word.trailing_zeros() as usize;
        }
        Some(index as u32)
    }
}

/// A worker's ready nodes, one [`PositionSet`] per lane the graph uses, made ahead (a run
/// queues no node of another lane). Every method must be called with the worker's queue lock
/// held, as for [`PositionSet`].
pub(super) struct ReadySets {
    lanes: [Option<PositionSet>; Lane::COUNT],
}

impl ReadySets {
    /// Sets for positions below `bound`, for `lanes`.
    pub(super) fn with_lanes(bound: usize, lanes: &[Lane]) -> Self {
        let mut sets = Self {
            lanes: Default::default(),
        };
        for lane in lanes {
            sets.lanes[lane.index()] = Some(PositionSet::new(bound));
        }
        sets
    }

    fn lane(&self, lane: Lane) -> &PositionSet {
        self.lanes[lane.index()]
            .as_ref()
            .unwrap_or_else(|| fault("a run queues nodes of the graph's lanes only"))
    }

    #[inline]
    pub(super) fn push(&self, lane: Lane, position: u32) {
        self.lane(lane).insert(position);
    }

    /// Queues the node at `position` of `lane` and takes the lane's best (maybe that node);
    /// returns its position and that of the lane's next best.
    #[inline]
    pub(super) fn push_pop(&self, lane: Lane, position: u32) -> (u32, Option<u32>) {
        self.lane(lane).insert_pop_first(position)
    }

    /// How many nodes of `lane` are queued.
    pub(super) fn len(&self, lane: Lane) -> usize {
        self.lanes[lane.index()]
            .as_ref()
            .map_or(0, PositionSet::len)
    }

    /// Takes the best node of `lane`; returns its position and that of the lane's next best.
    #[inline]
    pub(super) fn pop(&self, lane: Lane) -> Option<(u32, Option<u32>)> {
        self.lanes[lane.index()].as_ref()?.pop_first()
    }
}

// Single-threaded: loom's atomics exist only inside a model.
#[cfg(all(test, not(taskyard_loom)))]
mod tests {
    use std::collections::BTreeSet;

    use super::PositionSet;

    /// Inserts, pops and exchanges against a `BTreeSet`, over bounds that need one, two and
    /// three levels.
    #[test]
    fn position_set_matches_an_ordered_set() {
        for bound in [1, 63, 64, 65, 4096, 4097, 300_000] {
            let set = PositionSet::new(bound);
            let mut model = BTreeSet::new();
            let mut state = 0x2545_F491_4F6C_DD1D_u64 ^ bound as u64;
            for _ in 0..20_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let position = (state % bound as u64) as u32;
                if state.is_multiple_of(3) {
                    let popped = model.pop_first();
                    let next = model.first().copied();
                    assert_eq!(set.pop_first(), popped.map(|first| (first, next)));
                } else if !model.insert(position) {
                    // Already in: nothing to insert.
                } else if state % 3 == 1 {
                    let popped = model.pop_first().expect("it holds `position`");
                    let next = model.first().copied();
                    assert_eq!(set.insert_pop_first(position), (popped, next));
                } else {
                    set.insert(position);
                }
                assert_eq!(set.first(), model.first().copied(), "bound {bound}");
                assert_eq!(set.len(), model.len(), "bound {bound}");
            }
            while let Some((first, next)) = set.pop_first() {
                assert_eq!(model.pop_first(), Some(first));
                assert_eq!(model.first().copied(), next);
            }
            assert!(model.is_empty());
            assert_eq!(set.first(), None);
        }
    }
}
