//! Checking blobs against the JSON Schemas shipped in `schemas/` (draft
//! 2020-12), which describe the FBC blobs for editors and for `validate`.
//!
//! Go opm has no schema check (validate spec §1, "no CUE or JSON-schema
//! validation"), so findings here never change the verdict: they are
//! warnings, shown only by the formats beyond Go's (`-o text|github|sarif`).
//! The schemas are written to accept every catalog Go opm accepts (the
//! conformance corpus is the proof, see tests), so on a valid catalog there
//! are none; on an invalid one they often say more plainly what is wrong.
//!
//! Blobs are checked in the form the loader decoded them (re-encoded from
//! the typed blob, so field names are canonical and unknown fields gone),
//! which keeps this off the loader's hot path.

use std::sync::OnceLock;

use serde_json::Value;

use super::{Diagnostic, Severity};
use crate::catalog::{BlobRef, DeclarativeConfig, Location, SourceMap};

/// The schema files, embedded so the binary needs nothing beside it.
pub const FILES: &[(&str, &str)] = &[
    (
        "catalog.schema.json",
        include_str!("../../../schemas/catalog.schema.json"),
    ),
    (
        "olm.package.schema.json",
        include_str!("../../../schemas/olm.package.schema.json"),
    ),
    (
        "olm.channel.schema.json",
        include_str!("../../../schemas/olm.channel.schema.json"),
    ),
    (
        "olm.bundle.schema.json",
        include_str!("../../../schemas/olm.bundle.schema.json"),
    ),
    (
        "olm.deprecations.schema.json",
        include_str!("../../../schemas/olm.deprecations.schema.json"),
    ),
    (
        "properties.schema.json",
        include_str!("../../../schemas/properties.schema.json"),
    ),
];

/// Where relative `$ref`s between the embedded files resolve; never fetched.
const BASE: &str = "file:///opm/schemas/";

struct Embedded;

impl jsonschema::Retrieve for Embedded {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().strip_prefix(BASE).unwrap_or(uri.as_str());
        let name = name.split('#').next().unwrap_or(name);
        match FILES.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Ok(serde_json::from_str(text)?),
            None => Err(format!("no embedded schema {name}").into()),
        }
    }
}

/// Compile one embedded schema (panics only if a shipped file is broken,
/// which the tests rule out).
pub fn validator(name: &str) -> jsonschema::Validator {
    let text = FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no schema {name}"));
    let schema: Value = serde_json::from_str(text).expect("shipped schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_base_uri(format!("{BASE}{name}"))
        .with_retriever(Embedded)
        .build(&schema)
        .unwrap_or_else(|e| panic!("shipped schema {name} compiles: {e}"))
}

struct Validators {
    package: jsonschema::Validator,
    channel: jsonschema::Validator,
    bundle: jsonschema::Validator,
    deprecations: jsonschema::Validator,
}

fn validators() -> &'static Validators {
    static V: OnceLock<Validators> = OnceLock::new();
    V.get_or_init(|| Validators {
        package: validator("olm.package.schema.json"),
        channel: validator("olm.channel.schema.json"),
        bundle: validator("olm.bundle.schema.json"),
        deprecations: validator("olm.deprecations.schema.json"),
    })
}

/// Every schema finding for one blob value, as `<json pointer>: <message>`.
pub fn check_value(v: &jsonschema::Validator, value: &Value) -> Vec<String> {
    v.iter_errors(value)
        .map(|e| {
            let path = e.instance_path().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("{path}: {e}")
            }
        })
        .collect()
}

fn check_blob(
    v: &jsonschema::Validator,
    blob: BlobRef<'_>,
    location: Option<&Location>,
    out: &mut Vec<Diagnostic>,
) {
    let mut json = Vec::new();
    blob.write_compact(&mut json);
    let Ok(value) = serde_json::from_slice::<Value>(&json) else {
        return;
    };
    for message in check_value(v, &value) {
        out.push(Diagnostic {
            severity: Severity::Warning,
            rule: "schema",
            message,
            context: Vec::new(),
            location: location.cloned(),
        });
    }
}

/// Check every olm.* blob of a config; other schemas are not examined.
pub fn check_config(cfg: &DeclarativeConfig, sources: &SourceMap) -> Vec<Diagnostic> {
    let v = validators();
    let mut out = Vec::new();
    for (i, p) in cfg.packages.iter().enumerate() {
        check_blob(
            &v.package,
            BlobRef::Package(p),
            sources.packages.get(i),
            &mut out,
        );
    }
    for (i, c) in cfg.channels.iter().enumerate() {
        check_blob(
            &v.channel,
            BlobRef::Channel(c),
            sources.channels.get(i),
            &mut out,
        );
    }
    for (i, b) in cfg.bundles.iter().enumerate() {
        check_blob(
            &v.bundle,
            BlobRef::Bundle(b),
            sources.bundles.get(i),
            &mut out,
        );
    }
    for (i, d) in cfg.deprecations.iter().enumerate() {
        check_blob(
            &v.deprecations,
            BlobRef::Deprecation(d),
            sources.deprecations.get(i),
            &mut out,
        );
    }
    out
}
