//! The basic template (`olm.template.basic`): a list of FBC blobs in which
//! a bundle may be given by its image alone. Every other blob passes
//! through as written, unvalidated (spec: replay README §5.3), and each
//! image-only bundle is replaced by its render, in template order.

use serde_json::Value;

use super::{BundleRenderer, TemplateError, check_schema, field, first_document, load_entries};
use crate::catalog::{Bundle, DeclarativeConfig};

pub const SCHEMA: &str = "olm.template.basic";

/// Go's struct name in its decoding errors.
const OWNER: &str = "BasicTemplateData";

pub fn render(
    text: &str,
    renderer: &dyn BundleRenderer,
) -> Result<DeclarativeConfig, TemplateError> {
    let doc = first_document(text).map_err(|e| format!("decoding template schema: {e}"))?;
    let Value::Object(obj) = &doc else {
        return Err(TemplateError::new(format!(
            "unmarshalling template: json: cannot unmarshal {} into Go value of type basic.BasicTemplateData",
            super::json_kind(&doc)
        )));
    };
    check_schema(obj, SCHEMA, OWNER)?;
    let mut cfg = load_entries(obj, OWNER, "unmarshalling template", None)?;

    // Go checks each bundle just before rendering it, so a bad entry after
    // a failing image reports the image; fetching all first is only a cache.
    let images: Vec<String> = cfg
        .bundles
        .iter()
        .filter(|b| is_image_only(b))
        .map(|b| b.image.clone())
        .collect();
    renderer.prefetch(&images);

    let mut out = Vec::with_capacity(cfg.bundles.len());
    for b in std::mem::take(&mut cfg.bundles) {
        if !is_image_only(&b) {
            let anchor = [&b.name, &b.image, &b.package]
                .into_iter()
                .find(|s| !s.is_empty())
                .cloned();
            let err = TemplateError::new("unexpected fields present in basic template bundle");
            return Err(match anchor {
                Some(a) => err.at(a),
                None => err,
            });
        }
        let rendered = renderer
            .render(&b.image)
            .map_err(|m| TemplateError::new(m).at(b.image.clone()))?;
        out.extend(rendered.bundles);
    }
    cfg.bundles = out;
    Ok(cfg)
}

/// Go's `isBundleTemplate`: schema and image set, and no package,
/// properties or related images. (A `name` is tolerated, as in Go.)
fn is_image_only(b: &Bundle) -> bool {
    !b.schema.is_empty()
        && !b.image.is_empty()
        && b.package.is_empty()
        && b.properties.is_empty()
        && b.related_images.is_empty()
}

/// The images of a basic template's image-only bundles (for benchmarks
/// and prefetching callers).
pub fn images(text: &str) -> Vec<String> {
    let Ok(Value::Object(obj)) = first_document(text) else {
        return Vec::new();
    };
    let Some(Value::Array(entries)) = field(&obj, "entries") else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(Value::as_object)
        .filter(|o| field(o, "schema").and_then(Value::as_str) == Some("olm.bundle"))
        .filter_map(|o| {
            field(o, "image")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Property;

    struct Fake;
    impl BundleRenderer for Fake {
        fn render(&self, image: &str) -> Result<DeclarativeConfig, String> {
            if image.contains("missing") {
                return Err(format!("render reference {image:?}: not found"));
            }
            Ok(DeclarativeConfig {
                bundles: vec![Bundle {
                    schema: "olm.bundle".into(),
                    name: format!("b-{image}"),
                    package: "p".into(),
                    image: image.into(),
                    properties: vec![Property {
                        typ: "olm.package".into(),
                        value: "{\"packageName\":\"p\",\"version\":\"1.0.0\"}".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
        }
    }

    #[test]
    fn renders_image_only_bundles_and_passes_the_rest() {
        let t = "schema: olm.template.basic\nentries:\n- schema: olm.package\n  name: p\n- schema: custom\n  x: 1\n- schema: olm.bundle\n  image: img1\n";
        let cfg = render(t, &Fake).unwrap();
        assert_eq!(cfg.packages.len(), 1);
        assert_eq!(cfg.others.len(), 1);
        assert_eq!(cfg.bundles[0].name, "b-img1");
        assert_eq!(images(t), vec!["img1".to_string()]);
    }

    #[test]
    fn rejects_full_bundles_and_wrong_schema() {
        let t = "schema: olm.template.basic\nentries:\n- schema: olm.bundle\n  image: img1\n  package: p\n";
        let e = render(t, &Fake).unwrap_err();
        assert_eq!(
            e.message,
            "unexpected fields present in basic template bundle"
        );
        assert_eq!(e.anchor.as_deref(), Some("img1"));
        let e = render("schema: olm.semver\n", &Fake).unwrap_err();
        assert_eq!(
            e.message,
            "template has unknown schema (\"olm.semver\"), should be \"olm.template.basic\""
        );
        let t = "schema: olm.template.basic\nentries:\n- schema: olm.bundle\n  image: missing\n";
        assert!(render(t, &Fake).unwrap_err().message.contains("not found"));
    }
}
