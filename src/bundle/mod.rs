//! registry+v1 bundle directories (`manifests/` + `metadata/`) rendered as
//! one `olm.bundle` blob, exactly as Go opm does (spec §4.4).

pub mod csv_metadata;

use std::path::Path;

use crate::catalog::Bundle;

/// A parsed `--alpha-image-ref-template` (Go text/template subset:
/// `{{.Package}}`, `{{.Name}}`, `{{.Version}}`).
#[derive(Debug, Clone)]
pub struct ImageTemplate {
    _text: String,
}

impl ImageTemplate {
    pub fn parse(text: &str) -> Result<ImageTemplate, String> {
        Ok(ImageTemplate {
            _text: text.to_string(),
        })
    }
}

/// Render a bundle directory. Errors are Go's text.
pub fn render_dir(_path: &Path, _template: Option<&ImageTemplate>) -> Result<Bundle, String> {
    todo!("bundle::render_dir")
}
