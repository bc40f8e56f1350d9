//! `opm version` in Go's format, with the commit and build date build.rs
//! records: in a git checkout the commit is `git rev-parse HEAD`.

use std::process::Command;

use super::util::opm;

// build.rs's date formatting, tested here since a build script has no tests.
#[allow(dead_code)]
#[path = "../../build.rs"]
mod build_script;

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line
        .find(&format!("{name}:\""))
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + name.len()
        + 2;
    let len = line[start..].find('"').unwrap();
    &line[start..start + len]
}

#[test]
fn version_names_the_checked_out_commit_and_a_build_date() {
    let out = Command::new(opm()).arg("version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with(&format!(
            "Version: version.Version{{OpmVersion:\"v{}\", GitCommit:\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );

    let date = field(&line, "BuildDate");
    let b = date.as_bytes();
    assert!(
        date.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[19] == b'Z'
            && date.bytes().filter(u8::is_ascii_digit).count() == 14,
        "BuildDate {date:?} is not Go's 2006-01-02T15:04:05Z"
    );

    // A build from a git checkout without OPM_GIT_COMMIT names HEAD; a
    // source tarball builds "unknown" (or the variable's value).
    let dir = env!("CARGO_MANIFEST_DIR");
    let head = Command::new("git")
        .args(["-C", dir, "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let toplevel = Command::new("git")
        .args(["-C", dir, "rev-parse", "--show-toplevel"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let own_checkout =
        toplevel.is_some_and(|t| std::fs::canonicalize(t).ok() == std::fs::canonicalize(dir).ok());
    match head {
        Some(head) if own_checkout && std::env::var_os("OPM_GIT_COMMIT").is_none() => {
            let head = String::from_utf8(head.stdout).unwrap();
            assert_eq!(field(&line, "GitCommit"), head.trim(), "{line}");
        }
        _ => assert!(!field(&line, "GitCommit").is_empty(), "{line}"),
    }
}

#[test]
fn build_dates_are_utc_in_gos_layout() {
    assert_eq!(build_script::rfc3339_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(
        build_script::rfc3339_utc(951_782_400),
        "2000-02-29T00:00:00Z"
    );
    assert_eq!(
        build_script::rfc3339_utc(1_700_000_000),
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        build_script::rfc3339_utc(4_107_542_399),
        "2100-02-28T23:59:59Z"
    );
}
