//! Soak client for `opm serve` (scripts/soak-serve runs it; loopback only).
//!
//! `serve_soak --addr HOST:PORT --pid PID [--clients N] [--seconds S] [--sigterm]`
//!
//! 1. Learns the catalog (ListPackages, GetPackage, ListBundles).
//! 2. Runs N clients, one connection each, for S seconds, each cycling
//!    through every RPC of `api.Registry` with arguments taken from the
//!    catalog (and some that name nothing), checking each answer against
//!    the catalog. The server's RSS is sampled every second.
//! 3. With `--sigterm`: opens 50 ListBundles streams, sends the server
//!    SIGTERM once each has its first item, and checks that every stream
//!    still ends cleanly with all the bundles.
//!
//! Prints a summary; exits 1 when an answer was wrong, an RPC failed
//! unexpectedly, RSS grew by more than a fifth after warm-up, or a stream
//! broke.

// GetBundleForChannel is deprecated in registry.proto, but OLM still calls it.
#![allow(deprecated)]

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opm::serve::proto::api;
use opm::serve::proto::api::registry_client::RegistryClient;
use tonic::transport::Channel;

struct Args {
    addr: String,
    pid: u32,
    clients: usize,
    seconds: u64,
    sigterm: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: String::new(),
        pid: 0,
        clients: 1000,
        seconds: 60,
        sigterm: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--addr" => a.addr = val()?,
            "--pid" => a.pid = val()?.parse().map_err(|e| format!("--pid: {e}"))?,
            "--clients" => a.clients = val()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => a.seconds = val()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--sigterm" => a.sigterm = true,
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    if a.addr.is_empty() || a.pid == 0 {
        return Err(
            "usage: serve_soak --addr HOST:PORT --pid PID [--clients N] [--seconds S] [--sigterm]"
                .into(),
        );
    }
    Ok(a)
}

/// What the catalog holds, as the first answers gave it.
#[derive(Default)]
struct Catalog {
    packages: Vec<api::Package>,
    bundles: Vec<api::Bundle>,
}

/// One RPC with its arguments.
#[derive(Clone, Debug)]
enum Call {
    ListPackages,
    ListBundles,
    GetPackage(String),
    GetBundle(String, String, String),
    GetBundleForChannel(String, String),
    GetChannelEntriesThatReplace(String),
    GetBundleThatReplaces(String, String, String),
    GetChannelEntriesThatProvide(String, String, String),
    GetLatestChannelEntriesThatProvide(String, String, String),
    GetDefaultBundleThatProvides(String, String, String),
}

fn calls(cat: &Catalog) -> Vec<Call> {
    let mut calls = vec![
        Call::ListPackages,
        Call::GetPackage("no-such-package".into()),
    ];
    for p in &cat.packages {
        calls.push(Call::GetPackage(p.name.clone()));
        for c in &p.channels {
            calls.push(Call::GetBundleForChannel(p.name.clone(), c.name.clone()));
        }
    }
    for b in &cat.bundles {
        calls.push(Call::GetBundle(
            b.package_name.clone(),
            b.channel_name.clone(),
            b.csv_name.clone(),
        ));
        if !b.replaces.is_empty() {
            calls.push(Call::GetChannelEntriesThatReplace(b.replaces.clone()));
            calls.push(Call::GetBundleThatReplaces(
                b.replaces.clone(),
                b.package_name.clone(),
                b.channel_name.clone(),
            ));
        }
        for g in b.provided_apis.iter().take(2) {
            let gvk = (g.group.clone(), g.version.clone(), g.kind.clone());
            calls.push(Call::GetChannelEntriesThatProvide(
                gvk.0.clone(),
                gvk.1.clone(),
                gvk.2.clone(),
            ));
            calls.push(Call::GetLatestChannelEntriesThatProvide(
                gvk.0.clone(),
                gvk.1.clone(),
                gvk.2.clone(),
            ));
            calls.push(Call::GetDefaultBundleThatProvides(gvk.0, gvk.1, gvk.2));
        }
    }
    // The full list is heavy: one in 300 calls.
    let mut mixed = Vec::with_capacity(calls.len() + calls.len() / 300 + 1);
    for (i, c) in calls.into_iter().enumerate() {
        if i % 300 == 0 {
            mixed.push(Call::ListBundles);
        }
        mixed.push(c);
    }
    mixed
}

async fn connect(addr: &str) -> Result<RegistryClient<Channel>, String> {
    let ch = Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    Ok(RegistryClient::new(ch).max_decoding_message_size(usize::MAX))
}

async fn drain<T>(s: tonic::Response<tonic::Streaming<T>>) -> Result<Vec<T>, tonic::Status> {
    let mut s = s.into_inner();
    let mut out = Vec::new();
    while let Some(x) = s.message().await? {
        out.push(x);
    }
    Ok(out)
}

/// Run one call; `Err` only for an answer that is wrong or a failure that
/// the call's arguments do not explain.
async fn run(c: &mut RegistryClient<Channel>, call: &Call, cat: &Catalog) -> Result<(), String> {
    let wrong = |what: &str| Err(format!("{call:?}: {what}"));
    let status = |s: tonic::Status| format!("{call:?}: {} {}", s.code(), s.message());
    match call {
        Call::ListPackages => {
            let got = drain(
                c.list_packages(api::ListPackageRequest {})
                    .await
                    .map_err(status)?,
            )
            .await
            .map_err(status)?;
            if got.len() != cat.packages.len() {
                return wrong(&format!(
                    "{} packages, want {}",
                    got.len(),
                    cat.packages.len()
                ));
            }
        }
        Call::ListBundles => {
            let got = drain(
                c.list_bundles(api::ListBundlesRequest {})
                    .await
                    .map_err(status)?,
            )
            .await
            .map_err(status)?;
            if got != cat.bundles {
                return wrong("bundles differ from the first answer");
            }
        }
        Call::GetPackage(name) => {
            let r = c
                .get_package(api::GetPackageRequest { name: name.clone() })
                .await;
            match (r, cat.packages.iter().find(|p| &p.name == name)) {
                (Ok(got), Some(want)) if got.get_ref() == want => {}
                (Err(s), None) if miss(&s) => {}
                (r, _) => return wrong(&format!("{:?}", r.map(|_| ()))),
            }
        }
        Call::GetBundle(pkg, channel, csv) => {
            let got = c
                .get_bundle(api::GetBundleRequest {
                    pkg_name: pkg.clone(),
                    channel_name: channel.clone(),
                    csv_name: csv.clone(),
                })
                .await
                .map_err(status)?;
            let b = got.get_ref();
            if &b.csv_name != csv || &b.package_name != pkg || &b.channel_name != channel {
                return wrong("another bundle");
            }
        }
        Call::GetBundleForChannel(pkg, channel) => {
            let got = c
                .get_bundle_for_channel(api::GetBundleInChannelRequest {
                    pkg_name: pkg.clone(),
                    channel_name: channel.clone(),
                })
                .await
                .map_err(status)?;
            let head = cat
                .packages
                .iter()
                .find(|p| &p.name == pkg)
                .and_then(|p| p.channels.iter().find(|c| &c.name == channel))
                .map(|c| c.csv_name.clone());
            if Some(&got.get_ref().csv_name) != head.as_ref() {
                return wrong("not the channel head");
            }
        }
        Call::GetChannelEntriesThatReplace(name) => {
            let got = drain(
                c.get_channel_entries_that_replace(api::GetAllReplacementsRequest {
                    csv_name: name.clone(),
                })
                .await
                .map_err(status)?,
            )
            .await
            .map_err(status)?;
            // An entry replaces it, or skips it.
            let replaces_or_skips = |e: &api::ChannelEntry| {
                &e.replaces == name
                    || cat.bundles.iter().any(|b| {
                        b.csv_name == e.bundle_name
                            && b.package_name == e.package_name
                            && b.channel_name == e.channel_name
                            && b.skips.contains(name)
                    })
            };
            if got.is_empty() || !got.iter().all(replaces_or_skips) {
                return wrong("entries that do not replace it");
            }
        }
        Call::GetBundleThatReplaces(name, pkg, channel) => {
            let got = c
                .get_bundle_that_replaces(api::GetReplacementRequest {
                    csv_name: name.clone(),
                    pkg_name: pkg.clone(),
                    channel_name: channel.clone(),
                })
                .await
                .map_err(status)?;
            let b = got.get_ref();
            let ok = cat.bundles.iter().any(|x| {
                x.csv_name == b.csv_name
                    && &x.package_name == pkg
                    && &x.channel_name == channel
                    && (&x.replaces == name || x.skips.contains(name))
            });
            if !ok {
                return wrong("a bundle that does not replace it");
            }
        }
        Call::GetChannelEntriesThatProvide(g, v, k)
        | Call::GetLatestChannelEntriesThatProvide(g, v, k) => {
            let (group, version, kind) = (g.clone(), v.clone(), k.clone());
            let got = match call {
                Call::GetChannelEntriesThatProvide(..) => {
                    c.get_channel_entries_that_provide(api::GetAllProvidersRequest {
                        group,
                        version,
                        kind,
                        plural: String::new(),
                    })
                    .await
                }
                _ => {
                    c.get_latest_channel_entries_that_provide(api::GetLatestProvidersRequest {
                        group,
                        version,
                        kind,
                        plural: String::new(),
                    })
                    .await
                }
            };
            let got = match got {
                Ok(r) => drain(r).await.map_err(status)?,
                // The latest entries are the heads' only: maybe none.
                Err(s)
                    if miss(&s) && matches!(call, Call::GetLatestChannelEntriesThatProvide(..)) =>
                {
                    return Ok(());
                }
                Err(s) => return Err(status(s)),
            };
            if got.is_empty() && matches!(call, Call::GetChannelEntriesThatProvide(..)) {
                return wrong("no providers");
            }
        }
        Call::GetDefaultBundleThatProvides(g, v, k) => {
            let r = c
                .get_default_bundle_that_provides(api::GetDefaultProviderRequest {
                    group: g.clone(),
                    version: v.clone(),
                    kind: k.clone(),
                    plural: String::new(),
                })
                .await;
            match r {
                Ok(b) => {
                    let b = b.get_ref();
                    if !b
                        .provided_apis
                        .iter()
                        .any(|a| &a.kind == k && &a.group == g)
                    {
                        return wrong("a bundle that does not provide it");
                    }
                }
                // Only the head of a default channel counts.
                Err(s) if miss(&s) => {}
                Err(s) => return Err(status(s)),
            }
        }
    }
    Ok(())
}

/// A "nothing there" answer, with Go's codes (its errors without a status
/// code arrive as Unknown).
fn miss(s: &tonic::Status) -> bool {
    matches!(s.code(), tonic::Code::NotFound | tonic::Code::Unknown)
        && (s.message().contains("not found") || s.message().contains(" found that "))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn learn(addr: &str) -> Result<Catalog, String> {
    let mut c = connect(addr).await?;
    let names = drain(
        c.list_packages(api::ListPackageRequest {})
            .await
            .map_err(|e| e.to_string())?,
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut cat = Catalog::default();
    for n in names {
        let p = c
            .get_package(api::GetPackageRequest { name: n.name })
            .await
            .map_err(|e| e.to_string())?;
        cat.packages.push(p.into_inner());
    }
    cat.packages.sort_by(|a, b| a.name.cmp(&b.name));
    cat.bundles = drain(
        c.list_bundles(api::ListBundlesRequest {})
            .await
            .map_err(|e| e.to_string())?,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(cat)
}

async fn soak(a: &Args, cat: Arc<Catalog>) -> Result<(), String> {
    let calls = Arc::new(calls(&cat));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.clients {
        let mut client = connect(&a.addr).await?;
        let (calls, cat, done, failed, first_error) = (
            calls.clone(),
            cat.clone(),
            done.clone(),
            failed.clone(),
            first_error.clone(),
        );
        tasks.spawn(async move {
            let mut k = i.wrapping_mul(7919);
            while Instant::now() < deadline {
                let call = &calls[k % calls.len()];
                k += 1;
                match run(&mut client, call, &cat).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        first_error.lock().unwrap().get_or_insert(e);
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        });
    }
    // RSS every second; warm-up is the first quarter (at least 5 s).
    let start = Instant::now();
    let warm = Duration::from_secs((a.seconds / 4).max(5).min(a.seconds));
    let mut samples: Vec<(f64, u64)> = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(r) = rss_kib(a.pid) {
            samples.push((start.elapsed().as_secs_f64(), r));
        }
    }
    while tasks.join_next().await.is_some() {}
    let secs = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let f = failed.load(Ordering::Relaxed);
    let at_warm = samples
        .iter()
        .find(|(t, _)| *t >= warm.as_secs_f64())
        .map(|s| s.1)
        .unwrap_or(0);
    let after_max = samples
        .iter()
        .filter(|(t, _)| *t >= warm.as_secs_f64())
        .map(|s| s.1)
        .max()
        .unwrap_or(0);
    let last = samples.last().map(|s| s.1).unwrap_or(0);
    println!(
        "soak: {} clients, {secs:.1} s, {n} calls ({:.0}/s), {f} failed",
        a.clients,
        n as f64 / secs
    );
    println!(
        "rss: {} MiB after warm-up ({} s), max {} MiB after, {} MiB at the end",
        at_warm / 1024,
        warm.as_secs(),
        after_max / 1024,
        last / 1024
    );
    if let Some(e) = first_error.lock().unwrap().take() {
        return Err(format!("first failure: {e}"));
    }
    if at_warm > 0 && last > at_warm + at_warm / 5 {
        return Err(format!(
            "RSS grew after warm-up: {at_warm} KiB -> {last} KiB"
        ));
    }
    Ok(())
}

async fn sigterm_during_streams(a: &Args, cat: Arc<Catalog>) -> Result<(), String> {
    let mut streams = Vec::new();
    for _ in 0..50 {
        let mut c = connect(&a.addr).await?;
        let mut s = c
            .list_bundles(api::ListBundlesRequest {})
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        let first = s.message().await.map_err(|e| e.to_string())?;
        streams.push((c, s, first.into_iter().collect::<Vec<_>>()));
    }
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &a.pid.to_string()])
        .status()
        .map_err(|e| e.to_string())?
        .success();
    if !ok {
        return Err("kill -TERM failed".into());
    }
    let mut complete = 0;
    for (_c, mut s, mut got) in streams {
        loop {
            match s.message().await {
                Ok(Some(x)) => got.push(x),
                Ok(None) => break,
                Err(e) => return Err(format!("stream broken by SIGTERM: {e}")),
            }
        }
        if got != cat.bundles {
            return Err(format!(
                "stream ended with {} of {} bundles",
                got.len(),
                cat.bundles.len()
            ));
        }
        complete += 1;
    }
    println!("sigterm: {complete} of 50 ListBundles streams in flight completed");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("serve_soak: {e}");
            return ExitCode::from(2);
        }
    };
    let result = async {
        let cat = Arc::new(learn(&a.addr).await?);
        let pkgs: BTreeSet<&str> = cat.packages.iter().map(|p| p.name.as_str()).collect();
        println!(
            "catalog: {} packages, {} channel entries (ListBundles)",
            pkgs.len(),
            cat.bundles.len()
        );
        soak(&a, cat.clone()).await?;
        if a.sigterm {
            sigterm_during_streams(&a, cat).await?;
        }
        Ok::<(), String>(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve_soak: {e}");
            ExitCode::from(1)
        }
    }
}
