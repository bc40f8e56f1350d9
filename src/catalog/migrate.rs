//! Catalog migrations selected by `--migrate-level` / `--migrate` (spec §4.6).

use super::model::*;

/// The ordered migration levels, with the help text opm prints for each.
pub const LEVELS: &[(&str, &str)] = &[
    ("none", "do nothing"),
    (
        "bundle-object-to-csv-metadata",
        "migrates bundles' \"olm.bundle.object\" to \"olm.csv.metadata\"",
    ),
];

/// Which migrations to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level(usize);

impl Level {
    pub const NONE: Level = Level(0);
    pub const ALL: Level = Level(LEVELS.len() - 1);

    /// `""` and `none` do nothing; `all` runs every migration.
    pub fn parse(s: &str) -> Result<Level, String> {
        if s.is_empty() {
            return Ok(Level::NONE);
        }
        if s == "all" {
            return Ok(Level::ALL);
        }
        LEVELS
            .iter()
            .position(|(name, _)| *name == s)
            .map(Level)
            .ok_or_else(|| format!("unknown migration level {}", super::load::go_quote(s)))
    }

    /// Whether loading must keep the decoded bundle objects for this level.
    pub fn needs_objects(self) -> bool {
        self.0 >= 1
    }
}

/// The flag usage suffix listing the levels (tab-writer, padding 1).
pub fn help_text() -> String {
    let width = LEVELS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut s = String::from(
        "\nThe migrator will run all migrations up to and including the selected level.\n\nAvailable migrators:\n",
    );
    for (name, help) in LEVELS {
        s.push_str(&format!("  - {name:<width$} : {help}\n"));
    }
    s
}

/// Run every migration up to `level`.
pub fn migrate(cfg: &mut DeclarativeConfig, level: Level) -> Result<(), String> {
    if level.0 >= 1 {
        bundle_object_to_csv_metadata(cfg)?;
    }
    Ok(())
}

/// Replace `olm.bundle.object` properties by one `olm.csv.metadata`, for
/// bundles with an image and a CSV that have no CSV metadata yet.
fn bundle_object_to_csv_metadata(cfg: &mut DeclarativeConfig) -> Result<(), String> {
    for b in &mut cfg.bundles {
        if b.image.is_empty() {
            continue;
        }
        let Some(csv) = &b.csv_json else { continue };
        if b.properties.iter().any(|p| p.typ == PROP_CSV_METADATA) {
            continue;
        }
        let value = crate::bundle::csv_metadata::from_csv_json(csv)?;
        b.properties.retain(|p| p.typ != PROP_BUNDLE_OBJECT);
        b.properties.push(Property {
            typ: PROP_CSV_METADATA.into(),
            value,
            ..Default::default()
        });
    }
    Ok(())
}
