//! Building a catalog image from a directory and pushing it, for the
//! commands that publish catalogs (`index add|prune|prune-stranded|rm
//! --tag`): the image that `opm generate dockerfile` describes, built
//! in-process (`crate::image::build`), with no container engine.

use std::path::Path;

use crate::image::Puller;
use crate::image::build::{CatalogImage, build_and_push_with};

/// Build the catalog image of `configs` on `base_image` and push it to
/// `tag` (a registry reference, or `oci:DIR[:TAG]`); returns the manifest
/// digest.
pub fn push_catalog(
    configs: &Path,
    base_image: &str,
    tag: &str,
    puller: &Puller,
) -> Result<String, String> {
    let image = CatalogImage::as_dockerfile(configs, base_image, &Default::default());
    build_and_push_with(&image, tag, puller)
}
