//! Pulling from OCI/Docker registries with `oci-client` (rustls): the
//! manifest (an index is resolved to the `linux` image, spec §4.2), the
//! config, and every layer into the blob cache, each checked against the
//! digest and size its parent declared. Layers of all images of one run
//! download concurrently.
//!
//! Transport follows Go opm's image library (containers/image): a registry
//! is first pinged at `/v2/` over HTTPS; with `--skip-tls-verify` or
//! `--use-http` (both mean "insecure" to Go, spec §0.1) certificates are
//! not verified and a registry that does not speak TLS is retried over
//! plain HTTP. Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`;
//! extra CA certificates from `SSL_CERT_FILE`/`SSL_CERT_DIR` and the
//! per-registry `certs.d` directories of docker and podman.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use tokio::sync::Mutex;

use super::auth::{self, Credential};
use super::cache::BlobCache;
use super::digest::Digest;
use super::manifest::{self, Descriptor, Manifest};
use super::reference::Reference;
use super::unpack::Layer;
use super::{PullOptions, Pulled};

/// Manifests and configs are small; a larger one is refused before it is
/// read into memory.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// One run's connections: a client per scheme, and what was learnt about
/// each registry (its scheme and credential).
pub struct Session {
    https: Client,
    http: Client,
    insecure: bool,
    cache: Arc<BlobCache>,
    registries: Mutex<HashMap<String, Arc<Mutex<Option<Endpoint>>>>>,
    progress: Option<indicatif::MultiProgress>,
}

#[derive(Clone)]
struct Endpoint {
    plain_http: bool,
    auth: RegistryAuth,
}

impl Session {
    pub fn new(opts: &PullOptions, cache: Arc<BlobCache>) -> Result<Session, String> {
        let insecure = opts.use_http || opts.skip_tls_verify;
        let roots = extra_roots(opts.ca_file.as_deref());
        let config = |protocol| ClientConfig {
            protocol,
            accept_invalid_certificates: insecure,
            extra_root_certificates: roots.clone(),
            // The index is resolved here, not by the client.
            platform_resolver: None,
            user_agent: concat!("opm/", env!("CARGO_PKG_VERSION")),
            connect_timeout: Some(std::time::Duration::from_secs(30)),
            ..Default::default()
        };
        let client = |protocol| {
            Client::try_from(config(protocol))
                .map_err(|e| format!("create registry client: {}", error_chain(&e)))
        };
        Ok(Session {
            https: client(ClientProtocol::Https)?,
            http: client(ClientProtocol::Http)?,
            insecure,
            cache,
            registries: Mutex::new(HashMap::new()),
            progress: opts.progress.then(|| {
                indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr())
            }),
        })
    }

    fn client(&self, ep: &Endpoint) -> &Client {
        if ep.plain_http {
            &self.http
        } else {
            &self.https
        }
    }

    /// Ping the registry once per run (as containers/image does), settling
    /// the scheme and credential.
    async fn endpoint(
        &self,
        r: &Reference,
        oref: &oci_client::Reference,
    ) -> Result<Endpoint, String> {
        let slot = {
            let mut map = self.registries.lock().await;
            map.entry(r.domain.clone()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        if let Some(ep) = slot.as_ref() {
            return Ok(ep.clone());
        }
        let cred = auth::lookup(&r.domain, &r.path)?;
        let auth = match cred {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic(u, p) => RegistryAuth::Basic(u, p),
            // oci-client cannot trade a refresh token; registries that
            // issue identity tokens accept them as bearer tokens.
            Credential::IdentityToken(t) => RegistryAuth::Bearer(t),
        };
        let host = oref.resolve_registry().to_string();
        let ping = |plain_http: bool| {
            let ep = Endpoint {
                plain_http,
                auth: auth.clone(),
            };
            async move {
                self.client(&ep)
                    .auth(oref, &ep.auth, RegistryOperation::Pull)
                    .await
                    .map(|_| ep)
            }
        };
        let result = match ping(false).await {
            Err(OciDistributionError::RequestError(_)) if self.insecure => ping(true).await,
            other => other,
        };
        let ep = result.map_err(|e| match e {
            OciDistributionError::RequestError(e) => {
                let scheme = if self.insecure { "http" } else { "https" };
                format!(
                    "pinging container registry {}: Get \"{scheme}://{host}/v2/\": {}",
                    r.domain,
                    error_chain(&e)
                )
            }
            other => format!(
                "pinging container registry {}: {}",
                r.domain,
                describe(&other)
            ),
        })?;
        *slot = Some(ep.clone());
        Ok(ep)
    }

    /// Pull `r`: manifest, config and layers into the cache. The layers of
    /// a catalog image whose unpacked tree is cached are skipped (their
    /// paths may not exist) unless `need_layers`.
    pub async fn pull(&self, r: &Reference, need_layers: bool) -> Result<Pulled, String> {
        let (oref, tag) = oci_ref(r);
        // GO QUIRK (spec §4.2): errors read like containers/image's:
        // `initializing source docker://<ref>: reading manifest <tag> in <name>: <registry's words>`.
        let source = format!("docker://{}", familiar(r, &tag));
        let init = |e: String| format!("initializing source {source}: {e}");
        let name = format!("{}/{}", r.domain, r.path);
        let which = r.digest.clone().unwrap_or(tag.clone());

        let cached_top = r
            .digest
            .as_deref()
            .and_then(|d| Digest::parse(d).ok())
            .and_then(|d| self.cache.read(&d));
        let (mut ep, top) = match cached_top {
            // A digest reference already in the cache needs no request.
            Some(data) => (None, data),
            None => {
                let ep = self.endpoint(r, &oref).await.map_err(init)?;
                let (data, digest) = self
                    .client(&ep)
                    .pull_manifest_raw(&oref, &ep.auth, manifest::ACCEPT)
                    .await
                    .map_err(|e| {
                        init(format!(
                            "reading manifest {which} in {name}: {}",
                            describe(&e)
                        ))
                    })?;
                let digest = Digest::parse(&digest).map_err(init)?;
                self.cache.put(&digest, &data).map_err(init)?;
                (Some(ep), data.to_vec())
            }
        };
        let (config_desc, layers, image_manifest) = match Manifest::parse(&top).map_err(init)? {
            Manifest::Image { config, layers } => (config, layers, top),
            Manifest::Index { docker, manifests } => {
                let chosen = manifest::choose_platform(&manifests, docker)
                    .map_err(|e| format!("choosing an image from manifest list {source}: {e}"))?;
                let data = self.small_blob(r, &oref, &mut ep, chosen, true).await?;
                match Manifest::parse(&data)? {
                    Manifest::Image { config, layers } => (config, layers, data),
                    Manifest::Index { .. } => {
                        return Err(format!(
                            "manifest {} chosen from the index of {source} is itself an index",
                            chosen.digest
                        ));
                    }
                }
            }
        };
        let config_data = self
            .small_blob(r, &oref, &mut ep, &config_desc, false)
            .await?;
        let config = manifest::Config::parse(&config_data)?;

        // Layers: what the cache lacks is downloaded, all at once.
        let mut wanted = Vec::new();
        for d in &layers {
            check_layer_type(d)?;
            let digest = d.digest()?;
            let size = d.size()?;
            wanted.push((d, digest, size));
        }
        // A catalog image already unpacked in the cache needs no layers
        // (should its tree prove damaged, the image is pulled again).
        let unpacked = !need_layers
            && config.labels().contains_key(super::LABEL_CONFIGS)
            && super::tree::exists(
                &self.cache,
                &super::tree::key_of(wanted.iter().map(|w| &w.1)),
            );
        let missing: Vec<_> = wanted
            .iter()
            .filter(|(_, dg, _)| !unpacked && self.cache.get(dg).is_none())
            .collect();
        if !missing.is_empty() {
            let ep = match ep {
                Some(ep) => ep,
                None => self.endpoint(r, &oref).await.map_err(init)?,
            };
            let total: u64 = missing.iter().map(|(_, _, s)| *s).sum();
            let bar = self.progress.as_ref().map(|m| {
                let b = m.add(indicatif::ProgressBar::new(total));
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg:40!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b.set_message(familiar(r, &tag));
                b
            });
            let downloads = missing
                .iter()
                .map(|(d, digest, size)| self.download(&ep, &oref, d, digest, *size, bar.as_ref()));
            let results = futures_util::future::join_all(downloads).await;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            for r in results {
                r?;
            }
        }
        let diff_ids = config.diff_ids();
        Ok(Pulled {
            labels: config.labels(),
            manifest: Some(image_manifest),
            config: config_data,
            layers: wanted
                .into_iter()
                .enumerate()
                .map(|(i, (_, digest, size))| Layer {
                    path: self.cache.path(&digest),
                    digest: Some(digest),
                    size: Some(size),
                    diff_id: diff_ids.get(i).and_then(|d| Digest::parse(d).ok()),
                })
                .collect(),
            _keep: None,
            in_cache: true,
        })
    }

    /// Push an image to `target`: every blob the registry lacks, then the
    /// manifest. The tag moves only with the manifest, which is sent last,
    /// so a push that fails on the way leaves the tag where it was.
    ///
    /// Blobs the repository already has (a `HEAD` answers) are skipped; a
    /// blob whose `from` repository is on the same registry is first offered
    /// as a cross-repository mount, and uploaded only when that is refused.
    pub async fn push(
        &self,
        target: &Reference,
        blobs: &[PushBlob],
        manifest: &[u8],
        media_type: &str,
    ) -> Result<(), String> {
        let (oref, tag) = oci_ref(target);
        let dest = format!("docker://{}", familiar(target, &tag));
        let fail = |e: String| format!("pushing {dest}: {e}");
        let ep = self.endpoint(target, &oref).await.map_err(fail)?;
        let client = self.client(&ep);
        // The ping asked for pull rights; push rights are asked for now, so
        // that a refusal says so before any blob is sent.
        client
            .auth(&oref, &ep.auth, RegistryOperation::Push)
            .await
            .map_err(|e| fail(describe(&e)))?;
        let uploads = blobs.iter().map(|b| async {
            let mount = b
                .from
                .as_ref()
                .filter(|m| m.domain == target.domain && m.path != target.path)
                .map(|m| oci_ref(m).0);
            let digest = b.digest.to_string();
            let what =
                |e: &OciDistributionError| format!("uploading blob {digest}: {}", describe(e));
            if client
                .blob_exists(&oref, &digest)
                .await
                .map_err(|e| what(&e))?
            {
                return Ok(());
            }
            if let Some(src) = &mount
                && client.mount_blob(&oref, src, &digest).await.is_ok()
            {
                return Ok(());
            }
            match &b.data {
                BlobData::Bytes(data) => client.push_blob(&oref, data.clone(), &digest).await,
                BlobData::File(path) => {
                    let file = tokio::fs::File::open(path).await.map_err(|e| {
                        format!("uploading blob {digest}: open {}: {e}", path.display())
                    })?;
                    client
                        .push_blob_stream(&oref, file_stream(file), &digest, Some(b.size))
                        .await
                }
            }
            .map(|_| ())
            .map_err(|e| what(&e))
        });
        for r in futures_util::future::join_all(uploads).await {
            r.map_err(fail)?;
        }
        let content_type = http::HeaderValue::from_str(media_type)
            .map_err(|e| fail(format!("manifest media type {media_type:?}: {e}")))?;
        client
            .push_manifest_raw(&oref, manifest.to_vec(), content_type)
            .await
            .map_err(|e| fail(format!("writing manifest: {}", describe(&e))))?;
        Ok(())
    }

    /// A manifest or config named by `desc`: from the cache, or fetched,
    /// checked against its digest and size, and cached.
    async fn small_blob(
        &self,
        r: &Reference,
        oref: &oci_client::Reference,
        ep: &mut Option<Endpoint>,
        desc: &Descriptor,
        is_manifest: bool,
    ) -> Result<Vec<u8>, String> {
        let digest = desc.digest()?;
        let size = desc.size()?;
        let what = if is_manifest { "manifest" } else { "config" };
        if size > MAX_MANIFEST_BYTES {
            return Err(format!("{what} {digest} is too large ({size} bytes)"));
        }
        if let Some(data) = self.cache.read(&digest) {
            return Ok(data);
        }
        let e = match ep {
            Some(e) => e.clone(),
            None => {
                let e = self.endpoint(r, oref).await?;
                *ep = Some(e.clone());
                e
            }
        };
        let data = if is_manifest {
            let child = oref.clone_with_digest(digest.to_string());
            let (data, _) = self
                .client(&e)
                .pull_manifest_raw(&child, &e.auth, manifest::ACCEPT)
                .await
                .map_err(|err| {
                    format!(
                        "reading manifest {digest} in {}/{}: {}",
                        r.domain,
                        r.path,
                        describe(&err)
                    )
                })?;
            data.to_vec()
        } else {
            let mut out = Vec::new();
            self.client(&e)
                .pull_blob(oref, &oci_descriptor(desc), &mut out)
                .await
                .map_err(|err| format!("reading blob {digest}: {}", describe(&err)))?;
            out
        };
        if data.len() as u64 != size {
            return Err(format!(
                "{what} {digest} is {} bytes but its descriptor declares {size}",
                data.len()
            ));
        }
        digest.verify(&data, &format!("{what} {digest}"))?;
        self.cache.put(&digest, &data)?;
        Ok(data)
    }

    /// Stream one layer into the cache, refusing more bytes than declared.
    async fn download(
        &self,
        ep: &Endpoint,
        oref: &oci_client::Reference,
        desc: &Descriptor,
        digest: &Digest,
        size: u64,
        bar: Option<&indicatif::ProgressBar>,
    ) -> Result<(), String> {
        let what = || format!("reading blob {digest}");
        let mut stream = self
            .client(ep)
            .pull_blob_stream(oref, &oci_descriptor(desc))
            .await
            .map_err(|e| format!("{}: {}", what(), describe(&e)))?;
        let tmp = self.cache.begin()?;
        let mut out = super::digest::HashingWriter::new(std::io::BufWriter::new(tmp), digest);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("{}: {e}", what()))?;
            if out.count + chunk.len() as u64 > size {
                return Err(format!(
                    "{}: more than the {size} bytes its descriptor declares",
                    what()
                ));
            }
            out.write_all(&chunk)
                .map_err(|e| format!("{}: write cache: {e}", what()))?;
            if let Some(b) = bar {
                b.inc(chunk.len() as u64);
            }
        }
        let count = out.count;
        let (writer, got) = out.finish();
        if count != size {
            return Err(format!(
                "{}: got {count} bytes but its descriptor declares {size}",
                what()
            ));
        }
        got.expect(digest, &what())?;
        let tmp = writer
            .into_inner()
            .map_err(|e| format!("{}: write cache: {e}", what()))?;
        self.cache.commit(tmp, digest)?;
        Ok(())
    }
}

/// A blob to push: its digest and size, and where its bytes are.
pub struct PushBlob {
    pub digest: Digest,
    pub size: u64,
    pub data: BlobData,
    /// A repository known to hold the blob, to mount it from.
    pub from: Option<Reference>,
}

pub enum BlobData {
    Bytes(bytes::Bytes),
    File(PathBuf),
}

/// The client's reference for `r`, and the tag (`latest` when none).
fn oci_ref(r: &Reference) -> (oci_client::Reference, String) {
    let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
    let oref = match &r.digest {
        Some(d) => oci_client::Reference::with_digest(r.domain.clone(), r.path.clone(), d.clone()),
        None => oci_client::Reference::with_tag(r.domain.clone(), r.path.clone(), tag.clone()),
    };
    (oref, tag)
}

/// A file as a stream of chunks, for uploads that do not hold a layer in
/// memory.
fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = oci_client::errors::Result<bytes::Bytes>> + Send + 'static {
    futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        // One request per chunk: fill each up to the client's chunk size.
        let mut buf = vec![0u8; 4 << 20];
        let mut n = 0;
        while n < buf.len() {
            let got = file
                .read(&mut buf[n..])
                .await
                .map_err(|e| OciDistributionError::GenericError(Some(format!("read blob: {e}"))))?;
            if got == 0 {
                break;
            }
            n += got;
        }
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((bytes::Bytes::from(buf), file)))
    })
}

fn oci_descriptor(d: &Descriptor) -> OciDescriptor {
    OciDescriptor {
        media_type: d.media_type.clone(),
        digest: d.digest.clone(),
        size: d.size,
        urls: None,
        annotations: None,
        ..Default::default()
    }
}

/// Layers must be (possibly gzip-compressed) tars; foreign layers that
/// live elsewhere are not fetched.
fn check_layer_type(d: &Descriptor) -> Result<(), String> {
    let mt = d.media_type.as_str();
    if mt.contains("foreign") || d.urls.as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(format!(
            "layer {} is a foreign layer ({mt}); its content is not in the registry",
            d.digest
        ));
    }
    if mt.is_empty() || mt.contains("tar") || mt.contains("rootfs") {
        Ok(())
    } else {
        Err(format!(
            "layer {} has unsupported media type {mt:?}",
            d.digest
        ))
    }
}

/// Docker's familiar form of a reference (`ubuntu:latest` for
/// `docker.io/library/ubuntu`), with the tag Go adds when none was given.
pub fn familiar(r: &Reference, tag: &str) -> String {
    let mut name = format!("{}/{}", r.domain, r.path);
    if r.domain == super::reference::DEFAULT_DOMAIN {
        name = r
            .path
            .strip_prefix("library/")
            .filter(|p| !p.contains('/'))
            .unwrap_or(&r.path)
            .to_string();
    }
    match &r.digest {
        Some(d) => format!("{name}@{d}"),
        None => format!("{name}:{tag}"),
    }
}

/// A registry error in containers/image's words: the registry's message
/// when it is the code's standard one, else `<code in words>: <message>`.
fn describe(e: &OciDistributionError) -> String {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => match envelope.errors.first() {
            Some(err) => {
                let code = serde_json::to_value(&err.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                if err.message.is_empty() || Some(err.message.as_str()) == default_message(&code) {
                    default_message(&code).map_or(err.message.clone(), str::to_owned)
                } else {
                    format!("{}: {}", code.to_lowercase().replace('_', " "), err.message)
                }
            }
            None => "registry returned an empty error list".into(),
        },
        // The body of a 401 is not kept by oci-client; a distribution
        // registry's is UNAUTHORIZED with its standard message.
        OciDistributionError::UnauthorizedError { .. } => "authentication required".into(),
        OciDistributionError::ServerError { code, message, .. } => {
            let mut m = message.clone();
            if m.len() > 50 {
                let mut cut = 50;
                while !m.is_char_boundary(cut) {
                    cut -= 1;
                }
                m.truncate(cut);
                m.push_str("...");
            }
            format!("StatusCode: {code}, {m:?}")
        }
        OciDistributionError::AuthenticationFailure(reason) => {
            format!(
                "unable to retrieve auth token: invalid username/password: {}",
                reason.trim()
            )
        }
        // A refusal the client turned into a plain HTTP error (a blob's
        // HEAD has no body to read the registry's words from).
        OciDistributionError::RequestError(e)
            if e.status() == Some(http::StatusCode::UNAUTHORIZED) =>
        {
            "authentication required".into()
        }
        OciDistributionError::RequestError(e)
            if e.status() == Some(http::StatusCode::FORBIDDEN) =>
        {
            "requested access to the resource is denied".into()
        }
        OciDistributionError::RequestError(e) => error_chain(e),
        other => other.to_string(),
    }
}

/// docker/distribution's standard messages (`errcode` descriptors).
fn default_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "BLOB_UNKNOWN" => "blob unknown to registry",
        "BLOB_UPLOAD_INVALID" => "blob upload invalid",
        "BLOB_UPLOAD_UNKNOWN" => "blob upload unknown to registry",
        "DIGEST_INVALID" => "provided digest did not match uploaded content",
        "MANIFEST_BLOB_UNKNOWN" => "blob unknown to registry",
        "MANIFEST_INVALID" => "manifest invalid",
        "MANIFEST_UNKNOWN" => "manifest unknown",
        "MANIFEST_UNVERIFIED" => "manifest failed signature verification",
        "NAME_INVALID" => "invalid repository name",
        "NAME_UNKNOWN" => "repository name not known to registry",
        "SIZE_INVALID" => "provided length did not match content length",
        "TAG_INVALID" => "manifest tag did not match URI",
        "UNAUTHORIZED" => "authentication required",
        "DENIED" => "requested access to the resource is denied",
        "UNSUPPORTED" => "The operation is unsupported.",
        "TOOMANYREQUESTS" => "too many requests",
        _ => return None,
    })
}

/// An error and its causes on one line (reqwest's top message alone says
/// little: "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

/// CA certificates to trust besides the system's: `--ca-file`, `SSL_CERT_FILE`, every
/// file in `SSL_CERT_DIR`, and the `*.crt` of the registry directories
/// under `/etc/containers/certs.d`, `/etc/docker/certs.d` and
/// `~/.config/containers/certs.d` (trusted for every registry: one client
/// serves the run).
fn extra_roots(ca_file: Option<&std::path::Path>) -> Vec<Certificate> {
    let mut files: Vec<PathBuf> = ca_file.map(PathBuf::from).into_iter().collect();
    if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
        files.push(f.into());
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("SSL_CERT_DIR") {
        dirs.extend(std::env::split_paths(&d));
    }
    let mut certs_d = vec![
        PathBuf::from("/etc/containers/certs.d"),
        PathBuf::from("/etc/docker/certs.d"),
    ];
    if let Some(h) = std::env::var_os("HOME") {
        certs_d.push(PathBuf::from(h).join(".config/containers/certs.d"));
    }
    for base in certs_d {
        if let Ok(rd) = std::fs::read_dir(base) {
            dirs.extend(rd.flatten().map(|e| e.path()));
        }
    }
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(&d) {
            let mut found: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "crt" || x == "pem" || x == "cer")
                        || p.file_name()
                            .is_some_and(|n| n.to_string_lossy().ends_with(".0"))
                })
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        // One Certificate per PEM block: reqwest reads only the first.
        let mut block = String::new();
        for line in text.lines() {
            if line.starts_with("-----BEGIN CERTIFICATE-----") {
                block.clear();
            }
            block.push_str(line);
            block.push('\n');
            if line.starts_with("-----END CERTIFICATE-----") {
                out.push(Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: std::mem::take(&mut block).into_bytes(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn familiar_names() {
        let r = super::super::reference::parse_normalized_named("ubuntu").unwrap();
        assert_eq!(familiar(&r, "latest"), "ubuntu:latest");
        let r = super::super::reference::parse_normalized_named("localhost:5000/a/b").unwrap();
        assert_eq!(familiar(&r, "latest"), "localhost:5000/a/b:latest");
    }
}
