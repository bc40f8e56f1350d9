//! YAML 1.1 plain-scalar resolution as go-yaml v2 does it (`resolve.go`), plus
//! the pieces of Go's `strconv` and `time.Parse` that resolution depends on,
//! and Go's `strconv.FormatFloat(f, 'g', -1, 64|32)`.
//!
//! The same rules serve both directions: the emitter asks "would this string
//! read back as something other than a string?" (then it must be quoted), and
//! the reader turns plain scalars into bools, ints, floats and nulls.

use super::YamlError;

/// Long form of the core tags, as the parser reports them after expanding `!!`.
pub(super) const TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The tag a value resolved to (`rtag` in go-yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Timestamp,
    Merge,
    Binary,
    /// Any tag go-yaml does not resolve (`!foo`, `!!map` on a scalar, ...).
    Other,
}

/// A resolved scalar value (go-yaml's `interface{}` result of `resolve`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// The scalar text itself (strings, timestamps, merge keys, unknown tags).
    Str,
}

fn tag_from_str(tag: &str) -> Tag {
    match tag.strip_prefix(TAG_PREFIX) {
        Some("null") => Tag::Null,
        Some("bool") => Tag::Bool,
        Some("int") => Tag::Int,
        Some("float") => Tag::Float,
        Some("str") => Tag::Str,
        Some("timestamp") => Tag::Timestamp,
        Some("merge") => Tag::Merge,
        Some("binary") => Tag::Binary,
        _ => Tag::Other,
    }
}

fn tag_name(tag: Tag) -> &'static str {
    match tag {
        Tag::Null => "!!null",
        Tag::Bool => "!!bool",
        Tag::Int => "!!int",
        Tag::Float => "!!float",
        Tag::Str => "!!str",
        Tag::Timestamp => "!!timestamp",
        Tag::Merge => "!!merge",
        Tag::Binary => "!!binary",
        Tag::Other => "",
    }
}

/// Resolve an untagged plain scalar (go-yaml `resolve("", s)`).
pub(super) fn resolve_plain(s: &str) -> (Tag, Resolved) {
    resolve_untagged(s, true)
}

/// go-yaml `resolve(tag, s)` for an explicit tag (long form, or "" for none).
/// Errors with go-yaml's "cannot decode" message when the value does not fit
/// the tag.
pub(super) fn resolve_tagged(tag: &str, s: &str) -> Result<(Tag, Resolved), YamlError> {
    if tag.is_empty() {
        return Ok(resolve_plain(s));
    }
    let want = tag_from_str(tag);
    // resolvableTag: only these tags go through resolution at all.
    match want {
        Tag::Str | Tag::Bool | Tag::Int | Tag::Float | Tag::Null | Tag::Timestamp => {}
        Tag::Binary => return Ok((Tag::Binary, Resolved::Str)),
        _ => return Ok((Tag::Other, Resolved::Str)),
    }
    let (rtag, out) = if want == Tag::Str {
        (Tag::Str, Resolved::Str)
    } else {
        resolve_untagged(s, want == Tag::Timestamp)
    };
    if rtag == want {
        return Ok((rtag, out));
    }
    // A !!float tag accepts an int and converts it.
    if want == Tag::Float
        && rtag == Tag::Int
        && let Resolved::Int(i) = out
    {
        return Ok((Tag::Float, Resolved::Float(i as f64)));
    }
    Err(YamlError(format!(
        "yaml: cannot decode {} `{}` as a {}",
        tag_name(rtag),
        s,
        tag_name(want)
    )))
}

fn resolve_map(s: &str) -> Option<(Tag, Resolved)> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            (Tag::Bool, Resolved::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            (Tag::Bool, Resolved::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => (Tag::Null, Resolved::Null),
        ".nan" | ".NaN" | ".NAN" => (Tag::Float, Resolved::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            (Tag::Float, Resolved::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => (Tag::Float, Resolved::Float(f64::NEG_INFINITY)),
        "<<" => (Tag::Merge, Resolved::Str),
        _ => return None,
    })
}

/// The body of go-yaml `resolve` for the untagged / core-tag case.
/// `try_timestamp` mirrors "only try timestamps when untagged or !!timestamp".
fn resolve_untagged(s: &str, try_timestamp: bool) -> (Tag, Resolved) {
    let b = s.as_bytes();
    // resolveTable hint: 'N' for the empty string (found in the map as null).
    let hint = match b.first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if hint == 0 {
        return (Tag::Str, Resolved::Str);
    }
    if let Some(item) = resolve_map(s) {
        return item;
    }
    match hint {
        b'.' => {
            if let Some(f) = parse_float_go(s) {
                return (Tag::Float, Resolved::Float(f));
            }
        }
        b'D' | b'S' => {
            if try_timestamp && parse_timestamp(s) {
                return (Tag::Timestamp, Resolved::Str);
            }
            let plain: std::borrow::Cow<'_, str> = if s.contains('_') {
                s.replace('_', "").into()
            } else {
                s.into()
            };
            if let Some(i) = parse_int_base0(&plain) {
                return (Tag::Int, Resolved::Int(i));
            }
            if let Some(u) = parse_uint_base0(&plain) {
                return (Tag::Int, Resolved::Uint(u));
            }
            if is_yaml_style_float(&plain)
                && let Some(f) = parse_float_go(&plain)
            {
                return (Tag::Float, Resolved::Float(f));
            }
            // Quirk (go-yaml resolve.go; conformance README "Number-like
            // strings"): a "0b" prefix is retried with an explicit base 2,
            // where ParseInt still accepts a sign after it.
            if let Some(rest) = plain.strip_prefix("0b") {
                if let Some(i) = parse_int_radix(rest, 2) {
                    return (Tag::Int, Resolved::Int(i));
                }
                if let Some(u) = parse_uint_radix(rest, 2) {
                    return (Tag::Int, Resolved::Uint(u));
                }
            } else if let Some(rest) = plain.strip_prefix("-0b")
                && let Some(i) = parse_int_radix(&format!("-{rest}"), 2)
            {
                return (Tag::Int, Resolved::Int(i));
            }
        }
        _ => {}
    }
    (Tag::Str, Resolved::Str)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml `isBase60Float`:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
pub(super) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(b'+' | b'-' | b'0'..=b'9') => {}
        _ => return false,
    }
    if !b.contains(&b':') {
        return false;
    }
    let mut i = 0;
    if matches!(b[0], b'+' | b'-') {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    // One or more ":[0-5]?[0-9]" groups. Greedy matching is exact here: a
    // group is ':' then one or two digits, the first of a pair in 0-5.
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        let d1 = b.get(i + 1).copied();
        let d2 = b.get(i + 2).copied();
        match (d1, d2) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => {
                // Prefer the two-digit form; the one-digit form would leave a
                // digit that nothing after a group can consume.
                i += 3;
            }
            (Some(b'0'..=b'9'), _) => i += 2,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

// ---------------------------------------------------------------------------
// Go strconv ports.

/// Go `underscoreOK`: underscores only between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    let mut saw = b'^';
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go `strconv.ParseFloat(s, 64)` restricted to decimal syntax (the only
/// syntax that reaches it from `resolve`), returning None on a syntax error or
/// on overflow (ErrRange). Underflow to zero is not an error in Go.
pub(super) fn parse_float_go(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut underscores = false;
    let mut saw_digits = false;
    let mut saw_dot = false;
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            b'0'..=b'9' => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let mut exp_digits = false;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] == b'_' {
                underscores = true;
            } else {
                exp_digits = true;
            }
            i += 1;
        }
        if !exp_digits {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if underscores && !underscore_ok(s) {
        return None;
    }
    let f: f64 = if underscores {
        s.replace('_', "").parse().ok()?
    } else {
        s.parse().ok()?
    };
    if f.is_infinite() { None } else { Some(f) }
}

/// Go `strconv.ParseUint(s, base, 64)` digits loop for an explicit base.
fn parse_digits(s: &[u8], base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in s {
        let d = (c as char).to_digit(36)?;
        if d >= base {
            return None;
        }
        n = n.checked_mul(base as u64)?.checked_add(d as u64)?;
    }
    Some(n)
}

/// Go `strconv.ParseUint(s, 0, 64)` (no sign allowed; `0x`, `0o`, `0b`,
/// leading-zero octal). Callers have removed underscores already.
fn parse_uint_base0(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b[0] == b'0' {
        if b.len() >= 3 {
            match b[1] | 0x20 {
                b'b' => return parse_digits(&b[2..], 2),
                b'o' => return parse_digits(&b[2..], 8),
                b'x' => return parse_digits(&b[2..], 16),
                _ => {}
            }
        }
        if b.len() == 1 {
            return Some(0);
        }
        return parse_digits(&b[1..], 8);
    }
    parse_digits(b, 10)
}

fn apply_sign(neg: bool, u: u64) -> Option<i64> {
    if neg {
        if u > 1 << 63 {
            None
        } else {
            Some((u as i64).wrapping_neg())
        }
    } else if u >= 1 << 63 {
        None
    } else {
        Some(u as i64)
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(r) = s.strip_prefix('+') {
        (false, r)
    } else if let Some(r) = s.strip_prefix('-') {
        (true, r)
    } else {
        (false, s)
    }
}

/// Go `strconv.ParseInt(s, 0, 64)`.
fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, rest) = split_sign(s);
    apply_sign(neg, parse_uint_base0(rest)?)
}

/// Go `strconv.ParseInt(s, radix, 64)` (sign allowed, no prefix).
fn parse_int_radix(s: &str, radix: u32) -> Option<i64> {
    let (neg, rest) = split_sign(s);
    apply_sign(neg, parse_digits(rest.as_bytes(), radix)?)
}

/// Go `strconv.ParseUint(s, radix, 64)`.
fn parse_uint_radix(s: &str, radix: u32) -> Option<u64> {
    parse_digits(s.as_bytes(), radix)
}

// ---------------------------------------------------------------------------
// Go time.Parse for go-yaml's four timestamp layouts.

#[derive(Clone, Copy)]
enum Chunk {
    Lit(u8),
    /// A single space in the layout: matches one or more spaces (Go `skip`).
    Space,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Frac,
    Zone,
}

const LAYOUTS: [&[Chunk]; 4] = {
    use Chunk::*;
    [
        // "2006-1-2T15:4:5.999999999Z07:00"
        &[
            Year,
            Lit(b'-'),
            Month,
            Lit(b'-'),
            Day,
            Lit(b'T'),
            Hour,
            Lit(b':'),
            Minute,
            Lit(b':'),
            Second,
            Frac,
            Zone,
        ],
        // "2006-1-2t15:4:5.999999999Z07:00"
        &[
            Year,
            Lit(b'-'),
            Month,
            Lit(b'-'),
            Day,
            Lit(b't'),
            Hour,
            Lit(b':'),
            Minute,
            Lit(b':'),
            Second,
            Frac,
            Zone,
        ],
        // "2006-1-2 15:4:5.999999999"
        &[
            Year,
            Lit(b'-'),
            Month,
            Lit(b'-'),
            Day,
            Space,
            Hour,
            Lit(b':'),
            Minute,
            Lit(b':'),
            Second,
            Frac,
        ],
        // "2006-1-2"
        &[Year, Lit(b'-'), Month, Lit(b'-'), Day],
    ]
};

/// Go `getnum(s, false)`: one or two digits.
fn getnum(v: &[u8]) -> Option<(u32, &[u8])> {
    let d0 = *v.first()?;
    if !d0.is_ascii_digit() {
        return None;
    }
    match v.get(1) {
        Some(d1) if d1.is_ascii_digit() => {
            Some(((d0 - b'0') as u32 * 10 + (d1 - b'0') as u32, &v[2..]))
        }
        _ => Some(((d0 - b'0') as u32, &v[1..])),
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 => {
            if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) {
                29
            } else {
                28
            }
        }
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_layout(layout: &[Chunk], mut v: &[u8]) -> bool {
    let (mut year, mut month, mut day) = (0u32, 0u32, 0u32);
    for chunk in layout {
        match *chunk {
            Chunk::Lit(c) => {
                if v.first() != Some(&c) {
                    return false;
                }
                v = &v[1..];
            }
            Chunk::Space => {
                // Go's skip(): a layout space needs a space in the value
                // unless the value is exhausted, and eats all of them.
                if !v.is_empty() && v[0] != b' ' {
                    return false;
                }
                while v.first() == Some(&b' ') {
                    v = &v[1..];
                }
            }
            Chunk::Year => {
                if v.len() < 4 || !v[..4].iter().all(u8::is_ascii_digit) {
                    return false;
                }
                year = v[..4].iter().fold(0, |a, d| a * 10 + (d - b'0') as u32);
                v = &v[4..];
            }
            Chunk::Month => {
                let Some((m, rest)) = getnum(v) else {
                    return false;
                };
                if !(1..=12).contains(&m) {
                    return false;
                }
                month = m;
                v = rest;
            }
            Chunk::Day => {
                let Some((d, rest)) = getnum(v) else {
                    return false;
                };
                day = d;
                v = rest;
            }
            Chunk::Hour => {
                let Some((h, rest)) = getnum(v) else {
                    return false;
                };
                if h >= 24 {
                    return false;
                }
                v = rest;
            }
            Chunk::Minute | Chunk::Second => {
                let Some((m, rest)) = getnum(v) else {
                    return false;
                };
                if m >= 60 {
                    return false;
                }
                v = rest;
            }
            Chunk::Frac => {
                // ".999999999": optional; '.' or ',' then any number of digits.
                if v.len() >= 2 && matches!(v[0], b'.' | b',') && v[1].is_ascii_digit() {
                    let mut i = 1;
                    while i < v.len() && v[i].is_ascii_digit() {
                        i += 1;
                    }
                    v = &v[i..];
                }
            }
            Chunk::Zone => {
                if v.first() == Some(&b'Z') {
                    v = &v[1..];
                } else {
                    if v.len() < 6 || v[3] != b':' {
                        return false;
                    }
                    let two = |s: &[u8]| {
                        if s[0].is_ascii_digit() && s[1].is_ascii_digit() {
                            Some((s[0] - b'0') as u32 * 10 + (s[1] - b'0') as u32)
                        } else {
                            None
                        }
                    };
                    let (Some(hr), Some(mm)) = (two(&v[1..3]), two(&v[4..6])) else {
                        return false;
                    };
                    if hr > 24 || mm > 60 || !matches!(v[0], b'+' | b'-') {
                        return false;
                    }
                    v = &v[6..];
                }
            }
        }
    }
    v.is_empty() && day >= 1 && day <= days_in(month, year)
}

/// go-yaml `parseTimestamp` (true when `s` is a timestamp).
pub(super) fn parse_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if i != 4 || i == b.len() || b[i] != b'-' {
        return false;
    }
    LAYOUTS.iter().any(|l| parse_layout(l, b))
}

// ---------------------------------------------------------------------------
// Go strconv.FormatFloat(f, 'g', -1, 64 | 32).

/// Write Go's shortest `%g` form given the shortest decimal digits and the
/// decimal exponent from Rust's `{:e}` formatting.
fn format_g_from_exp(sci: &str, out: &mut String) {
    // sci looks like "-1.2345e-7", "1e20", "0e0".
    let (neg, body) = match sci.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, sci),
    };
    let (mant, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    // Go's shortest 'g' switches to %e when exp < -4 || exp >= 6 (eprec = 6).
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else {
        let dp = exp + 1; // digits before the decimal point
        if dp <= 0 {
            out.push_str("0.");
            for _ in 0..(-dp) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let dp = dp as usize;
            if digits.len() <= dp {
                out.push_str(&digits);
                for _ in digits.len()..dp {
                    out.push('0');
                }
            } else {
                out.push_str(&digits[..dp]);
                out.push('.');
                out.push_str(&digits[dp..]);
            }
        }
    }
}

/// Go `strconv.FormatFloat(f, 'g', -1, 64)`.
pub fn format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::with_capacity(24);
    format_g_from_exp(&format!("{f:e}"), &mut out);
    out
}

/// Go `strconv.FormatFloat(f, 'g', -1, 32)`: the value is first rounded to
/// float32 and printed with the shortest digits that round-trip as float32.
pub fn format_float_g32(f: f64) -> String {
    let g = f as f32;
    if g.is_nan() {
        return "NaN".into();
    }
    if g.is_infinite() {
        return if g > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::with_capacity(16);
    format_g_from_exp(&format!("{g:e}"), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        for (f, s) in [
            (1.0, "1"),
            (1e6, "1e+06"),
            (1e-5, "1e-05"),
            (1e20, "1e+20"),
            (-0.0, "-0"),
            (123456789.0, "1.23456789e+08"),
            (1234567.5, "1.2345675e+06"),
            (100000.0, "100000"),
            (0.0001, "0.0001"),
            (1.5, "1.5"),
            (1e21, "1e+21"),
            (18446744073709551616.0, "1.8446744073709552e+19"),
        ] {
            assert_eq!(format_float_g(f), s);
        }
        assert_eq!(format_float_g32(1.23456789012345), "1.2345679");
    }

    #[test]
    fn resolution() {
        assert_eq!(resolve_plain("08"), (Tag::Float, Resolved::Float(8.0)));
        assert_eq!(resolve_plain("1_000"), (Tag::Int, Resolved::Int(1000)));
        assert_eq!(resolve_plain("_1000").0, Tag::Str);
        assert_eq!(resolve_plain("0b101"), (Tag::Int, Resolved::Int(5)));
        assert_eq!(resolve_plain("0x1F"), (Tag::Int, Resolved::Int(31)));
        assert_eq!(resolve_plain("010"), (Tag::Int, Resolved::Int(8)));
        assert_eq!(resolve_plain("1e400").0, Tag::Str);
        assert_eq!(resolve_plain("2021-01-01").0, Tag::Timestamp);
        assert_eq!(resolve_plain("2019-11-06 00:00:00").0, Tag::Timestamp);
        assert_eq!(resolve_plain("2021-02-30").0, Tag::Str);
        assert_eq!(resolve_plain("<<").0, Tag::Str);
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("190:20:30.15"));
        assert!(!is_base60_float("1:2:"));
    }
}
