//! Replays testdata/cases/<group>/<name>/ exactly as the shared conformance
//! runner does: `cmd` runs under bash in a fresh temp dir holding a copy of
//! `input/`, with `$OPM` and `$CORPUS` set; exit code and stdout must match
//! byte for byte; stderr is compared after dropping Go's log prefixes and
//! the tree glyphs of opm's error tree (whose sibling order Go randomises).

use std::path::Path;
use std::process::Command;

use sha2::Digest;

use super::util::{opm, testdata};

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// Go's log prefixes are dropped and a logrus msg="..." is unquoted, then
/// each line loses its leading spaces and tree glyphs.
fn norm_lines(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let mut line = line.to_string();
        let b = line.as_bytes();
        if b.len() >= 20
            && b[4] == b'/'
            && b[7] == b'/'
            && b[10] == b' '
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b' '
        {
            line = line[20..].to_string();
        }
        if line.starts_with("time=\"")
            && let Some(end) = line[6..].find("\" ")
        {
            let rest = &line[6 + end + 2..];
            if let Some(i) = rest.find(" msg=") {
                let (level, msg) = (&rest[..i], &rest[i + 5..]);
                let msg = if msg.len() >= 2 && msg.starts_with('"') && msg.ends_with('"') {
                    unquote(&msg[1..msg.len() - 1])
                } else {
                    msg.to_string()
                };
                line = format!("{level} msg={msg}");
            }
        }
        for part in line.split('\n') {
            let p = part.trim_start_matches([' ', '\t', '│', '├', '└', '─']);
            if !p.is_empty() {
                out.push(p.to_string());
            }
        }
    }
    out
}

fn unquote(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o)
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Run one case; `None` when it passes, else why not.
fn run_case(case: &Path, corpus: &Path) -> Option<String> {
    let work = tempfile::tempdir().unwrap();
    if case.join("input").is_dir() {
        copy_dir(&case.join("input"), &work.path().join("input"));
    }
    let out = Command::new("bash")
        .arg(case.join("cmd"))
        .current_dir(work.path())
        .env("OPM", opm())
        .env("CORPUS", corpus)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let expected = |name: &str| -> Option<Vec<u8>> {
        std::fs::read(case.join(name)).ok().map(|b| {
            String::from_utf8_lossy(&b)
                .replace("$CORPUS", &corpus.display().to_string())
                .into_bytes()
        })
    };
    let want_exit: i32 = expected("exit")
        .map(|b| String::from_utf8_lossy(&b).trim().parse().unwrap())
        .unwrap_or(0);
    let code = out.status.code().unwrap_or(-1);
    if code != want_exit {
        return Some(format!(
            "exit {code}, want {want_exit}: {}",
            norm_lines(&out.stderr).last().cloned().unwrap_or_default()
        ));
    }
    if let Some(want) = expected("stdout")
        && want != out.stdout
    {
        let (w, g) = (
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(&out.stdout),
        );
        let line = w
            .lines()
            .zip(g.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Some(format!(
            "stdout differs at line {}: want {:?} got {:?}",
            line + 1,
            w.lines().nth(line).unwrap_or(""),
            g.lines().nth(line).unwrap_or("")
        ));
    }
    if let Some(want) = expected("stdout.sha256") {
        let got: String = sha2::Sha256::digest(&out.stdout)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if String::from_utf8_lossy(&want).trim() != got {
            return Some(format!(
                "stdout sha256 differs ({} bytes)",
                out.stdout.len()
            ));
        }
    }
    if let Some(want) = expected("stderr.head") {
        let (w, g) = (norm_lines(&want), norm_lines(&out.stderr));
        if w.first() != g.first() {
            return Some(format!(
                "stderr first line: want {:?} got {:?}",
                w.first(),
                g.first()
            ));
        }
    }
    if let Some(want) = expected("stderr.lines") {
        let (mut w, mut g) = (norm_lines(&want), norm_lines(&out.stderr));
        w.sort();
        g.sort();
        if w != g {
            return Some(format!("stderr lines: want {w:?} got {g:?}"));
        }
    }
    None
}

fn run_group(group: &str) {
    let dir = testdata().join("cases").join(group);
    let corpus = testdata().join("corpus");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());
    let failures: Vec<String> = names
        .iter()
        .filter_map(|c| {
            run_case(c, &corpus)
                .map(|why| format!("{}: {why}", c.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} {group} cases failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

macro_rules! groups {
    ($($name:ident => $group:literal),* $(,)?) => {
        $(#[test] fn $name() { run_group($group); })*
    };
}

groups! {
    cli => "cli",
    init => "init",
    generate_dockerfile => "generate-dockerfile",
    render_fbc_yaml => "render-fbc-yaml",
    render_fbc_json => "render-fbc-json",
    render_fbc_migrate => "render-fbc-migrate",
    render_multi => "render-multi",
    render_bundle => "render-bundle",
    migrate => "migrate",
    validate_ok => "validate-ok",
    validate_mutants => "validate-mutants",
    sqlite_render => "sqlite-render",
    sqlite_migrate => "sqlite-migrate",
    bundle_generate => "bundle-generate",
    alpha_list => "alpha-list",
    alpha_render_graph => "alpha-render-graph",
}
