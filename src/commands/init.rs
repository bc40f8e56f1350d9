//! `opm init <package>`: one `olm.package` blob.

use crate::cli::InitArgs;
use crate::output::CmdResult;

pub fn run(_args: InitArgs) -> CmdResult {
    todo!("init")
}
