//! Serve soak (issue 12, point 4), run by `scripts/soak`; loopback only,
//! not in CI. Starts `opm serve` on a catalog, has CLIENTS concurrent
//! clients mix every `api.Registry` RPC for SECONDS, samples the server's
//! RSS, then sends SIGTERM while ListBundles streams are in flight: every
//! stream must end complete, the server must exit 0, no RPC may fail, and
//! the RSS after warm-up must not keep growing.
//!
//!     serve_soak OPM CATALOG [CLIENTS] [SECONDS]
//!
//! Prints one summary line; exits 1 when a check fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opm::serve::proto::api;
use opm::serve::proto::api::registry_client::RegistryClient;
use tonic::transport::Channel;

/// Clients sharing one HTTP/2 connection.
const PER_CONNECTION: usize = 10;
/// RSS is compared from this point on.
const WARM_UP: Duration = Duration::from_secs(15);

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// What the clients ask about: (package, channel, head bundle) triples.
async fn targets(c: &mut RegistryClient<Channel>) -> Vec<(String, String, String)> {
    let mut names = c
        .list_packages(api::ListPackageRequest {})
        .await
        .expect("ListPackages")
        .into_inner();
    let mut out = Vec::new();
    while let Some(n) = names.message().await.expect("ListPackages stream") {
        let p = c
            .get_package(api::GetPackageRequest { name: n.name })
            .await
            .expect("GetPackage")
            .into_inner();
        for ch in p.channels {
            out.push((p.name.clone(), ch.name, ch.csv_name));
        }
    }
    out
}

/// An answer that depends on the data (nothing replaces a head, no
/// provider of a GVK) is not a failure; a transport or server error is.
fn answered<T>(r: Result<T, tonic::Status>) -> Result<(), tonic::Status> {
    match r {
        Err(e) if !matches!(e.code(), tonic::Code::Unknown | tonic::Code::NotFound) => Err(e),
        _ => Ok(()),
    }
}

/// One RPC of the mix; `Err` on any failure. GetBundleForChannel is
/// deprecated in registry.proto, but OLM still calls it.
#[allow(deprecated)]
async fn one(
    c: &mut RegistryClient<Channel>,
    n: usize,
    (pkg, ch, csv): &(String, String, String),
) -> Result<(), tonic::Status> {
    match n % 10 {
        0 => {
            let mut s = c
                .list_packages(api::ListPackageRequest {})
                .await?
                .into_inner();
            while s.message().await?.is_some() {}
        }
        1 => drop(
            c.get_package(api::GetPackageRequest { name: pkg.clone() })
                .await?,
        ),
        2 => drop(
            c.get_bundle_for_channel(api::GetBundleInChannelRequest {
                pkg_name: pkg.clone(),
                channel_name: ch.clone(),
            })
            .await?,
        ),
        3 => drop(
            c.get_bundle(api::GetBundleRequest {
                pkg_name: pkg.clone(),
                channel_name: ch.clone(),
                csv_name: csv.clone(),
            })
            .await?,
        ),
        4 => {
            // Nothing replaces a head: an error, not a failure.
            let r = c
                .get_channel_entries_that_replace(api::GetAllReplacementsRequest {
                    csv_name: csv.clone(),
                })
                .await;
            if let Ok(s) = r {
                let mut s = s.into_inner();
                while s.message().await?.is_some() {}
            } else {
                answered(r)?;
            }
        }
        5 => {
            answered(
                c.get_bundle_that_replaces(api::GetReplacementRequest {
                    csv_name: csv.clone(),
                    pkg_name: pkg.clone(),
                    channel_name: ch.clone(),
                })
                .await,
            )?;
        }
        6 => {
            let r = c
                .get_channel_entries_that_provide(api::GetAllProvidersRequest {
                    group: "operators.coreos.com".into(),
                    version: "v1alpha1".into(),
                    kind: "ClusterServiceVersion".into(),
                    plural: String::new(),
                })
                .await;
            if let Ok(s) = r {
                let mut s = s.into_inner();
                while s.message().await?.is_some() {}
            } else {
                answered(r)?;
            }
        }
        7 => {
            answered(
                c.get_latest_channel_entries_that_provide(api::GetLatestProvidersRequest {
                    group: "operators.coreos.com".into(),
                    version: "v1alpha1".into(),
                    kind: "ClusterServiceVersion".into(),
                    plural: String::new(),
                })
                .await,
            )?;
        }
        8 => {
            answered(
                c.get_default_bundle_that_provides(api::GetDefaultProviderRequest {
                    group: "operators.coreos.com".into(),
                    version: "v1alpha1".into(),
                    kind: "ClusterServiceVersion".into(),
                    plural: String::new(),
                })
                .await,
            )?;
        }
        _ => {
            // The heavy stream, one call in 50.
            if n % 50 == 9 {
                let mut s = c
                    .list_bundles(api::ListBundlesRequest {})
                    .await?
                    .into_inner();
                while s.message().await?.is_some() {}
            } else {
                drop(
                    c.get_package(api::GetPackageRequest { name: pkg.clone() })
                        .await?,
                );
            }
        }
    }
    Ok(())
}

async fn connect(port: u16) -> RegistryClient<Channel> {
    let ch = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    RegistryClient::new(ch).max_decoding_message_size(usize::MAX)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: serve_soak OPM CATALOG [CLIENTS] [SECONDS]");
        std::process::exit(2);
    }
    let clients: usize = args.get(3).map_or(1000, |s| s.parse().expect("CLIENTS"));
    let seconds: u64 = args.get(4).map_or(60, |s| s.parse().expect("SECONDS"));
    let cache = tempfile::tempdir().expect("tempdir");
    // With --cache-dir and without --cache-only, serve enforces the cache's
    // integrity (as Go does): build it first.
    let built = Command::new(&args[1])
        .args(["serve", &args[2], "--cache-only", "--cache-dir"])
        .arg(cache.path())
        .status()
        .expect("build the cache");
    assert!(built.success(), "serve --cache-only failed");
    let mut child = Command::new(&args[1])
        .args(["serve", &args[2], "-p", "127.0.0.1:0", "--pprof-addr", ""])
        .arg("--cache-dir")
        .arg(cache.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start opm serve");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let port: u16 = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("server did not start");
        if line.contains("serving registry") {
            let p = line.split("port=").nth(1).expect("port field");
            break p
                .split(' ')
                .next()
                .expect("port")
                .parse()
                .expect("port number");
        }
    };
    // Drain the per-call log records so the pipe never blocks the server.
    let panics = Arc::new(AtomicU64::new(0));
    {
        let panics = panics.clone();
        std::thread::spawn(move || {
            for line in rx {
                if line.contains("panicked") {
                    panics.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let mut c = connect(port).await;
    let targets = Arc::new(targets(&mut c).await);
    let ops = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for conn in 0..clients.div_ceil(PER_CONNECTION) {
        let client = connect(port).await;
        for k in 0..PER_CONNECTION.min(clients - conn * PER_CONNECTION) {
            let (mut client, targets, ops, errors) =
                (client.clone(), targets.clone(), ops.clone(), errors.clone());
            let seed = conn * PER_CONNECTION + k;
            tasks.push(tokio::spawn(async move {
                let mut n = seed;
                while Instant::now() < deadline {
                    let t = &targets[n % targets.len()];
                    if let Err(e) = one(&mut client, n, t).await
                        && errors.fetch_add(1, Ordering::Relaxed) < 5
                    {
                        eprintln!("rpc {}: {e}", n % 10);
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                    n = n
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407)
                        >> 1;
                }
            }));
        }
    }
    // RSS: at the end of warm-up, the highest after it, and at the end.
    let sampler = tokio::spawn(async move {
        let mut warm = 0;
        let mut max_after = 0;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let r = rss_kib(pid);
            if start.elapsed() >= WARM_UP {
                if warm == 0 {
                    warm = r;
                }
                max_after = max_after.max(r);
            }
        }
        (warm, max_after, rss_kib(pid))
    });
    for t in tasks {
        t.await.expect("client task");
    }
    let (warm, max_after, end) = sampler.await.expect("sampler");
    let total = ops.load(Ordering::Relaxed);

    // SIGTERM while ListBundles streams are in flight.
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut c = connect(port).await;
        streams.push(tokio::spawn(async move {
            let mut s = c
                .list_bundles(api::ListBundlesRequest {})
                .await?
                .into_inner();
            let mut n = 0u64;
            while s.message().await?.is_some() {
                n += 1;
            }
            Ok::<u64, tonic::Status>(n)
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let term = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let mut counts = Vec::new();
    let mut broken = 0;
    for s in streams {
        match s.await.expect("stream task") {
            Ok(n) => counts.push(n),
            Err(e) => {
                broken += 1;
                eprintln!("stream during SIGTERM: {e}");
            }
        }
    }
    let code = child.wait().expect("wait").code();
    counts.sort_unstable();
    counts.dedup();
    let errs = errors.load(Ordering::Relaxed);
    let panicked = panics.load(Ordering::Relaxed);
    // Growth allowance: 10% of the warm RSS plus 8 MiB for allocator slack.
    let grew = end > warm + warm / 10 + 8192;
    println!(
        "clients={clients} seconds={seconds} rpcs={total} rpc/s={} errors={errs} \
         rss_kib_warm={warm} rss_kib_max={max_after} rss_kib_end={end} \
         sigterm_streams_complete={} broken={broken} distinct_lengths={} exit={code:?} panics={panicked}",
        total / seconds.max(1),
        20 - broken,
        counts.len()
    );
    let ok =
        errs == 0 && broken == 0 && counts.len() <= 1 && code == Some(0) && !grew && panicked == 0;
    std::process::exit(if ok { 0 } else { 1 });
}
