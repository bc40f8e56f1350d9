//! Go opm's `property.Parse`: decoding a bundle's well-known property values
//! into their Go structs, with `encoding/json`'s error wording (validate
//! spec §1.4 B4).
//!
//! Only the shape matters to validate (does each value decode?), plus the
//! `olm.package` fields. So instead of real structs, each Go type is a small
//! static descriptor, and decoding walks the JSON value against it, reporting
//! the first mismatch the way Go's decoder does: it keeps going after a type
//! error and returns the first one in document order.

use serde_json::Value;

use crate::catalog::fast::Cursor;
use crate::catalog::model::{Property, json_kind};

/// A Go type as far as JSON decoding can tell.
#[derive(Clone, Copy)]
enum GoType {
    Str(&'static str),
    Bool,
    Int,
    MapOfStr,
    Slice(&'static str, &'static GoType),
    Struct(&'static str, &'static [(&'static str, GoType)]),
    /// Anything decodes (`json.RawMessage`, `interface{}`).
    Any,
}

use GoType::*;

const STRING: GoType = Str("string");
const PACKAGE: GoType = Struct(
    "property.Package",
    &[
        ("packageName", STRING),
        ("version", STRING),
        ("release", STRING),
    ],
);
const PACKAGE_REQUIRED: GoType = Struct(
    "property.PackageRequired",
    &[("packageName", STRING), ("versionRange", STRING)],
);
const GVK_FIELDS: &[(&str, GoType)] = &[("group", STRING), ("kind", STRING), ("version", STRING)];
const GVK: GoType = Struct("property.GVK", GVK_FIELDS);
const GVK_REQUIRED: GoType = Struct("property.GVKRequired", GVK_FIELDS);
const CHANNEL: GoType = Struct(
    "property.Channel",
    &[("channelName", STRING), ("priority", Int)],
);
const BUNDLE_OBJECT: GoType = Struct("property.BundleObject", &[("data", Str("[]uint8"))]);
const APP_LINK: GoType = Struct("v1alpha1.AppLink", &[("name", STRING), ("url", STRING)]);
const MAINTAINER: GoType = Struct(
    "v1alpha1.Maintainer",
    &[("name", STRING), ("email", STRING)],
);
const INSTALL_MODE: GoType = Struct(
    "v1alpha1.InstallMode",
    &[
        ("type", Str("v1alpha1.InstallModeType")),
        ("supported", Bool),
    ],
);
const META_GVK: GoType = Struct(
    "v1.GroupVersionKind",
    &[("group", STRING), ("version", STRING), ("kind", STRING)],
);
// The CRD and API service descriptions are deep structs; their lists are
// checked for shape, their elements accepted as they are.
const DESCRIPTIONS: GoType = Slice("[]v1alpha1.CRDDescription", &Any);
const CSV_METADATA: GoType = Struct(
    "property.CSVMetadata",
    &[
        ("annotations", MapOfStr),
        (
            "apiServiceDefinitions",
            Struct(
                "v1alpha1.APIServiceDefinitions",
                &[("owned", DESCRIPTIONS), ("required", DESCRIPTIONS)],
            ),
        ),
        (
            "crdDescriptions",
            Struct(
                "v1alpha1.CustomResourceDefinitions",
                &[("owned", DESCRIPTIONS), ("required", DESCRIPTIONS)],
            ),
        ),
        ("description", STRING),
        ("displayName", STRING),
        (
            "installModes",
            Slice("[]v1alpha1.InstallMode", &INSTALL_MODE),
        ),
        ("keywords", Slice("[]string", &STRING)),
        ("labels", MapOfStr),
        ("links", Slice("[]v1alpha1.AppLink", &APP_LINK)),
        ("maintainers", Slice("[]v1alpha1.Maintainer", &MAINTAINER)),
        ("maturity", STRING),
        ("minKubeVersion", STRING),
        ("nativeAPIs", Slice("[]v1.GroupVersionKind", &META_GVK)),
        ("provider", APP_LINK),
    ],
);

/// Walk `v` against `t`; the first mismatch is Go's error text. `top` is the
/// outermost struct's short name and `path` the field path, as Go prints
/// them (`Go struct field Package.version of type string`).
fn check(v: &Value, t: &GoType, top: &str, path: &mut Vec<&'static str>) -> Option<String> {
    let mismatch = |what: String, go_type: &str| {
        if path.is_empty() {
            format!("json: cannot unmarshal {what} into Go value of type {go_type}")
        } else {
            format!(
                "json: cannot unmarshal {what} into Go struct field {top}.{} of type {go_type}",
                path.join(".")
            )
        }
    };
    // `null` leaves any Go value unchanged.
    if v.is_null() {
        return None;
    }
    match t {
        Any => None,
        Str(name) => (!v.is_string()).then(|| mismatch(json_kind(v).into(), name)),
        Bool => (!v.is_boolean()).then(|| mismatch(json_kind(v).into(), "bool")),
        Int => match v {
            Value::Number(n) if n.is_i64() => None,
            // Go names the literal when a number does not fit the type.
            Value::Number(n) => Some(mismatch(format!("number {n}"), "int")),
            _ => Some(mismatch(json_kind(v).into(), "int")),
        },
        MapOfStr => match v {
            Value::Object(o) => o
                .values()
                .find(|x| !x.is_string() && !x.is_null())
                .map(|x| mismatch(json_kind(x).into(), "string")),
            _ => Some(mismatch(json_kind(v).into(), "map[string]string")),
        },
        Slice(name, elem) => match v {
            Value::Array(items) => items.iter().find_map(|x| check(x, elem, top, path)),
            _ => Some(mismatch(json_kind(v).into(), name)),
        },
        Struct(name, fields) => match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if let Some((f, ft)) = go_field(fields, k) {
                        path.push(f);
                        let e = check(x, ft, top, path);
                        path.pop();
                        if e.is_some() {
                            return e;
                        }
                    }
                }
                None
            }
            _ => Some(mismatch(json_kind(v).into(), name)),
        },
    }
}

/// The struct field a JSON key decodes into: Go matches field names
/// exactly first, then ignoring case.
fn go_field<'t>(
    fields: &'t [(&'static str, GoType)],
    key: &str,
) -> Option<&'t (&'static str, GoType)> {
    fields
        .iter()
        .find(|(f, _)| *f == key)
        .or_else(|| fields.iter().find(|(f, _)| f.eq_ignore_ascii_case(key)))
}

/// The `olm.package` property's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageProp {
    pub package_name: String,
    pub version: String,
    pub release: String,
}

/// What validate needs from a bundle's properties.
#[derive(Debug, Clone, Default)]
pub struct ParsedProps {
    pub packages: Vec<PackageProp>,
}

/// Go `property.Parse`: every property must decode into its type. Returns
/// what decoded and Go's error for the first property that did not
/// (`parse property[2] of type "olm.gvk": json: …`).
pub fn parse_properties(props: &[Property]) -> (ParsedProps, Option<String>) {
    let mut parsed = ParsedProps::default();
    let mut first_error = None;
    for (i, p) in props.iter().enumerate() {
        // The loader already decoded every olm.bundle.object (a bad one is a
        // load error), and their base64 payloads are most of a catalog's
        // bytes: they are not parsed a second time here.
        if p.typ == "olm.bundle.object" && !p.value.is_empty() {
            continue;
        }
        let result = parse_property(p);
        match result {
            Ok(v) if p.typ == "olm.package" => parsed.packages.push(package_prop(&v)),
            Ok(_) => {}
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(format!(
                        "parse property[{i}] of type {}: {e}",
                        crate::catalog::load::go_quote(&p.typ)
                    ));
                }
            }
        }
    }
    (parsed, first_error)
}

/// Go `property.Parse` of one property: its value, or Go's error text
/// (without the `parse property[i]` prefix).
fn parse_property(p: &Property) -> Result<Value, String> {
    let typ = match p.typ.as_str() {
        "olm.package" => Some(PACKAGE),
        "olm.package.required" => Some(PACKAGE_REQUIRED),
        "olm.gvk" => Some(GVK),
        "olm.gvk.required" => Some(GVK_REQUIRED),
        "olm.bundle.object" => Some(BUNDLE_OBJECT),
        "olm.csv.metadata" => Some(CSV_METADATA),
        "olm.channel" => Some(CHANNEL),
        _ => None,
    };
    // Go keeps the raw value of a type it does not know: nothing to decode.
    if typ.is_none() && !p.value.is_empty() {
        return Ok(Value::Null);
    }
    match crate::catalog::load::parse_json(&p.value) {
        // A property without `value` holds empty raw JSON.
        Err(_) => Err("unexpected end of JSON input".to_string()),
        Ok(v) => match &typ {
            Some(t @ Struct(name, _)) => {
                let top = name.rsplit('.').next().unwrap_or(name);
                match check(&v, t, top, &mut Vec::new()) {
                    Some(e) => Err(e),
                    None => Ok(v),
                }
            }
            _ => Ok(v),
        },
    }
}

/// What a checked `olm.csv.metadata` value becomes when the caller keeps no
/// payloads (`validate`): it decodes exactly as the original did, and the
/// descriptions it held are most of a catalog's bytes once bundle objects
/// are dropped.
pub const CHECKED_CSV_METADATA: &str = "{}";

/// Whether a property decodes as Go's `property.Parse` wants (so that an
/// `olm.csv.metadata` value may be replaced by [`CHECKED_CSV_METADATA`]).
pub fn property_decodes(p: &Property) -> bool {
    if p.typ == "olm.csv.metadata" && shape_fits(&p.value, &CSV_METADATA) {
        return true;
    }
    parse_property(p).is_ok()
}

/// Whether JSON `text` surely decodes as `t` (what [`check`] would find of
/// its parse), walked in place instead of built into a tree: CSV metadata
/// is a catalog's largest decoded value. `false` when unsure (an escaped
/// key, a large number, deep nesting, anything unexpected) as well as on a
/// mismatch: the caller then decodes it. `text` is valid JSON (a property
/// value as loaded, normalised), so its strings are only skipped.
fn shape_fits(text: &str, t: &GoType) -> bool {
    let mut c = Cursor::valid(text);
    fits(&mut c, t).is_some() && {
        c.ws();
        c.i == text.len()
    }
}

/// The next value decodes as `t` (as [`check`] has it).
fn fits(c: &mut Cursor<'_>, t: &GoType) -> Option<()> {
    let b = c.peek()?;
    if b == b'n' || matches!(t, Any) {
        return any(c);
    }
    match (t, b) {
        (Str(_), b'"') => c.string().map(drop),
        (Bool, b't' | b'f') => any(c),
        (Int, b'-' | b'0'..=b'9') => {
            let start = c.i + usize::from(b == b'-');
            let digits = c.bytes()[start..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
            c.i = start + digits;
            // Up to 18 digits always fits an int64.
            (1..=18).contains(&digits).then_some(())
        }
        (MapOfStr, b'{') => c.members(|c, _| match c.peek()? {
            b'"' | b'n' => any(c),
            _ => None,
        }),
        (Slice(_, elem), b'[') => c.elements(|c| fits(c, elem)),
        (Struct(_, fields), b'{') => c.members(|c, key| match go_field(fields, key?) {
            Some((_, ft)) => fits(c, ft),
            None => any(c),
        }),
        _ => None,
    }
}

/// Skip any one value, without recursion.
fn any(c: &mut Cursor<'_>) -> Option<()> {
    let mut depth = 0usize;
    loop {
        match c.peek()? {
            b'"' => {
                c.string()?;
            }
            b'{' | b'[' => {
                // Deeper than serde's limit: left to the decoder.
                depth += 1;
                if depth > 100 {
                    return None;
                }
                c.i += 1;
                continue;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                c.i += 1;
            }
            b',' | b':' if depth > 0 => {
                c.i += 1;
                continue;
            }
            _ => {
                let len = c.bytes()[c.i..]
                    .iter()
                    .take_while(|b| {
                        !matches!(
                            b,
                            b',' | b':'
                                | b'}'
                                | b']'
                                | b'"'
                                | b'{'
                                | b'['
                                | b' '
                                | b'\t'
                                | b'\n'
                                | b'\r'
                        )
                    })
                    .count();
                if len == 0 {
                    return None;
                }
                c.i += len;
            }
        }
        if depth == 0 {
            return Some(());
        }
    }
}

/// The bundle's `olm.package` properties that decode, as
/// [`parse_properties`] gives them, without decoding the other properties
/// (CSV metadata is large).
pub fn package_properties(props: &[Property]) -> Vec<PackageProp> {
    let packages: Vec<Property> = props
        .iter()
        .filter(|p| p.typ == "olm.package")
        .cloned()
        .collect();
    parse_properties(&packages).0.packages
}

fn package_prop(v: &Value) -> PackageProp {
    let mut p = PackageProp::default();
    if let Value::Object(o) = v {
        for (k, x) in o {
            let Some(s) = x.as_str() else { continue };
            // Keys come sorted; like Go, a later case-variant overwrites.
            let slot = if k.eq_ignore_ascii_case("packageName") {
                &mut p.package_name
            } else if k.eq_ignore_ascii_case("version") {
                &mut p.version
            } else if k.eq_ignore_ascii_case("release") {
                &mut p.release
            } else {
                continue;
            };
            *slot = s.to_string();
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(typ: &str, value: &str) -> Property {
        Property {
            typ: typ.into(),
            value: value.into(),
            ..Default::default()
        }
    }

    #[test]
    fn csv_metadata_shapes_walk_as_they_decode() {
        let decodes = |text: &str| {
            let v = crate::catalog::load::parse_json(text).unwrap();
            check(&v, &CSV_METADATA, "CSVMetadata", &mut Vec::new()).is_none()
        };
        // Sure and right.
        for text in [
            "{}",
            "null",
            r#"{"annotations":{"a":"x","b":null},"description":"d\"q\\","displayName":"D"}"#,
            r#"{"crdDescriptions":{"owned":[{"deep":[[{"x":[1,true,null,"s"]}]]}]},"keywords":["a","b"]}"#,
            r#"{"installModes":[{"supported":true,"type":"OwnNamespace"},{"supported":false,"type":"AllNamespaces"}]}"#,
            r#"{"links":[{"name":"n","url":"u"}],"maintainers":null,"provider":{"name":"p"},"unknown":{"a":[1,2,{"b":-3.5e2}]}}"#,
            r#"{"Description":"case","nativeAPIs":[{"group":"g","kind":"K","version":"v1"}]}"#,
        ] {
            assert!(decodes(text), "{text}");
            assert!(shape_fits(text, &CSV_METADATA), "{text}");
        }
        // Mismatches are never said to fit.
        for text in [
            r#"{"annotations":{"a":1}}"#,
            r#"{"annotations":[]}"#,
            r#"{"description":7}"#,
            r#"{"DESCRIPTION":true}"#,
            r#"{"installModes":[{"supported":"yes"}]}"#,
            r#"{"keywords":"a"}"#,
            r#"{"keywords":[1]}"#,
            r#"{"provider":[]}"#,
            r#"{"crdDescriptions":{"owned":{}}}"#,
            "[]",
            "\"s\"",
        ] {
            assert!(!decodes(text), "{text}");
            assert!(!shape_fits(text, &CSV_METADATA), "{text}");
        }
        // Unsure: left to the decoder, which accepts these.
        for text in [
            r#"{"labels":{"a\u0041":"x"},"provider":{"n\u0061me":"p"}}"#,
            "{} x",
            "",
        ] {
            assert!(!shape_fits(text, &CSV_METADATA), "{text}");
        }
        let deep = format!("{{\"unknown\":{}{}}}", "[".repeat(150), "]".repeat(150));
        assert!(!shape_fits(&deep, &CSV_METADATA));
    }

    fn first_error(props: &[Property]) -> Option<String> {
        parse_properties(props).1
    }

    #[test]
    fn well_known_types_decode() {
        let (parsed, err) = parse_properties(&[
            prop("olm.package", r#"{"packageName":"foo","version":"0.1.0"}"#),
            prop("olm.gvk", r#"{"group":"","kind":"K","version":"v1"}"#),
            prop(
                "olm.package.required",
                r#"{"packageName":"bar","versionRange":">=1.0.0"}"#,
            ),
            prop(
                "olm.csv.metadata",
                r#"{"displayName":"Foo","installModes":[{"supported":true,"type":"OwnNamespace"}],"provider":{"name":"me"}}"#,
            ),
            prop("olm.foo", r#"[1,2]"#),
            prop("olm.gvk", "null"),
        ]);
        assert_eq!(err, None);
        assert_eq!(
            parsed.packages,
            vec![PackageProp {
                package_name: "foo".into(),
                version: "0.1.0".into(),
                release: String::new()
            }]
        );
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(
            first_error(&[
                prop("olm.package", "{}"),
                prop("olm.gvk", "{}"),
                prop("olm.gvk", r#""x""#)
            ])
            .unwrap(),
            "parse property[2] of type \"olm.gvk\": json: cannot unmarshal string into Go value of type property.GVK"
        );
        assert_eq!(
            first_error(&[prop("olm.package", r#"{"version":1}"#)]).unwrap(),
            "parse property[0] of type \"olm.package\": json: cannot unmarshal number into Go struct field Package.version of type string"
        );
        assert_eq!(
            first_error(&[prop("olm.foo", "")]).unwrap(),
            "parse property[0] of type \"olm.foo\": unexpected end of JSON input"
        );
        assert_eq!(
            first_error(&[prop(
                "olm.csv.metadata",
                r#"{"installModes":[{"supported":"yes"}]}"#
            )])
            .unwrap(),
            "parse property[0] of type \"olm.csv.metadata\": json: cannot unmarshal string into Go struct field CSVMetadata.installModes.supported of type bool"
        );
        assert_eq!(
            first_error(&[prop("olm.channel", r#"{"priority":1.5}"#)]).unwrap(),
            "parse property[0] of type \"olm.channel\": json: cannot unmarshal number 1.5 into Go struct field Channel.priority of type int"
        );
    }
}
