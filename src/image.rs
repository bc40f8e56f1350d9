//! Container images, mechanism only: resolve a reference, pull (or read
//! from disk), verify, unpack.
//!
//! An image is pulled (`registry`: OCI and Docker registries, with the
//! credentials of `auth` and the blob store of `cache`) or read from disk
//! (`local`: OCI layouts and `docker save` archives), and its layers are
//! applied into a private temporary root (`unpack`). What the image *is*
//! (catalog, bundle, SQLite index: its config labels say, spec §4.2) and
//! what to do with it is decided above this module, in `crate::source`.
//!
//! Async code (tokio, oci-client) stays inside this module: callers see
//! blocking functions.

pub mod auth;
pub mod build;
pub mod cache;
pub mod digest;
pub mod local;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod tree;
pub mod unpack;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::catalog::load::go_quote;
use reference::ImageRef;

/// The label naming the folder of a file-based catalog image.
pub const LABEL_CONFIGS: &str = "operators.operatorframework.io.index.configs.v1";
/// The label of a registry+v1 bundle image.
pub const LABEL_BUNDLE_PACKAGE: &str = "operators.operatorframework.io.bundle.package.v1";
/// The label naming the database of a SQLite index image.
pub const LABEL_DATABASE: &str = "operators.operatorframework.io.index.database.v1";

/// The default bound on what one image may expand to on disk.
pub const DEFAULT_MAX_UNPACKED_BYTES: u64 = 8 << 30;

/// How images are fetched; set by the command from its flags.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// `--use-http` (Go: insecure, spec §0.1).
    pub use_http: bool,
    /// `--skip-tls-verify`.
    pub skip_tls_verify: bool,
    /// Where blobs are cached; `None`: [`cache::default_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Draw per-image progress bars on stderr.
    pub progress: bool,
    /// `--ca-file`: extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// Bound on what one image may expand to; 0: `$OPM_IMAGE_MAX_BYTES` or
    /// [`DEFAULT_MAX_UNPACKED_BYTES`].
    pub max_unpacked_bytes: u64,
    /// `--cache-max-size` (`500M`, `10G`): bound on the cache directory;
    /// `None`: `$OPM_CACHE_MAX_SIZE` or [`tree::DEFAULT_MAX_CACHE_BYTES`].
    pub cache_max_size: Option<String>,
}

impl PullOptions {
    fn max_bytes(&self) -> u64 {
        if self.max_unpacked_bytes > 0 {
            return self.max_unpacked_bytes;
        }
        std::env::var("OPM_IMAGE_MAX_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_UNPACKED_BYTES)
    }

    /// The cache bound; an unreadable `$OPM_CACHE_MAX_SIZE` is an error.
    pub fn cache_max_bytes(&self) -> Result<u64, String> {
        if let Some(v) = &self.cache_max_size {
            return tree::parse_size(v).map_err(|e| format!("--cache-max-size: {e}"));
        }
        match std::env::var("OPM_CACHE_MAX_SIZE") {
            Ok(v) if !v.trim().is_empty() => {
                tree::parse_size(&v).map_err(|e| format!("OPM_CACHE_MAX_SIZE: {e}"))
            }
            _ => Ok(tree::DEFAULT_MAX_CACHE_BYTES),
        }
    }
}

/// A fetched image: its labels and its layers as local files.
pub struct Pulled {
    pub labels: BTreeMap<String, String>,
    /// The image manifest as stored (never an index: that was resolved to
    /// one platform); `None` for a Docker archive, which has none.
    pub manifest: Option<Vec<u8>>,
    /// The image config as stored.
    pub config: Vec<u8>,
    pub layers: Vec<unpack::Layer>,
    /// A directory the layer files live in, removed with the image.
    _keep: Option<tempfile::TempDir>,
    /// The layers (and manifest and config) live in the blob cache, and
    /// their unpacked tree may be kept there too ([`tree`]).
    in_cache: bool,
}

type PullResult = Arc<Result<Pulled, String>>;

/// Fetches images for one run, remembering each result so that images
/// fetched ahead of time (concurrently, by [`Puller::prefetch`]) are not
/// fetched again.
pub struct Puller {
    opts: PullOptions,
    cache: Mutex<Option<Arc<cache::BlobCache>>>,
    done: Mutex<HashMap<String, PullResult>>,
}

impl Puller {
    pub fn new(opts: PullOptions) -> Puller {
        Puller {
            opts,
            cache: Mutex::new(None),
            done: Mutex::new(HashMap::new()),
        }
    }

    fn blob_cache(&self) -> Result<Arc<cache::BlobCache>, String> {
        let mut slot = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let dir = self.opts.cache_dir.clone().or_else(cache::default_dir);
        let c = Arc::new(cache::BlobCache::open(dir)?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Fetch every reference among `refs` that is not an existing path,
    /// registry images concurrently; results wait for [`Puller::get`].
    pub fn prefetch(&self, refs: &[String]) {
        let mut remote = Vec::new();
        for r in refs {
            if Path::new(r).exists() || self.lock_done().contains_key(r) {
                continue;
            }
            match reference::parse_image_ref(r) {
                Ok(ImageRef::Registry(parsed)) => remote.push((r.clone(), parsed)),
                Ok(local) => {
                    let result = self.fetch_local(&local);
                    self.lock_done().insert(r.clone(), Arc::new(result));
                }
                Err(e) => {
                    self.lock_done().insert(r.clone(), Arc::new(Err(e)));
                }
            }
        }
        if remote.is_empty() {
            return;
        }
        let results = self.fetch_remote(&remote, false);
        let mut done = self.lock_done();
        for ((r, _), result) in remote.into_iter().zip(results) {
            done.insert(r, Arc::new(result));
        }
    }

    /// The image `reference`, fetched now unless it was prefetched.
    pub fn get(&self, reference: &str) -> PullResult {
        if let Some(r) = self.lock_done().get(reference) {
            return r.clone();
        }
        self.prefetch(&[reference.to_string()]);
        self.lock_done()
            .get(reference)
            .cloned()
            .unwrap_or_else(|| Arc::new(Err(format!("{reference} is a local path"))))
    }

    /// [`Puller::get`], with every layer present as a file: a catalog
    /// image whose unpacked tree is cached was pulled without its layers,
    /// which are then fetched now (for callers that read or push them).
    pub fn get_with_layers(&self, reference: &str) -> PullResult {
        let got = self.get(reference);
        let missing = match got.as_ref() {
            Ok(p) => p.layers.iter().any(|l| !l.path.is_file()),
            Err(_) => false,
        };
        if !missing {
            return got;
        }
        let Ok(ImageRef::Registry(parsed)) = reference::parse_image_ref(reference) else {
            return got;
        };
        let result = self
            .fetch_remote(&[(reference.to_string(), parsed)], true)
            .pop()
            .unwrap_or_else(|| Err("no pull result".into()));
        let result = Arc::new(result);
        self.lock_done()
            .insert(reference.to_string(), result.clone());
        result
    }

    /// Fetch `reference` and apply its layers into `root` (every entry
    /// checked, the size bounded: see [`unpack`]); returns its labels.
    pub fn unpack_into(
        &self,
        reference: &str,
        root: &Path,
    ) -> Result<BTreeMap<String, String>, String> {
        let pulled = self.get_with_layers(reference);
        let pulled = pulled.as_ref().as_ref().map_err(Clone::clone)?;
        unpack::apply_layers(&pulled.layers, root, self.opts.max_bytes())?;
        Ok(pulled.labels.clone())
    }

    fn lock_done(&self) -> std::sync::MutexGuard<'_, HashMap<String, PullResult>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fetch_local(&self, r: &ImageRef) -> Result<Pulled, String> {
        match r {
            ImageRef::OciLayout { dir, tag } => local::oci_layout(dir, tag.as_deref()),
            ImageRef::DockerArchive { file, image } => {
                local::docker_archive(file, image.as_deref(), self.opts.max_bytes())
            }
            ImageRef::Registry(_) => unreachable!("registry references are fetched remotely"),
        }
    }

    /// A registry session on this run's blob cache, and a runtime to drive it.
    fn session(&self) -> Result<(registry::Session, tokio::runtime::Runtime), String> {
        let cache = self.blob_cache()?;
        let session = registry::Session::new(&self.opts, cache)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("start async runtime: {e}"))?;
        Ok((session, runtime))
    }

    fn fetch_remote(
        &self,
        refs: &[(String, reference::Reference)],
        need_layers: bool,
    ) -> Vec<Result<Pulled, String>> {
        let (session, runtime) = match self.session() {
            Ok(s) => s,
            Err(e) => return refs.iter().map(|_| Err(e.clone())).collect(),
        };
        runtime.block_on(futures_util::future::join_all(
            refs.iter()
                .map(|(_, parsed)| session.pull(parsed, need_layers)),
        ))
    }
}

/// An image fetched and applied into a root: a private temporary one, or,
/// for a file-based catalog image from a registry, the unpacked tree kept
/// in the blob cache ([`tree`]), which later runs read without unpacking.
/// What the layers hold, and the config labels that say what kind of image
/// it is.
pub struct Unpacked {
    pub labels: BTreeMap<String, String>,
    root: Root,
    /// The regular files this run just unpacked (root-relative path: size
    /// and file hash); `None` when the tree came from the cache.
    fresh: Option<unpack::Written>,
    /// A tree from the cache that is to be checked as it is read (see
    /// [`Puller::unpack_tapped`]).
    unchecked: Option<tree::Unchecked>,
}

enum Root {
    Temp(tempfile::TempDir),
    /// A tree in the cache: read it, never write to it.
    Cached(PathBuf),
}

impl Unpacked {
    /// The root of the unpacked file system (removed with `self` unless it
    /// is kept in the cache).
    pub fn root(&self) -> &Path {
        match &self.root {
            Root::Temp(t) => t.path(),
            Root::Cached(p) => p,
        }
    }

    /// Whether the root is a tree kept in the blob cache.
    pub fn is_cached(&self) -> bool {
        matches!(self.root, Root::Cached(_))
    }

    /// What the root holds now at `rel` (a `/`-separated root-relative
    /// path) when this run unpacked it: size and
    /// [`file_hash`](digest::file_hash) of the regular file; `None`
    /// otherwise (no such regular file, or a tree read from the cache).
    pub fn fresh_file(&self, rel: &str) -> Option<&(u64, String)> {
        self.fresh.as_ref()?.get(rel)
    }

    /// `path` (below the root) named as the unpacker, the tree index and
    /// [`fresh_file`](Self::fresh_file) name files: root-relative,
    /// `/`-separated.
    pub fn rel_name(&self, path: &Path) -> String {
        crate::catalog::load::rel_components(self.root(), path).join("/")
    }

    /// The cached tree this root is, when it was opened unchecked: its
    /// reader checks what it reads against the tree's index.
    pub fn unchecked(&self) -> Option<&tree::Unchecked> {
        self.unchecked.as_ref()
    }

    /// Remove the cached tree this root is from the cache (it proved
    /// damaged as it was read); a later unpack builds it again.
    pub fn discard(&self, puller: &Puller) {
        if let (Some(t), Ok(cache)) = (&self.unchecked, puller.blob_cache()) {
            t.discard(&cache);
        }
    }
}

impl Puller {
    /// Fetch `reference` (unless prefetched) and apply its layers into a
    /// fresh temporary root, with the safe unpacker's checks. Errors are
    /// Go's `failed to pull image "<ref>": …` / `failed to unpack …`.
    ///
    /// A file-based catalog image from a registry is unpacked once into the
    /// blob cache and later read from there (checked against its index
    /// first); when unpacking fails, its layers, config and manifest are
    /// removed from the cache.
    pub fn unpack(&self, reference: &str) -> Result<Unpacked, String> {
        self.unpack_tapped(reference, None, false)
    }

    /// [`unpack`](Self::unpack), handing each regular file that a layer
    /// writes below a file-based catalog image's catalog folder (its
    /// `configs` label) to `on_file` as soon as it is on disk (see
    /// [`unpack::Tap`]). Nothing is handed over when the tree comes from
    /// the cache, or for other kinds of image.
    ///
    /// With `check_as_read`, a tree from the cache is not checked here but
    /// handed over [`Unpacked::unchecked`]: the caller checks each file as
    /// it reads it, and [discards](Unpacked::discard) the tree and unpacks
    /// again when one differs.
    pub fn unpack_tapped(
        &self,
        reference: &str,
        on_file: Option<&unpack::OnFile<'_>>,
        check_as_read: bool,
    ) -> Result<Unpacked, String> {
        let q = go_quote(reference);
        let pulled = self.get(reference);
        let pulled = pulled
            .as_ref()
            .as_ref()
            .map_err(|e| format!("failed to pull image {q}: {e}"))?;
        let labels = pulled.labels.clone();
        let tap = on_file.and_then(|on_file| {
            Some(unpack::Tap {
                under: label_components(labels.get(LABEL_CONFIGS)?)?.join("/"),
                max_file: TAP_MAX_FILE,
                on_file,
            })
        });
        let tap = tap.as_ref();
        if pulled.in_cache
            && labels.contains_key(LABEL_CONFIGS)
            && let Some(key) = tree::key(&pulled.layers)
        {
            let bound = self.opts.cache_max_bytes()?;
            let cache = self.blob_cache()?;
            if check_as_read && let Some(tree) = tree::open_unchecked(&cache, &key) {
                tree.touch();
                return Ok(Unpacked {
                    labels,
                    root: Root::Cached(tree.root()),
                    fresh: None,
                    unchecked: Some(tree),
                });
            }
            if let Some(root) = tree::open(&cache, &key) {
                return Ok(Unpacked {
                    labels,
                    root: Root::Cached(root),
                    fresh: None,
                    unchecked: None,
                });
            }
            // The pull skipped the layers of a tree that has now proved
            // damaged (and was removed): pull again, layers included.
            if pulled.layers.iter().any(|l| !l.path.is_file()) {
                let again = self.get_with_layers(reference);
                let again = again
                    .as_ref()
                    .as_ref()
                    .map_err(|e| format!("failed to pull image {q}: {e}"))?;
                return self.build_tree(&cache, &key, again, &q, bound, tap);
            }
            return self.build_tree(&cache, &key, pulled, &q, bound, tap);
        }
        let root = tempfile::Builder::new()
            .prefix("opm-unpack-")
            .tempdir()
            .map_err(|e| format!("create tempdir: {e}"))?;
        let written =
            unpack::apply_layers_hashed(&pulled.layers, root.path(), self.opts.max_bytes(), tap)
                .map_err(|e| format!("failed to unpack image {q}: {e}"))?;
        Ok(Unpacked {
            labels,
            root: Root::Temp(root),
            fresh: Some(written),
            unchecked: None,
        })
    }

    /// Unpack `pulled` into a new tree `key` of the cache, then keep the
    /// cache within `bound`.
    fn build_tree(
        &self,
        cache: &cache::BlobCache,
        key: &digest::Digest,
        pulled: &Pulled,
        q: &str,
        bound: u64,
        tap: Option<&unpack::Tap<'_>>,
    ) -> Result<Unpacked, String> {
        let max = self.opts.max_bytes();
        let mut fresh = None;
        let built = tree::build(cache, key, |root| {
            let written = unpack::apply_layers_hashed(&pulled.layers, root, max, tap)
                .map_err(|e| format!("failed to unpack image {q}: {e}"))?;
            fresh = Some(written.clone());
            Ok(written)
        });
        let root = match built {
            Ok(root) => root,
            Err(e) => {
                forget(cache, pulled);
                return Err(e);
            }
        };
        let mut keep: Vec<PathBuf> = pulled.layers.iter().map(|l| l.path.clone()).collect();
        keep.push(cache.path(&digest::Digest::of(&pulled.config)));
        keep.extend(
            pulled
                .manifest
                .iter()
                .map(|m| cache.path(&digest::Digest::of(m))),
        );
        keep.push(root.clone());
        tree::evict(cache, bound, &keep);
        Ok(Unpacked {
            labels: pulled.labels.clone(),
            root: Root::Cached(root),
            fresh,
            unchecked: None,
        })
    }
}

/// Remove an image that failed to unpack from the blob cache: its layers,
/// its config and its manifest, so that a bad image leaves nothing behind.
fn forget(cache: &cache::BlobCache, pulled: &Pulled) {
    for l in &pulled.layers {
        if let Some(d) = &l.digest {
            let _ = std::fs::remove_file(cache.path(d));
        }
    }
    let _ = std::fs::remove_file(cache.path(&digest::Digest::of(&pulled.config)));
    if let Some(m) = &pulled.manifest {
        let _ = std::fs::remove_file(cache.path(&digest::Digest::of(m)));
    }
}

/// Catalog files up to this size are handed to a tap as they are unpacked;
/// larger ones are read from disk afterwards.
const TAP_MAX_FILE: u64 = 64 << 20;

/// The folder a path label (`/configs`, `/database/index.db`) names inside
/// an unpacked root.
///
/// Go joins the label onto the root (`filepath.Join`), which cleans `..`
/// away at the root; a label that climbs out is refused here instead.
pub fn label_path(root: &Path, label: &str, value: &str) -> Result<PathBuf, String> {
    let mut path = root.to_path_buf();
    path.extend(
        label_components(value)
            .ok_or_else(|| format!("image label {label}={value:?} leaves the image root"))?,
    );
    Ok(path)
}

/// The folders a path label names below the root (`/configs/` →
/// `["configs"]`); `None` when it climbs out (`..`).
fn label_components(value: &str) -> Option<Vec<&str>> {
    value
        .split('/')
        .filter(|c| !matches!(*c, "" | "."))
        .map(|c| (c != "..").then_some(c))
        .collect()
}
