//! `opm alpha ...`: the alpha commands, one module each.

pub mod bundle;
pub mod list;
pub mod render_graph;

use crate::catalog::DeclarativeConfig;
use crate::catalog::load::go_quote;
use crate::cli::GlobalFlags;
use crate::cli::alpha::{AlphaCommand, BundleCommand};
use crate::output::CmdResult;
use crate::render::{Allowed, RenderOptions, render_ref};

pub fn run(command: AlphaCommand, global: &GlobalFlags) -> CmdResult {
    match command {
        AlphaCommand::List(a) => list::run(a.command, global),
        AlphaCommand::RenderGraph(a) => render_graph::run(a, global),
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
    let notice = super::SqliteNotice::default();
    let on_sqlite = || notice.show();
    let puller = crate::image::Puller::new(super::pull_options(global));
    let opts = RenderOptions {
        migrate: crate::catalog::migrate::Level::NONE,
        image_ref_template: None,
        allowed: Allowed::CATALOGS,
        images: Some(&puller),
        on_sqlite: Some(&on_sqlite),
    };
    render_ref(reference, &opts).map_err(|e| IndexError {
        not_allowed: e.message.ends_with("not allowed"),
        message: format!("render reference {}: {}", go_quote(reference), e.message),
        location: e.location,
    })
}
