//! The render action shared by `render`, `migrate` and `index`: turn
//! references (catalog or bundle directories, SQLite databases, and images
//! of each kind) into one catalog, as Go opm's `action.Render` does
//! (spec §4.2–§4.3). What a reference is comes from `crate::source`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

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
    render_ref_each(reference, opts, &parts)?;
    Ok(parts.merge())
}

/// Where [`render_ref_each`] hands its load units, possibly from several
/// threads.
pub trait Units: Sync {
    /// A load unit's blobs, transformed; `unit` is its file's position in
    /// walk order, or a provisional number until [`renumber`](Self::renumber).
    fn add(&self, unit: usize, cfg: DeclarativeConfig) -> Result<(), String>;
    /// [`add`](Self::add) for a unit loaded from `source`, which the units
    /// may copy its bytes from instead of keeping them.
    fn add_read(
        &self,
        unit: usize,
        cfg: DeclarativeConfig,
        _source: &catalog::load::SourceFile,
    ) -> Result<(), String> {
        self.add(unit, cfg)
    }
    /// Give every unit added so far the number `map` says, or drop it
    /// (`None`). Called when the files of an image were parsed while it
    /// unpacked, before their place in walk order was known.
    fn renumber(&self, map: &(dyn Fn(usize) -> Option<usize> + Sync));
}

impl Units for catalog::load::Parts {
    fn add(&self, unit: usize, cfg: DeclarativeConfig) -> Result<(), String> {
        catalog::load::Parts::add(self, unit, cfg);
        Ok(())
    }

    fn renumber(&self, map: &(dyn Fn(usize) -> Option<usize> + Sync)) {
        catalog::load::Parts::renumber(self, map)
    }
}

/// Render one reference, handing each load unit (a catalog file, or the
/// single bundle of a bundle) to `f` as soon as it is ready, possibly from
/// several threads.
pub fn render_ref_each(
    reference: &str,
    opts: &RenderOptions<'_>,
    f: &dyn Units,
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
fn render_sqlite(path: &Path, opts: &RenderOptions<'_>, f: &dyn Units) -> Result<(), RenderError> {
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
        &mut |i, cfg| f.add(i, finish(cfg, opts)?),
    )
    .map_err(RenderError::from)
}

/// Render the image `reference` (anything that is not an existing path):
/// fetch and unpack it, then render what its labels say it holds by the
/// same code as a directory, so an image and the directory it was built
/// from give the same output (a bundle image's `image` is the reference).
///
/// The files of a file-based catalog image are parsed as the unpacker
/// writes them, while the layers still decompress ([`Streamed`]); those
/// the finished tree holds as they were parsed are then placed in walk
/// order, the others loaded from disk. A catalog tree from the blob cache
/// is checked against its index as it is read ([`render_unchecked`]).
fn render_image(
    reference: &str,
    opts: &RenderOptions<'_>,
    f: &dyn Units,
) -> Result<(), RenderError> {
    render_image_checking(reference, opts, f, true)
}

/// [`render_image`]; `check_as_read` says whether a cached tree may be
/// checked as it is read (else it is checked whole first).
fn render_image_checking(
    reference: &str,
    opts: &RenderOptions<'_>,
    f: &dyn Units,
    check_as_read: bool,
) -> Result<(), RenderError> {
    let owned;
    let puller = match opts.images {
        Some(p) => p,
        None => {
            owned = crate::image::Puller::new(Default::default());
            &owned
        }
    };
    let streamed = Streamed::default();
    let image = rayon::in_place_scope(|scope| {
        let on_file = |rel: &str, data: Vec<u8>, sha: &str| {
            streamed.parse(scope, rel, data, sha, opts, f);
        };
        puller.unpack_tapped(reference, Some(&on_file), check_as_read)
    })?;
    match source::image_content(&image, reference)? {
        ImageContent::Catalog(dir) => match image.unchecked() {
            Some(tree) => match render_unchecked(tree, &image, &dir, opts, f) {
                Some(done) => done,
                None => {
                    // Damaged: whatever was rendered from it is dropped, and
                    // the image unpacked again.
                    f.renumber(&|_| None);
                    image.discard(puller);
                    render_image_checking(reference, opts, f, false)
                }
            },
            None => streamed.finish(&image, &dir, opts, f),
        },
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

/// Render the catalog folder `dir` of a tree from the blob cache, checking
/// each file against the tree's index as it is read (the tree's names and
/// sizes first, then each file's hash as it is parsed, then the files that
/// were not read: ignore files, ignored files). `None` when the tree
/// proves damaged; an error of the render itself is returned only once
/// the whole tree is checked and intact (a damaged file may well be what
/// failed to parse).
fn render_unchecked(
    tree: &crate::image::tree::Unchecked,
    image: &crate::image::Unpacked,
    dir: &Path,
    opts: &RenderOptions<'_>,
    f: &dyn Units,
) -> Option<Result<(), RenderError>> {
    let under = image.rel_name(dir);
    if tree.check_names(&under).is_err() {
        // Links to follow, or a difference: settle it by a whole check.
        return tree
            .check_all()
            .ok()
            .map(|()| render_catalog_dir(dir, opts, f));
    }
    let files: Vec<(usize, PathBuf)> = match catalog::load::files_of(dir) {
        Ok(files) => files.into_iter().enumerate().collect(),
        Err(e) => return tree.check_all().ok().map(|()| Err(e.into())),
    };
    let read: HashSet<String> = files.iter().map(|(_, p)| image.rel_name(p)).collect();
    let damaged = AtomicBool::new(false);
    let holds = |source: &catalog::load::SourceFile| {
        let intact = tree.holds(&image.rel_name(source.path()), &source.bytes);
        if !intact {
            damaged.store(true, Ordering::Relaxed);
        }
        intact
    };
    let rendered = render_files_checked(&files, opts, f, Some(&holds));
    if damaged.load(Ordering::Relaxed) || tree.check_rest(&under, &read).is_err() {
        return None;
    }
    match rendered {
        Ok(()) => Some(Ok(())),
        Err(e) => tree.check_all().ok().map(|()| Err(e)),
    }
}

/// Render one bundle (from a directory or an image) as load unit 0.
pub fn render_bundle(
    bundle: catalog::Bundle,
    opts: &RenderOptions<'_>,
    f: &dyn Units,
) -> Result<(), RenderError> {
    let cfg = finish(
        DeclarativeConfig {
            bundles: vec![bundle],
            ..Default::default()
        },
        opts,
    )?;
    f.add(0, cfg).map_err(RenderError::from)
}

/// Render a file-based catalog directory (given, or unpacked from an image).
pub fn render_catalog_dir(
    path: &Path,
    opts: &RenderOptions<'_>,
    f: &dyn Units,
) -> Result<(), RenderError> {
    let files: Vec<(usize, PathBuf)> = catalog::load::files_of(path)?
        .into_iter()
        .enumerate()
        .collect();
    render_files(&files, opts, f)
}

/// Render catalog files, each the load unit its number says.
fn render_files(
    files: &[(usize, PathBuf)],
    opts: &RenderOptions<'_>,
    f: &dyn Units,
) -> Result<(), RenderError> {
    render_files_checked(files, opts, f, None)
}

/// [`render_files`], handing over only the units of files that `holds`
/// accepts as read (a file it refuses fails the render).
fn render_files_checked(
    files: &[(usize, PathBuf)],
    opts: &RenderOptions<'_>,
    f: &dyn Units,
    holds: Option<&(dyn Fn(&catalog::load::SourceFile) -> bool + Sync)>,
) -> Result<(), RenderError> {
    let keep_objects = opts.migrate.needs_objects();
    catalog::load::load_files_read(
        files,
        LoadOptions {
            keep_objects,
            ..Default::default()
        },
        &|i, cfg, source| {
            if holds.is_some_and(|holds| !holds(source)) {
                return Err(catalog::LoadError {
                    message: format!("{}: changed in the cache", source.path().display()),
                    location: None,
                });
            }
            let cfg = finish(cfg, opts).map_err(|message| catalog::LoadError {
                message,
                location: None,
            })?;
            f.add_read(i, cfg, source)
                .map_err(|message| catalog::LoadError {
                    message,
                    location: None,
                })
        },
    )
    .map_err(RenderError::from)
}

/// Load units from here on are provisional: files parsed while their image
/// was still unpacking, placed in walk order (or dropped) once it is done.
const PROVISIONAL: usize = 1 << 30;

/// Bytes of catalog files handed over by the unpacker and not parsed yet;
/// past it the unpacker waits (one file larger than this is let through
/// alone).
const STREAM_BUDGET: usize = 16 << 20;

/// The catalog files of an image parsed while it unpacks.
///
/// Each file the unpacker writes below the catalog folder is parsed,
/// transformed and handed to the units at once, under a provisional unit
/// number. When the image is unpacked, the catalog folder is walked as a
/// directory would be: a file whose content (its file hash) is the one parsed
/// takes that unit's place; the rest (files a later layer changed, links,
/// files too large to hand over, files that failed to parse) are loaded
/// from disk, so errors are reported exactly as for a directory; units of
/// files the walk does not list (ignored, removed, replaced) are dropped.
#[derive(Default)]
struct Streamed {
    /// By root-relative path: the latest unit parsed for it, and the
    /// file hash of what was parsed.
    files: Mutex<HashMap<String, (usize, String)>>,
    /// Units that parsed and were handed over.
    done: Mutex<HashSet<usize>>,
    next: AtomicUsize,
    in_flight: Mutex<usize>,
    freed: Condvar,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Streamed {
    /// Parse one file on the pool (waiting while too many bytes are
    /// queued).
    fn parse<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        rel: &str,
        data: Vec<u8>,
        sha: &str,
        opts: &'s RenderOptions<'s>,
        f: &'s dyn Units,
    ) {
        let len = data.len();
        self.reserve(len);
        let unit = PROVISIONAL + self.next.fetch_add(1, Ordering::Relaxed);
        locked(&self.files).insert(rel.to_string(), (unit, sha.to_string()));
        let path = PathBuf::from(rel);
        scope.spawn(move |_| {
            let load = LoadOptions {
                keep_objects: opts.migrate.needs_objects(),
                ..Default::default()
            };
            let ok = catalog::load::load_bytes(&data, &path, load)
                .ok()
                .and_then(|cfg| finish(cfg, opts).ok())
                .is_some_and(|cfg| f.add(unit, cfg).is_ok());
            if ok {
                locked(&self.done).insert(unit);
            }
            *locked(&self.in_flight) -= len;
            self.freed.notify_all();
        });
    }

    fn reserve(&self, len: usize) {
        loop {
            let mut queued = locked(&self.in_flight);
            if *queued == 0 || *queued + len <= STREAM_BUDGET {
                *queued += len;
                return;
            }
            if rayon::current_thread_index().is_some() {
                // On the pool: parse queued files instead of waiting.
                drop(queued);
                if let Some(rayon::Yield::Executed) = rayon::yield_now() {
                    continue;
                }
                queued = locked(&self.in_flight);
            }
            let _ = self
                .freed
                .wait_timeout(queued, std::time::Duration::from_millis(5));
        }
    }

    /// Place the parsed units in walk order and load the other files of
    /// the catalog folder `dir` of `image`.
    fn finish(
        self,
        image: &crate::image::Unpacked,
        dir: &Path,
        opts: &RenderOptions<'_>,
        f: &dyn Units,
    ) -> Result<(), RenderError> {
        let parsed = self.files.into_inner().unwrap_or_else(|e| e.into_inner());
        let done = self.done.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut place = HashMap::new();
        let mut rest = Vec::new();
        for (i, file) in catalog::load::files_of(dir)?.into_iter().enumerate() {
            let rel = image.rel_name(&file);
            let same = parsed.get(&rel).and_then(|(unit, sha)| {
                let (_, now) = image.fresh_file(&rel)?;
                (done.contains(unit) && now == sha).then_some(*unit)
            });
            match same {
                Some(unit) => {
                    place.insert(unit, i);
                }
                None => rest.push((i, file)),
            }
        }
        f.renumber(&|unit| {
            if unit < PROVISIONAL {
                Some(unit)
            } else {
                place.get(&unit).copied()
            }
        });
        render_files(&rest, opts, f)
    }
}
