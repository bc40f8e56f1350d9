//! The package → channel → bundle model `serve` answers from, built per
//! package the way Go's cache build runs `ConvertToModel` on each package
//! group (spec opm-validate-serve-grpc.md §3.3). The checks are those of
//! `opm validate`, run by the same code
//! ([`crate::catalog::validate::package_model`]): a catalog `validate`
//! refuses, `serve` refuses with the same message. What is kept here is
//! what the cache needs of the validated model.

use std::collections::BTreeMap;

use crate::catalog::load::go_quote;
use crate::catalog::validate::convert::{BundleInput, Parts};
use crate::catalog::validate::props::ParsedProps;
use crate::catalog::validate::{check, package_model};
use crate::catalog::{Channel, Deprecation, Icon, Package, Property, RelatedImage};

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
    /// The bundle's properties as validate parses them, taken before the
    /// objects and CSV metadata were moved out.
    pub props: ParsedProps,
    pub prop_error: Option<String>,
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

/// Convert and validate one package group: Go's message for the first
/// failure, as `opm validate` gives it.
pub fn build_package(pkg_name: &str, g: Group) -> Result<ModelPackage, String> {
    let inputs: Vec<BundleInput> = g
        .bundles
        .iter()
        .map(|b| BundleInput {
            name: &b.name,
            package: &b.package,
            image: &b.image,
            related_images: &b.related_images,
            props: &b.props,
            prop_error: b.prop_error.as_deref(),
            // One object per `olm.bundle.object` property.
            has_objects: b.object_count > 0,
        })
        .collect();
    let model = package_model(Parts {
        packages: &g.packages,
        channels: &g.channels,
        bundles: &inputs,
        deprecations: &g.deprecations,
    })?;
    drop(inputs);
    // Serve's own check (§3.7): it reads the CSV metadata of each bundle.
    // (The CSV metadata properties stay, emptied, for this count.)
    for b in &g.bundles {
        let n = b
            .properties
            .iter()
            .filter(|p| p.typ == crate::catalog::PROP_CSV_METADATA)
            .count();
        if n > 1 {
            return Err(format!(
                "parse properties: expected at most 1 property of type {}, found {n}",
                go_quote(crate::catalog::PROP_CSV_METADATA)
            ));
        }
    }
    let (Some(m), Some(package)) = (model.packages.get(pkg_name), g.packages.into_iter().next())
    else {
        // A valid model of a group has its one package.
        return Err(format!("unknown package {}", go_quote(pkg_name)));
    };
    let mut channels = BTreeMap::new();
    let mut deprecated: BTreeMap<&str, String> = BTreeMap::new();
    for c in m.channels.values() {
        let head = check::channel_head(c)?.name.clone();
        let mut entries = BTreeMap::new();
        for b in c.bundles.values() {
            if let Some(d) = &b.deprecation {
                deprecated.insert(&b.name, d.message.clone());
            }
            entries.insert(
                b.name.clone(),
                ModelEntry {
                    replaces: b.replaces.clone(),
                    skips: b.skips.clone(),
                    skip_range: b.skip_range.clone(),
                },
            );
        }
        channels.insert(
            c.name.clone(),
            ModelChannel {
                name: c.name.clone(),
                head,
                deprecation: c.deprecation.as_ref().map(|d| d.message.clone()),
                entries,
            },
        );
    }
    let mut bundles = BTreeMap::new();
    for meta in g.bundles {
        // The version as written (`Version.String()` of what parsed).
        let version = meta
            .props
            .packages
            .first()
            .map(|p| p.version.clone())
            .unwrap_or_default();
        let deprecation = deprecated.get(meta.name.as_str()).cloned();
        bundles.insert(
            meta.name.clone(),
            ModelBundle {
                meta,
                version,
                deprecation,
            },
        );
    }
    Ok(ModelPackage {
        name: package.name,
        description: package.description,
        icon: package.icon,
        default_channel: package.default_channel,
        deprecation: m.deprecation.as_ref().map(|d| d.message.clone()),
        channels,
        bundles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ChannelEntry, PROP_PACKAGE};

    fn group(image: &str) -> Group {
        let props = vec![Property {
            typ: PROP_PACKAGE.into(),
            value: r#"{"packageName":"foo","version":"0.1.0"}"#.into(),
            ..Default::default()
        }];
        let (parsed, err) = crate::catalog::validate::props::parse_properties(&props);
        Group {
            packages: vec![Package {
                name: "foo".into(),
                default_channel: "stable".into(),
                ..Default::default()
            }],
            channels: vec![Channel {
                name: "stable".into(),
                package: "foo".into(),
                entries: Some(vec![ChannelEntry {
                    name: "foo.v0.1.0".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            bundles: vec![BundleMeta {
                name: "foo.v0.1.0".into(),
                package: "foo".into(),
                image: image.into(),
                properties: props,
                props: parsed,
                prop_error: err,
                ..Default::default()
            }],
            deprecations: Vec::new(),
        }
    }

    #[test]
    fn builds_what_validate_accepts() {
        let m = build_package("foo", group("quay.io/x/foo:v0.1.0")).unwrap();
        assert_eq!(m.channels["stable"].head, "foo.v0.1.0");
        assert_eq!(m.bundles["foo.v0.1.0"].version, "0.1.0");
    }

    #[test]
    fn refuses_what_validate_refuses_with_its_message() {
        let err = build_package("foo", group("quay.io/x/foo@sha256:zzz")).unwrap_err();
        let cfg = crate::catalog::DeclarativeConfig {
            packages: group("").packages,
            channels: group("").channels,
            bundles: vec![crate::catalog::Bundle {
                name: "foo.v0.1.0".into(),
                package: "foo".into(),
                image: "quay.io/x/foo@sha256:zzz".into(),
                properties: group("").bundles[0].properties.clone(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(Err(err), crate::catalog::validate::go_verdict(&cfg));
        let empty = build_package("foo", group("")).unwrap_err();
        assert!(empty.ends_with("bundle image must be set"), "{empty}");
    }
}
