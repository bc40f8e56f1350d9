//! `opm alpha`: Go opm's hidden alpha commands. Doc comments are the help
//! text, as Go words it.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct AlphaArgs {
    #[command(subcommand)]
    pub command: Option<AlphaCommand>,
}

#[derive(Debug, Subcommand)]
pub enum AlphaCommand {
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
