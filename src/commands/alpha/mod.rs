//! `opm alpha ...`: the alpha commands, one module each.

pub mod bundle;
pub mod convert_template;
pub mod diff;
pub mod list;
pub mod render_graph;
pub mod render_template;

use crate::catalog::DeclarativeConfig;
use crate::catalog::load::go_quote;
use crate::cli::GlobalFlags;
use crate::cli::alpha::{AlphaCommand, BundleCommand};
use crate::output::CmdResult;

pub fn run(command: Option<AlphaCommand>, global: &GlobalFlags) -> CmdResult {
    let Some(command) = command else {
        // Go's `alpha` has an empty Run: no output, exit 0.
        return Ok(());
    };
    match command {
        AlphaCommand::RenderTemplate(a) => render_template::run(a, global),
        AlphaCommand::ConvertTemplate(a) => convert_template::run(a),
        AlphaCommand::List(a) => list::run(a.command, global),
        AlphaCommand::RenderGraph(a) => render_graph::run(a, global),
        AlphaCommand::Diff(a) => diff::run(a, global),
        AlphaCommand::Bundle(b) => match b.command {
            BundleCommand::Generate(a) => bundle::generate(a),
            BundleCommand::Unpack(a) => bundle::unpack(a, global),
        },
    }
}

/// A failed index render: Go's `render reference "<ref>": <cause>`,
/// whether the cause was a refused kind of reference (Go's
/// `ErrNotAllowed`), and where it happened.
struct IndexError {
    message: String,
    not_allowed: bool,
    location: Option<crate::catalog::Location>,
}

/// Render an index reference as `list` and `render-graph` do (Go's
/// `AllowedRefMask: RefDCImage | RefDCDir`, plus v1.73's SQLite files):
/// catalog directories and images, never bundles.
fn render_index(reference: &str, global: &GlobalFlags) -> Result<DeclarativeConfig, IndexError> {
    let puller = crate::image::Puller::new(super::pull_options(global));
    super::render_catalog(reference, &puller).map_err(|e| IndexError {
        not_allowed: e.message.ends_with("not allowed"),
        message: format!("render reference {}: {}", go_quote(reference), e.message),
        location: e.location,
    })
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
