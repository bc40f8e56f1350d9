//! Container images as render input: bundle images, file-based catalog
//! images and (refused, as Go opm HEAD refuses them) SQLite index images.
//!
//! An image is pulled (`registry`: OCI and Docker registries, with the
//! credentials of `auth` and the blob store of `cache`) or read from disk
//! (`local`: OCI layouts and `docker save` archives), its layers are
//! applied into a private temporary root (`unpack`), and its config labels
//! say what it is (spec §4.2). The content is then rendered by the same
//! code as a directory, so an image and the directory it was built from
//! give the same output (a bundle image's `image` is the reference).
//!
//! Async code (tokio, oci-client) stays inside this module: callers see
//! blocking functions.

pub mod auth;
pub mod cache;
pub mod digest;
pub mod local;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod unpack;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::catalog::load::go_quote;
use crate::render::{PartFn, RenderError, RenderOptions};
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
    /// A PEM file of extra CA certificates (`bundle unpack --root-ca`).
    pub root_ca: Option<PathBuf>,
    /// Bound on what one image may expand to; 0: `$OPM_IMAGE_MAX_BYTES` or
    /// [`DEFAULT_MAX_UNPACKED_BYTES`].
    pub max_unpacked_bytes: u64,
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
}

/// A fetched image: its labels and its layers as local files.
pub struct Pulled {
    pub labels: BTreeMap<String, String>,
    pub layers: Vec<unpack::Layer>,
    /// A directory the layer files live in, removed with the image.
    _keep: Option<tempfile::TempDir>,
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
        let results = self.fetch_remote(&remote);
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

    /// Fetch `reference` and apply its layers into `root` (every entry
    /// checked, the size bounded: see [`unpack`]); returns its labels.
    pub fn unpack_into(
        &self,
        reference: &str,
        root: &Path,
    ) -> Result<BTreeMap<String, String>, String> {
        let pulled = self.get(reference);
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

    fn fetch_remote(&self, refs: &[(String, reference::Reference)]) -> Vec<Result<Pulled, String>> {
        let setup = || -> Result<_, String> {
            let cache = self.blob_cache()?;
            let session = registry::Session::new(&self.opts, cache)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("start async runtime: {e}"))?;
            Ok((session, runtime))
        };
        let (session, runtime) = match setup() {
            Ok(s) => s,
            Err(e) => return refs.iter().map(|_| Err(e.clone())).collect(),
        };
        runtime.block_on(futures_util::future::join_all(
            refs.iter().map(|(_, parsed)| session.pull(parsed)),
        ))
    }
}

/// Render the image `reference` (anything that is not an existing path),
/// handing its config to `f` as [`crate::render::render_ref_each`] does
/// for directories.
pub fn render_image(
    reference: &str,
    opts: &RenderOptions<'_>,
    f: &PartFn<'_>,
) -> Result<(), RenderError> {
    let q = go_quote(reference);
    let owned;
    let puller = match opts.images {
        Some(p) => p,
        None => {
            owned = Puller::new(PullOptions::default());
            &owned
        }
    };
    let pulled = puller.get(reference);
    let pulled = pulled
        .as_ref()
        .as_ref()
        .map_err(|e| format!("failed to pull image {q}: {e}"))?;
    let root = tempfile::Builder::new()
        .prefix("render-unpack-")
        .tempdir()
        .map_err(|e| format!("create tempdir: {e}"))?;
    unpack::apply_layers(&pulled.layers, root.path(), puller.opts.max_bytes())
        .map_err(|e| format!("failed to unpack image {q}: {e}"))?;

    let labels = &pulled.labels;
    // Spec §4.2: the first label present decides, in HEAD's order.
    if let Some(dir) = labels.get(LABEL_CONFIGS) {
        let path = configs_dir(root.path(), dir)?;
        return crate::render::render_catalog_dir(&path, opts, f);
    }
    if labels.contains_key(LABEL_BUNDLE_PACKAGE) {
        if !opts.allowed.bundle_images {
            return Err("cannot render bundle image: not allowed".to_string().into());
        }
        let bundle = crate::bundle::render_image_dir(root.path(), reference)?;
        return crate::render::render_bundle(bundle, opts, f);
    }
    if labels.contains_key(LABEL_DATABASE) {
        // Go opm HEAD's answer (spec §4.2); v1.73 rendered the database.
        return Err(format!(
            "render {q}: sqlite-based index images are no longer supported, migrate to a file-based catalog: not allowed"
        )
        .into());
    }
    if labels.is_empty() {
        return Err(
            format!("render {q}: image type could not be determined: image has no labels").into(),
        );
    }
    let found: Vec<String> = labels.iter().map(|(k, v)| format!("  {k}={v}")).collect();
    Err(format!(
        "render {q}: image type could not be determined, found labels\n{}",
        found.join("\n")
    )
    .into())
}

/// The catalog folder a configs label names, inside the unpacked root.
///
/// Go joins the label onto the root (`filepath.Join`), which cleans `..`
/// away at the root; a label that climbs out is refused here instead.
fn configs_dir(root: &Path, label: &str) -> Result<PathBuf, RenderError> {
    let mut path = root.to_path_buf();
    for c in label.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "catalog label {LABEL_CONFIGS}={label:?} leaves the image root"
                )
                .into());
            }
            c => path.push(c),
        }
    }
    Ok(path)
}
