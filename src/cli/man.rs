//! Man pages for every command, generated from the clap definitions (the
//! same doc comments that are the help text), so they cannot drift from the
//! flags. The checked-in copies under docs/man/ are written by
//! `scripts/gen-completions` and compared with these by tests/cli/man.rs.

use clap::CommandFactory;

/// One page per visible command, `opm.1`, `opm-render.1`,
/// `opm-generate-dockerfile.1`, …, as (file name, roff bytes), sorted by
/// name. Pages carry no date so that regenerating them is reproducible;
/// the footer names the package version.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = super::Cli::command();
    // Gives every subcommand its display name (`opm-generate-dockerfile`),
    // which names its page and titles it.
    cmd.build();
    let source = format!("opm {}", env!("CARGO_PKG_VERSION"));
    let mut out = Vec::new();
    collect(&cmd, &source, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect(cmd: &clap::Command, source: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let man = clap_mangen::Man::new(cmd.clone()).source(source);
    let mut page = Vec::new();
    man.render(&mut page)
        .expect("rendering into memory cannot fail");
    out.push((man.get_filename(), page));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, source, out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_visible_command_has_a_page() {
        let names: Vec<String> = super::pages().into_iter().map(|(n, _)| n).collect();
        for want in [
            "opm.1",
            "opm-render.1",
            "opm-generate.1",
            "opm-generate-dockerfile.1",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
    }
}
