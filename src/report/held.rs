//! What a report being counted holds in memory from one chunk of a run to
//! the next, counted from its tables' lengths and capacities: a run in
//! chunks cuts each chunk for the room its limit leaves (the driver's
//! `Underway::held`), by a count that is the same from run to run.

use super::accumulate::{Accumulator, Shared};
use crate::memory::{btree_entry, hash_table};
use std::mem::size_of;

impl Accumulator {
    /// Bytes the report holds between chunks: the shared blocks' counts,
    /// the clusters' stretches of the spool, the counts of copies in
    /// documents dropped whole, names of inputs, and the entries held when
    /// nothing is spooled.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        let shared = self.shared.len() * btree_entry(size_of::<(usize, Shared)>())
            + self
                .shared
                .values()
                .filter_map(|s| s.made.as_ref())
                .map(|made| size_of::<(super::Place, String)>() + made.1.capacity())
                .sum::<usize>();
        let clusters = self.cluster_spool.as_ref().map_or(0, |spool| {
            let entry = size_of::<(usize, super::accumulate::HeldCluster)>();
            hash_table(spool.clusters.capacity(), entry)
                + spool
                    .clusters
                    .values()
                    .map(|c| c.members.0.capacity() * size_of::<(u64, u64)>())
                    .sum::<usize>()
        });
        let names = self.names.capacity() * size_of::<std::sync::Arc<str>>()
            + self.names.iter().map(|n| n.len() + 16).sum::<usize>()
            + self.inputs.capacity() * size_of::<usize>();
        shared
            + clusters
            + names
            + self.copies_in_dropped.held_bytes()
            + self.documents.capacity() * size_of::<super::DocReport>()
            + self.clusters.len() * btree_entry(size_of::<(usize, super::ClusterReport)>())
    }
}
