//! `opm alpha bundle generate`: a manifests directory's
//! `metadata/annotations.yaml` and the `bundle.Dockerfile` that ships it, as
//! Go's `pkg/lib/bundle.GenerateFunc` writes them.
//!
//! When the package or the channels are not given, they are inferred from
//! the package directory around the manifests (the packagemanifest layout:
//! one folder per bundle beside a `*.package.yaml`), as Go's bundle
//! directory interpreter does, with its error words.
//!
//! Every file is written to a temporary sibling and renamed into place, so
//! an interrupted run leaves whole files. Go always overwrites (HEAD passes
//! `overwrite=true`), so do we.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::catalog::load::{go_errno_text, go_io_error};

pub const ANNOTATIONS_FILE: &str = "annotations.yaml";
pub const DOCKERFILE: &str = "bundle.Dockerfile";
const MANIFESTS_DIR: &str = "manifests/";
const METADATA_DIR: &str = "metadata/";
const MANIFESTS_LABEL: &str = "operators.operatorframework.io.bundle.manifests.v1";
const METADATA_LABEL: &str = "operators.operatorframework.io.bundle.metadata.v1";
const MEDIATYPE_LABEL: &str = "operators.operatorframework.io.bundle.mediatype.v1";
const PACKAGE_LABEL: &str = "operators.operatorframework.io.bundle.package.v1";
const CHANNELS_LABEL: &str = "operators.operatorframework.io.bundle.channels.v1";
const DEFAULT_LABEL: &str = "operators.operatorframework.io.bundle.channel.default.v1";

/// The command's inputs (Go's `GenerateFunc` parameters).
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    pub directory: String,
    pub output_dir: String,
    pub package: String,
    pub channels: String,
    pub default_channel: String,
    pub base_image: String,
}

/// Generate the files; `log` receives Go's info messages. The error is
/// Go's text.
pub fn generate(opts: &GenerateOptions, log: &mut dyn FnMut(String)) -> Result<(), String> {
    let cwd = std::env::current_dir().map_err(|e| format!("getwd: {}", go_errno_text(&e)))?;
    let directory = go_abs(&cwd, &opts.directory);
    let output_dir = (!opts.output_dir.is_empty()).then(|| go_abs(&cwd, &opts.output_dir));
    if let Err(e) = std::fs::metadata(&directory)
        && e.kind() == std::io::ErrorKind::NotFound
    {
        return Err(go_io_error("stat", &directory, &e));
    }
    let media_type = media_type(&directory)?;

    let (mut package, mut channels, mut default) = (
        opts.package.clone(),
        opts.channels.clone(),
        opts.default_channel.clone(),
    );
    if channels.is_empty() || package.is_empty() {
        let mut missing = Vec::new();
        if channels.is_empty() {
            missing.push("channels");
        }
        if package.is_empty() {
            missing.push("package name");
        }
        log(format!(
            "Bundle {} information not provided, inferring from parent package directory",
            missing.join(" and ")
        ));
        let i = interpret(&directory).map_err(|e| {
            format!(
                "please manually input channels and packageName, error interpreting bundle from directory {}, {e}",
                directory.display()
            )
        })?;
        if channels.is_empty() {
            channels = i.channels.join(",");
            if channels.is_empty() {
                return Err(
                    "error interpreting channels, please manually input channels instead".into(),
                );
            }
            log(format!("Inferred channels: {channels}"));
        }
        if package.is_empty() {
            package = i.package;
            log(format!("Inferred package name: {package}"));
        }
        if default.is_empty() {
            default = i.default_channel;
            log(format!("Inferred default channel: {default}"));
        }
    }

    log("Building annotations.yaml".into());
    let annotations = annotations_yaml(&media_type, &package, &channels, &default);

    let (copy_dir, manifests_out) = match &output_dir {
        None => (parent(&directory), directory.clone()),
        Some(out) => {
            log("Generating output manifests directory".into());
            let manifests = out.join("manifests");
            copy_manifest_dir(&directory, &manifests)?;
            (out.clone(), manifests)
        }
    };
    write_file(
        ANNOTATIONS_FILE,
        &copy_dir.join(METADATA_DIR),
        annotations.as_bytes(),
        log,
    )?;
    let metadata_out = copy_dir.join("metadata");

    log("Building Dockerfile".into());
    let dockerfile = dockerfile(
        &media_type,
        &relative(&cwd, &manifests_out),
        &relative(&cwd, &metadata_out),
        &package,
        &channels,
        &default,
        &opts.base_image,
    );
    write_file(DOCKERFILE, &cwd, dockerfile.as_bytes(), log)
}

/// `metadata/annotations.yaml`: Go marshals a map, so the keys come sorted;
/// the default channel only when there is one.
pub fn annotations_yaml(media_type: &str, package: &str, channels: &str, default: &str) -> String {
    let mut map = BTreeMap::from([
        (MEDIATYPE_LABEL, media_type),
        (MANIFESTS_LABEL, MANIFESTS_DIR),
        (METADATA_LABEL, METADATA_DIR),
        (PACKAGE_LABEL, package),
        (CHANNELS_LABEL, channels),
    ]);
    if !default.is_empty() {
        map.insert(DEFAULT_LABEL, default);
    }
    let json = serde_json::json!({ "annotations": map }).to_string();
    let mut out = Vec::new();
    // The values are plain scalars or need YAML's ordinary quoting; the
    // project's emitter gives Go's bytes for both.
    match crate::encoding::yaml::json_to_yaml(json.as_bytes(), &mut out) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// `bundle.Dockerfile`, with Go's label order and its quirk: the blank line
/// before `COPY` belongs to the default-channel label, so it is missing
/// when there is no default.
pub fn dockerfile(
    media_type: &str,
    manifests_rel: &str,
    metadata_rel: &str,
    package: &str,
    channels: &str,
    default: &str,
    base_image: &str,
) -> String {
    let mut s = format!("FROM {base_image}\n\n");
    for (label, value) in [
        (MEDIATYPE_LABEL, media_type),
        (MANIFESTS_LABEL, MANIFESTS_DIR),
        (METADATA_LABEL, METADATA_DIR),
        (PACKAGE_LABEL, package),
        (CHANNELS_LABEL, channels),
    ] {
        s.push_str(&format!("LABEL {label}={value}\n"));
    }
    if !default.is_empty() {
        s.push_str(&format!("LABEL {DEFAULT_LABEL}={default}\n\n"));
    }
    s.push_str(&format!("COPY {manifests_rel} /manifests/\n"));
    s.push_str(&format!("COPY {metadata_rel} /metadata/\n"));
    s
}

/// Go's `GetMediaType`: `helm` for a chart directory, `registry+v1` when a
/// file holds a CSV, `plain` otherwise.
fn media_type(directory: &Path) -> Result<String, String> {
    let mut kinds = Vec::new();
    for (name, is_dir) in read_dir_sorted(directory).unwrap_or_default() {
        if is_dir {
            continue;
        }
        let path = directory.join(&name);
        let bytes = std::fs::read(&path)
            .map_err(|_| format!("Unable to read file {} in bundle", path.display()))?;
        kinds.push(first_kind(&bytes));
    }
    if kinds.is_empty() {
        return Err(format!(
            "The directory {} contains no yaml files",
            directory.display()
        ));
    }
    if is_chart_dir(directory) {
        return Ok("helm".into());
    }
    if kinds
        .iter()
        .any(|k| k.as_deref() == Some("ClusterServiceVersion"))
    {
        return Ok("registry+v1".into());
    }
    Ok("plain".into())
}

/// Go's `ValidateBundleFormat` (what `bundle unpack` checks before copying
/// a bundle out): `manifests/` and `metadata/` folders, a media type, and an
/// annotations file with the required keys. The error is Go's
/// `Bundle validation errors: a,b` (Go reports the annotation problems in
/// map order; they come here in the order the keys are listed).
pub fn validate_format(dir: &Path) -> Result<(), String> {
    let fail = |errs: Vec<String>| Err(format!("Bundle validation errors: {}", errs.join(",")));
    let entries = read_dir_sorted(dir).unwrap_or_default();
    let has_dir = |n: &str| entries.iter().any(|(name, d)| *d && name == n);
    let mut errs = Vec::new();
    if !has_dir("manifests") {
        errs.push("Unable to locate manifests directory".to_string());
    }
    if !has_dir("metadata") {
        errs.push("Unable to locate metadata directory".to_string());
    }
    if !errs.is_empty() {
        return fail(errs);
    }
    let media = media_type(&dir.join("manifests")).unwrap_or_else(|e| {
        errs.push(e);
        String::new()
    });
    let metadata = dir.join("metadata");
    let annotations = read_dir_sorted(&metadata)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, d)| !d)
        .find_map(|(name, _)| {
            let v = first_value(&std::fs::read(metadata.join(name)).ok()?)?;
            v.get("annotations")?.as_object().cloned()
        });
    let Some(annotations) = annotations else {
        errs.push("Could not find annotations file".to_string());
        return fail(errs);
    };
    let get = |k: &str| annotations.get(k).and_then(Value::as_str);
    let q = crate::catalog::load::go_quote;
    for label in [
        MEDIATYPE_LABEL,
        MANIFESTS_LABEL,
        METADATA_LABEL,
        PACKAGE_LABEL,
        CHANNELS_LABEL,
    ] {
        if get(label).is_none() {
            errs.push(format!("Missing annotation {}", q(label)));
        }
    }
    let media_found = get(MEDIATYPE_LABEL).unwrap_or_default();
    if media_found != media {
        errs.push(format!(
            "Expecting annotation {} to have value {} instead of {}",
            q(MEDIATYPE_LABEL),
            q(&media),
            q(media_found)
        ));
    }
    if get(CHANNELS_LABEL).unwrap_or_default().is_empty() {
        errs.push(format!(
            "Expecting annotation {} to have non-empty value",
            q(CHANNELS_LABEL)
        ));
    }
    if get(DEFAULT_LABEL) == Some("") {
        errs.push(format!(
            "Expecting annotation {} to have non-empty value",
            q(DEFAULT_LABEL)
        ));
    }
    if errs.is_empty() { Ok(()) } else { fail(errs) }
}

/// Helm's `IsChartDir`: a `Chart.yaml` with a name.
fn is_chart_dir(directory: &Path) -> bool {
    let Ok(bytes) = std::fs::read(directory.join("Chart.yaml")) else {
        return false;
    };
    matches!(first_value(&bytes), Some(Value::Object(o))
        if o.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty()))
}

/// The first YAML or JSON document of a file, when it decodes.
fn first_value(bytes: &[u8]) -> Option<Value> {
    super::first_document(bytes)?.ok().map(|(v, _)| v)
}

/// The `kind` of the first document, when it is a Kubernetes object (an
/// object with a non-empty string `kind`, as `Unstructured` requires).
fn first_kind(bytes: &[u8]) -> Option<String> {
    match first_value(bytes)? {
        Value::Object(o) => o
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        _ => None,
    }
}

/// A directory's entries as `os.ReadDir` gives them: sorted by name, with
/// whether each is a directory (symlinks are not followed).
fn read_dir_sorted(dir: &Path) -> std::io::Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        out.push((e.file_name().to_string_lossy().into_owned(), is_dir));
    }
    out.sort();
    Ok(out)
}

/// What the package directory says about the bundle.
struct Interpreted {
    package: String,
    channels: Vec<String>,
    default_channel: String,
}

/// Go's bundle directory interpreter: the bundle's CSV name, then the
/// package directory (`<dir>/..`): every bundle folder's CSV edges and the
/// package manifest; the channels whose replaces-closure from the head
/// holds this bundle.
fn interpret(bundle_dir: &Path) -> Result<Interpreted, String> {
    let csv = read_csv(bundle_dir)
        .map_err(|e| format!("error loading CSV from bundle directory, {e}"))?;
    let csv_name = csv_field(&csv, "/metadata/name");
    let package_dir = parent(bundle_dir);
    let entries = read_dir_sorted(&package_dir).map_err(|e| {
        format!(
            "error loading package from directory, error reading from {} directory, {}",
            package_dir.display(),
            go_errno_text(&e)
        )
    })?;

    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, is_dir) in &entries {
        if !is_dir {
            continue;
        }
        let csv = read_csv(&package_dir.join(name)).map_err(|e| {
            format!("error getting CSVs from bundles in the package directory, {e}")
        })?;
        let mut to: Vec<String> = csv
            .pointer("/spec/skips")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let replaces = csv_field(&csv, "/spec/replaces");
        if !replaces.is_empty() {
            to.push(replaces);
        }
        edges.insert(csv_field(&csv, "/metadata/name"), to);
    }

    let manifest = package_manifest(&package_dir, &entries).map_err(|e| {
        format!("error parsing package.yaml file in the package root directory, {e}")
    })?;
    let mut channels = Vec::new();
    for (channel, head) in &manifest.channels {
        let mut seen = BTreeSet::new();
        let mut todo = vec![head.clone()];
        while let Some(n) = todo.pop() {
            if seen.insert(n.clone()) {
                todo.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        if seen.contains(&csv_name) {
            channels.push(channel.clone());
        }
    }
    channels.sort();
    channels.dedup();
    Ok(Interpreted {
        package: manifest.package,
        channels,
        default_channel: manifest.default_channel,
    })
}

fn csv_field(csv: &Value, pointer: &str) -> String {
    csv.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Go's `ReadCSVFromBundleDirectory`: exactly one CSV among the files.
fn read_csv(dir: &Path) -> Result<Value, String> {
    let entries = read_dir_sorted(dir).map_err(|e| {
        format!(
            "error reading bundle directory {}, {}",
            dir.display(),
            go_errno_text(&e)
        )
    })?;
    let mut found = None;
    for (name, is_dir) in entries {
        if is_dir {
            continue;
        }
        let Ok(bytes) = std::fs::read(dir.join(&name)) else {
            continue;
        };
        if first_kind(&bytes).as_deref() != Some("ClusterServiceVersion") {
            continue;
        }
        if found.is_some() {
            return Err("more than one ClusterServiceVersion is found in bundle".into());
        }
        found = first_value(&bytes);
    }
    found.ok_or_else(|| format!("no ClusterServiceVersion object found in {}", dir.display()))
}

struct PackageManifest {
    package: String,
    /// (channel, head CSV name), in file order.
    channels: Vec<(String, String)>,
    default_channel: String,
}

/// Go's `parsePackageYAMLFile`: the first file of the package directory
/// that decodes as a package manifest with a `packageName`.
fn package_manifest(dir: &Path, entries: &[(String, bool)]) -> Result<PackageManifest, String> {
    let mut errs = Vec::new();
    for (name, is_dir) in entries {
        if *is_dir {
            continue;
        }
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                errs.push(format!(
                    "error opening {} file, {}",
                    path.display(),
                    go_io_error("open", &path, &e)
                ));
                continue;
            }
        };
        match decode_package_manifest(&bytes) {
            Ok(m) => return Ok(m),
            Err(e) => errs.push(format!(
                "error parsing {} as package.yaml file, {e}",
                path.display()
            )),
        }
    }
    // gomega's AggregateError: one error alone, several in brackets.
    let all = match errs.len() {
        0 => String::new(),
        1 => errs.remove(0),
        _ => format!("[{}]", errs.join(", ")),
    };
    Err(format!(
        "valid PackageManifest YAML file not found in {}, {all}",
        dir.display()
    ))
}

fn decode_package_manifest(bytes: &[u8]) -> Result<PackageManifest, String> {
    let value = match super::first_document(bytes) {
        Some(Ok((v, _))) => v,
        Some(Err(e)) => {
            return Err(format!(
                "could not decode contents into package manifest - {e}"
            ));
        }
        None => Value::Null,
    };
    let Value::Object(o) = &value else {
        return Err(
            "could not decode contents into package manifest - json: cannot unmarshal into Go value of type registry.PackageManifest".into(),
        );
    };
    let s = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let package = s("packageName");
    if package.is_empty() {
        return Err("name of package (packageName) is missing".into());
    }
    let channels: Vec<(String, String)> = o
        .get("channels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let f = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (f("name"), f("currentCSV"))
        })
        .collect();
    // Go's `GetDefaultChannel`: the named one, else a lone channel.
    let mut default_channel = s("defaultChannel");
    if default_channel.is_empty() && channels.len() == 1 {
        default_channel = channels[0].0.clone();
    }
    Ok(PackageManifest {
        package,
        channels,
        default_channel,
    })
}

/// Go's `copyManifestDir`: the files of `from` into `to` (created), each
/// keeping its mode.
fn copy_manifest_dir(from: &Path, to: &Path) -> Result<(), String> {
    let entries = read_dir_sorted(from).map_err(|e| go_io_error("open", from, &e))?;
    std::fs::create_dir_all(to).map_err(|e| go_io_error("mkdir", to, &e))?;
    for (name, is_dir) in entries {
        let src = from.join(&name);
        if is_dir {
            // Go quirk: a nested folder is copied under the *parent's*
            // base name (`to/<base(from)>`), not its own.
            let nested_to = to.join(from.file_name().unwrap_or_default());
            copy_manifest_dir(&src, &nested_to)?;
            continue;
        }
        let bytes = std::fs::read(&src).map_err(|e| go_io_error("open", &src, &e))?;
        let mode = std::fs::metadata(&src)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
            .unwrap_or(0o644);
        atomic_write(&to.join(&name), &bytes, mode)?;
    }
    Ok(())
}

/// Go's `WriteFile`: create the directory, then the file (mode 0644).
fn write_file(
    name: &str,
    dir: &Path,
    content: &[u8],
    log: &mut dyn FnMut(String),
) -> Result<(), String> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| go_io_error("mkdir", dir, &e))?;
    }
    log(format!("Writing {name} in {}", dir.display()));
    atomic_write(&dir.join(name), content, 0o644)
}

/// Write through a temporary sibling and rename it into place.
fn atomic_write(path: &Path, content: &[u8], mode: u32) -> Result<(), String> {
    use std::io::Write;
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".opm-")
        .tempfile_in(&dir)
        .map_err(|e| go_io_error("open", path, &e))?;
    tmp.write_all(content)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| go_io_error("write", path, &e))?;
    let _ = std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(mode),
    );
    tmp.persist(path)
        .map_err(|e| go_io_error("open", path, &e.error))?;
    Ok(())
}

/// Go's `filepath.Dir` of an absolute, clean path.
fn parent(p: &Path) -> PathBuf {
    p.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// Go's `filepath.Abs`: joined onto the working directory and cleaned
/// lexically (`..` removes a component; symlinks are not resolved).
fn go_abs(cwd: &Path, p: &str) -> PathBuf {
    let joined = if Path::new(p).is_absolute() {
        PathBuf::from(p)
    } else {
        cwd.join(p)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// Go's `filepath.Rel` between two clean absolute paths.
fn relative(base: &Path, target: &Path) -> String {
    let b: Vec<_> = base.components().collect();
    let t: Vec<_> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); b.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_without_default_has_no_blank_line_before_copy() {
        let d = dockerfile("registry+v1", "m", "metadata", "p", "a,b", "", "scratch");
        assert!(d.ends_with("channels.v1=a,b\nCOPY m /manifests/\nCOPY metadata /metadata/\n"));
        let d = dockerfile("registry+v1", "m", "metadata", "p", "a", "a", "scratch");
        assert!(d.contains("channel.default.v1=a\n\nCOPY m /manifests/\n"));
        assert!(d.starts_with(
            "FROM scratch\n\nLABEL operators.operatorframework.io.bundle.mediatype.v1=registry+v1\n"
        ));
    }

    #[test]
    fn annotations_keys_sorted_default_optional() {
        assert_eq!(
            annotations_yaml("registry+v1", "p", "stable", ""),
            "annotations:\n  operators.operatorframework.io.bundle.channels.v1: stable\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: p\n"
        );
        assert!(annotations_yaml("plain", "p", "s", "s").starts_with(
            "annotations:\n  operators.operatorframework.io.bundle.channel.default.v1: s\n"
        ));
    }

    #[test]
    fn paths_as_go_cleans_them() {
        let cwd = Path::new("/w/x");
        assert_eq!(go_abs(cwd, "../y/./z"), PathBuf::from("/w/y/z"));
        assert_eq!(relative(cwd, Path::new("/w/x/in/m")), "in/m");
        assert_eq!(relative(cwd, Path::new("/w/o")), "../o");
        assert_eq!(relative(cwd, cwd), ".");
    }

    #[test]
    fn package_manifest_default_is_the_lone_channel() {
        let m = decode_package_manifest(
            b"packageName: p\nchannels:\n- name: alpha\n  currentCSV: p.v1\n",
        )
        .ok()
        .unwrap();
        assert_eq!(m.default_channel, "alpha");
        assert_eq!(m.channels, vec![("alpha".to_string(), "p.v1".to_string())]);
        assert_eq!(
            decode_package_manifest(b"channels: []\n").err().unwrap(),
            "name of package (packageName) is missing"
        );
    }
}
