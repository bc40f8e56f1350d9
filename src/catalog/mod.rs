//! The file-based catalog: its blob types, loading a directory, the order
//! and bytes Go opm writes, and the transformations `render` applies.

pub mod diff;
pub(crate) mod fast;
pub mod icon;
pub mod ignore;
pub mod load;
pub mod mermaid;
pub mod migrate;
pub mod model;
pub mod sorted;
pub mod upgrade;
pub mod validate;
pub mod write;

pub use load::{
    LoadError, LoadOptions, Loaded, Location, SourceMap, load_path, load_path_each,
    load_path_located,
};
pub use model::*;
pub use write::Format;

/// What `render` does to every bundle before writing (spec §4.3): bundle
/// objects and CSV metadata move last (relative order kept), and related
/// images are sorted by image.
pub fn prepare_for_render(cfg: &mut DeclarativeConfig) {
    cfg.bundles.iter_mut().for_each(prepare_bundle_for_render);
}

/// [`prepare_for_render`] for one bundle.
pub fn prepare_bundle_for_render(b: &mut Bundle) {
    let is_object = |p: &Property| p.typ == PROP_BUNDLE_OBJECT || p.typ == PROP_CSV_METADATA;
    if b.properties.iter().any(is_object) {
        let (objects, mut rest): (Vec<_>, Vec<_>) = std::mem::take(&mut b.properties)
            .into_iter()
            .partition(|p| is_object(p));
        rest.extend(objects);
        b.properties = rest;
    }
    // Go uses sort.Slice, which is not stable beyond 12 items; real
    // bundles list one image under two names, so replay Go's algorithm.
    crate::gosort::sort_slice(&mut b.related_images, |x, y| x.image < y.image);
}
