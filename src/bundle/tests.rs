//! Bundle rendering against Go opm's recorded output, and the error paths.
//!
//! `testdata/bundles/<name>/` are real bundles from the conformance corpus;
//! `<name>.expected/{json,yaml,ref-template}` is what Go opm printed for
//! `opm render <dir> -o json|yaml` and for `-o json
//! --alpha-image-ref-template "quay.io/example/{{.Package}}-bundle:v{{.Version}}"`.
//! They cover: a v1beta1 CRD and the `olm.properties` CSV annotation
//! (apicurio-registry), a file named properties.yaml holding dependencies
//! (pelorus-operator), an `olm.constraint` property with HTML-escaped YAML
//! values plus package dependencies and CSV related images
//! (dbaas-operator), required CRDs (mercury-operator), and a bundle without
//! CRDs (deployment-validation-operator).

use std::path::{Path, PathBuf};

use super::*;
use crate::catalog::{DeclarativeConfig, Format, prepare_for_render, write::write_stream};

const BUNDLES: &[&str] = &[
    "apicurio-registry-0.0.1",
    "pelorus-operator-0.0.1",
    "dbaas-operator-0.5.0",
    "mercury-operator-1.0.2",
    "deployment-validation-operator-0.7.7",
];

const CASE_TEMPLATE: &str = "quay.io/example/{{.Package}}-bundle:v{{.Version}}";

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/bundles")
}

/// Render as `opm render <dir>` does and write it in `format`.
fn render(dir: &Path, template: Option<&str>, format: Format) -> Result<Vec<u8>, String> {
    let t = template.map(|t| ImageTemplate::parse(t).unwrap());
    let bundle = render_dir(dir, t.as_ref())?;
    let mut cfg = DeclarativeConfig {
        bundles: vec![bundle],
        ..Default::default()
    };
    prepare_for_render(&mut cfg);
    let mut out = Vec::new();
    write_stream(&cfg, format, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn check(variant: &str, template: Option<&str>, format: Format) {
    let mut failed = Vec::new();
    for name in BUNDLES {
        let got = render(&testdata().join(name), template, format).unwrap();
        let want = std::fs::read(testdata().join(format!("{name}.expected/{variant}"))).unwrap();
        if got != want {
            let at = got
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(want.len()));
            let ctx = |b: &[u8]| {
                String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())])
                    .into_owned()
            };
            failed.push(format!(
                "{name}: differs at byte {at}\n got: {}\nwant: {}",
                ctx(&got),
                ctx(&want)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn json_output_matches_go() {
    check("json", None, Format::Json);
}

#[test]
fn ref_template_output_matches_go() {
    check("ref-template", Some(CASE_TEMPLATE), Format::Json);
}

#[test]
fn yaml_output_matches_go() {
    check("yaml", None, Format::Yaml);
}

#[test]
fn hidden_fields_hold_the_csv_and_every_object() {
    let b = render_dir(&testdata().join("mercury-operator-1.0.2"), None).unwrap();
    let objects = b
        .properties
        .iter()
        .filter(|p| p.typ == TYPE_BUNDLE_OBJECT)
        .count();
    assert_eq!(b.objects.len(), objects);
    let csv = b.csv_json.unwrap();
    assert!(csv.starts_with(
        r#"{"apiVersion":"operators.coreos.com/v1alpha1","kind":"ClusterServiceVersion""#
    ));
    assert!(b.objects.contains(&csv));
}

// ---------------------------------------------------------------------------
// Hand-made bundles for the paths the corpus does not reach.

const CSV: &str = "apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata:
  name: foo.v0.1.0
spec:
  version: 0.1.0
  customresourcedefinitions:
    owned:
    - name: foos.test.foo
      version: v1
      kind: Foo
  install:
    strategy: deployment
    spec:
      deployments:
      - name: foo
        spec:
          template:
            spec:
              containers:
              - image: test.registry/foo:v0.1.0
";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: foos.test.foo
spec:
  group: test.foo
  names:
    kind: Foo
    plural: foos
  versions:
  - name: v1
";

const ANNOTATIONS: &str = "annotations:
  operators.operatorframework.io.bundle.package.v1: foo
  operators.operatorframework.io.bundle.channels.v1: alpha
";

/// A bundle directory from `(relative path, content)` pairs.
fn bundle(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("manifests")).unwrap();
    std::fs::create_dir(dir.path().join("metadata")).unwrap();
    for (path, content) in files {
        std::fs::write(dir.path().join(path), content).unwrap();
    }
    dir
}

fn foo(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files = vec![
        ("manifests/foo.csv.yaml", CSV),
        ("manifests/foos.crd.yaml", CRD),
        ("metadata/annotations.yaml", ANNOTATIONS),
    ];
    for (p, c) in extra {
        match files.iter_mut().find(|(fp, _)| fp == p) {
            Some(slot) => slot.1 = c,
            None => files.push((p, c)),
        }
    }
    bundle(&files)
}

/// The properties other than bundle objects, as `type value` lines.
fn props(b: &Bundle) -> Vec<String> {
    b.properties
        .iter()
        .filter(|p| p.typ != TYPE_BUNDLE_OBJECT)
        .map(|p| format!("{} {}", p.typ, p.value))
        .collect()
}

#[test]
fn minimal_bundle() {
    let dir = foo(&[]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(
        (b.name.as_str(), b.package.as_str(), b.image.as_str()),
        ("foo.v0.1.0", "foo", "")
    );
    assert_eq!(
        props(&b),
        [
            r#"olm.gvk {"group":"test.foo","kind":"Foo","version":"v1"}"#,
            r#"olm.package {"packageName":"foo","version":"0.1.0"}"#,
        ]
    );
    assert_eq!(b.properties.len(), 4);
    assert_eq!(
        b.related_images,
        [RelatedImage {
            name: String::new(),
            image: "test.registry/foo:v0.1.0".into()
        }]
    );
}

#[test]
fn no_csv_in_bundle() {
    let dir = bundle(&[
        ("manifests/foos.crd.yaml", CRD),
        ("metadata/annotations.yaml", ANNOTATIONS),
    ]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "no csv in bundle"
    );
}

#[test]
fn no_bundle_objects_found() {
    let dir = bundle(&[
        ("manifests/README.md", "# not a manifest\n"),
        ("metadata/annotations.yaml", ANNOTATIONS),
    ]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "no bundle objects found"
    );
}

#[test]
fn second_csv_is_dropped_silently() {
    let other = CSV.replace("foo.v0.1.0", "foo.v9.9.9");
    let dir = foo(&[("manifests/zzz.csv.yaml", &other)]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(b.name, "foo.v0.1.0");
    assert_eq!(b.objects.len(), 2);
}

#[test]
fn undecodable_manifests_are_skipped() {
    let dir = foo(&[
        ("manifests/broken.yaml", "kind: [unclosed\n"),
        ("manifests/kindless.yaml", "apiVersion: v1\nmetadata: {}\n"),
        ("manifests/empty.yaml", ""),
        (
            "manifests/.hidden.yaml",
            "apiVersion: v1\nkind: ConfigMap\n",
        ),
    ]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(b.objects.len(), 2);
}

#[test]
fn missing_annotations() {
    let dir = foo(&[("metadata/annotations.yaml", "annotations: {}\n")]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "Could not find annotations file"
    );
}

#[test]
fn owned_crd_not_in_bundle() {
    let dir = bundle(&[
        ("manifests/foo.csv.yaml", CSV),
        ("metadata/annotations.yaml", ANNOTATIONS),
    ]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "error checking provided apis in bundle foo.v0.1.0: couldn't find test.foo/v1/Foo (foos) in bundle. found: map[]"
    );
    let other = CRD.replace("- name: v1", "- name: v2");
    let dir = foo(&[("manifests/foos.crd.yaml", &other)]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "error checking provided apis in bundle foo.v0.1.0: couldn't find test.foo/v1/Foo (foos) in bundle. found: map[test.foo/v2/Foo (foos):{}]"
    );
    let csv = CSV.replace("name: foos.test.foo", "name: foos");
    let dir = foo(&[("manifests/foo.csv.yaml", &csv)]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "error checking provided apis in bundle foo.v0.1.0: couldn't parse plural.group from crd name: foos"
    );
}

#[test]
fn non_string_version() {
    let csv = CSV.replace("version: 0.1.0", "version: 1");
    let dir = foo(&[("manifests/foo.csv.yaml", &csv)]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "failed to derive properties: json: cannot unmarshal number into Go value of type string"
    );
}

#[test]
fn dependencies_of_every_type() {
    // The constraint is the upstream etcd.0.9.2 example (spec §4.4): keys
    // sorted and HTML escaping on, as sigs.k8s.io/yaml converts it.
    let deps = r#"dependencies:
- type: olm.constraint
  value:
    failureMessage: require to have "certified"
    cel:
      rule: 'properties.exists(p, p.type == "certified") && true'
- type: olm.label
  value:
    label: other
- type: olm.gvk
  value:
    group: test.bar
    kind: Bar
    version: v1alpha1
- type: olm.package
  value:
    packageName: bar
    version: "<0.1.0"
"#;
    let dir = foo(&[("metadata/dependencies.yaml", deps)]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(
        props(&b),
        [
            r#"olm.constraint {"cel":{"rule":"properties.exists(p, p.type == \"certified\") \u0026\u0026 true"},"failureMessage":"require to have \"certified\""}"#,
            r#"olm.gvk {"group":"test.foo","kind":"Foo","version":"v1"}"#,
            r#"olm.gvk.required {"group":"test.bar","kind":"Bar","version":"v1alpha1"}"#,
            r#"olm.label {"label":"other"}"#,
            r#"olm.package {"packageName":"foo","version":"0.1.0"}"#,
            r#"olm.package.required {"packageName":"bar","versionRange":"<0.1.0"}"#,
        ]
    );
}

#[test]
fn json_metadata_keeps_its_text_and_sorts_on_it() {
    // Raw bytes sort `{ "b"` (space) before `{"a"`; the output is compacted.
    let props_json = r#"{"properties": [
        {"type": "com.example", "value": {"a": "\u003c"}},
        {"type": "com.example", "value": { "b" : 1.0 }},
        {"type": "olm.maxOpenShiftVersion", "value": "4.8"}
    ]}"#;
    let dir = foo(&[("metadata/properties.json", props_json)]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(
        props(&b),
        [
            r#"com.example {"b":1.0}"#,
            r#"com.example {"a":"\u003c"}"#,
            r#"olm.gvk {"group":"test.foo","kind":"Foo","version":"v1"}"#,
            r#"olm.maxOpenShiftVersion "4.8""#,
            r#"olm.package {"packageName":"foo","version":"0.1.0"}"#,
        ]
    );
}

#[test]
fn csv_properties_annotation_package_wins() {
    let csv = CSV.replace(
        "  name: foo.v0.1.0\n",
        "  name: foo.v0.1.0\n  annotations:\n    olm.properties: '[{\"type\": \"olm.package\", \"value\": {\"packageName\": \"foo\", \"version\": \"0.1.0-rc\"}}, {\"type\": \"olm.maxOpenShiftVersion\", \"value\": \"4.8\"}]'\n",
    );
    let dir = foo(&[("manifests/foo.csv.yaml", &csv)]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(
        props(&b),
        [
            r#"olm.gvk {"group":"test.foo","kind":"Foo","version":"v1"}"#,
            r#"olm.maxOpenShiftVersion "4.8""#,
            r#"olm.package {"packageName":"foo","version":"0.1.0-rc"}"#,
        ]
    );
    // The template sees the first olm.package: the annotations' one.
    let t = ImageTemplate::parse("r/{{.Package}}:v{{.Version}}").unwrap();
    assert_eq!(
        render_dir(dir.path(), Some(&t)).unwrap().image,
        "r/foo:v0.1.0"
    );
}

#[test]
fn api_services_and_release() {
    let csv = CSV.replace(
        "  version: 0.1.0\n",
        "  version: 0.1.0\n  release: 2\n  apiservicedefinitions:\n    owned:\n    - name: things\n      group: api.foo\n      version: v1beta1\n      kind: Thing\n    required:\n    - name: others\n      group: api.bar\n      version: v1\n      kind: Other\n",
    );
    let dir = foo(&[("manifests/foo.csv.yaml", &csv)]);
    let b = render_dir(dir.path(), None).unwrap();
    assert_eq!(
        props(&b),
        [
            r#"olm.gvk {"group":"api.foo","kind":"Thing","version":"v1beta1"}"#,
            r#"olm.gvk {"group":"test.foo","kind":"Foo","version":"v1"}"#,
            r#"olm.gvk.required {"group":"api.bar","kind":"Other","version":"v1"}"#,
            r#"olm.package {"packageName":"foo","version":"0.1.0","release":"2"}"#,
        ]
    );
}

#[test]
fn bundle_image_equal_to_an_operator_image_is_listed_twice() {
    // GO QUIRK (spec §4.4 relatedImages): the bundle image is not recorded
    // as seen before the deployment images are added.
    let t = ImageTemplate::parse("test.registry/{{.Package}}:v{{.Version}}").unwrap();
    let b = render_dir(foo(&[]).path(), Some(&t)).unwrap();
    assert_eq!(b.image, "test.registry/foo:v0.1.0");
    assert_eq!(b.related_images.len(), 2);
    assert!(
        b.related_images
            .iter()
            .all(|r| r.image == b.image && r.name.is_empty())
    );
}

#[test]
fn template_errors_name_the_reference() {
    let dir = foo(&[]);
    let t = ImageTemplate::parse("x/{{.Foo}}").unwrap();
    let err = render_dir(dir.path(), Some(&t)).unwrap_err();
    assert_eq!(
        err,
        format!(
            "failed templating image reference from bundle for {}: template: image-ref-template:1:4: executing \"image-ref-template\" at <.Foo>: can't evaluate field Foo in type action.imageReferenceTemplateData",
            go_quote(&dir.path().to_string_lossy())
        )
    );
}

#[test]
fn bad_dependency_values_name_the_index() {
    let deps = "dependencies:\n- type: olm.label\n  value: {label: x}\n- type: olm.gvk\n  value: not-an-object\n";
    let dir = foo(&[("metadata/dependencies.yaml", deps)]);
    assert_eq!(
        render_dir(dir.path(), None).unwrap_err(),
        "get properties for bundle \"foo.v0.1.0\": parse property[1] of type \"olm.gvk\": json: cannot unmarshal string into Go value of type property.GVK"
    );
}
