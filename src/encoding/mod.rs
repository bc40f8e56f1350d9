//! Go-compatible encoders and decoders: the only code that writes catalog bytes.
//!
//! Go opm writes JSON with `encoding/json` (4-space indent, no HTML escaping)
//! and YAML by round-tripping that JSON through go-yaml v2. Users diff these
//! outputs in git, so we reproduce them byte for byte; see
//! ../shared/spec/go-yaml-json-encoding.md and the recorded cases in
//! testdata/encoding/.

pub mod json;
pub mod json_syntax;
pub mod yaml;

/// Go's `strconv.Quote` (the `%q` verb), used in many of opm's messages:
/// printable Unicode stays raw, the rest is escaped as Go escapes it.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32))
                || c == '\u{feff}'
                || c == '\u{2028}'
                || c == '\u{2029}' =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        assert_eq!(
            super::go_quote("a \"b\"\n\u{7f}\u{2028}é"),
            "\"a \\\"b\\\"\\n\\x7f\\u2028é\""
        );
    }
}
