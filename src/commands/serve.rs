//! `opm serve <dir>`: serve a file-based catalog over the operator-registry
//! gRPC API (and, beyond Go opm, catalogd's HTTP API). This layer turns
//! flags into [`ServeOptions`], writes the log records as logrus text lines
//! on stderr, and reports a fatal error as Go opm does.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{GlobalFlags, ServeArgs, exact_args};
use crate::output::{CmdResult, CommandError, Style, logrus_line_fields};
use crate::serve::log::{Level, Logger};
use crate::serve::{ServeOptions, run as serve};

pub fn run(args: ServeArgs, global: &GlobalFlags) -> CmdResult {
    exact_args(&args.args, 1).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let sink = Arc::new(|level: Level, msg: &str, fields: &[(String, String)]| {
        let line = logrus_line_fields(level.as_str(), msg, fields);
        // A closed stderr must not stop the server.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    });
    let log = Logger::new(
        if global.debug {
            Level::Debug
        } else {
            Level::Info
        },
        sink,
    );

    // Go opens the termination log at startup (creating it) and warns when
    // it cannot. Beyond Go, a fatal error is also written there, so that
    // Kubernetes shows it as the container's termination message.
    let mut termination = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.termination_log)
        .map_err(|_| log.warn("unable to set termination log path", &[]))
        .ok();

    let opts = ServeOptions {
        configs: PathBuf::from(&args.args[0]),
        port: args.port,
        cache_dir: (!args.cache_dir.is_empty()).then(|| PathBuf::from(&args.cache_dir)),
        cache_only: args.cache_only,
        cache_enforce_integrity: args.cache_enforce_integrity,
        pprof_addr: args.pprof_addr,
        http_addr: args.http_addr,
    };
    serve(&opts, &log).map_err(|e| {
        if let Some(f) = termination.as_mut() {
            let _ = writeln!(f, "{}", e.message);
        }
        CommandError::new(Style::Logrus, e.message).with_location(e.location)
    })
}
