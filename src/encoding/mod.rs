//! Go-compatible encoders and decoders: the only code that writes catalog bytes.
//!
//! Go opm writes JSON with `encoding/json` (4-space indent, no HTML escaping)
//! and YAML by round-tripping that JSON through go-yaml v2. Users diff these
//! outputs in git, so we reproduce them byte for byte; see
//! ../shared/spec/go-yaml-json-encoding.md and the recorded cases in
//! testdata/encoding/.

pub mod json;
pub mod json_syntax;
pub mod yaml;
