//! Building a file-based catalog image in-process and shipping it: to a
//! registry, or into an OCI image layout on disk. This is what a container
//! engine would do with the Dockerfile `opm generate dockerfile` writes,
//! done without one (`opm index add|prune --tag`).
//!
//! The image is the base image (`--binary-image`; `scratch` for none) plus
//! one layer holding the catalog directory under `configs/` (and, when
//! given, a pre-built serve cache under `tmp/cache/`), with the base's
//! config extended by the labels, entrypoint, command and ports the caller
//! names. Everything derived here is deterministic: the layer is a tar of
//! sorted entries with mtime 0, uid/gid 0 and modes 0644/0755 (0755 for
//! files with an execute bit), gzip with no name or time, and the config's
//! `created` is `$SOURCE_DATE_EPOCH` or the Unix epoch; building the same
//! directory on the same base twice gives the same manifest digest.
//!
//! The manifest keeps the base's family: a Docker v2 schema 2 base gives a
//! Docker manifest and config media type, anything else (and `scratch`) an
//! OCI one. The base's layer descriptors are copied unchanged, so their
//! digests (and the registry's deduplication) stay valid; mixing families
//! in one manifest is what some registries refuse.
//!
//! Nothing is left half-done: blobs are pushed before the manifest, and
//! the tag moves only with the manifest; an OCI layout is built beside its
//! destination and renamed into place (or, for an existing layout, gets
//! its blobs first and its `index.json` replaced atomically last).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::digest::{Digest, HashingWriter};
use super::manifest::{
    self, DOCKER_CONFIG, DOCKER_LAYER_GZIP, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST,
};
use super::reference::{self, ImageRef};
use super::registry::{BlobData, PushBlob};
use super::{LABEL_CONFIGS, PullOptions, Puller};

/// Where the catalog lives in the image, as the generated Dockerfile puts it.
pub const CONFIGS_PATH: &str = "/configs";
/// Where a pre-built serve cache lives in the image.
pub const CACHE_PATH: &str = "/tmp/cache";

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A catalog image to build.
#[derive(Debug, Clone)]
pub struct CatalogImage<'a> {
    /// The catalog directory, shipped as `/configs` (its tree copied as is:
    /// files, directories and symlinks).
    pub configs_dir: &'a Path,
    /// A serve cache built for that catalog, shipped as `/tmp/cache`; the
    /// generated Dockerfile pre-populates one in its builder stage.
    pub cache_dir: Option<&'a Path>,
    /// The base image (`--binary-image`): its layers and config (env, user,
    /// working directory, labels...) are kept. The literal `scratch` means
    /// no base.
    pub base_image: &'a str,
    /// Labels set on top of the base's.
    pub labels: BTreeMap<String, String>,
    /// The entrypoint; empty keeps the base's.
    pub entrypoint: Vec<String>,
    /// The command; empty keeps the base's.
    pub cmd: Vec<String>,
    /// Ports added to the base's (`50051/tcp`).
    pub exposed_ports: Vec<String>,
}

impl<'a> CatalogImage<'a> {
    /// The image the Dockerfile of `opm generate dockerfile` describes for
    /// `configs_dir` on `base_image` with `extra_labels`: the configs label,
    /// and for a base other than `scratch` the `/bin/opm serve` entrypoint
    /// and command (the Dockerfile sets none on `scratch`, and exposes no
    /// port: an opm base image exposes its own).
    pub fn as_dockerfile(
        configs_dir: &'a Path,
        base_image: &'a str,
        extra_labels: &BTreeMap<String, String>,
    ) -> CatalogImage<'a> {
        let mut labels = BTreeMap::new();
        labels.insert(LABEL_CONFIGS.to_string(), CONFIGS_PATH.to_string());
        // The Dockerfile's custom labels come after the configs label, so
        // a custom label of the same name wins, as there.
        labels.extend(extra_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        let scratch = base_image == "scratch";
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        CatalogImage {
            configs_dir,
            cache_dir: None,
            base_image,
            labels,
            entrypoint: if scratch {
                Vec::new()
            } else {
                strings(&["/bin/opm"])
            },
            cmd: if scratch {
                Vec::new()
            } else {
                strings(&["serve", "/configs", "--cache-dir=/tmp/cache"])
            },
            exposed_ports: Vec::new(),
        }
    }
}

/// Build `img` and push it to `dest` (a registry reference, or
/// `oci:DIR[:TAG]` for an OCI image layout), returning the manifest digest.
pub fn build_and_push(
    img: &CatalogImage,
    dest: &str,
    opts: &PullOptions,
) -> Result<String, String> {
    build_and_push_with(img, dest, &Puller::new(opts.clone()))
}

/// [`build_and_push`] with the caller's [`Puller`], so the base image is
/// pulled once with the run's other images.
pub fn build_and_push_with(
    img: &CatalogImage,
    dest: &str,
    puller: &Puller,
) -> Result<String, String> {
    let target = match reference::parse_image_ref(dest)
        .map_err(|e| format!("invalid image reference {dest:?}: {e}"))?
    {
        ImageRef::DockerArchive { .. } => {
            return Err(format!(
                "cannot write {dest}: docker-archive is not a destination; use a registry reference or oci:DIR[:TAG]"
            ));
        }
        ImageRef::OciLayout { dir, tag } => {
            check_layout_dest(&dir)?;
            Target::Layout(dir, tag)
        }
        // The manifest's digest is only known once it is built: a digest
        // reference could not name it.
        ImageRef::Registry(r) if r.digest.is_some() => {
            return Err(format!(
                "cannot push to {dest}: a destination is a tag, not a digest"
            ));
        }
        ImageRef::Registry(r) => Target::Registry(r),
    };
    let built = build(img, puller)?;
    match target {
        Target::Registry(r) => {
            let (session, runtime) = puller.session()?;
            runtime.block_on(session.push(&r, &built.blobs, &built.manifest, built.media_type))?;
        }
        Target::Layout(dir, tag) => write_layout(&dir, tag.as_deref(), &built)?,
    }
    Ok(built.digest.to_string())
}

enum Target {
    Registry(reference::Reference),
    Layout(PathBuf, Option<String>),
}

/// An image ready to ship: its blobs (layers and config) and manifest.
struct Built {
    blobs: Vec<PushBlob>,
    manifest: Vec<u8>,
    media_type: &'static str,
    digest: Digest,
    /// Holds the new layer's file when no persistent cache is used.
    _layer: tempfile::TempDir,
}

fn build(img: &CatalogImage, puller: &Puller) -> Result<Built, String> {
    let (base_ref, base) = if img.base_image == "scratch" {
        (None, None)
    } else {
        let q = img.base_image;
        let parsed = reference::parse_image_ref(q)
            .map_err(|e| format!("invalid base image reference {q:?}: {e}"))?;
        let pulled = puller.get_with_layers(q);
        let base = match pulled.as_ref() {
            Ok(p) => Base::from_pulled(p).map_err(|e| format!("base image {q:?}: {e}"))?,
            Err(e) => return Err(format!("pulling base image {q:?}: {e}")),
        };
        (Some(parsed), Some(base))
    };
    let docker = base.as_ref().is_some_and(|b| b.docker);

    let layer_dir = tempfile::Builder::new()
        .prefix("opm-catalog-layer-")
        .tempdir()
        .map_err(|e| format!("create tempdir: {e}"))?;
    let layer_path = layer_dir.path().join("layer.tar.gz");
    let layer = write_layer(img, &layer_path)?;

    let config = config_json(
        base.as_ref().map(|b| b.config.as_slice()),
        base.as_ref().map_or(0, |b| b.layers.len()),
        img,
        &layer.diff_id,
        &created(),
    )?;
    let config_digest = Digest::of(&config);

    let mut layer_descs: Vec<Value> = Vec::new();
    let mut blobs = Vec::new();
    if let Some(b) = &base {
        for (desc, (path, digest, size)) in b.descriptors.iter().zip(&b.layers) {
            layer_descs.push(desc.clone());
            blobs.push(PushBlob {
                digest: digest.clone(),
                size: *size,
                data: BlobData::File(path.clone()),
                from: match &base_ref {
                    Some(ImageRef::Registry(b)) => Some(b.clone()),
                    _ => None,
                },
            });
        }
    }
    let layer_type = if docker {
        DOCKER_LAYER_GZIP
    } else {
        OCI_LAYER_GZIP
    };
    layer_descs.push(json!({
        "mediaType": layer_type,
        "digest": layer.digest.to_string(),
        "size": layer.size,
    }));
    blobs.push(PushBlob {
        digest: layer.digest.clone(),
        size: layer.size,
        data: BlobData::File(layer_path),
        from: None,
    });
    let (media_type, config_type) = if docker {
        (manifest::DOCKER_MANIFEST, DOCKER_CONFIG)
    } else {
        (OCI_MANIFEST, OCI_CONFIG)
    };
    let manifest = manifest_json(
        media_type,
        json!({
            "mediaType": config_type,
            "digest": config_digest.to_string(),
            "size": config.len(),
        }),
        layer_descs,
    );
    blobs.push(PushBlob {
        digest: config_digest,
        size: config.len() as u64,
        data: BlobData::Bytes(config.into()),
        from: None,
    });
    Ok(Built {
        digest: Digest::of(&manifest),
        blobs,
        manifest,
        media_type,
        _layer: layer_dir,
    })
}

/// What is kept of the base image.
struct Base {
    docker: bool,
    config: Vec<u8>,
    /// The manifest's layer descriptors, as written there.
    descriptors: Vec<Value>,
    /// Each layer's file, digest and size.
    layers: Vec<(PathBuf, Digest, u64)>,
}

impl Base {
    fn from_pulled(p: &super::Pulled) -> Result<Base, String> {
        let Some(manifest) = &p.manifest else {
            return Err("a docker archive cannot be a base image (its layers have no registry form); push it or save it as an OCI layout".into());
        };
        let m: Value =
            serde_json::from_slice(manifest).map_err(|e| format!("parsing manifest: {e}"))?;
        let media_type = m.get("mediaType").and_then(Value::as_str).unwrap_or("");
        let config_type = m
            .pointer("/config/mediaType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let docker = media_type == manifest::DOCKER_MANIFEST || config_type == DOCKER_CONFIG;
        let descriptors = m
            .get("layers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if descriptors.len() != p.layers.len() {
            return Err("manifest and pulled layers differ".into());
        }
        let layers = p
            .layers
            .iter()
            .map(|l| match (&l.digest, l.size) {
                (Some(d), Some(s)) => Ok((l.path.clone(), d.clone(), s)),
                _ => Err(format!("layer {} has no digest", l.path.display())),
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Base {
            docker,
            config: p.config.clone(),
            descriptors,
            layers,
        })
    }
}

/// The new layer as written: compressed digest and size, and the digest
/// of the uncompressed tar (the config's `diff_id`).
#[derive(Debug, PartialEq)]
struct LayerInfo {
    digest: Digest,
    size: u64,
    diff_id: Digest,
}

/// Write the catalog layer (gzip tar) to `path`.
fn write_layer(img: &CatalogImage, path: &Path) -> Result<LayerInfo, String> {
    let err = |e: std::io::Error| format!("write catalog layer {}: {e}", path.display());
    let file = fs::File::create(path).map_err(err)?;
    let sha = Digest::of(b"");
    let compressed = HashingWriter::new(BufWriter::new(file), &sha);
    // flate2 writes no file name and mtime 0 into the gzip header.
    let gz = flate2::write::GzEncoder::new(compressed, flate2::Compression::default());
    let mut tar = tar::Builder::new(HashingWriter::new(gz, &sha));
    append_tree(&mut tar, img.configs_dir, "configs")?;
    if let Some(cache) = img.cache_dir {
        append_tree(&mut tar, cache, "tmp/cache")?;
    }
    let uncompressed = tar.into_inner().map_err(err)?;
    let (gz, diff_id) = uncompressed.finish();
    let compressed = gz.finish().map_err(err)?;
    let size = compressed.count;
    let (file, digest) = compressed.finish();
    file.into_inner()
        .map_err(|e| err(e.into_error()))?
        .sync_all()
        .map_err(err)?;
    Ok(LayerInfo {
        digest,
        size,
        diff_id,
    })
}

/// Append the tree at `src` as `prefix/...`, entries sorted by name,
/// ownership and times zeroed.
fn append_tree<W: Write>(
    tar: &mut tar::Builder<W>,
    src: &Path,
    prefix: &str,
) -> Result<(), String> {
    let meta = fs::metadata(src).map_err(|e| format!("stat {}: {e}", src.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", src.display()));
    }
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h
    };
    let add_err = |name: &str, e: std::io::Error| format!("add {name} to the catalog layer: {e}");
    // The walk starts with `src` itself, which becomes `prefix/`.
    for entry in walkdir::WalkDir::new(src)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| format!("read {}: {e}", src.display()))?;
        let rel = entry.path().strip_prefix(src).map_err(|e| e.to_string())?;
        let rel = rel
            .to_str()
            .ok_or_else(|| format!("{}: file name is not UTF-8", entry.path().display()))?;
        let name = match rel {
            "" => prefix.to_string(),
            rel => format!("{prefix}/{rel}"),
        };
        let ft = entry.file_type();
        if ft.is_dir() {
            let name = format!("{name}/");
            tar.append_data(
                &mut header(tar::EntryType::Directory, 0o755, 0),
                &name,
                std::io::empty(),
            )
            .map_err(|e| add_err(&name, e))?;
        } else if ft.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let file = fs::File::open(entry.path())
                .map_err(|e| format!("open {}: {e}", entry.path().display()))?;
            let m = file
                .metadata()
                .map_err(|e| format!("stat {}: {e}", entry.path().display()))?;
            let mode = if m.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            tar.append_data(
                &mut header(tar::EntryType::Regular, mode, m.len()),
                &name,
                file,
            )
            .map_err(|e| add_err(&name, e))?;
        } else if ft.is_symlink() {
            let target = fs::read_link(entry.path())
                .map_err(|e| format!("read link {}: {e}", entry.path().display()))?;
            tar.append_link(
                &mut header(tar::EntryType::Symlink, 0o777, 0),
                &name,
                &target,
            )
            .map_err(|e| add_err(&name, e))?;
        } else {
            return Err(format!(
                "{}: only files, directories and symlinks can be shipped in a catalog image",
                entry.path().display()
            ));
        }
    }
    Ok(())
}

/// The config's `created`: `$SOURCE_DATE_EPOCH` (the reproducible-builds
/// convention), else the Unix epoch, so that builds are reproducible.
fn created() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// The image config: the base's (or a minimal linux one), with `img`'s
/// labels, entrypoint, command and ports, and the new layer appended.
fn config_json(
    base: Option<&[u8]>,
    base_layers: usize,
    img: &CatalogImage,
    diff_id: &Digest,
    created: &str,
) -> Result<Vec<u8>, String> {
    let mut cfg: Value = match base {
        Some(b) => {
            serde_json::from_slice(b).map_err(|e| format!("parsing base image config: {e}"))?
        }
        None => json!({
            "architecture": manifest::go_arch(),
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [],
        }),
    };
    let obj = cfg
        .as_object_mut()
        .ok_or("the base image config is not a JSON object")?;
    obj.insert("created".into(), created.into());

    let c = object_at(obj, "config");
    let labels = object_at(c, "Labels");
    for (k, v) in &img.labels {
        labels.insert(k.clone(), v.clone().into());
    }
    if !img.entrypoint.is_empty() {
        c.insert("Entrypoint".into(), json!(img.entrypoint));
    }
    if !img.cmd.is_empty() {
        c.insert("Cmd".into(), json!(img.cmd));
    }
    if !img.exposed_ports.is_empty() {
        let ports = object_at(c, "ExposedPorts");
        for p in &img.exposed_ports {
            ports.insert(p.clone(), json!({}));
        }
    }

    let rootfs = object_at(obj, "rootfs");
    rootfs.insert("type".into(), "layers".into());
    let ids = rootfs
        .entry("diff_ids")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or("the base image config's rootfs.diff_ids is not a list")?;
    if ids.len() != base_layers {
        return Err(format!(
            "the base image config lists {} layers, its manifest {base_layers}",
            ids.len()
        ));
    }
    ids.push(diff_id.to_string().into());

    // A history entry per layer, when the base keeps a history: tools pair
    // non-empty history entries with layers.
    if let Some(Value::Array(h)) = obj.get_mut("history") {
        h.push(json!({
            "created": created,
            "created_by": format!("opm: catalog at {CONFIGS_PATH}"),
        }));
    }
    serde_json::to_vec(&cfg).map_err(|e| format!("encode image config: {e}"))
}

/// The object under `key`, created (or replacing a `null`) if needed.
fn object_at<'m>(m: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let v = m.entry(key).or_insert_with(|| json!({}));
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("just made an object")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestOut<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: Value,
    layers: Vec<Value>,
}

fn manifest_json(media_type: &str, config: Value, layers: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&ManifestOut {
        schema_version: 2,
        media_type,
        config,
        layers,
    })
    .expect("a manifest always encodes")
}

fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file() && dir.join("index.json").is_file()
}

/// A layout destination must be absent, empty, or a layout already.
fn check_layout_dest(dir: &Path) -> Result<(), String> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("stat {}: {e}", dir.display())),
        Ok(m) if m.is_dir() => {
            let empty = fs::read_dir(dir)
                .map_err(|e| format!("read {}: {e}", dir.display()))?
                .next()
                .is_none();
            if empty || is_layout(dir) {
                Ok(())
            } else {
                Err(format!(
                    "refusing to write an OCI layout into {}: it exists and is not an OCI image layout",
                    dir.display()
                ))
            }
        }
        Ok(_) => Err(format!(
            "refusing to write an OCI layout at {}: it exists and is not a directory",
            dir.display()
        )),
    }
}

/// Write the image into the OCI layout `dir`, tagged `tag`.
fn write_layout(dir: &Path, tag: Option<&str>, built: &Built) -> Result<(), String> {
    check_layout_dest(dir)?;
    let desc = |annotations: Option<Value>| {
        let mut d = json!({
            "mediaType": built.media_type,
            "digest": built.digest.to_string(),
            "size": built.manifest.len(),
        });
        if let Some(a) = annotations {
            d["annotations"] = a;
        }
        d
    };
    let entry = desc(tag.map(|t| json!({ REF_NAME: t })));
    if is_layout(dir) {
        // Blobs first (each whole, by rename), then the index in one rename:
        // a reader sees the old image or the new one.
        put_blobs(dir, built)?;
        let index_path = dir.join("index.json");
        let data =
            fs::read(&index_path).map_err(|e| format!("read {}: {e}", index_path.display()))?;
        let mut index: Value = serde_json::from_slice(&data)
            .map_err(|e| format!("parsing {}: {e}", index_path.display()))?;
        let list = index
            .get_mut("manifests")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| format!("{} has no manifest list", index_path.display()))?;
        list.retain(|d| {
            d.pointer(&format!("/annotations/{}", REF_NAME.replace('/', "~1")))
                .and_then(Value::as_str)
                != tag
        });
        list.push(entry);
        let text = serde_json::to_vec(&index).map_err(|e| e.to_string())?;
        return write_atomic(&index_path, &text);
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    let name = dir
        .file_name()
        .map_or_else(|| "layout".into(), |n| n.to_string_lossy().into_owned());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(|e| format!("create a temporary directory in {}: {e}", parent.display()))?;
    let t = tmp.path();
    let write = |p: &Path, data: &[u8]| {
        fs::write(p, data).map_err(|e| format!("write {}: {e}", p.display()))
    };
    write(&t.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    put_blobs(t, built)?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [entry],
    });
    write(
        &t.join("index.json"),
        &serde_json::to_vec(&index).map_err(|e| e.to_string())?,
    )?;
    // The directory is world-readable like one made by mkdir (tempdir
    // makes it 0700).
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(t, fs::Permissions::from_mode(0o755));
    }
    fs::rename(t, dir).map_err(|e| format!("rename {} to {}: {e}", t.display(), dir.display()))?;
    // Renamed away: nothing left for the guard to remove.
    let _ = tmp.keep();
    Ok(())
}

/// Every blob of `built` (and the manifest) into `dir/blobs/sha256/`.
fn put_blobs(dir: &Path, built: &Built) -> Result<(), String> {
    let blobs = dir.join("blobs").join("sha256");
    fs::create_dir_all(&blobs).map_err(|e| format!("create {}: {e}", blobs.display()))?;
    let put = |digest: &Digest, data: &BlobData| -> Result<(), String> {
        let dest = blobs.join(digest.hex());
        if dest.is_file() {
            return Ok(());
        }
        let tmp = blobs.join(format!(".{}.partial", digest.hex()));
        // Copied, not linked: cache files are private (0600) and a layout
        // is meant to be shared.
        let done = match data {
            BlobData::Bytes(b) => fs::write(&tmp, b),
            BlobData::File(src) => fs::copy(src, &tmp).map(|_| ()),
        };
        done.and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))
        })
        .and_then(|()| fs::rename(&tmp, &dest))
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!("write blob {}: {e}", dest.display())
        })
    };
    for b in &built.blobs {
        put(&b.digest, &b.data)?;
    }
    put(
        &built.digest,
        &BlobData::Bytes(built.manifest.clone().into()),
    )
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".index.json.")
        .tempfile_in(dir)
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    tmp.write_all(data)
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| format!("write {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("pkg-b")).unwrap();
        fs::create_dir_all(d.path().join("pkg-a")).unwrap();
        fs::write(
            d.path().join("pkg-b/catalog.json"),
            b"{\"schema\":\"olm.package\",\"name\":\"pkg-b\"}\n",
        )
        .unwrap();
        fs::write(
            d.path().join("pkg-a/catalog.yaml"),
            b"schema: olm.package\nname: pkg-a\n",
        )
        .unwrap();
        d
    }

    fn img(dir: &Path) -> CatalogImage<'_> {
        CatalogImage::as_dockerfile(dir, "scratch", &BTreeMap::new())
    }

    fn tar_names(path: &Path) -> Vec<(String, u32, u64)> {
        let f = fs::File::open(path).unwrap();
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn layer_is_sorted_and_deterministic() {
        let d = catalog();
        let out = tempfile::tempdir().unwrap();
        let a = write_layer(&img(d.path()), &out.path().join("a")).unwrap();
        // Touching files (times, order of creation) changes nothing.
        fs::write(
            d.path().join("pkg-b/catalog.json"),
            b"{\"schema\":\"olm.package\",\"name\":\"pkg-b\"}\n",
        )
        .unwrap();
        let b = write_layer(&img(d.path()), &out.path().join("b")).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            fs::read(out.path().join("a")).unwrap(),
            fs::read(out.path().join("b")).unwrap()
        );
        let names = tar_names(&out.path().join("a"));
        let expect = [
            ("configs/", 0o755),
            ("configs/pkg-a/", 0o755),
            ("configs/pkg-a/catalog.yaml", 0o644),
            ("configs/pkg-b/", 0o755),
            ("configs/pkg-b/catalog.json", 0o644),
        ];
        assert_eq!(names.len(), expect.len());
        for ((n, m, t), (en, em)) in names.iter().zip(expect) {
            assert_eq!((n.as_str(), *m, *t), (en, em, 0));
        }
    }

    #[test]
    fn serve_cache_ships_under_tmp_cache() {
        let d = catalog();
        let cache = tempfile::tempdir().unwrap();
        fs::write(cache.path().join("digest"), b"abc").unwrap();
        let mut image = img(d.path());
        image.cache_dir = Some(cache.path());
        let out = tempfile::tempdir().unwrap();
        let layer = write_layer(&image, &out.path().join("l")).unwrap();
        let root = tempfile::tempdir().unwrap();
        let l = super::super::unpack::Layer {
            path: out.path().join("l"),
            digest: Some(layer.digest),
            size: Some(layer.size),
            diff_id: Some(layer.diff_id),
        };
        super::super::unpack::apply_layers(&[l], root.path(), 1 << 20).unwrap();
        assert_eq!(
            fs::read(root.path().join("tmp/cache/digest")).unwrap(),
            b"abc"
        );
        assert!(root.path().join("configs/pkg-a/catalog.yaml").is_file());
    }

    #[test]
    fn config_extends_the_base() {
        let d = catalog();
        let base = br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Labels":{"a":"1"},"User":"1001"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created_by":"x"}]}"#;
        let image = CatalogImage::as_dockerfile(
            d.path(),
            "quay.io/x/opm:latest",
            &BTreeMap::from([("b".to_string(), "2".to_string())]),
        );
        let diff = Digest::of(b"layer");
        let out = config_json(Some(base), 1, &image, &diff, "1970-01-01T00:00:00Z").unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["config"]["Env"], json!(["PATH=/bin"]));
        assert_eq!(v["config"]["User"], "1001");
        assert_eq!(
            v["config"]["Labels"],
            json!({"a":"1","b":"2", LABEL_CONFIGS: "/configs"})
        );
        assert_eq!(v["config"]["Entrypoint"], json!(["/bin/opm"]));
        assert_eq!(
            v["config"]["Cmd"],
            json!(["serve", "/configs", "--cache-dir=/tmp/cache"])
        );
        assert_eq!(
            v["rootfs"]["diff_ids"],
            json!(["sha256:aa", diff.to_string()])
        );
        assert_eq!(v["history"].as_array().unwrap().len(), 2);
        assert_eq!(v["created"], "1970-01-01T00:00:00Z");
        // A base whose config and manifest disagree is refused.
        assert!(config_json(Some(base), 2, &image, &diff, "x").is_err());
        // Scratch: no entrypoint or command, as the Dockerfile.
        let s = config_json(None, 0, &img(d.path()), &diff, "t").unwrap();
        let v: Value = serde_json::from_slice(&s).unwrap();
        assert!(v["config"].get("Entrypoint").is_none());
        assert_eq!(v["os"], "linux");
        assert_eq!(v["rootfs"]["diff_ids"], json!([diff.to_string()]));
    }

    #[test]
    fn building_twice_gives_one_digest() {
        let d = catalog();
        let puller = Puller::new(PullOptions::default());
        let a = build(&img(d.path()), &puller).unwrap();
        let b = build(&img(d.path()), &puller).unwrap();
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.manifest, b.manifest);
        let m: Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m["mediaType"], OCI_MANIFEST);
        assert_eq!(m["config"]["mediaType"], OCI_CONFIG);
        assert_eq!(m["layers"].as_array().unwrap().len(), 1);
        assert_eq!(m["layers"][0]["mediaType"], OCI_LAYER_GZIP);
    }

    #[test]
    fn layout_destination_checks() {
        let d = tempfile::tempdir().unwrap();
        let busy = d.path().join("busy");
        fs::create_dir(&busy).unwrap();
        fs::write(busy.join("file"), b"x").unwrap();
        let err = check_layout_dest(&busy).unwrap_err();
        assert!(err.contains("is not an OCI image layout"), "{err}");
        fs::create_dir(d.path().join("empty")).unwrap();
        assert!(check_layout_dest(&d.path().join("empty")).is_ok());
        assert!(check_layout_dest(&d.path().join("absent")).is_ok());
    }
}
