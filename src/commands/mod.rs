//! One module per subcommand; each exposes `run(args, global)`. Commands
//! print; the library modules they call do not.

pub mod alpha;
pub mod generate_dockerfile;
mod image_push;
pub mod index;
pub mod init;
pub mod migrate;
pub mod render;
pub mod serve;
pub mod validate;

use crate::cli::{Cli, Command, GenerateCommand};
use crate::output::CmdResult;

pub fn run(cli: Cli) -> CmdResult {
    if cli.version {
        return version();
    }
    match cli.command {
        Some(Command::Render(a)) => render::run(a, &cli.global),
        Some(Command::Validate(a)) => validate::run(a, &cli.global),
        Some(Command::Migrate(a)) => migrate::run(a, &cli.global),
        Some(Command::Init(a)) => init::run(a),
        Some(Command::Generate(g)) => match g.command {
            GenerateCommand::Dockerfile(a) => generate_dockerfile::run(a),
        },
        Some(Command::Serve(a)) => serve::run(a, &cli.global),
        Some(Command::Index(a)) => index::run(a, &cli.global),
        Some(Command::Alpha(a)) => alpha::run(a.command, &cli.global),
        Some(Command::Version) => version(),
        Some(Command::Completion(a)) => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut Cli::command(), "opm", &mut script);
            write_stdout(|w| w.write_all(&script)).map_err(|e| {
                crate::output::CommandError::new(crate::output::Style::Cobra, e.to_string())
            })
        }
        None => {
            use clap::CommandFactory;
            let _ = crate::cli::Cli::command().print_help();
            Ok(())
        }
    }
}

/// How the image-pulling commands fetch images: the TLS flags (spec §0.1:
/// `--skip-tls` alone means `--use-http`), and progress bars only when
/// stderr is a terminal.
fn pull_options(global: &crate::cli::GlobalFlags) -> crate::image::PullOptions {
    use std::io::IsTerminal;
    crate::image::PullOptions {
        use_http: global.use_http == Some(true) || global.skip_tls == Some(true),
        skip_tls_verify: global.skip_tls_verify == Some(true),
        progress: std::io::stderr().is_terminal(),
        cache_max_size: global.cache_max_size.clone(),
        ..Default::default()
    }
}

fn version() -> CmdResult {
    println!(
        "Version: version.Version{{OpmVersion:\"v{}\", GitCommit:\"{}\", BuildDate:\"{}\", GoOs:\"{}\", GoArch:\"{}\"}}",
        env!("CARGO_PKG_VERSION"),
        option_env!("OPM_GIT_COMMIT").unwrap_or("unknown"),
        option_env!("OPM_BUILD_DATE").unwrap_or("unknown"),
        std::env::consts::OS,
        match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }
    );
    Ok(())
}

/// Write bytes to stdout; a closed pipe (`opm render … | head`) is not an
/// error, as for any Unix filter.
pub(crate) fn write_stdout(
    f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_stdout_buffered(|w| f(w))
}

/// [`write_stdout`] with the writer's concrete type, for std's `io::copy`
/// to copy files to standard output in the kernel.
pub(crate) fn write_stdout_buffered(
    f: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match f(&mut lock).and_then(|_| std::io::Write::flush(&mut lock)) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Render a whole catalog reference (directory, catalog image, SQLite file
/// or index image; never a bundle) with no migration, printing v1.73's
/// SQLite notice when one is read: what `index` and `alpha list|render-graph`
/// read their index with.
pub(crate) fn render_catalog(
    reference: &str,
    puller: &crate::image::Puller,
) -> Result<crate::catalog::DeclarativeConfig, crate::render::RenderError> {
    let notice = SqliteNotice::default();
    let on_sqlite = || notice.show();
    let opts = crate::render::RenderOptions {
        allowed: crate::render::Allowed::CATALOGS,
        images: Some(puller),
        on_sqlite: Some(&on_sqlite),
        ..Default::default()
    };
    crate::render::render_ref(reference, &opts)
}

/// Prints v1.73's SQLite deprecation warning (spec §8) the first time a
/// command renders a SQLite database (a file or an index image).
pub(crate) struct SqliteNotice {
    shown: std::sync::Once,
}

impl Default for SqliteNotice {
    fn default() -> Self {
        SqliteNotice {
            shown: std::sync::Once::new(),
        }
    }
}

impl SqliteNotice {
    pub(crate) fn show(&self) {
        self.shown.call_once(|| {
            eprint!(
                "{}",
                crate::output::logrus_line("warning", crate::sqlite::DEPRECATION_NOTICE)
            );
        });
    }
}
