//! The semver template (`olm.semver`): bundle images listed under the
//! Candidate, Fast and Stable archetypes, from which Go opm generates
//! `<archetype>-v<X>` and/or `<archetype>-v<X>.<Y>` channels, their edges
//! and the package's default channel (replay README §5.3).
//!
//! The template is decoded strictly (unknown keys are errors) but, as with
//! Go's `encoding/json`, keys match case-insensitively. Where Go iterates
//! a map (bundle render order, the build-metadata conflict message) this
//! code goes in template order instead, which is one of Go's outcomes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use semver::{BuildMetadata, Version};
use serde_json::{Map, Value};

use super::{BundleRenderer, TemplateError, field, first_document, json_kind};
use crate::catalog::load::go_quote;
use crate::catalog::validate::props::parse_properties;
use crate::catalog::{Channel, ChannelEntry, DeclarativeConfig, Icon, Package};
use crate::semver_range::{compare, parse_version};

pub const SCHEMA: &str = "olm.semver";

/// Channel archetypes, least stable first (Go's `channelPriorities`).
const ARCHETYPES: [&str; 3] = ["candidate", "fast", "stable"];

/// Generated channel kinds; the derived order is Go's
/// `streamTypePriorities` (unset < major < minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Stream {
    Unset,
    Major,
    Minor,
}

/// The decoded template.
#[derive(Debug, Default)]
struct Data {
    major: bool,
    minor: bool,
    preference: Option<Stream>,
    /// `defaultChannelTypePreference` as written (checked after decoding).
    preference_raw: String,
    /// Image lists per archetype, in [`ARCHETYPES`] order.
    bundles: [Vec<String>; 3],
}

pub fn render(
    text: &str,
    renderer: &dyn BundleRenderer,
) -> Result<DeclarativeConfig, TemplateError> {
    let data = read(text).map_err(|e| e.context("render: unable to read file"))?;

    // Every image once, in template order (Go: a map, rendered in map order).
    let mut images: Vec<String> = Vec::new();
    for list in &data.bundles {
        for img in list {
            if !images.contains(img) {
                images.push(img.clone());
            }
        }
    }
    renderer.prefetch(&images);
    let mut out = DeclarativeConfig::default();
    for img in &images {
        let c = renderer
            .render(img)
            .map_err(|m| TemplateError::new(m).at(img.clone()))?;
        if c.bundles.len() != 1 {
            return Err(TemplateError::new(format!(
                "bundle reference {} resulted in {} bundles, expected 1",
                go_quote(img),
                c.bundles.len()
            ))
            .at(img.clone()));
        }
        out.extend(c);
    }
    if out.bundles.is_empty() {
        return Err(TemplateError::new(
            "render: no bundles specified or no bundles could be rendered",
        ));
    }

    let mut pkg = String::new();
    let mut versions: Vec<Vec<(String, Version)>> = Vec::new();
    for list in &data.bundles {
        let v = channel_versions(list, &mut out, &mut pkg)
            .map_err(|e| e.context("render: unable to post-process bundle info"))?;
        versions.push(v);
    }

    let (channels, default_channel) = generate_channels(&data, &pkg, &versions);
    out.channels = channels;
    if let Some(p) = out.packages.first_mut() {
        p.default_channel = default_channel.clone();
    }
    populate_package_metadata(&mut out, &default_channel);
    Ok(out)
}

/// Go's `readFile`: `yaml.UnmarshalStrict` into `SemverTemplateData`, then
/// the generate-flag defaults and the preference check.
fn read(text: &str) -> Result<Data, TemplateError> {
    let doc = first_document(text)?;
    let mut errs: Vec<(String, String)> = Vec::new();
    let mut data = Data::default();
    let mut schema = String::new();
    match &doc {
        Value::Object(obj) => decode_top(obj, &mut data, &mut schema, &mut errs),
        Value::Null => {}
        other => errs.push((
            format!(
                "json: cannot unmarshal {} into Go value of type semver.SemverTemplateData",
                json_kind(other)
            ),
            String::new(),
        )),
    }
    // Go's decoder keeps the first error in document order; our maps are
    // sorted, so the error whose key is written first in the text wins.
    if let Some((msg, key)) = errs
        .into_iter()
        .min_by_key(|(_, key)| super::locate(text, key).unwrap_or(usize::MAX))
    {
        return Err(TemplateError::new(format!(
            "error unmarshaling JSON: while decoding JSON: {msg}"
        ))
        .at(key));
    }
    if schema != SCHEMA {
        return Err(TemplateError::new(format!(
            "readFile: input file has unknown schema, should be {}",
            go_quote(SCHEMA)
        ))
        .at("schema"));
    }
    if !data.major && !data.minor {
        data.minor = true;
    }
    data.preference = match data.preference_raw.as_str() {
        "" => None,
        "minor" => Some(Stream::Minor),
        "major" => Some(Stream::Major),
        other => {
            return Err(TemplateError::new(format!(
                "unknown DefaultChannelTypePreference: {}\nValid values are 'major' or 'minor'",
                go_quote(other)
            ))
            .at(other.to_string()));
        }
    };
    match data.preference {
        None => {
            data.preference = Some(if data.minor {
                Stream::Minor
            } else {
                Stream::Major
            })
        }
        Some(Stream::Minor) if !data.minor => {
            return Err(TemplateError::new("schema attribute mismatch: DefaultChannelTypePreference set to 'minor' doesn't make sense if not generating minor-version channels").at("efaultChannelTypePreference"));
        }
        Some(Stream::Major) if !data.major => {
            return Err(TemplateError::new("schema attribute mismatch: DefaultChannelTypePreference set to 'major' doesn't make sense if not generating major-version channels").at("efaultChannelTypePreference"));
        }
        _ => {}
    }
    Ok(data)
}

fn decode_top(
    obj: &Map<String, Value>,
    data: &mut Data,
    schema: &mut String,
    errs: &mut Vec<(String, String)>,
) {
    const OWNER: &str = "SemverTemplateData";
    for (k, v) in obj {
        let type_err = |field: &str, want: &str| {
            (
                format!(
                    "json: cannot unmarshal {} into Go struct field {OWNER}.{field} of type {want}",
                    json_kind(v)
                ),
                k.clone(),
            )
        };
        match k.to_lowercase().as_str() {
            "schema" => match v {
                Value::String(s) => *schema = s.clone(),
                Value::Null => {}
                _ => errs.push(type_err("schema", "string")),
            },
            "generatemajorchannels" | "generateminorchannels" => {
                let slot = if k.eq_ignore_ascii_case("generateMajorChannels") {
                    &mut data.major
                } else {
                    &mut data.minor
                };
                match v {
                    Value::Bool(b) => *slot = *b,
                    Value::Null => {}
                    _ => errs.push(type_err(
                        if k.eq_ignore_ascii_case("generateMajorChannels") {
                            "generateMajorChannels"
                        } else {
                            "generateMinorChannels"
                        },
                        "bool",
                    )),
                }
            }
            "defaultchanneltypepreference" => match v {
                Value::String(s) => data.preference_raw = s.clone(),
                Value::Null => {}
                _ => errs.push(type_err(
                    "defaultChannelTypePreference",
                    "semver.StreamType",
                )),
            },
            a @ ("candidate" | "fast" | "stable") => {
                let i = ARCHETYPES.iter().position(|x| *x == a).unwrap_or(0);
                decode_channel(k, v, &mut data.bundles[i], errs);
            }
            _ => errs.push((format!("json: unknown field {}", go_quote(k)), k.clone())),
        }
    }
}

fn decode_channel(key: &str, v: &Value, out: &mut Vec<String>, errs: &mut Vec<(String, String)>) {
    let path = format!("SemverTemplateData.{}", key.to_lowercase());
    let obj = match v {
        Value::Null => return,
        Value::Object(o) => o,
        other => {
            errs.push((
                format!(
                    "json: cannot unmarshal {} into Go struct field {path} of type semver.channelBundles",
                    json_kind(other)
                ),
                key.to_string(),
            ));
            return;
        }
    };
    for (k, v) in obj {
        if !k.eq_ignore_ascii_case("bundles") {
            errs.push((format!("json: unknown field {}", go_quote(k)), k.clone()));
            continue;
        }
        let items = match v {
            Value::Null => continue,
            Value::Array(a) => a,
            other => {
                errs.push((
                    format!(
                        "json: cannot unmarshal {} into Go struct field {path}.bundles of type []semver.bundleEntry",
                        json_kind(other)
                    ),
                    k.clone(),
                ));
                continue;
            }
        };
        for item in items {
            let mut image = String::new();
            match item {
                Value::Null => {}
                Value::Object(o) => {
                    for (ik, iv) in o {
                        if !ik.eq_ignore_ascii_case("image") {
                            errs.push((format!("json: unknown field {}", go_quote(ik)), ik.clone()));
                            continue;
                        }
                        match iv {
                            Value::String(s) => image = s.clone(),
                            Value::Null => {}
                            other => errs.push((
                                format!(
                                    "json: cannot unmarshal {} into Go struct field {path}.bundles.image of type string",
                                    json_kind(other)
                                ),
                                ik.clone(),
                            )),
                        }
                    }
                }
                other => errs.push((
                    format!(
                        "json: cannot unmarshal {} into Go struct field {path}.bundles of type semver.bundleEntry",
                        json_kind(other)
                    ),
                    k.clone(),
                )),
            }
            out.push(image);
        }
    }
}

/// Go's `getVersionsFromChannel` + `validateVersions` for one archetype:
/// each listed bundle's name and version, in template order. The first
/// bundle seen names the package (and creates its blob).
fn channel_versions(
    images: &[String],
    cfg: &mut DeclarativeConfig,
    pkg: &mut String,
) -> Result<Vec<(String, Version)>, TemplateError> {
    let mut entries: Vec<(String, Version)> = Vec::new();
    for img in images {
        let at = |m: String| TemplateError::new(m).at(img.clone());
        let Some(b) = cfg.bundles.iter().find(|b| &b.image == img) else {
            return Err(at(format!(
                "supplied bundle image name {} not found in rendered bundle images",
                go_quote(img)
            )));
        };
        let (props, err) = parse_properties(&b.properties);
        if let Some(e) = err {
            return Err(at(format!(
                "parse properties for bundle {}: {e}",
                go_quote(&b.name)
            )));
        }
        if props.packages.len() != 1 {
            return Err(at(format!(
                "bundle {} has multiple \"olm.package\" properties, expected exactly 1",
                go_quote(&b.name)
            )));
        }
        let pp = &props.packages[0];
        let v = parse_version(&pp.version).map_err(|e| {
            at(format!(
                "bundle {} has invalid version {}: {e}",
                go_quote(&b.name),
                go_quote(&pp.version)
            ))
        })?;
        if pkg.is_empty() {
            *pkg = pp.package_name.clone();
            cfg.packages.push(Package {
                schema: "olm.package".into(),
                name: pp.package_name.clone(),
                ..Default::default()
            });
        } else if &pp.package_name != pkg {
            // Go names the bundle's package here, not the bundle.
            return Err(at(format!(
                "bundle {} does not belong to this package: {}",
                go_quote(&pp.package_name),
                go_quote(pkg)
            )));
        }
        if entries.iter().any(|(n, _)| n == &b.name) {
            return Err(at(format!("duplicate bundle name {}", go_quote(&b.name))));
        }
        entries.push((b.name.clone(), v));
    }
    // withoutBuildMetadataConflict, over the bundles in template order.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut errs = Vec::new();
    let mut anchor = None;
    for (i, (_, v)) in entries.iter().enumerate() {
        let stripped = strip_build(v);
        if !seen.insert(stripped.clone()) {
            errs.push(format!(
                "bundle version {} cannot be compared to {}",
                go_quote(&v.to_string()),
                go_quote(&stripped)
            ));
            anchor.get_or_insert(images.get(i).cloned().unwrap_or_default());
        }
    }
    if !errs.is_empty() {
        let agg = if errs.len() == 1 {
            errs.remove(0)
        } else {
            format!("[{}]", errs.join(", "))
        };
        let e = TemplateError::new(format!(
            "encountered bundle versions which differ only by build metadata, which cannot be ordered: {agg}"
        ));
        return Err(match anchor {
            Some(a) => e.at(a),
            None => e,
        });
    }
    Ok(entries)
}

fn strip_build(v: &Version) -> String {
    let mut v = v.clone();
    v.build = BuildMetadata::EMPTY;
    v.to_string()
}

/// The "high-water" channel: the most stable archetype, then the version
/// of the bundle that created the channel, then the preferred kind.
struct HighWater {
    archetype: usize,
    kind: Stream,
    version: Version,
    name: String,
}

impl HighWater {
    fn gt(&self, other: &HighWater, pref: Stream) -> bool {
        if self.archetype != other.archetype {
            return self.archetype > other.archetype;
        }
        match compare(&self.version, &other.version) {
            Ordering::Equal => {}
            o => return o == Ordering::Greater,
        }
        if self.kind != other.kind {
            if self.kind == pref {
                return true;
            }
            if other.kind == pref {
                return false;
            }
            return self.kind > other.kind;
        }
        false
    }
}

/// One generated channel entry awaiting its edges.
struct Tuple {
    archetype: usize,
    kind: Stream,
    channel: String,
    name: String,
    version: Version,
    index: usize,
}

/// Go's `generateChannels` + `linkChannels`: the channels sorted by name,
/// and the default channel's name.
fn generate_channels(
    data: &Data,
    pkg: &str,
    versions: &[Vec<(String, Version)>],
) -> (Vec<Channel>, String) {
    let pref = data.preference.unwrap_or(Stream::Unset);
    let mut hwc = HighWater {
        archetype: 0,
        kind: Stream::Unset,
        version: Version::new(0, 0, 0),
        name: String::new(),
    };
    let mut channels: BTreeMap<String, Channel> = BTreeMap::new();
    let mut tuples: Vec<Tuple> = Vec::new();
    for (arch, bundles) in versions.iter().enumerate() {
        let mut sorted: Vec<&(String, Version)> = bundles.iter().collect();
        sorted.sort_by(|a, b| compare(&a.1, &b.1));
        for (name, v) in sorted {
            let mut kinds = Vec::new();
            if data.major {
                kinds.push((Stream::Major, format!("{}-v{}", ARCHETYPES[arch], v.major)));
            }
            if data.minor {
                kinds.push((
                    Stream::Minor,
                    format!("{}-v{}.{}", ARCHETYPES[arch], v.major, v.minor),
                ));
            }
            for (kind, cname) in kinds {
                let ch = channels.entry(cname.clone()).or_insert_with(|| {
                    let candidate = HighWater {
                        archetype: arch,
                        kind,
                        version: v.clone(),
                        name: cname.clone(),
                    };
                    if candidate.gt(&hwc, pref) {
                        hwc = candidate;
                    }
                    Channel {
                        schema: "olm.channel".into(),
                        name: cname.clone(),
                        package: pkg.to_string(),
                        entries: Some(Vec::new()),
                        properties: Vec::new(),
                    }
                });
                let entries = ch.entries.get_or_insert_with(Vec::new);
                entries.push(ChannelEntry {
                    name: name.clone(),
                    ..Default::default()
                });
                tuples.push(Tuple {
                    archetype: arch,
                    kind,
                    channel: cname,
                    name: name.clone(),
                    version: v.clone(),
                    index: entries.len() - 1,
                });
            }
        }
    }
    link(&mut channels, &mut tuples);
    (channels.into_values().collect(), hwc.name)
}

/// Go's `linkChannels`: within a Y stream lower Z versions are skipped by
/// the top Z; crossing a Y boundary (same X, archetype and kind) replaces
/// the previous Y's top, and the skips accumulate across Y streams.
fn link(channels: &mut BTreeMap<String, Channel>, tuples: &mut [Tuple]) {
    tuples.sort_by(|a, b| {
        a.archetype
            .cmp(&b.archetype)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| compare(&a.version, &b.version))
    });
    let mut set_edges = |t: &Tuple, replaces: &str, skips: &BTreeSet<String>| {
        if let Some(e) = channels
            .get_mut(&t.channel)
            .and_then(|c| c.entries.as_mut())
            .and_then(|e| e.get_mut(t.index))
        {
            e.replaces = replaces.to_string();
            let list: Vec<String> = skips.iter().filter(|s| *s != replaces).cloned().collect();
            if !list.is_empty() {
                e.skips = list;
            }
        }
    };
    let mut prev_zmax = String::new();
    let mut skips: BTreeSet<String> = BTreeSet::new();
    for i in 1..tuples.len() {
        let (prev, cur) = (&tuples[i - 1], &tuples[i]);
        let arch_change = cur.archetype != prev.archetype;
        let kind_change = cur.kind != prev.kind;
        let x_change = cur.version.major != prev.version.major;
        let y_change = x_change || cur.version.minor != prev.version.minor;
        if arch_change || kind_change || x_change || y_change {
            set_edges(prev, &prev_zmax, &skips);
        }
        if arch_change || kind_change || x_change {
            skips.clear();
            prev_zmax.clear();
        } else {
            if y_change {
                prev_zmax = prev.name.clone();
            }
            skips.insert(prev.name.clone());
        }
    }
    if tuples.len() > 1 {
        let (prev, last) = (&tuples[tuples.len() - 2], &tuples[tuples.len() - 1]);
        if prev.archetype == last.archetype
            && prev.kind == last.kind
            && prev.version.major == last.version.major
        {
            set_edges(last, &prev_zmax, &skips);
        }
    }
}

/// Go's `populatePackageMetadata`: description and first icon of the CSV
/// of the default channel's head (its last entry).
fn populate_package_metadata(cfg: &mut DeclarativeConfig, default_channel: &str) {
    let Some(head) = cfg
        .channels
        .iter()
        .find(|c| c.name == default_channel)
        .and_then(|c| c.entries.as_ref()?.last())
        .map(|e| e.name.clone())
    else {
        return;
    };
    let Some(csv) = cfg
        .bundles
        .iter()
        .find(|b| b.name == head)
        .and_then(|b| b.csv_json.as_deref())
        .filter(|c| !c.is_empty())
    else {
        return;
    };
    let Ok(Value::Object(csv)) = serde_json::from_str::<Value>(csv) else {
        return;
    };
    let Some(Value::Object(spec)) = field(&csv, "spec") else {
        return;
    };
    let description = match spec.get("description") {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    };
    let icon = icons(spec.get("icon"));
    let Some(pkg) = cfg.packages.first_mut() else {
        return;
    };
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        pkg.description = d;
    }
    if let Some(i) = icon {
        pkg.icon = Some(i);
    }
}

/// The first of a CSV's `spec.icon` list, decoded as Go decodes
/// `[]registry.Icon` (a bad list yields no icon).
fn icons(v: Option<&Value>) -> Option<Icon> {
    let Some(Value::Array(list)) = v else {
        return None;
    };
    let mut out = Vec::new();
    for item in list {
        let o = match item {
            Value::Object(o) => o,
            Value::Null => {
                out.push(Icon {
                    data: None,
                    mediatype: String::new(),
                });
                continue;
            }
            _ => return None,
        };
        let data = match field(o, "base64data") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(crate::catalog::decode_go_base64(s).ok()?),
            Some(_) => return None,
        };
        let mediatype = match field(o, "mediatype") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return None,
        };
        out.push(Icon { data, mediatype });
    }
    out.into_iter().next()
}

/// Channel names by kind, for tests.
#[cfg(test)]
fn names(channels: &[Channel]) -> std::collections::HashMap<String, Vec<ChannelEntry>> {
    channels
        .iter()
        .map(|c| (c.name.clone(), c.entries.clone().unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_version(s).unwrap()
    }

    fn data(major: bool, minor: bool, pref: Stream) -> Data {
        Data {
            major,
            minor,
            preference: Some(pref),
            ..Default::default()
        }
    }

    #[test]
    fn minor_channels_replace_across_y_and_skip_within() {
        let versions = vec![
            vec![
                ("p.v1.0.0".to_string(), v("1.0.0")),
                ("p.v1.0.1".to_string(), v("1.0.1")),
                ("p.v1.1.0".to_string(), v("1.1.0")),
                ("p.v1.1.1".to_string(), v("1.1.1")),
            ],
            vec![],
            vec![],
        ];
        let (chs, default) = generate_channels(&data(false, true, Stream::Minor), "p", &versions);
        assert_eq!(default, "candidate-v1.1");
        let m = names(&chs);
        let c10 = &m["candidate-v1.0"];
        assert_eq!(c10[1].skips, vec!["p.v1.0.0".to_string()]);
        let c11 = &m["candidate-v1.1"];
        assert_eq!(c11[1].replaces, "p.v1.0.1");
        assert_eq!(
            c11[1].skips,
            vec!["p.v1.0.0".to_string(), "p.v1.1.0".to_string()]
        );
    }

    #[test]
    fn high_water_prefers_stability_then_version() {
        let versions = vec![
            vec![("p.v2.0.0".to_string(), v("2.0.0"))],
            vec![],
            vec![
                ("p.v1.0.0".to_string(), v("1.0.0")),
                ("p.v1.1.0".to_string(), v("1.1.0")),
            ],
        ];
        let (_, default) = generate_channels(&data(true, true, Stream::Major), "p", &versions);
        assert_eq!(default, "stable-v1.1");
    }

    #[test]
    fn strict_decoding() {
        let e = read("schema: olm.semver\nskipPatch: true\n").unwrap_err();
        assert_eq!(
            e.message,
            "error unmarshaling JSON: while decoding JSON: json: unknown field \"skipPatch\""
        );
        let d = read(
            "Schema: olm.semver\nGenerateMajorChannels: true\nStable:\n  Bundles:\n  - Image: a\n",
        )
        .unwrap();
        assert!(d.major && !d.minor);
        assert_eq!(d.bundles[2], vec!["a".to_string()]);
        let e = read("schema: olm.semver\ngenerateMajorChannels: true\ndefaultChannelTypePreference: minor\n").unwrap_err();
        assert!(e.message.starts_with("schema attribute mismatch"));
        let e = read("schema: olm.semver\ndefaultChannelTypePreference: patch\n").unwrap_err();
        assert_eq!(
            e.message,
            "unknown DefaultChannelTypePreference: \"patch\"\nValid values are 'major' or 'minor'"
        );
    }
}
