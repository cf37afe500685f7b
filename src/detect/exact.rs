//! The exact look-up's index: from a block's exact key (the xxh3-128 of its
//! normalized words) to the first block of the run with that text.
//!
//! A `HashMap<u128, ExactEntry>` held the key and the verdict (40 bytes an
//! entry, 4.5 MiB of the 10,000-document corpus's blocks-stage peak, 36 MiB
//! at 100,000). Both are already elsewhere: the key in the block's sketch,
//! the verdict in the run's matches. So a slot holds only a 32-bit tag of
//! the key and the block's number (8 bytes): a look-up reads the sketch's
//! key when the tag agrees, so answers are exactly the map's.

use super::Match;

/// What the exact index remembers of the first block with a given text.
#[derive(Clone, Copy)]
pub(super) struct ExactEntry {
    pub(super) source: u32,
    /// The last block of the source place (`source` itself for one block).
    pub(super) last: u32,
    pub(super) similarity: f64,
    pub(super) exact: bool,
}

impl ExactEntry {
    /// The entry of block `id`, an exact key's first block, from its verdict
    /// (a first copy, or a near repeat: the verdict is the entry's).
    pub(super) fn of(id: usize, verdict: Match) -> ExactEntry {
        if let Match::Repeat {
            source,
            source_last,
            similarity,
            exact,
        } = verdict
        {
            ExactEntry {
                source: u32::try_from(source).expect("fewer than 2^32 blocks"),
                last: u32::try_from(source_last).expect("fewer than 2^32 blocks"),
                similarity,
                exact,
            }
        } else {
            let id = u32::try_from(id).expect("fewer than 2^32 blocks");
            ExactEntry {
                source: id,
                last: id,
                similarity: 1.0,
                exact: true,
            }
        }
    }

    pub(super) fn repeat(self) -> Match {
        Match::Repeat {
            source: self.source as usize,
            source_last: self.last as usize,
            similarity: self.similarity,
            exact: self.exact,
        }
    }
}

/// An open-addressing table of (tag, block + 1); block 0 marks an empty
/// slot. Blocks are this run's (numbered from 0, without an index's).
#[derive(Default)]
pub(super) struct ExactTable {
    slots: Vec<(u32, u32)>,
    used: usize,
}

impl ExactTable {
    /// A key's tag: its low 32 bits (xxh3 bits, well mixed).
    fn tag(key: u128) -> u32 {
        #[allow(clippy::cast_possible_truncation)]
        let tag = key as u32;
        tag
    }

    /// Where the probe of a tag starts: the tag scaled to the table (any size
    /// works), so that the table can be rebuilt from its slots alone.
    fn home(&self, hash: u32) -> usize {
        #[allow(clippy::cast_possible_truncation)]
        let at = ((u64::from(hash) * self.slots.len() as u64) >> 32) as usize;
        at
    }

    /// Room for `n` keys in all (the table is sized once when that is known).
    pub(super) fn reserve(&mut self, n: usize) {
        let capacity = ((n + 1) * 8 / 7 + 1).max(1 << 10);
        if capacity > self.slots.len() {
            self.resize(capacity);
        }
    }

    fn resize(&mut self, capacity: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); capacity]);
        for (tag, block) in old {
            if block != 0 {
                let mut at = self.home(tag);
                while self.slots[at].1 != 0 {
                    at = (at + 1) % capacity;
                }
                self.slots[at] = (tag, block);
            }
        }
    }

    fn place(&self, key: u128) -> (usize, u32) {
        let tag = Self::tag(key);
        (self.home(tag), tag)
    }

    /// The run's first block with key `key`, whose key is `key_of(block)`.
    pub(super) fn get(&self, key: u128, key_of: impl Fn(usize) -> u128) -> Option<usize> {
        if self.used == 0 {
            return None;
        }
        let (mut at, tag) = self.place(key);
        loop {
            match self.slots[at] {
                (_, 0) => return None,
                (t, block) if t == tag && key_of(block as usize - 1) == key => {
                    return Some(block as usize - 1);
                }
                _ => at = (at + 1) % self.slots.len(),
            }
        }
    }

    /// Adds `block`, with key `key` (not in the table).
    pub(super) fn insert(&mut self, key: u128, block: usize) {
        if (self.used + 1) * 8 > self.slots.len() * 7 {
            self.resize((self.slots.len() * 2).max(1 << 10));
        }
        let (mut at, tag) = self.place(key);
        while self.slots[at].1 != 0 {
            at = (at + 1) % self.slots.len();
        }
        self.slots[at] = (
            tag,
            u32::try_from(block + 1).expect("fewer than 2^32 - 1 blocks"),
        );
        self.used += 1;
    }

    /// Every block in the table, in no particular order.
    pub(super) fn blocks(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .filter(|s| s.1 != 0)
            .map(|s| s.1 as usize - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::ExactTable;

    /// Keys whose tags (low 32 bits) collide in groups of four, so that a
    /// look-up must tell them apart by the key itself.
    fn key(i: usize) -> u128 {
        let i = i as u128;
        ((i * 0x9E37_79B9_7F4A_7C15) << 64) | ((i / 4) * 0x0001_0000_0000) | ((i / 4) & 0xFFFF)
    }

    #[test]
    fn finds_each_block_by_its_key_through_growth_and_shared_tags() {
        let keys: Vec<u128> = (0..5_000).map(key).collect();
        // Sized for far fewer: the table grows several times on the way.
        let mut table = ExactTable::default();
        table.reserve(10);
        for (block, &k) in keys.iter().enumerate() {
            assert_eq!(
                table.get(k, |b| keys[b]),
                None,
                "block {block} not added yet"
            );
            table.insert(k, block);
            assert_eq!(table.get(k, |b| keys[b]), Some(block));
        }
        for (block, &k) in keys.iter().enumerate() {
            assert_eq!(table.get(k, |b| keys[b]), Some(block));
        }
        // A key never added, with a tag that is taken.
        assert_eq!(table.get(key(1) ^ (1 << 100), |b| keys[b]), None);
        let mut blocks: Vec<usize> = table.blocks().collect();
        blocks.sort_unstable();
        assert_eq!(blocks, (0..5_000).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_table_finds_nothing() {
        let table = ExactTable::default();
        assert_eq!(table.get(7, |_| unreachable!("no block to read")), None);
        assert_eq!(table.blocks().count(), 0);
    }
}
