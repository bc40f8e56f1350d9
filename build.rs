//! Build-time version information for `opm version`: the commit and the
//! build date, passed to the crate as `OPM_GIT_COMMIT` and `OPM_BUILD_DATE`
//! (read with `option_env!` in src/commands/mod.rs).
//!
//! Where they come from, first match wins:
//! - commit: the `OPM_GIT_COMMIT` environment variable; else `git rev-parse
//!   HEAD` when the crate is its own git checkout; else "unknown".
//! - date: `OPM_BUILD_DATE` verbatim; else `SOURCE_DATE_EPOCH` (reproducible
//!   builds); else the time this script runs. Go's format, UTC:
//!   `2006-01-02T15:04:05Z`.
//!
//! Building from a source tarball without git never fails. To keep
//! `cargo build` incremental, the script reruns only when the checked-out
//! commit moves (`.git/HEAD`, the ref it names, packed refs) or one of the
//! variables changes, so the date is that of the first build of a commit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in ["OPM_GIT_COMMIT", "OPM_BUILD_DATE", "SOURCE_DATE_EPOCH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));

    let commit = match non_empty_env("OPM_GIT_COMMIT") {
        Some(c) => c,
        None => git_commit(&dir).unwrap_or_else(|| "unknown".into()),
    };
    let date = match non_empty_env("OPM_BUILD_DATE") {
        Some(d) => d,
        None => {
            let secs = match non_empty_env("SOURCE_DATE_EPOCH") {
                Some(s) => s
                    .trim()
                    .parse::<i64>()
                    .unwrap_or_else(|_| panic!("SOURCE_DATE_EPOCH is not a number: {s:?}")),
                None => SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            };
            rfc3339_utc(secs)
        }
    };
    println!("cargo:rustc-env=OPM_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=OPM_BUILD_DATE={date}");
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `git rev-parse HEAD` of the checkout at `dir`, registering the files
/// whose change means a new commit. `None` when git is missing or `dir` is
/// not the top of a work tree: a tarball unpacked inside some other
/// repository must not report that repository's commit.
fn git_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    // In a linked worktree HEAD lives in the worktree's git dir and the
    // branch ref in the common one; `--git-path` resolves both. A path
    // that does not exist would make cargo rerun the script on every
    // build, so only existing files are named.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        if let Some(p) = git(dir, &["rev-parse", "--git-path", &name]) {
            let p = dir.join(p);
            if p.is_file() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    Some(commit)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian,
/// UTC), without a date crate in the build graph.
pub(crate) fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from a day count (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
