//! A fast path for the JSON catalog files most catalogs are made of.
//!
//! The general loader ([`super::load`]) decodes every document into a
//! `serde_json::Value` tree, then into its typed blob, then writes each
//! property value back out in Go's normalised form: for a bundle that is
//! two copies and a tree of allocations per property, most of them the
//! megabytes of base64 of its `olm.bundle.object`s. Here a bundle document
//! is scanned by hand in one pass: its fields are borrowed from the text,
//! and each property value is checked and normalised by the same copying
//! pass when that pass can produce exactly what the general path would (no
//! escapes but Go's, keys already in order, plain integers). A bundle the
//! scanner is unsure of is decoded by serde into the same borrowed fields;
//! other documents go through the general decoding.
//!
//! Anything unexpected (a syntax error, an unknown or duplicate field, a
//! value of another type, a document too deep) gives up on the whole file,
//! which the general loader then reads, so that errors, their lines and
//! Go's quirks come from one place.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::model::{
    Bundle, IndentedText, PROPERTY_VALUE_DEPTH, Property, RelatedImage, SCHEMA_BUNDLE, ValueOrigin,
    compact_normalized,
};
use crate::encoding::json::{raw_string_special, skip_plain};

/// A bundle document with only the fields Go's `declcfg.Bundle` has, under
/// their exact names, each present once, strings without escapes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastBundle<'a> {
    schema: &'a str,
    name: &'a str,
    package: &'a str,
    image: &'a str,
    #[serde(borrow, default)]
    properties: Vec<FastProperty<'a>>,
    #[serde(rename = "relatedImages", borrow, default)]
    related_images: Vec<FastRelated<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastProperty<'a> {
    #[serde(rename = "type")]
    typ: &'a str,
    #[serde(borrow)]
    value: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastRelated<'a> {
    name: &'a str,
    image: &'a str,
}

/// One JSON document of a file, decoded.
pub(super) enum Doc<'a> {
    /// A bundle, decoded the fast way (its objects not yet checked).
    Bundle(Bundle),
    /// Any other document, for the general decoding.
    Other(Value, &'a [u8]),
}

/// Decode the document `text` starts with (no leading whitespace; `offset`
/// is where it starts in its file, when the text is the file's bytes): the
/// document and its length, or `None` when it is not plain valid JSON.
pub(super) fn document(text: &str, offset: Option<usize>) -> Option<(Doc<'_>, usize)> {
    if let Some((b, end)) = scan_bundle(text, offset) {
        return Some((Doc::Bundle(b), end));
    }
    let mut bundles = serde_json::Deserializer::from_str(text).into_iter::<FastBundle<'_>>();
    if let Some(Ok(b)) = bundles.next()
        && b.schema == SCHEMA_BUNDLE
    {
        let end = bundles.byte_offset();
        return Some((Doc::Bundle(b.into_bundle()?), end));
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = values.next()?.ok()?;
    let end = values.byte_offset();
    Some((Doc::Other(value, &text.as_bytes()[..end]), end))
}

impl FastBundle<'_> {
    fn into_bundle(self) -> Option<Bundle> {
        let mut properties = Vec::with_capacity(self.properties.len());
        for p in self.properties {
            let raw = p.value.get();
            let value = match normalize_plain(raw) {
                Some(v) => v,
                None => normalize_general(raw)?,
            };
            properties.push(Property {
                typ: p.typ.to_string(),
                value,
                ..Default::default()
            });
        }
        let related = self.related_images.iter().map(|r| (r.name, r.image));
        Some(new_bundle(
            [self.schema, self.name, self.package, self.image],
            properties,
            related,
        ))
    }
}

fn new_bundle<'a>(
    [schema, name, package, image]: [&str; 4],
    properties: Vec<Property>,
    related: impl Iterator<Item = (&'a str, &'a str)>,
) -> Bundle {
    Bundle {
        schema: schema.to_string(),
        name: name.to_string(),
        package: package.to_string(),
        image: image.to_string(),
        properties,
        related_images: related
            .map(|(name, image)| RelatedImage {
                name: name.to_string(),
                image: image.to_string(),
            })
            .collect(),
        ..Default::default()
    }
}

/// The general path's normalised form of a JSON value's text.
fn normalize_general(raw: &str) -> Option<String> {
    Some(compact_normalized(
        &serde_json::from_str::<Value>(raw).ok()?,
    ))
}

/// A cursor over JSON text for the hand-written scanners (the bundle
/// scanner here, validate's shape walk). `None` from any method stops the
/// scan: the caller then leaves the text to serde or the general decoder.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pub(crate) i: usize,
    /// Where `text` starts in its file, when it is the file's bytes.
    offset: Option<usize>,
    /// The text is known to be valid JSON (no raw control characters).
    valid: bool,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            text,
            i: 0,
            offset: None,
            valid: false,
        }
    }

    /// A cursor over text known to be valid JSON, such as a normalised
    /// property value: its strings are skipped by a plain search for the
    /// next quote or backslash.
    pub(crate) fn valid(text: &'a str) -> Cursor<'a> {
        Cursor {
            valid: true,
            ..Cursor::new(text)
        }
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skip JSON whitespace (space, tab, line feed, carriage return).
    pub(crate) fn ws(&mut self) {
        self.i = skip_json_ws(self.text.as_bytes(), self.i);
    }

    /// Whitespace, then the next byte (not consumed).
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.text.as_bytes().get(self.i).copied()
    }

    /// Whitespace, then `b`.
    pub(crate) fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    /// Whitespace, then a string without control characters: its text
    /// when it holds no escape (borrowed, as serde gives a `&str` field).
    pub(crate) fn string(&mut self) -> Option<Option<&'a str>> {
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.i;
        let mut escaped = false;
        loop {
            let k = if self.valid {
                memchr::memchr2(b'"', b'\\', &bytes[self.i..]).map_or(bytes.len(), |k| self.i + k)
            } else {
                skip_plain(bytes, self.i, |b| (b == b'"') | (b == b'\\') | (b < 0x20))
            };
            match *bytes.get(k)? {
                b'"' => {
                    self.i = k + 1;
                    return Some(if escaped {
                        None
                    } else {
                        self.text.get(start..k)
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.i = k + 2;
                }
                _ => return None,
            }
        }
    }

    /// A string without escapes.
    fn plain_str(&mut self) -> Option<&'a str> {
        self.string()?
    }

    /// An array: `each` reads every element.
    pub(crate) fn elements(&mut self, each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.list(*b"[]", each)
    }

    /// An object: `member` gets each key (`None` when it holds an escape)
    /// after its `:`, and reads the value.
    pub(crate) fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, Option<&'a str>) -> Option<()>,
    ) -> Option<()> {
        self.list(*b"{}", |c| {
            let key = c.string()?;
            c.expect(b':')?;
            member(c, key)
        })
    }

    /// `open`, items separated by commas (`item` reads each), `close`.
    fn list(
        &mut self,
        [open, close]: [u8; 2],
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.expect(open)?;
        if self.peek()? == close {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b if b == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

fn skip_json_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// Set `slot` once: a second occurrence of a field is not the fast path's.
fn once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(v))
}

/// A bundle document decoded by hand in one pass: the same result as
/// [`FastBundle`] (exact field names, each once, no escapes in the fields
/// it borrows) with each property value normalised while it is scanned,
/// instead of serde finding its end before [`normalize_plain`] copies it.
/// `None` for anything else (another schema, a field serde would decode
/// differently, invalid JSON): [`document`] then decodes it the serde way.
fn scan_bundle(text: &str, offset: Option<usize>) -> Option<(Bundle, usize)> {
    let mut c = Cursor {
        offset,
        ..Cursor::new(text)
    };
    let (mut schema, mut name, mut package, mut image) = (None, None, None, None);
    let (mut properties, mut related) = (None, None);
    c.members(|c, key| match key? {
        "schema" => {
            let s = c.plain_str()?;
            // Any other schema is not a bundle: leave the scan early.
            (s == SCHEMA_BUNDLE).then_some(())?;
            once(&mut schema, s)
        }
        "name" => once(&mut name, c.plain_str()?),
        "package" => once(&mut package, c.plain_str()?),
        "image" => once(&mut image, c.plain_str()?),
        "properties" => {
            let list = c.pairs(["type", "value"], Cursor::plain_str, Cursor::value)?;
            let list = list.into_iter().map(|(t, (value, origin))| Property {
                typ: t.to_string(),
                value,
                origin,
            });
            once(&mut properties, list.collect())
        }
        "relatedImages" => {
            let list = c.pairs(["name", "image"], Cursor::plain_str, Cursor::plain_str)?;
            once(&mut related, list)
        }
        _ => None,
    })?;
    let bundle = new_bundle(
        [schema?, name?, package?, image?],
        properties.unwrap_or_default(),
        related.unwrap_or_default().into_iter(),
    );
    Some((bundle, c.i))
}

impl<'a> Cursor<'a> {
    /// An array of objects that each have the members `keys` (exactly,
    /// once each), read by `first` and `second`.
    fn pairs<A, B>(
        &mut self,
        keys: [&str; 2],
        mut first: impl FnMut(&mut Self) -> Option<A>,
        mut second: impl FnMut(&mut Self) -> Option<B>,
    ) -> Option<Vec<(A, B)>> {
        let mut list = Vec::new();
        self.elements(|c| {
            let (mut a, mut b) = (None, None);
            c.members(|c, key| match key? {
                k if k == keys[0] => once(&mut a, first(c)?),
                k if k == keys[1] => once(&mut b, second(c)?),
                _ => None,
            })?;
            list.push((a?, b?));
            Some(())
        })?;
        Some(list)
    }

    /// The property value at the cursor, normalised: by one pass when it
    /// is plain, else by serde (which also finds where it ends). With it,
    /// where its text is when that is how `opm render -o json` writes it.
    fn value(&mut self) -> Option<(String, ValueOrigin)> {
        self.ws();
        let rest = &self.text[self.i..];
        let depth = Some(PROPERTY_VALUE_DEPTH);
        if let Some((v, len, indented)) = normalize_prefix(rest.as_bytes(), depth) {
            let at = self.offset.filter(|_| indented);
            let origin = ValueOrigin(at.and_then(|at| IndentedText::new(at + self.i, len, &v)));
            self.i += len;
            return Some((v, origin));
        }
        let mut de = serde_json::Deserializer::from_str(rest);
        let raw = <&RawValue>::deserialize(&mut de).ok()?.get();
        // `raw` is a slice of `rest` that starts where `rest` does.
        self.i += raw.len();
        Some((normalize_general(raw)?, ValueOrigin::default()))
    }
}

thread_local! {
    /// The normaliser's output buffer, reused: values are copied out of it
    /// at their exact size (they are kept for the whole run).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Nesting that [`normalize_prefix`] leaves to the general path.
const MAX_PLAIN_DEPTH: usize = 64;

/// The normalised compact form of valid JSON text (what the general path
/// writes for its parse: compact, object keys sorted, Go's string escapes,
/// numbers as Go prints a float64) when it is the text with whitespace
/// removed. `None` otherwise, and for text that is not one JSON value.
pub(super) fn normalize_plain(raw: &str) -> Option<String> {
    normalize_prefix(raw.as_bytes(), None).and_then(|(v, len, _)| (len == raw.len()).then_some(v))
}

/// [`normalize_plain`] of the JSON value `raw` starts with (no leading
/// whitespace), and the length of its text; checks the JSON grammar as it
/// goes. Plain means: strings escaped as Go escapes them (keys not escaped
/// at all), no raw U+2028/U+2029, object keys strictly increasing, integers
/// of at most 15 digits, literals, nesting within [`MAX_PLAIN_DEPTH`].
///
/// With `depth`, also whether the text is exactly what Go's indenter writes
/// for the value at that depth (its whitespace a newline and four spaces per
/// level where the indenter puts them, one space after each colon, none
/// elsewhere).
fn normalize_prefix(raw: &[u8], depth: Option<usize>) -> Option<(String, usize, bool)> {
    let mut out = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    out.clear();
    let result = normalize_into(raw, &mut out, depth).map(|(len, indented)| {
        // SAFETY: `raw` is the text of a `str`, and `out` holds whole
        // strings and ASCII tokens of it, so whole UTF-8 sequences only.
        // Checking it again costs a pass over every property value.
        (
            unsafe { String::from_utf8_unchecked(out.as_slice().to_vec()) },
            len,
            indented,
        )
    });
    SCRATCH.with(|s| *s.borrow_mut() = out);
    result
}

fn normalize_into(raw: &[u8], out: &mut Vec<u8>, depth: Option<usize>) -> Option<(usize, bool)> {
    /// An open container: for an object, where its last key is in `out`.
    enum Open {
        Array,
        Object(Option<(usize, usize)>),
    }
    let mut open: Vec<Open> = Vec::new();
    let mut i = 0;
    let base = depth.unwrap_or(0);
    // Whether the whitespace so far is the indenter's.
    let mut indented = depth.is_some();
    // A key (at `i`, a quote) of the innermost object, its `:` and the
    // whitespace after it; `i` ends at the start of the member's value.
    let key =
        |i: usize, out: &mut Vec<u8>, last: &mut Option<(usize, usize)>, indented: &mut bool| {
            let (len, escaped) = plain_string_len(raw.get(i + 1..)?)?;
            // Keys are ordered by their decoded text: compare the raw text
            // only when it is the decoded text.
            if raw[i] != b'"' || escaped {
                return None;
            }
            let start = out.len() + 1;
            out.extend_from_slice(&raw[i..i + len + 2]);
            let k = (start, start + len);
            if let Some((a, e)) = *last
                && out[a..e] >= out[k.0..k.1]
            {
                return None;
            }
            *last = Some(k);
            let after = i + len + 2;
            let (i, exact) = skip_ws_as(raw, after, b"");
            *indented &= exact;
            (*raw.get(i)? == b':').then_some(())?;
            out.push(b':');
            let (value, exact) = skip_ws_as(raw, i + 1, b" ");
            *indented &= exact;
            Some(value)
        };
    loop {
        // A value starts at `i`.
        match *raw.get(i)? {
            b'"' => {
                let (len, _) = plain_string_len(&raw[i + 1..])?;
                out.extend_from_slice(&raw[i..i + len + 2]);
                i += len + 2;
            }
            b @ (b'{' | b'[') => {
                // Deeper values go to serde (limit 128), and past that the
                // file to the general path, which has Go's depth limit.
                if open.len() >= MAX_PLAIN_DEPTH {
                    return None;
                }
                out.push(b);
                let from = i + 1;
                let exact;
                (i, exact) = skip_ws_as(raw, from, indent(base + open.len() + 1));
                let close = if b == b'{' { b'}' } else { b']' };
                if *raw.get(i)? == close {
                    // Go's indenter keeps an empty container as `{}`/`[]`.
                    indented &= i == from;
                    out.push(close);
                    i += 1;
                    // (falls through to the value's end)
                } else if b == b'{' {
                    indented &= exact;
                    let mut last = None;
                    i = key(i, out, &mut last, &mut indented)?;
                    open.push(Open::Object(last));
                    continue;
                } else {
                    indented &= exact;
                    open.push(Open::Array);
                    continue;
                }
            }
            b'-' | b'0'..=b'9' => {
                let digits_at = i + usize::from(raw[i] == b'-');
                let len = raw[digits_at..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(raw.len() - digits_at);
                let plain = (1..=15).contains(&len) && (raw[digits_at] != b'0' || len == 1);
                // A fraction or exponent is left to the general path.
                if !plain || matches!(raw.get(digits_at + len), Some(b'.' | b'e' | b'E')) {
                    return None;
                }
                if raw[digits_at..digits_at + len] == *b"0" && digits_at != i {
                    return None; // -0
                }
                out.extend_from_slice(&raw[i..digits_at + len]);
                i = digits_at + len;
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match raw[i] {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !raw[i..].starts_with(word) {
                    return None;
                }
                out.extend_from_slice(word);
                i += word.len();
            }
            _ => return None,
        }
        // The value is complete: close containers until one continues.
        loop {
            let members = base + open.len();
            let Some(top) = open.last_mut() else {
                return Some((i, indented));
            };
            let end = i;
            // Go's indenter writes nothing before a comma, and a newline
            // and the container's indent before its end.
            let exact;
            (i, exact) = match raw.get(end) {
                Some(b',') => (end, true),
                _ => skip_ws_as(raw, end, indent(members - 1)),
            };
            match (*raw.get(i)?, top) {
                (b',', top) => {
                    out.push(b',');
                    let (next, exact) = skip_ws_as(raw, i + 1, indent(members));
                    indented &= i == end && exact;
                    i = match top {
                        Open::Array => next,
                        Open::Object(last) => key(next, out, last, &mut indented)?,
                    };
                    break;
                }
                (b']', Open::Array) | (b'}', Open::Object(_)) => {
                    indented &= exact && i != end;
                    out.push(raw[i]);
                    i += 1;
                    open.pop();
                }
                _ => return None,
            }
        }
    }
}

/// A newline and `depth` levels of Go's four-space indent.
fn indent(depth: usize) -> &'static [u8] {
    /// A newline and the indent of the deepest plain value.
    static INDENT: [u8; 1 + 4 * (MAX_PLAIN_DEPTH + 8)] = {
        let mut t = [b' '; 1 + 4 * (MAX_PLAIN_DEPTH + 8)];
        t[0] = b'\n';
        t
    };
    // Deeper is never plain: a NUL is never whitespace.
    INDENT.get(..1 + 4 * depth).unwrap_or(b"\0")
}

/// Skip JSON whitespace at `from`, trying `expect` (what Go's indenter
/// writes there) first: most text is written that way, and one comparison
/// passes a whole indent. The end, and whether the whitespace was exactly
/// `expect`.
#[inline]
fn skip_ws_as(raw: &[u8], from: usize, expect: &[u8]) -> (usize, bool) {
    let end = from + expect.len();
    if raw[from..].starts_with(expect)
        && !matches!(raw.get(end), Some(b' ' | b'\t' | b'\n' | b'\r'))
    {
        return (end, true);
    }
    (skip_json_ws(raw, from), false)
}

/// The length of a string body up to its closing quote, and whether it
/// holds an escape, when the general path writes it back unchanged: its
/// escapes are those Go writes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
/// lower-case `\u00xx` for other controls, `\u2028`, `\u2029`), and it holds
/// no raw U+2028/U+2029 and no raw control character. `None` otherwise.
fn plain_string_len(s: &[u8]) -> Option<(usize, bool)> {
    let mut at = 0;
    let mut escaped = false;
    loop {
        let k = skip_plain(s, at, raw_string_special);
        match *s.get(k)? {
            b'"' => return Some((k, escaped)),
            b'\\' => {
                escaped = true;
                at = k + 2;
                match *s.get(k + 1)? {
                    b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => {}
                    b'u' => {
                        let hex = s.get(k + 2..k + 6)?;
                        if !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                            return None;
                        }
                        let v = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                        let as_go_writes = (v < 0x20 && !matches!(v, 0x08..=0x0A | 0x0C | 0x0D))
                            || v == 0x2028
                            || v == 0x2029;
                        if !as_go_writes {
                            return None;
                        }
                        at = k + 6;
                    }
                    _ => return None,
                }
            }
            0xE2 => {
                if let Some([0x80, 0xA8 | 0xA9]) = s.get(k + 1..k + 3) {
                    return None;
                }
                at = k + 1;
            }
            // A raw control character: not valid JSON.
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn general(raw: &str) -> String {
        compact_normalized(&serde_json::from_str::<Value>(raw).unwrap())
    }

    #[test]
    fn plain_values_normalise_as_the_general_path() {
        for raw in [
            r#"{"data": "QUJD"}"#,
            "{\n    \"group\": \"g\",\n    \"kind\": \"K\",\n    \"version\": \"v1\"\n}",
            r#"{"a": [1, -2, 0, true, false, null, {"b": {}}, []], "c": "x’y"}"#,
            r#"[]"#,
            r#""s""#,
            r#"123456789012345"#,
            r#"{"d": "line\none\ttab \"q\" \\ \b\f\r \u001b \u0000 \u2028 <&>"}"#,
        ] {
            assert_eq!(
                normalize_plain(raw).as_deref(),
                Some(general(raw).as_str()),
                "{raw}"
            );
        }
    }

    #[test]
    fn values_written_as_go_indents_them_are_known_as_such() {
        let indent = |compact: &str, depth: usize| {
            let mut out = Vec::new();
            crate::encoding::json::try_write_indented_at(compact.as_bytes(), depth, &mut out)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        let check = |raw: &str, depth: usize| {
            let (v, len, indented) = normalize_prefix(raw.as_bytes(), Some(depth)).unwrap();
            assert_eq!(len, raw.len(), "{raw}");
            (v, indented)
        };
        for compact in [
            r#"{"group":"g","kind":"K","version":"v1"}"#,
            r#"{"a":[1,-2,0,true,false,null,{"b":{}},[]],"c":"x’y","d":[[["deep"]]]}"#,
            r#"[]"#,
            r#"{}"#,
            r#"[{},[],{"e":[]}]"#,
            r#""s: {\"x\", [1, 2]}""#,
            r#"-12"#,
            r#"null"#,
        ] {
            for depth in [0, 3] {
                let raw = indent(compact, depth);
                assert_eq!(check(&raw, depth), (compact.to_string(), true), "{raw}");
                // Any other whitespace is still the value, but not as the
                // indenter writes it at this depth.
                let mut others = vec![indent(compact, depth + 1), compact.replace(':', ": ")];
                for (at, b) in raw.char_indices().filter(|(_, c)| c.is_ascii_whitespace()) {
                    others.push(format!("{}{}", &raw[..at], &raw[at + b.len_utf8()..]));
                    others.push(format!("{} {}", &raw[..at], &raw[at..]));
                    others.push(format!("{}\t{}", &raw[..at + 1], &raw[at + 1..]));
                }
                for c in [":", ",", "{", "[", "]", "}"] {
                    if let Some(at) = raw.find(c) {
                        others.push(format!("{} {}", &raw[..at], &raw[at..]));
                        others.push(format!("{}{c}\n{}", &raw[..at], &raw[at + 1..]));
                    }
                }
                for other in others.iter().filter(|o| **o != raw) {
                    if let Some((v, len, indented)) =
                        normalize_prefix(other.as_bytes(), Some(depth))
                    {
                        // (Inside a string it is another value.)
                        if len == other.len() && v == compact {
                            assert!(!indented, "{other:?}");
                        }
                    }
                }
            }
        }
        // Without a depth nothing is said of the whitespace.
        assert!(!normalize_prefix(b"{\"a\":1}", None).unwrap().2);
    }

    #[test]
    fn invalid_json_is_not_plain() {
        for raw in [
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{\"a\":1}}",
            "{,}",
            "{1:2}",
            "tru",
            "truex",
            "nul",
            "[true false]",
            "\"a\u{1}b\"",
            "\"abc",
            "[",
            "{\"a\":",
            "-",
            "--1",
            "1.",
            "[1]x",
            "{\"a\":[}",
            "[}",
        ] {
            assert_eq!(normalize_plain(raw), None, "{raw:?}");
        }
        // A prefix ends where its value does.
        assert_eq!(
            normalize_prefix(b"{\"a\": [1, {}]} , 2", None),
            Some(("{\"a\":[1,{}]}".to_string(), 14, false))
        );
    }

    /// The serde decoding the scanner stands in for.
    fn serde_bundle(text: &str) -> Option<(Bundle, usize)> {
        let mut it = serde_json::Deserializer::from_str(text).into_iter::<FastBundle<'_>>();
        let b = it.next()?.ok()?;
        (b.schema == SCHEMA_BUNDLE).then_some(())?;
        let end = it.byte_offset();
        Some((b.into_bundle()?, end))
    }

    #[test]
    fn the_scanner_decodes_bundles_as_serde() {
        let ok = [
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i"}"#,
            "{\n  \"schema\": \"olm.bundle\",\n  \"name\": \"b.v1\",\n  \"package\": \"p\",\n  \"image\": \"r/b:1\",\n  \"properties\": [\n    {\"type\": \"olm.package\", \"value\": {\"packageName\": \"p\", \"version\": \"1.0.0\"}},\n    {\"value\": {\"b\": 1, \"a\": [1.5, \"\\u0041\"]}, \"type\": \"x\"}\n  ],\n  \"relatedImages\": [{\"name\": \"\", \"image\": \"r/b:1\"}]\n}\n{\"next\": 1}",
            r#"{"image":"i","relatedImages":[],"properties":[],"package":"p","name":"n","schema":"olm.bundle"}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i","properties":[{"type":"t","value":null}]}"#,
        ];
        for text in ok {
            let (a, n) =
                scan_bundle(text, Some(0)).unwrap_or_else(|| panic!("not scanned: {text}"));
            let (b, m) = serde_bundle(text).unwrap();
            assert_eq!(n, m, "{text}");
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text}");
        }
        // Left to serde: another schema, unknown, duplicate, missing or
        // escaped fields, wrong types, invalid JSON.
        for text in [
            r#"{"schema":"olm.package","name":"p"}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i","extra":1}"#,
            r#"{"schema":"olm.bundle","name":"b","name":"c","package":"p","image":"i"}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p"}"#,
            r#"{"schema":"olm.bundle","name":"b\u0041","package":"p","image":"i"}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i","properties":null}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i","properties":[{"type":"t"}]}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i","properties":[{"type":"t","value":[1,]}]}"#,
            r#"{"schema":"olm.bundle","name":"b","package":"p","image":"i",}"#,
            r#"{"schema":"olm.bundle","name":1,"package":"p","image":"i"}"#,
        ] {
            assert!(scan_bundle(text, None).is_none(), "{text}");
        }
    }

    #[test]
    fn other_values_are_left_to_the_general_path() {
        for raw in [
            r#"{"b": 1, "a": 2}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": "\u0041"}"#,
            "{\"a\": \"\u{2028}\"}",
            r#"{"a": 1.0}"#,
            r#"{"a": 1e3}"#,
            r#"{"a": -0}"#,
            r#"{"a": 01}"#,
            r#"1234567890123456"#,
            r#"{"a": "\/"}"#,
            r#"{"a": "\u001B"}"#,
            r#"{"a": "\u000a"}"#,
            r#"{"a": "\u00e9"}"#,
            r#"{"a\n": 1}"#,
        ] {
            assert_eq!(normalize_plain(raw), None, "{raw}");
        }
        let deep = MAX_PLAIN_DEPTH + 1;
        let deep = format!("{}{}", "[".repeat(deep), "]".repeat(deep));
        assert_eq!(normalize_plain(&deep), None);
        // The keys of different objects are not compared.
        let raw = r#"[{"b": 1}, {"a": 2}]"#;
        assert_eq!(normalize_plain(raw).as_deref(), Some(general(raw).as_str()));
        let raw = r#"{"z": {"b": 1}, "zz": {"a": 2}}"#;
        assert_eq!(normalize_plain(raw).as_deref(), Some(general(raw).as_str()));
    }
}
