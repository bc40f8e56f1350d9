//! The render action shared by `render` and `migrate`: turn references
//! (catalog or bundle directories, later images and SQLite databases) into
//! one catalog, as Go opm's `action.Render` does (spec §4.2–§4.3).

use std::path::Path;

use crate::catalog::{self, DeclarativeConfig, LoadOptions, Location, migrate::Level};

/// Which kinds of reference a caller accepts (`migrate` takes catalogs only).
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub bundle_dirs: bool,
    pub bundle_images: bool,
    /// Legacy SQLite index database files (v1.73 behaviour, spec §7.3).
    pub sqlite_files: bool,
}

impl Allowed {
    pub const ALL: Allowed = Allowed {
        bundle_dirs: true,
        bundle_images: true,
        sqlite_files: true,
    };
    pub const CATALOGS: Allowed = Allowed {
        bundle_dirs: false,
        bundle_images: false,
        sqlite_files: true,
    };
}

pub struct RenderOptions<'a> {
    pub migrate: Level,
    pub image_ref_template: Option<&'a crate::bundle::ImageTemplate>,
    pub allowed: Allowed,
    /// The run's image fetcher (images prefetched concurrently); `None`
    /// fetches with default options when an image is met.
    pub images: Option<&'a crate::image::Puller>,
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
                path: e.location().into(),
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
    match std::fs::metadata(path) {
        Err(_) => crate::image::render_image(reference, opts, f),
        Ok(m) if m.is_dir() => {
            if is_bundle_dir(path) {
                if !opts.allowed.bundle_dirs {
                    return Err(format!(
                        "cannot render bundle directory {}: not allowed",
                        catalog::load::go_quote(reference)
                    )
                    .into());
                }
                let bundle = crate::bundle::render_dir(path, opts.image_ref_template)?;
                render_bundle(bundle, opts, f)
            } else {
                render_catalog_dir(path, opts, f)
            }
        }
        Ok(_) if crate::sqlite::is_sqlite_file(path) => {
            if !opts.allowed.sqlite_files {
                return Err("cannot render sqlite file: not allowed".to_string().into());
            }
            // One load unit per package, so a large index streams.
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
        Ok(_) => Err(format!(
            "ref {} is not a directory: not allowed",
            catalog::load::go_quote(reference)
        )
        .into()),
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

/// A directory holding real `manifests` and `metadata` sub-directories.
fn is_bundle_dir(path: &Path) -> bool {
    let is_real_dir = |name: &str| {
        std::fs::symlink_metadata(path.join(name))
            .map(|m| m.is_dir())
            .unwrap_or(false)
    };
    is_real_dir("manifests") && is_real_dir("metadata")
}
