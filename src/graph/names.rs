//! Name lookup: an open-addressing hash index of node indices, so validation resolves every
//! edge in expected `O(1)` without copying the names or sorting them.

use std::hash::{BuildHasher, RandomState};

const EMPTY: u32 = u32::MAX;

/// Maps a node name to its index. Stores only indices (two slots per node); the names stay in
/// their owner and are passed in by the caller as `name_of(index)`.
#[derive(Clone, Debug)]
pub(crate) struct NameIndex {
    slots: Vec<u32>,
    hasher: RandomState,
}

impl NameIndex {
    /// Indexes nodes `0..n`. Fails with the index of the first node (in index order) whose name
    /// an earlier node already has.
    pub(crate) fn build<'a>(n: usize, name_of: impl Fn(u32) -> &'a str) -> Result<Self, u32> {
        let capacity = (n.max(4) * 2).next_power_of_two();
        let mut index = Self {
            slots: vec![EMPTY; capacity],
            hasher: RandomState::new(),
        };
        let mask = capacity - 1;
        for i in 0..n as u32 {
            let name = name_of(i);
            let mut slot = index.hasher.hash_one(name) as usize & mask;
            loop {
                match index.slots[slot] {
                    EMPTY => {
                        index.slots[slot] = i;
                        break;
                    }
                    other if name_of(other) == name => return Err(i),
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
        Ok(index)
    }

    /// The index of the node named `name`.
    pub(crate) fn get<'a>(&self, name: &str, name_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut slot = self.hasher.hash_one(name) as usize & mask;
        loop {
            match self.slots[slot] {
                EMPTY => return None,
                i if name_of(i) == name => return Some(i),
                _ => slot = (slot + 1) & mask,
            }
        }
    }
}
