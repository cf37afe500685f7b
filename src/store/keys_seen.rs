//! Which bucket keys a run in chunks has stored in its segments so far, as a
//! Bloom filter of a fixed size ([`KeysSeen`]): a key it has never stored is
//! not looked up in them.
//!
//! Each chunk looks every key of its documents up in the segments of the
//! chunks before it (`History::buckets`), a directory entry and a record
//! range read for each. Under SimHash every document has a key in each of
//! its 20 tables, and almost every one holds that document alone: 78,711
//! six-word records (5 MB) at `--memory-limit 16M` looked up 1.57 million
//! keys in 37 chunks, most of the time of their document level, to find the
//! few thousand buckets they shared. The filter says "never stored" of most
//! of them, and a key it says that of is in no segment (a Bloom filter has no
//! false negatives), so the buckets found, the pairs and everything after
//! them are the same. A key it holds wrongly (two keys sharing bits) is
//! looked up as before.

/// A Bloom filter of (table, key) pairs: three bits a pair.
pub struct KeysSeen {
    bits: Vec<u64>,
    /// Bits less one (their number is a power of two).
    mask: usize,
}

impl KeysSeen {
    /// An empty filter of about `bytes` bytes (at least 4 KiB, at most
    /// `bytes` rounded down to a power of two).
    #[must_use]
    pub fn with_bytes(bytes: usize) -> KeysSeen {
        let words = crate::memory::power_of_two_words(bytes);
        KeysSeen {
            bits: vec![0; words],
            mask: words * 64 - 1,
        }
    }

    /// Bytes of memory its bits take.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.bits.capacity() * std::mem::size_of::<u64>()
    }

    /// The three bits of key `key` of table `table`.
    fn slots(&self, table: u32, key: u64) -> [usize; 3] {
        let h = crate::sketch::mix(key ^ u64::from(table).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        #[allow(clippy::cast_possible_truncation)]
        let at = |h: u64| h as usize & self.mask;
        [at(h), at(h >> 21), at(h.rotate_left(22))]
    }

    /// Notes that key `key` of table `table` is stored.
    pub fn add(&mut self, table: u32, key: u64) {
        for slot in self.slots(table, key) {
            self.bits[slot / 64] |= 1 << (slot % 64);
        }
    }

    /// Whether key `key` of table `table` may be stored: `false` only when
    /// it never was [`add`](KeysSeen::add)ed.
    #[must_use]
    pub fn may_hold(&self, table: u32, key: u64) -> bool {
        self.slots(table, key)
            .iter()
            .all(|&slot| self.bits[slot / 64] & (1 << (slot % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::KeysSeen;

    #[test]
    fn every_key_added_is_held_and_most_others_are_not() {
        let mut seen = KeysSeen::with_bytes(1 << 16);
        let key = |i: u32| crate::sketch::mix(u64::from(i));
        for i in 0..20_000u32 {
            seen.add(i % 20, key(i));
        }
        assert!((0..20_000u32).all(|i| seen.may_hold(i % 20, key(i))));
        // The same key in another table is another pair.
        let wrong_table = (0..20_000u32)
            .filter(|&i| seen.may_hold(i % 20 + 1, key(i)))
            .count();
        let absent = (20_000..40_000u32)
            .filter(|&i| seen.may_hold(i % 20, key(i)))
            .count();
        // 524,288 bits, 60,000 set: about 0.13% of absent pairs held.
        assert!(absent < 200, "{absent}");
        assert!(wrong_table < 200, "{wrong_table}");
        assert_eq!(KeysSeen::with_bytes(1 << 16).held_bytes(), 1 << 16);
        assert_eq!(KeysSeen::with_bytes(100_000).held_bytes(), 1 << 16);
    }
}
