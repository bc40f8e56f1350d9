//! A real registry for the image tests: Debian's `docker-registry` (the
//! CNCF distribution server), started once per test run on 127.0.0.1 with
//! its own config and storage in a temp dir. Two instances share one
//! storage: a plain-HTTP one without auth (tests push there) and one with
//! TLS (a CA made here) and htpasswd basic auth. Both write Apache-style
//! access logs, from which tests count blob requests.
//!
//! Images are built here from folders (tar + gzip layers, a config with
//! labels, a manifest) and pushed with plain HTTP requests.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::Digest as _;

pub const USER: &str = "opmtest";
pub const PASSWORD: &str = "s3cret-pw";

pub struct Registry {
    pub dir: tempfile::TempDir,
    /// Plain HTTP, no auth.
    pub http: String,
    /// TLS + basic auth, same storage.
    pub tls: String,
    pub ca_pem: PathBuf,
    pub http_log: PathBuf,
}

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The registry shared by every test of this run.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(start)
}

fn start() -> Registry {
    assert!(
        Path::new(REGISTRY_BIN).exists(),
        "{REGISTRY_BIN} is missing: run scripts/setup (apt-get install docker-registry)"
    );
    let dir = tempfile::Builder::new()
        .prefix("opm-test-registry-")
        .tempdir()
        .unwrap();
    let d = dir.path();
    let storage = d.join("storage");
    std::fs::create_dir_all(&storage).unwrap();

    // A CA and a server certificate for 127.0.0.1.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "opm test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "127.0.0.1");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let ca_pem = d.join("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(d.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(d.join("key.pem"), key.serialize_pem()).unwrap();
    std::fs::write(
        d.join("htpasswd"),
        format!("{USER}:{}\n", bcrypt::hash(PASSWORD, 5).unwrap()),
    )
    .unwrap();

    let http_port = free_port();
    let tls_port = free_port();
    let common = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n",
        storage.display()
    );
    std::fs::write(
        d.join("http.yml"),
        format!("{common}http:\n  addr: 127.0.0.1:{http_port}\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("tls.yml"),
        format!(
            "{common}http:\n  addr: 127.0.0.1:{tls_port}\n  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: opm-test\n    path: {}\n",
            d.join("cert.pem").display(),
            d.join("key.pem").display(),
            d.join("htpasswd").display()
        ),
    )
    .unwrap();
    let http_log = d.join("http.log");
    let tls_log = d.join("tls.log");
    spawn(&d.join("http.yml"), &http_log);
    spawn(&d.join("tls.yml"), &tls_log);
    wait_listening(http_port, &http_log);
    wait_listening(tls_port, &tls_log);
    Registry {
        http: format!("127.0.0.1:{http_port}"),
        tls: format!("127.0.0.1:{tls_port}"),
        ca_pem,
        http_log,
        dir,
    }
}

/// Start a registry that dies with this test process: a shell watches our
/// pid and stops the server when we are gone (Rust tests have no global
/// teardown).
fn spawn(config: &Path, log: &Path) {
    let script = format!(
        "{REGISTRY_BIN} serve '{}' >'{}' 2>&1 & r=$!; while kill -0 {} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.5; done; kill $r 2>/dev/null",
        config.display(),
        log.display(),
        std::process::id()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    // Reaped when it ends (after this process, in practice).
    std::thread::spawn(move || child.wait());
}

fn wait_listening(port: u16, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "docker-registry did not start on port {port}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Requests for blobs in an access log (`GET /v2/<name>/blobs/...`).
pub fn blob_gets(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
        .count()
}

// ---- a minimal HTTP/1.1 client for pushing ----

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn http(host: &str, method: &str, path: &str, ctype: Option<&str>, body: &[u8]) -> Response {
    let mut s = TcpStream::connect(host).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = ctype {
        req.push_str(&format!("Content-Type: {c}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// Flip a byte in the registry's stored copy of blob `digest`, so that it
/// serves other bytes than the digest names.
pub fn corrupt_stored_blob(reg: &Registry, digest: &str) {
    let stored = reg
        .dir
        .path()
        .join("storage/docker/registry/v2/blobs/sha256")
        .join(&digest[7..9])
        .join(&digest[7..])
        .join("data");
    let mut data = std::fs::read(&stored).unwrap();
    let n = data.len();
    data[n / 2] ^= 0x55;
    std::fs::write(&stored, data).unwrap();
}

pub fn sha256(data: &[u8]) -> String {
    let d = sha2::Sha256::digest(data);
    let mut s = String::from("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Push a blob to `host` (plain HTTP); returns its digest.
pub fn push_blob(host: &str, name: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let r = http(
        host,
        "POST",
        &format!("/v2/{name}/blobs/uploads/"),
        None,
        b"",
    );
    assert_eq!(
        r.status,
        202,
        "start upload: {}",
        String::from_utf8_lossy(&r.body)
    );
    let loc = r.header("Location").unwrap().to_string();
    let path = loc
        .strip_prefix(&format!("http://{host}"))
        .unwrap_or(&loc)
        .to_string();
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = http(
        host,
        "PUT",
        &format!("{path}{sep}digest={digest}"),
        Some("application/octet-stream"),
        data,
    );
    assert_eq!(
        r.status,
        201,
        "upload blob: {}",
        String::from_utf8_lossy(&r.body)
    );
    digest
}

/// Put a manifest under `tag` (or its digest); returns the digest.
pub fn push_manifest(host: &str, name: &str, tag: &str, media_type: &str, data: &[u8]) -> String {
    let r = http(
        host,
        "PUT",
        &format!("/v2/{name}/manifests/{tag}"),
        Some(media_type),
        data,
    );
    assert_eq!(
        r.status,
        201,
        "put manifest: {}",
        String::from_utf8_lossy(&r.body)
    );
    sha256(data)
}

// ---- building images ----

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// A deterministic tar of `dir`'s content under `prefix` (e.g. "" or
/// "configs/"), directories first as a build tool writes them.
pub fn tar_dir(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.mode(tar::HeaderMode::Deterministic);
    if !prefix.is_empty() {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, prefix.trim_end_matches('/'), std::io::empty())
            .unwrap();
    }
    add_dir(&mut b, dir, prefix);
    b.into_inner().unwrap()
}

fn add_dir(b: &mut tar::Builder<Vec<u8>>, dir: &Path, prefix: &str) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            b.append_data(&mut h, &name, std::io::empty()).unwrap();
            add_dir(b, &e.path(), &format!("{name}/"));
        } else {
            let data = std::fs::read(e.path()).unwrap();
            let mut h = tar::Header::new_ustar();
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, &name, &data[..]).unwrap();
        }
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One layer: its stored bytes, media type, and uncompressed digest.
#[derive(Clone)]
pub struct LayerBlob {
    pub data: Vec<u8>,
    pub media_type: &'static str,
    pub diff_id: String,
}

impl LayerBlob {
    pub fn gz(tar: &[u8]) -> LayerBlob {
        LayerBlob {
            data: gzip(tar),
            media_type: OCI_LAYER_GZIP,
            diff_id: sha256(tar),
        }
    }
    pub fn plain(tar: &[u8]) -> LayerBlob {
        LayerBlob {
            data: tar.to_vec(),
            media_type: OCI_LAYER,
            diff_id: sha256(tar),
        }
    }
}

/// An image ready to push or write: config and manifest bytes.
pub struct Image {
    pub config: Vec<u8>,
    pub layers: Vec<LayerBlob>,
    pub manifest: Vec<u8>,
    pub media_type: &'static str,
}

pub fn config_json(labels: &BTreeMap<String, String>, layers: &[LayerBlob]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": labels },
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()
        }
    }))
    .unwrap()
}

/// An OCI (or Docker schema 2) image of `layers` with `labels`.
pub fn image(labels: &BTreeMap<String, String>, layers: Vec<LayerBlob>, docker: bool) -> Image {
    let config = config_json(labels, &layers);
    image_with_config(config, layers, docker, None)
}

/// Like [`image`] with a given config; `lie` replaces the declared size
/// of layer 0 (a manifest that lies).
pub fn image_with_config(
    config: Vec<u8>,
    layers: Vec<LayerBlob>,
    docker: bool,
    lie: Option<i64>,
) -> Image {
    let (mt, cmt) = if docker {
        (DOCKER_MANIFEST, DOCKER_CONFIG)
    } else {
        (OCI_MANIFEST, OCI_CONFIG)
    };
    let layer_descs: Vec<_> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let size = match (i, lie) {
                (0, Some(s)) => s,
                _ => l.data.len() as i64,
            };
            serde_json::json!({
                "mediaType": if docker { DOCKER_LAYER } else { l.media_type },
                "digest": sha256(&l.data),
                "size": size,
            })
        })
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": { "mediaType": cmt, "digest": sha256(&config), "size": config.len() },
        "layers": layer_descs,
    }))
    .unwrap();
    Image {
        config,
        layers,
        manifest,
        media_type: mt,
    }
}

/// Push `img` as `<host>/<name>:<tag>`; returns the manifest digest.
pub fn push(host: &str, name: &str, tag: &str, img: &Image) -> String {
    push_blob(host, name, &img.config);
    for l in &img.layers {
        push_blob(host, name, &l.data);
    }
    push_manifest(host, name, tag, img.media_type, &img.manifest)
}

/// Wrap pushed manifests in an OCI index (platform entries as given).
pub fn push_index(host: &str, name: &str, tag: &str, entries: &[(&Image, &str, &str)]) -> String {
    let manifests: Vec<_> = entries
        .iter()
        .map(|(img, os, arch)| {
            serde_json::json!({
                "mediaType": img.media_type,
                "digest": sha256(&img.manifest),
                "size": img.manifest.len(),
                "platform": { "os": os, "architecture": arch },
            })
        })
        .collect();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .unwrap();
    push_manifest(host, name, tag, OCI_INDEX, &index)
}

/// The labels of a bundle image: those of its `metadata/annotations.yaml`
/// (a bundle build copies them), read line by line.
pub fn bundle_labels(bundle: &Path) -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(bundle.join("metadata/annotations.yaml")).unwrap_or_default();
    let mut labels = BTreeMap::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some((k, v)) = t.split_once(": ")
            && k.starts_with("operators.operatorframework.io")
        {
            labels.insert(k.to_string(), v.trim_matches(['"', '\'']).to_string());
        }
    }
    labels
        .entry("operators.operatorframework.io.bundle.package.v1".into())
        .or_insert_with(|| "unknown".into());
    labels
}

/// A bundle image of the folder `bundle` (one gzip layer at the root).
pub fn bundle_image(bundle: &Path) -> Image {
    image(
        &bundle_labels(bundle),
        vec![LayerBlob::gz(&tar_dir(bundle, ""))],
        false,
    )
}

/// A catalog image of the folder `catalog`, under `/configs`.
pub fn catalog_image(catalog: &Path) -> Image {
    let mut labels = BTreeMap::new();
    labels.insert(
        "operators.operatorframework.io.index.configs.v1".to_string(),
        "/configs".to_string(),
    );
    image(
        &labels,
        vec![LayerBlob::gz(&tar_dir(catalog, "configs/"))],
        false,
    )
}

/// Write `img` as an OCI image layout at `dir` with tag `tag`.
pub fn write_layout(dir: &Path, tag: &str, img: &Image) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| {
        let d = sha256(data);
        std::fs::write(blobs.join(&d[7..]), data).unwrap();
    };
    put(&img.config);
    for l in &img.layers {
        put(&l.data);
    }
    put(&img.manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": img.media_type,
            "digest": sha256(&img.manifest),
            "size": img.manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": tag },
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Write `img` as a `docker save` archive at `file`, named `repo_tag`.
pub fn write_docker_archive(file: &Path, repo_tag: &str, img: &Image) {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data).unwrap();
    };
    let config_name = format!("{}.json", &sha256(&img.config)[7..]);
    add(&config_name, &img.config);
    let mut layer_names = Vec::new();
    for (i, l) in img.layers.iter().enumerate() {
        let name = format!("layer{i}/layer.tar");
        add(&name, &l.data);
        layer_names.push(name);
    }
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": [repo_tag],
        "Layers": layer_names,
    }]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    std::fs::write(file, b.into_inner().unwrap()).unwrap();
}

// ---- hostile tar entries ----

/// A tar header with a raw name (no checks, unlike `set_path`).
pub fn raw_entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    let pad = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

pub fn end_tar(out: &mut Vec<u8>) {
    out.extend(std::iter::repeat_n(0u8, 1024));
}
