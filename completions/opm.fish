# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_opm_global_optspecs
    string join \n skip-tls-verify= use-http= skip-tls= debug cache-max-size= version h/help
end

function __fish_opm_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_opm_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_opm_using_subcommand
    set -l cmd (__fish_opm_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c opm -n "__fish_opm_needs_command" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_needs_command" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_needs_command" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_needs_command" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_needs_command" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_needs_command" -l version -d 'Print the version and exit'
complete -c opm -n "__fish_opm_needs_command" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_needs_command" -f -a "render" -d 'Generate a stream of file-based catalog objects from catalogs and bundles'
complete -c opm -n "__fish_opm_needs_command" -f -a "validate" -d 'Validate the declarative index config'
complete -c opm -n "__fish_opm_needs_command" -f -a "migrate" -d 'Migrate a file-based catalog to a new file-based catalog applying optional migrations'
complete -c opm -n "__fish_opm_needs_command" -f -a "init" -d 'Generate an olm.package declarative config blob'
complete -c opm -n "__fish_opm_needs_command" -f -a "generate" -d 'Generate various artifacts for file-based catalogs'
complete -c opm -n "__fish_opm_needs_command" -f -a "serve" -d 'serve declarative configs'
complete -c opm -n "__fish_opm_needs_command" -f -a "index" -d 'generate operator index container images'
complete -c opm -n "__fish_opm_needs_command" -f -a "version" -d 'Print the opm version'
complete -c opm -n "__fish_opm_needs_command" -f -a "completion" -d 'Generate the autocompletion script for the specified shell'
complete -c opm -n "__fish_opm_needs_command" -f -a "alpha" -d 'Run an alpha subcommand'
complete -c opm -n "__fish_opm_using_subcommand render" -s o -l output -d 'Output format of the streamed file-based catalog objects (json|yaml)' -r
complete -c opm -n "__fish_opm_using_subcommand render" -l migrate-level -d 'Name of the last migration to run (default: none)' -r
complete -c opm -n "__fish_opm_using_subcommand render" -l migrate -d 'Perform all available schema migrations on the rendered FBC' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand render" -l alpha-image-ref-template -d '(ALPHA: This flag will be removed or renamed in a future release, potentially without notice) format string for constructing the image reference of bundle directories' -r
complete -c opm -n "__fish_opm_using_subcommand render" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand render" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand render" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand render" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand render" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand render" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand validate" -s o -l output -d 'Output format for validation results (json|yaml). Beyond Go opm: text (every error with its file:line), github (workflow annotations), sarif (SARIF 2.1.0). Without -o, Go opm\'s fatal log line on stderr' -r
complete -c opm -n "__fish_opm_using_subcommand validate" -l previous -d 'Compare with the catalog as published before (a directory or an image) and fail on what would strand its users: removed packages, bundles or channels, a changed default channel, a channel head moved to a lower version, a published bundle that can no longer upgrade to its channel\'s head' -r
complete -c opm -n "__fish_opm_using_subcommand validate" -l error-on -d 'Fail (exit 1) on the warnings of these rules (comma-separated, repeatable; ids in docs/validate.md)' -r
complete -c opm -n "__fish_opm_using_subcommand validate" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand validate" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand validate" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand validate" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand validate" -l all-errors -d 'Report every error, not just the first one Go opm stops at (implies -o text when no -o is given)'
complete -c opm -n "__fish_opm_using_subcommand validate" -l strict -d 'Fail (exit 1) on any warning too (lints, JSON Schema findings), not only on Go opm\'s errors'
complete -c opm -n "__fish_opm_using_subcommand validate" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand validate" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand migrate" -s o -l output -d 'Output format (json|yaml)' -r
complete -c opm -n "__fish_opm_using_subcommand migrate" -l migrate-level -d 'Name of the last migration to run (default: none)' -r
complete -c opm -n "__fish_opm_using_subcommand migrate" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand migrate" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand migrate" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand migrate" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand migrate" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand init" -s c -l default-channel -d 'The channel that subscriptions will default to if unspecified' -r
complete -c opm -n "__fish_opm_using_subcommand init" -s i -l icon -d 'Path to package\'s icon' -r
complete -c opm -n "__fish_opm_using_subcommand init" -s d -l description -d 'Path to the operator\'s README.md (or other documentation)' -r
complete -c opm -n "__fish_opm_using_subcommand init" -s o -l output -d 'Output format (json|yaml)' -r
complete -c opm -n "__fish_opm_using_subcommand init" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand init" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand init" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand init" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand init" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand init" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand generate; and not __fish_seen_subcommand_from dockerfile" -f -a "dockerfile" -d 'Generate a Dockerfile for a file-based catalog'
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -s i -l base-image -d 'Image in which to build catalog' -r
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -l binary-image -d 'Image in which to build catalog' -r
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -s b -l builder-image -d 'Image in which to perform catalog expansion. [default: quay.io/operator-framework/opm:latest]' -r
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -s l -l extra-labels -d 'Extra labels to include in the generated Dockerfile. Labels should be of the form \'key=value\'' -r
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand generate; and __fish_seen_subcommand_from dockerfile" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand serve" -s p -l port -d 'port number to serve on, or HOST:PORT (0 picks a free port, logged in "serving registry")' -r
complete -c opm -n "__fish_opm_using_subcommand serve" -l cache-dir -d 'if specified, the cache directory to use' -r
complete -c opm -n "__fish_opm_using_subcommand serve" -l cache-enforce-integrity -d 'exit with error if cache is not present or has been invalidated. (default: true when --cache-dir is set and --cache-only is false, false otherwise)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand serve" -l pprof-addr -d 'address of startup profiling endpoint (addr:port format)' -r
complete -c opm -n "__fish_opm_using_subcommand serve" -s t -l termination-log -d 'path to a container termination log file' -r
complete -c opm -n "__fish_opm_using_subcommand serve" -l http-addr -d 'also serve catalogd\'s HTTP API (/api/v1/all, /api/v1/metas, /healthz) on this address (PORT, :PORT or HOST:PORT)' -r
complete -c opm -n "__fish_opm_using_subcommand serve" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand serve" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand serve" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand serve" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand serve" -l cache-only -d 'only sync the cache and exit without serving'
complete -c opm -n "__fish_opm_using_subcommand serve" -l pprof-capture-profiles -d 'accepted for compatibility: Go profiles do not apply to this implementation'
complete -c opm -n "__fish_opm_using_subcommand serve" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand serve" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -f -a "add" -d 'Add operator bundles to an index'
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -f -a "prune" -d 'prune an index of all but specified packages'
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -f -a "prune-stranded" -d 'prune an index of stranded bundles'
complete -c opm -n "__fish_opm_using_subcommand index; and not __fish_seen_subcommand_from add prune prune-stranded rm" -f -a "rm" -d 'delete an entire operator from an index'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s f -l from-index -d 'previous index to add to' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s b -l bundles -d 'comma separated list of bundles to add' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l mode -d 'graph update mode that defines how channel graphs are updated. One of: [replaces, semver, semver-skippatch]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s c -l container-tool -d 'accepted for compatibility; no container engine is used. One of: [none, docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s u -l build-tool -d 'accepted for compatibility; no container engine is used. One of: [docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s p -l pull-tool -d 'accepted for compatibility; images are pulled in-process. One of: [none, docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s d -l out-dockerfile -d 'if generating the dockerfile, this flag is used to (optionally) specify a dockerfile name' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l out-dir -d 'with --generate, the directory the file-based catalog is written to (one folder per package)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s i -l binary-image -d 'container image for on-image `opm` command' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s t -l tag -d 'custom tag for container image being built (a registry reference, or oci:DIR[:TAG] for an OCI layout on disk)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l ca-file -d 'path to a PEM file of CA certificates trusted for the registries (added to the system roots)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l permissive -d 'allow registry load errors'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l overwrite-latest -d 'overwrite the latest bundles (channel heads) with those of the same csv name given by --bundles'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l enable-alpha -d 'enable unsupported alpha features of the OPM CLI'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l generate -d 'if enabled, just creates the dockerfile and saves it to local disk'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -l debug -d 'enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s f -l from-index -d 'index to prune' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s p -l packages -d 'comma separated list of packages to keep' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s c -l container-tool -d 'accepted for compatibility; no container engine is used. One of: [docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s d -l out-dockerfile -d 'if generating the dockerfile, this flag is used to (optionally) specify a dockerfile name' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l out-dir -d 'with --generate, the directory the file-based catalog is written to (one folder per package)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s i -l binary-image -d 'container image for on-image `opm` command' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s t -l tag -d 'custom tag for container image being built (a registry reference, or oci:DIR[:TAG] for an OCI layout on disk)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l ca-file -d 'path to a PEM file of CA certificates trusted for the registries (added to the system roots)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l permissive -d 'allow registry load errors'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l generate -d 'if enabled, just creates the dockerfile and saves it to local disk'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -l debug -d 'enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -s f -l from-index -d 'index to prune' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -s c -l container-tool -d 'accepted for compatibility; no container engine is used. One of: [docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -s d -l out-dockerfile -d 'if generating the dockerfile, this flag is used to (optionally) specify a dockerfile name' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l out-dir -d 'with --generate, the directory the file-based catalog is written to (one folder per package)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -s i -l binary-image -d 'container image for on-image `opm` command' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -s t -l tag -d 'custom tag for container image being built (a registry reference, or oci:DIR[:TAG] for an OCI layout on disk)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l ca-file -d 'path to a PEM file of CA certificates trusted for the registries (added to the system roots)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l generate -d 'if enabled, just creates the dockerfile and saves it to local disk'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -l debug -d 'enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from prune-stranded" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s f -l from-index -d 'previous index to delete from' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s o -l operators -d 'comma separated list of operators to delete' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s c -l container-tool -d 'accepted for compatibility; no container engine is used. One of: [none, docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s u -l build-tool -d 'accepted for compatibility; no container engine is used. One of: [docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s p -l pull-tool -d 'accepted for compatibility; images are pulled in-process. One of: [none, docker, podman]' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s d -l out-dockerfile -d 'if generating the dockerfile, this flag is used to (optionally) specify a dockerfile name' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l out-dir -d 'with --generate, the directory the file-based catalog is written to (one folder per package)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s i -l binary-image -d 'container image for on-image `opm` command' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s t -l tag -d 'custom tag for container image being built (a registry reference, or oci:DIR[:TAG] for an OCI layout on disk)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l ca-file -d 'path to a PEM file of CA certificates trusted for the registries (added to the system roots)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l permissive -d 'allow registry load errors'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l generate -d 'if enabled, just creates the dockerfile and saves it to local disk'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -l debug -d 'enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand index; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand version" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand version" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand version" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand version" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand version" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand version" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand completion" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand completion" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand completion" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand completion" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand completion" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand completion" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -f -a "bundle" -d 'Operator bundle commands'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -f -a "list" -d 'List contents of an index'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -f -a "render-graph" -d 'Generate mermaid-formatted view of upgrade graph of operators in an index'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -f -a "render-template" -d 'Render a catalog template (auto-detects type from schema if TYPE not specified)'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -f -a "convert-template" -d 'Convert existing FBC to a supported template type'
complete -c opm -n "__fish_opm_using_subcommand alpha; and not __fish_seen_subcommand_from bundle list render-graph render-template convert-template diff" -f -a "diff" -d 'Compare two catalogs: packages, channels, bundles, upgrade edges, default channels, heads and deprecations'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -f -a "generate" -d 'Generate operator bundle metadata and Dockerfile'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from bundle" -f -a "unpack" -d 'Unpacks the content of an operator bundle'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -f -a "packages" -d 'List packages in an index'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -f -a "channels" -d 'List package channels in an index'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from list" -f -a "bundles" -d 'List package bundles in an index'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l minimum-edge -d 'the channel edge to be used as the lower bound of the set of edges composing the upgrade graph; default is to include all edges' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -s p -l package-name -d 'a specific package name to filter output; default is to include all packages in reference' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l draw-v0-semantics -d 'whether to indicate OLMv0 semantics in the output; default is to simply represent the upgrade graph' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-graph" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -s o -l output -d 'Output format (json|yaml|mermaid)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -l migrate-level -d 'Name of the last migration to run (default: none)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from render-template" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -s h -l help -d 'Print help'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -f -a "basic" -d 'Generate a basic template from existing FBC'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from convert-template" -f -a "substitutes" -d 'Generate a substitutes template from existing FBC'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format: text, json (a stable shape, see docs/alpha.md) or markdown (for a pull-request comment)' -r -f -a "text\t''
json\t''
markdown\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -l skip-tls-verify -d 'skip TLS certificate verification for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -l use-http -d 'use plain HTTP for container image registries while pulling bundles' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -l skip-tls -d 'skip TLS certificate verification for container image registries while pulling bundles or index (deprecated: use --use-http and --skip-tls-verify instead)' -r -f -a "true\t''
false\t''"
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -l cache-max-size -d 'bound on the image cache directory, least recently used entries evicted first (e.g. 500M, 10G; default 5G, or $OPM_CACHE_MAX_SIZE)' -r
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -l debug -d 'Enable debug logging'
complete -c opm -n "__fish_opm_using_subcommand alpha; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
