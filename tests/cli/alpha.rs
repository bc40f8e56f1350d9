//! `opm alpha ...` beyond the recorded cases (testdata/cases/bundle-generate,
//! alpha-list, alpha-render-graph): `bundle unpack` against the real local
//! registry (images pushed here, hostile ones refused, nothing written on
//! failure), atomic `bundle generate` writes, and the error paths of
//! `list` and `render-graph`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::registry::{self, LayerBlob, registry};
use super::util::{Env, testdata};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

const BUNDLE: &str = "l5-operator-0.0.2";

fn bundle_dir() -> PathBuf {
    testdata().join("corpus/bundles").join(BUNDLE)
}

/// Push the bundle, plus `extra` layers after it, as `alpha/<tag>:v1`.
fn push_bundle(tag: &str, extra: Vec<LayerBlob>) -> String {
    let reg = registry();
    let mut layers = vec![LayerBlob::gz(&registry::tar_dir(&bundle_dir(), ""))];
    layers.extend(extra);
    let img = registry::image(&registry::bundle_labels(&bundle_dir()), layers, false);
    registry::push(&reg.http, &format!("alpha/{tag}"), "v1", &img);
    format!("{}/alpha/{tag}:v1", reg.http)
}

#[test]
fn bundle_unpack_writes_the_bundle_content() {
    let env = Env::new();
    let r = push_bundle("unpack", vec![]);
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "--use-http", "-o", "out/b"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(tree(&env.path("work/out/b")), tree(&bundle_dir()));
    assert!(env.tmp_is_clean());

    // Without -o: Go's default is the working directory.
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "--use-http"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(env.path("work/metadata/annotations.yaml")).unwrap(),
        std::fs::read(bundle_dir().join("metadata/annotations.yaml")).unwrap()
    );
}

#[test]
fn bundle_unpack_refuses_hostile_layers_and_writes_nothing() {
    let env = Env::new();
    let mut t = Vec::new();
    registry::raw_entry(&mut t, "../../evil", tar::EntryType::Regular, "", b"x");
    registry::end_tar(&mut t);
    let r = push_bundle("hostile-dotdot", vec![LayerBlob::gz(&t)]);
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "--use-http", "-o", "out"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("Error: ") && e.contains("path leaves the image root"),
        "{e}"
    );
    assert!(
        tree(&env.path("work/out")).is_empty(),
        "half-written output"
    );
    assert!(!env.path("evil").exists() && env.tmp_is_clean());

    // A link that the unpacker keeps inside the root (absolute targets are
    // re-rooted) is never followed out of it when copying.
    let mut t = Vec::new();
    let target = env.path("home").display().to_string();
    registry::raw_entry(
        &mut t,
        "manifests/link",
        tar::EntryType::Symlink,
        &target,
        b"",
    );
    registry::end_tar(&mut t);
    std::fs::write(env.path("home/secret"), "s").unwrap();
    let r = push_bundle("hostile-abs-link", vec![LayerBlob::gz(&t)]);
    let o = env.run_work(&[
        "alpha",
        "bundle",
        "unpack",
        &r,
        "--use-http",
        "--skip-validation",
        "-o",
        "out2",
    ]);
    assert!(
        !tree(&env.path("work"))
            .keys()
            .any(|k| k.ends_with("secret")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bundle_unpack_validates_the_bundle_format() {
    let env = Env::new();
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("manifests")).unwrap();
    std::fs::copy(
        bundle_dir().join("manifests/l5-operator.clusterserviceversion.yaml"),
        dir.path().join("manifests/csv.yaml"),
    )
    .unwrap();
    let img = registry::image(
        &registry::bundle_labels(&bundle_dir()),
        vec![LayerBlob::gz(&registry::tar_dir(dir.path(), ""))],
        false,
    );
    registry::push(&reg.http, "alpha/no-metadata", "v1", &img);
    let r = format!("{}/alpha/no-metadata:v1", reg.http);
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "--use-http", "-o", "out"]);
    assert_eq!(
        stderr(&o).lines().next().unwrap_or(""),
        "Error: bundle format validation failed: Bundle validation errors: Unable to locate metadata directory"
    );
    assert!(tree(&env.path("work/out")).is_empty());
    let o = env.run_work(&[
        "alpha",
        "bundle",
        "unpack",
        &r,
        "--use-http",
        "-v",
        "-o",
        "out",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(env.path("work/out/manifests/csv.yaml").is_file());
}

#[test]
fn bundle_unpack_out_must_be_a_directory() {
    let env = Env::new();
    std::fs::write(env.path("work/file"), "x").unwrap();
    let o = env.run_work(&[
        "alpha",
        "bundle",
        "unpack",
        "example.com/b:v1",
        "-o",
        "file",
    ]);
    assert!(
        stderr(&o).starts_with("Error: out file is not a directory\n"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bundle_generate_leaves_no_temporary_files() {
    let env = Env::new();
    let m = env.path("work/in/m");
    std::fs::create_dir_all(&m).unwrap();
    for e in std::fs::read_dir(bundle_dir().join("manifests"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(e.path(), m.join(e.file_name())).unwrap();
    }
    let args = [
        "alpha", "bundle", "generate", "-d", "in/m", "-p", "l5", "-c", "alpha", "-u", "out",
    ];
    let o = env.run_work(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    // Running again overwrites, as Go does.
    let o = env.run_work(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let files: Vec<String> = tree(&env.path("work")).into_keys().collect();
    assert!(files.iter().all(|f| !f.contains(".opm-")), "{files:?}");
    assert!(files.contains(&"out/metadata/annotations.yaml".to_string()));
    let dockerfile = std::fs::read_to_string(env.path("work/bundle.Dockerfile")).unwrap();
    assert!(dockerfile.ends_with("COPY out/manifests /manifests/\nCOPY out/metadata /metadata/\n"));

    let o = env.run_work(&["alpha", "bundle", "generate", "-p", "x"]);
    assert_eq!(
        stderr(&o).lines().next(),
        Some("Error: required flag(s) \"directory\" not set")
    );
}

#[test]
fn list_refuses_bundles_and_unknown_packages() {
    let env = Env::new();
    let b = bundle_dir().display().to_string();
    let o = env.run_work(&["alpha", "list", "packages", &b]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "level=fatal msg=\"cannot list non-index \\\"{b}\\\"\""
        )),
        "{}",
        stderr(&o)
    );
    let cat = testdata()
        .join("corpus/serve-deprecations")
        .display()
        .to_string();
    let o = env.run_work(&["alpha", "list", "channels", &cat, "nope"]);
    assert!(
        stderr(&o).contains("msg=\"package \\\"nope\\\" not found\""),
        "{}",
        stderr(&o)
    );
    let o = env.run_work(&["alpha", "list", "packages", &cat, "x"]);
    assert!(stderr(&o).starts_with("Error: accepts 1 arg(s), received 2\n"));
}

#[test]
fn list_packages_and_channels_tables() {
    let env = Env::new();
    let cat = testdata()
        .join("corpus/community-v4.20")
        .display()
        .to_string();
    let o = env.run_work(&["alpha", "list", "channels", &cat, "infinispan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("PACKAGE     CHANNEL  HEAD"));
    assert!(lines.all(|l| l.starts_with("infinispan  ")), "{text}");
}

#[test]
fn render_graph_unknown_minimum_edge() {
    let env = Env::new();
    let cat = testdata()
        .join("corpus/serve-deprecations")
        .display()
        .to_string();
    let o = env.run_work(&["alpha", "render-graph", "--minimum-edge", "nope", &cat]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .trim_end()
            .ends_with("unknown minimum edge name: \"nope\""),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn list_and_render_graph_read_catalog_images_like_directories() {
    let env = Env::new();
    let reg = registry();
    let dir = testdata().join("corpus/serve-deprecations");
    registry::push(
        &reg.http,
        "alpha/catalog",
        "v1",
        &registry::catalog_image(&dir),
    );
    let r = format!("{}/alpha/catalog:v1", reg.http);
    let d = dir.display().to_string();
    for args in [
        vec!["alpha", "list", "bundles"],
        vec!["alpha", "render-graph", "--draw-v0-semantics"],
    ] {
        let from_dir = env.run_work(&[&args[..], &[d.as_str()]].concat());
        let from_image = env.run_work(&[&args[..], &[r.as_str(), "--use-http"]].concat());
        assert!(from_image.status.success(), "{}", stderr(&from_image));
        assert!(!from_dir.stdout.is_empty());
        assert_eq!(stdout(&from_image), stdout(&from_dir));
    }
    assert!(env.tmp_is_clean());
}

#[test]
fn bundle_unpack_root_ca_trusts_the_registry() {
    let env = Env::new();
    let reg = registry();
    push_bundle("tls", vec![]);
    let r = format!("{}/alpha/tls:v1", reg.tls);
    std::fs::create_dir_all(env.path("home/.docker")).unwrap();
    std::fs::write(
        env.path("home/.docker/config.json"),
        super::image::config_with_auth(&reg.tls),
    )
    .unwrap();
    // Our CA is not trusted without --root-ca.
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "-o", "out"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).to_lowercase().contains("certificate"),
        "{}",
        stderr(&o)
    );
    let ca = reg.ca_pem.display().to_string();
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "-o", "out", "-c", &ca]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(tree(&env.path("work/out")), tree(&bundle_dir()));
    // A file that holds no certificate is Go's error.
    std::fs::write(env.path("work/empty.pem"), "").unwrap();
    let o = env.run_work(&["alpha", "bundle", "unpack", &r, "-c", "empty.pem"]);
    assert_eq!(
        stderr(&o).lines().next(),
        Some("Error: failed to fetch root CA from empty.pem")
    );
}
