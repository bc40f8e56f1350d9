//! Shared helpers: where the binary and the test data are.

use std::path::PathBuf;

pub fn opm() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_opm"))
}

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}
