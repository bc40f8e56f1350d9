//! `opm generate dockerfile` beyond the conformance cases: image flags,
//! label parsing, path edge cases, and that a failure never leaves a file
//! behind (spec §6).

use std::path::Path;
use std::process::{Command, Output};

use super::util::opm;

/// A temp dir holding an empty `catalog/` directory.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("catalog")).unwrap();
    dir
}

fn generate(dir: &Path, args: &[&str]) -> Output {
    Command::new(opm())
        .args(["generate", "dockerfile"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const HEAD: &str =
    "# The builder image is expected to contain\n# /bin/opm (with serve subcommand)\n";

#[test]
fn scratch_base_image() {
    let dir = workdir();
    let out = generate(dir.path(), &["catalog", "-i", "scratch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("catalog.Dockerfile")).unwrap();
    assert!(text.starts_with(HEAD));
    assert!(text.contains(
        "\nFROM scratch\n# OLMv0 CatalogSources that use binary-less images must set:\n\
         # spec:\n#   grpcPodConfig:\n#     extractContent:\n#       catalogDir: /configs\n\
         #       cacheDir: /tmp/cache\n\nCOPY --from=builder /configs /configs\n"
    ));
    assert!(!text.contains("ENTRYPOINT"));
    assert!(text.ends_with("LABEL operators.operatorframework.io.index.configs.v1=/configs\n"));
}

#[test]
fn builder_image_scratch_is_refused_before_anything_else() {
    let dir = workdir();
    let out = generate(dir.path(), &["nope", "-b", "scratch", "-l", "novalue"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("Error: invalid builder image: \"scratch\"\n"));
    assert_eq!(entries(dir.path()), ["catalog"]);
}

#[test]
fn deprecated_binary_image_sets_base_and_builder() {
    let dir = workdir();
    let out = generate(
        dir.path(),
        &["catalog", "--binary-image", "example.com/opm:v1"],
    );
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "Flag --binary-image has been deprecated, use --base-image instead\n"
    );
    let text = std::fs::read_to_string(dir.path().join("catalog.Dockerfile")).unwrap();
    assert!(text.contains("FROM example.com/opm:v1 as builder\n"));
    assert!(text.contains("\nFROM example.com/opm:v1\n# The base image"));

    // An explicit builder image wins; `scratch` slips past the check when
    // it comes from --binary-image (Go quirk).
    let dir = workdir();
    let out = generate(dir.path(), &["catalog", "--binary-image", "scratch"]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join("catalog.Dockerfile")).unwrap();
    assert!(text.contains("FROM scratch as builder\n"));
    assert!(text.contains("\nFROM scratch\n# OLMv0"));

    let dir = workdir();
    let out = generate(
        dir.path(),
        &["catalog", "--binary-image", "x:1", "-b", "y:2"],
    );
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join("catalog.Dockerfile")).unwrap();
    assert!(text.contains("FROM y:2 as builder\n") && text.contains("\nFROM x:1\n"));
}

#[test]
fn base_image_only_keeps_default_builder() {
    let dir = workdir();
    let out = generate(dir.path(), &["catalog", "-i", "x:1"]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join("catalog.Dockerfile")).unwrap();
    assert!(text.contains("FROM quay.io/operator-framework/opm:latest as builder\n"));
    assert!(text.contains("\nFROM x:1\n"));
}

#[test]
fn labels_csv_repeated_last_wins_sorted() {
    let dir = workdir();
    let out = generate(
        dir.path(),
        &[
            "catalog",
            "-l",
            "z=1,a=2",
            "--extra-labels",
            "\"m=x,y\"",
            "-l",
            "a=3=4",
            "-l",
            "",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("catalog.Dockerfile")).unwrap();
    assert!(text.ends_with(
        "LABEL operators.operatorframework.io.index.configs.v1=/configs\n\n\
         # Set other custom labels\nLABEL \"a\"=\"3=4\"\nLABEL \"m\"=\"x,y\"\nLABEL \"z\"=\"1\"\n"
    ));
}

#[test]
fn label_errors() {
    let dir = workdir();
    let out = generate(dir.path(), &["catalog", "-l", "a=b,novalue"]);
    assert!(stderr(&out).starts_with("Error: invalid label \"novalue\"\n"));
    let out = generate(dir.path(), &["catalog", "-l", "a=\"b\""]);
    assert!(stderr(&out).starts_with(
        "Error: invalid argument \"a=\\\"b\\\"\" for \"-l, --extra-labels\" flag: \
         parse error on line 1, column 3: bare \" in non-quoted-field\n"
    ));
    assert_eq!(entries(dir.path()), ["catalog"]);
}

#[test]
fn dot_and_nested_paths() {
    let dir = workdir();
    // Go names the file `fmt.Sprintf("%s.Dockerfile", ".")`: `..Dockerfile`
    // (spec §6 says `.Dockerfile`, which the Go code does not produce).
    let out = generate(&dir.path().join("catalog"), &["."]);
    assert!(out.status.success());
    assert_eq!(entries(&dir.path().join("catalog")), ["..Dockerfile"]);
    let text = std::fs::read_to_string(dir.path().join("catalog/..Dockerfile")).unwrap();
    assert!(text.contains("\nADD . /configs\n"));

    std::fs::create_dir_all(dir.path().join("a/b/c")).unwrap();
    let out = generate(dir.path(), &["./a//b/../b/c/"]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join("a/b/c.Dockerfile")).unwrap();
    assert!(text.contains("\nADD c /configs\n"));
}

#[test]
fn root_must_be_a_directory() {
    let dir = workdir();
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let out = generate(dir.path(), &["file"]);
    assert!(stderr(&out).starts_with("Error: provided root path \"file\" is not a directory\n"));
    // A path under a file fails at the Dockerfile check, as in Go.
    let out = generate(dir.path(), &["file/sub"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("stat file/sub.Dockerfile: not a directory"),
        "{}",
        stderr(&out)
    );
    assert_eq!(entries(dir.path()), ["catalog", "file"]);
}

#[test]
fn empty_base_image_leaves_no_file() {
    // Go creates the Dockerfile and then fails validation, leaving it empty;
    // here nothing is left behind.
    let dir = workdir();
    let out = generate(dir.path(), &["catalog", "-i", ""]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).trim_end().ends_with(" base image is unset"),
        "{}",
        stderr(&out)
    );
    assert_eq!(entries(dir.path()), ["catalog"]);
}

#[cfg(unix)]
#[test]
fn file_mode_follows_umask_and_no_temp_files_remain() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir();
    let out = Command::new("bash")
        .arg("-c")
        .arg("umask 027 && exec \"$0\" generate dockerfile catalog")
        .arg(opm())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(dir.path().join("catalog.Dockerfile"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    assert_eq!(entries(dir.path()), ["catalog", "catalog.Dockerfile"]);
}

#[cfg(unix)]
#[test]
fn never_writes_through_a_symlink() {
    let dir = workdir();
    std::os::unix::fs::symlink("elsewhere", dir.path().join("catalog.Dockerfile")).unwrap();
    let out = generate(dir.path(), &["catalog"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("file already exists"),
        "{}",
        stderr(&out)
    );
    assert_eq!(entries(dir.path()), ["catalog", "catalog.Dockerfile"]);
    assert!(!dir.path().join("elsewhere").exists());
}
