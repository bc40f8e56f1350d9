//! The gRPC services `opm serve` registers (spec opm-validate-serve-grpc.md
//! §3.2 step 11, §3.4, §4, §5): `api.Registry`, `api.ExperimentalRegistry`,
//! `grpc.health.v1.Health` and server reflection v1 and v1alpha, plus the
//! per-call `started call` / `finished call` log records.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::cache::{META_NAME_RULE, valid_meta_name};
use super::log::{Level, Logger};
use super::proto::api::experimental_registry_server::{
    ExperimentalRegistry, ExperimentalRegistryServer,
};
use super::proto::api::registry_server::{Registry as RegistryApi, RegistryServer};
use super::proto::api::{self};
use super::proto::health::health_server::{Health, HealthServer};
use super::proto::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use super::registry::{QueryError, Registry};
use crate::catalog::load::go_quote;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn status(e: QueryError) -> Status {
    match e {
        QueryError::Unknown(m) => Status::unknown(m),
        QueryError::InvalidArgument(m) => Status::invalid_argument(m),
        QueryError::Internal(m) => Status::internal(m),
    }
}

/// Go computes an entry stream completely before sending (§4.3): either
/// every item or the error.
fn all_or_error<T: Send + 'static>(
    r: Result<Vec<T>, QueryError>,
) -> Result<Response<BoxStream<T>>, Status> {
    let items = r.map_err(status)?;
    Ok(Response::new(Box::pin(tokio_stream::iter(
        items.into_iter().map(Ok),
    ))))
}

/// `api.Registry` over the cache.
#[derive(Clone)]
pub struct RegistryService {
    reg: Arc<Registry>,
}

impl RegistryService {
    pub fn new(reg: Arc<Registry>) -> RegistryService {
        RegistryService { reg }
    }
}

#[tonic::async_trait]
impl RegistryApi for RegistryService {
    type ListPackagesStream = BoxStream<api::PackageName>;
    type GetChannelEntriesThatReplaceStream = BoxStream<api::ChannelEntry>;
    type GetChannelEntriesThatProvideStream = BoxStream<api::ChannelEntry>;
    type GetLatestChannelEntriesThatProvideStream = BoxStream<api::ChannelEntry>;
    type ListBundlesStream = BoxStream<api::Bundle>;

    async fn list_packages(
        &self,
        _: Request<api::ListPackageRequest>,
    ) -> Result<Response<Self::ListPackagesStream>, Status> {
        let names = self
            .reg
            .list_packages()
            .into_iter()
            .map(|name| api::PackageName { name });
        Ok(Response::new(Box::pin(tokio_stream::iter(names.map(Ok)))))
    }

    async fn get_package(
        &self,
        r: Request<api::GetPackageRequest>,
    ) -> Result<Response<api::Package>, Status> {
        self.reg
            .get_package(&r.get_ref().name)
            .map(Response::new)
            .map_err(status)
    }

    async fn get_bundle(
        &self,
        r: Request<api::GetBundleRequest>,
    ) -> Result<Response<api::Bundle>, Status> {
        let r = r.get_ref();
        self.reg
            .get_bundle(&r.pkg_name, &r.channel_name, &r.csv_name)
            .map(Response::new)
            .map_err(status)
    }

    async fn get_bundle_for_channel(
        &self,
        r: Request<api::GetBundleInChannelRequest>,
    ) -> Result<Response<api::Bundle>, Status> {
        let r = r.get_ref();
        self.reg
            .get_bundle_for_channel(&r.pkg_name, &r.channel_name)
            .map(Response::new)
            .map_err(status)
    }

    async fn get_channel_entries_that_replace(
        &self,
        r: Request<api::GetAllReplacementsRequest>,
    ) -> Result<Response<Self::GetChannelEntriesThatReplaceStream>, Status> {
        all_or_error(self.reg.channel_entries_that_replace(&r.get_ref().csv_name))
    }

    async fn get_bundle_that_replaces(
        &self,
        r: Request<api::GetReplacementRequest>,
    ) -> Result<Response<api::Bundle>, Status> {
        let r = r.get_ref();
        self.reg
            .get_bundle_that_replaces(&r.csv_name, &r.pkg_name, &r.channel_name)
            .map(Response::new)
            .map_err(status)
    }

    async fn get_channel_entries_that_provide(
        &self,
        r: Request<api::GetAllProvidersRequest>,
    ) -> Result<Response<Self::GetChannelEntriesThatProvideStream>, Status> {
        let r = r.get_ref();
        all_or_error(
            self.reg
                .channel_entries_that_provide(&r.group, &r.version, &r.kind),
        )
    }

    async fn get_latest_channel_entries_that_provide(
        &self,
        r: Request<api::GetLatestProvidersRequest>,
    ) -> Result<Response<Self::GetLatestChannelEntriesThatProvideStream>, Status> {
        let r = r.get_ref();
        all_or_error(
            self.reg
                .latest_channel_entries_that_provide(&r.group, &r.version, &r.kind),
        )
    }

    async fn get_default_bundle_that_provides(
        &self,
        r: Request<api::GetDefaultProviderRequest>,
    ) -> Result<Response<api::Bundle>, Status> {
        let r = r.get_ref();
        self.reg
            .default_bundle_that_provides(&r.group, &r.version, &r.kind)
            .map(Response::new)
            .map_err(status)
    }

    async fn list_bundles(
        &self,
        _: Request<api::ListBundlesRequest>,
    ) -> Result<Response<Self::ListBundlesStream>, Status> {
        // Items are produced one at a time as the client reads, so a stream
        // holds one bundle in memory, not the catalog.
        let reg = self.reg.clone();
        let n = reg.list_len();
        let stream = tokio_stream::iter(0..n).map(move |i| reg.list_bundle(i).map_err(status));
        Ok(Response::new(Box::pin(stream)))
    }
}

/// `api.ExperimentalRegistry` (§4.3, last part).
#[derive(Clone)]
pub struct ExperimentalService {
    reg: Arc<Registry>,
}

impl ExperimentalService {
    pub fn new(reg: Arc<Registry>) -> ExperimentalService {
        ExperimentalService { reg }
    }
}

#[tonic::async_trait]
impl ExperimentalRegistry for ExperimentalService {
    type ExperimentalListPackageCustomSchemasStream = BoxStream<prost_types::Struct>;

    async fn experimental_list_package_custom_schemas(
        &self,
        r: Request<api::ExperimentalListPackageCustomSchemasRequest>,
    ) -> Result<Response<Self::ExperimentalListPackageCustomSchemasStream>, Status> {
        // Without the acknowledgement header the answer is an empty stream.
        let acked = r
            .metadata()
            .get("x-acknowledge-experimental")
            .is_some_and(|v| v.as_bytes() == b"true");
        if !acked {
            return Ok(Response::new(Box::pin(tokio_stream::empty())));
        }
        let q = r.get_ref();
        if q.schema.is_empty() {
            return Err(Status::invalid_argument("schema is required"));
        }
        if !valid_meta_name(&q.schema) {
            return Err(Status::invalid_argument(format!(
                "invalid custom schema query: invalid schema {}: {META_NAME_RULE}",
                go_quote(&q.schema)
            )));
        }
        if !q.package_name.is_empty() && !valid_meta_name(&q.package_name) {
            return Err(Status::invalid_argument(format!(
                "invalid custom schema query: invalid packageName {}: {META_NAME_RULE}",
                go_quote(&q.package_name)
            )));
        }
        let mut items = Vec::new();
        for b in self.reg.custom_blobs(&q.schema, &q.package_name) {
            let bytes = self
                .reg
                .blob(b)
                .map_err(|e| Status::internal(e.to_string()))?;
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| Status::internal(e.to_string()))?;
            match json_to_prost(v).kind {
                Some(prost_types::value::Kind::StructValue(s)) => items.push(Ok(s)),
                _ => return Err(Status::internal("custom blob is not an object")),
            }
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(items))))
    }
}

/// JSON to `google.protobuf.Value`; numbers become doubles.
fn json_to_prost(v: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    use serde_json::Value as J;
    let kind = match v {
        J::Null => Kind::NullValue(0),
        J::Bool(b) => Kind::BoolValue(b),
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        J::String(s) => Kind::StringValue(s),
        J::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.into_iter().map(json_to_prost).collect(),
        }),
        J::Object(o) => Kind::StructValue(prost_types::Struct {
            fields: o.into_iter().map(|(k, v)| (k, json_to_prost(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

/// opm's health service: SERVING for any name; Watch and List are not
/// implemented (§3.4).
#[derive(Clone, Default)]
pub struct HealthService;

#[tonic::async_trait]
impl Health for HealthService {
    type WatchStream = BoxStream<HealthCheckResponse>;

    async fn check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: super::proto::health::health_check_response::ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("method List not implemented"))
    }

    async fn watch(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("method Watch not implemented"))
    }
}

/// Every service, ready to be added to a tonic server.
pub fn routes(reg: Arc<Registry>) -> Result<tonic::service::Routes, String> {
    let descriptors: [&[u8]; 3] = [
        super::proto::DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ];
    let reflection = || {
        descriptors
            .iter()
            .fold(tonic_reflection::server::Builder::configure(), |b, d| {
                b.register_encoded_file_descriptor_set(d)
            })
            .include_reflection_service(false)
    };
    let v1 = reflection().build_v1().map_err(|e| e.to_string())?;
    let v1alpha = reflection().build_v1alpha().map_err(|e| e.to_string())?;
    // Bundles with inline objects can be large: no message size limits,
    // as Go's default server sends any size.
    let registry = RegistryServer::new(RegistryService::new(reg.clone()))
        .max_encoding_message_size(usize::MAX)
        .max_decoding_message_size(64 << 20);
    let mut routes = tonic::service::Routes::new(registry);
    routes = routes
        .add_service(
            ExperimentalRegistryServer::new(ExperimentalService::new(reg))
                .max_encoding_message_size(usize::MAX),
        )
        .add_service(HealthServer::new(HealthService))
        .add_service(v1)
        .add_service(v1alpha);
    Ok(routes)
}

// ---------------------------------------------------------------------------
// Request logging (go-grpc-middleware v2 `logging`, as opm configures it).

/// Which RPCs stream (for `grpc.method_type`).
fn method_type(service: &str, method: &str) -> &'static str {
    match (service, method) {
        (
            "api.Registry",
            "ListPackages"
            | "GetChannelEntriesThatReplace"
            | "GetChannelEntriesThatProvide"
            | "GetLatestChannelEntriesThatProvide"
            | "ListBundles",
        )
        | ("api.ExperimentalRegistry", _)
        | ("grpc.health.v1.Health", "Watch") => "server_stream",
        ("grpc.reflection.v1.ServerReflection" | "grpc.reflection.v1alpha.ServerReflection", _) => {
            "bidi_stream"
        }
        _ => "unary",
    }
}

/// go-grpc-middleware's code → level mapping.
fn level_for(code: tonic::Code) -> Level {
    use tonic::Code::*;
    match code {
        Ok | NotFound | Cancelled | AlreadyExists | InvalidArgument | Unauthenticated => {
            Level::Info
        }
        DeadlineExceeded | PermissionDenied | ResourceExhausted | FailedPrecondition | Aborted
        | OutOfRange | Unavailable => Level::Warn,
        _ => Level::Error,
    }
}

/// Go's names of gRPC codes (`codes.Code.String()`).
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "Canceled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}

/// A tower layer logging every call as opm does.
#[derive(Clone)]
pub struct LogLayer {
    pub log: Logger,
}

impl<S> tower::Layer<S> for LogLayer {
    type Service = LogService<S>;
    fn layer(&self, inner: S) -> LogService<S> {
        LogService {
            inner,
            log: self.log.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LogService<S> {
    inner: S,
    log: Logger,
}

struct Call {
    log: Logger,
    fields: Vec<(String, String)>,
    start: Instant,
    done: bool,
}

impl Call {
    fn finish(&mut self, code: tonic::Code, message: Option<String>) {
        if self.done {
            return;
        }
        self.done = true;
        let mut fields = std::mem::take(&mut self.fields);
        fields.push(("grpc.code".into(), code_name(code).into()));
        if let Some(m) = message.filter(|_| code != tonic::Code::Ok) {
            fields.push(("grpc.error".into(), m));
        }
        let ms = (self.start.elapsed().as_micros() as f32) / 1000.0;
        fields.push(("grpc.time_ms".into(), format!("{ms}")));
        self.log
            .log_owned(level_for(code), "finished call", &fields);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // A client that goes away mid-stream.
        self.finish(tonic::Code::Cancelled, Some("context canceled".into()));
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<(tonic::Code, Option<String>)> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    let msg = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .map(|m| super::http::percent_decode(m, false));
    Some((tonic::Code::from_i32(code), msg))
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for LogService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Send,
    S::Future: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let path = req.uri().path().trim_start_matches('/');
        let (service, method) = path.split_once('/').unwrap_or((path, ""));
        let mut fields: Vec<(String, String)> = vec![
            ("protocol".into(), "grpc".into()),
            ("grpc.component".into(), "server".into()),
            ("grpc.service".into(), service.into()),
            ("grpc.method".into(), method.into()),
            (
                "grpc.method_type".into(),
                method_type(service, method).into(),
            ),
            ("grpc.start_time".into(), crate::output::rfc3339_now()),
        ];
        if let Some(info) = req
            .extensions()
            .get::<tonic::transport::server::TcpConnectInfo>()
            && let Some(addr) = info.remote_addr()
        {
            fields.push(("peer.address".into(), addr.to_string()));
        }
        if let Some(a) = req.uri().authority() {
            fields.push((":authority".into(), format!("[{a}]")));
        }
        let mut keys: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
        keys.dedup();
        for k in keys {
            if matches!(
                k,
                "te" | "grpc-timeout" | "grpc-encoding" | "grpc-accept-encoding" | "content-length"
            ) {
                continue;
            }
            let vals: Vec<&str> = req
                .headers()
                .get_all(k)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            fields.push((k.to_string(), format!("[{}]", vals.join(" "))));
        }
        self.log.log_owned(Level::Info, "started call", &fields);
        let call = Call {
            log: self.log.clone(),
            fields,
            start: Instant::now(),
            done: false,
        };
        let fut = self.inner.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            let (parts, body) = resp.into_parts();
            let mut call = call;
            // A trailers-only response (an error before any message).
            if let Some((code, msg)) = grpc_status(&parts.headers) {
                call.finish(code, msg);
            }
            let body = LoggedBody { inner: body, call };
            Ok(http::Response::from_parts(
                parts,
                tonic::body::Body::new(body),
            ))
        })
    }
}

/// A response body that logs `finished call` when the trailers pass.
struct LoggedBody<B> {
    inner: B,
    call: Call,
}

impl<B> http_body::Body for LoggedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(t) = frame.trailers_ref()
                    && let Some((code, msg)) = grpc_status(t)
                {
                    this.call.finish(code, msg);
                }
            }
            Poll::Ready(None) => this.call.finish(tonic::Code::Ok, None),
            _ => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
