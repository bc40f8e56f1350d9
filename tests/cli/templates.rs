//! `opm alpha render-template` and `convert-template`: the recorded Go
//! outputs in testdata/templates/{render-template,convert-template}/ are
//! replayed as the shared conformance runner does, with the synthetic
//! bundles (testdata/templates/bundles/) pushed to the real test registry
//! as `<registry>/synthetic/<dir>:v1`. Beyond Go: errors point at the
//! template line, and a warm blob cache makes no blob request.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use super::registry::{self, registry};
use super::util::{Env, opm, testdata};

fn root() -> PathBuf {
    testdata().join("templates")
}

/// Push every synthetic bundle once per test run; the registry's host.
fn pushed() -> &'static str {
    static PUSHED: OnceLock<String> = OnceLock::new();
    PUSHED.get_or_init(|| {
        let reg = registry();
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("bundles"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for d in dirs {
            let name = d.file_name().unwrap().to_str().unwrap().to_string();
            let img = registry::bundle_image(&d);
            registry::push(&reg.http, &format!("synthetic/{name}"), "v1", &img);
        }
        reg.http.clone()
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Replay every scenario of `group`: `cmd` under bash, `$REGISTRY` in the
/// template replaced, output normalised back; exit code, stdout and the
/// stderr before cobra's `Usage:` line must equal the records.
fn replay(group: &str) -> usize {
    let host = pushed();
    let dir = root().join(group);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let case = dir.join(name);
        let env = Env::new();
        let work = env.path("work");
        let mut expected_name = String::new();
        for e in std::fs::read_dir(&case).unwrap() {
            let p = e.unwrap().path();
            let file = p.file_name().unwrap().to_str().unwrap().to_string();
            if file.starts_with("template.") {
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("$REGISTRY", host);
                std::fs::write(work.join(&file), t).unwrap();
            } else if file.starts_with("expected.") {
                expected_name = file;
            }
        }
        let o = env
            .command("bash")
            .arg(case.join("cmd"))
            .env("OPM", opm())
            .env("REGISTRY", host)
            .env("CORPUS", root().join("corpus"))
            .output()
            .unwrap();
        let norm = |b: &[u8]| text(b).replace(host, "$REGISTRY");
        let want_exit: i32 = std::fs::read_to_string(case.join("exit"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut why = Vec::new();
        if o.status.code() != Some(want_exit) {
            why.push(format!("exit {:?}, want {want_exit}", o.status.code()));
        }
        let want_out = std::fs::read_to_string(case.join(&expected_name)).unwrap();
        if norm(&o.stdout) != want_out {
            why.push(format!("stdout differs from {expected_name}"));
        }
        if let Ok(want_err) = std::fs::read_to_string(case.join("stderr.txt")) {
            let err = norm(&o.stderr);
            let head: String = err
                .split_inclusive('\n')
                .take_while(|l| l.trim_end_matches('\n') != "Usage:")
                .collect();
            if head != want_err {
                why.push(format!("stderr {head:?}, want {want_err:?}"));
            }
        }
        if !why.is_empty() {
            failures.push(format!("{group}/{name}: {}", why.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    names.len()
}

#[test]
fn render_template_replays_go() {
    assert_eq!(replay("render-template"), 20);
}

#[test]
fn convert_template_replays_go() {
    assert_eq!(replay("convert-template"), 4);
}

fn write_template(env: &Env, name: &str, body: &str) -> PathBuf {
    let p = env.path("work").join(name);
    std::fs::write(&p, body.replace("$REGISTRY", pushed())).unwrap();
    p
}

#[test]
fn errors_point_at_the_template_line() {
    let env = Env::new();
    let t = write_template(
        &env,
        "t.yaml",
        "schema: olm.semver\nstable:\n  bundles:\n  - image: $REGISTRY/synthetic/syn-graph-1.0.0:v1\n  - image: $REGISTRY/synthetic/syn-dflt-1.0.0:v1\n",
    );
    let o = env.run_work(&[
        "alpha",
        "render-template",
        t.to_str().unwrap(),
        "--use-http",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("Error: rendering template: render: unable to post-process bundle info: bundle \"syn-dflt\" does not belong to this package: \"syn-graph\"\nUsage:\n"),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("  --> {}:5\n", t.display())),
        "{err}"
    );

    let t = write_template(
        &env,
        "b.yaml",
        "schema: olm.template.basic\nentries:\n- schema: olm.package\n  name: p\n- schema: olm.bundle\n  name: p.v1\n  image: x\n  properties: []\n  package: p\n",
    );
    let o = env.run_work(&["alpha", "render-template", "basic", t.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert!(
        err.starts_with(
            "Error: rendering template: unexpected fields present in basic template bundle\n"
        ),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("  --> {}:6\n", t.display())),
        "{err}"
    );
}

#[test]
fn argument_and_flag_errors_are_gos() {
    let env = Env::new();
    let t = write_template(&env, "t.yaml", "schema: olm.semver\n");
    let first_line = |o: &Output| text(&o.stderr).lines().next().unwrap_or("").to_string();
    let o = env.run_work(&["alpha", "render-template", "a", "b", "c"]);
    assert_eq!(
        first_line(&o),
        "Error: accepts between 0 and 2 arg(s), received 3"
    );
    let o = env.run_work(&["alpha", "render-template", t.to_str().unwrap(), "-o", "xml"]);
    assert_eq!(
        first_line(&o),
        "Error: invalid --output value \"xml\", expected (json|yaml|mermaid)"
    );
    let o = env.run_work(&["alpha", "render-template", "basic", "missing.yaml"]);
    assert_eq!(
        first_line(&o),
        "Error: unable to open \"missing.yaml\": open missing.yaml: no such file or directory"
    );
    let o = env.run_work(&["alpha", "render-template", t.to_str().unwrap()]);
    assert_eq!(
        first_line(&o),
        "Error: rendering template: render: no bundles specified or no bundles could be rendered"
    );
    // `alpha` itself is hidden from the root help.
    let o = env.run_work(&["--help"]);
    assert!(!text(&o.stdout).contains("alpha"));
}

/// Rendering a basic template again with the same cache downloads no blob.
#[test]
fn warm_cache_makes_no_blob_requests() {
    let reg = registry();
    let env = Env::new();
    // Repositories of its own: other tests pull the synthetic ones.
    let mut body = String::from("schema: olm.template.basic\nentries:\n");
    for v in ["1.0.0", "1.0.1", "1.1.0", "2.0.0"] {
        let dir = root().join(format!("bundles/syn-graph-{v}"));
        let img = registry::bundle_image(&dir);
        registry::push(&reg.http, &format!("warm/syn-graph-{v}"), "v1", &img);
        body.push_str(&format!(
            "- schema: olm.bundle\n  image: $REGISTRY/warm/syn-graph-{v}:v1\n"
        ));
    }
    let t = write_template(&env, "t.yaml", &body);
    let args = [
        "alpha",
        "render-template",
        t.to_str().unwrap(),
        "--use-http",
    ];
    let cold = env.run_work(&args);
    assert!(cold.status.success(), "{}", text(&cold.stderr));
    let before = registry::blob_gets(&reg.http_log);
    let warm = env.run_work(&args);
    assert!(warm.status.success());
    assert_eq!(warm.stdout, cold.stdout);
    let gets = blob_gets_for(&reg.http_log, "warm/", before);
    assert_eq!(gets, 0, "warm render made {gets} blob requests");
    assert_eq!(
        text(&cold.stdout)
            .matches("\"schema\": \"olm.bundle\"")
            .count(),
        4
    );
}

/// Blob requests for repositories under `prefix` after the first `skip`
/// blob requests of the log.
fn blob_gets_for(log: &Path, prefix: &str, skip: usize) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
        .skip(skip)
        .filter(|l| l.contains(&format!("/v2/{prefix}")))
        .count()
}

#[test]
fn convert_then_render_round_trips_a_basic_catalog() {
    let env = Env::new();
    let catalog = root().join("corpus/community-v4.20/kubernaut-operator/catalog.yaml");
    let o = env.run_work(&[
        "alpha",
        "convert-template",
        "basic",
        "-o",
        "yaml",
        catalog.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let t = text(&o.stdout);
    assert!(t.starts_with("---\nentries:\n"));
    assert!(t.ends_with("schema: olm.template.basic\n\n"));
    // Bundles keep only schema and image.
    assert!(!t.contains("olm.bundle.object"));
    let o = env.run_work(&[
        "alpha",
        "convert-template",
        "basic",
        "-o",
        "toml",
        catalog.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("invalid --output value \"toml\", expected (json|yaml)"));
}
