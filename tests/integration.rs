//! End-to-end tests of the `neardup` binary and property tests of the library.

mod banded;
mod bombs;
mod bounds;
mod careless;
mod check;
mod chunked;
mod cli;
mod corpora;
mod crafted;
mod determinism;
mod errors;
mod faults;
mod golden;
mod html;
mod index;
mod layout;
mod parents;
mod parquet;
mod parquet_schemas;
mod pipes;
mod props;
mod resident;
mod short;
mod simhash_short;
mod targets;
mod util;
