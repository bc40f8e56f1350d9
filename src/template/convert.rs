//! A rendered catalog back into a template (`opm alpha convert-template`):
//! `basic` reduces every bundle to `{schema, image}`, `substitutes` keeps
//! every blob and adds an empty `substitutions` list. Blobs keep their
//! input order.
//!
//! The bytes follow Go's converter: each blob as Go's `Meta` holds it
//! (keys sorted, numbers through float64), the whole template through
//! `json.MarshalIndent` with a 4-space indent (which escapes `<`, `>`, `&`
//! in strings), and YAML through `JSONToYAML` behind a `---` line.

use super::Kind;
use crate::catalog::load::{for_each_document, meta_of};
use crate::catalog::write::Format;
use crate::encoding::json::{try_write_indented, write_normalized, write_string};

/// A conversion failure, with the 1-based line of the offending document.
#[derive(Debug)]
pub struct ConvertError {
    pub message: String,
    pub line: Option<usize>,
}

/// Convert the FBC stream `text` into a template of `kind`, as the bytes
/// Go prints (including the final newline of `fmt.Println`).
pub fn convert(text: &str, kind: Kind, format: Format) -> Result<Vec<u8>, ConvertError> {
    let mut compact = Vec::new();
    compact.extend_from_slice(b"{\"schema\":");
    write_string(kind.schema(), &mut compact);
    compact.extend_from_slice(b",\"entries\":");
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for_each_document(text, |doc| {
        let line = doc.line;
        let fail = |message: String| ConvertError {
            message,
            line: Some(line),
        };
        let value = doc.value.map_err(fail)?;
        let meta = meta_of(&value, doc.raw).map_err(fail)?;
        let mut blob = Vec::new();
        if kind == Kind::Basic && meta.schema == crate::catalog::SCHEMA_BUNDLE {
            let b = crate::catalog::decode_bundle(&value)
                .map_err(|e| fail(format!("parse bundle: {e}")))?;
            blob.extend_from_slice(b"{\"schema\":");
            write_string(&b.schema, &mut blob);
            blob.extend_from_slice(b",\"image\":");
            write_string(&b.image, &mut blob);
            blob.push(b'}');
        } else {
            write_normalized(&value, &mut blob);
        }
        entries.push(blob);
        Ok(())
    })?;
    if entries.is_empty() {
        compact.extend_from_slice(b"null");
    } else {
        compact.push(b'[');
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                compact.push(b',');
            }
            compact.extend_from_slice(e);
        }
        compact.push(b']');
    }
    if kind == Kind::Substitutes {
        compact.extend_from_slice(b",\"substitutions\":[]");
    }
    compact.push(b'}');
    let compact = escape_html(&compact);

    let plain = |message: String| ConvertError {
        message,
        line: None,
    };
    let mut out = Vec::new();
    match format {
        Format::Json => {
            try_write_indented(&compact, &mut out).map_err(|e| plain(e.to_string()))?;
        }
        Format::Yaml => {
            out.extend_from_slice(b"---\n");
            crate::encoding::yaml::json_to_yaml(&compact, &mut out)
                .map_err(|e| plain(e.to_string()))?;
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// `json.Marshal` re-compacts a `MarshalJSON` result with HTML escaping;
/// these three bytes only occur inside strings in JSON.
fn escape_html(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    for &b in json {
        match b {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_reduces_bundles_and_escapes_html() {
        let fbc = "{\"schema\":\"olm.package\",\"name\":\"p\",\"description\":\"a<b\"}\n{\"schema\":\"olm.bundle\",\"name\":\"b\",\"package\":\"p\",\"image\":\"img\",\"properties\":[]}\n";
        let out = convert(fbc, Kind::Basic, Format::Json).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("{\n    \"schema\": \"olm.template.basic\",\n    \"entries\": ["));
        assert!(s.contains("\"a\\u003cb\""));
        assert!(s.contains(
            "{\n            \"schema\": \"olm.bundle\",\n            \"image\": \"img\"\n        }"
        ));
        assert!(s.ends_with("}\n"));
    }

    #[test]
    fn substitutes_yaml_ends_with_an_empty_line() {
        let out = convert(
            "schema: olm.package\nname: p\n",
            Kind::Substitutes,
            Format::Yaml,
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("---\nentries:\n"));
        assert!(s.ends_with("substitutions: []\n\n"));
    }
}
