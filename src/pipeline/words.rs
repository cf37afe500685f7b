//! A part's word hashes kept between the first and second passes, each as
//! its number in the part's vocabulary.

/// The word hashes of a part of the first pass, in order: each word is its
/// number among the part's distinct words (two bytes a word while the part
/// has at most 65,536 of them, four after), and each distinct word's hash is
/// kept once. A part of ordinary text has about five times as many words as
/// distinct ones, so this takes about half the memory of the hashes
/// themselves (8 bytes a word), which the documents stage's start held at
/// once for every part: the run's peak (benches/RESULTS.md, session 15).
/// The hashes read back are the ones put in, so nothing made from them
/// changes.
#[derive(Default)]
pub(crate) struct PartWords {
    ids: Ids,
    /// Hash of each distinct word, by its number.
    vocab: Vec<u64>,
    /// The part's generation in the thread's [`WordTable`] (0: none yet).
    generation: u32,
}

enum Ids {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Narrow(Vec::new())
    }
}

/// A thread's look-up table from a word's hash to its number in the part
/// being read: open addressing, (hash, number, generation), a slot being
/// empty for a part unless it holds the part's generation. Kept from part to
/// part, so that no part clears or grows one of its own. A part's entries
/// lost to another part (which rayon could run on the same thread in
/// between) only give a word a second number of the same hash: what is read
/// back does not change.
#[derive(Default)]
struct WordTable {
    slots: Vec<(u64, u32, u32)>,
    /// The last generation seen: a smaller one means the counter wrapped,
    /// and the slots are cleared.
    last: u32,
}

thread_local! {
    static TABLE: std::cell::RefCell<WordTable> = std::cell::RefCell::default();
}

/// Generations handed out, one a part (never 0).
static GENERATIONS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

impl WordTable {
    /// The number of `hash` in `vocab` (the words of generation
    /// `generation`), given one if it is new.
    fn id(&mut self, hash: u64, generation: u32, vocab: &mut Vec<u64>) -> u32 {
        if (vocab.len() + 1) * 2 > self.slots.len() {
            self.grow(generation, vocab);
        }
        let mask = self.slots.len() - 1;
        // (The low bits of an xxh3 value are as good as any.)
        #[allow(clippy::cast_possible_truncation)]
        let mut at = hash as usize & mask;
        loop {
            match self.slots[at] {
                (h, id, g) if g == generation && h == hash => return id,
                (_, _, g) if g == generation => at = (at + 1) & mask,
                _ => {
                    let id = u32::try_from(vocab.len()).expect("fewer than 2^32 words a part");
                    vocab.push(hash);
                    self.slots[at] = (hash, id, generation);
                    return id;
                }
            }
        }
    }

    /// Twice the room, with the words of `generation` (`vocab`) only.
    fn grow(&mut self, generation: u32, vocab: &[u64]) {
        let capacity = (self.slots.len() * 2).max(1 << 15);
        self.slots = vec![(0, 0, 0); capacity];
        let mask = capacity - 1;
        for (id, &hash) in vocab.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let mut at = hash as usize & mask;
            while self.slots[at].2 == generation {
                at = (at + 1) & mask;
            }
            self.slots[at] = (
                hash,
                u32::try_from(id).expect("fewer than 2^32 words"),
                generation,
            );
        }
    }
}

impl PartWords {
    /// Empty, with room for `words` words and `distinct` distinct ones.
    pub(crate) fn with_capacity(words: usize, distinct: usize) -> PartWords {
        PartWords {
            ids: Ids::Narrow(Vec::with_capacity(words)),
            vocab: Vec::with_capacity(distinct),
            generation: 0,
        }
    }

    /// Words held.
    pub(crate) fn len(&self) -> usize {
        match &self.ids {
            Ids::Narrow(v) => v.len(),
            Ids::Wide(v) => v.len(),
        }
    }

    /// Adds the words of hashes `hashes`, in order.
    pub(crate) fn extend(&mut self, hashes: &[u64]) {
        TABLE.with(|table| {
            let mut table = table.borrow_mut();
            if self.generation == 0 {
                self.generation = GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if self.generation == 0 {
                    // (Wrapped: 0 marks no generation.)
                    self.generation =
                        GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            if self.generation < table.last {
                table.slots.iter_mut().for_each(|s| *s = (0, 0, 0));
            }
            table.last = self.generation;
            for &hash in hashes {
                let id = table.id(hash, self.generation, &mut self.vocab);
                match &mut self.ids {
                    Ids::Narrow(v) => {
                        if let Ok(id) = u16::try_from(id) {
                            v.push(id);
                        } else {
                            let mut wide: Vec<u32> =
                                Vec::with_capacity(v.capacity().max(v.len() + 1));
                            wide.extend(v.iter().map(|&i| u32::from(i)));
                            wide.push(id);
                            self.ids = Ids::Wide(wide);
                        }
                    }
                    Ids::Wide(v) => v.push(id),
                }
            }
        });
    }

    /// Whether the words from `from` on are `hashes` (and as many).
    pub(crate) fn equals(&self, from: usize, hashes: &[u64]) -> bool {
        let vocab = &self.vocab;
        match &self.ids {
            Ids::Narrow(v) => v.get(from..from + hashes.len()).is_some_and(|ids| {
                ids.iter()
                    .zip(hashes)
                    .all(|(&i, &h)| vocab[usize::from(i)] == h)
            }),
            Ids::Wide(v) => v.get(from..from + hashes.len()).is_some_and(|ids| {
                ids.iter()
                    .zip(hashes)
                    .all(|(&i, &h)| vocab[i as usize] == h)
            }),
        }
    }

    /// Replaces `out` with the hashes of words `range`.
    pub(crate) fn hashes(&self, range: std::ops::Range<usize>, out: &mut Vec<u64>) {
        out.clear();
        let vocab = &self.vocab;
        match &self.ids {
            Ids::Narrow(v) => out.extend(v[range].iter().map(|&i| vocab[usize::from(i)])),
            Ids::Wide(v) => out.extend(v[range].iter().map(|&i| vocab[i as usize])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_read_back_are_those_put_in_past_two_byte_numbers() {
        // 70,000 distinct words, each twice, some hashes sharing low bits.
        let distinct: Vec<u64> = (0..70_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i << 40))
            .collect();
        let mut all = distinct.clone();
        all.extend(distinct.iter().rev());
        let mut words = PartWords::with_capacity(10, 10);
        words.extend(&all[..60_000]);
        assert!(matches!(words.ids, Ids::Narrow(_)));
        words.extend(&all[60_000..]);
        assert!(matches!(words.ids, Ids::Wide(_)));
        assert_eq!(words.len(), all.len());
        assert_eq!(words.vocab.len(), 70_000);
        let mut out = vec![7];
        words.hashes(0..all.len(), &mut out);
        assert_eq!(out, all);
        words.hashes(69_990..70_010, &mut out);
        assert_eq!(out, all[69_990..70_010]);
        assert!(words.equals(69_990, &all[69_990..70_010]));
        assert!(!words.equals(69_990, &all[69_991..70_011]));
        assert!(!words.equals(all.len() - 1, &all[..2]));
    }

    #[test]
    fn parts_read_in_turn_on_one_thread_read_back_their_own_hashes() {
        // Another part's words take the first part's slots in between.
        let (mut a, mut b) = (PartWords::default(), PartWords::default());
        let first: Vec<u64> = (1..5_000u64).map(|i| i << 20).collect();
        let second: Vec<u64> = (1..5_000u64).map(|i| (i << 20) + 1).collect();
        a.extend(&first);
        b.extend(&second);
        b.extend(&first);
        a.extend(&second);
        a.extend(&first);
        let mut out = Vec::new();
        a.hashes(0..a.len(), &mut out);
        assert_eq!(out, [&first[..], &second[..], &first[..]].concat());
        b.hashes(0..b.len(), &mut out);
        assert_eq!(out, [&second[..], &first[..]].concat());
        assert!(a.equals(first.len(), &second));
    }

    #[test]
    fn a_small_part_keeps_two_byte_numbers() {
        let mut words = PartWords::with_capacity(0, 0);
        words.extend(&[5, 0, 5, u64::MAX, 0]);
        assert!(matches!(words.ids, Ids::Narrow(_)));
        let mut out = Vec::new();
        words.hashes(1..5, &mut out);
        assert_eq!(out, [0, 5, u64::MAX, 0]);
        assert!(words.equals(0, &[5, 0]));
        assert!(!words.equals(0, &[0, 5]));
    }
}
