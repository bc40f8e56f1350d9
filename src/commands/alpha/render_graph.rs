//! `opm alpha render-graph INDEX...`: the upgrade graphs of an index as
//! mermaid text (the writer is `catalog::mermaid`).

use crate::catalog::mermaid::{MermaidOptions, write_mermaid};
use crate::cli::alpha::RenderGraphArgs;
use crate::cli::{GlobalFlags, min_args};
use crate::output::{CmdResult, CommandError, Style};

pub fn run(args: RenderGraphArgs, global: &GlobalFlags) -> CmdResult {
    min_args(&args.refs, 1).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let fatal = |m: String| CommandError::new(Style::GoLog, m);
    global.check_tls().map_err(fatal)?;
    let mut cfg = crate::catalog::DeclarativeConfig::default();
    for reference in &args.refs {
        let part = super::render_index(reference, global)
            .map_err(|e| fatal(e.message).with_location(e.location))?;
        cfg.extend(part);
    }
    let opts = MermaidOptions {
        min_edge_name: args.minimum_edge,
        specified_package_name: args.package_name,
        draw_v0_semantics: args.draw_v0_semantics == Some(true),
    };
    let mut out = Vec::new();
    let warnings = write_mermaid(&cfg, &opts, &mut out).map_err(fatal)?;
    for w in warnings {
        eprintln!("{w}");
    }
    super::super::write_stdout(|w| w.write_all(&out)).map_err(|e| fatal(e.to_string()))
}
