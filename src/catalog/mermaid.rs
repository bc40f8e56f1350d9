//! A catalog's upgrade graphs as mermaid text (Go opm's `MermaidWriter`,
//! used by `alpha render-graph` and `alpha render-template -o mermaid`).
//!
//! One `subgraph` per package, one per channel inside it, the channel's
//! entries by decreasing version, then one edge line per `skips` name, per
//! entry a `skipRange` matches, and for `replaces`. Deprecated packages,
//! channels and bundles, and (with v0 semantics) skipped bundles and the
//! edges into them, are styled at the end. The bytes follow Go's writer,
//! including the quirks marked `Go quirk` (replay README §5.3).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use semver::Version;

use super::{Channel, ChannelEntry, DeclarativeConfig};
use crate::gosort::sort_slice;
use crate::output::go_strconv_quote as q;
use crate::semver_range::{compare, parse_range, parse_version};

/// Go's `MermaidWriter` fields.
#[derive(Debug, Clone)]
pub struct MermaidOptions {
    /// Only edges at or above this bundle (and only its package).
    pub min_edge_name: String,
    /// Only this package.
    pub specified_package_name: String,
    /// Mark skipped bundles and the edges into them.
    pub draw_v0_semantics: bool,
}

impl Default for MermaidOptions {
    /// Go's `NewMermaidWriter()` defaults: v0 semantics on (render-graph's
    /// flag turns them off unless given).
    fn default() -> Self {
        MermaidOptions {
            min_edge_name: String::new(),
            specified_package_name: String::new(),
            draw_v0_semantics: true,
        }
    }
}

/// Write the graph of `cfg` to `out`. Returns the warnings Go prints on
/// stderr (invalid skipRanges, which are ignored); `Err` is Go's error.
pub fn write_mermaid(
    cfg: &DeclarativeConfig,
    opts: &MermaidOptions,
    out: &mut Vec<u8>,
) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let mut channels: Vec<&Channel> = cfg.channels.iter().collect();
    sort_slice(&mut channels, |a, b| a.name < b.name);

    let versions = bundle_versions(cfg)?;
    let zero = Version::new(0, 0, 0);
    let version = |name: &str| versions.get(name).unwrap_or(&zero);

    let min_version = if opts.min_edge_name.is_empty() {
        zero.clone()
    } else {
        versions
            .get(&opts.min_edge_name)
            .cloned()
            .ok_or_else(|| format!("unknown minimum edge name: {}", q(&opts.min_edge_name)))?
    };
    let min_edge_package = min_edge_package(cfg, &opts.min_edge_name);

    // Go quirk: channels and bundles are marked deprecated by name alone,
    // whatever package they are in.
    let mut dep_packages = HashSet::new();
    let mut dep_channels = HashSet::new();
    let mut dep_bundles = HashSet::new();
    for d in &cfg.deprecations {
        for e in d.entries.iter().flatten() {
            match e.reference.schema.as_str() {
                super::SCHEMA_PACKAGE => {
                    dep_packages.insert(d.package.as_str());
                }
                super::SCHEMA_CHANNEL => {
                    dep_channels.insert(e.reference.name.as_str());
                }
                super::SCHEMA_BUNDLE => {
                    dep_bundles.insert(e.reference.name.as_str());
                }
                _ => {}
            }
        }
    }

    let mut packages: BTreeMap<&str, PackageText> = BTreeMap::new();
    let mut deprecated_package = "";
    let mut deprecated_channel_ids = Vec::new();
    let mut decorated: BTreeMap<&str, Vec<String>> = BTreeMap::new();

    for c in channels {
        let Some(fc) = filter_channel(c, opts, &versions, &min_version, &min_edge_package) else {
            continue;
        };
        let pkg = packages.entry(c.package.as_str()).or_default();
        let mut text = String::new();
        let channel_id = format!("{}-{}", fc.package, fc.name);
        let _ = writeln!(text, "    %% channel {}", q(&fc.name));
        let _ = writeln!(text, "    subgraph {channel_id}[{}]", q(&fc.name));
        if dep_packages.contains(fc.package.as_str()) {
            // Go quirk: only the last deprecated package gets its style.
            deprecated_package = c.package.as_str();
        }
        if dep_channels.contains(fc.name.as_str()) {
            deprecated_channel_ids.push(channel_id.clone());
        }

        let mut sorted: Vec<&ChannelEntry> = fc.entries.iter().collect();
        sort_slice(&mut sorted, |a, b| {
            compare(version(&a.name), version(&b.name)).is_gt()
        });

        // Links are counted per channel here and numbered in output order
        // once every channel is written (see `PackageText`).
        let mut links = 0usize;
        let mut skipped_links = Vec::new();
        let mut skipped: HashSet<&str> = HashSet::new();
        for ce in sorted {
            let entry_id = format!("{channel_id}-{}", ce.name);
            let _ = writeln!(text, "      {entry_id}[{}]", q(&ce.name));
            let deprecated = dep_bundles.contains(ce.name.as_str());
            let class = match (deprecated, skipped.contains(ce.name.as_str())) {
                (true, true) => Some("deprecatedskipped"),
                (true, false) => Some("deprecated"),
                (false, true) => Some("skipped"),
                (false, false) => None,
            };
            if let Some(class) = class {
                decorated.entry(class).or_default().push(entry_id.clone());
            }

            for s in &ce.skips {
                let _ = writeln!(
                    text,
                    "      {channel_id}-{s}[{}]-- skip --> {entry_id}[{}]",
                    q(s),
                    q(&ce.name)
                );
                if opts.draw_v0_semantics && !skipped.insert(s.as_str()) {
                    skipped_links.push(links);
                }
                links += 1;
            }
            if !ce.skip_range.is_empty() {
                match parse_range(&ce.skip_range) {
                    Ok(range) => {
                        for e in &fc.entries {
                            if !range.matches(version(&e.name)) {
                                continue;
                            }
                            let _ = writeln!(
                                text,
                                "      {channel_id}-{}[{}]-- \"skipRange({})\" --> {entry_id}[{}]",
                                e.name,
                                q(&e.name),
                                ce.skip_range,
                                q(&ce.name)
                            );
                            // Go quirk: the entry's own name is looked up,
                            // not the edge's source.
                            if opts.draw_v0_semantics && skipped.contains(ce.name.as_str()) {
                                skipped_links.push(links);
                            }
                            links += 1;
                        }
                    }
                    Err(e) => warnings.push(format!(
                        "warning: ignoring invalid SkipRange for package/edge {}/{}: {e}",
                        q(&c.package),
                        q(&ce.name)
                    )),
                }
            }
            // Replaces last: whether it is drawn as skipped depends on the
            // skips above.
            if !ce.replaces.is_empty() {
                let _ = writeln!(
                    text,
                    "      {channel_id}-{}[{}]-- replace --> {entry_id}[{}]",
                    ce.replaces,
                    q(&ce.replaces),
                    q(&ce.name)
                );
                if opts.draw_v0_semantics && skipped.contains(ce.name.as_str()) {
                    skipped_links.push(links);
                }
                links += 1;
            }
        }
        text.push_str("    end\n");
        pkg.channels.push(ChannelText {
            text,
            links,
            skipped_links,
        });
    }

    out.extend_from_slice(b"graph LR\n");
    out.extend_from_slice(b"  classDef deprecated fill:#E8960F\n");
    out.extend_from_slice(b"  classDef skipped stroke:#FF0000,stroke-width:4px\n");
    out.extend_from_slice(
        b"  classDef deprecatedskipped fill:#E8960F,stroke:#FF0000,stroke-width:4px\n",
    );
    // Go numbers links in its channel-name order, which differs from the
    // output order when several packages are drawn (README §5.3); mermaid
    // numbers them as written, so do we.
    let mut skipped_link_ids = Vec::new();
    let mut offset = 0;
    for (name, pkg) in &packages {
        out.extend_from_slice(
            format!("  %% package {}\n  subgraph {}\n", q(name), q(name)).as_bytes(),
        );
        for ch in &pkg.channels {
            out.extend_from_slice(ch.text.as_bytes());
            skipped_link_ids.extend(ch.skipped_links.iter().map(|l| (offset + l).to_string()));
            offset += ch.links;
        }
        out.extend_from_slice(b"  end\n");
    }
    if !deprecated_package.is_empty() {
        out.extend_from_slice(format!("style {deprecated_package} fill:#989695\n").as_bytes());
    }
    for id in &deprecated_channel_ids {
        out.extend_from_slice(format!("style {id} fill:#DCD0FF\n").as_bytes());
    }
    for (class, ids) in &mut decorated {
        ids.sort();
        out.extend_from_slice(format!("class {} {class}\n", ids.join(",")).as_bytes());
    }
    if !skipped_link_ids.is_empty() {
        out.extend_from_slice(
            format!(
                "linkStyle {} stroke:#FF0000,stroke-width:3px,stroke-dasharray:5;\n",
                skipped_link_ids.join(",")
            )
            .as_bytes(),
        );
    }
    Ok(warnings)
}

#[derive(Default)]
struct PackageText {
    channels: Vec<ChannelText>,
}

struct ChannelText {
    text: String,
    /// Number of edge lines.
    links: usize,
    /// Which of them (0-based within the channel) lead to skipped bundles.
    skipped_links: Vec<usize>,
}

/// Each bundle name's version (the first bundle of a name wins), with Go's
/// errors for a bundle whose `olm.package` property is missing or bad.
fn bundle_versions(cfg: &DeclarativeConfig) -> Result<HashMap<String, Version>, String> {
    let mut versions = HashMap::new();
    for b in &cfg.bundles {
        if versions.contains_key(&b.name) {
            continue;
        }
        let (props, err) = super::validate::props::parse_properties(&b.properties);
        if let Some(e) = err {
            return Err(format!("parse properties for bundle {}: {e}", q(&b.name)));
        }
        if props.packages.len() != 1 {
            return Err(format!(
                "bundle {} has multiple {} properties, expected exactly 1",
                q(&b.name),
                q(super::PROP_PACKAGE)
            ));
        }
        let raw = &props.packages[0].version;
        let v = parse_version(raw)
            .map_err(|e| format!("bundle {} has invalid version {}: {e}", q(&b.name), q(raw)))?;
        versions.insert(b.name.clone(), v);
    }
    Ok(versions)
}

/// The package of the first channel listing the minimum edge.
fn min_edge_package(cfg: &DeclarativeConfig, min_edge: &str) -> String {
    if min_edge.is_empty() {
        return String::new();
    }
    cfg.channels
        .iter()
        .find(|c| c.entries.iter().flatten().any(|e| e.name == min_edge))
        .map(|c| c.package.clone())
        .unwrap_or_default()
}

/// The channel as drawn: entries (and edges) at or above the minimum edge,
/// `None` when the package is filtered out or nothing is left.
fn filter_channel(
    c: &Channel,
    opts: &MermaidOptions,
    versions: &HashMap<String, Version>,
    min_version: &Version,
    min_edge_package: &str,
) -> Option<FilteredChannel> {
    let entries: Vec<ChannelEntry> = c.entries.clone().unwrap_or_default();
    if opts.min_edge_name.is_empty() && opts.specified_package_name.is_empty() {
        return Some(FilteredChannel {
            name: c.name.clone(),
            package: c.package.clone(),
            entries,
        });
    }
    if !opts.specified_package_name.is_empty() && c.package != opts.specified_package_name {
        return None;
    }
    if !min_edge_package.is_empty() && c.package != min_edge_package {
        return None;
    }
    let zero = Version::new(0, 0, 0);
    let at_least = |name: &str| compare(versions.get(name).unwrap_or(&zero), min_version).is_ge();
    let has_edges = |e: &ChannelEntry| {
        !e.replaces.is_empty() || !e.skips.is_empty() || !e.skip_range.is_empty()
    };
    let mut out = Vec::new();
    for ce in &entries {
        let mut f = ChannelEntry {
            name: ce.name.clone(),
            ..Default::default()
        };
        if opts.min_edge_name.is_empty() {
            f.replaces = ce.replaces.clone();
            f.skips = ce.skips.clone();
            f.skip_range = ce.skip_range.clone();
            out.push(f);
            continue;
        }
        if ce.name == opts.min_edge_name {
            // The floor itself, without its edges (they all point lower).
            out.push(f);
            continue;
        }
        if !ce.replaces.is_empty() && at_least(&ce.replaces) {
            f.replaces = ce.replaces.clone();
        }
        f.skips = ce.skips.iter().filter(|s| at_least(s)).cloned().collect();
        if !ce.skip_range.is_empty()
            && let Ok(r) = parse_range(&ce.skip_range)
            && r.matches(min_version)
        {
            f.skip_range = ce.skip_range.clone();
        }
        if has_edges(&f) || (!has_edges(ce) && at_least(&f.name)) {
            out.push(f);
        }
    }
    (!out.is_empty()).then(|| FilteredChannel {
        name: c.name.clone(),
        package: c.package.clone(),
        entries: out,
    })
}

struct FilteredChannel {
    name: String,
    package: String,
    entries: Vec<ChannelEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Bundle, Package, Property};

    fn bundle(name: &str, version: &str) -> Bundle {
        Bundle {
            schema: "olm.bundle".into(),
            name: name.into(),
            package: "p".into(),
            properties: vec![Property {
                typ: "olm.package".into(),
                value: format!("{{\"packageName\":\"p\",\"version\":\"{version}\"}}"),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn entry(name: &str, replaces: &str, skips: &[&str], range: &str) -> ChannelEntry {
        ChannelEntry {
            name: name.into(),
            replaces: replaces.into(),
            skips: skips.iter().map(|s| s.to_string()).collect(),
            skip_range: range.into(),
        }
    }

    fn cfg() -> DeclarativeConfig {
        DeclarativeConfig {
            packages: vec![Package {
                name: "p".into(),
                ..Default::default()
            }],
            channels: vec![Channel {
                schema: "olm.channel".into(),
                name: "stable".into(),
                package: "p".into(),
                entries: Some(vec![
                    entry("a.v1", "", &[], ""),
                    entry("a.v2", "a.v1", &[], ""),
                    entry("a.v3", "a.v2", &["a.v1"], ">=1.0.0 <3.0.0"),
                ]),
                properties: vec![],
            }],
            bundles: vec![
                bundle("a.v1", "1.0.0"),
                bundle("a.v2", "2.0.0"),
                bundle("a.v3", "3.0.0"),
            ],
            ..Default::default()
        }
    }

    fn render(opts: &MermaidOptions) -> String {
        let mut out = Vec::new();
        write_mermaid(&cfg(), opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn entries_by_decreasing_version_and_edges_in_go_order() {
        let text = render(&MermaidOptions {
            draw_v0_semantics: false,
            ..Default::default()
        });
        let body: Vec<&str> = text.lines().skip(4).collect();
        assert_eq!(
            body,
            [
                "  %% package \"p\"",
                "  subgraph \"p\"",
                "    %% channel \"stable\"",
                "    subgraph p-stable[\"stable\"]",
                "      p-stable-a.v3[\"a.v3\"]",
                "      p-stable-a.v1[\"a.v1\"]-- skip --> p-stable-a.v3[\"a.v3\"]",
                "      p-stable-a.v1[\"a.v1\"]-- \"skipRange(>=1.0.0 <3.0.0)\" --> p-stable-a.v3[\"a.v3\"]",
                "      p-stable-a.v2[\"a.v2\"]-- \"skipRange(>=1.0.0 <3.0.0)\" --> p-stable-a.v3[\"a.v3\"]",
                "      p-stable-a.v2[\"a.v2\"]-- replace --> p-stable-a.v3[\"a.v3\"]",
                "      p-stable-a.v2[\"a.v2\"]",
                "      p-stable-a.v1[\"a.v1\"]-- replace --> p-stable-a.v2[\"a.v2\"]",
                "      p-stable-a.v1[\"a.v1\"]",
                "    end",
                "  end",
            ]
        );
    }

    #[test]
    fn v0_semantics_marks_skipped_bundles() {
        let text = render(&MermaidOptions::default());
        assert!(text.ends_with("class p-stable-a.v1 skipped\n"), "{text}");
    }

    #[test]
    fn minimum_edge_drops_lower_edges() {
        let text = render(&MermaidOptions {
            min_edge_name: "a.v2".into(),
            draw_v0_semantics: false,
            ..Default::default()
        });
        assert!(!text.contains("a.v1"), "{text}");
        assert!(
            text.contains(
                "p-stable-a.v2[\"a.v2\"]-- \"skipRange(>=1.0.0 <3.0.0)\" --> p-stable-a.v3"
            )
        );
    }

    #[test]
    fn unknown_minimum_edge_is_go_error() {
        let mut out = Vec::new();
        let err = write_mermaid(
            &cfg(),
            &MermaidOptions {
                min_edge_name: "nope".into(),
                ..Default::default()
            },
            &mut out,
        )
        .unwrap_err();
        assert_eq!(err, "unknown minimum edge name: \"nope\"");
    }
}
