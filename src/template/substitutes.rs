//! The substitutes template (`olm.template.substitutes`): a valid FBC plus
//! `substitutions`, each naming a bundle image that takes the place of a
//! `base` bundle in every channel (replay README §5.3). The substitute
//! entry is appended to the channel with the base's edges plus a skip of
//! the base; entries that replaced or skipped the base now point at the
//! substitute. The substitute must compare greater by version, then
//! release.

use std::cmp::Ordering;
use std::collections::HashMap;

use semver::{BuildMetadata, Prerelease, Version};
use serde_json::Value;

use super::{BundleRenderer, TemplateError, check_schema, field, first_document, json_kind};
use crate::catalog::load::go_quote;
use crate::catalog::validate::convert::parse_release;
use crate::catalog::validate::go_verdict;
use crate::catalog::{
    Bundle, ChannelEntry, DeclarativeConfig, PROP_BUNDLE_OBJECT, PROP_CSV_METADATA,
};
use crate::semver_range::{compare, parse_version};

pub const SCHEMA: &str = "olm.template.substitutes";

const OWNER: &str = "SubstitutesTemplateData";

struct Substitution {
    /// The substitute's bundle image.
    name: String,
    /// The bundle name it substitutes for.
    base: String,
}

pub fn render(
    text: &str,
    renderer: &dyn BundleRenderer,
) -> Result<DeclarativeConfig, TemplateError> {
    let parse_err = |e: TemplateError| e.context("render: unable to parse template");
    let doc = first_document(text)
        .map_err(|e| parse_err(TemplateError::new(format!("decoding template schema: {e}"))))?;
    let Value::Object(obj) = &doc else {
        return Err(parse_err(TemplateError::new(format!(
            "unmarshalling template: json: cannot unmarshal {} into Go value of type substitutes.SubstitutesTemplateData",
            json_kind(&doc)
        ))));
    };
    let subs = substitutions(obj).map_err(|e| parse_err(e.context("unmarshalling template")))?;
    check_schema(obj, SCHEMA, OWNER).map_err(parse_err)?;
    let mut cfg = super::load_entries(
        obj,
        OWNER,
        "render: unable to parse template: unmarshalling template",
        Some("render: unable to create declarative config from entries"),
    )?;
    go_verdict(&cfg)
        .map_err(|m| TemplateError::new(format!("render: entries are not valid FBC: {m}")))?;

    let images: Vec<String> = subs.iter().map(|s| s.name.clone()).collect();
    renderer.prefetch(&images);

    let mut seen_bases: HashMap<&str, ()> = HashMap::new();
    let mut seen_names: HashMap<&str, &str> = HashMap::new();
    for s in &subs {
        if seen_bases.insert(&s.base, ()).is_some() {
            return Err(TemplateError::new(format!(
                "render: cannot reuse the same substitution base {}",
                go_quote(&s.base)
            ))
            .at(s.base.clone()));
        }
        if let Some(prev) = seen_names.get(s.name.as_str()) {
            return Err(TemplateError::new(format!(
                "render: cannot reuse the same substitution {} for different bases ({} and {})",
                go_quote(&s.name),
                go_quote(prev),
                go_quote(&s.base)
            ))
            .at(s.name.clone()));
        }
        seen_names.insert(&s.name, &s.base);
        substitute(&mut cfg, s, renderer).map_err(|e| {
            e.context(format!(
                "render: error processing substitution {} -> {}",
                go_quote(&s.base),
                go_quote(&s.name)
            ))
            .at(s.base.clone())
        })?;
    }
    Ok(cfg)
}

/// The `substitutions` list (Go: `[]Substitute`, fields matched
/// case-insensitively).
fn substitutions(obj: &serde_json::Map<String, Value>) -> Result<Vec<Substitution>, TemplateError> {
    let list = match field(obj, "substitutions") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(TemplateError::new(format!(
                "json: cannot unmarshal {} into Go struct field {OWNER}.substitutions of type []substitutes.Substitute",
                json_kind(other)
            )));
        }
    };
    let mut out = Vec::new();
    for item in list {
        let (name, base) = match item {
            Value::Null => (String::new(), String::new()),
            Value::Object(o) => (
                super::string_field(o, "name", &format!("{OWNER}.substitutions"))?,
                super::string_field(o, "base", &format!("{OWNER}.substitutions"))?,
            ),
            other => {
                return Err(TemplateError::new(format!(
                    "json: cannot unmarshal {} into Go struct field {OWNER}.substitutions of type substitutes.Substitute",
                    json_kind(other)
                )));
            }
        };
        out.push(Substitution { name, base });
    }
    Ok(out)
}

/// Go's `validateSubstitution` + `processSubstitution` for one entry.
fn substitute(
    cfg: &mut DeclarativeConfig,
    s: &Substitution,
    renderer: &dyn BundleRenderer,
) -> Result<(), TemplateError> {
    if s.name.is_empty() {
        return Err(TemplateError::new("substitution name cannot be empty"));
    }
    if s.base.is_empty() {
        return Err(TemplateError::new("substitution base cannot be empty"));
    }
    if s.name == s.base {
        return Err(TemplateError::new(
            "substitution name and base cannot be the same",
        ));
    }
    let rendered = renderer.render(&s.name).map_err(|m| {
        TemplateError::new(format!(
            "failed to render bundle image reference {}: {m}",
            go_quote(&s.name)
        ))
        .at(s.name.clone())
    })?;
    let Some(sub) = rendered.bundles.into_iter().next() else {
        return Err(TemplateError::new(format!(
            "rendered bundle image reference {} contains no bundles",
            go_quote(&s.name)
        )));
    };
    let sub_vr = version_release(&sub).map_err(|m| {
        TemplateError::new(format!(
            "failed to get VersionRelease for substitute bundle {}: {m}",
            go_quote(&s.name)
        ))
    })?;
    let Some(base) = cfg.bundles.iter().find(|b| b.name == s.base) else {
        return Err(TemplateError::new(format!(
            "base bundle {} does not exist in catalog",
            go_quote(&s.base)
        )));
    };
    let base_vr = version_release(base).map_err(|m| {
        TemplateError::new(format!(
            "failed to get VersionRelease for base bundle {}: {m}",
            go_quote(&s.base)
        ))
    })?;
    if compare_vr(&base_vr, &sub_vr) != Ordering::Less {
        return Err(TemplateError::new(format!(
            "base bundle {} is not less than substitute bundle {}",
            go_quote(&s.base),
            go_quote(&s.name)
        )));
    }

    for ch in &mut cfg.channels {
        let Some(entries) = ch.entries.as_mut() else {
            continue;
        };
        let targets: Vec<usize> = (0..entries.len())
            .filter(|&j| entries[j].name == s.base)
            .collect();
        for &j in targets.iter().rev() {
            let old = std::mem::take(&mut entries[j]);
            let mut skips = old.skips;
            skips.push(s.base.clone());
            entries.push(ChannelEntry {
                name: sub.name.clone(),
                replaces: old.replaces,
                skips,
                skip_range: old.skip_range,
            });
            entries[j].name = old.name;
        }
        let originals = entries.len() - targets.len();
        for e in &mut entries[..originals] {
            if e.replaces == s.base {
                e.replaces = sub.name.clone();
                e.skips.push(s.base.clone());
            } else if e.skips.contains(&s.base) {
                e.skips.push(sub.name.clone());
                e.skips.retain(|x| x != &s.base);
            }
        }
    }
    cfg.bundles.push(sub);
    go_verdict(cfg)
        .map_err(|m| TemplateError::new(format!("resulting config is not valid FBC: {m}")))
}

/// Go's `VersionRelease`: the version and, when the bundle declares no
/// release but uses legacy `olm.substitutesFor` build metadata, the build
/// metadata as release.
struct VersionRelease {
    version: Version,
    release: Vec<String>,
}

fn version_release(b: &Bundle) -> Result<VersionRelease, String> {
    let mut found: Option<VersionRelease> = None;
    for p in &b.properties {
        if p.typ != "olm.package" {
            continue;
        }
        if found.is_some() {
            return Err("must be exactly one property of type \"olm.package\"".into());
        }
        let v: Value = serde_json::from_str(&p.value).map_err(|e| {
            format!(
                "unable to unmarshal \"olm.package\" property for bundle {}: {e}",
                go_quote(&b.name)
            )
        })?;
        let get = |k: &str| {
            v.as_object()
                .and_then(|o| field(o, k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (ver, rel) = (get("version"), get("release"));
        let version = parse_version(&ver).map_err(|e| {
            format!(
                "invalid semver version {} in \"olm.package\" property for bundle {}: {e}",
                go_quote(&ver),
                go_quote(&b.name)
            )
        })?;
        let release = parse_release(&rel).map_err(|e| {
            format!(
                "invalid release {} in \"olm.package\" property for bundle {}: {e}",
                go_quote(&rel),
                go_quote(&b.name)
            )
        })?;
        found = Some(VersionRelease { version, release });
    }
    let mut vr = found.ok_or_else(|| {
        format!(
            "no \"olm.package\" property found for bundle {}",
            go_quote(&b.name)
        )
    })?;
    if vr.release.is_empty() && !vr.version.build.is_empty() && uses_legacy_release(b) {
        vr.release = parse_release(vr.version.build.as_str()).map_err(|e| {
            format!(
                "unable to convert build metadata to release for bundle {}: {e}",
                go_quote(&b.name)
            )
        })?;
        vr.version.build = BuildMetadata::EMPTY;
    }
    Ok(vr)
}

/// Whether the bundle's CSV carries an `olm.substitutesFor` annotation
/// (from its CSV, its `olm.csv.metadata` or its `olm.bundle.object`).
fn uses_legacy_release(b: &Bundle) -> bool {
    let has = |csv: &Value| {
        csv.as_object()
            .and_then(|o| field(o, "metadata"))
            .and_then(Value::as_object)
            .and_then(|m| field(m, "annotations"))
            .and_then(Value::as_object)
            .and_then(|a| a.get("olm.substitutesFor"))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if let Some(csv) = b.csv_json.as_deref().filter(|c| !c.is_empty())
        && let Ok(v) = serde_json::from_str::<Value>(csv)
    {
        return has(&v);
    }
    for p in &b.properties {
        let Ok(v) = serde_json::from_str::<Value>(&p.value) else {
            continue;
        };
        if p.typ == PROP_CSV_METADATA {
            let sub = v
                .as_object()
                .and_then(|o| field(o, "annotations"))
                .and_then(Value::as_object)
                .and_then(|a| a.get("olm.substitutesFor"))
                .and_then(Value::as_str);
            if sub.is_some_and(|s| !s.is_empty()) {
                return true;
            }
        } else if p.typ == PROP_BUNDLE_OBJECT {
            let data = v
                .as_object()
                .and_then(|o| field(o, "data"))
                .and_then(Value::as_str)
                .and_then(|d| crate::catalog::decode_go_base64(d).ok())
                .and_then(|d| serde_json::from_slice::<Value>(&d).ok());
            if let Some(csv) = data {
                return has(&csv);
            }
        }
    }
    false
}

/// Version first, then release: any release is greater than none, and
/// releases compare as semver prerelease identifiers.
fn compare_vr(a: &VersionRelease, b: &VersionRelease) -> Ordering {
    match compare(&a.version, &b.version) {
        Ordering::Equal => {}
        o => return o,
    }
    match (a.release.is_empty(), b.release.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => {
            let pre = |r: &[String]| Prerelease::new(&r.join(".")).unwrap_or(Prerelease::EMPTY);
            pre(&a.release).cmp(&pre(&b.release))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vr(v: &str, r: &str) -> VersionRelease {
        VersionRelease {
            version: parse_version(v).unwrap(),
            release: parse_release(r).unwrap(),
        }
    }

    #[test]
    fn release_ordering() {
        assert_eq!(
            compare_vr(&vr("1.0.0", ""), &vr("1.0.0", "1")),
            Ordering::Less
        );
        assert_eq!(
            compare_vr(&vr("1.0.0", "2"), &vr("1.0.0", "10")),
            Ordering::Less
        );
        assert_eq!(
            compare_vr(&vr("1.0.1", ""), &vr("1.0.0", "1")),
            Ordering::Greater
        );
        assert_eq!(
            compare_vr(&vr("1.0.0", "a"), &vr("1.0.0", "a")),
            Ordering::Equal
        );
    }
}
