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
use crate::catalog::load::{Kind, SchemaFinding};
use crate::catalog::{BlobRef, DeclarativeConfig, SourceMap};

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

/// What the schemas say of the blob at `index` of `kind`'s list in `cfg`
/// (`<json pointer>: <message>`); other schemas are not examined.
pub fn blob_findings(cfg: &DeclarativeConfig, kind: Kind, index: usize) -> Vec<String> {
    let v = validators();
    let (validator, blob) = match kind {
        Kind::Package => (&v.package, cfg.packages.get(index).map(BlobRef::Package)),
        Kind::Channel => (&v.channel, cfg.channels.get(index).map(BlobRef::Channel)),
        Kind::Bundle => (&v.bundle, cfg.bundles.get(index).map(BlobRef::Bundle)),
        Kind::Deprecation => (
            &v.deprecations,
            cfg.deprecations.get(index).map(BlobRef::Deprecation),
        ),
        Kind::Other => return Vec::new(),
    };
    let Some(blob) = blob else {
        return Vec::new();
    };
    let mut json = Vec::new();
    blob.write_compact(&mut json);
    match serde_json::from_slice::<Value>(&json) {
        Ok(value) => check_value(validator, &value),
        Err(_) => Vec::new(),
    }
}

/// Warnings for findings, in the config's list order (packages, channels,
/// bundles, deprecations), each at its blob.
pub fn diagnostics(findings: &[SchemaFinding], sources: &SourceMap) -> Vec<Diagnostic> {
    let mut sorted: Vec<&SchemaFinding> = findings.iter().collect();
    sorted.sort_by_key(|f| (f.kind, f.index));
    sorted
        .into_iter()
        .flat_map(|f| {
            let location = sources.of(f.kind).get(f.index);
            f.messages.iter().map(move |message| Diagnostic {
                severity: Severity::Warning,
                rule: "schema",
                message: message.clone(),
                context: Vec::new(),
                location: location.cloned(),
            })
        })
        .collect()
}

/// Check every olm.* blob of a config; other schemas are not examined.
pub fn check_config(cfg: &DeclarativeConfig, sources: &SourceMap) -> Vec<Diagnostic> {
    let kinds = [
        (Kind::Package, cfg.packages.len()),
        (Kind::Channel, cfg.channels.len()),
        (Kind::Bundle, cfg.bundles.len()),
        (Kind::Deprecation, cfg.deprecations.len()),
    ];
    let findings: Vec<SchemaFinding> = kinds
        .into_iter()
        .flat_map(|(kind, n)| (0..n).map(move |index| (kind, index)))
        .filter_map(|(kind, index)| {
            let messages = blob_findings(cfg, kind, index);
            (!messages.is_empty()).then_some(SchemaFinding {
                kind,
                index,
                messages,
            })
        })
        .collect();
    diagnostics(&findings, sources)
}
