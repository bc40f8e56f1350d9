//! `opm index add|prune|prune-stranded|rm`: opm v1.73's index commands on
//! file-based catalogs, with no container engine.
//!
//! Each command loads `--from-index` (anything `render` accepts as a
//! catalog: a file-based catalog image or directory, a SQLite index image
//! or file), edits the catalog model (`crate::index`), and then either
//! writes the catalog directory and its Dockerfile (`--generate`) or builds
//! the catalog image and pushes it (`--tag`). All of the work happens
//! before anything is written, and what is written appears whole: a
//! failing command leaves no catalog, Dockerfile or pushed tag behind.

use std::path::{Path, PathBuf};

use crate::catalog::{DeclarativeConfig, Format, load::go_quote, write};
use crate::cli::{
    EngineFlags, GlobalFlags, IndexAddArgs, IndexArgs, IndexCommand, IndexOutput, IndexPruneArgs,
    IndexPruneStrandedArgs, IndexRmArgs,
};
use crate::image::Puller;
use crate::index::{self, AddOptions, Mode, NewBundle};
use crate::output::{CmdResult, CommandError, Style, logrus_line, logrus_line_fields};
use crate::source::{self, ImageContent, Source};

/// v1.73's `DefaultBinarySourceImage`.
const DEFAULT_BINARY_IMAGE: &str = "quay.io/operator-framework/opm:latest";
/// v1.73's default `--out-dockerfile`.
const DEFAULT_DOCKERFILE: &str = "index.Dockerfile";

pub fn run(args: IndexArgs, global: &GlobalFlags) -> CmdResult {
    match args.command {
        IndexCommand::Add(a) => add(a, global),
        IndexCommand::Prune(a) => prune(a, global),
        IndexCommand::PruneStranded(a) => prune_stranded(a, global),
        IndexCommand::Rm(a) => rm(a, global),
    }
}

fn cobra(m: impl Into<String>) -> CommandError {
    CommandError::new(Style::Cobra, m)
}

/// cobra's check of required flags, every missing one named at once.
fn required(flags: &[(&str, bool)]) -> Result<(), CommandError> {
    let missing: Vec<String> = flags
        .iter()
        .filter(|(_, present)| !present)
        .map(|(n, _)| format!("\"{n}\""))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(cobra(format!(
        "required flag(s) {} not set",
        missing.join(", ")
    )))
}

impl EngineFlags {
    /// v1.73's checks of the tool flags (`getContainerTools`, shared by
    /// `add` and `rm`, whose message names `add`), though there is no
    /// engine to drive.
    fn check(&self) -> Result<(), CommandError> {
        if self.build_tool == "none" {
            return Err(cobra("none is not a valid container-tool for index add"));
        }
        if !self.container_tool.is_empty()
            && (!self.pull_tool.is_empty() || !self.build_tool.is_empty())
        {
            return Err(cobra(
                "container-tool cannot be set alongside pull-tool or build-tool",
            ));
        }
        Ok(())
    }
}

/// Without a container engine an image can only be pushed: `--tag` is
/// needed unless the result is generated on disk.
fn check_output(out: &IndexOutput) -> Result<(), CommandError> {
    if !out.generate && out.tag.is_empty() {
        return Err(cobra(
            "--tag is required unless --generate is set: the catalog image is built and pushed in-process (no container engine)",
        ));
    }
    Ok(())
}

/// v1.73's `--skip-tls` warning, printed by every index command.
fn warn_skip_tls(global: &GlobalFlags) {
    if global.skip_tls == Some(true) {
        eprint!(
            "{}",
            logrus_line(
                "warning",
                "--skip-tls flag is set: this mode is insecure and meant for development purposes only."
            )
        );
    }
}

fn puller(global: &GlobalFlags, out: &IndexOutput) -> Puller {
    let mut opts = super::pull_options(global);
    if !out.ca_file.is_empty() {
        opts.ca_file = Some(PathBuf::from(&out.ca_file));
    }
    Puller::new(opts)
}

/// Load `--from-index` as a catalog; an empty reference is an empty catalog.
fn load_index(reference: &str, puller: &Puller) -> Result<DeclarativeConfig, CommandError> {
    if reference.is_empty() {
        return Ok(DeclarativeConfig::default());
    }
    super::render_catalog(reference, puller).map_err(|e| {
        cobra(format!(
            "render index {}: {}",
            go_quote(reference),
            e.message
        ))
        .with_location(e.location)
    })
}

/// Read one `--bundles` reference: a bundle image (or `oci:`/
/// `docker-archive:` reference), or a bundle directory.
fn read_bundle(reference: &str, puller: &Puller) -> Result<NewBundle, String> {
    let (mut bundle, annotations) = match source::classify(reference) {
        Source::BundleDir => crate::bundle::render_annotated(Path::new(reference), "")?,
        Source::Image => {
            let image = puller.unpack(reference)?;
            match source::image_content(&image, reference)? {
                ImageContent::Bundle => crate::bundle::render_annotated(image.root(), reference)?,
                _ => return Err(format!("{} is not a bundle image", go_quote(reference))),
            }
        }
        _ => {
            return Err(format!(
                "{} is neither a bundle image nor a bundle directory",
                go_quote(reference)
            ));
        }
    };
    // The same per-bundle preparation as `render`, so that an added bundle
    // renders exactly as the bundle image does.
    crate::catalog::prepare_bundle_for_render(&mut bundle);
    Ok(NewBundle {
        bundle,
        channels: annotations
            .channels
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        default_channel: annotations.default_channel,
    })
}

/// Go formats a `[]string` log field as `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn add(a: IndexAddArgs, global: &GlobalFlags) -> CmdResult {
    required(&[("bundles", a.bundles.is_some())])?;
    let bundles: Vec<String> = a
        .bundles
        .unwrap_or_default()
        .into_iter()
        .filter(|b| !b.is_empty())
        .collect();
    global.check_tls().map_err(cobra)?;
    let mode = Mode::parse(&a.mode).map_err(cobra)?;
    a.engine.check()?;
    check_output(&a.out)?;
    warn_skip_tls(global);
    let fields = [("bundles".to_string(), go_list(&bundles))];
    eprint!(
        "{}",
        logrus_line_fields("info", "building the index", &fields)
    );

    let puller = puller(global, &a.out);
    // Every image of the run downloads at once, through the blob cache.
    let mut refs = bundles.clone();
    refs.push(a.from_index.clone());
    puller.prefetch(&refs);
    // The index and the bundles are unpacked and parsed side by side.
    let (cfg, read) = rayon::join(
        || load_index(&a.from_index, &puller),
        || {
            use rayon::prelude::*;
            bundles
                .par_iter()
                .map(|r| read_bundle(r, &puller))
                .collect::<Vec<_>>()
        },
    );
    let mut cfg = cfg?;
    let mut new = Vec::new();
    let mut errs = Vec::new();
    for r in read {
        match r {
            Ok(b) => new.push(b),
            Err(e) => errs.push(e),
        }
    }
    let opts = AddOptions {
        overwrite_latest: a.overwrite_latest,
        permissive: a.permissive,
    };
    let fail = |message: String| {
        let mut f = fields.to_vec();
        f.push(("error".to_string(), message.clone()));
        eprint!(
            "{}",
            logrus_line_fields("error", "permissive mode disabled", &f)
        );
        cobra(message)
    };
    if !errs.is_empty() && !a.permissive {
        return Err(fail(index::aggregate(&errs)));
    }
    let mut warnings = match index::add(&mut cfg, new, mode, opts) {
        Ok(w) => w,
        Err(e) => return Err(fail(e)),
    };
    if !errs.is_empty() {
        warnings.insert(0, index::aggregate(&errs));
    }
    for w in warnings {
        let mut f = fields.to_vec();
        f.push(("error".to_string(), w));
        eprint!(
            "{}",
            logrus_line_fields("warning", "permissive mode enabled", &f)
        );
    }
    finish(&cfg, &a.out, &puller)
}

/// What prune, prune-stranded and rm do first: check the flags, then
/// load `--from-index`.
fn open(
    from_index: &str,
    out: &IndexOutput,
    global: &GlobalFlags,
) -> Result<(Puller, DeclarativeConfig), CommandError> {
    global.check_tls().map_err(cobra)?;
    check_output(out)?;
    warn_skip_tls(global);
    let puller = puller(global, out);
    let cfg = load_index(from_index, &puller)?;
    Ok((puller, cfg))
}

fn prune(a: IndexPruneArgs, global: &GlobalFlags) -> CmdResult {
    required(&[
        ("from-index", !a.from_index.is_empty()),
        ("packages", a.packages.is_some()),
    ])?;
    if a.container_tool == "none" {
        return Err(cobra("none is not a valid container-tool for index prune"));
    }
    let (puller, mut cfg) = open(&a.from_index, &a.out, global)?;
    let keep = a.packages.unwrap_or_default();
    let mut removed: Vec<&str> = cfg
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !keep.iter().any(|k| k == n))
        .collect();
    removed.sort();
    for p in removed {
        eprint!(
            "{}",
            logrus_line_fields("info", "deleting packages", &[("pkg".into(), p.into())])
        );
    }
    index::prune(&mut cfg, &keep);
    finish(&cfg, &a.out, &puller)
}

fn prune_stranded(a: IndexPruneStrandedArgs, global: &GlobalFlags) -> CmdResult {
    required(&[("from-index", !a.from_index.is_empty())])?;
    if a.container_tool == "none" {
        return Err(cobra("none is not a valid container-tool for index prune"));
    }
    let (puller, mut cfg) = open(&a.from_index, &a.out, global)?;
    eprint!("{}", logrus_line("info", "removing stranded bundles"));
    index::prune_stranded(&mut cfg);
    finish(&cfg, &a.out, &puller)
}

fn rm(a: IndexRmArgs, global: &GlobalFlags) -> CmdResult {
    required(&[
        ("from-index", !a.from_index.is_empty()),
        ("operators", a.operators.is_some()),
    ])?;
    a.engine.check()?;
    let (puller, mut cfg) = open(&a.from_index, &a.out, global)?;
    let drop: Vec<String> = a.operators.unwrap_or_default();
    eprint!(
        "{}",
        logrus_line_fields(
            "info",
            "deleting packages",
            &[("pkg".into(), drop.join(","))]
        )
    );
    index::remove(&mut cfg, &drop);
    finish(&cfg, &a.out, &puller)
}

/// Write (`--generate`) or build and push (`--tag`) the resulting catalog.
fn finish(cfg: &DeclarativeConfig, out: &IndexOutput, puller: &Puller) -> CmdResult {
    let fatal = |m: String| CommandError::new(Style::Logrus, m);
    let binary = if out.binary_image.is_empty() {
        DEFAULT_BINARY_IMAGE
    } else {
        out.binary_image.as_str()
    };
    if out.generate {
        let dir = super::generate_dockerfile::go_clean(&out.out_dir);
        let dockerfile = if out.out_dockerfile.is_empty() {
            DEFAULT_DOCKERFILE.to_string()
        } else {
            out.out_dockerfile.clone()
        };
        let text =
            super::generate_dockerfile::dockerfile_text(binary, binary, &dir, &Default::default());
        // Both outputs are prepared beside their targets first, then moved
        // into place: a failure leaves neither half-written.
        let staged = stage_catalog(cfg, Path::new(&dir)).map_err(fatal)?;
        let staged_file = stage_file(Path::new(&dockerfile), text.as_bytes()).map_err(fatal)?;
        eprint!("{}", logrus_line("info", "Generating dockerfile"));
        staged.commit().map_err(fatal)?;
        staged_file
            .persist(&dockerfile)
            .map_err(|e| fatal(format!("write {dockerfile}: {}", e.error)))?;
        eprint!(
            "{}",
            logrus_line("info", &format!("writing dockerfile: {dockerfile}"))
        );
        return Ok(());
    }
    let tmp = tempfile::Builder::new()
        .prefix("opm-index-")
        .tempdir()
        .map_err(|e| fatal(format!("create temp dir: {e}")))?;
    let configs = tmp.path().join("configs");
    write::write_fs(cfg, &configs, Format::Json).map_err(fatal)?;
    let digest =
        super::image_push::push_catalog(&configs, binary, &out.tag, puller).map_err(fatal)?;
    eprint!(
        "{}",
        logrus_line("info", &format!("pushed {} ({digest})", out.tag))
    );
    Ok(())
}

/// A catalog written to a temporary sibling of its target directory.
struct StagedDir {
    tmp: PathBuf,
    target: PathBuf,
}

fn stage_catalog(cfg: &DeclarativeConfig, target: &Path) -> Result<StagedDir, String> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| format!("mkdir {}: {e}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".opm-index-")
        .tempdir_in(&parent)
        .map_err(|e| format!("create temp dir in {}: {e}", parent.display()))?;
    write::write_fs(cfg, tmp.path(), Format::Json)?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755));
    }
    Ok(StagedDir {
        tmp: tmp.keep(),
        target: target.to_path_buf(),
    })
}

impl StagedDir {
    /// Move the catalog into place; an existing directory is replaced
    /// (v1.73 likewise overwrote its database).
    fn commit(self) -> Result<(), String> {
        let mut old = None;
        if self.target.exists() {
            let aside = self.tmp.with_extension("old");
            std::fs::rename(&self.target, &aside)
                .map_err(|e| format!("replace {}: {e}", self.target.display()))?;
            old = Some(aside);
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside, &self.target);
            }
            let _ = std::fs::remove_dir_all(&self.tmp);
            return Err(format!("write {}: {e}", self.target.display()));
        }
        if let Some(aside) = old {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        // Nothing left behind when the command fails before committing.
        if self.tmp.exists() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

fn stage_file(target: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, String> {
    use std::io::Write;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut f = tempfile::Builder::new()
        .prefix(".opm-index-")
        .tempfile_in(dir)
        .map_err(|e| format!("create {}: {e}", target.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.flush())
        .map_err(|e| format!("write {}: {e}", target.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = f
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    Ok(f)
}
