//! What a reference names, decided in one place for every command that
//! takes one: `render`, `migrate`, `index --from-index`, `index --bundles`.
//!
//! A reference is an existing path (a catalog directory, a registry+v1
//! bundle directory, a legacy SQLite index file) or else an image (a
//! registry reference, `oci:DIR[:TAG]`, `docker-archive:FILE`). An image is
//! fetched and unpacked by `crate::image` (mechanism only); its config
//! labels then say what it holds (spec §4.2). Callers decide what to do
//! with each kind; nothing here renders or prints.

use std::path::{Path, PathBuf};

use crate::catalog::load::go_quote;
use crate::image::{LABEL_BUNDLE_PACKAGE, LABEL_CONFIGS, LABEL_DATABASE, Unpacked, label_path};

/// What a reference names on the local file system, or that it is not a
/// path (and so an image reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CatalogDir,
    BundleDir,
    SqliteFile,
    /// An existing file that is not a SQLite database.
    OtherFile,
    Image,
}

/// Classify `reference` by what exists at that path.
pub fn classify(reference: &str) -> Source {
    let path = Path::new(reference);
    match std::fs::metadata(path) {
        Err(_) => Source::Image,
        Ok(m) if m.is_dir() => {
            if is_bundle_dir(path) {
                Source::BundleDir
            } else {
                Source::CatalogDir
            }
        }
        Ok(_) if crate::sqlite::is_sqlite_file(path) => Source::SqliteFile,
        Ok(_) => Source::OtherFile,
    }
}

/// A directory holding real `manifests` and `metadata` sub-directories.
fn is_bundle_dir(path: &Path) -> bool {
    let is_real_dir = |name: &str| {
        std::fs::symlink_metadata(path.join(name))
            .map(|m| m.is_dir())
            .unwrap_or(false)
    };
    is_real_dir("manifests") && is_real_dir("metadata")
}

/// What an unpacked image holds, by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageContent {
    /// A file-based catalog image: the catalog folder inside the root.
    Catalog(PathBuf),
    /// A registry+v1 bundle image: the bundle is the root itself.
    Bundle,
    /// A legacy SQLite index image: the database file inside the root.
    SqliteIndex(PathBuf),
}

/// Decide what `image` holds. The first label present decides, in Go opm
/// HEAD's order (configs, bundle, database; spec §4.2). The errors are
/// HEAD's words for an image of no known kind.
pub fn image_content(image: &Unpacked, reference: &str) -> Result<ImageContent, String> {
    let labels = &image.labels;
    if let Some(dir) = labels.get(LABEL_CONFIGS) {
        return label_path(image.root(), LABEL_CONFIGS, dir).map(ImageContent::Catalog);
    }
    if labels.contains_key(LABEL_BUNDLE_PACKAGE) {
        return Ok(ImageContent::Bundle);
    }
    if let Some(db) = labels.get(LABEL_DATABASE) {
        return label_path(image.root(), LABEL_DATABASE, db).map(ImageContent::SqliteIndex);
    }
    let q = go_quote(reference);
    if labels.is_empty() {
        return Err(format!(
            "render {q}: image type could not be determined: image has no labels"
        ));
    }
    let found: Vec<String> = labels.iter().map(|(k, v)| format!("  {k}={v}")).collect();
    Err(format!(
        "render {q}: image type could not be determined, found labels\n{}",
        found.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(classify(d.to_str().unwrap()), Source::CatalogDir);
        std::fs::create_dir(d.join("manifests")).unwrap();
        std::fs::create_dir(d.join("metadata")).unwrap();
        assert_eq!(classify(d.to_str().unwrap()), Source::BundleDir);
        let f = d.join("x.txt");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(classify(f.to_str().unwrap()), Source::OtherFile);
        assert_eq!(classify(d.join("missing").to_str().unwrap()), Source::Image);
        assert_eq!(classify("quay.io/x/y:v1"), Source::Image);
    }
}
