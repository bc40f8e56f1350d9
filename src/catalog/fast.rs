//! A fast path for the JSON catalog files most catalogs are made of.
//!
//! The general loader ([`super::load`]) decodes every document into a
//! `serde_json::Value` tree, then into its typed blob, then writes each
//! property value back out in Go's normalised form: for a bundle that is
//! two copies and a tree of allocations per property, most of them the
//! megabytes of base64 of its `olm.bundle.object`s. Here a bundle document
//! is decoded straight into borrowed fields, and each property value is
//! normalised by one copying pass over its text when that pass can produce
//! exactly what the general path would (no escapes, keys already in order,
//! plain integers); other documents go through the general decoding.
//!
//! Anything unexpected (a syntax error, an unknown or duplicate field, a
//! value of another type, a document too deep) gives up on the whole file,
//! which the general loader then reads, so that errors, their lines and
//! Go's quirks come from one place.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::model::{Bundle, Property, RelatedImage, SCHEMA_BUNDLE, compact_normalized};

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

/// Decode the document `text` starts with (no leading whitespace): the
/// document and its length, or `None` when it is not plain valid JSON.
pub(super) fn document(text: &str) -> Option<(Doc<'_>, usize)> {
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
                None => compact_normalized(&serde_json::from_str::<Value>(raw).ok()?),
            };
            properties.push(Property {
                typ: p.typ.to_string(),
                value,
            });
        }
        Some(Bundle {
            schema: self.schema.to_string(),
            name: self.name.to_string(),
            package: self.package.to_string(),
            image: self.image.to_string(),
            properties,
            related_images: self
                .related_images
                .into_iter()
                .map(|r| RelatedImage {
                    name: r.name.to_string(),
                    image: r.image.to_string(),
                })
                .collect(),
            ..Default::default()
        })
    }
}

/// Nesting that [`normalize_plain`] leaves to the general path.
const MAX_PLAIN_DEPTH: usize = 64;

/// The normalised compact form of valid JSON text (what the general path
/// writes for its parse: compact, object keys sorted, Go's string escapes,
/// numbers as Go prints a float64) when it is the text with whitespace
/// removed: strings escaped as Go escapes them (keys not escaped at all),
/// no raw U+2028/U+2029, object keys strictly increasing, integers of at
/// most 15 digits, nesting within [`MAX_PLAIN_DEPTH`]. `None` otherwise.
pub(super) fn normalize_plain(raw: &str) -> Option<String> {
    let raw = raw.as_bytes();
    /// For each open object: where its last key is in the output, and
    /// whether the next string is a key.
    struct Object {
        last: Option<(usize, usize)>,
        expect_key: bool,
    }
    let mut out = Vec::with_capacity(raw.len());
    // `None` for an open array.
    let mut open: Vec<Option<Object>> = Vec::new();
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let (len, escaped) = plain_string_len(&raw[i + 1..])?;
                let end = i + 1 + len;
                let start = out.len();
                out.extend_from_slice(&raw[i..=end]);
                if let Some(Some(obj)) = open.last_mut()
                    && obj.expect_key
                {
                    // Keys are ordered by their decoded text: compare the
                    // raw text only when it is the decoded text.
                    if escaped {
                        return None;
                    }
                    let key = (start + 1, out.len() - 1);
                    if let Some((a, e)) = obj.last
                        && out[a..e] >= out[key.0..key.1]
                    {
                        return None;
                    }
                    obj.last = Some(key);
                    obj.expect_key = false;
                }
                i = end + 1;
            }
            b'{' | b'[' => {
                // Deeper values go to serde (limit 128), and past that the
                // file to the general path, which has Go's depth limit.
                if open.len() >= MAX_PLAIN_DEPTH {
                    return None;
                }
                open.push((b == b'{').then_some(Object {
                    last: None,
                    expect_key: true,
                }));
                out.push(b);
                i += 1;
            }
            b'}' | b']' => {
                open.pop();
                out.push(b);
                i += 1;
            }
            b',' => {
                if let Some(Some(obj)) = open.last_mut() {
                    obj.expect_key = true;
                }
                out.push(b);
                i += 1;
            }
            b':' => {
                out.push(b);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let len = raw[i..]
                    .iter()
                    .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(raw.len() - i);
                let token = &raw[i..i + len];
                let digits = token.strip_prefix(b"-").unwrap_or(token);
                let plain = !digits.is_empty()
                    && digits.len() <= 15
                    && digits.iter().all(u8::is_ascii_digit)
                    && (digits[0] != b'0' || (digits.len() == 1 && token.len() == 1));
                if !plain {
                    return None;
                }
                out.extend_from_slice(token);
                i += len;
            }
            b't' | b'f' | b'n' => {
                let len = raw[i..]
                    .iter()
                    .position(|c| !c.is_ascii_lowercase())
                    .unwrap_or(raw.len() - i);
                out.extend_from_slice(&raw[i..i + len]);
                i += len;
            }
            _ => return None,
        }
    }
    // Kept for the whole run (validate keeps property values): small ones
    // are copied to an exact allocation (shrinking in place leaves
    // fragments behind: more memory, measured); in large ones (bundle
    // objects) the whitespace left out is a sliver.
    if out.len() < 4096 && out.capacity() > out.len() {
        out = out.as_slice().to_vec();
    }
    // SAFETY: `raw` is the text of a `str` (a `RawValue`), and `out` holds
    // whole strings and ASCII tokens of it, so whole UTF-8 sequences only.
    // Checking it again costs a pass over every property value.
    Some(unsafe { String::from_utf8_unchecked(out) })
}

/// The length of a string body up to its closing quote, and whether it
/// holds an escape, when the general path writes it back unchanged: its
/// escapes are those Go writes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
/// lower-case `\u00xx` for other controls, `\u2028`, `\u2029`) and it holds
/// no raw U+2028/U+2029. `None` otherwise.
fn plain_string_len(s: &[u8]) -> Option<(usize, bool)> {
    let mut at = 0;
    let mut escaped = false;
    loop {
        let k = at + memchr::memchr3(b'"', b'\\', 0xE2, &s[at..])?;
        match s[k] {
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
            _ => {
                if let Some([0x80, 0xA8 | 0xA9]) = s.get(k + 1..k + 3) {
                    return None;
                }
                at = k + 1;
            }
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
