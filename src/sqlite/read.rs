//! v1.73's queries over a level-13 index database, reduced to what render
//! uses, each table read once.
//!
//! The channel graph comes from v1.73's own recursive query
//! (`listBundlesQuery`, spec §7.3) run unchanged, so `replaces` and the
//! order of `skips` (SQLite's `group_concat` order) are SQLite's answer,
//! not a re-implementation of it. Where v1.73 joined `dependencies` and
//! `properties` into that query (one row per property × dependency pair),
//! we read both tables once and group them by bundle name, which is what
//! its join condition (name only) amounted to.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use rusqlite::types::ValueRef;

use super::SqliteError;
use super::schema::Db;

/// Everything render needs from the database.
pub(super) struct Index {
    pub path: PathBuf,
    /// `package` rows (distinct names, table order) and their default channel.
    pub packages: Vec<(String, Option<String>)>,
    /// `channel` rows: (package, channel, head bundle).
    pub channels: Vec<(Option<String>, Option<String>, Option<String>)>,
    /// One row per (bundle, package, channel) of the channel graph.
    pub entries: Vec<EntryRow>,
    /// `properties` (type, value) by bundle name, table order.
    pub properties: HashMap<String, Vec<(String, String)>>,
    /// `dependencies` (type, value) by bundle name, table order.
    pub dependencies: HashMap<String, Vec<(String, String)>>,
    /// `related_image` (bundle name, image), table order.
    pub related_images: Vec<(String, String)>,
    /// (package, channel, bundle) triples present in `channel_entry`.
    pub memberships: HashSet<(String, String, String)>,
}

/// One bundle in one channel, as v1.73's `ListBundles` returned it.
pub(super) struct EntryRow {
    pub entry_id: i64,
    pub name: String,
    pub package: String,
    pub channel: String,
    pub version: String,
    pub image: String,
    pub skip_range: String,
    pub replaces: String,
    /// `None` when no entry skips into this one (Go leaves `Skips` nil).
    pub skips: Option<String>,
}

/// v1.73's `listBundlesQuery` (pkg/sqlite/query.go), without the joins on
/// `dependencies` and `properties` and without the `bundle` column, which
/// are read separately. The recursive part is kept byte for byte: it
/// decides which inbound edge is `replaces` (the chain walked from the
/// entries at the globally smallest depth) and the order of `skips`.
const LIST_BUNDLES: &str = "
WITH RECURSIVE
tip (depth) AS (
  SELECT min(depth)
  FROM channel_entry
), replaces_entry (entry_id, replaces) AS (
  SELECT entry_id, replaces
    FROM channel_entry
      INNER JOIN tip ON channel_entry.depth = tip.depth
  UNION
  SELECT channel_entry.entry_id, channel_entry.replaces
    FROM channel_entry
      INNER JOIN replaces_entry
        ON channel_entry.entry_id = replaces_entry.replaces
), replaces_bundle (entry_id, operatorbundle_name, package_name, channel_name, replaces) AS (
  SELECT min(all_entry.entry_id), all_entry.operatorbundle_name, all_entry.package_name, all_entry.channel_name, max(replaced_entry.operatorbundle_name)
    FROM channel_entry AS all_entry
      LEFT OUTER JOIN replaces_entry
        ON all_entry.entry_id = replaces_entry.entry_id
      LEFT OUTER JOIN channel_entry AS replaced_entry
        ON replaces_entry.replaces = replaced_entry.entry_id
    GROUP BY all_entry.operatorbundle_name, all_entry.package_name, all_entry.channel_name
), skips_entry (entry_id, skips) AS (
  SELECT entry_id, replaces
    FROM channel_entry
    WHERE replaces IS NOT NULL
  EXCEPT
  SELECT entry_id, replaces
    FROM replaces_entry
), skips_bundle (operatorbundle_name, package_name, channel_name, skips) AS (
  SELECT all_entry.operatorbundle_name, all_entry.package_name, all_entry.channel_name, group_concat(skipped_entry.operatorbundle_name, \",\")
    FROM skips_entry
      INNER JOIN channel_entry AS all_entry
        ON skips_entry.entry_id = all_entry.entry_id
      INNER JOIN channel_entry AS skipped_entry
        ON skips_entry.skips = skipped_entry.entry_id
    GROUP BY all_entry.operatorbundle_name, all_entry.package_name, all_entry.channel_name
)
SELECT
    replaces_bundle.entry_id,
    operatorbundle.name,
    replaces_bundle.package_name,
    replaces_bundle.channel_name,
    replaces_bundle.replaces,
    skips_bundle.skips,
    operatorbundle.version,
    operatorbundle.bundlepath,
    operatorbundle.skiprange
  FROM replaces_bundle
    INNER JOIN operatorbundle
      ON replaces_bundle.operatorbundle_name = operatorbundle.name
    LEFT OUTER JOIN skips_bundle
      ON replaces_bundle.operatorbundle_name = skips_bundle.operatorbundle_name
        AND replaces_bundle.package_name = skips_bundle.package_name
        AND replaces_bundle.channel_name = skips_bundle.channel_name";

/// A column as Go's `sql.NullString` scans it: NULL is `None`; numbers
/// become their decimal text; bytes are taken as (lossy) UTF-8.
fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

/// Run `sql` and hand each row to `f`, reporting failures against `table`.
fn each_row(
    db: &Db,
    table: &str,
    sql: &str,
    mut f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
) -> Result<(), SqliteError> {
    let mut run = || -> rusqlite::Result<()> {
        let mut stmt = db.conn.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(r)?;
        }
        Ok(())
    };
    run().map_err(|e| db.query_error(table, e))
}

pub(super) fn read_index(db: &Db) -> Result<Index, SqliteError> {
    let mut packages: Vec<(String, Option<String>)> = Vec::new();
    let mut seen = HashSet::new();
    // v1.73: `SELECT DISTINCT name FROM package`, then the default channel
    // of each.
    each_row(
        db,
        "package",
        "SELECT name, default_channel FROM package",
        |r| {
            if let Some(name) = text(r.get_ref(0)?)
                && seen.insert(name.clone())
            {
                packages.push((name, text(r.get_ref(1)?)));
            }
            Ok(())
        },
    )?;

    let mut channels = Vec::new();
    each_row(
        db,
        "channel",
        "SELECT package_name, name, head_operatorbundle_name FROM channel",
        |r| {
            channels.push((
                text(r.get_ref(0)?),
                text(r.get_ref(1)?),
                text(r.get_ref(2)?),
            ));
            Ok(())
        },
    )?;

    let mut entries = Vec::new();
    let mut keys = HashSet::new();
    each_row(db, "channel_entry", LIST_BUNDLES, |r| {
        let name = text(r.get_ref(1)?);
        let channel = text(r.get_ref(3)?);
        let version = text(r.get_ref(6)?);
        let image = text(r.get_ref(7)?);
        // v1.73 silently skips rows lacking any of these.
        let (Some(name), Some(channel), Some(version), Some(image)) =
            (name, channel, version, image)
        else {
            return Ok(());
        };
        // v1.73 keyed its rows by name/version/path/channel (not package):
        // the first row for a key wins.
        if !keys.insert((
            name.clone(),
            version.clone(),
            image.clone(),
            channel.clone(),
        )) {
            return Ok(());
        }
        entries.push(EntryRow {
            entry_id: r.get::<_, Option<i64>>(0)?.unwrap_or_default(),
            name,
            package: text(r.get_ref(2)?).unwrap_or_default(),
            channel,
            version,
            image,
            skip_range: text(r.get_ref(8)?).unwrap_or_default(),
            replaces: text(r.get_ref(4)?).unwrap_or_default(),
            skips: text(r.get_ref(5)?),
        });
        Ok(())
    })?;

    let mut memberships = HashSet::new();
    each_row(
        db,
        "channel_entry",
        "SELECT DISTINCT package_name, channel_name, operatorbundle_name FROM channel_entry",
        |r| {
            if let (Some(p), Some(c), Some(b)) = (
                text(r.get_ref(0)?),
                text(r.get_ref(1)?),
                text(r.get_ref(2)?),
            ) {
                memberships.insert((p, c, b));
            }
            Ok(())
        },
    )?;

    let properties = by_bundle(db, "properties")?;
    let dependencies = by_bundle(db, "dependencies")?;

    let mut related_images = Vec::new();
    each_row(
        db,
        "related_image",
        "SELECT image, operatorbundle_name FROM related_image",
        |r| {
            if let (Some(image), Some(bundle)) = (text(r.get_ref(0)?), text(r.get_ref(1)?)) {
                related_images.push((bundle, image));
            }
            Ok(())
        },
    )?;

    Ok(Index {
        path: db.path.clone(),
        packages,
        channels,
        entries,
        properties,
        dependencies,
        related_images,
        memberships,
    })
}

/// `properties` or `dependencies` rows with a type and a value, by bundle.
fn by_bundle(db: &Db, table: &str) -> Result<HashMap<String, Vec<(String, String)>>, SqliteError> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    each_row(
        db,
        table,
        &format!("SELECT type, value, operatorbundle_name FROM {table}"),
        |r| {
            if let (Some(typ), Some(value), Some(bundle)) = (
                text(r.get_ref(0)?),
                text(r.get_ref(1)?),
                text(r.get_ref(2)?),
            ) {
                out.entry(bundle).or_default().push((typ, value));
            }
            Ok(())
        },
    )?;
    Ok(out)
}
