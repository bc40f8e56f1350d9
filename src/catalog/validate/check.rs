//! Go opm's `model.Validate()` (validate spec §1.5, §2.3): the semantic
//! rules, every error collected into the `invalid index` tree. Node order is
//! Go's; siblings that Go visits in map order are sorted by name here.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rayon::prelude::*;

use super::convert::{Deprecated, MBundle, MChannel, MPackage, Model};
use super::tree::Node;
use crate::catalog::load::go_quote as q;
use crate::semver_range::parse_range;

/// Validate the model. With `all`, entries that never got a bundle are
/// skipped: their missing bundle was already reported by `convert`.
pub fn validate_model(model: &Model, all: bool) -> Node {
    let mut root = Node::new("invalid index");
    // Package by package in parallel, the nodes kept in package order.
    let packages: Vec<&MPackage> = model.packages.values().collect();
    let nodes: Vec<Node> = packages
        .par_iter()
        .map(|pkg| validate_package(pkg, all))
        .collect();
    for node in nodes {
        root.push_node(node);
    }
    root
}

fn deprecation(node: &mut Node, d: &Option<Deprecated>) {
    if let Some(d) = d
        && d.message.is_empty()
    {
        node.leaf(
            "deprecation-message",
            d.location.clone(),
            "invalid deprecation: message must be set",
        );
    }
}

fn validate_package(pkg: &MPackage, all: bool) -> Node {
    let mut node = Node::new(format!("invalid package {}", q(&pkg.name)));
    let loc = || pkg.location.clone();
    if pkg.name.is_empty() {
        node.leaf("package-name", loc(), "package name must not be empty");
    }
    if !pkg.has_default_channel {
        node.leaf("default-channel", loc(), "default channel must be set");
    }
    if pkg.channels.is_empty() {
        node.leaf(
            "package-channels",
            loc(),
            "package must contain at least one channel",
        );
    }
    for ch in pkg.channels.values() {
        node.push_node(validate_channel(ch, &pkg.name, all));
    }
    if let Some(msg) = duplicate_versions(pkg, all) {
        node.leaf("duplicate-version", loc(), msg);
    }
    deprecation(&mut node, &pkg.deprecation);
    node
}

/// The version key Go groups bundles by: `Version.String()` plus
/// `-<release>` when there is one.
fn version_key(b: &MBundle) -> String {
    if b.release.is_empty() {
        b.version().to_string()
    } else {
        format!("{}-{}", b.version(), b.release.join("."))
    }
}

fn duplicate_versions(pkg: &MPackage, all: bool) -> Option<String> {
    // A bundle in several channels counts once (a set of names per key).
    let mut by_version: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for b in pkg.channels.values().flat_map(|c| c.bundles.values()) {
        if all && !b.attached {
            continue;
        }
        by_version
            .entry(version_key(b))
            .or_default()
            .insert(&b.name);
    }
    let dupes: Vec<String> = by_version
        .iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(v, names)| {
            format!(
                "{{{v}: [{}]}}",
                names.iter().copied().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    (!dupes.is_empty())
        .then(|| format!("duplicate versions found in bundles: [{}]", dupes.join(" ")))
}

fn validate_channel(ch: &MChannel, pkg_name: &str, all: bool) -> Node {
    let mut node = Node::new(format!("invalid channel {}", q(&ch.name)));
    if ch.name.is_empty() {
        node.leaf(
            "channel-name",
            ch.location.clone(),
            "channel name must not be empty",
        );
    }
    if ch.bundles.is_empty() {
        node.leaf(
            "channel-bundles",
            ch.location.clone(),
            "channel must contain at least one bundle",
        );
    } else if let Err(e) = replaces_chain(ch) {
        node.leaf("upgrade-graph", ch.location.clone(), e);
    }
    for b in ch.bundles.values() {
        if all && !b.attached {
            continue;
        }
        node.push_node(validate_bundle(b, pkg_name));
    }
    deprecation(&mut node, &ch.deprecation);
    node
}

/// Go's channel head (§2.3): the one bundle nothing replaces or skips.
pub fn channel_head(ch: &MChannel) -> Result<&MBundle, String> {
    let name = crate::catalog::upgrade::head_of(
        ch.bundles
            .values()
            .map(|b| (b.name.as_str(), b.replaces.as_str(), b.skips.as_slice())),
    )?;
    ch.bundles
        .get(name)
        .ok_or_else(|| "no channel head found in graph".to_string())
}

/// Go's `validateReplacesChain` (§2.3): walk `replaces` from the head,
/// stopping at a skipped name; report a cycle, then stranded bundles.
fn replaces_chain(ch: &MChannel) -> Result<(), String> {
    let head = channel_head(ch)?;
    let skipped: HashSet<&str> = ch
        .bundles
        .values()
        .flat_map(|b| b.skips.iter().map(String::as_str))
        .collect();
    // `path` is the walk; `first` where each bundle entered it. Go keeps a
    // chain per start bundle; the chain from X is `path[first[X]..]`.
    let mut path: Vec<&str> = Vec::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut visited: HashSet<&str> = HashSet::from([head.name.as_str()]);
    let mut cur = Some(head);
    while let Some(b) = cur {
        first.entry(&b.name).or_insert(path.len());
        path.push(&b.name);
        if skipped.contains(b.replaces.as_str()) {
            break;
        }
        if visited.contains(b.replaces.as_str()) {
            let start = first
                .get(b.replaces.as_str())
                .copied()
                .unwrap_or(path.len());
            let mut cycle: Vec<&str> = path[start..].to_vec();
            cycle.push(&b.replaces);
            return Err(format!(
                "detected cycle in replaces chain of upgrade graph: {}",
                cycle.join(" -> ")
            ));
        }
        visited.insert(&b.replaces);
        cur = ch.bundles.get(&b.replaces);
    }
    let stranded: Vec<&str> = ch
        .bundles
        .keys()
        .map(String::as_str)
        .filter(|n| !visited.contains(n) && !skipped.contains(n))
        .collect();
    if !stranded.is_empty() {
        return Err(format!(
            "channel contains one or more stranded bundles: {}",
            stranded.join(", ")
        ));
    }
    Ok(())
}

fn validate_bundle(b: &MBundle, pkg_name: &str) -> Node {
    let mut node = Node::new(format!("invalid bundle {}", q(&b.name)));
    let loc = || b.location.clone();
    if b.name.is_empty() {
        node.leaf("bundle-shape", loc(), "name must be set");
    }
    if !b.release.is_empty() {
        let normalized = format!("{pkg_name}-v{}-{}", b.version(), b.release.join("."));
        if b.name != normalized {
            node.leaf(
                "bundle-name-normalized",
                loc(),
                format!(
                    "name {} does not match normalized name {}",
                    q(&b.name),
                    q(&normalized)
                ),
            );
        }
    }
    for (i, s) in b.skips.iter().enumerate() {
        if s.is_empty() {
            node.leaf(
                "skips",
                b.entry_location.clone(),
                format!("skip[{i}] is empty"),
            );
        }
    }
    if !b.skip_range.is_empty()
        && let Err(e) = parse_range(&b.skip_range)
    {
        node.leaf(
            "skip-range",
            b.entry_location.clone(),
            format!("invalid skipRange {}: {e}", q(&b.skip_range)),
        );
    }
    if b.package_props != 1 {
        node.leaf(
            "bundle-shape",
            loc(),
            "must be exactly one property with type \"olm.package\"",
        );
    }
    if b.image.is_empty() && !b.has_objects {
        node.leaf("bundle-image", loc(), "bundle image must be set");
    }
    deprecation(&mut node, &b.deprecation);
    if !b.version().build.is_empty() && !b.release.is_empty() {
        node.leaf(
            "bundle-release",
            loc(),
            "cannot use build metadata in version with a release version",
        );
    }
    node
}
