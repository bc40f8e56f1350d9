//! Catalog images kept unpacked in the blob cache: a warm render reads the
//! cached tree (same bytes as cold, no blob requests), a damaged tree is
//! rebuilt, hostile layers leave nothing behind, concurrent cold renders
//! share one entry, and `--cache-max-size` bounds the store.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::image::error_text;
use super::registry::{self, LayerBlob, registry};
use super::util::{Env, opm, testdata};

const PKG: &str = "nfs-provisioner-operator";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "opm failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn want_json(pkg: &str) -> String {
    std::fs::read_to_string(testdata().join(format!(
        "cases/render-fbc-json/community-v4.20-{pkg}/stdout"
    )))
    .unwrap()
}

fn catalog_layer(pkg: &str) -> LayerBlob {
    let img = registry::catalog_image(&testdata().join("corpus/community-v4.20").join(pkg));
    img.layers[0].clone()
}

/// Requests for the blob `digest` of `repo` in the registry log after the
/// first `skip` blob requests.
fn layer_gets(repo: &str, digest: &str, skip: usize) -> usize {
    std::fs::read_to_string(&registry().http_log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
        .skip(skip)
        .filter(|l| l.contains(&format!("/v2/{repo}/blobs/{digest}")))
        .count()
}

fn push_catalog(repo: &str, pkg: &str) -> String {
    let reg = registry();
    let img = registry::catalog_image(&testdata().join("corpus/community-v4.20").join(pkg));
    registry::push(&reg.http, repo, "v1", &img);
    format!("{}/{repo}:v1", reg.http)
}

/// The cached trees (`trees/sha256/<hex>`) of `env`'s cache.
fn trees(env: &Env) -> Vec<PathBuf> {
    list(&env.path("cache/images/trees/sha256"))
}

fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn warm_render_reads_the_cached_tree() {
    let r = push_catalog("imgcache/warm", PKG);
    let env = Env::new();
    let cold = env.run(&["render", &r, "--use-http", "-o", "json"]);
    assert_ok(&cold);
    assert_eq!(stdout(&cold), want_json(PKG));
    let t = trees(&env);
    assert_eq!(t.len(), 1, "{t:?}");
    let file = t[0].join("root/configs/catalog.yaml");
    let text = std::fs::read(&file).unwrap();
    assert!(!text.is_empty());
    // Warm: the same bytes, from the tree, which needs no layer: the layer
    // blob is removed, and not fetched again.
    let layer = registry::sha256(&catalog_layer(PKG).data);
    let blob = env.path("cache/images/blobs/sha256").join(&layer[7..]);
    std::fs::remove_file(&blob).unwrap();
    let before = registry::blob_gets(&registry().http_log);
    let warm = env.run(&["render", &r, "--use-http", "-o", "json"]);
    assert_ok(&warm);
    assert_eq!(stdout(&warm), stdout(&cold));
    assert_eq!(
        layer_gets("imgcache/warm", &layer, before),
        0,
        "warm render fetched the layer"
    );
    assert!(!blob.exists());
    // yaml too (another output of the same tree).
    let yaml = env.run(&["render", &r, "--use-http", "-o", "yaml"]);
    assert_ok(&yaml);
    assert!(stdout(&yaml).starts_with("---\n"), "{}", stdout(&yaml));
    // A tree whose file changed (same size) is refused and rebuilt (the
    // layer is fetched again).
    let mut damaged = text.clone();
    let name = b"nfs-provisioner-operator";
    let i = damaged.windows(name.len()).position(|w| w == name).unwrap();
    damaged[i] = b'm';
    std::fs::write(&file, &damaged).unwrap();
    let again = env.run(&["render", &r, "--use-http", "-o", "json"]);
    assert_ok(&again);
    assert_eq!(stdout(&again), stdout(&cold));
    assert_eq!(std::fs::read(&file).unwrap(), text);
    assert_eq!(trees(&env).len(), 1);
    assert!(blob.exists());
    // A file added to the tree is refused as well.
    std::fs::write(t[0].join("root/configs/extra.yaml"), b"---\n").unwrap();
    let again = env.run(&["render", &r, "--use-http", "-o", "json"]);
    assert_ok(&again);
    assert_eq!(stdout(&again), stdout(&cold));
    assert!(!t[0].join("root/configs/extra.yaml").exists());
    // A file changed so that it no longer parses (same size): the parse
    // error is not believed before the tree is checked whole; it is
    // rebuilt and the render succeeds.
    let mut broken = text.clone();
    broken[4] = b'\t';
    std::fs::write(&file, &broken).unwrap();
    let again = env.run(&["render", &r, "--use-http", "-o", "json"]);
    assert_ok(&again);
    assert_eq!(stdout(&again), stdout(&cold));
    assert_eq!(std::fs::read(&file).unwrap(), text);
    // A file of the tree removed: rebuilt as well.
    std::fs::remove_file(&file).unwrap();
    let again = env.run(&["render", &r, "--use-http", "-o", "json"]);
    assert_ok(&again);
    assert_eq!(stdout(&again), stdout(&cold));
    assert_eq!(std::fs::read(&file).unwrap(), text);
    assert_eq!(trees(&env).len(), 1);
    env.assert_tmp_clean();
    assert!(list(&env.path("cache/images/tmp")).is_empty());
}

#[test]
fn warm_render_reports_what_cold_reports() {
    // A catalog that fails to load: from an intact cached tree, the same
    // error as from the layers, and the tree stays.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("p")).unwrap();
    std::fs::write(
        dir.path().join("p/catalog.json"),
        b"{\"schema\":\"olm.package\",\"name\":\"p\"}\n{\"schema\": 7}\n",
    )
    .unwrap();
    let reg = registry();
    registry::push(
        &reg.http,
        "imgcache/broken",
        "v1",
        &registry::catalog_image(dir.path()),
    );
    let r = format!("{}/imgcache/broken:v1", reg.http);
    let env = Env::new();
    let cold = env.run(&["render", &r, "--use-http"]);
    let want = error_text(&cold);
    assert!(want.contains("catalog.json"), "{want}");
    let t = trees(&env);
    assert_eq!(t.len(), 1, "{t:?}");
    let gets = || {
        std::fs::read_to_string(&reg.http_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"GET /v2/imgcache/broken/blobs/sha256:"))
            .count()
    };
    let before = gets();
    assert!(before > 0);
    let warm = env.run(&["render", &r, "--use-http"]);
    assert_eq!(error_text(&warm), want);
    // Not rebuilt: no blob fetched again.
    assert_eq!(trees(&env), t);
    assert_eq!(gets(), before);
}

#[test]
fn warm_render_makes_no_blob_requests() {
    let r = push_catalog("imgcache/requests", "kubevirt-wol");
    let env = Env::new();
    assert_ok(&env.run(&["render", &r, "--use-http"]));
    let before = registry::blob_gets(&registry().http_log);
    let warm = env.run(&["render", &r, "--use-http"]);
    assert_ok(&warm);
    let n = std::fs::read_to_string(&registry().http_log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
        .skip(before)
        .filter(|l| l.contains("/v2/imgcache/requests/blobs/"))
        .count();
    assert_eq!(n, 0, "warm render made blob requests");
}

/// Nothing of a failed image stays in the cache: no tree, no layer, no
/// leftovers in its tmp/.
fn assert_cache_empty_of_layers(env: &Env, layer_digest: &str) {
    assert!(trees(env).is_empty(), "trees left: {:?}", trees(env));
    assert!(
        !env.path("cache/images/blobs/sha256")
            .join(&layer_digest[7..])
            .exists(),
        "layer left in the cache"
    );
    assert!(list(&env.path("cache/images/tmp")).is_empty());
    env.assert_tmp_clean();
}

fn catalog_labels() -> std::collections::BTreeMap<String, String> {
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(
        "operators.operatorframework.io.index.configs.v1".to_string(),
        "/configs".to_string(),
    );
    labels
}

#[test]
fn hostile_catalog_layers_leave_nothing_in_the_cache() {
    let reg = registry();
    let env = Env::new();
    let dir = testdata().join("corpus/community-v4.20").join(PKG);

    // A layer whose bytes are not what its digest names.
    let mut tar = registry::tar_dir(&dir, "configs/");
    tar.extend_from_slice(&[0u8; 1024]);
    let layer = LayerBlob::gz(&tar);
    let img = registry::image(&catalog_labels(), vec![layer.clone()], false);
    registry::push(&reg.http, "imgcache/digest", "v1", &img);
    let d = registry::sha256(&layer.data);
    registry::corrupt_stored_blob(reg, &d);
    let r = format!("{}/imgcache/digest:v1", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    assert!(e.contains("digest") && e.contains(&d), "{e}");
    assert_cache_empty_of_layers(&env, &d);

    // A gzip stream cut in the middle (its digest and size are honest).
    let whole = LayerBlob::gz(&registry::tar_dir(&dir, "configs/"));
    let cut = whole.data[..whole.data.len() / 2].to_vec();
    let layer = LayerBlob {
        data: cut,
        ..whole.clone()
    };
    let img = registry::image(&catalog_labels(), vec![layer.clone()], false);
    registry::push(&reg.http, "imgcache/truncated", "v1", &img);
    let r = format!("{}/imgcache/truncated:v1", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    assert!(e.contains("failed to unpack image"), "{e}");
    assert_cache_empty_of_layers(&env, &registry::sha256(&layer.data));

    // A descriptor that promises more bytes than the registry sends.
    let img = registry::image_with_config(
        registry::config_json(&catalog_labels(), std::slice::from_ref(&whole)),
        vec![whole.clone()],
        false,
        Some(whole.data.len() as i64 + 7),
    );
    registry::push(&reg.http, "imgcache/short", "v1", &img);
    let r = format!("{}/imgcache/short:v1", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    assert!(e.contains("its descriptor declares"), "{e}");
    assert_cache_empty_of_layers(&env, &registry::sha256(&whole.data));

    // A path that climbs out of the root.
    let mut tar = Vec::new();
    registry::raw_entry(
        &mut tar,
        "configs/a.json",
        tar::EntryType::Regular,
        "",
        b"{\"schema\":\"olm.package\",\"name\":\"a\"}",
    );
    registry::raw_entry(
        &mut tar,
        "configs/../../escape.json",
        tar::EntryType::Regular,
        "",
        b"{}",
    );
    registry::end_tar(&mut tar);
    let layer = LayerBlob::gz(&tar);
    let img = registry::image(&catalog_labels(), vec![layer.clone()], false);
    registry::push(&reg.http, "imgcache/escape", "v1", &img);
    let r = format!("{}/imgcache/escape:v1", reg.http);
    let e = error_text(&env.run(&["render", &r, "--use-http"]));
    assert!(e.contains("leaves the image root"), "{e}");
    assert_cache_empty_of_layers(&env, &registry::sha256(&layer.data));
    assert!(!env.path("cache/escape.json").exists());
    assert!(!env.path("cache/images/escape.json").exists());
}

#[test]
fn concurrent_cold_renders_share_one_entry() {
    let r = push_catalog("imgcache/concurrent", PKG);
    let env = Env::new();
    let mut children = Vec::new();
    for _ in 0..2 {
        let mut c = env.command(opm());
        c.args(["render", &r, "--use-http", "-o", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        children.push(c.spawn().unwrap());
    }
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_ok(&o);
        assert_eq!(stdout(&o), want_json(PKG));
    }
    assert_eq!(trees(&env).len(), 1);
    assert!(list(&env.path("cache/images/tmp")).is_empty());
    env.assert_tmp_clean();
}

#[test]
fn cache_max_size_evicts_least_recently_used() {
    let a = push_catalog("imgcache/evict-a", PKG);
    let b = push_catalog("imgcache/evict-b", "kubevirt-wol");
    let env = Env::new();
    assert_ok(&env.run(&["render", &a, "--use-http"]));
    assert_eq!(trees(&env).len(), 1);
    // A bound of 1 byte: rendering b evicts everything but b's own entry.
    let o = env.run(&["render", &b, "--use-http", "--cache-max-size=1"]);
    assert_ok(&o);
    let t = trees(&env);
    assert_eq!(t.len(), 1);
    assert!(t[0].join("root/configs").is_dir());
    let o = env.run(&["render", &b, "--use-http", "--cache-max-size=1"]);
    assert_ok(&o);
    assert_eq!(trees(&env), t);
    // The default keeps both.
    assert_ok(&env.run(&["render", &a, "--use-http"]));
    assert_eq!(trees(&env).len(), 2);
    let e = error_text(&env.run(&["render", &a, "--use-http", "--cache-max-size=lots"]));
    assert!(e.contains("--cache-max-size"), "{e}");
}

/// A catalog image's files are parsed while its layers unpack; what the
/// render then writes is what the finished tree, read as a directory,
/// gives: a later layer's replacement, whiteout and `.indexignore` win,
/// blobs that only load order separates keep walk order whatever the tar
/// order, and a version of a file that a later layer replaced does not
/// fail the render even when it does not parse.
#[test]
fn files_parsed_while_unpacking_render_as_the_directory() {
    let reg = registry();
    let env = Env::new();
    let package = |name: &str| format!("{{\"schema\":\"olm.package\",\"name\":\"{name}\"}}\n");
    let note = |n: u32| format!("{{\"schema\":\"example.note\",\"package\":\"p\",\"n\":{n}}}\n");
    let regular = tar::EntryType::Regular;
    let mut first = Vec::new();
    for (name, data) in [
        ("configs/p/b.json", package("p") + &note(2)),
        ("configs/p/a.json", note(1)),
        ("configs/p/c.json", "{\"schema\": ".to_string()),
        ("configs/p/gone.json", note(99)),
        ("configs/p/ignored.json", note(98)),
        ("configs/q.json", package("q")),
    ] {
        registry::raw_entry(&mut first, name, regular, "", data.as_bytes());
    }
    registry::end_tar(&mut first);
    let mut second = Vec::new();
    registry::raw_entry(
        &mut second,
        "configs/p/c.json",
        regular,
        "",
        note(3).as_bytes(),
    );
    registry::raw_entry(&mut second, "configs/p/.wh.gone.json", regular, "", b"");
    registry::raw_entry(
        &mut second,
        "configs/.indexignore",
        regular,
        "",
        b"ignored.json\n",
    );
    registry::end_tar(&mut second);
    let layers = vec![LayerBlob::gz(&first), LayerBlob::gz(&second)];
    let img = registry::image(&catalog_labels(), layers, false);
    registry::push(&reg.http, "imgcache/streamed", "v1", &img);
    let r = format!("{}/imgcache/streamed:v1", reg.http);

    // The same tree as a directory.
    let dir = env.path("dir");
    std::fs::create_dir_all(dir.join("p")).unwrap();
    for (name, data) in [
        ("p/b.json", package("p") + &note(2)),
        ("p/a.json", note(1)),
        ("p/c.json", note(3)),
        ("p/ignored.json", note(98)),
        ("q.json", package("q")),
        (".indexignore", "ignored.json\n".to_string()),
    ] {
        std::fs::write(dir.join(name), data).unwrap();
    }
    let want = env.run(&["render", dir.to_str().unwrap(), "-o", "json"]);
    assert_ok(&want);
    let want = stdout(&want);
    let order: Vec<usize> = ["\"n\": 1", "\"n\": 2", "\"n\": 3"]
        .iter()
        .map(|n| want.find(n).unwrap_or_else(|| panic!("{n} in {want}")))
        .collect();
    assert!(order.is_sorted(), "walk order: {want}");
    assert!(!want.contains("98") && !want.contains("99"), "{want}");

    for run in ["cold", "warm"] {
        let got = env.run(&["render", &r, "--use-http", "-o", "json"]);
        assert_ok(&got);
        assert_eq!(stdout(&got), want, "{run}");
    }
    assert_eq!(trees(&env).len(), 1);

    // A file that does not parse in the finished tree: the error names it
    // in the cached tree, cold as warm.
    let mut bad = Vec::new();
    registry::raw_entry(
        &mut bad,
        "configs/a.json",
        regular,
        "",
        package("a").as_bytes(),
    );
    registry::raw_entry(&mut bad, "configs/b.json", regular, "", b"{\"schema\": ");
    registry::end_tar(&mut bad);
    let img = registry::image(&catalog_labels(), vec![LayerBlob::gz(&bad)], false);
    registry::push(&reg.http, "imgcache/streamed-bad", "v1", &img);
    let r = format!("{}/imgcache/streamed-bad:v1", reg.http);
    let cold = error_text(&env.run(&["render", &r, "--use-http"]));
    assert!(cold.contains("/configs/b.json"), "{cold}");
    let warm = error_text(&env.run(&["render", &r, "--use-http"]));
    assert_eq!(cold, warm);
}
