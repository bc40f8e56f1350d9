//! The reader on databases built here, checked on the values it returns
//! (output bytes are pinned by the replayed conformance cases).

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::*;
use crate::catalog::Bundle;

/// The tables of a level-13 index (spec §7.2), without constraints.
const SCHEMA_13: &str = "
CREATE TABLE schema_migrations (version bigint NOT NULL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
INSERT INTO schema_migrations(version) VALUES (13);
CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT, bundlepath TEXT, skiprange TEXT,
  version TEXT, replaces TEXT, skips TEXT, substitutesfor TEXT);
CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);
CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT, PRIMARY KEY(name, package_name));
CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,
  operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);
CREATE TABLE api (group_name TEXT, version TEXT, kind TEXT, plural TEXT NOT NULL);
CREATE TABLE api_provider (group_name TEXT, version TEXT, kind TEXT, operatorbundle_name TEXT,
  operatorbundle_version TEXT, operatorbundle_path TEXT);
CREATE TABLE api_requirer (group_name TEXT, version TEXT, kind TEXT, operatorbundle_name TEXT,
  operatorbundle_version TEXT, operatorbundle_path TEXT);
CREATE TABLE related_image (image TEXT, operatorbundle_name TEXT);
CREATE TABLE dependencies (type TEXT, value TEXT, operatorbundle_name TEXT, operatorbundle_version TEXT,
  operatorbundle_path TEXT);
CREATE TABLE properties (type TEXT, value TEXT, operatorbundle_name TEXT, operatorbundle_version TEXT,
  operatorbundle_path TEXT);
CREATE TABLE deprecated (operatorbundle_name TEXT PRIMARY KEY);
";

fn build(dir: &Path, sql: &str) -> PathBuf {
    let path = dir.join("index.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    path
}

fn csv(name: &str, extra_spec: &str) -> String {
    format!(
        r#"{{"apiVersion":"operators.coreos.com/v1alpha1","kind":"ClusterServiceVersion","metadata":{{"name":"{name}"}},"spec":{{{extra_spec}}}}}"#
    )
}

fn bundle<'a>(cfg: &'a DeclarativeConfig, name: &str) -> &'a Bundle {
    cfg.bundles
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no bundle {name}"))
}

fn types(b: &Bundle) -> Vec<(&str, &str)> {
    b.properties
        .iter()
        .map(|p| (p.typ.as_str(), p.value.as_str()))
        .collect()
}

/// A graph with a replaces chain and two skips, an image-only head of the
/// default channel, a deprecated bundle, and a related_image row.
fn sample(dir: &Path) -> PathBuf {
    let a = csv(
        "a.v1",
        r#""relatedImages":[{"name":"op","image":"quay.io/a/op:1"}],"icon":[{"base64data":"aGk=","mediatype":"image/png"}]"#,
    );
    let crd = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"x.a.io"}}"#;
    build(
        dir,
        &format!(
            "{SCHEMA_13}
            INSERT INTO package VALUES ('a', 'stable'), ('z', 'alpha');
            INSERT INTO channel VALUES ('stable', 'a', 'a.v3'), ('fast', 'a', 'a.v2'), ('alpha', 'z', 'z.v1');
            INSERT INTO operatorbundle(name, bundle, bundlepath, version, skiprange) VALUES
              ('a.v1', '{crd} {a}', 'img/a:1', '1.0.0', ''),
              ('a.v2', '{b2}', 'img/a:2', '2.0.0', '<2.0.0'),
              ('a.v3', NULL, 'img/a:3', '3.0.0', ''),
              ('z.v1', '{z}', 'img/z:1', '1.0.0', '');
            -- stable: a.v3 -> a.v2 -> a.v1; a.v3 also skips old.v0 and a.v1, stored
            -- as v1.73 stored skips: a synthetic entry for the skipped name and
            -- a deeper duplicate of the skipping bundle that replaces it.
            INSERT INTO channel_entry VALUES
              (1, 'stable', 'a', 'a.v3', 2, 0), (2, 'stable', 'a', 'a.v2', 3, 1), (3, 'stable', 'a', 'a.v1', NULL, 2),
              (4, 'stable', 'a', 'old.v0', NULL, 1), (5, 'stable', 'a', 'a.v3', 4, 1),
              (6, 'stable', 'a', 'a.v1', NULL, 2), (7, 'stable', 'a', 'a.v3', 6, 2),
              (8, 'fast', 'a', 'a.v2', NULL, 0),
              (9, 'alpha', 'z', 'z.v1', NULL, 0);
            INSERT INTO properties(type, value, operatorbundle_name) VALUES
              ('olm.gvk', '{{\"group\":\"a.io\",\"kind\":\"X\",\"version\":\"v1\"}}', 'a.v1'),
              ('olm.package', '{{\"packageName\":\"a\",\"version\":\"1.0.0\"}}', 'a.v1'),
              ('olm.maxOpenShiftVersion', ' \"4.8\" ', 'a.v1'),
              ('olm.deprecated', '{{}}', 'z.v1');
            INSERT INTO dependencies(type, value, operatorbundle_name) VALUES
              ('olm.package', '{{\"packageName\":\"b\",\"version\":\">=1.0.0\"}}', 'a.v2'),
              ('olm.gvk', '{{\"group\":\"b.io\",\"kind\":\"Y\",\"version\":\"v1\"}}', 'a.v2'),
              ('olm.label', '{{\"label\":\"x\"}}', 'a.v2');
            INSERT INTO related_image VALUES ('img/a:1', 'a.v1'), ('quay.io/a/op:1', 'a.v1'), ('img/a:3', 'a.v3');",
            b2 = csv("a.v2", ""),
            z = csv("z.v1", ""),
        ),
    )
}

#[test]
fn renders_the_sample_graph() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = render_db(&sample(dir.path())).unwrap();

    // z.v1 carries olm.deprecated: it is left out (spec §7.3).
    let names: Vec<_> = cfg
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.default_channel.as_str()))
        .collect();
    assert_eq!(names, [("a", "stable"), ("z", "alpha")]);
    assert!(cfg.bundles.iter().all(|b| b.name != "z.v1"));

    let stable = cfg.channels.iter().find(|c| c.name == "stable").unwrap();
    let entries = stable.entries.as_ref().unwrap();
    let got: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                e.replaces.as_str(),
                e.skips.join(","),
                e.skip_range.as_str(),
            )
        })
        .collect();
    // Entries sorted by name; old.v0 has no operatorbundle row, so it only
    // shows inside skips.
    assert_eq!(
        got,
        [
            ("a.v1", "", String::new(), ""),
            ("a.v2", "a.v1", String::new(), "<2.0.0"),
            ("a.v3", "a.v2", "old.v0,a.v1".to_string(), ""),
        ]
    );

    let a1 = bundle(&cfg, "a.v1");
    assert_eq!(a1.image, "img/a:1");
    let props = types(a1);
    assert_eq!(props[0], ("olm.bundle.object", props[0].1));
    assert_eq!(
        &props[2..],
        [
            ("olm.gvk", r#"{"group":"a.io","kind":"X","version":"v1"}"#),
            ("olm.maxOpenShiftVersion", r#""4.8""#),
            ("olm.package", r#"{"packageName":"a","version":"1.0.0"}"#),
        ]
    );
    assert!(a1.csv_json.as_deref().unwrap().contains(r#""name":"a.v1""#));
    // The CSV's related image keeps its name; the table adds the bundle image.
    let images: Vec<_> = a1
        .related_images
        .iter()
        .map(|r| (r.name.as_str(), r.image.as_str()))
        .collect();
    assert_eq!(images, [("op", "quay.io/a/op:1"), ("", "img/a:1")]);

    // Dependencies: olm.package → olm.package.required (no HTML escaping),
    // olm.gvk → olm.gvk.required, olm.label dropped (spec §7.3).
    let a2 = bundle(&cfg, "a.v2");
    let props = types(a2);
    assert!(props.contains(&(
        "olm.package.required",
        r#"{"packageName":"b","versionRange":">=1.0.0"}"#
    )));
    assert!(props.contains(&(
        "olm.gvk.required",
        r#"{"group":"b.io","kind":"Y","version":"v1"}"#
    )));
    assert!(props.contains(&("olm.package", r#"{"packageName":"a","version":"2.0.0"}"#)));
    assert!(!props.iter().any(|(t, _)| *t == "olm.label"));

    // An image-only row: no objects, no CSV, a built olm.package, and no
    // icon for its package although it heads the default channel.
    let a3 = bundle(&cfg, "a.v3");
    assert_eq!(
        types(a3),
        [("olm.package", r#"{"packageName":"a","version":"3.0.0"}"#)]
    );
    assert!(a3.csv_json.is_none());
    assert_eq!(a3.related_images.len(), 1);
    assert!(cfg.packages[0].icon.is_none());
}

#[test]
fn icon_comes_from_the_default_channel_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample(dir.path());
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE channel SET head_operatorbundle_name = 'a.v1' WHERE name = 'stable'",
        [],
    )
    .unwrap();
    drop(conn);
    let cfg = render_db(&db).unwrap();
    let icon = cfg.packages[0].icon.as_ref().unwrap();
    assert_eq!(icon.data.as_deref(), Some(&b"hi"[..]));
    assert_eq!(icon.mediatype, "image/png");
}

#[test]
fn objects_are_kept_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample(dir.path());
    let with = render_db_with(
        &db,
        LoadOptions {
            keep_objects: true,
            ..Default::default()
        },
    )
    .unwrap();
    let without = render_db_with(
        &db,
        LoadOptions {
            keep_objects: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(bundle(&with, "a.v1").objects.len(), 2);
    assert!(bundle(&without, "a.v1").objects.is_empty());
    assert!(bundle(&without, "a.v1").csv_json.is_some());
}

#[test]
fn a_bundle_without_a_csv_among_its_objects_is_v173s_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample(dir.path());
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE operatorbundle SET bundle = '{\"kind\":\"ConfigMap\"}' WHERE name = 'a.v2'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = render_db(&db).unwrap_err();
    assert_eq!(err.message(), "populate channels: no csv in bundle");
    assert!(
        err.location()
            .ends_with("index.db: table operatorbundle, name \"a.v2\", column bundle")
    );
}

/// A level-5 database (the oldest real ones) is migrated in memory; the
/// v1.73 migration-009 quirk gives every dependency the first row's value.
#[test]
fn level_5_is_migrated_in_memory_with_v173s_quirk() {
    let dir = tempfile::tempdir().unwrap();
    let db = build(
        dir.path(),
        &format!(
            "CREATE TABLE schema_migrations (version bigint NOT NULL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
            INSERT INTO schema_migrations(version) VALUES (5);
            CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT, bundlepath TEXT, skiprange TEXT, version TEXT);
            CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);
            CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT);
            CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,
              operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);
            CREATE TABLE api (group_name TEXT, version TEXT, kind TEXT, plural TEXT NOT NULL);
            CREATE TABLE api_provider (group_name TEXT, version TEXT, kind TEXT, channel_entry_id INTEGER);
            CREATE TABLE api_requirer (group_name TEXT, version TEXT, kind TEXT, channel_entry_id INTEGER);
            CREATE TABLE related_image (image TEXT, operatorbundle_name TEXT);
            INSERT INTO package VALUES ('p', 'c');
            INSERT INTO channel VALUES ('c', 'p', 'p.v2');
            INSERT INTO operatorbundle VALUES ('p.v1', NULL, '{b1}', 'img:1', '', '1.0.0'), ('p.v2', NULL, '{b2}', 'img:2', '', '2.0.0');
            INSERT INTO channel_entry VALUES (1, 'c', 'p', 'p.v2', 2, 0), (2, 'c', 'p', 'p.v1', NULL, 1);
            INSERT INTO api_provider VALUES ('p.io', 'v1', 'P', 1);
            INSERT INTO api_requirer VALUES ('first.io', 'v1', 'First', 2), ('second.io', 'v1', 'Second', 1);",
            b1 = csv("p.v1", ""),
            b2 = csv("p.v2", ""),
        ),
    );
    let before = std::fs::read(&db).unwrap();
    let cfg = render_db(&db).unwrap();
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let required = |name: &str| -> Vec<String> {
        types(bundle(&cfg, name))
            .into_iter()
            .filter(|(t, _)| *t == "olm.gvk.required")
            .map(|(_, v)| v.to_string())
            .collect()
    };
    // p.v2 required Second, but the rewrite gave it First's value.
    let first = r#"{"group":"first.io","kind":"First","version":"v1"}"#;
    assert_eq!(required("p.v1"), [first]);
    assert_eq!(required("p.v2"), [first]);
    // Migration 009 gave p.v2 (a provider) its olm.package row and gvk.
    let v2 = types(bundle(&cfg, "p.v2"));
    assert!(v2.contains(&("olm.gvk", r#"{"group":"p.io","kind":"P","version":"v1"}"#)));
    assert!(v2.contains(&("olm.package", r#"{"packageName":"p","version":"2.0.0"}"#)));
    let entries = cfg.channels[0].entries.as_ref().unwrap();
    assert_eq!(entries[1].replaces, "p.v1");
}

#[test]
fn is_sqlite_file_checks_the_magic() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample(dir.path());
    assert!(is_sqlite_file(&db));
    std::fs::write(dir.path().join("short"), b"SQLite").unwrap();
    assert!(!is_sqlite_file(&dir.path().join("short")));
    assert!(!is_sqlite_file(dir.path()));
}
