//! `opm alpha render-template [TYPE] [FILE]`: expand a catalog template
//! into a file-based catalog (json, yaml) or its mermaid graph on stdout.
//!
//! Bundle images named by the template are fetched together up front
//! through the shared blob cache, then rendered in template order.

use crate::catalog::load::go_quote;
use crate::catalog::mermaid::{MermaidOptions, write_mermaid};
use crate::catalog::{DeclarativeConfig, Format, migrate::Level};
use crate::cli::GlobalFlags;
use crate::cli::alpha::RenderTemplateArgs;
use crate::image::Puller;
use crate::output::{CmdResult, CommandError, Style};
use crate::render::{Allowed, RenderOptions, render_ref};
use crate::template::{BundleRenderer, Kind};

enum Output {
    Catalog(Format),
    Mermaid,
}

pub fn run(args: RenderTemplateArgs, global: &GlobalFlags) -> CmdResult {
    let cobra = |m: String| {
        let mut e = CommandError::new(Style::Cobra, m);
        e.usage = Some(super::cobra_usage(
            "opm alpha render-template [TYPE] [FILE] [flags]",
            &[
                (
                    "--migrate-level string",
                    "Name of the last migration to run (default: none)",
                ),
                (
                    "-o, --output string",
                    "Output format (json|yaml|mermaid) (default \"json\")",
                ),
            ],
        ));
        e
    };
    let (kind, path) = match args.args.as_slice() {
        [] => (None, "-"),
        [a] => match Kind::from_type(a) {
            Some(k) => (Some(k), "-"),
            None => (None, a.as_str()),
        },
        [t, f] => match Kind::from_type(t) {
            Some(k) => (Some(k), f.as_str()),
            None => {
                return Err(cobra(format!(
                    "invalid template type {}, must be one of: {}",
                    go_quote(t),
                    Kind::supported_types()
                )));
            }
        },
        more => {
            return Err(cobra(format!(
                "accepts between 0 and 2 arg(s), received {}",
                more.len()
            )));
        }
    };
    let (text, source) = super::read_file_or_stdin(path)
        .map_err(|(name, e)| cobra(format!("unable to open {}: {e}", go_quote(&name))))?;
    let output = match args.output.as_str() {
        "json" => Output::Catalog(Format::Json),
        "yaml" => Output::Catalog(Format::Yaml),
        "mermaid" => Output::Mermaid,
        other => {
            return Err(cobra(format!(
                "invalid --output value {}, expected (json|yaml|mermaid)",
                go_quote(other)
            )));
        }
    };
    global
        .check_tls()
        .map_err(|m| cobra(format!("creating containerd registry: {m}")))?;
    let migrate = Level::parse(&args.migrate_level).map_err(cobra)?;

    let puller = Puller::new(super::super::pull_options(global));
    let renderer = ImageRenderer {
        puller: &puller,
        opts: RenderOptions {
            migrate,
            image_ref_template: None,
            // Go's renderer accepts bundle images only.
            allowed: Allowed {
                bundle_dirs: false,
                bundle_images: true,
                sqlite_files: false,
                sqlite_images: false,
            },
            images: Some(&puller),
            on_sqlite: None,
        },
    };
    let located = |e: crate::template::TemplateError, prefix: &str| {
        let loc = e
            .anchor
            .as_deref()
            .and_then(|a| crate::template::locate(&text, a))
            .map(|l| format!("{source}:{l}"));
        cobra(format!("{prefix}: {}", e.message)).with_location(loc)
    };
    let kind = match kind {
        Some(k) => k,
        None => crate::template::detect(&text)
            .map_err(|e| located(e, "auto-detecting template type"))?,
    };
    let cfg = crate::template::render(kind, &text, &renderer)
        .map_err(|e| located(e, "rendering template"))?;
    write(&cfg, output).map_err(|m| cobra(format!("writing output: {m}")))
}

fn write(cfg: &DeclarativeConfig, output: Output) -> Result<(), String> {
    match output {
        Output::Catalog(format) => {
            let mut out = Vec::new();
            crate::catalog::write::write_stream(cfg, format, &mut out)
                .map_err(|e| e.to_string())?;
            super::super::write_stdout(|w| w.write_all(&out)).map_err(|e| e.to_string())
        }
        Output::Mermaid => {
            let mut out = Vec::new();
            // Go's writer defaults (v0 semantics drawn), unlike render-graph.
            let warnings = write_mermaid(cfg, &MermaidOptions::default(), &mut out)?;
            for w in warnings {
                eprintln!("{w}");
            }
            super::super::write_stdout(|w| w.write_all(&out)).map_err(|e| e.to_string())
        }
    }
}

/// Renders bundle images with the command's puller (Go's `BundleRenderer`
/// built on `action.Render`).
struct ImageRenderer<'a> {
    puller: &'a Puller,
    opts: RenderOptions<'a>,
}

impl BundleRenderer for ImageRenderer<'_> {
    fn prefetch(&self, images: &[String]) {
        self.puller.prefetch(images);
    }

    fn render(&self, image: &str) -> Result<DeclarativeConfig, String> {
        render_ref(image, &self.opts)
            .map_err(|e| format!("render reference {}: {}", go_quote(image), e.message))
    }
}
