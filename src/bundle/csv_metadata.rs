//! The `olm.csv.metadata` property value built from a CSV (spec §4.6).
//!
//! Go decodes the CSV JSON into the operator-framework API type
//! (`v1alpha1.ClusterServiceVersion`), copies the catalog-relevant fields
//! into `property.CSVMetadata` and encodes that compactly without HTML
//! escaping. So the value follows Go struct semantics, not the input text:
//! keys come out in struct field order, fields the API types do not have are
//! dropped, `omitempty` drops empty strings and lists, and the struct-typed
//! fields (`apiServiceDefinitions`, `crdDescriptions`, `provider`) are always
//! written because `omitempty` never omits a struct. Descriptor `value`s are
//! `json.RawMessage`: their text is kept (escapes included), only compacted.

use super::gojson::{self, At, DecodeError, Raw};
use crate::encoding::json::write_string;

/// Build the compact `olm.csv.metadata` value from the CSV's JSON. Errors
/// are Go's `json.Unmarshal` text.
pub fn from_csv_json(csv: &str) -> Result<String, String> {
    let root = gojson::parse(csv).map_err(|e| {
        crate::encoding::json_syntax::first_error(csv.as_bytes())
            .map(|(m, _)| m)
            .unwrap_or(e)
    })?;
    let mut out = Vec::with_capacity(1024);
    write_metadata(root, &mut out).map_err(|e| e.to_string())?;
    // Our writer only emits UTF-8.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// A struct being written: `omitempty` fields are skipped by the caller.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut Vec<u8>) -> Obj<'o> {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_string(k, self.out);
        self.out.push(b':');
        self.out
    }

    fn str(&mut self, k: &str, v: &str) {
        write_string(v, self.key(k));
    }

    fn opt_str(&mut self, k: &str, v: &str) {
        if !v.is_empty() {
            self.str(k, v);
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A decoded struct: its fields' raw values by declared position.
struct Fields<'a> {
    at: At,
    raw: Vec<Option<Raw<'a>>>,
    names: &'static [&'static str],
}

impl<'a> Fields<'a> {
    /// Decode `v` (of Go type `go_type`, struct name `strukt`) at `at`.
    fn decode(
        v: Option<Raw<'a>>,
        at: &At,
        go_type: &str,
        strukt: &'static str,
        names: &'static [&'static str],
    ) -> Result<Fields<'a>, DecodeError> {
        let raw = match v {
            Some(v) => gojson::fields(v, at, go_type, names)?.unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Fields {
            at: at.within(strukt),
            raw,
            names,
        })
    }

    fn get(&self, name: &str) -> Option<Raw<'a>> {
        let i = self.names.iter().position(|n| *n == name)?;
        self.raw.get(i).copied().flatten()
    }

    fn at(&self, name: &str) -> At {
        self.at.field(name)
    }

    fn string(&self, name: &str) -> Result<String, DecodeError> {
        match self.get(name) {
            Some(v) => Ok(gojson::string(v, &self.at(name))?),
            None => Ok(String::new()),
        }
    }

    fn list(&self, name: &str, go_type: &str) -> Result<Vec<Raw<'a>>, DecodeError> {
        match self.get(name) {
            Some(v) => Ok(gojson::slice(v, &self.at(name), go_type)?),
            None => Ok(Vec::new()),
        }
    }

    fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, DecodeError> {
        match self.get(name) {
            Some(v) => Ok(gojson::string_map(v, &self.at(name))?),
            None => Ok(Vec::new()),
        }
    }
}

const CSV_FIELDS: &[&str] = &["metadata", "spec"];
const META_FIELDS: &[&str] = &["annotations", "labels"];
const SPEC_FIELDS: &[&str] = &[
    "customresourcedefinitions",
    "apiservicedefinitions",
    "description",
    "displayName",
    "installModes",
    "keywords",
    "links",
    "maintainers",
    "maturity",
    "minKubeVersion",
    "nativeAPIs",
    "provider",
];
const OWNED_REQUIRED: &[&str] = &["owned", "required"];
const CRD_FIELDS: &[&str] = &[
    "name",
    "version",
    "kind",
    "displayName",
    "description",
    "resources",
    "statusDescriptors",
    "specDescriptors",
    "actionDescriptors",
];
const API_SERVICE_FIELDS: &[&str] = &[
    "name",
    "group",
    "version",
    "kind",
    "deploymentName",
    "containerPort",
    "displayName",
    "description",
    "resources",
    "statusDescriptors",
    "specDescriptors",
    "actionDescriptors",
];
const RESOURCE_FIELDS: &[&str] = &["name", "kind", "version"];
const DESCRIPTOR_FIELDS: &[&str] = &[
    "path",
    "displayName",
    "description",
    "x-descriptors",
    "value",
];
const INSTALL_MODE_FIELDS: &[&str] = &["type", "supported"];
const LINK_FIELDS: &[&str] = &["name", "url"];
const MAINTAINER_FIELDS: &[&str] = &["name", "email"];
const GVK_FIELDS: &[&str] = &["group", "version", "kind"];

fn write_metadata(root: Raw<'_>, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let csv = Fields::decode(
        Some(root),
        &At::value(),
        "v1alpha1.ClusterServiceVersion",
        "ClusterServiceVersion",
        CSV_FIELDS,
    )?;
    let meta = Fields::decode(
        csv.get("metadata"),
        &csv.at("metadata"),
        "v1.ObjectMeta",
        "ObjectMeta",
        META_FIELDS,
    )?;
    let spec = Fields::decode(
        csv.get("spec"),
        &csv.at("spec"),
        "v1alpha1.ClusterServiceVersionSpec",
        "ClusterServiceVersionSpec",
        SPEC_FIELDS,
    )?;

    let mut o = Obj::open(out);
    let annotations = meta.string_map("annotations")?;
    if !annotations.is_empty() {
        write_string_map(o.key("annotations"), &annotations);
    }
    write_definitions(
        &spec,
        "apiservicedefinitions",
        o.key("apiServiceDefinitions"),
        "v1alpha1.APIServiceDefinitions",
        "APIServiceDefinitions",
        write_api_service,
    )?;
    write_definitions(
        &spec,
        "customresourcedefinitions",
        o.key("crdDescriptions"),
        "v1alpha1.CustomResourceDefinitions",
        "CustomResourceDefinitions",
        write_crd,
    )?;
    o.opt_str("description", &spec.string("description")?);
    o.opt_str("displayName", &spec.string("displayName")?);

    let modes = spec.list("installModes", "[]v1alpha1.InstallMode")?;
    if !modes.is_empty() {
        let at = spec.at("installModes");
        write_list(o.key("installModes"), &modes, |m, out| {
            let f = Fields::decode(
                Some(m),
                &at,
                "v1alpha1.InstallMode",
                "InstallMode",
                INSTALL_MODE_FIELDS,
            )?;
            let supported = match f.get("supported") {
                Some(v) => gojson::boolean(v, &f.at("supported"))?,
                None => false,
            };
            let mut mo = Obj::open(out);
            mo.str("type", &f.string("type")?);
            mo.key("supported")
                .extend_from_slice(if supported { b"true" } else { b"false" });
            mo.close();
            Ok(())
        })?;
    }

    let keywords = spec.list("keywords", "[]string")?;
    if !keywords.is_empty() {
        let at = spec.at("keywords");
        write_list(o.key("keywords"), &keywords, |k, out| {
            write_string(&gojson::string(k, &at)?, out);
            Ok(())
        })?;
    }

    let labels = meta.string_map("labels")?;
    if !labels.is_empty() {
        write_string_map(o.key("labels"), &labels);
    }

    let links = StringStruct::new("AppLink", LINK_FIELDS, true);
    links.write_list(&spec, "links", "[]v1alpha1.AppLink", &mut o)?;
    let maintainers = StringStruct::new("Maintainer", MAINTAINER_FIELDS, true);
    maintainers.write_list(&spec, "maintainers", "[]v1alpha1.Maintainer", &mut o)?;

    o.opt_str("maturity", &spec.string("maturity")?);
    o.opt_str("minKubeVersion", &spec.string("minKubeVersion")?);

    let gvk = StringStruct::new("GroupVersionKind", GVK_FIELDS, false);
    gvk.write_list(&spec, "nativeAPIs", "[]v1.GroupVersionKind", &mut o)?;

    let provider = Fields::decode(
        spec.get("provider"),
        &spec.at("provider"),
        "v1alpha1.AppLink",
        "AppLink",
        LINK_FIELDS,
    )?;
    let mut po = Obj::open(o.key("provider"));
    for n in LINK_FIELDS {
        po.opt_str(n, &provider.string(n)?);
    }
    po.close();
    o.close();
    Ok(())
}

fn write_string_map(out: &mut Vec<u8>, map: &[(String, String)]) {
    let mut o = Obj::open(out);
    for (k, v) in map {
        o.str(k, v);
    }
    o.close();
}

fn write_list<'a>(
    out: &mut Vec<u8>,
    items: &[Raw<'a>],
    mut each: impl FnMut(Raw<'a>, &mut Vec<u8>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(*item, out)?;
    }
    out.push(b']');
    Ok(())
}

/// A Go struct made only of string fields (`AppLink`, `Maintainer`,
/// `GroupVersionKind`, `APIResourceReference`), written in field order.
struct StringStruct {
    strukt: &'static str,
    names: &'static [&'static str],
    /// Whether every field is `omitempty`.
    omit_empty: bool,
}

impl StringStruct {
    fn new(strukt: &'static str, names: &'static [&'static str], omit_empty: bool) -> Self {
        StringStruct {
            strukt,
            names,
            omit_empty,
        }
    }

    /// The list under `field` of `parent`, omitted when empty.
    fn write_list(
        &self,
        parent: &Fields<'_>,
        field: &str,
        go_type: &str,
        o: &mut Obj<'_>,
    ) -> Result<(), DecodeError> {
        let items = parent.list(field, go_type)?;
        if items.is_empty() {
            return Ok(());
        }
        let at = parent.at(field);
        write_list(o.key(field), &items, |item, out| {
            let f = Fields::decode(Some(item), &at, &go_type[2..], self.strukt, self.names)?;
            let mut so = Obj::open(out);
            for n in self.names {
                let v = f.string(n)?;
                if !(self.omit_empty && v.is_empty()) {
                    so.str(n, &v);
                }
            }
            so.close();
            Ok(())
        })
    }
}

type ItemWriter = fn(&Fields<'_>, &mut Vec<u8>) -> Result<(), DecodeError>;

/// `{"owned":[…],"required":[…]}`, each list omitted when empty.
fn write_definitions(
    spec: &Fields<'_>,
    field: &str,
    out: &mut Vec<u8>,
    go_type: &str,
    strukt: &'static str,
    item: ItemWriter,
) -> Result<(), DecodeError> {
    let defs = Fields::decode(
        spec.get(field),
        &spec.at(field),
        go_type,
        strukt,
        OWNED_REQUIRED,
    )?;
    let (item_type, item_struct, names) = if strukt == "APIServiceDefinitions" {
        (
            "v1alpha1.APIServiceDescription",
            "APIServiceDescription",
            API_SERVICE_FIELDS,
        )
    } else {
        ("v1alpha1.CRDDescription", "CRDDescription", CRD_FIELDS)
    };
    let mut o = Obj::open(out);
    for list in OWNED_REQUIRED {
        let items = defs.list(list, &format!("[]{item_type}"))?;
        if items.is_empty() {
            continue;
        }
        let at = defs.at(list);
        write_list(o.key(list), &items, |raw, out| {
            let f = Fields::decode(Some(raw), &at, item_type, item_struct, names)?;
            item(&f, out)
        })?;
    }
    o.close();
    Ok(())
}

fn write_crd(f: &Fields<'_>, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let mut o = Obj::open(out);
    o.str("name", &f.string("name")?);
    o.str("version", &f.string("version")?);
    o.str("kind", &f.string("kind")?);
    write_description_tail(f, &mut o)?;
    o.close();
    Ok(())
}

fn write_api_service(f: &Fields<'_>, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let mut o = Obj::open(out);
    for n in ["name", "group", "version", "kind"] {
        o.str(n, &f.string(n)?);
    }
    o.opt_str("deploymentName", &f.string("deploymentName")?);
    let port = match f.get("containerPort") {
        Some(v) => gojson::int32(v, &f.at("containerPort"))?,
        None => 0,
    };
    if port != 0 {
        o.key("containerPort")
            .extend_from_slice(port.to_string().as_bytes());
    }
    write_description_tail(f, &mut o)?;
    o.close();
    Ok(())
}

/// The fields CRD and API service descriptions share, after their keys.
fn write_description_tail(f: &Fields<'_>, o: &mut Obj<'_>) -> Result<(), DecodeError> {
    o.opt_str("displayName", &f.string("displayName")?);
    o.opt_str("description", &f.string("description")?);
    let resource = StringStruct::new("APIResourceReference", RESOURCE_FIELDS, false);
    resource.write_list(f, "resources", "[]v1alpha1.APIResourceReference", o)?;
    for (field, go_type, strukt) in [
        (
            "statusDescriptors",
            "v1alpha1.StatusDescriptor",
            "StatusDescriptor",
        ),
        (
            "specDescriptors",
            "v1alpha1.SpecDescriptor",
            "SpecDescriptor",
        ),
        (
            "actionDescriptors",
            "v1alpha1.ActionDescriptor",
            "ActionDescriptor",
        ),
    ] {
        let items = f.list(field, &format!("[]{go_type}"))?;
        if items.is_empty() {
            continue;
        }
        let at = f.at(field);
        write_list(o.key(field), &items, |d, out| {
            let df = Fields::decode(Some(d), &at, go_type, strukt, DESCRIPTOR_FIELDS)?;
            let mut dob = Obj::open(out);
            dob.str("path", &df.string("path")?);
            dob.opt_str("displayName", &df.string("displayName")?);
            dob.opt_str("description", &df.string("description")?);
            let xs = df.list("x-descriptors", "[]string")?;
            if !xs.is_empty() {
                let xat = df.at("x-descriptors");
                write_list(dob.key("x-descriptors"), &xs, |x, out| {
                    write_string(&gojson::string(x, &xat)?, out);
                    Ok(())
                })?;
            }
            // A json.RawMessage: kept as written (a JSON null included),
            // only compacted.
            if let Some(v) = df.get("value") {
                dob.key("value")
                    .extend_from_slice(gojson::compact(v.text()).as_bytes());
            }
            dob.close();
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foo_example_from_the_spec() {
        let csv = r#"{"apiVersion":"operators.coreos.com/v1alpha1","kind":"ClusterServiceVersion","metadata":{"annotations":{"olm.skipRange":"\u003c0.2.0"},"name":"foo.v0.2.0"},"spec":{"customresourcedefinitions":{"owned":[{"group":"test.foo","kind":"Foo","name":"foos.test.foo","version":"v1"}]},"displayName":"Foo Operator","install":{"strategy":"deployment"},"version":"0.2.0"}}"#;
        assert_eq!(
            from_csv_json(csv).unwrap(),
            r#"{"annotations":{"olm.skipRange":"<0.2.0"},"apiServiceDefinitions":{},"crdDescriptions":{"owned":[{"name":"foos.test.foo","version":"v1","kind":"Foo"}]},"displayName":"Foo Operator","provider":{}}"#
        );
    }

    #[test]
    fn empty_csv_keeps_the_struct_fields() {
        assert_eq!(
            from_csv_json("{}").unwrap(),
            r#"{"apiServiceDefinitions":{},"crdDescriptions":{},"provider":{}}"#
        );
    }

    #[test]
    fn field_order_and_omission_follow_the_go_structs() {
        let csv = r#"{"metadata":{"labels":{"b":"2","a":"1"},"annotations":{}},"spec":{
            "provider":{"url":"https://x","name":"X & Y"},
            "nativeAPIs":[{"kind":"K","group":"","version":"v1"}],
            "minKubeVersion":"1.20","maturity":"alpha",
            "maintainers":[{"email":"a@b"}],"links":[{"name":"n","url":""}],
            "keywords":["k1"],"installModes":[{"supported":true,"type":"OwnNamespace"},{"type":"AllNamespaces"}],
            "description":"d","displayName":"D",
            "apiservicedefinitions":{"owned":[{"name":"n","group":"g","version":"v","kind":"K","containerPort":443,"deploymentName":"dep"}]},
            "customresourcedefinitions":{"required":[{"name":"a.b","version":"v1","kind":"A","specDescriptors":[{"path":"p","value": { "x" : "\u003c" },"x-descriptors":["u"]}],"resources":[{"kind":"Pod","name":"","version":"v1"}]}]}}}"#;
        assert_eq!(
            from_csv_json(csv).unwrap(),
            concat!(
                r#"{"apiServiceDefinitions":{"owned":[{"name":"n","group":"g","version":"v","kind":"K","deploymentName":"dep","containerPort":443}]},"#,
                r#""crdDescriptions":{"required":[{"name":"a.b","version":"v1","kind":"A","resources":[{"name":"","kind":"Pod","version":"v1"}],"specDescriptors":[{"path":"p","x-descriptors":["u"],"value":{"x":"\u003c"}}]}]},"#,
                r#""description":"d","displayName":"D","installModes":[{"type":"OwnNamespace","supported":true},{"type":"AllNamespaces","supported":false}],"#,
                r#""keywords":["k1"],"labels":{"a":"1","b":"2"},"links":[{"name":"n"}],"maintainers":[{"email":"a@b"}],"#,
                r#""maturity":"alpha","minKubeVersion":"1.20","nativeAPIs":[{"group":"","version":"v1","kind":"K"}],"provider":{"name":"X & Y","url":"https://x"}}"#
            )
        );
    }

    #[test]
    fn type_errors_are_gos() {
        assert_eq!(
            from_csv_json(r#"{"spec":{"displayName":1}}"#).unwrap_err(),
            "json: cannot unmarshal number into Go struct field ClusterServiceVersionSpec.spec.displayName of type string"
        );
        assert_eq!(
            from_csv_json("[]").unwrap_err(),
            "json: cannot unmarshal array into Go value of type v1alpha1.ClusterServiceVersion"
        );
    }
}
