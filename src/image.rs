//! Container image references and pulling. Pulling is not implemented yet:
//! a reference that is not a local path fails with opm's message.

pub mod reference;

use crate::render::RenderOptions;

/// Render an image reference. Only the reference check exists for now.
pub fn render_image(reference: &str, _opts: &RenderOptions<'_>) -> String {
    match reference::parse_normalized_named(reference) {
        Err(e) => format!(
            "failed to pull image {}: {e}",
            crate::catalog::load::go_quote(reference)
        ),
        Ok(_) => format!(
            "failed to pull image {}: pulling images is not supported yet",
            crate::catalog::load::go_quote(reference)
        ),
    }
}
