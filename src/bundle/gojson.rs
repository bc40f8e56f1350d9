//! Go `encoding/json` decoding semantics over raw JSON text.
//!
//! Go opm reads bundle metadata into typed structs and keeps property values
//! as `json.RawMessage`: the exact bytes of the value in the source text,
//! whitespace and escapes included. Those bytes are both the output and the
//! sort key (spec §4.4), so we decode from the text itself ([`Raw`] wraps a
//! `serde_json::value::RawValue`) instead of going through
//! `serde_json::Value`, which would lose them. The struct helpers reproduce
//! what users can observe of Go's decoder: field names match exactly or
//! case-insensitively, a later duplicate key wins, `null` leaves a field as
//! it was, unknown keys are ignored, and a type mismatch is reported in Go's
//! words.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// The JSON type of a value, named as Go names it in `UnmarshalTypeError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl Kind {
    pub fn go_name(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "bool",
            Kind::Null => "null",
        }
    }
}

/// One JSON value as raw text (always valid JSON: it comes from serde_json).
#[derive(Clone, Copy)]
pub struct Raw<'a>(&'a RawValue);

impl fmt::Debug for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Parse one JSON document, keeping its text. Errors are serde_json's (the
/// callers only feed text that serde_json or our own encoder produced).
pub fn parse(text: &str) -> Result<Raw<'_>, String> {
    serde_json::from_str::<&RawValue>(text)
        .map(Raw)
        .map_err(|e| e.to_string())
}

/// An object's entries in document order, duplicates kept.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Entries<'a>, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'a> Raw<'a> {
    pub fn text(self) -> &'a str {
        self.0.get()
    }

    pub fn kind(self) -> Kind {
        match self.text().as_bytes().first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    pub fn is_null(self) -> bool {
        self.kind() == Kind::Null
    }

    /// The entries of an object in document order (`None` if not an object).
    pub fn entries(self) -> Option<Vec<(String, Raw<'a>)>> {
        if self.kind() != Kind::Object {
            return None;
        }
        let e: Entries<'a> = serde_json::from_str(self.text()).ok()?;
        Some(e.0.into_iter().map(|(k, v)| (k, Raw(v))).collect())
    }

    /// The items of an array (`None` if not an array).
    pub fn items(self) -> Option<Vec<Raw<'a>>> {
        if self.kind() != Kind::Array {
            return None;
        }
        let items: Vec<&'a RawValue> = serde_json::from_str(self.text()).ok()?;
        Some(items.into_iter().map(Raw).collect())
    }

    /// The string value (`None` if not a string).
    pub fn str(self) -> Option<String> {
        if self.kind() != Kind::String {
            return None;
        }
        serde_json::from_str(self.text()).ok()
    }

    /// Exact-key lookup with Go map semantics (a later duplicate wins), as
    /// when Go decodes into `map[string]*json.RawMessage`.
    pub fn get(self, key: &str) -> Option<Raw<'a>> {
        self.entries()?
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// Go's `*json.UnmarshalTypeError`, worded as `err.Error()` words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    /// `string`, `number`, `object`… or `number 1.5` for a bad integer.
    pub value: String,
    /// The Go type name, e.g. `string`, `[]v1alpha1.CRDDescription`.
    pub go_type: String,
    /// `Struct.json.path` of the field, empty for a top-level value.
    pub field: String,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(
                f,
                "json: cannot unmarshal {} into Go value of type {}",
                self.value, self.go_type
            )
        } else {
            write!(
                f,
                "json: cannot unmarshal {} into Go struct field {} of type {}",
                self.value, self.field, self.go_type
            )
        }
    }
}

/// Why a raw value did not decode into a Go type: a type mismatch, or a
/// nil `json.RawMessage` (Go's "unexpected end of JSON input").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Type(TypeError),
    Eof,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Type(e) => e.fmt(f),
            DecodeError::Eof => f.write_str("unexpected end of JSON input"),
        }
    }
}

impl From<TypeError> for DecodeError {
    fn from(e: TypeError) -> Self {
        DecodeError::Type(e)
    }
}

/// Where a value sits while decoding, for error messages: the innermost Go
/// struct type being filled and the JSON path of field names from the root
/// (classic `encoding/json` `addErrorContext`).
#[derive(Debug, Clone)]
pub struct At {
    strukt: &'static str,
    path: String,
    in_struct: bool,
}

impl At {
    /// A top-level value (errors say `Go value of type …`).
    pub fn value() -> At {
        At {
            strukt: "",
            path: String::new(),
            in_struct: false,
        }
    }

    /// The top of a struct of Go type `name` (e.g. `ClusterServiceVersion`).
    pub fn root(name: &'static str) -> At {
        At {
            strukt: name,
            path: String::new(),
            in_struct: true,
        }
    }

    /// The field `name` below this place.
    pub fn field(&self, name: &str) -> At {
        let path = if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        };
        At {
            strukt: self.strukt,
            path,
            in_struct: true,
        }
    }

    /// Entering a value of struct type `name` at this place.
    pub fn within(&self, name: &'static str) -> At {
        At {
            strukt: name,
            path: self.path.clone(),
            in_struct: self.in_struct,
        }
    }

    pub fn mismatch(&self, v: Raw<'_>, go_type: &str) -> TypeError {
        let field = if self.in_struct && !self.path.is_empty() {
            format!("{}.{}", self.strukt, self.path)
        } else {
            String::new()
        };
        TypeError {
            value: v.kind().go_name().to_string(),
            go_type: go_type.to_string(),
            field,
        }
    }
}

/// Decode into a Go `string`: `null` leaves it empty.
pub fn string(v: Raw<'_>, at: &At) -> Result<String, TypeError> {
    match v.kind() {
        Kind::Null => Ok(String::new()),
        Kind::String => Ok(v.str().unwrap_or_default()),
        _ => Err(at.mismatch(v, "string")),
    }
}

/// Decode into a Go `bool`: `null` leaves it false.
pub fn boolean(v: Raw<'_>, at: &At) -> Result<bool, TypeError> {
    match v.text() {
        "null" | "false" => Ok(false),
        "true" => Ok(true),
        _ => Err(at.mismatch(v, "bool")),
    }
}

/// Decode into a Go `int32`: fractions and out-of-range numbers fail with
/// Go's `number <literal>` wording.
pub fn int32(v: Raw<'_>, at: &At) -> Result<i32, TypeError> {
    match v.kind() {
        Kind::Null => Ok(0),
        Kind::Number => v.text().parse::<i32>().map_err(|_| TypeError {
            value: format!("number {}", v.text()),
            ..at.mismatch(v, "int32")
        }),
        _ => Err(at.mismatch(v, "int32")),
    }
}

/// Decode into a Go slice: `null` is an empty (nil) slice.
pub fn slice<'a>(v: Raw<'a>, at: &At, go_type: &str) -> Result<Vec<Raw<'a>>, TypeError> {
    match v.kind() {
        Kind::Null => Ok(Vec::new()),
        _ => v.items().ok_or_else(|| at.mismatch(v, go_type)),
    }
}

/// Decode into a Go struct whose JSON field names are `fields`: returns the
/// raw value assigned to each field (`None` when absent; a `null` is kept,
/// as a `json.RawMessage` field keeps it), or `None` for a `null` struct. Keys match exactly, else ASCII case-insensitively
/// (Go's rule for the names that occur here); a later duplicate wins.
pub fn fields<'a>(
    v: Raw<'a>,
    at: &At,
    go_type: &str,
    fields: &[&str],
) -> Result<Option<Vec<Option<Raw<'a>>>>, TypeError> {
    if v.is_null() {
        return Ok(None);
    }
    let entries = v.entries().ok_or_else(|| at.mismatch(v, go_type))?;
    let mut out = vec![None; fields.len()];
    for (k, val) in entries {
        let hit = fields
            .iter()
            .position(|f| *f == k)
            .or_else(|| fields.iter().position(|f| f.eq_ignore_ascii_case(&k)));
        if let Some(i) = hit {
            out[i] = Some(val);
        }
    }
    Ok(Some(out))
}

/// Decode into a Go `map[string]string`: `null` is an empty map; a
/// non-string value fails (Go keeps decoding, but reports the error).
pub fn string_map(v: Raw<'_>, at: &At) -> Result<Vec<(String, String)>, TypeError> {
    if v.is_null() {
        return Ok(Vec::new());
    }
    let entries = v
        .entries()
        .ok_or_else(|| at.mismatch(v, "map[string]string"))?;
    let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len());
    for (k, val) in entries {
        // Go's error context does not name map keys.
        let s = string(val, at)?;
        match out.iter_mut().find(|(ek, _)| *ek == k) {
            Some(slot) => slot.1 = s,
            None => out.push((k, s)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Go's `json.Compact`: drop insignificant whitespace, keep every token
/// (escapes, number spelling, key order) as written. `text` is valid JSON.
pub fn compact(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
            out.extend_from_slice(&b[start..i.min(b.len())]);
            continue;
        }
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            out.push(c);
        }
        i += 1;
    }
    // Only ASCII whitespace outside strings was removed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_document_order_and_duplicates() {
        let r = parse(r#"{"b": 1, "a": {"x" : [1, 2]}, "b": "two"}"#).unwrap();
        let e = r.entries().unwrap();
        let keys: Vec<_> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        assert_eq!(e[1].1.text(), r#"{"x" : [1, 2]}"#);
        assert_eq!(r.get("b").unwrap().text(), r#""two""#);
    }

    #[test]
    fn struct_fields_match_case_insensitively_and_skip_null() {
        let r = parse(r#"{"Type": "a", "value": {"k": 1}, "other": 3}"#).unwrap();
        let f = fields(
            r,
            &At::root("Property"),
            "registry.Property",
            &["type", "value"],
        )
        .unwrap()
        .unwrap();
        assert_eq!(f[0].unwrap().text(), r#""a""#);
        assert_eq!(f[1].unwrap().text(), r#"{"k": 1}"#);
    }

    #[test]
    fn type_errors_read_like_go() {
        let r = parse(r#"{"version": 1}"#).unwrap();
        let at = At::root("Package").field("version");
        let e = string(r.get("version").unwrap(), &at).unwrap_err();
        assert_eq!(
            e.to_string(),
            "json: cannot unmarshal number into Go struct field Package.version of type string"
        );
        let top = string(r, &At::value()).unwrap_err();
        assert_eq!(
            top.to_string(),
            "json: cannot unmarshal object into Go value of type string"
        );
        let e = int32(parse("1.5").unwrap(), &At::root("X").field("port")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "json: cannot unmarshal number 1.5 into Go struct field X.port of type int32"
        );
    }

    #[test]
    fn compact_keeps_tokens() {
        assert_eq!(
            compact("{ \"a b\" : [1.0, \"x\\\" y\" ,\n true ] }"),
            "{\"a b\":[1.0,\"x\\\" y\",true]}"
        );
        assert_eq!(compact(r#""\u003c ""#), r#""\u003c ""#);
    }
}
