//! `opm alpha diff OLD NEW`: what changed between two catalogs
//! ([`crate::catalog::diff`]), as text, JSON or a markdown pull-request
//! comment. Not in Go opm. Exit 0 whether or not they differ: the command
//! reports, `validate --previous` judges.

use serde::Serialize;

use crate::catalog::diff::{self, BundleRef, ChannelDiff, Diff, Edge, PackageDiff, Status};
use crate::cli::alpha::DiffArgs;
use crate::cli::{GlobalFlags, exact_args};
use crate::output::{CmdResult, CommandError, Style};

pub fn run(args: DiffArgs, global: &GlobalFlags) -> CmdResult {
    exact_args(&args.args, 2).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let fatal = |m: String| CommandError::new(Style::Logrus, m);
    global.check_tls().map_err(fatal)?;
    let render = |r: &str| {
        super::render_index(r, global).map_err(|e| fatal(e.message).with_location(e.location))
    };
    let old = render(&args.args[0])?;
    let new = render(&args.args[1])?;
    let d = diff::diff(&old, &new);
    let text = match args.output.as_str() {
        "json" => format_json(&d),
        "markdown" => format_markdown(&d),
        _ => format_text(&d),
    };
    super::super::write_stdout(|w| w.write_all(text.as_bytes())).map_err(|e| fatal(e.to_string()))
}

/// The JSON document: `changed`, then the diff's `summary` and `packages`.
pub fn format_json(d: &Diff) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        changed: bool,
        #[serde(flatten)]
        diff: &'a Diff,
    }
    let mut s = serde_json::to_string_pretty(&Out {
        changed: !d.is_empty(),
        diff: d,
    })
    .unwrap_or_default();
    s.push('\n');
    s
}

fn mark(s: Status) -> char {
    match s {
        Status::Added => '+',
        Status::Removed => '-',
        Status::Changed => '~',
    }
}

/// `name (1.0.0)`, or `name` when the version is unknown.
fn bundle(b: &BundleRef) -> String {
    match &b.version {
        Some(v) => format!("{} ({v})", b.name),
        None => b.name.clone(),
    }
}

fn head(h: &Option<BundleRef>) -> String {
    h.as_ref()
        .map(bundle)
        .unwrap_or_else(|| "(no single head)".into())
}

fn entries(n: usize) -> String {
    format!("{n} {}", if n == 1 { "entry" } else { "entries" })
}

fn edge(e: &Edge) -> String {
    format!("{} -> {} ({})", e.from, e.to, e.via.join(", "))
}

fn deprecated(schema: &str, name: &str) -> String {
    if name.is_empty() {
        schema.to_string()
    } else {
        format!("{schema} {name}")
    }
}

fn quoted(m: &Option<String>) -> String {
    crate::encoding::go_quote(m.as_deref().unwrap_or(""))
}

fn summary_lines(d: &Diff) -> Vec<(&'static str, [Option<usize>; 3])> {
    let s = &d.summary;
    vec![
        (
            "packages",
            [
                Some(s.packages_added),
                Some(s.packages_removed),
                Some(s.packages_changed),
            ],
        ),
        (
            "channels",
            [
                Some(s.channels_added),
                Some(s.channels_removed),
                Some(s.channels_changed),
            ],
        ),
        (
            "bundles",
            [Some(s.bundles_added), Some(s.bundles_removed), None],
        ),
        (
            "upgrade edges",
            [Some(s.edges_added), Some(s.edges_removed), None],
        ),
        (
            "default channels",
            [None, None, Some(s.default_channels_changed)],
        ),
        ("channel heads", [None, None, Some(s.heads_changed)]),
        (
            "deprecations",
            [
                Some(s.deprecations_added),
                Some(s.deprecations_removed),
                Some(s.deprecations_changed),
            ],
        ),
    ]
}

/// A summary, then one block per changed package: `+` added, `-` removed,
/// `~` changed.
pub fn format_text(d: &Diff) -> String {
    if d.is_empty() {
        return "no differences\n".into();
    }
    let mut s = String::new();
    for (what, counts) in summary_lines(d) {
        let parts: Vec<String> = ["added", "removed", "changed"]
            .iter()
            .zip(counts)
            .filter_map(|(k, n)| Some(format!("{} {k}", n?)))
            .collect();
        s.push_str(&format!("{what}: {}\n", parts.join(", ")));
    }
    for p in &d.packages {
        s.push('\n');
        text_package(&mut s, p);
    }
    s
}

fn text_package(s: &mut String, p: &PackageDiff) {
    let default = |c: &Option<String>| c.clone().unwrap_or_default();
    match (&p.default_channel, p.status) {
        (Some(c), Status::Added) => s.push_str(&format!(
            "+ package {} (default channel {})\n",
            p.name,
            default(&c.new)
        )),
        (Some(c), Status::Removed) => s.push_str(&format!(
            "- package {} (default channel {})\n",
            p.name,
            default(&c.old)
        )),
        _ => s.push_str(&format!("{} package {}\n", mark(p.status), p.name)),
    }
    if let Some(c) = p
        .default_channel
        .as_ref()
        .filter(|_| p.status == Status::Changed)
    {
        s.push_str(&format!(
            "    default channel: {} -> {}\n",
            c.old.as_deref().unwrap_or("(none)"),
            c.new.as_deref().unwrap_or("(none)")
        ));
    }
    for c in &p.channels {
        text_channel(s, c);
    }
    for b in &p.bundles_added {
        s.push_str(&format!("    + bundle {}\n", bundle(b)));
    }
    for b in &p.bundles_removed {
        s.push_str(&format!("    - bundle {}\n", bundle(b)));
    }
    for d in &p.deprecations {
        let what = deprecated(&d.schema, &d.name);
        let text = match d.status {
            Status::Added => quoted(&d.message.new),
            Status::Removed => quoted(&d.message.old),
            Status::Changed => format!("{} -> {}", quoted(&d.message.old), quoted(&d.message.new)),
        };
        s.push_str(&format!(
            "    {} deprecation {what}: {text}\n",
            mark(d.status)
        ));
    }
}

fn text_channel(s: &mut String, c: &ChannelDiff) {
    let m = mark(c.status);
    match c.status {
        Status::Added => s.push_str(&format!(
            "    {m} channel {}: head {}, {}\n",
            c.name,
            head(&c.head.new),
            entries(c.entries_added.len())
        )),
        Status::Removed => s.push_str(&format!(
            "    {m} channel {}: head {}, {}\n",
            c.name,
            head(&c.head.old),
            entries(c.entries_removed.len())
        )),
        Status::Changed => {
            if c.head_changed() {
                s.push_str(&format!(
                    "    {m} channel {}: head {} -> {}\n",
                    c.name,
                    head(&c.head.old),
                    head(&c.head.new)
                ));
            } else {
                s.push_str(&format!(
                    "    {m} channel {}: head {}\n",
                    c.name,
                    head(&c.head.new)
                ));
            }
            for e in &c.entries_added {
                s.push_str(&format!("        + entry {}\n", bundle(e)));
            }
            for e in &c.entries_removed {
                s.push_str(&format!("        - entry {}\n", bundle(e)));
            }
            for e in &c.edges_added {
                s.push_str(&format!("        + edge {}\n", edge(e)));
            }
            for e in &c.edges_removed {
                s.push_str(&format!("        - edge {}\n", edge(e)));
            }
        }
    }
}

/// Text inside a markdown table cell or list item: one line, no cell break.
fn md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A name as inline code (a backtick in it would end the span).
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

fn md_bundle(b: &BundleRef) -> String {
    match &b.version {
        Some(v) => format!("{} ({})", code(&b.name), md(v)),
        None => code(&b.name),
    }
}

fn md_head(h: &Option<BundleRef>) -> String {
    h.as_ref().map(md_bundle).unwrap_or_else(|| "—".into())
}

/// A pull-request comment: a summary table, then one section per changed
/// package with a table of its changed channels; edges folded away.
pub fn format_markdown(d: &Diff) -> String {
    let mut s = String::from("## Catalog diff\n\n");
    if d.is_empty() {
        s.push_str("No differences.\n");
        return s;
    }
    s.push_str("| | added | removed | changed |\n|:--|--:|--:|--:|\n");
    for (what, counts) in summary_lines(d) {
        let cell = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
        s.push_str(&format!(
            "| {what} | {} | {} | {} |\n",
            cell(counts[0]),
            cell(counts[1]),
            cell(counts[2])
        ));
    }
    for p in &d.packages {
        s.push('\n');
        md_package(&mut s, p);
    }
    s
}

fn md_list(s: &mut String, title: &str, items: &[BundleRef]) {
    if items.is_empty() {
        return;
    }
    let names: Vec<String> = items.iter().map(md_bundle).collect();
    s.push_str(&format!("- {title}: {}\n", names.join(", ")));
}

fn md_package(s: &mut String, p: &PackageDiff) {
    s.push_str(&format!(
        "### {} ({})\n\n",
        code(&p.name),
        p.status.as_str()
    ));
    let mut items = String::new();
    if let Some(c) = &p.default_channel {
        let side = |x: &Option<String>| x.as_deref().map(code).unwrap_or_else(|| "—".into());
        items.push_str(&match p.status {
            Status::Added => format!("- Default channel: {}\n", side(&c.new)),
            Status::Removed => format!("- Default channel: {}\n", side(&c.old)),
            Status::Changed => format!("- Default channel: {} → {}\n", side(&c.old), side(&c.new)),
        });
    }
    md_list(&mut items, "Bundles added", &p.bundles_added);
    md_list(&mut items, "Bundles removed", &p.bundles_removed);
    for d in &p.deprecations {
        let what = if d.name.is_empty() {
            code(&d.schema)
        } else {
            format!("{} {}", code(&d.schema), code(&d.name))
        };
        let msg = |m: &Option<String>| md(m.as_deref().unwrap_or(""));
        let text = match d.status {
            Status::Added => msg(&d.message.new),
            Status::Removed => msg(&d.message.old),
            Status::Changed => format!("{} → {}", msg(&d.message.old), msg(&d.message.new)),
        };
        items.push_str(&format!(
            "- Deprecation {} {what}: {text}\n",
            d.status.as_str()
        ));
    }
    if !items.is_empty() {
        s.push_str(&items);
        s.push('\n');
    }
    if p.channels.is_empty() {
        return;
    }
    s.push_str("| channel | status | head | entries | upgrade edges |\n|:--|:--|:--|--:|--:|\n");
    for c in &p.channels {
        let head = match c.status {
            Status::Added => md_head(&c.head.new),
            Status::Removed => md_head(&c.head.old),
            Status::Changed if c.head_changed() => {
                format!("{} → {}", md_head(&c.head.old), md_head(&c.head.new))
            }
            Status::Changed => md_head(&c.head.new),
        };
        s.push_str(&format!(
            "| {} | {} | {head} | +{} −{} | +{} −{} |\n",
            code(&c.name),
            c.status.as_str(),
            c.entries_added.len(),
            c.entries_removed.len(),
            c.edges_added.len(),
            c.edges_removed.len()
        ));
    }
    let changed: Vec<&ChannelDiff> = p
        .channels
        .iter()
        .filter(|c| {
            c.status == Status::Changed && !(c.edges_added.is_empty() && c.edges_removed.is_empty())
        })
        .collect();
    if changed.is_empty() {
        return;
    }
    s.push_str("\n<details><summary>Upgrade edges</summary>\n\n");
    for c in changed {
        for (m, list) in [("added", &c.edges_added), ("removed", &c.edges_removed)] {
            for e in list.iter() {
                s.push_str(&format!(
                    "- {}: {m} {} → {} ({})\n",
                    code(&c.name),
                    code(&e.from),
                    code(&e.to),
                    e.via.join(", ")
                ));
            }
        }
    }
    s.push_str("\n</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::diff::{Change, DeprecationChange, Summary};

    fn reworded_package_deprecation() -> Diff {
        Diff {
            summary: Summary {
                packages_changed: 1,
                deprecations_changed: 1,
                ..Default::default()
            },
            packages: vec![PackageDiff {
                name: "a|b".into(),
                status: Status::Changed,
                default_channel: None,
                bundles_added: vec![],
                bundles_removed: vec![],
                channels: vec![],
                deprecations: vec![DeprecationChange {
                    schema: "olm.package".into(),
                    name: String::new(),
                    status: Status::Changed,
                    message: Change {
                        old: Some("old".into()),
                        new: Some("use x | y\nnow".into()),
                    },
                }],
            }],
        }
    }

    #[test]
    fn text_shows_both_messages_of_a_reworded_deprecation() {
        let t = format_text(&reworded_package_deprecation());
        assert!(
            t.ends_with(
                "~ package a|b\n    ~ deprecation olm.package: \"old\" -> \"use x | y\\nnow\"\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn markdown_cells_stay_on_one_line() {
        let m = format_markdown(&reworded_package_deprecation());
        assert!(
            m.contains("- Deprecation changed `olm.package`: old → use x \\| y now\n"),
            "{m}"
        );
        assert!(m.contains("### `a|b` (changed)"), "{m}");
    }
}
