//! The checked-in shell completions in completions/ are what `opm
//! completion <shell>` prints, so a flag change cannot leave them stale.
//! Regenerate with `scripts/gen-completions`.

use std::process::Command;

use super::util::opm;

#[test]
fn checked_in_completions_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [("bash", "opm.bash"), ("zsh", "_opm"), ("fish", "opm.fish")] {
        let out = Command::new(opm())
            .args(["completion", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let want = std::fs::read(root.join(file)).unwrap();
        assert!(
            out.stdout == want,
            "completions/{file} is stale: run scripts/gen-completions"
        );
    }
}
