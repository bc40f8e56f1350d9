//! `opm render`: catalogs and bundles to a stream of FBC blobs on stdout.

use crate::bundle::ImageTemplate;
use crate::catalog::sorted::{SortedOutput, keyed_blobs};
use crate::catalog::{DeclarativeConfig, Format, load::go_quote, migrate::Level};
use crate::cli::{GlobalFlags, RenderArgs, min_args};
use crate::output::{CmdResult, CommandError, Style};
use crate::render::{Allowed, RenderOptions, Units, render_ref_each};

pub fn run(args: RenderArgs, global: &GlobalFlags) -> CmdResult {
    min_args(&args.refs, 1).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let fatal = |m: String| CommandError::new(Style::GoLog, m);
    let format = Format::parse(&args.output).ok_or_else(|| {
        fatal(format!(
            "invalid --output value {}, expected (json|yaml)",
            go_quote(&args.output)
        ))
    })?;
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
    let puller = crate::image::Puller::new(super::pull_options(global));
    // Images download together up front; rendering then goes in order.
    puller.prefetch(&args.refs);
    let notice = super::SqliteNotice::default();
    let on_sqlite = || notice.show();
    let opts = RenderOptions {
        migrate: level,
        image_ref_template: template.as_ref(),
        allowed: Allowed::ALL,
        images: Some(&puller),
        on_sqlite: Some(&on_sqlite),
    };
    // Blobs are encoded as they load and written in Go's order at the end;
    // beyond this many bytes they wait in a temporary file, not in memory.
    const MEMORY_BUDGET: usize = 32 << 20;
    let out = SortedOutput::new(format, MEMORY_BUDGET);
    for (r, reference) in args.refs.iter().enumerate() {
        render_ref_each(reference, &opts, &RefUnits { out: &out, r }).map_err(|e| {
            fatal(format!(
                "render reference {}: {}",
                go_quote(reference),
                e.message
            ))
            .with_location(e.location)
        })?;
    }
    super::write_stdout_buffered(|w| out.write_to(w)).map_err(|e| fatal(e.to_string()))
}

/// The load units of reference `r`, keyed and encoded into `out`.
struct RefUnits<'a> {
    out: &'a SortedOutput,
    r: usize,
}

impl Units for RefUnits<'_> {
    fn add(&self, unit: usize, cfg: DeclarativeConfig) -> Result<(), String> {
        self.out
            .add(&keyed_blobs(&cfg, self.r, unit))
            .map_err(|e| e.to_string())
    }

    fn add_read(
        &self,
        unit: usize,
        cfg: DeclarativeConfig,
        source: &crate::catalog::load::SourceFile,
    ) -> Result<(), String> {
        self.out
            .add_read(&keyed_blobs(&cfg, self.r, unit), Some(source))
            .map_err(|e| e.to_string())
    }

    fn renumber(&self, map: &(dyn Fn(usize) -> Option<usize> + Sync)) {
        self.out.renumber(self.r, map)
    }
}
