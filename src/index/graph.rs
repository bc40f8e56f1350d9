//! `index add`: placing new bundles into their packages' channel graphs
//! as Go opm v1.73 did (spec opm-index-v1.73.md §4.2–§4.4).
//!
//! replaces mode rebuilds each touched package from its channel heads (the
//! highest version listing each channel) by following CSV `replaces`,
//! with `skips` as edges that are not followed. The semver modes insert one
//! bundle at a time into each channel it lists, by version, ignoring the
//! CSV's edges. Both read what v1.73 read from its database out of the
//! catalog: a bundle's channels are the channels listing it, its edges come
//! from its CSV when the catalog carries one and from its channel entries
//! otherwise.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use semver::Version;

use super::{
    AddOptions, CsvEdges, Mode, NewBundle, aggregate, build_id_compare, bundle_version, csv_edges,
    parse_version,
};
use crate::catalog::{
    Bundle, Channel, ChannelEntry, DeclarativeConfig, Package, SCHEMA_CHANNEL, SCHEMA_PACKAGE,
};

/// One bundle of a package, with what the graph builders read of it.
#[derive(Debug, Clone)]
struct Info {
    bundle: Bundle,
    version: String,
    edges: CsvEdges,
    /// Channels: the annotation of a new bundle, the channels listing an
    /// existing one (v1.73: "the channel_entry table is authoritative").
    channels: Vec<String>,
    /// The default channel annotation (for existing bundles, the
    /// package's default channel, as v1.73 read it back).
    default_channel: String,
}

/// A package's state while bundles are added.
#[derive(Debug, Clone, Default)]
struct Pkg {
    name: String,
    default_channel: String,
    /// The package blob, when the catalog had one.
    blob: Option<Package>,
    /// Channel entries by channel name.
    channels: BTreeMap<String, Vec<ChannelEntry>>,
    /// Existing channel blobs (their properties survive a rebuild).
    channel_blobs: BTreeMap<String, Channel>,
    bundles: BTreeMap<String, Info>,
}

impl Pkg {
    fn from_catalog(cfg: &DeclarativeConfig, name: &str) -> Pkg {
        let blob = cfg.packages.iter().find(|p| p.name == name).cloned();
        let default_channel = blob
            .as_ref()
            .map(|p| p.default_channel.clone())
            .unwrap_or_default();
        let mut channels = BTreeMap::new();
        let mut channel_blobs = BTreeMap::new();
        for c in cfg.channels.iter().filter(|c| c.package == name) {
            channels.insert(c.name.clone(), c.entries.clone().unwrap_or_default());
            channel_blobs.insert(c.name.clone(), c.clone());
        }
        let mut bundles = BTreeMap::new();
        for b in cfg.bundles.iter().filter(|b| b.package == name) {
            let member_of: Vec<String> = channels
                .iter()
                .filter(|(_, es)| es.iter().any(|e: &ChannelEntry| e.name == b.name))
                .map(|(c, _)| c.clone())
                .collect();
            // The CSV, decoded only for the packages an add touches.
            let mut bundle = b.clone();
            if bundle.csv_json.is_none() {
                // The loader already checked these objects.
                let _ = crate::catalog::load::read_bundle_objects(&mut bundle, true);
            }
            let edges = match &bundle.csv_json {
                Some(csv) => csv_edges(csv),
                None => entry_edges(&channels, &b.name),
            };
            bundles.insert(
                b.name.clone(),
                Info {
                    version: bundle_version(b),
                    bundle,
                    edges,
                    channels: member_of,
                    default_channel: default_channel.clone(),
                },
            );
        }
        Pkg {
            name: name.to_string(),
            default_channel,
            blob,
            channels,
            channel_blobs,
            bundles,
        }
    }

    fn insert_new(&mut self, nb: &NewBundle) {
        self.bundles.insert(
            nb.bundle.name.clone(),
            Info {
                version: bundle_version(&nb.bundle),
                edges: nb
                    .bundle
                    .csv_json
                    .as_deref()
                    .map(csv_edges)
                    .unwrap_or_default(),
                channels: nb.channels.clone(),
                default_channel: nb.default_channel.clone(),
                bundle: nb.bundle.clone(),
            },
        );
    }

    fn skip_range(&self, name: &str) -> String {
        self.bundles
            .get(name)
            .map(|i| i.edges.skip_range.clone())
            .unwrap_or_default()
    }

    /// Replace this package's blobs in `cfg` by its state: the package
    /// blob, its channels, and the bundles its channels list (others are
    /// stranded: v1.73 kept them as rows that no render shows).
    fn apply(self, cfg: &mut DeclarativeConfig) {
        let name = self.name.clone();
        let listed: BTreeSet<String> = self
            .channels
            .values()
            .flatten()
            .map(|e| e.name.clone())
            .collect();
        let head_csv = self
            .channels
            .get(&self.default_channel)
            .and_then(|es| head_of(es))
            .and_then(|h| self.bundles.get(&h))
            .and_then(|i| i.bundle.csv_json.clone());
        let mut pkg = self.blob.clone().unwrap_or_else(|| Package {
            schema: SCHEMA_PACKAGE.to_string(),
            name: name.clone(),
            ..Default::default()
        });
        pkg.default_channel = self.default_channel.clone();
        // v1.73 took the package icon from the default channel head's CSV.
        if let Some(csv) = head_csv {
            pkg.icon = crate::bundle::csv_icon(&csv).ok().flatten();
        }
        let mut channels = Vec::new();
        for (cname, mut entries) in self.channels {
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            let mut blob = self
                .channel_blobs
                .get(&cname)
                .cloned()
                .unwrap_or_else(|| Channel {
                    schema: SCHEMA_CHANNEL.to_string(),
                    name: cname.clone(),
                    package: name.clone(),
                    ..Default::default()
                });
            blob.entries = Some(entries);
            channels.push(blob);
        }
        let bundles: Vec<Bundle> = self
            .bundles
            .into_values()
            .filter(|i| listed.contains(&i.bundle.name))
            .map(|i| i.bundle)
            .collect();
        match cfg.packages.iter_mut().find(|p| p.name == name) {
            Some(p) => *p = pkg,
            None => cfg.packages.push(pkg),
        }
        cfg.channels.retain(|c| c.package != name);
        cfg.channels.extend(channels);
        cfg.bundles.retain(|b| b.package != name);
        cfg.bundles.extend(bundles);
    }
}

/// A bundle's edges read back from channel entries, for catalogs that do
/// not carry its CSV: the first `replaces` found, every `skips`.
fn entry_edges(channels: &BTreeMap<String, Vec<ChannelEntry>>, name: &str) -> CsvEdges {
    let mut edges = CsvEdges::default();
    for e in channels.values().flatten().filter(|e| e.name == name) {
        if edges.replaces.is_empty() {
            edges.replaces = e.replaces.clone();
        }
        if edges.skip_range.is_empty() {
            edges.skip_range = e.skip_range.clone();
        }
        for s in &e.skips {
            if !edges.skips.contains(s) {
                edges.skips.push(s.clone());
            }
        }
    }
    edges
}

/// The entry nothing replaces or skips (the first such by name).
fn head_of(entries: &[ChannelEntry]) -> Option<String> {
    let referenced: BTreeSet<&str> = entries
        .iter()
        .flat_map(|e| {
            std::iter::once(e.replaces.as_str()).chain(e.skips.iter().map(String::as_str))
        })
        .collect();
    entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| !referenced.contains(n))
        .min()
        .map(str::to_string)
}

/// Add `new` bundles to `cfg` (spec opm-index-v1.73.md). On success the
/// catalog holds the result; errors are v1.73's messages, aggregated. With
/// `opts.permissive`, packages that fail stay as they were and the errors
/// come back as warnings.
pub fn add(
    cfg: &mut DeclarativeConfig,
    new: Vec<NewBundle>,
    mode: Mode,
    opts: AddOptions,
) -> Result<Vec<String>, String> {
    let fail = |errs: Vec<String>| -> Result<Vec<String>, String> {
        if errs.is_empty() {
            Ok(Vec::new())
        } else if opts.permissive {
            Ok(vec![aggregate(&errs)])
        } else {
            Err(aggregate(&errs))
        }
    };
    let sanity = sanity_check(cfg, &new, opts);
    if !sanity.is_empty() {
        return fail(sanity);
    }

    // Per package, ascending version (ties by name): the fixed order that
    // stands in for v1.73's map order.
    let mut by_pkg: BTreeMap<String, Vec<NewBundle>> = BTreeMap::new();
    for nb in new {
        by_pkg
            .entry(nb.bundle.package.clone())
            .or_default()
            .push(nb);
    }
    for bundles in by_pkg.values_mut() {
        bundles.sort_by(|a, b| version_order(&a.bundle, &b.bundle));
    }

    let mut errors = Vec::new();
    let mut done = Vec::new();
    for (name, bundles) in &by_pkg {
        let mut pkg = Pkg::from_catalog(cfg, name);
        let result = match mode {
            Mode::Replaces => add_replaces(&mut pkg, bundles, opts),
            Mode::Semver | Mode::SemverSkipPatch => {
                add_semver(&mut pkg, bundles, mode == Mode::SemverSkipPatch)
            }
        };
        match result {
            Ok(()) => {
                // v1.73's check that every new bundle landed in each of its
                // channels; its failure leaves the graph as built.
                errors.extend(check_landed(&pkg, bundles));
                done.push(pkg);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() && !opts.permissive {
        return Err(aggregate(&errors));
    }
    for pkg in done {
        pkg.apply(cfg);
    }
    fail(errors)
}

fn version_order(a: &Bundle, b: &Bundle) -> Ordering {
    let va = parse_version(&bundle_version(a)).ok();
    let vb = parse_version(&bundle_version(b)).ok();
    let by_version = match (&va, &vb) {
        (Some(x), Some(y)) => build_id_compare(x, y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_version.then_with(|| a.name.cmp(&b.name))
}

/// v1.73's `globalSanityCheck` and `ValidateEdgeBundlePackage`.
fn sanity_check(cfg: &DeclarativeConfig, new: &[NewBundle], opts: AddOptions) -> Vec<String> {
    let mut errs = Vec::new();
    let mut overwrites: BTreeSet<&str> = BTreeSet::new();
    for nb in new {
        let b = &nb.bundle;
        if !b.image.is_empty()
            && cfg
                .bundles
                .iter()
                .any(|x| x.package == b.package && x.image == b.image)
        {
            errs.push(format!("Bundle {} already exists", b.image));
        }
        let mut valid_overwrite = false;
        for c in cfg.channels.iter().filter(|c| c.package == b.package) {
            let entries = c.entries.as_deref().unwrap_or_default();
            if !entries.iter().any(|e| e.name == b.name) {
                continue;
            }
            if !opts.overwrite_latest {
                errs.push("Bundle already added that provides package and csv".to_string());
                break;
            }
            if entries.iter().any(|e| e.replaces == b.name) {
                errs.push(
                    "Cannot overwrite a bundle that is not at the head of a channel using --overwrite-latest"
                        .to_string(),
                );
                valid_overwrite = false;
                break;
            }
            valid_overwrite = true;
        }
        if valid_overwrite && !overwrites.insert(b.package.as_str()) {
            errs.push(
                "Cannot overwrite more than one bundle at a time for a given package using --overwrite-latest"
                    .to_string(),
            );
        }
    }
    if let Err(e) = edge_packages(cfg, new) {
        errs.push(e);
    }
    errs
}

/// Every bundle a new bundle names (itself, its replaces and skips) must
/// belong to that bundle's package only.
fn edge_packages(cfg: &DeclarativeConfig, new: &[NewBundle]) -> Result<(), String> {
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for nb in new {
        let edges = nb
            .bundle
            .csv_json
            .as_deref()
            .map(csv_edges)
            .unwrap_or_default();
        let names = edges
            .skips
            .iter()
            .chain([&edges.replaces, &nb.bundle.name])
            .filter(|n| !n.is_empty());
        for n in names {
            if let Some(p) = expected.get(n)
                && *p != nb.bundle.package
            {
                let mut pkgs = [p.clone(), nb.bundle.package.clone()];
                pkgs.sort();
                return Err(format!(
                    "bundle {n} must belong to exactly one package, found on: [{} {}]",
                    pkgs[0], pkgs[1]
                ));
            }
            expected.insert(n.clone(), nb.bundle.package.clone());
        }
    }
    for c in &cfg.channels {
        for e in c.entries.iter().flatten() {
            if let Some(p) = expected.get(&e.name)
                && *p != c.package
            {
                return Err(format!(
                    "bundle {} belongs to package {} on index, cannot be added as an edge for package {p}",
                    e.name, c.package
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// replaces mode

fn add_replaces(pkg: &mut Pkg, new: &[NewBundle], opts: AddOptions) -> Result<(), String> {
    if opts.overwrite_latest {
        // The overwritten head leaves every channel; the rebuild below
        // brings back whatever it replaced.
        for nb in new {
            if pkg.bundles.contains_key(&nb.bundle.name) {
                pkg.bundles.remove(&nb.bundle.name);
                for entries in pkg.channels.values_mut() {
                    entries.retain(|e| e.name != nb.bundle.name);
                }
            }
        }
        for info in pkg.bundles.values_mut() {
            info.channels.retain(|c| {
                pkg.channels
                    .get(c)
                    .is_some_and(|es| es.iter().any(|e| e.name == info.bundle.name))
            });
        }
    }
    for nb in new {
        pkg.insert_new(nb);
    }
    let mut all: Vec<&Info> = pkg
        .bundles
        .values()
        .filter(|i| !i.channels.is_empty())
        .collect();
    all.sort_by(|a, b| version_order(&a.bundle, &b.bundle));
    let (heads, default) = semver_package_manifest(&all)?;

    let mut channels = BTreeMap::new();
    let mut errs = Vec::new();
    for (cname, head) in &heads {
        match replaces_channel(pkg, head) {
            Ok(entries) => {
                channels.insert(cname.clone(), entries);
            }
            Err(e) => errs.push(e),
        }
    }
    if !errs.is_empty() {
        return Err(aggregate(&errs));
    }
    pkg.channels = channels;
    pkg.default_channel = default;
    Ok(())
}

/// Go's private `bundleVersion`, printed with `%+v` in one error.
#[derive(Debug, Clone)]
struct HeadVersion {
    name: String,
    version: Version,
    count: usize,
}

impl HeadVersion {
    fn go_format(&self) -> String {
        let v = &self.version;
        let pre: Vec<String> = if v.pre.is_empty() {
            Vec::new()
        } else {
            v.pre
                .as_str()
                .split('.')
                .map(|id| match id.parse::<u64>() {
                    Ok(n) if !id.starts_with('0') || id == "0" => {
                        format!("{{VersionStr: VersionNum:{n} IsNum:true}}")
                    }
                    _ => format!("{{VersionStr:{id} VersionNum:0 IsNum:false}}"),
                })
                .collect()
        };
        let build: Vec<&str> = if v.build.is_empty() {
            Vec::new()
        } else {
            v.build.as_str().split('.').collect()
        };
        format!(
            "{{name:{} version:{{Major:{} Minor:{} Patch:{} Pre:[{}] Build:[{}]}} count:{}}}",
            self.name,
            v.major,
            v.minor,
            v.patch,
            pre.join(" "),
            build.join(" "),
            self.count
        )
    }
}

/// v1.73's `SemverPackageManifest`: each channel's head is its highest
/// bundle; the default is the annotation of the highest bundle declaring
/// one (or the only channel). Returns heads by channel and the default.
fn semver_package_manifest(all: &[&Info]) -> Result<(BTreeMap<String, String>, String), String> {
    let mut heads: BTreeMap<String, HeadVersion> = BTreeMap::new();
    let mut default = String::new();
    let mut max = HeadVersion {
        name: String::new(),
        version: Version::new(0, 0, 0),
        count: 0,
    };
    for info in all {
        let raw = if info.version.is_empty() {
            "0.0.0-z"
        } else {
            info.version.as_str()
        };
        let version = crate::semver_range::parse_version(raw).map_err(|e| {
            format!(
                "error parsing bundle {} version {raw}: {}",
                info.bundle.name, e.0
            )
        })?;
        let mut current = HeadVersion {
            name: info.bundle.name.clone(),
            version,
            count: 1,
        };
        for channel in &info.channels {
            let Some(head) = heads.get(channel) else {
                heads.insert(channel.clone(), current.clone());
                continue;
            };
            match build_id_compare(&current.version, &head.version)? {
                Ordering::Less => continue,
                // Go adds to the count of the bundle being scanned, which
                // then carries into later channels and the maximum.
                Ordering::Equal => current.count += head.count,
                Ordering::Greater => {}
            }
            heads.insert(channel.clone(), current.clone());
        }
        match build_id_compare(&current.version, &max.version)? {
            Ordering::Less => continue,
            Ordering::Equal => current.count += max.count,
            Ordering::Greater => {}
        }
        if !info.default_channel.is_empty() {
            default = info.default_channel.clone();
        }
        max = current;
    }
    if max.count > 1 {
        return Err(format!(
            "more than one bundle with maximum version {}",
            max.version
        ));
    }
    let mut chosen = default.clone();
    let mut found = heads.len() == 1 && default.is_empty();
    for (channel, head) in &heads {
        if head.count > 1 {
            return Err(format!(
                "more than one potential channel head for {channel}"
            ));
        }
        if heads.len() == 1 {
            chosen = channel.clone();
        }
        found = found || *channel == default;
    }
    if !found {
        // `%+v` of Go's map: keys sorted, values as private structs.
        let shown: Vec<String> = heads
            .iter()
            .map(|(c, h)| format!("{c}:{}", h.go_format()))
            .collect();
        return Err(format!(
            "unable to determine default channel among channel heads: map[{}]",
            shown.join(" ")
        ));
    }
    Ok((
        heads.into_iter().map(|(c, h)| (c, h.name)).collect(),
        chosen,
    ))
}

/// One channel rebuilt from its head (v1.73 `addPackageChannels`): follow
/// `replaces`; each `skips` name becomes an entry (when it is a bundle of
/// the package) without edges of its own, and its chain is not followed.
fn replaces_channel(pkg: &Pkg, head: &str) -> Result<Vec<ChannelEntry>, String> {
    let mut chain: Vec<ChannelEntry> = Vec::new();
    let mut seen = BTreeSet::from([head.to_string()]);
    let mut current = head.to_string();
    loop {
        let Some(info) = pkg.bundles.get(&current) else {
            // Only reachable for the head, which is always a bundle.
            return Err(format!(
                "Invalid bundle {head}, replaces nonexistent bundle {current}"
            ));
        };
        let mut entry = ChannelEntry {
            name: current.clone(),
            replaces: String::new(),
            skips: dedup(&info.edges.skips),
            skip_range: info.edges.skip_range.clone(),
        };
        let replaces = info.edges.replaces.clone();
        if replaces.is_empty() {
            chain.push(entry);
            break;
        }
        if !seen.insert(replaces.clone()) {
            return Err(format!("Cycle detected, {current} replaces {replaces}"));
        }
        if !pkg.bundles.contains_key(&replaces) {
            return Err(format!(
                "Invalid bundle {head}, replaces nonexistent bundle {replaces}"
            ));
        }
        entry.replaces = replaces.clone();
        chain.push(entry);
        current = replaces;
    }
    Ok(with_skipped(pkg, chain))
}

/// The chain's entries plus an edge-less entry for each skipped name that
/// is a bundle of the package and not on the chain.
fn with_skipped(pkg: &Pkg, chain: Vec<ChannelEntry>) -> Vec<ChannelEntry> {
    let on_chain: BTreeSet<String> = chain.iter().map(|e| e.name.clone()).collect();
    let mut extra: BTreeSet<String> = BTreeSet::new();
    for e in &chain {
        for s in &e.skips {
            if !on_chain.contains(s) && pkg.bundles.contains_key(s) {
                extra.insert(s.clone());
            }
        }
    }
    let mut entries = chain;
    for s in extra {
        entries.push(ChannelEntry {
            skip_range: pkg.skip_range(&s),
            name: s,
            ..Default::default()
        });
    }
    entries
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// semver modes

/// A channel graph as v1.73's `graphFromEntries` reads it: nodes are the
/// entries that are bundles of the package, each with the set of names it
/// replaces or skips.
#[derive(Debug, Clone, Default)]
struct ChannelGraph {
    head: String,
    nodes: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, Default)]
struct Graph {
    default_channel: String,
    channels: BTreeMap<String, ChannelGraph>,
}

fn read_graph(pkg: &Pkg) -> Result<Graph, String> {
    let mut g = Graph {
        default_channel: pkg.default_channel.clone(),
        channels: BTreeMap::new(),
    };
    for (cname, entries) in &pkg.channels {
        let mut nodes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for e in entries.iter().filter(|e| pkg.bundles.contains_key(&e.name)) {
            let edges = nodes.entry(e.name.clone()).or_default();
            if !e.replaces.is_empty() {
                edges.insert(e.replaces.clone());
            }
            edges.extend(e.skips.iter().cloned());
        }
        let referenced: BTreeSet<&String> = nodes.values().flatten().collect();
        let candidates: Vec<&String> = nodes.keys().filter(|n| !referenced.contains(n)).collect();
        let head = match candidates.as_slice() {
            [] => return Err(format!("no channel head found for {cname}")),
            [one] => (*one).clone(),
            many => {
                let shown: Vec<String> = many
                    .iter()
                    .map(|n| {
                        let i = &pkg.bundles[*n];
                        format!("{{{} {} {}}}:{{}}", i.bundle.image, i.version, n)
                    })
                    .collect();
                return Err(format!(
                    "multiple candidate channel heads found for {cname}: map[{}]",
                    shown.join(" ")
                ));
            }
        };
        g.channels
            .insert(cname.clone(), ChannelGraph { head, nodes });
    }
    Ok(g)
}

fn add_semver(pkg: &mut Pkg, new: &[NewBundle], skippatch: bool) -> Result<(), String> {
    for nb in new {
        // v1.73 read the graph back from its database before each bundle.
        let mut graph = if pkg.blob.is_none() && pkg.channels.is_empty() {
            Graph::default()
        } else {
            read_graph(pkg)?
        };
        let version = add_bundle_to_graph(&mut graph, nb, pkg, skippatch)?;
        pkg.insert_new(nb);
        if let Some(info) = pkg.bundles.get_mut(&nb.bundle.name) {
            info.version = version;
        }
        write_graph(pkg, &graph)
            .map_err(|e| format!("error loading bundle {} into db: {e}", nb.bundle.name))?;
    }
    Ok(())
}

/// v1.73's `AddBundleToGraph`: place the bundle by version in each channel
/// it lists. Returns the version as v1.73 stored it.
fn add_bundle_to_graph(
    graph: &mut Graph,
    nb: &NewBundle,
    pkg: &Pkg,
    skippatch: bool,
) -> Result<String, String> {
    let raw = bundle_version(&nb.bundle);
    if raw.is_empty() {
        return Err(format!(
            "Unable to extract bundle version from bundle {}, can't insert in semver mode",
            nb.bundle.image
        ));
    }
    let to_add = crate::semver_range::parse_version(&raw)
        .map_err(|_| format!("Bundle version {raw} is not valid"))?;
    if !nb.default_channel.is_empty() {
        graph.default_channel = nb.default_channel.clone();
    }
    if graph.default_channel.is_empty() {
        // `SelectDefaultChannel`: the first of the sorted channel list.
        let mut sorted = nb.channels.clone();
        sorted.sort();
        match sorted.first() {
            Some(c) if !nb.channels.is_empty() => graph.default_channel = c.clone(),
            _ => return Err("Default channel is missing and can't be inferred".to_string()),
        }
    }
    let name = nb.bundle.name.clone();
    for channel in &nb.channels {
        let Some(cg) = graph.channels.get_mut(channel) else {
            graph.channels.insert(
                channel.clone(),
                ChannelGraph {
                    head: name.clone(),
                    nodes: BTreeMap::from([(name.clone(), BTreeSet::new())]),
                },
            );
            continue;
        };
        let mut replaces: BTreeSet<String> = BTreeSet::new();
        let mut lowest_ahead: Option<(String, Version)> = None;
        let mut greatest_behind: Option<(String, Version)> = None;
        let mut skipped = Vec::new();
        for node in cg.nodes.keys() {
            let node_raw = pkg
                .bundles
                .get(node)
                .map(|i| i.version.as_str())
                .unwrap_or_default();
            let nv = crate::semver_range::parse_version(node_raw).map_err(|_| {
                let image = pkg
                    .bundles
                    .get(node)
                    .map(|i| i.bundle.image.as_str())
                    .unwrap_or_default();
                format!(
                    "Unable to parse existing bundle version stored in index {node} {node_raw} {image}"
                )
            })?;
            match crate::semver_range::compare(&nv, &to_add) {
                Ordering::Equal => {
                    return Err(format!("Bundle version {raw} already added to index"));
                }
                Ordering::Greater => {
                    if lowest_ahead.as_ref().is_none_or(|(_, v)| nv < *v) {
                        lowest_ahead = Some((node.clone(), nv.clone()));
                    }
                }
                Ordering::Less => {
                    if greatest_behind.as_ref().is_none_or(|(_, v)| nv > *v) {
                        greatest_behind = Some((node.clone(), nv.clone()));
                    }
                }
            }
            if skippatch
                && nv.major == to_add.major
                && nv.minor == to_add.minor
                && crate::semver_range::compare(&to_add, &nv) == Ordering::Greater
            {
                skipped.push(node.clone());
                replaces.insert(node.clone());
            }
        }
        if let Some((behind, _)) = greatest_behind {
            replaces.insert(behind);
        }
        match lowest_ahead {
            Some((ahead, _)) => {
                cg.nodes.insert(ahead, BTreeSet::from([name.clone()]));
            }
            None => cg.head = name.clone(),
        }
        for s in skipped {
            cg.nodes.remove(&s);
        }
        cg.nodes.insert(name.clone(), replaces);
    }
    Ok(raw)
}

/// v1.73's `AddPackageChannelsFromGraph`: every channel of the package is
/// rewritten as the chain from its head; edges to names that are not
/// nodes become `skips`.
fn write_graph(pkg: &mut Pkg, graph: &Graph) -> Result<(), String> {
    let mut errs = Vec::new();
    if !graph.channels.contains_key(&graph.default_channel) {
        let d = &graph.default_channel;
        errs.push(format!(
            "the default channel ({d}) does not exist: failed to set default channel ({d}) for package ({}): FOREIGN KEY constraint failed",
            pkg.name
        ));
    }
    let mut channels = BTreeMap::new();
    for (cname, cg) in &graph.channels {
        let mut chain: Vec<ChannelEntry> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut current = cg.head.clone();
        let mut depth = 0usize;
        loop {
            seen.insert(current.clone());
            let edges = cg.nodes.get(&current).cloned().unwrap_or_default();
            // One edge should lead to a node; if several do (hand-made
            // graphs), v1.73 took one at random: take the highest version.
            let next = edges
                .iter()
                .filter(|e| cg.nodes.contains_key(*e))
                .max_by(|a, b| {
                    let v = |n: &str| {
                        parse_version(
                            &pkg.bundles
                                .get(n)
                                .map(|i| i.version.clone())
                                .unwrap_or_default(),
                        )
                        .ok()
                    };
                    match (v(a), v(b)) {
                        (Some(x), Some(y)) => crate::semver_range::compare(&x, &y),
                        _ => a.cmp(b),
                    }
                    .then_with(|| a.cmp(b))
                })
                .cloned();
            let skips: Vec<String> = edges
                .iter()
                .filter(|e| Some(*e) != next.as_ref())
                .cloned()
                .collect();
            chain.push(ChannelEntry {
                name: current.clone(),
                replaces: next.clone().unwrap_or_default(),
                skips,
                skip_range: pkg.skip_range(&current),
            });
            let Some(next) = next else {
                let expected = cg.nodes.len().saturating_sub(1);
                if expected != depth {
                    errs.push(format!(
                        "Invalid graph: some (non-bottom) nodes defined in the graph were not mentioned as replacements of any node ({expected} != {depth})"
                    ));
                }
                break;
            };
            if seen.contains(&next) {
                errs.push(format!("Cycle detected, {current} replaces {next}"));
                break;
            }
            current = next;
            depth += 1;
        }
        channels.insert(cname.clone(), with_skipped(pkg, chain));
    }
    if !errs.is_empty() {
        return Err(aggregate(&errs));
    }
    pkg.channels = channels;
    pkg.default_channel = graph.default_channel.clone();
    Ok(())
}

// ---------------------------------------------------------------------------

/// v1.73's `checkForBundles`: each new bundle must be reachable from the
/// head of every channel it lists, through replaces and skips.
fn check_landed(pkg: &Pkg, new: &[NewBundle]) -> Vec<String> {
    let mut errs = Vec::new();
    let graph = match read_graph(pkg) {
        Ok(g) => g,
        Err(e) => {
            return new
                .iter()
                .map(|nb| {
                    format!(
                        "unable to verify added bundles for package {}: {e}",
                        nb.bundle.package
                    )
                })
                .collect();
        }
    };
    for nb in new {
        for channel in &nb.channels {
            let cg = graph.channels.get(channel).cloned().unwrap_or_default();
            let mut queue = vec![cg.head.clone()];
            let mut seen = BTreeSet::new();
            let mut found = false;
            while let Some(n) = queue.pop() {
                if n == nb.bundle.name {
                    found = true;
                    break;
                }
                if !seen.insert(n.clone()) {
                    continue;
                }
                queue.extend(cg.nodes.get(&n).into_iter().flatten().cloned());
            }
            if found {
                continue;
            }
            let head_edges: Vec<String> = cg
                .nodes
                .get(&cg.head)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            let b = &nb.bundle;
            errs.push(format!(
                "add prunes bundle {} ({}) from package {}, channel {channel}: this may be due to incorrect channel head ({}, skips/replaces [{}]). Be aware that the head of the channel {channel} where you are trying to add the {} is {}. Upgrade graphs follows the Semantic Versioning 2.0.0 (https://semver.org/) which means that is not possible add new versions lower then the head of the channel",
                b.name,
                b.image,
                b.package,
                cg.head,
                head_edges.join(" "),
                b.name,
                cg.head
            ));
        }
    }
    errs
}
