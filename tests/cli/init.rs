//! `opm init` beyond the conformance cases: Go's handling of odd input
//! files and the order in which failures are reported (spec §5).

use std::process::{Command, Output};

use super::util::{opm, testdata};

fn init(args: &[&str]) -> Output {
    Command::new(opm())
        .arg("init")
        .args(args)
        .current_dir(testdata().join("init"))
        .output()
        .unwrap()
}

/// The logrus message of a fatal error, unquoted.
fn fatal_msg(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    let msg = err
        .trim_end()
        .split(" level=fatal msg=")
        .nth(1)
        .unwrap()
        .to_string();
    match msg.strip_prefix('"').and_then(|m| m.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\\\"", "\""),
        None => msg,
    }
}

#[test]
fn svg_with_declaration_doctype_and_comment() {
    let out = init(&["pkg", "-i", "logo.svg"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"mediatype\": \"image/svg+xml\""), "{text}");
}

#[test]
fn invalid_utf8_description_is_escaped_per_byte_in_json() {
    let out = init(&["pkg", "-d", "latin1.md"]);
    assert!(out.status.success());
    // Go writes one `\ufffd` escape per invalid byte and keeps a real
    // U+FFFD as it is.
    let want = "{\n    \"schema\": \"olm.package\",\n    \"name\": \"pkg\",\n    \"defaultChannel\": \"\",\n    \
                \"description\": \"# Caf\\ufffd Operator\\n\\nLatin-1 bytes \\ufffd\\ufffd and a real \u{FFFD}.\\n\"\n}\n";
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn invalid_utf8_description_is_replaced_in_yaml() {
    let out = init(&["pkg", "-d", "latin1.md", "-o", "yaml"]);
    assert!(out.status.success());
    // YAML is converted from Go's JSON, whose `\ufffd` escapes read back
    // as the character.
    let want = "---\ndefaultChannel: \"\"\ndescription: |\n  # Caf\u{FFFD} Operator\n\n  \
                Latin-1 bytes \u{FFFD}\u{FFFD} and a real \u{FFFD}.\nname: pkg\nschema: olm.package\n";
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn empty_description_is_omitted() {
    let out = init(&["pkg", "-c", "stable", "-d", "empty"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\n    \"schema\": \"olm.package\",\n    \"name\": \"pkg\",\n    \"defaultChannel\": \"stable\"\n}\n"
    );
}

#[test]
fn empty_package_name_prints_nothing() {
    let out = init(&["", "-c", "stable", "-i", "logo.svg"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn icon_errors() {
    assert_eq!(
        fatal_msg(&init(&["pkg", "-i", "empty"])),
        "detect icon mediatype: Empty buffer"
    );
    assert_eq!(
        fatal_msg(&init(&["pkg", "-i", "manual.pdf"])),
        "detected invalid type \"application/pdf\": not an image"
    );
    assert_eq!(
        fatal_msg(&init(&["pkg", "-i", "."])),
        "read icon: read .: is a directory"
    );
    assert_eq!(
        fatal_msg(&init(&["pkg", "-i", "nope.png"])),
        "open icon file: open nope.png: no such file or directory"
    );
}

#[test]
fn errors_come_in_go_order() {
    // The output format first, then opening the icon, then the description.
    let out = init(&["pkg", "-o", "xml", "-i", "nope.png", "-d", "nope.md"]);
    assert_eq!(
        fatal_msg(&out),
        "invalid --output value \"xml\", expected (json|yaml)"
    );
    let out = init(&["pkg", "-i", "nope.png", "-d", "nope.md"]);
    assert_eq!(
        fatal_msg(&out),
        "open icon file: open nope.png: no such file or directory"
    );
    // Both open: the description is read before the icon.
    let out = init(&["pkg", "-i", "empty", "-d", "."]);
    assert_eq!(fatal_msg(&out), "read description: read .: is a directory");
}

#[test]
fn too_many_arguments() {
    let out = init(&["a", "b"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("Error: accepts 1 arg(s), received 2\n"),
        "{err}"
    );
}
