//! Legacy SQLite index databases (the `index.db` inside OpenShift ≤ 4.10
//! index images), read-only, rendered into a file-based catalog exactly as
//! Go opm v1.73.0 rendered them (spec opm-catalog-render-migrate.md §7).
//!
//! Go opm dropped SQLite after v1.73, but catalog maintainers still need
//! `opm migrate <index.db> <dir>` to leave it. Three things differ from
//! v1.73 on purpose:
//!
//! * the input is never written: v1.73 ran its pending schema migrations in
//!   place. We open the file read-only and immutable (no `-journal`, `-wal`
//!   or `-shm` file appears beside it); an old schema is copied into memory
//!   and migrated there ([`schema`]);
//! * bad input gets an error naming the file and the table and row at fault
//!   instead of a panic or a silent empty catalog;
//! * a default-channel head without a CSV renders without an icon instead
//!   of failing (§7.3 says v1.73 unmarshals the empty CSV and aborts).
//!
//! Layout: [`schema`] opens the file and brings the schema to level 13,
//! [`read`] runs v1.73's queries and builds the per-channel bundle rows,
//! [`convert`] turns them into a [`DeclarativeConfig`].

mod convert;
mod read;
mod schema;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalog::{DeclarativeConfig, LoadOptions};

/// The 16 bytes every SQLite 3 database file starts with.
pub const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The newest schema level v1.73 knows (migration `013_rm_truncated_deprecations`).
pub const LATEST_SCHEMA: i64 = 13;

/// The oldest schema level we read: the oldest index databases found in the
/// wild (operator-registry's own 2020 test data) are at 5.
pub const OLDEST_SCHEMA: i64 = 5;

/// The warning v1.73 logs (once, through a fresh logrus logger, so it shows
/// even under `render`) whenever it opens a SQLite source (spec §8).
pub const DEPRECATION_NOTICE: &str = "\x1b[1;33mDEPRECATION NOTICE:\nSqlite-based catalogs and their related subcommands are deprecated. Support for\nthem will be removed in a future release. Please migrate your catalog workflows\nto the new file-based catalog format.\x1b[0m";

/// Whether `path` is a regular file starting with the SQLite magic bytes
/// (v1.73 sniffed the same header with h2non/filetype).
pub fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == MAGIC
}

/// Render the index database at `path` as v1.73 `opm render` does, before
/// the render-wide steps (objects last, related images sorted, migrations)
/// that [`crate::render`] applies to every reference.
pub fn render_db(path: &Path) -> Result<DeclarativeConfig, SqliteError> {
    render_db_with(
        path,
        LoadOptions {
            keep_objects: true,
            ..Default::default()
        },
    )
}

/// [`render_db`], keeping the decoded manifests in the hidden `objects`
/// field only when `opts.keep_objects` (the CSV is always kept: the
/// `bundle-object-to-csv-metadata` migration needs it).
pub fn render_db_with(path: &Path, opts: LoadOptions) -> Result<DeclarativeConfig, SqliteError> {
    let mut cfg = DeclarativeConfig::default();
    render_db_each(path, opts, &mut |_, part| {
        cfg.extend(part);
        Ok(())
    })?;
    Ok(cfg)
}

/// [`render_db_with`], handing the catalog to `f` one package at a time
/// (with its position in name order) so that a large index need not be
/// held in memory whole.
pub fn render_db_each(
    path: &Path,
    opts: LoadOptions,
    f: &mut dyn FnMut(usize, DeclarativeConfig) -> Result<(), String>,
) -> Result<(), SqliteError> {
    let db = schema::open(path)?;
    let index = read::read_index(&db)?;
    convert::for_each_package(&db, &index, opts, f)
}

/// Why an index database could not be rendered: Go's text where v1.73 had
/// one, plus where in the file it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteError {
    /// The database file.
    pub path: PathBuf,
    /// Table and row at fault, e.g. `table channel_entry, entry_id 7`.
    pub place: Option<String>,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not a SQLite database, or a truncated or corrupt one.
    Corrupt(String),
    /// A SQLite database written by some other program.
    NotAnIndex(String),
    /// A `schema_migrations` level we do not know how to read.
    Schema(String),
    /// A row v1.73 would have rejected; the text is v1.73's.
    Invalid(String),
    /// The caller's callback of [`render_db_each`] failed with this text.
    Consumer(String),
}

impl SqliteError {
    fn new(path: &Path, kind: ErrorKind) -> Self {
        SqliteError {
            path: path.to_path_buf(),
            place: None,
            kind,
        }
    }

    fn at(mut self, place: impl Into<String>) -> Self {
        self.place = Some(place.into());
        self
    }

    /// The message alone (Go's text where Go had one), without the place.
    pub fn message(&self) -> &str {
        match &self.kind {
            ErrorKind::Corrupt(m)
            | ErrorKind::NotAnIndex(m)
            | ErrorKind::Schema(m)
            | ErrorKind::Invalid(m)
            | ErrorKind::Consumer(m) => m,
        }
    }

    /// Where it happened: the file, then the table and row when known.
    pub fn location(&self) -> String {
        match &self.place {
            Some(p) => format!("{}: {p}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

impl fmt::Display for SqliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.location())
    }
}

impl std::error::Error for SqliteError {}

#[cfg(test)]
mod tests;
