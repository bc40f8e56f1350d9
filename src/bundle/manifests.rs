//! The `manifests/` half of a bundle: Kubernetes objects, the CSV and the
//! CRDs, and the APIs they provide and require (Go's `registry.Bundle` and
//! `registry.ClusterServiceVersion`, spec §4.4).
//!
//! Go decodes each manifest into an `unstructured.Unstructured` and then
//! reads the CSV `spec` back from its `json.Marshal` text with exact-key map
//! lookups and Go struct decoding; we do the same on the marshalled text so
//! key matching, duplicate keys and type errors behave as Go's do.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::gojson::{self, At, Raw};
use crate::encoding::json::write_marshal_html;

/// One manifest object as Go keeps it.
#[derive(Debug, Clone)]
pub struct Object {
    /// `json.Marshal` of the unstructured object: keys sorted, HTML escaped.
    pub json: String,
    /// `GetKind()`.
    pub kind: String,
    /// `GroupVersionKind()`: empty when `apiVersion` does not parse.
    pub gvk: (String, String, String),
}

/// Decode one manifest file as Go's `decodeFileFS` into an unstructured
/// object: the first document must be an object with a non-empty string
/// `kind`. `None` is a file Go skips with a warning (spec §4.4).
pub fn object_from_file(path: &Path) -> Option<Object> {
    let bytes = std::fs::read(path).ok()?;
    let (value, _) = super::first_document(&bytes)?.ok()?;
    let Value::Object(_) = &value else {
        return None;
    };
    let kind = match value.get("kind") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => return None,
    };
    let api_version = match value.get("apiVersion") {
        Some(Value::String(s)) => s.as_str(),
        _ => "",
    };
    let gvk = match parse_group_version(api_version) {
        Some((g, v)) => (g.to_string(), v.to_string(), kind.clone()),
        None => Default::default(),
    };
    let mut out = Vec::new();
    write_marshal_html(&value, &mut out);
    Some(Object {
        json: String::from_utf8(out).ok()?,
        kind,
        gvk,
    })
}

/// apimachinery `schema.ParseGroupVersion`: `None` is its error.
fn parse_group_version(gv: &str) -> Option<(&str, &str)> {
    if gv.is_empty() || gv == "/" {
        return Some(("", ""));
    }
    match gv.matches('/').count() {
        0 => Some(("", gv)),
        1 => gv.split_once('/'),
        _ => None,
    }
}

/// The CSV as Go's `registry.ClusterServiceVersion`: metadata decoded, the
/// spec kept as JSON text (`None` when absent or null, Go's nil RawMessage).
#[derive(Debug, Clone)]
pub struct Csv {
    pub name: String,
    pub annotations: Vec<(String, String)>,
    pub spec: Option<String>,
}

/// Go's `APIKey`; prints as `group/version/kind (plural)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiKey {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} ({})",
            self.group, self.version, self.kind, self.plural
        )
    }
}

/// Go's `DefinitionKey` (an owned or required CRD / API service entry).
#[derive(Debug, Clone, Default)]
pub struct DefinitionKey {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub version: String,
}

/// The APIs one CRD provides: `(group, version, kind, plural)` per served
/// version, plus `spec.version` for v1beta1.
#[derive(Debug, Clone)]
pub struct Crd {
    pub provides: Vec<ApiKey>,
}

const NIL_SPEC: &str = "unexpected end of JSON input";

impl Csv {
    /// Go's `FromUnstructured` into the registry CSV type (only the parts
    /// that can fail or that we read).
    pub fn from_object(obj: &Object) -> Result<Csv, String> {
        let root = gojson::parse(&obj.json)?;
        let meta = root.get("metadata");
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Raw::str)
            .unwrap_or_default();
        let mut annotations = Vec::new();
        if let Some(a) = meta.and_then(|m| m.get("annotations")) {
            for (k, v) in a.entries().unwrap_or_default() {
                match v.kind() {
                    gojson::Kind::String => annotations.push((k, v.str().unwrap_or_default())),
                    gojson::Kind::Null => annotations.push((k, String::new())),
                    // The unstructured converter's wording.
                    other => {
                        return Err(format!(
                            "cannot convert {} to string",
                            unstructured_type_name(other, v)
                        ));
                    }
                }
            }
        }
        let spec = root
            .get("spec")
            .filter(|s| !s.is_null())
            .map(|s| s.text().to_string());
        Ok(Csv {
            name,
            annotations,
            spec,
        })
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `json.Unmarshal(csv.Spec, &map[string]*json.RawMessage)`.
    fn objmap(&self) -> Result<Option<Raw<'_>>, String> {
        let spec = self.spec.as_deref().ok_or(NIL_SPEC)?;
        let raw = gojson::parse(spec)?;
        match raw.kind() {
            gojson::Kind::Null => Ok(None),
            gojson::Kind::Object => Ok(Some(raw)),
            _ => Err(At::value()
                .mismatch(raw, "map[string]*json.RawMessage")
                .to_string()),
        }
    }

    fn spec_field(&self, key: &str) -> Result<Option<Raw<'_>>, String> {
        Ok(self
            .objmap()?
            .and_then(|m| m.get(key))
            .filter(|v| !v.is_null()))
    }

    /// `GetVersion`: `spec.version`, which must be a string if present.
    pub fn version(&self) -> Result<String, String> {
        match self.spec_field("version")? {
            None => Ok(String::new()),
            Some(v) => gojson::string(v, &At::value()).map_err(|e| e.to_string()),
        }
    }

    /// `spec.release`: a string, or a number (whole numbers as integer
    /// digits, others in Go `%g` form) — spec §4.4.
    pub fn release(&self) -> Result<String, String> {
        let Some(v) = self.spec_field("release")? else {
            return Ok(String::new());
        };
        match v.kind() {
            gojson::Kind::String => Ok(v.str().unwrap_or_default()),
            gojson::Kind::Number => {
                let f: f64 = v.text().parse().map_err(|e| format!("{e}"))?;
                if f.fract() == 0.0 && f.abs() < 1e21 {
                    Ok(format!("{f:.0}"))
                } else {
                    Ok(crate::encoding::yaml::format_float_g(f))
                }
            }
            _ => Err(At::value().mismatch(v, "string").to_string()),
        }
    }

    /// `GetCustomResourceDefintions` / `GetApiServiceDefinitions`: the
    /// owned and required entries under `spec.<key>`.
    pub fn definitions(
        &self,
        key: &str,
    ) -> Result<(Vec<DefinitionKey>, Vec<DefinitionKey>), String> {
        let Some(raw) = self.spec_field(key)? else {
            return Ok(Default::default());
        };
        let at = At::root("");
        let f = gojson::fields(raw, &At::value(), "struct { Owned []*registry.DefinitionKey \"json:\\\"owned\\\"\"; Required []*registry.DefinitionKey \"json:\\\"required\\\"\" }", &["owned", "required"])
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let mut lists = [Vec::new(), Vec::new()];
        for (slot, (name, list)) in ["owned", "required"]
            .iter()
            .zip(lists.iter_mut())
            .enumerate()
        {
            let Some(items) = f.get(slot).copied().flatten() else {
                continue;
            };
            let at = at.field(name);
            for item in
                gojson::slice(items, &at, "[]*registry.DefinitionKey").map_err(|e| e.to_string())?
            {
                list.push(definition_key(item, &at).map_err(|e| e.to_string())?);
            }
        }
        let [owned, required] = lists;
        Ok((owned, required))
    }

    /// `spec.relatedImages` decoded into `[]declcfg.RelatedImage`.
    pub fn related_images(&self) -> Result<Vec<(String, String)>, String> {
        let Some(raw) = self.spec_field("relatedImages")? else {
            return Ok(Vec::new());
        };
        let err = |e: gojson::TypeError| e.to_string();
        let mut out = Vec::new();
        for item in gojson::slice(raw, &At::value(), "[]declcfg.RelatedImage").map_err(err)? {
            let at = At::root("RelatedImage");
            let f = gojson::fields(
                item,
                &At::value(),
                "declcfg.RelatedImage",
                &["name", "image"],
            )
            .map_err(err)?
            .unwrap_or_default();
            let get = |i: usize, name: &str| match f.get(i).copied().flatten() {
                Some(v) => gojson::string(v, &at.field(name)),
                None => Ok(String::new()),
            };
            out.push((get(0, "name").map_err(err)?, get(1, "image").map_err(err)?));
        }
        Ok(out)
    }

    /// `GetOperatorImages`: container and init-container images of the
    /// deployments of a `deployment` install strategy (spec §4.4).
    pub fn operator_images(&self) -> Result<BTreeSet<String>, String> {
        let spec = gojson::parse(self.spec.as_deref().ok_or(NIL_SPEC)?)?;
        let err = |e: gojson::TypeError| e.to_string();
        // Go decodes into anonymous structs; their field names carry no
        // JSON tags, so `Install` and `Deployments` match case-insensitively.
        let at = At::root("csvSpec");
        let top =
            gojson::fields(spec, &At::value(), "registry.csvSpec", &["Install"]).map_err(err)?;
        let Some(install) = top.and_then(|f| f[0]) else {
            return Ok(BTreeSet::new());
        };
        let at = at.field("Install").within("strategy");
        let f = gojson::fields(install, &at, "registry.strategy", &["strategy", "spec"])
            .map_err(err)?
            .unwrap_or_default();
        let name = match f.first().copied().flatten() {
            Some(v) => gojson::string(v, &at.field("strategy")).map_err(err)?,
            None => String::new(),
        };
        let mut images = BTreeSet::new();
        let deployments = match f.get(1).copied().flatten() {
            None => Vec::new(),
            Some(s) => {
                let at = at.field("spec").within("strategySpec");
                let f = gojson::fields(s, &at, "registry.strategySpec", &["Deployments"])
                    .map_err(err)?;
                match f.and_then(|f| f[0]) {
                    None => Vec::new(),
                    Some(d) => {
                        gojson::slice(d, &at.field("Deployments"), "[]registry.dep").map_err(err)?
                    }
                }
            }
        };
        let mut found = Vec::new();
        for d in deployments {
            let at = at.field("spec.Deployments").within("dep");
            let f = gojson::fields(d, &at, "registry.dep", &["Name", "Spec"])
                .map_err(err)?
                .unwrap_or_default();
            if let Some(n) = f.first().copied().flatten() {
                gojson::string(n, &at.field("Name")).map_err(err)?;
            }
            let pod = path_fields(
                f.get(1).copied().flatten(),
                &at.field("Spec"),
                &[("template", "PodTemplateSpec"), ("spec", "PodSpec")],
            )
            .map_err(err)?;
            let Some(pod) = pod else { continue };
            let at = at.field("Spec.template.spec").within("PodSpec");
            let pf = gojson::fields(pod, &at, "v1.PodSpec", &["containers", "initContainers"])
                .map_err(err)?
                .unwrap_or_default();
            for (i, list) in ["containers", "initContainers"].iter().enumerate() {
                let Some(list_raw) = pf.get(i).copied().flatten() else {
                    continue;
                };
                let at = at.field(list);
                for c in gojson::slice(list_raw, &at, "[]v1.Container").map_err(err)? {
                    let at = at.within("Container");
                    let cf = gojson::fields(c, &at, "v1.Container", &["image"]).map_err(err)?;
                    let image = match cf.and_then(|f| f[0]) {
                        Some(v) => gojson::string(v, &at.field("image")).map_err(err)?,
                        None => String::new(),
                    };
                    found.push(image);
                }
            }
        }
        // Go decodes everything before looking at the strategy name.
        if name == "deployment" {
            images.extend(found);
        }
        Ok(images)
    }
}

/// Follow single-field struct hops (`template` → `spec`), Go-decoding each.
fn path_fields<'a>(
    start: Option<Raw<'a>>,
    at: &At,
    hops: &[(&str, &'static str)],
) -> Result<Option<Raw<'a>>, gojson::TypeError> {
    let mut cur = start;
    let mut at = at.clone();
    for (field, next_type) in hops {
        let Some(v) = cur else { return Ok(None) };
        let f = gojson::fields(v, &at, next_type, &[field])?;
        cur = f.and_then(|f| f[0]);
        at = at.field(field).within(next_type);
    }
    Ok(cur)
}

fn definition_key(item: Raw<'_>, at: &At) -> Result<DefinitionKey, gojson::TypeError> {
    let at = at.within("DefinitionKey");
    let f = gojson::fields(
        item,
        &at,
        "registry.DefinitionKey",
        &["group", "kind", "name", "version"],
    )?
    .unwrap_or_default();
    let get = |i: usize, name: &str| match f.get(i).copied().flatten() {
        Some(v) => gojson::string(v, &at.field(name)),
        None => Ok(String::new()),
    };
    Ok(DefinitionKey {
        group: get(0, "group")?,
        kind: get(1, "kind")?,
        name: get(2, "name")?,
        version: get(3, "version")?,
    })
}

/// The unstructured converter names Go types of decoded JSON this way.
fn unstructured_type_name(kind: gojson::Kind, v: Raw<'_>) -> &'static str {
    match kind {
        gojson::Kind::Bool => "bool",
        gojson::Kind::Number if v.text().parse::<i64>().is_ok() => "int64",
        gojson::Kind::Number => "float64",
        gojson::Kind::Array => "[]interface {}",
        _ => "map[string]interface {}",
    }
}

impl Crd {
    /// Go decodes a `CustomResourceDefinition` object of API version v1 or
    /// v1beta1 into the typed CRD (case-sensitive keys, as the Kubernetes
    /// serializer does); `None` for other versions, which Go ignores.
    pub fn from_object(obj: &Object) -> Result<Option<Crd>, String> {
        let (group, version, _) = &obj.gvk;
        let (label, v1beta1) = match version.as_str() {
            "v1" => ("v1", false),
            "v1beta1" => ("v1beta1", true),
            _ => return Ok(None),
        };
        let wrap = |e: String| format!("error decoding {label} CRD: {e}");
        if group != "apiextensions.k8s.io" {
            let api_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            return Err(wrap(format!(
                "no kind \"CustomResourceDefinition\" is registered for version \"{api_version}\" in scheme \"pkg/registry/bundle.go\""
            )));
        }
        let root = gojson::parse(&obj.json).map_err(wrap)?;
        let err = |e: gojson::TypeError| wrap(e.to_string());
        let at = At::root("CustomResourceDefinition");
        let Some(spec) = root.get("spec").filter(|s| !s.is_null()) else {
            return Ok(Some(Crd {
                provides: Vec::new(),
            }));
        };
        let at = at.field("spec").within("CustomResourceDefinitionSpec");
        let exact = |v: Raw<'_>, at: &At, go_type: &str| -> Result<(), gojson::TypeError> {
            if v.is_null() || v.kind() == gojson::Kind::Object {
                Ok(())
            } else {
                Err(at.mismatch(v, go_type))
            }
        };
        exact(spec, &at, "v1.CustomResourceDefinitionSpec").map_err(err)?;
        let str_at = |v: Option<Raw<'_>>, at: &At| match v {
            Some(v) => gojson::string(v, at),
            None => Ok(String::new()),
        };
        let group = str_at(spec.get("group"), &at.field("group")).map_err(err)?;
        let names = spec.get("names");
        let names_at = at.field("names").within("CustomResourceDefinitionNames");
        if let Some(n) = names {
            exact(n, &names_at, "v1.CustomResourceDefinitionNames").map_err(err)?;
        }
        let kind =
            str_at(names.and_then(|n| n.get("kind")), &names_at.field("kind")).map_err(err)?;
        let plural = str_at(
            names.and_then(|n| n.get("plural")),
            &names_at.field("plural"),
        )
        .map_err(err)?;
        let mut provides = Vec::new();
        let key = |version: String| ApiKey {
            group: group.clone(),
            version,
            kind: kind.clone(),
            plural: plural.clone(),
        };
        if let Some(versions) = spec.get("versions") {
            let vat = at.field("versions");
            for v in gojson::slice(versions, &vat, "[]v1.CustomResourceDefinitionVersion")
                .map_err(err)?
            {
                let vat = vat.within("CustomResourceDefinitionVersion");
                exact(v, &vat, "v1.CustomResourceDefinitionVersion").map_err(err)?;
                let name = str_at(v.get("name"), &vat.field("name")).map_err(err)?;
                provides.push(key(name));
            }
        }
        if v1beta1 {
            let single = str_at(spec.get("version"), &at.field("version")).map_err(err)?;
            if !single.is_empty() {
                provides.push(key(single));
            }
        }
        Ok(Some(Crd { provides }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_version_parsing_follows_apimachinery() {
        assert_eq!(parse_group_version("apps/v1"), Some(("apps", "v1")));
        assert_eq!(parse_group_version("v1"), Some(("", "v1")));
        assert_eq!(parse_group_version(""), Some(("", "")));
        assert_eq!(parse_group_version("a/b/c"), None);
    }

    fn csv(spec: &str) -> Csv {
        Csv {
            name: "x".into(),
            annotations: Vec::new(),
            spec: Some(spec.into()),
        }
    }

    #[test]
    fn version_must_be_a_string() {
        assert_eq!(csv(r#"{"version":"1.2.3"}"#).version().unwrap(), "1.2.3");
        assert_eq!(csv(r#"{}"#).version().unwrap(), "");
        assert_eq!(
            csv(r#"{"version":1}"#).version().unwrap_err(),
            "json: cannot unmarshal number into Go value of type string"
        );
        let nil = Csv {
            spec: None,
            ..csv("{}")
        };
        assert_eq!(nil.version().unwrap_err(), "unexpected end of JSON input");
    }

    #[test]
    fn operator_images_only_for_deployment_strategy() {
        let spec = r#"{"install":{"strategy":"deployment","spec":{"deployments":[{"name":"d","spec":{"template":{"spec":{"containers":[{"image":"a"},{"name":"noimage"}],"initContainers":[{"image":"b"}]}}}}]}}}"#;
        let imgs: Vec<_> = csv(spec).operator_images().unwrap().into_iter().collect();
        assert_eq!(imgs, ["", "a", "b"]);
        let other = spec.replace("\"deployment\"", "\"other\"");
        assert!(csv(&other).operator_images().unwrap().is_empty());
    }

    #[test]
    fn definitions_decode_case_insensitively() {
        let c = csv(
            r#"{"customresourcedefinitions":{"Owned":[{"Name":"foos.test.foo","version":"v1","kind":"Foo"}]}}"#,
        );
        let (owned, required) = c.definitions("customresourcedefinitions").unwrap();
        assert_eq!(owned.len(), 1);
        assert_eq!(owned[0].name, "foos.test.foo");
        assert!(required.is_empty());
    }
}
