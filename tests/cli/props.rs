//! Property tests (issue 12) on generated catalogs, through the library:
//! writing and loading again is the identity on the model, in JSON and
//! YAML; `render`'s output depends neither on how the blobs are spread over
//! files nor on the number of threads; Go's `validate` verdict does not
//! depend on the order of the blobs. Bounded: a few dozen cases each.

use std::path::Path;

use opm::catalog::load::load_bytes;
use opm::catalog::validate::go_verdict;
use opm::catalog::write::write_stream;
use opm::catalog::{DeclarativeConfig, Format, LoadOptions, load_path, prepare_for_render};
use proptest::prelude::*;
use serde_json::{Value, json};

fn opts() -> LoadOptions {
    LoadOptions {
        keep_objects: true,
        ..LoadOptions::default()
    }
}

fn load(text: &[u8]) -> DeclarativeConfig {
    load_bytes(text, Path::new("catalog.json"), opts())
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(text)))
}

fn write(cfg: &DeclarativeConfig, format: Format) -> String {
    let mut out = Vec::new();
    write_stream(cfg, format, &mut out).expect("write to memory");
    String::from_utf8(out).expect("UTF-8 output")
}

/// Arbitrary JSON values, a few levels deep, with the strings and numbers
/// that encoders get wrong (escapes, YAML-special words, big and small
/// floats).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Not -0: JSON keeps its sign, Go's YAML output reads it as the
        // integer 0 (a Go quirk we keep).
        any::<f64>()
            .prop_filter("finite, not -0", |f| {
                f.is_finite() && !(*f == 0.0 && f.is_sign_negative())
            })
            .prop_map(Value::from),
        prop_oneof![
            "\\PC{0,12}",
            Just("yes".to_string()),
            Just("~".to_string()),
            Just("0x1F".to_string()),
            Just("1e3".to_string()),
            Just("- a: b".to_string()),
            Just("a\nb\n".to_string()),
            Just(" lead".to_string()),
            // Not DEL or C1 controls: Go's JSONToYAML reads the JSON with
            // the YAML parser, which refuses them, and reads a raw NEL
            // (U+0085) as a line break folded into a space (Go quirks we
            // keep: the YAML output is not the same catalog).
            Just("\u{a0}\u{2028}\u{2029}".to_string()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z][a-zA-Z0-9.]{0,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One generated package: its blobs (package, channels, bundles, others).
fn package(name: String) -> impl Strategy<Value = Vec<Value>> {
    let versions = prop::collection::btree_set((0u8..3, 0u8..4, 0u8..3), 1..5);
    let channels = prop::collection::btree_set("(alpha|beta|stable|fast)", 1..3);
    let others = prop::collection::btree_map("custom\\.[a-z]{1,4}", json_value(), 0..3);
    (
        versions,
        channels,
        others,
        json_value(),
        "\\PC{0,16}",
        any::<bool>(),
    )
        .prop_map(
            move |(versions, channels, others, extra, description, broken)| {
                let versions: Vec<_> = versions.into_iter().collect();
                let bundle = |v: &(u8, u8, u8)| format!("{name}.v{}.{}.{}", v.0, v.1, v.2);
                let channels: Vec<String> = channels.into_iter().collect();
                // A default channel that does not exist now and then, for
                // `validate` to reject.
                let default = if broken {
                    "missing".to_string()
                } else {
                    channels[0].clone()
                };
                let mut blobs = vec![json!({
                    "schema": "olm.package",
                    "name": name,
                    "defaultChannel": default,
                    "description": description,
                })];
                for ch in &channels {
                    let entries: Vec<Value> = versions
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut e = json!({"name": bundle(v)});
                            if i > 0 {
                                e["replaces"] = json!(bundle(&versions[i - 1]));
                            }
                            e
                        })
                        .collect();
                    blobs.push(json!({
                        "schema": "olm.channel", "package": name, "name": ch, "entries": entries,
                    }));
                }
                for v in &versions {
                    blobs.push(json!({
                        "schema": "olm.bundle",
                        "package": name,
                        "name": bundle(v),
                        "image": format!("quay.io/fuzz/{name}:v{}.{}.{}", v.0, v.1, v.2),
                        "properties": [
                            {"type": "olm.package", "value": {
                                "packageName": name,
                                "version": format!("{}.{}.{}", v.0, v.1, v.2)}},
                            {"type": "custom.property", "value": extra},
                        ],
                        "relatedImages": [{"name": "op", "image": "quay.io/fuzz/op:1"}],
                    }));
                }
                for (schema, value) in others {
                    blobs.push(json!({"schema": schema, "package": name, "value": value}));
                }
                blobs
            },
        )
}

/// A catalog: one to three packages, as a list of blobs.
fn catalog() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::btree_set("[a-z][a-z0-9]{0,5}", 1..4).prop_flat_map(|names| {
        names
            .into_iter()
            .map(package)
            .collect::<Vec<_>>()
            .prop_map(|pkgs| pkgs.into_iter().flatten().collect())
    })
}

fn text(blobs: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blobs {
        serde_json::to_writer(&mut out, b).expect("encode");
        out.push(b'\n');
    }
    out
}

/// Render a directory as `opm render` does, on a pool of `threads` threads.
fn render_dir(dir: &Path, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    pool.install(|| {
        let mut cfg = load_path(dir, opts()).expect("load");
        prepare_for_render(&mut cfg);
        write(&cfg, Format::Json)
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// load → JSON → load → YAML → load → JSON gives the first JSON back.
    #[test]
    fn write_and_load_is_the_identity(blobs in catalog()) {
        let json = write(&load(&text(&blobs)), Format::Json);
        let again = write(&load(json.as_bytes()), Format::Json);
        prop_assert_eq!(&again, &json, "JSON → load → JSON");
        let yaml = write(&load(json.as_bytes()), Format::Yaml);
        let from_yaml = write(&load(yaml.as_bytes()), Format::Json);
        prop_assert_eq!(&from_yaml, &json, "YAML → load → JSON; YAML was:\n{}", yaml);
    }

    /// The blobs spread over files in any order and number, loaded on one
    /// thread or several: the same output.
    #[test]
    fn render_ignores_file_order_and_threads(
        blobs in catalog().prop_shuffle(),
        files in prop::collection::vec(0usize..5, 64),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let one = dir.path().join("one");
        let many = dir.path().join("many");
        std::fs::create_dir_all(&one).expect("mkdir");
        std::fs::create_dir_all(&many).expect("mkdir");
        std::fs::write(one.join("catalog.json"), text(&blobs)).expect("write");
        let mut parts: Vec<Vec<Value>> = vec![Vec::new(); 5];
        for (i, b) in blobs.iter().enumerate() {
            parts[files[i % files.len()]].push(b.clone());
        }
        for (i, part) in parts.iter().enumerate() {
            let sub = many.join(format!("d{}", i % 2));
            std::fs::create_dir_all(&sub).expect("mkdir");
            std::fs::write(sub.join(format!("f{i}.json")), text(part)).expect("write");
        }
        let expected = render_dir(&one, 1);
        prop_assert_eq!(&render_dir(&many, 1), &expected, "files, one thread");
        prop_assert_eq!(&render_dir(&many, 4), &expected, "files, four threads");
    }

    /// Go's verdict (pass or fail) does not depend on the blob order.
    #[test]
    fn validate_verdict_ignores_blob_order(
        blobs in catalog(),
        seed in any::<u64>(),
    ) {
        let verdict = go_verdict(&load(&text(&blobs))).is_ok();
        let mut shuffled = blobs.clone();
        // Deterministic shuffle from the seed (Fisher-Yates, xorshift).
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let again = go_verdict(&load(&text(&shuffled)));
        prop_assert_eq!(again.is_ok(), verdict, "{:?}", again);
    }
}
