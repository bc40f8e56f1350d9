//! Catalog images built in-process (`opm::image::build`) and pushed to the
//! real test registry or written as OCI layouts, then read back by the
//! `opm` binary: `opm render <image>` must print what `opm render <dir>`
//! prints, and the unpacked `/configs` must be the directory.
//!
//! The library is called directly (no CLI drives it yet). Credentials and
//! CA bundles come from the environment, which a test must not change in
//! its own process, so the TLS + htpasswd push runs in a child process of
//! this test binary (`tls_push_child`, ignored unless run that way).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use opm::image::build::{self, CatalogImage};
use opm::image::{PullOptions, Puller};

use super::image::config_with_auth;
use super::registry::{self, LayerBlob, registry};
use super::util::Env;
use super::util::testdata;

fn catalog_dir() -> PathBuf {
    testdata().join("example-catalog")
}

fn opts(cache: &Path) -> PullOptions {
    PullOptions {
        use_http: true,
        cache_dir: Some(cache.to_path_buf()),
        ..Default::default()
    }
}

fn render(env: &Env, args: &[&str]) -> String {
    let o = env.run(&[&["render"], args, &["-o", "json"]].concat());
    assert!(
        o.status.success(),
        "render {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Every file under `dir`, relative path → content.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (rel.display().to_string(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Pull `reference` with the library and compare its `/configs` with `dir`.
fn assert_configs_equal(reference: &str, o: &PullOptions, dir: &Path) {
    let puller = Puller::new(o.clone());
    let pulled = puller.get(reference);
    let pulled = pulled.as_ref().as_ref().expect("pull back");
    assert_eq!(
        pulled
            .labels
            .get(opm::image::LABEL_CONFIGS)
            .map(String::as_str),
        Some("/configs")
    );
    let root = tempfile::tempdir().unwrap();
    opm::image::unpack::apply_layers(&pulled.layers, root.path(), 1 << 30).unwrap();
    assert_eq!(tree(&root.path().join("configs")), tree(dir));
}

#[test]
fn push_scratch_over_http_renders_as_the_directory() {
    let reg = registry();
    let env = Env::new();
    let dir = catalog_dir();
    let img = CatalogImage::as_dockerfile(&dir, "scratch", &BTreeMap::new());
    let dest = format!("{}/push/scratch:v1", reg.http);
    let o = opts(&env.path("cache"));
    let digest = build::build_and_push(&img, &dest, &o).unwrap();
    assert!(digest.starts_with("sha256:"), "{digest}");
    // The same input again: the same image, the same digest.
    assert_eq!(build::build_and_push(&img, &dest, &o).unwrap(), digest);

    let want = render(&env, &[dir.to_str().unwrap()]);
    assert_eq!(render(&env, &[&dest, "--use-http"]), want);
    assert_configs_equal(&dest, &o, &dir);
    let by_digest = format!("{}/push/scratch@{digest}", reg.http);
    assert_eq!(render(&env, &[&by_digest, "--use-http"]), want);
}

#[test]
fn push_on_a_base_image_keeps_its_layers_and_config() {
    let reg = registry();
    let env = Env::new();
    // A Docker-typed base with a file, a label, an env and a user.
    let files = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(files.path().join("bin")).unwrap();
    std::fs::write(files.path().join("bin/opm"), b"#!/bin/sh\n").unwrap();
    let layer = LayerBlob::gz(&registry::tar_dir(files.path(), ""));
    let base_layer_digest = registry::sha256(&layer.data);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "User": "1001", "Labels": {"base": "yes"},
                   "ExposedPorts": {"50051/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created_by": "base"}],
    }))
    .unwrap();
    let base_img = registry::image_with_config(config, vec![layer], true, None);
    registry::push(&reg.http, "push/base", "v1", &base_img);
    let base = format!("{}/push/base:v1", reg.http);

    let dir = catalog_dir();
    let extra = BTreeMap::from([("team".to_string(), "olm".to_string())]);
    let img = CatalogImage::as_dockerfile(&dir, &base, &extra);
    let dest = format!("{}/push/based:v2", reg.http);
    let o = opts(&env.path("cache"));
    build::build_and_push(&img, &dest, &o).unwrap();

    // The base layer was mounted from its repository, not uploaded again.
    // (The registry writes its access log after answering: wait for it.)
    let mounted = || {
        let log = std::fs::read_to_string(&reg.http_log).unwrap();
        log.lines().any(|l| {
            l.contains("POST /v2/push/based/blobs/uploads/")
                && l.contains(&format!("mount={}", base_layer_digest.replace(':', "%3A")))
                && l.contains("\" 201 ")
        })
    };
    let start = std::time::Instant::now();
    while !mounted() && start.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&reg.http_log).unwrap();
    assert!(
        mounted(),
        "no mount of the base layer in the access log:\n{log}"
    );

    assert_eq!(
        render(&env, &[&dest, "--use-http"]),
        render(&env, &[dir.to_str().unwrap()])
    );
    let puller = Puller::new(o.clone());
    let pulled = puller.get(&dest);
    let pulled = pulled.as_ref().as_ref().unwrap();
    assert_eq!(pulled.layers.len(), 2);
    assert_eq!(
        pulled.layers[0].digest.as_ref().unwrap().to_string(),
        base_layer_digest
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(pulled.manifest.as_ref().unwrap()).unwrap();
    assert_eq!(manifest["mediaType"], registry::DOCKER_MANIFEST);
    assert_eq!(manifest["config"]["mediaType"], registry::DOCKER_CONFIG);
    assert_eq!(manifest["layers"][1]["mediaType"], registry::DOCKER_LAYER);
    let config: serde_json::Value = serde_json::from_slice(&pulled.config).unwrap();
    let c = &config["config"];
    assert_eq!(c["Env"], serde_json::json!(["PATH=/bin"]));
    assert_eq!(c["User"], "1001");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/opm"]));
    assert_eq!(
        c["Cmd"],
        serde_json::json!(["serve", "/configs", "--cache-dir=/tmp/cache"])
    );
    assert_eq!(c["ExposedPorts"], serde_json::json!({"50051/tcp": {}}));
    assert_eq!(
        c["Labels"],
        serde_json::json!({"base": "yes", "team": "olm",
            "operators.operatorframework.io.index.configs.v1": "/configs"})
    );
    assert_eq!(config["history"].as_array().unwrap().len(), 2);
    // The base's file is there with the catalog.
    let root = tempfile::tempdir().unwrap();
    opm::image::unpack::apply_layers(&pulled.layers, root.path(), 1 << 30).unwrap();
    assert!(root.path().join("bin/opm").is_file());
    assert_eq!(tree(&root.path().join("configs")), tree(&dir));
}

#[test]
fn a_missing_base_image_pushes_nothing() {
    let reg = registry();
    let env = Env::new();
    let dir = catalog_dir();
    let base = format!("{}/push/no-such-base:v1", reg.http);
    let img = CatalogImage::as_dockerfile(&dir, &base, &BTreeMap::new());
    let dest = format!("{}/push/never:v1", reg.http);
    let o = opts(&env.path("cache"));
    let err = build::build_and_push(&img, &dest, &o).unwrap_err();
    assert!(err.contains("pulling base image"), "{err}");
    assert!(err.contains("manifest unknown"), "{err}");
    let back = Puller::new(o).get(&dest);
    let e = back
        .as_ref()
        .as_ref()
        .err()
        .expect("the tag must not exist");
    assert!(e.contains("unknown"), "{e}");
}

#[test]
fn oci_layout_written_whole_and_read_back() {
    let env = Env::new();
    let dir = catalog_dir();
    let img = CatalogImage::as_dockerfile(&dir, "scratch", &BTreeMap::new());
    let out = env.path("out/layout");
    let o = opts(&env.path("cache"));
    let dest = format!("oci:{}:v1", out.display());
    let d1 = build::build_and_push(&img, &dest, &o).unwrap();
    assert!(out.join("oci-layout").is_file());
    let want = render(&env, &[dir.to_str().unwrap()]);
    assert_eq!(render(&env, &[&dest]), want);
    assert_configs_equal(&dest, &o, &dir);
    // Nothing but the layout is left beside it.
    let beside: Vec<_> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("layout")]);

    // A second tag joins the first.
    let one = dir.join("kubevirt-wol");
    let img2 = CatalogImage::as_dockerfile(&one, "scratch", &BTreeMap::new());
    let d2 = build::build_and_push(&img2, &format!("oci:{}:v2", out.display()), &o).unwrap();
    assert_ne!(d1, d2);
    assert_eq!(render(&env, &[&dest]), want);
    assert_eq!(
        render(&env, &[&format!("oci:{}:v2", out.display())]),
        render(&env, &[one.to_str().unwrap()])
    );

    // Writing a tag again replaces that image only.
    build::build_and_push(&img2, &dest, &o).unwrap();
    assert_eq!(
        render(&env, &[&dest]),
        render(&env, &[one.to_str().unwrap()])
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);

    // An empty directory becomes the layout.
    let empty = env.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let at_empty = format!("oci:{}", empty.display());
    build::build_and_push(&img, &at_empty, &o).unwrap();
    assert_eq!(render(&env, &[&at_empty]), want);

    // A registry destination by digest cannot be written.
    let err = build::build_and_push(&img, &format!("127.0.0.1:1/x@{d1}"), &o).unwrap_err();
    assert!(err.contains("not a digest"), "{err}");

    // A directory that is not a layout is refused and left alone.
    let busy = env.path("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), b"mine").unwrap();
    let err = build::build_and_push(&img, &format!("oci:{}:v1", busy.display()), &o).unwrap_err();
    assert!(err.contains("not an OCI image layout"), "{err}");
    assert_eq!(tree(&busy).len(), 1);
}

/// Run `tls_push_child` in a child process with `vars`.
fn run_child(vars: &[(&str, String)]) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "push::tls_push_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn push_over_tls_with_htpasswd_credentials() {
    let reg = registry();
    let mut env = Env::new();
    std::fs::write(env.path("auth.json"), config_with_auth(&reg.tls)).unwrap();
    let dest = format!("{}/push/tls:v1", reg.tls);
    let dir = catalog_dir();
    let common = |auth: bool| {
        let mut v = vec![
            ("HOME", env.path("home").display().to_string()),
            (
                "XDG_RUNTIME_DIR",
                env.path("home/run").display().to_string(),
            ),
            ("SSL_CERT_FILE", reg.ca_pem.display().to_string()),
            ("OPM_TEST_PUSH_DEST", dest.clone()),
            ("OPM_TEST_PUSH_DIR", dir.display().to_string()),
            (
                "OPM_TEST_PUSH_CACHE",
                env.path("cache").display().to_string(),
            ),
        ];
        if auth {
            v.push((
                "REGISTRY_AUTH_FILE",
                env.path("auth.json").display().to_string(),
            ));
        } else {
            v.push((
                "OPM_TEST_PUSH_EXPECT",
                "authentication required".to_string(),
            ));
        }
        v
    };
    // Without credentials the registry refuses, and the child says so.
    let o = run_child(&common(false));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && out.contains("1 passed"), "{out}{err}");
    // With them (REGISTRY_AUTH_FILE, CA from SSL_CERT_FILE) it is pushed.
    let o = run_child(&common(true));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && out.contains("1 passed"), "{out}{err}");

    env.set("SSL_CERT_FILE", reg.ca_pem.display().to_string());
    env.set(
        "REGISTRY_AUTH_FILE",
        env.path("auth.json").display().to_string(),
    );
    assert_eq!(
        render(&env, &[&dest]),
        render(&env, &[dir.to_str().unwrap()])
    );
}

/// The push of `push_over_tls_with_htpasswd_credentials`, in a process
/// whose environment carries the credentials.
#[test]
#[ignore = "run by push_over_tls_with_htpasswd_credentials in a child process"]
fn tls_push_child() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
    let dir = PathBuf::from(var("OPM_TEST_PUSH_DIR"));
    let img = CatalogImage::as_dockerfile(&dir, "scratch", &BTreeMap::new());
    let o = PullOptions {
        cache_dir: Some(var("OPM_TEST_PUSH_CACHE").into()),
        ..Default::default()
    };
    let result = build::build_and_push(&img, &var("OPM_TEST_PUSH_DEST"), &o);
    match std::env::var("OPM_TEST_PUSH_EXPECT") {
        Ok(want) => {
            let err = result.unwrap_err();
            assert!(err.contains(&want), "{err}");
        }
        Err(_) => {
            result.unwrap();
        }
    }
}
