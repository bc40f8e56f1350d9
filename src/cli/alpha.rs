//! `opm alpha ...`: clap definitions of the alpha commands (hidden from the
//! root help, as Go opm hides them unless `HELP_ALPHA=true`).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct AlphaArgs {
    /// None: Go's `alpha` has an empty Run (no output, exit 0).
    #[command(subcommand)]
    pub command: Option<AlphaCommand>,
}

#[derive(Debug, Subcommand)]
pub enum AlphaCommand {
    /// Operator bundle commands
    #[command(long_about = "Generate operator bundle metadata and build bundle image.")]
    Bundle(BundleArgs),
    /// List contents of an index
    #[command(long_about = LIST_LONG)]
    List(ListArgs),
    /// Generate mermaid-formatted view of upgrade graph of operators in an index
    #[command(
        long_about = "Generate mermaid-formatted view of upgrade graphs of operators in an index",
        after_help = RENDER_GRAPH_EXAMPLE
    )]
    RenderGraph(RenderGraphArgs),
    /// Render a catalog template (auto-detects type from schema if TYPE not specified)
    #[command(
        name = "render-template",
        override_usage = "opm alpha render-template [TYPE] [FILE] [flags]",
        long_about = RENDER_TEMPLATE_LONG
    )]
    RenderTemplate(RenderTemplateArgs),
    /// Convert existing FBC to a supported template type
    #[command(name = "convert-template")]
    ConvertTemplate(ConvertTemplateArgs),
    /// Compare two catalogs: packages, channels, bundles, upgrade edges, default channels, heads and deprecations
    #[command(
        override_usage = "opm alpha diff OLD NEW [flags]",
        long_about = DIFF_LONG,
        after_help = DIFF_EXAMPLE
    )]
    Diff(DiffArgs),
}

const DIFF_LONG: &str = "Compare two catalogs and print what changed from OLD to NEW: packages, channels and bundles added and removed, upgrade edges (replaces, skips, skipRange) gained and lost, default-channel, channel-head and deprecation changes.

OLD and NEW are anything \"render\" reads as a catalog: catalog directories, catalog images, SQLite databases and index images. The exit status is 0 whether or not the catalogs differ, 1 on errors.";

const DIFF_EXAMPLE: &str = "Examples:
  # What a pull request changes, as a comment to post on it
  opm alpha diff quay.io/example/catalog:latest catalog/ -o markdown";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// OLD NEW
    #[arg(value_name = "CATALOG")]
    pub args: Vec<String>,

    /// Output format: text, json (a stable shape, see docs/alpha.md) or markdown (for a pull-request comment)
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json", "markdown"])]
    pub output: String,
}

const LIST_NOTE: &str =
    "NOTE: This is meant to be used for convenience and human-readability only. The
CLI and output format are subject to change, so it is not recommended to depend
on the output in any programs or scripts. Use the \"render\" subcommand to do
more complex processing and automation.";

const LIST_LONG: &str = "The list subcommands print the contents of an index.

NOTE: This is meant to be used for convenience and human-readability only. The
CLI and output format are subject to change, so it is not recommended to depend
on the output in any programs or scripts. Use the \"render\" subcommand to do
more complex processing and automation.";

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(subcommand)]
    pub command: ListCommand,
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// List packages in an index
    // Go's long text says "channels" here too.
    #[command(long_about = format!("The \"channels\" command lists the channels from the specified index.\n\n{LIST_NOTE}"))]
    Packages(ListRefArgs),
    /// List package channels in an index
    #[command(long_about = format!("The \"channels\" command lists the channels from the specified index and package.\n\n{LIST_NOTE}"))]
    Channels(ListRefArgs),
    /// List package bundles in an index
    #[command(long_about = format!("The \"bundles\" command lists the bundles from the specified index and package.\nBundles that exist in multiple channels are duplicated in the output (one\nfor each channel in which the bundle is present).\n\n{LIST_NOTE}"))]
    Bundles(ListRefArgs),
}

#[derive(Debug, Args)]
pub struct ListRefArgs {
    /// INDEX_REF [PACKAGE_NAME]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
}

const RENDER_GRAPH_EXAMPLE: &str = "Examples:
  # Output channel graph of a catalog in mermaid format
  opm alpha render-graph quay.io/operatorhubio/catalog:latest

  # ... and render it as SVG with mermaid-cli
  opm alpha render-graph quay.io/operatorhubio/catalog:latest | \\
      docker run --rm -i -v \"$PWD\":/data ghcr.io/mermaid-js/mermaid-cli/mermaid-cli -o /data/catalog.svg";

#[derive(Debug, Args)]
pub struct RenderGraphArgs {
    /// index-image | fbc-dir
    #[arg(value_name = "REF")]
    pub refs: Vec<String>,

    /// the channel edge to be used as the lower bound of the set of edges composing the upgrade graph; default is to include all edges
    #[arg(long = "minimum-edge", default_value = "")]
    pub minimum_edge: String,

    /// a specific package name to filter output; default is to include all packages in reference
    #[arg(short = 'p', long = "package-name", default_value = "")]
    pub package_name: String,

    /// whether to indicate OLMv0 semantics in the output; default is to simply represent the upgrade graph
    #[arg(long = "draw-v0-semantics", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub draw_v0_semantics: Option<bool>,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(subcommand)]
    pub command: BundleCommand,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Generate operator bundle metadata and Dockerfile
    #[command(long_about = GENERATE_LONG)]
    Generate(GenerateBundleArgs),
    /// Unpacks the content of an operator bundle
    #[command(long_about = "Unpacks the content of an operator bundle into a directory")]
    Unpack(UnpackArgs),
}

const GENERATE_LONG: &str = "The \"opm alpha bundle generate\" command will generate operator
bundle metadata if needed and a Dockerfile to build Operator bundle image.

$ opm alpha bundle generate --directory /test/0.1.0/ --package test-operator \\
	--channels stable,beta --default stable

Note:
* All manifests yaml must be in the same directory.";

#[derive(Debug, Args)]
pub struct GenerateBundleArgs {
    #[arg(value_name = "ARGS", hide = true)]
    pub args: Vec<String>,

    /// The directory where bundle manifests for a specific version are located.
    #[arg(short = 'd', long = "directory")]
    pub directory: Option<String>,

    /// The name of the package that bundle image belongs to (Required if `directory` is not pointing to a bundle in the nested bundle format)
    #[arg(short = 'p', long = "package", default_value = "")]
    pub package: String,

    /// The list of channels that bundle image belongs to(Required if `directory` is not pointing to a bundle in the nested bundle format)
    #[arg(short = 'c', long = "channels", default_value = "")]
    pub channels: String,

    /// The default channel for the bundle image
    #[arg(short = 'e', long = "default", default_value = "")]
    pub default: String,

    /// Optional output directory for operator manifests
    #[arg(short = 'u', long = "output-dir", default_value = "")]
    pub output_dir: String,

    /// Use a custom image pullspec as the base bundle image
    #[arg(long = "base-image", default_value = "scratch")]
    pub base_image: String,

    /// accepted for scripts written for `bundle build`: generate always overwrites, as Go opm's does
    #[arg(short = 'o', long = "overwrite", hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub overwrite: Option<bool>,

    /// accepted for scripts written for `bundle build`: no image is built
    #[arg(short = 'b', long = "image-builder", hide = true)]
    pub image_builder: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// BUNDLE_NAME[:TAG|@DIGEST]
    #[arg(value_name = "BUNDLE_NAME[:TAG|@DIGEST]")]
    pub args: Vec<String>,

    /// directory in which to unpack operator bundle content
    #[arg(short = 'o', long = "out", default_value = "./")]
    pub out: String,

    /// disable bundle validation
    #[arg(short = 'v', long = "skip-validation", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub skip_validation: Option<bool>,

    /// file path of a root CA to use when communicating with image registries
    #[arg(short = 'c', long = "root-ca", default_value = "")]
    pub root_ca: String,

    /// enable debug log output (`--debug` is the global flag)
    // The long forms of these flags are the root's global ones; only Go's
    // shorthands are declared here.
    #[arg(short = 'd', hide = true)]
    pub debug_short: bool,

    /// use plain HTTP (deprecated: use --use-http and --skip-tls-verify instead)
    #[arg(short = 's', hide = true)]
    pub skip_tls_short: bool,
}

const RENDER_TEMPLATE_LONG: &str = "Render a catalog template with optional type specification.

If TYPE is specified, it must be one of: 
 - basic
 - semver
 - substitutes

If TYPE is not specified, the template type will be auto-detected from the schema field in the input file.

When FILE is '-' or not provided, the template is read from standard input.
FILE must not match a supported TYPE name when TYPE is not provided, to avoid ambiguity.

Examples:
  opm alpha render-template basic template.yaml
  opm alpha render-template semver template.yaml  
  opm alpha render-template template.yaml  # auto-detect type
  opm alpha render-template < template.yaml  # auto-detect from stdin";

#[derive(Debug, Args)]
pub struct RenderTemplateArgs {
    /// [TYPE] [FILE]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,

    /// Output format (json|yaml|mermaid)
    #[arg(short = 'o', long = "output", default_value = "json")]
    pub output: String,

    /// Name of the last migration to run (default: none)
    #[arg(long = "migrate-level", default_value = "")]
    pub migrate_level: String,
}

#[derive(Debug, Args)]
pub struct ConvertTemplateArgs {
    #[command(subcommand)]
    pub command: Option<ConvertTemplateCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ConvertTemplateCommand {
    /// Generate a basic template from existing FBC
    #[command(
        override_usage = "opm alpha convert-template basic [<fbc-file> | -] [flags]",
        long_about = "Generate a basic template from existing FBC.\n\nThis command outputs a basic catalog template to STDOUT from input FBC.\nIf no argument is specified or is '-' input is assumed from STDIN.\n"
    )]
    Basic(ConvertArgs),
    /// Generate a substitutes template from existing FBC
    #[command(
        override_usage = "opm alpha convert-template substitutes [<fbc-file> | -] [flags]",
        long_about = "Generate a substitutes template from existing FBC.\n\nThis command outputs a substitutes catalog template to STDOUT from input FBC.\nIf no argument is specified or is '-' input is assumed from STDIN.\n"
    )]
    Substitutes(ConvertArgs),
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// <fbc-file> | -
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,

    /// Output format (json|yaml)
    #[arg(short = 'o', long = "output", default_value = "json")]
    pub output: String,
}
