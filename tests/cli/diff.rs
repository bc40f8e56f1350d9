//! `opm alpha diff` and `opm validate --previous`: one catalog pair per
//! `--previous` finding and its clean twin (testdata/previous/), the diff
//! goldens (testdata/diff/), images against directories, usage errors.

use std::path::PathBuf;
use std::process::Output;

use super::registry::{self, registry};
use super::util::{Env, testdata};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn previous_root() -> PathBuf {
    testdata().join("previous")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(previous_root())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `validate <case>/<state> --previous <case>/old`, run in testdata/previous.
fn validate_previous(case: &str, state: &str, extra: &[&str]) -> Output {
    let new = format!("{case}/{state}");
    let old = format!("{case}/old");
    let args = [
        &["validate", new.as_str(), "--previous", old.as_str()],
        extra,
    ]
    .concat();
    Env::new().run_in(&previous_root(), &args)
}

#[test]
fn each_previous_finding_is_an_error_and_its_clean_twin_passes() {
    let names = cases();
    assert_eq!(names.len(), 6, "{names:?}");
    for case in names {
        let o = validate_previous(&case, "new", &["-o", "text"]);
        assert_eq!(o.status.code(), Some(1), "{case}: {}", stderr(&o));
        let expected =
            std::fs::read_to_string(previous_root().join(&case).join("expected")).unwrap();
        // Lint warnings (the fixtures are minimal) are not the point here.
        let errors: String = stdout(&o)
            .lines()
            .filter(|l| l.contains(": error["))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(errors, expected, "{case}");
        assert!(
            expected.contains(&format!("error[previous-{case}]")),
            "{case}"
        );
        assert_eq!(expected.lines().count(), 1, "{case}");

        // The new state is valid for Go: only --previous fails it.
        let plain = Env::new().run_in(&previous_root(), &["validate", &format!("{case}/new")]);
        assert!(plain.status.success(), "{case}: {}", stderr(&plain));

        let clean = validate_previous(&case, "clean", &["-o", "text"]);
        assert!(clean.status.success(), "{case}: {}", stdout(&clean));
        assert!(!stdout(&clean).contains(": error["), "{case}");
        let clean = validate_previous(&case, "clean", &[]);
        assert!(clean.status.success(), "{case}: {}", stderr(&clean));
        assert!(!stderr(&clean).contains("level=fatal"), "{case}");
    }
}

#[test]
fn previous_findings_in_every_format() {
    let case = "upgrade-path-lost";
    let rule = "previous-upgrade-path-lost";
    let place = "upgrade-path-lost/new/catalog.yaml:5";

    let o = validate_previous(case, "new", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("level=fatal msg="), "{err}");
    assert!(
        err.contains(&format!("{place}: [{rule}] bundle \\\"foo.v1.0.0\\\"")),
        "{err}"
    );

    let o = validate_previous(case, "new", &["-o", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], false);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("{place}: [{rule}] ")), "{msg}");

    let o = validate_previous(case, "new", &["-o", "yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("passed: false") && out.contains(rule), "{out}");

    let o = validate_previous(case, "new", &["-o", "github"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with(&format!(
            "::error file=upgrade-path-lost/new/catalog.yaml,line=5,title=opm validate%3A {rule}::"
        )),
        "{}",
        stdout(&o)
    );

    let o = validate_previous(case, "new", &["-o", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], rule);
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(v["runs"][0]["tool"]["driver"]["rules"][index]["id"], rule);
}

/// Where Go fails the catalog too, Go's message stays the first line.
#[test]
fn gos_verdict_comes_first() {
    let env = Env::new();
    let new = env.path("work/new");
    std::fs::create_dir_all(&new).unwrap();
    let mut text =
        std::fs::read_to_string(previous_root().join("bundle-removed/new/catalog.yaml")).unwrap();
    // A bundle in no channel: Go's model check fails.
    text.push_str("---\nschema: olm.bundle\npackage: foo\nname: foo.v9.0.0\nimage: quay.io/example/foo-bundle:v9.0.0\nproperties:\n  - type: olm.package\n    value:\n      packageName: foo\n      version: 9.0.0\n");
    std::fs::write(new.join("catalog.yaml"), text).unwrap();
    let go = env.run_work(&["validate", "new"]);
    assert_eq!(go.status.code(), Some(1));
    let go_line = stderr(&go);
    let go_msg = &go_line[go_line.find("level=fatal").unwrap()..];

    let old = previous_root()
        .join("bundle-removed/old")
        .display()
        .to_string();
    let o = env.run_work(&["validate", "new", "--previous", &old]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].ends_with(go_msg.trim_end()), "{err}");
    assert!(lines[1].contains("[previous-bundle-removed]"), "{err}");

    let o = env.run_work(&["validate", "new", "--previous", &old, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    let go_json = env.run_work(&["validate", "new", "-o", "json"]);
    let go_v: serde_json::Value = serde_json::from_slice(&go_json.stdout).unwrap();
    let go_text = go_v["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("{go_text}\n")), "{msg}");
    assert!(msg.contains("[previous-bundle-removed]"), "{msg}");
}

/// Without --previous nothing changes (the conformance cases pin the rest).
#[test]
fn without_previous_output_is_gos() {
    let env = Env::new();
    let dir = previous_root().join("bundle-removed/new");
    let o = env.run_in(
        &previous_root(),
        &["validate", "bundle-removed/new", "-o", "json"],
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o), "{\n  \"passed\": true\n}\n");
    let o = env.run(&["validate", &dir.display().to_string()]);
    assert!(o.status.success());
    // Go's silence, but for our lint warnings.
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).lines().all(|l| l.contains("level=warning")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn previous_that_cannot_be_read_is_an_error() {
    let env = Env::new();
    let o = env.run_in(
        &previous_root(),
        &[
            "validate",
            "bundle-removed/new",
            "--previous",
            "bundle-removed/new/catalog.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("read previous catalog"),
        "{}",
        stderr(&o)
    );
    let bad = env.path("work/bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("x.json"), "{").unwrap();
    let o = env.run_in(
        &previous_root(),
        &[
            "validate",
            "bundle-removed/new",
            "--previous",
            &bad.display().to_string(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("read previous catalog"),
        "{}",
        stderr(&o)
    );
}

fn diff_dir() -> PathBuf {
    testdata().join("diff")
}

#[test]
fn diff_goldens() {
    for (format, file) in [
        ("text", "expected.text"),
        ("json", "expected.json"),
        ("markdown", "expected.md"),
    ] {
        let o = Env::new().run_in(&diff_dir(), &["alpha", "diff", "old", "new", "-o", format]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        let expected = std::fs::read_to_string(diff_dir().join(file)).unwrap();
        assert_eq!(stdout(&o), expected, "{format}");
    }
    // The default is text.
    let o = Env::new().run_in(&diff_dir(), &["alpha", "diff", "old", "new"]);
    assert_eq!(
        stdout(&o),
        std::fs::read_to_string(diff_dir().join("expected.text")).unwrap()
    );
}

#[test]
fn diff_of_a_catalog_with_itself_is_empty_and_exits_0() {
    let env = Env::new();
    for (format, want) in [
        ("text", "no differences\n"),
        ("markdown", "## Catalog diff\n\nNo differences.\n"),
    ] {
        let o = env.run_in(&diff_dir(), &["alpha", "diff", "new", "new", "-o", format]);
        assert!(o.status.success());
        assert_eq!(stdout(&o), want);
    }
    let o = env.run_in(&diff_dir(), &["alpha", "diff", "new", "new", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["changed"], false);
    assert_eq!(v["packages"], serde_json::json!([]));
    // Different catalogs exit 0 too.
    let o = env.run_in(&diff_dir(), &["alpha", "diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn diff_and_previous_read_catalog_images() {
    let env = Env::new();
    let reg = registry();
    registry::push(
        &reg.http,
        "diff/old",
        "v1",
        &registry::catalog_image(&diff_dir().join("old")),
    );
    let image = format!("{}/diff/old:v1", reg.http);
    let from_dir = env.run_in(&diff_dir(), &["alpha", "diff", "old", "new", "-o", "json"]);
    let from_image = env.run_in(
        &diff_dir(),
        &["alpha", "diff", &image, "new", "-o", "json", "--use-http"],
    );
    assert!(from_image.status.success(), "{}", stderr(&from_image));
    assert_eq!(stdout(&from_image), stdout(&from_dir));

    // --previous from an image: the removed package has no place in the new
    // catalog and the image's files are gone, so no location.
    let o = env.run_in(
        &diff_dir(),
        &[
            "validate",
            "new",
            "--previous",
            &image,
            "--use-http",
            "-o",
            "text",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("error[previous-package-removed]: package \"bar\""),
        "{out}"
    );
    assert!(
        out.contains("new/catalog.yaml:1: error[previous-bundle-removed]: bundle \"foo.v1.0.0\""),
        "{out}"
    );
    assert!(env.tmp_is_clean());
}

#[test]
fn diff_usage_errors() {
    let env = Env::new();
    let run = |args: &[&str]| env.run_in(&diff_dir(), args);
    let o = run(&["alpha", "diff", "old"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("Error: accepts 2 arg(s), received 1"),
        "{}",
        stderr(&o)
    );
    let o = run(&["alpha", "diff", "old", "new", "-o", "yaml"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    // A file is no catalog reference (and nothing here goes to a network).
    let o = run(&["alpha", "diff", "old", "new/catalog.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("render reference \\\"new/catalog.yaml\\\""),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}
