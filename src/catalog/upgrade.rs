//! Who can upgrade to what inside one channel, as OLM resolves it: bundle
//! `Y` upgrades an installed bundle `X` when `Y.replaces` names `X`, when
//! `Y.skips` names `X`, or when `X`'s version is in `Y.skipRange`.
//!
//! Go opm's `validate` only walks the `replaces` chain; these are the
//! questions a reviewer asks beyond it (lints, `validate --previous`,
//! `alpha diff`): from which entries is the channel head reachable, and can
//! a bundle that was published once (maybe no longer in the catalog)
//! still reach it.

use std::collections::{HashMap, HashSet, VecDeque};

use semver::Version;

use crate::catalog::{Bundle, ChannelEntry};
use crate::semver_range::{Range, parse_range};

/// One channel entry with what the edges need.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub name: String,
    /// The bundle's version, when the catalog has the bundle and it parses.
    pub version: Option<Version>,
    pub replaces: String,
    pub skips: Vec<String>,
    pub skip_range: String,
}

/// The upgrade edges of one channel.
#[derive(Debug)]
pub struct ChannelGraph {
    entries: Vec<Entry>,
    ranges: Vec<Option<Range>>,
    by_name: HashMap<String, usize>,
}

impl ChannelGraph {
    pub fn new(entries: Vec<Entry>) -> Self {
        let ranges = entries
            .iter()
            .map(|e| {
                (!e.skip_range.is_empty())
                    .then(|| parse_range(&e.skip_range).ok())
                    .flatten()
            })
            .collect();
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        ChannelGraph {
            entries,
            ranges,
            by_name,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// Whether `version` is in entry `to`'s skipRange.
    pub fn in_skip_range(&self, to: usize, version: Option<&Version>) -> bool {
        matches!((&self.ranges[to], version), (Some(r), Some(v)) if r.matches(v))
    }

    /// Whether entry `to` upgrades a bundle called `name` at `version`.
    pub fn upgrades(&self, to: usize, name: &str, version: Option<&Version>) -> bool {
        let e = &self.entries[to];
        if e.name == name {
            return false;
        }
        e.replaces == name || e.skips.iter().any(|s| s == name) || self.in_skip_range(to, version)
    }

    /// The names of the entries from which `head` can be reached by some
    /// sequence of upgrades (`head` included).
    pub fn reaching(&self, head: &str) -> HashSet<String> {
        let mut seen: HashSet<usize> = HashSet::new();
        let Some(&start) = self.by_name.get(head) else {
            return HashSet::new();
        };
        let mut queue = VecDeque::from([start]);
        seen.insert(start);
        while let Some(to) = queue.pop_front() {
            for (from, e) in self.entries.iter().enumerate() {
                if !seen.contains(&from) && self.upgrades(to, &e.name, e.version.as_ref()) {
                    seen.insert(from);
                    queue.push_back(from);
                }
            }
        }
        seen.into_iter()
            .map(|i| self.entries[i].name.clone())
            .collect()
    }

    /// Whether a bundle installed as `name` at `version` (an entry of this
    /// channel or not) can reach `head`, given `reaching(head)`.
    pub fn can_reach(
        &self,
        reaching: &HashSet<String>,
        head: &str,
        name: &str,
        version: Option<&Version>,
    ) -> bool {
        if name == head || reaching.contains(name) {
            return true;
        }
        self.entries
            .iter()
            .enumerate()
            .any(|(i, e)| reaching.contains(&e.name) && self.upgrades(i, name, version))
    }
}

/// Go's `Channel.Head`: the one entry nothing replaces or skips, or Go's
/// error text when there is none or more than one (names sorted).
pub fn channel_head(entries: &[ChannelEntry]) -> Result<&str, String> {
    head_of(
        entries
            .iter()
            .map(|e| (e.name.as_str(), e.replaces.as_str(), e.skips.as_slice())),
    )
}

/// [`channel_head`] over any view of a channel's entries: (name, replaces,
/// skips) each. The one head computation of validate, serve, list and diff.
pub fn head_of<'a, I>(entries: I) -> Result<&'a str, String>
where
    I: Iterator<Item = (&'a str, &'a str, &'a [String])> + Clone,
{
    let mut incoming: HashSet<&str> = HashSet::new();
    for (_, replaces, skips) in entries.clone() {
        if !replaces.is_empty() {
            incoming.insert(replaces);
        }
        incoming.extend(skips.iter().map(String::as_str));
    }
    let mut heads: Vec<&str> = entries
        .map(|(name, _, _)| name)
        .filter(|n| !incoming.contains(n))
        .collect();
    heads.sort_unstable();
    heads.dedup();
    match heads.len() {
        0 => Err("no channel head found in graph".into()),
        1 => Ok(heads[0]),
        _ => Err(format!(
            "multiple channel heads found in graph: {}",
            heads.join(", ")
        )),
    }
}

/// The `version` of a bundle's first `olm.package` property, as written
/// (decoded as validate decodes it).
pub fn bundle_version_text(b: &Bundle) -> Option<String> {
    crate::catalog::validate::props::package_properties(&b.properties)
        .into_iter()
        .next()
        .map(|p| p.version)
}

/// The channel's entries with their bundles' versions (`versions` maps a
/// bundle name of the package to its parsed version).
pub fn channel_graph(entries: &[ChannelEntry], versions: &HashMap<&str, Version>) -> ChannelGraph {
    ChannelGraph::new(
        entries
            .iter()
            .map(|e| Entry {
                name: e.name.clone(),
                version: versions.get(e.name.as_str()).cloned(),
                replaces: e.replaces.clone(),
                skips: e.skips.clone(),
                skip_range: e.skip_range.clone(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, v: &str, replaces: &str, skips: &[&str], range: &str) -> Entry {
        Entry {
            name: name.into(),
            version: Version::parse(v).ok(),
            replaces: replaces.into(),
            skips: skips.iter().map(|s| s.to_string()).collect(),
            skip_range: range.into(),
        }
    }

    #[test]
    fn replaces_skips_and_ranges_reach_the_head() {
        let g = ChannelGraph::new(vec![
            e("a.v1", "1.0.0", "", &[], ""),
            e("a.v2", "2.0.0", "a.v1", &[], ""),
            e("a.v3", "3.0.0", "", &["a.v2"], ""),
            e("a.v4", "4.0.0", "", &[], ">=3.0.0 <4.0.0"),
            e("a.v9", "9.0.0", "", &[], ""),
        ]);
        let r = g.reaching("a.v4");
        let mut names: Vec<&str> = r.iter().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["a.v1", "a.v2", "a.v3", "a.v4"]);
        // Not an entry any more, but covered by the skipRange.
        let v35 = Version::parse("3.5.0").unwrap();
        assert!(g.can_reach(&r, "a.v4", "a.v3.5", Some(&v35)));
        let v5 = Version::parse("5.0.0").unwrap();
        assert!(!g.can_reach(&r, "a.v4", "a.v5", Some(&v5)));
        assert!(!g.can_reach(&r, "a.v4", "a.v9", Some(&Version::new(9, 0, 0))));
        assert!(g.can_reach(&r, "a.v4", "a.v4", None));
    }

    #[test]
    fn a_self_range_is_no_edge() {
        let g = ChannelGraph::new(vec![e("a.v1", "1.0.0", "", &[], ">=0.0.0")]);
        assert_eq!(g.reaching("a.v1").len(), 1);
        assert!(g.reaching("nope").is_empty());
    }
}
