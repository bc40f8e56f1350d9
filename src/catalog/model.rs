//! The file-based catalog (FBC) blob types and their Go-compatible JSON form.
//!
//! Field order, omission rules and the typed decode mirror operator-registry's
//! `declcfg` structs (spec: opm-catalog-render-migrate.md §1.2). Decoding is
//! done by hand from the normalised `serde_json::Value` rather than with serde
//! derive because Go's `encoding/json` matches field names case-insensitively,
//! lets the last duplicate win, and words its errors in a way users see.

use serde_json::Value;

use crate::encoding::json::{try_write_indented_at, write_indented, write_string};
use crate::encoding::yaml::DocWriter;

pub const SCHEMA_PACKAGE: &str = "olm.package";
pub const SCHEMA_CHANNEL: &str = "olm.channel";
pub const SCHEMA_BUNDLE: &str = "olm.bundle";
pub const SCHEMA_DEPRECATIONS: &str = "olm.deprecations";

pub const PROP_PACKAGE: &str = "olm.package";
pub const PROP_BUNDLE_OBJECT: &str = "olm.bundle.object";
pub const PROP_CSV_METADATA: &str = "olm.csv.metadata";

/// One `{type, value}` property. `value` is compact JSON text kept as it was
/// normalised on load (Go keeps it as a `json.RawMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Property {
    pub typ: String,
    pub value: String,
    /// Where the file it was read from holds `value` already written as
    /// `opm render -o json` writes it; not part of the value.
    pub origin: ValueOrigin,
}

impl Property {
    /// The value as Go marshals it: a missing value is Go's nil
    /// `json.RawMessage`, written `null` (nothing would be invalid JSON).
    pub fn json_value(&self) -> &str {
        if self.value.is_empty() {
            "null"
        } else {
            &self.value
        }
    }
}

/// A property value's text in the file it was read from, when that text
/// is exactly the value indented as a bundle property's value is
/// (`"value": ` at depth 3): the file offset and length of the text, and
/// where `value`'s text was in memory and its length (a value replaced or
/// resized since then no longer matches; clones do not match either).
/// Lets a renderer that copies the file instead of encoding it skip the
/// value. It does not take part in comparisons or debug output: two
/// properties with the same type and value are equal wherever they came
/// from.
#[derive(Clone, Copy, Default)]
pub struct ValueOrigin(pub Option<IndentedText>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndentedText {
    offset: u64,
    len: u32,
    value_len: u32,
    /// Where the value's text was in memory (never null: a niche keeps
    /// `Option<IndentedText>` at 24 bytes, every property carries one).
    value_at: std::num::NonZeroUsize,
}

impl IndentedText {
    /// The text at `offset`, `len` bytes long, holds `value`; `None` when a
    /// length does not fit the compact form.
    pub fn new(offset: usize, len: usize, value: &str) -> Option<IndentedText> {
        Some(IndentedText {
            offset: u64::try_from(offset).ok()?,
            len: u32::try_from(len).ok()?,
            value_len: u32::try_from(value.len()).ok()?,
            value_at: std::num::NonZeroUsize::new(value.as_ptr() as usize)?,
        })
    }

    /// Where the text starts in its file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The length of the text.
    pub fn text_len(&self) -> usize {
        self.len as usize
    }

    /// Whether `value` is still the one this was made for.
    pub fn is_of(&self, value: &str) -> bool {
        self.value_at.get() == value.as_ptr() as usize && self.value_len as usize == value.len()
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<ValueOrigin>() == 24);

impl PartialEq for ValueOrigin {
    fn eq(&self, _: &ValueOrigin) -> bool {
        true
    }
}

impl Eq for ValueOrigin {}

impl std::fmt::Debug for ValueOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("_")
    }
}

/// The depth at which a bundle's property values are written: document,
/// `properties` list, property object.
pub const PROPERTY_VALUE_DEPTH: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon {
    /// `None` writes `null` (Go's nil `[]byte`).
    pub data: Option<Vec<u8>>,
    pub mediatype: String,
}

#[derive(Debug, Clone, Default)]
pub struct Package {
    pub schema: String,
    pub name: String,
    pub default_channel: String,
    pub icon: Option<Icon>,
    pub description: String,
    pub properties: Vec<Property>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelEntry {
    pub name: String,
    pub replaces: String,
    pub skips: Vec<String>,
    pub skip_range: String,
}

#[derive(Debug, Clone, Default)]
pub struct Channel {
    pub schema: String,
    pub name: String,
    pub package: String,
    /// `None` is a missing list, written as `null` (Go nil slice).
    pub entries: Option<Vec<ChannelEntry>>,
    pub properties: Vec<Property>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelatedImage {
    pub name: String,
    pub image: String,
}

#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub schema: String,
    pub name: String,
    pub package: String,
    pub image: String,
    pub properties: Vec<Property>,
    pub related_images: Vec<RelatedImage>,
    /// Hidden (never serialised): the CSV as JSON, from `olm.bundle.object`
    /// properties on load or from the manifests when rendering a bundle.
    pub csv_json: Option<String>,
    /// Hidden: every manifest object as JSON, in property order.
    pub objects: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageScopedReference {
    pub schema: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeprecationEntry {
    pub reference: PackageScopedReference,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Deprecation {
    pub schema: String,
    pub package: String,
    pub entries: Option<Vec<DeprecationEntry>>,
}

/// A blob of any other schema, kept verbatim (after load normalisation).
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub schema: String,
    pub package: String,
    pub name: String,
    /// Normalised compact JSON of the whole blob, without trailing newline.
    pub blob: String,
}

/// A whole catalog: Go's `DeclarativeConfig`, five lists in load order.
#[derive(Debug, Clone, Default)]
pub struct DeclarativeConfig {
    pub packages: Vec<Package>,
    pub channels: Vec<Channel>,
    pub bundles: Vec<Bundle>,
    pub deprecations: Vec<Deprecation>,
    pub others: Vec<Meta>,
}

impl DeclarativeConfig {
    pub fn extend(&mut self, other: DeclarativeConfig) {
        self.packages.extend(other.packages);
        self.channels.extend(other.channels);
        self.bundles.extend(other.bundles);
        self.deprecations.extend(other.deprecations);
        self.others.extend(other.others);
    }
}

// ---------------------------------------------------------------------------
// Compact JSON in Go struct field order. The writer indents it afterwards.

fn key(out: &mut Vec<u8>, first: &mut bool, k: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

fn str_field(out: &mut Vec<u8>, first: &mut bool, k: &str, v: &str) {
    key(out, first, k);
    write_string(v, out);
}

fn opt_str_field(out: &mut Vec<u8>, first: &mut bool, k: &str, v: &str) {
    if !v.is_empty() {
        str_field(out, first, k, v);
    }
}

fn properties_field(out: &mut Vec<u8>, first: &mut bool, props: &[Property]) {
    if props.is_empty() {
        return;
    }
    key(out, first, "properties");
    compact_pairs(
        out,
        props,
        ["type", "value"],
        |out, p| write_string(&p.typ, out),
        |out, p| out.extend_from_slice(p.json_value().as_bytes()),
    );
}

/// A compact list of objects of two fields, `keys`, whose values `first`
/// and `second` write (the compact twin of [`object_list`]).
fn compact_pairs<T>(
    out: &mut Vec<u8>,
    items: &[T],
    [a, b]: [&str; 2],
    first: impl Fn(&mut Vec<u8>, &T),
    second: impl Fn(&mut Vec<u8>, &T),
) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\":");
        first(out, item);
        out.extend_from_slice(b",\"");
        out.extend_from_slice(b.as_bytes());
        out.extend_from_slice(b"\":");
        second(out, item);
        out.push(b'}');
    }
    out.push(b']');
}

fn string_list(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(s, out);
    }
    out.push(b']');
}

impl Package {
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        str_field(out, first, "schema", &self.schema);
        str_field(out, first, "name", &self.name);
        str_field(out, first, "defaultChannel", &self.default_channel);
        if let Some(icon) = &self.icon {
            key(out, first, "icon");
            out.extend_from_slice(b"{\"base64data\":");
            match &icon.data {
                Some(d) => {
                    use base64::Engine;
                    out.push(b'"');
                    out.extend_from_slice(
                        base64::engine::general_purpose::STANDARD
                            .encode(d)
                            .as_bytes(),
                    );
                    out.push(b'"');
                }
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"mediatype\":");
            write_string(&icon.mediatype, out);
            out.push(b'}');
        }
        opt_str_field(out, first, "description", &self.description);
        properties_field(out, first, &self.properties);
        out.push(b'}');
    }
}

impl Channel {
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        str_field(out, first, "schema", &self.schema);
        str_field(out, first, "name", &self.name);
        str_field(out, first, "package", &self.package);
        key(out, first, "entries");
        match &self.entries {
            None => out.extend_from_slice(b"null"),
            Some(entries) => {
                out.push(b'[');
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let f = &mut true;
                    out.push(b'{');
                    str_field(out, f, "name", &e.name);
                    opt_str_field(out, f, "replaces", &e.replaces);
                    if !e.skips.is_empty() {
                        key(out, f, "skips");
                        string_list(out, &e.skips);
                    }
                    opt_str_field(out, f, "skipRange", &e.skip_range);
                    out.push(b'}');
                }
                out.push(b']');
            }
        }
        properties_field(out, first, &self.properties);
        out.push(b'}');
    }
}

/// One field of a bundle's JSON, for its two writers.
enum BundleField<'a> {
    Str(&'static str, &'a str),
    Properties(&'a [Property]),
    RelatedImages(&'a [RelatedImage]),
}

/// A YAML list of two-entry mappings (keys in go-yaml's order), each
/// value written by `first` and `second`; `false` as soon as one fails.
fn yaml_pairs<T>(
    doc: &mut DocWriter<'_>,
    items: &[T],
    keys: [&str; 2],
    first: impl Fn(&mut DocWriter<'_>, &T) -> bool,
    second: impl Fn(&mut DocWriter<'_>, &T) -> bool,
) -> bool {
    doc.begin_seq();
    let all = items.iter().all(|item| {
        doc.item();
        doc.begin_map();
        doc.key(keys[0]);
        let ok = first(doc, item) && {
            doc.key(keys[1]);
            second(doc, item)
        };
        doc.end();
        ok
    });
    doc.end();
    all
}

impl BundleField<'_> {
    fn key(&self) -> &'static str {
        match self {
            BundleField::Str(key, _) => key,
            BundleField::Properties(_) => "properties",
            BundleField::RelatedImages(_) => "relatedImages",
        }
    }
}

impl Bundle {
    /// The fields Go's encoder writes, in its order: `name` and `package`
    /// (omitempty) and the two lists left out when empty.
    fn json_fields(&self) -> impl Iterator<Item = BundleField<'_>> {
        use BundleField::*;
        let name = (!self.name.is_empty()).then_some(Str("name", &self.name));
        let package = (!self.package.is_empty()).then_some(Str("package", &self.package));
        let properties = (!self.properties.is_empty()).then_some(Properties(&self.properties));
        let related =
            (!self.related_images.is_empty()).then_some(RelatedImages(&self.related_images));
        let image = Some(Str("image", &self.image));
        [
            Some(Str("schema", &self.schema)),
            name,
            package,
            image,
            properties,
            related,
        ]
        .into_iter()
        .flatten()
    }

    /// Write the bundle as one YAML document (without the leading `---`),
    /// as Go's JSON → YAML conversion writes it: its fields in go-yaml's key
    /// order, each property value converted where it stands. `false`: a
    /// value or string needs the general conversion; `out` is then as it
    /// was.
    pub fn write_yaml(&self, out: &mut Vec<u8>) -> bool {
        let mark = out.len();
        let mut fields: Vec<BundleField<'_>> = self.json_fields().collect();
        // go-yaml's natural order is byte order for these lower-case names.
        fields.sort_unstable_by_key(BundleField::key);
        let mut doc = DocWriter::new(out);
        doc.begin_map();
        let written = fields.iter().all(|f| {
            doc.key(f.key());
            match *f {
                BundleField::Str(_, v) => doc.string(v),
                BundleField::Properties(properties) => yaml_pairs(
                    &mut doc,
                    properties,
                    ["type", "value"],
                    |doc, p| doc.string(&p.typ),
                    |doc, p| doc.json(p.json_value()),
                ),
                BundleField::RelatedImages(related) => yaml_pairs(
                    &mut doc,
                    related,
                    ["image", "name"],
                    |doc, r| doc.string(&r.image),
                    |doc, r| doc.string(&r.name),
                ),
            }
        });
        if written {
            doc.end();
            doc.finish();
        } else {
            out.truncate(mark);
        }
        written
    }

    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        for field in self.json_fields() {
            match field {
                BundleField::Str(k, v) => str_field(out, first, k, v),
                BundleField::Properties(p) => properties_field(out, first, p),
                BundleField::RelatedImages(related) => {
                    key(out, first, "relatedImages");
                    compact_pairs(
                        out,
                        related,
                        ["name", "image"],
                        |out, r| write_string(&r.name, out),
                        |out, r| write_string(&r.image, out),
                    );
                }
            }
        }
        out.push(b'}');
    }
}

impl Deprecation {
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        str_field(out, first, "schema", &self.schema);
        str_field(out, first, "package", &self.package);
        key(out, first, "entries");
        match &self.entries {
            None => out.extend_from_slice(b"null"),
            Some(entries) => {
                out.push(b'[');
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"reference\":{\"schema\":");
                    write_string(&e.reference.schema, out);
                    if !e.reference.name.is_empty() {
                        out.extend_from_slice(b",\"name\":");
                        write_string(&e.reference.name, out);
                    }
                    out.extend_from_slice(b"},\"message\":");
                    write_string(&e.message, out);
                    out.push(b'}');
                }
                out.push(b']');
            }
        }
        out.push(b'}');
    }
}

/// Any blob, borrowed, for the writer.
#[derive(Clone, Copy)]
pub enum BlobRef<'a> {
    Package(&'a Package),
    Channel(&'a Channel),
    Bundle(&'a Bundle),
    Deprecation(&'a Deprecation),
    Other(&'a Meta),
}

impl BlobRef<'_> {
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        match self {
            BlobRef::Package(p) => p.write_compact(out),
            BlobRef::Channel(c) => c.write_compact(out),
            BlobRef::Bundle(b) => b.write_compact(out),
            BlobRef::Deprecation(d) => d.write_compact(out),
            BlobRef::Other(m) => out.extend_from_slice(m.blob.as_bytes()),
        }
    }

    /// The blob as Go's `json.Encoder` writes it (indented, trailing `\n`).
    pub fn write_json(&self, scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
        // A bundle is written indented directly: its property values (most
        // of a catalog's bytes) are not copied into a compact form first.
        if let BlobRef::Bundle(b) = self {
            let start = out.len();
            if b.write_json_to(out) {
                return;
            }
            // A value that is not valid JSON: as Go's encoder, below.
            out.truncate(start);
        }
        scratch.clear();
        self.write_compact(scratch);
        write_indented(scratch, out);
    }
}

/// Where [`Bundle::write_json_to`] writes: a buffer ([`Vec`]), or a check
/// of the bytes against a file's. Each method is `false` when it cannot
/// go on (invalid value text, bytes that differ).
pub trait JsonSink {
    /// Bytes as they are.
    fn raw(&mut self, b: &[u8]) -> bool;
    /// A string, escaped as Go's encoder escapes it.
    fn string(&mut self, s: &str) -> bool;
    /// A property's value, indented at [`PROPERTY_VALUE_DEPTH`].
    fn value(&mut self, p: &Property) -> bool;
}

impl JsonSink for Vec<u8> {
    fn raw(&mut self, b: &[u8]) -> bool {
        self.extend_from_slice(b);
        true
    }

    fn string(&mut self, s: &str) -> bool {
        write_string(s, self);
        true
    }

    fn value(&mut self, p: &Property) -> bool {
        try_write_indented_at(p.json_value().as_bytes(), PROPERTY_VALUE_DEPTH, self).is_ok()
    }
}

/// The value of a bundle's list field (`[` to `]`) whose items are objects
/// of two fields, `keys`, written by `first` and `second`, as Go indents it.
fn object_list<S: JsonSink, T>(
    s: &mut S,
    items: &[T],
    [a, b]: [&str; 2],
    mut first: impl FnMut(&mut S, &T) -> bool,
    mut second: impl FnMut(&mut S, &T) -> bool,
) -> bool {
    const OPEN: [&[u8]; 2] = [
        b"\n        {\n            \"",
        b",\n        {\n            \"",
    ];
    s.raw(b"[")
        && items.iter().enumerate().all(|(i, item)| {
            s.raw(OPEN[usize::from(i > 0)])
                && s.raw(a.as_bytes())
                && s.raw(b"\": ")
                && first(s, item)
                && s.raw(b",\n            \"")
                && s.raw(b.as_bytes())
                && s.raw(b"\": ")
                && second(s, item)
                && s.raw(b"\n        }")
        })
        && s.raw(b"\n    ]")
}

impl Bundle {
    /// [`BlobRef::write_json`] of the bundle, written field by field: the
    /// same bytes as indenting [`Bundle::write_compact`]'s output.
    pub fn write_json_to<S: JsonSink>(&self, s: &mut S) -> bool {
        let mut first = true;
        let mut field = |s: &mut S, key: &str| {
            let sep: &[u8] = if first { b"{\n    \"" } else { b",\n    \"" };
            first = false;
            s.raw(sep) && s.raw(key.as_bytes()) && s.raw(b"\": ")
        };
        for f in self.json_fields() {
            let written = match f {
                BundleField::Str(key, v) => field(s, key) && s.string(v),
                BundleField::Properties(properties) => {
                    let typ = |s: &mut S, p: &Property| s.string(&p.typ);
                    field(s, "properties")
                        && object_list(s, properties, ["type", "value"], typ, S::value)
                }
                BundleField::RelatedImages(related) => {
                    let name = |s: &mut S, r: &RelatedImage| s.string(&r.name);
                    let image = |s: &mut S, r: &RelatedImage| s.string(&r.image);
                    field(s, "relatedImages")
                        && object_list(s, related, ["name", "image"], name, image)
                }
            };
            if !written {
                return false;
            }
        }
        // Go's encoder ends every document with a newline.
        s.raw(b"\n}\n")
    }
}

// ---------------------------------------------------------------------------
// Typed decode from a normalised value, with Go's error wording.

/// A decode error worded as Go's `encoding/json` words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn mismatch(v: &Value, path: &str, go_type: &str) -> DecodeError {
    DecodeError(format!(
        "json: cannot unmarshal {} into Go struct field {path} of type {go_type}",
        json_kind(v)
    ))
}

/// Iterate an object's fields matching Go's case-insensitive lookup: the
/// callback gets the canonical field name it matched (or none).
fn for_fields<'a>(
    obj: &'a serde_json::Map<String, Value>,
    fields: &[&'static str],
    mut f: impl FnMut(&'static str, &'a Value) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    for (k, v) in obj {
        let hit = fields
            .iter()
            .find(|name| **name == k)
            .or_else(|| fields.iter().find(|name| name.eq_ignore_ascii_case(k)));
        if let Some(name) = hit {
            f(name, v)?;
        }
    }
    Ok(())
}

/// Go decodes JSON `null` into any field as "leave unchanged".
fn get_string(v: &Value, path: &str) -> Result<Option<String>, DecodeError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(mismatch(v, path, "string")),
    }
}

fn set_string(target: &mut String, v: &Value, path: &str) -> Result<(), DecodeError> {
    if let Some(s) = get_string(v, path)? {
        *target = s;
    }
    Ok(())
}

fn get_array<'a>(
    v: &'a Value,
    path: &str,
    go_type: &str,
) -> Result<Option<&'a Vec<Value>>, DecodeError> {
    match v {
        Value::Null => Ok(None),
        Value::Array(a) => Ok(Some(a)),
        _ => Err(mismatch(v, path, go_type)),
    }
}

fn get_object<'a>(
    v: &'a Value,
    path: &str,
    go_type: &str,
) -> Result<Option<&'a serde_json::Map<String, Value>>, DecodeError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(o) => Ok(Some(o)),
        _ => Err(mismatch(v, path, go_type)),
    }
}

pub(crate) fn compact_normalized(v: &Value) -> String {
    let mut out = Vec::new();
    crate::encoding::json::write_normalized(v, &mut out);
    // Kept for the whole run (property values): no spare capacity.
    out.shrink_to_fit();
    // SAFETY: write_normalized copies the value's strings (valid UTF-8, they
    // are `str`) and writes ASCII around them, so the bytes are UTF-8.
    // Validating them again costs a full pass over every property value.
    unsafe { String::from_utf8_unchecked(out) }
}

fn decode_properties(v: &Value, owner: &str) -> Result<Vec<Property>, DecodeError> {
    let path = format!("{owner}.properties");
    let Some(items) = get_array(v, &path, "[]property.Property")? else {
        return Ok(Vec::new());
    };
    let mut props = Vec::with_capacity(items.len());
    for item in items {
        let mut p = Property {
            typ: String::new(),
            value: String::new(),
            ..Default::default()
        };
        let Some(obj) = get_object(item, &path, "property.Property")? else {
            // A null element decodes to a zero Property; its value is empty
            // raw JSON, which the writer would reject. Keep `null`.
            p.value = "null".into();
            props.push(p);
            continue;
        };
        let mut value: Option<&Value> = None;
        for_fields(obj, &["type", "value"], |name, fv| {
            match name {
                "type" => set_string(&mut p.typ, fv, "Property.type")?,
                _ => value = Some(fv),
            }
            Ok(())
        })?;
        // A missing value stays an empty RawMessage; property parsing later
        // reports Go's "unexpected end of JSON input" for it.
        p.value = value.map(compact_normalized).unwrap_or_default();
        props.push(p);
    }
    Ok(props)
}

pub fn decode_package(v: &Value) -> Result<Package, DecodeError> {
    let mut p = Package::default();
    let Some(obj) = get_object(v, "", "declcfg.Package")? else {
        return Ok(p);
    };
    for_fields(
        obj,
        &[
            "schema",
            "name",
            "defaultChannel",
            "icon",
            "description",
            "properties",
        ],
        |name, fv| {
            match name {
                "schema" => set_string(&mut p.schema, fv, "Package.schema")?,
                "name" => set_string(&mut p.name, fv, "Package.name")?,
                "defaultChannel" => {
                    set_string(&mut p.default_channel, fv, "Package.defaultChannel")?
                }
                "description" => set_string(&mut p.description, fv, "Package.description")?,
                "icon" => {
                    if let Some(io) = get_object(fv, "Package.icon", "declcfg.Icon")? {
                        let mut icon = p.icon.take().unwrap_or(Icon {
                            data: None,
                            mediatype: String::new(),
                        });
                        for_fields(io, &["base64data", "mediatype"], |n, iv| {
                            if n == "mediatype" {
                                return set_string(
                                    &mut icon.mediatype,
                                    iv,
                                    "Package.icon.mediatype",
                                );
                            }
                            match iv {
                                Value::Null => icon.data = None,
                                Value::String(s) => icon.data = Some(decode_go_base64(s).map_err(|e| {
                                    DecodeError(format!("json: cannot unmarshal string into Go struct field Package.icon.base64data of type []uint8: {e}"))
                                })?),
                                _ => return Err(mismatch(iv, "Package.icon.base64data", "[]uint8")),
                            }
                            Ok(())
                        })?;
                        p.icon = Some(icon);
                    }
                }
                _ => p.properties = decode_properties(fv, "Package")?,
            }
            Ok(())
        },
    )?;
    Ok(p)
}

/// Go decodes `[]byte` with standard base64, padding required, and reports
/// the first bad byte as `illegal base64 data at input byte N`.
pub fn decode_go_base64(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Go's StdEncoding tolerates non-zero trailing bits and skips \r and \n.
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let cleaned;
    let input = if s.contains(['\r', '\n']) {
        cleaned = s.replace(['\r', '\n'], "");
        cleaned.as_str()
    } else {
        s
    };
    GO_STD.decode(input).map_err(|e| match e {
        base64::DecodeError::InvalidByte(i, _) => format!("illegal base64 data at input byte {i}"),
        base64::DecodeError::InvalidLastSymbol { offset, .. } => {
            format!("illegal base64 data at input byte {offset}")
        }
        // Go reports the length of the valid prefix for truncated input.
        _ => format!("illegal base64 data at input byte {}", input.len() / 4 * 4),
    })
}

/// Whether every byte is one of the 64 standard base64 symbols. Written as
/// branch-free range checks over chunks so that it vectorises: catalogs
/// hold hundreds of megabytes of base64.
fn is_base64_body(b: &[u8]) -> bool {
    #[inline(always)]
    fn ok(c: u8) -> bool {
        (c.wrapping_sub(b'A') < 26)
            | (c.wrapping_sub(b'a') < 26)
            | (c.wrapping_sub(b'0') < 10)
            | (c == b'+')
            | (c == b'/')
    }
    let mut chunks = b.chunks_exact(64);
    for chunk in &mut chunks {
        if !chunk.iter().fold(true, |acc, &c| acc & ok(c)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&c| ok(c))
}

/// Validate standard base64 as Go's decoder would, without decoding it all.
/// Returns the decoded first few bytes (enough to sniff a JSON prefix), or
/// `None` when the string is only whitespace-free padding. On error, the
/// same text as [`decode_go_base64`].
pub fn validate_go_base64(s: &str) -> Result<Option<Vec<u8>>, String> {
    let b = s.as_bytes();
    // Fast path: a clean body of the 64 symbols, padded correctly. Anything
    // unusual falls back to the full decoder for its exact error.
    let body_len = b.len() - b.iter().rev().take(2).take_while(|&&c| c == b'=').count();
    let clean = b.len().is_multiple_of(4) && is_base64_body(&b[..body_len]);
    if !clean {
        return decode_go_base64(s).map(|d| Some(d[..d.len().min(64)].to_vec()));
    }
    let head = &s[..b.len().min(88)];
    let head = if head.len().is_multiple_of(4) {
        head
    } else {
        &head[..head.len() / 4 * 4]
    };
    // The head is a whole number of quads; if it ends before the padding it
    // decodes cleanly on its own.
    decode_go_base64(head).map(Some)
}

pub fn decode_channel(v: &Value) -> Result<Channel, DecodeError> {
    let mut c = Channel::default();
    let Some(obj) = get_object(v, "", "declcfg.Channel")? else {
        return Ok(c);
    };
    for_fields(
        obj,
        &["schema", "name", "package", "entries", "properties"],
        |name, fv| {
            match name {
                "schema" => set_string(&mut c.schema, fv, "Channel.schema")?,
                "name" => set_string(&mut c.name, fv, "Channel.name")?,
                "package" => set_string(&mut c.package, fv, "Channel.package")?,
                "entries" => {
                    c.entries = match get_array(fv, "Channel.entries", "[]declcfg.ChannelEntry")? {
                        None => None,
                        Some(items) => Some(
                            items
                                .iter()
                                .map(decode_entry)
                                .collect::<Result<Vec<_>, _>>()?,
                        ),
                    }
                }
                _ => c.properties = decode_properties(fv, "Channel")?,
            }
            Ok(())
        },
    )?;
    Ok(c)
}

fn decode_entry(v: &Value) -> Result<ChannelEntry, DecodeError> {
    let mut e = ChannelEntry::default();
    let Some(obj) = get_object(v, "Channel.entries", "declcfg.ChannelEntry")? else {
        return Ok(e);
    };
    for_fields(
        obj,
        &["name", "replaces", "skips", "skipRange"],
        |name, fv| {
            match name {
                "name" => set_string(&mut e.name, fv, "Channel.entries.name")?,
                "replaces" => set_string(&mut e.replaces, fv, "Channel.entries.replaces")?,
                "skipRange" => set_string(&mut e.skip_range, fv, "Channel.entries.skipRange")?,
                _ => {
                    if let Some(items) = get_array(fv, "Channel.entries.skips", "[]string")? {
                        e.skips = items
                            .iter()
                            .map(|s| {
                                get_string(s, "Channel.entries.skips")
                                    .map(Option::unwrap_or_default)
                            })
                            .collect::<Result<_, _>>()?;
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(e)
}

pub fn decode_bundle(v: &Value) -> Result<Bundle, DecodeError> {
    let mut b = Bundle::default();
    let Some(obj) = get_object(v, "", "declcfg.Bundle")? else {
        return Ok(b);
    };
    for_fields(
        obj,
        &[
            "schema",
            "name",
            "package",
            "image",
            "properties",
            "relatedImages",
        ],
        |name, fv| {
            match name {
                "schema" => set_string(&mut b.schema, fv, "Bundle.schema")?,
                "name" => set_string(&mut b.name, fv, "Bundle.name")?,
                "package" => set_string(&mut b.package, fv, "Bundle.package")?,
                "image" => set_string(&mut b.image, fv, "Bundle.image")?,
                "properties" => b.properties = decode_properties(fv, "Bundle")?,
                _ => {
                    b.related_images.clear();
                    if let Some(items) =
                        get_array(fv, "Bundle.relatedImages", "[]declcfg.RelatedImage")?
                    {
                        for item in items {
                            let mut r = RelatedImage::default();
                            if let Some(o) =
                                get_object(item, "Bundle.relatedImages", "declcfg.RelatedImage")?
                            {
                                for_fields(o, &["name", "image"], |n, iv| match n {
                                    "name" => {
                                        set_string(&mut r.name, iv, "Bundle.relatedImages.name")
                                    }
                                    _ => set_string(&mut r.image, iv, "Bundle.relatedImages.image"),
                                })?;
                            }
                            b.related_images.push(r);
                        }
                        b.related_images.shrink_to_fit();
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(b)
}

pub fn decode_deprecation(v: &Value) -> Result<Deprecation, DecodeError> {
    let mut d = Deprecation::default();
    let Some(obj) = get_object(v, "", "declcfg.Deprecation")? else {
        return Ok(d);
    };
    for_fields(obj, &["schema", "package", "entries"], |name, fv| {
        match name {
            "schema" => set_string(&mut d.schema, fv, "Deprecation.schema")?,
            "package" => set_string(&mut d.package, fv, "Deprecation.package")?,
            _ => {
                d.entries =
                    match get_array(fv, "Deprecation.entries", "[]declcfg.DeprecationEntry")? {
                        None => None,
                        Some(items) => {
                            let mut out = Vec::with_capacity(items.len());
                            for item in items {
                                let mut e = DeprecationEntry::default();
                                if let Some(o) = get_object(
                                    item,
                                    "Deprecation.entries",
                                    "declcfg.DeprecationEntry",
                                )? {
                                    for_fields(o, &["reference", "message"], |n, ev| {
                                        if n == "message" {
                                            return set_string(
                                                &mut e.message,
                                                ev,
                                                "Deprecation.entries.message",
                                            );
                                        }
                                        if let Some(r) = get_object(
                                            ev,
                                            "Deprecation.entries.reference",
                                            "declcfg.PackageScopedReference",
                                        )? {
                                            for_fields(
                                                r,
                                                &["schema", "name"],
                                                |rn, rv| match rn {
                                                    "schema" => set_string(
                                                        &mut e.reference.schema,
                                                        rv,
                                                        "Deprecation.entries.reference.schema",
                                                    ),
                                                    _ => set_string(
                                                        &mut e.reference.name,
                                                        rv,
                                                        "Deprecation.entries.reference.name",
                                                    ),
                                                },
                                            )?;
                                        }
                                        Ok(())
                                    })?;
                                }
                                out.push(e);
                            }
                            Some(out)
                        }
                    }
            }
        }
        Ok(())
    })?;
    Ok(d)
}
