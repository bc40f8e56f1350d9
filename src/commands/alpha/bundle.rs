//! `opm alpha bundle generate|unpack`.

use crate::cli::GlobalFlags;
use crate::cli::alpha::{GenerateBundleArgs, UnpackArgs};
use crate::output::CmdResult;

pub fn generate(_args: GenerateBundleArgs) -> CmdResult {
    todo!()
}

pub fn unpack(_args: UnpackArgs, _global: &GlobalFlags) -> CmdResult {
    todo!()
}
