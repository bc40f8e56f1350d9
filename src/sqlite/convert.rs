//! From the rows of [`super::read`] to a [`DeclarativeConfig`], following
//! v1.73's path: `sqlite.ToModel` (packages, channels, bundle properties,
//! package icons, `Normalize`), `declcfg.ConvertFromModel` (entries sorted
//! by name, one bundle per name with de-duplicated sorted properties) and
//! `populateDBRelatedImages` (spec §7.3 steps 1–3).
//!
//! Unlike v1.73, which held the whole index in memory, the catalog is
//! produced one package at a time: only that package's manifests are read
//! and decoded (in parallel), and the package is handed on before the next
//! one is read, so memory stays near the size of the largest package.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine;
use rayon::prelude::*;
use serde_json::Value;

use super::read::{EntryRow, Index};
use super::schema::{Db, json_object};
use super::{ErrorKind, SqliteError};
use crate::catalog::{
    Bundle, Channel, ChannelEntry, DeclarativeConfig, Icon, LoadOptions, Package, Property,
    RelatedImage, SCHEMA_BUNDLE, SCHEMA_CHANNEL, SCHEMA_PACKAGE,
};

const TYPE_GVK: &str = "olm.gvk";
const TYPE_GVK_REQUIRED: &str = "olm.gvk.required";
const TYPE_PACKAGE: &str = "olm.package";
const TYPE_PACKAGE_REQUIRED: &str = "olm.package.required";
const TYPE_BUNDLE_OBJECT: &str = "olm.bundle.object";
const TYPE_DEPRECATED: &str = "olm.deprecated";

/// The manifests of one bundle: the `bundle` column and the byte range of
/// each object in it (Go keeps each object's stored text).
struct Manifests {
    blob: String,
    objects: Vec<std::ops::Range<usize>>,
    /// Index into `objects`.
    csv: Option<usize>,
}

impl Manifests {
    fn object(&self, i: usize) -> &str {
        &self.blob[self.objects[i].clone()]
    }

    fn csv_json(&self) -> Option<&str> {
        self.csv.map(|i| self.object(i))
    }
}

/// A bundle's decoded `bundle` column (`None`: an image-only row), or why
/// it could not be decoded.
type Decoded = Result<Option<(Manifests, Option<CsvView>)>, String>;

/// A bundle's CSV, decoded once for what render takes from it.
struct CsvView {
    related_images: Vec<RelatedImage>,
}

/// Render the whole index, one package at a time: `f` gets the package's
/// position (in name order) and its blobs.
pub(super) fn for_each_package(
    db: &Db,
    index: &Index,
    opts: LoadOptions,
    f: &mut dyn FnMut(usize, DeclarativeConfig) -> Result<(), String>,
) -> Result<(), SqliteError> {
    let err = |kind: ErrorKind| SqliteError::new(&index.path, kind);

    // Packages and their channels (v1.73 `initializeModelPackages`).
    let mut channels_of: HashMap<&str, BTreeMap<&str, Option<&str>>> = HashMap::new();
    for (p, c, head) in &index.channels {
        if let Some(p) = p.as_deref() {
            channels_of
                .entry(p)
                .or_default()
                .insert(c.as_deref().unwrap_or(""), head.as_deref());
        }
    }
    let mut packages: BTreeMap<&str, PackageModel<'_>> = BTreeMap::new();
    for (name, default) in &index.packages {
        let Some(channels) = channels_of.remove(name.as_str()) else {
            // v1.73's GetPackage inner-joins `channel`, so a package without
            // channels reads as missing.
            return Err(
                err(ErrorKind::Invalid(format!("package {name} not found"))).at(format!(
                    "table package, name {}: no row in table channel",
                    go_quote(name)
                )),
            );
        };
        let default = default
            .as_deref()
            .filter(|d| channels.contains_key(d))
            .ok_or_else(|| {
                // v1.73 dereferenced the missing default channel and panicked.
                err(ErrorKind::Invalid(format!(
                    "invalid package {}: default channel {} is not one of its channels",
                    go_quote(name),
                    go_quote(default.as_deref().unwrap_or(""))
                )))
                .at(format!("table package, name {}", go_quote(name)))
            })?;
        packages.insert(
            name,
            PackageModel {
                default,
                channels: channels
                    .into_iter()
                    .map(|(c, head)| (c, (head, Vec::new())))
                    .collect(),
            },
        );
    }

    // Place each bundle row in its channel (v1.73 `populateModelChannels`).
    for (i, e) in index.entries.iter().enumerate() {
        let props = index
            .properties
            .get(&e.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Spec §7.3: a bundle carrying `olm.deprecated` is left out.
        if props.iter().any(|(t, _)| t == TYPE_DEPRECATED) {
            continue;
        }
        let place = || format!("table channel_entry, entry_id {}", e.entry_id);
        let Some(pkg) = packages.get_mut(e.package.as_str()) else {
            return Err(err(ErrorKind::Invalid(format!(
                "populate channels: unknown package {} for bundle {}",
                go_quote(&e.package),
                go_quote(&e.name)
            )))
            .at(place()));
        };
        let Some((_, members)) = pkg.channels.get_mut(e.channel.as_str()) else {
            return Err(err(ErrorKind::Invalid(format!(
                "populate channels: unknown channel {} for bundle {}",
                go_quote(&e.channel),
                go_quote(&e.name)
            )))
            .at(place()));
        };
        members.push(i);
    }

    // `populateDBRelatedImages`: related_image rows not already listed,
    // with an empty name. v1.73 drained one set per bundle name, so a name
    // shared by two packages gets each image once.
    let mut extra: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (bundle, image) in &index.related_images {
        extra
            .entry(bundle.as_str())
            .or_default()
            .insert(image.as_str());
    }

    // Reading is SQLite work on this thread (the connection cannot be
    // shared); decoding and building run on a second thread (and rayon)
    // one package behind, so the two overlap. Results come back in package
    // order, and `f` and the related-image merge run here.
    let packages: Vec<(&str, &PackageModel<'_>)> = packages.iter().map(|(n, p)| (*n, p)).collect();
    std::thread::scope(|scope| -> Result<(), SqliteError> {
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(usize, Blobs<'_>)>(1);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let packages = &packages;
        scope.spawn(move || {
            for (unit, blobs) in work_rx {
                let (pkg_name, pkg) = packages[unit];
                let built = build_package(index, pkg_name, pkg, blobs, opts);
                if done_tx.send((unit, built)).is_err() {
                    break;
                }
            }
        });
        let mut emit = |(unit, built): (usize, Result<DeclarativeConfig, SqliteError>)| {
            let mut cfg = built?;
            merge_db_related_images(&mut cfg.bundles, &mut extra);
            f(unit, cfg).map_err(|m| err(ErrorKind::Consumer(m)))
        };
        for (unit, (_, pkg)) in packages.iter().enumerate() {
            let blobs = read_blobs(db, index, pkg)?;
            if work_tx.send((unit, blobs)).is_err() {
                break;
            }
            while let Ok(done) = done_rx.try_recv() {
                emit(done)?;
            }
        }
        drop(work_tx);
        for done in done_rx {
            emit(done)?;
        }
        Ok(())
    })
}

/// The `bundle` column of each bundle a package renders, and of its
/// default channel's head (for the icon).
type Blobs<'a> = Vec<(&'a str, Option<Vec<u8>>)>;

/// One olm.bundle per bundle name: the first row met decides image and
/// CSV, as in v1.73's `traverseModelChannels`.
fn first_rows<'a>(index: &'a Index, pkg: &PackageModel<'_>) -> BTreeMap<&'a str, usize> {
    let mut firsts = BTreeMap::new();
    for (_, members) in pkg.channels.values() {
        for &i in members {
            firsts.entry(index.entries[i].name.as_str()).or_insert(i);
        }
    }
    firsts
}

fn read_blobs<'a>(
    db: &Db,
    index: &'a Index,
    pkg: &PackageModel<'a>,
) -> Result<Blobs<'a>, SqliteError> {
    let firsts = first_rows(index, pkg);
    let head = pkg.channels.get(pkg.default).and_then(|(head, _)| *head);
    let mut blobs: Blobs<'a> = Vec::with_capacity(firsts.len() + 1);
    let head = head.filter(|h| !firsts.contains_key(h));
    for name in firsts.keys().copied().chain(head) {
        blobs.push((name, db.manifests(name)?));
    }
    Ok(blobs)
}

/// `populateDBRelatedImages`: related_image rows not already listed, with
/// an empty name. v1.73 drained one set per bundle name, so a name shared
/// by two packages gets each image once.
fn merge_db_related_images(bundles: &mut [Bundle], extra: &mut HashMap<&str, BTreeSet<&str>>) {
    for b in bundles {
        if let Some(set) = extra.get_mut(b.name.as_str()) {
            for ri in &b.related_images {
                set.remove(ri.image.as_str());
            }
            // v1.73 walked a Go map here (random order); render sorts them.
            b.related_images.extend(set.iter().map(|img| RelatedImage {
                name: String::new(),
                image: (*img).to_string(),
            }));
            set.clear();
        }
    }
}

/// Decode one package's manifests and build its blobs.
fn build_package(
    index: &Index,
    pkg_name: &str,
    pkg: &PackageModel<'_>,
    blobs: Blobs<'_>,
    opts: LoadOptions,
) -> Result<DeclarativeConfig, SqliteError> {
    let err = |kind: ErrorKind| SqliteError::new(&index.path, kind);
    let firsts = first_rows(index, pkg);
    let decoded: HashMap<&str, Decoded> = blobs
        .into_par_iter()
        .map(|(name, blob)| (name, blob.map(decode).transpose()))
        .collect();
    let bundles: Vec<Bundle> = firsts
        .par_iter()
        .map(|(name, &i)| {
            let e = &index.entries[i];
            let parsed = match decoded.get(name) {
                Some(Err(m)) => {
                    return Err(
                        err(ErrorKind::Invalid(format!("populate channels: {m}"))).at(format!(
                            "table operatorbundle, name {}, column bundle",
                            go_quote(name)
                        )),
                    );
                }
                Some(Ok(p)) => p.as_ref(),
                None => None,
            };
            build_bundle(index, e, parsed, opts).map_err(|m| {
                err(ErrorKind::Invalid(format!(
                    "populate channels: convert bundle {}: {m}",
                    go_quote(&e.name)
                )))
                .at(format!(
                    "bundle {} (tables properties, dependencies, operatorbundle)",
                    go_quote(&e.name)
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let icon = package_icon(index, &decoded, pkg_name, pkg).map_err(|m| {
        err(ErrorKind::Invalid(format!("populate package icons: {m}"))).at(format!(
            "table channel, package {} name {}",
            go_quote(pkg_name),
            go_quote(pkg.default)
        ))
    })?;
    let mut cfg = DeclarativeConfig {
        packages: vec![Package {
            schema: SCHEMA_PACKAGE.into(),
            name: (*pkg_name).to_string(),
            default_channel: pkg.default.to_string(),
            icon,
            ..Default::default()
        }],
        bundles,
        ..Default::default()
    };
    for (ch_name, (_, members)) in &pkg.channels {
        let mut entries: Vec<ChannelEntry> =
            members.iter().map(|&i| entry(&index.entries[i])).collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        cfg.channels.push(Channel {
            schema: SCHEMA_CHANNEL.into(),
            name: (*ch_name).to_string(),
            package: (*pkg_name).to_string(),
            entries: Some(entries),
            properties: Vec::new(),
        });
    }
    Ok(cfg)
}

/// Decode a `bundle` column: its objects, its CSV and what render reads
/// from the CSV.
fn decode(blob: Vec<u8>) -> Result<(Manifests, Option<CsvView>), String> {
    parse_manifests(blob)
}

struct PackageModel<'a> {
    default: &'a str,
    /// channel name → (head bundle, indices of its entry rows).
    channels: BTreeMap<&'a str, (Option<&'a str>, Vec<usize>)>,
}

fn entry(e: &EntryRow) -> ChannelEntry {
    ChannelEntry {
        name: e.name.clone(),
        replaces: e.replaces.clone(),
        // Go: strings.Split(group_concat(…), ","), in SQLite's order.
        skips: e
            .skips
            .as_deref()
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        skip_range: e.skip_range.clone(),
    }
}

/// The `olm.bundle` for one row (v1.73 `ConvertAPIBundleToModelBundle`,
/// then `Normalize`, `Deduplicate` and the sort by type and value).
fn build_bundle(
    index: &Index,
    e: &EntryRow,
    parsed: Option<&(Manifests, Option<CsvView>)>,
    opts: LoadOptions,
) -> Result<Bundle, String> {
    let mut props: Vec<Property> = Vec::new();
    let mut provided: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut required: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut found_package = false;
    let db_props = index
        .properties
        .get(&e.name)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, (typ, value)) in db_props.iter().enumerate() {
        match typ.as_str() {
            TYPE_GVK => {
                let v = parse_struct(value, "api.GroupVersionKind", &["group", "version", "kind"])
                    .map_err(|m| parse_error(i, typ, &m))?;
                provided.insert((v[0].clone(), v[1].clone(), v[2].clone()));
            }
            other => {
                found_package |= other == TYPE_PACKAGE;
                props.push(Property {
                    typ: typ.clone(),
                    value: value.clone(),
                    ..Default::default()
                });
            }
        }
    }
    let deps = index
        .dependencies
        .get(&e.name)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, (typ, value)) in deps.iter().enumerate() {
        match typ.as_str() {
            TYPE_GVK => {
                let v = parse_struct(value, "api.GroupVersionKind", &["group", "version", "kind"])
                    .map_err(|m| parse_error(i, typ, &m))?;
                required.insert((v[0].clone(), v[1].clone(), v[2].clone()));
            }
            TYPE_PACKAGE => {
                let v = parse_struct(value, "property.Package", &["packageName", "version"])
                    .map_err(|m| parse_error(i, typ, &m))?;
                props.push(Property {
                    typ: TYPE_PACKAGE_REQUIRED.into(),
                    value: json_object(&[("packageName", &v[0]), ("versionRange", &v[1])], false),
                    ..Default::default()
                });
            }
            // Go quirk (spec §7.3): olm.constraint and olm.label
            // dependencies are dropped.
            _ => {}
        }
    }
    if !found_package {
        props.push(Property {
            typ: TYPE_PACKAGE.into(),
            value: json_object(
                &[("packageName", &e.package), ("version", &e.version)],
                false,
            ),
            ..Default::default()
        });
    }
    for (group, version, kind) in &provided {
        props.push(Property {
            typ: TYPE_GVK.into(),
            value: json_object(
                &[("group", group), ("kind", kind), ("version", version)],
                false,
            ),
            ..Default::default()
        });
    }
    for (group, version, kind) in &required {
        props.push(Property {
            typ: TYPE_GVK_REQUIRED.into(),
            value: json_object(
                &[("group", group), ("kind", kind), ("version", version)],
                false,
            ),
            ..Default::default()
        });
    }
    let (manifests, view) = match parsed {
        Some((m, view)) => (Some(m), view.as_ref()),
        None => (None, None),
    };
    for i in 0..manifests.map_or(0, |m| m.objects.len()) {
        let obj = manifests.map(|m| m.object(i)).unwrap_or_default();
        let mut value = String::with_capacity(obj.len() * 4 / 3 + 16);
        value.push_str("{\"data\":\"");
        base64::engine::general_purpose::STANDARD.encode_string(obj, &mut value);
        value.push_str("\"}");
        props.push(Property {
            typ: TYPE_BUNDLE_OBJECT.into(),
            value,
            ..Default::default()
        });
    }
    // `Model.Normalize`.
    for p in &mut props {
        if p.typ != TYPE_BUNDLE_OBJECT {
            p.value = go_compact(&p.value).map_err(|m| {
                format!(
                    "property {} has an invalid JSON value: {m}",
                    go_quote(&p.typ)
                )
            })?;
        }
    }
    // `property.Deduplicate` then the sort by type and value: sorting first
    // puts duplicates side by side.
    props.sort_by(|a, b| a.typ.cmp(&b.typ).then_with(|| a.value.cmp(&b.value)));
    props.dedup_by(|a, b| a.typ == b.typ && a.value == b.value);

    Ok(Bundle {
        schema: SCHEMA_BUNDLE.into(),
        name: e.name.clone(),
        package: e.package.clone(),
        image: e.image.clone(),
        properties: props,
        related_images: view.map(|v| v.related_images.clone()).unwrap_or_default(),
        csv_json: manifests.and_then(Manifests::csv_json).map(str::to_string),
        objects: match manifests {
            Some(m) if opts.keep_objects => (0..m.objects.len())
                .map(|i| m.object(i).to_string())
                .collect(),
            _ => Vec::new(),
        },
    })
}

fn parse_error(i: usize, typ: &str, m: &str) -> String {
    format!(
        "convert properties: parse property[{i}] of type {}: {m}",
        go_quote(typ)
    )
}

/// Go `json.Unmarshal` of `value` into a struct of string fields: null is
/// the zero struct, field names match case-insensitively, unknown fields
/// are ignored.
fn parse_struct(value: &str, go_type: &str, fields: &[&str]) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(value).map_err(|e| e.to_string())?;
    let mut out = vec![String::new(); fields.len()];
    match &v {
        Value::Null => {}
        Value::Object(o) => {
            for (i, f) in fields.iter().enumerate() {
                match field(o, f) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => out[i] = s.clone(),
                    Some(other) => {
                        let short = go_type.rsplit('.').next().unwrap_or(go_type);
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field {short}.{f} of type string",
                            crate::catalog::model::json_kind(other)
                        ));
                    }
                }
            }
        }
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type {go_type}",
                crate::catalog::model::json_kind(other)
            ));
        }
    }
    Ok(out)
}

/// Go's struct-field lookup: exact name first, else case-insensitive.
fn field<'a>(o: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Split the `bundle` column into its objects (Go `json.Decoder` over
/// concatenated values, each kept as its raw text) and find the CSV among
/// them (the first object of kind `ClusterServiceVersion`; every object
/// before it must have a kind).
fn parse_manifests(blob: Vec<u8>) -> Result<(Manifests, Option<CsvView>), String> {
    let blob = String::from_utf8(blob)
        .map_err(|e| format!("bundle manifests are not valid UTF-8: {e}"))?;
    let mut objects = Vec::new();
    let mut csv = None;
    let mut view = None;
    // One pass: each value is validated, its `kind` (and a CSV's related
    // images) picked up, while the stream's byte offsets delimit its raw
    // text.
    let mut stream = serde_json::Deserializer::from_str(&blob).into_iter::<KindProbe>();
    loop {
        let rest = &blob[stream.byte_offset()..];
        let start = blob.len() - rest.trim_start().len();
        let Some(probe) = stream.next() else { break };
        let probe = probe.map_err(|e| format!("bundle manifests are not valid JSON: {e}"))?;
        let range = start..stream.byte_offset();
        // Go decodes objects into `unstructured` up to the first CSV only.
        if csv.is_none() {
            match probe.kind.as_deref() {
                None | Some("") => {
                    return Err(format!("Object 'Kind' is missing in '{}'", &blob[range]));
                }
                Some("ClusterServiceVersion") => {
                    csv = Some(objects.len());
                    view = Some(csv_view(probe.related_images)?);
                }
                Some(_) => {}
            }
        }
        objects.push(range);
    }
    if csv.is_none() {
        return Err("no csv in bundle".into());
    }
    Ok((Manifests { blob, objects, csv }, view))
}

/// A JSON value decoded only for its top-level string `kind` (the last
/// one wins, as in Go) and `spec.relatedImages`; everything else is
/// validated and skipped.
struct KindProbe {
    kind: Option<String>,
    related_images: Option<Value>,
}

/// The `relatedImages` of an object's `spec`, if it has one.
struct SpecProbe(Option<Value>);

impl<'de> serde::Deserialize<'de> for SpecProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SpecProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SpecProbe, A::Error> {
                let mut images = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "relatedImages" {
                        images = Some(map.next_value::<Value>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(SpecProbe(images))
            }
        }
        // Anything but an object has no relatedImages: skip it.
        d.deserialize_any(OrIgnore(V))
            .map(|o| o.unwrap_or(SpecProbe(None)))
    }
}

/// Runs visitor `V` on a map and skips any other value (`None`).
struct OrIgnore<V>(V);

impl<'de, V: serde::de::Visitor<'de>> serde::de::Visitor<'de> for OrIgnore<V> {
    type Value = Option<V::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Some)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

impl<'de> serde::Deserialize<'de> for KindProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KindProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KindProbe, A::Error> {
                let mut probe = KindProbe {
                    kind: None,
                    related_images: None,
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "kind" => {
                            probe.kind = match map.next_value::<Value>()? {
                                Value::String(s) => Some(s),
                                _ => None,
                            }
                        }
                        "spec" => probe.related_images = map.next_value::<SpecProbe>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(probe)
            }
        }
        d.deserialize_any(OrIgnore(V)).map(|o| {
            o.unwrap_or(KindProbe {
                kind: None,
                related_images: None,
            })
        })
    }
}

/// `spec.relatedImages` (v1.73 `getRelatedImages`), with Go's type checks.
fn csv_view(images: Option<Value>) -> Result<CsvView, String> {
    let bad = |what: &str, v: &Value| {
        format!(
            "get related iamges: unmarshal csv: json: cannot unmarshal {} into Go struct field {what}",
            crate::catalog::model::json_kind(v)
        )
    };
    let mut related_images = Vec::new();
    match images {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let mut ri = RelatedImage::default();
                match item {
                    Value::Null => {}
                    Value::Object(mut o) => {
                        for (name, slot) in [("name", &mut ri.name), ("image", &mut ri.image)] {
                            match o.remove(name) {
                                None | Some(Value::Null) => {}
                                Some(Value::String(s)) => *slot = s,
                                Some(other) => {
                                    return Err(bad(
                                        &format!(".spec.relatedImages.{name} of type string"),
                                        &other,
                                    ));
                                }
                            }
                        }
                    }
                    other => return Err(bad("csv.spec.relatedImages of type struct", &other)),
                }
                related_images.push(ri);
            }
        }
        Some(other) => return Err(bad("csv.spec.relatedImages of type []struct", &other)),
    }
    Ok(CsvView { related_images })
}

/// The icon of the default channel's head (v1.73 `populatePackageIcons`).
fn package_icon(
    index: &Index,
    manifests: &HashMap<&str, Decoded>,
    pkg_name: &str,
    pkg: &PackageModel<'_>,
) -> Result<Option<Icon>, String> {
    let no_entry = || {
        format!(
            "get default channel head for package {}: no entry found for {pkg_name} {}",
            go_quote(pkg_name),
            pkg.default
        )
    };
    // v1.73's GetBundleForChannel inner-joins the head with operatorbundle
    // and with its own channel_entry row.
    let head = pkg
        .channels
        .get(pkg.default)
        .and_then(|(head, _)| *head)
        .ok_or_else(no_entry)?;
    let member = (
        pkg_name.to_string(),
        pkg.default.to_string(),
        head.to_string(),
    );
    if !index.memberships.contains(&member) {
        return Err(no_entry());
    }
    let parsed = match manifests.get(head) {
        None => return Err(no_entry()),
        Some(Err(m)) => {
            return Err(format!(
                "get default channel head for package {}: {m}",
                go_quote(pkg_name)
            ));
        }
        Some(Ok(p)) => p,
    };
    // Beyond v1.73, which failed here with "unexpected end of JSON input":
    // a head without a CSV (an image-only row) simply has no icon.
    let Some(csv) = parsed.as_ref().and_then(|(m, _)| m.csv_json()) else {
        return Ok(None);
    };
    crate::bundle::csv_icon(csv)
        .map_err(|e| format!("unmarshal CSV json for bundle {}: {e}", go_quote(head)))
}

/// `Model.Normalize` as v1.73 applied it: the value compacted (no HTML
/// escaping: the recorded v1.73 output keeps `>` in values it built and
/// `\u003e` in values it read).
pub(super) fn go_compact(raw: &str) -> Result<String, String> {
    serde_json::from_str::<serde::de::IgnoredAny>(raw).map_err(|e| e.to_string())?;
    let b = raw.as_bytes();
    if !b.iter().any(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
        return Ok(raw.to_string());
    }
    let mut out = Vec::with_capacity(b.len());
    let mut in_string = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => {
                    out.extend_from_slice(&b[i..i + 2]);
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        } else if c == b'"' {
            in_string = true;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

fn go_quote(s: &str) -> String {
    crate::catalog::load::go_quote(s)
}
