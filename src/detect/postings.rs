//! The near look-up's shingle index: posting lists from a shingle's
//! fingerprint to the representatives holding it, and the arena their
//! longer lists live in; and the hasher of keys that are hashes already.

/// The shingle index: an open-addressing table from a shingle's 32-bit
/// fingerprint to its posting list, 8 bytes a slot where a
/// `HashMap<u64, (u32, u32)>` takes 17. Two shingles whose fingerprints collide
/// (about one pair in 2^32) share a list; that only adds candidates, and every
/// candidate is verified on its real shingles, so answers stay exact.
///
/// A slot is (fingerprint, head) side by side, so a look-up costs one cache
/// miss: most shingles belong to one representative, which is the head itself;
/// a list of two or more is marked by [`LIST`] and its length is kept with its
/// head entry in the [`Arena`].
#[derive(Default)]
pub(super) struct PostingTable {
    /// (fingerprint, head); fingerprint 0 marks an empty slot. The head is
    /// [`NONE`] (no entry yet), a lone representative, or `LIST | arena index`.
    pub(super) slots: Vec<(u32, u32)>,
    /// Entries of the shingle's list in the index, before this run's (only
    /// with an index).
    pub(super) prior: Vec<u8>,
    pub(super) with_prior: bool,
    pub(super) used: usize,
}

/// Marks a head that is an arena index.
pub(super) const LIST: u32 = 1 << 31;
/// A slot without entries.
pub(super) const NONE: u32 = u32::MAX;

impl PostingTable {
    pub(super) fn key(shingle: u64) -> u32 {
        // The high half of an xxh3 value; 0 is taken by empty slots.
        #[allow(clippy::cast_possible_truncation)]
        let key = (shingle >> 32) as u32;
        key.max(1)
    }

    /// The slot where a fingerprint's probe starts. Any table size works, not
    /// only powers of two: the fingerprint scaled to it (Lemire's fast range).
    pub(super) fn home(&self, key: u32) -> usize {
        #[allow(clippy::cast_possible_truncation)]
        let at = ((u64::from(key) * self.slots.len() as u64) >> 32) as usize;
        at
    }

    /// Reads the home slots of `shingles` without branching on them, so that
    /// their cache misses overlap instead of coming one after another (a
    /// prefetch without `unsafe`).
    pub(super) fn touch(&self, shingles: &[u64]) {
        if self.slots.is_empty() {
            return;
        }
        let mut seen = 0u32;
        for &shingle in shingles {
            seen ^= self.slots[self.home(Self::key(shingle))].0;
        }
        std::hint::black_box(seen);
    }

    /// [`PostingTable::touch`] for slots already found.
    pub(super) fn touch_slots(&self, slots: &[usize]) {
        let mut seen = 0u32;
        for &at in slots {
            seen ^= self.slots.get(at).map_or(0, |s| s.0);
        }
        std::hint::black_box(seen);
    }

    pub(super) fn find(&self, key: u32) -> (usize, bool) {
        let n = self.slots.len();
        let mut at = self.home(key);
        loop {
            match self.slots[at].0 {
                0 => return (at, false),
                k if k == key => return (at, true),
                _ => {
                    at += 1;
                    if at == n {
                        at = 0;
                    }
                }
            }
        }
    }

    /// (the lone representative or the arena head, length) of slot `at`.
    pub(super) fn list(&self, at: usize, arena: &Arena) -> (u32, u32) {
        match self.slots[at].1 {
            NONE => (NONE, 0),
            head if head & LIST != 0 => (head & !LIST, self.len_of_list(at, arena)),
            rep => (rep, 1),
        }
    }

    /// The length of the list at slot `at` (a list of two or more): out of
    /// line, so that the arena's length (a cache miss of its own) is read
    /// only for lists, not for every look-up.
    #[inline(never)]
    pub(super) fn len_of_list(&self, at: usize, arena: &Arena) -> u32 {
        arena.len_at(self.slots[at].1 & !LIST)
    }

    pub(super) fn prior(&self, at: usize) -> u32 {
        self.prior.get(at).map_or(0, |&p| u32::from(p))
    }

    /// Room for `n` more shingles without growing.
    pub(super) fn room_for(&mut self, n: usize) {
        while (self.used + n + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
    }

    /// The slot of a shingle, made empty (length 0) if it was not there, with
    /// `prior()` entries in the index. `hint` is where a look-up of it ended
    /// since the table last grew (its slot, or the empty slot the probe
    /// stopped at, unless another shingle took that one since).
    pub(super) fn slot(&mut self, shingle: u64, hint: usize, prior: impl FnOnce() -> u8) -> usize {
        let key = Self::key(shingle);
        let (at, found) = match self.slots.get(hint).map(|s| s.0) {
            Some(k) if k == key => (hint, true),
            Some(0) => (hint, false),
            _ => self.find(key),
        };
        if !found {
            self.slots[at] = (key, NONE);
            if self.with_prior {
                self.prior[at] = prior();
            }
            self.used += 1;
        }
        at
    }

    /// Every (fingerprint, representative) pair, in ascending order.
    pub(super) fn entries(&self, arena: &Arena) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for at in 0..self.slots.len() {
            let key = self.slots[at].0;
            match self.list(at, arena) {
                (_, 0) => {}
                (rep, 1) => out.push((key, rep)),
                (mut next, _) => {
                    while next != NONE {
                        let (rep, after) = arena.get(next);
                        out.push((key, rep));
                        next = after;
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Grows the table once to hold `n` shingles (an estimate, so with a
    /// tenth more room) at most 7/8 full.
    pub(super) fn reserve(&mut self, n: usize) {
        let capacity = ((n + n / 10 + 1) * 8 / 7 + 1).max(1 << 12);
        if capacity > self.slots.len() {
            self.resize(capacity);
        }
    }

    pub(super) fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(1 << 12);
        self.resize(capacity);
    }

    pub(super) fn resize(&mut self, capacity: usize) {
        let with_prior = self.with_prior;
        let old = std::mem::replace(
            self,
            PostingTable {
                // Read at random, a cache and TLB miss a look-up.
                slots: crate::memory::huge_vec((0, NONE), capacity),
                prior: if with_prior {
                    vec![0; capacity]
                } else {
                    Vec::new()
                },
                with_prior,
                used: 0,
            },
        );
        for i in 0..old.slots.len() {
            if old.slots[i].0 != 0 {
                let (at, _) = self.find(old.slots[i].0);
                self.slots[at] = old.slots[i];
                if with_prior {
                    self.prior[at] = old.prior[i];
                }
                self.used += 1;
            }
        }
    }
}

/// The entries of posting lists of two or more: (representative, next entry
/// or `NONE`), in pieces of a fixed size, so that growing never copies them
/// into a twice larger vector (which holds both, and up to twice the room
/// needed, at the run's peak); and with each entry, the length of the list it
/// heads when it was added (a list's length is that of its head entry). A
/// byte a list entry, not a byte a table slot: the table has four to five
/// times as many slots as the arena has entries (100,000 documents: 12 MiB
/// less at the blocks stage's end, benches/RESULTS.md session 15).
#[derive(Default)]
pub(super) struct Arena {
    pub(super) pieces: Vec<Vec<(u32, u32)>>,
    /// Lengths, in pieces beside `pieces`.
    lens: Vec<Vec<u8>>,
    pub(super) len: usize,
}

impl Arena {
    /// Entries a slab holds (512 KiB).
    pub(super) const SLAB: usize = 1 << 16;

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Adds `entry`, the head of a list of `len` entries (itself and those
    /// after it).
    pub(super) fn push(&mut self, entry: (u32, u32), len: u8) {
        if self.len.is_multiple_of(Self::SLAB) {
            self.pieces.push(Vec::with_capacity(Self::SLAB));
            self.lens.push(Vec::with_capacity(Self::SLAB));
        }
        self.pieces
            .last_mut()
            .expect("a piece was made above")
            .push(entry);
        self.lens
            .last_mut()
            .expect("a piece was made above")
            .push(len);
        self.len += 1;
    }

    /// The length of the list that entry `at` heads.
    pub(super) fn len_at(&self, at: u32) -> u32 {
        let at = at as usize;
        u32::from(self.lens[at / Self::SLAB][at % Self::SLAB])
    }

    pub(super) fn get(&self, at: u32) -> (u32, u32) {
        let at = at as usize;
        self.pieces[at / Self::SLAB][at % Self::SLAB]
    }
}

/// How many entries the batch being resolved added to each list, by slot:
/// a small open-addressing table (slot + 1, count), so that a list's length
/// before the batch is its length less these (see `Detector::search`).
/// Emptied at each batch; never used when a batch's look-ups are all made
/// before it is resolved.
#[derive(Default)]
pub(super) struct BatchAdds {
    places: Vec<(u32, u32)>,
    /// Places taken, to empty them again.
    taken: Vec<usize>,
}

impl BatchAdds {
    /// Empty, with room for `n` slots.
    pub(super) fn clear(&mut self, n: usize) {
        for &at in &self.taken {
            self.places[at] = (0, 0);
        }
        self.taken.clear();
        let capacity = (2 * n).next_power_of_two().max(1 << 10);
        if capacity > self.places.len() {
            self.places = vec![(0, 0); capacity];
        }
    }

    fn place(&self, slot: usize) -> (usize, u32) {
        let key = u32::try_from(slot + 1).expect("fewer than 2^32 slots");
        let mask = self.places.len() - 1;
        #[allow(clippy::cast_possible_truncation)]
        let mut at = (u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & mask;
        while self.places[at].0 != 0 && self.places[at].0 != key {
            at = (at + 1) & mask;
        }
        (at, key)
    }

    /// Entries added to the list of slot `slot` in this batch.
    pub(super) fn get(&self, slot: usize) -> u32 {
        if self.taken.is_empty() {
            return 0;
        }
        let (at, _) = self.place(slot);
        self.places[at].1
    }

    /// `n` more entries in the list of slot `slot`.
    pub(super) fn add(&mut self, slot: usize, n: u32) {
        let (at, key) = self.place(slot);
        if self.places[at].0 == 0 {
            self.places[at].0 = key;
            self.taken.push(at);
        }
        self.places[at].1 += n;
    }
}
