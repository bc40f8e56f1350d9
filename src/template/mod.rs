//! Catalog templates (Go opm's `alpha/template`): small documents a
//! maintainer keeps per package, expanded into a file-based catalog by
//! `opm alpha render-template`, and the reverse conversion used by
//! `opm alpha convert-template`.
//!
//! Three kinds exist, each in its own module: `basic` (FBC blobs where a
//! bundle may be given by its image only), `semver` (bundle images sorted
//! into generated channels) and `substitutes` (FBC plus `olm.substitutesFor`
//! style replacements). Bundle images are rendered through a
//! [`BundleRenderer`] supplied by the caller, so this module does no I/O of
//! its own and never prints.
//!
//! Errors carry Go's text (the command prefixes `rendering template: `) and,
//! beyond Go, a piece of the template text to point at, which the command
//! turns into `file:line`.

pub mod basic;
pub mod convert;
pub mod semver;
pub mod substitutes;

use serde_json::{Map, Value};

use crate::catalog::DeclarativeConfig;
use crate::catalog::load::{for_each_document, go_quote};
pub(crate) use crate::catalog::model::json_kind;

/// The three template kinds, in Go's sorted type order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Basic,
    Semver,
    Substitutes,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Basic, Kind::Semver, Kind::Substitutes];

    /// The `TYPE` argument naming this kind (the schema's last segment).
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Basic => "basic",
            Kind::Semver => "semver",
            Kind::Substitutes => "substitutes",
        }
    }

    /// The `schema` a template of this kind declares.
    pub fn schema(self) -> &'static str {
        match self {
            Kind::Basic => basic::SCHEMA,
            Kind::Semver => semver::SCHEMA,
            Kind::Substitutes => substitutes::SCHEMA,
        }
    }

    pub fn from_type(t: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.type_name() == t)
    }

    pub fn from_schema(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.schema() == s)
    }

    /// Go's `%v` of the supported type list: `[basic semver substitutes]`.
    pub fn supported_types() -> String {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.type_name()).collect();
        format!("[{}]", names.join(" "))
    }
}

/// A template failure: Go's message and, beyond Go, a string of the
/// template (an image, a bundle name, a key) whose first line is where the
/// offending entry is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub anchor: Option<String>,
}

impl TemplateError {
    pub fn new(message: impl Into<String>) -> Self {
        TemplateError {
            message: message.into(),
            anchor: None,
        }
    }

    pub fn at(mut self, anchor: impl Into<String>) -> Self {
        if self.anchor.is_none() {
            self.anchor = Some(anchor.into());
        }
        self
    }

    /// Prefix the message (Go wraps errors with `fmt.Errorf("...: %v")`).
    pub fn context(mut self, prefix: impl std::fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl From<String> for TemplateError {
    fn from(message: String) -> Self {
        TemplateError::new(message)
    }
}

/// Renders a bundle image into a config (Go's `BundleRenderer`). The error
/// is Go's full `render reference "<ref>": ...` text.
pub trait BundleRenderer: Sync {
    /// Called once with every image a template names, before any
    /// [`BundleRenderer::render`], so that they can be fetched together.
    fn prefetch(&self, _images: &[String]) {}
    fn render(&self, image: &str) -> Result<DeclarativeConfig, String>;
}

/// Render a template of the given kind from its text.
pub fn render(
    kind: Kind,
    text: &str,
    renderer: &dyn BundleRenderer,
) -> Result<DeclarativeConfig, TemplateError> {
    match kind {
        Kind::Basic => basic::render(text, renderer),
        Kind::Semver => semver::render(text, renderer),
        Kind::Substitutes => substitutes::render(text, renderer),
    }
}

/// The kind named by the first document's `schema` (Go's `detectSchema`:
/// the key is matched case-insensitively, as `encoding/json` does).
pub fn detect(text: &str) -> Result<Kind, TemplateError> {
    let doc = first_document(text).map_err(|e| format!("decoding template input: {e}"))?;
    let schema = match &doc {
        Value::Object(o) => match field(o, "schema") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(TemplateError::new(format!(
                    "unmarshalling template schema: json: cannot unmarshal {} into Go struct field .schema of type string",
                    json_kind(other)
                )));
            }
        },
        Value::Null => String::new(),
        other => {
            return Err(TemplateError::new(format!(
                "unmarshalling template schema: json: cannot unmarshal {} into Go value of type struct {{ Schema string \"json:\\\"schema\\\"\" }}",
                json_kind(other)
            )));
        }
    };
    if schema.is_empty() {
        return Err("template input missing required 'schema' field"
            .to_string()
            .into());
    }
    Kind::from_schema(&schema).ok_or_else(|| {
        TemplateError::new(format!("unknown template schema: {schema}")).at(schema.clone())
    })
}

/// The first document of a YAML or JSON stream, as k8s'
/// `NewYAMLOrJSONDecoder(...).Decode` reads it; Go's error text otherwise
/// (`EOF` for an empty stream).
pub fn first_document(text: &str) -> Result<Value, String> {
    let mut first: Option<Result<Value, String>> = None;
    let _ = for_each_document(text, |doc| {
        first = Some(doc.value);
        Err(())
    });
    first.unwrap_or_else(|| Err("EOF".to_string()))
}

/// A struct field as Go's `encoding/json` finds it: the exact key, else
/// the first key equal under case folding.
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A string struct field (absent or `null`: empty).
fn string_field(
    obj: &Map<String, Value>,
    name: &str,
    owner: &str,
) -> Result<String, TemplateError> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(TemplateError::new(format!(
            "json: cannot unmarshal {} into Go struct field {owner}.{name} of type string",
            json_kind(other)
        ))
        .at(name.to_string())),
    }
}

/// The template's entries (Go `[]*declcfg.Meta`) loaded as a config, as
/// `declcfg.LoadSlice` does: every blob decoded by its schema, others kept.
/// Decoding errors (Go's `json.Unmarshal` of the template) get
/// `decode_prefix`, blob errors (`LoadSlice`) `load_prefix`.
fn load_entries(
    obj: &Map<String, Value>,
    owner: &str,
    decode_prefix: &str,
    load_prefix: Option<&str>,
) -> Result<DeclarativeConfig, TemplateError> {
    let entries = match field(obj, "entries") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => {
            return Err(TemplateError::new(format!(
                "{decode_prefix}: json: cannot unmarshal {} into Go struct field {owner}.entries of type []*declcfg.Meta",
                json_kind(other)
            ))
            .at("entries"));
        }
    };
    let mut cfg = DeclarativeConfig::default();
    let at = |e: &Value, err: TemplateError| match entry_anchor(e) {
        Some(a) => err.at(a),
        None => err,
    };
    // Go decodes every entry (Meta.UnmarshalJSON) before loading any.
    for e in &entries {
        if let Err(m) = crate::catalog::load::meta_of(e, None) {
            return Err(at(e, TemplateError::new(format!("{decode_prefix}: {m}"))));
        }
    }
    for e in &entries {
        let mut raw = Vec::new();
        crate::encoding::json::write_normalized(e, &mut raw);
        crate::catalog::load::add_value(
            &mut cfg,
            e.clone(),
            Some(&raw),
            crate::catalog::LoadOptions {
                keep_objects: true,
                ..Default::default()
            },
        )
        .map_err(|m| {
            let m = match load_prefix {
                Some(p) => format!("{p}: {m}"),
                None => m,
            };
            at(e, TemplateError::new(m))
        })?;
    }
    Ok(cfg)
}

/// A string that identifies an entry in the template text: its name, or
/// its image.
fn entry_anchor(e: &Value) -> Option<String> {
    let o = e.as_object()?;
    ["name", "image"]
        .iter()
        .find_map(|k| field(o, k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Check the template's `schema` against the kind's (Go's wording).
fn check_schema(obj: &Map<String, Value>, want: &str, owner: &str) -> Result<(), TemplateError> {
    let got =
        string_field(obj, "schema", owner).map_err(|e| e.context("unmarshalling template"))?;
    if got != want {
        return Err(TemplateError::new(format!(
            "template has unknown schema ({}), should be {}",
            go_quote(&got),
            go_quote(want)
        ))
        .at("schema"));
    }
    Ok(())
}

/// The 1-based line where `needle` is written as a whole value (`key:
/// needle`, `- needle`, quoted or not), else where it first occurs.
pub fn locate(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_end().trim_end_matches([',', '"', '\'']);
        if let Some(before) = l.strip_suffix(needle)
            && (before.is_empty() || before.ends_with([' ', '"', '\'', ':']))
        {
            return Some(i + 1);
        }
    }
    let at = text.find(needle)?;
    Some(text[..at].bytes().filter(|&b| b == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_kind_case_insensitively() {
        assert_eq!(detect("Schema: olm.semver\n").unwrap(), Kind::Semver);
        assert_eq!(
            detect("{\"schema\":\"olm.template.basic\"}").unwrap(),
            Kind::Basic
        );
        assert_eq!(
            detect("schema: olm.template.custom\n").unwrap_err().message,
            "unknown template schema: olm.template.custom"
        );
        assert_eq!(
            detect("entries: []\n").unwrap_err().message,
            "template input missing required 'schema' field"
        );
        assert_eq!(
            detect("").unwrap_err().message,
            "decoding template input: EOF"
        );
    }

    #[test]
    fn type_names_and_locations() {
        assert_eq!(Kind::supported_types(), "[basic semver substitutes]");
        assert_eq!(Kind::from_type("olm.template.basic"), None);
        assert_eq!(locate("a\nb: x\nc: y\n", "y"), Some(3));
        assert_eq!(locate("schema: olm.package\nname: p\n", "p"), Some(2));
        assert_eq!(locate("- image: \"r/x:v1\"\n", "r/x:v1"), Some(1));
        assert_eq!(locate("a", "z"), None);
    }

    /// The shipped JSON Schemas accept every template Go rendered in the
    /// recorded scenarios, and reject Go's strict-decoding failure.
    #[test]
    fn schemas_accept_what_go_accepts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let schema = |kind: Kind| {
            let text = std::fs::read_to_string(
                root.join(format!("schemas/{}.schema.json", kind.schema())),
            )
            .unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&v)
                .unwrap()
        };
        let cases = root.join("testdata/templates/render-template");
        let mut checked = 0;
        for e in std::fs::read_dir(&cases).unwrap() {
            let dir = e.unwrap().path();
            let exit = std::fs::read_to_string(dir.join("exit")).unwrap();
            let file = ["template.yaml", "template.json"]
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.exists())
                .unwrap();
            let text = std::fs::read_to_string(file).unwrap();
            let Ok(kind) = detect(&text) else { continue };
            let doc = first_document(&text).unwrap();
            let ok = schema(kind).is_valid(&doc);
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if exit.trim() == "0" {
                assert!(ok, "{name}: schema rejects a template Go accepts");
                checked += 1;
            }
            if name == "semver-skippatch-field" || name == "basic-inline-full-bundle" {
                assert!(!ok, "{name}: schema accepts a template Go rejects");
            }
        }
        assert!(checked >= 9, "{checked}");
    }
}
