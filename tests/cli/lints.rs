//! `validate` lints (issue 11): one catalog per rule in testdata/lints/<rule>/,
//! `bad/` with the finding and `good/` its clean twin. Go's verdict is a
//! pass on both; the lint shows as a warning, and fails the run only with
//! `--strict` or `--error-on <rule>`.

use std::process::Output;

use opm::catalog::validate::lint;

use super::util::{Env, testdata};

fn validate(dir: &str, extra: &[&str]) -> Output {
    let mut args = vec!["validate", dir];
    args.extend_from_slice(extra);
    Env::new().run(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn case(rule: &str, kind: &str) -> String {
    testdata()
        .join("lints")
        .join(rule)
        .join(kind)
        .display()
        .to_string()
}

#[test]
fn every_rule_has_a_bad_and_a_good_catalog() {
    let mut failures = Vec::new();
    for rule in lint::IDS {
        let bad = case(rule, "bad");
        let good = case(rule, "good");
        let tag = format!("[{rule}]");

        // Default format: Go's pass (exit 0, stdout empty), warnings on stderr.
        let out = validate(&bad, &[]);
        let err = text(&out.stderr);
        let warnings: Vec<&str> = err.lines().collect();
        if out.status.code() != Some(0)
            || !out.stdout.is_empty()
            || warnings.is_empty()
            || !warnings.iter().all(|l| l.contains("level=warning msg="))
            || !warnings.iter().all(|l| l.contains(&tag))
            || !err.contains("catalog.yaml:")
        {
            failures.push(format!("{rule}: bad, default: {:?} {err}", out.status));
        }
        for flags in [&["--strict"][..], &["--error-on", rule]] {
            let out = validate(&bad, flags);
            let err = text(&out.stderr);
            if out.status.code() != Some(1) || !err.contains("level=fatal") {
                failures.push(format!("{rule}: bad, {flags:?}: {:?} {err}", out.status));
            }
        }
        // Failing on another rule only does not fail here.
        let other = lint::IDS.iter().find(|r| *r != rule).unwrap();
        let out = validate(&bad, &["--error-on", other]);
        if out.status.code() != Some(0) {
            failures.push(format!("{rule}: bad, --error-on {other}: {:?}", out.status));
        }
        let out = validate(&bad, &["-o", "text"]);
        let stdout = text(&out.stdout);
        let located = stdout
            .lines()
            .any(|l| l.contains("catalog.yaml:") && l.contains(&format!(": warning[{rule}]: ")));
        if out.status.code() != Some(0) || !located {
            failures.push(format!("{rule}: bad, -o text: {:?} {stdout}", out.status));
        }

        for flags in [&[][..], &["--strict"], &["-o", "text", "--strict"]] {
            let out = validate(&good, flags);
            if out.status.code() != Some(0) || !out.stderr.is_empty() || !out.stdout.is_empty() {
                failures.push(format!(
                    "{rule}: good, {flags:?}: {:?} {}{}",
                    out.status,
                    text(&out.stdout),
                    text(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_lint_is_a_documented_rule() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/validate.md"),
    )
    .unwrap();
    for rule in lint::IDS {
        assert!(
            opm::catalog::validate::RULES
                .iter()
                .any(|(id, _)| id == rule),
            "{rule} not in RULES"
        );
        assert!(
            docs.contains(&format!("### `{rule}`")),
            "{rule} not in docs"
        );
    }
}

#[test]
fn an_unknown_rule_is_a_usage_error() {
    let out = validate(
        &case("unknown-skips", "good"),
        &["--error-on", "unknown-skip"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("Error: unknown rule \"unknown-skip\" in --error-on"),
        "{err}"
    );
    assert!(err.contains("unknown-skips"), "{err}");
}

/// When Go fails, the default output is Go's alone (conformance compares
/// stderr); `-o json` stays Go's bytes unless --strict or --error-on asks.
#[test]
fn go_output_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let bad = std::fs::read_to_string(testdata().join("lints/unknown-skips/bad/catalog.yaml"))
        .unwrap()
        .replace("version: 2.0.0", "version: 1.0.0");
    std::fs::write(dir.path().join("catalog.yaml"), bad).unwrap();
    let out = validate(&dir.path().display().to_string(), &["--strict"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("level=fatal msg=\"invalid index:"), "{err}");

    let bad = case("unknown-skips", "bad");
    let out = validate(&bad, &["-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "{\n  \"passed\": true\n}\n");
    assert!(out.stderr.is_empty());
    let out = validate(&bad, &["-o", "json", "--strict"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.starts_with("{\n  \"passed\": false,\n  \"error\": {"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--strict: failing on 1 warning(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"warnings\": [\n    {\n      \"file\": "),
        "{stdout}"
    );
    assert!(stdout.contains("\"level\": \"warning\",\n      \"line\": 5,\n      \"message\": \"bundle \\\"foo.v2.0.0\\\" skips"), "{stdout}");
    assert!(
        stdout.contains("\"rule\": \"unknown-skips\"\n    }\n  ]\n}\n"),
        "{stdout}"
    );
    let out = validate(&bad, &["-o", "yaml", "--error-on", "unknown-replaces"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.starts_with("passed: true\nwarnings:\n- "),
        "{stdout}"
    );
}
