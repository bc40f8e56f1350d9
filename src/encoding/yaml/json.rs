//! JSON reader for the emit path: builds the value tree that go-yaml holds
//! after `sigs.k8s.io/yaml.JSONToYAML` has read opm's JSON.
//!
//! opm's path is: Go `encoding/json` decodes the blob (numbers kept as text),
//! re-encodes it compactly with HTML escaping off, and go-yaml v2 parses that
//! JSON text *as YAML 1.1*. Rather than re-encoding and running a YAML parser,
//! this module reads the JSON once and applies the effects that the YAML
//! re-read has on Go's re-encoded text (go-yaml-json-encoding.md; conformance
//! README "WriteYAML fails for some strings", "U+0085 is folded"):
//! - numbers are resolved from their token text with YAML 1.1 rules;
//! - DEL, C1 controls other than U+0085, U+FFFE and U+FFFF are rejected
//!   ("control characters are not allowed"), because Go writes them raw;
//! - U+0085 (NEL), also written raw, is a line break inside a double-quoted
//!   YAML scalar and gets folded; inside a key it ends the simple key, which
//!   is an error;
//! - a key whose Go JSON form is longer than 1024 characters cannot be a YAML
//!   simple key, which is an error too.
//!
//! Map keys are deduplicated (last wins, as Go's map does) and sorted in
//! go-yaml's natural order here, so the emitter only has to walk the tree.

use std::borrow::Cow;

use super::YamlError;
use super::emit::{Emitter, Known};
use super::resolve::{Resolved, resolve_plain};
use super::sort::{key_less, merge_sort_by};

/// Go's `encoding/json` and go-yaml both stop at 10000 levels of nesting.
const MAX_DEPTH: usize = 10000;

/// One value of the tree go-yaml marshals.
#[derive(Debug, Clone)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A number token that overflows float64: go-yaml keeps it as a string.
    NumStr(&'a str),
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    /// Entries already deduplicated and in natural key order.
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

fn err(msg: impl Into<String>) -> YamlError {
    YamlError(msg.into())
}

enum TreeFrame<'a> {
    Seq(Vec<Node<'a>>),
    Map(Vec<(Cow<'a, str>, Node<'a>)>, Option<Cow<'a, str>>),
}

/// Byte classes for the string scanner: 0 plain ASCII, 1 quote, 2 backslash,
/// 3 control (< 0x20), 4 DEL, 5 non-ASCII.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i < 0x20 {
            3
        } else if i == b'"' as usize {
            1
        } else if i == b'\\' as usize {
            2
        } else if i == 0x7F {
            4
        } else if i >= 0x80 {
            5
        } else {
            0
        };
        i += 1;
    }
    t
};

/// An open container of [`Reader::stream_value`]: for a mapping, where its
/// keys start in the key stack, and whether one of them makes the check of
/// adjacent pairs insufficient.
enum Frame {
    Seq,
    Map { start: usize, unusual: bool },
}

pub(super) struct Reader<'a> {
    src: &'a [u8],
    /// `src` as text, when the caller knows it is UTF-8.
    text: Option<&'a str>,
    pos: usize,
    /// YAML line of the current position: Go's re-encoded JSON is one line,
    /// except that every raw U+0085 inside a string is a line break to YAML.
    line: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(src: &'a [u8]) -> Self {
        Reader {
            src,
            text: None,
            pos: 0,
            line: 0,
        }
    }

    /// A reader of text, whose strings need no UTF-8 check.
    pub(super) fn from_str(text: &'a str) -> Self {
        Reader {
            text: Some(text),
            ..Reader::new(text.as_bytes())
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&c) = self.src.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn syntax(&self, what: &str) -> YamlError {
        match self.src.get(self.pos) {
            None => err("unexpected end of JSON input"),
            Some(&c) => err(format!(
                "invalid character {:?} {what} (offset {})",
                c as char, self.pos
            )),
        }
    }

    /// Read the whole document into a tree.
    pub(super) fn read_document(mut self) -> Result<Node<'a>, YamlError> {
        let mut stack: Vec<TreeFrame<'a>> = Vec::new();
        self.skip_ws();
        loop {
            // Expect a value (or a container end / key, depending on frame).
            self.skip_ws();
            let c = *self.src.get(self.pos).ok_or_else(|| self.syntax(""))?;
            let value: Node<'a> = match c {
                b'{' | b'[' => {
                    self.pos += 1;
                    if stack.len() >= MAX_DEPTH {
                        return Err(err("yaml: exceeded max depth of 10000"));
                    }
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.src.get(self.pos) == Some(&close) {
                        self.pos += 1;
                        if c == b'{' {
                            Node::Map(Vec::new())
                        } else {
                            Node::Seq(Vec::new())
                        }
                    } else if c == b'{' {
                        let key = self.read_key()?;
                        stack.push(TreeFrame::Map(Vec::new(), Some(key)));
                        continue;
                    } else {
                        stack.push(TreeFrame::Seq(Vec::new()));
                        continue;
                    }
                }
                b'"' => Node::Str(self.read_string(false)?),
                b't' => self.literal(b"true", Node::Bool(true))?,
                b'f' => self.literal(b"false", Node::Bool(false))?,
                b'n' => self.literal(b"null", Node::Null)?,
                b'-' | b'0'..=b'9' => self.read_number()?,
                _ => return Err(self.syntax("looking for beginning of value")),
            };
            // Attach the value to its parent, closing containers as needed.
            let mut value = value;
            loop {
                match stack.last_mut() {
                    None => {
                        self.skip_ws();
                        if self.pos != self.src.len() {
                            return Err(self.syntax("after top-level value"));
                        }
                        return Ok(value);
                    }
                    Some(TreeFrame::Seq(items)) => {
                        items.push(value);
                        self.skip_ws();
                        match self.src.get(self.pos) {
                            Some(b',') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                let Some(TreeFrame::Seq(items)) = stack.pop() else {
                                    unreachable!()
                                };
                                value = Node::Seq(items);
                            }
                            _ => return Err(self.syntax("after array element")),
                        }
                    }
                    Some(TreeFrame::Map(entries, key)) => {
                        let k = key.take().unwrap_or_default();
                        entries.push((k, value));
                        self.skip_ws();
                        match self.src.get(self.pos) {
                            Some(b',') => {
                                self.pos += 1;
                                let k = self.read_key()?;
                                if let Some(TreeFrame::Map(_, key)) = stack.last_mut() {
                                    *key = Some(k);
                                }
                                break;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                let Some(TreeFrame::Map(entries, _)) = stack.pop() else {
                                    unreachable!()
                                };
                                value = Node::Map(finish_map(entries));
                            }
                            _ => return Err(self.syntax("after object key:value pair")),
                        }
                    }
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8], node: Node<'a>) -> Result<Node<'a>, YamlError> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(node)
        } else {
            Err(self.syntax("in literal"))
        }
    }

    /// Read `"key" :` (whitespace allowed) and apply the YAML simple-key rules.
    fn read_key(&mut self) -> Result<Cow<'a, str>, YamlError> {
        self.read_key_known::<false>().map(|(k, _)| k)
    }

    fn read_key_known<const LEARN: bool>(&mut self) -> Result<(Cow<'a, str>, Known), YamlError> {
        self.skip_ws();
        if self.src.get(self.pos) != Some(&b'"') {
            return Err(self.syntax("looking for beginning of object key string"));
        }
        let key = self.scan_string::<LEARN>(true)?;
        self.skip_ws();
        if self.src.get(self.pos) != Some(&b':') {
            return Err(self.syntax("after object key"));
        }
        self.pos += 1;
        Ok(key)
    }

    /// Write the one JSON value of the input straight to `e`, as
    /// [`Reader::read_document`] then `Emitter::node` would, without
    /// building its tree. That needs every mapping's keys already in
    /// go-yaml's order, unique; `None` when they are not, and for anything
    /// the tree path reports as an error: the caller then writes the whole
    /// document through the tree (having dropped what was written here).
    pub(super) fn stream_value(mut self, e: &mut Emitter<'_>, under_key: bool) -> Option<()> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut keys: Vec<Cow<'a, str>> = Vec::new();
        let mut under_key = under_key;
        loop {
            self.skip_ws();
            let c = *self.src.get(self.pos)?;
            match c {
                b'{' | b'[' => {
                    self.pos += 1;
                    if stack.len() >= MAX_DEPTH {
                        return None;
                    }
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.src.get(self.pos) == Some(&close) {
                        self.pos += 1;
                        e.empty(if c == b'{' { b"{}" } else { b"[]" });
                    } else if c == b'{' {
                        e.begin_map();
                        stack.push(Frame::Map {
                            start: keys.len(),
                            unusual: false,
                        });
                        self.stream_key(e, &mut stack, &mut keys)?;
                        under_key = true;
                        continue;
                    } else {
                        e.begin_seq(under_key);
                        stack.push(Frame::Seq);
                        e.item();
                        under_key = false;
                        continue;
                    }
                }
                b'"' => {
                    let (s, known) = self.read_string_known(false).ok()?;
                    e.string(&s, known);
                }
                b't' => e.scalar(&self.literal(b"true", Node::Bool(true)).ok()?),
                b'f' => e.scalar(&self.literal(b"false", Node::Bool(false)).ok()?),
                b'n' => e.scalar(&self.literal(b"null", Node::Null).ok()?),
                b'-' | b'0'..=b'9' => e.scalar(&self.read_number().ok()?),
                _ => return None,
            }
            // After a value: the next entry, or the end of containers.
            loop {
                self.skip_ws();
                match stack.last() {
                    None => return (self.pos == self.src.len()).then_some(()),
                    Some(Frame::Seq) => match self.src.get(self.pos)? {
                        b',' => {
                            self.pos += 1;
                            e.item();
                            under_key = false;
                            break;
                        }
                        b']' => {
                            self.pos += 1;
                            stack.pop();
                            e.end_collection();
                        }
                        _ => return None,
                    },
                    Some(&Frame::Map { start, unusual }) => match self.src.get(self.pos)? {
                        b',' => {
                            self.pos += 1;
                            self.stream_key(e, &mut stack, &mut keys)?;
                            under_key = true;
                            break;
                        }
                        b'}' => {
                            self.pos += 1;
                            if unusual && !go_order_kept(&keys[start..]) {
                                return None;
                            }
                            keys.truncate(start);
                            stack.pop();
                            e.end_collection();
                        }
                        _ => return None,
                    },
                }
            }
        }
    }

    /// The next key of the innermost mapping of [`Reader::stream_value`]:
    /// written if it sorts after the previous one.
    fn stream_key(
        &mut self,
        e: &mut Emitter<'_>,
        stack: &mut [Frame],
        keys: &mut Vec<Cow<'a, str>>,
    ) -> Option<()> {
        let (key, known) = self.read_key_known::<true>().ok()?;
        let Some(Frame::Map { start, unusual }) = stack.last_mut() else {
            return None;
        };
        if keys.len() > *start && !key_less(&keys[keys.len() - 1], &key) {
            return None;
        }
        // go-yaml's order is a strict total order on ASCII keys without
        // digits, where adjacent pairs in order mean the whole map is; other
        // keys are checked as a whole when the map ends.
        if !key.is_ascii() || key.bytes().any(|c| c.is_ascii_digit()) {
            *unusual = true;
        }
        e.key(&key, known);
        keys.push(key);
        Some(())
    }
    fn read_number(&mut self) -> Result<Node<'a>, YamlError> {
        let start = self.pos;
        let b = self.src;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => {
                self.pos = i;
                return Err(self.syntax("in numeric literal"));
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                self.pos = i;
                return Err(self.syntax("after decimal point in numeric literal"));
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                self.pos = i;
                return Err(self.syntax("in exponent of numeric literal"));
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        self.pos = i;
        // The token is ASCII by construction.
        let tok = std::str::from_utf8(&b[start..i]).unwrap_or("0");
        // go-yaml resolves the token as a plain YAML 1.1 scalar.
        Ok(match resolve_plain(tok).1 {
            Resolved::Int(v) => Node::Int(v),
            Resolved::Uint(v) => Node::Uint(v),
            Resolved::Float(v) => Node::Float(v),
            _ => Node::NumStr(tok),
        })
    }

    /// Read a JSON string starting at the opening quote, decode it as Go does
    /// and apply what go-yaml's scanner does to Go's re-encoding of it.
    fn read_string(&mut self, is_key: bool) -> Result<Cow<'a, str>, YamlError> {
        self.scan_string::<false>(is_key).map(|(s, _)| s)
    }

    /// [`Reader::read_string`], also telling what the scan learned about
    /// the string for the emitter.
    pub(super) fn read_string_known(
        &mut self,
        is_key: bool,
    ) -> Result<(Cow<'a, str>, Known), YamlError> {
        self.scan_string::<true>(is_key)
    }

    fn scan_string<const LEARN: bool>(
        &mut self,
        is_key: bool,
    ) -> Result<(Cow<'a, str>, Known), YamlError> {
        let start = self.pos + 1;
        let mut i = start;
        let b = self.src;
        let mut quiet = false;
        if LEARN {
            // The first byte may be any plain one; the rest must be quiet,
            // and the scan reaches the closing quote only if they are.
            if b.get(i).is_some_and(|&c| CLASS[c as usize] == 0) {
                i += 1;
            }
            i = crate::encoding::json::skip_plain(b, i, |c| {
                (c == b'"') | (c == b'\\') | (c == b':') | (c == b'#') | !(0x21..0x7F).contains(&c)
            });
            quiet = b.get(i) == Some(&b'"');
        }
        // The string decoded so far, from the first escape on; `run` is
        // where the bytes not yet copied into it start.
        let mut decoded: Option<Vec<u8>> = None;
        let mut run = start;
        let mut bad_escape = false;
        // Escapes other than `\"`, `\\`, `\/` and `\n` met; line feeds met,
        // and whether one had a space just before or after it.
        let mut other_escapes = false;
        let (mut line_feeds, mut space_break, mut break_space) = (false, false, false);
        // DEL, non-ASCII or a `\u` escape: needs the YAML checks.
        let mut special = false;
        loop {
            // Skip plain ASCII bytes (no quote, backslash, control, DEL or
            // non-ASCII byte) in vectorised blocks.
            i = crate::encoding::json::skip_plain(b, i, |c| {
                (c == b'"') | (c == b'\\') | !(0x20..0x7F).contains(&c)
            });
            let Some(&c) = b.get(i) else {
                self.pos = i;
                return Err(self.syntax(""));
            };
            match CLASS[c as usize] {
                0 => i += 1,
                1 => break,
                2 => {
                    // Only `\u` escapes can make characters the YAML re-read
                    // checks; the others are ASCII.
                    special |= b.get(i + 1) == Some(&b'u');
                    let out =
                        decoded.get_or_insert_with(|| Vec::with_capacity(2 * (i - start) + 16));
                    out.extend_from_slice(&b[run..i]);
                    let simple = match b.get(i + 1) {
                        Some(&e @ (b'"' | b'\\' | b'/')) => e,
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        _ => 0,
                    };
                    if simple == b'\n' {
                        line_feeds = true;
                        space_break |= out.last() == Some(&b' ');
                        break_space |= b.get(i + 2) == Some(&b' ');
                    }
                    if simple != 0 {
                        other_escapes |= simple == b'\t';
                        out.push(simple);
                        i += 2;
                    } else {
                        other_escapes = true;
                        // A bad escape is reported once the string's end is
                        // found (a control character or the end of input
                        // come first).
                        i = decode_escape(b, i, out).unwrap_or_else(|| {
                            bad_escape = true;
                            i + 2
                        });
                    }
                    run = i;
                }
                3 => {
                    self.pos = i;
                    return Err(self.syntax("in string literal"));
                }
                _ => {
                    special = true;
                    i += 1;
                }
            }
        }
        let body = &b[start..i];
        self.pos = i + 1;
        let escapes = decoded.is_some();
        let decoded: Cow<'a, str> = if let Some(mut out) = decoded {
            if bad_escape {
                return Err(err("invalid escape in JSON string"));
            }
            out.extend_from_slice(&b[run..i]);
            Cow::Owned(String::from_utf8(out).unwrap_or_else(|e| go_lossy_utf8(e.as_bytes())))
        } else if let Some(text) = self.text.and_then(|t| t.get(start..i)) {
            // Text known to be UTF-8, cut at its quotes: no check needed.
            Cow::Borrowed(text)
        } else if special {
            match std::str::from_utf8(body) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(go_lossy_utf8(body)),
            }
        } else {
            // Plain ASCII without escapes.
            Cow::Borrowed(std::str::from_utf8(body).unwrap_or_default())
        };
        if is_key {
            check_key(&decoded, self.line)?;
        }
        if special {
            return Ok((self.yaml_reread(decoded, is_key)?, Known::Nothing));
        }
        let known = if quiet && !escapes {
            Known::Quiet
        } else if !line_feeds {
            Known::OneLine
        } else if !other_escapes {
            Known::Lines {
                space_break,
                break_space,
            }
        } else {
            Known::Nothing
        };
        Ok((decoded, known))
    }

    /// Apply go-yaml's reader and double-quoted scanner to Go's encoding of
    /// `s`: reject control characters, fold raw U+0085 line breaks.
    fn yaml_reread(&mut self, s: Cow<'a, str>, is_key: bool) -> Result<Cow<'a, str>, YamlError> {
        // Only DEL (7F), C1 controls (C2 80..9F) and U+FFFE/U+FFFF
        // (EF BF BE/BF) matter, so look at those lead bytes only.
        let b = s.as_bytes();
        let mut nel = false;
        let mut i = 0;
        while let Some(off) = b[i..].iter().position(|&c| matches!(c, 0x7F | 0xC2 | 0xEF)) {
            i += off;
            match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
                (0x7F, _, _) => return Err(err("yaml: control characters are not allowed")),
                (0xC2, Some(0x85), _) => nel = true,
                (0xC2, Some(0x80..=0x9F), _) | (0xEF, Some(0xBF), Some(0xBE | 0xBF)) => {
                    return Err(err("yaml: control characters are not allowed"));
                }
                _ => {}
            }
            i += 1;
        }
        if !nel {
            return Ok(s);
        }
        if is_key {
            // The line break makes the key stale; the flow mapping then
            // finds ':' without a key (see check_key for the length rule).
            let line = self.line + s.matches('\u{85}').count();
            return Err(err(format!(
                "yaml: line {line}: did not find expected ',' or '}}'"
            )));
        }
        let folded = fold_nel(&s, self.line)?;
        self.line += s.matches('\u{85}').count();
        Ok(Cow::Owned(folded))
    }
}

/// The key length rule (conformance README item 2): go-yaml drops a
/// potential simple key once the ':'
/// is more than 1024 characters past its start (scannerc.go,
/// yaml_simple_key_is_valid). The start is the opening quote of Go's JSON
/// encoding of the key, so that is what is measured, in code points.
fn check_key(key: &str, line: usize) -> Result<(), YamlError> {
    // Each byte encodes to at most 6 characters, so short keys are fine.
    if key.len() * 6 + 2 <= 1024 {
        return Ok(());
    }
    let mut n = 2usize;
    for c in key.chars() {
        n += match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => 6,
            _ => 1,
        };
    }
    if n > 1024 {
        let where_ = if line > 0 {
            format!("line {line}: ")
        } else {
            String::new()
        };
        return Err(err(format!(
            "yaml: {where_}did not find expected ',' or '}}'"
        )));
    }
    Ok(())
}

/// Fold raw U+0085 the way go-yaml's double-quoted scalar scanner folds line
/// breaks: spaces before a break are dropped, spaces after it skipped; one
/// break becomes a space, n consecutive breaks become n-1 newlines.
/// (Only raw spaces and U+0085 are YAML whitespace here: Go's encoder escapes
/// tabs, CR, LF, U+2028 and U+2029.)
fn fold_nel(s: &str, line: usize) -> Result<String, YamlError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut line = line;
    loop {
        // Non-blank run.
        let end = rest.find([' ', '\u{85}']).unwrap_or(rest.len());
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        if rest.is_empty() {
            return Ok(out);
        }
        let mut whitespaces = 0usize;
        let mut leading_break = false;
        let mut trailing_breaks = 0usize;
        let mut at_line_start = false;
        loop {
            if let Some(r) = rest.strip_prefix(' ') {
                if !leading_break {
                    whitespaces += 1;
                }
                at_line_start = false;
                rest = r;
            } else if let Some(r) = rest.strip_prefix('\u{85}') {
                if !leading_break {
                    whitespaces = 0;
                    leading_break = true;
                } else {
                    trailing_breaks += 1;
                }
                line += 1;
                at_line_start = true;
                rest = r;
            } else {
                break;
            }
        }
        if rest.is_empty() {
            // Before the closing quote: the scanner joins the same way.
        } else if at_line_start
            && (rest.starts_with("---") || rest.starts_with("..."))
            && matches!(rest[3..].chars().next(), Some(' ' | '\u{85}'))
        {
            return Err(err(format!(
                "yaml: line {}: found unexpected document indicator",
                line + 1
            )));
        }
        if leading_break {
            if trailing_breaks == 0 {
                out.push(' ');
            } else {
                for _ in 0..trailing_breaks {
                    out.push('\n');
                }
            }
        } else {
            for _ in 0..whitespaces {
                out.push(' ');
            }
        }
    }
}

/// Go's `encoding/json` replaces each byte of an invalid UTF-8 sequence with
/// U+FFFD (utf8.DecodeRune reports width 1 for it).
pub(super) fn go_lossy_utf8(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 8);
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.push_str(std::str::from_utf8(&b[..good]).unwrap_or_default());
                out.push('\u{FFFD}');
                b = &b[good + 1..];
            }
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Decode the escape at `b[i]` (a backslash) as Go's `encoding/json` does
/// (a lone surrogate becomes U+FFFD), append it to `out` and return where
/// the input goes on; `None` for an invalid escape.
fn decode_escape(b: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let e = *b.get(i + 1)?;
    let mut next = i + 2;
    let ch = match e {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let u = hex4(b.get(next..)?)?;
            next += 4;
            if (0xD800..0xDC00).contains(&u) {
                // A high surrogate needs a following \uDC00-\uDFFF.
                let low = if b.get(next) == Some(&b'\\') && b.get(next + 1) == Some(&b'u') {
                    b.get(next + 2..).and_then(hex4)
                } else {
                    None
                };
                match low {
                    Some(l) if (0xDC00..0xE000).contains(&l) => {
                        next += 6;
                        char::from_u32(0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00))
                            .unwrap_or('\u{FFFD}')
                    }
                    _ => '\u{FFFD}',
                }
            } else {
                char::from_u32(u).unwrap_or('\u{FFFD}')
            }
        }
        _ => return None,
    };
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    Some(next)
}

/// Whether a map has a key twice.
fn has_duplicate<K: AsRef<str>>(keys: impl ExactSizeIterator<Item = K> + Clone) -> bool {
    let n = keys.len();
    // Quadratic for small maps, sorted copy otherwise.
    if n <= 16 {
        let all: Vec<K> = keys.collect();
        (1..n).any(|i| (0..i).any(|j| all[i].as_ref() == all[j].as_ref()))
    } else {
        let mut all: Vec<K> = keys.collect();
        all.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
        all.windows(2).any(|w| w[0].as_ref() == w[1].as_ref())
    }
}

/// The positions of `keys` in go-yaml's natural order.
fn go_order(keys: &[impl AsRef<str>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    merge_sort_by(&mut order, &|&a: &usize, &b: &usize| {
        key_less(keys[a].as_ref(), keys[b].as_ref())
    });
    order
}

fn is_identity(order: &[usize]) -> bool {
    order.iter().enumerate().all(|(i, &o)| i == o)
}

/// Whether a map with these keys is written in this order: no key twice,
/// and go-yaml's sort leaves them where they are.
fn go_order_kept(keys: &[Cow<'_, str>]) -> bool {
    !has_duplicate(keys.iter()) && is_identity(&go_order(keys))
}

/// Deduplicate (last wins, like a Go map) and sort by go-yaml's natural order.
fn finish_map<'a>(mut entries: Vec<(Cow<'a, str>, Node<'a>)>) -> Vec<(Cow<'a, str>, Node<'a>)> {
    let n = entries.len();
    if n <= 1 {
        return entries;
    }
    if has_duplicate(entries.iter().map(|e| &e.0)) {
        let mut seen = std::collections::HashSet::new();
        let mut kept = Vec::with_capacity(n);
        for e in entries.into_iter().rev() {
            if seen.insert(e.0.clone()) {
                kept.push(e);
            }
        }
        kept.reverse();
        entries = kept;
    }
    let keys: Vec<&str> = entries.iter().map(|e| e.0.as_ref()).collect();
    let order = go_order(&keys);
    if is_identity(&order) {
        return entries;
    }
    let mut slots: Vec<Option<(Cow<'a, str>, Node<'a>)>> = entries.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nel_folding() {
        assert_eq!(fold_nel("a\u{85}b", 0).unwrap(), "a b");
        assert_eq!(fold_nel("a\u{85}\u{85}b", 0).unwrap(), "a\nb");
        assert_eq!(fold_nel("a \u{85} b", 0).unwrap(), "a b");
    }
}
