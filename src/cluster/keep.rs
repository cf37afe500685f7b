//! Which member of a cluster is kept: the keep policies' choice, and what
//! a run in chunks decides over every chunk before it writes any
//! (`--keep fullest`, whose kept member may come in a later chunk).

use super::{own_share, similarity, under_half, DocSketch, MIN_OWN_SHARE};
use crate::config::{Config, Keep, Measure};
use crate::jsonl::FieldValue;
use crate::prior::Prior;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// What [`super::cluster_after`] reads besides the run's documents: the
/// history, the memory ceiling and what spans a run's chunks.
pub type After<'a> = (
    Option<&'a dyn Prior>,
    Option<crate::memory::Ceiling>,
    Option<&'a AcrossChunks>,
);

/// A run in chunks under `--keep fullest`, whose kept member may come in a
/// later chunk than the rest of its cluster: what spans its chunks. The run
/// reads its inputs twice. The first pass clusters every chunk (documents
/// only, every document's shingle set stored) and ends with the member each
/// cluster keeps ([`decide_fullest`]); the second clusters them again, as
/// the first did, and keeps those members, so that a representative whose
/// fuller copy comes later is dropped in its own chunk, before its blocks
/// are read, as a whole run drops it.
#[derive(Debug, Default)]
pub struct AcrossChunks {
    /// Documents of the index the run is checked against (ids below it):
    /// an earlier run kept them, so no document joins one by holding it.
    pub indexed: usize,
    /// The first pass's answer (`None` while it is made): each
    /// representative whose cluster keeps another member, and that member.
    pub kept: Option<BTreeMap<usize, usize>>,
    /// Also the first pass's: the members that leave their cluster, kept,
    /// because no member tried holds every other (as a whole run's
    /// `unjoin_unheld` decides over the whole cluster, never over the part
    /// of it one chunk holds).
    pub unjoined: BTreeSet<usize>,
}

impl AcrossChunks {
    /// Whether the first pass runs: every document's shingle set is stored
    /// for [`decide_fullest`].
    #[must_use]
    pub fn first_pass(&self) -> bool {
        self.kept.is_none()
    }
}

/// The member each cluster keeps under `--keep fullest`, over a whole run in
/// chunks, as `unjoin_unheld` and `holding_all` choose it in a whole run:
/// `held` are the (representative, member) pairs of the documents that
/// joined a cluster by holding its representative, in input order;
/// `history` holds every document of the run, with its representative (as
/// the verdicts gave it: no chunk unjoins a member), bytes of text and
/// shingle set (the first pass's). Only clusters that such a member joined
/// can keep another than their representative. Returns those that do, with
/// the member kept; and the members that leave their cluster, kept, where no
/// member tried holds every other (those the representative does not hold).
#[must_use]
pub fn decide_fullest(
    held: &[(usize, usize)],
    history: &dyn Prior,
    config: &Config,
) -> (BTreeMap<usize, usize>, BTreeSet<usize>) {
    let mut clusters: BTreeMap<usize, Members> = BTreeMap::new();
    for &(rep, member) in held {
        clusters.entry(rep).or_default().1.push(member);
    }
    if clusters.is_empty() {
        return Default::default();
    }
    // Every member of those clusters, from the documents' records.
    let mut looker = history.looker();
    for d in 0..history.documents() {
        let rep = looker.doc(d).rep as usize;
        if rep != d {
            if let Some((members, _)) = clusters.get_mut(&rep) {
                members.push(d);
            }
        }
    }
    drop(looker);
    let clusters: Vec<(usize, Members)> = clusters.into_iter().collect();
    let decided: Vec<(usize, Result<usize, Vec<usize>>)> = clusters
        .into_par_iter()
        .map(|(rep, (members, held))| {
            let kept = first_holding_all(rep, &members, &held, history, config);
            (rep, kept)
        })
        .collect();
    let mut kept = BTreeMap::new();
    let mut unjoined = BTreeSet::new();
    for (rep, decision) in decided {
        match decision {
            Ok(k) if k != rep => {
                kept.insert(rep, k);
            }
            Ok(_) => {}
            Err(left) => unjoined.extend(left),
        }
    }
    (kept, unjoined)
}

/// A cluster's members but its representative, and those of them that
/// joined it by holding it.
type Members = (Vec<usize>, Vec<usize>);

/// [`holding_all`] of one cluster whose sets are read from `history`: the
/// first of the representative and the members that joined it by holding it
/// (`held`, at most [`LONGEST_TRIED`] tried) that holds every other member;
/// when none does, the members the representative does not hold (which
/// leave the cluster, as [`unjoin_unheld`] makes them). Members are read
/// one at a time.
fn first_holding_all(
    rep: usize,
    members: &[usize],
    held: &[usize],
    history: &dyn Prior,
    config: &Config,
) -> Result<usize, Vec<usize>> {
    let tried: Vec<usize> = tried_for_fullest(rep, held.iter().copied()).collect();
    let sets: Vec<(u64, Vec<u64>)> = tried.iter().map(|&k| history.doc_text(k)).collect();
    let mut holding = vec![true; tried.len()];
    let mut unheld = Vec::new();
    for &m in std::iter::once(&rep).chain(members) {
        let (bytes, set) = history.doc_text(m);
        let member = (&set[..], usize::try_from(bytes).unwrap_or(usize::MAX));
        for (i, &k) in tried.iter().enumerate() {
            // The representative (tried first) is held against every
            // member, for the members it does not hold.
            if (holding[i] || i == 0) && k != m {
                let kept = (
                    &sets[i].1[..],
                    usize::try_from(sets[i].0).unwrap_or(usize::MAX),
                );
                let holds = holds_set(kept, member, config);
                holding[i] &= holds;
                if i == 0 && !holds {
                    unheld.push(m);
                }
            }
        }
    }
    tried
        .iter()
        .zip(&holding)
        .find_map(|(&k, &all)| all.then_some(k))
        .ok_or(unheld)
}

/// `--keep longest` under containment: the longest member (ties: the
/// earliest) that holds [`own_share`] of every other member's own shingles,
/// so that no member is dropped for a kept one that lacks most of its text.
/// At most [`LONGEST_TRIED`] are tried.
pub(super) fn longest_holding_all(
    members: &[usize],
    sizes: &[usize],
    sketches: &[DocSketch],
    config: &Config,
) -> Option<usize> {
    let mut by_size = members.to_vec();
    by_size.sort_by_key(|&m| (std::cmp::Reverse(sizes[m]), m));
    by_size.into_iter().take(LONGEST_TRIED).find(|&k| {
        members
            .iter()
            .all(|&m| m == k || holds(k, m, sketches, sizes, config))
    })
}

/// Whether the run's keep policy lets a later document that holds a
/// representative join its cluster and replace it (`--keep fullest` and
/// `longest`, under containment).
pub(super) fn holding_policy(config: &Config) -> bool {
    matches!(config.keep, Keep::Fullest | Keep::Longest) && config.measure == Measure::Containment
}

/// The member a holding policy ([`holding_policy`]) keeps, when one holds
/// [`own_share`] of every other member's own shingles: under `--keep
/// longest` the longest such ([`longest_holding_all`]); under `--keep
/// fullest` the representative when it holds them all (as `first` keeps
/// it), else the earliest of the members that joined by holding it (`held`)
/// that does. At most [`LONGEST_TRIED`] are tried.
pub(super) fn holding_all(
    members: &[usize],
    held: &[bool],
    sizes: &[usize],
    sketches: &[DocSketch],
    config: &Config,
) -> Option<usize> {
    if config.keep == Keep::Longest {
        return longest_holding_all(members, sizes, sketches, config);
    }
    let holds_all = |k: usize| {
        members
            .iter()
            .all(|&m| m == k || holds(k, m, sketches, sizes, config))
    };
    // A cluster no member joined by holding it: every member is held by the
    // representative (it passed the plain share against it).
    if !members[1..].iter().any(|&m| held[m]) {
        return Some(members[0]);
    }
    tried_for_fullest(
        members[0],
        members[1..].iter().copied().filter(|&m| held[m]),
    )
    .find(|&k| holds_all(k))
}

/// The members `--keep fullest` tries to keep, in order: the
/// representative, then the members that joined it by holding it, at most
/// [`LONGEST_TRIED`] in all (a whole run and a run in chunks alike).
fn tried_for_fullest(rep: usize, held: impl Iterator<Item = usize>) -> impl Iterator<Item = usize> {
    std::iter::once(rep).chain(held).take(LONGEST_TRIED)
}

/// Whether `kept` holds [`own_share`] of `member`'s own shingles.
/// (Of a kept one under half the member's length, [`MIN_OWN_SHARE`], as a
/// representative must hold: `sizes` are the documents' bytes of text.)
pub(super) fn holds(
    kept: usize,
    member: usize,
    sketches: &[DocSketch],
    sizes: &[usize],
    config: &Config,
) -> bool {
    holds_set(
        (&sketches[kept].shingles, sizes[kept]),
        (&sketches[member].shingles, sizes[member]),
        config,
    )
}

/// [`holds`] of a kept and a member document given as (shingle set, bytes
/// of text).
fn holds_set(kept: (&[u64], usize), member: (&[u64], usize), config: &Config) -> bool {
    let share = if under_half(kept.1, member.1) {
        MIN_OWN_SHARE
    } else {
        own_share(config)
    };
    similarity(member.0, kept.0, Measure::Containment) >= share
}

/// Before `--keep longest` chooses (containment): in a cluster where no
/// member holds every other, the representative is kept, and the members
/// that joined it by holding it ([`held_representative`]) but are not held
/// by it leave the cluster, kept, rather than be dropped for it.
pub(super) fn unjoin_unheld(
    rep_of: &mut [Option<(usize, f64)>],
    held: &[bool],
    sketches: &[DocSketch],
    sizes: &[usize],
    base: usize,
    config: &Config,
) {
    let mut members_of: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (d, rep) in rep_of.iter().enumerate() {
        if let Some((r, _)) = *rep {
            if r >= base {
                members_of
                    .entry(r - base)
                    .or_insert_with(|| vec![r - base])
                    .push(d);
            }
        }
    }
    for (r, members) in members_of {
        if holding_all(&members, held, sizes, sketches, config).is_none() {
            for &m in &members[1..] {
                if !holds(r, m, sketches, sizes, config) {
                    rep_of[m] = None;
                }
            }
        }
    }
}

/// Longest members `--keep longest` tries under containment.
pub(super) const LONGEST_TRIED: usize = 8;

/// The member a keep policy keeps; ties go to the earliest.
pub(super) fn choose(
    members: &[(usize, f64)],
    keep: &Keep,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
) -> usize {
    let mut best = members[0].0;
    for &(m, _) in &members[1..] {
        let better = match keep {
            Keep::Fullest | Keep::First => false,
            Keep::Longest => sizes[m] > sizes[best],
            Keep::Newest(_) | Keep::Max(_) => {
                let (a, b) = (&keep_values[m], &keep_values[best]);
                a.as_ref()
                    .zip(b.as_ref())
                    .is_some_and(|(a, b)| a.partial_cmp(b) == Some(std::cmp::Ordering::Greater))
            }
        };
        if better {
            best = m;
        }
    }
    best
}
