//! A catalog's upgrade graph as mermaid text, as Go opm's `MermaidWriter`
//! writes it (`render-template -o mermaid`): packages and channels sorted
//! by name, entries by decreasing version, an edge per skip, per channel
//! entry a `skipRange` matches, and per replaces; deprecations and (with v0
//! semantics) skipped entries are styled.
//!
//! This version has no filters (`--minimum-edge`, `-p`); `render-graph`
//! adds them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use semver::Version;

use super::validate::props::parse_properties;
use super::{DeclarativeConfig, SCHEMA_BUNDLE, SCHEMA_CHANNEL, SCHEMA_PACKAGE};
use crate::catalog::load::go_quote;
use crate::semver_range::{compare, parse_range, parse_version};

/// The writer's options (Go's `MermaidWriter` fields).
#[derive(Debug, Clone)]
pub struct MermaidOptions {
    /// Mark entries skipped by a later entry, and the edges into them.
    pub draw_v0_semantics: bool,
}

impl Default for MermaidOptions {
    /// Go's `NewMermaidWriter` defaults: v0 semantics on.
    fn default() -> Self {
        MermaidOptions {
            draw_v0_semantics: true,
        }
    }
}

/// Write `cfg`'s channels as a mermaid graph. Invalid skipRanges are
/// ignored, with Go's warning returned for the caller to print.
pub fn write_mermaid(
    cfg: &DeclarativeConfig,
    opts: &MermaidOptions,
    out: &mut String,
) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let versions = bundle_versions(cfg)?;
    let version_of = |name: &str| {
        versions
            .get(name)
            .cloned()
            .unwrap_or_else(|| Version::new(0, 0, 0))
    };

    let mut dep_packages = BTreeSet::new();
    let mut dep_channels = BTreeSet::new();
    let mut dep_bundles = BTreeSet::new();
    for d in &cfg.deprecations {
        for e in d.entries.iter().flatten() {
            match e.reference.schema.as_str() {
                SCHEMA_PACKAGE => {
                    dep_packages.insert(d.package.as_str());
                }
                SCHEMA_CHANNEL => {
                    dep_channels.insert(e.reference.name.as_str());
                }
                SCHEMA_BUNDLE => {
                    dep_bundles.insert(e.reference.name.as_str());
                }
                _ => {}
            }
        }
    }

    let mut channels: Vec<&super::Channel> = cfg.channels.iter().collect();
    crate::gosort::sort_slice(&mut channels, |a, b| a.name < b.name);

    let mut pkgs: BTreeMap<&str, String> = BTreeMap::new();
    let mut deprecated_package = "";
    let mut deprecated_channels = Vec::new();
    let mut decorated: BTreeMap<&str, Vec<String>> = [
        ("deprecated", Vec::new()),
        ("deprecatedskipped", Vec::new()),
        ("skipped", Vec::new()),
    ]
    .into_iter()
    .collect();
    let mut link_id = 0usize;
    let mut skipped_links: Vec<String> = Vec::new();

    for c in channels {
        let entries = c.entries.as_deref().unwrap_or(&[]);
        let b = pkgs.entry(c.package.as_str()).or_default();
        let channel_id = format!("{}-{}", c.package, c.name);
        let _ = writeln!(b, "    %% channel {}", go_quote(&c.name));
        let _ = writeln!(b, "    subgraph {channel_id}[{}]", go_quote(&c.name));
        if dep_packages.contains(c.package.as_str()) {
            deprecated_package = c.package.as_str();
        }
        if dep_channels.contains(c.name.as_str()) {
            deprecated_channels.push(channel_id.clone());
        }
        let mut sorted: Vec<&super::ChannelEntry> = entries.iter().collect();
        crate::gosort::sort_slice(&mut sorted, |a, b| {
            compare(&version_of(&a.name), &version_of(&b.name)) == std::cmp::Ordering::Greater
        });
        let mut skipped: HashMap<&str, ()> = HashMap::new();
        for ce in sorted {
            let entry_id = format!("{channel_id}-{}", ce.name);
            let _ = writeln!(b, "      {entry_id}[{}]", go_quote(&ce.name));
            let is_dep = dep_bundles.contains(ce.name.as_str());
            let is_skipped = skipped.contains_key(ce.name.as_str());
            let class = match (is_dep, is_skipped) {
                (true, true) => Some("deprecatedskipped"),
                (true, false) => Some("deprecated"),
                (false, true) => Some("skipped"),
                _ => None,
            };
            if let Some(k) = class {
                decorated.entry(k).or_default().push(entry_id.clone());
            }
            for s in &ce.skips {
                let _ = writeln!(
                    b,
                    "      {channel_id}-{s}[{}]-- skip --> {entry_id}[{}]",
                    go_quote(s),
                    go_quote(&ce.name)
                );
                if opts.draw_v0_semantics {
                    if skipped.contains_key(s.as_str()) {
                        skipped_links.push(link_id.to_string());
                    } else {
                        skipped.insert(s.as_str(), ());
                    }
                }
                link_id += 1;
            }
            if !ce.skip_range.is_empty() {
                match parse_range(&ce.skip_range) {
                    Ok(range) => {
                        for e in entries {
                            if range.matches(&version_of(&e.name)) {
                                let _ = writeln!(
                                    b,
                                    "      {channel_id}-{}[{}]-- \"skipRange({})\" --> {entry_id}[{}]",
                                    e.name,
                                    go_quote(&e.name),
                                    ce.skip_range,
                                    go_quote(&ce.name)
                                );
                                if opts.draw_v0_semantics && skipped.contains_key(ce.name.as_str())
                                {
                                    skipped_links.push(link_id.to_string());
                                }
                                link_id += 1;
                            }
                        }
                    }
                    Err(e) => warnings.push(format!(
                        "warning: ignoring invalid SkipRange for package/edge {}/{}: {e}",
                        go_quote(&c.package),
                        go_quote(&ce.name)
                    )),
                }
            }
            if !ce.replaces.is_empty() {
                let _ = writeln!(
                    b,
                    "      {channel_id}-{}[{}]-- replace --> {entry_id}[{}]",
                    ce.replaces,
                    go_quote(&ce.replaces),
                    go_quote(&ce.name)
                );
                if opts.draw_v0_semantics && skipped.contains_key(ce.name.as_str()) {
                    skipped_links.push(link_id.to_string());
                }
                link_id += 1;
            }
        }
        b.push_str("    end\n");
    }

    out.push_str("graph LR\n");
    out.push_str("  classDef deprecated fill:#E8960F\n");
    out.push_str("  classDef skipped stroke:#FF0000,stroke-width:4px\n");
    out.push_str("  classDef deprecatedskipped fill:#E8960F,stroke:#FF0000,stroke-width:4px\n");
    for (name, body) in &pkgs {
        let _ = writeln!(out, "  %% package {}", go_quote(name));
        let _ = writeln!(out, "  subgraph {}", go_quote(name));
        out.push_str(body);
        out.push_str("  end\n");
    }
    if !deprecated_package.is_empty() {
        let _ = writeln!(out, "style {deprecated_package} fill:#989695");
    }
    for c in &deprecated_channels {
        let _ = writeln!(out, "style {c} fill:#DCD0FF");
    }
    for (class, ids) in &mut decorated {
        if !ids.is_empty() {
            ids.sort();
            let _ = writeln!(out, "class {} {class}", ids.join(","));
        }
    }
    if !skipped_links.is_empty() {
        let _ = writeln!(
            out,
            "linkStyle {} stroke:#FF0000,stroke-width:3px,stroke-dasharray:5;",
            skipped_links.join(",")
        );
    }
    Ok(warnings)
}

/// Each bundle's version (the first bundle of a name wins), with Go's
/// errors for a bundle without exactly one valid `olm.package`.
fn bundle_versions(cfg: &DeclarativeConfig) -> Result<HashMap<String, Version>, String> {
    let mut out = HashMap::new();
    for b in &cfg.bundles {
        if out.contains_key(&b.name) {
            continue;
        }
        let (props, err) = parse_properties(&b.properties);
        if let Some(e) = err {
            return Err(format!(
                "parse properties for bundle {}: {e}",
                go_quote(&b.name)
            ));
        }
        if props.packages.len() != 1 {
            return Err(format!(
                "bundle {} has multiple \"olm.package\" properties, expected exactly 1",
                go_quote(&b.name)
            ));
        }
        let raw = &props.packages[0].version;
        let v = parse_version(raw).map_err(|e| {
            format!(
                "bundle {} has invalid version {}: {e}",
                go_quote(&b.name),
                go_quote(raw)
            )
        })?;
        out.insert(b.name.clone(), v);
    }
    Ok(out)
}
