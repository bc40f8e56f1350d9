//! `opm generate dockerfile <dir>`: the Dockerfile that serves a catalog.

use crate::cli::DockerfileArgs;
use crate::output::CmdResult;

pub fn run(_args: DockerfileArgs) -> CmdResult {
    todo!("generate dockerfile")
}
