//! Go `encoding/json` byte compatibility: indentation, string escaping,
//! float formatting and the key-sorted normalisation opm applies on load.

use serde_json::Value;

/// Re-indent one JSON document the way Go's `json.Encoder` with
/// `SetIndent("", "    ")` writes it, followed by `\n`. Tokens are kept
/// verbatim (like a `json.RawMessage`); only whitespace changes.
pub fn write_indented(_json: &[u8], _out: &mut Vec<u8>) {
    todo!("encoding::json::write_indented")
}

/// Write `s` as a Go JSON string literal (HTML escaping off, U+2028/U+2029
/// escaped, invalid UTF-8 impossible here since `s` is a str).
pub fn write_string(_s: &str, _out: &mut Vec<u8>) {
    todo!("encoding::json::write_string")
}

/// Write a serde_json value compactly as Go writes a decoded
/// `map[string]interface{}`: keys byte-sorted, numbers through float64
/// (`json.Unmarshal` into interface{}), HTML escaping off.
pub fn write_normalized(_v: &Value, _out: &mut Vec<u8>) {
    todo!("encoding::json::write_normalized")
}

/// Write a value as Go's `json.Marshal` does for a Kubernetes unstructured
/// object: keys sorted, integers kept as integers, other numbers as float64,
/// HTML escaping **on**.
pub fn write_marshal_html(_v: &Value, _out: &mut Vec<u8>) {
    todo!("encoding::json::write_marshal_html")
}

/// Like [`write_indented`] but rejecting invalid JSON with Go's message.
pub fn try_write_indented(_json: &[u8], _out: &mut Vec<u8>) -> Result<(), JsonError> {
    todo!("encoding::json::try_write_indented")
}

pub fn write_string_html(_s: &str, _out: &mut Vec<u8>) {
    todo!("encoding::json::write_string_html")
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);
