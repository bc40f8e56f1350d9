//! The `opm` binary: parse, run, exit. Everything else lives in the library.

fn main() -> std::process::ExitCode {
    opm::cli::main()
}
