//! `opm index add|prune|prune-stranded|rm` against the real local registry:
//! Go v1.73's recorded scenarios (testdata/replay/, copied from the shared
//! replay suite) compared blob by blob, chaining through a catalog
//! directory, a catalog image and Go's own SQLite database pushed as an
//! index image; failures that must leave nothing behind.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;

use super::registry::{self, LayerBlob, registry};
use super::util::Env;
use super::util::testdata;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Push every bundle the scenarios name (synthetic ones and three corpus
/// ones) once per test run; `$REGISTRY/<repo>/<dir>:v1` as the replay
/// suite names them.
fn pushed() -> &'static str {
    static DONE: OnceLock<String> = OnceLock::new();
    DONE.get_or_init(|| {
        let host = registry().http.clone();
        let syn = testdata().join("bundles-synthetic");
        for e in std::fs::read_dir(&syn).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let img = registry::bundle_image(&e.path());
            registry::push(&host, &format!("synthetic/{name}"), "v1", &img);
        }
        for name in [
            "apicurio-registry-0.0.1",
            "mercury-operator-1.0.2",
            "deployment-validation-operator-0.7.7",
        ] {
            let img = registry::bundle_image(&testdata().join("bundles").join(name));
            registry::push(&host, &format!("corpus/{name}"), "v1", &img);
        }
        host
    })
}

fn scenario(name: &str) -> PathBuf {
    testdata().join("replay/index-add").join(name)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The `--bundles` of a scenario with the registry filled in.
fn bundles_of(name: &str, host: &str) -> String {
    read(&scenario(name).join("bundles.txt"))
        .lines()
        .map(|l| l.replace("$REGISTRY", host))
        .collect::<Vec<_>>()
        .join(",")
}

/// The JSON objects of a render stream.
fn blobs(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|v| v.unwrap())
        .collect()
}

/// replay.py's comparison: blobs as a set, unordered lists sorted; bundles
/// Go kept without manifests compared without them.
fn canonical(text: &str, lossy: &[String]) -> Vec<String> {
    let key = |v: &Value| serde_json::to_string(v).unwrap();
    let mut out: Vec<String> = blobs(text)
        .into_iter()
        .map(|mut b| {
            let is_lossy =
                b["schema"] == "olm.bundle" && lossy.iter().any(|n| b["name"].as_str() == Some(n));
            if let Some(props) = b.get_mut("properties").and_then(Value::as_array_mut) {
                if is_lossy {
                    props.retain(|p| p["type"] != "olm.bundle.object");
                }
                props.sort_by_key(key);
            }
            if let Some(imgs) = b.get_mut("relatedImages").and_then(Value::as_array_mut) {
                if is_lossy {
                    for i in imgs.iter_mut() {
                        *i = serde_json::json!({"image": i["image"]});
                    }
                }
                imgs.sort_by_key(key);
            }
            if let Some(entries) = b.get_mut("entries").and_then(Value::as_array_mut) {
                for e in entries.iter_mut() {
                    if let Some(s) = e.get_mut("skips").and_then(Value::as_array_mut) {
                        s.sort_by_key(key);
                    }
                }
                entries.sort_by_key(key);
            }
            key(&b)
        })
        .collect();
    out.sort();
    out
}

fn lossy_bundles(expected: &str) -> Vec<String> {
    blobs(expected)
        .into_iter()
        .filter(|b| b["schema"] == "olm.bundle")
        .filter(|b| {
            !b["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["type"] == "olm.bundle.object")
        })
        .filter_map(|b| b["name"].as_str().map(str::to_string))
        .collect()
}

/// `opm render DIR -o json` with our registry (and the one Go's databases
/// name) written as `$REGISTRY`.
fn render_normalised(env: &Env, dir: &Path, host: &str) -> String {
    let o = env.run(&["render", dir.to_str().unwrap(), "-o", "json"]);
    assert!(o.status.success(), "render failed: {}", stderr(&o));
    stdout(&o)
        .replace(host, "$REGISTRY")
        .replace("127.0.0.1:5000", "$REGISTRY")
}

fn assert_matches_expected(env: &Env, dir: &Path, name: &str, host: &str) {
    let expected = read(&scenario(name).join("expected.json"));
    let lossy = lossy_bundles(&expected);
    let got = render_normalised(env, dir, host);
    assert_eq!(
        canonical(&got, &lossy),
        canonical(&expected, &lossy),
        "scenario {name}: render of the written catalog differs from Go's"
    );
    let o = env.run(&["validate", dir.to_str().unwrap()]);
    assert!(o.status.success(), "validate {name}: {}", stderr(&o));
}

/// Run one recorded scenario in a fresh working directory (optionally on
/// top of `from`); returns the directory and the output.
fn run_scenario(env: &Env, name: &str, from: Option<&str>) -> (PathBuf, Output) {
    let host = pushed();
    let wd = env.path(&format!(
        "wd-{name}-{}",
        from.map(|_| "from").unwrap_or("new")
    ));
    std::fs::create_dir_all(&wd).unwrap();
    let mode = read(&scenario(name).join("mode"));
    let bundles = bundles_of(name, host);
    let mut args = vec![
        "index",
        "add",
        "--generate",
        "--use-http",
        "--mode",
        mode.trim(),
        "--bundles",
        &bundles,
    ];
    if let Some(f) = from {
        args.extend(["--from-index", f]);
    }
    let o = env.run_in(&wd, &args);
    (wd, o)
}

fn error_line(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with("Error: "))
        .map(str::to_string)
}

#[test]
fn recorded_scenarios_from_scratch() {
    let env = Env::new();
    let host = pushed();
    for name in [
        "replaces-graph",
        "replaces-default-highest",
        "replaces-prunes-new-bundle",
        "replaces-default-not-a-channel",
        "replaces-missing-replaces",
        "replaces-no-default-two-channels",
        "semver-graph",
        "semver-default-1",
        "semver-default-not-a-channel",
    ] {
        let (wd, o) = run_scenario(&env, name, None);
        let exit: i32 = read(&scenario(name).join("exit")).trim().parse().unwrap();
        assert_eq!(o.status.code(), Some(exit), "{name}: {}", stderr(&o));
        if exit != 0 {
            let want =
                error_line(&read(&scenario(name).join("stderr.txt")).replace("$REGISTRY", host));
            assert_eq!(error_line(&stderr(&o)), want, "{name}");
            assert!(!wd.join("catalog").exists(), "{name}: catalog/ left behind");
            assert!(
                !wd.join("index.Dockerfile").exists(),
                "{name}: Dockerfile left behind"
            );
            let left: Vec<_> = std::fs::read_dir(&wd)
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert!(left.is_empty(), "{name}: left {left:?}");
            continue;
        }
        assert_matches_expected(&env, &wd.join("catalog"), name, host);
        // The Dockerfile is what `opm generate dockerfile catalog` writes.
        let gen_dir = env.path(&format!("gen-{name}"));
        std::fs::create_dir_all(&gen_dir).unwrap();
        copy_dir(&wd.join("catalog"), &gen_dir.join("catalog"));
        let g = env.run_in(&gen_dir, &["generate", "dockerfile", "catalog"]);
        assert!(g.status.success(), "{}", stderr(&g));
        assert_eq!(
            read(&wd.join("index.Dockerfile")),
            read(&gen_dir.join("catalog.Dockerfile")),
            "{name}: Dockerfile"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Chained adds: the result of semver-default-1 as a local catalog
/// directory, as a pushed catalog image, and Go's own database pushed as a
/// SQLite index image all give semver-default-2.
#[test]
fn chained_from_directory_catalog_image_and_sqlite_image() {
    let env = Env::new();
    let host = pushed();
    let (wd1, o) = run_scenario(&env, "semver-default-1", None);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = wd1.join("catalog");

    let (wd, o) = run_scenario(&env, "semver-default-2", Some(dir.to_str().unwrap()));
    assert!(o.status.success(), "from directory: {}", stderr(&o));
    assert_matches_expected(&env, &wd.join("catalog"), "semver-default-2", host);

    let img = registry::catalog_image(&dir);
    registry::push(host, "index-test/fbc", "v1", &img);
    let fbc_ref = format!("{host}/index-test/fbc:v1");
    let env2 = Env::new();
    let (wd, o) = run_scenario(&env2, "semver-default-2", Some(&fbc_ref));
    assert!(o.status.success(), "from catalog image: {}", stderr(&o));
    assert_matches_expected(&env2, &wd.join("catalog"), "semver-default-2", host);

    let sqlite_ref = push_go_db(host, "semver-default-1");
    let env3 = Env::new();
    let (wd, o) = run_scenario(&env3, "semver-default-2", Some(&sqlite_ref));
    assert!(
        o.status.success(),
        "from SQLite index image: {}",
        stderr(&o)
    );
    assert_matches_expected(&env3, &wd.join("catalog"), "semver-default-2", host);
}

/// Go's database of a scenario, as a SQLite index image; returns its ref.
fn push_go_db(host: &str, name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("database")).unwrap();
    let mut db = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(scenario(name).join("index.db.gz")).unwrap())
        .read_to_end(&mut db)
        .unwrap();
    std::fs::write(dir.path().join("database/index.db"), &db).unwrap();
    let labels: BTreeMap<String, String> = [(
        "operators.operatorframework.io.index.database.v1".to_string(),
        "/database/index.db".to_string(),
    )]
    .into();
    let img = registry::image(
        &labels,
        vec![LayerBlob::gz(&registry::tar_dir(dir.path(), ""))],
        false,
    );
    registry::push(host, &format!("index-test/sqlite-{name}"), "v1", &img);
    format!("{host}/index-test/sqlite-{name}:v1")
}

/// `render` and `migrate` of a SQLite index image equal those of its
/// database file (v1.73 behaviour; Go HEAD refuses such images).
#[test]
fn sqlite_index_image_renders_as_its_database() {
    let env = Env::new();
    let host = pushed();
    let r = push_go_db(host, "semver-default-1");
    let db = env.path("index.db");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(scenario("semver-default-1").join("index.db.gz")).unwrap(),
    )
    .read_to_end(&mut bytes)
    .unwrap();
    std::fs::write(&db, &bytes).unwrap();
    let from_file = env.run(&["render", db.to_str().unwrap(), "-o", "yaml"]);
    let from_image = env.run(&["render", &r, "-o", "yaml", "--use-http"]);
    assert!(from_image.status.success(), "{}", stderr(&from_image));
    assert_eq!(stdout(&from_image), stdout(&from_file));
    assert!(!stdout(&from_file).is_empty());
    assert!(
        stderr(&from_image).contains("level=warning"),
        "the SQLite deprecation warning"
    );

    let (a, b) = (env.path("m-file"), env.path("m-image"));
    let o = env.run(&["migrate", db.to_str().unwrap(), a.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.run(&["migrate", &r, b.to_str().unwrap(), "--use-http"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let migrated = read(&a.join("syn-dflt/catalog.json"));
    assert!(!migrated.is_empty());
    assert_eq!(migrated, read(&b.join("syn-dflt/catalog.json")));
    env.assert_tmp_clean();
}

/// A bundle that cannot be pulled fails the add after the other bundles
/// were fetched: exit 1, nothing written.
#[test]
fn failed_pull_writes_nothing() {
    let env = Env::new();
    let host = pushed();
    let wd = env.path("wd");
    std::fs::create_dir_all(&wd).unwrap();
    let bundles = format!("{host}/synthetic/syn-graph-1.0.0:v1,{host}/synthetic/does-not-exist:v1");
    let o = env.run_in(
        &wd,
        &[
            "index",
            "add",
            "--generate",
            "--use-http",
            "--bundles",
            &bundles,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = error_line(&stderr(&o)).unwrap();
    assert!(
        e.contains("does-not-exist") && e.contains("manifest unknown"),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(&wd)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left {left:?}");
    env.assert_tmp_clean();
}

/// Bundles given as directories (beyond Go) give the same catalog as
/// the same bundles given as images, up to the image references.
#[test]
fn bundle_directories_as_input() {
    let env = Env::new();
    let syn = testdata().join("bundles-synthetic");
    let dirs: Vec<String> = ["syn-dflt-1.0.0", "syn-dflt-1.1.0", "syn-dflt-2.0.0"]
        .iter()
        .map(|d| syn.join(d).display().to_string())
        .collect();
    let wd = env.path("wd");
    std::fs::create_dir_all(&wd).unwrap();
    let o = env.run_in(
        &wd,
        &[
            "index",
            "add",
            "--generate",
            "--bundles",
            &dirs.join(","),
            "--out-dir",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got = blobs(&render_normalised(&env, &wd.join("out"), "unused"));
    let pkg = got.iter().find(|b| b["schema"] == "olm.package").unwrap();
    assert_eq!(pkg["defaultChannel"], "fast");
    let fast = got
        .iter()
        .find(|b| b["schema"] == "olm.channel" && b["name"] == "fast")
        .unwrap();
    assert_eq!(fast["entries"].as_array().unwrap().len(), 3);
    // The Dockerfile ships the directory that was written.
    assert!(read(&wd.join("index.Dockerfile")).contains("ADD out /configs"));
}

fn catalog_of(env: &Env, name: &str) -> PathBuf {
    let (wd, o) = run_scenario(env, name, None);
    assert!(o.status.success(), "{}", stderr(&o));
    wd.join("catalog")
}

#[test]
fn prune_rm_and_prune_stranded() {
    let env = Env::new();
    let host = pushed();
    // Two packages: syn-graph and syn-dflt.
    let base = catalog_of(&env, "replaces-graph");
    let wd = env.path("two");
    std::fs::create_dir_all(&wd).unwrap();
    let b = bundles_of("replaces-default-highest", host);
    let o = env.run_in(
        &wd,
        &[
            "index",
            "add",
            "--generate",
            "--use-http",
            "--bundles",
            &b,
            "--from-index",
            base.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let two = wd.join("catalog");
    let packages = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = blobs(&render_normalised(&env, dir, host))
            .into_iter()
            .filter(|b| b["schema"] == "olm.package")
            .map(|b| b["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(packages(&two), ["syn-dflt", "syn-graph"]);

    let run = |name: &str, args: &[&str]| -> PathBuf {
        let wd = env.path(name);
        std::fs::create_dir_all(&wd).unwrap();
        let o = env.run_in(&wd, args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        wd.join("catalog")
    };
    let t = two.to_str().unwrap();
    let kept = run(
        "prune",
        &[
            "index",
            "prune",
            "--generate",
            "-f",
            t,
            "-p",
            "syn-graph,no-such-package",
        ],
    );
    assert_eq!(packages(&kept), ["syn-graph"]);
    // The kept package is untouched.
    assert_eq!(
        render_normalised(&env, &kept, host),
        render_normalised(&env, &base, host)
    );
    let none = run(
        "prune-none",
        &[
            "index",
            "prune",
            "--generate",
            "-f",
            t,
            "-p",
            "no-such-package",
        ],
    );
    assert!(render_normalised(&env, &none, host).is_empty());
    let removed = run(
        "rm",
        &["index", "rm", "--generate", "-f", t, "-o", "syn-graph"],
    );
    assert_eq!(packages(&removed), ["syn-dflt"]);
    let same = run(
        "stranded",
        &["index", "prune-stranded", "--generate", "-f", t],
    );
    assert_eq!(
        render_normalised(&env, &same, host),
        render_normalised(&env, &two, host)
    );
}

#[test]
fn usage_errors_as_v1_73() {
    let env = Env::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["index", "add", "--generate"],
            "Error: required flag(s) \"bundles\" not set",
        ),
        (
            &["index", "prune", "--generate"],
            "Error: required flag(s) \"from-index\", \"packages\" not set",
        ),
        (
            &["index", "rm", "--generate", "-f", "x"],
            "Error: required flag(s) \"operators\" not set",
        ),
        (
            &["index", "prune-stranded", "--generate"],
            "Error: required flag(s) \"from-index\" not set",
        ),
        (
            &["index", "add", "--generate", "-b", "x", "--mode", "fast"],
            "Error: Invalid channel update mode fast specified",
        ),
        (
            &["index", "add", "--generate", "-b", "x", "-u", "none"],
            "Error: none is not a valid container-tool for index add",
        ),
        (
            &[
                "index",
                "prune",
                "--generate",
                "-f",
                "x",
                "-p",
                "a",
                "-c",
                "none",
            ],
            "Error: none is not a valid container-tool for index prune",
        ),
    ];
    for (args, want) in cases {
        let o = env.run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(error_line(&stderr(&o)).as_deref(), Some(*want), "{args:?}");
    }
}

/// `index add --tag` builds the catalog image in-process and pushes it:
/// its render equals the `--generate` catalog, and `opm serve` starts on
/// the `/configs` it ships.
#[test]
fn tag_pushes_a_catalog_image() {
    let env = Env::new();
    let host = pushed();
    let b = bundles_of("replaces-graph", host);
    let generated = catalog_of(&env, "replaces-graph");
    let tag = format!("{host}/index-test/pushed:v1");
    let o = env.run(&[
        "index",
        "add",
        "--use-http",
        "--bundles",
        &b,
        "--binary-image",
        "scratch",
        "--tag",
        &tag,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pushed_render = env.run(&["render", &tag, "--use-http", "-o", "yaml"]);
    assert!(pushed_render.status.success(), "{}", stderr(&pushed_render));
    let dir_render = env.run(&["render", generated.to_str().unwrap(), "-o", "yaml"]);
    assert_eq!(stdout(&pushed_render), stdout(&dir_render));

    // The same as an OCI layout on disk; serve starts on its /configs.
    let layout = env.path("layout");
    let oci = format!("oci:{}:v1", layout.display());
    let o = env.run(&[
        "index",
        "add",
        "--bundles",
        &b,
        "--use-http",
        "-i",
        "scratch",
        "-t",
        &oci,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.run(&["render", &oci, "-o", "yaml"]);
    assert_eq!(stdout(&o), stdout(&dir_render));
    let configs = env.path("unpacked");
    unpack_last_layer(&layout, &configs);
    let o = env.run(&[
        "serve",
        configs.join("configs").to_str().unwrap(),
        "--pprof-addr",
        "",
        "--cache-only",
        "--cache-dir",
        env.path("serve-cache").to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "serve on the shipped /configs: {}",
        stderr(&o)
    );
}

/// Untar the newest layer of the single image of an OCI layout.
fn unpack_last_layer(layout: &Path, to: &Path) {
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    let last = layers.last().unwrap()["digest"].as_str().unwrap();
    let gz = std::fs::File::open(blob(last)).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(gz))
        .unpack(to)
        .unwrap();
}

/// A push to the TLS registry with htpasswd auth takes the credentials of
/// the auth file, as pulls do; without them nothing is pushed.
#[test]
fn tag_push_with_credentials_over_tls() {
    let reg = registry();
    pushed();
    // The TLS registry shares the plain one's storage: bundles are pulled
    // and the catalog pushed over TLS, with the same credentials.
    let b = bundles_of("semver-default-1", &reg.tls);
    let tag = format!("{}/index-test/tls:v1", reg.tls);
    let mut env = Env::new();
    env.set("SSL_CERT_FILE", reg.ca_pem.display().to_string());
    let add = [
        "index",
        "add",
        "--bundles",
        &b,
        "-i",
        "scratch",
        "-t",
        &tag,
        "--mode",
        "semver",
    ];
    let o = env.run(&add);
    assert_eq!(o.status.code(), Some(1), "pushed without credentials");
    std::fs::write(
        env.path("auth.json"),
        super::image::config_with_auth(&reg.tls),
    )
    .unwrap();
    env.set(
        "REGISTRY_AUTH_FILE",
        env.path("auth.json").display().to_string(),
    );
    let o = env.run(&add);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.run(&["render", &tag, "-o", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("syn-dflt.v2.0.0"));
}

/// A pull that fails leaves the tag unpushed.
#[test]
fn failed_add_pushes_nothing() {
    let env = Env::new();
    let host = pushed();
    let tag = format!("{host}/index-test/never:v1");
    let bundles = format!("{host}/synthetic/syn-graph-1.0.0:v1,{host}/synthetic/missing:v1");
    let o = env.run(&[
        "index",
        "add",
        "--use-http",
        "-b",
        &bundles,
        "-i",
        "scratch",
        "-t",
        &tag,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = env.run(&["render", &tag, "--use-http"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("manifest unknown"), "{}", stderr(&o));
}
