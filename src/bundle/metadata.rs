//! The `metadata/` half of a bundle: the annotations, dependencies and
//! properties files (spec §4.4), and the `olm.properties` CSV annotation.
//!
//! Every file is tried as each of the three kinds; the first file that
//! decodes to a non-empty result of a kind wins it. Values are kept as Go's
//! `json.RawMessage` keeps them: the file's own text for JSON files, the
//! YAML→JSON conversion (keys sorted, HTML escaped) for YAML files.

use std::path::Path;

use super::gojson::{self, At, Raw};

/// The three bundle annotations Go's `registry.Annotations` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    pub package: String,
    pub channels: String,
    pub default_channel: String,
}

/// A `{type, value}` entry of a dependencies or properties file. `value` is
/// the raw JSON text, `None` when the key is missing (Go's nil RawMessage,
/// which is written as `null` and fails to parse as anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProperty {
    pub typ: String,
    pub value: Option<String>,
}

impl RawProperty {
    pub fn new(typ: &str, value: String) -> RawProperty {
        RawProperty {
            typ: typ.to_string(),
            value: Some(value),
        }
    }

    /// Go's `Property.String()`, the key `propertySet` de-duplicates on.
    fn dedup_key(&self) -> String {
        format!(
            "type: {}, value: {}",
            self.typ,
            self.value.as_deref().unwrap_or_default()
        )
    }
}

/// What `metadata/` holds.
#[derive(Debug, Default)]
pub struct Metadata {
    pub annotations: Option<Annotations>,
    pub dependencies: Vec<RawProperty>,
    pub properties: Vec<RawProperty>,
}

const PACKAGE_KEY: &str = "operators.operatorframework.io.bundle.package.v1";
const CHANNELS_KEY: &str = "operators.operatorframework.io.bundle.channels.v1";
const DEFAULT_CHANNEL_KEY: &str = "operators.operatorframework.io.bundle.channel.default.v1";

/// Read `metadata/` as Go's `bundleParser.addMetadata` does. Unreadable or
/// undecodable files are silently not used (Go ignores their errors).
pub fn read(dir: &Path) -> Result<Metadata, String> {
    let mut md = Metadata::default();
    let mut deps_found = false;
    let mut props_found = false;
    for path in super::sorted_entries(dir)? {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Some(Ok(json)) = super::first_document_json(&bytes) else {
            continue;
        };
        let Ok(raw) = gojson::parse(&json) else {
            continue;
        };
        if md.annotations.is_none()
            && let Ok(a) = annotations_file(raw)
            && a != Annotations::default()
        {
            md.annotations = Some(a);
        }
        if !deps_found
            && let Ok(d) = property_list(raw, "dependencies")
            && !d.is_empty()
        {
            md.dependencies = d;
            deps_found = true;
        }
        if !props_found
            && let Ok(p) = property_list(raw, "properties")
            && !p.is_empty()
        {
            md.properties = p;
            props_found = true;
        }
    }
    Ok(md)
}

/// Decode a `registry.AnnotationsFile`.
fn annotations_file(raw: Raw<'_>) -> Result<Annotations, gojson::TypeError> {
    let top = gojson::fields(
        raw,
        &At::value(),
        "registry.AnnotationsFile",
        &["annotations"],
    )?;
    let Some(inner) = top.and_then(|f| f[0]) else {
        return Ok(Annotations::default());
    };
    let at = At::root("AnnotationsFile")
        .field("annotations")
        .within("Annotations");
    let keys = [PACKAGE_KEY, CHANNELS_KEY, DEFAULT_CHANNEL_KEY];
    let f = gojson::fields(inner, &at, "registry.Annotations", &keys)?.unwrap_or_default();
    let get = |i: usize| match f.get(i).copied().flatten() {
        Some(v) => gojson::string(v, &at.field(keys[i])),
        None => Ok(String::new()),
    };
    Ok(Annotations {
        package: get(0)?,
        channels: get(1)?,
        default_channel: get(2)?,
    })
}

/// Decode a `registry.DependenciesFile` / `registry.PropertiesFile`: the
/// `{type, value}` list under `key`.
fn property_list(raw: Raw<'_>, key: &'static str) -> Result<Vec<RawProperty>, gojson::TypeError> {
    let top = gojson::fields(raw, &At::value(), "registry file", &[key])?;
    let Some(list) = top.and_then(|f| f[0]) else {
        return Ok(Vec::new());
    };
    let at = At::root("file").field(key);
    gojson::slice(list, &at, "[]registry.Property")?
        .into_iter()
        .map(|item| {
            let (typ, value, err) = type_and_value(item, &at.within("Property"));
            match err {
                Some(e) => Err(e),
                None => Ok(RawProperty { typ, value }),
            }
        })
        .collect()
}

/// One `{type, value}` element: Go keeps decoding after a type error, so
/// the partial result comes back along with the first error.
fn type_and_value(item: Raw<'_>, at: &At) -> (String, Option<String>, Option<gojson::TypeError>) {
    let f = match gojson::fields(item, at, "registry.Property", &["type", "value"]) {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return (String::new(), None, Some(e)),
    };
    let (typ, err) = match f.first().copied().flatten() {
        None => (String::new(), None),
        Some(v) => match gojson::string(v, &at.field("type")) {
            Ok(s) => (s, None),
            Err(e) => (String::new(), Some(e)),
        },
    };
    let value = f.get(1).copied().flatten().map(|v| v.text().to_string());
    (typ, value, err)
}

/// The CSV's `olm.properties` annotation, a JSON array of `{type, value}`.
/// Go only warns when it does not decode, keeping whatever elements it
/// filled before and after a type error (spec §4.4).
pub fn csv_annotation_properties(text: &str) -> Vec<RawProperty> {
    let Ok(raw) = gojson::parse(text) else {
        return Vec::new();
    };
    let Some(items) = raw.items() else {
        return Vec::new();
    };
    let at = At::value().within("Property");
    items
        .into_iter()
        .map(|item| {
            let (typ, value, _) = type_and_value(item, &at);
            RawProperty { typ, value }
        })
        .collect()
}

/// Go's `propertySet`: drop later duplicates, keep order.
pub fn property_set(props: Vec<RawProperty>) -> Vec<RawProperty> {
    let mut seen = std::collections::HashSet::new();
    props
        .into_iter()
        .filter(|p| seen.insert(p.dedup_key()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_need_one_known_key() {
        let raw = gojson::parse(r#"{"annotations":{"Operators.operatorframework.io.bundle.package.v1":"foo","other":1}}"#).unwrap();
        assert_eq!(annotations_file(raw).unwrap().package, "foo");
        let raw = gojson::parse(
            r#"{"annotations":{"operators.operatorframework.io.bundle.package.v1":1}}"#,
        )
        .unwrap();
        assert!(annotations_file(raw).is_err());
    }

    #[test]
    fn raw_values_keep_their_text() {
        let raw = gojson::parse(r#"{"dependencies":[{"type":"olm.label","value": { "label" : "x" }},{"type":"olm.gvk"},null]}"#).unwrap();
        let d = property_list(raw, "dependencies").unwrap();
        assert_eq!(d[0].value.as_deref(), Some(r#"{ "label" : "x" }"#));
        assert_eq!(d[1].value, None);
        assert_eq!(
            d[2],
            RawProperty {
                typ: String::new(),
                value: None
            }
        );
    }

    #[test]
    fn annotation_properties_are_partial_on_type_errors() {
        let p = csv_annotation_properties(
            r#"[{"type": 1, "value": "a"}, "x", {"type": "t", "value": {"k": 1}}]"#,
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].typ, "");
        assert_eq!(p[0].value.as_deref(), Some(r#""a""#));
        assert_eq!(p[2].value.as_deref(), Some(r#"{"k": 1}"#));
        assert!(csv_annotation_properties("not json").is_empty());
        assert!(csv_annotation_properties(r#"{"type":"x"}"#).is_empty());
    }

    #[test]
    fn property_set_drops_exact_duplicates() {
        let p = property_set(vec![
            RawProperty::new("a", "1".into()),
            RawProperty::new("a", "1".into()),
            RawProperty::new("a", " 1".into()),
        ]);
        assert_eq!(p.len(), 2);
    }
}
