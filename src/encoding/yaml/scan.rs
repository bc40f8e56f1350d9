//! YAML scanner and event parser following go-yaml v2 (`readerc.go`,
//! `scannerc.go`, `parserc.go`), which are themselves a port of libyaml.
//!
//! A port of our own rather than libyaml-safer: go-yaml's copy differs from
//! libyaml 0.2.5 in small ways that show in results (`%YAML 1.2` rejected, a
//! U+FEFF after the first character is content, simple keys only checked for
//! staleness where go-yaml checks them), libyaml-safer panics on a few
//! inputs (a block scalar ending the text without a newline, `\` at the end
//! of a double-quoted scalar, a tag followed by `,` in a flow collection),
//! and reading bytes in place is several times faster than its char queue.
//!
//! The input is UTF-8 text; positions beyond the end read as NUL, the
//! sentinel libyaml's reader appends. Go's reader rejects control characters
//! as it decodes 512-byte chunks ahead of the scanner, so only text near what
//! the scanner has looked at is checked, and a bad character in a later
//! document may go unnoticed, as in Go.

use std::collections::VecDeque;

/// A position: `index` counts characters (not bytes), like go-yaml's mark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) index: usize,
    pub(super) line: usize,
    pub(super) column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrKind {
    Reader,
    Scanner,
    Parser,
}

/// A reader/scanner/parser error with libyaml's fields.
#[derive(Debug, Clone)]
pub(super) struct ScanError {
    pub(super) kind: ErrKind,
    pub(super) problem: String,
    pub(super) problem_mark: Mark,
    pub(super) context_mark: Mark,
}

impl ScanError {
    /// Go's `parser.fail()` text.
    pub(super) fn message(&self) -> String {
        let mut line = 0;
        if self.problem_mark.line != 0 {
            line = self.problem_mark.line;
            // Scanner errors report the line before it was advanced.
            if self.kind == ErrKind::Scanner {
                line += 1;
            }
        } else if self.context_mark.line != 0 {
            line = self.context_mark.line;
        }
        if line != 0 {
            format!("yaml: line {line}: {}", self.problem)
        } else {
            format!("yaml: {}", self.problem)
        }
    }
}

type Result<T> = std::result::Result<T, ScanError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    StreamStart,
    StreamEnd,
    VersionDirective(i32, i32),
    TagDirective(Vec<u8>, Vec<u8>),
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias(Vec<u8>),
    Anchor(Vec<u8>),
    Tag(Vec<u8>, Vec<u8>),
    Scalar(Vec<u8>, ScalarStyle),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: Mark,
    end: Mark,
}

#[derive(Debug, Clone, Copy, Default)]
struct SimpleKey {
    possible: bool,
    required: bool,
    token_number: usize,
    mark: Mark,
}

const MAX_FLOW_LEVEL: usize = 10000;
const MAX_INDENTS: usize = 10000;
/// ASCII bytes the reader accepts: TAB, LF, CR and 0x20..=0x7E.
static ASCII_OK: [bool; 256] = {
    let mut t = [false; 256];
    t[0x09] = true;
    t[0x0A] = true;
    t[0x0D] = true;
    let mut b = 0x20;
    while b <= 0x7E {
        t[b] = true;
        b += 1;
    }
    t
};

/// Bytes that may start a line break (CR, LF, NEL, LS, PS).
static BREAK_LEAD: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t[0xC2] = true;
    t[0xE2] = true;
    t
};

/// go-yaml's reader decodes (and checks) input in chunks of this many bytes.
const READ_CHUNK: usize = 512;

#[inline]
fn width(b: u8) -> usize {
    if b & 0x80 == 0 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        1
    }
}

#[inline]
fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

#[inline]
fn hex_val(c: u8) -> u32 {
    (c as char).to_digit(16).unwrap_or(0)
}

struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
    /// Bytes up to here passed the reader's control-character check.
    checked: usize,
    mark: Mark,
    tokens: VecDeque<Token>,
    tokens_parsed: usize,
    token_available: bool,
    stream_start_produced: bool,
    stream_end_produced: bool,
    indent: isize,
    indents: Vec<isize>,
    simple_key_allowed: bool,
    simple_keys: Vec<SimpleKey>,
    /// go-yaml's `simple_keys_by_tok`, kept sorted by token number (they are
    /// inserted in increasing order and looked up by the head token number).
    keys_by_tok: VecDeque<(usize, usize)>,
    flow_level: usize,
    /// Reusable buffers for the scalar scanners.
    scratch: [Vec<u8>; 3],
}

impl<'a> Scanner<'a> {
    fn take_scratch(&mut self) -> [Vec<u8>; 3] {
        let mut bufs = std::mem::take(&mut self.scratch);
        for b in &mut bufs {
            b.clear();
        }
        bufs
    }

    fn new(text: &'a str) -> Self {
        let mut input = text.as_bytes();
        // The reader drops a UTF-8 BOM at the start of the stream.
        if input.starts_with(&[0xEF, 0xBB, 0xBF]) {
            input = &input[3..];
        }
        Scanner {
            input,
            pos: 0,
            checked: 0,
            mark: Mark::default(),
            tokens: VecDeque::new(),
            tokens_parsed: 0,
            token_available: false,
            stream_start_produced: false,
            stream_end_produced: false,
            indent: -1,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            keys_by_tok: VecDeque::new(),
            flow_level: 0,
            scratch: Default::default(),
        }
    }

    // -- reader ---------------------------------------------------------

    /// Make sure the next `n` characters have been through the reader check.
    #[inline]
    fn cache(&mut self, n: usize) -> Result<()> {
        if self.pos + 4 * n <= self.checked || self.checked == self.input.len() {
            return Ok(());
        }
        self.check_more(n)
    }

    #[cold]
    fn check_more(&mut self, n: usize) -> Result<()> {
        self.check_to((self.pos + 4 * n).max(self.checked + READ_CHUNK))
    }

    /// Run the reader's character check up to byte `want` (or the end).
    fn check_to(&mut self, want: usize) -> Result<()> {
        let len = self.input.len();
        let mut end = want.min(len);
        if end <= self.checked {
            return Ok(());
        }
        while end < len && (self.input[end] & 0xC0) == 0x80 {
            end += 1;
        }
        let chunk = &self.input[self.checked..end];
        let mut bad = false;
        let mut i = 0;
        while i < chunk.len() {
            // Runs of allowed ASCII first (table lookup per byte).
            while i < chunk.len() && ASCII_OK[chunk[i] as usize] {
                i += 1;
            }
            if i == chunk.len() {
                break;
            }
            let b = chunk[i];
            if b < 0x80 {
                if !(b == 0x09 || b == 0x0A || b == 0x0D || (0x20..=0x7E).contains(&b)) {
                    bad = true;
                    break;
                }
                i += 1;
                continue;
            }
            // The text is valid UTF-8: decode the code point in place.
            let w = width(b);
            let mut v = (b as u32) & (0x7F >> w);
            for k in 1..w {
                v = (v << 6) | (chunk.get(i + k).copied().unwrap_or(0x80) as u32 & 0x3F);
            }
            if !(v == 0x85
                || (0xA0..=0xD7FF).contains(&v)
                || (0xE000..=0xFFFD).contains(&v)
                || (0x10000..=0x10FFFF).contains(&v))
            {
                bad = true;
                break;
            }
            i += w;
        }
        if bad {
            return Err(ScanError {
                kind: ErrKind::Reader,
                problem: "control characters are not allowed".into(),
                problem_mark: Mark::default(),
                context_mark: Mark::default(),
            });
        }
        self.checked = end;
        Ok(())
    }

    #[inline]
    fn at(&self, k: usize) -> u8 {
        self.input.get(self.pos + k).copied().unwrap_or(0)
    }

    #[inline]
    fn ch(&self) -> u8 {
        self.at(0)
    }

    #[inline]
    fn is_z(&self) -> bool {
        self.pos >= self.input.len()
    }

    #[inline]
    fn is_blank_at(&self, k: usize) -> bool {
        matches!(self.at(k), b' ' | b'\t')
    }

    #[inline]
    fn is_break_at(&self, k: usize) -> bool {
        match self.at(k) {
            b'\r' | b'\n' => true,
            0xC2 => self.at(k + 1) == 0x85,
            0xE2 => self.at(k + 1) == 0x80 && matches!(self.at(k + 2), 0xA8 | 0xA9),
            _ => false,
        }
    }

    #[inline]
    fn is_breakz_at(&self, k: usize) -> bool {
        self.pos + k >= self.input.len() || self.is_break_at(k)
    }

    #[inline]
    fn is_blankz_at(&self, k: usize) -> bool {
        self.is_blank_at(k) || self.is_breakz_at(k)
    }

    #[inline]
    fn skip(&mut self) {
        self.mark.index += 1;
        self.mark.column += 1;
        self.pos += width(self.ch());
    }

    fn skip_line(&mut self) {
        if self.ch() == b'\r' && self.at(1) == b'\n' {
            self.mark.index += 2;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += 2;
        } else if self.is_break_at(0) {
            self.mark.index += 1;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += width(self.ch());
        }
    }

    #[inline]
    fn read(&mut self, s: &mut Vec<u8>) {
        let w = width(self.ch());
        let end = (self.pos + w).min(self.input.len());
        s.extend_from_slice(&self.input[self.pos..end]);
        self.pos += w;
        self.mark.index += 1;
        self.mark.column += 1;
    }

    fn read_line(&mut self, s: &mut Vec<u8>) {
        let (c0, c1, c2) = (self.at(0), self.at(1), self.at(2));
        if c0 == b'\r' && c1 == b'\n' {
            s.push(b'\n');
            self.pos += 2;
            self.mark.index += 1;
        } else if c0 == b'\r' || c0 == b'\n' {
            s.push(b'\n');
            self.pos += 1;
        } else if c0 == 0xC2 && c1 == 0x85 {
            s.push(b'\n');
            self.pos += 2;
        } else if c0 == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9) {
            s.extend_from_slice(&[c0, c1, c2]);
            self.pos += 3;
        } else {
            return;
        }
        self.mark.index += 1;
        self.mark.column = 0;
        self.mark.line += 1;
    }

    fn scanner_error(&self, context_mark: Mark, problem: &str) -> ScanError {
        ScanError {
            kind: ErrKind::Scanner,
            problem: problem.into(),
            problem_mark: self.mark,
            context_mark,
        }
    }

    // -- token queue ----------------------------------------------------

    fn insert_token(&mut self, pos: Option<usize>, token: Token) {
        match pos {
            None => self.tokens.push_back(token),
            Some(p) => self.tokens.insert(p.min(self.tokens.len()), token),
        }
    }

    fn keys_by_tok_get(&mut self, tok: usize) -> Option<usize> {
        while self.keys_by_tok.front().is_some_and(|e| e.0 < tok) {
            self.keys_by_tok.pop_front();
        }
        self.keys_by_tok.front().filter(|e| e.0 == tok).map(|e| e.1)
    }

    fn keys_by_tok_set(&mut self, tok: usize, idx: usize) {
        if let Some(e) = self.keys_by_tok.iter_mut().rev().find(|e| e.0 == tok) {
            e.1 = idx;
            return;
        }
        let at = self.keys_by_tok.partition_point(|e| e.0 < tok);
        self.keys_by_tok.insert(at, (tok, idx));
    }

    fn keys_by_tok_delete(&mut self, tok: usize) {
        if let Some(i) = self.keys_by_tok.iter().rposition(|e| e.0 == tok) {
            self.keys_by_tok.remove(i);
        }
    }

    /// Return the head token, scanning more as needed.
    fn peek(&mut self) -> Result<&Token> {
        if !self.token_available {
            self.fetch_more_tokens()?;
        }
        self.tokens
            .front()
            .ok_or_else(|| self.scanner_error(self.mark, "did not find expected <stream-end>"))
    }

    fn skip_token(&mut self) {
        self.token_available = false;
        self.tokens_parsed += 1;
        if let Some(t) = self.tokens.pop_front() {
            self.stream_end_produced = t.tok == Tok::StreamEnd;
        }
    }

    fn take_token(&mut self) -> Token {
        self.token_available = false;
        self.tokens_parsed += 1;
        let t = self.tokens.pop_front().unwrap_or(Token {
            tok: Tok::StreamEnd,
            start: self.mark,
            end: self.mark,
        });
        self.stream_end_produced = t.tok == Tok::StreamEnd;
        t
    }

    fn fetch_more_tokens(&mut self) -> Result<()> {
        loop {
            if !self.tokens.is_empty() {
                let Some(idx) = self.keys_by_tok_get(self.tokens_parsed) else {
                    break;
                };
                if !self.simple_key_is_valid(idx)? {
                    break;
                }
            }
            if self.stream_end_produced_in_queue() {
                break;
            }
            self.fetch_next_token()?;
        }
        self.token_available = true;
        Ok(())
    }

    /// Guard against scanning past STREAM-END (go-yaml never asks for it).
    fn stream_end_produced_in_queue(&self) -> bool {
        self.tokens.back().is_some_and(|t| t.tok == Tok::StreamEnd)
    }

    fn simple_key_is_valid(&mut self, idx: usize) -> Result<bool> {
        let key = self.simple_keys[idx];
        if !key.possible {
            return Ok(false);
        }
        // A simple key is limited to one line and 1024 characters.
        if key.mark.line < self.mark.line || key.mark.index + 1024 < self.mark.index {
            if key.required {
                return Err(self.scanner_error(key.mark, "could not find expected ':'"));
            }
            self.simple_keys[idx].possible = false;
            return Ok(false);
        }
        Ok(true)
    }

    fn fetch_next_token(&mut self) -> Result<()> {
        self.cache(1)?;
        if !self.stream_start_produced {
            self.fetch_stream_start();
            return Ok(());
        }
        self.scan_to_next_token()?;
        self.unroll_indent(self.mark.column as isize);
        self.cache(4)?;
        if self.is_z() {
            return self.fetch_stream_end();
        }
        let c = self.ch();
        let col0 = self.mark.column == 0;
        if col0 && c == b'%' {
            return self.fetch_directive();
        }
        if col0 && c == b'-' && self.at(1) == b'-' && self.at(2) == b'-' && self.is_blankz_at(3) {
            return self.fetch_document_indicator(Tok::DocumentStart);
        }
        if col0 && c == b'.' && self.at(1) == b'.' && self.at(2) == b'.' && self.is_blankz_at(3) {
            return self.fetch_document_indicator(Tok::DocumentEnd);
        }
        match c {
            b'[' => return self.fetch_flow_collection_start(Tok::FlowSequenceStart),
            b'{' => return self.fetch_flow_collection_start(Tok::FlowMappingStart),
            b']' => return self.fetch_flow_collection_end(Tok::FlowSequenceEnd),
            b'}' => return self.fetch_flow_collection_end(Tok::FlowMappingEnd),
            b',' => return self.fetch_flow_entry(),
            _ => {}
        }
        if c == b'-' && self.is_blankz_at(1) {
            return self.fetch_block_entry();
        }
        if c == b'?' && (self.flow_level > 0 || self.is_blankz_at(1)) {
            return self.fetch_key();
        }
        if c == b':' && (self.flow_level > 0 || self.is_blankz_at(1)) {
            return self.fetch_value();
        }
        match c {
            b'*' => return self.fetch_anchor(true),
            b'&' => return self.fetch_anchor(false),
            b'!' => return self.fetch_tag(),
            b'|' if self.flow_level == 0 => return self.fetch_block_scalar(true),
            b'>' if self.flow_level == 0 => return self.fetch_block_scalar(false),
            b'\'' => return self.fetch_flow_scalar(true),
            b'"' => return self.fetch_flow_scalar(false),
            _ => {}
        }
        let indicator = matches!(
            c,
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        );
        if !(self.is_blankz_at(0) || indicator)
            || (c == b'-' && !self.is_blank_at(1))
            || (self.flow_level == 0 && (c == b'?' || c == b':') && !self.is_blankz_at(1))
        {
            return self.fetch_plain_scalar();
        }
        Err(self.scanner_error(self.mark, "found character that cannot start any token"))
    }

    fn save_simple_key(&mut self) -> Result<()> {
        let required = self.flow_level == 0 && self.indent == self.mark.column as isize;
        if self.simple_key_allowed {
            let key = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens_parsed + self.tokens.len(),
                mark: self.mark,
            };
            self.remove_simple_key()?;
            let idx = self.simple_keys.len() - 1;
            self.simple_keys[idx] = key;
            self.keys_by_tok_set(key.token_number, idx);
        }
        Ok(())
    }

    fn remove_simple_key(&mut self) -> Result<()> {
        let i = self.simple_keys.len() - 1;
        let key = self.simple_keys[i];
        if key.possible {
            if key.required {
                return Err(self.scanner_error(key.mark, "could not find expected ':'"));
            }
            self.simple_keys[i].possible = false;
            self.keys_by_tok_delete(key.token_number);
        }
        Ok(())
    }

    fn increase_flow_level(&mut self) -> Result<()> {
        self.simple_keys.push(SimpleKey {
            token_number: self.tokens_parsed + self.tokens.len(),
            mark: self.mark,
            ..SimpleKey::default()
        });
        self.flow_level += 1;
        if self.flow_level > MAX_FLOW_LEVEL {
            return Err(self.scanner_error(
                self.mark,
                &format!("exceeded max depth of {MAX_FLOW_LEVEL}"),
            ));
        }
        Ok(())
    }

    fn decrease_flow_level(&mut self) {
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if let Some(k) = self.simple_keys.pop() {
                self.keys_by_tok_delete(k.token_number);
            }
        }
    }

    fn roll_indent(
        &mut self,
        column: isize,
        number: Option<usize>,
        tok: Tok,
        mark: Mark,
    ) -> Result<()> {
        if self.flow_level > 0 {
            return Ok(());
        }
        if self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            if self.indents.len() > MAX_INDENTS {
                let m = self.simple_keys.last().map_or(self.mark, |k| k.mark);
                return Err(self.scanner_error(m, &format!("exceeded max depth of {MAX_INDENTS}")));
            }
            let token = Token {
                tok,
                start: mark,
                end: mark,
            };
            self.insert_token(number.map(|n| n.saturating_sub(self.tokens_parsed)), token);
        }
        Ok(())
    }

    fn unroll_indent(&mut self, column: isize) {
        if self.flow_level > 0 {
            return;
        }
        while self.indent > column {
            let token = Token {
                tok: Tok::BlockEnd,
                start: self.mark,
                end: self.mark,
            };
            self.insert_token(None, token);
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn push_simple(&mut self, tok: Tok) {
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token { tok, start, end });
    }

    fn fetch_stream_start(&mut self) {
        self.indent = -1;
        self.simple_keys.push(SimpleKey::default());
        self.simple_key_allowed = true;
        self.stream_start_produced = true;
        let m = self.mark;
        self.insert_token(
            None,
            Token {
                tok: Tok::StreamStart,
                start: m,
                end: m,
            },
        );
    }

    fn fetch_stream_end(&mut self) -> Result<()> {
        if self.mark.column != 0 {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        self.unroll_indent(-1);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let m = self.mark;
        self.insert_token(
            None,
            Token {
                tok: Tok::StreamEnd,
                start: m,
                end: m,
            },
        );
        Ok(())
    }

    fn fetch_directive(&mut self) -> Result<()> {
        self.unroll_indent(-1);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_directive()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_document_indicator(&mut self, tok: Tok) -> Result<()> {
        self.unroll_indent(-1);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        self.skip();
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token { tok, start, end });
        Ok(())
    }

    fn fetch_flow_collection_start(&mut self, tok: Tok) -> Result<()> {
        self.save_simple_key()?;
        self.increase_flow_level()?;
        self.simple_key_allowed = true;
        self.push_simple(tok);
        Ok(())
    }

    fn fetch_flow_collection_end(&mut self, tok: Tok) -> Result<()> {
        self.remove_simple_key()?;
        self.decrease_flow_level();
        self.simple_key_allowed = false;
        self.push_simple(tok);
        Ok(())
    }

    fn fetch_flow_entry(&mut self) -> Result<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        self.push_simple(Tok::FlowEntry);
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> Result<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(self.scanner_error(
                    Mark::default(),
                    "block sequence entries are not allowed in this context",
                ));
            }
            let m = self.mark;
            self.roll_indent(m.column as isize, None, Tok::BlockSequenceStart, m)?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        self.push_simple(Tok::BlockEntry);
        Ok(())
    }

    fn fetch_key(&mut self) -> Result<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(self.scanner_error(
                    Mark::default(),
                    "mapping keys are not allowed in this context",
                ));
            }
            let m = self.mark;
            self.roll_indent(m.column as isize, None, Tok::BlockMappingStart, m)?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = self.flow_level == 0;
        self.push_simple(Tok::Key);
        Ok(())
    }

    fn fetch_value(&mut self) -> Result<()> {
        let idx = self.simple_keys.len() - 1;
        if self.simple_key_is_valid(idx)? {
            let key = self.simple_keys[idx];
            let token = Token {
                tok: Tok::Key,
                start: key.mark,
                end: key.mark,
            };
            self.insert_token(
                Some(key.token_number.saturating_sub(self.tokens_parsed)),
                token,
            );
            self.roll_indent(
                key.mark.column as isize,
                Some(key.token_number),
                Tok::BlockMappingStart,
                key.mark,
            )?;
            self.simple_keys[idx].possible = false;
            self.keys_by_tok_delete(key.token_number);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    return Err(self.scanner_error(
                        Mark::default(),
                        "mapping values are not allowed in this context",
                    ));
                }
                let m = self.mark;
                self.roll_indent(m.column as isize, None, Tok::BlockMappingStart, m)?;
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        self.push_simple(Tok::Value);
        Ok(())
    }

    fn fetch_anchor(&mut self, alias: bool) -> Result<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_anchor(alias)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_tag(&mut self) -> Result<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_tag()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_block_scalar(&mut self, literal: bool) -> Result<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let token = self.scan_block_scalar(literal)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_flow_scalar(&mut self, single: bool) -> Result<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_flow_scalar(single)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_plain_scalar(&mut self) -> Result<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_plain_scalar()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn scan_to_next_token(&mut self) -> Result<()> {
        loop {
            self.cache(1)?;
            // Quirk: go-yaml's is_bom() looks at the start of its buffer, not
            // at the current position, so a U+FEFF later in the text is
            // content (conformance README item 8).
            loop {
                let c = self.ch();
                if c == b' ' {
                    // Skip a run of spaces at once (spaces always pass the
                    // reader check).
                    let n = self.input[self.pos..]
                        .iter()
                        .take_while(|&&b| b == b' ')
                        .count();
                    self.pos += n;
                    self.mark.index += n;
                    self.mark.column += n;
                    self.cache(1)?;
                } else if (self.flow_level > 0 || !self.simple_key_allowed) && c == b'\t' {
                    self.skip();
                    self.cache(1)?;
                } else {
                    break;
                }
            }
            if self.ch() == b'#' {
                while !self.is_breakz_at(0) {
                    self.skip();
                    self.cache(1)?;
                }
            }
            if self.is_break_at(0) {
                self.cache(2)?;
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    fn skip_blanks_and_comment(&mut self) -> Result<()> {
        self.cache(1)?;
        while self.is_blank_at(0) {
            self.skip();
            self.cache(1)?;
        }
        if self.ch() == b'#' {
            while !self.is_breakz_at(0) {
                self.skip();
                self.cache(1)?;
            }
        }
        Ok(())
    }

    fn scan_directive(&mut self) -> Result<Token> {
        let start = self.mark;
        self.skip();
        let name = self.scan_directive_name(start)?;
        let tok = if name == b"YAML" {
            let (major, minor) = self.scan_version_directive_value(start)?;
            Tok::VersionDirective(major, minor)
        } else if name == b"TAG" {
            let (handle, prefix) = self.scan_tag_directive_value(start)?;
            Tok::TagDirective(handle, prefix)
        } else {
            return Err(self.scanner_error(start, "found unknown directive name"));
        };
        let end = self.mark;
        self.skip_blanks_and_comment()?;
        if !self.is_breakz_at(0) {
            return Err(self.scanner_error(start, "did not find expected comment or line break"));
        }
        if self.is_break_at(0) {
            self.cache(2)?;
            self.skip_line();
        }
        Ok(Token { tok, start, end })
    }

    fn scan_directive_name(&mut self, start: Mark) -> Result<Vec<u8>> {
        self.cache(1)?;
        let mut s = Vec::new();
        while is_alpha(self.ch()) {
            self.read(&mut s);
            self.cache(1)?;
        }
        if s.is_empty() {
            return Err(self.scanner_error(start, "could not find expected directive name"));
        }
        if !self.is_blankz_at(0) {
            return Err(self.scanner_error(start, "found unexpected non-alphabetical character"));
        }
        Ok(s)
    }

    fn scan_version_directive_value(&mut self, start: Mark) -> Result<(i32, i32)> {
        self.cache(1)?;
        while self.is_blank_at(0) {
            self.skip();
            self.cache(1)?;
        }
        let major = self.scan_version_directive_number(start)?;
        if self.ch() != b'.' {
            return Err(self.scanner_error(start, "did not find expected digit or '.' character"));
        }
        self.skip();
        let minor = self.scan_version_directive_number(start)?;
        Ok((major, minor))
    }

    fn scan_version_directive_number(&mut self, start: Mark) -> Result<i32> {
        self.cache(1)?;
        let mut value = 0i32;
        let mut length = 0;
        while self.ch().is_ascii_digit() {
            length += 1;
            if length > 2 {
                return Err(self.scanner_error(start, "found extremely long version number"));
            }
            value = value * 10 + (self.ch() - b'0') as i32;
            self.skip();
            self.cache(1)?;
        }
        if length == 0 {
            return Err(self.scanner_error(start, "did not find expected version number"));
        }
        Ok(value)
    }

    fn scan_tag_directive_value(&mut self, start: Mark) -> Result<(Vec<u8>, Vec<u8>)> {
        self.cache(1)?;
        while self.is_blank_at(0) {
            self.skip();
            self.cache(1)?;
        }
        let handle = self.scan_tag_handle(true, start)?;
        self.cache(1)?;
        if !self.is_blank_at(0) {
            return Err(self.scanner_error(start, "did not find expected whitespace"));
        }
        while self.is_blank_at(0) {
            self.skip();
            self.cache(1)?;
        }
        let prefix = self.scan_tag_uri(true, &[], start)?;
        self.cache(1)?;
        if !self.is_blankz_at(0) {
            return Err(self.scanner_error(start, "did not find expected whitespace or line break"));
        }
        Ok((handle, prefix))
    }

    fn scan_anchor(&mut self, alias: bool) -> Result<Token> {
        let start = self.mark;
        self.skip();
        self.cache(1)?;
        let mut s = Vec::new();
        while is_alpha(self.ch()) {
            self.read(&mut s);
            self.cache(1)?;
        }
        let end = self.mark;
        let c = self.ch();
        if s.is_empty()
            || !(self.is_blankz_at(0)
                || matches!(c, b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`'))
        {
            // Go's message carries only the problem, not the context.
            return Err(self.scanner_error(
                start,
                "did not find expected alphabetic or numeric character",
            ));
        }
        let tok = if alias { Tok::Alias(s) } else { Tok::Anchor(s) };
        Ok(Token { tok, start, end })
    }

    fn scan_tag(&mut self) -> Result<Token> {
        let start = self.mark;
        self.cache(2)?;
        let (handle, suffix);
        if self.at(1) == b'<' {
            self.skip();
            self.skip();
            suffix = self.scan_tag_uri(false, &[], start)?;
            if self.ch() != b'>' {
                return Err(self.scanner_error(start, "did not find the expected '>'"));
            }
            self.skip();
            handle = Vec::new();
        } else {
            let h = self.scan_tag_handle(false, start)?;
            if h.len() > 1 && h[0] == b'!' && h[h.len() - 1] == b'!' {
                suffix = self.scan_tag_uri(false, &[], start)?;
                handle = h;
            } else {
                let s = self.scan_tag_uri(false, &h, start)?;
                if s.is_empty() {
                    handle = Vec::new();
                    suffix = b"!".to_vec();
                } else {
                    handle = b"!".to_vec();
                    suffix = s;
                }
            }
        }
        self.cache(1)?;
        // go-yaml lets a ',' end a tag inside a flow collection.
        let tag_end = self.is_blankz_at(0) || (self.flow_level > 0 && self.ch() == b',');
        if !tag_end {
            return Err(self.scanner_error(start, "did not find expected whitespace or line break"));
        }
        let end = self.mark;
        Ok(Token {
            tok: Tok::Tag(handle, suffix),
            start,
            end,
        })
    }

    fn scan_tag_handle(&mut self, directive: bool, start: Mark) -> Result<Vec<u8>> {
        self.cache(1)?;
        if self.ch() != b'!' {
            return Err(self.scanner_error(start, "did not find expected '!'"));
        }
        let mut s = Vec::new();
        self.read(&mut s);
        self.cache(1)?;
        while is_alpha(self.ch()) {
            self.read(&mut s);
            self.cache(1)?;
        }
        if self.ch() == b'!' {
            self.read(&mut s);
        } else if directive && s != b"!" {
            return Err(self.scanner_error(start, "did not find expected '!'"));
        }
        Ok(s)
    }

    fn scan_tag_uri(&mut self, directive: bool, head: &[u8], start: Mark) -> Result<Vec<u8>> {
        let mut s = Vec::new();
        let mut has_tag = !head.is_empty();
        if head.len() > 1 {
            s.extend_from_slice(&head[1..]);
        }
        self.cache(1)?;
        loop {
            let c = self.ch();
            let ok = is_alpha(c)
                || matches!(
                    c,
                    b';' | b'/'
                        | b'?'
                        | b':'
                        | b'@'
                        | b'&'
                        | b'='
                        | b'+'
                        | b'$'
                        | b','
                        | b'.'
                        | b'!'
                        | b'~'
                        | b'*'
                        | b'\''
                        | b'('
                        | b')'
                        | b'['
                        | b']'
                        | b'%'
                );
            if !ok {
                break;
            }
            if c == b'%' {
                self.scan_uri_escapes(directive, start, &mut s)?;
            } else {
                self.read(&mut s);
            }
            self.cache(1)?;
            has_tag = true;
        }
        if !has_tag {
            return Err(self.scanner_error(start, "did not find expected tag URI"));
        }
        Ok(s)
    }

    fn scan_uri_escapes(&mut self, _directive: bool, start: Mark, s: &mut Vec<u8>) -> Result<()> {
        let mut w = 1024usize;
        while w > 0 {
            self.cache(3)?;
            if !(self.ch() == b'%'
                && self.at(1).is_ascii_hexdigit()
                && self.at(2).is_ascii_hexdigit())
            {
                return Err(self.scanner_error(start, "did not find URI escaped octet"));
            }
            let octet = ((hex_val(self.at(1)) << 4) + hex_val(self.at(2))) as u8;
            if w == 1024 {
                w = match octet {
                    o if o & 0x80 == 0 => 1,
                    o if o & 0xE0 == 0xC0 => 2,
                    o if o & 0xF0 == 0xE0 => 3,
                    o if o & 0xF8 == 0xF0 => 4,
                    _ => {
                        return Err(
                            self.scanner_error(start, "found an incorrect leading UTF-8 octet")
                        );
                    }
                };
            } else if octet & 0xC0 != 0x80 {
                return Err(self.scanner_error(start, "found an incorrect trailing UTF-8 octet"));
            }
            s.push(octet);
            self.skip();
            self.skip();
            self.skip();
            w -= 1;
        }
        Ok(())
    }

    fn scan_block_scalar(&mut self, literal: bool) -> Result<Token> {
        let start = self.mark;
        self.skip();
        self.cache(1)?;
        let mut chomping = 0i32;
        let mut increment = 0usize;
        let c = self.ch();
        if c == b'+' || c == b'-' {
            chomping = if c == b'+' { 1 } else { -1 };
            self.skip();
            self.cache(1)?;
            if self.ch().is_ascii_digit() {
                if self.ch() == b'0' {
                    return Err(
                        self.scanner_error(start, "found an indentation indicator equal to 0")
                    );
                }
                increment = (self.ch() - b'0') as usize;
                self.skip();
            }
        } else if c.is_ascii_digit() {
            if c == b'0' {
                return Err(self.scanner_error(start, "found an indentation indicator equal to 0"));
            }
            increment = (c - b'0') as usize;
            self.skip();
            self.cache(1)?;
            let c = self.ch();
            if c == b'+' || c == b'-' {
                chomping = if c == b'+' { 1 } else { -1 };
                self.skip();
            }
        }
        self.skip_blanks_and_comment()?;
        if !self.is_breakz_at(0) {
            return Err(self.scanner_error(start, "did not find expected comment or line break"));
        }
        if self.is_break_at(0) {
            self.cache(2)?;
            self.skip_line();
        }
        let mut end = self.mark;
        let mut indent: usize = 0;
        if increment > 0 {
            indent = if self.indent >= 0 {
                self.indent as usize + increment
            } else {
                increment
            };
        }
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        self.cache(1)?;
        let mut leading_blank = false;
        while self.mark.column == indent && !self.is_z() {
            let trailing_blank = self.is_blank_at(0);
            if !literal
                && !leading_blank
                && !trailing_blank
                && leading_break.first() == Some(&b'\n')
            {
                if trailing_breaks.is_empty() {
                    s.push(b' ');
                }
            } else {
                s.extend_from_slice(&leading_break);
            }
            leading_break.clear();
            s.extend_from_slice(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = self.is_blank_at(0);
            // Copy the rest of the line in one go.
            let line_start = self.pos;
            let mut p = line_start;
            let len = self.input.len();
            while p < len {
                if BREAK_LEAD[self.input[p] as usize] {
                    self.pos = p;
                    if self.is_break_at(0) {
                        break;
                    }
                }
                p += 1;
            }
            let line_end = p;
            // The reader would have checked every character of the line.
            self.check_to(line_end + 4)?;
            self.pos = line_end;
            let line = &self.input[line_start..line_end];
            let chars = line.iter().filter(|&&c| c & 0xC0 != 0x80).count();
            s.extend_from_slice(line);
            self.mark.index += chars;
            self.mark.column += chars;
            self.cache(2)?;
            self.read_line(&mut leading_break);
            self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        }
        if chomping != -1 {
            s.extend_from_slice(&leading_break);
        }
        if chomping == 1 {
            s.extend_from_slice(&trailing_breaks);
        }
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        Ok(Token {
            tok: Tok::Scalar(s, style),
            start,
            end,
        })
    }

    fn scan_block_scalar_breaks(
        &mut self,
        indent: &mut usize,
        breaks: &mut Vec<u8>,
        start: Mark,
        end: &mut Mark,
    ) -> Result<()> {
        *end = self.mark;
        let mut max_indent = 0;
        loop {
            self.cache(1)?;
            while (*indent == 0 || self.mark.column < *indent) && self.ch() == b' ' {
                self.skip();
                self.cache(1)?;
            }
            if self.mark.column > max_indent {
                max_indent = self.mark.column;
            }
            if (*indent == 0 || self.mark.column < *indent) && self.ch() == b'\t' {
                return Err(self.scanner_error(
                    start,
                    "found a tab character where an indentation space is expected",
                ));
            }
            if !self.is_break_at(0) {
                break;
            }
            self.cache(2)?;
            self.read_line(breaks);
            *end = self.mark;
        }
        if *indent == 0 {
            *indent = max_indent;
            let min = (self.indent + 1).max(1) as usize;
            if *indent < min {
                *indent = min;
            }
        }
        Ok(())
    }

    fn scan_flow_scalar(&mut self, single: bool) -> Result<Token> {
        let start = self.mark;
        self.skip();
        let mut s: Vec<u8> = Vec::new();
        // Scratch buffers are reused across scalars to save allocations.
        let [mut leading_break, mut trailing_breaks, mut whitespaces] = self.take_scratch();
        loop {
            self.cache(4)?;
            if self.mark.column == 0
                && ((self.ch() == b'-' && self.at(1) == b'-' && self.at(2) == b'-')
                    || (self.ch() == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
                && self.is_blankz_at(3)
            {
                return Err(self.scanner_error(start, "found unexpected document indicator"));
            }
            if self.is_z() {
                return Err(self.scanner_error(start, "found unexpected end of stream"));
            }
            let mut leading_blanks = false;
            while !self.is_blankz_at(0) {
                let c = self.ch();
                if single && c == b'\'' && self.at(1) == b'\'' {
                    s.push(b'\'');
                    self.skip();
                    self.skip();
                } else if (single && c == b'\'') || (!single && c == b'"') {
                    break;
                } else if !single && c == b'\\' && self.is_break_at(1) {
                    self.cache(3)?;
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == b'\\' {
                    let mut code_length = 0;
                    let simple: Option<&[u8]> = match self.at(1) {
                        b'0' => Some(b"\0"),
                        b'a' => Some(b"\x07"),
                        b'b' => Some(b"\x08"),
                        b't' | b'\t' => Some(b"\t"),
                        b'n' => Some(b"\n"),
                        b'v' => Some(b"\x0B"),
                        b'f' => Some(b"\x0C"),
                        b'r' => Some(b"\r"),
                        b'e' => Some(b"\x1B"),
                        b' ' => Some(b" "),
                        b'"' => Some(b"\""),
                        b'\'' => Some(b"'"),
                        b'\\' => Some(b"\\"),
                        b'N' => Some("\u{85}".as_bytes()),
                        b'_' => Some("\u{A0}".as_bytes()),
                        b'L' => Some("\u{2028}".as_bytes()),
                        b'P' => Some("\u{2029}".as_bytes()),
                        b'x' => {
                            code_length = 2;
                            None
                        }
                        b'u' => {
                            code_length = 4;
                            None
                        }
                        b'U' => {
                            code_length = 8;
                            None
                        }
                        _ => {
                            return Err(self.scanner_error(start, "found unknown escape character"));
                        }
                    };
                    if let Some(bytes) = simple {
                        s.extend_from_slice(bytes);
                    }
                    self.skip();
                    self.skip();
                    if code_length > 0 {
                        self.cache(code_length)?;
                        let mut value: u32 = 0;
                        for k in 0..code_length {
                            if !self.at(k).is_ascii_hexdigit() {
                                return Err(self.scanner_error(
                                    start,
                                    "did not find expected hexdecimal number",
                                ));
                            }
                            value = (value << 4) + hex_val(self.at(k));
                        }
                        let Some(ch) = char::from_u32(value) else {
                            return Err(self.scanner_error(
                                start,
                                "found invalid Unicode character escape code",
                            ));
                        };
                        let mut buf = [0u8; 4];
                        s.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        for _ in 0..code_length {
                            self.skip();
                        }
                    }
                } else if (0x21..=0x7E).contains(&c) {
                    // A run of printable ASCII without quotes or escapes.
                    let quote = if single { b'\'' } else { b'"' };
                    let run_start = self.pos;
                    let mut p = self.pos + 1;
                    let lim = self.checked.min(self.input.len());
                    while p < lim {
                        let d = self.input[p];
                        if (0x21..=0x7E).contains(&d) && d != quote && d != b'\\' {
                            p += 1;
                        } else {
                            break;
                        }
                    }
                    let n = p - run_start;
                    s.extend_from_slice(&self.input[run_start..p]);
                    self.pos = p;
                    self.mark.index += n;
                    self.mark.column += n;
                } else {
                    self.read(&mut s);
                }
                self.cache(2)?;
            }
            self.cache(1)?;
            let c = self.ch();
            if (single && c == b'\'') || (!single && c == b'"') {
                break;
            }
            while self.is_blank_at(0) || self.is_break_at(0) {
                if self.is_blank_at(0) {
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else {
                    self.cache(2)?;
                    if !leading_blanks {
                        whitespaces.clear();
                        self.read_line(&mut leading_break);
                        leading_blanks = true;
                    } else {
                        self.read_line(&mut trailing_breaks);
                    }
                }
                self.cache(1)?;
            }
            if leading_blanks {
                if leading_break.first() == Some(&b'\n') {
                    if trailing_breaks.is_empty() {
                        s.push(b' ');
                    } else {
                        s.extend_from_slice(&trailing_breaks);
                    }
                } else {
                    s.extend_from_slice(&leading_break);
                    s.extend_from_slice(&trailing_breaks);
                }
                trailing_breaks.clear();
                leading_break.clear();
            } else {
                s.extend_from_slice(&whitespaces);
                whitespaces.clear();
            }
        }
        self.scratch = [leading_break, trailing_breaks, whitespaces];
        self.skip();
        let end = self.mark;
        let style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        Ok(Token {
            tok: Tok::Scalar(s, style),
            start,
            end,
        })
    }

    fn scan_plain_scalar(&mut self) -> Result<Token> {
        let mut s: Vec<u8> = Vec::new();
        // Scratch buffers are reused across scalars to save allocations.
        let [mut leading_break, mut trailing_breaks, mut whitespaces] = self.take_scratch();
        let mut leading_blanks = false;
        let indent = self.indent + 1;
        let start = self.mark;
        let mut end = self.mark;
        loop {
            self.cache(4)?;
            if self.mark.column == 0
                && ((self.ch() == b'-' && self.at(1) == b'-' && self.at(2) == b'-')
                    || (self.ch() == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
                && self.is_blankz_at(3)
            {
                break;
            }
            if self.ch() == b'#' {
                break;
            }
            while !self.is_blankz_at(0) {
                let c = self.ch();
                if (c == b':' && self.is_blankz_at(1))
                    || (self.flow_level > 0 && matches!(c, b',' | b'?' | b'[' | b']' | b'{' | b'}'))
                {
                    break;
                }
                if leading_blanks || !whitespaces.is_empty() {
                    if leading_blanks {
                        if leading_break.first() == Some(&b'\n') {
                            if trailing_breaks.is_empty() {
                                s.push(b' ');
                            } else {
                                s.extend_from_slice(&trailing_breaks);
                            }
                        } else {
                            s.extend_from_slice(&leading_break);
                            s.extend_from_slice(&trailing_breaks);
                        }
                        trailing_breaks.clear();
                        leading_break.clear();
                        leading_blanks = false;
                    } else {
                        s.extend_from_slice(&whitespaces);
                        whitespaces.clear();
                    }
                }
                // Fast path: a run of printable ASCII that cannot end the
                // scalar (no ':', no flow indicators inside collections).
                if (0x21..=0x7E).contains(&c) {
                    let flow = self.flow_level > 0;
                    let run_start = self.pos;
                    let mut p = self.pos + 1;
                    let lim = self.checked.min(self.input.len());
                    while p < lim {
                        let d = self.input[p];
                        if (0x21..=0x7E).contains(&d)
                            && d != b':'
                            && !(flow && matches!(d, b',' | b'?' | b'[' | b']' | b'{' | b'}'))
                        {
                            p += 1;
                        } else {
                            break;
                        }
                    }
                    let n = p - run_start;
                    s.extend_from_slice(&self.input[run_start..p]);
                    self.pos = p;
                    self.mark.index += n;
                    self.mark.column += n;
                    end = self.mark;
                    self.cache(2)?;
                    continue;
                }
                self.read(&mut s);
                end = self.mark;
                self.cache(2)?;
            }
            if !(self.is_blank_at(0) || self.is_break_at(0)) {
                break;
            }
            self.cache(1)?;
            while self.is_blank_at(0) || self.is_break_at(0) {
                if self.is_blank_at(0) {
                    if leading_blanks && (self.mark.column as isize) < indent && self.ch() == b'\t'
                    {
                        return Err(self.scanner_error(
                            start,
                            "found a tab character that violates indentation",
                        ));
                    }
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else {
                    self.cache(2)?;
                    if !leading_blanks {
                        whitespaces.clear();
                        self.read_line(&mut leading_break);
                        leading_blanks = true;
                    } else {
                        self.read_line(&mut trailing_breaks);
                    }
                }
                self.cache(1)?;
            }
            if self.flow_level == 0 && (self.mark.column as isize) < indent {
                break;
            }
        }
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        self.scratch = [leading_break, trailing_breaks, whitespaces];
        Ok(Token {
            tok: Tok::Scalar(s, ScalarStyle::Plain),
            start,
            end,
        })
    }
}

// ---------------------------------------------------------------------------
// Parser (parserc.go): tokens to events.

/// A parsing event, with the fields go-yaml's decoder uses.
#[derive(Debug)]
pub(super) enum Event {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: String,
        value: String,
        plain_implicit: bool,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: String,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: String,
    },
    MappingEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StreamStart,
    ImplicitDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    BlockNode,
    BlockSequenceFirstEntry,
    BlockSequenceEntry,
    IndentlessSequenceEntry,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirstEntry,
    FlowSequenceEntry,
    FlowSequenceEntryMappingKey,
    FlowSequenceEntryMappingValue,
    FlowSequenceEntryMappingEnd,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingValue,
    FlowMappingEmptyValue,
    End,
}

pub(super) struct Parser<'a> {
    scanner: Scanner<'a>,
    state: State,
    states: Vec<State>,
    marks: Vec<Mark>,
    tag_directives: Vec<(Vec<u8>, Vec<u8>)>,
}

fn lossy(v: Vec<u8>) -> String {
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn parser_error(problem: &str, problem_mark: Mark, context_mark: Mark) -> ScanError {
    ScanError {
        kind: ErrKind::Parser,
        problem: problem.into(),
        problem_mark,
        context_mark,
    }
}

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Parser {
            scanner: Scanner::new(text),
            state: State::StreamStart,
            states: Vec::new(),
            marks: Vec::new(),
            tag_directives: Vec::new(),
        }
    }

    fn pop_state(&mut self) -> State {
        self.states.pop().unwrap_or(State::End)
    }

    fn pop_mark(&mut self) -> Mark {
        self.marks.pop().unwrap_or_default()
    }

    fn peek_kind(&mut self) -> Result<(Tok, Mark, Mark)> {
        let t = self.scanner.peek()?;
        // Cheap clone for the structural tokens; payload tokens are taken.
        let tok = match &t.tok {
            Tok::Scalar(..) => Tok::Scalar(Vec::new(), ScalarStyle::Plain),
            Tok::Alias(_) => Tok::Alias(Vec::new()),
            Tok::Anchor(_) => Tok::Anchor(Vec::new()),
            Tok::Tag(..) => Tok::Tag(Vec::new(), Vec::new()),
            Tok::TagDirective(..) => Tok::TagDirective(Vec::new(), Vec::new()),
            other => other.clone(),
        };
        Ok((tok, t.start, t.end))
    }

    /// Produce the next event (go-yaml `yaml_parser_parse`).
    pub(super) fn next_event(&mut self) -> Result<Event> {
        if self.scanner.stream_end_produced || self.state == State::End {
            return Ok(Event::StreamEnd);
        }
        match self.state {
            State::StreamStart => self.parse_stream_start(),
            State::ImplicitDocumentStart => self.parse_document_start(true),
            State::DocumentStart => self.parse_document_start(false),
            State::DocumentContent => self.parse_document_content(),
            State::DocumentEnd => self.parse_document_end(),
            State::BlockNode => self.parse_node(true, false),
            State::BlockSequenceFirstEntry => self.parse_block_sequence_entry(true),
            State::BlockSequenceEntry => self.parse_block_sequence_entry(false),
            State::IndentlessSequenceEntry => self.parse_indentless_sequence_entry(),
            State::BlockMappingFirstKey => self.parse_block_mapping_key(true),
            State::BlockMappingKey => self.parse_block_mapping_key(false),
            State::BlockMappingValue => self.parse_block_mapping_value(),
            State::FlowSequenceFirstEntry => self.parse_flow_sequence_entry(true),
            State::FlowSequenceEntry => self.parse_flow_sequence_entry(false),
            State::FlowSequenceEntryMappingKey => self.parse_flow_sequence_entry_mapping_key(),
            State::FlowSequenceEntryMappingValue => self.parse_flow_sequence_entry_mapping_value(),
            State::FlowSequenceEntryMappingEnd => {
                self.peek_kind()?;
                self.state = State::FlowSequenceEntry;
                Ok(Event::MappingEnd)
            }
            State::FlowMappingFirstKey => self.parse_flow_mapping_key(true),
            State::FlowMappingKey => self.parse_flow_mapping_key(false),
            State::FlowMappingValue => self.parse_flow_mapping_value(false),
            State::FlowMappingEmptyValue => self.parse_flow_mapping_value(true),
            State::End => Ok(Event::StreamEnd),
        }
    }

    fn parse_stream_start(&mut self) -> Result<Event> {
        let (tok, start, _) = self.peek_kind()?;
        if tok != Tok::StreamStart {
            return Err(parser_error(
                "did not find expected <stream-start>",
                start,
                Mark::default(),
            ));
        }
        self.state = State::ImplicitDocumentStart;
        self.scanner.skip_token();
        Ok(Event::StreamStart)
    }

    fn parse_document_start(&mut self, implicit: bool) -> Result<Event> {
        let (mut tok, _, _) = self.peek_kind()?;
        if !implicit {
            while tok == Tok::DocumentEnd {
                self.scanner.skip_token();
                tok = self.peek_kind()?.0;
            }
        }
        let is_directive = matches!(tok, Tok::VersionDirective(..) | Tok::TagDirective(..));
        if implicit && !is_directive && tok != Tok::DocumentStart && tok != Tok::StreamEnd {
            self.process_directives()?;
            self.states.push(State::DocumentEnd);
            self.state = State::BlockNode;
            Ok(Event::DocumentStart)
        } else if tok != Tok::StreamEnd {
            self.process_directives()?;
            let (tok, start, _) = self.peek_kind()?;
            if tok != Tok::DocumentStart {
                return Err(parser_error(
                    "did not find expected <document start>",
                    start,
                    Mark::default(),
                ));
            }
            self.states.push(State::DocumentEnd);
            self.state = State::DocumentContent;
            self.scanner.skip_token();
            Ok(Event::DocumentStart)
        } else {
            self.state = State::End;
            self.scanner.skip_token();
            Ok(Event::StreamEnd)
        }
    }

    fn parse_document_content(&mut self) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if matches!(
            tok,
            Tok::VersionDirective(..)
                | Tok::TagDirective(..)
                | Tok::DocumentStart
                | Tok::DocumentEnd
                | Tok::StreamEnd
        ) {
            self.state = self.pop_state();
            return Ok(empty_scalar());
        }
        self.parse_node(true, false)
    }

    fn parse_document_end(&mut self) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if tok == Tok::DocumentEnd {
            self.scanner.skip_token();
        }
        self.tag_directives.clear();
        self.state = State::DocumentStart;
        Ok(Event::DocumentEnd)
    }

    fn parse_node(&mut self, block: bool, indentless_sequence: bool) -> Result<Event> {
        let (mut tok, mut start, _) = self.peek_kind()?;
        if let Tok::Alias(_) = tok {
            self.state = self.pop_state();
            let t = self.scanner.take_token();
            let Tok::Alias(name) = t.tok else {
                unreachable!()
            };
            return Ok(Event::Alias {
                anchor: lossy(name),
            });
        }
        let mut anchor: Option<Vec<u8>> = None;
        let mut tag_parts: Option<(Vec<u8>, Vec<u8>)> = None;
        let mut tag_mark = Mark::default();
        let node_start = start;
        if let Tok::Anchor(_) = tok {
            if let Tok::Anchor(a) = self.scanner.take_token().tok {
                anchor = Some(a);
            }
            (tok, start, _) = self.peek_kind()?;
            if let Tok::Tag(..) = tok {
                tag_mark = start;
                if let Tok::Tag(h, s) = self.scanner.take_token().tok {
                    tag_parts = Some((h, s));
                }
                (tok, start, _) = self.peek_kind()?;
            }
        } else if let Tok::Tag(..) = tok {
            tag_mark = start;
            if let Tok::Tag(h, s) = self.scanner.take_token().tok {
                tag_parts = Some((h, s));
            }
            (tok, start, _) = self.peek_kind()?;
            if let Tok::Anchor(_) = tok {
                if let Tok::Anchor(a) = self.scanner.take_token().tok {
                    anchor = Some(a);
                }
                (tok, start, _) = self.peek_kind()?;
            }
        }
        let mut tag: Vec<u8> = Vec::new();
        if let Some((handle, suffix)) = tag_parts {
            if handle.is_empty() {
                tag = suffix;
            } else {
                match self.tag_directives.iter().find(|(h, _)| *h == handle) {
                    Some((_, prefix)) => {
                        tag = prefix.clone();
                        tag.extend_from_slice(&suffix);
                    }
                    None => {
                        return Err(parser_error(
                            "found undefined tag handle",
                            tag_mark,
                            node_start,
                        ));
                    }
                }
            }
        }
        let anchor = anchor.map(lossy);
        let tag_s = lossy(tag);
        if indentless_sequence && tok == Tok::BlockEntry {
            self.state = State::IndentlessSequenceEntry;
            return Ok(Event::SequenceStart { anchor, tag: tag_s });
        }
        match tok {
            Tok::Scalar(..) => {
                self.state = self.pop_state();
                let t = self.scanner.take_token();
                let Tok::Scalar(value, style) = t.tok else {
                    unreachable!()
                };
                let plain_implicit =
                    (tag_s.is_empty() && style == ScalarStyle::Plain) || tag_s == "!";
                Ok(Event::Scalar {
                    anchor,
                    tag: tag_s,
                    value: lossy(value),
                    plain_implicit,
                })
            }
            Tok::FlowSequenceStart => {
                self.state = State::FlowSequenceFirstEntry;
                Ok(Event::SequenceStart { anchor, tag: tag_s })
            }
            Tok::FlowMappingStart => {
                self.state = State::FlowMappingFirstKey;
                Ok(Event::MappingStart { anchor, tag: tag_s })
            }
            Tok::BlockSequenceStart if block => {
                self.state = State::BlockSequenceFirstEntry;
                Ok(Event::SequenceStart { anchor, tag: tag_s })
            }
            Tok::BlockMappingStart if block => {
                self.state = State::BlockMappingFirstKey;
                Ok(Event::MappingStart { anchor, tag: tag_s })
            }
            _ if anchor.is_some() || !tag_s.is_empty() => {
                self.state = self.pop_state();
                let implicit = tag_s.is_empty();
                Ok(Event::Scalar {
                    anchor,
                    tag: tag_s,
                    value: String::new(),
                    plain_implicit: implicit,
                })
            }
            _ => Err(parser_error(
                "did not find expected node content",
                start,
                node_start,
            )),
        }
    }

    fn parse_block_sequence_entry(&mut self, first: bool) -> Result<Event> {
        if first {
            let (_, start, _) = self.peek_kind()?;
            self.marks.push(start);
            self.scanner.skip_token();
        }
        let (tok, start, _) = self.peek_kind()?;
        if tok == Tok::BlockEntry {
            self.scanner.skip_token();
            let (tok, _, _) = self.peek_kind()?;
            if tok != Tok::BlockEntry && tok != Tok::BlockEnd {
                self.states.push(State::BlockSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::BlockSequenceEntry;
            return Ok(empty_scalar());
        }
        if tok == Tok::BlockEnd {
            self.state = self.pop_state();
            self.pop_mark();
            self.scanner.skip_token();
            return Ok(Event::SequenceEnd);
        }
        let context_mark = self.pop_mark();
        Err(parser_error(
            "did not find expected '-' indicator",
            start,
            context_mark,
        ))
    }

    fn parse_indentless_sequence_entry(&mut self) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if tok == Tok::BlockEntry {
            self.scanner.skip_token();
            let (tok, _, _) = self.peek_kind()?;
            if !matches!(tok, Tok::BlockEntry | Tok::Key | Tok::Value | Tok::BlockEnd) {
                self.states.push(State::IndentlessSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::IndentlessSequenceEntry;
            return Ok(empty_scalar());
        }
        self.state = self.pop_state();
        Ok(Event::SequenceEnd)
    }

    fn parse_block_mapping_key(&mut self, first: bool) -> Result<Event> {
        if first {
            let (_, start, _) = self.peek_kind()?;
            self.marks.push(start);
            self.scanner.skip_token();
        }
        let (tok, start, _) = self.peek_kind()?;
        if tok == Tok::Key {
            self.scanner.skip_token();
            let (tok, _, _) = self.peek_kind()?;
            if !matches!(tok, Tok::Key | Tok::Value | Tok::BlockEnd) {
                self.states.push(State::BlockMappingValue);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingValue;
            return Ok(empty_scalar());
        }
        if tok == Tok::BlockEnd {
            self.state = self.pop_state();
            self.pop_mark();
            self.scanner.skip_token();
            return Ok(Event::MappingEnd);
        }
        let context_mark = self.pop_mark();
        Err(parser_error(
            "did not find expected key",
            start,
            context_mark,
        ))
    }

    fn parse_block_mapping_value(&mut self) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if tok == Tok::Value {
            self.scanner.skip_token();
            let (tok, _, _) = self.peek_kind()?;
            if !matches!(tok, Tok::Key | Tok::Value | Tok::BlockEnd) {
                self.states.push(State::BlockMappingKey);
                return self.parse_node(true, true);
            }
        }
        self.state = State::BlockMappingKey;
        Ok(empty_scalar())
    }

    fn parse_flow_sequence_entry(&mut self, first: bool) -> Result<Event> {
        if first {
            let (_, start, _) = self.peek_kind()?;
            self.marks.push(start);
            self.scanner.skip_token();
        }
        let (mut tok, start, _) = self.peek_kind()?;
        if tok != Tok::FlowSequenceEnd {
            if !first {
                if tok == Tok::FlowEntry {
                    self.scanner.skip_token();
                    tok = self.peek_kind()?.0;
                } else {
                    let context_mark = self.pop_mark();
                    return Err(parser_error(
                        "did not find expected ',' or ']'",
                        start,
                        context_mark,
                    ));
                }
            }
            if tok == Tok::Key {
                self.state = State::FlowSequenceEntryMappingKey;
                self.scanner.skip_token();
                return Ok(Event::MappingStart {
                    anchor: None,
                    tag: String::new(),
                });
            } else if tok != Tok::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntry);
                return self.parse_node(false, false);
            }
        }
        self.state = self.pop_state();
        self.pop_mark();
        self.scanner.skip_token();
        Ok(Event::SequenceEnd)
    }

    fn parse_flow_sequence_entry_mapping_key(&mut self) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if !matches!(tok, Tok::Value | Tok::FlowEntry | Tok::FlowSequenceEnd) {
            self.states.push(State::FlowSequenceEntryMappingValue);
            return self.parse_node(false, false);
        }
        self.scanner.skip_token();
        self.state = State::FlowSequenceEntryMappingValue;
        Ok(empty_scalar())
    }

    fn parse_flow_sequence_entry_mapping_value(&mut self) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if tok == Tok::Value {
            self.scanner.skip_token();
            let (tok, _, _) = self.peek_kind()?;
            if tok != Tok::FlowEntry && tok != Tok::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntryMappingEnd);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowSequenceEntryMappingEnd;
        Ok(empty_scalar())
    }

    fn parse_flow_mapping_key(&mut self, first: bool) -> Result<Event> {
        if first {
            let (_, start, _) = self.peek_kind()?;
            self.marks.push(start);
            self.scanner.skip_token();
        }
        let (mut tok, start, _) = self.peek_kind()?;
        if tok != Tok::FlowMappingEnd {
            if !first {
                if tok == Tok::FlowEntry {
                    self.scanner.skip_token();
                    tok = self.peek_kind()?.0;
                } else {
                    let context_mark = self.pop_mark();
                    return Err(parser_error(
                        "did not find expected ',' or '}'",
                        start,
                        context_mark,
                    ));
                }
            }
            if tok == Tok::Key {
                self.scanner.skip_token();
                let (tok, _, _) = self.peek_kind()?;
                if !matches!(tok, Tok::Value | Tok::FlowEntry | Tok::FlowMappingEnd) {
                    self.states.push(State::FlowMappingValue);
                    return self.parse_node(false, false);
                }
                self.state = State::FlowMappingValue;
                return Ok(empty_scalar());
            } else if tok != Tok::FlowMappingEnd {
                self.states.push(State::FlowMappingEmptyValue);
                return self.parse_node(false, false);
            }
        }
        self.state = self.pop_state();
        self.pop_mark();
        self.scanner.skip_token();
        Ok(Event::MappingEnd)
    }

    fn parse_flow_mapping_value(&mut self, empty: bool) -> Result<Event> {
        let (tok, _, _) = self.peek_kind()?;
        if empty {
            self.state = State::FlowMappingKey;
            return Ok(empty_scalar());
        }
        if tok == Tok::Value {
            self.scanner.skip_token();
            let (tok, _, _) = self.peek_kind()?;
            if tok != Tok::FlowEntry && tok != Tok::FlowMappingEnd {
                self.states.push(State::FlowMappingKey);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowMappingKey;
        Ok(empty_scalar())
    }

    /// Check %YAML and collect %TAG directives (plus the default handles).
    fn process_directives(&mut self) -> Result<()> {
        let mut version: Option<(i32, i32)> = None;
        loop {
            let (tok, start, _) = self.peek_kind()?;
            match tok {
                Tok::VersionDirective(major, minor) => {
                    if version.is_some() {
                        return Err(parser_error(
                            "found duplicate %YAML directive",
                            start,
                            Mark::default(),
                        ));
                    }
                    // Quirk: go-yaml accepts only 1.1; libyaml 0.2.5 also
                    // takes 1.2 (conformance README item 8).
                    if major != 1 || minor != 1 {
                        return Err(parser_error(
                            "found incompatible YAML document",
                            start,
                            Mark::default(),
                        ));
                    }
                    version = Some((major, minor));
                    self.scanner.skip_token();
                }
                Tok::TagDirective(..) => {
                    let t = self.scanner.take_token();
                    if let Tok::TagDirective(handle, prefix) = t.tok {
                        if self.tag_directives.iter().any(|(h, _)| *h == handle) {
                            return Err(parser_error(
                                "found duplicate %TAG directive",
                                start,
                                Mark::default(),
                            ));
                        }
                        self.tag_directives.push((handle, prefix));
                    }
                }
                _ => break,
            }
        }
        for (h, p) in [
            (&b"!"[..], &b"!"[..]),
            (&b"!!"[..], &b"tag:yaml.org,2002:"[..]),
        ] {
            if !self.tag_directives.iter().any(|(eh, _)| eh == h) {
                self.tag_directives.push((h.to_vec(), p.to_vec()));
            }
        }
        Ok(())
    }
}

fn empty_scalar() -> Event {
    Event::Scalar {
        anchor: None,
        tag: String::new(),
        value: String::new(),
        plain_implicit: true,
    }
}
