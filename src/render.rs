//! The render action shared by `render`, `migrate` and `index`: turn
//! references (catalog or bundle directories, SQLite databases, and images
//! of each kind) into one catalog, as Go opm's `action.Render` does
//! (spec §4.2–§4.3). What a reference is comes from `crate::source`.

use std::path::Path;

use crate::catalog::{self, DeclarativeConfig, LoadOptions, Location, migrate::Level};
use crate::source::{self, ImageContent, Source};

/// Which kinds of reference a caller accepts (`migrate` takes catalogs only).
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub bundle_dirs: bool,
    pub bundle_images: bool,
    /// Legacy SQLite index database files (v1.73 behaviour, spec §7.3).
    pub sqlite_files: bool,
    /// Legacy SQLite index images (v1.73 behaviour; Go HEAD refuses them).
    pub sqlite_images: bool,
}

impl Allowed {
    pub const ALL: Allowed = Allowed {
        bundle_dirs: true,
        bundle_images: true,
        sqlite_files: true,
        sqlite_images: true,
    };
    pub const CATALOGS: Allowed = Allowed {
        bundle_dirs: false,
        bundle_images: false,
        sqlite_files: true,
        sqlite_images: true,
    };
}

impl Default for Allowed {
    fn default() -> Self {
        Allowed::ALL
    }
}

#[derive(Default)]
pub struct RenderOptions<'a> {
    pub migrate: Level,
    pub image_ref_template: Option<&'a crate::bundle::ImageTemplate>,
    pub allowed: Allowed,
    /// The run's image fetcher (images prefetched concurrently); `None`
    /// fetches with default options when an image is met.
    pub images: Option<&'a crate::image::Puller>,
    /// Told before a SQLite database (file or image) is rendered, so the
    /// command can print v1.73's deprecation warning (spec §8).
    pub on_sqlite: Option<&'a (dyn Fn() + Sync)>,
}

/// A render failure: Go's text for `render reference "<ref>": <cause>`
/// (the prefix is added by the caller), and where it happened.
#[derive(Debug)]
pub struct RenderError {
    pub message: String,
    pub location: Option<Location>,
}

impl From<String> for RenderError {
    fn from(message: String) -> Self {
        RenderError {
            message,
            location: None,
        }
    }
}

impl From<crate::sqlite::SqliteError> for RenderError {
    fn from(e: crate::sqlite::SqliteError) -> Self {
        RenderError {
            message: e.message().to_string(),
            location: Some(Location {
                path: std::path::PathBuf::from(e.location()).into(),
                line: None,
            }),
        }
    }
}

impl From<catalog::LoadError> for RenderError {
    fn from(e: catalog::LoadError) -> Self {
        RenderError {
            message: e.message,
            location: e.location,
        }
    }
}

/// Render one reference into a config, with the render-wide
/// transformations applied.
pub fn render_ref(
    reference: &str,
    opts: &RenderOptions<'_>,
) -> Result<DeclarativeConfig, RenderError> {
    let parts = catalog::load::Parts::default();
    render_ref_each(reference, opts, &|i, cfg| {
        parts.add(i, cfg);
        Ok(())
    })?;
    Ok(parts.merge())
}

/// The callback of [`render_ref_each`]: a load unit's index (its file's
/// position in walk order) and its blobs, transformed.
pub type PartFn<'a> = dyn Fn(usize, DeclarativeConfig) -> Result<(), String> + Sync + 'a;

/// Render one reference, handing each load unit (a catalog file, or the
/// single bundle of a bundle) to `f` as soon as it is ready, possibly from
/// several threads.
pub fn render_ref_each(
    reference: &str,
    opts: &RenderOptions<'_>,
    f: &PartFn<'_>,
) -> Result<(), RenderError> {
    let path = Path::new(reference);
    match source::classify(reference) {
        Source::Image => render_image(reference, opts, f),
        Source::BundleDir => {
            if !opts.allowed.bundle_dirs {
                return Err(format!(
                    "cannot render bundle directory {}: not allowed",
                    catalog::load::go_quote(reference)
                )
                .into());
            }
            let bundle = crate::bundle::render_dir(path, opts.image_ref_template)?;
            render_bundle(bundle, opts, f)
        }
        Source::CatalogDir => render_catalog_dir(path, opts, f),
        Source::SqliteFile => {
            if !opts.allowed.sqlite_files {
                return Err("cannot render sqlite file: not allowed".to_string().into());
            }
            render_sqlite(path, opts, f)
        }
        Source::OtherFile => Err(format!(
            "ref {} is not a directory: not allowed",
            catalog::load::go_quote(reference)
        )
        .into()),
    }
}

/// Render a SQLite index database, one load unit per package so that a
/// large index streams.
fn render_sqlite(path: &Path, opts: &RenderOptions<'_>, f: &PartFn<'_>) -> Result<(), RenderError> {
    if let Some(tell) = opts.on_sqlite {
        tell();
    }
    let keep_objects = opts.migrate.needs_objects();
    crate::sqlite::render_db_each(
        path,
        LoadOptions {
            keep_objects,
            ..Default::default()
        },
        &mut |i, cfg| f(i, finish(cfg, opts)?),
    )
    .map_err(RenderError::from)
}

/// Render the image `reference` (anything that is not an existing path):
/// fetch and unpack it, then render what its labels say it holds by the
/// same code as a directory, so an image and the directory it was built
/// from give the same output (a bundle image's `image` is the reference).
fn render_image(
    reference: &str,
    opts: &RenderOptions<'_>,
    f: &PartFn<'_>,
) -> Result<(), RenderError> {
    let owned;
    let puller = match opts.images {
        Some(p) => p,
        None => {
            owned = crate::image::Puller::new(Default::default());
            &owned
        }
    };
    let image = puller.unpack(reference)?;
    match source::image_content(&image, reference)? {
        ImageContent::Catalog(dir) => render_catalog_dir(&dir, opts, f),
        ImageContent::Bundle => {
            if !opts.allowed.bundle_images {
                return Err("cannot render bundle image: not allowed".to_string().into());
            }
            let bundle = crate::bundle::render_image_dir(image.root(), reference)?;
            render_bundle(bundle, opts, f)
        }
        ImageContent::SqliteIndex(db) => {
            if !opts.allowed.sqlite_images {
                return Err("cannot render sqlite image: not allowed".to_string().into());
            }
            render_sqlite(&db, opts, f)
        }
    }
}

/// The render-wide transformations of one load unit (spec §4.3).
fn finish(
    mut cfg: DeclarativeConfig,
    opts: &RenderOptions<'_>,
) -> Result<DeclarativeConfig, String> {
    catalog::prepare_for_render(&mut cfg);
    catalog::migrate::migrate(&mut cfg, opts.migrate)?;
    Ok(cfg)
}

/// Render one bundle (from a directory or an image) as load unit 0.
pub fn render_bundle(
    bundle: catalog::Bundle,
    opts: &RenderOptions<'_>,
    f: &PartFn<'_>,
) -> Result<(), RenderError> {
    let cfg = finish(
        DeclarativeConfig {
            bundles: vec![bundle],
            ..Default::default()
        },
        opts,
    )?;
    f(0, cfg).map_err(RenderError::from)
}

/// Render a file-based catalog directory (given, or unpacked from an image).
pub fn render_catalog_dir(
    path: &Path,
    opts: &RenderOptions<'_>,
    f: &PartFn<'_>,
) -> Result<(), RenderError> {
    let keep_objects = opts.migrate.needs_objects();
    catalog::load_path_each(
        path,
        LoadOptions {
            keep_objects,
            ..Default::default()
        },
        &|i, cfg| {
            let cfg = finish(cfg, opts).map_err(|message| catalog::LoadError {
                message,
                location: None,
            })?;
            f(i, cfg).map_err(|message| catalog::LoadError {
                message,
                location: None,
            })
        },
    )
    .map_err(RenderError::from)
}
