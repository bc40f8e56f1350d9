//! `opm alpha ...`: Go opm's alpha commands (hidden from the root help, as
//! in Go builds without the alpha help switch).

pub mod convert_template;
pub mod render_template;

use crate::cli::GlobalFlags;
use crate::cli::alpha::{AlphaArgs, AlphaCommand};
use crate::output::CmdResult;

pub fn run(args: AlphaArgs, global: &GlobalFlags) -> CmdResult {
    match args.command {
        Some(AlphaCommand::RenderTemplate(a)) => render_template::run(a, global),
        Some(AlphaCommand::ConvertTemplate(a)) => convert_template::run(a),
        // Go's `alpha` has an empty Run: no output, exit 0.
        None => Ok(()),
    }
}

/// Read FILE, or stdin for `-` (Go's `OpenFileOrStdin`): the text and the
/// name errors use.
pub(crate) fn read_file_or_stdin(path: &str) -> Result<(String, String), (String, String)> {
    use std::io::Read;
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| ("stdin".to_string(), format!("read stdin: {e}")))?;
        return Ok((String::from_utf8_lossy(&buf).into_owned(), "stdin".into()));
    }
    match std::fs::read(path) {
        Ok(b) => Ok((String::from_utf8_lossy(&b).into_owned(), path.to_string())),
        Err(e) => Err((
            path.to_string(),
            crate::catalog::load::go_io_error("open", std::path::Path::new(path), &e),
        )),
    }
}

/// cobra's usage text printed after an `Error:` line (Go prints it; the
/// conformance records cut stderr at its `Usage:` line).
pub(crate) fn cobra_usage(use_line: &str, flags: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, &str)> = vec![("-h, --help", "help for this command")];
    all.extend_from_slice(flags);
    let width = all.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    let mut s = format!("Usage:\n  {use_line}\n\nFlags:\n");
    for (f, help) in all {
        let pad = if f.starts_with("--") { "    " } else { "" };
        s.push_str(&format!("  {pad}{f:<w$}   {help}\n", w = width - pad.len()));
    }
    s.push_str(GLOBAL_FLAGS);
    s
}

const GLOBAL_FLAGS: &str = "\nGlobal Flags:\n      --skip-tls-verify   skip TLS certificate verification for container image registries while pulling bundles\n      --use-http          use plain HTTP for container image registries while pulling bundles\n";
