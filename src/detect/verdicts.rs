//! The detector's verdicts while it runs: a byte a block, and the source of
//! each repeat apart, instead of a [`Match`] a block (32 bytes). Held through
//! the blocks stage beside the block index, they were 3.4 MiB of the 19 MB
//! corpus's peak where these take 0.3 (`benches/RESULTS.md`, session 16);
//! the run's [`Match`]es are made from them once the index is gone.

use super::Match;

const EMPTY: u8 = 0;
const SKIPPED: u8 = 1;
const UNIQUE: u8 = 2;
const NEAR: u8 = 3;
const EXACT: u8 = 4;

/// The verdicts of a run's blocks so far, in order.
#[derive(Default)]
pub(super) struct Verdicts {
    /// Per block: which kind of [`Match`] it is.
    kinds: Vec<u8>,
    /// The blocks that are repeats, ascending.
    repeat_blocks: Vec<u32>,
    /// Beside each: (source, source's last block, similarity).
    repeats: Vec<(u32, u32, f64)>,
}

impl Verdicts {
    pub(super) fn with_capacity(blocks: usize) -> Verdicts {
        Verdicts {
            kinds: Vec::with_capacity(blocks),
            ..Verdicts::default()
        }
    }

    pub(super) fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Adds the next block's verdict.
    pub(super) fn push(&mut self, verdict: Match) {
        let kind = match verdict {
            Match::Empty => EMPTY,
            Match::Skipped => SKIPPED,
            Match::Unique => UNIQUE,
            Match::Repeat {
                source,
                source_last,
                similarity,
                exact,
            } => {
                let id = |x: usize| u32::try_from(x).expect("fewer than 2^32 blocks");
                self.repeat_blocks.push(id(self.kinds.len()));
                self.repeats.push((id(source), id(source_last), similarity));
                if exact {
                    EXACT
                } else {
                    NEAR
                }
            }
        };
        self.kinds.push(kind);
    }

    /// Whether block `l` is a first copy.
    pub(super) fn is_unique(&self, l: usize) -> bool {
        self.kinds[l] == UNIQUE
    }

    /// Whether block `l` was skipped.
    pub(super) fn is_skipped(&self, l: usize) -> bool {
        self.kinds[l] == SKIPPED
    }

    /// The verdict of block `l`.
    pub(super) fn get(&self, l: usize) -> Match {
        match self.kinds[l] {
            EMPTY => Match::Empty,
            SKIPPED => Match::Skipped,
            UNIQUE => Match::Unique,
            kind => {
                let at = u32::try_from(l)
                    .ok()
                    .and_then(|l| self.repeat_blocks.binary_search(&l).ok())
                    .expect("every repeat is listed");
                self.repeat(at, kind)
            }
        }
    }

    fn repeat(&self, at: usize, kind: u8) -> Match {
        let (source, last, similarity) = self.repeats[at];
        Match::Repeat {
            source: source as usize,
            source_last: last as usize,
            similarity,
            exact: kind == EXACT,
        }
    }

    /// Every verdict as a [`Match`], in order.
    pub(super) fn into_matches(self) -> Vec<Match> {
        let mut next = 0;
        self.kinds
            .iter()
            .map(|&kind| match kind {
                EMPTY => Match::Empty,
                SKIPPED => Match::Skipped,
                UNIQUE => Match::Unique,
                kind => {
                    next += 1;
                    self.repeat(next - 1, kind)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Match, Verdicts};

    #[test]
    fn gives_back_every_verdict_as_pushed() {
        let verdicts = [
            Match::Unique,
            Match::Empty,
            Match::Repeat {
                source: 0,
                source_last: 0,
                similarity: 1.0,
                exact: true,
            },
            Match::Skipped,
            Match::Repeat {
                source: 0,
                source_last: 2,
                similarity: 0.817_391_304_347_826_1,
                exact: false,
            },
            Match::Unique,
        ];
        let mut v = Verdicts::with_capacity(2);
        for &m in &verdicts {
            v.push(m);
        }
        assert_eq!(v.len(), verdicts.len());
        for (l, &m) in verdicts.iter().enumerate() {
            assert_eq!(v.get(l), m, "block {l}");
            assert_eq!(v.is_unique(l), m == Match::Unique);
            assert_eq!(v.is_skipped(l), m == Match::Skipped);
        }
        assert_eq!(v.into_matches(), verdicts);
    }
}
