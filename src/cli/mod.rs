//! Command-line surface: clap definitions only, shaped like Go opm's cobra
//! commands (names, flags, defaults). Doc comments are the help text.
//!
//! Positional arguments are collected loosely and counted by each command so
//! that wrong counts produce cobra's messages (`accepts 1 arg(s), received
//! 0`), and clap's own errors are reworded as cobra's with exit code 1.

pub mod man;

use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::output::{self, Style};

mod index;
pub use index::*;
pub mod alpha;

#[derive(Debug, Parser)]
#[command(
    name = "opm",
    about = "CLI to interact with operator-registry and build indexes of operator content",
    disable_version_flag = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,

    /// Print the version and exit.
    #[arg(long = "version", global = false)]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command inherits (cobra persistent flags on the root).
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalFlags {
    /// skip TLS certificate verification for container image registries while pulling bundles
    #[arg(long = "skip-tls-verify", global = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub skip_tls_verify: Option<bool>,

    /// use plain HTTP for container image registries while pulling bundles
    #[arg(long = "use-http", global = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub use_http: Option<bool>,

    /// skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)
    #[arg(long = "skip-tls", global = true, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub skip_tls: Option<bool>,

    /// Enable debug logging
    #[arg(long = "debug", global = true, hide = true)]
    pub debug: bool,

    /// bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)
    #[arg(
        long = "cache-max-size",
        global = true,
        hide = true,
        value_name = "SIZE"
    )]
    pub cache_max_size: Option<String>,
}

impl GlobalFlags {
    /// The TLS flag checks every image-pulling command runs first (spec §0.1).
    pub fn check_tls(&self) -> Result<(), String> {
        if self.skip_tls.is_some() && self.use_http.is_some() {
            return Err("invalid flag combination: cannot use --use-http with --skip-tls".into());
        }
        if self.skip_tls.is_some() && self.skip_tls_verify.is_some() {
            return Err(
                "invalid flag combination: cannot use --skip-tls-verify with --skip-tls".into(),
            );
        }
        if self.skip_tls_verify == Some(true) && self.use_http == Some(true) {
            return Err(
                "invalid flag combination: --use-http and --skip-tls-verify cannot both be true"
                    .into(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a stream of file-based catalog objects from catalogs and bundles
    Render(RenderArgs),
    /// Validate the declarative index config
    Validate(ValidateArgs),
    /// Migrate a file-based catalog to a new file-based catalog applying optional migrations
    Migrate(MigrateArgs),
    /// Generate an olm.package declarative config blob
    Init(InitArgs),
    /// Generate various artifacts for file-based catalogs
    Generate(GenerateArgs),
    /// serve declarative configs
    Serve(ServeArgs),
    /// generate operator index container images
    ///
    /// Build and edit catalogs as opm v1.73's `index` commands did, on file-based catalogs: `add` places bundles into channels (replaces, semver or semver-skippatch mode), `prune` keeps only some packages, `prune-stranded` drops bundles no channel lists, `rm` deletes packages. Inputs may be file-based catalog images, SQLite index images, catalog directories or .db files; the result is a file-based catalog, written out (--generate) or pushed as a catalog image (--tag) without a container engine. v1.73's flags are kept (-c/-u/-p are accepted, with no engine to drive); docs/index.md maps each of them and says where results differ.
    Index(IndexArgs),
    /// Print the opm version
    Version,
    /// Generate the autocompletion script for the specified shell
    Completion(CompletionArgs),
    /// Run an alpha subcommand
    #[command(hide = true)]
    Alpha(alpha::AlphaArgs),
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish, powershell or elvish
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// catalog-image | catalog-directory | bundle-image | bundle-directory
    #[arg(value_name = "REF")]
    pub refs: Vec<String>,

    /// Output format of the streamed file-based catalog objects (json|yaml)
    #[arg(short = 'o', long = "output", default_value = "json")]
    pub output: String,

    /// Name of the last migration to run (default: none)
    #[arg(long = "migrate-level", default_value = "", conflicts_with = "migrate")]
    pub migrate_level: String,

    /// Perform all available schema migrations on the rendered FBC
    #[arg(long = "migrate", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub migrate: Option<bool>,

    /// (ALPHA: This flag will be removed or renamed in a future release, potentially without notice) format string for constructing the image reference of bundle directories
    #[arg(long = "alpha-image-ref-template", default_value = "", hide = true)]
    pub image_ref_template: String,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[arg(value_name = "DIRECTORY")]
    pub args: Vec<String>,

    /// Output format for validation results (json|yaml). Beyond Go opm: text (every error with its file:line), github (workflow annotations), sarif (SARIF 2.1.0). Without -o, Go opm's fatal log line on stderr.
    #[arg(short = 'o', long = "output", default_value = "")]
    pub output: String,

    /// Report every error, not just the first one Go opm stops at (implies -o text when no -o is given).
    #[arg(long = "all-errors")]
    pub all_errors: bool,

    /// Compare with the catalog as published before (a directory or an image) and fail on what would strand its users: removed packages, bundles or channels, a changed default channel, a channel head moved to a lower version, a published bundle that can no longer upgrade to its channel's head.
    #[arg(long = "previous", value_name = "DIR|IMAGE")]
    pub previous: Option<String>,

    /// Fail (exit 1) on any warning too (lints, JSON Schema findings), not only on Go opm's errors.
    #[arg(long = "strict")]
    pub strict: bool,

    /// Fail (exit 1) on the warnings of these rules (comma-separated, repeatable; ids in docs/validate.md).
    #[arg(long = "error-on", value_name = "RULE", value_delimiter = ',')]
    pub error_on: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,

    /// Output format (json|yaml)
    #[arg(short = 'o', long = "output", default_value = "json")]
    pub output: String,

    /// Name of the last migration to run (default: none)
    #[arg(long = "migrate-level", default_value = "")]
    pub migrate_level: String,
}

/// `opm serve`: the catalog is loaded at startup; later changes to the
/// directory are not reflected.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(value_name = "SOURCE_PATH")]
    pub args: Vec<String>,

    /// port number to serve on, or HOST:PORT (0 picks a free port, logged in "serving registry")
    #[arg(short = 'p', long = "port", default_value = "50051")]
    pub port: String,

    /// if specified, the cache directory to use
    #[arg(long = "cache-dir", default_value = "")]
    pub cache_dir: String,

    /// only sync the cache and exit without serving
    #[arg(long = "cache-only")]
    pub cache_only: bool,

    /// exit with error if cache is not present or has been invalidated. (default: true when --cache-dir is set and --cache-only is false, false otherwise)
    #[arg(long = "cache-enforce-integrity", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub cache_enforce_integrity: Option<bool>,

    /// address of startup profiling endpoint (addr:port format)
    #[arg(long = "pprof-addr", default_value = "localhost:6060")]
    pub pprof_addr: String,

    /// accepted for compatibility: Go profiles do not apply to this implementation
    #[arg(long = "pprof-capture-profiles", hide = true)]
    pub pprof_capture_profiles: bool,

    /// path to a container termination log file
    #[arg(
        short = 't',
        long = "termination-log",
        default_value = "/dev/termination-log"
    )]
    pub termination_log: String,

    /// also serve catalogd's HTTP API (/api/v1/all, /api/v1/metas, /healthz) on this address (PORT, :PORT or HOST:PORT)
    #[arg(long = "http-addr")]
    pub http_addr: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(value_name = "PACKAGE_NAME")]
    pub args: Vec<String>,

    /// The channel that subscriptions will default to if unspecified
    #[arg(short = 'c', long = "default-channel", default_value = "")]
    pub default_channel: String,

    /// Path to package's icon
    #[arg(short = 'i', long = "icon", default_value = "")]
    pub icon: String,

    /// Path to the operator's README.md (or other documentation)
    #[arg(short = 'd', long = "description", default_value = "")]
    pub description: String,

    /// Output format (json|yaml)
    #[arg(short = 'o', long = "output", default_value = "json")]
    pub output: String,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub command: GenerateCommand,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Generate a Dockerfile for a file-based catalog
    Dockerfile(DockerfileArgs),
}

#[derive(Debug, Args)]
pub struct DockerfileArgs {
    #[arg(value_name = "FBC_ROOT_DIR")]
    pub args: Vec<String>,

    /// Image in which to build catalog.
    #[arg(
        short = 'i',
        long = "base-image",
        default_value = "quay.io/operator-framework/opm:latest",
        conflicts_with = "binary_image"
    )]
    pub base_image: String,

    /// Image in which to build catalog.
    #[arg(long = "binary-image", hide = true)]
    pub binary_image: Option<String>,

    /// Image in which to perform catalog expansion. [default: quay.io/operator-framework/opm:latest]
    // No clap default: `--binary-image` changes the builder image only when
    // this flag is absent, so absence must be visible (spec §6).
    #[arg(short = 'b', long = "builder-image")]
    pub builder_image: Option<String>,

    /// Extra labels to include in the generated Dockerfile. Labels should be of the form 'key=value'.
    // Each occurrence is a CSV record (pflag StringSlice), split by the
    // command with Go's encoding/csv rules rather than at every ','.
    #[arg(short = 'l', long = "extra-labels")]
    pub extra_labels: Vec<String>,
}

/// cobra's argument-count messages.
pub fn exact_args(args: &[String], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("accepts {n} arg(s), received {}", args.len()));
    }
    Ok(())
}

pub fn min_args(args: &[String], n: usize) -> Result<(), String> {
    if args.len() < n {
        return Err(format!(
            "requires at least {n} arg(s), only received {}",
            args.len()
        ));
    }
    Ok(())
}

/// Parse, run, and turn the result into an exit code.
pub fn main() -> ExitCode {
    let cmd = Cli::command();
    let matches = match cmd.clone().try_get_matches() {
        Ok(m) => m,
        Err(e) => return clap_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    let usage = subcommand_usage(&matches);
    match crate::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(mut e) => {
            if e.style == Style::Cobra && e.usage.is_none() {
                e.usage = Some(usage);
            }
            output::report(&e);
            ExitCode::from(1)
        }
    }
}

fn subcommand_usage(matches: &clap::ArgMatches) -> String {
    fn walk(cmd: &mut clap::Command, m: &clap::ArgMatches) -> String {
        if let Some((name, sub)) = m.subcommand()
            && let Some(c) = cmd.find_subcommand_mut(name)
        {
            return walk(c, sub);
        }
        cmd.render_usage().to_string()
    }
    walk(&mut Cli::command(), matches)
}

/// Reword clap's parse errors the way cobra prints them; exit 1 as Go opm.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let ctx = |k: ContextKind| -> Option<String> {
        match e.get(k) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(v)) => v.first().cloned(),
            _ => None,
        }
    };
    let msg = match e.kind() {
        ErrorKind::InvalidSubcommand => format!(
            "unknown command {} for \"opm\"",
            output::go_strconv_quote(&ctx(ContextKind::InvalidSubcommand).unwrap_or_default())
        ),
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg).unwrap_or_default();
            if let Some(short) = arg.strip_prefix('-').filter(|a| !a.starts_with('-')) {
                format!(
                    "unknown shorthand flag: '{}' in {arg}",
                    short.chars().next().unwrap_or('?')
                )
            } else {
                format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg))
            }
        }
        ErrorKind::ArgumentConflict => {
            let a = ctx(ContextKind::InvalidArg).unwrap_or_default();
            let b = ctx(ContextKind::PriorArg).unwrap_or_default();
            let strip = |s: &str| {
                s.trim_start_matches('-')
                    .split([' ', '='])
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            let mut names = [strip(&a), strip(&b)];
            names.sort();
            format!(
                "if any flags in the group [{0}] are set none of the others can be; [{0}] were all set",
                names.join(" ")
            )
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = ctx(ContextKind::InvalidArg).unwrap_or_default();
            let val = ctx(ContextKind::InvalidValue).unwrap_or_default();
            format!(
                "invalid argument {} for {}",
                output::go_strconv_quote(&val),
                arg
            )
        }
        ErrorKind::NoEquals | ErrorKind::TooFewValues | ErrorKind::TooManyValues => {
            let arg = ctx(ContextKind::InvalidArg).unwrap_or_default();
            format!("flag needs an argument: {arg}")
        }
        _ => e
            .to_string()
            .trim_start_matches("error: ")
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
    };
    eprintln!("Error: {msg}");
    eprintln!("Run 'opm --help' for usage.");
    ExitCode::from(1)
}
