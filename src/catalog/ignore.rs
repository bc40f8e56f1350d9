//! `.indexignore` matching with go-git's gitignore semantics, as opm uses it
//! through joelanford/ignore (spec §2.1).
//!
//! This is not the `ignore` crate's gitignore: opm never prunes directories,
//! so a later `!pattern` can re-include a file below an ignored directory,
//! and paths are always matched as files.

/// One pattern line, scoped to the directory of its `.indexignore`.
#[derive(Debug, Clone)]
struct Pattern {
    domain: Vec<String>,
    parts: Vec<String>,
    inclusion: bool,
    dir_only: bool,
    is_glob: bool,
}

#[derive(Debug, Default, Clone)]
pub struct IgnoreMatcher {
    patterns: Vec<Pattern>,
}

impl IgnoreMatcher {
    /// Add the lines of one `.indexignore` whose directory, relative to the
    /// catalog root, is `domain` (empty for the root).
    pub fn add_file(&mut self, domain: &[String], text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.patterns.push(parse_pattern(line, domain));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether the file at `path` (components relative to the root) is ignored.
    /// The last pattern that matches decides.
    pub fn is_ignored(&self, path: &[&str]) -> bool {
        for p in self.patterns.iter().rev() {
            if p.matches(path) {
                return !p.inclusion;
            }
        }
        false
    }
}

fn parse_pattern(line: &str, domain: &[String]) -> Pattern {
    let mut p = line;
    let inclusion = p.starts_with('!');
    if inclusion {
        p = &p[1..];
    }
    let p = if p.ends_with("\\ ") {
        p
    } else {
        p.trim_end_matches(' ')
    };
    let dir_only = p.ends_with('/');
    let p = p.strip_suffix('/').unwrap_or(p);
    Pattern {
        domain: domain.to_vec(),
        parts: p.split('/').map(str::to_owned).collect(),
        inclusion,
        dir_only,
        is_glob: p.contains('/'),
    }
}

impl Pattern {
    fn matches(&self, path: &[&str]) -> bool {
        if path.len() <= self.domain.len() {
            return false;
        }
        if self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return false;
        }
        let rest = &path[self.domain.len()..];
        if self.is_glob {
            self.glob_match(rest)
        } else {
            self.simple_name_match(rest)
        }
    }

    /// A pattern without `/` matches any one component; a directory-only
    /// pattern does not match the final (file) component.
    fn simple_name_match(&self, path: &[&str]) -> bool {
        for (i, name) in path.iter().enumerate() {
            if !glob(&self.parts[0], name) {
                continue;
            }
            return !(self.dir_only && i == path.len() - 1);
        }
        false
    }

    fn glob_match(&self, mut path: &[&str]) -> bool {
        let mut matched = false;
        let mut can_traverse = false;
        for (i, pat) in self.parts.iter().enumerate() {
            if pat.is_empty() {
                can_traverse = false;
                continue;
            }
            if pat == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                can_traverse = true;
                continue;
            }
            if pat.contains("**") {
                return false;
            }
            if path.is_empty() {
                return false;
            }
            if can_traverse {
                can_traverse = false;
                while let Some((first, rest)) = path.split_first() {
                    path = rest;
                    if glob(pat, first) {
                        matched = true;
                        break;
                    } else if path.is_empty() {
                        matched = false;
                    }
                }
            } else {
                if !glob(pat, path[0]) {
                    return false;
                }
                matched = true;
                path = &path[1..];
            }
        }
        if matched && self.dir_only && path.is_empty() {
            matched = false;
        }
        matched
    }
}

/// Go `filepath.Match` on one path component: `*`, `?`, `[...]` classes with
/// `^` negation and ranges, `\` escapes. A malformed pattern never matches.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n).unwrap_or(false)
}

fn glob_at(p: &[char], n: &[char]) -> Option<bool> {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() => {
                    let (ok, next) = class(p, pi, n[ni])?;
                    if ok {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && ni < n.len() && p[pi + 1] == n[ni] => {
                    pi += 2;
                    ni += 1;
                    continue;
                }
                '\\' if pi + 1 >= p.len() => return None,
                c if c != '[' && c != '\\' && c != '?' && ni < n.len() && c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Some(true);
        }
        // Mismatch: let the last star eat one more character (never '/').
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return Some(false),
        }
    }
}

/// Match one `[...]` class at `p[start]`; returns (matched, index after `]`).
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = p.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            hi = if p[i] == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                p[i]
            };
            i += 1;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Some((matched != negate, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(lines: &[(&[&str], &str)]) -> IgnoreMatcher {
        let mut im = IgnoreMatcher::default();
        for (dom, text) in lines {
            let d: Vec<String> = dom.iter().map(|s| s.to_string()).collect();
            im.add_file(&d, text);
        }
        im
    }

    #[test]
    fn upstream_example_keeps_only_json_and_yaml() {
        let im = m(&[(&[], "*\n!*.json\n!*.yaml\n*.clusterserviceversion.yaml\n")]);
        assert!(im.is_ignored(&["README.md"]));
        assert!(!im.is_ignored(&["foo", "index.yaml"]));
        assert!(!im.is_ignored(&["a.json"]));
        assert!(im.is_ignored(&["x", "foo.clusterserviceversion.yaml"]));
    }

    #[test]
    fn name_pattern_matches_any_component_and_dir_only_skips_files() {
        let im = m(&[(&[], "foo\nbar/\n")]);
        assert!(im.is_ignored(&["a", "foo", "b.yaml"]));
        assert!(im.is_ignored(&["bar", "x.yaml"]));
        assert!(!im.is_ignored(&["a", "bar"]));
    }

    #[test]
    fn anchored_and_double_star_and_domain() {
        let im = m(&[(&["sub"], "/a/b\n**/x.json\n")]);
        assert!(im.is_ignored(&["sub", "a", "b", "c.yaml"]));
        assert!(!im.is_ignored(&["a", "b", "c.yaml"]));
        assert!(im.is_ignored(&["sub", "q", "r", "x.json"]));
        assert!(im.is_ignored(&["sub", "x.json"]));
    }

    #[test]
    fn negation_reincludes_inside_ignored_dir() {
        let im = m(&[(&[], "dir/\n!keep.yaml\n")]);
        assert!(im.is_ignored(&["dir", "a.yaml"]));
        assert!(!im.is_ignored(&["dir", "keep.yaml"]));
    }

    #[test]
    fn go_filepath_match() {
        assert!(glob("*.y?ml", "a.yaml"));
        assert!(glob("[a-c]x", "bx"));
        assert!(!glob("[^a-c]x", "bx"));
        assert!(glob("\\*", "*"));
        assert!(!glob("[", "["));
        assert!(glob("*", ""));
    }
}
