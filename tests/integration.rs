//! End-to-end tests of the `neardup` binary and property tests of the library.

mod check;
mod chunked;
mod cli;
mod corpora;
mod determinism;
mod golden;
mod html;
mod index;
mod props;
mod util;
