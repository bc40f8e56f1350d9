//! `opm serve`: the operator-registry gRPC API (`api.Registry`) that OLM
//! catalog pods answer, from a file-based catalog, plus catalogd's HTTP API
//! (spec opm-validate-serve-grpc.md §3–§5).
//!
//! Startup (`run`) is synchronous: load or build the on-disk cache
//! ([`cache`]), then hand the opened cache to the async servers
//! ([`server`]). tokio and tonic stay inside this module; the catalog core
//! it builds on is synchronous.
//!
//! The library never prints: records go to the [`log::Logger`] the command
//! supplies, and failures come back as [`ServeError`] carrying Go opm's text.

pub mod cache;
pub mod csv;
pub mod grpc;
pub mod http;
pub mod log;
pub mod model;
pub mod proto;
pub mod registry;
mod server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cache::CacheError;
use log::Logger;

/// Everything `opm serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub configs: PathBuf,
    /// `-p`: a port (all interfaces, as Go) or `HOST:PORT`; `0` picks a free
    /// port, which the `serving registry` record reports.
    pub port: String,
    pub cache_dir: Option<PathBuf>,
    pub cache_only: bool,
    /// `None`: Go's default, `cache_dir given && !cache_only`.
    pub cache_enforce_integrity: Option<bool>,
    /// Empty disables it.
    pub pprof_addr: String,
    /// catalogd's HTTP API, off when `None`.
    pub http_addr: Option<String>,
}

/// A fatal serve error: Go opm's message, and where in the catalog.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServeError {
    pub message: String,
    pub location: Option<crate::catalog::Location>,
}

impl ServeError {
    fn new(message: impl Into<String>) -> ServeError {
        ServeError {
            message: message.into(),
            location: None,
        }
    }

    fn from_cache(prefix: &str, e: CacheError) -> ServeError {
        ServeError {
            location: e.location().cloned(),
            message: format!("{prefix}{e}"),
        }
    }
}

/// Parse `-p`/`--http-addr`: `PORT`, `:PORT` (all interfaces) or `HOST:PORT`.
/// Returns the candidate addresses to try in order.
pub fn listen_addrs(spec: &str) -> Result<Vec<SocketAddr>, String> {
    use std::net::ToSocketAddrs;
    let (host, port) = match spec.rsplit_once(':') {
        Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
        None => ("", spec),
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("listen tcp: address {spec}: invalid port"))?;
    if host.is_empty() {
        // Go's ":port" is every interface, IPv6 and IPv4.
        return Ok(vec![
            SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)),
            SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port)),
        ]);
    }
    (host, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .map_err(|e| format!("listen tcp {spec}: lookup {host}: {e}"))
}

/// Bind the first address that works, with Go's error text.
fn bind(spec: &str) -> Result<std::net::TcpListener, String> {
    let addrs = listen_addrs(spec)?;
    let shown = if spec.contains(':') {
        spec.to_string()
    } else {
        format!(":{spec}")
    };
    let mut last = None;
    for a in addrs {
        match std::net::TcpListener::bind(a) {
            Ok(l) => {
                l.set_nonblocking(true).map_err(|e| e.to_string())?;
                return Ok(l);
            }
            Err(e) => last = Some(e),
        }
    }
    let why = last
        .map(|e| crate::catalog::load::go_errno_text(&e))
        .unwrap_or_default();
    Err(format!("listen tcp {shown}: bind: {why}"))
}

/// What `run` loaded, for the servers.
struct Loaded {
    registry: registry::Registry,
}

fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

/// Load the cache (verifying it, or rebuilding it when allowed).
fn load(
    opts: &ServeOptions,
    cache_dir: &Path,
    enforce: bool,
    log: &Logger,
) -> Result<Loaded, ServeError> {
    let configs = opts.configs.display().to_string();
    let dir_field = cache_dir.display().to_string();
    let fields = |backend: &str| {
        vec![
            ("backend", backend.to_string()),
            ("cache", dir_field.clone()),
            ("configs", configs.clone()),
        ]
    };
    if dir_is_empty(cache_dir) {
        log.info(
            "cache directory is empty, using preferred backend",
            &fields(cache::BACKEND),
        );
    } else {
        log.info("found existing cache contents", &fields(cache::BACKEND));
    }
    let warn_stale = |e: &CacheError| {
        if let CacheError::Corrupt(why) = e {
            log.warn(
                "cache requires rebuild",
                &[
                    ("reason", why.clone()),
                    ("backend", cache::BACKEND.to_string()),
                    ("cache", dir_field.clone()),
                ],
            );
        }
        if let CacheError::Stale { existing, computed } = e {
            log.warn(
                "cache requires rebuild",
                &[
                    ("existingDigest", existing.clone()),
                    ("computedDigest", computed.clone()),
                    ("backend", cache::BACKEND.to_string()),
                    ("cache", dir_field.clone()),
                    ("configs", configs.clone()),
                ],
            );
        }
    };
    if enforce {
        let (digest, body) = rayon::join(
            || cache::catalog_digest(&opts.configs),
            || cache::check_body(cache_dir),
        );
        let digest = digest
            .map_err(|e| ServeError::from_cache("integrity check failed: compute digest: ", e))?;
        let c = cache::open_checked(cache_dir, &digest, body).map_err(|e| {
            warn_stale(&e);
            ServeError::from_cache("integrity check failed: ", e)
        })?;
        return Ok(Loaded {
            registry: registry::Registry::new(c),
        });
    }
    // A cache of ours that matches is used as is; anything else (missing,
    // stale, damaged, another implementation's) is rebuilt.
    if cache::cache_file(cache_dir).exists() {
        let (digest, body) = rayon::join(
            || cache::catalog_digest(&opts.configs),
            || cache::check_body(cache_dir),
        );
        let digest =
            digest.map_err(|e| ServeError::from_cache("failed to load or rebuild cache: ", e))?;
        match cache::open_checked(cache_dir, &digest, body) {
            Ok(c) => {
                return Ok(Loaded {
                    registry: registry::Registry::new(c),
                });
            }
            Err(e) => warn_stale(&e),
        }
    }
    log.info("building cache", &fields(cache::BACKEND));
    let built = cache::build(&opts.configs, cache_dir).map_err(|e| {
        ServeError::from_cache(
            "failed to load or rebuild cache: failed to rebuild cache: ",
            e,
        )
    })?;
    let c = cache::open(cache_dir, &built.digest)
        .map_err(|e| ServeError::from_cache("failed to load or rebuild cache: ", e))?;
    Ok(Loaded {
        registry: registry::Registry::new(c),
    })
}

/// Run `opm serve` until SIGTERM/SIGINT (or, with `cache_only`, until the
/// cache is ready).
pub fn run(opts: &ServeOptions, log: &Logger) -> Result<(), ServeError> {
    // Go opens pprof first, so a busy pprof port fails before any work.
    let pprof = if opts.pprof_addr.is_empty() {
        None
    } else {
        let l = bind(&opts.pprof_addr)
            .map_err(|e| ServeError::new(format!("could not start pprof endpoint: {e}")))?;
        log.info(
            "starting pprof endpoint",
            &[("address", opts.pprof_addr.clone())],
        );
        Some(l)
    };
    let enforce = opts
        .cache_enforce_integrity
        .unwrap_or(opts.cache_dir.is_some() && !opts.cache_only);
    if enforce && opts.cache_dir.is_none() {
        return Err(ServeError::new(
            "--cache-dir must be specified with --cache-enforce-integrity",
        ));
    }
    // Without --cache-dir the cache lives in a temporary directory removed
    // on exit (also on failure, unlike Go, which leaves it behind).
    let temp;
    let cache_dir: PathBuf = match &opts.cache_dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(|e| ServeError::new(crate::catalog::load::go_io_error("mkdir", d, &e)))?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("opm-serve-cache-")
                .tempdir()
                .map_err(|e| ServeError::new(format!("mkdir temp cache dir: {e}")))?;
            temp.path().to_path_buf()
        }
    };
    let loaded = load(opts, &cache_dir, enforce, log)?;
    if opts.cache_only {
        return Ok(());
    }
    let grpc = bind(&opts.port).map_err(|e| ServeError::new(format!("failed to listen: {e}")))?;
    let http = match &opts.http_addr {
        Some(a) => Some(bind(a).map_err(|e| ServeError::new(format!("failed to listen: {e}")))?),
        None => None,
    };
    server::serve(
        server::Listeners { grpc, http, pprof },
        Arc::new(loaded.registry),
        opts,
        &cache_dir,
        log,
    )
    .map_err(ServeError::new)
}
