//! The fuzz targets' code, one module per target (`<target>::run`), and
//! the helpers they share: the `render` path on bytes, a small served
//! catalog built once per process, a runtime to drive the async handlers
//! without a socket. The files in fuzz_targets/ only hand libFuzzer's input
//! to `run`; tests/cli/fuzz_regressions.rs includes this file to replay the
//! inputs under testdata/fuzz-regressions/ through the same code.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use opm::catalog::load::load_bytes;
use opm::catalog::write::write_stream;
use opm::catalog::{DeclarativeConfig, Format, LoadOptions, prepare_for_render};
use opm::serve::registry::Registry;

/// The repository's testdata directory.
pub fn testdata() -> PathBuf {
    // fuzz/ when built by cargo-fuzz, the repository root when included by
    // the integration tests.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match dir.join("testdata") {
        own if own.is_dir() => own,
        _ => dir.join("../testdata"),
    }
}

/// Load `data` as one catalog file, as `render` does (objects kept).
pub fn load(data: &[u8]) -> Result<DeclarativeConfig, String> {
    let opts = LoadOptions {
        keep_objects: true,
        ..LoadOptions::default()
    };
    load_bytes(data, Path::new("fuzz.json"), opts).map_err(|e| e.message)
}

/// Write a catalog in `format`, as `render -o` does. The only errors are
/// Go's: YAML output goes through Go's YAML parser (`JSONToYAML`), which
/// refuses some valid JSON (control characters in strings, keys longer
/// than 1024 characters).
pub fn write(cfg: &DeclarativeConfig, format: Format) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match write_stream(cfg, format, &mut out) {
        Ok(()) => Ok(out),
        Err(e) => {
            let e = e.to_string();
            assert!(
                format == Format::Yaml && e.starts_with("yaml: "),
                "writing a loaded catalog to memory failed: {e}"
            );
            Err(e)
        }
    }
}

/// The whole `render` path on one file's bytes; when the input loads, its
/// JSON and YAML output must load again and write the same JSON.
pub fn render_round_trip(data: &[u8]) {
    let Ok(mut cfg) = load(data) else { return };
    prepare_for_render(&mut cfg);
    let json = write(&cfg, Format::Json).expect("JSON");
    let again = load(&json).unwrap_or_else(|e| panic!("render's JSON output does not load: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&write(&again, Format::Json).expect("JSON")),
        String::from_utf8_lossy(&json),
        "JSON → load → JSON changed the catalog"
    );
    let Ok(yaml) = write(&cfg, Format::Yaml) else {
        return;
    };
    if go_yaml_changes(&json) {
        return;
    }
    let from_yaml =
        load(&yaml).unwrap_or_else(|e| panic!("render's YAML output does not load: {e}"));
    let from_yaml = write(&from_yaml, Format::Json).expect("JSON");
    if from_yaml != json {
        panic!(
            "YAML → load → JSON changed the catalog:\n{}\n---- became ----\n{}",
            String::from_utf8_lossy(&json),
            String::from_utf8_lossy(&from_yaml)
        );
    }
}

/// Whether Go's own YAML output of this JSON is a different catalog, which
/// we match: a raw NEL (U+0085) in a string is read back by `JSONToYAML` as
/// a line break folded into a space, the number `-0` comes back from
/// YAML as the integer 0, and a `"<<"` key is written plain, so read back
/// as a merge.
fn go_yaml_changes(json: &[u8]) -> bool {
    let text = String::from_utf8_lossy(json);
    text.contains('\u{85}')
        || text.contains("\"<<\"")
        || text.match_indices("-0").any(|(i, _)| {
            !matches!(
                text.as_bytes().get(i + 2),
                Some(b'0'..=b'9' | b'.' | b'e' | b'E')
            )
        })
}

/// A registry over testdata/example-catalog, built once per process into a
/// directory that lives as long as the process.
pub fn registry() -> Arc<Registry> {
    static REG: OnceLock<Arc<Registry>> = OnceLock::new();
    REG.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let built = opm::serve::cache::build(&testdata().join("example-catalog"), &dir)
            .expect("build the cache of the example catalog");
        let cache = opm::serve::cache::open(&dir, &built.digest).expect("open the cache");
        Arc::new(Registry::new(cache))
    })
    .clone()
}

/// A single-threaded runtime for the async handlers.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

/// Split fuzz input into fields at NUL bytes (lossy UTF-8).
pub fn fields(data: &[u8]) -> Vec<String> {
    data.split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// Layers of a fuzz input: the bytes split at [`LAYER_SEPARATOR`].
pub const LAYER_SEPARATOR: &[u8] = b"\n--opm-fuzz-layer--\n";

/// Apply `data` (one or more tar layers, see [`LAYER_SEPARATOR`]) into a
/// fresh root, and check that nothing was written outside it: the sandbox
/// around the root is unchanged and every symlink in the root resolves,
/// lexically, inside it. Returns the sandbox (root at `root`) when the
/// layers applied.
pub fn unpack_checked(data: &[u8]) -> Option<tempfile::TempDir> {
    use opm::image::unpack::{Layer, apply_layers};
    let sandbox = tempfile::tempdir().expect("tempdir");
    let base = sandbox.path();
    let root = base.join("root");
    std::fs::create_dir(&root).expect("mkdir root");
    std::fs::write(base.join("outside"), b"sentinel").expect("sentinel");
    let mut layers = Vec::new();
    for (i, part) in split(data, LAYER_SEPARATOR).into_iter().enumerate().take(4) {
        let path = base.join(format!("layer{i}"));
        std::fs::write(&path, part).expect("write layer");
        layers.push(Layer {
            path,
            digest: None,
            size: None,
            diff_id: None,
        });
    }
    let applied = apply_layers(&layers, &root, 64 << 20);
    let mut names: Vec<String> = std::fs::read_dir(base)
        .expect("read sandbox")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..layers.len()).map(|i| format!("layer{i}")).collect();
    expected.extend(["outside".to_string(), "root".to_string()]);
    expected.sort();
    assert_eq!(names, expected, "unpacking wrote beside the root");
    assert_eq!(
        std::fs::read(base.join("outside")).expect("sentinel"),
        b"sentinel"
    );
    check_links(&root, &root);
    applied.ok().map(|()| sandbox)
}

fn check_links(root: &Path, dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        let ft = entry.file_type().expect("file type");
        if ft.is_symlink() {
            let target = std::fs::read_link(&path).expect("readlink");
            assert!(
                target.is_relative(),
                "absolute symlink {} -> {}",
                path.display(),
                target.display()
            );
            let rel = dir.strip_prefix(root).expect("below root");
            let mut depth = rel.components().count() as i64;
            for c in target.components() {
                match c {
                    std::path::Component::ParentDir => depth -= 1,
                    std::path::Component::Normal(_) => depth += 1,
                    _ => {}
                }
                assert!(
                    depth >= 0,
                    "symlink {} -> {} leaves the root",
                    path.display(),
                    target.display()
                );
            }
        } else if ft.is_dir() {
            check_links(root, &path);
        }
    }
}

/// Split `data` at every occurrence of `sep`.
pub fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

/// The FBC loader on a JSON file, through render's writers (seeds: JSON).
pub mod fbc_json {
    use opm::catalog::load::{FAST_PATH_OPTIONS, fast_and_general};

    pub fn run(data: &[u8]) {
        // The fast path for JSON files loads what the general path does.
        if let Ok(text) = std::str::from_utf8(data) {
            for opts in FAST_PATH_OPTIONS {
                if let Some((fast, general)) =
                    fast_and_general(text, std::path::Path::new("f.json"), opts)
                {
                    assert_eq!(fast, general, "the fast path loaded another catalog");
                }
            }
        }
        super::render_round_trip(data);
    }
}

/// The FBC loader on a YAML file, through render's writers (seeds: YAML).
pub mod fbc_yaml {
    pub fn run(data: &[u8]) {
        super::render_round_trip(data);
    }
}

/// The YAML scanner, parser and emitter: what parses must emit, and the
/// emitted text must parse back to the same value.
pub mod yaml_roundtrip {
    use opm::encoding::yaml::{json_to_yaml, json_to_yaml_via_tree, yaml_to_value};

    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        // The streaming writer (taken when the keys are in go-yaml's
        // order) writes what the tree writes, for the input as JSON too.
        differential(data);
        let Ok(value) = yaml_to_value(text) else {
            return;
        };
        let json = serde_json::to_vec(&value).expect("a parsed value encodes");
        differential(&json);
        let mut yaml = Vec::new();
        if let Err(e) = json_to_yaml(&json, &mut yaml) {
            // Go's JSONToYAML reads JSON with the YAML parser, which refuses
            // some of it (see `write`).
            assert!(
                e.to_string().starts_with("yaml: "),
                "the emitter refused what the parser made: {e}"
            );
            return;
        }
        let yaml = String::from_utf8(yaml).expect("the emitter writes UTF-8");
        if super::go_yaml_changes(&json) {
            return;
        }
        let back = yaml_to_value(&yaml)
            .unwrap_or_else(|e| panic!("emitted YAML does not parse: {e}\n{yaml}"));
        assert!(
            same(&back, &value),
            "YAML round trip changed the value:\n{yaml}\n{back:?}\n{value:?}"
        );
    }

    fn differential(json: &[u8]) {
        let (mut streamed, mut tree) = (Vec::new(), Vec::new());
        let a = json_to_yaml(json, &mut streamed).map_err(|e| e.to_string());
        let b = json_to_yaml_via_tree(json, &mut tree).map_err(|e| e.to_string());
        assert_eq!(a, b, "streaming and tree disagree on the result");
        assert!(
            streamed == tree,
            "streaming and tree write different YAML:\n{}\n---\n{}",
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&tree)
        );
    }

    /// Equal as YAML means it: numbers by value (Go writes the float 1.0
    /// as `1`, read back as an integer). What Go itself changes is not
    /// compared (`go_yaml_changes`).
    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }
}

/// A registry+v1 bundle directory (manifests/, metadata/) from a tar, as
/// `render` reads an unpacked bundle image.
pub mod bundle_tar {
    pub fn run(data: &[u8]) {
        let Some(sandbox) = super::unpack_checked(data) else {
            return;
        };
        let root = sandbox.path().join("root");
        if let Ok(bundle) = opm::bundle::render_dir(&root, None) {
            let mut cfg = opm::catalog::DeclarativeConfig::default();
            cfg.bundles.push(bundle);
            opm::catalog::prepare_for_render(&mut cfg);
            let _ = super::write(&cfg, opm::catalog::Format::Json);
            let _ = super::write(&cfg, opm::catalog::Format::Yaml);
        }
    }
}

/// Image manifests, indexes and configs as a registry or an OCI layout
/// hands them over.
pub mod image_manifest {
    use opm::image::manifest::{Config, Manifest, choose_platform};

    pub fn run(data: &[u8]) {
        match Manifest::parse(data) {
            Ok(Manifest::Image { config, layers }) => {
                for d in std::iter::once(&config).chain(&layers) {
                    let _ = d.digest();
                    let _ = d.size();
                }
            }
            Ok(Manifest::Index { docker, manifests }) => {
                if let Ok(d) = choose_platform(&manifests, docker) {
                    let _ = d.digest();
                    let _ = d.size();
                }
            }
            Err(_) => {}
        }
        if let Ok(c) = Config::parse(data) {
            let _ = c.labels();
            let _ = c.diff_ids();
        }
    }
}

/// Image layer unpacking: whatever the archives say, nothing is written
/// outside the root (checked by `unpack_checked`).
pub mod tar_unpack {
    pub fn run(data: &[u8]) {
        let _ = super::unpack_checked(data);
    }
}

/// Legacy SQLite index databases: structurally valid files (the schema of
/// a real index) with hostile contents. The input is a list of cell
/// writes `[column][row][len lo][len hi][bytes...]` applied to a copy of
/// testdata/corpus/sqlite/opreg-foo-index.db before rendering it.
pub mod sqlite_index {
    use rusqlite::types::Value;

    /// The cells the input may overwrite: (table, column).
    const CELLS: &[(&str, &str)] = &[
        ("operatorbundle", "name"),
        ("operatorbundle", "csv"),
        ("operatorbundle", "bundle"),
        ("operatorbundle", "bundlepath"),
        ("operatorbundle", "skiprange"),
        ("operatorbundle", "version"),
        ("operatorbundle", "replaces"),
        ("operatorbundle", "skips"),
        ("operatorbundle", "substitutesfor"),
        ("package", "name"),
        ("package", "default_channel"),
        ("channel", "name"),
        ("channel", "package_name"),
        ("channel", "head_operatorbundle_name"),
        ("channel_entry", "channel_name"),
        ("channel_entry", "package_name"),
        ("channel_entry", "operatorbundle_name"),
        ("channel_entry", "replaces"),
        ("channel_entry", "depth"),
        ("related_image", "image"),
        ("related_image", "operatorbundle_name"),
        ("api_provider", "group_name"),
        ("api_provider", "version"),
        ("api_provider", "kind"),
        ("api_provider", "operatorbundle_name"),
        ("dependencies", "type"),
        ("dependencies", "value"),
        ("properties", "type"),
        ("properties", "value"),
        ("properties", "operatorbundle_name"),
        ("api", "group_name"),
        ("api", "plural"),
        ("schema_migrations", "version"),
    ];

    pub fn run(data: &[u8]) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("index.db");
        std::fs::copy(
            super::testdata().join("corpus/sqlite/opreg-foo-index.db"),
            &db,
        )
        .expect("copy seed db");
        {
            let conn = rusqlite::Connection::open(&db).expect("open");
            let mut rest = data;
            while rest.len() >= 4 {
                let (table, column) = CELLS[rest[0] as usize % CELLS.len()];
                let row = i64::from(rest[1] & 0x7f);
                let null = rest[1] & 0x80 != 0;
                let len = usize::from(u16::from_le_bytes([rest[2], rest[3]])).min(rest.len() - 4);
                let bytes = &rest[4..4 + len];
                rest = &rest[4 + len..];
                // Text mostly; an integer when the bytes say so; NULL on request.
                let value = if null {
                    Value::Null
                } else if let Some(n) = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Value::Integer(n)
                } else {
                    Value::Text(String::from_utf8_lossy(bytes).into_owned())
                };
                let sql = format!(
                    "UPDATE {table} SET {column} = ?1 WHERE rowid = \
                     (SELECT rowid FROM {table} ORDER BY rowid LIMIT 1 OFFSET ?2)"
                );
                let _ = conn.execute(&sql, rusqlite::params![value, row]);
            }
        }
        if let Ok(cfg) = opm::sqlite::render_db(&db) {
            let _ = super::write(&cfg, opm::catalog::Format::Json);
        }
    }
}

/// `serve`'s gRPC handlers on a small catalog (testdata/example-catalog):
/// the first byte picks the method, the rest is the protobuf request.
pub mod serve_grpc {
    use opm::serve::grpc::{ExperimentalService, HealthService, RegistryService};
    use opm::serve::proto::api::experimental_registry_server::ExperimentalRegistry;
    use opm::serve::proto::api::registry_server::Registry;
    use opm::serve::proto::api::*;
    use opm::serve::proto::health::HealthCheckRequest;
    use opm::serve::proto::health::health_server::Health;
    use prost::Message;
    use tokio_stream::StreamExt;
    use tonic::Request;

    fn req<T: Message + Default>(b: &[u8]) -> Option<Request<T>> {
        T::decode(b).ok().map(Request::new)
    }

    macro_rules! unary {
        ($svc:expr, $method:ident, $b:expr) => {
            if let Some(r) = req($b) {
                let _ = $svc.$method(r).await;
            }
        };
    }

    macro_rules! stream {
        ($svc:expr, $method:ident, $b:expr) => {
            if let Some(r) = req($b) {
                if let Ok(resp) = $svc.$method(r).await {
                    let mut s = resp.into_inner();
                    while let Some(item) = s.next().await {
                        let _ = item.map(|m| m.encode_to_vec());
                    }
                }
            }
        };
    }

    pub fn run(data: &[u8]) {
        let Some((&selector, b)) = data.split_first() else {
            return;
        };
        let reg = super::registry();
        let svc = RegistryService::new(reg.clone());
        let exp = ExperimentalService::new(reg);
        super::runtime().block_on(async {
            match selector % 13 {
                0 => stream!(svc, list_packages, b),
                1 => unary!(svc, get_package, b),
                2 => unary!(svc, get_bundle, b),
                3 => unary!(svc, get_bundle_for_channel, b),
                4 => stream!(svc, get_channel_entries_that_replace, b),
                5 => unary!(svc, get_bundle_that_replaces, b),
                6 => stream!(svc, get_channel_entries_that_provide, b),
                7 => stream!(svc, get_latest_channel_entries_that_provide, b),
                8 => unary!(svc, get_default_bundle_that_provides, b),
                9 => stream!(svc, list_bundles, b),
                10 => {
                    if let Some(mut r) = req::<ExperimentalListPackageCustomSchemasRequest>(b) {
                        r.metadata_mut()
                            .insert("x-acknowledge-experimental", "true".parse().expect("ascii"));
                        if let Ok(resp) = exp.experimental_list_package_custom_schemas(r).await {
                            let mut s = resp.into_inner();
                            while let Some(item) = s.next().await {
                                let _ = item.map(|m| m.encode_to_vec());
                            }
                        }
                    }
                }
                11 => stream!(exp, experimental_list_package_custom_schemas, b),
                _ => {
                    if let Some(r) = req::<HealthCheckRequest>(b) {
                        let _ = HealthService.check(r).await;
                    }
                }
            }
        });
    }
}

/// `serve`'s catalogd HTTP API on a small catalog: the input is the
/// request target (path and query) and header lines, one per line.
pub mod serve_http {
    use http_body_util::BodyExt;

    pub fn run(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let mut lines = text.split('\n');
        let target = lines.next().unwrap_or("/");
        let mut builder = http::Request::builder().uri(target);
        let method = if target.len().is_multiple_of(3) {
            "HEAD"
        } else {
            "GET"
        };
        builder = builder.method(method);
        for line in lines {
            if let Some((k, v)) = line.split_once(':') {
                builder = builder.header(k.trim(), v.trim());
            }
        }
        let Ok(req) = builder.body(()) else { return };
        let reg = super::registry();
        let resp = opm::serve::http::handle(&reg, &req);
        let _ = super::runtime().block_on(resp.into_body().collect());
    }
}

/// `serve`'s cache file damaged at any byte: opening it is an error or a
/// cache that answers every query without a panic. The input is a list of
/// edits `[offset u32 le][len u8][bytes...]` on a good cache file; a
/// leading 0xff byte truncates the file at the first offset instead.
pub mod serve_cache {
    use http_body_util::BodyExt;
    use opm::serve::cache;
    use opm::serve::registry::Registry;
    use std::os::unix::fs::FileExt;
    use std::sync::{Arc, OnceLock};

    /// The cache header's length and where its body CRC-32 sits in it.
    const HEADER_LEN: usize = 96;
    const CRC_AT: usize = 88;

    /// CRC-32 (IEEE, as `crc32fast`), bitwise: the caches here are small.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            }
        }
        !crc
    }

    /// A good cache of the example catalog and its digest.
    fn good() -> &'static (Vec<u8>, [u8; 32]) {
        static GOOD: OnceLock<(Vec<u8>, [u8; 32])> = OnceLock::new();
        GOOD.get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let built = cache::build(&super::testdata().join("example-catalog"), dir.path())
                .expect("build");
            let bytes = std::fs::read(cache::cache_file(dir.path())).expect("read cache");
            (bytes, built.digest)
        })
    }

    pub fn run(data: &[u8]) {
        let (bytes, digest) = good();
        let dir = tempfile::tempdir().expect("tempdir");
        let file = cache::cache_file(dir.path());
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, bytes).expect("write cache");
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .expect("open");
        // 0xfe: edit, then forge the header's CRC-32 over the edited body,
        // so that the decoding behind the checksum is reached too (a cache
        // written wrong, or by someone who can write the cache directory).
        let (truncate, forge, mut rest) = match data.split_first() {
            Some((0xff, rest)) => (true, false, rest),
            Some((0xfe, rest)) => (false, true, rest),
            _ => (false, false, data),
        };
        while rest.len() >= 5 {
            let offset = u64::from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]))
                % (bytes.len() as u64 + 1);
            if truncate {
                f.set_len(offset).expect("truncate");
                break;
            }
            let len = usize::from(rest[4]).min(rest.len() - 5);
            f.write_all_at(&rest[5..5 + len], offset).expect("edit");
            rest = &rest[5 + len..];
        }
        drop(f);
        if forge {
            let mut edited = std::fs::read(&file).expect("read cache");
            if edited.len() >= HEADER_LEN {
                let crc = crc32(&edited[HEADER_LEN..]);
                edited[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
                std::fs::write(&file, edited).expect("write cache");
            }
        }
        let Ok(c) = cache::open(dir.path(), digest) else {
            return;
        };
        let reg = Arc::new(Registry::new(c));
        for pkg in reg.list_packages() {
            if let Ok(p) = reg.get_package(&pkg) {
                for ch in &p.channels {
                    let _ = reg.get_bundle_for_channel(&pkg, &ch.name);
                    let _ = reg.get_bundle(&pkg, &ch.name, &ch.csv_name);
                    let _ = reg.get_bundle_that_replaces(&ch.csv_name, &pkg, &ch.name);
                    let _ = reg.channel_entries_that_replace(&ch.csv_name);
                }
            }
            for b in reg.custom_blobs("olm.package", &pkg) {
                let _ = reg.blob(b);
            }
        }
        for i in 0..reg.list_len() {
            let _ = reg.list_bundle(i);
        }
        let req = http::Request::get("/api/v1/all").body(()).expect("request");
        let resp = opm::serve::http::handle(&reg, &req);
        let _ = super::runtime().block_on(resp.into_body().collect());
    }
}

/// The catalog template decoders (basic, semver, substitutes) and
/// `alpha convert-template`, with a stub that renders any image
/// `<repo>/<package>:v<version>` into one bundle.
pub mod templates {
    use opm::catalog::{DeclarativeConfig, Format};
    use opm::template::{self, BundleRenderer, Kind};

    struct Stub;

    impl BundleRenderer for Stub {
        fn render(&self, image: &str) -> Result<DeclarativeConfig, String> {
            let (repo, tag) = image.rsplit_once(':').ok_or("no tag")?;
            let pkg = repo.rsplit('/').next().unwrap_or(repo);
            let version = tag.strip_prefix('v').unwrap_or(tag);
            let blob = serde_json::json!({
                "schema": "olm.bundle",
                "name": format!("{pkg}.v{version}"),
                "package": pkg,
                "image": image,
                "properties": [{"type": "olm.package", "value": {"packageName": pkg, "version": version}}],
            });
            super::load(blob.to_string().as_bytes())
        }
    }

    pub fn run(data: &[u8]) {
        let Some((&selector, rest)) = data.split_first() else {
            return;
        };
        let text = String::from_utf8_lossy(rest);
        let kind = match selector % 4 {
            0 => match template::detect(&text) {
                Ok(k) => k,
                Err(_) => return,
            },
            n => Kind::ALL[usize::from(n - 1)],
        };
        if let Ok(cfg) = template::render(kind, &text, &Stub) {
            let _ = super::write(&cfg, Format::Json);
        }
        let format = if selector & 0x80 != 0 {
            Format::Yaml
        } else {
            Format::Json
        };
        let _ = opm::template::convert::convert(&text, kind, format);
    }
}

/// Run the target called `name` on `data`; `false` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "fbc_json" => fbc_json::run(data),
        "fbc_yaml" => fbc_yaml::run(data),
        "yaml_roundtrip" => yaml_roundtrip::run(data),
        "bundle_tar" => bundle_tar::run(data),
        "image_manifest" => image_manifest::run(data),
        "tar_unpack" => tar_unpack::run(data),
        "sqlite_index" => sqlite_index::run(data),
        "serve_grpc" => serve_grpc::run(data),
        "serve_http" => serve_http::run(data),
        "serve_cache" => serve_cache::run(data),
        "templates" => templates::run(data),
        _ => return false,
    }
    true
}
