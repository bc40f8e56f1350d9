//! The `api.Registry` queries, answered synchronously from an opened
//! [`Cache`] (spec opm-validate-serve-grpc.md §4.3). The gRPC layer only
//! translates these results into responses.
//!
//! Where Go answers in random order (Go map iteration: ListPackages, the
//! channel-entry streams, which of several bundles GetBundleThatReplaces
//! returns), this answers in a fixed order: package, channel, bundle name.

use std::collections::HashMap;

use prost::Message;

use super::cache::{BlobPb, BundlePb, Cache, ChannelPb, EntryPb, GvkPb, PackagePb, Span};
use super::proto::api;
use crate::catalog::load::go_quote as q;

/// A query failure, by the gRPC code Go answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Go returns plain errors, which grpc-go sends as code Unknown (§4.3).
    #[error("{0}")]
    Unknown(String),
    #[error("{0}")]
    InvalidArgument(String),
    /// The cache could not be read or decoded.
    #[error("{0}")]
    Internal(String),
}

type Result<T> = std::result::Result<T, QueryError>;

/// How a bundle is trimmed for its RPC (§4.3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trim {
    /// Unary RPCs: no replaces/skips, payload kept.
    Unary,
    /// ListBundles: replaces/skips kept, payload only without an image.
    List,
}

/// A channel entry position: (package, channel, entry) indexes.
type Pos = (u32, u32, u32);

pub struct Registry {
    cache: Cache,
    by_name: HashMap<String, u32>,
    /// Bundle id → every channel entry that lists it.
    providers: HashMap<GvkPb, Vec<u32>>,
    /// ListBundles order: channel, then package, then bundle name.
    list_order: Vec<Pos>,
    /// Start of each `all` segment in the stream, for range reads.
    segment_starts: Vec<u64>,
    all_len: u64,
}

impl Registry {
    pub fn new(cache: Cache) -> Registry {
        let ix = &cache.index;
        let by_name = ix
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i as u32))
            .collect();
        let mut providers: HashMap<GvkPb, Vec<u32>> = HashMap::new();
        for (i, b) in ix.bundles.iter().enumerate() {
            for g in &b.provided {
                let ids = providers.entry(g.clone()).or_default();
                if ids.last() != Some(&(i as u32)) {
                    ids.push(i as u32);
                }
            }
        }
        let mut list_order: Vec<Pos> = Vec::new();
        for (pi, p) in ix.packages.iter().enumerate() {
            for (ci, c) in p.channels.iter().enumerate() {
                for ei in 0..c.entries.len() {
                    list_order.push((pi as u32, ci as u32, ei as u32));
                }
            }
        }
        list_order.sort_by(|a, b| {
            let key = |p: &Pos| {
                let pkg = &ix.packages[p.0 as usize];
                let ch = &pkg.channels[p.1 as usize];
                let bundle = &ix.bundles[ch.entries[p.2 as usize].bundle as usize].name;
                (&ch.name, &pkg.name, bundle)
            };
            key(a).cmp(&key(b))
        });
        let mut segment_starts = Vec::with_capacity(ix.all_segments.len());
        let mut all_len = 0;
        for s in &ix.all_segments {
            segment_starts.push(all_len);
            all_len += s.len;
        }
        Registry {
            cache,
            by_name,
            providers,
            list_order,
            segment_starts,
            all_len,
        }
    }

    pub fn index(&self) -> &super::cache::IndexPb {
        &self.cache.index
    }

    fn package(&self, name: &str) -> Option<&PackagePb> {
        self.by_name
            .get(name)
            .map(|&i| &self.cache.index.packages[i as usize])
    }

    fn channel<'a>(pkg: &'a PackagePb, name: &str) -> Option<&'a ChannelPb> {
        pkg.channels
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &pkg.channels[i])
    }

    fn bundle_pb(&self, e: &EntryPb) -> &BundlePb {
        &self.cache.index.bundles[e.bundle as usize]
    }

    fn entry<'a>(&self, ch: &'a ChannelPb, bundle: &str) -> Option<&'a EntryPb> {
        ch.entries.iter().find(|e| self.bundle_pb(e).name == bundle)
    }

    fn read(&self, span: Span) -> Result<Vec<u8>> {
        self.cache
            .read(span)
            .map_err(|e| QueryError::Internal(format!("read cache: {e}")))
    }

    /// The `api.Bundle` of one channel entry.
    fn bundle(
        &self,
        pkg: &PackagePb,
        ch: &ChannelPb,
        e: &EntryPb,
        trim: Trim,
    ) -> Result<api::Bundle> {
        let b = self.bundle_pb(e);
        let core = b
            .core
            .ok_or_else(|| QueryError::Internal(format!("bundle {} has no record", q(&b.name))))?;
        let decode =
            |e: prost::DecodeError| QueryError::Internal(format!("decode cached bundle: {e}"));
        let mut out = api::Bundle::decode(self.read(core)?.as_slice()).map_err(decode)?;
        out.package_name.clone_from(&pkg.name);
        out.channel_name.clone_from(&ch.name);
        out.skip_range.clone_from(&e.skip_range);
        if trim == Trim::List {
            out.replaces.clone_from(&e.replaces);
            out.skips.clone_from(&e.skips);
        }
        if trim == Trim::Unary || b.image.is_empty() {
            for span in &b.heavy {
                out.merge(self.read(*span)?.as_slice()).map_err(decode)?;
            }
            if let Some(i) = b.csv_object {
                out.csv_json = out.object.get(i as usize).cloned().unwrap_or_default();
            }
            if b.object_from_csv {
                out.object = vec![out.csv_json.clone()];
            }
        }
        Ok(out)
    }

    pub fn list_packages(&self) -> Vec<String> {
        self.cache
            .index
            .packages
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    pub fn get_package(&self, name: &str) -> Result<api::Package> {
        let p = self
            .package(name)
            .ok_or_else(|| QueryError::Unknown(format!("package {} not found", q(name))))?;
        Ok(api::Package {
            name: p.name.clone(),
            channels: p
                .channels
                .iter()
                .map(|c| api::Channel {
                    name: c.name.clone(),
                    csv_name: c.head.clone(),
                    deprecation: deprecation(&c.deprecation),
                })
                .collect(),
            default_channel_name: p.default_channel.clone(),
            deprecation: deprecation(&p.deprecation),
        })
    }

    fn package_channel(&self, pkg: &str, ch: &str) -> Result<(&PackagePb, &ChannelPb)> {
        let p = self
            .package(pkg)
            .ok_or_else(|| QueryError::Unknown(format!("package {} not found", q(pkg))))?;
        let c = Self::channel(p, ch).ok_or_else(|| {
            QueryError::Unknown(format!("package {}, channel {} not found", q(pkg), q(ch)))
        })?;
        Ok((p, c))
    }

    pub fn get_bundle(&self, pkg: &str, ch: &str, name: &str) -> Result<api::Bundle> {
        let (p, c) = self.package_channel(pkg, ch)?;
        let e = self.entry(c, name).ok_or_else(|| {
            QueryError::Unknown(format!(
                "package {}, channel {}, bundle {} not found",
                q(pkg),
                q(ch),
                q(name)
            ))
        })?;
        self.bundle(p, c, e, Trim::Unary)
    }

    pub fn get_bundle_for_channel(&self, pkg: &str, ch: &str) -> Result<api::Bundle> {
        let (p, c) = self.package_channel(pkg, ch)?;
        let e = self.entry(c, &c.head).ok_or_else(|| {
            QueryError::Unknown(format!(
                "package {}, channel {}, bundle {} not found",
                q(pkg),
                q(ch),
                q(&c.head)
            ))
        })?;
        self.bundle(p, c, e, Trim::Unary)
    }

    pub fn get_bundle_that_replaces(&self, name: &str, pkg: &str, ch: &str) -> Result<api::Bundle> {
        // GO QUIRK (§4.3): this one message leaves the package unquoted.
        let p = self
            .package(pkg)
            .ok_or_else(|| QueryError::Unknown(format!("package {pkg} not found")))?;
        let c = Self::channel(p, ch).ok_or_else(|| {
            QueryError::Unknown(format!("package {}, channel {} not found", q(pkg), q(ch)))
        })?;
        // GO QUIRK (§4.3): an empty name matches any bundle replacing nothing.
        let e = c
            .entries
            .iter()
            .find(|e| e.replaces == name || e.skips.iter().any(|s| s == name))
            .ok_or_else(|| {
                QueryError::Unknown(format!(
                    "no entry found for package {}, channel {}",
                    q(pkg),
                    q(ch)
                ))
            })?;
        self.bundle(p, c, e, Trim::Unary)
    }

    fn all_entries(&self) -> impl Iterator<Item = (&PackagePb, &ChannelPb, &EntryPb)> {
        self.cache.index.packages.iter().flat_map(|p| {
            p.channels
                .iter()
                .flat_map(move |c| c.entries.iter().map(move |e| (p, c, e)))
        })
    }

    fn channel_entry(
        &self,
        p: &PackagePb,
        c: &ChannelPb,
        e: &EntryPb,
        replaces: &str,
    ) -> api::ChannelEntry {
        api::ChannelEntry {
            package_name: p.name.clone(),
            channel_name: c.name.clone(),
            bundle_name: self.bundle_pb(e).name.clone(),
            replaces: replaces.to_string(),
        }
    }

    pub fn channel_entries_that_replace(&self, name: &str) -> Result<Vec<api::ChannelEntry>> {
        let mut out = Vec::new();
        for (p, c, e) in self.all_entries() {
            if e.replaces == name {
                out.push(self.channel_entry(p, c, e, &e.replaces));
            }
            // GO QUIRK (§4.3): a skip match reports the bundle's replaces,
            // not the skipped name; duplicate skips give duplicate entries.
            for s in &e.skips {
                if s == name && *s != e.replaces {
                    out.push(self.channel_entry(p, c, e, &e.replaces));
                }
            }
        }
        if out.is_empty() {
            return Err(QueryError::Unknown(format!(
                "no channel entries found that replace {name}"
            )));
        }
        Ok(out)
    }

    fn providers_of(&self, g: &str, v: &str, k: &str, latest: bool) -> Vec<api::ChannelEntry> {
        let key = GvkPb {
            group: g.to_string(),
            version: v.to_string(),
            kind: k.to_string(),
        };
        let Some(ids) = self.providers.get(&key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (p, c, e) in self.all_entries() {
            if ids.binary_search(&e.bundle).is_err() {
                continue;
            }
            if latest && self.bundle_pb(e).name != c.head {
                continue;
            }
            out.push(self.channel_entry(p, c, e, &e.replaces));
            for s in &e.skips {
                if *s == e.replaces {
                    continue;
                }
                if latest && self.entry(c, s).is_none() {
                    continue;
                }
                out.push(self.channel_entry(p, c, e, s));
            }
        }
        out
    }

    fn no_providers(g: &str, v: &str, k: &str) -> QueryError {
        QueryError::Unknown(format!(
            "no channel entries found that provide group:{} version:{} kind:{}",
            q(g),
            q(v),
            q(k)
        ))
    }

    pub fn channel_entries_that_provide(
        &self,
        g: &str,
        v: &str,
        k: &str,
    ) -> Result<Vec<api::ChannelEntry>> {
        let out = self.providers_of(g, v, k, false);
        if out.is_empty() {
            return Err(Self::no_providers(g, v, k));
        }
        Ok(out)
    }

    pub fn latest_channel_entries_that_provide(
        &self,
        g: &str,
        v: &str,
        k: &str,
    ) -> Result<Vec<api::ChannelEntry>> {
        let out = self.providers_of(g, v, k, true);
        if out.is_empty() {
            return Err(Self::no_providers(g, v, k));
        }
        Ok(out)
    }

    pub fn default_bundle_that_provides(&self, g: &str, v: &str, k: &str) -> Result<api::Bundle> {
        let latest = self.latest_channel_entries_that_provide(g, v, k)?;
        // Entries are already in package order.
        for e in &latest {
            let is_default = self
                .package(&e.package_name)
                .is_some_and(|p| p.default_channel == e.channel_name);
            if is_default {
                return self.get_bundle(&e.package_name, &e.channel_name, &e.bundle_name);
            }
        }
        Err(QueryError::Unknown(format!(
            "no entry found that provides group:{} version:{} kind:{}",
            q(g),
            q(v),
            q(k)
        )))
    }

    /// How many items ListBundles streams.
    pub fn list_len(&self) -> usize {
        self.list_order.len()
    }

    /// The `i`th ListBundles item.
    pub fn list_bundle(&self, i: usize) -> Result<api::Bundle> {
        let (pi, ci, ei) = self.list_order[i];
        let p = &self.cache.index.packages[pi as usize];
        let c = &p.channels[ci as usize];
        self.bundle(p, c, &c.entries[ei as usize], Trim::List)
    }

    /// Blobs of a custom schema for a package (`""`: blobs without one),
    /// in load order.
    pub fn custom_blobs(&self, schema: &str, package: &str) -> Vec<&BlobPb> {
        if matches!(
            schema,
            crate::catalog::SCHEMA_PACKAGE
                | crate::catalog::SCHEMA_CHANNEL
                | crate::catalog::SCHEMA_BUNDLE
                | crate::catalog::SCHEMA_DEPRECATIONS
        ) {
            return Vec::new();
        }
        self.cache
            .index
            .blobs
            .iter()
            .filter(|b| b.schema == schema && b.package == package)
            .collect()
    }

    /// Length of the catalogd `all` stream.
    pub fn all_len(&self) -> u64 {
        self.all_len
    }

    /// Read `buf.len()` bytes of the `all` stream at `offset`.
    pub fn read_all(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let seg = self.segment_starts.partition_point(|&s| s <= at) - 1;
            let span = self.cache.index.all_segments[seg];
            let within = at - self.segment_starts[seg];
            let n = ((span.len - within) as usize).min(buf.len() - done);
            self.cache
                .read_at(&mut buf[done..done + n], span.offset + within)?;
            done += n;
        }
        Ok(())
    }

    /// One blob's bytes (with its trailing newline).
    pub fn blob(&self, b: &BlobPb) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; b.len as usize];
        self.read_all(b.offset, &mut buf)?;
        Ok(buf)
    }
}

fn deprecation(d: &Option<String>) -> Option<api::Deprecation> {
    d.as_ref().map(|m| api::Deprecation { message: m.clone() })
}
