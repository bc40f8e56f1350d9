//! Go `encoding/json` byte compatibility: indentation, string escaping,
//! float formatting and the key-sorted normalisation opm applies on load.
//!
//! Go `opm` writes every catalog blob with `json.Encoder` (`SetIndent("", "    ")`,
//! `SetEscapeHTML(false)`), and users diff those bytes in git, so we reproduce
//! them exactly. The writers here cover the four shapes Go produces:
//!
//! * [`write_indented`] / [`try_write_indented`]: a `json.RawMessage` (property
//!   values, `declcfg.Meta.Blob`) or a whole compact document re-indented. Tokens
//!   are kept verbatim, only whitespace changes. This is the hot path (hundreds of
//!   MB of base64 `olm.bundle.object` data), so it is one pass over the bytes and
//!   skips string bodies 32 bytes at a time.
//! * [`write_string`] / [`write_string_html`]: a typed Go `string` field.
//! * [`write_float`]: a Go `float64`.
//! * [`write_normalized`] / [`write_marshal_html`]: a decoded
//!   `map[string]interface{}` (opm's normalising load) and a Kubernetes
//!   unstructured object (`olm.bundle.object` data).
//!
//! The reference opm is built with go1.27, whose `encoding/json` is backed by
//! `encoding/json/v2`. Where that differs from classic `encoding/json` we follow
//! go1.27 (see the `GO QUIRK` comments and `testdata/encoding/json-write.jsonl`).

use std::io::Write as _;

use serde_json::Value;

/// A Go-style JSON error; the text is what Go's `err.Error()` says.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

/// Go's prefix for an invalid `json.RawMessage` under go1.27 (json/v2 backed).
/// Classic encoding/json says `... for type json.RawMessage: ...` instead.
const RAW_ERR_PREFIX: &str = "json: error calling MarshalJSON for type *jsontext.Value: ";

/// Both Go scanners (classic and v2) refuse nesting deeper than this.
const MAX_DEPTH: usize = 10_000;

/// Width of the indentation unit opm passes to `SetIndent` (four spaces).
const INDENT_WIDTH: usize = 4;

/// Re-indent one JSON document the way Go's json.Encoder with SetIndent("", "    ")
/// writes a json.RawMessage, followed by "\n". Tokens kept verbatim (numbers like
/// 1.0, 1E+03, string escapes like \u00e9 and \/ kept as written); whitespace
/// normalised; empty {} and [] compact. Raw U+2028/U+2029 inside strings become
/// \u2028/\u2029 (go1.27 behaviour, per the records). Input is assumed valid JSON
/// (our code only feeds it valid JSON); must not panic on invalid input.
///
/// On invalid input (where Go's encoder would fail) nothing is re-indented: the
/// input is written unchanged followed by `"\n"`, so no data is silently lost.
/// Use [`try_write_indented`] where invalid input is possible.
pub fn write_indented(json: &[u8], out: &mut Vec<u8>) {
    if try_write_indented(json, out).is_err() {
        out.extend_from_slice(json);
        out.push(b'\n');
    }
}

/// Same but validating: returns Err with Go's message for invalid input (the
/// json-write records with `error`). On error `out` is left as it was.
///
/// Validation follows Go's grammar (RFC 8259; duplicate keys allowed, as in Go's
/// v1 mode). Bytes that are not valid UTF-8 are copied through unchanged, as
/// classic `encoding/json` does for a RawMessage (the records do not cover this
/// for go1.27; our callers only pass text that came from a `str`).
pub fn try_write_indented(json: &[u8], out: &mut Vec<u8>) -> Result<(), JsonError> {
    indent_with_limit(json, out, MAX_DEPTH)
}

/// [`try_write_indented`] of a value that sits `depth` containers deep in
/// the document being written (its lines indented accordingly), without
/// the trailing newline. On error `out` is left as it was.
pub fn try_write_indented_at(
    json: &[u8],
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    indent_at(json, out, depth, MAX_DEPTH.saturating_sub(depth))
}

/// [`try_write_indented`] with the nesting limit as a parameter, so tests can
/// probe the limit without writing hundreds of MB of indentation.
fn indent_with_limit(json: &[u8], out: &mut Vec<u8>, max_depth: usize) -> Result<(), JsonError> {
    indent_at(json, out, 0, max_depth)?;
    out.push(b'\n');
    Ok(())
}

fn indent_at(
    json: &[u8],
    out: &mut Vec<u8>,
    base: usize,
    max_depth: usize,
) -> Result<(), JsonError> {
    let start = out.len();
    // Indented output is the input plus indentation; base64-heavy blobs grow little.
    out.reserve(json.len() + json.len() / 8 + 16);
    let mut ind = Indenter {
        src: json,
        pos: 0,
        out,
        stack: Vec::new(),
        base,
        max_depth,
    };
    match ind.run() {
        Ok(()) => Ok(()),
        Err(msg) => {
            out.truncate(start);
            Err(JsonError(format!("{RAW_ERR_PREFIX}{msg}")))
        }
    }
}

/// True for bytes that end a plain run inside a RawMessage string: the closing
/// quote, an escape, a control character (invalid raw) and 0xE2, the lead byte of
/// U+2028/U+2029.
#[inline(always)]
pub(crate) fn raw_string_special(b: u8) -> bool {
    // Non-short-circuit `|` keeps this branch-free so block scans vectorise.
    (b == b'"') | (b == b'\\') | (b < 0x20) | (b == 0xE2)
}

/// Index of the first byte at or after `i` for which `special` holds, or
/// `s.len()`. Checks 32-byte blocks with a branch-free OR so the compiler
/// vectorises it; long base64 strings are skipped at memchr-like speed.
#[inline(always)]
pub(crate) fn skip_plain(s: &[u8], mut i: usize, special: impl Fn(u8) -> bool) -> usize {
    const BLOCK: usize = 32;
    while let Some(block) = s.get(i..i + BLOCK) {
        let mut hit = false;
        for &b in block {
            hit |= special(b);
        }
        if hit {
            // Where in the block: one flag byte per input byte (also
            // vectorised), then the first set byte of each 8 by its bits,
            // rather than a byte loop that mispredicts where it stops.
            let mut flags = [0u8; BLOCK];
            for (f, &b) in flags.iter_mut().zip(block) {
                *f = u8::from(special(b));
            }
            for (k, word) in flags.chunks_exact(8).enumerate() {
                let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
                if word != 0 {
                    return i + 8 * k + (word.trailing_zeros() / 8) as usize;
                }
            }
            break;
        }
        i += BLOCK;
    }
    while let Some(&b) = s.get(i) {
        if special(b) {
            break;
        }
        i += 1;
    }
    i
}

/// Go's `%q`-like rendering of the offending character in a syntax error.
fn quote_char(src: &[u8], pos: usize) -> String {
    let tail = &src[pos.min(src.len())..];
    let c = match std::str::from_utf8(&tail[..tail.len().min(4)]) {
        Ok(s) => s.chars().next(),
        Err(e) => std::str::from_utf8(&tail[..e.valid_up_to()])
            .ok()
            .and_then(|s| s.chars().next()),
    };
    match c {
        Some('\'') => "'\\''".to_string(),
        Some('"') => "'\"'".to_string(),
        Some(c) if !c.is_control() => format!("'{c}'"),
        Some('\t') => "'\\t'".to_string(),
        Some('\n') => "'\\n'".to_string(),
        Some('\r') => "'\\r'".to_string(),
        Some(c) if (c as u32) < 0x80 => format!("'\\x{:02x}'", c as u32),
        Some(c) => format!("'\\u{:04x}'", c as u32),
        None => match tail.first() {
            Some(b) => format!("'\\x{b:02x}'"),
            None => "EOF".to_string(),
        },
    }
}

const UNEXPECTED_EOF: &str = "unexpected end of JSON input";

/// The single-pass validating re-indenter behind [`try_write_indented`].
struct Indenter<'a> {
    src: &'a [u8],
    pos: usize,
    out: &'a mut Vec<u8>,
    /// Open containers, innermost last: `b'{'` or `b'['`.
    stack: Vec<u8>,
    /// Containers around the value, outside `src`.
    base: usize,
    max_depth: usize,
}

impl Indenter<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn invalid(&self, context: &str) -> String {
        if self.pos >= self.src.len() {
            UNEXPECTED_EOF.to_string()
        } else {
            format!(
                "invalid character {} {context}",
                quote_char(self.src, self.pos)
            )
        }
    }

    /// Newline plus one indent per open container, like Go's `json.Indent`.
    fn newline(&mut self) {
        self.out.push(b'\n');
        let len = self.out.len() + INDENT_WIDTH * (self.base + self.stack.len());
        self.out.resize(len, b' ');
    }

    fn run(&mut self) -> Result<(), String> {
        'value: loop {
            // Expecting a value.
            self.skip_ws();
            match self.peek() {
                None => return Err(UNEXPECTED_EOF.to_string()),
                Some(open @ (b'{' | b'[')) => {
                    // Go counts every opener, empty or not, against its limit.
                    if self.stack.len() >= self.max_depth {
                        return Err("exceeded max depth".to_string());
                    }
                    let close = if open == b'{' { b'}' } else { b']' };
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(close) {
                        // Go's Indent keeps empty containers compact: `{}` / `[]`.
                        self.pos += 1;
                        self.out.push(open);
                        self.out.push(close);
                    } else {
                        self.out.push(open);
                        self.stack.push(open);
                        self.newline();
                        if open == b'{' {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                Some(b'"') => self.string()?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(_) => return Err(self.invalid("looking for beginning of value")),
            }
            // After a complete value: close containers until one wants more.
            loop {
                self.skip_ws();
                let Some(&top) = self.stack.last() else {
                    if self.pos < self.src.len() {
                        return Err(self.invalid("after top-level value"));
                    }
                    return Ok(());
                };
                let close = if top == b'{' { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.out.push(b',');
                        self.newline();
                        if top == b'{' {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        self.stack.pop();
                        self.newline();
                        self.out.push(close);
                    }
                    _ if top == b'{' => return Err(self.invalid("after object value")),
                    _ => return Err(self.invalid("after array value")),
                }
            }
        }
    }

    /// An object key and its colon, written as `"key": `.
    fn key(&mut self) -> Result<(), String> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.invalid("looking for beginning of object key string"));
        }
        self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.invalid("after object key"));
        }
        self.pos += 1;
        self.out.extend_from_slice(b": ");
        Ok(())
    }

    /// A string token copied verbatim (escapes as written), except raw
    /// U+2028/U+2029.
    fn string(&mut self) -> Result<(), String> {
        let src = self.src;
        let mut run = self.pos; // start of the not-yet-copied run, incl. the quote
        let mut i = self.pos + 1;
        loop {
            i = skip_plain(src, i, raw_string_special);
            let Some(&b) = src.get(i) else {
                return Err(UNEXPECTED_EOF.to_string());
            };
            match b {
                b'"' => {
                    self.out.extend_from_slice(&src[run..=i]);
                    self.pos = i + 1;
                    return Ok(());
                }
                b'\\' => {
                    i = self.escape(i)?;
                }
                0xE2 => {
                    // GO QUIRK (go1.27): json/v2 escapes raw U+2028/U+2029 even inside
                    // a RawMessage (EscapeForJS stays on with SetEscapeHTML(false));
                    // classic encoding/json (Go <= 1.24, GOEXPERIMENT=nojsonv2)
                    // copied them raw.
                    match src.get(i + 1..i + 3) {
                        Some([0x80, last @ (0xA8 | 0xA9)]) => {
                            self.out.extend_from_slice(&src[run..i]);
                            self.out.extend_from_slice(if *last == 0xA8 {
                                b"\\u2028"
                            } else {
                                b"\\u2029"
                            });
                            i += 3;
                            run = i;
                        }
                        _ => i += 1,
                    }
                }
                _ => {
                    // A raw control character: not allowed in a JSON string.
                    self.pos = i;
                    return Err(self.invalid("in string"));
                }
            }
        }
    }

    /// Validate the escape at `src[i] == b'\\'`; returns the index after it.
    fn escape(&mut self, i: usize) -> Result<usize, String> {
        let src = self.src;
        match src.get(i + 1) {
            None => Err(UNEXPECTED_EOF.to_string()),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
            Some(b'u') => {
                for k in 0..4 {
                    match src.get(i + 2 + k) {
                        None => return Err(UNEXPECTED_EOF.to_string()),
                        Some(h) if h.is_ascii_hexdigit() => {}
                        Some(_) => {
                            let seq = String::from_utf8_lossy(&src[i..i + 3 + k]);
                            return Err(format!("invalid escape sequence `{seq}` in string"));
                        }
                    }
                }
                Ok(i + 6)
            }
            Some(_) => {
                let end = (i + 2).min(src.len());
                let mut seq = String::from_utf8_lossy(&src[i..end]).into_owned();
                if seq.contains('\u{FFFD}') {
                    seq = format!("\\x{:02x}", src[i + 1]);
                }
                Err(format!("invalid escape sequence `{seq}` in string"))
            }
        }
    }

    /// A number token, checked against JSON's grammar and copied verbatim.
    fn number(&mut self) -> Result<(), String> {
        let src = self.src;
        let start = self.pos;
        let digits = |mut p: usize| {
            while src.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
            p
        };
        let mut p = start;
        if src[p] == b'-' {
            p += 1;
        }
        match src.get(p) {
            Some(b'0') => p += 1,
            Some(b'1'..=b'9') => p = digits(p + 1),
            _ => {
                self.pos = p;
                return Err(self.invalid("in numeric literal"));
            }
        }
        if src.get(p) == Some(&b'.') {
            p += 1;
            if !src.get(p).is_some_and(u8::is_ascii_digit) {
                self.pos = p;
                return Err(self.invalid("after decimal point in numeric literal"));
            }
            p = digits(p);
        }
        if let Some(b'e' | b'E') = src.get(p) {
            p += 1;
            if let Some(b'+' | b'-') = src.get(p) {
                p += 1;
            }
            if !src.get(p).is_some_and(u8::is_ascii_digit) {
                self.pos = p;
                return Err(self.invalid("in exponent of numeric literal"));
            }
            p = digits(p);
        }
        self.out.extend_from_slice(&src[start..p]);
        self.pos = p;
        Ok(())
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), String> {
        for (k, &want) in word.iter().enumerate() {
            match self.src.get(self.pos + k) {
                Some(&b) if b == want => {}
                _ => {
                    self.pos += k;
                    let name = std::str::from_utf8(word).unwrap_or_default();
                    let ctx = format!("in literal {name} (expecting '{}')", want as char);
                    return Err(self.invalid(&ctx));
                }
            }
        }
        self.out.extend_from_slice(word);
        self.pos += word.len();
        Ok(())
    }
}

/// Write s as a Go JSON string literal as encoding/json does for a typed string
/// with SetEscapeHTML(false): \" \\ \n \r \t, \b and \f (Go ≥1.22 style, per
/// records), other C0 controls as \u00xx lowercase hex, U+2028/U+2029 escaped,
/// DEL/U+0085/U+FEFF raw, everything else raw.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    write_go_string::<false>(s, out);
}

/// Same with HTML escaping on (<, >, & as \u003c \u003e \u0026) — Go json.Marshal
/// default.
pub fn write_string_html(s: &str, out: &mut Vec<u8>) {
    write_go_string::<true>(s, out);
}

#[inline(always)]
fn typed_string_special<const HTML: bool>(b: u8) -> bool {
    (b == b'"')
        | (b == b'\\')
        | (b < 0x20)
        | (b == 0xE2)
        | (HTML & ((b == b'<') | (b == b'>') | (b == b'&')))
}

fn write_go_string<const HTML: bool>(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let src = s.as_bytes();
    out.reserve(src.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    loop {
        i = skip_plain(src, i, typed_string_special::<HTML>);
        let Some(&b) = src.get(i) else { break };
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            // Go >= 1.22 writes \b and \f; older Go wrote \u0008 and \u000c.
            0x08 => b"\\b",
            0x0C => b"\\f",
            0xE2 => match src.get(i + 1..i + 3) {
                // Go always escapes U+2028/U+2029 in strings (JSONP safety).
                Some([0x80, 0xA8]) => b"\\u2028",
                Some([0x80, 0xA9]) => b"\\u2029",
                _ => {
                    i += 1;
                    continue;
                }
            },
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            b'&' => b"\\u0026",
            _ => {
                // Remaining C0 controls: \u00xx, lower-case hex as Go writes it.
                out.extend_from_slice(&src[run..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xF)]);
                i += 1;
                run = i;
                continue;
            }
        };
        out.extend_from_slice(&src[run..i]);
        out.extend_from_slice(esc);
        i += if b == 0xE2 { 3 } else { 1 };
        run = i;
    }
    out.extend_from_slice(&src[run..]);
    out.push(b'"');
}

/// Go's float64 formatting in encoding/json (shortest round-trip; plain decimal
/// when 1e-6 <= |x| < 1e21, else exponent form like 1e+21, 1e-7, 1.5e-7; -0 → "-0").
///
/// NaN and infinities cannot occur in a `serde_json::Value`; Go's encoder would
/// fail with `unsupported value`. We write `null` (as serde_json does) rather than
/// panic.
pub fn write_float(f: f64, out: &mut Vec<u8>) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let abs = f.abs();
    // `write!` into a Vec cannot fail, so its io::Result is ignored below.
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` is the same shortest round-trip digits as Go's
        // FormatFloat(f, 'e', -1, 64), but writes `1e21` / `1e-7`. Go writes
        // `1e+21` and `1e-07`, and encoding/json then trims `e-07` to `e-7`
        // (never `e+0x`, which cannot occur in this range).
        let start = out.len();
        let _ = write!(out, "{f:e}");
        if let Some(e) = out[start..].iter().position(|&b| b == b'e') {
            let at = start + e + 1;
            if out.get(at) != Some(&b'-') {
                out.insert(at, b'+');
            }
        }
    } else {
        // Rust's Display is shortest round-trip and never uses an exponent,
        // matching Go's FormatFloat(f, 'f', -1, 64); -0.0 prints as "-0".
        let _ = write!(out, "{f}");
    }
}

/// Write v compactly as Go writes a decoded `map[string]interface{}` (json.Unmarshal
/// into interface{}, then Encoder with SetEscapeHTML(false)): object keys
/// byte-sorted (serde_json::Map is a BTreeMap already), EVERY number goes through
/// float64 (so 12345678901234567890 → 12345678901234567000, 1.0 → 1, 1e3 → 1000),
/// strings via write_string. No trailing newline.
pub fn write_normalized(v: &Value, out: &mut Vec<u8>) {
    write_value(
        v,
        out,
        &|n, out| match n.as_f64() {
            Some(f) => write_float(f, out),
            // Unreachable without arbitrary_precision; keep the token if it happens.
            None => out.extend_from_slice(n.to_string().as_bytes()),
        },
        write_string,
    );
}

/// Write v compactly as Go json.Marshal writes a Kubernetes unstructured object:
/// keys sorted, integers (i64/u64 in serde_json) written as integers, floats via
/// write_float, strings via write_string_html (HTML escaping ON). An integral
/// float (`2.0`) is a float64 in Go too and is written `2`.
///
/// GO QUIRK: Kubernetes decodes numbers as int64 when they fit, else float64
/// (`apimachinery/pkg/util/json` `convertNumber`), so a u64 above `i64::MAX`
/// becomes a float64 there: 12345678901234567890 is written as
/// 12345678901234567000, as Go does.
pub fn write_marshal_html(v: &Value, out: &mut Vec<u8>) {
    write_value(
        v,
        out,
        &|n, out| {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(f) = n.as_f64() {
                write_float(f, out);
            } else {
                out.extend_from_slice(n.to_string().as_bytes());
            }
        },
        write_string_html,
    );
}

fn write_value(
    v: &Value,
    out: &mut Vec<u8>,
    num: &dyn Fn(&serde_json::Number, &mut Vec<u8>),
    string: fn(&str, &mut Vec<u8>),
) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => num(n, out),
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write_value(item, out, num, string);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json::Map is a BTreeMap<String, _> (no preserve_order), so
            // iteration is byte order, which is how Go sorts map keys.
            out.push(b'{');
            for (k, (key, item)) in map.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                string(key, out);
                out.push(b':');
                write_value(item, out, num, string);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indented(s: &str) -> String {
        let mut out = Vec::new();
        write_indented(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn float(f: f64) -> String {
        let mut out = Vec::new();
        write_float(f, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn string(s: &str) -> String {
        let mut out = Vec::new();
        write_string(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn string_html(s: &str) -> String {
        let mut out = Vec::new();
        write_string_html(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn normalized(s: &str) -> String {
        let v: Value = serde_json::from_str(s).unwrap();
        let mut out = Vec::new();
        write_normalized(&v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn marshal_html(s: &str) -> String {
        let v: Value = serde_json::from_str(s).unwrap();
        let mut out = Vec::new();
        write_marshal_html(&v, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Decode one JSON string token the way Go's `json.Unmarshal` into a
    /// `string` does: a `\u` surrogate that does not pair up becomes U+FFFD.
    fn go_unquote(token: &str) -> String {
        fn hex4(b: &[u8]) -> Option<u32> {
            let s = std::str::from_utf8(b.get(..4)?).ok()?;
            u32::from_str_radix(s, 16).ok()
        }
        let b = token.trim().as_bytes();
        assert!(b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"');
        let b = &b[1..b.len() - 1];
        let mut s = String::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'\\' {
                let ch = std::str::from_utf8(&b[i..])
                    .unwrap()
                    .chars()
                    .next()
                    .unwrap();
                s.push(ch);
                i += ch.len_utf8();
                continue;
            }
            let e = b[i + 1];
            i += 2;
            match e {
                b'"' => s.push('"'),
                b'\\' => s.push('\\'),
                b'/' => s.push('/'),
                b'b' => s.push('\u{8}'),
                b'f' => s.push('\u{c}'),
                b'n' => s.push('\n'),
                b'r' => s.push('\r'),
                b't' => s.push('\t'),
                b'u' => {
                    let r = hex4(&b[i..]).unwrap();
                    i += 4;
                    if (0xD800..0xE000).contains(&r) {
                        let lo = if b.get(i..i + 2) == Some(b"\\u") {
                            hex4(&b[i + 2..])
                        } else {
                            None
                        };
                        match lo {
                            Some(lo)
                                if (0xD800..0xDC00).contains(&r)
                                    && (0xDC00..0xE000).contains(&lo) =>
                            {
                                let c = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
                                s.push(char::from_u32(c).unwrap());
                                i += 6;
                            }
                            _ => s.push('\u{FFFD}'),
                        }
                    } else {
                        s.push(char::from_u32(r).unwrap());
                    }
                }
                _ => panic!("bad escape in test input"),
            }
        }
        s
    }

    #[test]
    fn conformance_json_write() {
        let data = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/encoding/json-write.jsonl"
        ))
        .unwrap();
        let mut failures = Vec::new();
        let mut checked = 0;
        for line in data.split('\n').filter(|l| !l.is_empty()) {
            let rec: Value = serde_json::from_str(line).unwrap();
            let id = rec["id"].as_str().unwrap();
            let holder = rec["holder"].as_str().unwrap();
            let input = rec["in"].as_str().unwrap();
            // Production builds the holder compactly and indents the whole
            // document, so test exactly that for raw_message.
            let doc = match holder {
                "raw_message" => format!("{{\"value\":{input}}}"),
                "raw_top" => input.to_string(),
                "string" => {
                    let mut d = b"{\"value\":".to_vec();
                    write_string(&go_unquote(input), &mut d);
                    d.push(b'}');
                    String::from_utf8(d).unwrap()
                }
                other => panic!("{id}: unknown holder {other}"),
            };
            let mut out = Vec::new();
            let got = try_write_indented(doc.as_bytes(), &mut out);
            checked += 1;
            match (&rec["out"], &rec["error"], got) {
                (Value::String(want), _, Ok(())) => {
                    if out != want.as_bytes() {
                        failures.push(format!(
                            "{id}: got {:?} want {want:?}",
                            String::from_utf8_lossy(&out)
                        ));
                    }
                }
                (Value::String(_), _, Err(e)) => failures.push(format!("{id}: error {e}")),
                (_, Value::String(want), Err(e)) => {
                    if !out.is_empty() {
                        failures.push(format!("{id}: output left behind on error"));
                    }
                    // raw_message inputs were wrapped, which changes Go's message
                    // (`{"value":}` vs ``); raw_top ones must match go1.27 exactly.
                    if holder == "raw_top" && e.0 != *want {
                        failures.push(format!("{id}: error {:?} want {want:?}", e.0));
                    }
                }
                (_, Value::String(want), Ok(())) => {
                    failures.push(format!("{id}: accepted, Go says {want}"));
                }
                _ => failures.push(format!("{id}: record has neither out nor error")),
            }
        }
        assert_eq!(checked, 222);
        assert!(failures.is_empty(), "failing ids:\n{}", failures.join("\n"));
    }

    /// Error wording for cases the records do not cover (the recorded ones
    /// are checked in `conformance_json_write`).
    #[test]
    fn error_messages() {
        let cases = [
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\":1 \"b\"}",
                "invalid character '\"' after object value",
            ),
            ("[1,2", "unexpected end of JSON input"),
            ("-a", "invalid character 'a' in numeric literal"),
            (
                "1.e5",
                "invalid character 'e' after decimal point in numeric literal",
            ),
            ("1e+", "unexpected end of JSON input"),
            (
                "1ex",
                "invalid character 'x' in exponent of numeric literal",
            ),
            (
                "nul!",
                "invalid character '!' in literal null (expecting 'l')",
            ),
            ("\"\\u12G4\"", "invalid escape sequence `\\u12G` in string"),
            ("\"abc", "unexpected end of JSON input"),
            ("é", "invalid character 'é' looking for beginning of value"),
            (
                "[\u{1}]",
                "invalid character '\\x01' looking for beginning of value",
            ),
        ];
        for (input, want) in cases {
            let mut out = Vec::new();
            let err = try_write_indented(input.as_bytes(), &mut out).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{RAW_ERR_PREFIX}{want}"),
                "{input:?}"
            );
            assert!(out.is_empty());
        }
    }

    #[test]
    fn indent_shapes() {
        assert_eq!(indented("{}"), "{}\n");
        assert_eq!(indented(" [ ] "), "[]\n");
        assert_eq!(
            indented(r#"{"a":[1,{"b":null}],"c":{},"d":[[]]}"#),
            "{\n    \"a\": [\n        1,\n        {\n            \"b\": null\n        }\n    ],\n    \"c\": {},\n    \"d\": [\n        []\n    ]\n}\n"
        );
        // Escapes and number tokens verbatim; raw U+2028 escaped (go1.27).
        assert_eq!(
            indented("[\"\\/\\u00e9\u{2028}x\u{2029}\", 1E+03, -0.0]"),
            "[\n    \"\\/\\u00e9\\u2028x\\u2029\",\n    1E+03,\n    -0.0\n]\n"
        );
        // Other E2-led characters are copied raw.
        assert_eq!(
            indented("\"\u{2027}\u{20AC}\u{2030}\""),
            "\"\u{2027}\u{20AC}\u{2030}\"\n"
        );
        // Appends: existing output is kept.
        let mut out = b"x".to_vec();
        write_indented(b"1", &mut out);
        assert_eq!(out, b"x1\n");
    }

    #[test]
    fn invalid_input_falls_back_verbatim() {
        let mut out = b">".to_vec();
        write_indented(b"{\"a\":", &mut out);
        assert_eq!(out, b">{\"a\":\n");
    }

    #[test]
    fn invalid_utf8_passes_through() {
        let mut out = Vec::new();
        try_write_indented(b"[\"\xff\xe2\x80\"]", &mut out).unwrap();
        assert_eq!(out, b"[\n    \"\xff\xe2\x80\"\n]\n");
    }

    #[test]
    fn max_depth() {
        // Go's limit (10000): that many nested containers are fine, one more is
        // an error; the innermost empty one counts too. Probed with a small limit.
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let mut out = Vec::new();
        indent_with_limit(nest(64).as_bytes(), &mut out, 64).unwrap();
        let err = indent_with_limit(nest(65).as_bytes(), &mut out, 64).unwrap_err();
        assert!(err.0.ends_with("exceeded max depth"), "{err}");
    }

    #[test]
    fn float_formatting_matches_go() {
        let cases: &[(f64, &str)] = &[
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (123456789.5, "123456789.5"),
            (0.1, "0.1"),
            (-0.0, "-0"),
            (0.0, "0"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (12345678901234567890.0, "12345678901234567000"),
            (1.0, "1"),
            (1000.0, "1000"),
            (-2.5, "-2.5"),
            (1e-10, "1e-10"),
            (1.2345e-100, "1.2345e-100"),
            (1e100, "1e+100"),
            (123e21, "1.23e+23"),
            (999999999999999900000.0, "999999999999999900000"),
            (
                f64::from_bits(1e-6f64.to_bits() - 1),
                "9.999999999999997e-7",
            ),
            (0.3, "0.3"),
            (0.1 + 0.2, "0.30000000000000004"),
            (2f64.powi(53) + 2.0, "9007199254740994"),
        ];
        for &(f, want) in cases {
            assert_eq!(float(f), want, "{f:?}");
        }
        assert_eq!(float(f64::NAN), "null");
        assert_eq!(float(f64::INFINITY), "null");
    }

    #[test]
    fn typed_strings() {
        assert_eq!(string(""), "\"\"");
        assert_eq!(string("<>&"), "\"<>&\"");
        assert_eq!(string_html("<a&b>"), "\"\\u003ca\\u0026b\\u003e\"");
        assert_eq!(
            string("\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{b}\u{7f}\u{85}\u{feff}"),
            "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\\u000b\u{7f}\u{85}\u{feff}\""
        );
        assert_eq!(string("a\u{2028}b\u{2029}"), "\"a\\u2028b\\u2029\"");
        assert_eq!(string_html("\u{2028}<"), "\"\\u2028\\u003c\"");
        assert_eq!(string("\u{20ac}é😀/"), "\"\u{20ac}é😀/\"");
        let long = "QUJD".repeat(100) + "\n" + &"x".repeat(70);
        assert_eq!(
            string(&long),
            format!("\"{}\\n{}\"", "QUJD".repeat(100), "x".repeat(70))
        );
    }

    #[test]
    fn normalized_objects() {
        assert_eq!(
            normalized(
                r#"{"b":{"z":1.0,"a":[1e3,12345678901234567890,-0.0,0.5,1e-7,1e21]},"B":"<\u2028>","a":null,"c":[true,false,{}],"é":"\u00e9"}"#
            ),
            "{\"B\":\"<\\u2028>\",\"a\":null,\"b\":{\"a\":[1000,12345678901234567000,-0,0.5,1e-7,1e+21],\"z\":1},\"c\":[true,false,{}],\"é\":\"é\"}"
        );
        assert_eq!(normalized("[]"), "[]");
        assert_eq!(normalized("-9007199254740993"), "-9007199254740992");
    }

    #[test]
    fn marshal_html_objects() {
        assert_eq!(
            marshal_html(
                r#"{"spec":{"rule":"a && b <c>","replicas":3,"ratio":1.5,"whole":2.0,"neg":-7},"kind":"CSV","big":12345678901234567890,"list":[{"y":1,"x":[]}]}"#
            ),
            "{\"big\":12345678901234567000,\"kind\":\"CSV\",\"list\":[{\"x\":[],\"y\":1}],\"spec\":{\"neg\":-7,\"ratio\":1.5,\"replicas\":3,\"rule\":\"a \\u0026\\u0026 b \\u003cc\\u003e\",\"whole\":2}}"
        );
        assert_eq!(marshal_html("9223372036854775807"), "9223372036854775807");
        assert_eq!(marshal_html("-9223372036854775808"), "-9223372036854775808");
    }

    /// Small deterministic PRNG (xorshift64*) so property tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn random_value(rng: &mut Rng, depth: usize) -> Value {
        const WORDS: &[&str] = &[
            "",
            "a",
            "b",
            "B",
            "olm.package",
            "<&>",
            "\"q\"",
            "back\\slash",
            "tab\tnl\n",
            "\u{1}\u{1f}\u{7f}",
            "é",
            "😀",
            "\u{85}\u{feff}",
            "/",
            "QUJDREVGR0g=",
        ];
        let word = |rng: &mut Rng| {
            let n = rng.below(3) + 1;
            (0..n)
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect::<String>()
        };
        match rng.below(if depth > 5 { 5 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 0),
            2 => Value::from(rng.next() as i64 >> rng.below(64)),
            // Short decimals only: serde_json without `float_roundtrip` may read
            // long ones back 1 ULP off, which would break the round-trip checks.
            3 => {
                let m = (rng.next() >> 24) as f64;
                let e = rng.below(30) as i32 - 8;
                Value::from(if e >= 0 {
                    m / 10f64.powi(e)
                } else {
                    m * 10f64.powi(-e)
                })
            }
            4 => Value::String(word(rng)),
            5 | 6 => Value::Array(
                (0..rng.below(4))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.below(4))
                    .map(|_| (word(rng), random_value(rng, depth + 1)))
                    .collect(),
            ),
        }
    }

    /// Same value, comparing every number as float64 (ignoring Go's number
    /// formatting) within 1 ULP: serde_json without its `float_roundtrip`
    /// feature may read a long token such as `48237668482300000000` 1 ULP off.
    fn same_floats(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                x == y || x.to_bits().abs_diff(y.to_bits()) <= 1
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_floats(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((kx, x), (ky, y))| kx == ky && same_floats(x, y))
            }
            _ => a == b,
        }
    }

    /// On values serde_json can print, Go's layout is serde_json's
    /// PrettyFormatter with a 4-space indent plus a final newline.
    #[test]
    fn matches_serde_pretty_on_random_values() {
        use serde::Serialize as _;
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let v = random_value(&mut rng, 0);
            let compact = serde_json::to_vec(&v).unwrap();
            let mut want = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut want, fmt);
            v.serialize(&mut ser).unwrap();
            want.push(b'\n');
            let mut got = Vec::new();
            try_write_indented(&compact, &mut got).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
            // Indenting is idempotent.
            let mut again = Vec::new();
            try_write_indented(&got, &mut again).unwrap();
            assert_eq!(again, got);
            // write_normalized output is valid JSON of the same value (strings).
            let mut norm = Vec::new();
            write_normalized(&v, &mut norm);
            let back: Value = serde_json::from_slice(&norm).unwrap();
            assert!(same_floats(&back, &v), "{v} vs {back}");
            let mut html = Vec::new();
            write_marshal_html(&v, &mut html);
            let back_html: Value = serde_json::from_slice(&html).unwrap();
            assert!(same_floats(&back_html, &v), "{v} vs {back_html}");
        }
    }

    /// Random byte soup from a JSON-ish alphabet: never panics, and accepts
    /// exactly what serde_json accepts (on inputs where their rules coincide:
    /// ASCII, shallow, no \u escapes).
    #[test]
    fn no_panics_and_validation_agrees_with_serde() {
        const ALPHA: &[u8] = b"{}[],:\" \n\t\\/0123456789-+.eEtrufalsnbx\x01\x7f";
        let mut rng = Rng(42);
        let mut accepted = 0;
        for _ in 0..200_000 {
            let len = rng.below(12);
            let input: Vec<u8> = (0..len).map(|_| ALPHA[rng.below(ALPHA.len())]).collect();
            let mut out = Vec::new();
            let ours = try_write_indented(&input, &mut out).is_ok();
            let theirs = serde_json::from_slice::<serde::de::IgnoredAny>(&input).is_ok();
            assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&input));
            accepted += usize::from(ours);
            let mut out = Vec::new();
            write_indented(&input, &mut out);
        }
        assert!(accepted > 1000, "only {accepted} valid samples");
        // Arbitrary bytes and every truncation of a valid document.
        for _ in 0..20_000 {
            let input: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
            write_indented(&input, &mut Vec::new());
        }
        let doc = "{\"a\":[1.5e3,\"\\u00e9\\n\u{2028}\",{\"b\":true,\"c\":null}],\"d\":-0}";
        for cut in 0..doc.len() {
            let mut out = Vec::new();
            assert!(try_write_indented(&doc.as_bytes()[..cut], &mut out).is_err());
        }
    }

    /// Throughput on a base64-dominated document, like a catalog full of
    /// `olm.bundle.object` properties. Run with:
    /// `cargo test --release -- --ignored --nocapture throughput`
    #[test]
    #[ignore]
    fn throughput() {
        let mut doc = b"{\"schema\":\"olm.bundle\",\"properties\":[".to_vec();
        let mut rng = Rng(7);
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for k in 0..400 {
            if k > 0 {
                doc.push(b',');
            }
            doc.extend_from_slice(b"{\"type\":\"olm.bundle.object\",\"value\":{\"data\":\"");
            let n = 100_000 + rng.below(400_000);
            doc.extend((0..n).map(|_| B64[rng.below(64)]));
            doc.extend_from_slice(b"==\"}}");
        }
        doc.extend_from_slice(b"]}");
        let mut out = Vec::with_capacity(doc.len() * 2);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            out.clear();
            let t = std::time::Instant::now();
            try_write_indented(&doc, &mut out).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        let mb = doc.len() as f64 / 1e6;
        println!(
            "write_indented (warm buffer): {mb:.0} MB in {:.1} ms = {:.2} GB/s",
            best * 1e3,
            mb / 1e3 / best
        );
        assert!(mb / 1e3 / best >= 1.0, "below 1 GB/s");
        // A fresh output buffer each time includes page-fault cost.
        let t = std::time::Instant::now();
        let mut fresh = Vec::new();
        write_indented(&doc, &mut fresh);
        let secs = t.elapsed().as_secs_f64();
        println!("write_indented (fresh buffer): {:.2} GB/s", mb / 1e3 / secs);
        // Typed-string escaping of the same bytes (all plain).
        let text = std::str::from_utf8(&doc).unwrap().replace('"', "'");
        let mut out = Vec::with_capacity(text.len() + 2);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            out.clear();
            let t = std::time::Instant::now();
            write_string(&text, &mut out);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("write_string: {:.2} GB/s", text.len() as f64 / 1e9 / best);
    }
}
