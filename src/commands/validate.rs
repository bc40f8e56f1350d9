//! `opm validate <dir>`: Go opm's verdict on a catalog directory (validate
//! spec §1), and reports that say where each error is.
//!
//! Output, by `-o`:
//! - none: exactly Go opm: silent on success; on failure one logrus `fatal`
//!   line on stderr (§1.8); exit 1.
//! - `json`, `yaml`: exactly Go opm's `{passed, error:{message}}` on stdout.
//! - `text`, `github`, `sarif` (ours): every diagnostic located at the file
//!   and line of its blob, on stdout, plus JSON Schema warnings. Go's message
//!   stays the text; the place is put around it.
//!
//! `--all-errors` keeps checking past Go's first error (and picks `text`
//! when no `-o` is given, since Go's one line cannot hold more).
//!
//! Lints (warnings) never change Go's output unless asked: without `-o`
//! they go to stderr as logrus `warning` lines, and only when Go passes
//! (when it fails, stderr stays Go's one fatal line); `-o json|yaml` get a
//! `warnings` list only with `--strict` / `--error-on`, which make warnings
//! fail the run.

use std::path::Path;

use crate::catalog::validate::{self, Diagnostic, Options, RULES, Report, Severity};
use crate::catalog::{self, LoadOptions, Loaded, load::go_quote};
use crate::cli::{GlobalFlags, ValidateArgs, exact_args};
use crate::output::{CmdResult, CommandError, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    GoLog,
    Json,
    Yaml,
    Text,
    Github,
    Sarif,
}

pub fn run(args: ValidateArgs, global: &GlobalFlags) -> CmdResult {
    let cobra = |m: String| CommandError::new(Style::Cobra, m);
    exact_args(&args.args, 1).map_err(cobra)?;
    let dir = &args.args[0];
    let meta = std::fs::metadata(dir)
        .map_err(|e| cobra(format!("stat {dir}: {}", catalog::load::go_errno_text(&e))))?;
    if !meta.is_dir() {
        return Err(cobra(format!("{} is not a directory", go_quote(dir))));
    }
    let format = match args.output.as_str() {
        "" if args.all_errors => Some(Format::Text),
        "" => Some(Format::GoLog),
        "json" => Some(Format::Json),
        "yaml" => Some(Format::Yaml),
        "text" => Some(Format::Text),
        "github" => Some(Format::Github),
        "sarif" => Some(Format::Sarif),
        _ => None,
    };
    let ours = matches!(format, Some(Format::Text | Format::Github | Format::Sarif));
    if let Some(bad) = args
        .error_on
        .iter()
        .find(|r| !validate::warning_rules().any(|w| w == r.as_str()))
    {
        let known: Vec<&str> = validate::warning_rules().collect();
        return Err(cobra(format!(
            "unknown rule {} in --error-on, expected one of: {}",
            go_quote(bad),
            known.join(", ")
        )));
    }
    let opts = Options {
        all_errors: args.all_errors,
        schemas: ours,
        lints: format.is_some(),
    };
    let (loaded, report) = load_and_validate(Path::new(dir), opts)?;
    let result = finish(&args, global, format, &loaded, report);
    // The process ends here: freeing the catalog piece by piece would only
    // cost time (a sizeable part of a big catalog's run, on one thread).
    std::mem::forget(loaded);
    result
}

/// Report on a loaded catalog in the asked format.
fn finish(
    args: &ValidateArgs,
    global: &GlobalFlags,
    format: Option<Format>,
    loaded: &Loaded,
    mut report: Report,
) -> CmdResult {
    let cobra = |m: String| CommandError::new(Style::Cobra, m);
    let previous = match &args.previous {
        // A catalog that did not load has nothing to compare.
        Some(p) if format.is_some() && loaded.errors.is_empty() => {
            previous_findings(p, loaded, global)?
        }
        _ => Vec::new(),
    };
    let passed = report.passed() && previous.is_empty();
    let failed = || Err(CommandError::new(Style::Silent, ""));
    // Why warnings fail the run, when they do (only asked for, and only
    // when Go passed: otherwise Go's failure is the message).
    let lint_failure = report
        .passed()
        .then(|| warnings_failure(&report, args.strict, &args.error_on))
        .flatten();
    let lint_fatal = |m: String| Err(CommandError::new(Style::Logrus, m));
    match format {
        Some(Format::GoLog) if previous.is_empty() => match report.go_message {
            Some(m) => Err(CommandError::new(Style::Logrus, m)),
            None => {
                let warnings: Vec<&Diagnostic> = sorted(&report)
                    .into_iter()
                    .filter(|d| d.severity == Severity::Warning)
                    .collect();
                eprint!("{}", format_log_warnings(&warnings));
                lint_failure.map_or(Ok(()), lint_fatal)
            }
        },
        Some(Format::GoLog) => {
            // Go's own verdict first, then one fatal line per finding.
            let mut lines: Vec<String> = report.go_message.into_iter().collect();
            lines.extend(previous.iter().map(validate::previous::line));
            let last = lines.pop().unwrap_or_default();
            for l in lines {
                eprint!("{}", crate::output::logrus_line("fatal", &l));
            }
            Err(CommandError::new(Style::Logrus, last))
        }
        Some(f @ (Format::Json | Format::Yaml)) => {
            // Go's bytes unless the run asks for lints to fail it.
            let asked = args.strict || !args.error_on.is_empty();
            let warnings: Vec<&Diagnostic> = if asked {
                sorted(&report)
                    .into_iter()
                    .filter(|d| d.severity == Severity::Warning)
                    .collect()
            } else {
                Vec::new()
            };
            // `--previous` findings follow Go's message, a line each.
            let mut message = report.go_message.clone();
            for d in &previous {
                let m = message.get_or_insert_with(String::new);
                if !m.is_empty() {
                    m.push('\n');
                }
                m.push_str(&validate::previous::line(d));
            }
            let error = message.as_deref().or(lint_failure.as_deref());
            let text = format_result_with(
                if f == Format::Json { "json" } else { "yaml" },
                error,
                &warnings,
            );
            print_stdout(&text);
            if error.is_none() { Ok(()) } else { failed() }
        }
        Some(f) => {
            report.diagnostics.extend(previous);
            let diags = sorted(&report);
            let text = match f {
                Format::Github => format_github(&diags),
                Format::Sarif => format_sarif(&diags),
                _ => format_text(&diags),
            };
            print_stdout(&text);
            match lint_failure {
                _ if !passed => failed(),
                Some(m) => lint_fatal(m),
                None => Ok(()),
            }
        }
        // Go validates before it looks at the format (spec §1.1).
        None => Err(cobra(format!(
            "invalid --output value {}, expected (json|yaml)",
            go_quote(&args.output)
        ))),
    }
}

/// Load and validate; only an unreadable directory fails here.
pub fn validate_dir(dir: &Path, opts: Options) -> Result<Report, CommandError> {
    load_and_validate(dir, opts).map(|(_, r)| r)
}

/// [`validate_dir`], keeping the loaded catalog.
fn load_and_validate(dir: &Path, opts: Options) -> Result<(Loaded, Report), CommandError> {
    // The objects are checked while loading either way; validate only needs
    // to know that a bundle has some, which its properties tell.
    let loaded = catalog::load_path_located(
        dir,
        LoadOptions {
            keep_objects: false,
            drop_object_payloads: true,
            drop_metadata: true,
            // Checked as each blob loads, before its metadata is dropped.
            check_schemas: opts.schemas,
        },
        opts.all_errors,
    )
    .map_err(|e| CommandError::new(Style::Logrus, e.message))?;
    let report = validate::validate(&loaded, opts);
    Ok((loaded, report))
}

/// `--previous`: read the catalog published before (a directory, with its
/// blobs' places, or anything `render` reads as a catalog) and compare.
fn previous_findings(
    previous: &str,
    new: &Loaded,
    global: &GlobalFlags,
) -> Result<Vec<Diagnostic>, CommandError> {
    let fatal = |m: String| {
        CommandError::new(
            Style::Logrus,
            format!("read previous catalog {}: {m}", go_quote(previous)),
        )
    };
    let old = if Path::new(previous).is_dir() {
        let opts = LoadOptions {
            keep_objects: false,
            drop_object_payloads: true,
            drop_metadata: true,
            check_schemas: false,
        };
        let mut loaded = catalog::load_path_located(Path::new(previous), opts, false)
            .map_err(|e| fatal(e.message.clone()).with_location(e.location))?;
        if let Some(e) = loaded.errors.pop() {
            return Err(fatal(e.message).with_location(e.location));
        }
        loaded
    } else {
        global.check_tls().map_err(fatal)?;
        let puller = crate::image::Puller::new(super::pull_options(global));
        let config = super::render_catalog(previous, &puller)
            .map_err(|e| fatal(e.message).with_location(e.location))?;
        Loaded {
            config,
            ..Default::default()
        }
    };
    use validate::previous::Located;
    let old_side = Located {
        config: &old.config,
        // Only a directory's places are places the user can open.
        sources: Path::new(previous).is_dir().then_some(&old.sources),
    };
    let new_side = Located {
        config: &new.config,
        sources: Some(&new.sources),
    };
    Ok(validate::previous::check(&old_side, &new_side))
}

/// The message for warnings that fail the run (`--strict`: any;
/// `--error-on`: those of the named rules), or `None`.
fn warnings_failure(report: &Report, strict: bool, error_on: &[String]) -> Option<String> {
    let warnings = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning);
    if strict {
        let n = warnings.count();
        return (n > 0).then(|| format!("--strict: failing on {n} warning(s)"));
    }
    let n = warnings
        .filter(|d| error_on.iter().any(|r| r == d.rule))
        .count();
    (n > 0).then(|| {
        format!(
            "--error-on: failing on {n} warning(s) of {}",
            error_on.join(",")
        )
    })
}

/// Warnings as logrus lines, `<file>:<line>: [<rule>] <message>`.
fn format_log_warnings(warnings: &[&Diagnostic]) -> String {
    let mut s = String::new();
    for d in warnings {
        let mut msg = String::new();
        if let Some(loc) = &d.location {
            msg.push_str(&loc.to_string());
            msg.push_str(": ");
        }
        msg.push_str(&format!("[{}] {}", d.rule, d.full_message()));
        s.push_str(&crate::output::logrus_line("warning", &msg));
    }
    s
}

fn print_stdout(text: &str) {
    // A closed pipe is not an error for a report (`opm validate … | head`).
    let _ = super::write_stdout(|w| w.write_all(text.as_bytes()));
}

/// Errors first, then warnings; each group by file, line, then as found.
/// Blobs of one file keep their order, so the result does not depend on
/// how the loader's threads interleaved.
fn sorted(report: &Report) -> Vec<&Diagnostic> {
    let mut d: Vec<&Diagnostic> = report.diagnostics.iter().collect();
    d.sort_by(|a, b| {
        let key = |x: &Diagnostic| {
            (
                x.severity,
                x.location.as_ref().map(|l| l.path.clone()),
                x.location.as_ref().and_then(|l| l.line),
            )
        };
        key(a).cmp(&key(b))
    });
    d
}

fn level(d: &Diagnostic) -> &'static str {
    match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `path:line: error[rule]: message`, the form editors and CI logs link.
pub fn format_text(diags: &[&Diagnostic]) -> String {
    let mut s = String::new();
    for d in diags {
        if let Some(loc) = &d.location {
            s.push_str(&loc.to_string());
            s.push_str(": ");
        }
        s.push_str(&format!("{}[{}]: {}\n", level(d), d.rule, d.full_message()));
    }
    s
}

/// GitHub Actions workflow commands: one annotation per diagnostic.
pub fn format_github(diags: &[&Diagnostic]) -> String {
    // Escaping per the runner's command parser: data escapes %, CR, LF;
    // property values also `:` and `,`.
    fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut s = String::new();
    for d in diags {
        s.push_str("::");
        s.push_str(level(d));
        let mut props = Vec::new();
        if let Some(loc) = &d.location {
            props.push(format!("file={}", prop(&loc.path.to_string_lossy())));
            if let Some(line) = loc.line {
                props.push(format!("line={line}"));
            }
        }
        props.push(format!(
            "title={}",
            prop(&format!("opm validate: {}", d.rule))
        ));
        s.push(' ');
        s.push_str(&props.join(","));
        s.push_str("::");
        s.push_str(&data(&d.full_message()));
        s.push('\n');
    }
    s
}

/// A relative path as a SARIF artifact URI: `/` separators, percent-encoded.
fn artifact_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::new();
    if text.starts_with('/') {
        out.push_str("file://");
    }
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A SARIF 2.1.0 log with one run: opm as the tool, its rules, and one
/// result per diagnostic.
pub fn format_sarif(diags: &[&Diagnostic]) -> String {
    use serde_json::{Value, json};
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, text)| json!({"id": id, "shortDescription": {"text": text}}))
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut r = json!({
                "ruleId": d.rule,
                "ruleIndex": RULES.iter().position(|(id, _)| *id == d.rule).unwrap_or(0),
                "level": level(d),
                "message": {"text": d.full_message()},
            });
            if let Some(loc) = &d.location {
                let mut physical = json!({"artifactLocation": {"uri": artifact_uri(&loc.path)}});
                if let Some(line) = loc.line {
                    physical["region"] = json!({"startLine": line});
                }
                r["locations"] = json!([{"physicalLocation": physical}]);
            }
            r
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "opm",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// `{passed, error:{message}}` as Go's `json.MarshalIndent(…, "", "  ")`
/// (HTML escaping on) or sigs.k8s.io/yaml (keys sorted), plus Println's
/// newline.
pub fn format_result(format: &str, error: Option<&str>) -> String {
    format_result_with(format, error, &[])
}

/// [`format_result`] plus, when there are any, a `warnings` list (ours:
/// Go's result has no such field).
pub fn format_result_with(format: &str, error: Option<&str>, warnings: &[&Diagnostic]) -> String {
    // A warning's fields in key order (sorted, as sigs.k8s.io/yaml writes
    // them), each value already JSON.
    let fields = |d: &Diagnostic, html: bool| {
        let text = |v: &str| {
            let mut q = Vec::new();
            if html {
                crate::encoding::json::write_string_html(v, &mut q);
            } else {
                crate::encoding::json::write_string(v, &mut q);
            }
            String::from_utf8_lossy(&q).into_owned()
        };
        let mut f = Vec::new();
        if let Some(loc) = &d.location {
            f.push(("file", text(&loc.path.to_string_lossy())));
        }
        f.push(("level", text(level(d))));
        if let Some(line) = d.location.as_ref().and_then(|l| l.line) {
            f.push(("line", line.to_string()));
        }
        f.push(("message", text(&d.full_message())));
        f.push(("rule", text(d.rule)));
        f
    };
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
        if !warnings.is_empty() {
            s.push_str(",\n  \"warnings\": [");
            for (i, d) in warnings.iter().enumerate() {
                s.push_str(if i == 0 { "\n    {" } else { ",\n    {" });
                for (j, (k, v)) in fields(d, true).into_iter().enumerate() {
                    s.push_str(if j == 0 { "\n      \"" } else { ",\n      \"" });
                    s.push_str(k);
                    s.push_str("\": ");
                    s.push_str(&v);
                }
                s.push_str("\n    }");
            }
            s.push_str("\n  ]");
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
            b"\"passed\":true"
        } else {
            b"\"passed\":false"
        });
        if !warnings.is_empty() {
            json.extend_from_slice(b",\"warnings\":[");
            for (i, d) in warnings.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                json.push(b'{');
                for (j, (k, v)) in fields(d, false).into_iter().enumerate() {
                    if j > 0 {
                        json.push(b',');
                    }
                    json.extend_from_slice(format!("\"{k}\":{v}").as_bytes());
                }
                json.push(b'}');
            }
            json.push(b']');
        }
        json.push(b'}');
        let mut out = Vec::new();
        let _ = crate::encoding::yaml::json_to_yaml(&json, &mut out);
        s.push_str(&String::from_utf8_lossy(&out));
        s.push('\n');
    }
    s
}
