//! `opm`: author, check, serve and ship Operator Lifecycle Manager
//! file-based catalogs, byte-compatible with Go opm.
//!
//! The binary holds policy (`cli`, `commands`); the other modules are
//! mechanism and never print.

pub mod bundle;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod encoding;
pub mod gosort;
pub mod image;
pub mod index;
pub mod output;
pub mod render;
pub mod semver_range;
pub mod serve;
pub mod source;
pub mod sqlite;
pub mod template;
