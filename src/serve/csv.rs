//! The ClusterServiceVersion Go opm synthesises for a bundle that carries an
//! `olm.csv.metadata` property instead of `olm.bundle.object`s (spec
//! opm-validate-serve-grpc.md §4.2, "csvJson").
//!
//! Go decodes the property into `property.CSVMetadata`, copies it into a
//! `v1alpha1.ClusterServiceVersion` and `json.Marshal`s that. The bytes
//! therefore follow the Go struct field order, `omitempty` rules and HTML
//! escaping of operator-framework/api, which this module writes by hand:
//! a generic map-based encoder would sort the keys.

use serde_json::{Map, Value};

use crate::catalog::{Icon, RelatedImage};
use crate::encoding::json::{write_normalized, write_string_html};

/// What the synthesis needs besides the metadata itself.
pub struct CsvContext<'a> {
    pub bundle_name: &'a str,
    pub version: &'a str,
    pub package_description: &'a str,
    pub package_icon: Option<&'a Icon>,
    pub related_images: &'a [RelatedImage],
}

/// Build the CSV JSON from an `olm.csv.metadata` property value. Errors are
/// Go's decode errors, worded loosely (the loader has already checked the
/// value is JSON).
pub fn synthesize(metadata: &str, ctx: &CsvContext<'_>) -> Result<String, String> {
    let v: Value = serde_json::from_str(metadata).map_err(|e| e.to_string())?;
    let empty = Map::new();
    let m = v.as_object().unwrap_or(&empty);
    let mut w = Writer::default();
    w.open();
    w.key("kind");
    w.string("ClusterServiceVersion");
    w.key("apiVersion");
    w.string("operators.coreos.com/v1alpha1");

    // metav1.ObjectMeta: name, then labels and annotations (both omitempty).
    w.key("metadata");
    w.open();
    w.key("name");
    w.string(ctx.bundle_name);
    w.string_map_field("labels", get(m, "labels"));
    w.string_map_field("annotations", get(m, "annotations"));
    w.close();

    w.key("spec");
    w.open();
    // GO QUIRK (§4.2): the install strategy is named but has no deployments.
    w.key("install");
    w.raw(r#"{"strategy":"deployment","spec":{"deployments":null}}"#);
    w.key("version");
    w.string(ctx.version);
    w.opt_string_field("maturity", str_of(get(m, "maturity")));
    w.key("customresourcedefinitions");
    w.owned_required(get(m, "crdDescriptions"), Writer::crd_description);
    w.key("apiservicedefinitions");
    w.owned_required(
        get(m, "apiServiceDefinitions"),
        Writer::api_service_description,
    );
    w.list_field("nativeAPIs", get(m, "nativeAPIs"), |w, g| {
        w.fields_always(g, &["group", "version", "kind"]);
    });
    w.opt_string_field("minKubeVersion", str_of(get(m, "minKubeVersion")));
    w.key("displayName");
    w.string(str_of(get(m, "displayName")));
    let description = match str_of(get(m, "description")) {
        "" => ctx.package_description,
        d => d,
    };
    w.opt_string_field("description", description);
    w.list_field("keywords", get(m, "keywords"), |w, k| {
        w.string(str_of(Some(k)))
    });
    w.list_field("maintainers", get(m, "maintainers"), |w, x| {
        w.fields_omitempty(x, &["name", "email"]);
    });
    w.key("provider");
    w.fields_omitempty(get(m, "provider").unwrap_or(&Value::Null), &["name", "url"]);
    w.list_field("links", get(m, "links"), |w, x| {
        w.fields_omitempty(x, &["name", "url"]);
    });
    if let Some(icon) = ctx.package_icon {
        use base64::Engine;
        w.key("icon");
        w.out.extend_from_slice(b"[{\"base64data\":");
        let data = icon
            .data
            .as_deref()
            .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
            .unwrap_or_default();
        w.string(&data);
        w.out.extend_from_slice(b",\"mediatype\":");
        w.string(&icon.mediatype);
        w.out.extend_from_slice(b"}]");
    }
    w.list_field("installModes", get(m, "installModes"), |w, x| {
        w.open();
        w.key("type");
        w.string(str_of(get_obj(x, "type")));
        w.key("supported");
        let supported = matches!(get_obj(x, "supported"), Some(Value::Bool(true)));
        w.raw(if supported { "true" } else { "false" });
        w.close();
    });
    w.key("cleanup");
    w.raw(r#"{"enabled":false}"#);
    if !ctx.related_images.is_empty() {
        w.key("relatedImages");
        w.out.push(b'[');
        for (i, r) in ctx.related_images.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            w.out.extend_from_slice(b"{\"name\":");
            w.string(&r.name);
            w.out.extend_from_slice(b",\"image\":");
            w.string(&r.image);
            w.out.push(b'}');
        }
        w.out.push(b']');
    }
    w.close();
    w.key("status");
    w.raw(r#"{"cleanup":{}}"#);
    w.close();
    // The writer only emits valid UTF-8 (copied `str`s and ASCII).
    String::from_utf8(w.out).map_err(|e| e.to_string())
}

/// Go's case-insensitive struct field lookup: exact name first.
fn get<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name)
        .or_else(|| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

fn get_obj<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m| get(m, name))
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

fn non_empty_list(v: Option<&Value>) -> Option<&Vec<Value>> {
    v.and_then(Value::as_array).filter(|a| !a.is_empty())
}

/// A compact JSON writer tracking whether a comma is due.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    first: Vec<bool>,
}

impl Writer {
    fn open(&mut self) {
        self.out.push(b'{');
        self.first.push(true);
    }

    fn close(&mut self) {
        self.out.push(b'}');
        self.first.pop();
    }

    fn key(&mut self, k: &str) {
        if let Some(first) = self.first.last_mut() {
            if !*first {
                self.out.push(b',');
            }
            *first = false;
        }
        write_string_html(k, &mut self.out);
        self.out.push(b':');
    }

    fn string(&mut self, s: &str) {
        write_string_html(s, &mut self.out);
    }

    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn opt_string_field(&mut self, k: &str, v: &str) {
        if !v.is_empty() {
            self.key(k);
            self.string(v);
        }
    }

    /// A `map[string]string` field with omitempty: keys sorted (the
    /// normalised value already is).
    fn string_map_field(&mut self, k: &str, v: Option<&Value>) {
        let Some(map) = v.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
            return;
        };
        self.key(k);
        self.open();
        for (mk, mv) in map {
            self.key(mk);
            self.string(str_of(Some(mv)));
        }
        self.close();
    }

    fn list_field(&mut self, k: &str, v: Option<&Value>, mut item: impl FnMut(&mut Self, &Value)) {
        let Some(items) = non_empty_list(v) else {
            return;
        };
        self.key(k);
        self.list(items, &mut item);
    }

    fn list(&mut self, items: &[Value], item: &mut impl FnMut(&mut Self, &Value)) {
        self.out.push(b'[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            item(self, x);
        }
        self.out.push(b']');
    }

    /// A struct of string fields without omitempty.
    fn fields_always(&mut self, v: &Value, names: &[&str]) {
        self.open();
        for n in names {
            self.key(n);
            self.string(str_of(get_obj(v, n)));
        }
        self.close();
    }

    /// A struct of string fields, each omitempty.
    fn fields_omitempty(&mut self, v: &Value, names: &[&str]) {
        self.open();
        for n in names {
            self.opt_string_field(n, str_of(get_obj(v, n)));
        }
        self.close();
    }

    /// `CustomResourceDefinitions` / `APIServiceDefinitions`: a struct with
    /// `owned` and `required` lists, both omitempty; `{}` when empty.
    fn owned_required(&mut self, v: Option<&Value>, item: fn(&mut Self, &Value)) {
        self.open();
        for k in ["owned", "required"] {
            let list = v.and_then(|v| get_obj(v, k));
            self.list_field(k, list, item);
        }
        self.close();
    }

    fn crd_description(&mut self, v: &Value) {
        self.open();
        for n in ["name", "version", "kind"] {
            self.key(n);
            self.string(str_of(get_obj(v, n)));
        }
        self.opt_string_field("displayName", str_of(get_obj(v, "displayName")));
        self.opt_string_field("description", str_of(get_obj(v, "description")));
        self.descriptor_lists(v);
        self.close();
    }

    fn api_service_description(&mut self, v: &Value) {
        self.open();
        for n in ["name", "group", "version", "kind"] {
            self.key(n);
            self.string(str_of(get_obj(v, n)));
        }
        self.opt_string_field("deploymentName", str_of(get_obj(v, "deploymentName")));
        if let Some(port) = get_obj(v, "containerPort").and_then(Value::as_f64)
            && port != 0.0
        {
            self.key("containerPort");
            write_normalized(&Value::from(port as i64), &mut self.out);
        }
        self.opt_string_field("displayName", str_of(get_obj(v, "displayName")));
        self.opt_string_field("description", str_of(get_obj(v, "description")));
        self.descriptor_lists(v);
        self.close();
    }

    /// `resources`, then the status, spec and action descriptors.
    fn descriptor_lists(&mut self, v: &Value) {
        self.list_field("resources", get_obj(v, "resources"), |w, r| {
            w.fields_always(r, &["name", "kind", "version"]);
        });
        for k in ["statusDescriptors", "specDescriptors", "actionDescriptors"] {
            self.list_field(k, get_obj(v, k), Writer::descriptor);
        }
    }

    fn descriptor(&mut self, d: &Value) {
        self.open();
        self.key("path");
        self.string(str_of(get_obj(d, "path")));
        self.opt_string_field("displayName", str_of(get_obj(d, "displayName")));
        self.opt_string_field("description", str_of(get_obj(d, "description")));
        self.list_field("x-descriptors", get_obj(d, "x-descriptors"), |w, x| {
            w.string(str_of(Some(x)))
        });
        // `value` is a json.RawMessage: Marshal compacts it and escapes HTML.
        if let Some(value) = get_obj(d, "value") {
            self.key("value");
            crate::encoding::json::write_marshal_html(value, &mut self.out);
        }
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_metadata_matches_go_shape() {
        let ctx = CsvContext {
            bundle_name: "foo.v0.1.0",
            version: "0.1.0",
            package_description: "pkg <desc>",
            package_icon: None,
            related_images: &[],
        };
        let csv = synthesize(r#"{"apiServiceDefinitions":{},"crdDescriptions":{},"displayName":"Foo","provider":{}}"#, &ctx).unwrap();
        assert_eq!(
            csv,
            r#"{"kind":"ClusterServiceVersion","apiVersion":"operators.coreos.com/v1alpha1","metadata":{"name":"foo.v0.1.0"},"spec":{"install":{"strategy":"deployment","spec":{"deployments":null}},"version":"0.1.0","customresourcedefinitions":{},"apiservicedefinitions":{},"displayName":"Foo","description":"pkg \u003cdesc\u003e","provider":{},"cleanup":{"enabled":false}},"status":{"cleanup":{}}}"#
        );
    }
}
