//! `opm index add|prune|prune-stranded|rm` on a file-based catalog: the
//! catalog edits, with Go opm v1.73's upgrade-graph semantics (spec
//! opm-index-v1.73.md) and no database.
//!
//! v1.73 kept a SQLite database and rebuilt channel graphs inside it; we
//! edit the catalog model that `render` and `validate` use. Where v1.73's
//! answer depended on Go map order, bundles are processed in one fixed
//! order instead: per package, ascending version (ties by name), packages
//! by name; errors are reported in that order (docs/index.md).
//!
//! Nothing here fetches or prints: the command hands in the bundles it read
//! and writes out the catalog it gets back.

mod graph;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use semver::Version;

use crate::catalog::{Bundle, DeclarativeConfig};

pub use graph::add;

/// `--mode`: how channel graphs are updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Replaces,
    Semver,
    SemverSkipPatch,
}

impl Mode {
    /// Go's `GetModeFromString` (case-insensitive).
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s.to_lowercase().as_str() {
            "replaces" => Ok(Mode::Replaces),
            "semver" => Ok(Mode::Semver),
            "semver-skippatch" => Ok(Mode::SemverSkipPatch),
            _ => Err(format!("Invalid channel update mode {s} specified")),
        }
    }
}

/// A bundle to add: its blob (as `render` gives it) and the two bundle
/// annotations that place it.
#[derive(Debug, Clone)]
pub struct NewBundle {
    pub bundle: Bundle,
    /// `operators.operatorframework.io.bundle.channels.v1`, split on `,`.
    pub channels: Vec<String>,
    /// `operators.operatorframework.io.bundle.channel.default.v1`.
    pub default_channel: String,
}

/// Options of an add beyond the mode.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddOptions {
    /// `--overwrite-latest`: a bundle whose name is an existing channel
    /// head replaces that head (replaces mode only, as v1.73).
    pub overwrite_latest: bool,
    /// `--permissive`: a package whose add fails is left as it was and the
    /// others are added; the errors come back as warnings.
    pub permissive: bool,
}

/// Go `utilerrors.NewAggregate(errs).Error()`: one error as itself, several
/// as `[a, b]`, duplicates dropped.
pub fn aggregate(errs: &[String]) -> String {
    let mut seen = BTreeSet::new();
    let unique: Vec<&str> = errs
        .iter()
        .filter(|e| seen.insert(e.as_str()))
        .map(String::as_str)
        .collect();
    match unique.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// What v1.73 read from a bundle's CSV to build graphs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CsvEdges {
    pub replaces: String,
    pub skips: Vec<String>,
    pub skip_range: String,
}

/// The `version` of a bundle's `olm.package` property ("" when absent).
pub(crate) fn bundle_version(b: &Bundle) -> String {
    crate::catalog::upgrade::bundle_version_text(b).unwrap_or_default()
}

/// `spec.replaces`, `spec.skips` and the `olm.skipRange` annotation of a CSV.
pub(crate) fn csv_edges(csv_json: &str) -> CsvEdges {
    #[derive(serde::Deserialize, Default)]
    struct Csv {
        #[serde(default)]
        metadata: Meta,
        #[serde(default)]
        spec: Spec,
    }
    #[derive(serde::Deserialize, Default)]
    struct Meta {
        #[serde(default)]
        annotations: Option<BTreeMap<String, serde_json::Value>>,
    }
    #[derive(serde::Deserialize, Default)]
    struct Spec {
        #[serde(default)]
        replaces: Option<String>,
        #[serde(default)]
        skips: Option<Vec<String>>,
    }
    let csv: Csv = serde_json::from_str(csv_json).unwrap_or_default();
    let skip_range = csv
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("olm.skipRange"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    CsvEdges {
        replaces: csv.spec.replaces.unwrap_or_default(),
        skips: csv.spec.skips.unwrap_or_default(),
        skip_range,
    }
}

/// A bundle version as v1.73 parsed it (blang; an empty version is the
/// dummy `0.0.0-z`).
pub(crate) fn parse_version(v: &str) -> Result<Version, String> {
    let v = if v.is_empty() { "0.0.0-z" } else { v };
    crate::semver_range::parse_version(v).map_err(|e| e.0)
}

/// v1.73's `BuildIdCompare`: semver precedence, then build metadata
/// compared as if it were a prerelease, a version without build metadata
/// being lower (`1.0.0 < 1.0.0+1`).
pub(crate) fn build_id_compare(a: &Version, b: &Version) -> Result<Ordering, String> {
    let c = crate::semver_range::compare(a, b);
    if c != Ordering::Equal {
        return Ok(c);
    }
    let as_pre = |v: &Version| -> Result<Version, String> {
        if v.build.is_empty() {
            return Ok(Version::new(0, 0, 0));
        }
        let pre = semver::Prerelease::new(v.build.as_str()).map_err(|e| {
            format!("failed to convert build-id of {v} to prerelease version for comparison: {e}")
        })?;
        let mut out = Version::new(1, 0, 0);
        out.pre = pre;
        Ok(out)
    };
    Ok(crate::semver_range::compare(&as_pre(a)?, &as_pre(b)?))
}

/// `index prune -p`: keep only the named packages (unknown names are
/// ignored, as v1.73; no match leaves an empty catalog). Blobs of no
/// package are kept.
pub fn prune(cfg: &mut DeclarativeConfig, keep: &[String]) {
    let keep: BTreeSet<&str> = keep.iter().map(String::as_str).collect();
    retain_packages(cfg, |p| keep.contains(p));
}

/// `index rm -o`: remove the named packages (unknown names are ignored).
pub fn remove(cfg: &mut DeclarativeConfig, drop: &[String]) {
    let drop: BTreeSet<&str> = drop.iter().map(String::as_str).collect();
    retain_packages(cfg, |p| !drop.contains(p));
}

fn retain_packages(cfg: &mut DeclarativeConfig, keep: impl Fn(&str) -> bool) {
    cfg.packages.retain(|p| keep(&p.name));
    cfg.channels.retain(|c| keep(&c.package));
    cfg.bundles.retain(|b| keep(&b.package));
    cfg.deprecations.retain(|d| keep(&d.package));
    cfg.others
        .retain(|o| o.package.is_empty() || keep(&o.package));
}

/// `index prune-stranded`: drop bundles that no channel of their package
/// lists. v1.73 deleted such database rows; a catalog never shows them, so
/// a valid catalog comes back unchanged. Returns the names dropped.
pub fn prune_stranded(cfg: &mut DeclarativeConfig) -> Vec<String> {
    let listed: BTreeSet<(&str, &str)> = cfg
        .channels
        .iter()
        .flat_map(|c| {
            c.entries
                .iter()
                .flatten()
                .map(move |e| (c.package.as_str(), e.name.as_str()))
        })
        .collect();
    let stranded: Vec<(String, String)> = cfg
        .bundles
        .iter()
        .filter(|b| !listed.contains(&(b.package.as_str(), b.name.as_str())))
        .map(|b| (b.package.clone(), b.name.clone()))
        .collect();
    cfg.bundles
        .retain(|b| !stranded.contains(&(b.package.clone(), b.name.clone())));
    stranded.into_iter().map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_like_k8s() {
        assert_eq!(aggregate(&[]), "");
        assert_eq!(aggregate(&["a".into()]), "a");
        assert_eq!(aggregate(&["a".into(), "b".into(), "a".into()]), "[a, b]");
        assert_eq!(aggregate(&["a".into(), "a".into()]), "a");
    }

    #[test]
    fn build_ids_order_after_plain() {
        let v = |s| parse_version(s).unwrap();
        assert_eq!(
            build_id_compare(&v("1.0.0"), &v("1.0.0+1")),
            Ok(Ordering::Less)
        );
        assert_eq!(
            build_id_compare(&v("1.0.0+2"), &v("1.0.0+10")),
            Ok(Ordering::Less)
        );
        assert_eq!(
            build_id_compare(&v("1.0.1"), &v("1.0.0+9")),
            Ok(Ordering::Greater)
        );
        assert_eq!(
            build_id_compare(&v("1.0.0"), &v("1.0.0")),
            Ok(Ordering::Equal)
        );
        assert_eq!(parse_version("").unwrap().to_string(), "0.0.0-z");
    }

    #[test]
    fn mode_names() {
        assert_eq!(Mode::parse("SemVer"), Ok(Mode::Semver));
        assert_eq!(Mode::parse("semver-skippatch"), Ok(Mode::SemverSkipPatch));
        assert_eq!(
            Mode::parse("x"),
            Err("Invalid channel update mode x specified".to_string())
        );
    }

    #[test]
    fn csv_edges_read() {
        let e = csv_edges(
            r#"{"metadata":{"annotations":{"olm.skipRange":"<1.0.0"}},"spec":{"replaces":"a.v0","skips":["a.v1","a.v2"]}}"#,
        );
        assert_eq!(e.replaces, "a.v0");
        assert_eq!(e.skips, vec!["a.v1", "a.v2"]);
        assert_eq!(e.skip_range, "<1.0.0");
        assert_eq!(csv_edges("{}"), CsvEdges::default());
    }
}
