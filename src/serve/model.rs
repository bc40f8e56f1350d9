//! The package → channel → bundle model `serve` answers from, built per
//! package the way Go's cache build runs `ConvertToModel` on each package
//! group (spec opm-validate-serve-grpc.md §3.3, §1.4–§1.5, §2.3).
//!
//! Only what serve needs lives here: structural checks that would otherwise
//! make answers meaningless, channel heads, and the replaces-chain checks of
//! model validation. The full `validate` rule set lives with `opm validate`;
//! both should converge on one model later.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::catalog::load::go_quote;
use crate::catalog::{Channel, Deprecation, Icon, PROP_PACKAGE, Package, Property, RelatedImage};

/// A bundle as serve keeps it while building: everything but its objects,
/// which were already written to the cache data region.
#[derive(Debug, Clone, Default)]
pub struct BundleMeta {
    pub name: String,
    pub package: String,
    pub image: String,
    /// All properties except `olm.bundle.object` (in order).
    pub properties: Vec<Property>,
    pub related_images: Vec<RelatedImage>,
    /// Cache data spans holding the bundle's `object`s (and `csvJson` when
    /// one of them is the CSV), as encoded `api.Bundle` fragments.
    pub heavy: Vec<super::cache::Span>,
    pub object_count: usize,
    /// The first `olm.csv.metadata` value, parked in the data region (the
    /// property itself is kept with an empty value, for counting).
    pub csv_metadata: Option<super::cache::Span>,
    /// Which object is the CSV (`csvJson`), if any.
    pub csv_object: Option<u32>,
    /// `object` is `[csvJson]`: a synthesised CSV and no objects (§4.2).
    pub object_from_csv: bool,
}

/// One package group: the blobs whose package (or name, for `olm.package`)
/// is this package, in load order.
#[derive(Debug, Default)]
pub struct Group {
    pub packages: Vec<Package>,
    pub channels: Vec<Channel>,
    pub bundles: Vec<BundleMeta>,
    pub deprecations: Vec<Deprecation>,
}

#[derive(Debug)]
pub struct ModelPackage {
    pub name: String,
    pub description: String,
    pub icon: Option<Icon>,
    pub default_channel: String,
    pub deprecation: Option<String>,
    /// By name.
    pub channels: BTreeMap<String, ModelChannel>,
    /// By name; only bundles listed in some channel.
    pub bundles: BTreeMap<String, ModelBundle>,
}

#[derive(Debug)]
pub struct ModelChannel {
    pub name: String,
    pub head: String,
    pub deprecation: Option<String>,
    /// Entries by bundle name.
    pub entries: BTreeMap<String, ModelEntry>,
}

#[derive(Debug, Clone)]
pub struct ModelEntry {
    pub replaces: String,
    pub skips: Vec<String>,
    pub skip_range: String,
}

#[derive(Debug)]
pub struct ModelBundle {
    pub meta: BundleMeta,
    pub version: String,
    pub deprecation: Option<String>,
}

/// Convert one package group, first structural failure wins (Go's order).
pub fn build_package(pkg_name: &str, g: Group) -> Result<ModelPackage, String> {
    // Packages (P1–P3).
    let mut package: Option<Package> = None;
    for p in g.packages {
        if p.name.is_empty() {
            return Err("config contains package with no name".into());
        }
        if package.is_some() {
            return Err(format!("duplicate package {}", go_quote(&p.name)));
        }
        if let Some(why) = dns1123_label_error(&p.name) {
            return Err(format!(
                "invalid package name {}: [{why}]",
                go_quote(&p.name)
            ));
        }
        package = Some(p);
    }
    let q = go_quote;
    let known = |p: &str| package.as_ref().is_some_and(|x| x.name == p);

    // Channels (C1–C4).
    let mut channels: BTreeMap<String, ModelChannel> = BTreeMap::new();
    let mut last_channel_entries: Vec<String> = Vec::new();
    for c in &g.channels {
        if !known(&c.package) {
            return Err(format!(
                "unknown package {} for channel {}",
                q(&c.package),
                q(&c.name)
            ));
        }
        if c.name.is_empty() {
            return Err(format!(
                "package {} contains channel with no name",
                q(&c.package)
            ));
        }
        if channels.contains_key(&c.name) {
            return Err(format!(
                "package {} has duplicate channel {}",
                q(&c.package),
                q(&c.name)
            ));
        }
        let mut entries = BTreeMap::new();
        for e in c.entries.iter().flatten() {
            if entries.contains_key(&e.name) {
                return Err(format!(
                    "invalid package {}, channel {}: duplicate entry {}",
                    q(&c.package),
                    q(&c.name),
                    q(&e.name)
                ));
            }
            entries.insert(
                e.name.clone(),
                ModelEntry {
                    replaces: e.replaces.clone(),
                    skips: e.skips.clone(),
                    skip_range: e.skip_range.clone(),
                },
            );
        }
        // GO QUIRK (§1.4): only the last channel's entries are checked for
        // missing bundles.
        last_channel_entries = entries.keys().cloned().collect();
        channels.insert(
            c.name.clone(),
            ModelChannel {
                name: c.name.clone(),
                head: String::new(),
                deprecation: None,
                entries,
            },
        );
    }

    // Bundles (B1–B11).
    let listed: HashSet<&str> = channels
        .values()
        .flat_map(|c| c.entries.keys().map(String::as_str))
        .collect();
    let mut bundles: BTreeMap<String, ModelBundle> = BTreeMap::new();
    for b in g.bundles {
        if b.package.is_empty() {
            return Err(format!(
                "package name must be set for bundle {}",
                q(&b.name)
            ));
        }
        if !known(&b.package) {
            return Err(format!(
                "unknown package {} for bundle {}",
                q(&b.package),
                q(&b.name)
            ));
        }
        if bundles.contains_key(&b.name) {
            return Err(format!(
                "package {} has duplicate bundle {}",
                q(&b.package),
                q(&b.name)
            ));
        }
        let pkg_props: Vec<&Property> = b
            .properties
            .iter()
            .filter(|p| p.typ == PROP_PACKAGE)
            .collect();
        if pkg_props.len() != 1 {
            return Err(format!(
                "package {} bundle {} must have exactly 1 {} property, found {}",
                q(&b.package),
                q(&b.name),
                q(PROP_PACKAGE),
                pkg_props.len()
            ));
        }
        let (prop_pkg, version) = parse_package_property(&pkg_props[0].value).map_err(|e| {
            format!(
                "parse properties for bundle {}: parse property[{}] of type {}: {e}",
                q(&b.name),
                b.properties
                    .iter()
                    .position(|p| p.typ == PROP_PACKAGE)
                    .unwrap_or(0),
                q(PROP_PACKAGE)
            )
        })?;
        if prop_pkg != b.package {
            return Err(format!(
                "package {} does not match {} property {}",
                q(&b.package),
                q(PROP_PACKAGE),
                q(&prop_pkg)
            ));
        }
        if let Err(e) = semver::Version::parse(&version) {
            return Err(format!(
                "error parsing bundle {} version {}: {e}",
                q(&b.name),
                q(&version)
            ));
        }
        if !listed.contains(b.name.as_str()) {
            return Err(format!(
                "package {}, bundle {} not found in any channel entries",
                q(&b.package),
                q(&b.name)
            ));
        }
        let csv_meta = b
            .properties
            .iter()
            .filter(|p| p.typ == crate::catalog::PROP_CSV_METADATA)
            .count();
        if csv_meta > 1 {
            return Err(format!(
                "parse properties: expected at most 1 property of type {}, found {csv_meta}",
                q(crate::catalog::PROP_CSV_METADATA)
            ));
        }
        bundles.insert(
            b.name.clone(),
            ModelBundle {
                meta: b,
                version,
                deprecation: None,
            },
        );
    }
    let missing: BTreeSet<&String> = last_channel_entries
        .iter()
        .filter(|e| !bundles.contains_key(*e))
        .collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "no olm.bundle blobs found in package {} for olm.channel entries [{}]",
            q(pkg_name),
            names.join(" ")
        ));
    }

    let Some(package) = package else {
        // Only reachable for a group with no blobs at all.
        return Err(format!("unknown package {}", q(pkg_name)));
    };
    // An unknown default channel becomes an empty channel (§1.4).
    if !package.default_channel.is_empty() && !channels.contains_key(&package.default_channel) {
        channels.insert(
            package.default_channel.clone(),
            ModelChannel {
                name: package.default_channel.clone(),
                head: String::new(),
                deprecation: None,
                entries: BTreeMap::new(),
            },
        );
    }

    let mut model = ModelPackage {
        name: package.name.clone(),
        description: package.description.clone(),
        icon: package.icon.clone(),
        default_channel: package.default_channel.clone(),
        deprecation: None,
        channels,
        bundles,
    };
    apply_deprecations(&mut model, &g.deprecations)?;
    validate(&mut model)?;
    Ok(model)
}

fn parse_package_property(value: &str) -> Result<(String, String), String> {
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(rename = "packageName", default)]
        package_name: Option<String>,
        #[serde(default)]
        version: Option<String>,
    }
    let p: P = serde_json::from_str(value).map_err(|e| e.to_string())?;
    Ok((
        p.package_name.unwrap_or_default(),
        p.version.unwrap_or_default(),
    ))
}

/// k8s `IsDNS1123Label`, the message Go joins into `[...]`.
fn dns1123_label_error(name: &str) -> Option<String> {
    let label_ok = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    if name.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    if label_ok(name) {
        return None;
    }
    if name.split('.').all(label_ok) {
        return Some("must not contain dots".into());
    }
    Some("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into())
}

fn apply_deprecations(m: &mut ModelPackage, deps: &[Deprecation]) -> Result<(), String> {
    let q = go_quote;
    let mut seen_blob = false;
    for (i, d) in deps.iter().enumerate() {
        if d.package.is_empty() {
            return Err(format!("package name must be set for deprecation item {i}"));
        }
        if d.package != m.name {
            return Err(format!(
                "cannot apply deprecations to an unknown package {}",
                q(&d.package)
            ));
        }
        if seen_blob {
            return Err(format!(
                "expected a maximum of one deprecation per package: {}",
                q(&d.package)
            ));
        }
        seen_blob = true;
        let mut refs = HashSet::new();
        for (j, e) in d.entries.iter().flatten().enumerate() {
            let r = &e.reference;
            if r.schema.is_empty() {
                return Err(format!(
                    "schema must be set for deprecation entry [{j}] for package {}",
                    q(&d.package)
                ));
            }
            let go_ref = format!(
                "declcfg.PackageScopedReference{{Schema:{}, Name:{}}}",
                q(&r.schema),
                q(&r.name)
            );
            if !refs.insert((r.schema.clone(), r.name.clone())) {
                return Err(format!(
                    "duplicate deprecation entry {go_ref} for package {}",
                    q(&d.package)
                ));
            }
            match r.schema.as_str() {
                crate::catalog::SCHEMA_BUNDLE => {
                    let Some(b) = m.bundles.get_mut(&r.name) else {
                        return Err(format!(
                            "cannot deprecate bundle {} for package {}: bundle not found",
                            q(&r.name),
                            q(&d.package)
                        ));
                    };
                    b.deprecation = Some(e.message.clone());
                }
                crate::catalog::SCHEMA_CHANNEL => {
                    let Some(c) = m.channels.get_mut(&r.name) else {
                        return Err(format!(
                            "cannot deprecate channel {} for package {}: channel not found",
                            q(&r.name),
                            q(&d.package)
                        ));
                    };
                    c.deprecation = Some(e.message.clone());
                }
                crate::catalog::SCHEMA_PACKAGE => {
                    if !r.name.is_empty() {
                        return Err(format!(
                            "package name must be empty for deprecated package {} (specified {})",
                            q(&d.package),
                            q(&r.name)
                        ));
                    }
                    m.deprecation = Some(e.message.clone());
                }
                _ => {
                    return Err(format!(
                        "cannot deprecate object {go_ref} referenced by entry {j} for package {}: object schema unknown",
                        q(&d.package)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// An error-tree node (§1.7).
struct Node {
    msg: String,
    children: Vec<Node>,
}

impl Node {
    fn leaf(msg: impl Into<String>) -> Node {
        Node {
            msg: msg.into(),
            children: Vec::new(),
        }
    }

    fn render(&self, prefix: &str, out: &mut String) {
        out.push_str(prefix);
        out.push_str(&self.msg);
        if !self.children.is_empty() {
            out.push(':');
        }
        out.push('\n');
        let n = self.children.len();
        for (i, c) in self.children.iter().enumerate() {
            let last = i + 1 == n;
            let mut p: String = prefix.to_string();
            let chars: Vec<char> = p.chars().collect();
            if chars.len() >= 4 {
                // The parent's own connector becomes a continuation column.
                let parent_last = prefix.ends_with("└── ");
                p = chars[..chars.len() - 4].iter().collect();
                p.push_str(if parent_last { "    " } else { "│   " });
            }
            p.push_str(if last { "└── " } else { "├── " });
            c.render(&p, out);
        }
    }
}

/// Model validation (§1.5), limited to what serve depends on: channel
/// heads and replaces chains, empty channels, missing default channel,
/// bundles without image or objects. Fills in channel heads.
fn validate(m: &mut ModelPackage) -> Result<(), String> {
    let mut pkg_errs = Vec::new();
    if m.default_channel.is_empty() {
        pkg_errs.push(Node::leaf("default channel must be set"));
    }
    if m.channels.is_empty() {
        pkg_errs.push(Node::leaf("package must contain at least one channel"));
    }
    for c in m.channels.values_mut() {
        let mut errs = Vec::new();
        if c.entries.is_empty() {
            errs.push(Node::leaf("channel must contain at least one bundle"));
        } else {
            match channel_head(c).and_then(|head| check_chain(c, &head).map(|_| head)) {
                Ok(head) => c.head = head,
                Err(e) => errs.push(Node::leaf(e)),
            }
        }
        for (name, e) in &c.entries {
            let mut berrs = Vec::new();
            for (i, s) in e.skips.iter().enumerate() {
                if s.is_empty() {
                    berrs.push(Node::leaf(format!("skip[{i}] is empty")));
                }
            }
            if let Some(b) = m.bundles.get(name)
                && b.meta.image.is_empty()
                && b.meta.object_count == 0
            {
                berrs.push(Node::leaf("bundle image must be set"));
            }
            if !berrs.is_empty() {
                errs.push(Node {
                    msg: format!("invalid bundle {}", go_quote(name)),
                    children: berrs,
                });
            }
        }
        if !errs.is_empty() {
            pkg_errs.push(Node {
                msg: format!("invalid channel {}", go_quote(&c.name)),
                children: errs,
            });
        }
    }
    if pkg_errs.is_empty() {
        return Ok(());
    }
    let root = Node {
        msg: "invalid index".into(),
        children: vec![Node {
            msg: format!("invalid package {}", go_quote(&m.name)),
            children: pkg_errs,
        }],
    };
    let mut s = String::new();
    root.render("", &mut s);
    Err(s.trim().to_string())
}

/// The one entry no `replaces` or `skips` points at (§2.3).
pub fn channel_head(c: &ModelChannel) -> Result<String, String> {
    let mut incoming: HashMap<&str, usize> = HashMap::new();
    for e in c.entries.values() {
        if !e.replaces.is_empty() {
            *incoming.entry(e.replaces.as_str()).or_default() += 1;
        }
        for s in &e.skips {
            *incoming.entry(s.as_str()).or_default() += 1;
        }
    }
    let heads: Vec<&String> = c
        .entries
        .keys()
        .filter(|n| !incoming.contains_key(n.as_str()))
        .collect();
    match heads.as_slice() {
        [] => Err("no channel head found in graph".into()),
        [one] => Ok((*one).clone()),
        many => Err(format!(
            "multiple channel heads found in graph: {}",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn check_chain(c: &ModelChannel, head: &str) -> Result<(), String> {
    let skipped: HashSet<&str> = c
        .entries
        .values()
        .flat_map(|e| e.skips.iter().map(String::as_str))
        .collect();
    let mut path: Vec<&str> = vec![head];
    let mut visited: HashSet<&str> = HashSet::from([head]);
    let mut cur = head;
    while let Some(e) = c.entries.get(cur) {
        let next = e.replaces.as_str();
        if next.is_empty() || skipped.contains(next) {
            break;
        }
        if visited.contains(next) {
            let start = path.iter().position(|p| *p == next).unwrap_or(0);
            let mut cycle: Vec<&str> = path[start..].to_vec();
            cycle.push(next);
            return Err(format!(
                "detected cycle in replaces chain of upgrade graph: {}",
                cycle.join(" -> ")
            ));
        }
        visited.insert(next);
        path.push(next);
        cur = next;
    }
    let stranded: Vec<&str> = c
        .entries
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chan(entries: &[(&str, &str, &[&str])]) -> ModelChannel {
        ModelChannel {
            name: "stable".into(),
            head: String::new(),
            deprecation: None,
            entries: entries
                .iter()
                .map(|(n, r, s)| {
                    (
                        n.to_string(),
                        ModelEntry {
                            replaces: r.to_string(),
                            skips: s.iter().map(|x| x.to_string()).collect(),
                            skip_range: String::new(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn heads_cycles_and_strands() {
        let c = chan(&[("v1", "", &[]), ("v2", "v1", &[]), ("v3", "v2", &["v0"])]);
        assert_eq!(channel_head(&c).unwrap(), "v3");
        assert!(check_chain(&c, "v3").is_ok());
        let two = chan(&[("a", "", &[]), ("b", "", &[])]);
        assert_eq!(
            channel_head(&two).unwrap_err(),
            "multiple channel heads found in graph: a, b"
        );
        let cyc = chan(&[
            ("v1", "v3", &[]),
            ("v2", "v1", &[]),
            ("v3", "v2", &[]),
            ("v4", "v3", &[]),
        ]);
        assert_eq!(
            check_chain(&cyc, "v4").unwrap_err(),
            "detected cycle in replaces chain of upgrade graph: v3 -> v2 -> v1 -> v3"
        );
        let strand = chan(&[("v1", "", &[]), ("v2", "v1", &[]), ("v3", "v2", &["v2"])]);
        assert_eq!(
            check_chain(&strand, "v3").unwrap_err(),
            "channel contains one or more stranded bundles: v1"
        );
    }

    #[test]
    fn tree_renders_like_go() {
        let root = Node {
            msg: "invalid index".into(),
            children: vec![Node {
                msg: "invalid package \"b\"".into(),
                children: vec![
                    Node::leaf("default channel must be set"),
                    Node {
                        msg: "invalid channel \"stable\"".into(),
                        children: vec![Node::leaf("x")],
                    },
                ],
            }],
        };
        let mut s = String::new();
        root.render("", &mut s);
        assert_eq!(
            s.trim(),
            "invalid index:\n└── invalid package \"b\":\n    ├── default channel must be set\n    └── invalid channel \"stable\":\n        └── x"
        );
    }
}
