//! Opening an index database without changing it, and bringing an old
//! schema to level 13 the way v1.73's migrations would.
//!
//! v1.73 opened the file read-write and ran every pending migration in
//! place before reading (spec §7.2), so `opm render old.db` rewrote
//! `old.db`. We open it `SQLITE_OPEN_READ_ONLY` with the `immutable=1` URI
//! parameter: SQLite then takes no lock and creates no `-journal`, `-wal`
//! or `-shm` file. A database already at level 13 is read as it is; an
//! older one is copied page by page into an in-memory database (the SQLite
//! backup API) and migrated there. Only the migrations whose effects
//! `render` can see are replayed in full; the others are reduced to their
//! schema change, and each says why.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{ErrorKind, LATEST_SCHEMA, MAGIC, OLDEST_SCHEMA, SqliteError};
use crate::encoding::json::{write_string, write_string_html};

/// An open index database at schema level 13, and the file it came from.
pub(super) struct Db {
    pub conn: Connection,
    pub path: std::path::PathBuf,
}

impl Db {
    /// The `bundle` column (concatenated manifests) of bundle `name`;
    /// `None` for an image-only row (NULL or empty) or a missing row.
    pub fn manifests(&self, name: &str) -> Result<Option<Vec<u8>>, SqliteError> {
        let read = || -> rusqlite::Result<Option<Vec<u8>>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT bundle FROM operatorbundle WHERE name = ?")?;
            let mut rows = stmt.query([name])?;
            Ok(match rows.next()? {
                Some(r) => match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b)
                        if !b.is_empty() =>
                    {
                        Some(b.to_vec())
                    }
                    _ => None,
                },
                None => None,
            })
        };
        read().map_err(|e| self.query_error("operatorbundle", e))
    }

    /// A failed query on `table`: SQLite's own words (e.g. `database disk
    /// image is malformed`), with the file and table.
    pub fn query_error(&self, table: &str, e: rusqlite::Error) -> SqliteError {
        SqliteError::new(&self.path, classify(e)).at(format!("table {table}"))
    }
}

/// SQLite reports a damaged or truncated file as NOTADB or CORRUPT; any
/// other failure on a read-only file means the file is not what we expect.
fn classify(e: rusqlite::Error) -> ErrorKind {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            ErrorKind::Corrupt(format!("truncated or corrupt SQLite database: {e}"))
        }
        _ => ErrorKind::NotAnIndex(e.to_string()),
    }
}

/// The tables every index database has had since schema level 0.
const REQUIRED_TABLES: &[&str] = &[
    "operatorbundle",
    "package",
    "channel",
    "channel_entry",
    "related_image",
];

/// Open `path` read-only and return it at schema level 13.
pub(super) fn open(path: &Path) -> Result<Db, SqliteError> {
    check_magic(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file_uri(path), flags)
        .map_err(|e| SqliteError::new(path, ErrorKind::Corrupt(e.to_string())))?;
    let db = Db {
        conn,
        path: path.to_path_buf(),
    };
    let version = schema_version(&db)?;
    if version == LATEST_SCHEMA {
        return Ok(db);
    }
    if version > LATEST_SCHEMA {
        return Err(SqliteError::new(
            path,
            ErrorKind::Schema(format!(
                "index schema version {version} is newer than the newest this opm reads ({LATEST_SCHEMA})"
            )),
        )
        .at("table schema_migrations"));
    }
    if version < OLDEST_SCHEMA {
        return Err(SqliteError::new(
            path,
            ErrorKind::Schema(format!(
                "index schema version {version} is older than the oldest this opm reads ({OLDEST_SCHEMA})"
            )),
        )
        .at("table schema_migrations"));
    }
    let mut mem = Connection::open_in_memory()
        .map_err(|e| SqliteError::new(path, ErrorKind::Corrupt(e.to_string())))?;
    {
        let backup = rusqlite::backup::Backup::new(&db.conn, &mut mem)
            .map_err(|e| db.query_error("*", e))?;
        backup
            .run_to_completion(i32::MAX, Duration::ZERO, None)
            .map_err(|e| {
                SqliteError::new(path, classify(e)).at("copying the database into memory")
            })?;
    }
    let mem = Db {
        conn: mem,
        path: path.to_path_buf(),
    };
    migrate(&mem, version)?;
    Ok(mem)
}

/// A file that does not start with the SQLite header is rejected before
/// SQLite sees it, so the message says what is wrong with it.
fn check_magic(path: &Path) -> Result<(), SqliteError> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path)
        .map_err(|e| SqliteError::new(path, ErrorKind::Corrupt(format!("open: {e}"))))?;
    match f.read_exact(&mut head) {
        Ok(()) if &head == MAGIC => Ok(()),
        _ => Err(SqliteError::new(
            path,
            ErrorKind::Corrupt(
                "not a SQLite database: the file does not start with \"SQLite format 3\"".into(),
            ),
        )),
    }
}

/// `file:` URI for `path` with `immutable=1`. `?`, `#` and `%` would be
/// taken as URI syntax, so they are percent-encoded.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            '%' => uri.push_str("%25"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// The level recorded in `schema_migrations`, after checking that this is
/// an index database at all: the migrations table alone is not enough, as
/// golang-migrate gives every application that uses it one.
fn schema_version(db: &Db) -> Result<i64, SqliteError> {
    let mut stmt = db
        .conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .map_err(|e| db.query_error("sqlite_master", e))?;
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| db.query_error("sqlite_master", e))?;
    let missing: Vec<&str> = std::iter::once("schema_migrations")
        .chain(REQUIRED_TABLES.iter().copied())
        .filter(|t| !tables.iter().any(|have| have == t))
        .collect();
    if !missing.is_empty() {
        return Err(SqliteError::new(
            &db.path,
            ErrorKind::NotAnIndex(format!(
                "not an operator-registry index database: missing table{} {}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            )),
        ));
    }
    // v1.73 reads the first row only (`SELECT version … LIMIT 1`).
    let version: Option<rusqlite::types::Value> = db
        .conn
        .query_row("SELECT version FROM schema_migrations LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| db.query_error("schema_migrations", e))?;
    match version {
        Some(rusqlite::types::Value::Integer(v)) => Ok(v),
        Some(other) => Err(SqliteError::new(
            &db.path,
            ErrorKind::Schema(format!("schema version is not an integer: {other:?}")),
        )
        .at("table schema_migrations")),
        None => Err(SqliteError::new(
            &db.path,
            ErrorKind::Schema(
                "table schema_migrations is empty: the schema level is unknown".into(),
            ),
        )
        .at("table schema_migrations")),
    }
}

/// Run v1.73's migrations `from + 1 ..= 13` on the in-memory copy.
fn migrate(db: &Db, from: i64) -> Result<(), SqliteError> {
    // Foreign keys stay off: v1.73 enforced them while migrating, so a
    // dangling `api` reference aborted the whole render; reading what is
    // there is more useful than refusing the file.
    type Step = fn(&Connection) -> rusqlite::Result<()>;
    let steps: &[(i64, Step)] = &[
        (6, m006_associate_apis_with_bundle),
        (7, m007_replaces_skips),
        (8, m008_dependencies),
        (9, m009_properties),
        (10, m010_set_bundlepath_pkg_property),
        (11, m011_substitutes_for),
        (12, m012_deprecated),
        (13, m013_rm_truncated_deprecations),
    ];
    db.conn
        .execute_batch("PRAGMA foreign_keys = OFF; BEGIN")
        .map_err(|e| db.query_error("*", e))?;
    for (level, step) in steps.iter().filter(|(l, _)| *l > from) {
        step(&db.conn).map_err(|e| {
            SqliteError::new(&db.path, classify(e)).at(format!(
                "migrating the in-memory copy to schema level {level}"
            ))
        })?;
    }
    db.conn
        .execute_batch("COMMIT")
        .map_err(|e| db.query_error("*", e))
}

/// 006: provided/required APIs move from channel entries to bundles. Rows
/// whose bundle lacks a name, version or path are dropped, as v1.73 did.
fn m006_associate_apis_with_bundle(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "CREATE TABLE api_provider_new (
            group_name TEXT, version TEXT, kind TEXT,
            operatorbundle_name TEXT, operatorbundle_version TEXT, operatorbundle_path TEXT);
        CREATE TABLE api_requirer_new (
            group_name TEXT, version TEXT, kind TEXT,
            operatorbundle_name TEXT, operatorbundle_version TEXT, operatorbundle_path TEXT);",
    )?;
    // v1.73 also created UNIQUE INDEX pk ON operatorbundle(name, version,
    // bundlepath); nothing we read uses it, and a duplicate would only
    // make the copy fail.
    for (old, new) in [
        ("api_provider", "api_provider_new"),
        ("api_requirer", "api_requirer_new"),
    ] {
        // DISTINCT stands for the Go map that de-duplicated the rows.
        c.execute_batch(&format!(
            "INSERT INTO {new}
             SELECT DISTINCT {old}.group_name, {old}.version, {old}.kind,
                    operatorbundle.name, operatorbundle.version, operatorbundle.bundlepath
             FROM {old}
             INNER JOIN channel_entry ON channel_entry.entry_id = {old}.channel_entry_id
             INNER JOIN operatorbundle ON operatorbundle.name = channel_entry.operatorbundle_name
             WHERE {old}.group_name IS NOT NULL AND {old}.version IS NOT NULL AND {old}.kind IS NOT NULL
               AND operatorbundle.name IS NOT NULL AND operatorbundle.version IS NOT NULL
               AND operatorbundle.bundlepath IS NOT NULL;
             DROP TABLE {old};
             ALTER TABLE {new} RENAME TO {old};"
        ))?;
    }
    Ok(())
}

/// 007: `operatorbundle.replaces`/`skips` columns. v1.73 back-filled them
/// from `channel_entry`, but its render never reads them (channel entries
/// are rebuilt from `channel_entry` directly), so they stay NULL here.
fn m007_replaces_skips(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch("ALTER TABLE operatorbundle ADD COLUMN replaces TEXT; ALTER TABLE operatorbundle ADD COLUMN skips TEXT;")
}

/// 008: `dependencies`, one `olm.gvk` row per required API (the value
/// still carries `"type"`; 009 removes it).
fn m008_dependencies(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS dependencies (
            type TEXT, value TEXT,
            operatorbundle_name TEXT, operatorbundle_version TEXT, operatorbundle_path TEXT);
        INSERT INTO dependencies
        SELECT DISTINCT 'olm.gvk',
               json_object('group', group_name, 'kind', kind, 'type', 'olm.gvk', 'version', version),
               operatorbundle_name, operatorbundle_version, operatorbundle_path
        FROM api_requirer
        WHERE group_name IS NOT NULL AND version IS NOT NULL AND kind IS NOT NULL
          AND operatorbundle_name IS NOT NULL;",
    )
}

/// 009: `properties`: one `olm.package` and the `olm.gvk`s of every bundle
/// that provides an API (a bundle providing none gets no `olm.package`
/// row; conversion builds one later), then the dependency rewrite below.
fn m009_properties(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS properties (
            type TEXT, value TEXT,
            operatorbundle_name TEXT, operatorbundle_version TEXT, operatorbundle_path TEXT);",
    )?;
    type Key = (String, Option<String>, Option<String>);
    type Api = (String, String, String);
    let mut apis: Vec<(Key, Vec<Api>)> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    {
        let mut stmt = c.prepare(
            "SELECT group_name, version, kind, operatorbundle_name, operatorbundle_version, operatorbundle_path
             FROM api_provider
             WHERE group_name IS NOT NULL AND version IS NOT NULL AND kind IS NOT NULL
               AND operatorbundle_name IS NOT NULL",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let key: Key = (r.get(3)?, r.get(4)?, r.get(5)?);
            let api = (r.get(0)?, r.get(1)?, r.get(2)?);
            match index.get(&key) {
                Some(&i) => {
                    let list = &mut apis[i].1;
                    if !list.contains(&api) {
                        list.push(api)
                    }
                }
                None => {
                    index.insert(key.clone(), apis.len());
                    apis.push((key, vec![api]));
                }
            }
        }
    }
    let mut insert = c.prepare(
        "INSERT INTO properties(type, value, operatorbundle_name, operatorbundle_version, operatorbundle_path)
         VALUES (?, ?, ?, ?, ?)",
    )?;
    for ((name, version, path), provided) in &apis {
        // The first package the bundle has an entry in, or "".
        let pkg: Option<Option<String>> = c
            .query_row(
                "SELECT DISTINCT package_name FROM channel_entry WHERE channel_entry.operatorbundle_name = ?",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        // json.Marshal of a map: keys sorted, HTML escaped.
        let value = json_object(
            &[
                ("packageName", pkg.flatten().as_deref().unwrap_or("")),
                ("version", version.as_deref().unwrap_or("")),
            ],
            true,
        );
        insert.execute(rusqlite::params!["olm.package", value, name, version, path])?;
        for (group, api_version, kind) in provided {
            let value = json_object(
                &[("group", group), ("kind", kind), ("version", api_version)],
                true,
            );
            insert.execute(rusqlite::params!["olm.gvk", value, name, version, path])?;
        }
    }
    // Go quirk (v1.73 migration 009, reproduced on purpose): the subquery
    // is not correlated (both sides name the inner table), so every
    // dependency row receives the *first* row's value minus "type". In
    // v1.73 the first row was whichever its map iteration inserted first;
    // here it is the first in api_requirer order.
    c.execute_batch(
        "UPDATE dependencies
         SET value = (SELECT json_remove(value, '$.type') FROM dependencies
                      WHERE operatorbundle_name = dependencies.operatorbundle_name)",
    )
}

/// 010: properties get the bundle path of their bundle (by name and version).
fn m010_set_bundlepath_pkg_property(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "UPDATE properties
         SET operatorbundle_path = (SELECT bundlepath FROM operatorbundle
                                    WHERE operatorbundle_name = operatorbundle.name
                                      AND operatorbundle_version = operatorbundle.version)",
    )
}

/// 011: `operatorbundle.substitutesfor` (render does not read it).
fn m011_substitutes_for(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch("ALTER TABLE operatorbundle ADD COLUMN substitutesfor TEXT")
}

/// 012: the `deprecated` table, filled from `olm.deprecated` properties.
fn m012_deprecated(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS deprecated (operatorbundle_name TEXT PRIMARY KEY);
         INSERT OR REPLACE INTO deprecated(operatorbundle_name)
         SELECT operatorbundle_name FROM properties WHERE properties.type = 'olm.deprecated'",
    )
}

/// 013: forget deprecations of bundles that no longer exist.
fn m013_rm_truncated_deprecations(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "DELETE FROM deprecated WHERE deprecated.operatorbundle_name NOT IN (
            SELECT DISTINCT deprecated.operatorbundle_name
            FROM (deprecated INNER JOIN operatorbundle ON deprecated.operatorbundle_name = operatorbundle.name))",
    )
}

/// A flat JSON object of strings, keys in the order given. `html`: Go's
/// `json.Marshal` (`<`, `>`, `&` escaped); without it, operator-registry's
/// `property.MustBuild*` (an encoder with `SetEscapeHTML(false)`).
pub(super) fn json_object(fields: &[(&str, &str)], html: bool) -> String {
    let mut out = Vec::with_capacity(64);
    out.push(b'{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let write = if html {
            write_string_html
        } else {
            write_string
        };
        write(k, &mut out);
        out.push(b':');
        write(v, &mut out);
    }
    out.push(b'}');
    // write_string_html only emits UTF-8.
    String::from_utf8(out).unwrap_or_default()
}
