//! `opm serve`: real servers on loopback (`-p 127.0.0.1:0`, the bound port
//! read from the `serving registry` record), driven by a tonic client and
//! a hyper HTTP client. Fixtures: testdata/serve/.

// GetBundleForChannel is marked deprecated in registry.proto, but OLM's
// packageserver still calls it, so it is tested like the others.
#![allow(deprecated)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use opm::serve::proto::api;
use opm::serve::proto::api::registry_client::RegistryClient;
use opm::serve::proto::health::health_client::HealthClient;
use tonic::transport::Channel;

use crate::util::{opm, testdata};

fn fixture(name: &str) -> PathBuf {
    testdata().join("serve").join(name)
}

/// A running `opm serve`, stopped (SIGTERM) on drop.
struct Server {
    child: Child,
    port: u16,
    http: Option<String>,
    lines: mpsc::Receiver<String>,
    _tmp: tempfile::TempDir,
}

/// The value of `key=` in a logrus line.
fn field(line: &str, key: &str) -> Option<String> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[at..];
    let v = if let Some(r) = rest.strip_prefix('"') {
        &r[..r.find('"')?]
    } else {
        rest.split(' ').next()?
    };
    Some(v.trim_end().to_string())
}

impl Server {
    fn start(catalog: &Path, extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = Command::new(opm())
            .arg("serve")
            .arg(catalog)
            .args(["-p", "127.0.0.1:0", "--pprof-addr", ""])
            .arg("-t")
            .arg(tmp.path().join("termination-log"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Drain stderr for the server's whole life: per-call records would
        // otherwise fill the pipe and block it.
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut port = None;
        let mut http = None;
        let want_http = extra.contains(&"--http-addr");
        while port.is_none() || (want_http && http.is_none()) {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("server did not start");
            assert!(!line.contains("level=fatal"), "{line}");
            if line.contains("msg=\"serving registry\"") {
                port = field(&line, "port").map(|p| p.parse().unwrap());
            }
            if line.contains("msg=\"serving catalog HTTP API\"") {
                http = field(&line, "address");
            }
        }
        Server {
            child,
            port: port.unwrap(),
            http,
            lines: rx,
            _tmp: tmp,
        }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn client(&self) -> RegistryClient<Channel> {
        RegistryClient::new(self.channel().await).max_decoding_message_size(usize::MAX)
    }

    fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Wait for exit, returning the code and the remaining log lines.
    fn wait(mut self) -> (Option<i32>, Vec<String>) {
        let status = self.child.wait().unwrap();
        let lines: Vec<String> = self.lines.try_iter().collect();
        (status.code(), lines)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let _ = self.child.wait();
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn collect<T>(s: tonic::Response<tonic::Streaming<T>>) -> Result<Vec<T>, tonic::Status> {
    let mut s = s.into_inner();
    let mut out = Vec::new();
    while let Some(x) = s.message().await? {
        out.push(x);
    }
    Ok(out)
}

fn unknown(r: Result<impl std::fmt::Debug, tonic::Status>, message: &str) {
    let e = r.expect_err("expected an error");
    assert_eq!(e.code(), tonic::Code::Unknown, "{e:?}");
    assert_eq!(e.message(), message);
}

#[test]
fn every_rpc_on_a_csv_metadata_catalog() {
    let s = Server::start(&fixture("kubevirt-wol"), &[]);
    rt().block_on(async {
        let mut c = s.client().await;
        let pkgs = collect(c.list_packages(api::ListPackageRequest {}).await.unwrap()).await.unwrap();
        assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["kubevirt-wol"]);

        let p = c
            .get_package(api::GetPackageRequest { name: "kubevirt-wol".into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(p.default_channel_name, "stable-v0");
        let chans: Vec<(&str, &str)> = p.channels.iter().map(|c| (c.name.as_str(), c.csv_name.as_str())).collect();
        assert_eq!(
            chans,
            [
                ("candidate-v0", "kubevirt-wol.v0.0.2"),
                ("fast-v0", "kubevirt-wol.v0.0.2"),
                ("stable-v0", "kubevirt-wol.v0.0.2")
            ]
        );

        let b = c
            .get_bundle(api::GetBundleRequest {
                pkg_name: "kubevirt-wol".into(),
                channel_name: "fast-v0".into(),
                csv_name: "kubevirt-wol.v0.0.2".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(b.channel_name, "fast-v0");
        assert_eq!(b.version, "0.0.2");
        assert!(b.csv_json.starts_with(r#"{"kind":"ClusterServiceVersion","apiVersion":"operators.coreos.com/v1alpha1","metadata":{"name":"kubevirt-wol.v0.0.2""#));
        assert!(b.csv_json.ends_with(r#""cleanup":{"enabled":false},"relatedImages":[{"name":"","image":"quay.io/community-operator-pipeline-prod/kubevirt-wol:0.0.2"},{"name":"","image":"quay.io/kubevirtwol/kubevirt-wol-manager:v0.0.2"}]},"status":{"cleanup":{}}}"#));
        assert_eq!(b.object, vec![b.csv_json.clone()]);
        assert_eq!(b.provided_apis.len(), 1);
        assert!(b.properties.iter().all(|p| p.r#type != "olm.csv.metadata"));

        let head = c
            .get_bundle_for_channel(api::GetBundleInChannelRequest {
                pkg_name: "kubevirt-wol".into(),
                channel_name: "stable-v0".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(head.csv_name, "kubevirt-wol.v0.0.2");
        assert_eq!(head.csv_json, b.csv_json);

        // ListBundles: one item per channel, sorted by channel; the image is
        // set, so the payload is left out.
        let all = collect(c.list_bundles(api::ListBundlesRequest {}).await.unwrap()).await.unwrap();
        let order: Vec<&str> = all.iter().map(|b| b.channel_name.as_str()).collect();
        assert_eq!(order, ["candidate-v0", "fast-v0", "stable-v0"]);
        assert!(all.iter().all(|b| b.csv_json.is_empty() && b.object.is_empty()));

        let gvk = &b.provided_apis[0];
        let entries = collect(
            c.get_channel_entries_that_provide(api::GetAllProvidersRequest {
                group: gvk.group.clone(),
                version: gvk.version.clone(),
                kind: gvk.kind.clone(),
                plural: String::new(),
            })
            .await
            .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(entries.len(), 3);
        let latest = collect(
            c.get_latest_channel_entries_that_provide(api::GetLatestProvidersRequest {
                group: gvk.group.clone(),
                version: gvk.version.clone(),
                kind: gvk.kind.clone(),
                plural: String::new(),
            })
            .await
            .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(latest.len(), 3);
        let default = c
            .get_default_bundle_that_provides(api::GetDefaultProviderRequest {
                group: gvk.group.clone(),
                version: gvk.version.clone(),
                kind: gvk.kind.clone(),
                plural: "ignored".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(default.channel_name, "stable-v0");
        assert_eq!(default.csv_json, b.csv_json);
    });
}

#[test]
fn replaces_skips_objects_and_custom_schemas() {
    let s = Server::start(&fixture("custom"), &[]);
    rt().block_on(async {
        let mut c = s.client().await;
        // A bundle without an image keeps its objects in ListBundles.
        let all = collect(c.list_bundles(api::ListBundlesRequest {}).await.unwrap()).await.unwrap();
        let names: Vec<(&str, &str)> = all.iter().map(|b| (b.channel_name.as_str(), b.csv_name.as_str())).collect();
        assert_eq!(names, [("beta", "foo.v0.2.0"), ("stable", "foo.v0.1.0"), ("stable", "foo.v0.2.0")]);
        let v2 = &all[2];
        assert_eq!(v2.replaces, "foo.v0.1.0");
        assert_eq!(v2.skips, ["foo.v0.0.9"]);
        assert_eq!(v2.skip_range, "<0.2.0");
        assert_eq!(v2.object.len(), 2);
        assert_eq!(v2.csv_json, v2.object[1]);
        assert!(all[1].object.is_empty());
        assert_eq!(
            v2.dependencies
                .iter()
                .map(|d| (d.r#type.as_str(), d.value.as_str()))
                .collect::<Vec<_>>(),
            [
                ("olm.package", r#"{"packageName":"bar","version":">=1.0.0"}"#),
                ("olm.gvk", r#"{"group":"example.com","kind":"Bar","version":"v1"}"#)
            ]
        );
        assert_eq!(v2.required_apis.len(), 1);

        // Unary bundle RPCs drop replaces and skips.
        let r = c
            .get_bundle_that_replaces(api::GetReplacementRequest {
                csv_name: "foo.v0.0.9".into(),
                pkg_name: "foo".into(),
                channel_name: "stable".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.csv_name, "foo.v0.2.0");
        assert!(r.replaces.is_empty() && r.skips.is_empty());

        // GO QUIRK (spec §4.3): a skip match reports the bundle's replaces.
        let e = collect(
            c.get_channel_entries_that_replace(api::GetAllReplacementsRequest { csv_name: "foo.v0.0.9".into() })
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].replaces, "foo.v0.1.0");
        let provide = collect(
            c.get_channel_entries_that_provide(api::GetAllProvidersRequest {
                group: "example.com".into(),
                version: "v1".into(),
                kind: "Foo".into(),
                plural: String::new(),
            })
            .await
            .unwrap(),
        )
        .await
        .unwrap();
        let provide: Vec<(&str, &str, &str)> = provide
            .iter()
            .map(|e| (e.channel_name.as_str(), e.bundle_name.as_str(), e.replaces.as_str()))
            .collect();
        assert_eq!(
            provide,
            [
                ("beta", "foo.v0.2.0", ""),
                ("stable", "foo.v0.1.0", ""),
                ("stable", "foo.v0.2.0", "foo.v0.1.0"),
                ("stable", "foo.v0.2.0", "foo.v0.0.9")
            ]
        );
        // Latest: heads only, and only skips inside the channel.
        let latest = collect(
            c.get_latest_channel_entries_that_provide(api::GetLatestProvidersRequest {
                group: "example.com".into(),
                version: "v1".into(),
                kind: "Foo".into(),
                plural: String::new(),
            })
            .await
            .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(latest.len(), 2);

        // ExperimentalRegistry.
        let mut x = api::experimental_registry_client::ExperimentalRegistryClient::new(s.channel().await);
        let ask = |schema: &str, package: &str, ack: bool| {
            let mut r = tonic::Request::new(api::ExperimentalListPackageCustomSchemasRequest {
                schema: schema.into(),
                package_name: package.into(),
            });
            if ack {
                r.metadata_mut().insert("x-acknowledge-experimental", "true".parse().unwrap());
            }
            r
        };
        let none = collect(x.experimental_list_package_custom_schemas(ask("acme.custom", "foo", false)).await.unwrap())
            .await
            .unwrap();
        assert!(none.is_empty());
        let foo = collect(x.experimental_list_package_custom_schemas(ask("acme.custom", "foo", true)).await.unwrap())
            .await
            .unwrap();
        assert_eq!(foo.len(), 2);
        assert_eq!(
            foo[0].fields.get("value").and_then(|v| v.kind.clone()),
            Some(prost_types::value::Kind::NumberValue(1.5))
        );
        let global = collect(x.experimental_list_package_custom_schemas(ask("acme.custom", "", true)).await.unwrap())
            .await
            .unwrap();
        assert_eq!(global.len(), 1);
        let bad = x.experimental_list_package_custom_schemas(ask("acme.io/v1", "", true)).await;
        let e = bad.expect_err("invalid schema");
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            e.message(),
            r#"invalid custom schema query: invalid schema "acme.io/v1": must match ^[a-zA-Z0-9][a-zA-Z0-9._-]*$"#
        );
    });
}

#[test]
fn not_found_errors_are_go_opm_text() {
    let s = Server::start(&fixture("kubevirt-wol"), &[]);
    rt().block_on(async {
        let mut c = s.client().await;
        let (p, ch, b) = ("kubevirt-wol", "stable-v0", "no-such-bundle.v0.0.0");
        unknown(
            c.get_package(api::GetPackageRequest { name: "no-such-package".into() }).await,
            r#"package "no-such-package" not found"#,
        );
        unknown(c.get_package(api::GetPackageRequest { name: String::new() }).await, r#"package "" not found"#);
        let gb = |pkg: &str, chan: &str| api::GetBundleRequest {
            pkg_name: pkg.into(),
            channel_name: chan.into(),
            csv_name: b.into(),
        };
        unknown(c.get_bundle(gb("no-such-package", ch)).await, r#"package "no-such-package" not found"#);
        unknown(
            c.get_bundle(gb(p, "no-such-channel")).await,
            r#"package "kubevirt-wol", channel "no-such-channel" not found"#,
        );
        unknown(
            c.get_bundle(gb(p, ch)).await,
            r#"package "kubevirt-wol", channel "stable-v0", bundle "no-such-bundle.v0.0.0" not found"#,
        );
        unknown(
            c.get_bundle_for_channel(api::GetBundleInChannelRequest {
                pkg_name: p.into(),
                channel_name: "no-such-channel".into(),
            })
            .await,
            r#"package "kubevirt-wol", channel "no-such-channel" not found"#,
        );
        let gr = |pkg: &str, chan: &str| api::GetReplacementRequest {
            csv_name: b.into(),
            pkg_name: pkg.into(),
            channel_name: chan.into(),
        };
        // GO QUIRK (spec §4.3): unquoted package name.
        unknown(
            c.get_bundle_that_replaces(gr("no-such-package", ch)).await,
            "package no-such-package not found",
        );
        unknown(
            c.get_bundle_that_replaces(gr(p, ch)).await,
            r#"no entry found for package "kubevirt-wol", channel "stable-v0""#,
        );
        unknown(
            c.get_channel_entries_that_replace(api::GetAllReplacementsRequest { csv_name: b.into() }).await,
            "no channel entries found that replace no-such-bundle.v0.0.0",
        );
        let gvk_err = r#"no channel entries found that provide group:"no.such.group" version:"v1" kind:"NoSuchKind""#;
        unknown(
            c.get_channel_entries_that_provide(api::GetAllProvidersRequest {
                group: "no.such.group".into(),
                version: "v1".into(),
                kind: "NoSuchKind".into(),
                plural: String::new(),
            })
            .await,
            gvk_err,
        );
        unknown(
            c.get_latest_channel_entries_that_provide(api::GetLatestProvidersRequest {
                group: "no.such.group".into(),
                version: "v1".into(),
                kind: "NoSuchKind".into(),
                plural: String::new(),
            })
            .await,
            gvk_err,
        );
        unknown(
            c.get_default_bundle_that_provides(api::GetDefaultProviderRequest {
                group: "no.such.group".into(),
                version: "v1".into(),
                kind: "NoSuchKind".into(),
                plural: String::new(),
            })
            .await,
            gvk_err,
        );
    });
}

#[test]
fn deprecations_reach_package_channel_and_bundle() {
    let s = Server::start(&fixture("deprecations"), &[]);
    rt().block_on(async {
        let mut c = s.client().await;
        let p = c
            .get_package(api::GetPackageRequest {
                name: "nfs-provisioner-operator".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(p.deprecation.is_some());
        assert!(p.channels.iter().any(|c| c.deprecation.is_some()));
        let all = collect(c.list_bundles(api::ListBundlesRequest {}).await.unwrap())
            .await
            .unwrap();
        assert!(all.iter().any(|b| b.deprecation.is_some()));
        assert!(all.iter().any(|b| b.deprecation.is_none()));
    });
}

#[test]
fn health_and_reflection() {
    let s = Server::start(&fixture("kubevirt-wol"), &[]);
    rt().block_on(async {
        let mut h = HealthClient::new(s.channel().await);
        use opm::serve::proto::health::HealthCheckRequest;
        for svc in ["", "Registry", "api.Registry", "anything"] {
            let r = h
                .check(HealthCheckRequest {
                    service: svc.into(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(r.status, 1, "SERVING for {svc:?}");
        }
        let w = h
            .watch(HealthCheckRequest::default())
            .await
            .expect_err("Watch");
        assert_eq!(w.code(), tonic::Code::Unimplemented);
        assert_eq!(w.message(), "method Watch not implemented");

        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut r = ServerReflectionClient::new(s.channel().await);
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut resp = r
            .server_reflection_info(tokio_stream::iter([req]))
            .await
            .unwrap()
            .into_inner();
        let msg = resp.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = msg.message_response else {
            panic!("no service list");
        };
        let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "api.ExperimentalRegistry",
                "api.Registry",
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection"
            ]
        );
    });
}

#[test]
fn sigterm_lets_a_list_bundles_stream_finish() {
    let s = Server::start(&fixture("ecr-secret-operator"), &[]);
    let total = rt().block_on(async {
        let mut c = s.client().await;
        let total = collect(c.list_bundles(api::ListBundlesRequest {}).await.unwrap())
            .await
            .unwrap()
            .len();
        let mut stream = c
            .list_bundles(api::ListBundlesRequest {})
            .await
            .unwrap()
            .into_inner();
        let first = stream.message().await.unwrap();
        assert!(first.is_some());
        s.sigterm();
        let mut n = 1;
        while let Some(_b) = stream.message().await.unwrap() {
            n += 1;
        }
        assert_eq!(n, total);
        total
    });
    assert!(total > 1);
    let (code, lines) = s.wait();
    assert_eq!(code, Some(0));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("msg=\"shutting down server\"")),
        "{lines:?}"
    );
}

#[test]
fn two_hundred_concurrent_list_bundles_streams() {
    let s = Server::start(&fixture("ecr-secret-operator"), &[]);
    rt().block_on(async {
        let expected = collect(
            s.client()
                .await
                .list_bundles(api::ListBundlesRequest {})
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..200 {
            // One connection per client.
            let mut c = s.client().await;
            tasks.spawn(
                async move { collect(c.list_bundles(api::ListBundlesRequest {}).await?).await },
            );
        }
        let mut done = 0;
        while let Some(r) = tasks.join_next().await {
            let got = r.unwrap().unwrap();
            assert_eq!(got, expected);
            done += 1;
        }
        assert_eq!(done, 200);
    });
}

/// One HTTP/1.1 request with hyper; returns status, headers and body.
async fn http_get(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::get(path).header("host", addr);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = send
        .send_request(
            req.body(http_body_util::Empty::<bytes::Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

#[test]
fn catalogd_http_api() {
    let s = Server::start(&fixture("custom"), &["--http-addr", "127.0.0.1:0"]);
    let addr = s.http.clone().unwrap();
    rt().block_on(async {
        let (st, _, body) = http_get(&addr, "/healthz", &[]).await;
        assert_eq!((st, body.as_slice()), (200, b"ok\n".as_slice()));

        let (st, h, all) = http_get(&addr, "/api/v1/all", &[]).await;
        assert_eq!(st, 200);
        assert_eq!(h["content-type"], "application/jsonl");
        assert!(h.contains_key("last-modified"));
        let text = String::from_utf8(all.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8);
        // Blobs in file order, normalised as Go's declcfg.Meta (keys sorted).
        assert_eq!(lines[0], r#"{"defaultChannel":"stable","description":"Foo operator","name":"foo","schema":"olm.package"}"#);
        assert_eq!(lines[5], r#"{"name":"first","package":"foo","schema":"acme.custom","value":1.5}"#);

        let (st, h, gz) = http_get(&addr, "/api/v1/all", &[("accept-encoding", "gzip")]).await;
        assert_eq!(st, 200);
        assert_eq!(h["content-encoding"], "gzip");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut plain).unwrap();
        assert_eq!(plain, all);

        let (st, h, part) = http_get(&addr, "/api/v1/all", &[("range", "bytes=10-99")]).await;
        assert_eq!(st, 206);
        assert_eq!(h["content-range"], format!("bytes 10-99/{}", all.len()));
        assert_eq!(part, all[10..100]);
        let (st, _, _) = http_get(&addr, "/api/v1/all", &[("range", &format!("bytes={}-", all.len()))]).await;
        assert_eq!(st, 416);

        let lm = h["last-modified"].to_str().unwrap().to_string();
        let (st, _, body) = http_get(&addr, "/api/v1/all", &[("if-modified-since", &lm)]).await;
        assert_eq!((st, body.len()), (304, 0));

        let (st, _, body) = http_get(&addr, "/api/v1/metas?schema=olm.bundle&package=foo", &[]).await;
        assert_eq!(st, 200);
        assert_eq!(String::from_utf8(body).unwrap().lines().count(), 2);
        let (_, _, body) = http_get(&addr, "/api/v1/metas?schema=acme.custom&name=global", &[]).await;
        assert_eq!(String::from_utf8(body).unwrap(), format!("{}\n", lines[6]));
        let (st, _, _) = http_get(&addr, "/api/v1/metas?bogus=1", &[]).await;
        assert_eq!(st, 400);
        let (st, _, _) = http_get(&addr, "/nope", &[]).await;
        assert_eq!(st, 404);
    });
}

fn run_opm(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(opm())
        .arg("serve")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cache_only_then_enforced_integrity() {
    let tmp = tempfile::tempdir().unwrap();
    let cat = tmp.path().join("catalog");
    std::fs::create_dir(&cat).unwrap();
    std::fs::copy(
        fixture("kubevirt-wol/catalog.json"),
        cat.join("catalog.json"),
    )
    .unwrap();
    let cache = tmp.path().join("cache");
    let os = |s: &str| std::ffi::OsString::from(s);
    let built = run_opm(&[
        cat.as_os_str(),
        &os("--cache-dir"),
        cache.as_os_str(),
        &os("--cache-only"),
        &os("--pprof-addr="),
        &os("-t"),
        tmp.path().join("t").as_os_str(),
    ]);
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(stderr(&built).contains("msg=\"building cache\""));
    assert!(cache.join("opm-rs.v1/cache.bin").is_file());

    // A second --cache-only finds the cache valid and does not rebuild.
    let again = run_opm(&[
        cat.as_os_str(),
        &os("--cache-dir"),
        cache.as_os_str(),
        &os("--cache-only"),
        &os("--pprof-addr="),
        &os("-t"),
        tmp.path().join("t").as_os_str(),
    ]);
    assert!(again.status.success());
    assert!(
        !stderr(&again).contains("building cache"),
        "{}",
        stderr(&again)
    );

    // Serving with --cache-dir enforces integrity by default: it starts.
    let s = Server::start(&cat, &["--cache-dir", cache.to_str().unwrap()]);
    drop(s);

    // Change the catalog: the enforced check fails with Go's message.
    let mut text = std::fs::read_to_string(cat.join("catalog.json")).unwrap();
    text.push_str("{\"schema\":\"acme.custom\",\"name\":\"x\"}\n");
    std::fs::write(cat.join("catalog.json"), text).unwrap();
    let stale = run_opm(&[
        cat.as_os_str(),
        &os("--cache-dir"),
        cache.as_os_str(),
        &os("--pprof-addr="),
        &os("-t"),
        tmp.path().join("t").as_os_str(),
    ]);
    assert_eq!(stale.status.code(), Some(1));
    let err = stderr(&stale);
    assert!(
        err.contains("level=warning msg=\"cache requires rebuild\""),
        "{err}"
    );
    assert!(
        err.contains("level=fatal msg=\"integrity check failed: cache requires rebuild: cache reports digest as \\\""),
        "{err}"
    );
    // Beyond Go: the fatal message also lands in the termination log.
    let term = std::fs::read_to_string(tmp.path().join("t")).unwrap();
    assert!(term.contains("integrity check failed"), "{term}");

    // Without enforcement the stale cache is rebuilt.
    let s = Server::start(
        &cat,
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            "--cache-enforce-integrity=false",
        ],
    );
    drop(s);

    // A missing cache under enforcement.
    let empty = tmp.path().join("empty");
    let missing = run_opm(&[
        cat.as_os_str(),
        &os("--cache-dir"),
        empty.as_os_str(),
        &os("--pprof-addr="),
        &os("-t"),
        tmp.path().join("t").as_os_str(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains(&format!(
            "integrity check failed: read existing cache digest: open {}: no such file or directory",
            empty.join("opm-rs.v1/cache.bin").display()
        )),
        "{}",
        stderr(&missing)
    );

    let no_dir = run_opm(&[
        cat.as_os_str(),
        &os("--cache-enforce-integrity"),
        &os("--pprof-addr="),
        &os("-t"),
        tmp.path().join("t").as_os_str(),
    ]);
    assert_eq!(no_dir.status.code(), Some(1));
    assert!(
        stderr(&no_dir).contains("--cache-dir must be specified with --cache-enforce-integrity")
    );
}

#[test]
fn a_go_opm_cache_directory_is_rebuilt_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    std::fs::create_dir_all(cache.join("pogreb.v1/db")).unwrap();
    std::fs::write(cache.join("pogreb.v1/digest"), "485a767449dd66d4").unwrap();
    let s = Server::start(
        &fixture("kubevirt-wol"),
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            "--cache-enforce-integrity=false",
        ],
    );
    drop(s);
    // Go's files are left alone.
    assert!(cache.join("pogreb.v1/digest").is_file());
    assert!(cache.join("opm-rs.v1/cache.bin").is_file());
}

#[test]
fn invalid_catalog_is_fatal_with_go_opm_wrapping() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(opm())
        .arg("serve")
        .arg(fixture("invalid"))
        .args(["--pprof-addr", "", "-p", "127.0.0.1:0", "-t"])
        .arg(tmp.path().join("t"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(r#"msg="failed to load or rebuild cache: failed to rebuild cache: build package index: process package \"foo\": invalid index:\n└── invalid package \"foo\":\n    └── invalid channel \"stable\":\n        └── multiple channel heads found in graph: foo.v0.1.0, foo.v0.2.0""#),
        "{err}"
    );
}

/// The `msg="…"` of the first `level=fatal` record, or of the first record.
fn fatal_msg(err: &str) -> String {
    let line = err
        .lines()
        .find(|l| l.contains("level=fatal"))
        .or_else(|| err.lines().next())
        .unwrap_or_default();
    line.split_once("msg=\"")
        .map(|(_, m)| m.strip_suffix('"').unwrap_or(m).to_string())
        .unwrap_or_default()
}

/// serve and validate share one model: every validate mutant of the
/// conformance suite is refused by `serve` exactly when `validate` refuses
/// it, with validate's message inside Go's serve wrapping. The exceptions
/// are Go's own (spec §3.7): custom schemas serve cannot key, and load
/// errors, which serve words as its walker does.
#[test]
fn serve_refuses_exactly_what_validate_refuses() {
    let mutants = testdata().join("cases/validate-mutants");
    let mut checked = 0;
    let mut refused = 0;
    for entry in std::fs::read_dir(&mutants).unwrap() {
        let case = entry.unwrap().path();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let catalog = case.join("input/catalog");
        if name.ends_with("-json") || !catalog.is_dir() {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let validate = Command::new(opm())
            .arg("validate")
            .arg(&catalog)
            .output()
            .unwrap();
        let serve = Command::new(opm())
            .arg("serve")
            .arg(&catalog)
            .args(["--pprof-addr", "", "--cache-only", "--cache-dir"])
            .arg(tmp.path().join("cache"))
            .output()
            .unwrap();
        checked += 1;
        if name == "mut-shared-custom-schema-ok" {
            // `example.com/note` is a valid schema for validate, not a key
            // for serve's custom metas.
            assert_eq!(validate.status.code(), Some(0), "{name}");
            assert_eq!(serve.status.code(), Some(1), "{name}");
            continue;
        }
        assert_eq!(
            serve.status.code(),
            validate.status.code(),
            "{name}: serve {}",
            stderr(&serve)
        );
        if validate.status.success() {
            continue;
        }
        refused += 1;
        let v = fatal_msg(&stderr(&validate));
        let s = fatal_msg(&stderr(&serve));
        let load_error = !s.contains("build package index: process package");
        if !load_error {
            assert!(s.ends_with(&v), "{name}:\nvalidate: {v}\nserve:    {s}");
        }
    }
    assert!(
        checked >= 50 && refused >= 30,
        "{checked} cases, {refused} refused"
    );
}

#[test]
fn serve_refuses_an_invalid_bundle_image_like_validate() {
    let env = crate::util::Env::new();
    let dir = env.path("catalog");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.yaml"),
        "schema: olm.package\nname: foo\ndefaultChannel: stable\n---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n- name: foo.v0.1.0\n---\nschema: olm.bundle\nname: foo.v0.1.0\npackage: foo\nimage: quay.io/x/foo@sha256:zzz\nproperties:\n- type: olm.package\n  value: {packageName: foo, version: 0.1.0}\n",
    )
    .unwrap();
    let catalog = dir.to_str().unwrap();
    let cache = env.path("cache");
    let out = env.run(&[
        "serve",
        catalog,
        "--pprof-addr",
        "",
        "--cache-only",
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(r#"level=fatal msg="failed to load or rebuild cache: failed to rebuild cache: build package index: process package \"foo\": package \"foo\" bundle \"foo.v0.1.0\" image: invalid image pull spec \"quay.io/x/foo@sha256:zzz\": "#),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.run(&["validate", catalog]).status.code(), Some(1));
}
