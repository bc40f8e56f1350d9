//! `opm validate --previous`: what a new state of a catalog breaks for the
//! clusters that installed from the state published before it. Go opm has
//! no such check; every finding is an error (a pull request that strands
//! users should fail), with its own rule id:
//!
//! - `previous-package-removed`: a package is gone (its bundles and
//!   channels are not listed one by one);
//! - `previous-bundle-removed`: a bundle of a package that still exists is
//!   gone;
//! - `previous-channel-removed`: a channel of a package that still exists
//!   is gone (subscriptions to it stop getting updates);
//! - `previous-default-channel-changed`: new installs land elsewhere;
//! - `previous-head-downgraded`: a channel's head has a lower version than
//!   before (OLM never downgrades, so clusters stay on the old head);
//! - `previous-upgrade-path-lost`: a bundle that was an entry of a channel
//!   can no longer reach that channel's new head through replaces, skips or
//!   skipRange (whether it is still in the catalog or not).
//!
//! Each finding is placed on a blob of the new catalog (the package for
//! removals and default channels, the channel for heads and paths); where
//! the new catalog has no such blob, on the old one when it was read from a
//! directory.

use std::collections::{BTreeMap, HashMap};

use semver::Version;

use super::Diagnostic;
use crate::catalog::load::go_quote as q;
use crate::catalog::upgrade::{self, channel_head};
use crate::catalog::{Channel, DeclarativeConfig, Location, SourceMap};

/// One side: a config and, when read from a directory, where its blobs are.
pub struct Located<'a> {
    pub config: &'a DeclarativeConfig,
    pub sources: Option<&'a SourceMap>,
}

struct Index<'a> {
    packages: BTreeMap<&'a str, (usize, &'a str)>,
    channels: BTreeMap<(&'a str, &'a str), (usize, &'a Channel)>,
    bundles: BTreeMap<(&'a str, &'a str), usize>,
    versions: HashMap<&'a str, HashMap<&'a str, Version>>,
    version_text: HashMap<(&'a str, &'a str), String>,
}

fn index(cfg: &DeclarativeConfig) -> Index<'_> {
    let mut idx = Index {
        packages: BTreeMap::new(),
        channels: BTreeMap::new(),
        bundles: BTreeMap::new(),
        versions: HashMap::new(),
        version_text: HashMap::new(),
    };
    for (i, p) in cfg.packages.iter().enumerate() {
        idx.packages
            .entry(&p.name)
            .or_insert((i, &p.default_channel));
    }
    for (i, c) in cfg.channels.iter().enumerate() {
        idx.channels.entry((&c.package, &c.name)).or_insert((i, c));
    }
    for (i, b) in cfg.bundles.iter().enumerate() {
        idx.bundles.entry((&b.package, &b.name)).or_insert(i);
        if let Some(v) = upgrade::bundle_version_text(b) {
            if let Ok(parsed) = Version::parse(&v) {
                idx.versions
                    .entry(&b.package)
                    .or_default()
                    .insert(&b.name, parsed);
            }
            idx.version_text.insert((&b.package, &b.name), v);
        }
    }
    idx
}

fn loc(list: impl Fn(&SourceMap) -> &Vec<Location>, side: &Located, i: usize) -> Option<Location> {
    side.sources.and_then(|s| list(s).get(i).cloned())
}

/// `"name"` or `"name" (1.2.3)`.
fn named(name: &str, version: Option<&String>) -> String {
    match version {
        Some(v) => format!("{} ({v})", q(name)),
        None => q(name),
    }
}

/// Every finding, by package, then channel or bundle name.
pub fn check(old: &Located, new: &Located) -> Vec<Diagnostic> {
    let (o, n) = (index(old.config), index(new.config));
    let no_versions = HashMap::new();
    let mut out = Vec::new();
    for (&pkg, &(old_i, old_default)) in &o.packages {
        let Some(&(new_i, new_default)) = n.packages.get(pkg) else {
            out.push(Diagnostic::error(
                "previous-package-removed",
                format!(
                    "package {} was published in the previous catalog and is removed",
                    q(pkg)
                ),
                loc(|s| &s.packages, old, old_i),
            ));
            continue;
        };
        let pkg_loc = || loc(|s| &s.packages, new, new_i);
        if old_default != new_default {
            out.push(Diagnostic::error(
                "previous-default-channel-changed",
                format!(
                    "default channel of package {} changed from {} to {}",
                    q(pkg),
                    q(old_default),
                    q(new_default)
                ),
                pkg_loc(),
            ));
        }
        for (&(p, ch), &(old_ci, old_ch)) in o.channels.range((pkg, "")..) {
            if p != pkg {
                break;
            }
            let Some(&(new_ci, new_ch)) = n.channels.get(&(pkg, ch)) else {
                out.push(Diagnostic::error(
                    "previous-channel-removed",
                    format!(
                        "channel {} of package {} was published in the previous catalog and is removed",
                        q(ch),
                        q(pkg)
                    ),
                    pkg_loc().or_else(|| loc(|s| &s.channels, old, old_ci)),
                ));
                continue;
            };
            let ch_loc = || loc(|s| &s.channels, new, new_ci);
            let old_entries = old_ch.entries.as_deref().unwrap_or_default();
            let new_entries = new_ch.entries.as_deref().unwrap_or_default();
            // Without a single new head Go's own checks fail already.
            let Ok(new_head) = channel_head(new_entries) else {
                continue;
            };
            if let Ok(old_head) = channel_head(old_entries) {
                let ov = o.versions.get(pkg).and_then(|m| m.get(old_head));
                let nv = n.versions.get(pkg).and_then(|m| m.get(new_head));
                if let (Some(ov), Some(nv)) = (ov, nv)
                    && nv < ov
                {
                    out.push(Diagnostic::error(
                        "previous-head-downgraded",
                        format!(
                            "head of channel {} of package {} moved to a lower version: {} was {}",
                            q(ch),
                            q(pkg),
                            named(new_head, n.version_text.get(&(pkg, new_head))),
                            named(old_head, o.version_text.get(&(pkg, old_head))),
                        ),
                        ch_loc(),
                    ));
                }
            }
            let versions = n.versions.get(pkg).unwrap_or(&no_versions);
            let graph = upgrade::channel_graph(new_entries, versions);
            let reaching = graph.reaching(new_head);
            let mut seen = std::collections::BTreeSet::new();
            for e in old_entries {
                if !seen.insert(e.name.as_str()) {
                    continue;
                }
                let version = o.versions.get(pkg).and_then(|m| m.get(e.name.as_str()));
                if !graph.can_reach(&reaching, new_head, &e.name, version) {
                    out.push(Diagnostic::error(
                        "previous-upgrade-path-lost",
                        format!(
                            "bundle {}, published in channel {} of package {}, can no longer upgrade to the channel head {}: no replaces, skips or skipRange leads from it to the head",
                            named(&e.name, o.version_text.get(&(pkg, e.name.as_str()))),
                            q(ch),
                            q(pkg),
                            q(new_head)
                        ),
                        ch_loc(),
                    ));
                }
            }
        }
        for (&(p, b), &old_bi) in o.bundles.range((pkg, "")..) {
            if p != pkg {
                break;
            }
            if !n.bundles.contains_key(&(pkg, b)) {
                out.push(Diagnostic::error(
                    "previous-bundle-removed",
                    format!(
                        "bundle {} of package {} was published in the previous catalog and is removed",
                        named(b, o.version_text.get(&(pkg, b))),
                        q(pkg)
                    ),
                    pkg_loc().or_else(|| loc(|s| &s.bundles, old, old_bi)),
                ));
            }
        }
    }
    out
}

/// The findings as the one message of `-o json|yaml` and the fatal lines of
/// the default output: `path:line: [rule] message`.
pub fn line(d: &Diagnostic) -> String {
    match &d.location {
        Some(l) => format!("{l}: [{}] {}", d.rule, d.message),
        None => format!("[{}] {}", d.rule, d.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Bundle, ChannelEntry, Package, Property};

    /// (name, replaces, skipRange) per entry.
    type Entries<'a> = &'a [(&'a str, &'a str, &'a str)];

    fn cfg(
        channels: &[(&str, Entries)],
        bundles: &[(&str, &str)],
        default: &str,
    ) -> DeclarativeConfig {
        DeclarativeConfig {
            packages: vec![Package {
                name: "a".into(),
                default_channel: default.into(),
                ..Default::default()
            }],
            channels: channels
                .iter()
                .map(|(name, entries)| Channel {
                    name: name.to_string(),
                    package: "a".into(),
                    entries: Some(
                        entries
                            .iter()
                            .map(|(n, r, sr)| ChannelEntry {
                                name: n.to_string(),
                                replaces: r.to_string(),
                                skip_range: sr.to_string(),
                                ..Default::default()
                            })
                            .collect(),
                    ),
                    ..Default::default()
                })
                .collect(),
            bundles: bundles
                .iter()
                .map(|(n, v)| Bundle {
                    name: n.to_string(),
                    package: "a".into(),
                    properties: vec![Property {
                        typ: "olm.package".into(),
                        value: format!("{{\"packageName\":\"a\",\"version\":\"{v}\"}}"),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn rules(old: &DeclarativeConfig, new: &DeclarativeConfig) -> Vec<&'static str> {
        let side = |c| Located {
            config: c,
            sources: None,
        };
        check(&side(old), &side(new))
            .iter()
            .map(|d| d.rule)
            .collect()
    }

    #[test]
    fn a_clean_upgrade_has_no_finding() {
        let old = cfg(&[("s", &[("a1", "", "")])], &[("a1", "1.0.0")], "s");
        let new = cfg(
            &[("s", &[("a1", "", ""), ("a2", "", ">=1.0.0 <2.0.0")])],
            &[("a1", "1.0.0"), ("a2", "2.0.0")],
            "s",
        );
        assert!(rules(&old, &new).is_empty());
        // Dropping a1 is fine for the path (the skipRange still holds it),
        // not for the bundle.
        let new = cfg(
            &[("s", &[("a2", "", ">=1.0.0 <2.0.0")])],
            &[("a2", "2.0.0")],
            "s",
        );
        assert_eq!(rules(&old, &new), ["previous-bundle-removed"]);
    }

    #[test]
    fn each_finding() {
        let old = cfg(
            &[
                ("s", &[("a1", "", ""), ("a2", "a1", "")]),
                ("t", &[("a1", "", "")]),
            ],
            &[("a1", "1.0.0"), ("a2", "2.0.0")],
            "s",
        );
        let new = cfg(&[("s", &[("a1", "", "")])], &[("a1", "1.0.0")], "t");
        assert_eq!(
            rules(&old, &new),
            [
                "previous-default-channel-changed",
                "previous-head-downgraded",
                "previous-upgrade-path-lost",
                "previous-channel-removed",
                "previous-bundle-removed",
            ]
        );
        assert_eq!(
            rules(&old, &DeclarativeConfig::default()),
            ["previous-package-removed"]
        );
    }
}
