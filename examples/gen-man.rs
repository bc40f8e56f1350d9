//! Writes the man pages of src/cli/man.rs into a directory (docs/man/ when
//! run by `scripts/gen-completions`), replacing the pages already there so
//! that a removed command loses its page.

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args_os().nth(1).expect("usage: gen-man OUTDIR"));
    std::fs::create_dir_all(&dir)?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "1") {
            std::fs::remove_file(path)?;
        }
    }
    for (name, page) in opm::cli::man::pages() {
        std::fs::write(dir.join(name), page)?;
    }
    Ok(())
}
