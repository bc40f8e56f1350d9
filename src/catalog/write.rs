//! Writing a catalog as Go opm's `WriteJSON`, `WriteYAML` and `WriteFS` do
//! (spec §3): the blob order, then each blob through the Go-compatible
//! encoders.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use super::model::*;
use super::sorted::keyed_blobs;
use crate::encoding::yaml::json_to_yaml;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "yaml" => Some(Format::Yaml),
            _ => None,
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Encode(String),
}

/// The blobs of one package, in output order.
pub struct PackageBlobs<'a> {
    pub name: &'a str,
    pub blobs: Vec<BlobRef<'a>>,
}

/// Group and order blobs as Go's writer does (spec §3.1): per package name
/// (byte order) packages, channels by name, bundles by name, others by
/// schema, deprecations; then package-less others in load order. Typed blobs
/// without a package are dropped, as in Go. The order is [`BlobKey`]'s, the
/// same one streaming render uses.
pub fn ordered(cfg: &DeclarativeConfig) -> (Vec<PackageBlobs<'_>>, Vec<BlobRef<'_>>) {
    let mut keyed = keyed_blobs(cfg, 0, 0);
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut pkgs: Vec<PackageBlobs<'_>> = Vec::new();
    let mut loose = Vec::new();
    for (key, blob) in keyed {
        let Some(name) = key.package() else {
            loose.push(blob);
            continue;
        };
        match pkgs.last_mut() {
            Some(last) if last.name == name => last.blobs.push(blob),
            _ => pkgs.push(PackageBlobs {
                name: package_of(&blob),
                blobs: vec![blob],
            }),
        }
    }
    (pkgs, loose)
}

/// The package name a kept blob is grouped under, borrowed from the blob.
fn package_of<'a>(blob: &BlobRef<'a>) -> &'a str {
    match *blob {
        BlobRef::Package(p) => &p.name,
        BlobRef::Channel(c) => &c.package,
        BlobRef::Bundle(b) => &b.package,
        BlobRef::Other(m) => &m.package,
        BlobRef::Deprecation(d) => &d.package,
    }
}

/// Encode blobs, one after the other, in the given format.
pub fn encode_blobs(
    blobs: &[BlobRef<'_>],
    format: Format,
    out: &mut Vec<u8>,
) -> Result<(), WriteError> {
    let mut compact = Vec::new();
    for b in blobs {
        match format {
            Format::Json => b.write_json(&mut compact, out),
            Format::Yaml => {
                out.extend_from_slice(b"---\n");
                if let BlobRef::Bundle(bundle) = b
                    && bundle.write_yaml(out)
                {
                    continue;
                }
                // Go converts the indented JSON; indentation cannot change
                // what JSONToYAML reads, so the compact form saves a pass.
                compact.clear();
                b.write_compact(&mut compact);
                json_to_yaml(&compact, out).map_err(|e| WriteError::Encode(e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// Write the whole catalog as one stream. Packages are encoded in parallel
/// in bounded windows, written in order.
pub fn write_stream(
    cfg: &DeclarativeConfig,
    format: Format,
    w: &mut dyn Write,
) -> Result<(), WriteError> {
    let (pkgs, loose) = ordered(cfg);
    // A window keeps at most this many packages' output in memory.
    const WINDOW: usize = 16;
    for window in pkgs.chunks(WINDOW) {
        let parts: Vec<Result<Vec<u8>, WriteError>> = window
            .par_iter()
            .map(|p| {
                let mut out = Vec::new();
                encode_blobs(&p.blobs, format, &mut out)?;
                Ok(out)
            })
            .collect();
        for part in parts {
            w.write_all(&part?)?;
        }
    }
    let mut out = Vec::new();
    encode_blobs(&loose, format, &mut out)?;
    w.write_all(&out)?;
    w.flush()?;
    Ok(())
}

/// Go's `WriteFS` (spec §3.4): `<root>/<pkg>/catalog.<ext>` per package and
/// `<root>/catalog.<ext>` for package-less blobs. Every package name is
/// checked before anything is written.
pub fn write_fs(cfg: &DeclarativeConfig, root: &Path, format: Format) -> Result<(), String> {
    let (pkgs, loose) = ordered(cfg);
    for p in &pkgs {
        if !is_local_path_element(p.name) {
            return Err(format!(
                "invalid package name {}: must be a single local path element",
                super::load::go_quote(p.name)
            ));
        }
    }
    std::fs::create_dir_all(root).map_err(|e| format!("mkdir {}: {e}", root.display()))?;
    let file = format!("catalog.{}", format.ext());
    let results: Vec<Result<(), String>> = pkgs
        .par_iter()
        .map(|p| {
            let dir = root.join(p.name);
            std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
            let path = dir.join(&file);
            let mut out = Vec::new();
            encode_blobs(&p.blobs, format, &mut out).map_err(|e| {
                format!(
                    "write to buffer for {}: {e}",
                    super::load::go_quote(&path.display().to_string())
                )
            })?;
            std::fs::write(&path, out).map_err(|e| {
                format!(
                    "write file {}: {e}",
                    super::load::go_quote(&path.display().to_string())
                )
            })
        })
        .collect();
    results.into_iter().collect::<Result<(), String>>()?;
    if !loose.is_empty() {
        let path = root.join(&file);
        let mut out = Vec::new();
        encode_blobs(&loose, format, &mut out).map_err(|e| e.to_string())?;
        std::fs::write(&path, out).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Go's `filepath.IsLocal` on a single element.
fn is_local_path_element(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}
