//! Integration tests: one binary driving the real `opm` executable.
//!
//! `cases` replays the conformance cases copied into testdata/cases/ (what
//! Go opm printed for each command); the other modules test behaviour that
//! goes beyond Go opm.

mod alpha;
mod cases;
mod completions;
mod diff;
mod fuzz_regressions;
mod generate_dockerfile;
mod image;
mod imgcache;
mod index;
mod init;
mod kill;
mod lints;
mod man;
mod props;
mod push;
mod registry;
mod render;
mod serve;
mod sqlite;
mod templates;
mod util;
mod validate;
mod version;
