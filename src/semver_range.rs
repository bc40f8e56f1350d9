//! Versions and version ranges as Go opm reads them: blang/semver v4's strict
//! `Parse` and its `ParseRange` (validate spec §2.1–§2.2), over the `semver`
//! crate's types.
//!
//! The `semver` crate parses the same strict grammar, but opm users see
//! blang's error texts (`Invalid character(s) found in major number "v0"`) and
//! blang's range dialect is not Cargo's or npm's: comparators are joined by
//! spaces (AND) and `||` (OR), `!=` exists, only a trailing `.x` is a
//! wildcard, `~`/`^`/hyphen ranges do not exist. So the grammar here is
//! blang's, written out by hand, and the values are `semver::Version`.
//!
//! Several blang quirks are kept on purpose because they decide whether
//! `opm validate` accepts a catalog; each is marked `Go quirk`.

use std::cmp::Ordering;
use std::fmt;

use semver::{BuildMetadata, Prerelease, Version};

/// A version or range that did not parse: blang's message, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

fn err(msg: impl Into<String>) -> ParseError {
    ParseError(msg.into())
}

const NUMBERS: &str = "0123456789";
const ALPHANUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-0123456789";

fn contains_only(s: &str, set: &str) -> bool {
    s.chars().all(|c| set.contains(c))
}

fn has_leading_zeroes(s: &str) -> bool {
    s.len() > 1 && s.as_bytes()[0] == b'0'
}

/// Go's `strconv.ParseUint(s, 10, 64)` with its error text.
fn parse_u64(s: &str) -> Result<u64, ParseError> {
    let quoted = crate::catalog::load::go_quote(s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!(
            "strconv.ParseUint: parsing {quoted}: invalid syntax"
        )));
    }
    s.parse::<u64>().map_err(|_| {
        err(format!(
            "strconv.ParseUint: parsing {quoted}: value out of range"
        ))
    })
}

fn parse_number(s: &str, what: &str, capital: &str) -> Result<u64, ParseError> {
    if !contains_only(s, NUMBERS) {
        return Err(err(format!(
            "Invalid character(s) found in {what} number {}",
            crate::catalog::load::go_quote(s)
        )));
    }
    if has_leading_zeroes(s) {
        return Err(err(format!(
            "{capital} number must not contain leading zeroes {}",
            crate::catalog::load::go_quote(s)
        )));
    }
    parse_u64(s)
}

/// One prerelease identifier, checked as blang's `NewPRVersion` does. Also
/// the rule for each segment of an `olm.package` release (spec §1.4 B10).
pub fn check_prerelease_identifier(s: &str) -> Result<(), ParseError> {
    if s.is_empty() {
        return Err(err("Prerelease is empty"));
    }
    if contains_only(s, NUMBERS) {
        if has_leading_zeroes(s) {
            return Err(err(format!(
                "Numeric PreRelease version must not contain leading zeroes {}",
                crate::catalog::load::go_quote(s)
            )));
        }
        parse_u64(s)?;
    } else if !contains_only(s, ALPHANUM) {
        return Err(err(format!(
            "Invalid character(s) found in prerelease {}",
            crate::catalog::load::go_quote(s)
        )));
    }
    Ok(())
}

/// blang `semver.Parse`: strict `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, no `v`,
/// no short forms, blang's error texts.
pub fn parse_version(s: &str) -> Result<Version, ParseError> {
    if s.is_empty() {
        return Err(err("Version string empty"));
    }
    let mut parts = s.splitn(3, '.');
    let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err("No Major.Minor.Patch elements found"));
    };
    let major = parse_number(major, "major", "Major")?;
    let minor = parse_number(minor, "minor", "Minor")?;
    // The first `+` starts build metadata; then the first `-` of what is
    // left starts the prerelease (so `1.0.0+b-1` has build `b-1`).
    let (rest, build) = match rest.find('+') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (patch, pre) = match rest.find('-') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let patch = parse_number(patch, "patch", "Patch")?;
    if let Some(pre) = pre {
        for id in pre.split('.') {
            check_prerelease_identifier(id)?;
        }
    }
    if let Some(build) = build {
        for id in build.split('.') {
            if id.is_empty() {
                return Err(err("Build meta data is empty"));
            }
            if !contains_only(id, ALPHANUM) {
                return Err(err(format!(
                    "Invalid character(s) found in build meta data {}",
                    crate::catalog::load::go_quote(id)
                )));
            }
        }
    }
    // The identifiers were checked above with the same rules the semver
    // crate applies, so these constructors cannot fail.
    let pre = pre
        .map_or(Ok(Prerelease::EMPTY), Prerelease::new)
        .map_err(|e| err(e.to_string()))?;
    let build = build
        .map_or(Ok(BuildMetadata::EMPTY), BuildMetadata::new)
        .map_err(|e| err(e.to_string()))?;
    Ok(Version {
        major,
        minor,
        patch,
        pre,
        build,
    })
}

/// blang's comparison: semver precedence, build metadata ignored.
pub fn compare(a: &Version, b: &Version) -> Ordering {
    a.cmp_precedence(b)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "" | "=" | "==" => Op::Eq,
            "!" | "!=" => Op::Ne,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// One `<op><version>` test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparator {
    pub op: Op,
    pub version: Version,
}

impl Comparator {
    pub fn matches(&self, v: &Version) -> bool {
        let c = compare(v, &self.version);
        match self.op {
            Op::Eq => c == Ordering::Equal,
            Op::Ne => c != Ordering::Equal,
            Op::Gt => c == Ordering::Greater,
            Op::Ge => c != Ordering::Less,
            Op::Lt => c == Ordering::Less,
            Op::Le => c != Ordering::Greater,
        }
    }
}

/// A parsed range: OR of ANDs of comparators (after wildcard expansion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub any_of: Vec<Vec<Comparator>>,
}

impl Range {
    /// blang's `Range(v)`: build metadata ignored, and a prerelease version
    /// can satisfy a plain range (no npm-style exclusion).
    pub fn matches(&self, v: &Version) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.matches(v)))
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, all) in self.any_of.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            for (j, c) in all.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{}{}", c.op.as_str(), c.version)?;
            }
        }
        Ok(())
    }
}

/// blang `splitAndTrim`: split on spaces, except a space following `>`, `<`
/// or `=` (ignoring further spaces); then drop the spaces inside tokens.
fn split_and_trim(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut last: isize = 0;
    let mut last_char = 0u8;
    for (i, &c) in b.iter().enumerate() {
        let i = i as isize;
        if c == b' ' && !matches!(last_char, b'>' | b'<' | b'=') {
            // Go quirk (§2.2): `last < i-1` drops every token of length 1.
            if last < i - 1 {
                out.push(&s[last as usize..i as usize]);
            }
            last = i + 1;
        } else if c != b' ' {
            last_char = c;
        }
    }
    if last < b.len() as isize - 1 {
        out.push(&s[last as usize..]);
    }
    out.into_iter().map(|t| t.replace(' ', "")).collect()
}

fn split_or_parts(parts: Vec<String>) -> Result<Vec<Vec<String>>, ParseError> {
    let mut groups = Vec::new();
    let mut current = Vec::new();
    let n = parts.len();
    let mut last = 0;
    for (i, p) in parts.into_iter().enumerate() {
        if p == "||" {
            if i == 0 {
                return Err(err("First element in range is '||'"));
            }
            groups.push(std::mem::take(&mut current));
            last = i + 1;
        } else {
            current.push(p);
        }
    }
    // Also reached for an empty string: there are no parts at all.
    if last == n {
        return Err(err("Last element in range is '||'"));
    }
    groups.push(current);
    Ok(groups)
}

/// blang `splitComparatorVersion`: the operator is everything before the
/// first digit.
fn split_comparator_version(s: &str) -> Result<(&str, &str), ParseError> {
    // Go uses unicode.IsDigit (any Nd digit), not just ASCII.
    match s
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()))
    {
        Some((i, _)) => Ok((s[..i].trim(), &s[i..])),
        None => Err(err(format!(
            "Could not get version from string: {}",
            crate::catalog::load::go_quote(s)
        ))),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wildcard {
    None,
    Major,
    Minor,
    Patch,
}

fn wildcard_type(v: &str) -> Wildcard {
    let parts: Vec<&str> = v.split('.').collect();
    if parts.last() != Some(&"x") {
        return Wildcard::None;
    }
    match parts.len() {
        1 => Wildcard::Major,
        2 => Wildcard::Minor,
        3 => Wildcard::Patch,
        _ => Wildcard::None,
    }
}

/// blang `createVersionFromWildcard`. Go quirk (§2.2): `1.x.x` becomes
/// `1.0.0` but is still classified as a patch wildcard.
fn flat_version(v: &str) -> String {
    let v = v.replacen(".x.x", ".x", 1).replacen(".x", ".0", 1);
    if v.split('.').count() == 2 {
        format!("{v}.0")
    } else {
        v
    }
}

/// blang's `incrementMajorVersion`/`incrementMinorVersion`; Go ignores the
/// `Atoi` error and continues with an empty version.
fn increment(v: &str, index: usize) -> String {
    let mut parts: Vec<String> = v.split('.').map(str::to_string).collect();
    let Some(n) = parts.get(index).and_then(|p| go_atoi(p)) else {
        return String::new();
    };
    parts[index] = (n + 1).to_string();
    parts.join(".")
}

/// Go `strconv.Atoi`: optional sign, ASCII digits, fits in i64.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok().filter(|n| n.checked_add(1).is_some())
}

/// blang `expandWildcardVersion`: any token containing `x` is rewritten.
fn expand_wildcards(groups: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, ParseError> {
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let mut expanded = Vec::with_capacity(group.len());
        for token in group {
            if !token.contains('x') {
                expanded.push(token);
                continue;
            }
            let (op, v) = split_comparator_version(&token)?;
            let kind = wildcard_type(v);
            let flat = flat_version(v);
            let (result_op, increment_it) = match op {
                ">" => (">=", true),
                ">=" => (">=", false),
                "<" => ("<", false),
                "<=" => ("<", true),
                "" | "=" | "==" => {
                    expanded.push(format!(">={flat}"));
                    ("<", true)
                }
                // Go quirk (§2.2): the two halves of `!=1.2.x` are ANDed,
                // so it matches nothing.
                "!=" | "!" => {
                    expanded.push(format!("<{flat}"));
                    (">=", true)
                }
                // Go quirk: an unknown operator is dropped here.
                _ => ("", false),
            };
            let version = if increment_it {
                match kind {
                    Wildcard::Patch => increment(&flat, 1),
                    Wildcard::Minor => increment(&flat, 0),
                    Wildcard::Major | Wildcard::None => String::new(),
                }
            } else {
                flat
            };
            expanded.push(format!("{result_op}{version}"));
        }
        out.push(expanded);
    }
    Ok(out)
}

/// blang `semver.ParseRange`, with blang's error texts.
pub fn parse_range(s: &str) -> Result<Range, ParseError> {
    let groups = expand_wildcards(split_or_parts(split_and_trim(s))?)?;
    let mut any_of = Vec::with_capacity(groups.len());
    for group in groups {
        let mut all = Vec::with_capacity(group.len());
        for token in group {
            let (op_str, v_str) = split_comparator_version(&token)?;
            let whole = format!("{op_str}{v_str}");
            let q = crate::catalog::load::go_quote;
            let op = Op::parse(op_str).ok_or_else(|| {
                err(format!(
                    "Could not parse Range {}: Could not parse comparator {} in {}",
                    q(&token),
                    q(op_str),
                    q(&whole)
                ))
            })?;
            let version = parse_version(v_str).map_err(|e| {
                err(format!(
                    "Could not parse Range {}: Could not parse version {} in {}: {e}",
                    q(&token),
                    q(v_str),
                    q(&whole)
                ))
            })?;
            all.push(Comparator { op, version });
        }
        any_of.push(all);
    }
    Ok(Range { any_of })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_version(s).unwrap()
    }

    fn perr(s: &str) -> String {
        parse_version(s).unwrap_err().0
    }

    fn rerr(s: &str) -> String {
        parse_range(s).unwrap_err().0
    }

    fn check(range: &str, yes: &[&str], no: &[&str]) {
        let r = parse_range(range).unwrap_or_else(|e| panic!("{range}: {e}"));
        for s in yes {
            assert!(r.matches(&v(s)), "{range} should match {s}");
        }
        for s in no {
            assert!(!r.matches(&v(s)), "{range} should not match {s}");
        }
    }

    #[test]
    fn strict_versions_parse() {
        for s in [
            "0.0.0",
            "1.2.3",
            "1.2.3-alpha.1",
            "1.2.3-alpha-1",
            "1.2.3+build.001",
            "1.2.3-rc.1+b-1",
            "18446744073709551615.0.0",
        ] {
            assert_eq!(v(s).to_string(), s);
        }
        // The first '+' starts build metadata, even before a '-'.
        let x = v("1.0.0+b-1");
        assert!(x.pre.is_empty());
        assert_eq!(x.build.as_str(), "b-1");
    }

    #[test]
    fn version_errors_are_blangs() {
        assert_eq!(perr(""), "Version string empty");
        assert_eq!(perr("1.2"), "No Major.Minor.Patch elements found");
        assert_eq!(
            perr("v0.0.8"),
            "Invalid character(s) found in major number \"v0\""
        );
        assert_eq!(
            perr("1.a.0"),
            "Invalid character(s) found in minor number \"a\""
        );
        assert_eq!(
            perr("01.0.0"),
            "Major number must not contain leading zeroes \"01\""
        );
        assert_eq!(
            perr("1.00.1"),
            "Minor number must not contain leading zeroes \"00\""
        );
        assert_eq!(
            perr("1.0.01"),
            "Patch number must not contain leading zeroes \"01\""
        );
        assert_eq!(
            perr("0.1.0.1"),
            "Invalid character(s) found in patch number \"0.1\""
        );
        assert_eq!(
            perr(".1.0"),
            "strconv.ParseUint: parsing \"\": invalid syntax"
        );
        assert_eq!(
            perr("1.0."),
            "strconv.ParseUint: parsing \"\": invalid syntax"
        );
        assert_eq!(
            perr("18446744073709551616.0.0"),
            "strconv.ParseUint: parsing \"18446744073709551616\": value out of range"
        );
        assert_eq!(perr("1.0.0-"), "Prerelease is empty");
        assert_eq!(perr("1.0.0-a..b"), "Prerelease is empty");
        assert_eq!(
            perr("1.0.0-01"),
            "Numeric PreRelease version must not contain leading zeroes \"01\""
        );
        assert_eq!(
            perr("1.0.0-a_b"),
            "Invalid character(s) found in prerelease \"a_b\""
        );
        assert_eq!(perr("1.0.0+"), "Build meta data is empty");
        assert_eq!(
            perr("1.0.0+a_b"),
            "Invalid character(s) found in build meta data \"a_b\""
        );
        assert_eq!(
            perr(" 1.0.0"),
            "Invalid character(s) found in major number \" 1\""
        );
    }

    #[test]
    fn precedence_ignores_build() {
        assert_eq!(compare(&v("1.0.0+a"), &v("1.0.0+b")), Ordering::Equal);
        assert_eq!(compare(&v("1.0.0-rc.1"), &v("1.0.0")), Ordering::Less);
        assert_eq!(compare(&v("1.0.0-2"), &v("1.0.0-10")), Ordering::Less);
        assert_eq!(compare(&v("1.0.0-9"), &v("1.0.0-a")), Ordering::Less);
        assert_eq!(compare(&v("1.0.0-a"), &v("1.0.0-a.1")), Ordering::Less);
    }

    #[test]
    fn operators() {
        check(">1.0.0", &["1.0.1", "2.0.0"], &["1.0.0", "0.9.9"]);
        check(">=1.0.0", &["1.0.0", "1.0.1"], &["0.9.9"]);
        check("<1.0.0", &["0.9.9", "1.0.0-rc.1"], &["1.0.0"]);
        check("<=1.0.0", &["1.0.0", "0.1.0"], &["1.0.1"]);
        check("1.0.0", &["1.0.0", "1.0.0+build"], &["1.0.1"]);
        check("=1.0.0", &["1.0.0"], &["1.0.1"]);
        check("==1.0.0", &["1.0.0"], &["1.0.1"]);
        check("!=1.0.0", &["1.0.1"], &["1.0.0"]);
        check("!1.0.0", &["1.0.1"], &["1.0.0"]);
    }

    #[test]
    fn and_or_and_spaces() {
        check(">=1.0.0 <2.0.0", &["1.0.0", "1.9.9"], &["2.0.0", "0.9.0"]);
        check(">= 1.0.0 < 2.0.0", &["1.5.0"], &["2.0.0"]);
        check(">=  1.0.0", &["1.0.0"], &["0.1.0"]);
        check(
            "<2.0.0 || >=3.0.0 !=3.0.5",
            &["1.0.0", "3.0.0", "3.0.6"],
            &["2.0.0", "2.9.9", "3.0.5"],
        );
        check("  >1.0.0  ", &["1.0.1"], &["1.0.0"]);
        // Go quirk: one-character tokens vanish, even at the end.
        check(">=1.0.0 !", &["1.0.0"], &["0.1.0"]);
        check(">=1.0.0 x", &["1.0.0"], &["0.1.0"]);
    }

    #[test]
    fn wildcards() {
        check("1.2.x", &["1.2.0", "1.2.9"], &["1.3.0", "1.1.9"]);
        check("=1.2.x", &["1.2.0"], &["1.3.0"]);
        check(">=1.2.x", &["1.2.0", "5.0.0"], &["1.1.9"]);
        check(">1.2.x", &["1.3.0"], &["1.2.9"]);
        check("<1.2.x", &["1.1.9"], &["1.2.0"]);
        check("<=1.2.x", &["1.2.9"], &["1.3.0"]);
        check("1.x", &["1.0.0", "1.9.9"], &["2.0.0", "0.9.9"]);
        check(">1.x", &["2.0.0"], &["1.9.9"]);
        check("<=1.x", &["1.9.9"], &["2.0.0"]);
        // Go quirk: 1.x.x is a patch wildcard over 1.0.0.
        check("1.x.x", &["1.0.5"], &["1.1.0"]);
        // Go quirk: the two halves of != are ANDed, so nothing matches.
        check("!=1.2.x", &[], &["1.1.0", "1.2.0", "1.3.0"]);
        // An `x` inside a prerelease is not a wildcard.
        check(">=1.0.0-xyz", &["1.0.0-xyz", "1.0.0"], &["1.0.0-abc"]);
        assert_eq!(parse_range("1.2.x").unwrap().to_string(), ">=1.2.0 <1.3.0");
        assert_eq!(parse_range("!=1.x").unwrap().to_string(), "<1.0.0 >=2.0.0");
    }

    #[test]
    fn range_errors_are_blangs() {
        assert_eq!(
            rerr(">v0.1.0"),
            "Could not parse Range \">v0.1.0\": Could not parse comparator \">v\" in \">v0.1.0\""
        );
        assert_eq!(
            rerr(">1.00.1"),
            "Could not parse Range \">1.00.1\": Could not parse version \"1.00.1\" in \">1.00.1\": Minor number must not contain leading zeroes \"00\""
        );
        assert_eq!(
            rerr("<1.0"),
            "Could not parse Range \"<1.0\": Could not parse version \"1.0\" in \"<1.0\": No Major.Minor.Patch elements found"
        );
        assert_eq!(
            rerr(">=1.0.0 <<2.0.0"),
            "Could not parse Range \"<<2.0.0\": Could not parse comparator \"<<\" in \"<<2.0.0\""
        );
        assert_eq!(
            rerr("not a range"),
            "Could not get version from string: \"not\""
        );
        assert_eq!(
            rerr("~1.2.3"),
            "Could not parse Range \"~1.2.3\": Could not parse comparator \"~\" in \"~1.2.3\""
        );
        assert_eq!(
            rerr("^1.2.3"),
            "Could not parse Range \"^1.2.3\": Could not parse comparator \"^\" in \"^1.2.3\""
        );
        // Go quirk: the hyphen is a 1-char token and vanishes, leaving
        // `=1.0.0 =2.0.0`, which parses and matches nothing (the spec's
        // §2.2 claim of an error does not follow from blang's code).
        check("1.0.0 - 2.0.0", &[], &["1.0.0", "1.5.0", "2.0.0"]);
        assert_eq!(rerr("|| 1.0.0"), "First element in range is '||'");
        assert_eq!(rerr("1.0.0 ||"), "Last element in range is '||'");
        assert_eq!(rerr(""), "Last element in range is '||'");
        assert_eq!(rerr("*"), "Last element in range is '||'");
        assert_eq!(rerr("**"), "Could not get version from string: \"**\"");
        assert_eq!(rerr("xx"), "Could not get version from string: \"xx\"");
        // A space after `!` splits: `!` alone is dropped as a 1-char token.
        assert_eq!(parse_range("! 1.0.0").unwrap().to_string(), "=1.0.0");
        // `>1.2.3-x` is no wildcard, so `>` asks for an increment of nothing.
        assert_eq!(
            rerr(">1.0.0-x"),
            "Could not get version from string: \">=\""
        );
    }
}
