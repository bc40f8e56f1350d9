//! `validate`: Go opm's message for every rule (testdata/validate/rules/),
//! and the located formats beyond Go opm (`-o text|github|sarif`,
//! `--all-errors`), and the JSON Schemas against real catalogs.

use std::path::Path;
use std::process::Command;

use opm::catalog::validate::{self, Options, Severity};
use opm::catalog::{LoadOptions, load_path_located};

use super::util::{opm, testdata};

fn report(dir: &Path, opts: Options) -> validate::Report {
    let loaded = load_path_located(
        dir,
        LoadOptions {
            keep_objects: true,
            ..Default::default()
        },
        opts.all_errors,
    )
    .unwrap();
    validate::validate(&loaded, opts)
}

/// Each fixture yields exactly the message Go opm prints (or passes).
#[test]
fn every_rule_gives_gos_message() {
    let root = testdata().join("validate/rules");
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 30, "fixtures missing: {}", names.len());
    let mut failures = Vec::new();
    for case in names {
        let expected = std::fs::read_to_string(case.join("expected")).unwrap();
        let got = report(&case.join("catalog"), Options::default())
            .go_message
            .unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{}:\n  want {expected:?}\n  got  {got:?}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `opm validate` loads with the schemas checked per blob as it loads and
/// then drops what its checks no longer read (CSV metadata, icons, related
/// images): every report, Go's message, errors and warnings, is the one of
/// a full load checked afterwards.
#[test]
fn dropping_checked_metadata_changes_no_report() {
    let mut dirs = Vec::new();
    for group in ["validate/rules", "lints"] {
        for e in std::fs::read_dir(testdata().join(group)).unwrap() {
            let case = e.unwrap().path();
            for sub in ["catalog", "bad", "good"] {
                if case.join(sub).is_dir() {
                    dirs.push(case.join(sub));
                }
            }
        }
    }
    // Go's own verdicts on mutated catalogs (invalid related images…).
    for e in std::fs::read_dir(testdata().join("cases/validate-mutants")).unwrap() {
        let input = e.unwrap().path().join("input");
        if input.is_dir() {
            dirs.push(input);
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 90, "fixtures missing: {}", dirs.len());
    let opts = Options {
        all_errors: true,
        schemas: true,
        lints: true,
    };
    let mut flagged = 0;
    for dir in dirs {
        let full = report(&dir, opts);
        let lean = load_path_located(
            &dir,
            LoadOptions {
                keep_objects: false,
                drop_object_payloads: true,
                drop_metadata: true,
                check_schemas: true,
            },
            true,
        )
        .unwrap();
        assert!(lean.schemas_checked);
        let lean = validate::validate(&lean, opts);
        assert_eq!(full.go_message, lean.go_message, "{}", dir.display());
        assert_eq!(full.diagnostics, lean.diagnostics, "{}", dir.display());
        flagged += full
            .diagnostics
            .iter()
            .filter(|d| d.rule == "schema")
            .count();
    }
    // The comparison covers schema warnings too.
    assert!(flagged > 0);
}

/// `--all-errors` never changes Go's verdict, and reports errors exactly
/// when Go does (it may say one thing where Go says two: an entry with no
/// bundle is reported once, not as the phantom bundle Go's model makes).
#[test]
fn all_errors_keeps_gos_message() {
    let root = testdata().join("validate/rules");
    for e in std::fs::read_dir(&root).unwrap() {
        let dir = e.unwrap().path().join("catalog");
        let go = report(&dir, Options::default());
        let all = report(
            &dir,
            Options {
                all_errors: true,
                schemas: false,
                lints: false,
            },
        );
        assert_eq!(go.go_message, all.go_message, "{}", dir.display());
        assert_eq!(all.diagnostics.is_empty(), go.passed(), "{}", dir.display());
    }
}

fn located() -> std::path::PathBuf {
    testdata().join("validate/located/catalog")
}

fn run_validate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(opm())
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The 1-based line where the n-th blob (counting from 1) of a file starts.
fn blob_line(file: &Path, n: usize) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| *l == "{")
        .nth(n - 1)
        .unwrap()
        .0
        + 1
}

#[test]
fn three_errors_in_two_files_are_located_in_stable_order() {
    let dir = located();
    let a = dir.join("a/catalog.json");
    let b = dir.join("b/catalog.json");
    let d = dir.to_str().unwrap();
    let want = format!(
        "{}:{}: error[skip-range]: invalid package \"a\": invalid channel \"stable\": invalid bundle \"a.v1.1.0\": invalid skipRange \"<<1.1.0\": Could not parse Range \"<<1.1.0\": Could not parse comparator \"<<\" in \"<<1.1.0\"\n\
         {}:{}: error[upgrade-graph]: invalid package \"b\": invalid channel \"stable\": multiple channel heads found in graph: b.v1.0.0, b.v2.0.0\n\
         {}:{}: error[image-reference]: package \"b\" bundle \"b.v2.0.0\" image: invalid image pull spec \"Quay.io/Ex/B:v2\": invalid reference format: repository name must be lowercase\n",
        a.display(),
        blob_line(&a, 2),
        b.display(),
        blob_line(&b, 2),
        b.display(),
        blob_line(&b, 4),
    );
    for _ in 0..3 {
        let (code, out, err) = run_validate(&[d, "--all-errors"]);
        assert_eq!((code, err.as_str()), (1, ""));
        assert_eq!(out, want);
    }
    // Without --all-errors: Go's verdict (the structural error stops it).
    let (code, out, _) = run_validate(&[d, "-o", "text"]);
    assert_eq!(code, 1);
    assert_eq!(out, want.lines().nth(2).unwrap().to_string() + "\n");
    // And the default output is Go's one fatal line with that message.
    let (code, out, err) = run_validate(&[d]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains(
        "level=fatal msg=\"package \\\"b\\\" bundle \\\"b.v2.0.0\\\" image: invalid image pull spec"
    ));
}

#[test]
fn github_annotations_escape_and_locate() {
    let dir = located();
    let (code, out, _) = run_validate(&[dir.to_str().unwrap(), "-o", "github", "--all-errors"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    let a = dir.join("a/catalog.json");
    assert!(
        lines[0].starts_with(&format!(
            "::error file={},line={},title=opm validate%3A skip-range::invalid package \"a\"",
            a.display(),
            blob_line(&a, 2)
        )),
        "{}",
        lines[0]
    );
}

#[test]
fn github_multiline_messages_stay_one_line() {
    let dir = testdata().join("validate/rules/entry-without-bundle-earlier-channel/catalog");
    let (code, out, _) = run_validate(&[dir.to_str().unwrap(), "-o", "github"]);
    assert_eq!(code, 1);
    // Two errors, plus the lints' warnings.
    let errors = out.lines().filter(|l| l.starts_with("::error file="));
    assert_eq!(errors.count(), 2, "{out}");
    assert!(out.lines().all(|l| l.starts_with("::")), "{out}");
}

#[test]
fn sarif_output_validates_against_the_sarif_schema() {
    let text =
        std::fs::read_to_string(testdata().join("validate/sarif/sarif-schema-2.1.0.json")).unwrap();
    // The published schema's `language` pattern has a stray `]` that the
    // validator's strict regex check refuses; it does not concern our output.
    let text = text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$""#,
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    for (dir, args, results) in [
        (located(), vec!["--all-errors"], 3),
        (located(), vec![], 1),
        (testdata().join("validate/rules/ok/catalog"), vec![], 0),
    ] {
        let mut all = vec![dir.to_str().unwrap(), "-o", "sarif"];
        all.extend(args);
        let (code, out, _) = run_validate(&all);
        assert_eq!(code, if results == 0 { 0 } else { 1 });
        let log: serde_json::Value = serde_json::from_str(&out).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let res = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(res.len(), results);
        for r in res {
            let id = r["ruleId"].as_str().unwrap();
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(log["runs"][0]["tool"]["driver"]["rules"][i]["id"], id);
            assert!(
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap()
                    > 0
            );
        }
    }
}

#[test]
fn success_prints_nothing_in_every_format() {
    let dir = testdata().join("validate/rules/ok/catalog");
    let d = dir.to_str().unwrap();
    for args in [
        vec![d],
        vec![d, "-o", "text"],
        vec![d, "-o", "github"],
        vec![d, "--all-errors"],
    ] {
        let (code, out, err) = run_validate(&args);
        assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""), "{args:?}");
    }
}

#[test]
fn bad_output_value_keeps_gos_message() {
    let dir = testdata().join("validate/rules/ok/catalog");
    let (code, _, err) = run_validate(&[dir.to_str().unwrap(), "-o", "xml"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next().unwrap(),
        "Error: invalid --output value \"xml\", expected (json|yaml)"
    );
}

/// Every corpus catalog (the copies in testdata/corpus) and every fixture Go
/// accepts passes the JSON Schemas: a schema never rejects what Go accepts.
#[test]
fn schemas_accept_what_go_accepts() {
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    for group in ["community-v4.16", "community-v4.20"] {
        for e in std::fs::read_dir(testdata().join("corpus").join(group)).unwrap() {
            dirs.push(e.unwrap().path());
        }
    }
    dirs.push(testdata().join("corpus/serve-deprecations"));
    for e in std::fs::read_dir(testdata().join("validate/rules")).unwrap() {
        let case = e.unwrap().path();
        if std::fs::read_to_string(case.join("expected"))
            .unwrap()
            .is_empty()
        {
            dirs.push(case.join("catalog"));
        }
    }
    assert!(dirs.len() >= 10);
    for dir in dirs {
        let r = report(
            &dir,
            Options {
                all_errors: true,
                schemas: true,
                lints: false,
            },
        );
        assert!(r.passed(), "{}: {:?}", dir.display(), r.go_message);
        let warnings: Vec<_> = r
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect();
        assert!(warnings.is_empty(), "{}: {warnings:#?}", dir.display());
    }
}

/// The schemas do flag what they are for, as warnings beside Go's errors.
#[test]
fn schemas_flag_bad_blobs_as_warnings() {
    let dir = testdata().join("validate/rules/version-prerelease-leading-zero/catalog");
    let r = report(
        &dir,
        Options {
            all_errors: false,
            schemas: true,
            lints: false,
        },
    );
    let w: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].rule, "schema");
    assert!(
        w[0].message.starts_with("/properties/0/value/version: "),
        "{}",
        w[0].message
    );
    assert!(w[0].location.as_ref().unwrap().line.is_some());
}

/// The same over the whole shared conformance corpus, when it is checked
/// out beside the project (CI has it; a bare clone skips this).
#[test]
fn schemas_accept_the_whole_shared_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: no {}", corpus.display());
        return;
    }
    let mut dirs = vec![corpus.join("serve-deprecations")];
    for group in ["community-v4.16", "community-v4.20"] {
        for e in std::fs::read_dir(corpus.join(group)).unwrap() {
            dirs.push(e.unwrap().path());
        }
    }
    for dir in dirs {
        let r = report(
            &dir,
            Options {
                all_errors: true,
                schemas: true,
                lints: false,
            },
        );
        assert!(r.passed(), "{}: {:?}", dir.display(), r.go_message);
        assert!(
            r.diagnostics.is_empty(),
            "{}: {:#?}",
            dir.display(),
            r.diagnostics
        );
    }
}
