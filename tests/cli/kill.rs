//! Crash-safe writes (issue 12): `migrate`, `generate dockerfile`,
//! `index add --generate` and the serve cache, killed with SIGKILL at
//! random moments, leave each output either absent or complete (equal to
//! what an uninterrupted run writes). 200 kills in all; the seed is printed
//! on failure (set OPM_KILL_SEED to replay it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::util::{Env, opm, testdata};

/// Kills per command.
const KILLS: usize = 50;

/// A small xorshift generator: the tests need no statistical quality, only
/// a seed that can be replayed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("OPM_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("OPM_KILL_SEED={seed}");
        Rng(seed | 1)
    }

    /// A delay in [0, max].
    fn delay(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        max.mul_f64((self.0 % 10_000) as f64 / 10_000.0)
    }
}

/// Every file below `dir` (relative path → bytes); `None` when `dir` is
/// absent.
fn tree(dir: &Path) -> Option<BTreeMap<PathBuf, Vec<u8>>> {
    if !dir.exists() {
        return None;
    }
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    Some(out)
}

/// Run `cmd` to the end; how long it ran once started (timed as
/// [`kill_after`] times it: `spawn` returns only after the exec).
fn timed(mut cmd: Command) -> Duration {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "{cmd:?}: {status}");
    start.elapsed()
}

/// Start `cmd` and SIGKILL it after `delay` if it is still running;
/// whether it was killed.
fn kill_after(mut cmd: Command, delay: Duration) -> bool {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1).min(delay));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    killed
}

/// Run `make(i)` once to the end as the reference, then `KILLS` times
/// killed at a random moment of (a little more than) its run time, calling
/// `check(i)` after each.
fn kill_loop(make: impl Fn(usize) -> Command, check: impl Fn(usize)) {
    let mut rng = Rng::new();
    // The fastest of three runs (the first may pay for a cold cache, any
    // may meet a busy machine), so that most kills land inside a run.
    let full = [usize::MAX - 2, usize::MAX - 1, usize::MAX]
        .map(|i| timed(make(i)))
        .into_iter()
        .min()
        .unwrap_or_default()
        .mul_f64(1.2);
    let mut killed = 0;
    for i in 0..KILLS {
        killed += usize::from(kill_after(make(i), rng.delay(full)));
        check(i);
    }
    eprintln!("{killed} of {KILLS} runs killed while running");
    // Most delays fall inside the run: a test whose kills all came too
    // late would check nothing.
    assert!(killed >= KILLS / 4, "only {killed} of {KILLS} runs killed");
}

#[test]
fn migrate_output_is_absent_or_complete() {
    let env = Env::new();
    let catalog = testdata().join("corpus/community-v4.20");
    let out = |i: usize| env.path(&format!("work/out-{i}"));
    let make = |i: usize| {
        let mut c = env.command(opm());
        c.arg("migrate").arg(&catalog).arg(out(i));
        c
    };
    let reference = || tree(&out(usize::MAX)).unwrap();
    kill_loop(make, |i| {
        if let Some(got) = tree(&out(i)) {
            assert!(got == reference(), "out-{i} is incomplete");
        }
    });
}

#[test]
fn generate_dockerfile_is_absent_or_complete() {
    let env = Env::new();
    let wd = |i: usize| env.path(&format!("work/wd-{i}"));
    let make = |i: usize| {
        std::fs::create_dir_all(wd(i).join("catalog")).unwrap();
        let mut c = env.command(opm());
        c.current_dir(wd(i))
            .args(["generate", "dockerfile", "catalog"]);
        c
    };
    let dockerfile = |i: usize| wd(i).join("catalog.Dockerfile");
    let reference = std::cell::OnceCell::new();
    kill_loop(make, |i| {
        let expected = reference.get_or_init(|| std::fs::read(dockerfile(usize::MAX)).unwrap());
        if let Ok(got) = std::fs::read(dockerfile(i)) {
            assert!(&got == expected, "wd-{i}: partial Dockerfile");
        }
    });
}

#[test]
fn index_add_generate_is_absent_or_complete() {
    let env = Env::new();
    let syn = testdata().join("bundles-synthetic");
    let bundles: Vec<String> = ["syn-dflt-1.0.0", "syn-dflt-1.1.0", "syn-dflt-2.0.0"]
        .iter()
        .map(|d| syn.join(d).display().to_string())
        .collect();
    let bundles = bundles.join(",");
    let wd = |i: usize| env.path(&format!("work/wd-{i}"));
    let make = |i: usize| {
        std::fs::create_dir_all(wd(i)).unwrap();
        let mut c = env.command(opm());
        c.current_dir(wd(i)).args([
            "index",
            "add",
            "--generate",
            "--bundles",
            &bundles,
            "--out-dir",
            "out",
        ]);
        c
    };
    kill_loop(make, |i| {
        let reference = wd(usize::MAX);
        if let Some(got) = tree(&wd(i).join("out")) {
            assert!(
                got == tree(&reference.join("out")).unwrap(),
                "wd-{i}: incomplete catalog"
            );
        }
        if let Ok(got) = std::fs::read(wd(i).join("index.Dockerfile")) {
            assert!(
                got == std::fs::read(reference.join("index.Dockerfile")).unwrap(),
                "wd-{i}: partial Dockerfile"
            );
        }
    });
}

#[test]
fn serve_cache_is_absent_or_complete() {
    let env = Env::new();
    let catalog = testdata().join("corpus/community-v4.20");
    let cache = |i: usize| env.path(&format!("work/cache-{i}"));
    let serve = |i: usize, enforce: bool| {
        let mut c = env.command(opm());
        // No pprof listener: parallel tests would race for its port.
        c.arg("serve")
            .arg(&catalog)
            .args(["--pprof-addr", ""])
            .arg("--cache-only")
            .arg("--cache-dir")
            .arg(cache(i));
        if enforce {
            c.arg("--cache-enforce-integrity");
        }
        c
    };
    kill_loop(
        |i| serve(i, false),
        |i| {
            // Whatever is there must be a whole cache (or nothing).
            let has_cache = tree(&cache(i)).is_some_and(|files| {
                files
                    .keys()
                    .any(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            });
            if has_cache {
                let o = serve(i, true).output().unwrap();
                assert!(
                    o.status.success(),
                    "cache-{i}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        },
    );
}
