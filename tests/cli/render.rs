//! `render` and `migrate` behaviour beyond Go opm: located errors, a
//! deterministic choice among several broken files, nothing half-written,
//! quiet broken pipes.

use std::process::{Command, Stdio};

use super::util::{opm, testdata};

const PKG: &str = r#"{"schema":"olm.package","name":"p","defaultChannel":"stable"}"#;
const CH: &str =
    r#"{"schema":"olm.channel","name":"stable","package":"p","entries":[{"name":"p.v1.0.0"}]}"#;
const BUNDLE: &str = r#"{"schema":"olm.bundle","name":"p.v1.0.0","package":"p","image":"quay.io/p/b:v1","properties":[{"type":"olm.package","value":{"packageName":"p","version":"1.0.0"}}]}"#;

fn catalog(files: &[(impl AsRef<str>, impl AsRef<str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name.as_ref());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.as_ref()).unwrap();
    }
    dir
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(opm()).args(args).output().unwrap()
}

#[test]
fn load_error_names_file_and_line_after_gos_message() {
    let dir = catalog(&[(
        "p/catalog.json",
        &format!("{PKG}\n{CH}\n{{\"schema\":\"olm.bundle\",}}\n"),
    )]);
    let out = run(&["render", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].ends_with(&format!(
            "render reference {:?}: invalid character '}}' looking for beginning of object key string",
            dir.path().to_str().unwrap()
        )),
        "{err}"
    );
    assert_eq!(
        lines[1],
        format!("  --> {}:3", dir.path().join("p/catalog.json").display())
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is printed when a reference fails"
    );
}

#[test]
fn first_broken_file_in_walk_order_is_reported_every_time() {
    let files: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("p{i:02}/catalog.json"),
                format!("{{\"schema\":\"olm.package\",\"name\":{i}}}"),
            )
        })
        .collect();
    let dir = catalog(&files);
    for _ in 0..5 {
        let out = run(&["render", dir.path().to_str().unwrap()]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("p00/catalog.json:1"), "{err}");
    }
}

#[test]
fn render_is_deterministic_across_files() {
    // Package-less blobs of one schema keep file order (Go's is random).
    let files: Vec<(String, String)> = (0..30)
        .map(|i| {
            (
                format!("f{i:02}.json"),
                format!("{{\"schema\":\"x.custom\",\"n\":{i}}}"),
            )
        })
        .collect();
    let dir = catalog(&files);
    let first = run(&["render", dir.path().to_str().unwrap()]).stdout;
    let text = String::from_utf8(first.clone()).unwrap();
    let ns: Vec<usize> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"n\": "))
        .map(|n| n.trim_end_matches(",").parse().unwrap())
        .collect();
    assert_eq!(ns, (0..30).collect::<Vec<_>>());
    for _ in 0..3 {
        assert_eq!(run(&["render", dir.path().to_str().unwrap()]).stdout, first);
    }
}

#[test]
fn broken_pipe_exits_quietly() {
    let mut child = Command::new(opm())
        .args([
            "render",
            testdata()
                .join("corpus/community-v4.16/odf-node-recovery-operator")
                .to_str()
                .unwrap(),
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn migrate_refuses_non_empty_output_dir() {
    let dir = catalog(&[("p/catalog.json", &format!("{PKG}\n{CH}\n{BUNDLE}\n"))]);
    let out_dir = catalog(&[("keep.txt", "keep")]);
    let out = run(&[
        "migrate",
        dir.path().to_str().unwrap(),
        out_dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("must be empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out_dir.path().join("keep.txt")).unwrap(),
        "keep"
    );
}

#[test]
fn failed_migrate_writes_nothing() {
    let dir = catalog(&[
        (
            "a/catalog.json",
            format!("{PKG}\n{CH}\n{BUNDLE}\n").as_str(),
        ),
        (
            "b/catalog.json",
            "{\"schema\":\"olm.package\",\"name\":\"b\"} {\"schema\": 1}",
        ),
    ]);
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("out");
    let out = run(&[
        "migrate",
        dir.path().to_str().unwrap(),
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(parent.path()).unwrap().count(),
        0,
        "no temporary left behind"
    );
}

#[test]
fn migrate_writes_one_folder_per_package() {
    let dir = catalog(&[
        (
            "p/catalog.json",
            format!("{PKG}\n{CH}\n{BUNDLE}\n").as_str(),
        ),
        ("loose.json", r#"{"schema":"x.custom"}"#),
    ]);
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("out");
    let out = run(&[
        "migrate",
        dir.path().to_str().unwrap(),
        target.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = run(&["render", dir.path().join("p").to_str().unwrap()]).stdout;
    assert_eq!(
        std::fs::read(target.join("p/catalog.json")).unwrap(),
        rendered
    );
    assert_eq!(
        std::fs::read_to_string(target.join("catalog.json")).unwrap(),
        "{\n    \"schema\": \"x.custom\"\n}\n"
    );
}

/// Regression (issue 12): a JSON document nested deeper than serde_json's
/// 128 levels but within Go's 10000, after the first document of its file,
/// loads as Go loads it (it was `recursion limit exceeded`); the documents
/// after it load too, and an unknown property's deep value is not decoded.
#[test]
fn nesting_between_128_and_10000_levels_loads() {
    let doc = |n: usize| {
        format!(
            concat!(
                r#"{{"schema":"olm.package","name":"foo","defaultChannel":"s"}}"#,
                "\n",
                r#"{{"schema":"olm.channel","package":"foo","name":"s","entries":[{{"name":"foo.v1"}}]}}"#,
                "\n",
                r#"{{"schema":"olm.bundle","package":"foo","name":"foo.v1","image":"q.io/x/foo:v1","properties":[{{"type":"olm.package","value":{{"packageName":"foo","version":"1.0.0"}}}},{{"type":"x.deep","value":{}{}}}]}}"#,
                "\n",
                r#"{{"schema":"example.com/after","package":"foo","name":"n"}}"#,
                "\n"
            ),
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let shallow = catalog(&[("foo/catalog.json", doc(300))]);
    let o = run(&["render", shallow.path().to_str().unwrap(), "-o", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("example.com/after"));
    assert_eq!(out.matches('[').count(), 300 + 2, "{}", &out[..200]);
    // 3 levels around the value: 9,997 in all, within Go's 10000.
    let deep = catalog(&[("foo/catalog.json", doc(9_994))]);
    for format in ["json", "text"] {
        let o = run(&["validate", deep.path().to_str().unwrap(), "-o", format]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let too_deep = catalog(&[("foo/catalog.json", doc(9_998))]);
    let o = run(&["validate", too_deep.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exceeded max depth"));
}

/// Regression (issue 12): JSON nested 100,000 levels deep is Go's
/// `exceeded max depth` error for every loading command, not a stack
/// overflow (SIGABRT).
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 100_000;
    let deep = format!(
        r#"{{"schema":"olm.package","name":"p","x":{}{}}}"#,
        "[".repeat(n),
        "]".repeat(n)
    );
    let dir = catalog(&[("p/catalog.json", deep)]);
    let d = dir.path().to_str().unwrap();
    let out = dir.path().join("out");
    for args in [
        vec!["render", d],
        vec!["validate", d],
        vec!["migrate", d, out.to_str().unwrap()],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("exceeded max depth"), "{args:?}: {e}");
    }
    assert!(!out.exists());
}
