//! Lints: what a reviewer of a catalog change wants to know beyond Go opm's
//! verdict (issue 11). Each finding is a [`Severity::Warning`] with a stable
//! rule id; none changes the verdict (`validate --strict` / `--error-on`
//! make them fail on purpose).
//!
//! They run on a catalog that loaded and that Go's `ConvertToModel` accepted
//! (the model is then complete): a model-check failure (stage 3) does not
//! stop them, a load or structural failure does, since the model would be
//! missing what the failure dropped.
//!
//! Everything is per package, and per channel inside it: a skipRange is only
//! matched against the versions of its own package, the upgrade graph of a
//! channel only spans that channel's entries.
//!
//! Two lints the issue lists are not here because Go opm already refuses
//! the catalog (so a lint could never fire on a catalog Go accepts):
//! bundles in no channel (`bundle-in-channel`, §1.4 B11) and deprecation
//! entries naming a bundle or channel that does not exist (`deprecation`,
//! §1.4 D5-D6; a deprecated default channel that names no channel is
//! created empty and then fails `channel-bundles`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use semver::Version;
use serde::Deserialize;

use super::check::channel_head;
use super::convert::{MChannel, MPackage, Model};
use super::{Diagnostic, Severity};
use crate::catalog::load::go_quote as q;
use crate::catalog::upgrade::{ChannelGraph, Entry};
use crate::catalog::{
    Bundle, DeclarativeConfig, Location, PROP_BUNDLE_OBJECT, PROP_CSV_METADATA, SourceMap,
};
use crate::semver_range::{Comparator, Op, Range, compare, parse_range};

pub const SKIP_RANGE_ABOVE_VERSION: &str = "skip-range-above-version";
pub const SKIP_RANGE_NO_MATCH: &str = "skip-range-no-match";
pub const UNREACHABLE_ENTRY: &str = "unreachable-entry";
pub const HEAD_CSV_METADATA: &str = "head-csv-metadata";
pub const MIXED_BUNDLE_METADATA: &str = "mixed-bundle-metadata";
pub const UNMET_GVK_REQUIRED: &str = "unmet-gvk-required";
pub const UNMET_PACKAGE_REQUIRED: &str = "unmet-package-required";
pub const DEPRECATED_DEFAULT_CHANNEL: &str = "deprecated-default-channel";
pub const UNKNOWN_REPLACES: &str = "unknown-replaces";
pub const UNKNOWN_SKIPS: &str = "unknown-skips";

/// Every lint rule id, in the order docs/validate.md lists them.
pub const IDS: &[&str] = &[
    SKIP_RANGE_ABOVE_VERSION,
    SKIP_RANGE_NO_MATCH,
    UNREACHABLE_ENTRY,
    HEAD_CSV_METADATA,
    MIXED_BUNDLE_METADATA,
    UNMET_GVK_REQUIRED,
    UNMET_PACKAGE_REQUIRED,
    DEPRECATED_DEFAULT_CHANNEL,
    UNKNOWN_REPLACES,
    UNKNOWN_SKIPS,
];

const PROP_GVK: &str = "olm.gvk";
const PROP_GVK_REQUIRED: &str = "olm.gvk.required";
const PROP_PACKAGE_REQUIRED: &str = "olm.package.required";

fn warning(rule: &'static str, message: String, location: Option<&Location>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        rule,
        message,
        context: Vec::new(),
        location: location.cloned(),
    }
}

/// Borrowed from the property's text unless a field holds an escape.
#[derive(Deserialize, PartialEq, Eq, Hash)]
struct Gvk<'a> {
    #[serde(default, borrow)]
    group: Cow<'a, str>,
    #[serde(default, borrow)]
    version: Cow<'a, str>,
    #[serde(default, borrow)]
    kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct PackageRequired {
    #[serde(default, rename = "packageName")]
    package_name: String,
    #[serde(default, rename = "versionRange")]
    version_range: String,
}

/// What the lints need to know of one olm.bundle blob's properties.
#[derive(Default, Clone, Copy)]
struct Facts {
    csv_metadata: bool,
    objects: bool,
}

fn facts(b: &Bundle) -> Facts {
    let mut f = Facts::default();
    for p in &b.properties {
        f.csv_metadata |= p.typ == PROP_CSV_METADATA;
        f.objects |= p.typ == PROP_BUNDLE_OBJECT;
    }
    f
}

/// All lints on a catalog whose model converted (see the module comment).
pub fn lint(cfg: &DeclarativeConfig, sources: &SourceMap, model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut by_name: HashMap<(&str, &str), usize> = HashMap::with_capacity(cfg.bundles.len());
    for (i, b) in cfg.bundles.iter().enumerate() {
        by_name.insert((&b.package, &b.name), i);
    }
    let all_facts: Vec<Facts> = cfg.bundles.iter().map(facts).collect();

    for (i, p) in cfg.packages.iter().enumerate() {
        let deprecated = model
            .packages
            .get(&p.name)
            .and_then(|m| m.channels.get(&p.default_channel))
            .is_some_and(|c| c.deprecation.is_some());
        if deprecated {
            out.push(warning(
                DEPRECATED_DEFAULT_CHANNEL,
                format!(
                    "the default channel {} of package {} is deprecated: new installs land on a deprecated channel",
                    q(&p.default_channel),
                    q(&p.name)
                ),
                sources.packages.get(i),
            ));
        }
    }

    // Package by package in parallel, the findings kept in package order.
    let packages: Vec<&MPackage> = model.packages.values().collect();
    let per_package: Vec<Vec<Diagnostic>> = packages
        .par_iter()
        .map(|pkg| {
            let facts_of = |name: &str| {
                by_name
                    .get(&(pkg.name.as_str(), name))
                    .map(|&i| all_facts[i])
            };
            let mut found = Vec::new();
            package_lints(pkg, &facts_of, &mut found);
            found
        })
        .collect();
    out.extend(per_package.into_iter().flatten());

    dependencies(cfg, sources, model, &mut out);
    mixed_metadata(cfg, sources, &all_facts, &mut out);
    out
}

/// The versions of a package's bundles (each bundle once).
fn package_versions(pkg: &MPackage) -> Vec<(&str, &Version)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for b in pkg.channels.values().flat_map(|c| c.bundles.values()) {
        if let Some(v) = &b.version
            && seen.insert(b.name.as_str())
        {
            out.push((b.name.as_str(), v));
        }
    }
    out
}

fn package_lints(
    pkg: &MPackage,
    facts_of: &dyn Fn(&str) -> Option<Facts>,
    out: &mut Vec<Diagnostic>,
) {
    let versions = package_versions(pkg);
    let names: HashSet<&str> = pkg
        .channels
        .values()
        .flat_map(|c| c.bundles.values())
        .filter(|b| b.attached)
        .map(|b| b.name.as_str())
        .collect();
    // Entry-level findings are per bundle, not per channel listing it: the
    // same entry is often copied into several channels.
    let mut reported: HashSet<(&'static str, &str, &str)> = HashSet::new();
    for ch in pkg.channels.values() {
        let loc = ch.location.as_ref();
        for b in ch.bundles.values() {
            if !b.replaces.is_empty()
                && !names.contains(b.replaces.as_str())
                && reported.insert((UNKNOWN_REPLACES, &b.name, &b.replaces))
            {
                out.push(warning(
                    UNKNOWN_REPLACES,
                    format!(
                        "bundle {} replaces {}, which is not a bundle of package {}",
                        q(&b.name),
                        q(&b.replaces),
                        q(&pkg.name)
                    ),
                    loc,
                ));
            }
            for s in &b.skips {
                if !s.is_empty()
                    && !names.contains(s.as_str())
                    && reported.insert((UNKNOWN_SKIPS, &b.name, s))
                {
                    out.push(warning(
                        UNKNOWN_SKIPS,
                        format!(
                            "bundle {} skips {}, which is not a bundle of package {}",
                            q(&b.name),
                            q(s),
                            q(&pkg.name)
                        ),
                        loc,
                    ));
                }
            }
            if b.skip_range.is_empty() {
                continue;
            }
            // An unparsable range is Go's `skip-range` error already.
            let Ok(range) = parse_range(&b.skip_range) else {
                continue;
            };
            if let Some(own) = &b.version
                && reaches_above(&range, own)
                && reported.insert((SKIP_RANGE_ABOVE_VERSION, &b.name, &b.skip_range))
            {
                out.push(warning(
                    SKIP_RANGE_ABOVE_VERSION,
                    format!(
                        "bundle {} (version {own}) has skipRange {}, whose upper bound is above its own version",
                        q(&b.name),
                        q(&b.skip_range)
                    ),
                    loc,
                ));
            }
            let matches_one = versions
                .iter()
                .any(|(n, v)| *n != b.name && range.matches(v));
            if !matches_one && reported.insert((SKIP_RANGE_NO_MATCH, &b.name, &b.skip_range)) {
                out.push(warning(
                    SKIP_RANGE_NO_MATCH,
                    format!(
                        "skipRange {} of bundle {} matches no other bundle of package {}",
                        q(&b.skip_range),
                        q(&b.name),
                        q(&pkg.name)
                    ),
                    loc,
                ));
            }
        }
        channel_lints(pkg, ch, facts_of, out);
    }
}

/// Upgrade paths and the head's metadata; nothing when Go finds no single
/// head (that is Go's `upgrade-graph` error).
fn channel_lints(
    pkg: &MPackage,
    ch: &MChannel,
    facts_of: &dyn Fn(&str) -> Option<Facts>,
    out: &mut Vec<Diagnostic>,
) {
    let Ok(head) = channel_head(ch) else {
        return;
    };
    let loc = ch.location.as_ref();
    let graph = ChannelGraph::new(
        ch.bundles
            .values()
            .map(|b| Entry {
                name: b.name.clone(),
                version: b.version.clone(),
                replaces: b.replaces.clone(),
                skips: b.skips.clone(),
                skip_range: b.skip_range.clone(),
            })
            .collect(),
    );
    let reaching = graph.reaching(&head.name);
    for b in ch.bundles.values() {
        if !reaching.contains(&b.name) {
            out.push(warning(
                UNREACHABLE_ENTRY,
                format!(
                    "bundle {} has no upgrade path to the head {} of channel {} in package {} (through replaces, skips or skipRange)",
                    q(&b.name),
                    q(&head.name),
                    q(&ch.name),
                    q(&pkg.name)
                ),
                loc,
            ));
        }
    }
    // A head with no olm.bundle blob (Go's model lets that through for all
    // but a package's last channel) lacks more than metadata: not ours.
    let f = facts_of(&head.name).unwrap_or_default();
    if head.attached && !f.csv_metadata && !f.objects {
        out.push(warning(
            HEAD_CSV_METADATA,
            format!(
                "the head {} of channel {} in package {} has no olm.csv.metadata (nor olm.bundle.object): clients show the package without its description, icon or install modes",
                q(&head.name),
                q(&ch.name),
                q(&pkg.name)
            ),
            head.location.as_ref(),
        ));
    }
}

/// Whether some version above `own` satisfies the range. Per AND-set: an
/// exact version must be above; otherwise the lowest upper bound must be
/// above `own` and leave room above the lower bounds (`!=` is ignored).
pub fn reaches_above(range: &Range, own: &Version) -> bool {
    range.any_of.iter().any(|all| set_reaches_above(all, own))
}

fn set_reaches_above(all: &[Comparator], own: &Version) -> bool {
    let above = |x: &Version| compare(x, own) == Ordering::Greater;
    if let Some(eq) = all.iter().find(|c| c.op == Op::Eq) {
        return above(&eq.version) && all.iter().all(|c| c.matches(&eq.version));
    }
    let upper = all
        .iter()
        .filter(|c| matches!(c.op, Op::Lt | Op::Le))
        .min_by(|a, b| {
            compare(&a.version, &b.version).then_with(|| (a.op == Op::Le).cmp(&(b.op == Op::Le)))
        });
    let Some(upper) = upper else {
        // No upper bound: the range reaches every later version.
        return true;
    };
    if !above(&upper.version) {
        return false;
    }
    if upper.op == Op::Le {
        return all.iter().all(|c| c.matches(&upper.version));
    }
    all.iter()
        .filter(|c| matches!(c.op, Op::Gt | Op::Ge))
        .all(|c| compare(&c.version, &upper.version) == Ordering::Less)
}

/// `olm.gvk.required` / `olm.package.required` that no bundle of the
/// catalog provides. Another catalog on the cluster may provide them, hence
/// a warning.
fn dependencies(
    cfg: &DeclarativeConfig,
    sources: &SourceMap,
    model: &Model,
    out: &mut Vec<Diagnostic>,
) {
    let any_required = cfg.bundles.iter().any(|b| {
        b.properties
            .iter()
            .any(|p| p.typ == PROP_GVK_REQUIRED || p.typ == PROP_PACKAGE_REQUIRED)
    });
    if !any_required {
        return;
    }
    // Sets per thread, merged: most bundles provide what others do, so a
    // set keeps memory to the distinct GVKs (collecting them all first
    // would not).
    let provided: HashSet<Gvk> = cfg
        .bundles
        .par_iter()
        .flat_map_iter(|b| {
            b.properties
                .iter()
                .filter(|p| p.typ == PROP_GVK)
                .filter_map(|p| serde_json::from_str::<Gvk>(&p.value).ok())
        })
        .fold(HashSet::new, |mut set, g| {
            set.insert(g);
            set
        })
        .reduce(HashSet::new, |mut a, b| {
            a.extend(b);
            a
        });
    let mut versions: BTreeMap<&str, Vec<&Version>> = BTreeMap::new();
    for pkg in model.packages.values() {
        versions.insert(
            &pkg.name,
            package_versions(pkg).into_iter().map(|(_, v)| v).collect(),
        );
    }
    // Bundle by bundle in parallel, the findings kept in bundle order.
    let found: Vec<Vec<Diagnostic>> = (cfg.bundles.par_iter().enumerate())
        .map(|(i, b)| unmet_requirements(b, sources.bundles.get(i), &provided, &versions))
        .collect();
    out.extend(found.into_iter().flatten());
}

/// The `olm.gvk.required` and `olm.package.required` properties of `b`
/// that nothing in the catalog meets.
fn unmet_requirements(
    b: &Bundle,
    loc: Option<&Location>,
    provided: &HashSet<Gvk<'_>>,
    versions: &BTreeMap<&str, Vec<&Version>>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in &b.properties {
        if p.typ == PROP_GVK_REQUIRED {
            let Ok(g) = serde_json::from_str::<Gvk>(&p.value) else {
                continue;
            };
            if !provided.contains(&g) {
                out.push(warning(
                    UNMET_GVK_REQUIRED,
                    format!(
                        "bundle {} of package {} requires {}/{} {}, which no bundle of the catalog provides (olm.gvk)",
                        q(&b.name),
                        q(&b.package),
                        g.group,
                        g.version,
                        g.kind
                    ),
                    loc,
                ));
            }
        } else if p.typ == PROP_PACKAGE_REQUIRED {
            let Ok(r) = serde_json::from_str::<PackageRequired>(&p.value) else {
                continue;
            };
            let why = match (
                versions.get(r.package_name.as_str()),
                parse_range(&r.version_range),
            ) {
                (None, _) => Some("the package is not in the catalog".to_string()),
                (_, Err(e)) => Some(format!("the range does not parse: {e}")),
                (Some(vs), Ok(range)) => (!vs.iter().any(|v| range.matches(v)))
                    .then(|| "no bundle of the package has a version in the range".to_string()),
            };
            if let Some(why) = why {
                out.push(warning(
                    UNMET_PACKAGE_REQUIRED,
                    format!(
                        "bundle {} of package {} requires package {} in range {}: {why}",
                        q(&b.name),
                        q(&b.package),
                        q(&r.package_name),
                        q(&r.version_range)
                    ),
                    loc,
                ));
            }
        }
    }
    out
}

/// One finding for a catalog whose bundles carry their CSV in both forms,
/// at the first bundle of the rarer form.
fn mixed_metadata(
    cfg: &DeclarativeConfig,
    sources: &SourceMap,
    facts: &[Facts],
    out: &mut Vec<Diagnostic>,
) {
    let objects: Vec<usize> = (0..facts.len()).filter(|&i| facts[i].objects).collect();
    let metadata: Vec<usize> = (0..facts.len())
        .filter(|&i| facts[i].csv_metadata && !facts[i].objects)
        .collect();
    let (Some(&o), Some(&m)) = (objects.first(), metadata.first()) else {
        return;
    };
    let at = if objects.len() <= metadata.len() {
        o
    } else {
        m
    };
    let name = |i: usize| format!("{}/{}", cfg.bundles[i].package, cfg.bundles[i].name);
    out.push(warning(
        MIXED_BUNDLE_METADATA,
        format!(
            "the catalog mixes olm.bundle.object ({} bundles, e.g. {}) and olm.csv.metadata ({} bundles, e.g. {}): render every bundle the same way",
            objects.len(),
            q(&name(o)),
            metadata.len(),
            q(&name(m))
        ),
        sources.bundles.get(at),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::load::{LoadOptions, load_path_located};

    fn above(range: &str, own: &str) -> bool {
        reaches_above(&parse_range(range).unwrap(), &Version::parse(own).unwrap())
    }

    #[test]
    fn skip_range_upper_bounds() {
        assert!(above(">=1.0.0 <2.0.0", "1.5.0"));
        assert!(!above(">=1.0.0 <1.5.0", "1.5.0"));
        // A bound equal to the own version is fine (#2090's own test).
        assert!(!above(">=1.0.0 <=1.5.0", "1.5.0"));
        assert!(above(">=1.0.0 <=1.5.1", "1.5.0"));
        assert!(above(">=1.0.0", "1.5.0"));
        assert!(!above("<1.0.0 || =1.2.0", "1.5.0"));
        assert!(above("<1.0.0 || =1.6.0", "1.5.0"));
        // Empty AND-set above the version: nothing satisfies it.
        assert!(!above(">3.0.0 <2.0.0", "1.5.0"));
        assert!(!above(">=1.0.0 <1.5.0", "1.5.0+build"));
    }

    fn lint_dir(text: &str) -> Vec<Diagnostic> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("catalog.yaml"), text).unwrap();
        let loaded = load_path_located(
            dir.path(),
            LoadOptions {
                keep_objects: false,
                drop_object_payloads: true,
                drop_metadata: true,
                check_schemas: false,
            },
            false,
        )
        .unwrap();
        assert!(loaded.errors.is_empty());
        let (model, diags) = super::super::convert::convert(&loaded.config, &loaded.sources, false);
        assert!(diags.is_empty(), "{diags:?}");
        lint(&loaded.config, &loaded.sources, &model)
    }

    fn bundle(name: &str, version: &str, extra: &str) -> String {
        format!(
            "---\nschema: olm.bundle\npackage: foo\nname: {name}\nimage: quay.io/x/{name}:v1\nproperties:\n- type: olm.package\n  value:\n    packageName: foo\n    version: {version}\n- type: olm.csv.metadata\n  value: {{}}\n{extra}"
        )
    }

    const HEAD: &str = "---\nschema: olm.package\nname: foo\ndefaultChannel: stable\n";

    fn rules(d: &[Diagnostic]) -> Vec<&str> {
        let mut r: Vec<&str> = d.iter().map(|d| d.rule).collect();
        r.sort();
        r
    }

    #[test]
    fn a_clean_catalog_has_no_findings() {
        let text = format!(
            "{HEAD}---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v1\n- name: foo.v2\n  replaces: foo.v1\n  skipRange: '>=1.0.0 <2.0.0'\n{}{}",
            bundle("foo.v1", "1.0.0", ""),
            bundle("foo.v2", "2.0.0", "")
        );
        assert_eq!(lint_dir(&text), vec![]);
    }

    #[test]
    fn entry_lints_are_reported_once_per_bundle() {
        let text = format!(
            "{HEAD}---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v1\n- name: foo.v2\n  replaces: foo.v0\n  skips: [foo.v1, foo.v1x]\n  skipRange: '>=3.0.0 <4.0.0'\n---\nschema: olm.channel\npackage: foo\nname: fast\nentries:\n- name: foo.v2\n  replaces: foo.v0\n  skips: [foo.v1, foo.v1x]\n  skipRange: '>=3.0.0 <4.0.0'\n{}{}",
            bundle("foo.v1", "1.0.0", ""),
            bundle("foo.v2", "2.0.0", "")
        );
        let d = lint_dir(&text);
        assert_eq!(
            rules(&d),
            [
                SKIP_RANGE_ABOVE_VERSION,
                SKIP_RANGE_NO_MATCH,
                UNKNOWN_REPLACES,
                UNKNOWN_SKIPS
            ],
            "{d:#?}"
        );
        assert!(
            d.iter()
                .all(|d| d.location.as_ref().unwrap().line.is_some())
        );
    }

    #[test]
    fn dependencies_and_heads() {
        let text = format!(
            "{HEAD}---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v1\n{}",
            "---\nschema: olm.bundle\npackage: foo\nname: foo.v1\nimage: quay.io/x/foo:v1\nproperties:\n- type: olm.package\n  value: {packageName: foo, version: 1.0.0}\n- type: olm.gvk\n  value: {group: a.io, kind: A, version: v1}\n- type: olm.gvk.required\n  value: {group: a.io, kind: A, version: v1}\n- type: olm.gvk.required\n  value: {group: b.io, kind: B, version: v1}\n- type: olm.package.required\n  value: {packageName: foo, versionRange: '>=1.0.0'}\n- type: olm.package.required\n  value: {packageName: foo, versionRange: '>=2.0.0'}\n- type: olm.package.required\n  value: {packageName: bar, versionRange: '>=1.0.0'}\n"
        );
        let d = lint_dir(&text);
        assert_eq!(
            rules(&d),
            [
                HEAD_CSV_METADATA,
                UNMET_GVK_REQUIRED,
                UNMET_PACKAGE_REQUIRED,
                UNMET_PACKAGE_REQUIRED
            ],
            "{d:#?}"
        );
        assert!(d[1].message.contains("b.io/v1 B"), "{}", d[1].message);
    }

    #[test]
    fn deprecated_default_channel() {
        let text = format!(
            "{HEAD}---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v1\n- name: foo.v2\n  replaces: foo.v1\n{}{}---\nschema: olm.deprecations\npackage: foo\nentries:\n- reference: {{schema: olm.channel, name: stable}}\n  message: gone\n",
            bundle("foo.v1", "1.0.0", ""),
            bundle("foo.v2", "2.0.0", "")
        );
        let d = lint_dir(&text);
        assert_eq!(rules(&d), [DEPRECATED_DEFAULT_CHANNEL], "{d:#?}");
        assert_eq!(d[0].location.as_ref().unwrap().line, Some(1));
    }

    #[test]
    fn entries_that_only_skip_each_other_cannot_reach_the_head() {
        // Go accepts it: both are skipped, so neither is stranded.
        let text = format!(
            "{HEAD}---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v1\n  skips: [foo.v1a]\n- name: foo.v1a\n  skips: [foo.v1]\n- name: foo.v2\n{}{}{}",
            bundle("foo.v1", "1.0.0", ""),
            bundle("foo.v1a", "1.1.0", ""),
            bundle("foo.v2", "2.0.0", "")
        );
        let d = lint_dir(&text);
        assert_eq!(rules(&d), [UNREACHABLE_ENTRY, UNREACHABLE_ENTRY], "{d:#?}");
        assert!(d[0].message.contains("\"foo.v1\""), "{}", d[0].message);
    }

    #[test]
    fn mixed_metadata_is_one_finding() {
        let text = format!(
            "{HEAD}---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v1\n- name: foo.v2\n  replaces: foo.v1\n{}{}",
            bundle(
                "foo.v1",
                "1.0.0",
                "- type: olm.bundle.object\n  value: {data: e30=}\n"
            ),
            bundle("foo.v2", "2.0.0", "")
        );
        let d = lint_dir(&text);
        assert_eq!(rules(&d), [MIXED_BUNDLE_METADATA], "{d:#?}");
    }
}
