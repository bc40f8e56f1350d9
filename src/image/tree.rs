//! Unpacked catalog images kept in the blob cache, so that a second render
//! of the same layers reads a directory instead of decompressing and
//! unpacking again.
//!
//! An entry is keyed by the ordered list of its layer digests
//! ([`key`]) and lives in `<cache>/trees/<algorithm>/<hex>/`: `root/` is the
//! unpacked file system, `index` lists every file of it with its size and
//! [`file_hash`](super::digest::file_hash) (BLAKE3), and every symlink with
//! its target. An entry is built in the cache's `tmp/` directory and
//! renamed into place whole, so concurrent runs never see half an entry;
//! when two runs build the same entry, the first rename wins and the other
//! run uses it. Before an entry is used, its files are checked against the
//! index (names, sizes, hashes); a damaged entry is removed and built
//! again.
//!
//! The store is bounded ([`evict`]): least recently used entries (trees
//! and blobs) go first.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::cache::BlobCache;
use super::digest::{Digest, file_hash, file_hash_read};
use super::unpack::{Layer, Written};

/// The default bound on the cache directory (`--cache-max-size`).
pub const DEFAULT_MAX_CACHE_BYTES: u64 = 5 << 30;

const INDEX: &str = "index";
const ROOT: &str = "root";
/// 2: file hashes are BLAKE3 (1: SHA-256; such entries are rebuilt).
const INDEX_VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Index {
    version: u32,
    /// Total bytes of the regular files.
    bytes: u64,
    /// Regular files by root-relative path: (size,
    /// [`file_hash`](super::digest::file_hash)).
    files: BTreeMap<String, (u64, String)>,
    /// Symlinks by root-relative path: their target.
    links: BTreeMap<String, String>,
}

/// The key of the tree `layers` unpack to: the SHA-256 of their digests,
/// one a line, in order; `None` when a layer has no digest.
pub fn key(layers: &[Layer]) -> Option<Digest> {
    let digests: Option<Vec<&Digest>> = layers.iter().map(|l| l.digest.as_ref()).collect();
    Some(key_of(digests?))
}

/// The key of the tree of the layers with these digests, in order.
pub fn key_of<'a>(digests: impl IntoIterator<Item = &'a Digest>) -> Digest {
    let mut text = String::new();
    for d in digests {
        text.push_str(&d.to_string());
        text.push('\n');
    }
    Digest::of(text.as_bytes())
}

/// Whether a tree `key` is stored (unchecked: [`open`] checks it).
pub fn exists(cache: &BlobCache, key: &Digest) -> bool {
    entry_dir(cache, key).join(INDEX).is_file()
}

fn entry_dir(cache: &BlobCache, key: &Digest) -> PathBuf {
    cache
        .root()
        .join("trees")
        .join(key.algorithm())
        .join(key.hex())
}

/// The root of the stored tree `key`, checked against its index; `None`
/// when there is none. A tree that fails the check is removed.
pub fn open(cache: &BlobCache, key: &Digest) -> Option<PathBuf> {
    let tree = open_unchecked(cache, key)?;
    if tree.check_all().is_err() {
        tree.discard(cache);
        return None;
    }
    tree.touch();
    Some(tree.root())
}

/// The stored tree `key` with its index read but none of its files: for a
/// reader that checks each file as it reads it ([`Unchecked::holds`]), so
/// that a warm render reads the catalog once, not once to check it and
/// again to parse it. `None` when there is no such tree (one with an
/// unreadable index, or an index of another version, is removed).
pub fn open_unchecked(cache: &BlobCache, key: &Digest) -> Option<Unchecked> {
    let dir = entry_dir(cache, key);
    let data = fs::read(dir.join(INDEX)).ok()?;
    match serde_json::from_slice::<Index>(&data) {
        Ok(index) if index.version == INDEX_VERSION => Some(Unchecked { dir, index }),
        _ => {
            remove(cache, &dir);
            None
        }
    }
}

/// A stored tree not checked yet against its index (see [`open_unchecked`]).
pub struct Unchecked {
    dir: PathBuf,
    index: Index,
}

impl Unchecked {
    pub fn root(&self) -> PathBuf {
        self.dir.join(ROOT)
    }

    /// Mark the entry used now.
    pub fn touch(&self) {
        touch(&self.dir.join(INDEX));
    }

    /// Remove the entry from the cache (it proved damaged).
    pub fn discard(&self, cache: &BlobCache) {
        remove(cache, &self.dir);
    }

    /// Every file hashed and the whole tree compared with the index.
    pub fn check_all(&self) -> Result<(), String> {
        let found = scan(&self.root(), &Written::new())?;
        if found != self.index {
            return Err("content differs from its index".into());
        }
        Ok(())
    }

    /// Compare the folder `under` (root-relative, `/`-separated; empty for
    /// the whole root) with the index by names and sizes, reading no file:
    /// the first half of checking it as it is read. Err when they differ,
    /// and when the folder holds or lies below a symbolic link (a link's
    /// target is checked under another name: check the whole tree then).
    pub fn check_names(&self, under: &str) -> Result<(), String> {
        let prefix = folder_prefix(under);
        let linked =
            self.index.links.keys().any(|l| {
                l == under || l.starts_with(&prefix) || prefix.starts_with(&format!("{l}/"))
            });
        if linked {
            return Err("symbolic link in the catalog folder".into());
        }
        let root = self.root();
        let dir = root.join(under);
        let mut found = 0usize;
        if dir.exists() {
            for entry in walkdir::WalkDir::new(&dir).follow_links(false) {
                let entry = entry.map_err(|e| format!("read tree {}: {e}", dir.display()))?;
                let ft = entry.file_type();
                if ft.is_dir() {
                    continue;
                }
                let rel = entry
                    .path()
                    .strip_prefix(&root)
                    .ok()
                    .and_then(Path::to_str)
                    .ok_or_else(|| format!("{}: name is not UTF-8", entry.path().display()))?;
                let size = entry
                    .metadata()
                    .map_err(|e| format!("stat {}: {e}", entry.path().display()))?
                    .len();
                match self.index.files.get(rel) {
                    Some((n, _)) if ft.is_file() && *n == size => found += 1,
                    _ => return Err(format!("{rel}: not the file the index lists")),
                }
            }
        }
        if found != self.files_under(under).count() {
            return Err("a file of the index is missing".into());
        }
        Ok(())
    }

    /// Whether `data` is what the index holds at `rel` (root-relative,
    /// `/`-separated).
    pub fn holds(&self, rel: &str, data: &[u8]) -> bool {
        self.index
            .files
            .get(rel)
            .is_some_and(|(n, h)| *n == data.len() as u64 && *h == file_hash(data))
    }

    /// Hash and compare the files of the folder `under` that are not in
    /// `read` (the second half, for files the reader did not read).
    pub fn check_rest(&self, under: &str, read: &HashSet<String>) -> Result<(), String> {
        let root = self.root();
        self.files_under(under)
            .filter(|(rel, _)| !read.contains(rel.as_str()))
            .collect::<Vec<_>>()
            .into_par_iter()
            .try_for_each(|(rel, want)| {
                if hash_file(&root.join(rel))? == *want {
                    Ok(())
                } else {
                    Err(format!("{rel}: content differs from its index"))
                }
            })
    }

    fn files_under<'a>(
        &'a self,
        under: &str,
    ) -> impl Iterator<Item = (&'a String, &'a (u64, String))> + 'a {
        let prefix = folder_prefix(under);
        self.index
            .files
            .iter()
            .filter(move |(rel, _)| rel.starts_with(&prefix))
    }
}

/// What the root-relative paths below the folder `under` start with.
fn folder_prefix(under: &str) -> String {
    if under.is_empty() {
        String::new()
    } else {
        format!("{under}/")
    }
}

/// Build the tree `key` with `fill` (which unpacks into the directory it is
/// given) and store it; returns its root. Nothing is left in the cache when
/// `fill` fails. When another run stored the same tree first, that one is
/// used.
pub fn build(
    cache: &BlobCache,
    key: &Digest,
    fill: impl FnOnce(&Path) -> Result<Written, String>,
) -> Result<PathBuf, String> {
    let tmp = tempfile::Builder::new()
        .prefix("tree-")
        .tempdir_in(cache.root().join("tmp"))
        .map_err(|e| format!("create dir in image cache {}: {e}", cache.root().display()))?;
    let root = tmp.path().join(ROOT);
    fs::create_dir(&root).map_err(|e| format!("create {}: {e}", root.display()))?;
    let written = fill(&root)?;
    let index = scan(&root, &written)?;
    let data = serde_json::to_vec(&index).map_err(|e| format!("encode tree index: {e}"))?;
    fs::write(tmp.path().join(INDEX), data).map_err(|e| format!("write tree index: {e}"))?;
    let dest = entry_dir(cache, key);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    }
    let tmp_path = tmp.keep();
    match fs::rename(&tmp_path, &dest) {
        Ok(()) => Ok(dest.join(ROOT)),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp_path);
            // Another run stored it first (the rename of a directory onto a
            // non-empty one fails): use that one.
            if dest.join(INDEX).is_file() {
                Ok(dest.join(ROOT))
            } else {
                Err(format!("store {}: {e}", dest.display()))
            }
        }
    }
}

/// What the tree at `root` holds, every file hashed (in parallel) unless
/// `known` has its hash (recorded as it was written, same size).
fn scan(root: &Path, known: &Written) -> Result<Index, String> {
    let mut files = Vec::new();
    let mut done = Vec::new();
    let mut links = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry.map_err(|e| format!("read tree {}: {e}", root.display()))?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_str()
            .ok_or_else(|| format!("{}: name is not UTF-8", entry.path().display()))?
            .to_string();
        let ft = entry.file_type();
        if ft.is_file() {
            let size = entry
                .metadata()
                .map_err(|e| format!("stat {}: {e}", entry.path().display()))?
                .len();
            match known.get(&rel) {
                Some((n, hex)) if *n == size => done.push((rel, (*n, hex.clone()))),
                _ => files.push((rel, entry.into_path())),
            }
        } else if ft.is_symlink() {
            let target = fs::read_link(entry.path())
                .map_err(|e| format!("read link {}: {e}", entry.path().display()))?;
            let target = target
                .to_str()
                .ok_or_else(|| format!("{}: target is not UTF-8", entry.path().display()))?;
            links.insert(rel, target.to_string());
        }
    }
    let mut files = files
        .into_par_iter()
        .map(|(rel, path)| hash_file(&path).map(|h| (rel, h)))
        .collect::<Result<BTreeMap<_, _>, String>>()?;
    files.extend(done);
    Ok(Index {
        version: INDEX_VERSION,
        bytes: files.values().map(|(n, _)| n).sum(),
        files,
        links,
    })
}

/// A file's size and [`file_hash`].
fn hash_file(path: &Path) -> Result<(u64, String), String> {
    let f = fs::File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    file_hash_read(f).map_err(|e| format!("read {}: {e}", path.display()))
}

/// Mark an entry used now, for least-recently-used eviction.
fn touch(path: &Path) {
    if let Ok(f) = fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Remove an entry (a tree directory or a blob file): renamed away first,
/// so that it disappears at once for other runs, then deleted.
fn remove(cache: &BlobCache, path: &Path) {
    let Ok(away) = tempfile::Builder::new()
        .prefix("evict-")
        .tempdir_in(cache.root().join("tmp"))
    else {
        return;
    };
    let target = away.path().join("x");
    if fs::rename(path, &target).is_err() {
        return;
    }
    drop(away);
}

/// Parse a size: bytes, or with a `K`, `M`, `G` or `T` suffix (powers of
/// 1024; `Ki`, `KiB`, `KB` spellings accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: want a number of bytes, e.g. 500M or 10G"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KI" | "KIB" => 10,
        "M" | "MB" | "MI" | "MIB" => 20,
        "G" | "GB" | "GI" | "GIB" => 30,
        "T" | "TB" | "TI" | "TIB" => 40,
        _ => return Err(format!("invalid size {s:?}: unknown unit {unit:?}")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("invalid size {s:?}: too large"))
}

/// One evictable entry: a blob file or a tree directory.
struct Entry {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// Shrink the cache to at most `max` bytes, removing least recently used
/// entries first but never one of `keep` (what this run uses). Leftovers
/// of interrupted runs in `tmp/` older than a day are removed too.
pub fn evict(cache: &BlobCache, max: u64, keep: &[PathBuf]) {
    let mut entries = Vec::new();
    let list = |dir: PathBuf| -> Vec<fs::DirEntry> {
        fs::read_dir(dir)
            .map(|rd| rd.flatten().collect())
            .unwrap_or_default()
    };
    for algo in list(cache.root().join("blobs")) {
        for blob in list(algo.path()) {
            if let Ok(m) = blob.metadata() {
                entries.push(Entry {
                    path: blob.path(),
                    bytes: m.len(),
                    used: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    }
    for algo in list(cache.root().join("trees")) {
        for tree in list(algo.path()) {
            let index = tree.path().join(INDEX);
            let (Ok(m), Ok(data)) = (fs::metadata(&index), fs::read(&index)) else {
                continue;
            };
            let bytes = serde_json::from_slice::<Index>(&data).map_or(0, |i| i.bytes);
            entries.push(Entry {
                path: tree.path(),
                bytes: bytes + m.len(),
                used: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
    }
    let day_ago = SystemTime::now() - std::time::Duration::from_secs(86_400);
    for stale in list(cache.root().join("tmp")) {
        let old = stale
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < day_ago);
        if old {
            let p = stale.path();
            let _ = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
    }
    let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
    if total <= max {
        return;
    }
    entries.sort_by_key(|e| e.used);
    for e in entries {
        if total <= max {
            break;
        }
        if keep.iter().any(|k| k.starts_with(&e.path) || e.path == *k) {
            continue;
        }
        remove(cache, &e.path);
        total -= e.bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(d: &str) -> Layer {
        Layer {
            path: PathBuf::new(),
            digest: Some(Digest::of(d.as_bytes())),
            size: None,
            diff_id: None,
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("123").unwrap(), 123);
        assert_eq!(parse_size("2K").unwrap(), 2048);
        assert_eq!(parse_size("5GiB").unwrap(), 5 << 30);
        assert_eq!(parse_size("1m").unwrap(), 1 << 20);
        assert!(parse_size("x").is_err());
        assert!(parse_size("1Q").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn keys_follow_layer_order() {
        let (a, b) = (layer("a"), layer("b"));
        assert_eq!(key(&[a.clone(), b.clone()]), key(&[a.clone(), b.clone()]));
        assert_ne!(key(&[a.clone(), b.clone()]), key(&[b, a]));
        let mut none = layer("c");
        none.digest = None;
        assert_eq!(key(&[none]), None);
    }

    #[test]
    fn build_open_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(Some(dir.path().join("c"))).unwrap();
        let k = Digest::of(b"k");
        assert!(open(&cache, &k).is_none());
        let root = build(&cache, &k, |r| {
            fs::create_dir(r.join("configs")).unwrap();
            fs::write(r.join("configs/a.json"), b"{}").unwrap();
            std::os::unix::fs::symlink("a.json", r.join("configs/b.json")).unwrap();
            Ok(Written::new())
        })
        .unwrap();
        assert_eq!(open(&cache, &k).unwrap(), root);
        // A second build of the same key keeps the first.
        let again = build(&cache, &k, |_| Ok(Written::new())).unwrap();
        assert_eq!(again, root);
        assert_eq!(fs::read(root.join("configs/a.json")).unwrap(), b"{}");
        // Same size, other bytes: refused and removed.
        fs::write(root.join("configs/a.json"), b"[]").unwrap();
        assert!(open(&cache, &k).is_none());
        assert!(!root.exists());
        // A failed build leaves nothing.
        let err = build(&cache, &k, |r| {
            fs::write(r.join("x"), b"1").unwrap();
            Err("boom".into())
        });
        assert_eq!(err.unwrap_err(), "boom");
        assert!(open(&cache, &k).is_none());
        assert_eq!(fs::read_dir(cache.root().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn checked_as_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(Some(dir.path().join("c"))).unwrap();
        let k = Digest::of(b"k");
        assert!(open_unchecked(&cache, &k).is_none());
        let root = build(&cache, &k, |r| {
            fs::create_dir_all(r.join("configs/p")).unwrap();
            fs::write(r.join("configs/p/a.json"), b"{}").unwrap();
            fs::write(r.join("configs/.indexignore"), b"x\n").unwrap();
            fs::create_dir(r.join("bin")).unwrap();
            std::os::unix::fs::symlink("../bin", r.join("bin/up")).unwrap();
            Ok(Written::new())
        })
        .unwrap();
        let tree = open_unchecked(&cache, &k).unwrap();
        assert_eq!(tree.root(), root);
        tree.check_names("configs").unwrap();
        assert!(tree.holds("configs/p/a.json", b"{}"));
        assert!(!tree.holds("configs/p/a.json", b"[]"));
        assert!(!tree.holds("configs/p/b.json", b"{}"));
        let read: HashSet<String> = ["configs/p/a.json".to_string()].into();
        tree.check_rest("configs", &read).unwrap();
        // A link in or above the folder: names alone do not settle it.
        assert!(tree.check_names("bin").is_err());
        assert!(tree.check_names("").is_err());
        // A file that was not read is hashed.
        fs::write(root.join("configs/.indexignore"), b"y\n").unwrap();
        tree.check_names("configs").unwrap();
        assert!(tree.check_rest("configs", &read).is_err());
        fs::write(root.join("configs/.indexignore"), b"x\n").unwrap();
        // Added, grown and removed files are seen by name and size.
        fs::write(root.join("configs/p/b.json"), b"{}").unwrap();
        assert!(tree.check_names("configs").is_err());
        fs::remove_file(root.join("configs/p/b.json")).unwrap();
        fs::write(root.join("configs/p/a.json"), b"{ }").unwrap();
        assert!(tree.check_names("configs").is_err());
        fs::remove_file(root.join("configs/p/a.json")).unwrap();
        assert!(tree.check_names("configs").is_err());
        assert!(tree.check_all().is_err());
        tree.discard(&cache);
        assert!(open_unchecked(&cache, &k).is_none());
        assert!(!root.exists());
    }

    #[test]
    fn evicts_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(Some(dir.path().join("c"))).unwrap();
        let mut roots = Vec::new();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let k = Digest::of(name.as_bytes());
            let root = build(&cache, &k, |r| {
                fs::write(r.join("f"), vec![b'x'; 1000]).map_err(|e| e.to_string())?;
                Ok(Written::new())
            })
            .unwrap();
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i as u64);
            let f = fs::File::options()
                .append(true)
                .open(root.parent().unwrap().join(INDEX))
                .unwrap();
            f.set_modified(t).unwrap();
            roots.push(root);
        }
        // Keep "a" although it is the oldest: "b" goes, then the bound holds.
        evict(&cache, 2500, &[roots[0].clone()]);
        assert!(roots[0].exists());
        assert!(!roots[1].exists());
        assert!(roots[2].exists());
        evict(&cache, 0, &[]);
        assert!(roots.iter().all(|r| !r.exists()));
    }
}
