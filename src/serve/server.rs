//! The async part of `serve`: a tokio runtime running the gRPC server, the
//! optional catalogd HTTP API and the pprof stand-in, until SIGTERM or
//! SIGINT; then a graceful stop (spec §3.6): listeners close, calls in
//! flight (streams included) finish, and the process exits 0.

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::ServeOptions;
use super::grpc::{self, LogLayer};
use super::log::Logger;
use super::registry::Registry;

pub struct Listeners {
    pub grpc: std::net::TcpListener,
    pub http: Option<std::net::TcpListener>,
    pub pprof: Option<std::net::TcpListener>,
}

/// Go's pprof endpoints cannot be served by a Rust process; this answers
/// the ones that make sense (`cmdline`, the index) so probes and scripts
/// pointed at `--pprof-addr` keep working.
fn pprof_response(path: &str) -> http::Response<http_body_util::Full<Bytes>> {
    let (status, body) = match path {
        "/debug/pprof/cmdline" => (200, std::env::args().collect::<Vec<_>>().join("\0")),
        "/debug/pprof/" | "/debug/pprof" => (
            200,
            "opm (Rust) serves no Go runtime profiles; see /debug/pprof/cmdline\n".to_string(),
        ),
        _ => (404, "404 page not found\n".to_string()),
    };
    let mut r = http::Response::new(http_body_util::Full::new(Bytes::from(body)));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    r
}

async fn serve_pprof(
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                        Ok::<_, Infallible>(pprof_response(req.uri().path()))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}

pub fn serve(
    l: Listeners,
    reg: Arc<Registry>,
    opts: &ServeOptions,
    cache_dir: &Path,
    log: &Logger,
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
        .enable_all()
        .build()
        .map_err(|e| format!("start runtime: {e}"))?;
    rt.block_on(async move {
        // Handlers first: once `serving registry` is logged, a SIGTERM is
        // always a graceful stop.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("install signal handler: {e}"))?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| format!("install signal handler: {e}"))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let grpc_listener = tokio::net::TcpListener::from_std(l.grpc).map_err(|e| e.to_string())?;
        let port = grpc_listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .port();
        let incoming =
            tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        let routes = grpc::routes(reg.clone())?;
        let mut grpc_stop = stop_rx.clone();
        let grpc_task = tokio::spawn(
            tonic::transport::Server::builder()
                .layer(LogLayer { log: log.clone() })
                .add_routes(routes)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = grpc_stop.changed().await;
                }),
        );
        let mut tasks = Vec::new();
        let mut http_addr = None;
        if let Some(h) = l.http {
            let h = tokio::net::TcpListener::from_std(h).map_err(|e| e.to_string())?;
            http_addr = h.local_addr().ok();
            tasks.push(tokio::spawn(super::http::serve(
                reg.clone(),
                h,
                stop_rx.clone(),
            )));
        }
        if let Some(p) = l.pprof {
            let p = tokio::net::TcpListener::from_std(p).map_err(|e| e.to_string())?;
            tasks.push(tokio::spawn(serve_pprof(p, stop_rx.clone())));
        }
        log.info(
            "serving registry",
            &[
                ("cache", cache_dir.display().to_string()),
                ("configs", opts.configs.display().to_string()),
                ("port", port.to_string()),
            ],
        );
        if let Some(a) = http_addr {
            log.info("serving catalog HTTP API", &[("address", a.to_string())]);
        }
        tokio::pin!(grpc_task);
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            r = &mut grpc_task => {
                return match r {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("failed to serve: {e}")),
                    Err(e) => Err(format!("failed to serve: {e}")),
                };
            }
        }
        // Later signals are absorbed: the handlers stay installed.
        log.info("shutting down server", &[]);
        let _ = stop_tx.send(true);
        let served = grpc_task.await;
        for t in tasks {
            let _ = t.await;
        }
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("failed to serve: {e}")),
            Err(e) => Err(format!("failed to serve: {e}")),
        }
    })
}
