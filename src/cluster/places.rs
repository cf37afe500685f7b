//! Where in a document its shingles first occur, and what that says of two
//! documents' shared text: a representative's end only (a footer or a
//! license), pieces scattered over a longer text, or a frame around middles
//! of their own (pages of one site). Neither of those is a copy.

/// The low bits of a document shingle that say where in the document it
/// first occurs: its *place*, the twentieth of the document's shingles it
/// first occurs in (0 to 19). The shingle's hash is its other 59 bits. Sets
/// are sorted by the whole value, which orders them by hash as well.
pub const MARK: u64 = 0x1f;

/// Places a document's shingles are marked with ([`MARK`]).
const PLACES: usize = 20;

/// Places of a document's *head*, its first 40% (a headline and lede).
const HEAD_PLACES: usize = 8;

/// Whether a marked shingle first occurs in its document's head.
#[inline]
pub(super) fn in_head(s: u64) -> bool {
    place(s) < HEAD_PLACES
}

/// Where in its document a marked shingle first occurs ([`MARK`]).
#[inline]
fn place(s: u64) -> usize {
    (s & MARK) as usize
}

/// A document's shingle set from its shingle hashes in text order (repeats
/// kept): distinct hashes, sorted, each marked with the place ([`MARK`])
/// where it first occurs.
#[must_use]
pub fn positioned_set(mut set: Vec<u64>) -> Vec<u64> {
    let n = set.len();
    for (i, s) in set.iter_mut().enumerate() {
        *s = (*s & !MARK) | (PLACES * i / n) as u64;
    }
    crate::hashsort::sort_by_hash(&mut set, |&s| s);
    // Of a hash's marks, the least (its first place) sorts first, and is
    // kept.
    set.dedup_by(|later, kept| *later & !MARK == *kept & !MARK);
    set
}

/// Whether all that `part` shares with `whole` is after `whole`'s first 40%
/// and is less than 60% of it: `whole`'s own beginning (its headline and
/// lede) is not in `part`, only its end, as when two documents share only a
/// footer or license. A copy, even a truncated one, holds its source's
/// beginning. From what `part` and `whole` have in common ([`common`]) and
/// `whole`'s size.
pub(super) fn only_the_end((shared, in_head): (usize, usize), whole: usize) -> bool {
    in_head == 0 && 5 * shared < 3 * whole
}

/// Whether `part` is a small part of `whole` that is not its beginning: they
/// share less than a quarter of `whole`'s shingles, and more than a quarter
/// of what they share first occurs after `whole`'s first 40%. A copy cut
/// short holds its source's beginning; a short text whose pieces are found
/// all over a much longer one (clauses a long license shares with a short
/// one) is not a copy of it. From what `part` and `whole` have in common
/// ([`common`]) and `whole`'s size.
pub(super) fn scattered_pieces((shared, in_head): (usize, usize), whole: usize) -> bool {
    4 * shared < whole && 4 * in_head < 3 * shared
}

/// An own middle ([`framed`]) holds at least a tenth of its document's
/// shingles,
const MIDDLE_PART: usize = 10;
/// and at least this many: a paragraph or so (a copy with one short
/// paragraph replaced, or with typos close together, is still a copy; 40
/// lost 3 of c12k's 3,514 copies, 50 none).
const MIDDLE_SHINGLES: usize = 50;
/// At most a tenth of an own middle's shingles are in the other document.
const MIDDLE_SHARED: usize = 10;

/// Whether all that `a` and `b` share is a frame around text of their own,
/// as pages of one site share their header and footer: each has an *own
/// middle*, places ([`MARK`]) between its first and last that hold a tenth
/// of its shingles and 50 or more, at most a tenth of them shared, after
/// places half shared or more and before such places. A copy, whatever was
/// added around it, dropped from it or inserted in it, has its source's
/// text on one side at least: an inserted paragraph is a middle of the copy
/// alone, a dropped one of the source alone, and new headers and footers
/// are no middle. However much of each page the frame is, neither is a copy
/// of the other. `found`: what they have in common, by place
/// ([`shared_at_least`] of `a` and `b`; a document with fewer of its own
/// than a middle holds has none, and the sets are not counted by place).
pub(super) fn framed(a: &[u64], b: &[u64], found: &Shared) -> bool {
    may_be_framed(a, b, found.count)
        && own_middle(&joined(&totals(a), &found.of_a))
        && own_middle(&joined(&totals(b), &found.of_b))
}

/// Whether what a document (`ours`) shares with a representative is not
/// what a copy shares: only its own end, or a frame ([`framed`]). Its own
/// end: all of it is after `ours`'s first 40% and is less than 60% of it,
/// so that its beginning (its headline and story) is not in the
/// representative, as when a story carries the license that is most of a
/// short note before it (a copy starts as its source does, or after a
/// header shorter than the rest). `found`: what they have in common, by
/// place ([`shared_at_least`] of `ours` and `rep`); the sets' own shingles
/// are counted by place only when one of the rules can hold (`ours`'s once
/// for all representatives: `ours_totals`, filled when first needed).
pub(super) fn only_its_end_or_framed(
    (ours, ours_totals): (&[u64], &mut Option<Totals>),
    rep: &[u64],
    found: &Shared,
) -> bool {
    let shared = found.count;
    let its_end = 5 * shared < 3 * ours.len();
    let frame = may_be_framed(ours, rep, shared);
    if !its_end && !frame {
        return false;
    }
    (its_end && only_the_end(found.in_head_of_a(), ours.len()))
        || (frame
            && own_middle(&joined(
                ours_totals.get_or_insert_with(|| totals(ours)),
                &found.of_a,
            ))
            && own_middle(&joined(&totals(rep), &found.of_b)))
}

/// Whether each of two sets with `shared` shingles in common has enough of
/// its own for a middle ([`framed`]).
fn may_be_framed(a: &[u64], b: &[u64], shared: usize) -> bool {
    let own = |set: &[u64]| set.len().saturating_sub(shared);
    own(a).min(own(b)) >= MIDDLE_SHINGLES
}

/// What a walk of two positioned sets `a` and `b` found: how many shingles
/// they share, and of those, how many first occur in each place ([`MARK`])
/// of `a` and of `b`.
#[derive(Clone, Debug, Default)]
pub(super) struct Shared {
    /// Shingles in both.
    pub count: usize,
    /// Per place of `a`, its shingles that `b` holds.
    of_a: [usize; PLACES],
    /// Per place of `b`, its shingles that `a` holds.
    of_b: [usize; PLACES],
}

impl Shared {
    /// The shared shingles that first occur in `a`'s head, with the count:
    /// what [`only_the_end`] and [`scattered_pieces`] read of a pair.
    pub(super) fn in_head_of_a(&self) -> (usize, usize) {
        (self.count, self.of_a[..HEAD_PLACES].iter().sum())
    }

    /// [`Shared::in_head_of_a`] of `b`.
    pub(super) fn in_head_of_b(&self) -> (usize, usize) {
        (self.count, self.of_b[..HEAD_PLACES].iter().sum())
    }
}

/// The shingles `a` and `b` share, by place of each ([`Shared`]), if they
/// are `need` or more; the walk stops once the shingles left cannot make up
/// `need`, as most candidates' cannot by far. One walk for the share and
/// the rules on places: a pair that passes the share is not walked again.
pub(super) fn shared_at_least(a: &[u64], b: &[u64], need: usize) -> Option<Shared> {
    if a.len().min(b.len()) < need {
        return None;
    }
    let mut found = Shared::default();
    let (mut in_a, mut in_b) = (0, 0);
    while in_a < a.len() && in_b < b.len() {
        let left = (a.len() - in_a).min(b.len() - in_b);
        if found.count + left < need {
            return None;
        }
        // A step lowers `count` plus the shingles left in the shorter set
        // by one at most: from a test passed with `slack` to spare, the
        // next `slack` steps pass it too, and are taken without it. (No
        // branch on a match: it goes either way at random.)
        for _ in 0..(found.count + left - need).clamp(1, left) {
            let (ours, theirs) = (a[in_a] & !MARK, b[in_b] & !MARK);
            let same = usize::from(ours == theirs);
            found.count += same;
            found.of_a[place(a[in_a])] += same;
            found.of_b[place(b[in_b])] += same;
            in_a += usize::from(ours <= theirs);
            in_b += usize::from(ours >= theirs);
        }
    }
    (found.count >= need).then_some(found)
}

/// How many of a set's shingles first occur in each place ([`MARK`]).
pub(super) type Totals = [usize; PLACES];

/// A set's [`Totals`].
fn totals(set: &[u64]) -> Totals {
    let mut totals = [0; PLACES];
    for &s in set {
        totals[place(s)] += 1;
    }
    totals
}

/// Per place: a set's shingles ([`Totals`]) and how many of them the other
/// set holds (`shared`, per place).
fn joined(totals: &Totals, shared: &[usize; PLACES]) -> [[usize; 2]; PLACES] {
    std::array::from_fn(|p| [totals[p], shared[p]])
}

/// Whether a document with these (shingles, shared) per place has an own
/// middle ([`framed`]).
fn own_middle(places: &[[usize; 2]; PLACES]) -> bool {
    // Sums before each place, so that a range's is a difference.
    let mut before = [[0usize; 2]; PLACES + 1];
    for (at, p) in places.iter().enumerate() {
        before[at + 1] = [before[at][0] + p[0], before[at][1] + p[1]];
    }
    let sum = |range: std::ops::Range<usize>| {
        let [end, start] = [before[range.end], before[range.start]];
        [end[0] - start[0], end[1] - start[1]]
    };
    let n = sum(0..PLACES)[0];
    let framing = |[all, shared]: [usize; 2]| all > 0 && 2 * shared >= all;
    (1..PLACES - 1).any(|first| {
        framing(sum(0..first))
            && (first..PLACES - 1).any(|last| {
                let [all, shared] = sum(first..last + 1);
                MIDDLE_PART * all >= n
                    && all >= MIDDLE_SHINGLES
                    && MIDDLE_SHARED * shared <= all
                    && framing(sum(last + 1..PLACES))
            })
    })
}

/// Whether `ours` holds `rep` as a fuller copy holds a shorter one: what
/// they share is not only `rep`'s end ([`only_the_end`]: none of it first
/// occurs in `rep`'s first 40%, and it is less than 60% of `rep`), nor pieces
/// scattered over a much longer `ours` ([`scattered_pieces`]). A record
/// followed by its abstract, or a story after a copy of it cut short, holds
/// the shorter text's beginning; a short note whose long shared footer a
/// longer story carries does not hold the story's beginning (its own text is
/// not in it), nor does a long license whose clauses include a short
/// license's, in other places. `found` is what `rep` has in common with
/// `ours`, by place ([`shared_at_least`] of `rep` and `ours`).
pub(super) fn holds_beginning(rep: &[u64], ours: &[u64], found: &Shared) -> bool {
    !scattered_pieces(found.in_head_of_b(), ours.len())
        && !only_the_end(found.in_head_of_a(), rep.len())
}

#[cfg(test)]
mod tests {
    use super::super::common;
    use super::*;

    /// [`own_middle`] as its definition reads: every range summed anew.
    fn own_middle_by_definition(places: &[[usize; 2]; PLACES]) -> bool {
        let sum = |range: std::ops::Range<usize>| {
            places[range]
                .iter()
                .fold([0; 2], |t, p| [t[0] + p[0], t[1] + p[1]])
        };
        let n = sum(0..PLACES)[0];
        let framing = |[all, shared]: [usize; 2]| all > 0 && 2 * shared >= all;
        (1..PLACES - 1).any(|first| {
            (first..PLACES - 1).any(|last| {
                let [all, shared] = sum(first..last + 1);
                framing(sum(0..first))
                    && MIDDLE_PART * all >= n
                    && all >= MIDDLE_SHINGLES
                    && MIDDLE_SHARED * shared <= all
                    && framing(sum(last + 1..PLACES))
            })
        })
    }

    #[test]
    fn the_walk_by_place_counts_what_each_place_shares() {
        // Random positioned sets of 0 to 80 shingles from a small pool (so
        // that they share some), at every `need` from 0 to past their sizes:
        // the walk gives the shared count and, per place of each set, the
        // shingles the other holds, exactly when `need` or more are shared.
        let mut set = super::super::tests::random_sets(5, 120, 80);
        let held_by_place = |set: &[u64], other: &[u64]| {
            let mut places = [0; PLACES];
            for &s in set {
                if other.iter().any(|&o| o & !MARK == s & !MARK) {
                    places[place(s)] += 1;
                }
            }
            places
        };
        let mut passed = 0;
        for _ in 0..300 {
            let (a, b) = (set(), set());
            let (of_a, of_b) = (held_by_place(&a, &b), held_by_place(&b, &a));
            let count: usize = of_a.iter().sum();
            assert_eq!(count, of_b.iter().sum::<usize>());
            assert_eq!(Shared { count, of_a, of_b }.in_head_of_b(), common(&a, &b));
            for need in 0..=a.len().max(b.len()) + 1 {
                let found = shared_at_least(&a, &b, need);
                assert_eq!(found.is_some(), count >= need, "{need}");
                if let Some(found) = found {
                    assert_eq!((found.count, found.of_a, found.of_b), (count, of_a, of_b));
                    passed += usize::from(need > 0);
                }
            }
        }
        assert!(passed > 1000, "{passed}");
    }

    #[test]
    fn an_own_middle_is_found_as_its_definition_says() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % below as u64).expect("below a usize")
        };
        let mut found = 0;
        for _ in 0..20_000 {
            // Pages of a frame and a middle of their own, and noise.
            let (first, last) = (1 + next(8), 10 + next(9));
            let places: [[usize; 2]; PLACES] = std::array::from_fn(|p| {
                let all = next(30);
                let framing = p < first || p > last;
                let shared = if framing {
                    all - next(all / 3 + 1)
                } else {
                    next(all / 4 + 1)
                };
                [all, shared.min(all)]
            });
            let middle = own_middle(&places);
            assert_eq!(middle, own_middle_by_definition(&places), "{places:?}");
            found += usize::from(middle);
        }
        // Both answers are given often.
        assert!((2_000..18_000).contains(&found), "{found}");
    }
}
