//! A content-addressed store of manifests, configs and layers, shared by
//! every run (and every concurrent opm process) of one user, so a second
//! render of the same digest downloads nothing.
//!
//! Files are named by their digest and only ever appear whole: content is
//! written to a temporary file in the same directory tree, checked, and
//! renamed into place. A digest names content, so a file that exists is
//! the right one; readers still re-hash it as they unpack (a corrupted
//! disk gives a digest error, not a wrong catalog).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::digest::Digest;

pub struct BlobCache {
    root: PathBuf,
    /// Set when no persistent location could be used: the store lives (and
    /// dies) with this run.
    _temp: Option<tempfile::TempDir>,
}

/// Where blobs are kept unless told otherwise: `$OLM_CACHE_DIR/images`
/// (Go opm's variable, spec §0.1), else the user's cache directory
/// (`$XDG_CACHE_HOME/opm/images`, `~/.cache/opm/images`).
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = env("OLM_CACHE_DIR") {
        return Some(PathBuf::from(d).join("images"));
    }
    if let Some(d) = env("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("opm").join("images"));
    }
    env("HOME").map(|h| PathBuf::from(h).join(".cache").join("opm").join("images"))
}

impl BlobCache {
    /// Open (creating) the store at `dir`; with no usable directory, a
    /// temporary one (Go's behaviour without `OLM_CACHE_DIR`).
    pub fn open(dir: Option<PathBuf>) -> Result<BlobCache, String> {
        if let Some(dir) = dir
            && std::fs::create_dir_all(dir.join("blobs")).is_ok()
            && std::fs::create_dir_all(dir.join("tmp")).is_ok()
        {
            return Ok(BlobCache {
                root: dir,
                _temp: None,
            });
        }
        let temp = tempfile::Builder::new()
            .prefix("opm-image-cache-")
            .tempdir()
            .map_err(|e| format!("create image cache dir: {e}"))?;
        let root = temp.path().to_path_buf();
        for sub in ["blobs", "tmp"] {
            std::fs::create_dir_all(root.join(sub))
                .map_err(|e| format!("create image cache dir: {e}"))?;
        }
        Ok(BlobCache {
            root,
            _temp: Some(temp),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs").join(d.algorithm()).join(d.hex())
    }

    /// The stored file for `d`, if there is one.
    pub fn get(&self, d: &Digest) -> Option<PathBuf> {
        let p = self.path(d);
        p.is_file().then_some(p)
    }

    /// A temporary file to download into; [`BlobCache::commit`] publishes it.
    pub fn begin(&self) -> Result<tempfile::NamedTempFile, String> {
        tempfile::Builder::new()
            .prefix("partial-")
            .tempfile_in(self.root.join("tmp"))
            .map_err(|e| format!("create file in image cache {}: {e}", self.root.display()))
    }

    /// Publish a checked temporary file under its digest.
    pub fn commit(&self, tmp: tempfile::NamedTempFile, d: &Digest) -> Result<PathBuf, String> {
        let dest = self.path(d);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("create {}: {e}", parent.display()))?;
        }
        tmp.persist(&dest)
            .map_err(|e| format!("store {}: {}", dest.display(), e.error))?;
        Ok(dest)
    }

    /// Store small content (a manifest or config) already checked.
    pub fn put(&self, d: &Digest, data: &[u8]) -> Result<PathBuf, String> {
        if let Some(p) = self.get(d) {
            return Ok(p);
        }
        let mut tmp = self.begin()?;
        tmp.write_all(data)
            .map_err(|e| format!("write image cache: {e}"))?;
        self.commit(tmp, d)
    }

    /// Read small stored content, checking it against its name.
    pub fn read(&self, d: &Digest) -> Option<Vec<u8>> {
        let data = std::fs::read(self.get(d)?).ok()?;
        d.verify(&data, "cached blob").ok()?;
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlobCache::open(Some(dir.path().join("c"))).unwrap();
        let d = Digest::of(b"abc");
        assert!(c.get(&d).is_none());
        c.put(&d, b"abc").unwrap();
        assert_eq!(c.read(&d).unwrap(), b"abc");
        // A corrupted file is not served.
        std::fs::write(c.path(&d), b"abd").unwrap();
        assert!(c.read(&d).is_none());
    }
}
