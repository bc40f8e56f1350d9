//! Images that were never pushed (beyond Go opm; what-users-ask §B1, #933,
//! #1087): an OCI image layout directory (`oci:<dir>[:<tag>]`, as written
//! by `podman save --format oci-dir`, `skopeo copy … oci:`, buildah, `docker
//! buildx --output type=oci` once untarred) and a `docker save` archive
//! (`docker-archive:<file.tar>[:<image>]`).
//!
//! Blobs are read in place; manifests, configs and layers are checked
//! against their digests exactly as when pulling.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Pulled;
use super::digest::Digest;
use super::manifest::{self, Descriptor, Manifest};
use super::unpack::{self, Layer};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Read an OCI image layout: `index.json`, choosing the manifest whose
/// `ref.name` annotation is `tag` (or the only one), then blobs by digest.
pub fn oci_layout(dir: &Path, tag: Option<&str>) -> Result<Pulled, String> {
    let index_path = dir.join("index.json");
    let data = fs::read(&index_path)
        .map_err(|e| format!("reading OCI layout index {}: {e}", index_path.display()))?;
    let Manifest::Index { manifests, .. } = Manifest::parse(&data)? else {
        return Err(format!("{} is not an image index", index_path.display()));
    };
    let chosen = match tag {
        Some(t) => manifests
            .iter()
            .find(|d| ref_name(d) == Some(t))
            .ok_or_else(|| format!("no image tagged {t:?} in OCI layout {}", dir.display()))?,
        None => match manifests.as_slice() {
            [one] => one,
            [] => return Err(format!("OCI layout {} holds no image", dir.display())),
            _ => {
                let tags: Vec<&str> = manifests.iter().filter_map(ref_name).collect();
                return Err(format!(
                    "OCI layout {} holds {} images; name one with oci:{}:<tag> (tags: {})",
                    dir.display(),
                    manifests.len(),
                    dir.display(),
                    tags.join(", ")
                ));
            }
        },
    };
    let mut desc = chosen.clone();
    // Nested indexes (multi-platform images) resolve like a registry's.
    for _ in 0..8 {
        let data = read_blob(dir, &desc)?;
        match Manifest::parse(&data)? {
            Manifest::Index { manifests, docker } => {
                desc = manifest::choose_platform(&manifests, docker)?.clone();
            }
            Manifest::Image { config, layers } => {
                let config_data = read_blob(dir, &config)?;
                let config = manifest::Config::parse(&config_data)?;
                let diff_ids = config.diff_ids();
                let layers = layers
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        Ok(Layer {
                            path: blob_path(dir, &d.digest()?),
                            digest: Some(d.digest()?),
                            size: Some(d.size()?),
                            diff_id: diff_ids.get(i).and_then(|x| Digest::parse(x).ok()),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                return Ok(Pulled {
                    labels: config.labels(),
                    manifest: Some(data),
                    config: config_data,
                    layers,
                    _keep: None,
                    in_cache: false,
                });
            }
        }
    }
    Err("image indexes nested too deeply".into())
}

fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations.as_ref()?.get(REF_NAME).map(String::as_str)
}

fn blob_path(dir: &Path, d: &Digest) -> PathBuf {
    dir.join("blobs").join(d.algorithm()).join(d.hex())
}

/// A small blob (manifest, config) of a layout, checked.
fn read_blob(dir: &Path, desc: &Descriptor) -> Result<Vec<u8>, String> {
    let digest = desc.digest()?;
    let size = desc.size()?;
    if size > 4 << 20 {
        return Err(format!("blob {digest} is too large ({size} bytes)"));
    }
    let path = blob_path(dir, &digest);
    let data = fs::read(&path).map_err(|e| format!("reading blob {}: {e}", path.display()))?;
    if data.len() as u64 != size {
        return Err(format!(
            "blob {digest} is {} bytes but its descriptor declares {size}",
            data.len()
        ));
    }
    digest.verify(&data, &format!("blob {digest}"))?;
    Ok(data)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Read a `docker save` archive. Its members are extracted (with the same
/// checks as a layer) into a private directory that lives as long as the
/// returned image; layers are checked against the config's `diff_ids`.
pub fn docker_archive(file: &Path, image: Option<&str>, max_bytes: u64) -> Result<Pulled, String> {
    let dir = tempfile::Builder::new()
        .prefix("opm-docker-archive-")
        .tempdir()
        .map_err(|e| format!("create tempdir: {e}"))?;
    if !file.is_file() {
        return Err(format!("docker archive {} does not exist", file.display()));
    }
    unpack::apply_layers(
        &[Layer {
            path: file.to_path_buf(),
            digest: None,
            size: None,
            diff_id: None,
        }],
        dir.path(),
        max_bytes,
    )
    .map_err(|e| format!("reading docker archive {}: {e}", file.display()))?;
    let root = dir.path();
    let data = fs::read(root.join("manifest.json")).map_err(|e| {
        format!(
            "docker archive {} has no manifest.json: {e}",
            file.display()
        )
    })?;
    let entries: Vec<ArchiveEntry> = serde_json::from_slice(&data)
        .map_err(|e| format!("parsing manifest.json of {}: {e}", file.display()))?;
    let entry = match image {
        Some(want) => entries
            .iter()
            .find(|e| {
                e.repo_tags
                    .iter()
                    .flatten()
                    .any(|t| t == want || t.strip_prefix("docker.io/").is_some_and(|s| s == want))
            })
            .ok_or_else(|| format!("no image {want:?} in docker archive {}", file.display()))?,
        None => match entries.as_slice() {
            [one] => one,
            _ => {
                return Err(format!(
                    "docker archive {} holds {} images; name one with docker-archive:{}:<image>",
                    file.display(),
                    entries.len(),
                    file.display()
                ));
            }
        },
    };
    let member = |name: &str| -> Result<PathBuf, String> {
        let rel = Path::new(name);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!("docker archive member {name:?} leaves the archive"));
        }
        Ok(root.join(rel))
    };
    let config_data = fs::read(member(&entry.config)?)
        .map_err(|e| format!("reading config {}: {e}", entry.config))?;
    // The config's name is its digest in both archive formats
    // (`<hex>.json`, `blobs/sha256/<hex>`).
    let hex = Path::new(&entry.config)
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".json").to_string())
        .unwrap_or_default();
    if let Ok(d) = Digest::parse(&format!("sha256:{hex}")) {
        d.verify(&config_data, "image config")?;
    }
    let config = manifest::Config::parse(&config_data)?;
    let diff_ids = config.diff_ids();
    if diff_ids.len() != entry.layers.len() {
        return Err(format!(
            "docker archive {}: the config lists {} layers, manifest.json {}",
            file.display(),
            diff_ids.len(),
            entry.layers.len()
        ));
    }
    let layers = entry
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(l, id)| {
            Ok(Layer {
                path: member(l)?,
                digest: None,
                size: None,
                diff_id: Some(Digest::parse(id)?),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let labels: BTreeMap<String, String> = config.labels();
    Ok(Pulled {
        labels,
        manifest: None,
        config: config_data,
        layers,
        _keep: Some(dir),
        in_cache: false,
    })
}
