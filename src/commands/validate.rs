//! `opm validate <dir>`: Go opm's verdict on a catalog directory.

use crate::catalog::{self, LoadOptions, load::go_quote};
use crate::cli::{GlobalFlags, ValidateArgs, exact_args};
use crate::output::{CmdResult, CommandError, Style};

pub fn run(args: ValidateArgs, _global: &GlobalFlags) -> CmdResult {
    exact_args(&args.args, 1).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let dir = &args.args[0];
    let cobra = |m: String| CommandError::new(Style::Cobra, m);
    let meta = std::fs::metadata(dir)
        .map_err(|e| cobra(format!("stat {dir}: {}", catalog::load::go_errno_text(&e))))?;
    if !meta.is_dir() {
        return Err(cobra(format!("{} is not a directory", go_quote(dir))));
    }
    let result = catalog::load_path(
        std::path::Path::new(dir),
        LoadOptions { keep_objects: true },
    )
    .map(|_| ())
    .map_err(|e| (e.message, e.location.map(|l| l.to_string())));
    match args.output.as_str() {
        "" => result.map_err(|(m, loc)| CommandError::new(Style::Logrus, m).with_location(loc)),
        "json" | "yaml" => {
            print!(
                "{}",
                format_result(&args.output, result.as_ref().err().map(|(m, _)| m.as_str()))
            );
            match result {
                Ok(()) => Ok(()),
                Err(_) => Err(CommandError::new(Style::Silent, "")),
            }
        }
        other => Err(cobra(format!(
            "invalid --output value {}, expected (json|yaml)",
            go_quote(other)
        ))),
    }
}

/// `{passed, error:{message}}` as Go's `json.MarshalIndent(…, "", "  ")`
/// (HTML escaping on) or sigs.k8s.io/yaml (keys sorted), plus Println's
/// newline.
pub fn format_result(format: &str, error: Option<&str>) -> String {
    let mut s = String::new();
    if format == "json" {
        s.push_str("{\n  \"passed\": ");
        s.push_str(if error.is_none() { "true" } else { "false" });
        if let Some(m) = error {
            let mut q = Vec::new();
            crate::encoding::json::write_string_html(m, &mut q);
            s.push_str(",\n  \"error\": {\n    \"message\": ");
            s.push_str(&String::from_utf8_lossy(&q));
            s.push_str("\n  }");
        }
        s.push_str("\n}\n");
    } else {
        let mut json = Vec::new();
        json.extend_from_slice(b"{");
        if let Some(m) = error {
            json.extend_from_slice(b"\"error\":{\"message\":");
            crate::encoding::json::write_string(m, &mut json);
            json.extend_from_slice(b"},");
        }
        json.extend_from_slice(if error.is_none() {
            b"\"passed\":true}"
        } else {
            b"\"passed\":false}"
        });
        let mut out = Vec::new();
        let _ = crate::encoding::yaml::json_to_yaml(&json, &mut out);
        s.push_str(&String::from_utf8_lossy(&out));
        s.push('\n');
    }
    s
}
