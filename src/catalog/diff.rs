//! What changed between two states of a catalog, as a reviewer of a catalog
//! pull request wants to see it: packages, channels and bundles added and
//! removed, upgrade edges gained and lost, default-channel, channel-head and
//! deprecation changes (`opm alpha diff`, and `validate --previous` through
//! [`crate::catalog::validate::previous`]).
//!
//! An upgrade edge `from -> to` means that a cluster running bundle `from`
//! can upgrade to entry `to` of the channel: `to` replaces `from`, skips it,
//! or its skipRange holds `from`'s version (the edges OLM follows, see
//! [`crate::catalog::upgrade`]). Channel heads are Go's (`Channel.Head`).
//!
//! Everything is sorted by name, so the result does not depend on the order
//! of the blobs in the files.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use semver::Version;
use serde::Serialize;

use crate::catalog::upgrade::{self, ChannelGraph};
use crate::catalog::{Channel, DeclarativeConfig, Deprecation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
        }
    }
}

/// A value before and after; `None` where it does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    pub old: Option<T>,
    pub new: Option<T>,
}

/// A bundle (or channel entry) and its `olm.package` version, when known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct BundleRef {
    pub name: String,
    pub version: Option<String>,
}

/// One upgrade edge: a cluster on `from` may upgrade to `to`, because `to`
/// names it in `replaces`, in `skips` or its `skipRange` holds it (`via`,
/// in that order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub via: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelDiff {
    pub name: String,
    pub status: Status,
    /// Go's channel head on each side; `None` where the channel does not
    /// exist or has no single head.
    pub head: Change<BundleRef>,
    pub entries_added: Vec<BundleRef>,
    pub entries_removed: Vec<BundleRef>,
    pub edges_added: Vec<Edge>,
    pub edges_removed: Vec<Edge>,
}

impl ChannelDiff {
    pub fn head_changed(&self) -> bool {
        self.status == Status::Changed && self.head.old != self.head.new
    }
}

/// A deprecation entry added, removed or reworded. `schema` is what it
/// deprecates (`olm.package`, `olm.channel`, `olm.bundle`); `name` is empty
/// for the package itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeprecationChange {
    pub schema: String,
    pub name: String,
    pub status: Status,
    pub message: Change<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageDiff {
    pub name: String,
    pub status: Status,
    /// Present only when the default channel changed (or the package was
    /// added or removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_channel: Option<Change<String>>,
    pub bundles_added: Vec<BundleRef>,
    pub bundles_removed: Vec<BundleRef>,
    /// Only the channels that changed.
    pub channels: Vec<ChannelDiff>,
    pub deprecations: Vec<DeprecationChange>,
}

/// Counts over all packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub packages_added: usize,
    pub packages_removed: usize,
    pub packages_changed: usize,
    pub channels_added: usize,
    pub channels_removed: usize,
    pub channels_changed: usize,
    pub bundles_added: usize,
    pub bundles_removed: usize,
    pub edges_added: usize,
    pub edges_removed: usize,
    pub default_channels_changed: usize,
    pub heads_changed: usize,
    pub deprecations_added: usize,
    pub deprecations_removed: usize,
    pub deprecations_changed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub summary: Summary,
    /// Only the packages that changed, by name.
    pub packages: Vec<PackageDiff>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

/// One package of one side, indexed.
#[derive(Default)]
struct Side<'a> {
    default_channel: Option<&'a str>,
    channels: BTreeMap<&'a str, &'a Channel>,
    /// Bundle name → version text (`None`: no readable version).
    bundles: BTreeMap<&'a str, Option<String>>,
    deprecations: BTreeMap<(&'a str, &'a str), &'a str>,
}

impl<'a> Side<'a> {
    /// Whether the package is in the catalog at all (an invalid catalog may
    /// have its channels or bundles without its olm.package blob).
    fn exists(&self) -> bool {
        self.default_channel.is_some()
            || !self.channels.is_empty()
            || !self.bundles.is_empty()
            || !self.deprecations.is_empty()
    }

    fn bundle_ref(&self, name: &str) -> BundleRef {
        BundleRef {
            name: name.to_string(),
            version: self.bundles.get(name).cloned().flatten(),
        }
    }

    fn versions(&self) -> HashMap<&'a str, Version> {
        self.bundles
            .iter()
            .filter_map(|(n, v)| Some((*n, Version::parse(v.as_deref()?).ok()?)))
            .collect()
    }
}

fn index(cfg: &DeclarativeConfig) -> BTreeMap<&str, Side<'_>> {
    let mut sides: BTreeMap<&str, Side> = BTreeMap::new();
    for p in &cfg.packages {
        sides.entry(&p.name).or_default().default_channel = Some(&p.default_channel);
    }
    for c in &cfg.channels {
        sides
            .entry(&c.package)
            .or_default()
            .channels
            .insert(&c.name, c);
    }
    for b in &cfg.bundles {
        sides
            .entry(&b.package)
            .or_default()
            .bundles
            .insert(&b.name, upgrade::bundle_version_text(b));
    }
    for d in &cfg.deprecations {
        add_deprecations(sides.entry(&d.package).or_default(), d);
    }
    sides
}

fn add_deprecations<'a>(side: &mut Side<'a>, d: &'a Deprecation) {
    for e in d.entries.iter().flatten() {
        side.deprecations
            .insert((&e.reference.schema, &e.reference.name), e.message.as_str());
    }
}

/// Compare two catalogs.
pub fn diff(old: &DeclarativeConfig, new: &DeclarativeConfig) -> Diff {
    let old_idx = index(old);
    let new_idx = index(new);
    let empty = Side::default();
    let names: BTreeSet<&str> = old_idx.keys().chain(new_idx.keys()).copied().collect();
    let mut packages = Vec::new();
    for name in names {
        let o = old_idx.get(name).unwrap_or(&empty);
        let n = new_idx.get(name).unwrap_or(&empty);
        if let Some(p) = package_diff(name, o, n) {
            packages.push(p);
        }
    }
    Diff {
        summary: summarize(&packages),
        packages,
    }
}

fn status_of(old: bool, new: bool) -> Status {
    match (old, new) {
        (false, _) => Status::Added,
        (_, false) => Status::Removed,
        _ => Status::Changed,
    }
}

fn package_diff(name: &str, o: &Side, n: &Side) -> Option<PackageDiff> {
    let status = status_of(o.exists(), n.exists());
    let default_channel = (o.default_channel != n.default_channel).then(|| Change {
        old: o.default_channel.map(str::to_string),
        new: n.default_channel.map(str::to_string),
    });
    let bundles_added = n
        .bundles
        .keys()
        .filter(|b| !o.bundles.contains_key(*b))
        .map(|b| n.bundle_ref(b))
        .collect();
    let bundles_removed = o
        .bundles
        .keys()
        .filter(|b| !n.bundles.contains_key(*b))
        .map(|b| o.bundle_ref(b))
        .collect();
    let (old_versions, new_versions) = (o.versions(), n.versions());
    let channel_names: BTreeSet<&str> = o
        .channels
        .keys()
        .chain(n.channels.keys())
        .copied()
        .collect();
    let channels = channel_names
        .into_iter()
        .filter_map(|c| {
            let old = o.channels.get(c).map(|ch| (*ch, o, &old_versions));
            let new = n.channels.get(c).map(|ch| (*ch, n, &new_versions));
            channel_diff(c, old, new)
        })
        .collect();
    let keys: BTreeSet<(&str, &str)> = o
        .deprecations
        .keys()
        .chain(n.deprecations.keys())
        .copied()
        .collect();
    let deprecations = keys
        .into_iter()
        .filter_map(|k| {
            let (om, nm) = (o.deprecations.get(&k), n.deprecations.get(&k));
            (om != nm).then(|| DeprecationChange {
                schema: k.0.to_string(),
                name: k.1.to_string(),
                status: status_of(om.is_some(), nm.is_some()),
                message: Change {
                    old: om.map(|m| m.to_string()),
                    new: nm.map(|m| m.to_string()),
                },
            })
        })
        .collect();
    let p = PackageDiff {
        name: name.to_string(),
        status,
        default_channel,
        bundles_added,
        bundles_removed,
        channels,
        deprecations,
    };
    let unchanged = p.default_channel.is_none()
        && p.bundles_added.is_empty()
        && p.bundles_removed.is_empty()
        && p.channels.is_empty()
        && p.deprecations.is_empty();
    (!unchanged).then_some(p)
}

type ChannelSide<'s, 'a> = (&'a Channel, &'s Side<'a>, &'s HashMap<&'a str, Version>);

/// A channel's head, entries and edges on one side.
struct ChannelView {
    head: Option<BundleRef>,
    entries: BTreeMap<String, BundleRef>,
    edges: BTreeMap<(String, String), Vec<&'static str>>,
}

fn view(side: Option<ChannelSide>) -> ChannelView {
    let mut v = ChannelView {
        head: None,
        entries: BTreeMap::new(),
        edges: BTreeMap::new(),
    };
    let Some((ch, pkg, versions)) = side else {
        return v;
    };
    let entries = ch.entries.as_deref().unwrap_or_default();
    v.head = upgrade::channel_head(entries)
        .ok()
        .map(|h| pkg.bundle_ref(h));
    for e in entries {
        v.entries.insert(e.name.clone(), pkg.bundle_ref(&e.name));
    }
    v.edges = edges(entries, versions);
    v
}

/// Every upgrade edge of a channel, by (from, to).
pub fn edges(
    entries: &[crate::catalog::ChannelEntry],
    versions: &HashMap<&str, Version>,
) -> BTreeMap<(String, String), Vec<&'static str>> {
    let graph: ChannelGraph = upgrade::channel_graph(entries, versions);
    let mut out: BTreeMap<(String, String), Vec<&'static str>> = BTreeMap::new();
    let mut add = |from: &str, to: &str, via: &'static str| {
        let v = out.entry((from.to_string(), to.to_string())).or_default();
        if !v.contains(&via) {
            v.push(via);
        }
    };
    for (i, to) in graph.entries().iter().enumerate() {
        if !to.replaces.is_empty() && to.replaces != to.name {
            add(&to.replaces, &to.name, "replaces");
        }
        for s in to.skips.iter().filter(|s| !s.is_empty() && **s != to.name) {
            add(s, &to.name, "skips");
        }
        if to.skip_range.is_empty() {
            continue;
        }
        for from in graph.entries() {
            if from.name != to.name && graph.in_skip_range(i, from.version.as_ref()) {
                add(&from.name, &to.name, "skipRange");
            }
        }
    }
    out
}

fn channel_diff(
    name: &str,
    old: Option<ChannelSide>,
    new: Option<ChannelSide>,
) -> Option<ChannelDiff> {
    let status = status_of(old.is_some(), new.is_some());
    let (o, n) = (view(old), view(new));
    let added = |a: &ChannelView, b: &ChannelView| -> Vec<BundleRef> {
        b.entries
            .iter()
            .filter(|(k, _)| !a.entries.contains_key(*k))
            .map(|(_, r)| r.clone())
            .collect()
    };
    let new_edges = |a: &ChannelView, b: &ChannelView| -> Vec<Edge> {
        b.edges
            .iter()
            .filter(|(k, _)| !a.edges.contains_key(*k))
            .map(|((from, to), via)| Edge {
                from: from.clone(),
                to: to.clone(),
                via: via.clone(),
            })
            .collect()
    };
    let d = ChannelDiff {
        name: name.to_string(),
        status,
        entries_added: added(&o, &n),
        entries_removed: added(&n, &o),
        edges_added: new_edges(&o, &n),
        edges_removed: new_edges(&n, &o),
        head: Change {
            old: o.head,
            new: n.head,
        },
    };
    let unchanged = d.head.old == d.head.new
        && d.entries_added.is_empty()
        && d.entries_removed.is_empty()
        && d.edges_added.is_empty()
        && d.edges_removed.is_empty();
    (status != Status::Changed || !unchanged).then_some(d)
}

fn summarize(packages: &[PackageDiff]) -> Summary {
    let mut s = Summary::default();
    for p in packages {
        match p.status {
            Status::Added => s.packages_added += 1,
            Status::Removed => s.packages_removed += 1,
            Status::Changed => s.packages_changed += 1,
        }
        if p.status == Status::Changed && p.default_channel.is_some() {
            s.default_channels_changed += 1;
        }
        s.bundles_added += p.bundles_added.len();
        s.bundles_removed += p.bundles_removed.len();
        for c in &p.channels {
            match c.status {
                Status::Added => s.channels_added += 1,
                Status::Removed => s.channels_removed += 1,
                Status::Changed => s.channels_changed += 1,
            }
            if c.head_changed() {
                s.heads_changed += 1;
            }
            s.edges_added += c.edges_added.len();
            s.edges_removed += c.edges_removed.len();
        }
        for d in &p.deprecations {
            match d.status {
                Status::Added => s.deprecations_added += 1,
                Status::Removed => s.deprecations_removed += 1,
                Status::Changed => s.deprecations_changed += 1,
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{
        Bundle, ChannelEntry, DeprecationEntry, Package, PackageScopedReference, Property,
    };

    fn pkg(name: &str, default: &str) -> Package {
        Package {
            schema: "olm.package".into(),
            name: name.into(),
            default_channel: default.into(),
            ..Default::default()
        }
    }

    fn entry(name: &str, replaces: &str, skip_range: &str) -> ChannelEntry {
        ChannelEntry {
            name: name.into(),
            replaces: replaces.into(),
            skip_range: skip_range.into(),
            ..Default::default()
        }
    }

    fn channel(pkg: &str, name: &str, entries: Vec<ChannelEntry>) -> Channel {
        Channel {
            schema: "olm.channel".into(),
            name: name.into(),
            package: pkg.into(),
            entries: Some(entries),
            ..Default::default()
        }
    }

    fn bundle(pkg: &str, name: &str, version: &str) -> Bundle {
        Bundle {
            schema: "olm.bundle".into(),
            name: name.into(),
            package: pkg.into(),
            properties: vec![Property {
                typ: "olm.package".into(),
                value: format!("{{\"packageName\":\"{pkg}\",\"version\":\"{version}\"}}"),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn old() -> DeclarativeConfig {
        DeclarativeConfig {
            packages: vec![pkg("a", "stable"), pkg("gone", "x")],
            channels: vec![
                channel(
                    "a",
                    "stable",
                    vec![entry("a.v1", "", ""), entry("a.v2", "a.v1", "")],
                ),
                channel("a", "beta", vec![entry("a.v1", "", "")]),
                channel("gone", "x", vec![entry("gone.v1", "", "")]),
            ],
            bundles: vec![
                bundle("a", "a.v1", "1.0.0"),
                bundle("a", "a.v2", "2.0.0"),
                bundle("gone", "gone.v1", "1.0.0"),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn same_catalog_has_no_diff() {
        let d = diff(&old(), &old());
        assert!(d.is_empty());
        assert_eq!(d.summary, Summary::default());
    }

    #[test]
    fn finds_every_kind_of_change() {
        let mut new = old();
        new.packages.retain(|p| p.name != "gone");
        new.channels
            .retain(|c| c.package != "gone" && c.name != "beta");
        new.bundles.retain(|b| b.package != "gone");
        new.packages[0].default_channel = "fast".into();
        new.channels.push(channel(
            "a",
            "fast",
            vec![entry("a.v3", "", ">=1.0.0 <3.0.0")],
        ));
        new.channels[0]
            .entries
            .as_mut()
            .unwrap()
            .push(entry("a.v3", "a.v2", ">=1.0.0 <3.0.0"));
        new.bundles.push(bundle("a", "a.v3", "3.0.0"));
        new.deprecations.push(Deprecation {
            schema: "olm.deprecations".into(),
            package: "a".into(),
            entries: Some(vec![DeprecationEntry {
                reference: PackageScopedReference {
                    schema: "olm.channel".into(),
                    name: "stable".into(),
                },
                message: "use fast".into(),
            }]),
        });
        let d = diff(&old(), &new);
        assert_eq!(d.packages.len(), 2);
        let a = &d.packages[0];
        assert_eq!(a.status, Status::Changed);
        assert_eq!(
            a.default_channel.as_ref().unwrap().new.as_deref(),
            Some("fast")
        );
        assert_eq!(a.bundles_added[0].name, "a.v3");
        assert_eq!(a.bundles_added[0].version.as_deref(), Some("3.0.0"));
        let names: Vec<(&str, Status)> = a
            .channels
            .iter()
            .map(|c| (c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            names,
            [
                ("beta", Status::Removed),
                ("fast", Status::Added),
                ("stable", Status::Changed)
            ]
        );
        let stable = &a.channels[2];
        assert!(stable.head_changed());
        assert_eq!(stable.head.new.as_ref().unwrap().name, "a.v3");
        let edges: Vec<(&str, &str, Vec<&str>)> = stable
            .edges_added
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.via.clone()))
            .collect();
        assert_eq!(
            edges,
            [
                ("a.v1", "a.v3", vec!["skipRange"]),
                ("a.v2", "a.v3", vec!["replaces", "skipRange"])
            ]
        );
        assert_eq!(a.deprecations[0].status, Status::Added);
        assert_eq!(d.packages[1].name, "gone");
        assert_eq!(d.packages[1].status, Status::Removed);
        let s = &d.summary;
        assert_eq!(
            (
                s.packages_removed,
                s.packages_changed,
                s.channels_added,
                s.channels_removed
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(
            (
                s.bundles_added,
                s.bundles_removed,
                s.edges_added,
                s.heads_changed
            ),
            (1, 1, 2, 1)
        );
        assert_eq!((s.default_channels_changed, s.deprecations_added), (1, 1));
    }
}
