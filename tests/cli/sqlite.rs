//! Legacy SQLite index databases beyond what Go opm v1.73 did: the input is
//! never modified, and bad input fails with an error naming the file and
//! the table or row (issue 5). The byte-for-byte outputs are pinned by the
//! replayed `sqlite-render` / `sqlite-migrate` cases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use super::util::{opm, testdata};

fn corpus_db(name: &str) -> PathBuf {
    testdata().join("corpus/sqlite").join(name)
}

/// A writable copy of a corpus database in a fresh directory.
fn copy_db(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("index.db");
    std::fs::copy(corpus_db(name), &db).unwrap();
    let mut perm = std::fs::metadata(&db).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&db, perm).unwrap();
    (dir, db)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(opm())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `render` and `migrate` leave the database byte-identical, with its
/// mtime, and create no `-journal`, `-wal` or `-shm` file beside it — for a
/// current schema (read in place) and an old one (migrated in memory).
#[test]
fn input_is_never_modified() {
    for name in [
        "gen-replaces-index.db",
        "opreg-bundles.db",
        "opreg-foo-index.db",
    ] {
        let (dir, db) = copy_db(name);
        // An mtime in the past, so a rewrite within the same second shows.
        let past = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&db)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let before = std::fs::read(&db).unwrap();
        let mtime = std::fs::metadata(&db).unwrap().modified().unwrap();

        for format in ["json", "yaml"] {
            let out = run(dir.path(), &["render", "index.db", "-o", format]);
            assert!(
                out.status.success(),
                "{name} render -o {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out_dir = tempfile::tempdir().unwrap();
        let target = out_dir.path().join("out");
        let out = run(
            dir.path(),
            &["migrate", "index.db", target.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{name} migrate: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        assert_eq!(std::fs::read(&db).unwrap(), before, "{name}: bytes changed");
        assert_eq!(
            std::fs::metadata(&db).unwrap().modified().unwrap(),
            mtime,
            "{name}: mtime changed"
        );
        assert_eq!(
            entries(dir.path()),
            vec!["index.db"],
            "{name}: files appeared beside the database"
        );
    }
}

/// A read-only database (as unpacked from an image layer, or on a
/// read-only mount) renders too: v1.73 could not migrate it in place.
#[test]
fn read_only_database_renders() {
    let (dir, db) = copy_db("opreg-bundles.db");
    let mut perm = std::fs::metadata(&db).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&db, perm).unwrap();
    let out = run(dir.path(), &["render", "index.db"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
}

/// What a failing render or migrate must look like: exit 1, the message
/// and the place on stderr, nothing on stdout, no output directory.
fn assert_fails(dir: &Path, file: &str, message: &str, place: &str) {
    let out = run(dir, &["render", file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!("render reference \"{file}\": {message}")),
        "want {message:?} in:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("  --> {file}{place}")),
        "want place {place:?} in:\n{stderr}"
    );

    let out = run(dir, &["migrate", file, "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // logrus quotes the message: `"` becomes `\"`.
    let quoted = message.replace('"', "\\\"");
    assert!(
        stderr.contains(&quoted),
        "migrate: want {quoted:?} in:\n{stderr}"
    );
    assert!(!dir.join("out").exists(), "migrate wrote output");
}

#[test]
fn not_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("notes.txt"),
        "SQLite format 2 is not this\n",
    )
    .unwrap();
    // HEAD's text for any non-directory that is not a database.
    let out = run(dir.path(), &["render", "notes.txt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "render reference \"notes.txt\": ref \"notes.txt\" is not a directory: not allowed"
    ));
}

#[test]
fn truncated_database() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(corpus_db("opreg-bundles.db")).unwrap();
    std::fs::write(dir.path().join("cut.db"), &full[..full.len() / 5]).unwrap();
    assert_fails(
        dir.path(),
        "cut.db",
        "truncated or corrupt SQLite database: database disk image is malformed",
        ": table ",
    );
}

#[test]
fn corrupt_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(corpus_db("gen-replaces-index.db")).unwrap();
    // Keep the header and schema page; scribble over the b-tree pages.
    for (i, b) in bytes[4096..].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    std::fs::write(dir.path().join("bad.db"), &bytes).unwrap();
    assert_fails(
        dir.path(),
        "bad.db",
        "truncated or corrupt SQLite database: ",
        ": table ",
    );
}

#[test]
fn database_of_another_program() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    // golang-migrate gives any application a schema_migrations table.
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (20200101, 0);
         CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
    )
    .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "app.db",
        "not an operator-registry index database: missing tables operatorbundle, package, channel, channel_entry, related_image",
        "",
    );
}

#[test]
fn unknown_future_schema() {
    let (dir, db) = copy_db("opreg-foo-index.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE schema_migrations SET version = 14", [])
        .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "index.db",
        "index schema version 14 is newer than the newest this opm reads (13)",
        ": table schema_migrations",
    );
}

#[test]
fn schema_older_than_any_real_index() {
    let (dir, db) = copy_db("opreg-bundles.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE schema_migrations SET version = 3", [])
        .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "index.db",
        "index schema version 3 is older than the oldest this opm reads (5)",
        ": table schema_migrations",
    );
}

/// v1.73's own message for a channel entry whose package does not exist.
#[test]
fn entry_of_a_missing_package() {
    let (dir, db) = copy_db("opreg-foo-index.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO channel_entry VALUES (100, 'stable', 'ghost', 'foo.v0.1.0', NULL, 0)",
    )
    .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "index.db",
        "populate channels: unknown package \"ghost\" for bundle \"foo.v0.1.0\"",
        ": table channel_entry, entry_id 100",
    );
}

/// v1.73's message for an entry in a channel its package does not have.
#[test]
fn entry_of_a_missing_channel() {
    let (dir, db) = copy_db("opreg-foo-index.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO channel_entry VALUES (100, 'nightly', 'foo', 'foo.v0.1.0', NULL, 0)",
    )
    .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "index.db",
        "populate channels: unknown channel \"nightly\" for bundle \"foo.v0.1.0\"",
        ": table channel_entry, entry_id 100",
    );
}

/// v1.73 panicked on a default channel the package does not have.
#[test]
fn default_channel_not_among_channels() {
    let (dir, db) = copy_db("opreg-foo-index.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF; UPDATE package SET default_channel = 'gone'")
        .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "index.db",
        "invalid package \"foo\": default channel \"gone\" is not one of its channels",
        ": table package, name \"foo\"",
    );
}

/// v1.73's GetPackage inner-joins `channel`: a package without channels
/// reads as missing.
#[test]
fn package_without_channels() {
    let (dir, db) = copy_db("opreg-foo-index.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; INSERT INTO package VALUES ('lonely', 'stable')",
    )
    .unwrap();
    drop(conn);
    assert_fails(
        dir.path(),
        "index.db",
        "package lonely not found",
        ": table package, name \"lonely\": no row in table channel",
    );
}
