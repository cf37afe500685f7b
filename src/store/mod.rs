//! The persistent index (`--index`, `--reference`, `neardup index`): what
//! earlier runs saw, so that a new batch is checked against all of history and
//! the answer is the one a single run over every batch would give.
//!
//! The index holds exactly the detector's state after the batches it was built
//! from, never their text:
//!
//! - per document: where its blocks start, its cluster representative, the
//!   shingle set of representatives (for verification), its id, file and line;
//! - per block: its verdict (first copy or repeat of which first copy), words,
//!   byte/char/line span (for the report), and the shingles of first copies;
//! - the exact-text keys of first copies and of near copies already resolved;
//! - the shingle postings of first copies (first [`POSTING_CAP`] per shingle);
//! - the last [`MEMBERS_KEPT`] copies of every repeated block (a run's source
//!   is chosen among the first copy and the most recent ones);
//! - per LSH band or SimHash table key, the first and last documents in its
//!   bucket ([`BUCKET_FIRST`] + [`BUCKET_RECENT`]: all a later document is ever
//!   paired with), for every document but those of few shingles;
//! - per document of few shingles (MinHash, at most 16 shingles, whose
//!   band keys its shingle set gives back exactly): its shingles, both by
//!   shingle (`few`: shingle, document) and by document (`few_sets`:
//!   document, shingle), instead of its band records. Every slot of its
//!   MinHash signature holds the hash of one of its shingles, so it shares
//!   a bucket only with a document that holds the shingles of that band's
//!   slots: a later document looks up its own shingles in `few`, makes the
//!   band keys of the documents found from their sets and takes those it
//!   asks for as their bucket records (see `crate::cluster::few_buckets`).
//!   300,000 six-word records held 128 band records each (690 MB). Each
//!   write decides, over the whole file it writes (every update writes the
//!   index again; a chunked run's segments are written and merged by the
//!   same writes), which of them are not stored this way (`write::few`):
//!   those holding a shingle that more than `FEW_HOLDERS` (16, what a
//!   bucket keeps) of them hold get their band records back, so that a
//!   look-up of a shingle makes the keys of at most 16 documents a file,
//!   as a bucket gives at most 16 (60,000 titles that begin with the same
//!   five words made every later look-up rebuild the keys of all of them);
//!   and of copies of one set, those past the windows of their buckets are
//!   left out (their band records would be trimmed). A document once given
//!   band records keeps them; either way its candidates are the same.
//!
//! # File format (version 2; version 1 is read as version 2 without the
//! sections of documents of few shingles)
//!
//! All integers little-endian. A 64-byte header at offset 0:
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `NEARDUPI` |
//! | 8 | format version (u32), flags (u32, 0) |
//! | 16 | file length (u64) |
//! | 24 | table offset and length (u64, u64): the JSON [`Meta`] |
//! | 40 | checksum offset (u64): one xxh3-64 per 4 KiB chunk of the data |
//! | 48 | data start (u64, 4096) |
//! | 56 | xxh3-64 of bytes 0..56, the checksums and the table |
//!
//! The rest of the first 4 KiB page (bytes 64..4096) is zeros, in no
//! checksum: no look-up reads it, and `index stats --verify` checks it.
//!
//! Sections start on 4 KiB boundaries between the data start and the
//! checksums; the table says where each one is. Opening reads the header, the
//! table and the chunk checksums (0.2% of the file) and checks them; a data
//! chunk is checked against its checksum the first time a look-up touches it,
//! so a look-up never reads the index whole and never trusts a flipped byte.
//!
//! Version 2 added the sections `few` (12-byte records: shingle u64,
//! document u32; sorted, with a directory) and `few_sets` (12-byte records:
//! document u32, shingle u64; sorted); an index of version 1 is read as one
//! whose two sections are empty, and an update writes it back as version 2.
//!
//! An optional section of version 2, `banded_shingles` (4-byte records: the
//! print of a shingle, its top 32 bits with the mark cleared; sorted,
//! distinct, with a directory), holds the prints of the shingles of every
//! document of the file with band records (MinHash only). A later document
//! of few shingles none of whose prints is there shares no bucket with any
//! of them (each slot of a MinHash signature holds the hash of one of the
//! document's own shingles, the argument `few` rests on), so its band keys
//! are not looked up in `bands`: 20,000 new one-line records made 2.56
//! million look-ups that found nothing. Readers that do not know the section
//! ignore it, and write no such section back; a file without it (version 1,
//! or written before it) is looked up key by key, as before. A write makes
//! it only where it knows the shingles of every banded document of the
//! file: from the old file's section (when it has one), the run's documents
//! and those given band records back.
//!
//! Updates write a new file beside the old one, fsync it and rename it over the
//! old one, holding an exclusive lock on `PATH.lock`; readers hold a shared
//! lock. A killed update leaves the old index intact.

mod from_run;
mod history;
mod keys_seen;
mod overlap;
mod reader;
mod rejoin;
mod segment;
mod spent;
mod write;

use crate::config::Config;
use crate::report::Parameters;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use from_run::delta;
pub use history::History;
pub use keys_seen::KeysSeen;
pub use rejoin::MergeMemory;
pub use segment::*;
pub use spent::{note_settled, scratch_peak, scratch_settled, scratch_written};
pub use write::{append, append_delta, append_durably, merge, write, write_scratch, Delta};

pub use crate::detect::POSTING_CAP;
pub use crate::index::{BUCKET_FIRST, BUCKET_RECENT};
pub use crate::prior::{
    BlockRecord, DocRecord, ExactRecord, Prior, PriorPostings, KIND_EMPTY, KIND_REPEAT,
    KIND_SKIPPED, KIND_UNIQUE, MEMBERS_KEPT,
};

const MAGIC: &[u8; 8] = crate::input::INDEX_MAGIC;
/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this build reads: version 1 is version 2
/// without the sections of documents of few shingles (each document held
/// its band records), so it is read as one whose sections are empty; an
/// update writes it back as version 2.
pub const OLDEST_READ: u32 = 1;
const HEADER_LEN: usize = 64;
const CHUNK: usize = 4096;
const DATA_START: u64 = CHUNK as u64;
/// [`DATA_START`] as an offset into the file.
const DATA: usize = CHUNK;

/// Record sizes in bytes.
const DOC_LEN: usize = 64;
const BLOCK_LEN: usize = 72;
const EXACT_LEN: usize = 32;
const POSTING_LEN: usize = 8;
const MEMBER_LEN: usize = 8;
const BAND_LEN: usize = 16;
const FEW_LEN: usize = 12;
/// A `banded_shingles` record: a shingle's print (see
/// [`crate::cluster::few::shingle_print`]).
const BANDED_LEN: usize = 4;
/// The optional section of the prints of the shingles of every document
/// with band records (see the module doc).
pub(crate) const BANDED_SHINGLES: &str = "banded_shingles";

/// Every setting that changes what the index holds. An index is only used
/// with the settings it was built with: anything else would be a silently
/// different answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub struct IndexParams {
    /// Version of the detection rules (caps, normalization); bumped when a
    /// change to the engine would change an index's meaning.
    pub engine: u32,
    pub seed: u64,
    pub level: String,
    pub blocks: String,
    pub block_shingle: usize,
    pub block_threshold: f64,
    pub min_words: usize,
    pub method: String,
    pub doc_shingle: usize,
    pub threshold: f64,
    pub measure: String,
    pub num_perm: Option<usize>,
    pub bands: Option<usize>,
    pub rows: Option<usize>,
    pub hamming: Option<u32>,
    /// `--strip-markup`: absent (false) in indexes built before it existed,
    /// which hashed markup as text.
    #[serde(default)]
    pub strip_markup: bool,
}

/// Version of the detection rules recorded in [`IndexParams::engine`].
/// 2: `--measure containment` is directional (|D∩R|/|D|, boilerplate
/// discounted), so an index built under the old min(|A|,|B|) rule is refused
/// rather than read with another meaning under the same flag.
/// 3: a block repeats a place of several consecutive blocks when no one
/// block holds enough of it, and exact records say how many blocks their
/// source place has (in the high bits of their last field, which was 0 or 1).
/// 4: shingle hashes are a rolling combination of word hashes, not the xxh3
/// of their bytes, so an older index's shingles and band keys mean nothing
/// to this build.
/// 5: a document's shingle hashes keep 63 bits, the lowest marking whether the
/// shingle first occurs in the document's first 40% (a document that shares
/// only another's end is not its copy), and its MinHash keys are of those 63.
/// 6: under containment a document has 8 more keys, of its beginning (a copy
/// cut to a small part of its source is a candidate), after its band keys.
/// 7: consecutive one-letter words hash as one word (`R. A.` as `RA`), so an
/// older index's hashes of text with initials differ from this build's.
/// 8: given names in name lists hash as initials (`Agha, Riaz` as `Agha, R`)
/// and shortened page ranges as whole ones (`1424-7` as `1424-1427`), so an
/// older index's hashes of such text differ from this build's.
/// 9: name lines with given names such as `McKay` or initials such as `RA`
/// are read (as initials), and a free-standing `&` hashes as the word `and`,
/// so an older index's hashes of such text differ from this build's.
/// 10: bracketed notes that end a line (`[Review] [125 refs]`) are left out
/// of hashing, so an older index's hashes of such text differ from this
/// build's; and a document over twice its representative's length is its
/// copy only when 60% of it is in it (`cluster::under_half`), so an older
/// index may hold such a document as dropped.
/// 11: under containment a document has one more key, its tail key (of its
/// last shingles: `cluster::Candidates::tail_key`), so an older index has
/// one table fewer than this build's.
/// 12: a document's shingle hashes keep 59 bits, the low 5 marking the
/// twentieth of the document where the shingle first occurs (two documents
/// that share only a frame around middles of their own are not copies:
/// `cluster::framed`), so an older index's marks mean another thing.
pub const ENGINE_VERSION: u32 = 12;

impl IndexParams {
    /// The parameters of a run: those of its report ([`Parameters::of`])
    /// that change what an index holds, the document level's only when it
    /// has one.
    #[must_use]
    pub fn of(config: &Config) -> IndexParams {
        let p = Parameters::of(config);
        let docs = p.level != "blocks";
        let d = p.documents;
        let minhash = docs && d.num_perm.is_some();
        IndexParams {
            engine: ENGINE_VERSION,
            seed: p.seed,
            level: p.level,
            blocks: p.blocks,
            block_shingle: p.block_shingle,
            block_threshold: p.block_threshold,
            min_words: p.min_words,
            method: d.method,
            doc_shingle: d.doc_shingle,
            threshold: d.threshold,
            measure: d.measure,
            num_perm: d.num_perm.filter(|_| minhash),
            bands: d.bands.filter(|_| minhash),
            rows: d.rows.filter(|_| minhash),
            hamming: d.hamming.filter(|_| docs),
            strip_markup: config.strip_markup,
        }
    }

    /// The settings that differ, as `--name built-with (this run: other)`.
    #[must_use]
    pub fn differences(&self, run: &IndexParams) -> Vec<String> {
        self.differences_from(run, "this run")
    }

    /// [`IndexParams::differences`], naming the other side `other`.
    #[must_use]
    pub fn differences_from(&self, run: &IndexParams, other: &str) -> Vec<String> {
        let to_map = |p: &IndexParams| match serde_json::to_value(p) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let (built, now) = (to_map(self), to_map(run));
        built
            .iter()
            .filter(|(k, v)| now.get(*k) != Some(v))
            .map(|(k, v)| {
                // As a flag one can type: a switch is `--k` or `--no-k`.
                let flag = |v: Option<&serde_json::Value>| match v {
                    Some(serde_json::Value::Bool(true)) => format!("--{k}"),
                    Some(serde_json::Value::Bool(false)) => format!("--no-{k}"),
                    Some(serde_json::Value::String(s)) => format!("--{k} {s}"),
                    Some(serde_json::Value::Null) | None => format!("--{k} (none)"),
                    Some(v) => format!("--{k} {v}"),
                };
                let shown = flag(now.get(k));
                // `--seed 42 (this run: 7)`, `--strip-markup (this run: --no-strip-markup)`
                let shown = match now.get(k) {
                    Some(serde_json::Value::Bool(_)) => shown,
                    _ => shown.trim_start_matches(&format!("--{k} ")).to_owned(),
                };
                format!("{} ({other}: {shown})", flag(Some(v)))
            })
            .collect()
    }
}

/// Where a section lies in the file.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct SectionEntry {
    /// Byte offset (a multiple of 4096).
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// Bits of the look-up directory (sorted sections only).
    #[serde(default)]
    pub dir_bits: u32,
}

/// The index's table: parameters, counts and sections.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// What the index was built with.
    pub params: IndexParams,
    /// Unix time of the first build.
    pub created: u64,
    /// Unix time of the last update.
    pub updated: u64,
    /// Runs that added to it (builds, updates and merges).
    pub runs: u64,
    /// Documents held.
    pub documents: u64,
    /// Blocks held.
    pub blocks: u64,
    /// Global number of its first document (0 but for the segments of a
    /// chunked run, which follow each other).
    #[serde(default)]
    pub first_document: u64,
    /// Global number of its first block.
    #[serde(default)]
    pub first_block: u64,
    /// Sections by name.
    pub sections: BTreeMap<String, SectionEntry>,
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
#[must_use]
pub fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A duration in seconds, roughly: `40 s`, `12 min`, `5 h`, `3 days`.
#[must_use]
pub fn age(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

/// Current Unix time in seconds.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What `neardup index stats --json` says of an index at `path`: its size,
/// dates, runs, settings and the count of each kind of record (`verified`:
/// whether every checksum was checked first).
#[must_use]
pub fn stats_json(index: &Segment, path: &std::path::Path, verified: bool) -> serde_json::Value {
    let meta = index.meta();
    let mut value = serde_json::json!({
        "path": path.display().to_string(),
        "format_version": index.format_version(),
        "bytes": index.file_len(),
        "created": meta.created,
        "updated": meta.updated,
        "runs": meta.runs,
        "parameters": meta.params,
        "verified": verified,
    });
    for (name, n) in stats_counts(index) {
        value[name] = n.into();
    }
    value
}

/// The count of each kind of record an index holds, by the names
/// `index stats` gives them.
#[must_use]
pub fn stats_counts(index: &Segment) -> [(&'static str, usize); 9] {
    [
        ("documents", index.documents()),
        ("blocks", index.blocks()),
        ("exact_keys", index.count("exact")),
        ("postings", index.count("postings")),
        ("copies", index.count("members")),
        ("bucket_entries", index.count("bands")),
        ("block_shingles", index.count("block_shingles")),
        ("document_shingles", index.count("doc_shingles")),
        ("short_doc_shingles", index.count("few_sets")),
    ]
}

/// `neardup index merge A B -o OUT`: the documents of `b` appended after
/// those of `a`, as if one run had read both, written to `output` (which may
/// be `a` or `b`: merging a batch's index into a main one) under its lock.
/// Refuses one index given twice (by name or by file identity: it would hold
/// every document twice), one that already holds every document of the
/// other (`(a + empty) + a`: see `overlap.rs`) and indexes built with other
/// settings. What the
/// merge holds is bounded by `memory` (`--memory-limit`, settled by the
/// command before the merge).
/// Returns the documents of `a` and of `b`.
///
/// # Errors
/// Either index unreadable, corrupt or built otherwise; the two one index,
/// or one holding the other's documents;
/// `memory` too small for the merge (`too large`); the output not writable
/// (nothing is replaced then).
pub fn merge_files(
    a: &std::path::Path,
    b: &std::path::Path,
    output: &std::path::Path,
    memory: &MergeMemory,
) -> crate::Result<(usize, usize)> {
    use crate::targets::{check_distinct, Use};
    check_distinct(&[Use::new(a, "index A")], &[Use::new(b, "index B")]).map_err(|_| {
        crate::Error::Usage(format!(
            "{} and {} are one index: merging an index with itself would hold every document twice",
            a.display(),
            b.display()
        ))
    })?;
    check_locks(&[a, b, output], &[Use::new(output, "index merge -o")])?;
    crate::targets::check_writable(&[Use::new(output, "index merge -o")])?;
    crate::targets::check_parents(&[Use::new(output, "index merge -o")])?;
    check_distinct(
        &[Use::new(a, "index A"), Use::new(b, "index B")],
        &[Use::new(lock_path(output), "the output's lock file")],
    )?;
    // The output's lock is held from before reading (the output may be one
    // of the inputs) until the merged index is in place.
    let mut lock = lock(output)?;
    let (a_path, b_path) = (a, b);
    let (a, b) = (Segment::open(a, None, None)?, Segment::open(b, None, None)?);
    if same_header(a_path, b_path) {
        return Err(crate::Error::Usage(format!(
            "{} and {} are one index (one is a copy of the other): merging an index with itself would hold every document twice",
            crate::escape::shown_path(a_path),
            crate::escape::shown_path(b_path)
        )));
    }
    let merged = merge(&a, &b, output, memory)?;
    // Asked of the merge made (its temporary file goes unless renamed in):
    // a corrupt index is named as such first, and settings that differ.
    let overlap = (a.meta().params == b.meta().params)
        .then(|| overlap::held_by_other(&a, &b, memory.limit / 4))
        .flatten();
    if let Some((b_held, count)) = overlap {
        let (held, holder) = if b_held {
            (b_path, a_path)
        } else {
            (a_path, b_path)
        };
        drop(merged);
        return Err(crate::Error::Usage(format!(
            "{}: {} already in {} (the same ids, files, lines and blocks): merging would hold {} twice (nothing was written)",
            crate::escape::shown_path(held),
            match count {
                1 => "its one document is".to_owned(),
                n => format!("all {} of its documents are", crate::report::thousands(n)),
            },
            crate::escape::shown_path(holder),
            if count == 1 { "it" } else { "each of them" },
        )));
    }
    merged.persist()?;
    lock.keep();
    Ok((a.documents(), b.documents()))
}

/// Whether two index files have the same header: the same length, table
/// and checksum over the table and every chunk's checksum, so the same bytes.
fn same_header(a: &std::path::Path, b: &std::path::Path) -> bool {
    let header = |path: &std::path::Path| {
        let mut bytes = [0u8; HEADER_LEN];
        std::io::Read::read_exact(&mut std::fs::File::open(path).ok()?, &mut bytes).ok()?;
        Some(bytes)
    };
    header(a).is_some_and(|h| header(b) == Some(h))
}
