//! Go opm's verdict on a catalog (`opm validate`, validate spec §1), and the
//! located diagnostics we give beyond it.
//!
//! Go checks in three stages, and so do we:
//!
//! 1. loading (`crate::catalog::load`): the first bad document wins;
//! 2. `ConvertToModel` ([`convert`]): structural rules in Go's order, the
//!    first failure wins, a flat message;
//! 3. `model.Validate()` ([`check`]): every semantic error, gathered into the
//!    `invalid index` tree ([`tree`]).
//!
//! [`Report::go_message`] is exactly the text Go opm prints. Beside it each
//! error is a [`Diagnostic`] that knows its rule and the file and line of the
//! blob it is about, so that `-o text|github|sarif` can point at it. With
//! `all_errors` the stages do not stop at the first failure: every file is
//! loaded, every structural rule is checked (skipping only the objects that
//! cannot be placed), and the model checks run on what could be built.
//! Go's message is unchanged by that option.
//!
//! Beyond Go's verdict, [`lint`] reports what a reviewer wants to know (an
//! upgrade path lost, a skipRange above the bundle's version…) as warnings.
//!
//! Sibling order: Go walks maps, so its tree order is random; ours is sorted
//! by name (packages, channels, bundles).

pub mod check;
pub mod convert;
pub mod lint;
pub mod previous;
pub mod props;
pub mod schema;
pub mod tree;

use crate::catalog::{DeclarativeConfig, Loaded, Location, SourceMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    /// Never changes the verdict (e.g. a JSON Schema finding Go would not flag).
    Warning,
}

/// One finding: Go's message text, plus what Go does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable rule id, see [`RULES`].
    pub rule: &'static str,
    /// Go opm's text for this error (for tree errors: the leaf).
    pub message: String,
    /// The tree nodes enclosing a model error, outermost first
    /// (`invalid package "foo"`, `invalid channel "stable"`).
    pub context: Vec<String>,
    pub location: Option<Location>,
}

impl Diagnostic {
    pub fn error(
        rule: &'static str,
        message: impl Into<String>,
        location: Option<Location>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            rule,
            message: message.into(),
            context: Vec::new(),
            location,
        }
    }

    /// The message with its tree context, on one line:
    /// `invalid package "foo": invalid channel "stable": no channel head found in graph`.
    pub fn full_message(&self) -> String {
        let mut s = String::new();
        for c in &self.context {
            s.push_str(c);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

/// Every rule a diagnostic can name: id, then what it checks. The spec
/// section is the one of validate spec (opm-validate-serve-grpc.md).
pub const RULES: &[(&str, &str)] = &[
    (
        "load",
        "every file parses as a stream of JSON or YAML FBC blobs (§1.3)",
    ),
    (
        "package-name",
        "olm.package has a unique, RFC 1123 label name (§1.4 P1-P3)",
    ),
    (
        "channel-package",
        "olm.channel names a known package (§1.4 C1)",
    ),
    (
        "channel-name",
        "olm.channel has a name unique in its package (§1.4 C2-C3)",
    ),
    (
        "channel-entry",
        "channel entries are unique within the channel (§1.4 C4)",
    ),
    (
        "bundle-package",
        "olm.bundle names a known package (§1.4 B1-B2)",
    ),
    (
        "bundle-name",
        "bundle names are unique in their package (§1.4 B3)",
    ),
    (
        "bundle-properties",
        "bundle properties decode into their types (§1.4 B4)",
    ),
    (
        "bundle-package-property",
        "exactly one olm.package property, naming the bundle's package (§1.4 B5-B6)",
    ),
    (
        "image-reference",
        "image and relatedImages are valid pull specs (§1.4 B7-B8)",
    ),
    (
        "bundle-version",
        "olm.package version is strict semver (§1.4 B9, §2.1)",
    ),
    ("bundle-release", "olm.package release is valid (§1.4 B10)"),
    (
        "bundle-in-channel",
        "every bundle is an entry of some channel (§1.4 B11)",
    ),
    (
        "entry-bundle",
        "every channel entry has an olm.bundle (§1.4)",
    ),
    (
        "deprecation",
        "olm.deprecations reference existing objects, once (§1.4 D1-D9)",
    ),
    (
        "default-channel",
        "the package's default channel is set and exists (§1.5)",
    ),
    (
        "package-channels",
        "a package has at least one channel (§1.5)",
    ),
    (
        "channel-bundles",
        "a channel has at least one bundle (§1.5)",
    ),
    (
        "upgrade-graph",
        "one channel head, no replaces cycle, no stranded bundle (§1.5, §2.3)",
    ),
    (
        "duplicate-version",
        "bundle versions are unique in a package (§1.5)",
    ),
    ("deprecation-message", "deprecation messages are set (§1.5)"),
    (
        "bundle-name-normalized",
        "with a release, the bundle name is <pkg>-v<version>-<release> (§1.5)",
    ),
    ("skips", "skips are not empty (§1.5)"),
    (
        "skip-range",
        "skipRange is a valid semver range (§1.5, §2.2)",
    ),
    (
        "bundle-image",
        "a bundle has an image or bundle objects (§1.5)",
    ),
    (
        "bundle-shape",
        "bundle name set, one olm.package property (§1.5)",
    ),
    (
        "schema",
        "the blob matches the JSON Schema in schemas/ (not checked by Go opm)",
    ),
    (
        "previous-package-removed",
        "--previous: a package of the previous catalog is gone",
    ),
    (
        "previous-bundle-removed",
        "--previous: a bundle of the previous catalog is gone",
    ),
    (
        "previous-channel-removed",
        "--previous: a channel of the previous catalog is gone",
    ),
    (
        "previous-default-channel-changed",
        "--previous: a package's default channel changed",
    ),
    (
        "previous-head-downgraded",
        "--previous: a channel head moved to a lower version",
    ),
    (
        "previous-upgrade-path-lost",
        "--previous: a previously published bundle can no longer reach its channel's head",
    ),
    (
        lint::SKIP_RANGE_ABOVE_VERSION,
        "lint: skipRange does not reach above the bundle's own version (#2090)",
    ),
    (
        lint::SKIP_RANGE_NO_MATCH,
        "lint: skipRange matches some other bundle of the package",
    ),
    (
        lint::UNREACHABLE_ENTRY,
        "lint: every entry can reach the channel head through replaces, skips or skipRange",
    ),
    (
        lint::HEAD_CSV_METADATA,
        "lint: channel heads have olm.csv.metadata (or olm.bundle.object)",
    ),
    (
        lint::MIXED_BUNDLE_METADATA,
        "lint: the catalog does not mix olm.bundle.object and olm.csv.metadata",
    ),
    (
        lint::UNMET_GVK_REQUIRED,
        "lint: every olm.gvk.required is provided by some bundle's olm.gvk",
    ),
    (
        lint::UNMET_PACKAGE_REQUIRED,
        "lint: every olm.package.required is met by a bundle of the catalog",
    ),
    (
        lint::DEPRECATED_DEFAULT_CHANNEL,
        "lint: the default channel is not deprecated",
    ),
    (
        lint::UNKNOWN_REPLACES,
        "lint: replaces names a bundle of the package",
    ),
    (
        lint::UNKNOWN_SKIPS,
        "lint: skips name bundles of the package",
    ),
];

/// The rules whose findings are warnings: what `--error-on` can name.
pub fn warning_rules() -> impl Iterator<Item = &'static str> {
    std::iter::once("schema").chain(lint::IDS.iter().copied())
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep going after the first structural error, and report every error.
    pub all_errors: bool,
    /// Also check every blob against the JSON Schemas (warnings only).
    pub schemas: bool,
    /// Also run the lints ([`lint`], warnings only).
    pub lints: bool,
}

/// The outcome of validating a catalog.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Go opm's error text, or `None` when Go opm accepts the catalog.
    pub go_message: Option<String>,
    /// Go's verdict as located diagnostics (every error with `all_errors`),
    /// then lint and schema warnings; stable order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.go_message.is_none()
    }
}

/// Validate a loaded catalog. `loaded.errors` must hold every load error
/// (one, without `all_errors`).
pub fn validate(loaded: &Loaded, opts: Options) -> Report {
    let mut report = Report::default();
    let load_diags: Vec<Diagnostic> = loaded
        .errors
        .iter()
        .map(|e| Diagnostic::error("load", e.message.clone(), e.location.clone()))
        .collect();
    if let Some(first) = loaded.errors.first() {
        report.go_message = Some(first.message.clone());
        report.diagnostics = if opts.all_errors {
            load_diags
        } else {
            load_diags.into_iter().take(1).collect()
        };
        // The model checks would only repeat what the missing blobs cause.
    } else {
        let (go_message, diags, model) = stages(&loaded.config, &loaded.sources, false);
        report.go_message = go_message;
        report.diagnostics = if opts.all_errors {
            stages(&loaded.config, &loaded.sources, true).1
        } else {
            diags
        };
        // The model is complete only when ConvertToModel passed.
        if opts.lints
            && let Some(model) = model
        {
            report
                .diagnostics
                .extend(lint::lint(&loaded.config, &loaded.sources, &model));
        }
    }
    if opts.schemas {
        report.diagnostics.extend(if loaded.schemas_checked {
            schema::diagnostics(&loaded.schema_findings, &loaded.sources)
        } else {
            schema::check_config(&loaded.config, &loaded.sources)
        });
    }
    report
}

/// Stages 2 and 3 on a config: Go's message and the diagnostics. With
/// `all_errors` the checks run twice: once as Go runs them, for Go's exact
/// message (which `all_errors` must not change: the entries-without-bundle
/// check differs), once to find everything.
pub fn validate_config(
    cfg: &DeclarativeConfig,
    sources: &SourceMap,
    all_errors: bool,
) -> (Option<String>, Vec<Diagnostic>) {
    let (message, diags, _) = stages(cfg, sources, false);
    if !all_errors {
        return (message, diags);
    }
    (message, stages(cfg, sources, true).1)
}

/// Stages 2 and 3; the model too when stage 2 passed (it is then whole).
fn stages(
    cfg: &DeclarativeConfig,
    sources: &SourceMap,
    all: bool,
) -> (Option<String>, Vec<Diagnostic>, Option<convert::Model>) {
    let (model, mut diags) = convert::convert(cfg, sources, all);
    if !all && !diags.is_empty() {
        return (Some(diags[0].message.clone()), diags, None);
    }
    let converted = diags.is_empty();
    let tree = check::validate_model(&model, all);
    let message = match diags.first() {
        Some(d) => Some(d.message.clone()),
        None => (!tree.is_empty()).then(|| tree.render()),
    };
    diags.extend(tree.diagnostics());
    (message, diags, converted.then_some(model))
}

/// Go's `ConvertToModel` (the structural rules, then `model.Validate()`) on
/// one package's blobs, as `serve` runs it per package (validate spec
/// §3.3): the model, or exactly Go's message for the first failure.
pub fn package_model(parts: convert::Parts) -> Result<convert::Model, String> {
    let (model, diags) = convert::convert_parts(parts, &SourceMap::default(), false);
    if let Some(d) = diags.first() {
        return Err(d.message.clone());
    }
    let tree = check::validate_model(&model, false);
    if !tree.is_empty() {
        return Err(tree.render());
    }
    Ok(model)
}

/// Go opm's verdict for a config: `Err` holds exactly Go's message.
pub fn go_verdict(cfg: &DeclarativeConfig) -> Result<(), String> {
    match validate_config(cfg, &SourceMap::default(), false).0 {
        Some(m) => Err(m),
        None => Ok(()),
    }
}
