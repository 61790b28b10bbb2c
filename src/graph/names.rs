//! Name lookup: an open-addressing hash index of node indices, so validation resolves every
//! edge in expected `O(1)` without copying the names or sorting them.

use std::hash::{BuildHasher, RandomState};

/// A slot's value when no node is in it: no node has index `u32::MAX` (graphs have at most
/// 2<sup>30</sup> nodes).
const EMPTY: u64 = u64::MAX;

/// How many names [`NameIndex::get_all`] hashes before it looks any up.
const BATCH: usize = 32;

/// What [`NameIndex::get_all`] gives for a name that no node has.
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// Maps a node name to its index. Stores only indices, each beside the top half of its name's
/// hash (two slots per node); the names stay in their owner and are passed in by the caller as
/// `name_of(index)`. A probe compares that half before it reads a name, so it reads the name
/// it looks for and no other: every name read is a cache miss on a large graph.
#[derive(Clone, Debug)]
pub(crate) struct NameIndex<S = RandomState> {
    slots: Vec<u64>,
    hasher: S,
}

impl NameIndex {
    /// Indexes nodes `0..n`. Fails with the index of the first node (in index order) whose name
    /// an earlier node already has.
    pub(crate) fn build<'a>(n: usize, name_of: impl Fn(u32) -> &'a str) -> Result<Self, u32> {
        Self::build_with(RandomState::new(), n, name_of)
    }
}

impl<S: BuildHasher> NameIndex<S> {
    /// [`build`](NameIndex::build) with a given hasher (tests give one that sends every name
    /// to one slot, to take the paths that collisions take).
    fn build_with<'a>(hasher: S, n: usize, name_of: impl Fn(u32) -> &'a str) -> Result<Self, u32> {
        let capacity = (n.max(4) * 2).next_power_of_two();
        let mut index = Self {
            slots: vec![EMPTY; capacity],
            hasher,
        };
        // Hashed first, in a pass of their own: a short loop of inserts has more of their
        // cache misses under way at once (see `get_all`).
        let hashes: Vec<u64> = (0..n as u32).map(|i| index.hash(name_of(i))).collect();
        for (i, hash) in (0..n as u32).zip(hashes) {
            let held = index.slots[index.home(hash)];
            match index.probe(name_of(i), hash, held, &name_of) {
                Ok(_) => return Err(i),
                Err(empty) => index.slots[empty] = hash & TAG | u64::from(i),
            }
        }
        Ok(index)
    }

    /// The index of each of `names`, in order, or [`UNKNOWN`] for a name no node has.
    ///
    /// A lookup in a large index is a cache miss on its first slot. Looked up one at a time,
    /// with each name hashed between two lookups, few of those misses overlap; here each batch
    /// of names is hashed first, then a short loop reads every first slot of the batch, and the
    /// lookups then find them in cache (a million-node wavefront's two million edges: 110-120
    /// ms, against 175-190 one at a time).
    pub(crate) fn get_all<'a, 'n>(
        &self,
        names: impl Iterator<Item = &'n str>,
        name_of: impl Fn(u32) -> &'a str,
    ) -> Vec<u32> {
        let mut found = Vec::with_capacity(names.size_hint().0);
        let mut names = names.peekable();
        while names.peek().is_some() {
            let mut batch = [("", 0u64); BATCH];
            let mut len = 0;
            for (entry, name) in batch.iter_mut().zip(names.by_ref()) {
                *entry = (name, self.hash(name));
                len += 1;
            }
            let mut first = [EMPTY; BATCH];
            for (slot, &(_, hash)) in first.iter_mut().zip(&batch[..len]) {
                *slot = self.slots[self.home(hash)];
            }
            for (&(name, hash), &first) in batch[..len].iter().zip(&first) {
                found.push(self.probe(name, hash, first, &name_of).unwrap_or(UNKNOWN));
            }
        }
        found
    }

    /// The index of the node named `name`.
    pub(crate) fn get<'a>(&self, name: &str, name_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        let hash = self.hash(name);
        self.probe(name, hash, self.slots[self.home(hash)], name_of)
            .ok()
    }

    /// Looks for `name`, whose hash is `hash`, from its home slot, which holds `held`: the
    /// index of the node with that name, or else the empty slot where the name would go.
    #[inline]
    fn probe<'a>(
        &self,
        name: &str,
        hash: u64,
        mut held: u64,
        name_of: impl Fn(u32) -> &'a str,
    ) -> Result<u32, usize> {
        let (mut slot, tag) = (self.home(hash), hash & TAG);
        loop {
            match held {
                EMPTY => return Err(slot),
                other if other & TAG == tag && name_of(other as u32) == name => {
                    return Ok(other as u32);
                }
                _ => {
                    slot = (slot + 1) & (self.slots.len() - 1);
                    held = self.slots[slot];
                }
            }
        }
    }

    /// The slot where a probe for a name with this hash begins (the hash's low bits).
    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    fn hash(&self, name: &str) -> u64 {
        self.hasher.hash_one(name)
    }
}

/// The bits of a slot that hold the tag.
const TAG: u64 = !(u32::MAX as u64);

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasherDefault, Hasher};

    /// Hashes every name alike: one probe chain, with every tag equal.
    #[derive(Default)]
    struct SameHash;

    impl Hasher for SameHash {
        fn finish(&self) -> u64 {
            0x5eed_0000_0000_0005
        }

        fn write(&mut self, _: &[u8]) {}
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node-{i}")).collect()
    }

    /// Looks up every name and some unknown ones, placed at the ends of batches and across
    /// them, with `get_all` and with `get`.
    fn check_lookups<S: BuildHasher>(index: &NameIndex<S>, names: &[String]) {
        let name_of = |i: u32| names[i as usize].as_str();
        let mut queries: Vec<(String, u32)> = (0..names.len() as u32)
            .rev()
            .map(|i| (names[i as usize].clone(), i))
            .collect();
        for at in [0, BATCH - 1, BATCH, BATCH + 1, 3 * BATCH - 1, queries.len()] {
            queries.insert(at.min(queries.len()), (format!("ghost-{at}"), UNKNOWN));
        }
        queries.insert(5, ("node-".to_owned(), UNKNOWN));
        let found = index.get_all(queries.iter().map(|(name, _)| name.as_str()), name_of);
        let expected: Vec<u32> = queries.iter().map(|&(_, i)| i).collect();
        assert_eq!(found, expected);
        for (name, i) in &queries {
            assert_eq!(
                index.get(name, name_of),
                (*i != UNKNOWN).then_some(*i),
                "{name}"
            );
        }
    }

    #[test]
    fn every_name_resolves_in_and_across_batches() {
        for n in [0, 1, BATCH - 1, BATCH, 1000] {
            let names = names(n);
            let index = NameIndex::build(n, |i| &names[i as usize]).unwrap();
            check_lookups(&index, &names);
        }
    }

    #[test]
    fn equal_hashes_and_tags_still_resolve_by_name() {
        let names = names(200);
        let hasher = BuildHasherDefault::<SameHash>::default();
        let index = NameIndex::build_with(hasher, names.len(), |i| &names[i as usize]).unwrap();
        check_lookups(&index, &names);
    }

    #[test]
    fn a_repeated_name_fails_at_its_first_repeat() {
        let mut names = names(100);
        names[70] = "node-3".to_owned();
        names[90] = "node-1".to_owned();
        let name_of = |i: u32| names[i as usize].as_str();
        assert_eq!(NameIndex::build(names.len(), name_of).unwrap_err(), 70);
        let hasher = BuildHasherDefault::<SameHash>::default();
        assert_eq!(
            NameIndex::build_with(hasher, names.len(), name_of).unwrap_err(),
            70
        );
    }
}
