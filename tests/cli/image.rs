//! Rendering images pulled from a real registry (see `registry`): bundle
//! and catalog images give exactly what Go opm prints for the folders they
//! were built from; credentials, TLS, the blob cache, local image formats,
//! and hostile layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::registry::{self, LayerBlob, registry};
use super::util::{Env, opm, testdata};

const BUNDLES: &[&str] = &[
    "ack-cloudwatch-controller-1.0.6",
    "ack-glue-controller-0.2.1",
    "l5-operator-0.0.2",
    "patch-operator-0.0.1",
    "prometheus-0.37.0",
];

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "opm failed: {}", stderr(o));
}

/// The error of a failed run, without Go's log time prefix (runs a second
/// apart compare equal).
pub(crate) fn error_text(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected failure; stdout: {}",
        stdout(o)
    );
    let e = stderr(o);
    let e = e.trim_end();
    // "YYYY/MM/DD HH:MM:SS " prefix.
    if e.len() > 20 && e.as_bytes()[4] == b'/' {
        e[20..].to_string()
    } else {
        e.to_string()
    }
}

/// Go's output for the bundle directory, made into the output for the
/// bundle image `image`: `image` set, and the image added to the related
/// images (sorted by image, spec §4.3–4.4).
///
/// Go sorts with `sort.Slice`, which is stable only up to 12 entries; for
/// longer lists the order of equal images is pdqsort's, and the expected
/// output is instead our render of the directory with the reference as a
/// (literal) `--alpha-image-ref-template`: Go builds both through the same
/// code (`BundleImage` set, then `bundleToDeclcfg`), and the template path
/// is pinned to Go's bytes by the render-bundle conformance cases.
fn with_image(expected: &str, image: &str, dir: &Path) -> String {
    let templated = || {
        let o = Command::new(opm())
            .args([
                "render",
                dir.to_str().unwrap(),
                "-o",
                "json",
                "--alpha-image-ref-template",
                image,
            ])
            .output()
            .unwrap();
        assert_ok(&o);
        stdout(&o)
    };
    let out = expected.replacen(
        "    \"image\": \"\",",
        &format!("    \"image\": \"{image}\","),
        1,
    );
    let start_tag = "    \"relatedImages\": [\n";
    let start = out
        .find(start_tag)
        .expect("relatedImages in expected output")
        + start_tag.len();
    let end = start + out[start..].find("\n    ]").unwrap();
    let block = &out[start..end];
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut name = String::new();
    for line in block.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("\"name\": ") {
            name = v.trim_end_matches(',').to_string();
        } else if let Some(v) = t.strip_prefix("\"image\": ") {
            entries.push((name.clone(), v.trim_end_matches(',').to_string()));
        }
    }
    let quoted = format!("\"{image}\"");
    if !entries.iter().any(|(_, i)| *i == quoted) {
        entries.push(("\"\"".into(), quoted));
    }
    if entries.len() > 12 {
        return templated();
    }
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    let body: Vec<String> = entries
        .iter()
        .map(|(n, i)| {
            format!(
                "        {{\n            \"name\": {n},\n            \"image\": {i}\n        }}"
            )
        })
        .collect();
    format!("{}{}{}", &out[..start], body.join(",\n"), &out[end..])
}

fn expected_bundle(name: &str, image: &str) -> String {
    let case = testdata().join(format!("cases/render-bundle/{name}-json"));
    let text = match std::fs::read_to_string(case.join("stdout")) {
        Ok(t) => t,
        // Large outputs are kept as a hash: the directory render, once it
        // is shown to hash to Go's output, stands in for it.
        Err(_) => {
            let want = std::fs::read_to_string(case.join("stdout.sha256")).unwrap();
            let o = Command::new(opm())
                .args(["render", bundle_dir(name).to_str().unwrap(), "-o", "json"])
                .output()
                .unwrap();
            assert_ok(&o);
            assert_eq!(
                registry::sha256(&o.stdout)[7..],
                *want.split_whitespace().next().unwrap()
            );
            stdout(&o)
        }
    };
    with_image(&text, image, &bundle_dir(name))
}

fn bundle_dir(name: &str) -> PathBuf {
    testdata().join("corpus/bundles").join(name)
}

/// Push each corpus bundle once per run; returns its reference.
fn pushed_bundle(name: &str) -> String {
    use std::sync::Mutex;
    static DONE: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = done.get(name) {
        return r.clone();
    }
    let reg = registry();
    registry::push(
        &reg.http,
        &format!("corpus/{name}"),
        "v1",
        &registry::bundle_image(&bundle_dir(name)),
    );
    let r = format!("{}/corpus/{name}:v1", reg.http);
    done.insert(name.to_string(), r.clone());
    r
}

#[test]
fn bundle_images_render_like_their_directories() {
    let env = Env::new();
    for name in BUNDLES {
        let r = pushed_bundle(name);
        let o = env.run(&["render", &r, "--use-http", "-o", "json"]);
        assert_ok(&o);
        assert_eq!(stdout(&o), expected_bundle(name, &r), "bundle {name}");
    }
    env.assert_tmp_clean();
}

#[test]
fn several_images_are_pulled_together_and_rendered_in_order() {
    let env = Env::new();
    let refs: Vec<String> = BUNDLES.iter().map(|n| pushed_bundle(n)).collect();
    let mut args = vec!["render", "--use-http", "-o", "json"];
    args.extend(refs.iter().map(String::as_str));
    let o = env.run(&args);
    assert_ok(&o);
    let want: String = BUNDLES
        .iter()
        .zip(&refs)
        .map(|(n, r)| expected_bundle(n, r))
        .collect();
    assert_eq!(stdout(&o), want);
}

#[test]
fn catalog_image_renders_like_its_directory() {
    let reg = registry();
    let env = Env::new();
    for pkg in ["nfs-provisioner-operator", "kubevirt-wol"] {
        let img = registry::catalog_image(&testdata().join("corpus/community-v4.20").join(pkg));
        registry::push(&reg.http, &format!("catalog/{pkg}"), "latest", &img);
        // No tag: Go's default `latest`.
        let r = format!("{}/catalog/{pkg}", reg.http);
        let o = env.run(&["render", &r, "--use-http", "-o", "json"]);
        assert_ok(&o);
        let want = std::fs::read_to_string(testdata().join(format!(
            "cases/render-fbc-json/community-v4.20-{pkg}/stdout"
        )))
        .unwrap();
        assert_eq!(stdout(&o), want, "catalog {pkg}");
    }
    env.assert_tmp_clean();
}

#[test]
fn docker_schema2_index_platform_and_digest_references() {
    let reg = registry();
    let env = Env::new();
    let name = "l5-operator-0.0.2";
    let dir = bundle_dir(name);
    let tar = registry::tar_dir(&dir, "");
    let docker = registry::image(
        &registry::bundle_labels(&dir),
        vec![LayerBlob::gz(&tar)],
        true,
    );
    // The wrong platforms hold an image with no labels: choosing one of
    // them would fail the render.
    let wrong = registry::image(&BTreeMap::new(), vec![LayerBlob::plain(&tar)], false);
    let repo = "platforms/l5";
    registry::push(&reg.http, repo, "docker", &docker);
    registry::push(&reg.http, repo, "wrong", &wrong);
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let index = registry::push_index(
        &reg.http,
        repo,
        "multi",
        &[
            (&wrong, "windows", arch),
            (&wrong, "linux", "s390x-not"),
            (&docker, "linux", arch),
        ],
    );
    for r in [
        format!("{}/{repo}:docker", reg.http),
        format!("{}/{repo}:multi", reg.http),
        format!("{}/{repo}@{index}", reg.http),
    ] {
        let o = env.run(&["render", &r, "--use-http"]);
        assert_ok(&o);
        assert_eq!(stdout(&o), expected_bundle(name, &r), "{r}");
    }
    // An index with no linux/<arch> entry.
    registry::push_index(&reg.http, repo, "nolinux", &[(&docker, "windows", arch)]);
    let r = format!("{}/{repo}:nolinux", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    assert_eq!(
        e,
        format!(
            "render reference \"{r}\": failed to pull image \"{r}\": choosing an image from manifest list docker://{r}: no image found in image index for architecture \"{arch}\", variant \"\", OS \"linux\""
        )
    );
}

#[test]
fn layers_apply_in_order_with_whiteouts() {
    let reg = registry();
    let env = Env::new();
    let name = "patch-operator-0.0.1";
    let dir = bundle_dir(name);
    // Layer 1: the bundle, plus an extra manifest and wrong metadata.
    let mut l1 = Vec::new();
    let good = registry::tar_dir(&dir, "");
    registry::raw_entry(&mut l1, "manifests/", tar::EntryType::Directory, "", b"");
    registry::raw_entry(
        &mut l1,
        "manifests/zz-extra.yaml",
        tar::EntryType::Regular,
        "",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    );
    registry::raw_entry(&mut l1, "metadata/", tar::EntryType::Directory, "", b"");
    registry::raw_entry(
        &mut l1,
        "metadata/annotations.yaml",
        tar::EntryType::Regular,
        "",
        b"annotations:\n  operators.operatorframework.io.bundle.package.v1: wrong\n",
    );
    registry::raw_entry(
        &mut l1,
        "metadata/other.yaml",
        tar::EntryType::Regular,
        "",
        b"properties:\n- type: x.y\n  value: 1\n",
    );
    registry::end_tar(&mut l1);
    // Layer 2 (uncompressed): hide the extra manifest, make metadata/
    // opaque, then the real bundle.
    let mut l2 = Vec::new();
    registry::raw_entry(
        &mut l2,
        "manifests/.wh.zz-extra.yaml",
        tar::EntryType::Regular,
        "",
        b"",
    );
    registry::raw_entry(
        &mut l2,
        "metadata/.wh..wh..opq",
        tar::EntryType::Regular,
        "",
        b"",
    );
    l2.extend_from_slice(&good[..good.len() - 1024]);
    registry::end_tar(&mut l2);
    let img = registry::image(
        &registry::bundle_labels(&dir),
        vec![LayerBlob::gz(&l1), LayerBlob::plain(&l2)],
        false,
    );
    registry::push(&reg.http, "layers/patch", "v1", &img);
    let r = format!("{}/layers/patch:v1", reg.http);
    let o = env.run(&["render", &r, "--use-http"]);
    assert_ok(&o);
    assert_eq!(stdout(&o), expected_bundle(name, &r));
}

#[test]
fn warm_cache_makes_no_blob_requests() {
    let reg = registry();
    let env = Env::new();
    let name = "prometheus-0.37.0";
    let img = registry::bundle_image(&bundle_dir(name));
    registry::push(&reg.http, "cache/prometheus", "v1", &img);
    let r = format!("{}/cache/prometheus:v1", reg.http);
    let before = registry::blob_gets(&reg.http_log);
    let o = env.run(&["render", &r, "--use-http"]);
    assert_ok(&o);
    let cold = registry::blob_gets(&reg.http_log) - before;
    // Config and one layer (other tests may add requests meanwhile, so
    // at least).
    assert!(cold >= 2, "cold render made {cold} blob requests");
    for _ in 0..2 {
        let before = registry::blob_gets(&reg.http_log);
        let o2 = env.run(&["render", &r, "--use-http"]);
        assert_ok(&o2);
        assert_eq!(stdout(&o2), stdout(&o));
        let warm = blob_gets_for(&reg.http_log, "cache/prometheus", before);
        assert_eq!(warm, 0, "warm render made blob requests");
    }
    // Blobs are stored by digest under $OLM_CACHE_DIR/images.
    let layer = registry::sha256(&img.layers[0].data);
    assert!(
        env.path("cache/images/blobs/sha256")
            .join(&layer[7..])
            .is_file()
    );
}

/// Blob requests for repository `repo` in the log after line `skip` of
/// the blob requests.
fn blob_gets_for(log: &Path, repo: &str, skip: usize) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
        .skip(skip)
        .filter(|l| l.contains(&format!("/v2/{repo}/blobs/")))
        .count()
}

// ---- credentials and TLS ----

pub fn auth_b64() -> String {
    use std::io::Write;
    // base64 of "user:password" without a base64 crate in the tests.
    let raw = format!("{}:{}", registry::USER, registry::PASSWORD);
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(table[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.write_all(b"=").unwrap();
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn tls_ref() -> String {
    let reg = registry();
    pushed_bundle("l5-operator-0.0.2");
    format!("{}/corpus/l5-operator-0.0.2:v1", reg.tls)
}

fn tls_env() -> Env {
    let mut env = Env::new();
    env.set("SSL_CERT_FILE", registry().ca_pem.display().to_string());
    env
}

fn assert_renders(env: &Env, r: &str, extra: &[&str]) {
    assert_renders_bundle(env, r, "l5-operator-0.0.2", extra);
}

pub fn config_with_auth(host: &str) -> String {
    format!(r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#, auth_b64())
}

#[test]
fn docker_config_json_auth() {
    let r = tls_ref();
    let env = tls_env();
    std::fs::create_dir_all(env.path("home/.docker")).unwrap();
    std::fs::write(
        env.path("home/.docker/config.json"),
        config_with_auth(&registry().tls),
    )
    .unwrap();
    assert_renders(&env, &r, &[]);
}

#[test]
fn docker_config_env_and_url_keys() {
    let r = tls_ref();
    let mut env = tls_env();
    std::fs::create_dir_all(env.path("dc")).unwrap();
    // A key written as a URL names the host.
    std::fs::write(
        env.path("dc/config.json"),
        config_with_auth(&format!("https://{}/v2/", registry().tls)),
    )
    .unwrap();
    let dc = env.path("dc").display().to_string();
    env.set("DOCKER_CONFIG", dc);
    assert_renders(&env, &r, &[]);
}

#[test]
fn registry_auth_file_auth() {
    let r = tls_ref();
    let mut env = tls_env();
    // A docker config without a matching credential does not stop the
    // search (Go's getAuthFile).
    std::fs::create_dir_all(env.path("home/.docker")).unwrap();
    std::fs::write(
        env.path("home/.docker/config.json"),
        config_with_auth("other.example"),
    )
    .unwrap();
    std::fs::write(env.path("auth.json"), config_with_auth(&registry().tls)).unwrap();
    let f = env.path("auth.json").display().to_string();
    env.set("REGISTRY_AUTH_FILE", f);
    assert_renders(&env, &r, &[]);
}

#[test]
fn podman_auth_json_auth() {
    let r = tls_ref();
    let env = tls_env();
    std::fs::create_dir_all(env.path("home/run/containers")).unwrap();
    std::fs::write(
        env.path("home/run/containers/auth.json"),
        config_with_auth(&registry().tls),
    )
    .unwrap();
    assert_renders(&env, &r, &[]);
}

#[test]
fn credential_helpers() {
    use std::os::unix::fs::PermissionsExt;
    let r = tls_ref();
    let reg = registry();
    for (config, helper) in [
        (
            format!(r#"{{"credHelpers":{{"{}":"opmtest"}}}}"#, reg.tls),
            "opmtest",
        ),
        (r#"{"credsStore":"opmstore"}"#.to_string(), "opmstore"),
    ] {
        let mut env = tls_env();
        let bin = env.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = bin.join(format!("docker-credential-{helper}"));
        // The helper checks it is asked about our registry.
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\n[ \"$server\" = \"{}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{}\",\"Secret\":\"{}\"}}'\n",
                reg.tls,
                registry::USER,
                registry::PASSWORD
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(env.path("home/.docker")).unwrap();
        std::fs::write(env.path("home/.docker/config.json"), config).unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        env.set("PATH", path);
        assert_renders(&env, &r, &[]);
    }
}

#[test]
fn wrong_or_missing_credentials_fail_like_go() {
    let r = tls_ref();
    let reg = registry();
    let want = format!(
        "render reference \"{r}\": failed to pull image \"{r}\": initializing source docker://{r}: reading manifest v1 in {}/corpus/l5-operator-0.0.2: authentication required",
        reg.tls
    );
    let env = tls_env();
    assert_eq!(error_text(&env.run(&["render", &r])), want);
    std::fs::create_dir_all(env.path("home/.docker")).unwrap();
    std::fs::write(
        env.path("home/.docker/config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"username":"{}","password":"wrong"}}}}}}"#,
            reg.tls,
            registry::USER
        ),
    )
    .unwrap();
    assert_eq!(error_text(&env.run(&["render", &r])), want);
}

#[test]
fn tls_verification_and_skip_tls_verify() {
    let r = tls_ref();
    let env = Env::new();
    std::fs::create_dir_all(env.path("home/.docker")).unwrap();
    std::fs::write(
        env.path("home/.docker/config.json"),
        config_with_auth(&registry().tls),
    )
    .unwrap();
    // Our CA is not trusted here.
    let e = error_text(&env.run(&["render", &r]));
    assert!(
        e.contains("pinging container registry") && e.to_lowercase().contains("certificate"),
        "{e}"
    );
    assert_renders(&env, &r, &["--skip-tls-verify"]);
    // Go's "insecure" also covers --use-http against a TLS registry.
    assert_renders(&env, &r, &["--use-http"]);
}

#[test]
fn plain_http_registry_needs_use_http() {
    let r = pushed_bundle("l5-operator-0.0.2");
    let env = Env::new();
    let e = error_text(&env.run(&["render", &r]));
    assert!(
        e.contains(&format!("pinging container registry {}", registry().http)),
        "{e}"
    );
    // The deprecated --skip-tls means --use-http (spec §0.1).
    assert_renders_bundle(&env, &r, "l5-operator-0.0.2", &["--skip-tls"]);
    assert_eq!(
        error_text(&env.run(&["render", &r, "--use-http", "--skip-tls-verify"])),
        "invalid flag combination: --use-http and --skip-tls-verify cannot both be true"
    );
}

fn assert_renders_bundle(env: &Env, r: &str, name: &str, extra: &[&str]) {
    let mut args = vec!["render", r];
    args.extend_from_slice(extra);
    let o = env.run(&args);
    assert_ok(&o);
    assert_eq!(stdout(&o), expected_bundle(name, r));
}

#[test]
fn missing_image_is_go_manifest_unknown() {
    let reg = registry();
    let env = Env::new();
    let r = format!("{}/synthetic/does-not-exist:v1", reg.http);
    assert_eq!(
        error_text(&env.run(&["render", &r, "--use-http"])),
        format!(
            "render reference \"{r}\": failed to pull image \"{r}\": initializing source docker://{r}: reading manifest v1 in {}/synthetic/does-not-exist: manifest unknown",
            reg.http
        )
    );
}

#[test]
fn label_dispatch_errors() {
    let reg = registry();
    let env = Env::new();
    let layer = LayerBlob::gz(&registry::tar_dir(&bundle_dir("l5-operator-0.0.2"), ""));
    let cases: Vec<(BTreeMap<String, String>, &str)> = vec![
        (
            BTreeMap::new(),
            "image type could not be determined: image has no labels",
        ),
        (
            [
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ]
            .into(),
            "image type could not be determined, found labels\n  a=1\n  b=2",
        ),
    ];
    for (i, (labels, msg)) in cases.into_iter().enumerate() {
        let img = registry::image(&labels, vec![layer.clone()], false);
        registry::push(&reg.http, "labels/case", &format!("c{i}"), &img);
        let r = format!("{}/labels/case:c{i}", reg.http);
        assert_eq!(
            error_text(&env.run(&["render", &r, "--use-http"])),
            format!("render reference \"{r}\": render \"{r}\": {msg}")
        );
    }
}

#[test]
fn migrate_refuses_bundle_images() {
    let r = pushed_bundle("l5-operator-0.0.2");
    let env = Env::new();
    let out = env.path("out");
    let o = env.run(&["migrate", &r, out.to_str().unwrap(), "--use-http"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot render bundle image: not allowed"),
        "{}",
        stderr(&o)
    );
}

// ---- images that were never pushed ----

#[test]
fn oci_layout_and_docker_archive() {
    let env = Env::new();
    let name = "ack-glue-controller-0.2.1";
    let img = registry::bundle_image(&bundle_dir(name));
    let layout = env.path("layout");
    registry::write_layout(&layout, "v1", &img);
    for r in [
        format!("oci:{}:v1", layout.display()),
        format!("oci:{}", layout.display()),
    ] {
        let o = env.run(&["render", &r]);
        assert_ok(&o);
        assert_eq!(stdout(&o), expected_bundle(name, &r));
    }
    let e = error_text(&env.run(&["render", &format!("oci:{}:v2", layout.display())]));
    assert!(e.contains("no image tagged \"v2\""), "{e}");

    // docker save keeps layers uncompressed.
    let tar = registry::tar_dir(&bundle_dir(name), "");
    let dimg = registry::image(
        &registry::bundle_labels(&bundle_dir(name)),
        vec![LayerBlob::plain(&tar)],
        true,
    );
    let archive = env.path("bundle.tar");
    registry::write_docker_archive(&archive, "example.com/glue:v1", &dimg);
    for r in [
        format!("docker-archive:{}", archive.display()),
        format!("docker-archive:{}:example.com/glue:v1", archive.display()),
    ] {
        let o = env.run(&["render", &r]);
        assert_ok(&o);
        assert_eq!(stdout(&o), expected_bundle(name, &r));
    }
    env.assert_tmp_clean();
}

#[test]
fn oci_layout_blob_that_lies_about_its_digest() {
    let env = Env::new();
    let img = registry::bundle_image(&bundle_dir("l5-operator-0.0.2"));
    let layout = env.path("layout");
    registry::write_layout(&layout, "v1", &img);
    let layer = registry::sha256(&img.layers[0].data);
    let path = layout.join("blobs/sha256").join(&layer[7..]);
    let mut data = std::fs::read(&path).unwrap();
    let n = data.len();
    data[n - 10] ^= 0xff;
    std::fs::write(&path, data).unwrap();
    let e = error_text(&env.run(&["render", &format!("oci:{}", layout.display())]));
    assert!(
        e.contains("failed to unpack image") && e.contains("digest mismatch"),
        "{e}"
    );
    env.assert_tmp_clean();
}

// ---- hostile content ----

/// Push an image of one hostile layer (plus a bundle, so that only the
/// hostile part can fail) and render it in a fresh environment.
fn render_hostile(tag: &str, layer: Vec<u8>, env: &Env) -> String {
    let reg = registry();
    let dir = bundle_dir("l5-operator-0.0.2");
    let img = registry::image(
        &registry::bundle_labels(&dir),
        vec![
            LayerBlob::gz(&registry::tar_dir(&dir, "")),
            LayerBlob::gz(&layer),
        ],
        false,
    );
    registry::push(&reg.http, "hostile/img", tag, &img);
    let r = format!("{}/hostile/img:{tag}", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    env.assert_tmp_clean();
    // Nothing escaped next to the temp root or into HOME.
    assert!(!env.path("evil").exists() && !env.path("home/evil").exists());
    assert!(
        e.starts_with(&format!(
            "render reference \"{r}\": failed to unpack image \"{r}\": "
        )),
        "{e}"
    );
    e
}

fn one_entry(name: &str, kind: tar::EntryType, link: &str, data: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    registry::raw_entry(&mut t, name, kind, link, data);
    registry::end_tar(&mut t);
    t
}

#[test]
fn hostile_dotdot_and_absolute_paths() {
    let env = Env::new();
    let e = render_hostile(
        "dotdot",
        one_entry("../../evil", tar::EntryType::Regular, "", b"x"),
        &env,
    );
    assert!(
        e.contains("tar entry \"../../evil\": path leaves the image root"),
        "{e}"
    );
    let e = render_hostile(
        "abs",
        one_entry("/tmp/evil", tar::EntryType::Regular, "", b"x"),
        &env,
    );
    assert!(
        e.contains("tar entry \"/tmp/evil\": absolute paths are not allowed"),
        "{e}"
    );
}

#[test]
fn hostile_symlinks() {
    let env = Env::new();
    let e = render_hostile(
        "symlink-out",
        one_entry("escape", tar::EntryType::Symlink, "../../../../evil", b""),
        &env,
    );
    assert!(
        e.contains(
            "tar entry \"escape\": symlink to \"../../../../evil\": points outside the image root"
        ),
        "{e}"
    );
    let e = render_hostile(
        "symlink-climb",
        one_entry(
            "manifests/x",
            tar::EntryType::Symlink,
            "a/../../../evil",
            b"",
        ),
        &env,
    );
    assert!(e.contains("could leave the image root"), "{e}");
    // An absolute link is kept inside the root; writing through it is not
    // allowed.
    let target = env.path("home").display().to_string();
    let mut t = Vec::new();
    registry::raw_entry(&mut t, "dir", tar::EntryType::Symlink, &target, b"");
    registry::raw_entry(&mut t, "dir/evil", tar::EntryType::Regular, "", b"x");
    registry::end_tar(&mut t);
    let e = render_hostile("symlink-through", t, &env);
    assert!(
        e.contains("tar entry \"dir/evil\": parent \"dir\" is a symlink"),
        "{e}"
    );
}

#[test]
fn hostile_hardlinks_and_devices() {
    let env = Env::new();
    let e = render_hostile(
        "hardlink-out",
        one_entry("passwd", tar::EntryType::Link, "../../../etc/passwd", b""),
        &env,
    );
    assert!(
        e.contains("hard link to \"../../../etc/passwd\": path leaves the image root"),
        "{e}"
    );
    let e = render_hostile(
        "hardlink-abs",
        one_entry("passwd", tar::EntryType::Link, "/etc/passwd", b""),
        &env,
    );
    assert!(e.contains("target does not exist in the image"), "{e}");
    let e = render_hostile(
        "chardev",
        one_entry("null", tar::EntryType::Char, "", b""),
        &env,
    );
    assert!(e.contains("device files are not allowed"), "{e}");
    let e = render_hostile(
        "blockdev",
        one_entry("sda", tar::EntryType::Block, "", b""),
        &env,
    );
    assert!(e.contains("device files are not allowed"), "{e}");
}

#[test]
fn hostile_layer_past_the_size_limit() {
    let mut env = Env::new();
    env.set("OPM_IMAGE_MAX_BYTES", "1000000");
    // 5 MB of zeros gzip to a few kilobytes.
    let e = render_hostile(
        "bomb",
        one_entry("zeros", tar::EntryType::Regular, "", &vec![0u8; 5_000_000]),
        &env,
    );
    assert!(
        e.contains("image expands past the limit of 1000000 bytes"),
        "{e}"
    );
}

#[test]
fn hostile_manifest_lies_about_size_or_content() {
    let reg = registry();
    let env = Env::new();
    let dir = bundle_dir("l5-operator-0.0.2");
    let layer = LayerBlob::gz(&registry::tar_dir(&dir, ""));
    let config =
        registry::config_json(&registry::bundle_labels(&dir), std::slice::from_ref(&layer));
    for (tag, lie) in [
        ("small", layer.data.len() as i64 - 7),
        ("big", layer.data.len() as i64 + 7),
    ] {
        let img =
            registry::image_with_config(config.clone(), vec![layer.clone()], false, Some(lie));
        registry::push(&reg.http, "hostile/size", tag, &img);
        let r = format!("{}/hostile/size:{tag}", reg.http);
        let e = error_text(&env.run(&["render", &r, "--use-http"]));
        assert!(e.contains("its descriptor declares"), "{e}");
        env.assert_tmp_clean();
    }
    // The registry serves other bytes than the digest names: corrupt its
    // stored copy of a fresh layer.
    let mut tar = registry::tar_dir(&dir, "");
    tar.extend_from_slice(&[0u8; 512]);
    let fresh = LayerBlob::gz(&tar);
    let img = registry::image(&registry::bundle_labels(&dir), vec![fresh.clone()], false);
    registry::push(&reg.http, "hostile/digest", "v1", &img);
    let d = registry::sha256(&fresh.data);
    registry::corrupt_stored_blob(reg, &d);
    let r = format!("{}/hostile/digest:v1", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    assert!(e.contains("digest") && e.contains(&d), "{e}");
    // Nothing was cached under the digest.
    assert!(!env.path("cache/images/blobs/sha256").join(&d[7..]).exists());
}

// ---- proxies ----

/// A forwarding proxy on a free port that relays every connection to
/// `upstream` and records the first line of each; a Go registry accepts
/// the absolute-form request lines a proxy client sends.
fn start_proxy(upstream: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let upstream = upstream.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    return;
                }
                log.lock().unwrap().push(first.trim_end().to_string());
                let Ok(mut server) = TcpStream::connect(&upstream) else {
                    return;
                };
                server.write_all(first.as_bytes()).unwrap();
                let buffered = reader.buffer().to_vec();
                server.write_all(&buffered).unwrap();
                let mut to_server = server.try_clone().unwrap();
                let mut from_client = client.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_client, &mut to_server);
                    let _ = to_server.shutdown(std::net::Shutdown::Write);
                });
                let mut to_client = client;
                let _ = std::io::copy(&mut server, &mut to_client);
                let _ = to_client.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (addr, seen)
}

#[test]
fn http_proxy_is_used_unless_no_proxy() {
    let r = pushed_bundle("ack-glue-controller-0.2.1");
    let (proxy, seen) = start_proxy(registry().http.clone());
    let mut env = Env::new();
    env.set("HTTP_PROXY", format!("http://{proxy}"));
    let o = env.run(&["render", &r, "--use-http"]);
    assert_ok(&o);
    assert_eq!(stdout(&o), expected_bundle("ack-glue-controller-0.2.1", &r));
    let lines = seen.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("GET http://{}/v2/", registry().http))),
        "proxy saw {lines:?}"
    );
    seen.lock().unwrap().clear();
    let mut env = Env::new();
    env.set("HTTP_PROXY", format!("http://{proxy}"));
    env.set("NO_PROXY", "127.0.0.1");
    assert_ok(&env.run(&["render", &r, "--use-http"]));
    assert!(seen.lock().unwrap().is_empty());
}

// ---- the full corpus, as a measurement (cargo test --release -- --ignored) ----

/// Every bundle of ../shared/conformance/corpus/bundles pushed as an image
/// and rendered cold and warm, each output checked against Go's recorded
/// output for the directory; then the whole community-v4.20 catalog as a
/// catalog image. Prints timings and blob request counts.
#[test]
#[ignore = "measurement over ../shared; run with --ignored"]
fn bench_corpus_images() {
    use std::time::Instant;
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    let corpus = shared.join("corpus/bundles");
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .expect("../shared/conformance/corpus/bundles")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let reg = registry();
    let t = Instant::now();
    let refs: Vec<String> = names
        .iter()
        .map(|n| {
            let img = registry::bundle_image(&corpus.join(n));
            registry::push(&reg.http, &format!("bench/{n}"), "v1", &img);
            format!("{}/bench/{n}:v1", reg.http)
        })
        .collect();
    eprintln!("pushed {} bundle images in {:.2?}", refs.len(), t.elapsed());

    let expected: Vec<String> = names
        .iter()
        .zip(&refs)
        .map(|(n, r)| {
            let case = shared.join(format!("cases/render-bundle/{n}-json"));
            let dir_out = match std::fs::read_to_string(case.join("stdout")) {
                Ok(t) => t,
                Err(_) => {
                    let want = std::fs::read_to_string(case.join("stdout.sha256")).unwrap();
                    let o = Command::new(opm())
                        .args(["render", corpus.join(n).to_str().unwrap(), "-o", "json"])
                        .output()
                        .unwrap();
                    assert_eq!(
                        registry::sha256(&o.stdout)[7..],
                        *want.split_whitespace().next().unwrap(),
                        "{n}"
                    );
                    stdout(&o)
                }
            };
            with_image(&dir_out, r, &corpus.join(n))
        })
        .collect();

    let env = Env::new();
    for pass in ["cold", "warm"] {
        let before = registry::blob_gets(&reg.http_log);
        let t = Instant::now();
        for (r, want) in refs.iter().zip(&expected) {
            let o = env.run(&["render", r, "--use-http", "-o", "json"]);
            assert_ok(&o);
            assert_eq!(&stdout(&o), want, "{r}");
        }
        let blobs = registry::blob_gets(&reg.http_log) - before;
        eprintln!(
            "{pass}: {} renders, one image each, in {:.2?}; {blobs} blob requests",
            refs.len(),
            t.elapsed()
        );
        if pass == "warm" {
            assert_eq!(blobs, 0);
        }
    }
    for pass in ["cold", "warm"] {
        let env = if pass == "cold" {
            Env::new()
        } else {
            env_for_warm(&env)
        };
        let before = registry::blob_gets(&reg.http_log);
        let t = Instant::now();
        let mut args = vec!["render", "--use-http", "-o", "json"];
        args.extend(refs.iter().map(String::as_str));
        let o = env.run(&args);
        assert_ok(&o);
        assert_eq!(stdout(&o), expected.concat());
        eprintln!(
            "{pass}: one render of all {} images in {:.2?}; {} blob requests",
            refs.len(),
            t.elapsed(),
            registry::blob_gets(&reg.http_log) - before
        );
    }

    let catalog = shared.join("corpus/community-v4.20");
    let img = registry::catalog_image(&catalog);
    registry::push(&reg.http, "bench/catalog", "v4.20", &img);
    let r = format!("{}/bench/catalog:v4.20", reg.http);
    let want = std::fs::read_to_string(
        shared.join("cases/render-fbc-dir/community-v4.20-json/stdout.sha256"),
    )
    .unwrap();
    for pass in ["cold", "warm"] {
        let t = Instant::now();
        let o = env.run(&["render", &r, "--use-http", "-o", "json"]);
        assert_ok(&o);
        assert_eq!(
            registry::sha256(&o.stdout)[7..],
            *want.split_whitespace().next().unwrap()
        );
        eprintln!(
            "{pass}: catalog image community-v4.20 ({} bytes of layer) in {:.2?}",
            img.layers[0].data.len(),
            t.elapsed()
        );
    }
}

/// A fresh environment sharing `env`'s cache.
fn env_for_warm(env: &Env) -> Env {
    let mut e = Env::new();
    e.set("OLM_CACHE_DIR", env.path("cache").display().to_string());
    e
}

/// A machine without CA certificates gets a message saying so, not
/// reqwest's bare "builder error" (and no panic).
#[test]
fn no_ca_certificates_is_a_clear_error() {
    let mut env = crate::util::Env::new();
    let empty = env.path("certs");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("none.pem"), "").unwrap();
    env.set(
        "SSL_CERT_FILE",
        empty.join("none.pem").display().to_string(),
    );
    env.set("SSL_CERT_DIR", empty.display().to_string());
    let out = env.run(&["render", "127.0.0.1:1/foo/bar:v1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("create registry client: builder error: unexpected error: No CA certificates were loaded from the system"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
