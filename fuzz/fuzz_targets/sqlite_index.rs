//! Legacy SQLite index databases: structurally valid files (the schema of
//! a real index) with hostile contents. The input is a list of cell
//! writes `[column][row][len lo][len hi][bytes...]` applied to a copy of
//! testdata/corpus/sqlite/opreg-foo-index.db before rendering it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| opm_fuzz::sqlite_index::run(data));
