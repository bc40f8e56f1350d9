//! The checked-in man pages in docs/man/ are what the CLI definitions
//! generate, one per visible command and no others, so a flag or a command
//! change cannot leave them stale. Regenerate with `scripts/gen-completions`.

use std::collections::BTreeMap;

#[test]
fn checked_in_man_pages_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let mut on_disk = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "1") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            on_disk.insert(name, std::fs::read(&path).unwrap());
        }
    }
    let generated: BTreeMap<String, Vec<u8>> = opm::cli::man::pages().into_iter().collect();
    assert_eq!(
        on_disk.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "docs/man/ has other pages than the commands: run scripts/gen-completions"
    );
    for (name, page) in &generated {
        assert!(
            on_disk[name] == *page,
            "docs/man/{name} is stale: run scripts/gen-completions"
        );
    }
    // A page documents its command's flags, not just its name.
    let render = String::from_utf8_lossy(&generated["opm-render.1"]);
    assert!(render.contains("migrate\\-level"), "{render}");
}
