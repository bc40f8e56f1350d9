//! Shared helpers: where the binary and the test data are, and an
//! isolated environment to run it in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn opm() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_opm"))
}

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// An isolated environment for one opm run: its own HOME, TMPDIR and
/// image cache, and nothing inherited that could find credentials.
pub struct Env {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("opm-image-test-")
            .tempdir()
            .unwrap();
        for d in ["home", "tmp", "cache", "work"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let p = |s: &str| dir.path().join(s).display().to_string();
        let vars = vec![
            ("HOME".into(), p("home")),
            ("TMPDIR".into(), p("tmp")),
            ("OLM_CACHE_DIR".into(), p("cache")),
            ("XDG_RUNTIME_DIR".into(), p("home/run")),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ];
        Env { dir, vars }
    }

    pub fn path(&self, s: &str) -> PathBuf {
        self.dir.path().join(s)
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Env {
        self.vars.retain(|(key, _)| key != k);
        self.vars.push((k.into(), v.into()));
        self
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_in(&self.path("."), args)
    }

    /// Run in the working directory `cwd` (commands that write there).
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        Command::new(opm())
            .current_dir(cwd)
            .args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    }

    /// TMPDIR holds nothing once opm is done (the unpack root is removed).
    pub fn assert_tmp_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(self.path("tmp"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }

    /// Whether TMPDIR is empty.
    pub fn tmp_is_clean(&self) -> bool {
        std::fs::read_dir(self.path("tmp"))
            .unwrap()
            .next()
            .is_none()
    }

    /// `program` with this environment, run in `work/`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(self.path("work"))
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Run opm in `work/`.
    pub fn run_work(&self, args: &[&str]) -> Output {
        self.run_in(&self.path("work"), args)
    }
}
