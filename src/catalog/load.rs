//! Loading a catalog directory or file into a [`DeclarativeConfig`], as Go
//! opm's `declcfg.LoadFS` does (spec §2, and validate spec §1.3).
//!
//! Files are parsed in parallel; results are merged in walk order so the
//! output never depends on thread timing (Go's order across files is
//! random). When several files are bad, the first one in walk order is
//! reported, with its path and line.

use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use super::ignore::IgnoreMatcher;
use super::model::*;
use super::validate::props;
use crate::encoding::json::write_normalized;
use crate::encoding::yaml::yaml_to_value;

/// Where in the input an error was found. Not part of Go's message: shown
/// beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: std::sync::Arc<Path>,
    /// 1-based line of the document (or of the error, when known).
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// A load failure: `message` is exactly Go opm's error text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    pub message: String,
    pub location: Option<Location>,
}

impl LoadError {
    fn at(message: impl Into<String>, path: &Path, line: Option<usize>) -> Self {
        LoadError {
            message: message.into(),
            location: Some(Location {
                path: path.into(),
                line,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Decode `olm.bundle.object` properties into the hidden `objects` and
    /// `csv_json` bundle fields (needed by migrations, validate, serve).
    /// Validity of the objects is checked either way.
    pub keep_objects: bool,
    /// After checking them, replace `olm.bundle.object` values by a small
    /// placeholder: for callers that never output or read the objects
    /// (`validate`), whose payloads are most of a catalog's bytes.
    pub drop_object_payloads: bool,
    /// Likewise drop what `validate` only needs to be valid, and most of
    /// the bytes left once objects are dropped: `olm.csv.metadata` values
    /// that decode become a stand-in that decodes too, package icons keep
    /// one byte of data (so that empty stays empty), and a bundle's related
    /// images go when every one is a valid pull spec (validate reads them
    /// for nothing else). Only [`load_path_located`] and [`load_bytes`]
    /// drop them, after `check_schemas`.
    pub drop_metadata: bool,
    /// Check each blob against the JSON Schemas as it loads (before
    /// anything is dropped), into [`Loaded::schema_findings`].
    pub check_schemas: bool,
}

/// What a dropped `olm.bundle.object` value becomes (valid, and non-empty
/// so that it is not mistaken for a missing value).
pub const DROPPED_OBJECT: &str = "{\"data\":\"\"}";

/// The files of a catalog directory, in Go's walk order, minus ignored ones.
pub fn list_files(root: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut all = Vec::new();
    let mut matcher = IgnoreMatcher::default();
    let walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by(|a, b| {
            a.file_name()
                .as_encoded_bytes()
                .cmp(b.file_name().as_encoded_bytes())
        });
    for entry in walk {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            LoadError::at(walk_error_text(&e), &path, None)
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = rel_components(root, entry.path());
        if entry.file_name() == ".indexignore" {
            let text = std::fs::read_to_string(entry.path()).map_err(|e| {
                LoadError::at(go_io_error("open", entry.path(), &e), entry.path(), None)
            })?;
            let domain: Vec<String> = rel[..rel.len().saturating_sub(1)].to_vec();
            matcher.add_file(&domain, &text);
            continue;
        }
        all.push((entry.into_path(), rel));
    }
    Ok(all
        .into_iter()
        .filter(|(_, rel)| {
            matcher.is_empty() || {
                let parts: Vec<&str> = rel.iter().map(String::as_str).collect();
                !matcher.is_ignored(&parts)
            }
        })
        .map(|(p, _)| p)
        .collect())
}

pub(crate) fn rel_components(root: &Path, path: &Path) -> Vec<String> {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

fn walk_error_text(e: &walkdir::Error) -> String {
    match (e.path(), e.io_error()) {
        (Some(p), Some(io)) => go_io_error("open", p, io),
        _ => e.to_string(),
    }
}

/// Go's `*PathError` text: `open <path>: no such file or directory`.
pub fn go_io_error(op: &str, path: &Path, e: &std::io::Error) -> String {
    format!("{op} {}: {}", path.display(), go_errno_text(e))
}

/// The lower-case errno wording Go uses (`strerror` without capitals).
pub fn go_errno_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        NotADirectory => "not a directory".into(),
        _ => {
            let s = e.to_string();
            // Rust appends " (os error N)"; Go does not.
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

/// The files to load: those of a directory in walk order, or one file.
pub fn files_of(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| LoadError::at(go_io_error("stat", path, &e), path, None))?;
    if meta.is_dir() {
        list_files(path)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Load every file of a directory (or one file) into one config.
pub fn load_path(path: &Path, opts: LoadOptions) -> Result<DeclarativeConfig, LoadError> {
    let parts = Parts::default();
    load_path_each(path, opts, &|i, cfg| {
        parts.add(i, cfg);
        Ok(())
    })?;
    Ok(parts.merge())
}

/// Configs handed over by parallel workers, merged back in unit order.
#[derive(Default)]
pub struct Parts(std::sync::Mutex<Vec<(usize, DeclarativeConfig)>>);

impl Parts {
    pub fn add(&self, unit: usize, cfg: DeclarativeConfig) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((unit, cfg));
    }

    /// Give every unit added so far the number `map` says, or drop it
    /// (`None`).
    pub fn renumber(&self, map: &(dyn Fn(usize) -> Option<usize> + Sync)) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain_mut(|(unit, _)| match map(*unit) {
                Some(u) => {
                    *unit = u;
                    true
                }
                None => false,
            });
    }

    pub fn merge(self) -> DeclarativeConfig {
        let mut parts = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        parts.sort_by_key(|(i, _)| *i);
        let mut cfg = DeclarativeConfig::default();
        for (_, part) in parts {
            cfg.extend(part);
        }
        cfg
    }
}

/// Load the files of a directory (or one file) in parallel, handing each
/// file's blobs to `f` with the file's index in walk order, without
/// keeping them. When several files fail, the error of the first in walk
/// order is returned, whatever the thread timing.
pub fn load_path_each(
    path: &Path,
    opts: LoadOptions,
    f: &(dyn Fn(usize, DeclarativeConfig) -> Result<(), LoadError> + Sync),
) -> Result<(), LoadError> {
    let files: Vec<(usize, PathBuf)> = files_of(path)?.into_iter().enumerate().collect();
    load_files_each(&files, opts, f)
}

/// [`load_path_each`] for a list of files, each with its unit number.
/// When several fail, the error of the first in the list is returned.
pub fn load_files_each(
    files: &[(usize, PathBuf)],
    opts: LoadOptions,
    f: &(dyn Fn(usize, DeclarativeConfig) -> Result<(), LoadError> + Sync),
) -> Result<(), LoadError> {
    load_files_read(files, opts, &|i, cfg, _| f(i, cfg))
}

/// [`load_files_each`] that also hands `f` the file as it was read.
pub fn load_files_read(
    files: &[(usize, PathBuf)],
    opts: LoadOptions,
    f: &(dyn Fn(usize, DeclarativeConfig, &SourceFile) -> Result<(), LoadError> + Sync),
) -> Result<(), LoadError> {
    let results: Vec<Result<(), LoadError>> = files
        .par_iter()
        .map(|(i, path)| {
            let file = SourceFile::read(path).map_err(|e| read_error(path, &e))?;
            f(*i, load_bytes(&file.bytes, path, opts)?, &file)
        })
        .collect();
    results.into_iter().collect()
}

/// A file's bytes as they were read, and what identifies that version of
/// the file on disk (so that its bytes can be copied from it again later).
pub struct SourceFile {
    pub bytes: Vec<u8>,
    pub stamp: FileStamp,
}

/// A file's identity and last change (inode, size, modification and status
/// change times): any write to it, or a rename over its path, changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    path: PathBuf,
    meta: [i64; 7],
}

impl FileStamp {
    fn of(path: &Path, m: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            path: path.to_path_buf(),
            meta: [
                m.dev() as i64,
                m.ino() as i64,
                m.size() as i64,
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            ],
        }
    }

    /// The file opened again, when it still is the version stamped.
    pub fn reopen(&self) -> std::io::Result<std::fs::File> {
        let f = std::fs::File::open(&self.path)?;
        if FileStamp::of(&self.path, &f.metadata()?) != *self {
            return Err(self.changed());
        }
        Ok(f)
    }

    /// The error for a file that is no longer the version stamped.
    pub fn changed(&self) -> std::io::Error {
        std::io::Error::other(format!(
            "{}: changed since it was read",
            self.path.display()
        ))
    }
}

impl SourceFile {
    /// The path the file was read from.
    pub fn path(&self) -> &Path {
        &self.stamp.path
    }

    /// Read a file, stamped before its first byte is read.
    pub fn read(path: &Path) -> std::io::Result<SourceFile> {
        use std::io::Read;
        let mut f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        f.read_to_end(&mut bytes)?;
        Ok(SourceFile {
            bytes,
            stamp: FileStamp::of(path, &meta),
        })
    }
}

/// Parse one file: a concatenated JSON stream or multi-document YAML.
pub fn load_file(path: &Path, opts: LoadOptions) -> Result<DeclarativeConfig, LoadError> {
    load_file_located(path, opts, false).into_result()
}

/// Where each blob of a loaded config came from: one [`Location`] per
/// element, parallel to the lists of [`DeclarativeConfig`]. Kept beside the
/// config (not in the blob types) so that writers and migrations never see
/// it. Filled by [`load_path_located`] for `validate`'s located reports.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub packages: Vec<Location>,
    pub channels: Vec<Location>,
    pub bundles: Vec<Location>,
    pub deprecations: Vec<Location>,
    pub others: Vec<Location>,
}

impl SourceMap {
    fn extend(&mut self, other: SourceMap) {
        self.packages.extend(other.packages);
        self.channels.extend(other.channels);
        self.bundles.extend(other.bundles);
        self.deprecations.extend(other.deprecations);
        self.others.extend(other.others);
    }

    /// Record `loc` for the list of `cfg` that just grew by one blob; which
    /// list, and the blob's index in it.
    fn record(&mut self, cfg: &DeclarativeConfig, loc: Location) -> Option<(Kind, usize)> {
        let lists = [
            (Kind::Package, cfg.packages.len(), &mut self.packages),
            (Kind::Channel, cfg.channels.len(), &mut self.channels),
            (Kind::Bundle, cfg.bundles.len(), &mut self.bundles),
            (
                Kind::Deprecation,
                cfg.deprecations.len(),
                &mut self.deprecations,
            ),
            (Kind::Other, cfg.others.len(), &mut self.others),
        ];
        for (kind, len, locs) in lists {
            if len > locs.len() {
                locs.push(loc);
                return Some((kind, len - 1));
            }
        }
        None
    }

    /// The locations of one kind of blob.
    pub fn of(&self, kind: Kind) -> &[Location] {
        match kind {
            Kind::Package => &self.packages,
            Kind::Channel => &self.channels,
            Kind::Bundle => &self.bundles,
            Kind::Deprecation => &self.deprecations,
            Kind::Other => &self.others,
        }
    }
}

/// The lists of a config, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Package,
    Channel,
    Bundle,
    Deprecation,
    Other,
}

/// What the JSON Schemas say of one blob (`<json pointer>: <message>`).
#[derive(Debug, Clone)]
pub struct SchemaFinding {
    pub kind: Kind,
    /// The blob's index in its list of the config.
    pub index: usize,
    pub messages: Vec<String>,
}

/// A config with the source of every blob, and the load errors met.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: DeclarativeConfig,
    pub sources: SourceMap,
    /// Without `keep_going`, at most one: the first error in walk order (Go
    /// reports whichever of its parallel workers fails first). With it,
    /// every file's errors, in walk order; the blobs that did load are in
    /// `config`.
    pub errors: Vec<LoadError>,
    /// With [`LoadOptions::check_schemas`]: the blobs the JSON Schemas
    /// flag, in load order.
    pub schema_findings: Vec<SchemaFinding>,
    /// Whether the schemas were checked while loading.
    pub schemas_checked: bool,
}

impl Loaded {
    /// Room for every blob of `parts` (and its source) at once.
    fn reserve_for(&mut self, parts: &[Loaded]) {
        let sum = |f: fn(&DeclarativeConfig) -> usize| parts.iter().map(|p| f(&p.config)).sum();
        let packages = sum(|c| c.packages.len());
        let channels = sum(|c| c.channels.len());
        let bundles = sum(|c| c.bundles.len());
        let deprecations = sum(|c| c.deprecations.len());
        let others = sum(|c| c.others.len());
        let (c, s) = (&mut self.config, &mut self.sources);
        c.packages.reserve_exact(packages);
        s.packages.reserve_exact(packages);
        c.channels.reserve_exact(channels);
        s.channels.reserve_exact(channels);
        c.bundles.reserve_exact(bundles);
        s.bundles.reserve_exact(bundles);
        c.deprecations.reserve_exact(deprecations);
        s.deprecations.reserve_exact(deprecations);
        c.others.reserve_exact(others);
        s.others.reserve_exact(others);
    }

    /// Record where the blob just added to the config came from, and check
    /// it as `opts` say.
    fn record_added(&mut self, shared: &std::sync::Arc<Path>, line: usize, opts: LoadOptions) {
        let cfg = &mut self.config;
        let added = self.sources.record(
            cfg,
            Location {
                path: shared.clone(),
                line: Some(line),
            },
        );
        if let Some((kind, index)) = added {
            if opts.check_schemas {
                let messages = super::validate::schema::blob_findings(cfg, kind, index);
                if !messages.is_empty() {
                    self.schema_findings.push(SchemaFinding {
                        kind,
                        index,
                        messages,
                    });
                }
            }
            if opts.drop_metadata {
                drop_checked_metadata(cfg, kind);
            }
        }
    }

    /// The config, or the first error.
    fn into_result(self) -> Result<DeclarativeConfig, LoadError> {
        match self.errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(self.config),
        }
    }
}

/// [`load_path`], plus where each blob came from. With `keep_going` a bad
/// document does not stop the load (for `validate --all-errors`).
pub fn load_path_located(
    path: &Path,
    opts: LoadOptions,
    keep_going: bool,
) -> Result<Loaded, LoadError> {
    let files = files_of(path)?;
    let parts: Vec<Loaded> = files
        .par_iter()
        .map(|f| load_file_located(f, opts, keep_going))
        .collect();
    let mut all = Loaded::default();
    // Sized once: growing by doubling would hold up to twice the blobs'
    // headers (and both copies while moving), at 1 GB tens of megabytes.
    all.reserve_for(&parts);
    all.schemas_checked = opts.check_schemas;
    for mut part in parts {
        for f in &mut part.schema_findings {
            f.index += all.sources.of(f.kind).len();
        }
        all.schema_findings.append(&mut part.schema_findings);
        all.config.extend(part.config);
        all.sources.extend(part.sources);
        all.errors.extend(part.errors);
        if !keep_going && !all.errors.is_empty() {
            break;
        }
    }
    Ok(all)
}

fn load_file_located(path: &Path, opts: LoadOptions, keep_going: bool) -> Loaded {
    match SourceFile::read(path) {
        Ok(file) => load_bytes_located(&file.bytes, path, opts, keep_going),
        Err(e) => Loaded {
            errors: vec![read_error(path, &e)],
            ..Loaded::default()
        },
    }
}

/// Go's error for a catalog file that cannot be read.
fn read_error(path: &Path, e: &std::io::Error) -> LoadError {
    LoadError::at(go_io_error("read", path, e), path, None)
}

/// [`load_file`] on bytes already in memory; `path` only names them in
/// errors and locations.
pub fn load_bytes(
    bytes: &[u8],
    path: &Path,
    opts: LoadOptions,
) -> Result<DeclarativeConfig, LoadError> {
    load_bytes_located(bytes, path, opts, false).into_result()
}

fn load_bytes_located(bytes: &[u8], path: &Path, opts: LoadOptions, keep_going: bool) -> Loaded {
    let mut out = Loaded::default();
    // Go turns invalid UTF-8 inside strings into U+FFFD. (std's check of
    // valid text is much faster than the lossy conversion's.)
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    // One shared path for every blob of the file.
    let shared: std::sync::Arc<Path> = path.into();
    // Where a property value is in the file is only known when the text is
    // the file's bytes.
    let exact = matches!(text, std::borrow::Cow::Borrowed(_));
    if let Some(fast) = load_json_fast(&text, exact, &shared, opts) {
        return fast;
    }
    let _ = for_each_document(&text, |doc| {
        let line = doc.line;
        let result = doc
            .value
            .and_then(|value| add_value(&mut out.config, value, doc.raw, opts))
            .map_err(|m| LoadError::at(m, path, Some(line)));
        match result {
            Ok(()) => {
                out.record_added(&shared, line, opts);
                Ok(())
            }
            Err(e) => {
                out.errors.push(e);
                if keep_going { Ok(()) } else { Err(()) }
            }
        }
    });
    out
}

/// Load a file of JSON documents by [`super::fast`]; `None` when any
/// document needs the general path (the file is then loaded again by it).
fn load_json_fast(
    text: &str,
    exact: bool,
    shared: &std::sync::Arc<Path>,
    opts: LoadOptions,
) -> Option<Loaded> {
    let bytes = text.as_bytes();
    if !starts_as_json(bytes) {
        return None;
    }
    let mut out = Loaded::default();
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut start = skip_ws(bytes, 0);
    while start < bytes.len() {
        line += memchr_count(&bytes[counted_to..start]);
        counted_to = start;
        let (doc, len) = super::fast::document(&text[start..], exact.then_some(start))?;
        match doc {
            super::fast::Doc::Bundle(mut b) => {
                finish_bundle(&mut b, opts).ok()?;
                out.config.bundles.push(b);
            }
            super::fast::Doc::Other(value, raw) => {
                add_value(&mut out.config, value, Some(raw), opts).ok()?;
            }
        }
        out.record_added(shared, line, opts);
        start = skip_ws(bytes, start + len);
    }
    Some(out)
}

/// The option sets of render, migrate and validate, for checking the fast
/// path against the general one.
#[doc(hidden)]
pub const FAST_PATH_OPTIONS: [LoadOptions; 3] = [
    LoadOptions {
        keep_objects: false,
        drop_object_payloads: false,
        drop_metadata: false,
        check_schemas: false,
    },
    LoadOptions {
        keep_objects: true,
        drop_object_payloads: false,
        drop_metadata: false,
        check_schemas: false,
    },
    LoadOptions {
        keep_objects: false,
        drop_object_payloads: true,
        drop_metadata: true,
        check_schemas: true,
    },
];

/// For tests and fuzzing: when the fast path loads `text`, what it loaded
/// and what the general path loads, each shown the same way (blobs,
/// locations, schema findings), to be compared.
#[doc(hidden)]
pub fn fast_and_general(text: &str, path: &Path, opts: LoadOptions) -> Option<(String, String)> {
    let shared: std::sync::Arc<Path> = path.into();
    let got = load_json_fast(text, true, &shared, opts)?;
    let mut want = Loaded::default();
    let _ = for_each_document(text, |doc| {
        let value = doc.value?;
        add_value(&mut want.config, value, doc.raw, opts)?;
        want.record_added(&shared, doc.line, opts);
        Ok::<(), String>(())
    });
    let show = |l: &Loaded| {
        format!(
            "{:?} {:?} {:?}",
            l.config,
            l.sources,
            l.schema_findings
                .iter()
                .map(|f| (f.index, &f.messages))
                .collect::<Vec<_>>()
        )
    };
    Some((show(&got), show(&want)))
}

/// Whether a stream is JSON rather than YAML: k8s `NewYAMLOrJSONDecoder`
/// looks for a `{` in its first 4096 bytes (spec §2.2).
fn starts_as_json(bytes: &[u8]) -> bool {
    bytes.iter().take(4096).find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// One decoded document of a stream.
pub struct Document<'a> {
    /// 1-based line where the document starts.
    pub line: usize,
    /// The decoded value, or Go's error text.
    pub value: Result<Value, String>,
    /// The document's source text for JSON documents (Go pretty-prints type
    /// errors against it); `None` for YAML.
    pub raw: Option<&'a [u8]>,
}

/// Split `bytes` into documents the way k8s `NewYAMLOrJSONDecoder` does
/// (spec §2.2) and hand each to `f`. Stops at the first error `f` returns.
pub fn for_each_document<'a, E>(
    text: &'a str,
    mut f: impl FnMut(Document<'a>) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = text.as_bytes();
    if starts_as_json(bytes) {
        // `text` is valid UTF-8 already: the str reader does not check it again.
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        // Where `stream` started in `text` (it restarts after a document
        // decoded another way, below), and the lines before that.
        let (mut base, mut base_lines) = (0usize, 0usize);
        let mut decoded = 0usize;
        let mut last_end = 0usize;
        // Lines are counted incrementally: recounting from the start of the
        // file for every document would be quadratic in big files.
        let (mut counted_to, mut line) = (0usize, 1usize);
        loop {
            let start = skip_ws(bytes, last_end);
            line += memchr_count(&bytes[counted_to..start]);
            counted_to = start;
            match stream.next() {
                None => return Ok(()),
                Some(Ok(v)) => {
                    decoded += 1;
                    let end = base + stream.byte_offset();
                    f(Document {
                        line,
                        value: Ok(v),
                        raw: Some(&bytes[start..end]),
                    })?;
                    last_end = end;
                }
                Some(Err(e)) => {
                    // Nested deeper than serde's 128 levels, within Go's
                    // 10000 (Go's syntax check enforces Go's limit): Go
                    // decodes it, so decode this one document without
                    // serde, then go on with JSON.
                    let deep_end = too_deep(&e)
                        .then(|| start + json_value_len(&bytes[start..]))
                        .filter(|&end| go_json_syntax_error(&bytes[start..end]).is_none());
                    if let Some(end) = deep_end {
                        decoded += 1;
                        f(Document {
                            line,
                            value: decode_deep_json(&text[start..end]),
                            raw: Some(&bytes[start..end]),
                        })?;
                        last_end = end;
                        base = end;
                        base_lines = line - 1 + memchr_count(&bytes[start..end]);
                        stream =
                            serde_json::Deserializer::from_str(&text[end..]).into_iter::<Value>();
                        continue;
                    }
                    let json_error = Document {
                        line: base_lines + e.line(),
                        value: Err(
                            go_json_syntax_error(&bytes[start..]).unwrap_or_else(|| e.to_string())
                        ),
                        raw: None,
                    };
                    if decoded > 1 {
                        return f(json_error);
                    }
                    // k8s falls back to YAML for what follows the last good
                    // object, after swallowing the rest of its line.
                    let mut i = last_end;
                    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                        i += 1;
                        if bytes[i - 1] == b'\n' {
                            break;
                        }
                    }
                    let mut failed = false;
                    yaml_documents(bytes, i, &mut |doc| {
                        if doc.value.is_err() {
                            failed = true;
                            return Ok(());
                        }
                        f(doc)
                    })?;
                    if failed {
                        return f(json_error);
                    }
                    return Ok(());
                }
            }
        }
    }
    yaml_documents(bytes, 0, &mut f)
}

/// Parse JSON that Go's decoder accepts, nested up to Go's 10000 levels
/// (serde stops at 128; deeper values go through the YAML parser, which has
/// Go's limit and does not recurse on the stack).
pub fn parse_json(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Err(e) if too_deep(&e) => match go_json_syntax_error(text.as_bytes()) {
            Some(e) => Err(e),
            None => decode_deep_json(text),
        },
        r => r.map_err(|e| e.to_string()),
    }
}

/// Whether serde refused JSON only for its depth (its own limit of 128).
fn too_deep(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

/// JSON that Go's syntax check accepts but serde finds too deep, through
/// the YAML parser (JSON is YAML; it has Go's depth limit and does not
/// recurse on the stack).
fn decode_deep_json(text: &str) -> Result<Value, String> {
    crate::encoding::yaml::yaml_doc_to_value(text).map_err(|e| e.to_string())
}

/// The length of the JSON value `b` starts with (after whitespace), for a
/// value Go's scanner accepts: brackets are counted outside strings.
fn json_value_len(b: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = skip_ws(b, 0);
    while i < b.len() {
        let c = b[i];
        i += 1;
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    b.len()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    memchr_count(&bytes[..offset.min(bytes.len())]) + 1
}

fn memchr_count(b: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', b).count()
}

/// k8s `YAMLReader`: documents are separated by lines starting with `---`.
/// A separator met while the buffer is empty stays part of the next document.
fn yaml_documents<'a, E>(
    bytes: &'a [u8],
    start: usize,
    f: &mut impl FnMut(Document<'a>) -> Result<(), E>,
) -> Result<(), E> {
    let mut doc_start = start;
    let mut doc_len_nonempty = false;
    let mut line_no = line_of(bytes, start);
    let mut doc_line = line_no;
    let mut pos = start;
    while pos < bytes.len() {
        let end = match memchr::memchr(b'\n', &bytes[pos..]) {
            Some(i) => pos + i + 1,
            None => bytes.len(),
        };
        let line = &bytes[pos..end];
        if line.starts_with(b"---") {
            let rest = std::str::from_utf8(&line[3..]).unwrap_or("").trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return f(Document {
                    line: line_no,
                    value: Err(format!("invalid Yaml document separator: {rest}")),
                    raw: None,
                });
            }
            if doc_len_nonempty {
                emit_yaml(&bytes[doc_start..pos], doc_line, f)?;
                doc_start = pos;
                doc_line = line_no;
                doc_len_nonempty = true;
                pos = end;
                line_no += 1;
                continue;
            }
        }
        if !doc_len_nonempty {
            doc_start = pos;
            doc_line = line_no;
        }
        doc_len_nonempty = true;
        pos = end;
        line_no += 1;
    }
    if doc_len_nonempty && doc_start < bytes.len() {
        emit_yaml(&bytes[doc_start..], doc_line, f)?;
    }
    Ok(())
}

fn emit_yaml<'a, E>(
    doc: &'a [u8],
    line: usize,
    f: &mut impl FnMut(Document<'a>) -> Result<(), E>,
) -> Result<(), E> {
    let text = std::str::from_utf8(doc).unwrap_or("");
    let value = yaml_to_value(text).map_err(|e| format!("error converting YAML to JSON: {e}"));
    f(Document {
        line,
        value,
        raw: None,
    })
}

/// Go's `json.SyntaxError` text for the first JSON value of `data`, by
/// re-scanning with Go's grammar (serde_json words its errors differently).
pub fn go_json_syntax_error(data: &[u8]) -> Option<String> {
    crate::encoding::json_syntax::first_error(data).map(|(msg, _)| msg)
}

/// Route one decoded blob, as Go's `fbcBuilder.addMeta` does.
pub fn add_value(
    cfg: &mut DeclarativeConfig,
    value: Value,
    raw: Option<&[u8]>,
    opts: LoadOptions,
) -> Result<(), String> {
    // sigs.k8s.io/yaml wraps the errors of decoding a YAML document (spec
    // §1.3); `raw` is only kept for JSON documents.
    let mut meta = meta_of(&value, raw).map_err(|e| match raw {
        Some(_) => e,
        None => format!("error unmarshaling JSON: while decoding JSON: {e}"),
    })?;
    match meta.schema.as_str() {
        SCHEMA_PACKAGE => cfg
            .packages
            .push(decode_package(&value).map_err(|e| format!("parse package: {e}"))?),
        SCHEMA_CHANNEL => cfg
            .channels
            .push(decode_channel(&value).map_err(|e| format!("parse channel: {e}"))?),
        SCHEMA_BUNDLE => {
            let mut b = decode_bundle(&value).map_err(|e| format!("parse bundle: {e}"))?;
            finish_bundle(&mut b, opts)?;
            cfg.bundles.push(b)
        }
        SCHEMA_DEPRECATIONS => cfg
            .deprecations
            .push(decode_deprecation(&value).map_err(|e| format!("parse deprecation: {e}"))?),
        "" => {
            // Go's blob keeps its trailing newline, so the quote closes on
            // the next line; a comment-only document has no blob at all.
            return Err(if value.is_null() {
                "object '' is missing root schema field".to_string()
            } else {
                format!(
                    "object '{}\n' is missing root schema field",
                    normalized_blob(&value)
                )
            });
        }
        _ => {
            meta.blob = normalized_blob(&value);
            cfg.others.push(meta)
        }
    }
    Ok(())
}

/// What loading does to a decoded bundle: its objects checked (and kept
/// when `opts` say), their payloads dropped when `opts` say.
fn finish_bundle(b: &mut Bundle, opts: LoadOptions) -> Result<(), String> {
    read_bundle_objects(b, opts.keep_objects).map_err(|e| format!("read bundle objects: {e}"))?;
    if opts.drop_object_payloads {
        for p in &mut b.properties {
            if p.typ == PROP_BUNDLE_OBJECT && !p.value.is_empty() {
                p.value = DROPPED_OBJECT.to_string();
                p.origin = Default::default();
            }
        }
    }
    Ok(())
}

/// [`LoadOptions::drop_metadata`] on the blob just added to `cfg`.
fn drop_checked_metadata(cfg: &mut DeclarativeConfig, kind: Kind) {
    match kind {
        Kind::Package => {
            if let Some(data) = cfg
                .packages
                .last_mut()
                .and_then(|p| p.icon.as_mut())
                .and_then(|i| i.data.as_mut())
            {
                data.truncate(1);
                data.shrink_to_fit();
            }
        }
        Kind::Bundle => {
            let Some(b) = cfg.bundles.last_mut() else {
                return;
            };
            for p in &mut b.properties {
                // A value that does not decode stays, for Go's error in its
                // place.
                if p.typ == PROP_CSV_METADATA
                    && p.value.len() > props::CHECKED_CSV_METADATA.len()
                    && props::property_decodes(p)
                {
                    p.value = props::CHECKED_CSV_METADATA.to_string();
                    p.origin = Default::default();
                }
            }
            // Validate reads related images only to check their pull specs,
            // and names a bad one by its index: all stay if one is bad.
            if b.related_images.iter().all(|r| {
                r.image.is_empty()
                    || crate::image::reference::parse_normalized_named(&r.image).is_ok()
            }) {
                b.related_images = Vec::new();
            }
        }
        _ => {}
    }
}

/// Go's `Meta.UnmarshalJSON`: the generic decode every blob goes through.
pub fn meta_of(value: &Value, raw: Option<&[u8]>) -> Result<Meta, String> {
    let obj = match value {
        Value::Object(o) => o,
        // A comment-only YAML document is `null`: an empty Meta.
        Value::Null => return Ok(Meta::default()),
        other => return Err(not_an_object_error(other, raw)),
    };
    // Keys that differ only in case are rejected (Go folds Unicode case).
    let mut folded: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for k in obj.keys() {
        folded.entry(k.to_lowercase()).or_default().push(k);
    }
    let dups: Vec<String> = folded
        .iter()
        .filter(|(_, ks)| ks.len() > 1)
        .map(|(f, ks)| {
            let mut ks = ks.clone();
            ks.sort();
            format!("duplicate keys for key {}: [{}]", go_quote(f), ks.join(" "))
        })
        .collect();
    match dups.len() {
        0 => {}
        1 => return Err(dups[0].clone()),
        _ => return Err(format!("[{}]", dups.join(", "))),
    }
    let mut m = Meta::default();
    for (k, v) in obj {
        let slot = match k.to_lowercase().as_str() {
            "schema" => &mut m.schema,
            "package" => &mut m.package,
            "name" => &mut m.name,
            _ => continue,
        };
        match v {
            Value::String(s) => *slot = s.clone(),
            other => {
                return Err(format!(
                    "expected value for key {} to be a string, got {}: {}",
                    go_quote(&k.to_lowercase()),
                    go_percent_t(other),
                    go_percent_v(other)
                ));
            }
        }
    }
    Ok(m)
}

/// The normalised blob text Go keeps in `Meta.Blob` (without its newline).
fn normalized_blob(value: &Value) -> String {
    let mut blob = Vec::new();
    write_normalized(value, &mut blob);
    String::from_utf8(blob).unwrap_or_default()
}

/// `json: cannot unmarshal <kind> into Go value of type map[string]interface {}`
/// with prettyunmarshaler's offset marker.
fn not_an_object_error(v: &Value, raw: Option<&[u8]>) -> String {
    let base = format!(
        "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
        json_kind(v)
    );
    let owned;
    let data: &[u8] = match raw {
        Some(r) => r,
        None => {
            let mut out = Vec::new();
            crate::encoding::json::write_marshal_html(v, &mut out);
            owned = out;
            &owned
        }
    };
    // Go stops reading at the first byte of an array or object, and after
    // the whole literal otherwise.
    let offset = match v {
        Value::Array(_) | Value::Object(_) => 1,
        _ => data.len(),
    };
    pretty_error(&base, data, offset)
}

/// operator-registry's `prettyunmarshaler`: the error, then the indented
/// document with ` <== ` at the offset.
fn pretty_error(base: &str, data: &[u8], offset: usize) -> String {
    const MARKER: &str = " <==";
    let mut out = format!("{base} at offset {offset} (indicated by{MARKER})\n");
    let mut pretty = Vec::new();
    if crate::encoding::json::try_write_indented(data, &mut pretty).is_ok() {
        pretty.pop(); // json.Indent writes no trailing newline
    } else {
        pretty = data.to_vec();
    }
    if offset == data.len() {
        out.push_str(&String::from_utf8_lossy(&pretty));
        out.push_str(MARKER);
        return out;
    }
    let mut p = 0usize;
    for &b in &data[..offset] {
        while p < pretty.len() && pretty[p] != b {
            p += 1;
        }
        if p >= pretty.len() {
            return base.to_string();
        }
        p += 1;
    }
    out.push_str(&String::from_utf8_lossy(&pretty[..p]));
    out.push_str(MARKER);
    out.push(' ');
    out.push_str(&String::from_utf8_lossy(&pretty[p..]));
    out
}

/// Go's `%q` for a plain string.
pub fn go_quote(s: &str) -> String {
    crate::encoding::go_quote(s)
}

/// Go's `%t` applied to a decoded JSON value (only bools print plainly).
fn go_percent_t(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Null => "%!t(<nil>)".into(),
        Value::Number(_) => format!("%!t(float64={})", go_percent_v(v)),
        Value::String(s) => format!("%!t(string={s})"),
        Value::Array(_) => format!("%!t([]interface {{}}={})", go_percent_v(v)),
        Value::Object(_) => format!("%!t(map[string]interface {{}}={})", go_percent_v(v)),
    }
}

/// Go's `%v` of a decoded JSON value.
fn go_percent_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            crate::encoding::yaml::format_float_g(f)
        }
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(go_percent_v).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(o) => format!(
            "map[{}]",
            o.iter()
                .map(|(k, v)| format!("{k}:{}", go_percent_v(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// Decode `olm.bundle.object` properties (spec §2.6). Errors carry Go's text.
pub fn read_bundle_objects(b: &mut Bundle, keep: bool) -> Result<(), String> {
    let mut objects = Vec::new();
    let mut csv = None;
    for (i, p) in b.properties.iter().enumerate() {
        if p.typ != PROP_BUNDLE_OBJECT {
            continue;
        }
        let parse_err = |e: String| {
            format!(
                "package {}, bundle {}: parse property at index {i} as bundle object: {e}",
                go_quote(&b.package),
                go_quote(&b.name)
            )
        };
        let convert_err = |e: String| {
            format!(
                "package {}, bundle {}: convert bundle object property at index {i} to JSON: {e}",
                go_quote(&b.package),
                go_quote(&b.name)
            )
        };
        if !keep {
            if let Some(data) = check_bundle_object(&p.value).map_err(parse_err)? {
                to_json(&data).map_err(convert_err)?;
            }
            continue;
        }
        let data = bundle_object_data(&p.value).map_err(parse_err)?;
        let json = to_json(&data).map_err(convert_err)?;
        let text = String::from_utf8(json)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if csv.is_none() && object_kind(&text).as_deref() == Some("ClusterServiceVersion") {
            csv = Some(text.clone());
        }
        objects.push(text);
    }
    if keep {
        b.objects = objects;
        b.csv_json = csv;
    }
    Ok(())
}

fn has_json_prefix(data: &[u8]) -> bool {
    data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The `data` string of an `olm.bundle.object` value.
fn bundle_object_b64(value: &str) -> Result<Option<std::borrow::Cow<'_, str>>, String> {
    // Normalised values of real catalogs are exactly {"data":"<base64>"}:
    // take the string without a second JSON parse of megabytes of base64.
    if let Some(inner) = value
        .strip_prefix("{\"data\":\"")
        .and_then(|v| v.strip_suffix("\"}"))
        && memchr::memchr2(b'"', b'\\', inner.as_bytes()).is_none()
    {
        return Ok(Some(std::borrow::Cow::Borrowed(inner)));
    }
    #[derive(serde::Deserialize)]
    struct Obj {
        #[serde(alias = "Data", alias = "DATA")]
        data: Option<Value>,
    }
    let v: Obj = serde_json::from_str(value).map_err(|e| e.to_string())?;
    match v.data {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(std::borrow::Cow::Owned(s))),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field BundleObject.data of type []uint8",
            json_kind(&other)
        )),
    }
}

fn base64_err(e: String) -> String {
    format!(
        "json: cannot unmarshal string into Go struct field BundleObject.data of type []uint8: {e}"
    )
}

/// The `data` of an `olm.bundle.object` value, base64-decoded.
fn bundle_object_data(value: &str) -> Result<Vec<u8>, String> {
    match bundle_object_b64(value)? {
        None => Ok(Vec::new()),
        Some(s) => decode_go_base64(&s).map_err(base64_err),
    }
}

/// Check an `olm.bundle.object` without keeping it: the base64 must be
/// valid and the object must convert to JSON. Only a prefix is decoded
/// when the object is JSON, which real catalogs always hold.
fn check_bundle_object(value: &str) -> Result<Option<Vec<u8>>, String> {
    let Some(s) = bundle_object_b64(value)? else {
        return Ok(None);
    };
    if let Some(prefix) = validate_go_base64(&s).map_err(base64_err)?
        && has_json_prefix(&prefix)
    {
        return Ok(None);
    }
    decode_go_base64(&s).map(Some).map_err(base64_err)
}

/// k8s `yaml.ToJSON`: JSON is kept as is, YAML is converted.
pub fn to_json(data: &[u8]) -> Result<Vec<u8>, String> {
    if has_json_prefix(data) {
        return Ok(data.to_vec());
    }
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    let v = yaml_to_value(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    crate::encoding::json::write_marshal_html(&v, &mut out);
    Ok(out)
}

fn object_kind(json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct K {
        kind: Option<String>,
    }
    serde_json::from_str::<K>(json).ok().and_then(|k| k.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{"schema":"olm.bundle","package":"foo","name":"foo.v1","image":"quay.io/x/foo:v1",
"properties":[{"type":"olm.package","value":{"packageName":"foo","version":"1.0.0"}},
{"type":"olm.csv.metadata","value":{"displayName":"Foo","description":"long text"}},
{"type":"olm.csv.metadata","value":{"installModes":[{"supported":"yes"}]}}],
"relatedImages":RELATED}
{"schema":"olm.package","name":"foo","icon":{"base64data":"aGVsbG8=","mediatype":"image/png"}}"#;

    fn load(related: &str, drop: bool) -> DeclarativeConfig {
        let text = BUNDLE.replace("RELATED", related);
        let opts = LoadOptions {
            drop_object_payloads: drop,
            drop_metadata: drop,
            ..Default::default()
        };
        load_bytes(text.as_bytes(), Path::new("c.json"), opts).unwrap()
    }

    #[test]
    fn validate_drops_only_what_it_checked() {
        let good = r#"[{"name":"a","image":"quay.io/x/a:v1"},{"name":"b","image":""}]"#;
        let kept = load(good, false);
        let dropped = load(good, true);
        let values = |c: &DeclarativeConfig| -> Vec<String> {
            c.bundles[0]
                .properties
                .iter()
                .map(|p| p.value.clone())
                .collect()
        };
        // The metadata that decodes becomes `{}`; the one Go cannot decode
        // (a string for a bool) stays, so validate still reports it.
        assert_eq!(values(&dropped)[0], values(&kept)[0]);
        assert_eq!(values(&dropped)[1], props::CHECKED_CSV_METADATA);
        assert_ne!(values(&kept)[1], props::CHECKED_CSV_METADATA);
        assert_eq!(values(&dropped)[2], values(&kept)[2]);
        // Valid related images go; the icon keeps one byte.
        assert_eq!(kept.bundles[0].related_images.len(), 2);
        assert!(dropped.bundles[0].related_images.is_empty());
        let icon = |c: &DeclarativeConfig| c.packages[0].icon.as_ref().unwrap().data.clone();
        assert_eq!(icon(&kept).unwrap(), b"hello");
        assert_eq!(icon(&dropped).unwrap(), b"h");
        // One invalid related image keeps them all, so that Go's message
        // names it by its index.
        let bad = r#"[{"name":"a","image":"quay.io/x/a:v1"},{"name":"b","image":"quay.io/x/b@sha256:zzz"}]"#;
        assert_eq!(load(bad, true).bundles[0].related_images.len(), 2);
    }

    #[test]
    fn parts_renumber_places_and_drops_units() {
        let package = |name: &str| DeclarativeConfig {
            packages: vec![Package {
                name: name.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let parts = Parts::default();
        parts.add(100, package("late"));
        parts.add(0, package("first"));
        parts.add(101, package("dropped"));
        parts.add(102, package("second"));
        parts.renumber(&|u| match u {
            100 => Some(2),
            102 => Some(1),
            101 => None,
            u => Some(u),
        });
        let names: Vec<String> = parts.merge().packages.into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["first", "second", "late"]);
    }

    /// The fast JSON path gives what the general path gives, blob for blob
    /// and location for location, on every JSON file of the test data (the
    /// rule and lint fixtures, the fuzz regressions) and on Go's rendered
    /// JSON of the corpus catalogs (the `stdout` of the conformance cases),
    /// and it takes most of them.
    #[test]
    fn fast_json_path_loads_as_the_general_path() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let (mut files, mut fast, mut bundles) = (0, 0, 0);
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.unwrap();
            let path = entry.path();
            let json = path.extension().is_some_and(|e| e == "json")
                || path.file_name().is_some_and(|n| n == "stdout");
            if !entry.file_type().is_file() || !json {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if !text.trim_start().starts_with('{') {
                continue;
            }
            files += 1;
            for opts in FAST_PATH_OPTIONS {
                let Some((got, want)) = fast_and_general(&text, path, opts) else {
                    continue;
                };
                fast += 1;
                bundles += got.matches("Bundle { schema").count();
                assert_eq!(got, want, "{}", path.display());
            }
        }
        assert!(files > 200, "{files} JSON files");
        assert!(
            fast * 10 > 6 * 3 * files,
            "fast path taken {fast} times for {files} files"
        );
        assert!(bundles > 900, "{bundles} bundles");
    }
}
