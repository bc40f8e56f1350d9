//! catalogd's HTTP API for the served catalog (`--http-addr`), beyond Go
//! opm: `GET /api/v1/all` (every blob as JSON Lines, in load order),
//! `GET /api/v1/metas?schema=&package=&name=` (the blobs matching every
//! given field) and `GET /healthz`.
//!
//! The blob bytes are those catalogd stores: each blob normalised as Go's
//! `declcfg.Meta` holds it, plus a newline. As in catalogd, `all` honours
//! `Range` and conditional requests, both endpoints send `Last-Modified`,
//! and responses are gzipped when the client accepts it (ranges are always
//! sent uncompressed, since they address the identity bytes).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Frame;

use super::registry::Registry;

const CHUNK: u64 = 64 * 1024;

/// `Last-Modified` for a build time (RFC 7231 IMF-fixdate).
fn http_date(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
}

/// A response body streaming ranges of the `all` stream, optionally gzipped.
pub struct RangesBody {
    reg: Arc<Registry>,
    ranges: Vec<(u64, u64)>,
    next: usize,
    pos: u64,
    gzip: Option<flate2::write::GzEncoder<Vec<u8>>>,
    done: bool,
}

impl RangesBody {
    fn new(reg: Arc<Registry>, ranges: Vec<(u64, u64)>, gzip: bool) -> RangesBody {
        let pos = ranges.first().map(|r| r.0).unwrap_or(0);
        RangesBody {
            reg,
            ranges,
            next: 0,
            pos,
            gzip: gzip
                .then(|| flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())),
            done: false,
        }
    }

    /// The next piece of identity bytes, or `None` at the end.
    fn read_next(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        while let Some(&(_, end)) = self.ranges.get(self.next) {
            if self.pos >= end {
                self.next += 1;
                if let Some(r) = self.ranges.get(self.next) {
                    self.pos = r.0;
                }
                continue;
            }
            let n = (end - self.pos).min(CHUNK);
            let mut buf = vec![0u8; n as usize];
            self.reg.read_all(self.pos, &mut buf)?;
            self.pos += n;
            return Ok(Some(buf));
        }
        Ok(None)
    }
}

impl http_body::Body for RangesBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        use std::io::Write;
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            let piece = match this.read_next() {
                Ok(p) => p,
                Err(e) => return Poll::Ready(Some(Err(e))),
            };
            let Some(gz) = this.gzip.as_mut() else {
                return Poll::Ready(match piece {
                    Some(p) => Some(Ok(Frame::data(Bytes::from(p)))),
                    None => {
                        this.done = true;
                        None
                    }
                });
            };
            match piece {
                Some(p) => {
                    if let Err(e) = gz.write_all(&p) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    let out = std::mem::take(gz.get_mut());
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                None => {
                    this.done = true;
                    let gz = this.gzip.take().map(|g| g.finish());
                    return Poll::Ready(match gz {
                        Some(Ok(tail)) => Some(Ok(Frame::data(Bytes::from(tail)))),
                        Some(Err(e)) => Some(Err(e)),
                        None => None,
                    });
                }
            }
        }
    }
}

type Body = http_body_util::Either<RangesBody, http_body_util::Full<Bytes>>;

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(http_body_util::Either::Right(http_body_util::Full::new(
        Bytes::from(format!("{body}\n")),
    )));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// Go's `http.Error` text for a status: `<code> <reason>`.
fn error(status: StatusCode) -> Response<Body> {
    text(
        status,
        &format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
    )
}

fn accepts_gzip<B>(req: &Request<B>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.trim().split(';');
            let name = parts.next().unwrap_or("").trim();
            let q0 = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q0
        })
}

/// A single `bytes=` range against `len`: `Ok(None)` for no (usable) Range
/// header, `Err(())` when unsatisfiable.
fn parse_range(h: Option<&HeaderValue>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h
        .and_then(|h| h.to_str().ok())
        .and_then(|s| s.strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    // Several ranges would need multipart/byteranges: serve the whole body,
    // which RFC 7233 allows.
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.trim().split_once('-').ok_or(())?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            len
        } else {
            b.parse::<u64>().map_err(|_| ())?.saturating_add(1).min(len)
        };
        (start, end)
    };
    if start >= len || start >= end {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// Answer one request.
pub fn handle<B>(reg: &Arc<Registry>, req: &Request<B>) -> Response<Body> {
    let path = req.uri().path();
    if path == "/healthz" {
        return text(StatusCode::OK, "ok");
    }
    if path != "/api/v1/all" && path != "/api/v1/metas" {
        return text(StatusCode::NOT_FOUND, "404 page not found");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let last_modified = http_date(reg.index().built_unix);
    let not_modified = req
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == last_modified);
    let len = reg.all_len();
    let mut ranges = vec![(0, len)];
    let mut status = StatusCode::OK;
    let mut content_range = None;
    if path == "/api/v1/metas" {
        let mut schema = None;
        let mut package = None;
        let mut name = None;
        for (k, v) in form_pairs(req.uri().query().unwrap_or("")) {
            let slot = match k.as_str() {
                "schema" => &mut schema,
                "package" => &mut package,
                "name" => &mut name,
                _ => return error(StatusCode::BAD_REQUEST),
            };
            slot.get_or_insert(v);
        }
        let want =
            |f: &Option<String>, v: &str| f.as_deref().is_none_or(|f| f.is_empty() || f == v);
        let any = [&schema, &package, &name]
            .iter()
            .any(|f| f.as_deref().is_some_and(|f| !f.is_empty()));
        if any {
            ranges = reg
                .index()
                .blobs
                .iter()
                .filter(|b| {
                    want(&schema, &b.schema) && want(&package, &b.package) && want(&name, &b.name)
                })
                .map(|b| (b.offset, b.offset + b.len))
                .collect();
        }
    } else {
        match parse_range(req.headers().get(header::RANGE), len) {
            Ok(None) => {}
            Ok(Some((a, b))) => {
                ranges = vec![(a, b)];
                status = StatusCode::PARTIAL_CONTENT;
                content_range = Some(format!("bytes {a}-{}/{len}", b - 1));
            }
            Err(()) => {
                let mut r = text(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "invalid range: failed to overlap",
                );
                r.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{len}"))
                        .unwrap_or(HeaderValue::from_static("")),
                );
                return r;
            }
        }
    }
    let mut builder = Response::builder()
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::VARY, "Accept-Encoding");
    if path == "/api/v1/all" {
        builder = builder.header(header::ACCEPT_RANGES, "bytes");
    }
    if not_modified {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(http_body_util::Either::Right(http_body_util::Full::new(
                Bytes::new(),
            )))
            .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let gzip = content_range.is_none() && accepts_gzip(req);
    builder = builder
        .status(status)
        .header(header::CONTENT_TYPE, "application/jsonl");
    if let Some(cr) = content_range {
        builder = builder.header(header::CONTENT_RANGE, cr);
    }
    if gzip {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
    } else {
        let total: u64 = ranges.iter().map(|(a, b)| b - a).sum();
        builder = builder.header(header::CONTENT_LENGTH, total);
    }
    if req.method() == Method::HEAD {
        ranges.clear();
    }
    builder
        .body(http_body_util::Either::Left(RangesBody::new(
            reg.clone(),
            ranges,
            gzip,
        )))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Undo `%XX` escapes (and `+` for space in form encoding); a malformed
/// escape is kept as is.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `application/x-www-form-urlencoded` pairs of a query string.
fn form_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Serve HTTP/1.1 on `listener` until `shutdown` resolves, then let the
/// connections in flight finish.
pub async fn serve(
    reg: Arc<Registry>,
    listener: tokio::net::TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let reg = reg.clone();
                let mut stop = shutdown.clone();
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let reg = reg.clone();
                        async move { Ok::<_, Infallible>(handle(&reg, &req)) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(parse_range(Some(&h("bytes=0-9")), 100), Ok(Some((0, 10))));
        assert_eq!(parse_range(Some(&h("bytes=90-")), 100), Ok(Some((90, 100))));
        assert_eq!(parse_range(Some(&h("bytes=-5")), 100), Ok(Some((95, 100))));
        assert_eq!(
            parse_range(Some(&h("bytes=95-200")), 100),
            Ok(Some((95, 100)))
        );
        assert_eq!(parse_range(Some(&h("bytes=100-")), 100), Err(()));
        assert_eq!(parse_range(None, 100), Ok(None));
    }

    #[test]
    fn dates_and_queries() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            form_pairs("schema=olm.bundle&package=a%2Db&name=x+y"),
            vec![
                ("schema".to_string(), "olm.bundle".to_string()),
                ("package".to_string(), "a-b".to_string()),
                ("name".to_string(), "x y".to_string())
            ]
        );
    }
}
