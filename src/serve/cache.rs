//! The on-disk serve cache: one file, built from a catalog directory, that
//! `serve` starts from in a few milliseconds and answers from with little
//! memory.
//!
//! Layout of `<cache-dir>/opm-rs.v1/cache.bin`:
//!
//! ```text
//! header (96 bytes): magic, catalog digest (sha256), index offset and
//!                    length, sha256 of the index
//! data region:       blob segments (the catalogd "all" stream, in pieces
//!                    per catalog file), encoded api.Bundle fragments
//! index:             protobuf (`IndexPb`): packages, channels, entries,
//!                    bundle spans, provided GVKs, blob positions
//! ```
//!
//! Only the index is read into memory. Bundle payloads (`csvJson`,
//! `object`) are read with positional reads per request, so the page cache,
//! not the process, holds them: memory stays flat however big the catalog.
//! The digest covers every catalog file's relative path and content plus
//! this format's version, so a cache built for other content, by another
//! opm version, or by Go opm (whose `pogreb.v1/` or `cache/` directories are
//! left alone) is never used by mistake.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use prost::Message;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::model::{self, BundleMeta, Group, ModelPackage};
use super::proto::api;
use crate::catalog::load::{
    add_value, for_each_document, go_io_error, go_quote, list_files, meta_of,
};
use crate::catalog::validate::props::parse_properties;
use crate::catalog::{
    DeclarativeConfig, LoadError, LoadOptions, Location, PROP_BUNDLE_OBJECT, PROP_CSV_METADATA,
    SCHEMA_BUNDLE, SCHEMA_CHANNEL, SCHEMA_DEPRECATIONS, SCHEMA_PACKAGE,
};

/// The subdirectory of `--cache-dir` this implementation owns.
pub const BACKEND: &str = "opm-rs.v1";
const FILE_NAME: &str = "cache.bin";
const MAGIC: &[u8; 8] = b"OPMRSC2\n";
const HEADER_LEN: u64 = 96;
/// Changes whenever the bytes a cache holds would change.
/// Blob bytes buffered per file before they are written out.
const BLOB_FLUSH: usize = 256 * 1024;
const FORMAT_SALT: &str = concat!("opm-rs serve cache v2 / ", env!("CARGO_PKG_VERSION"));

/// A byte range of the cache file's data region.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Span {
    #[prost(uint64, tag = "1")]
    pub offset: u64,
    #[prost(uint64, tag = "2")]
    pub len: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct IndexPb {
    #[prost(message, repeated, tag = "1")]
    pub packages: Vec<PackagePb>,
    #[prost(message, repeated, tag = "2")]
    pub bundles: Vec<BundlePb>,
    /// The catalogd `all` stream: these spans concatenated, in walk order.
    #[prost(message, repeated, tag = "3")]
    pub all_segments: Vec<Span>,
    /// Every blob, in walk order, with its place in the `all` stream.
    #[prost(message, repeated, tag = "4")]
    pub blobs: Vec<BlobPb>,
    /// Seconds since the epoch when the cache was built (HTTP Last-Modified).
    #[prost(int64, tag = "5")]
    pub built_unix: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PackagePb {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub default_channel: String,
    #[prost(string, optional, tag = "3")]
    pub deprecation: Option<String>,
    /// Sorted by name.
    #[prost(message, repeated, tag = "4")]
    pub channels: Vec<ChannelPb>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ChannelPb {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub head: String,
    #[prost(string, optional, tag = "3")]
    pub deprecation: Option<String>,
    /// Sorted by bundle name.
    #[prost(message, repeated, tag = "4")]
    pub entries: Vec<EntryPb>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryPb {
    /// Index into `IndexPb::bundles`.
    #[prost(uint32, tag = "1")]
    pub bundle: u32,
    #[prost(string, tag = "2")]
    pub replaces: String,
    #[prost(string, repeated, tag = "3")]
    pub skips: Vec<String>,
    #[prost(string, tag = "4")]
    pub skip_range: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BundlePb {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub package: String,
    #[prost(string, tag = "3")]
    pub image: String,
    /// `api.Bundle` without the per-channel fields and without the payload.
    #[prost(message, optional, tag = "4")]
    pub core: Option<Span>,
    /// `api.Bundle` fragments holding `csvJson` and `object`, to be merged.
    #[prost(message, repeated, tag = "5")]
    pub heavy: Vec<Span>,
    #[prost(message, repeated, tag = "6")]
    pub provided: Vec<GvkPb>,
    /// `csvJson` is this one of the `object`s (stored once).
    #[prost(uint32, optional, tag = "7")]
    pub csv_object: Option<u32>,
    /// `object` is `[csvJson]` (a synthesised CSV and no objects, §4.2).
    #[prost(bool, tag = "8")]
    pub object_from_csv: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct GvkPb {
    #[prost(string, tag = "1")]
    pub group: String,
    #[prost(string, tag = "2")]
    pub version: String,
    #[prost(string, tag = "3")]
    pub kind: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BlobPb {
    #[prost(string, tag = "1")]
    pub schema: String,
    #[prost(string, tag = "2")]
    pub package: String,
    #[prost(string, tag = "3")]
    pub name: String,
    /// Offset in the `all` stream.
    #[prost(uint64, tag = "4")]
    pub offset: u64,
    #[prost(uint64, tag = "5")]
    pub len: u64,
}

/// Why a cache could not be used or built. `Display` is Go opm's text
/// where Go has one.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache file is missing or unreadable (Go: reading the digest).
    #[error("read existing cache digest: {0}")]
    ReadDigest(String),
    /// Built for other content.
    #[error(
        "cache requires rebuild: cache reports digest as \"{existing}\", but computed digest is \"{computed}\""
    )]
    Stale { existing: String, computed: String },
    /// Not a cache of ours, or damaged.
    #[error("cache requires rebuild: {0}")]
    Corrupt(String),
    /// Loading the catalog failed (message is the loader's).
    #[error("{}", .0.message)]
    Load(LoadError),
    /// The catalog loaded but a package is invalid.
    #[error(
        "build package index: process package {}: {message}",
        go_quote(package)
    )]
    Package { package: String, message: String },
    #[error("invalid custom schema meta: {0}")]
    CustomMeta(String),
    #[error("{0}")]
    Io(String),
}

impl CacheError {
    /// Where in the catalog the problem is, when known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            CacheError::Load(e) => e.location.as_ref(),
            _ => None,
        }
    }
}

fn io_err(op: &str, path: &Path, e: std::io::Error) -> CacheError {
    CacheError::Io(go_io_error(op, path, &e))
}

/// The cache file inside a cache directory.
pub fn cache_file(cache_dir: &Path) -> PathBuf {
    cache_dir.join(BACKEND).join(FILE_NAME)
}

/// Lowercase hex.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files of a catalog (directory or single file) in walk order, with
/// their path relative to the root.
fn catalog_files(configs: &Path) -> Result<Vec<(PathBuf, String)>, CacheError> {
    let meta = std::fs::metadata(configs).map_err(|e| {
        CacheError::Load(LoadError {
            message: go_io_error("stat", configs, &e),
            location: None,
        })
    })?;
    if !meta.is_dir() {
        let name = configs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(configs.to_path_buf(), name)]);
    }
    let files = list_files(configs).map_err(CacheError::Load)?;
    Ok(files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(configs)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            (p, rel)
        })
        .collect())
}

/// One file's share of the digest: relative path, length, content sha256.
type FileDigest = (String, u64, [u8; 32]);

/// Combine per-file content digests (in walk order) into the catalog digest.
fn combine_digest(files: &[FileDigest]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(FORMAT_SALT.as_bytes());
    h.update([0]);
    for (rel, len, d) in files {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(len.to_le_bytes());
        h.update(d);
    }
    h.finalize().into()
}

/// The digest of a catalog's content, without parsing it. Files are hashed
/// in parallel through a small buffer so memory stays flat.
pub fn catalog_digest(configs: &Path) -> Result<[u8; 32], CacheError> {
    let files = catalog_files(configs)?;
    let per_file: Vec<Result<FileDigest, CacheError>> = files
        .par_iter()
        .map(|(path, rel)| {
            let mut f = File::open(path).map_err(|e| io_err("open", path, e))?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut len = 0u64;
            loop {
                let n = f.read(&mut buf).map_err(|e| io_err("read", path, e))?;
                if n == 0 {
                    break;
                }
                len += n as u64;
                h.update(&buf[..n]);
            }
            Ok((rel.clone(), len, h.finalize().into()))
        })
        .collect();
    let per_file = per_file.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(combine_digest(&per_file))
}

/// The header of an existing cache file: catalog digest, index span, index
/// sha256, and the CRC-32 of every byte after the header (data and index).
struct Header {
    digest: [u8; 32],
    index: Span,
    index_sha: [u8; 32],
    body_crc: u32,
}

fn read_header(f: &File) -> Result<Header, String> {
    use std::os::unix::fs::FileExt;
    let mut h = [0u8; HEADER_LEN as usize];
    f.read_exact_at(&mut h, 0)
        .map_err(|e| format!("read header: {e}"))?;
    if &h[..8] != MAGIC {
        return Err("not an opm-rs cache".into());
    }
    let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().unwrap_or_default());
    Ok(Header {
        digest: h[8..40].try_into().unwrap_or_default(),
        index: Span {
            offset: u64_at(40),
            len: u64_at(48),
        },
        index_sha: h[56..88].try_into().unwrap_or_default(),
        body_crc: u32::from_le_bytes(h[88..92].try_into().unwrap_or_default()),
    })
    .and_then(|header| {
        if h[92..].iter().any(|b| *b != 0) {
            return Err("header padding is not zero".into());
        }
        Ok(header)
    })
}

/// CRC-32 of `len` bytes of `f` from `start`, in parallel chunks: a cache
/// damaged at any byte is caught when it is opened, for the price of
/// reading it once from the page cache.
fn crc_of(f: &File, start: u64, len: u64) -> std::io::Result<u32> {
    use std::os::unix::fs::FileExt;
    const CHUNK: u64 = 4 << 20;
    let chunks: Vec<u64> = (0..len.div_ceil(CHUNK)).collect();
    let parts: Vec<std::io::Result<crc32fast::Hasher>> = chunks
        .par_iter()
        .map(|i| {
            // Through a small buffer: the check must not raise peak RSS.
            let mut buf = vec![0u8; 128 << 10];
            let mut h = crc32fast::Hasher::new();
            let (mut off, end) = (i * CHUNK, ((i + 1) * CHUNK).min(len));
            while off < end {
                let n = (buf.len() as u64).min(end - off) as usize;
                f.read_exact_at(&mut buf[..n], start + off)?;
                h.update(&buf[..n]);
                off += n as u64;
            }
            Ok(h)
        })
        .collect();
    let mut all = crc32fast::Hasher::new();
    for p in parts {
        all.combine(&p?);
    }
    Ok(all.finalize())
}

/// An opened cache: the index in memory, payloads on disk.
pub struct Cache {
    pub file: File,
    pub index: IndexPb,
    pub digest: [u8; 32],
}

impl Cache {
    /// Read `len` bytes at a data-region span.
    pub fn read(&self, span: Span) -> std::io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; span.len as usize];
        self.file.read_exact_at(&mut buf, span.offset)?;
        Ok(buf)
    }

    /// Read into a caller buffer at an absolute data offset.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, offset)
    }
}

/// Open the cache in `cache_dir` if it was built for `digest`.
pub fn open(cache_dir: &Path, digest: &[u8; 32]) -> Result<Cache, CacheError> {
    open_checked(cache_dir, digest, check_body(cache_dir))
}

/// Whether a cache file's body (everything after the header) has the
/// length and CRC-32 its header records. Reading it all is most of the cost
/// of opening a cache: `serve` runs this beside the catalog digest
/// ([`catalog_digest`]) and hands the result to [`open_checked`].
pub struct BodyCheck(Result<(), CacheError>);

pub fn check_body(cache_dir: &Path) -> BodyCheck {
    let check = || {
        let path = cache_file(cache_dir);
        let file = File::open(&path)
            .map_err(|e| CacheError::ReadDigest(go_io_error("open", &path, &e)))?;
        let header = read_header(&file).map_err(CacheError::Corrupt)?;
        let end = header.index.offset.saturating_add(header.index.len);
        let file_len = file
            .metadata()
            .map_err(|e| CacheError::Corrupt(format!("stat: {e}")))?
            .len();
        if header.index.offset < HEADER_LEN || end != file_len {
            return Err(CacheError::Corrupt(format!(
                "truncated or extended: {file_len} bytes, index ends at {end}"
            )));
        }
        let crc = crc_of(&file, HEADER_LEN, end - HEADER_LEN)
            .map_err(|e| CacheError::Corrupt(format!("read: {e}")))?;
        if crc != header.body_crc {
            return Err(CacheError::Corrupt("data checksum mismatch".into()));
        }
        Ok(())
    };
    BodyCheck(check())
}

/// [`open`] with the body already checked. Errors come in the order a
/// reader meets them: an unreadable header, a stale digest, a damaged body.
pub fn open_checked(
    cache_dir: &Path,
    digest: &[u8; 32],
    body: BodyCheck,
) -> Result<Cache, CacheError> {
    let path = cache_file(cache_dir);
    let file =
        File::open(&path).map_err(|e| CacheError::ReadDigest(go_io_error("open", &path, &e)))?;
    let header = read_header(&file).map_err(CacheError::Corrupt)?;
    if &header.digest != digest {
        return Err(CacheError::Stale {
            existing: hex(&header.digest),
            computed: hex(digest),
        });
    }
    body.0?;
    // The file was checked through another handle: it must be the same.
    let end = header.index.offset.saturating_add(header.index.len);
    let file_len = file
        .metadata()
        .map_err(|e| CacheError::Corrupt(format!("stat: {e}")))?
        .len();
    if end != file_len {
        return Err(CacheError::Corrupt("changed while opened".into()));
    }
    let mut raw = vec![0u8; header.index.len as usize];
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut raw, header.index.offset)
            .map_err(|e| CacheError::Corrupt(format!("read index: {e}")))?;
    }
    let sha: [u8; 32] = Sha256::digest(&raw).into();
    if sha != header.index_sha {
        return Err(CacheError::Corrupt("index checksum mismatch".into()));
    }
    let index = IndexPb::decode(raw.as_slice())
        .map_err(|e| CacheError::Corrupt(format!("decode index: {e}")))?;
    Ok(Cache {
        file,
        index,
        digest: *digest,
    })
}

/// Appends to the data region of the cache being built.
struct DataWriter {
    out: BufWriter<File>,
    pos: u64,
    /// CRC-32 of everything appended (the header's `body_crc`).
    crc: crc32fast::Hasher,
}

impl DataWriter {
    /// Append strings as repeated protobuf field `tag`, without building
    /// the message in memory first.
    fn append_strings(&mut self, tag: u32, items: &[String]) -> std::io::Result<Span> {
        let start = self.pos;
        let mut head = Vec::with_capacity(16);
        for item in items {
            head.clear();
            prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, &mut head);
            prost::encoding::encode_varint(item.len() as u64, &mut head);
            self.out.write_all(&head)?;
            self.out.write_all(item.as_bytes())?;
            self.crc.update(&head);
            self.crc.update(item.as_bytes());
            self.pos += (head.len() + item.len()) as u64;
        }
        Ok(Span {
            offset: start,
            len: self.pos - start,
        })
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<Span> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        let span = Span {
            offset: self.pos,
            len: bytes.len() as u64,
        };
        self.pos += bytes.len() as u64;
        Ok(span)
    }
}

/// What one catalog file contributed.
#[derive(Default)]
struct FileResult {
    rel: String,
    len: u64,
    digest: [u8; 32],
    segments: Vec<Span>,
    blobs: Vec<BlobPb>,
    cfg: DeclarativeConfig,
    bundles: Vec<BundleMeta>,
}

/// Go's custom-meta name rule (§3.3): `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`.
pub fn valid_meta_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

pub const META_NAME_RULE: &str = "must match ^[a-zA-Z0-9][a-zA-Z0-9._-]*$";

fn is_olm_schema(s: &str) -> bool {
    matches!(
        s,
        SCHEMA_PACKAGE | SCHEMA_CHANNEL | SCHEMA_BUNDLE | SCHEMA_DEPRECATIONS
    )
}

fn load_err(message: String, path: &Path, line: Option<usize>) -> CacheError {
    CacheError::Load(LoadError {
        message,
        location: Some(Location {
            path: path.into(),
            line,
        }),
    })
}

/// Parse one catalog file: its blobs go to the data region as segments,
/// its bundles' objects as encoded fragments; the rest is returned.
fn process_file(path: &Path, rel: &str, w: &Mutex<DataWriter>) -> Result<FileResult, CacheError> {
    let bytes =
        std::fs::read(path).map_err(|e| load_err(go_io_error("read", path, &e), path, None))?;
    let mut res = FileResult {
        rel: rel.to_string(),
        len: bytes.len() as u64,
        digest: Sha256::digest(&bytes).into(),
        ..Default::default()
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    // Blobs go out in pieces so that a big file is never held twice.
    let mut blob_buf: Vec<u8> = Vec::new();
    let mut flushed = 0u64;
    let opts = LoadOptions {
        keep_objects: true,
        ..Default::default()
    };
    for_each_document(&text, |doc| {
        let value = doc.value.map_err(|m| load_err(m, path, Some(doc.line)))?;
        let meta = meta_of(&value, doc.raw).map_err(|m| load_err(m, path, Some(doc.line)))?;
        if !is_olm_schema(&meta.schema) && !value.is_null() {
            // Every other schema is a custom meta for serve (§3.3, §3.7).
            if meta.schema.is_empty() {
                return Err(CacheError::CustomMeta(
                    "invalid schema: must not be empty".into(),
                ));
            }
            if !valid_meta_name(&meta.schema) {
                return Err(CacheError::CustomMeta(format!(
                    "invalid schema {}: {META_NAME_RULE}",
                    go_quote(&meta.schema)
                )));
            }
            if !meta.package.is_empty() && !valid_meta_name(&meta.package) {
                return Err(CacheError::CustomMeta(format!(
                    "invalid packageName {}: {META_NAME_RULE}",
                    go_quote(&meta.package)
                )));
            }
        }
        if blob_buf.len() >= BLOB_FLUSH {
            let mut guard = w.lock().unwrap_or_else(|e| e.into_inner());
            res.segments.push(
                guard
                    .append(&blob_buf)
                    .map_err(|e| io_err("write", path, e))?,
            );
            flushed += blob_buf.len() as u64;
            blob_buf.clear();
        }
        if !value.is_null() {
            let start = flushed + blob_buf.len() as u64;
            crate::encoding::json::write_normalized(&value, &mut blob_buf);
            blob_buf.push(b'\n');
            res.blobs.push(BlobPb {
                schema: meta.schema,
                package: meta.package,
                name: meta.name,
                offset: start,
                len: flushed + blob_buf.len() as u64 - start,
            });
        }
        let mut cfg = DeclarativeConfig::default();
        add_value(&mut cfg, value, doc.raw, opts).map_err(|m| load_err(m, path, Some(doc.line)))?;
        for b in cfg.bundles.drain(..) {
            res.bundles
                .push(stash_bundle(b, w).map_err(|e| io_err("write", path, e))?);
        }
        cfg.others.clear();
        res.cfg.extend(cfg);
        Ok(())
    })?;
    if !blob_buf.is_empty() {
        let mut guard = w.lock().unwrap_or_else(|e| e.into_inner());
        res.segments.push(
            guard
                .append(&blob_buf)
                .map_err(|e| io_err("write", path, e))?,
        );
    }
    Ok(res)
}

/// Write a bundle's objects out and keep the rest. The CSV is one of the
/// objects: it is stored once, with its index.
fn stash_bundle(
    mut b: crate::catalog::Bundle,
    w: &Mutex<DataWriter>,
) -> std::io::Result<BundleMeta> {
    let objects = std::mem::take(&mut b.objects);
    let csv = b.csv_json.take();
    let (props, prop_error) = parse_properties(&b.properties);
    let mut meta = BundleMeta {
        props,
        prop_error,
        object_count: objects.len(),
        csv_object: csv
            .and_then(|c| objects.iter().position(|o| *o == c))
            .map(|i| i as u32),
        ..Default::default()
    };
    if !objects.is_empty() {
        let mut guard = w.lock().unwrap_or_else(|e| e.into_inner());
        meta.heavy.push(guard.append_strings(5, &objects)?);
    }
    // CSV metadata is big (descriptions, examples) and only needed once the
    // package is known: park it in the data region until then.
    for p in b
        .properties
        .iter_mut()
        .filter(|p| p.typ == PROP_CSV_METADATA)
    {
        if meta.csv_metadata.is_none() {
            let mut guard = w.lock().unwrap_or_else(|e| e.into_inner());
            meta.csv_metadata = Some(guard.append(p.value.as_bytes())?);
        }
        p.value = String::new();
    }
    b.properties.retain(|p| p.typ != PROP_BUNDLE_OBJECT);
    meta.name = b.name;
    meta.package = b.package;
    meta.image = b.image;
    meta.properties = b.properties;
    meta.related_images = b.related_images;
    Ok(meta)
}

/// Statistics of a build, for the log.
pub struct Built {
    pub digest: [u8; 32],
    pub packages: usize,
    pub bundles: usize,
}

/// Build the cache for `configs` into `cache_dir`, replacing any previous
/// one of ours atomically.
pub fn build(configs: &Path, cache_dir: &Path) -> Result<Built, CacheError> {
    let files = catalog_files(configs)?;
    let dir = cache_dir.join(BACKEND);
    std::fs::create_dir_all(&dir).map_err(|e| io_err("mkdir", &dir, e))?;
    let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    // Readable too: CSV metadata parked in the data region is read back.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| io_err("open", &tmp, e))?;
    let result = build_into(&files, file);
    let result = result.and_then(|(digest, packages, bundles)| {
        let dest = cache_file(cache_dir);
        std::fs::rename(&tmp, &dest).map_err(|e| io_err("rename", &dest, e))?;
        Ok(Built {
            digest,
            packages,
            bundles,
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn build_into(
    files: &[(PathBuf, String)],
    file: File,
) -> Result<([u8; 32], usize, usize), CacheError> {
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(&[0u8; HEADER_LEN as usize])
        .map_err(|e| CacheError::Io(e.to_string()))?;
    let w = Mutex::new(DataWriter {
        out,
        pos: HEADER_LEN,
        crc: crc32fast::Hasher::new(),
    });

    // Files in parallel; the first failure in walk order wins, whatever
    // the thread timing.
    let results: Vec<Result<FileResult, CacheError>> = files
        .par_iter()
        .map(|(path, rel)| process_file(path, rel, &w))
        .collect();
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let digest = combine_digest(
        &results
            .iter()
            .map(|r| (r.rel.clone(), r.len, r.digest))
            .collect::<Vec<_>>(),
    );

    // The `all` stream and blob positions.
    let mut index = IndexPb {
        built_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default(),
        ..Default::default()
    };
    let mut groups: std::collections::BTreeMap<String, Group> = Default::default();
    let mut voffset = 0u64;
    for r in results {
        for mut b in r.blobs {
            b.offset += voffset;
            index.blobs.push(b);
        }
        voffset += r.segments.iter().map(|s| s.len).sum::<u64>();
        index.all_segments.extend(r.segments);
        let cfg = r.cfg;
        for p in cfg.packages {
            groups.entry(p.name.clone()).or_default().packages.push(p);
        }
        for c in cfg.channels {
            groups
                .entry(c.package.clone())
                .or_default()
                .channels
                .push(c);
        }
        for b in r.bundles {
            groups.entry(b.package.clone()).or_default().bundles.push(b);
        }
        for d in cfg.deprecations {
            groups
                .entry(d.package.clone())
                .or_default()
                .deprecations
                .push(d);
        }
    }

    // Packages in parallel; the first failure by package name wins.
    let groups: Vec<(String, Group)> = groups.into_iter().collect();
    let models: Vec<Result<ModelPackage, CacheError>> = groups
        .into_par_iter()
        .map(|(name, g)| {
            let mut m = model::build_package(&name, g).map_err(|message| CacheError::Package {
                package: name.clone(),
                message,
            })?;
            finish_bundles(&mut m, &w).map_err(|message| CacheError::Package {
                package: name,
                message,
            })?;
            Ok(m)
        })
        .collect();
    let models = models.into_iter().collect::<Result<Vec<_>, _>>()?;

    let mut bundle_count = 0;
    for m in &models {
        let first = index.bundles.len() as u32;
        let mut ids = std::collections::HashMap::new();
        for (i, (name, b)) in m.bundles.iter().enumerate() {
            ids.insert(name.clone(), first + i as u32);
            index.bundles.push(BundlePb {
                name: name.clone(),
                package: m.name.clone(),
                image: b.meta.image.clone(),
                core: None,
                heavy: b.meta.heavy.clone(),
                csv_object: b.meta.csv_object,
                object_from_csv: b.meta.object_from_csv,
                provided: gvks(&b.meta.properties, "olm.gvk"),
            });
        }
        bundle_count += m.bundles.len();
        index.packages.push(PackagePb {
            name: m.name.clone(),
            default_channel: m.default_channel.clone(),
            deprecation: m.deprecation.clone(),
            channels: m
                .channels
                .values()
                .map(|c| ChannelPb {
                    name: c.name.clone(),
                    head: c.head.clone(),
                    deprecation: c.deprecation.clone(),
                    entries: c
                        .entries
                        .iter()
                        .map(|(name, e)| EntryPb {
                            bundle: ids.get(name).copied().unwrap_or(u32::MAX),
                            replaces: e.replaces.clone(),
                            skips: e.skips.clone(),
                            skip_range: e.skip_range.clone(),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    // Core records, written now that bundle ids are known.
    {
        let mut guard = w.lock().unwrap_or_else(|e| e.into_inner());
        let mut i = 0;
        for m in &models {
            for b in m.bundles.values() {
                let core = core_bundle(m, b).encode_to_vec();
                index.bundles[i].core = Some(
                    guard
                        .append(&core)
                        .map_err(|e| CacheError::Io(e.to_string()))?,
                );
                i += 1;
            }
        }
    }

    let raw = index.encode_to_vec();
    let mut w = w.into_inner().unwrap_or_else(|e| e.into_inner());
    let index_span = w.append(&raw).map_err(|e| CacheError::Io(e.to_string()))?;
    let body_crc = w.crc.clone().finalize();
    let mut file = w
        .out
        .into_inner()
        .map_err(|e| CacheError::Io(e.to_string()))?;
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&digest);
    header.extend_from_slice(&index_span.offset.to_le_bytes());
    header.extend_from_slice(&index_span.len.to_le_bytes());
    header.extend_from_slice(&Sha256::digest(&raw));
    header.extend_from_slice(&body_crc.to_le_bytes());
    header.resize(HEADER_LEN as usize, 0);
    {
        use std::os::unix::fs::FileExt;
        file.write_all_at(&header, 0)
            .map_err(|e| CacheError::Io(e.to_string()))?;
    }
    file.flush().map_err(|e| CacheError::Io(e.to_string()))?;
    Ok((digest, models.len(), bundle_count))
}

/// Read back bytes written earlier in this build.
fn read_back(w: &Mutex<DataWriter>, span: Span) -> std::io::Result<String> {
    use std::os::unix::fs::FileExt;
    let mut guard = w.lock().unwrap_or_else(|e| e.into_inner());
    guard.out.flush()?;
    let mut buf = vec![0u8; span.len as usize];
    guard.out.get_ref().read_exact_at(&mut buf, span.offset)?;
    String::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Synthesise `csvJson` for bundles that only have `olm.csv.metadata`.
fn finish_bundles(m: &mut ModelPackage, w: &Mutex<DataWriter>) -> Result<(), String> {
    for (name, b) in m.bundles.iter_mut() {
        if b.meta.csv_object.is_some() {
            continue;
        }
        let Some(span) = b.meta.csv_metadata else {
            continue;
        };
        let metadata = read_back(w, span).map_err(|e| format!("read cached csv metadata: {e}"))?;
        let csv = super::csv::synthesize(
            &metadata,
            &super::csv::CsvContext {
                bundle_name: name,
                version: &b.version,
                package_description: &m.description,
                package_icon: m.icon.as_ref(),
                related_images: &b.meta.related_images,
            },
        )?;
        b.meta.object_from_csv = b.meta.object_count == 0;
        let span = w
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append_strings(4, &[csv])
            .map_err(|e| e.to_string())?;
        b.meta.heavy.push(span);
    }
    Ok(())
}

fn gvks(props: &[crate::catalog::Property], typ: &str) -> Vec<GvkPb> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct G {
        group: String,
        version: String,
        kind: String,
    }
    props
        .iter()
        .filter(|p| p.typ == typ)
        .map(|p| {
            let g: G = serde_json::from_str(&p.value).unwrap_or_default();
            GvkPb {
                group: g.group,
                version: g.version,
                kind: g.kind,
            }
        })
        .collect()
}

/// The channel-independent part of a bundle's `api.Bundle` (§4.2).
fn core_bundle(m: &ModelPackage, b: &model::ModelBundle) -> api::Bundle {
    let props = &b.meta.properties;
    let to_api = |g: GvkPb| api::GroupVersionKind {
        group: g.group,
        version: g.version,
        kind: g.kind,
        plural: String::new(),
    };
    let mut dependencies = Vec::new();
    for p in props {
        match p.typ.as_str() {
            "olm.gvk.required" => dependencies.push(api::Dependency {
                r#type: "olm.gvk".into(),
                value: p.value.clone(),
            }),
            "olm.package.required" => {
                #[derive(serde::Deserialize, Default)]
                #[serde(default)]
                struct R {
                    #[serde(rename = "packageName")]
                    package_name: String,
                    #[serde(rename = "versionRange")]
                    version_range: String,
                }
                let r: R = serde_json::from_str(&p.value).unwrap_or_default();
                let mut v = Vec::new();
                v.extend_from_slice(b"{\"packageName\":");
                crate::encoding::json::write_string(&r.package_name, &mut v);
                v.extend_from_slice(b",\"version\":");
                crate::encoding::json::write_string(&r.version_range, &mut v);
                v.push(b'}');
                dependencies.push(api::Dependency {
                    r#type: "olm.package".into(),
                    value: String::from_utf8_lossy(&v).into_owned(),
                });
            }
            _ => {}
        }
    }
    api::Bundle {
        csv_name: b.meta.name.clone(),
        package_name: m.name.clone(),
        bundle_path: b.meta.image.clone(),
        provided_apis: gvks(props, "olm.gvk").into_iter().map(to_api).collect(),
        required_apis: gvks(props, "olm.gvk.required")
            .into_iter()
            .map(to_api)
            .collect(),
        version: b.version.clone(),
        dependencies,
        properties: props
            .iter()
            .filter(|p| p.typ != PROP_BUNDLE_OBJECT && p.typ != PROP_CSV_METADATA)
            .map(|p| api::Property {
                r#type: p.typ.clone(),
                value: p.value.clone(),
            })
            .collect(),
        deprecation: b
            .deprecation
            .clone()
            .map(|message| api::Deprecation { message }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache damaged at any byte (flipped or cut there) is refused when
    /// opened, never read.
    #[test]
    fn damage_at_any_byte_is_caught_on_open() {
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/serve/deprecations");
        let dir = tempfile::tempdir().unwrap();
        let built = build(&configs, dir.path()).unwrap();
        let path = cache_file(dir.path());
        let good = std::fs::read(&path).unwrap();
        assert!(open(dir.path(), &built.digest).is_ok());
        // Every byte of a small cache would take long in a debug build:
        // every header byte, then a stride through the rest.
        let stride = (good.len() / 1500).max(1);
        let offsets =
            (0..HEADER_LEN as usize).chain((HEADER_LEN as usize..good.len()).step_by(stride));
        let mut checked = 0;
        for off in offsets {
            let mut flipped = good.clone();
            flipped[off] ^= 0x5a;
            std::fs::write(&path, &flipped).unwrap();
            assert!(open(dir.path(), &built.digest).is_err(), "flip at {off}");
            std::fs::write(&path, &good[..off]).unwrap();
            assert!(open(dir.path(), &built.digest).is_err(), "cut at {off}");
            checked += 1;
        }
        let mut longer = good.clone();
        longer.push(0);
        std::fs::write(&path, &longer).unwrap();
        assert!(open(dir.path(), &built.digest).is_err());
        assert!(checked > 1000, "{checked}");
    }
}
