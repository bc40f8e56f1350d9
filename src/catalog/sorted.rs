//! Streaming output in Go opm's blob order without holding the catalog.
//!
//! Go's writer needs the whole catalog in memory to sort it (spec §3.1). We
//! get the same bytes with far less memory: workers encode each blob as
//! soon as it is loaded and hand the bytes here with the blob's sort key;
//! bytes stay in memory up to a budget and beyond it go to an unlinked
//! temporary file (page cache, not our heap). At the end the keys are
//! sorted and the bytes copied out in order. Each blob is parsed and
//! encoded exactly once.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::load::{FileStamp, SourceFile};
use super::model::{BlobRef, DeclarativeConfig, JsonSink, Property};
use super::write::{Format, WriteError, encode_blobs};

/// Whether `blobs`, written as JSON one after the other, are exactly
/// `file`: then `spans` gets each blob's key and place in it. Compared as
/// they are written ([`FileMatch`]), so that a bundle property value the
/// loader saw already written this way at this place is not written again.
fn match_json(
    blobs: &[(BlobKey, BlobRef<'_>)],
    file: &[u8],
    spans: &mut Vec<(BlobKey, usize, usize)>,
    scratch: &mut Vec<u8>,
) -> bool {
    let mut m = FileMatch {
        file,
        pos: 0,
        scratch: std::mem::take(scratch),
    };
    let mut compact = Vec::new();
    let mut all = true;
    for (key, blob) in blobs {
        let start = m.pos;
        let ok = match blob {
            BlobRef::Bundle(b) => b.write_json_to(&mut m),
            _ => m.written(|out| {
                blob.write_json(&mut compact, out);
                true
            }),
        };
        if !ok {
            all = false;
            break;
        }
        spans.push((key.clone(), start, m.pos - start));
    }
    *scratch = m.scratch;
    all && m.pos == file.len()
}

/// A [`JsonSink`] that compares what is written with a file's bytes,
/// from the start.
struct FileMatch<'a> {
    file: &'a [u8],
    pos: usize,
    scratch: Vec<u8>,
}

impl FileMatch<'_> {
    /// Compare what `write` writes (when it can) with the file.
    fn written(&mut self, write: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let same = write(&mut text) && self.raw(&text);
        self.scratch = text;
        same
    }
}

impl JsonSink for FileMatch<'_> {
    fn raw(&mut self, b: &[u8]) -> bool {
        let same = self.file[self.pos..].starts_with(b);
        self.pos += if same { b.len() } else { 0 };
        same
    }

    fn string(&mut self, s: &str) -> bool {
        self.written(|text| text.string(s))
    }

    fn value(&mut self, p: &Property) -> bool {
        // Read from here, and written the same way: nothing to compare.
        if let Some(t) = p.origin.0
            && t.offset() == self.pos as u64
            && t.is_of(&p.value)
            && t.text_len() <= self.file.len() - self.pos
        {
            self.pos += t.text_len();
            return true;
        }
        self.written(|text| text.value(p))
    }
}

/// Where a blob goes in Go's order: package (package-less others last, in
/// load order), kind, name or schema, then load order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlobKey {
    loose: bool,
    package: String,
    rank: u8,
    secondary: String,
    seq: (u32, u32, u32),
}

impl BlobKey {
    /// The key of a blob, or `None` when Go's writer drops it (typed blobs
    /// without a package). `seq` is the load order: (reference, file, blob).
    pub fn of(blob: &BlobRef<'_>, seq: (u32, u32, u32)) -> Option<BlobKey> {
        let (package, rank, secondary) = match blob {
            BlobRef::Package(p) => (&p.name, 0, ""),
            BlobRef::Channel(c) => (&c.package, 1, c.name.as_str()),
            BlobRef::Bundle(b) => (&b.package, 2, b.name.as_str()),
            BlobRef::Other(m) => (&m.package, 3, m.schema.as_str()),
            BlobRef::Deprecation(d) => (&d.package, 4, ""),
        };
        if package.is_empty() {
            if let BlobRef::Other(_) = blob {
                return Some(BlobKey {
                    loose: true,
                    package: String::new(),
                    rank: 0,
                    secondary: String::new(),
                    seq,
                });
            }
            return None;
        }
        Some(BlobKey {
            loose: false,
            package: package.clone(),
            rank,
            secondary: secondary.to_string(),
            seq,
        })
    }
}

impl BlobKey {
    /// The package this blob is written under; `None` for package-less
    /// blobs, which come last.
    pub fn package(&self) -> Option<&str> {
        (!self.loose).then_some(self.package.as_str())
    }
}

/// Every blob of `cfg` that Go's writer keeps, with its key; `reference`
/// and `unit` place the config in load order (the blob's index in its list
/// does the rest, so equal keys keep load order).
pub fn keyed_blobs(
    cfg: &DeclarativeConfig,
    reference: usize,
    unit: usize,
) -> Vec<(BlobKey, BlobRef<'_>)> {
    let seq = |i: usize| (reference as u32, unit as u32, i as u32);
    let blobs = (cfg.packages.iter().map(BlobRef::Package).enumerate())
        .chain(cfg.channels.iter().map(BlobRef::Channel).enumerate())
        .chain(cfg.bundles.iter().map(BlobRef::Bundle).enumerate())
        .chain(cfg.others.iter().map(BlobRef::Other).enumerate())
        .chain(
            cfg.deprecations
                .iter()
                .map(BlobRef::Deprecation)
                .enumerate(),
        );
    blobs
        .filter_map(|(i, b)| BlobKey::of(&b, seq(i)).map(|k| (k, b)))
        .collect()
}

enum Place {
    Memory {
        chunk: usize,
        start: usize,
        len: usize,
    },
    Spilled {
        offset: u64,
        len: usize,
    },
    /// Bytes of a catalog file that are the blob's encoding as they are.
    Source {
        file: usize,
        offset: u64,
        len: usize,
    },
}

struct Entry {
    key: BlobKey,
    place: Place,
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    chunks: Vec<Vec<u8>>,
    in_memory: usize,
    /// Files whose bytes are kept as [`Place::Source`].
    files: Vec<FileStamp>,
}

thread_local! {
    /// Each thread's encoding buffer, reused from unit to unit.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Collects encoded blobs from many threads; writes them sorted.
pub struct SortedOutput {
    format: Format,
    budget: usize,
    state: Mutex<State>,
    spill: Mutex<Option<Arc<File>>>,
    spill_len: AtomicU64,
}

impl SortedOutput {
    /// `budget`: bytes kept in memory before spilling to a temporary file.
    pub fn new(format: Format, budget: usize) -> SortedOutput {
        SortedOutput {
            format,
            budget,
            state: Mutex::new(State::default()),
            spill: Mutex::new(None),
            spill_len: AtomicU64::new(0),
        }
    }

    /// Encode `blobs` (all from one load unit, in load order) and keep them.
    pub fn add(&self, blobs: &[(BlobKey, BlobRef<'_>)]) -> Result<(), WriteError> {
        self.add_read(blobs, None)
    }

    /// [`add`](Self::add) for blobs loaded from `source`: when their
    /// encoding is the file's bytes exactly (a catalog written by `opm
    /// render`), only where each blob is in the file is kept, and
    /// [`write_to`](Self::write_to) copies them from the file again
    /// (refusing a file that changed meanwhile): no copy in memory or in
    /// the temporary file.
    pub fn add_read(
        &self,
        blobs: &[(BlobKey, BlobRef<'_>)],
        source: Option<&SourceFile>,
    ) -> Result<(), WriteError> {
        // Encoded into a reused buffer: most units are not kept in memory.
        let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        buf.clear();
        let result = self.keep(blobs, source, &mut buf);
        SCRATCH.with(|s| *s.borrow_mut() = buf);
        result
    }

    fn keep(
        &self,
        blobs: &[(BlobKey, BlobRef<'_>)],
        source: Option<&SourceFile>,
        buf: &mut Vec<u8>,
    ) -> Result<(), WriteError> {
        let mut spans = Vec::with_capacity(blobs.len());
        let matched = source.filter(|source| {
            self.format == Format::Json && match_json(blobs, &source.bytes, &mut spans, buf)
        });
        if matched.is_none() {
            spans.clear();
            buf.clear();
            for (key, blob) in blobs {
                let start = buf.len();
                encode_blobs(std::slice::from_ref(blob), self.format, buf)?;
                spans.push((key.clone(), start, buf.len() - start));
            }
        }
        if spans.iter().all(|s| s.2 == 0) {
            return Ok(());
        }
        if let Some(source) = matched.or(source.filter(|s| *buf == s.bytes)) {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let file = st.files.len();
            st.files.push(source.stamp.clone());
            st.entries
                .extend(spans.into_iter().map(|(key, start, len)| Entry {
                    key,
                    place: Place::Source {
                        file,
                        offset: start as u64,
                        len,
                    },
                }));
            return Ok(());
        }
        let spill_now = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.in_memory + buf.len() > self.budget
        };
        if spill_now {
            let offset = self.spill_len.fetch_add(buf.len() as u64, Ordering::SeqCst);
            let file = {
                // Created under the lock; written outside it (write_at
                // needs no exclusive seek position), so units spill in
                // parallel.
                let mut f = self.spill.lock().unwrap_or_else(|e| e.into_inner());
                if f.is_none() {
                    *f = Some(Arc::new(tempfile::tempfile()?));
                }
                f.clone()
            };
            file.map(|f| f.write_all_at(buf, offset)).transpose()?;
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.entries
                .extend(spans.into_iter().map(|(key, start, len)| Entry {
                    key,
                    place: Place::Spilled {
                        offset: offset + start as u64,
                        len,
                    },
                }));
        } else {
            let bytes = buf.to_vec();
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let chunk = st.chunks.len();
            st.in_memory += bytes.len();
            st.chunks.push(bytes);
            st.entries
                .extend(spans.into_iter().map(|(key, start, len)| Entry {
                    key,
                    place: Place::Memory { chunk, start, len },
                }));
        }
        Ok(())
    }

    /// Give every blob of reference `reference` kept so far the load unit
    /// `map` says, or drop it (`None`).
    pub fn renumber(&self, reference: usize, map: &(dyn Fn(usize) -> Option<usize> + Sync)) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.entries.retain_mut(|e| {
            if e.key.seq.0 as usize != reference {
                return true;
            }
            match map(e.key.seq.1 as usize) {
                Some(u) => {
                    e.key.seq.1 = u as u32;
                    true
                }
                None => false,
            }
        });
    }

    /// Write everything in key order. Runs that were spilled are copied
    /// from the temporary file by the kernel where `w` allows it (std's
    /// `io::copy` uses `sendfile`/`splice`/`copy_file_range` between a file
    /// and standard output, a pipe or a file), not through our memory.
    pub fn write_to<W: Write>(self, w: &mut W) -> io::Result<()> {
        let mut st = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        let spill = self.spill.into_inner().unwrap_or_else(|e| e.into_inner());
        st.entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        // A file changed since it was read fails the render before anything
        // is written (each is checked again as it is copied).
        for stamp in &st.files {
            drop(stamp.reopen()?);
        }
        let mut i = 0;
        while i < st.entries.len() {
            match st.entries[i].place {
                Place::Memory { chunk, start, len } => {
                    w.write_all(&st.chunks[chunk][start..start + len])?;
                    i += 1;
                }
                Place::Source { file, offset, .. } => {
                    let (total, j) = run(&st.entries, i, |p| match *p {
                        Place::Source {
                            file: f,
                            offset: o,
                            len: l,
                        } if f == file => Some((o, l)),
                        _ => None,
                    });
                    let stamp = &st.files[file];
                    copy_exact(&stamp.reopen()?, offset, total, w, || stamp.changed())?;
                    i = j;
                }
                Place::Spilled { offset, .. } => {
                    let (total, j) = run(&st.entries, i, |p| match *p {
                        Place::Spilled { offset: o, len: l } => Some((o, l)),
                        _ => None,
                    });
                    let f = spill
                        .as_ref()
                        .ok_or_else(|| io::Error::other("spill file missing"))?;
                    copy_exact(f, offset, total, w, || {
                        io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "temporary file shorter than written",
                        )
                    })?;
                    i = j;
                }
            }
        }
        w.flush()
    }
}

/// The run of entries from `i` on that are contiguous in one file (what
/// `at` finds of each: its offset and length in the file): catalogs laid
/// out one package per folder are mostly in order already, so this is one
/// copy per run. Its byte length and the index after it.
fn run(entries: &[Entry], i: usize, at: impl Fn(&Place) -> Option<(u64, usize)>) -> (usize, usize) {
    let Some((offset, mut total)) = at(&entries[i].place) else {
        return (0, i + 1);
    };
    let mut j = i + 1;
    while let Some((o, l)) = entries.get(j).and_then(|e| at(&e.place)) {
        if o != offset + total as u64 {
            break;
        }
        total += l;
        j += 1;
    }
    (total, j)
}

/// Copy `len` bytes of `f` from `offset` to `w` (by the kernel where `w`
/// allows it); `short` is the error when the file holds fewer.
fn copy_exact(
    mut f: &File,
    offset: u64,
    len: usize,
    w: &mut impl Write,
    short: impl FnOnce() -> io::Error,
) -> io::Result<()> {
    f.seek(SeekFrom::Start(offset))?;
    if io::copy(&mut f.take(len as u64), w)? != len as u64 {
        return Err(short());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::{Bundle, Channel, Package};

    /// Three load units whose blobs interleave in Go's order.
    fn units() -> Vec<DeclarativeConfig> {
        let pkg = |n: &str| Package {
            schema: "olm.package".into(),
            name: n.into(),
            ..Default::default()
        };
        let bundle = |p: &str, n: &str| Bundle {
            schema: "olm.bundle".into(),
            name: n.into(),
            package: p.into(),
            image: format!("registry/{n}:{}", "x".repeat(300)),
            ..Default::default()
        };
        let channel = |p: &str, n: &str| Channel {
            schema: "olm.channel".into(),
            name: n.into(),
            package: p.into(),
            ..Default::default()
        };
        vec![
            DeclarativeConfig {
                packages: vec![pkg("zeta")],
                bundles: vec![bundle("zeta", "z.v2"), bundle("alpha", "a.v1")],
                ..Default::default()
            },
            DeclarativeConfig {
                packages: vec![pkg("alpha")],
                channels: vec![channel("alpha", "stable"), channel("zeta", "fast")],
                ..Default::default()
            },
            DeclarativeConfig {
                bundles: vec![bundle("zeta", "z.v1"), bundle("alpha", "a.v0")],
                ..Default::default()
            },
        ]
    }

    #[test]
    fn a_file_that_is_its_encoding_is_copied_from_disk_unless_it_changed() {
        let units = units();
        let dir = tempfile::tempdir().unwrap();
        // Unit 1 as `opm render` writes it: its blobs in Go's order.
        let mut file_cfg = units[1].clone();
        file_cfg.channels.truncate(1);
        let mut text = Vec::new();
        super::super::write::write_stream(&file_cfg, Format::Json, &mut text).unwrap();
        let path = dir.path().join("catalog.json");
        std::fs::write(&path, &text).unwrap();
        let mut whole = units[0].clone();
        whole.extend(file_cfg.clone());
        let mut want = Vec::new();
        super::super::write::write_stream(&whole, Format::Json, &mut want).unwrap();
        let fill = || {
            let out = SortedOutput::new(Format::Json, 0);
            let source = SourceFile::read(&path).unwrap();
            out.add_read(&keyed_blobs(&file_cfg, 0, 1), Some(&source))
                .unwrap();
            out.add_read(&keyed_blobs(&units[0], 0, 0), Some(&source))
                .unwrap();
            out
        };
        let out = fill();
        assert_eq!(out.state.lock().unwrap().files.len(), 1, "kept as the file");
        let mut got = Vec::new();
        out.write_to(&mut got).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        // A file changed after it was read is refused before anything is
        // written.
        let out = fill();
        text.push(b'\n');
        std::fs::write(&path, &text).unwrap();
        let mut got = Vec::new();
        let err = out.write_to(&mut got).unwrap_err();
        assert!(
            err.to_string().contains("changed since it was read"),
            "{err}"
        );
        assert!(got.is_empty());
    }

    #[test]
    fn values_read_as_opm_writes_them_are_not_written_again_and_only_those() {
        use crate::catalog::load::{LoadOptions, load_bytes};
        use crate::catalog::model::{Property, RelatedImage};
        let prop = |typ: &str, value: &str| Property {
            typ: typ.into(),
            value: value.into(),
            ..Default::default()
        };
        let cfg = DeclarativeConfig {
            packages: vec![Package {
                schema: "olm.package".into(),
                name: "a".into(),
                ..Default::default()
            }],
            bundles: vec![Bundle {
                schema: "olm.bundle".into(),
                name: "a.v1".into(),
                package: "a".into(),
                image: "registry/a:v1".into(),
                properties: vec![
                    prop("olm.gvk", r#"{"group":"g","kind":"K","version":"v1"}"#),
                    prop("x", r#"[1,{},[],{"e":[true,null]}]"#),
                    prop("s", r#""str""#),
                ],
                related_images: vec![RelatedImage {
                    name: "r".into(),
                    image: "registry/r:v1".into(),
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut text = Vec::new();
        super::super::write::write_stream(&cfg, Format::Json, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.json");
        // Load `file` as render does, let `change` alter what was loaded,
        // and render it: the output, whether it was copied from the file,
        // and which values were known by their place in it.
        let render = |file: &[u8], change: &dyn Fn(&mut DeclarativeConfig)| {
            std::fs::write(&path, file).unwrap();
            let source = SourceFile::read(&path).unwrap();
            let mut loaded = load_bytes(&source.bytes, &path, LoadOptions::default()).unwrap();
            let known: Vec<bool> = loaded.bundles[0]
                .properties
                .iter()
                .map(|p| p.origin.0.is_some())
                .collect();
            change(&mut loaded);
            let out = SortedOutput::new(Format::Json, 0);
            out.add_read(&keyed_blobs(&loaded, 0, 0), Some(&source))
                .unwrap();
            let copied = out.state.lock().unwrap().files.len() == 1;
            let mut got = Vec::new();
            out.write_to(&mut got).unwrap();
            (String::from_utf8_lossy(&got).into_owned(), copied, known)
        };
        // As opm writes it: every value known, the file copied.
        let same = |_: &mut DeclarativeConfig| {};
        assert_eq!(
            render(text.as_bytes(), &same),
            (text.clone(), true, vec![true; 3])
        );
        // One value indented otherwise: Go's indentation is written.
        let other = text.replacen("\n                \"group\"", "\n  \"group\"", 1);
        assert_ne!(other, text);
        assert_eq!(
            render(other.as_bytes(), &same),
            (text.clone(), false, vec![false, true, true])
        );
        // Invalid UTF-8 in a value: Go writes U+FFFD for it, so the file is
        // not what is written, and no place in it is trusted.
        let bad = text.replacen("\"str\"", "\"s\u{FFFD}tr\"", 1);
        let mut bytes = text.replacen("\"str\"", "\"s#tr\"", 1).into_bytes();
        let at = bytes.iter().position(|&b| b == b'#').unwrap();
        bytes[at] = 0xFF;
        assert_eq!(render(&bytes, &same), (bad, false, vec![false; 3]));
        // A value replaced after loading, even by one of the same length,
        // is written, not copied.
        let replace =
            |c: &mut DeclarativeConfig| c.bundles[0].properties[2].value = "\"STR\"".into();
        let changed = text.replacen("\"str\"", "\"STR\"", 1);
        assert_eq!(
            render(text.as_bytes(), &replace),
            (changed, false, vec![true; 3])
        );
    }

    #[test]
    fn every_budget_writes_go_order_to_memory_and_to_a_file() {
        let units = units();
        let mut whole = DeclarativeConfig::default();
        for u in &units {
            whole.extend(u.clone());
        }
        for format in [Format::Json, Format::Yaml] {
            let mut want = Vec::new();
            super::super::write::write_stream(&whole, format, &mut want).unwrap();
            for budget in [0, 700, 1 << 20] {
                let fill = || {
                    let out = SortedOutput::new(format, budget);
                    // Units arrive out of order, as parallel loads finish.
                    for u in [2, 0, 1] {
                        out.add(&keyed_blobs(&units[u], 0, u)).unwrap();
                    }
                    out
                };
                let mut got = Vec::new();
                fill().write_to(&mut got).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "budget {budget}"
                );
                let mut file = tempfile::tempfile().unwrap();
                fill().write_to(&mut file).unwrap();
                let mut got = Vec::new();
                file.seek(SeekFrom::Start(0)).unwrap();
                file.read_to_end(&mut got).unwrap();
                assert_eq!(got, want, "budget {budget}, to a file");
            }
        }
    }
}
