//! Inputs the fuzz targets once crashed on (issue 12), minimised and kept
//! under testdata/fuzz-regressions/<target>/, replayed through the same
//! code as the target (fuzz/src/lib.rs, included here): each must now run
//! without a panic.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use super::util::testdata;

#[test]
fn fuzz_regressions_replay_cleanly() {
    let root = testdata().join("fuzz-regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap();
        if !target.file_type().unwrap().is_dir() {
            continue;
        }
        let name = target.file_name().to_string_lossy().into_owned();
        for input in std::fs::read_dir(target.path()).unwrap() {
            let input = input.unwrap().path();
            let data = std::fs::read(&input).unwrap();
            eprintln!("replaying {}", input.display());
            assert!(harness::run(&name, &data), "no fuzz target {name}");
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs under {}",
        root.display()
    );
}
