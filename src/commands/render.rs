//! `opm render`: catalogs and bundles to a stream of FBC blobs on stdout.

use crate::bundle::ImageTemplate;
use crate::catalog::{DeclarativeConfig, Format, load::go_quote, migrate::Level, write};
use crate::cli::{GlobalFlags, RenderArgs, min_args};
use crate::output::{CmdResult, CommandError, Style};
use crate::render::{Allowed, RenderOptions, render_ref};
use super::SqliteNotice;

pub fn run(args: RenderArgs, global: &GlobalFlags) -> CmdResult {
    min_args(&args.refs, 1).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let fatal = |m: String| CommandError::new(Style::GoLog, m);
    let format = Format::parse(&args.output)
        .ok_or_else(|| fatal(format!("invalid --output value {}, expected (json|yaml)", go_quote(&args.output))))?;
    global.check_tls().map_err(fatal)?;
    let mut level = Level::parse(&args.migrate_level).map_err(fatal)?;
    if args.migrate == Some(true) {
        level = Level::ALL;
    }
    let template = if args.image_ref_template.is_empty() {
        None
    } else {
        Some(
            ImageTemplate::parse(&args.image_ref_template)
                .map_err(|e| fatal(format!("invalid image reference template: {e}")))?,
        )
    };
    let opts = RenderOptions {
        migrate: level,
        image_ref_template: template.as_ref(),
        allowed: Allowed::ALL,
    };
    let mut cfg = DeclarativeConfig::default();
    let mut notice = SqliteNotice::default();
    for r in &args.refs {
        notice.before_render(r);
        let part = render_ref(r, &opts).map_err(|e| {
            fatal(format!("render reference {}: {}", go_quote(r), e.message)).with_location(e.location)
        })?;
        cfg.extend(part);
    }
    super::write_stdout(|w| {
        write::write_stream(&cfg, format, w).map_err(|e| match e {
            write::WriteError::Io(io) => io,
            other => std::io::Error::other(other.to_string()),
        })
    })
    .map_err(|e| fatal(e.to_string()))
}
