//! Applying image layers, in order, into a private directory: the image's
//! root filesystem, from which bundles and catalogs are then read.
//!
//! Layers come from registries we do not control, so every entry is checked
//! before anything is written: a path must stay inside the root (no `..`,
//! no absolute path, no parent that is a symlink), a symlink must point
//! inside the root, a hard link must name a regular file already inside it,
//! device files and FIFOs are refused, and the total expanded size is
//! bounded. Each layer's bytes are hashed as they are read and must match
//! the digest and size its manifest gave.
//!
//! Like Go opm (spec §4.2, `Unpack`), ownership and permissions from the
//! archive are not applied: files are created `0600`, directories `0700`,
//! owned by the running user.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::digest::{Digest, HashingWriter, VerifyingReader, file_hash};

/// One layer to apply: a local file and what its parent said about it.
#[derive(Debug, Clone)]
pub struct Layer {
    pub path: PathBuf,
    /// Digest of the file as stored (compressed); `None` when the source
    /// gives none (Docker archives: checked by `diff_id` instead).
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    /// Digest of the uncompressed tar, when known.
    pub diff_id: Option<Digest>,
}

/// Apply `layers` in order into `root`, expanding at most `max_bytes` in all.
pub fn apply_layers(layers: &[Layer], root: &Path, max_bytes: u64) -> Result<(), String> {
    apply_layers_hashed(layers, root, max_bytes, None).map(drop)
}

/// What a [`Tap`] is told of a file: its root-relative path
/// (`/`-separated), its bytes, and their [`file_hash`].
pub type OnFile<'a> = dyn Fn(&str, Vec<u8>, &str) + Sync + 'a;

/// Hands the regular files a layer writes below one folder to a reader as
/// soon as each is on disk, so that it can be parsed while the layers are
/// still decompressing. A file that a later layer replaces or removes was
/// handed over all the same: what the root finally holds is the
/// [`Written`] the unpack returns.
pub struct Tap<'a> {
    /// Root-relative folder (`configs`; empty for the whole root).
    pub under: String,
    /// Larger files are written without being handed over.
    pub max_file: u64,
    pub on_file: &'a OnFile<'a>,
}

impl Tap<'_> {
    fn wants(&self, rel_key: &str, size: u64) -> bool {
        size <= self.max_file
            && (self.under.is_empty()
                || rel_key
                    .strip_prefix(self.under.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

/// The regular files a set of layers left in the root, by root-relative
/// path (`/`-separated): their size and [`file_hash`], computed as they
/// were written.
pub type Written = HashMap<String, (u64, String)>;

/// [`apply_layers`], also returning what each remaining regular file holds
/// (so that a caller recording the tree need not read it back).
pub fn apply_layers_hashed(
    layers: &[Layer],
    root: &Path,
    max_bytes: u64,
    tap: Option<&Tap<'_>>,
) -> Result<Written, String> {
    let mut budget = max_bytes;
    let mut written = Written::new();
    for layer in layers {
        let name = layer
            .digest
            .as_ref()
            .map_or_else(|| layer.path.display().to_string(), Digest::to_string);
        apply_layer(layer, root, &mut budget, max_bytes, &mut written, tap)
            .map_err(|e| format!("failed to apply layer {name}: {e}"))?;
    }
    Ok(written)
}

fn apply_layer(
    layer: &Layer,
    root: &Path,
    budget: &mut u64,
    max: u64,
    written: &mut Written,
    tap: Option<&Tap<'_>>,
) -> Result<(), String> {
    let file = fs::File::open(&layer.path).map_err(|e| format!("open blob: {e}"))?;
    let limit = layer.size.unwrap_or(u64::MAX);
    let mut verified = VerifyingReader::new(file, layer.digest.as_ref(), limit);
    let applied = apply_stream(&mut verified, layer, root, budget, max, written, tap);
    // Read to the end, so that the digest covers the whole blob (padding
    // after the tar end marker included). When the content was damaged,
    // the digest mismatch is the better explanation than whatever the
    // decompressor or the tar reader tripped over.
    let drained = io::copy(&mut verified, &mut io::sink()).map_err(|e| format!("read blob: {e}"));
    let count = verified.count;
    let size_error = |size: u64| {
        let more = if count > size { "more than" } else { "only" };
        format!("blob has {more} the {size} bytes its descriptor declares")
    };
    if let Some(size) = layer.size
        && count > size
    {
        return Err(size_error(size));
    }
    if let (Some(want), Some(got)) = (&layer.digest, verified.finish()) {
        got.expect(want, "blob")?;
    }
    applied?;
    drained?;
    if let Some(size) = layer.size
        && count != size
    {
        return Err(size_error(size));
    }
    Ok(())
}

fn apply_stream<R: Read + Send>(
    verified: &mut R,
    layer: &Layer,
    root: &Path,
    budget: &mut u64,
    max: u64,
    written: &mut Written,
    tap: Option<&Tap<'_>>,
) -> Result<(), String> {
    let mut buffered = BufReader::with_capacity(64 << 10, verified);
    let head = buffered
        .fill_buf()
        .map_err(|e| format!("read blob: {e}"))?
        .to_vec();
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err("zstd-compressed layers are not supported".into());
    }
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    // A gzip layer is decompressed on a second thread while this one
    // checks and writes the entries (the two take about the same time).
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(16);
        let decompressed: Box<dyn Read + '_> = if gzipped {
            let mut gz = flate2::bufread::MultiGzDecoder::new(buffered);
            scope.spawn(move || {
                loop {
                    let mut chunk = vec![0u8; 256 << 10];
                    let got = match read_full(&mut gz, &mut chunk) {
                        Ok(n) => n,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    if got == 0 {
                        return;
                    }
                    chunk.truncate(got);
                    if tx.send(Ok(chunk)).is_err() {
                        // The reader stopped (an error): stop too.
                        return;
                    }
                }
            });
            Box::new(ChannelReader {
                rx,
                chunk: Vec::new(),
                at: 0,
            })
        } else {
            drop(tx);
            Box::new(buffered)
        };
        // What this layer expands to counts against the whole image's budget.
        // The uncompressed tar is checked against its `diff_id` only when
        // the blob has no digest of its own (Docker archives): a verified
        // compressed blob fixes what it decompresses to, and hashing the
        // tar again costs as much CPU as hashing every file it holds.
        let diff_id = layer.diff_id.as_ref().filter(|_| layer.digest.is_none());
        let mut tar_bytes = VerifyingReader::new(decompressed, diff_id, *budget)
            .with_limit_message(format!(
                "image expands past the limit of {max} bytes (OPM_IMAGE_MAX_BYTES)"
            ));
        let applied = apply_tar(&mut tar_bytes, root, written, tap).and_then(|()| {
            io::copy(&mut tar_bytes, &mut io::sink())
                .map(drop)
                .map_err(|e| format!("read layer: {e}"))
        });
        *budget -= tar_bytes.count.min(*budget);
        applied?;
        if let (Some(want), Some(got)) = (diff_id, tar_bytes.finish()) {
            got.expect(want, "uncompressed layer")?;
        }
        Ok(())
    })
}

/// Read until `buf` is full or the stream ends.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The reading end of the decompressing thread.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";

fn apply_tar(
    reader: &mut dyn Read,
    root: &Path,
    written: &mut Written,
    tap: Option<&Tap<'_>>,
) -> Result<(), String> {
    let mut archive = tar::Archive::new(reader);
    // Paths created by this layer: an opaque whiteout hides only what lower
    // layers put in its directory.
    let mut created: HashSet<PathBuf> = HashSet::new();
    let entries = archive.entries().map_err(|e| format!("read tar: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("read tar: {e}"))?;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let at = |msg: String| format!("tar entry {raw_path:?}: {msg}");
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            continue;
        }
        let rel = clean_entry_path(&raw_path).map_err(at)?;
        let Some(name) = rel.last().cloned() else {
            // The root itself.
            continue;
        };
        let parent_rel: Vec<String> = rel[..rel.len() - 1].to_vec();

        if name == OPAQUE_WHITEOUT {
            if let Some(dir) = existing_dir(root, &rel[..rel.len() - 1]).map_err(at)? {
                let dir_rel: PathBuf = parent_rel.iter().collect();
                for child in fs::read_dir(&dir).map_err(|e| at(e.to_string()))? {
                    let child = child.map_err(|e| at(e.to_string()))?;
                    if !created.contains(&dir_rel.join(child.file_name())) {
                        remove_any(&child.path()).map_err(at)?;
                        let mut gone = parent_rel.clone();
                        gone.push(child.file_name().to_string_lossy().into_owned());
                        forget(written, &gone.join("/"));
                    }
                }
            }
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                return Err(at("invalid whiteout".into()));
            }
            if let Some(dir) = existing_dir(root, &parent_rel).map_err(at)? {
                let target = dir.join(hidden);
                if fs::symlink_metadata(&target).is_ok() {
                    remove_any(&target).map_err(at)?;
                    let mut gone = parent_rel.clone();
                    gone.push(hidden.to_string());
                    forget(written, &gone.join("/"));
                }
            }
            continue;
        }

        let parent = make_parents(root, &parent_rel).map_err(at)?;
        let dest = parent.join(&name);
        let rel_path: PathBuf = rel.iter().collect();
        let rel_key = rel.join("/");
        if kind != tar::EntryType::Directory {
            forget(written, &rel_key);
        }
        match kind {
            tar::EntryType::Directory => match fs::symlink_metadata(&dest) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    remove_any(&dest).map_err(at)?;
                    forget(written, &rel_key);
                    mkdir(&dest).map_err(at)?;
                }
                Err(_) => mkdir(&dest).map_err(at)?,
            },
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                replace(&dest).map_err(at)?;
                let out = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&dest)
                    .map_err(|e| at(format!("create: {e}")))?;
                if let Some(tap) = tap.filter(|t| t.wants(&rel_key, entry.size())) {
                    // Read whole (the header's size, bounded by the tap), then
                    // written, hashed and handed over from the one buffer.
                    let mut data = Vec::with_capacity(entry.size() as usize);
                    entry
                        .read_to_end(&mut data)
                        .map_err(|e| at(format!("read: {e}")))?;
                    let mut out = out;
                    io::Write::write_all(&mut out, &data).map_err(|e| at(format!("write: {e}")))?;
                    drop(out);
                    let hash = file_hash(&data);
                    written.insert(rel_key.clone(), (data.len() as u64, hash.clone()));
                    (tap.on_file)(&rel_key, data, &hash);
                } else {
                    let mut out =
                        HashingWriter::for_file(io::BufWriter::with_capacity(256 << 10, out));
                    io::copy(&mut entry, &mut out).map_err(|e| at(format!("write: {e}")))?;
                    let size = out.count;
                    let (out, hash) = out.finish_file();
                    out.into_inner()
                        .map_err(|e| at(format!("write: {}", e.error())))?;
                    written.insert(rel_key, (size, hash));
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let target = symlink_target(&parent_rel, &target)
                    .map_err(|e| at(format!("symlink to {target:?}: {e}")))?;
                replace(&dest).map_err(at)?;
                std::os::unix::fs::symlink(&target, &dest)
                    .map_err(|e| at(format!("symlink: {e}")))?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let src = hardlink_source(root, &target)
                    .map_err(|e| at(format!("hard link to {target:?}: {e}")))?;
                if src == dest {
                    continue;
                }
                replace(&dest).map_err(at)?;
                fs::hard_link(&src, &dest).map_err(|e| at(format!("hard link: {e}")))?;
                let src_key = clean_entry_path(target.trim_start_matches('/'))
                    .map_err(at)?
                    .join("/");
                if let Some(h) = written.get(&src_key).cloned() {
                    written.insert(rel_key, h);
                }
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                return Err(at("device files are not allowed in image layers".into()));
            }
            tar::EntryType::Fifo => {
                return Err(at("FIFOs are not allowed in image layers".into()));
            }
            other => {
                return Err(at(format!("unsupported tar entry type {other:?}")));
            }
        }
        created.insert(rel_path);
    }
    Ok(())
}

/// Drop what `written` knows of `rel` and everything below it.
fn forget(written: &mut Written, rel: &str) {
    if written.remove(rel).is_some() {
        return;
    }
    let below = format!("{rel}/");
    written.retain(|k, _| !k.starts_with(&below));
}

/// The components of an entry path, which must be relative and must not
/// climb: `./a/b/` → `[a, b]`.
fn clean_entry_path(p: &str) -> Result<Vec<String>, String> {
    if p.starts_with('/') {
        return Err("absolute paths are not allowed in image layers".into());
    }
    let mut out = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("path leaves the image root (\"..\")".into()),
            c if c.contains('\0') => return Err("path contains NUL".into()),
            c => out.push(c.to_string()),
        }
    }
    Ok(out)
}

fn mkdir(p: &Path) -> Result<(), String> {
    fs::DirBuilder::new()
        .mode(0o700)
        .create(p)
        .map_err(|e| format!("mkdir {}: {e}", p.display()))
}

/// Walk `comps` below `root`, creating missing directories; every existing
/// component must be a real directory, never a symlink, so nothing can be
/// written outside `root` through a link planted by an earlier entry.
fn make_parents(root: &Path, comps: &[String]) -> Result<PathBuf, String> {
    walk_dirs(root, comps, true).map(|d| d.unwrap_or_else(|| root.to_path_buf()))
}

/// Like [`make_parents`] but creating nothing: `None` when some component
/// is missing (a whiteout of something that never existed).
fn existing_dir(root: &Path, comps: &[String]) -> Result<Option<PathBuf>, String> {
    walk_dirs(root, comps, false)
}

fn walk_dirs(root: &Path, comps: &[String], create: bool) -> Result<Option<PathBuf>, String> {
    let mut cur = root.to_path_buf();
    for c in comps {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "parent {c:?} is a symlink; writing through it is not allowed"
                ));
            }
            Ok(_) if create => return Err(format!("parent {c:?} is not a directory")),
            Err(_) if create => mkdir(&cur)?,
            Ok(_) | Err(_) => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// Remove whatever is at `p` (a file, a symlink, not what it points to, or
/// a whole directory).
fn remove_any(p: &Path) -> Result<(), String> {
    let m = fs::symlink_metadata(p).map_err(|e| format!("stat {}: {e}", p.display()))?;
    let r = if m.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    };
    r.map_err(|e| format!("remove {}: {e}", p.display()))
}

/// Make room for a new non-directory entry at `p`: a later layer replaces
/// what an earlier one put there, and never writes through a symlink.
fn replace(p: &Path) -> Result<(), String> {
    if fs::symlink_metadata(p).is_ok() {
        remove_any(p)?;
    }
    Ok(())
}

/// The target to create for a symlink at `parent/<name>`.
///
/// A relative target may climb (`../x`) only at its start and not above
/// the root: with every parent a real directory, the link then resolves
/// inside the root, whatever links it later passes through (they obey the
/// same rule). An absolute target means "from the image root" inside a
/// container, so it is rewritten relative to the link's directory; keeping
/// it would point into the host's filesystem.
fn symlink_target(parent: &[String], target: &str) -> Result<PathBuf, String> {
    if target.is_empty() {
        return Err("empty target".into());
    }
    if target.contains('\0') {
        return Err("target contains NUL".into());
    }
    if target.starts_with('/') {
        // Resolve lexically from the root, clamping at it as a container
        // runtime does.
        let mut comps: Vec<&str> = Vec::new();
        for c in target.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    comps.pop();
                }
                c => comps.push(c),
            }
        }
        let mut out = PathBuf::new();
        for _ in parent {
            out.push("..");
        }
        for c in &comps {
            out.push(c);
        }
        if out.as_os_str().is_empty() {
            out.push(".");
        }
        return Ok(out);
    }
    let mut up = 0usize;
    let mut seen_name = false;
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." if seen_name => {
                return Err(
                    "\"..\" after a name could leave the image root through another link".into(),
                );
            }
            ".." => up += 1,
            _ => seen_name = true,
        }
    }
    if up > parent.len() {
        return Err("points outside the image root".into());
    }
    Ok(PathBuf::from(target))
}

/// The existing regular file a hard link entry names (a root-relative
/// path), reached without passing through symlinks.
fn hardlink_source(root: &Path, target: &str) -> Result<PathBuf, String> {
    let comps = clean_entry_path(target.trim_start_matches('/'))?;
    let Some((name, parents)) = comps.split_last() else {
        return Err("empty target".into());
    };
    let dir = existing_dir(root, parents)?.ok_or("target does not exist in the image")?;
    let src = dir.join(name);
    match fs::symlink_metadata(&src) {
        Ok(m) if m.is_file() => Ok(src),
        Ok(_) => Err("target is not a regular file".into()),
        Err(_) => Err("target does not exist in the image".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar entry: path, file content, or hard link target, or neither
    /// for a directory.
    type Entry<'a> = (&'a str, Option<&'a [u8]>, Option<&'a str>);

    fn tar_layer(dir: &Path, name: &str, entries: &[Entry<'_>]) -> Layer {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            match (data, link) {
                (Some(d), _) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(d.len() as u64);
                    b.append_data(&mut h, path, *d).unwrap();
                }
                (None, Some(l)) => {
                    h.set_entry_type(tar::EntryType::Link);
                    h.set_size(0);
                    b.append_link(&mut h, path, l).unwrap();
                }
                (None, None) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, path, &[][..]).unwrap();
                }
            }
        }
        let data = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &data).unwrap();
        let gz = gz.finish().unwrap();
        let path = dir.join(name);
        fs::write(&path, &gz).unwrap();
        Layer {
            path,
            digest: Some(Digest::of(&gz)),
            size: Some(gz.len() as u64),
            diff_id: Some(Digest::of(&data)),
        }
    }

    #[test]
    fn written_hashes_follow_the_layers() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'z'; 3 << 20];
        let l1 = tar_layer(
            dir.path(),
            "l1",
            &[
                ("configs", None, None),
                ("configs/a.json", Some(b"{\"a\":1}"), None),
                ("configs/b.json", Some(b"{}"), None),
                ("configs/big.json", Some(&big), None),
                ("old/x", Some(b"x"), None),
            ],
        );
        let l2 = tar_layer(
            dir.path(),
            "l2",
            &[
                ("configs/a.json", Some(b"{\"a\":2}"), None),
                ("configs/.wh.b.json", Some(b""), None),
                ("configs/c.json", None, Some("configs/a.json")),
                (".wh.old", Some(b""), None),
            ],
        );
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        let written = apply_layers_hashed(&[l1, l2], &root, 1 << 30, None).unwrap();
        let want = |data: &[u8]| (data.len() as u64, file_hash(data));
        let mut expect = Written::new();
        expect.insert("configs/a.json".into(), want(b"{\"a\":2}"));
        expect.insert("configs/c.json".into(), want(b"{\"a\":2}"));
        expect.insert("configs/big.json".into(), want(&big));
        assert_eq!(written, expect);
        assert_eq!(fs::read(root.join("configs/big.json")).unwrap(), big);
        assert!(!root.join("configs/b.json").exists());
        assert!(!root.join("old").exists());
    }

    #[test]
    fn truncated_gzip_fails_on_the_digest_or_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..4u64 << 20).map(|i| (i * 7919 % 251) as u8).collect();
        let mut l = tar_layer(dir.path(), "l", &[("f", Some(&big), None)]);
        let data = fs::read(&l.path).unwrap();
        fs::write(&l.path, &data[..data.len() / 2]).unwrap();
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        let e = apply_layers(std::slice::from_ref(&l), &root, 1 << 30).unwrap_err();
        assert!(e.contains("digest mismatch"), "{e}");
        // With no digest or size to check, the decompressor's error.
        l.digest = None;
        l.size = None;
        let root = dir.path().join("root2");
        fs::create_dir(&root).unwrap();
        let e = apply_layers(&[l], &root, 1 << 30).unwrap_err();
        assert!(e.contains("failed to apply layer"), "{e}");
    }

    #[test]
    fn entry_paths() {
        assert_eq!(clean_entry_path("./a//b/").unwrap(), vec!["a", "b"]);
        assert!(clean_entry_path("a/../../b").is_err());
        assert!(clean_entry_path("/etc/passwd").is_err());
    }

    #[test]
    fn symlink_targets() {
        let p = vec!["a".to_string(), "b".to_string()];
        assert_eq!(symlink_target(&p, "../x").unwrap(), PathBuf::from("../x"));
        assert_eq!(
            symlink_target(&p, "../../x").unwrap(),
            PathBuf::from("../../x")
        );
        assert!(symlink_target(&p, "../../../x").is_err());
        assert!(symlink_target(&p, "y/../../../x").is_err());
        assert_eq!(
            symlink_target(&p, "/usr/../etc/x").unwrap(),
            PathBuf::from("../../etc/x")
        );
        assert_eq!(symlink_target(&[], "/").unwrap(), PathBuf::from("."));
    }
}
