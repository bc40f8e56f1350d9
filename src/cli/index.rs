//! `opm index add|prune|prune-stranded|rm`: v1.73's flags (spec
//! opm-index-v1.73.md), acting on file-based catalogs with no container
//! engine. Required flags are checked by the command so that the error is
//! cobra's `required flag(s) "x" not set`.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(subcommand)]
    pub command: IndexCommand,
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Add operator bundles to an index.
    ///
    /// Adds the given bundles (--bundles: bundle images, oci:/docker-archive: references or bundle directories) to the catalog of --from-index (a file-based catalog image, a SQLite index image, a catalog directory or a .db file), placing them in their channels as opm v1.73 did for each --mode. The result is a file-based catalog: with --generate, written to --out-dir with a Dockerfile beside it; otherwise built into a catalog image and pushed to --tag, with no container engine.
    Add(IndexAddArgs),
    /// prune an index of all but specified packages
    Prune(IndexPruneArgs),
    /// prune an index of stranded bundles
    #[command(name = "prune-stranded")]
    PruneStranded(IndexPruneStrandedArgs),
    /// delete an entire operator from an index
    Rm(IndexRmArgs),
}

/// Flags every index subcommand shares: where the result goes.
#[derive(Debug, Args, Clone)]
pub struct IndexOutput {
    /// if enabled, just creates the dockerfile and saves it to local disk
    #[arg(long = "generate")]
    pub generate: bool,

    /// if generating the dockerfile, this flag is used to (optionally) specify a dockerfile name
    #[arg(short = 'd', long = "out-dockerfile", default_value = "")]
    pub out_dockerfile: String,

    /// with --generate, the directory the file-based catalog is written to (one folder per package)
    #[arg(long = "out-dir", default_value = "catalog")]
    pub out_dir: String,

    /// container image for on-image `opm` command
    #[arg(short = 'i', long = "binary-image", default_value = "")]
    pub binary_image: String,

    /// custom tag for container image being built (a registry reference, or oci:DIR[:TAG] for an OCI layout on disk)
    #[arg(short = 't', long = "tag", default_value = "")]
    pub tag: String,

    /// path to a PEM file of CA certificates trusted for the registries (added to the system roots)
    #[arg(long = "ca-file", default_value = "")]
    pub ca_file: String,

    /// enable debug logging
    #[arg(long = "debug", hide = true)]
    pub debug: bool,
}

/// v1.73's container tool flags of `add` and `rm`: checked as v1.73 checks
/// them, otherwise unused (no engine is driven).
#[derive(Debug, Args, Clone)]
pub struct EngineFlags {
    /// accepted for compatibility; no container engine is used. One of: [none, docker, podman]
    #[arg(short = 'c', long = "container-tool", default_value = "")]
    pub container_tool: String,

    /// accepted for compatibility; no container engine is used. One of: [docker, podman]
    #[arg(short = 'u', long = "build-tool", default_value = "")]
    pub build_tool: String,

    /// accepted for compatibility; images are pulled in-process. One of: [none, docker, podman]
    #[arg(short = 'p', long = "pull-tool", default_value = "")]
    pub pull_tool: String,
}

#[derive(Debug, Args)]
pub struct IndexAddArgs {
    /// previous index to add to
    #[arg(short = 'f', long = "from-index", default_value = "")]
    pub from_index: String,

    /// comma separated list of bundles to add
    #[arg(short = 'b', long = "bundles", value_delimiter = ',')]
    pub bundles: Option<Vec<String>>,

    /// graph update mode that defines how channel graphs are updated. One of: [replaces, semver, semver-skippatch]
    #[arg(long = "mode", default_value = "replaces")]
    pub mode: String,

    /// allow registry load errors
    #[arg(long = "permissive")]
    pub permissive: bool,

    /// overwrite the latest bundles (channel heads) with those of the same csv name given by --bundles
    #[arg(long = "overwrite-latest", hide = true)]
    pub overwrite_latest: bool,

    /// enable unsupported alpha features of the OPM CLI
    #[arg(long = "enable-alpha", hide = true)]
    pub enable_alpha: bool,

    #[command(flatten)]
    pub engine: EngineFlags,

    #[command(flatten)]
    pub out: IndexOutput,
}

#[derive(Debug, Args)]
pub struct IndexPruneArgs {
    /// index to prune
    #[arg(short = 'f', long = "from-index", default_value = "")]
    pub from_index: String,

    /// comma separated list of packages to keep
    #[arg(short = 'p', long = "packages", value_delimiter = ',')]
    pub packages: Option<Vec<String>>,

    /// allow registry load errors
    #[arg(long = "permissive")]
    pub permissive: bool,

    /// accepted for compatibility; no container engine is used. One of: [docker, podman]
    #[arg(short = 'c', long = "container-tool", default_value = "podman")]
    pub container_tool: String,

    #[command(flatten)]
    pub out: IndexOutput,
}

#[derive(Debug, Args)]
pub struct IndexPruneStrandedArgs {
    /// index to prune
    #[arg(short = 'f', long = "from-index", default_value = "")]
    pub from_index: String,

    /// accepted for compatibility; no container engine is used. One of: [docker, podman]
    #[arg(short = 'c', long = "container-tool", default_value = "podman")]
    pub container_tool: String,

    #[command(flatten)]
    pub out: IndexOutput,
}

#[derive(Debug, Args)]
pub struct IndexRmArgs {
    /// previous index to delete from
    #[arg(short = 'f', long = "from-index", default_value = "")]
    pub from_index: String,

    /// comma separated list of operators to delete
    #[arg(short = 'o', long = "operators", value_delimiter = ',')]
    pub operators: Option<Vec<String>>,

    /// allow registry load errors
    #[arg(long = "permissive")]
    pub permissive: bool,

    #[command(flatten)]
    pub engine: EngineFlags,

    #[command(flatten)]
    pub out: IndexOutput,
}
