//! Go opm's `declcfg.ConvertToModel` (validate spec §1.4): build the package
//! → channel → bundle model from the blobs, checking the structural rules in
//! Go's order. Go stops at the first failure; with `all` we record it, skip
//! only what cannot be placed, and go on.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use semver::Version;

use super::Diagnostic;
use super::props::parse_properties;
use super::props::{PackageProp, ParsedProps};
use crate::catalog::load::go_quote as q;
use crate::catalog::{
    Bundle, Channel, DeclarativeConfig, Deprecation, Location, PROP_BUNDLE_OBJECT, Package,
    RelatedImage, SourceMap,
};
use crate::semver_range::{check_prerelease_identifier, parse_version};

/// A deprecation message attached to a model object, and the
/// `olm.deprecations` blob it came from.
#[derive(Debug, Clone)]
pub struct Deprecated {
    pub message: String,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub packages: BTreeMap<String, MPackage>,
}

#[derive(Debug, Clone, Default)]
pub struct MPackage {
    pub name: String,
    pub location: Option<Location>,
    /// Go's `DefaultChannel != nil`.
    pub has_default_channel: bool,
    pub channels: BTreeMap<String, MChannel>,
    pub deprecation: Option<Deprecated>,
}

#[derive(Debug, Clone, Default)]
pub struct MChannel {
    pub name: String,
    /// The olm.channel blob; for the channel Go makes up for a missing
    /// default channel, the package blob that names it.
    pub location: Option<Location>,
    pub bundles: BTreeMap<String, MBundle>,
    pub deprecation: Option<Deprecated>,
}

#[derive(Debug, Clone, Default)]
pub struct MBundle {
    pub name: String,
    pub replaces: String,
    pub skips: Vec<String>,
    pub skip_range: String,
    /// The channel blob holding the entry (skips and skipRange live there).
    pub entry_location: Option<Location>,
    /// The olm.bundle blob; `None` while no bundle matched the entry.
    pub location: Option<Location>,
    /// Whether an olm.bundle blob was attached to this entry.
    pub attached: bool,
    pub image: String,
    pub has_objects: bool,
    /// Number of `olm.package` properties (0 for an entry with no bundle).
    pub package_props: usize,
    /// `None` (Go's zero version, 0.0.0) until a bundle is attached.
    pub version: Option<Version>,
    pub release: Vec<String>,
    pub deprecation: Option<Deprecated>,
}

impl MBundle {
    /// The version as Go's model holds it: zero when unknown.
    pub fn version(&self) -> Version {
        self.version.clone().unwrap_or(Version::new(0, 0, 0))
    }
}

/// Go's `PackageScopedReference` printed with `%#v`.
fn scoped_ref(schema: &str, name: &str) -> String {
    format!(
        "declcfg.PackageScopedReference{{Schema:{}, Name:{}}}",
        q(schema),
        q(name)
    )
}

/// k8s `IsDNS1123Label`, with its messages.
pub fn dns1123_label_errors(name: &str) -> Vec<&'static str> {
    fn is_label(s: &str) -> bool {
        let b = s.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && alnum(&b[0])
            && alnum(&b[b.len() - 1])
            && b.iter().all(|c| alnum(c) || *c == b'-')
    }
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 characters");
    }
    if !is_label(name) {
        if name.split('.').all(is_label) {
            errs.push("must not contain dots");
        } else {
            errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
        }
    }
    errs
}

/// Go's `NewRelease` (alpha/model/versionrelease.go): at most 20 bytes,
/// `.`-separated prerelease identifiers; every bad segment is reported.
pub fn parse_release(r: &str) -> Result<Vec<String>, String> {
    if r.is_empty() {
        return Ok(Vec::new());
    }
    if r.len() > 20 {
        return Err(format!(
            "invalid release {}: exceeds maximum length of 20 characters",
            q(r)
        ));
    }
    let errs: Vec<String> = r
        .split('.')
        .enumerate()
        .filter_map(|(i, s)| {
            check_prerelease_identifier(s)
                .err()
                .map(|e| format!("segment {i}: {e}"))
        })
        .collect();
    if !errs.is_empty() {
        return Err(format!("invalid release {}: {}", q(r), errs.join("\n")));
    }
    Ok(r.split('.').map(str::to_string).collect())
}

fn at(locs: &[Location], i: usize) -> Option<Location> {
    locs.get(i).cloned()
}

/// What `convert` reads of a bundle. `opm validate` passes its loaded
/// bundles ([`BundleInput::of`]); `serve` passes the bundles it keeps once
/// their objects went to its cache, with their properties parsed before
/// that.
#[derive(Debug, Clone, Copy)]
pub struct BundleInput<'a> {
    pub name: &'a str,
    pub package: &'a str,
    pub image: &'a str,
    pub related_images: &'a [RelatedImage],
    /// `parse_properties` of all the bundle's properties.
    pub props: &'a ParsedProps,
    pub prop_error: Option<&'a str>,
    /// Whether the bundle has `olm.bundle.object` properties.
    pub has_objects: bool,
}

impl<'a> BundleInput<'a> {
    pub fn of(b: &'a Bundle, parsed: &'a (ParsedProps, Option<String>)) -> Self {
        BundleInput {
            name: &b.name,
            package: &b.package,
            image: &b.image,
            related_images: &b.related_images,
            props: &parsed.0,
            prop_error: parsed.1.as_deref(),
            // Go's model has one object per olm.bundle.object property (each
            // decoded at load), so counting the properties is enough and
            // the loader need not keep the decoded objects.
            has_objects: b.properties.iter().any(|p| p.typ == PROP_BUNDLE_OBJECT),
        }
    }
}

/// The blobs `convert` builds a model from: a whole catalog, or (for
/// `serve`, as Go's cache build does) one package's blobs.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub packages: &'a [Package],
    pub channels: &'a [Channel],
    pub bundles: &'a [BundleInput<'a>],
    pub deprecations: &'a [Deprecation],
}

/// The properties of every bundle, parsed in parallel (input of
/// [`BundleInput::of`]).
pub fn parse_all_properties(cfg: &DeclarativeConfig) -> Vec<(ParsedProps, Option<String>)> {
    cfg.bundles
        .par_iter()
        .map(|b| parse_properties(&b.properties))
        .collect()
}

/// A channel's part of the model: its bundles, the names of its entries,
/// and the first entry named twice.
struct BuiltChannel {
    channel: MChannel,
    names: BTreeSet<String>,
    duplicate: Option<String>,
}

fn build_channel(c: &Channel, loc: Option<Location>) -> BuiltChannel {
    let mut ch = MChannel {
        name: c.name.clone(),
        location: loc.clone(),
        ..Default::default()
    };
    let mut names = BTreeSet::new();
    let mut duplicate = None;
    for e in c.entries.iter().flatten() {
        if ch.bundles.contains_key(&e.name) {
            duplicate.get_or_insert_with(|| e.name.clone());
            continue;
        }
        names.insert(e.name.clone());
        ch.bundles.insert(
            e.name.clone(),
            MBundle {
                name: e.name.clone(),
                replaces: e.replaces.clone(),
                skips: e.skips.clone(),
                skip_range: e.skip_range.clone(),
                entry_location: loc.clone(),
                location: loc.clone(),
                ..Default::default()
            },
        );
    }
    BuiltChannel {
        channel: ch,
        names,
        duplicate,
    }
}

/// What is worked out of each bundle in parallel before the loop that
/// checks bundles in order: why its image references do not parse (its own
/// image, and its related images by position), and its `olm.package`
/// property with its version and release parsed (when it has exactly one).
struct Prepared<'a> {
    image: Option<String>,
    related: Vec<(usize, String)>,
    package: Option<ParsedPackage<'a>>,
}

/// A bundle's single `olm.package` property, its version and release parsed.
struct ParsedPackage<'a> {
    prop: &'a PackageProp,
    version: Result<Version, String>,
    release: Result<Vec<String>, String>,
}

/// A bundle's `olm.package` property, when it has exactly one.
fn single_package(props: &ParsedProps) -> Option<&PackageProp> {
    props.packages.first().filter(|_| props.packages.len() == 1)
}

/// Build the model of a whole catalog (see [`convert_parts`]).
pub fn convert(
    cfg: &DeclarativeConfig,
    sources: &SourceMap,
    all: bool,
) -> (Model, Vec<Diagnostic>) {
    let parsed = parse_all_properties(cfg);
    let bundles: Vec<BundleInput> = cfg
        .bundles
        .iter()
        .zip(&parsed)
        .map(|(b, p)| BundleInput::of(b, p))
        .collect();
    convert_parts(
        Parts {
            packages: &cfg.packages,
            channels: &cfg.channels,
            bundles: &bundles,
            deprecations: &cfg.deprecations,
        },
        sources,
        all,
    )
}

/// Build the model, checking Go's structural rules in Go's order. Without
/// `all`, returns at the first error (the model is then incomplete).
pub fn convert_parts(cfg: Parts, sources: &SourceMap, all: bool) -> (Model, Vec<Diagnostic>) {
    let mut model = Model::default();
    let mut diags = Vec::new();
    macro_rules! fail {
        ($rule:expr, $loc:expr, $($msg:tt)*) => {{
            diags.push(Diagnostic::error($rule, format!($($msg)*), $loc));
            if !all {
                return (model, diags);
            }
        }};
    }

    let mut default_channels: BTreeMap<&str, &str> = BTreeMap::new();
    for (i, p) in cfg.packages.iter().enumerate() {
        let loc = at(&sources.packages, i);
        if p.name.is_empty() {
            fail!("package-name", loc, "config contains package with no name");
            continue;
        }
        if model.packages.contains_key(&p.name) {
            fail!("package-name", loc, "duplicate package {}", q(&p.name));
            continue;
        }
        let errs = dns1123_label_errors(&p.name);
        if !errs.is_empty() {
            fail!(
                "package-name",
                loc.clone(),
                "invalid package name {}: [{}]",
                q(&p.name),
                errs.join(" ")
            );
        }
        default_channels.insert(&p.name, &p.default_channel);
        model.packages.insert(
            p.name.clone(),
            MPackage {
                name: p.name.clone(),
                location: loc,
                ..Default::default()
            },
        );
    }

    // Go quirk (§1.4): the set of entries still waiting for a bundle is
    // overwritten per channel, so only each package's last channel is
    // checked: `waiting` names it in `waiting_all`. With `all`, every
    // channel is (see below).
    let mut waiting: BTreeMap<&str, usize> = BTreeMap::new();
    let mut waiting_all: Vec<(String, BTreeSet<String>, Option<Location>)> = Vec::new();
    // Which of `waiting_all` are each package's channels.
    let mut waiting_of: HashMap<&str, Vec<usize>> = HashMap::new();
    // Each channel's part of the model, built in parallel; the loop below
    // files it, or drops it when the channel fails a check.
    let built: Vec<BuiltChannel> = (cfg.channels.par_iter().enumerate())
        .map(|(i, c)| build_channel(c, at(&sources.channels, i)))
        .collect();
    for ((i, c), built) in cfg.channels.iter().enumerate().zip(built) {
        let loc = at(&sources.channels, i);
        let Some(pkg) = model.packages.get_mut(&c.package) else {
            fail!(
                "channel-package",
                loc,
                "unknown package {} for channel {}",
                q(&c.package),
                q(&c.name)
            );
            continue;
        };
        if c.name.is_empty() {
            fail!(
                "channel-name",
                loc,
                "package {} contains channel with no name",
                q(&c.package)
            );
            continue;
        }
        if pkg.channels.contains_key(&c.name) {
            fail!(
                "channel-name",
                loc,
                "package {} has duplicate channel {}",
                q(&c.package),
                q(&c.name)
            );
            continue;
        }
        let BuiltChannel {
            channel,
            names,
            duplicate,
        } = built;
        if default_channels.get(c.package.as_str()) == Some(&c.name.as_str()) {
            pkg.has_default_channel = true;
        }
        pkg.channels.insert(c.name.clone(), channel);
        waiting.insert(c.package.as_str(), waiting_all.len());
        waiting_of
            .entry(c.package.as_str())
            .or_default()
            .push(waiting_all.len());
        waiting_all.push((c.package.clone(), names, loc.clone()));
        if let Some(entry) = duplicate {
            fail!(
                "channel-entry",
                loc,
                "invalid package {}, channel {}: duplicate entry {}",
                q(&c.package),
                q(&c.name),
                q(&entry)
            );
        }
    }

    // Image references, versions and releases are parsed up front, in
    // parallel, the results kept by position.
    let mut prepared: Vec<Prepared> = cfg
        .bundles
        .par_iter()
        .map(|b| {
            let parse = |image: &str| crate::image::reference::parse_normalized_named(image).err();
            Prepared {
                image: (!b.image.is_empty()).then(|| parse(b.image)).flatten(),
                related: (b.related_images.iter().enumerate())
                    .filter(|(_, r)| !r.image.is_empty())
                    .filter_map(|(j, r)| parse(&r.image).map(|e| (j, e)))
                    .collect(),
                package: single_package(b.props).map(|prop| ParsedPackage {
                    prop,
                    version: parse_version(&prop.version).map_err(|e| e.to_string()),
                    release: parse_release(&prop.release),
                }),
            }
        })
        .collect();
    let mut package_bundles: HashSet<(&str, &str)> = HashSet::new();
    for (i, b) in cfg.bundles.iter().enumerate() {
        let props = b.props;
        let loc = at(&sources.bundles, i);
        if b.package.is_empty() {
            fail!(
                "bundle-package",
                loc,
                "package name must be set for bundle {}",
                q(b.name)
            );
            continue;
        }
        if !model.packages.contains_key(b.package) {
            fail!(
                "bundle-package",
                loc,
                "unknown package {} for bundle {}",
                q(b.package),
                q(b.name)
            );
            continue;
        }
        if !package_bundles.insert((b.package, b.name)) {
            fail!(
                "bundle-name",
                loc,
                "package {} has duplicate bundle {}",
                q(b.package),
                q(b.name)
            );
            continue;
        }
        if let Some(e) = b.prop_error {
            fail!(
                "bundle-properties",
                loc.clone(),
                "parse properties for bundle {}: {e}",
                q(b.name)
            );
        }
        let mut version = None;
        let mut release = Vec::new();
        if props.packages.len() != 1 {
            fail!(
                "bundle-package-property",
                loc.clone(),
                "package {} bundle {} must have exactly 1 \"olm.package\" property, found {}",
                q(b.package),
                q(b.name),
                props.packages.len()
            );
        }
        if let Some(pp) = single_package(props)
            && b.package != pp.package_name
        {
            fail!(
                "bundle-package-property",
                loc.clone(),
                "package {} does not match \"olm.package\" property {}",
                q(b.package),
                q(&pp.package_name)
            );
        }
        let prep = &mut prepared[i];
        if let Some(e) = &prep.image {
            fail!(
                "image-reference",
                loc.clone(),
                "package {} bundle {} image: invalid image pull spec {}: {e}",
                q(b.package),
                q(b.name),
                q(b.image)
            );
        }
        for (j, e) in &prep.related {
            fail!(
                "image-reference",
                loc.clone(),
                "package {} bundle {} relatedImages[{j}].image: invalid image pull spec {}: {e}",
                q(b.package),
                q(b.name),
                q(&b.related_images[*j].image)
            );
        }
        if let Some(parsed) = prep.package.take() {
            let pp = parsed.prop;
            match parsed.version {
                Ok(v) => version = Some(v),
                Err(e) => fail!(
                    "bundle-version",
                    loc.clone(),
                    "error parsing bundle {} version {}: {e}",
                    q(b.name),
                    q(&pp.version)
                ),
            }
            match parsed.release {
                Ok(r) => release = r,
                Err(e) => fail!(
                    "bundle-release",
                    loc.clone(),
                    "error parsing bundle {} release version {}: {e}",
                    q(b.name),
                    q(&pp.release)
                ),
            }
        }
        for &k in waiting_of.get(b.package).into_iter().flatten() {
            waiting_all[k].1.remove(b.name);
        }
        let pkg = model.packages.get_mut(b.package).expect("checked above");
        let mut found = false;
        for ch in pkg.channels.values_mut() {
            if let Some(mb) = ch.bundles.get_mut(b.name) {
                found = true;
                mb.attached = true;
                mb.location = loc.clone();
                mb.image = b.image.to_string();
                mb.has_objects = b.has_objects;
                // With `all`, a count other than 1 was reported above.
                mb.package_props = if all { 1 } else { props.packages.len() };
                mb.version = version.clone();
                mb.release = release.clone();
            }
        }
        if !found {
            fail!(
                "bundle-in-channel",
                loc,
                "package {}, bundle {} not found in any channel entries",
                q(b.package),
                q(b.name)
            );
        }
    }

    if all {
        for (pkg, names, loc) in &waiting_all {
            if !names.is_empty() {
                let list: Vec<&str> = names.iter().map(String::as_str).collect();
                fail!(
                    "entry-bundle",
                    loc.clone(),
                    "no olm.bundle blobs found in package {} for olm.channel entries [{}]",
                    q(pkg),
                    list.join(" ")
                );
            }
        }
    } else {
        // Go ranges over a map here; we take packages in name order.
        for &k in waiting.values() {
            let (pkg, names, loc) = &waiting_all[k];
            if !names.is_empty() {
                let list: Vec<&str> = names.iter().map(String::as_str).collect();
                fail!(
                    "entry-bundle",
                    loc.clone(),
                    "no olm.bundle blobs found in package {} for olm.channel entries [{}]",
                    q(pkg),
                    list.join(" ")
                );
            }
        }
    }

    // Go quirk (§1.4): a default channel that names no channel is created,
    // empty, and then fails model validation as such.
    for (name, pkg) in model.packages.iter_mut() {
        let default = default_channels.get(name.as_str()).copied().unwrap_or("");
        if !default.is_empty() && !pkg.has_default_channel {
            pkg.has_default_channel = true;
            pkg.channels.insert(
                default.to_string(),
                MChannel {
                    name: default.to_string(),
                    location: pkg.location.clone(),
                    ..Default::default()
                },
            );
        }
    }

    let mut deprecated_packages = HashSet::new();
    for (i, d) in cfg.deprecations.iter().enumerate() {
        let loc = at(&sources.deprecations, i);
        if d.package.is_empty() {
            fail!(
                "deprecation",
                loc,
                "package name must be set for deprecation item {i}"
            );
            continue;
        }
        let Some(pkg) = model.packages.get_mut(&d.package) else {
            fail!(
                "deprecation",
                loc,
                "cannot apply deprecations to an unknown package {}",
                q(&d.package)
            );
            continue;
        };
        if !deprecated_packages.insert(d.package.as_str()) {
            fail!(
                "deprecation",
                loc,
                "expected a maximum of one deprecation per package: {}",
                q(&d.package)
            );
            continue;
        }
        let mut seen = HashSet::new();
        for (j, e) in d.entries.iter().flatten().enumerate() {
            let r = &e.reference;
            if r.schema.is_empty() {
                fail!(
                    "deprecation",
                    loc.clone(),
                    "schema must be set for deprecation entry [{j}] for package {}",
                    q(&d.package)
                );
                continue;
            }
            if !seen.insert((r.schema.as_str(), r.name.as_str())) {
                fail!(
                    "deprecation",
                    loc.clone(),
                    "duplicate deprecation entry {} for package {}",
                    scoped_ref(&r.schema, &r.name),
                    q(&d.package)
                );
                continue;
            }
            let deprecated = Some(Deprecated {
                message: e.message.clone(),
                location: loc.clone(),
            });
            match r.schema.as_str() {
                "olm.bundle" => {
                    if !package_bundles.contains(&(d.package.as_str(), r.name.as_str())) {
                        fail!(
                            "deprecation",
                            loc.clone(),
                            "cannot deprecate bundle {} for package {}: bundle not found",
                            q(&r.name),
                            q(&d.package)
                        );
                        continue;
                    }
                    for ch in pkg.channels.values_mut() {
                        if let Some(b) = ch.bundles.get_mut(&r.name) {
                            b.deprecation = deprecated.clone();
                        }
                    }
                }
                "olm.channel" => match pkg.channels.get_mut(&r.name) {
                    Some(ch) => ch.deprecation = deprecated,
                    None => fail!(
                        "deprecation",
                        loc.clone(),
                        "cannot deprecate channel {} for package {}: channel not found",
                        q(&r.name),
                        q(&d.package)
                    ),
                },
                "olm.package" => {
                    if !r.name.is_empty() {
                        fail!(
                            "deprecation",
                            loc.clone(),
                            "package name must be empty for deprecated package {} (specified {})",
                            q(&d.package),
                            q(&r.name)
                        );
                        continue;
                    }
                    pkg.deprecation = deprecated;
                }
                _ => fail!(
                    "deprecation",
                    loc.clone(),
                    "cannot deprecate object {} referenced by entry {j} for package {}: object schema unknown",
                    scoped_ref(&r.schema, &r.name),
                    q(&d.package)
                ),
            }
        }
    }
    (model, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(dns1123_label_errors("etcd-operator").is_empty());
        assert!(dns1123_label_errors("0abc").is_empty());
        assert_eq!(
            dns1123_label_errors("foo.bar"),
            vec!["must not contain dots"]
        );
        assert_eq!(dns1123_label_errors("Foo").len(), 1);
        assert_eq!(dns1123_label_errors("-foo").len(), 1);
        assert_eq!(
            dns1123_label_errors(&"a".repeat(64)),
            vec!["must be no more than 63 characters"]
        );
        assert_eq!(dns1123_label_errors(&"a.".repeat(40)).len(), 2);
    }

    #[test]
    fn releases() {
        assert_eq!(parse_release("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_release("1.alpha").unwrap(), vec!["1", "alpha"]);
        assert_eq!(
            parse_release("!!!").unwrap_err(),
            "invalid release \"!!!\": segment 0: Invalid character(s) found in prerelease \"!!!\""
        );
        assert_eq!(
            parse_release("a..01").unwrap_err(),
            "invalid release \"a..01\": segment 1: Prerelease is empty\nsegment 2: Numeric PreRelease version must not contain leading zeroes \"01\""
        );
        assert_eq!(
            parse_release("123456789012345678901").unwrap_err(),
            "invalid release \"123456789012345678901\": exceeds maximum length of 20 characters"
        );
    }
}
