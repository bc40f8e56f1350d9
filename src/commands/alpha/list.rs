//! `opm alpha list packages|channels|bundles INDEX [PACKAGE]`: an index's
//! contents as Go's tab-aligned tables (`text/tabwriter`: minimum width 0,
//! padding 2, spaces).

use std::collections::HashMap;

use crate::catalog::load::{go_quote, read_bundle_objects};
use crate::catalog::upgrade::channel_head;
use crate::catalog::{Bundle, ChannelEntry, DeclarativeConfig};
use crate::cli::GlobalFlags;
use crate::cli::alpha::{ListCommand, ListRefArgs};
use crate::output::{CmdResult, CommandError, Style};

pub fn run(command: ListCommand, global: &GlobalFlags) -> CmdResult {
    let (kind, args) = match command {
        ListCommand::Packages(a) => (Kind::Packages, a),
        ListCommand::Channels(a) => (Kind::Channels, a),
        ListCommand::Bundles(a) => (Kind::Bundles, a),
    };
    check_args(kind, &args)?;
    let fatal = |m: String| CommandError::new(Style::Logrus, m);
    global.check_tls().map_err(fatal)?;
    let reference = &args.args[0];
    let cfg = super::render_index(reference, global).map_err(|e| {
        if e.not_allowed {
            fatal(format!("cannot list non-index {}", go_quote(reference)))
        } else {
            fatal(e.message).with_location(e.location)
        }
    })?;
    crate::catalog::validate::go_verdict(&cfg).map_err(fatal)?;
    let package = args.args.get(1).map(String::as_str).unwrap_or("");
    if !package.is_empty() && !cfg.packages.iter().any(|p| p.name == package) {
        return Err(fatal(format!("package {} not found", go_quote(package))));
    }
    let rows = match kind {
        Kind::Packages => packages(&cfg),
        Kind::Channels => channels(&cfg, package),
        Kind::Bundles => bundles(&cfg, package),
    };
    let text = tabwrite(&rows);
    super::super::write_stdout(|w| w.write_all(text.as_bytes())).map_err(|e| fatal(e.to_string()))
}

#[derive(Clone, Copy)]
enum Kind {
    Packages,
    Channels,
    Bundles,
}

/// cobra's `ExactArgs(1)` for packages, `RangeArgs(1, 2)` for the others.
fn check_args(kind: Kind, args: &ListRefArgs) -> CmdResult {
    let n = args.args.len();
    let msg = match kind {
        Kind::Packages if n != 1 => format!("accepts 1 arg(s), received {n}"),
        Kind::Channels | Kind::Bundles if !(1..=2).contains(&n) => {
            format!("accepts between 1 and 2 arg(s), received {n}")
        }
        _ => return Ok(()),
    };
    Err(CommandError::new(Style::Cobra, msg))
}

fn packages(cfg: &DeclarativeConfig) -> Vec<Vec<String>> {
    let mut pkgs: Vec<_> = cfg.packages.iter().collect();
    pkgs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rows = vec![cells(&["NAME", "DISPLAY NAME", "DEFAULT CHANNEL"])];
    for p in pkgs {
        rows.push(vec![
            p.name.clone(),
            display_name(cfg, &p.name, &p.default_channel),
            p.default_channel.clone(),
        ]);
    }
    rows
}

/// The CSV `spec.displayName` of the default channel's head, only from an
/// `olm.bundle.object` (Go reads the model's CSV JSON, which catalogs using
/// `olm.csv.metadata` do not have: the column is then empty, §5.3).
fn display_name(cfg: &DeclarativeConfig, package: &str, default_channel: &str) -> String {
    let Some(ch) = cfg
        .channels
        .iter()
        .find(|c| c.package == package && c.name == default_channel)
    else {
        return String::new();
    };
    let Ok(head) = channel_head(ch.entries.as_deref().unwrap_or_default()) else {
        return String::new();
    };
    let Some(b) = cfg
        .bundles
        .iter()
        .find(|b| b.package == package && b.name == head)
    else {
        return String::new();
    };
    let mut b: Bundle = b.clone();
    if read_bundle_objects(&mut b, true).is_err() {
        return String::new();
    }
    let Some(csv) = b.csv_json else {
        return String::new();
    };
    serde_json::from_str::<serde_json::Value>(&csv)
        .ok()
        .and_then(|v| v.pointer("/spec/displayName")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn channels(cfg: &DeclarativeConfig, package: &str) -> Vec<Vec<String>> {
    let mut chans: Vec<_> = cfg
        .channels
        .iter()
        .filter(|c| package.is_empty() || c.package == package)
        .collect();
    chans.sort_by(|a, b| (&a.package, &a.name).cmp(&(&b.package, &b.name)));
    let mut rows = vec![cells(&["PACKAGE", "CHANNEL", "HEAD"])];
    for c in chans {
        let head = match channel_head(c.entries.as_deref().unwrap_or_default()) {
            Ok(h) => h.to_string(),
            Err(e) => format!("ERROR: {e}"),
        };
        rows.push(vec![c.package.clone(), c.name.clone(), head]);
    }
    rows
}

/// One row per (channel, bundle): a bundle in several channels is listed
/// once for each, with that channel's edges.
fn bundles(cfg: &DeclarativeConfig, package: &str) -> Vec<Vec<String>> {
    let images: HashMap<(&str, &str), &str> = cfg
        .bundles
        .iter()
        .map(|b| ((b.package.as_str(), b.name.as_str()), b.image.as_str()))
        .collect();
    let mut entries: Vec<(&str, &str, &ChannelEntry)> = Vec::new();
    for c in &cfg.channels {
        if !package.is_empty() && c.package != package {
            continue;
        }
        for e in c.entries.iter().flatten() {
            entries.push((&c.package, &c.name, e));
        }
    }
    entries.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
    let mut rows = vec![cells(&[
        "PACKAGE",
        "CHANNEL",
        "BUNDLE",
        "REPLACES",
        "SKIPS",
        "SKIP RANGE",
        "IMAGE",
    ])];
    for (pkg, ch, e) in entries {
        rows.push(vec![
            pkg.to_string(),
            ch.to_string(),
            e.name.clone(),
            e.replaces.clone(),
            e.skips.join(","),
            e.skip_range.clone(),
            images
                .get(&(pkg, e.name.as_str()))
                .unwrap_or(&"")
                .to_string(),
        ]);
    }
    rows
}

fn cells(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| s.to_string()).collect()
}

/// Go's `tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)` for rows of equal
/// length: every cell but the last is padded to its column's widest cell
/// (counted in characters, as tabwriter counts UTF-8) plus 2.
fn tabwrite(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns.saturating_sub(1)];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if let Some(w) = widths.get(i) {
                let pad = w + 2 - c.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwrite_pads_all_but_the_last_column() {
        let rows = vec![cells(&["NAME", "X", "LAST"]), cells(&["a™", "", "z"])];
        assert_eq!(tabwrite(&rows), "NAME  X  LAST\na™       z\n");
    }

    #[test]
    fn channel_head_reports_go_errors() {
        let e = |n: &str, r: &str| ChannelEntry {
            name: n.into(),
            replaces: r.into(),
            ..Default::default()
        };
        assert_eq!(channel_head(&[e("a", ""), e("b", "a")]), Ok("b"));
        assert_eq!(
            channel_head(&[e("b", ""), e("a", "")]),
            Err("multiple channel heads found in graph: a, b".to_string())
        );
    }
}
