//! YAML reader reproducing `sigs.k8s.io/yaml.YAMLToJSON`: go-yaml v2
//! `Unmarshal` of the first document into `interface{}`, then
//! `convertToJSONableObject`, then the value checks of `json.Marshal`.
//!
//! `scan` supplies the events (a port of go-yaml's scanner and parser);
//! everything after the events follows go-yaml's `decode.go`: node tree with anchors, YAML 1.1 resolution of plain
//! scalars, `<<` merges applied in go-yaml v2's order, "last key wins",
//! alias-expansion limits, and Go's error messages where they are known.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::YamlError;
use super::resolve::{Resolved, TAG_PREFIX, Tag, format_float_g, format_float_g32, resolve_tagged};
use super::scan::{Event, Parser};

/// go-yaml's scanner and parser limit nesting to 10000 levels.
const MAX_DEPTH: usize = 10000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Seq,
    Map,
    Alias,
}

#[derive(Debug)]
struct PNode {
    kind: Kind,
    tag: String,
    /// Scalar text, or the anchor name of an alias.
    value: String,
    /// The scalar event's plain_implicit flag.
    implicit: bool,
    children: Vec<usize>,
    /// For an alias: the node it refers to.
    target: usize,
    /// Inside an anchored subtree, so an alias may decode it again; other
    /// scalars can hand their text over instead of copying it.
    shared: bool,
}

/// A go-yaml `interface{}` value before conversion to JSON.
#[derive(Debug, Clone)]
enum GoVal {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<GoVal>),
    Map(GoMap),
}

/// A Go `map[interface{}]interface{}`: keys compare by dynamic type and value
/// (so `1` and `"1"` are different keys, and NaN never equals itself).
/// Entries keep insertion order; a hash index is built once a map grows.
#[derive(Debug, Clone, Default)]
struct GoMap {
    entries: Vec<(GoVal, GoVal)>,
    index: HashMap<HKey, usize>,
}

/// Hashable form of a map key with Go's equality (`0.0 == -0.0`; NaN keys
/// are never equal to anything and are not indexed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HKey {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(u64),
    Str(String),
}

fn hkey(k: &GoVal) -> Option<HKey> {
    Some(match k {
        GoVal::Null => HKey::Null,
        GoVal::Bool(b) => HKey::Bool(*b),
        GoVal::Int(i) => HKey::Int(*i),
        GoVal::Uint(u) => HKey::Uint(*u),
        GoVal::Float(f) if f.is_nan() => return None,
        GoVal::Float(f) => HKey::Float(if *f == 0.0 { 0 } else { f.to_bits() }),
        GoVal::Str(s) => HKey::Str(s.clone()),
        GoVal::Seq(_) | GoVal::Map(_) => return None,
    })
}

/// Go interface equality for map keys.
fn same_key(a: &GoVal, b: &GoVal) -> bool {
    match (a, b) {
        (GoVal::Null, GoVal::Null) => true,
        (GoVal::Bool(x), GoVal::Bool(y)) => x == y,
        (GoVal::Int(x), GoVal::Int(y)) => x == y,
        (GoVal::Uint(x), GoVal::Uint(y)) => x == y,
        (GoVal::Float(x), GoVal::Float(y)) => x == y,
        (GoVal::Str(x), GoVal::Str(y)) => x == y,
        _ => false,
    }
}

/// Maps up to this size are searched linearly (typical catalog objects).
const LINEAR_MAP: usize = 16;

impl GoMap {
    fn insert(&mut self, k: GoVal, v: GoVal) {
        if self.entries.len() < LINEAR_MAP {
            if let Some(slot) = self.entries.iter_mut().find(|(ek, _)| same_key(ek, &k)) {
                slot.1 = v;
            } else {
                self.entries.push((k, v));
            }
            return;
        }
        if self.index.is_empty() {
            for (i, (ek, _)) in self.entries.iter().enumerate() {
                if let Some(h) = hkey(ek) {
                    self.index.insert(h, i);
                }
            }
        }
        match hkey(&k) {
            Some(h) => {
                if let Some(&i) = self.index.get(&h) {
                    self.entries[i].1 = v;
                } else {
                    self.index.insert(h, self.entries.len());
                    self.entries.push((k, v));
                }
            }
            None => self.entries.push((k, v)),
        }
    }
}

fn fail(msg: impl Into<String>) -> YamlError {
    YamlError(msg.into())
}

struct Tree {
    nodes: Vec<PNode>,
    root: Option<usize>,
    max_depth: usize,
    aliases: usize,
}

/// Build go-yaml's node tree for the first document of `text`.
fn build_tree(text: &str) -> Result<Tree, YamlError> {
    // go-yaml reads an empty input as "\n".
    let mut parser = Parser::new(if text.is_empty() { "\n" } else { text });
    let mut next = || parser.next_event().map_err(|e| YamlError(e.message()));

    let mut tree = Tree {
        nodes: Vec::new(),
        root: None,
        max_depth: 0,
        aliases: 0,
    };
    // STREAM-START, then DOCUMENT-START or STREAM-END.
    next()?;
    match next()? {
        Event::DocumentStart => {}
        _ => return Ok(tree),
    }
    let mut anchors: HashMap<String, usize> = HashMap::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        let (kind, anchor, tag, value, implicit) = match next()? {
            Event::Scalar {
                anchor,
                tag,
                value,
                plain_implicit,
            } => (Kind::Scalar, anchor, tag, value, plain_implicit),
            Event::SequenceStart { anchor, tag } => (Kind::Seq, anchor, tag, String::new(), false),
            Event::MappingStart { anchor, tag } => (Kind::Map, anchor, tag, String::new(), false),
            Event::Alias { anchor } => (Kind::Alias, None, String::new(), anchor, false),
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                if stack.is_empty() {
                    break;
                }
                continue;
            }
            _ => return Err(fail("yaml: unexpected event")),
        };
        let id = tree.nodes.len();
        let mut target = 0;
        if kind == Kind::Alias {
            target = *anchors
                .get(&value)
                .ok_or_else(|| fail(format!("yaml: unknown anchor '{value}' referenced")))?;
            tree.aliases += 1;
        }
        let shared = anchor.is_some() || stack.last().is_some_and(|&p| tree.nodes[p].shared);
        tree.nodes.push(PNode {
            kind,
            tag,
            value,
            implicit,
            children: Vec::new(),
            target,
            shared,
        });
        if let Some(a) = anchor {
            anchors.insert(a, id);
        }
        match stack.last() {
            Some(&parent) => tree.nodes[parent].children.push(id),
            None => tree.root = Some(id),
        }
        if matches!(kind, Kind::Seq | Kind::Map) {
            stack.push(id);
            if stack.len() > MAX_DEPTH {
                return Err(fail(format!("yaml: exceeded max depth of {MAX_DEPTH}")));
            }
            tree.max_depth = tree.max_depth.max(stack.len());
        } else if stack.is_empty() {
            break;
        }
    }
    // go-yaml also consumes DOCUMENT-END, which may surface an error.
    next()?;
    Ok(tree)
}

// ---------------------------------------------------------------------------
// Decoder (decode.go semantics for an interface{} target).

const ALIAS_RATIO_RANGE_LOW: f64 = 400_000.0;
const ALIAS_RATIO_RANGE_HIGH: f64 = 4_000_000.0;

fn allowed_alias_ratio(decode_count: u64) -> f64 {
    let d = decode_count as f64;
    if d <= ALIAS_RATIO_RANGE_LOW {
        0.99
    } else if d >= ALIAS_RATIO_RANGE_HIGH {
        0.10
    } else {
        0.99 - 0.89
            * ((d - ALIAS_RATIO_RANGE_LOW) / (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW))
    }
}

struct Decoder<'t> {
    nodes: &'t [PNode],
    /// Scalar texts, moved out of the tree so unshared ones can be handed
    /// over to the result instead of copied.
    texts: Vec<String>,
    expanding: Vec<bool>,
    decode_count: u64,
    alias_count: u64,
    alias_depth: u64,
    depth: usize,
}

fn want_map() -> YamlError {
    fail("yaml: map merge requires map or sequence of maps as the value")
}

impl Decoder<'_> {
    /// The bookkeeping at the top of go-yaml's `unmarshal`.
    fn count(&mut self) -> Result<(), YamlError> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err(fail("yaml: document contains excessive aliasing"));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), YamlError> {
        self.depth += 1;
        if self.depth > 4 * MAX_DEPTH {
            return Err(fail(format!("yaml: exceeded max depth of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn with_alias<T>(
        &mut self,
        n: usize,
        f: impl FnOnce(&mut Self, usize) -> Result<T, YamlError>,
    ) -> Result<T, YamlError> {
        if self.expanding[n] {
            return Err(fail(format!(
                "yaml: anchor '{}' value contains itself",
                self.nodes[n].value
            )));
        }
        self.expanding[n] = true;
        self.alias_depth += 1;
        let r = f(self, self.nodes[n].target);
        self.alias_depth -= 1;
        self.expanding[n] = false;
        r
    }

    fn unmarshal(&mut self, n: usize) -> Result<GoVal, YamlError> {
        self.count()?;
        self.enter()?;
        let node = &self.nodes[n];
        let r = match node.kind {
            Kind::Alias => self.with_alias(n, |d, t| d.unmarshal(t)),
            Kind::Scalar => self.scalar(n),
            Kind::Seq => {
                let mut items = Vec::with_capacity(node.children.len());
                for &c in &node.children {
                    items.push(self.unmarshal(c)?);
                }
                Ok(GoVal::Seq(items))
            }
            Kind::Map => {
                let mut m = GoMap::default();
                self.mapping_into(n, &mut m)?;
                Ok(GoVal::Map(m))
            }
        };
        self.depth -= 1;
        r
    }

    /// `unmarshal` with an existing map as the target (merge keys): the
    /// node's entries are set into `out`, overwriting what is there.
    fn unmarshal_into(&mut self, n: usize, out: &mut GoMap) -> Result<(), YamlError> {
        self.count()?;
        self.enter()?;
        let r = match self.nodes[n].kind {
            Kind::Alias => self.with_alias(n, |d, t| d.unmarshal_into(t, out)),
            Kind::Map => self.mapping_into(n, out),
            // Not reached: merge() checks kinds first.
            _ => Err(want_map()),
        };
        self.depth -= 1;
        r
    }

    /// The scalar's text as a result string: moved when no alias can reach
    /// the node again, copied otherwise.
    fn text(&mut self, n: usize) -> String {
        if self.nodes[n].shared {
            self.texts[n].clone()
        } else {
            std::mem::take(&mut self.texts[n])
        }
    }

    fn scalar(&mut self, n: usize) -> Result<GoVal, YamlError> {
        let node = &self.nodes[n];
        if node.tag.is_empty() && !node.implicit {
            return Ok(GoVal::Str(self.text(n)));
        }
        let (tag, resolved) = resolve_tagged(&node.tag, &self.texts[n])?;
        if tag == Tag::Binary {
            let bytes = go_base64_decode(&self.texts[n])
                .ok_or_else(|| fail("yaml: !!binary value contains invalid base64 data"))?;
            return Ok(GoVal::Str(super::json::go_lossy_utf8(&bytes)));
        }
        Ok(match resolved {
            Resolved::Null => GoVal::Null,
            Resolved::Bool(b) => GoVal::Bool(b),
            Resolved::Int(i) => GoVal::Int(i),
            Resolved::Uint(u) => GoVal::Uint(u),
            Resolved::Float(f) => GoVal::Float(f),
            // Quirk: timestamps stay strings for interface{} targets
            // (go-yaml-json-encoding.md "Input side").
            Resolved::Str => GoVal::Str(self.text(n)),
        })
    }

    fn is_merge(&self, n: usize) -> bool {
        let node = &self.nodes[n];
        node.kind == Kind::Scalar
            && self.texts[n] == "<<"
            && (node.implicit || node.tag == format!("{TAG_PREFIX}merge"))
    }

    fn mapping_into(&mut self, n: usize, out: &mut GoMap) -> Result<(), YamlError> {
        let children = &self.nodes[n].children;
        for pair in children.chunks(2) {
            let (k, v) = (pair[0], pair.get(1).copied().unwrap_or(pair[0]));
            if self.is_merge(k) {
                self.merge(v, out)?;
                continue;
            }
            let key = self.unmarshal(k)?;
            if matches!(key, GoVal::Seq(_) | GoVal::Map(_)) {
                return Err(fail(format!("yaml: invalid map key: {}", go_sharp_v(&key))));
            }
            let val = self.unmarshal(v)?;
            out.insert(key, val);
        }
        Ok(())
    }

    /// go-yaml v2 `merge` (conformance README item 6 for `<<` itself).
    /// Quirk: the merged map's keys overwrite keys already set
    /// (so a `<<` after explicit keys wins over them); in a sequence the
    /// earlier maps take precedence (applied last).
    fn merge(&mut self, n: usize, out: &mut GoMap) -> Result<(), YamlError> {
        let node = &self.nodes[n];
        match node.kind {
            Kind::Map => self.unmarshal_into(n, out),
            Kind::Alias => {
                if self.nodes[node.target].kind != Kind::Map {
                    return Err(want_map());
                }
                self.unmarshal_into(n, out)
            }
            Kind::Seq => {
                for &c in node.children.iter().rev() {
                    let cn = &self.nodes[c];
                    let ok = match cn.kind {
                        Kind::Alias => self.nodes[cn.target].kind == Kind::Map,
                        Kind::Map => true,
                        _ => false,
                    };
                    if !ok {
                        return Err(want_map());
                    }
                    self.unmarshal_into(c, out)?;
                }
                Ok(())
            }
            Kind::Scalar => Err(want_map()),
        }
    }
}

/// Go `base64.StdEncoding.DecodeString`: padded standard alphabet; CR and LF
/// are skipped; non-zero trailing bits are accepted (the encoding is not
/// Strict).
fn go_base64_decode(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    let quanta = clean.len() / 4;
    for (qi, q) in clean.chunks(4).enumerate() {
        let last = qi + 1 == quanta;
        let pads = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 || (pads > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for (i, &c) in q[..4 - pads].iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..3 - pads]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// convertToJSONableObject + json.Marshal checks.

/// Go `fmt` `%#v` of a decoded value, for error messages.
fn go_sharp_v(v: &GoVal) -> String {
    match v {
        GoVal::Null => "interface {}(nil)".into(),
        GoVal::Bool(b) => b.to_string(),
        GoVal::Int(i) => i.to_string(),
        GoVal::Uint(u) => format!("0x{u:x}"),
        GoVal::Float(f) => format_float_g(*f),
        GoVal::Str(s) => format!("{s:?}"),
        GoVal::Seq(items) => {
            let inner: Vec<String> = items.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        GoVal::Map(m) => {
            let mut inner: Vec<String> = m
                .entries
                .iter()
                .map(|(k, v)| format!("{}:{}", go_sharp_v(k), go_sharp_v(v)))
                .collect();
            inner.sort();
            format!("map[interface {{}}]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

fn to_json(v: GoVal) -> Result<Value, YamlError> {
    Ok(match v {
        GoVal::Null => Value::Null,
        GoVal::Bool(b) => Value::Bool(b),
        GoVal::Int(i) => Value::Number(i.into()),
        GoVal::Uint(u) => Value::Number(u.into()),
        GoVal::Float(f) => match Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None => {
                // json.Marshal refuses NaN and infinities.
                return Err(fail(format!(
                    "json: unsupported value: {}",
                    format_float_g(f)
                )));
            }
        },
        GoVal::Str(s) => Value::String(s),
        GoVal::Seq(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        GoVal::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m.entries {
                let key = match &k {
                    GoVal::Str(s) => s.clone(),
                    GoVal::Int(i) => i.to_string(),
                    // Quirk: float keys are printed with float32 precision
                    // (conformance README item 8).
                    GoVal::Float(f) => match format_float_g32(*f).as_str() {
                        "+Inf" => ".inf".into(),
                        "-Inf" => "-.inf".into(),
                        "NaN" => ".nan".into(),
                        s => s.into(),
                    },
                    GoVal::Bool(b) => b.to_string(),
                    GoVal::Null => {
                        return Err(fail(format!(
                            "unsupported map key of type: %!s(<nil>), key: <nil>, value: {}",
                            go_sharp_v(&v)
                        )));
                    }
                    GoVal::Uint(_) => {
                        return Err(fail(format!(
                            "unsupported map key of type: uint64, key: {}, value: {}",
                            go_sharp_v(&k),
                            go_sharp_v(&v)
                        )));
                    }
                    GoVal::Seq(_) | GoVal::Map(_) => {
                        return Err(fail("unsupported map key"));
                    }
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
    })
}

fn decode(mut tree: Tree) -> Result<Value, YamlError> {
    let Some(root) = tree.root else {
        return Ok(Value::Null);
    };
    let texts = tree
        .nodes
        .iter_mut()
        .map(|n| {
            if n.kind == Kind::Scalar {
                std::mem::take(&mut n.value)
            } else {
                String::new()
            }
        })
        .collect();
    let mut d = Decoder {
        nodes: &tree.nodes,
        texts,
        expanding: vec![false; tree.nodes.len()],
        decode_count: 0,
        alias_count: 0,
        alias_depth: 0,
        depth: 0,
    };
    // The document node counts as one decode in go-yaml.
    d.count()?;
    let v = d.unmarshal(root)?;
    to_json(v)
}

/// Parse the first document of `text` into a JSON value.
pub(super) fn parse_first_document(text: &str) -> Result<Value, YamlError> {
    let tree = build_tree(text)?;
    // Deep documents (or alias chains) recurse deeply: run those on a thread
    // with a stack sized for go-yaml's 10000-level limit.
    if tree.max_depth > 64 || (tree.aliases > 0 && tree.nodes.len() > 256) {
        let handle = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || decode(tree));
        match handle {
            Ok(h) => h
                .join()
                .unwrap_or_else(|_| Err(fail("yaml: internal error"))),
            Err(_) => Err(fail("yaml: cannot start decoder thread")),
        }
    } else {
        decode(tree)
    }
}
