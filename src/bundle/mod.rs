//! registry+v1 bundle directories (`manifests/` + `metadata/`) rendered as
//! one `olm.bundle` blob, exactly as Go opm does (spec §4.4).
//!
//! The steps follow Go's code path so that errors surface in the same order
//! with the same words: `bundleParser.Parse` (manifests, then metadata, then
//! the derived properties) gives the "registry" bundle; the image template
//! is applied; `ObjectsAndPropertiesFromBundle` and `getRelatedImages` turn
//! it into the FBC bundle. Property values are raw JSON text whose bytes
//! are the sort key (spec §4.4, "Raw value byte forms"), so they stay
//! uncompacted until the very end.

pub mod csv_metadata;
pub mod generate;
mod gojson;

mod manifests;
mod metadata;
mod template;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

pub use metadata::Annotations;
pub use template::{ImageTemplate, TemplateData, TemplateError};

use crate::catalog::load::{for_each_document, go_errno_text, go_quote};
use crate::catalog::{Bundle, Property, RelatedImage, SCHEMA_BUNDLE};
use crate::encoding::json::{write_marshal_html, write_string};
use gojson::At;
use manifests::{ApiKey, Crd, Csv, Object};
use metadata::RawProperty;

const TYPE_PACKAGE: &str = "olm.package";
const TYPE_GVK: &str = "olm.gvk";
const TYPE_GVK_REQUIRED: &str = "olm.gvk.required";
const TYPE_PACKAGE_REQUIRED: &str = "olm.package.required";
const TYPE_BUNDLE_OBJECT: &str = "olm.bundle.object";
const CSV_KIND: &str = "ClusterServiceVersion";
const CRD_KIND: &str = "CustomResourceDefinition";
/// The CSV annotation carrying extra properties (not
/// `operatorframework.io/properties`).
const PROPERTIES_ANNOTATION: &str = "olm.properties";

/// Render a bundle directory into one `olm.bundle`. Errors are Go's text;
/// the caller prefixes `render reference "<ref>": `.
pub fn render_dir(path: &Path, template: Option<&ImageTemplate>) -> Result<Bundle, String> {
    let parsed = Parsed::read(path)?;
    let image = match template {
        None => String::new(),
        Some(t) => parsed.template_image(t).map_err(|e| {
            format!(
                "failed templating image reference from bundle for {}: {e}",
                go_quote(&path.to_string_lossy())
            )
        })?,
    };
    parsed.into_bundle(image)
}

/// Render a bundle unpacked from an image: `image` is the reference as
/// the user gave it (spec §4.4), and no template applies.
pub fn render_image_dir(root: &Path, image: &str) -> Result<Bundle, String> {
    Parsed::read(root)?.into_bundle(image.to_string())
}

/// Render a bundle directory (unpacked from `image`, or given by the user
/// with `image` as its reference) together with its annotations, which
/// `index add` needs for channel membership and the default channel.
pub fn render_annotated(root: &Path, image: &str) -> Result<(Bundle, Annotations), String> {
    let parsed = Parsed::read(root)?;
    let annotations = parsed.annotations.clone();
    Ok((parsed.into_bundle(image.to_string())?, annotations))
}

/// The package icon a CSV gives (v1.73 `populatePackageIcons`): its first
/// `spec.icon`, when that decodes to something. An undecodable icon is only
/// a warning in v1.73 (discarded), so it is `None` here.
pub fn csv_icon(csv_json: &str) -> Result<Option<crate::catalog::Icon>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Csv {
        spec: Option<Spec>,
    }
    #[derive(serde::Deserialize)]
    struct Spec {
        icon: Option<Vec<IconDoc>>,
    }
    #[derive(serde::Deserialize)]
    struct IconDoc {
        base64data: Option<String>,
        mediatype: Option<String>,
    }
    let doc: Csv = serde_json::from_str(csv_json)?;
    let Some(first) = doc
        .spec
        .and_then(|s| s.icon)
        .and_then(|i| i.into_iter().next())
    else {
        return Ok(None);
    };
    let data = first.base64data.unwrap_or_default();
    let mediatype = first.mediatype.unwrap_or_default();
    let decoded = crate::catalog::model::decode_go_base64(&data)
        // "Try decoding after removing spaces (this is a problem with the
        // planetscale operator)", says v1.73.
        .or_else(|_| crate::catalog::model::decode_go_base64(&data.replace(' ', "")));
    Ok(match decoded {
        Ok(bytes) if !bytes.is_empty() => Some(crate::catalog::Icon {
            data: Some(bytes),
            mediatype,
        }),
        _ => None,
    })
}

/// Go's `registry.Bundle` after `bundleParser.Parse`.
struct Parsed {
    /// The CSV name.
    name: String,
    /// The package annotation.
    package: String,
    objects: Vec<Object>,
    csv: Csv,
    crds: Vec<Crd>,
    /// The de-duplicated intermediate list (properties file, then derived).
    properties: Vec<RawProperty>,
    dependencies: Vec<RawProperty>,
    annotations: Annotations,
}

impl Parsed {
    fn read(root: &Path) -> Result<Parsed, String> {
        let (objects, csv, crds) = read_manifests(&root.join("manifests"))?;
        let name = csv.name.clone();
        let mut p = Parsed {
            name,
            package: String::new(),
            objects,
            csv,
            crds,
            properties: Vec::new(),
            dependencies: Vec::new(),
            annotations: Annotations::default(),
        };
        p.all_provided_apis_in_bundle()
            .map_err(|e| format!("error checking provided apis in bundle {}: {e}", p.name))?;

        let md = metadata::read(&root.join("metadata"))?;
        let Some(annotations) = md.annotations else {
            return Err("Could not find annotations file".into());
        };
        p.package = annotations.package.clone();
        p.annotations = annotations;
        p.dependencies = md.dependencies;
        let derived = p
            .derived_properties()
            .map_err(|e| format!("failed to derive properties: {e}"))?;
        let mut all = md.properties;
        all.extend(derived);
        p.properties = metadata::property_set(all);
        Ok(p)
    }

    /// Go's `ProvidedAPIs`: every CRD version, plus owned API services
    /// (whose "plural" is the service name).
    fn provided_apis(&self) -> Result<BTreeSet<ApiKey>, String> {
        let mut set: BTreeSet<ApiKey> = self
            .crds
            .iter()
            .flat_map(|c| c.provides.iter().cloned())
            .collect();
        let (owned, _) = self
            .csv
            .definitions("apiservicedefinitions")
            .map_err(|e| format!("error getting apiservice definitions: {e}"))?;
        set.extend(owned.into_iter().map(|d| ApiKey {
            group: d.group,
            version: d.version,
            kind: d.kind,
            plural: d.name,
        }));
        Ok(set)
    }

    /// Go's `RequiredAPIs`: required CRDs (group and plural from the name)
    /// and required API services.
    fn required_apis(&self) -> Result<BTreeSet<ApiKey>, String> {
        let (_, required) = self.csv.definitions("customresourcedefinitions")?;
        let mut set = BTreeSet::new();
        for d in required {
            set.insert(crd_key(&d.name, &d.version, &d.kind)?);
        }
        let (_, required) = self.csv.definitions("apiservicedefinitions")?;
        set.extend(required.into_iter().map(|d| ApiKey {
            group: d.group,
            version: d.version,
            kind: d.kind,
            plural: d.name,
        }));
        Ok(set)
    }

    /// Go's `AllProvidedAPIsInBundle`: each owned CRD of the CSV must be
    /// served by a CRD manifest.
    fn all_provided_apis_in_bundle(&self) -> Result<(), String> {
        let bundle_apis = self.provided_apis()?;
        let (owned, _) = self.csv.definitions("customresourcedefinitions")?;
        let mut should_exist = BTreeSet::new();
        for d in owned {
            should_exist.insert(crd_key(&d.name, &d.version, &d.kind)?);
        }
        // Go walks a map here, so with several missing APIs which one it
        // reports varies; we report the smallest.
        if let Some(missing) = should_exist.iter().find(|k| !bundle_apis.contains(k)) {
            let found: Vec<String> = bundle_apis.iter().map(|k| format!("{k}:{{}}")).collect();
            return Err(format!(
                "couldn't find {missing} in bundle. found: map[{}]",
                found.join(" ")
            ));
        }
        Ok(())
    }

    /// Go's `bundleParser.derivedProperties`.
    fn derived_properties(&self) -> Result<Vec<RawProperty>, String> {
        let mut derived = match self.csv.annotation(PROPERTIES_ANNOTATION) {
            Some(text) => metadata::csv_annotation_properties(text),
            None => Vec::new(),
        };
        if !self.package.is_empty() {
            let version = self.csv.version()?;
            let release = self.csv.release()?;
            // Go builds this one with json.Marshal: HTML escaping on.
            let value = package_value(&self.package, &version, &release, true);
            derived.insert(0, RawProperty::new(TYPE_PACKAGE, value));
        }
        let provided = self
            .provided_apis()
            .map_err(|e| format!("error getting provided apis: {e}"))?;
        for api in provided {
            let value = gvk_value(&api.group, &api.kind, &api.version, true);
            derived.push(RawProperty::new(TYPE_GVK, value));
        }
        Ok(metadata::property_set(derived))
    }

    /// The `{{.Version}}` of the image template: the version of the first
    /// `olm.package` of the intermediate list.
    fn template_image(&self, t: &ImageTemplate) -> Result<String, String> {
        let version = match self.properties.iter().find(|p| p.typ == TYPE_PACKAGE) {
            Some(p) => parse_package(p).map_err(|e| e.to_string())?.1,
            None => String::new(),
        };
        t.execute(TemplateData {
            package: &self.package,
            name: &self.name,
            version: &version,
        })
        .map_err(|e| e.to_string())
    }

    /// Go's `bundleToDeclcfg`.
    fn into_bundle(self, image: String) -> Result<Bundle, String> {
        let properties = self
            .final_properties()
            .map_err(|e| format!("get properties for bundle {}: {e}", go_quote(&self.name)))?;
        let related_images = self.related_images(&image).map_err(|e| {
            format!(
                "get related images for bundle {}: {e}",
                go_quote(&self.name)
            )
        })?;
        let csv_json = self
            .objects
            .iter()
            .rev()
            .find(|o| o.kind == CSV_KIND)
            .map(|o| o.json.clone());
        Ok(Bundle {
            schema: SCHEMA_BUNDLE.to_string(),
            name: self.name,
            package: self.package,
            image,
            properties,
            related_images,
            csv_json,
            objects: self.objects.into_iter().map(|o| o.json).collect(),
        })
    }

    /// Go's `ObjectsAndPropertiesFromBundle` (spec §4.4, "Final properties").
    fn final_properties(&self) -> Result<Vec<Property>, String> {
        let mut provided: BTreeSet<(String, String, String)> = BTreeSet::new();
        let mut required: BTreeSet<(String, String, String)> = BTreeSet::new();
        let mut package: Option<String> = None;
        let mut others: Vec<RawProperty> = Vec::new();
        let parse_err = |i: usize, typ: &str, e: gojson::DecodeError| {
            format!("parse property[{i}] of type {}: {e}", go_quote(typ))
        };
        for (i, p) in self.properties.iter().enumerate() {
            match p.typ.as_str() {
                TYPE_GVK => {
                    provided.insert(parse_gvk(p).map_err(|e| parse_err(i, &p.typ, e))?);
                }
                TYPE_PACKAGE => {
                    // The last one wins (spec §4.4).
                    let (name, version, release) =
                        parse_package(p).map_err(|e| parse_err(i, &p.typ, e))?;
                    package = Some(package_value(&name, &version, &release, false));
                }
                _ => others.push(p.clone()),
            }
        }
        let mut package_required = Vec::new();
        for (i, d) in self.dependencies.iter().enumerate() {
            match d.typ.as_str() {
                TYPE_GVK => {
                    required.insert(parse_gvk(d).map_err(|e| parse_err(i, &d.typ, e))?);
                }
                TYPE_PACKAGE => {
                    let (name, version, _) =
                        parse_package(d).map_err(|e| parse_err(i, &d.typ, e))?;
                    let value =
                        string_object(&[("packageName", &name), ("versionRange", &version)], false);
                    package_required.push(RawProperty::new(TYPE_PACKAGE_REQUIRED, value));
                }
                // Other dependency types become properties of the same type
                // with the raw value (spec §4.4).
                _ => others.push(d.clone()),
            }
        }
        let version = self
            .csv
            .version()
            .map_err(|e| format!("get version: {e}"))?;
        let release = self
            .csv
            .release()
            .map_err(|e| format!("get release: {e}"))?;
        let apis = self
            .provided_apis()
            .map_err(|e| format!("get provided apis: {e}"))?;
        provided.extend(apis.into_iter().map(|k| (k.group, k.kind, k.version)));
        let apis = self
            .required_apis()
            .map_err(|e| format!("get required apis: {e}"))?;
        required.extend(apis.into_iter().map(|k| (k.group, k.kind, k.version)));

        let mut props: Vec<RawProperty> = Vec::new();
        for o in &self.objects {
            let data = base64::engine::general_purpose::STANDARD.encode(o.json.as_bytes());
            props.push(RawProperty::new(
                TYPE_BUNDLE_OBJECT,
                format!("{{\"data\":\"{data}\"}}"),
            ));
        }
        let package =
            package.unwrap_or_else(|| package_value(&self.package, &version, &release, false));
        props.push(RawProperty::new(TYPE_PACKAGE, package));
        for (group, kind, version) in &provided {
            props.push(RawProperty::new(
                TYPE_GVK,
                gvk_value(group, kind, version, false),
            ));
        }
        for (group, kind, version) in &required {
            let value = gvk_value(group, kind, version, false);
            props.push(RawProperty::new(TYPE_GVK_REQUIRED, value));
        }
        props.extend(package_required);
        props.extend(others);
        // Sorted on the raw bytes, before any compaction (spec §4.4).
        props.sort_by(|a, b| {
            a.typ.cmp(&b.typ).then_with(|| {
                a.value
                    .as_deref()
                    .unwrap_or_default()
                    .cmp(b.value.as_deref().unwrap_or_default())
            })
        });
        Ok(props
            .into_iter()
            .map(|p| Property {
                typ: p.typ,
                // A nil RawMessage is written as `null`.
                value: p
                    .value
                    .map_or_else(|| "null".to_string(), |v| gojson::compact(&v)),
                ..Default::default()
            })
            .collect())
    }

    /// Go's `getRelatedImages` (spec §4.4, "relatedImages").
    fn related_images(&self, image: &str) -> Result<Vec<RelatedImage>, String> {
        let mut out: Vec<RelatedImage> = self
            .csv
            .related_images()?
            .into_iter()
            .map(|(name, image)| RelatedImage { name, image })
            .collect();
        let mut all: BTreeSet<String> = out.iter().map(|r| r.image.clone()).collect();
        // GO QUIRK: the bundle image is not added to the seen set, so a
        // deployment image equal to it is listed a second time.
        if !image.is_empty() && !all.contains(image) {
            out.push(RelatedImage {
                name: String::new(),
                image: image.to_string(),
            });
        }
        for img in self.csv.operator_images()? {
            if !all.contains(&img) {
                out.push(RelatedImage {
                    name: String::new(),
                    image: img.clone(),
                });
            }
            all.insert(img);
        }
        // render sorts related images with Go's unstable sort.Slice (spec
        // §4.3 step 3); equal images under different names end up in the
        // order Go's algorithm leaves them, which the later stable sort in
        // `prepare_for_render` keeps.
        crate::gosort::sort_slice(&mut out, |a, b| a.image < b.image);
        Ok(out)
    }
}

/// Read `manifests/` as Go's `addManifests` does: the kept objects, the CSV
/// and the decoded CRDs.
fn read_manifests(dir: &Path) -> Result<(Vec<Object>, Csv, Vec<Crd>), String> {
    let mut objects = Vec::new();
    let mut csv_found = false;
    for path in sorted_entries(dir)? {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if meta.is_dir() || hidden {
            continue;
        }
        let Some(obj) = manifests::object_from_file(&path) else {
            continue;
        };
        // Only the first CSV (in file name order) is kept, silently.
        if obj.kind == CSV_KIND {
            if csv_found {
                continue;
            }
            csv_found = true;
        }
        objects.push(obj);
    }
    if objects.is_empty() {
        return Err("no bundle objects found".into());
    }
    // Go's `Bundle.cache`: the CSV, then every CRD, by GroupVersionKind.
    let csv = match objects.iter().find(|o| o.gvk.2 == CSV_KIND) {
        Some(o) => Some(Csv::from_object(o)?),
        None => None,
    };
    let mut crds = Vec::new();
    for o in objects.iter().filter(|o| o.gvk.2 == CRD_KIND) {
        if let Some(crd) = Crd::from_object(o)? {
            crds.push(crd);
        }
    }
    let csv = csv.ok_or("no csv in bundle")?;
    Ok((objects, csv, crds))
}

/// A CRD's API key from its `<plural>.<group>` name.
fn crd_key(name: &str, version: &str, kind: &str) -> Result<ApiKey, String> {
    let (plural, group) = name
        .split_once('.')
        .ok_or_else(|| format!("couldn't parse plural.group from crd name: {name}"))?;
    Ok(ApiKey {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        plural: plural.to_string(),
    })
}

/// A directory's entries sorted by name, as Go's `fs.ReadDir` lists them.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("open .: {}", go_errno_text(&e)))?;
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(paths)
}

/// k8s `NewYAMLOrJSONDecoder(r, 30)`: only the first 30 bytes are sniffed
/// for a leading `{`, so JSON indented further than that is read as YAML.
const SNIFF_BYTES: usize = 30;

/// The first document of a YAML-or-JSON file: the decoded value and, for a
/// JSON document, its source text. `None` for a file with no document.
pub(crate) fn first_document(bytes: &[u8]) -> Option<Result<(Value, Option<String>), String>> {
    // Go turns invalid UTF-8 inside strings into U+FFFD.
    let text = String::from_utf8_lossy(bytes);
    let first_non_ws = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if first_non_ws.is_some_and(|i| i >= SNIFF_BYTES && bytes[i] == b'{') {
        return Some(
            crate::encoding::yaml::yaml_to_value(&text)
                .map(|v| (v, None))
                .map_err(|e| e.to_string()),
        );
    }
    let mut first = None;
    let _ = for_each_document(&text, |doc| {
        first = Some(doc.value.map(|v| {
            let raw = doc.raw.map(|r| String::from_utf8_lossy(r).into_owned());
            (v, raw)
        }));
        Err(())
    });
    first
}

/// The first document as the JSON text Go's struct decoding reads: a JSON
/// document's own text, or a YAML document converted like `YAMLToJSON`.
fn first_document_json(bytes: &[u8]) -> Option<Result<String, String>> {
    Some(first_document(bytes)?.map(|(value, raw)| match raw {
        Some(text) => text,
        None => {
            let mut out = Vec::new();
            write_marshal_html(&value, &mut out);
            utf8(out)
        }
    }))
}

fn utf8(v: Vec<u8>) -> String {
    // Our encoders only write UTF-8.
    String::from_utf8(v).unwrap_or_default()
}

/// A JSON object of string fields as Go's encoder writes a struct: HTML
/// escaping on where Go used `json.Marshal` (the intermediate list), off
/// where it used the property package's encoder (the output).
fn string_object(fields: &[(&str, &str)], html: bool) -> String {
    let s: fn(&str, &mut Vec<u8>) = if html {
        crate::encoding::json::write_string_html
    } else {
        write_string
    };
    let mut out = vec![b'{'];
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(k, &mut out);
        out.push(b':');
        s(v, &mut out);
    }
    out.push(b'}');
    utf8(out)
}

/// `{"group":G,"kind":K,"version":V}`.
fn gvk_value(group: &str, kind: &str, version: &str, html: bool) -> String {
    string_object(
        &[("group", group), ("kind", kind), ("version", version)],
        html,
    )
}

/// The `olm.package` value (`release` only when set).
fn package_value(name: &str, version: &str, release: &str, html: bool) -> String {
    let mut fields = vec![("packageName", name), ("version", version)];
    if !release.is_empty() {
        fields.push(("release", release));
    }
    string_object(&fields, html)
}

/// A property value decoded into one of the property package's structs.
fn raw_value(p: &RawProperty) -> Result<gojson::Raw<'_>, gojson::DecodeError> {
    let text = p.value.as_deref().ok_or(gojson::DecodeError::Eof)?;
    gojson::parse(text).map_err(|_| gojson::DecodeError::Eof)
}

fn struct_strings(
    p: &RawProperty,
    go_type: &str,
    strukt: &'static str,
    names: &[&str],
) -> Result<Vec<String>, gojson::DecodeError> {
    let raw = raw_value(p)?;
    let f = gojson::fields(raw, &At::value(), go_type, names)?.unwrap_or_default();
    let at = At::root(strukt);
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        out.push(match f.get(i).copied().flatten() {
            Some(v) => gojson::string(v, &at.field(name))?,
            None => String::new(),
        });
    }
    Ok(out)
}

/// `json.Unmarshal` into `property.GVK`: `(group, kind, version)`.
fn parse_gvk(p: &RawProperty) -> Result<(String, String, String), gojson::DecodeError> {
    let mut f = struct_strings(p, "property.GVK", "GVK", &["group", "kind", "version"])?;
    let version = f.pop().unwrap_or_default();
    let kind = f.pop().unwrap_or_default();
    let group = f.pop().unwrap_or_default();
    Ok((group, kind, version))
}

/// `json.Unmarshal` into `property.Package`: `(name, version, release)`.
fn parse_package(p: &RawProperty) -> Result<(String, String, String), gojson::DecodeError> {
    let mut f = struct_strings(
        p,
        "property.Package",
        "Package",
        &["packageName", "version", "release"],
    )?;
    let release = f.pop().unwrap_or_default();
    let version = f.pop().unwrap_or_default();
    let name = f.pop().unwrap_or_default();
    Ok((name, version, release))
}

#[cfg(test)]
mod tests;
