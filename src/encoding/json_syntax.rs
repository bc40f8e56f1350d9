//! Go `encoding/json` syntax errors, worded as Go words them.
//!
//! serde_json finds the same errors but phrases them its own way; users (and
//! the conformance suite) see Go's `invalid character 'x' looking for
//! beginning of object key string`. This re-scans a document with Go's
//! grammar only after serde_json has already failed, so it costs nothing on
//! valid input.

/// The first syntax error in the first JSON value of `data`, with its byte
/// offset, or `None` when the value is well-formed. Input that ends early is
/// Go's `unexpected EOF` (what `json.Decoder` reports for a stream).
pub fn first_error(data: &[u8]) -> Option<(String, usize)> {
    // The scan recurses once per nesting level, up to Go's limit: it runs
    // on a thread of its own with room for that, whatever the caller's
    // stack (rayon workers have 2 MiB). Only reached once parsing failed.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(SCAN_STACK)
            .spawn_scoped(scope, || {
                let mut s = Scanner {
                    b: data,
                    i: 0,
                    depth: 0,
                };
                s.ws();
                s.value().err()
            })
            .ok()
            .and_then(|h| h.join().ok())
            .flatten()
    })
}

/// Go's `maxNestingDepth`: deeper input is a syntax error.
const MAX_DEPTH: usize = 10_000;
/// Enough stack for `MAX_DEPTH` levels of `value` → `array`/`object`.
const SCAN_STACK: usize = 64 << 20;

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

type Res = Result<(), (String, usize)>;

/// Go's `quoteChar`.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = format!("{c:?}");
            // Rust's char Debug is close to Go's strconv.Quote for the cases
            // that matter (control characters as \n, \t, \u{..}).
            let inner = &q[1..q.len() - 1];
            let inner =
                if let Some(hex) = inner.strip_prefix("\\u{").and_then(|h| h.strip_suffix('}')) {
                    let n = u32::from_str_radix(hex, 16).unwrap_or(0);
                    if n < 0x10000 {
                        format!("\\x{n:02x}")
                    } else {
                        format!("\\U{n:08x}")
                    }
                } else {
                    inner.to_string()
                };
            format!("'{inner}'")
        }
    }
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn cur_char(&self) -> char {
        std::str::from_utf8(&self.b[self.i..])
            .ok()
            .and_then(|s| s.chars().next())
            .or_else(|| {
                let end = (self.i + 4).min(self.b.len());
                String::from_utf8_lossy(&self.b[self.i..end]).chars().next()
            })
            .unwrap_or('\u{fffd}')
    }

    fn err(&self, ctx: &str) -> Res {
        match self.peek() {
            None => Err(("unexpected EOF".into(), self.i)),
            Some(_) => Err((
                format!("invalid character {} {ctx}", quote_char(self.cur_char())),
                self.i,
            )),
        }
    }

    fn value(&mut self) -> Res {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            _ => self.err("looking for beginning of value"),
        }
    }

    /// Enter an object or array: Go fails past its nesting limit, at the
    /// byte after the opening bracket.
    fn enter(&mut self) -> Res {
        self.i += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(("exceeded max depth".to_string(), self.i));
        }
        Ok(())
    }

    fn object(&mut self) -> Res {
        self.enter()?;
        let r = self.object_body();
        self.depth -= 1;
        r
    }

    fn object_body(&mut self) -> Res {
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return self.err("looking for beginning of object key string");
            }
            self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return self.err("after object key");
            }
            self.i += 1;
            self.ws();
            self.value()?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err("after object key:value pair"),
            }
        }
    }

    fn array(&mut self) -> Res {
        self.enter()?;
        let r = self.array_body();
        self.depth -= 1;
        r
    }

    fn array_body(&mut self) -> Res {
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value()?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err("after array element"),
            }
        }
    }

    fn string(&mut self) -> Res {
        self.i += 1;
        loop {
            match self.peek() {
                None => return self.err(""),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.i += 1,
                                    _ => return self.err("in \\u hexadecimal character escape"),
                                }
                            }
                        }
                        _ => return self.err("in string escape code"),
                    }
                }
                Some(c) if c < 0x20 => return self.err("in string literal"),
                Some(_) => self.i += 1,
            }
        }
    }

    fn number(&mut self) -> Res {
        if self.peek() == Some(b'-') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return self.err("in numeric literal");
            }
        }
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else {
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return self.err("after decimal point in numeric literal");
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return self.err("in exponent of numeric literal");
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Res {
        for (k, &w) in word.as_bytes().iter().enumerate() {
            if self.peek() != Some(w) {
                return self.err(&format!(
                    "in literal {word} (expecting {})",
                    quote_char(w as char)
                ));
            }
            let _ = k;
            self.i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::first_error;

    fn msg(s: &str) -> String {
        first_error(s.as_bytes()).map(|e| e.0).unwrap_or_default()
    }

    #[test]
    fn nesting_past_go_limit_is_an_error_not_a_crash() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(first_error(deep(10_000).as_bytes()), None);
        assert_eq!(
            first_error(deep(10_001).as_bytes()),
            Some(("exceeded max depth".to_string(), 10_001))
        );
        // Far deeper than any stack would allow recursing through.
        let obj = format!("{{\"a\":{}", deep(1_000_000));
        assert_eq!(
            first_error(obj.as_bytes()),
            Some(("exceeded max depth".to_string(), 10_005))
        );
    }

    #[test]
    fn go_wording() {
        assert_eq!(
            msg(r#"{"a":1,}"#),
            "invalid character '}' looking for beginning of object key string"
        );
        assert_eq!(msg(r#"{"a" 1}"#), "invalid character '1' after object key");
        assert_eq!(
            msg(r#"{"a":1 "b":2}"#),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(msg(r#"[1 2]"#), "invalid character '2' after array element");
        assert_eq!(
            msg(r#"{"a":tru}"#),
            "invalid character '}' in literal true (expecting 'e')"
        );
        assert_eq!(
            msg("{\"a\":\"x\ny\"}"),
            "invalid character '\\n' in string literal"
        );
        assert_eq!(msg(r#"{"a":"#), "unexpected EOF");
        assert_eq!(msg(r#"{"a":1}"#), "");
    }
}
