//! The `olm.csv.metadata` property value built from a CSV (spec §4.6).

/// Build the compact `olm.csv.metadata` value from the CSV's JSON.
pub fn from_csv_json(_csv: &str) -> Result<String, String> {
    todo!("csv_metadata::from_csv_json")
}
