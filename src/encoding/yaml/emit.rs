//! YAML writer reproducing go-yaml v2's `yaml.Marshal` of a generic value
//! (encode.go style choice + emitterc.go layout) byte for byte.
//!
//! Only what `JSONToYAML` can produce is supported: one implicit document,
//! block mappings and sequences, `{}`/`[]` for empty ones, and scalars without
//! tags or anchors. Within that, the libyaml-derived writer rules are ported
//! one to one: scalar analysis, style downgrades (plain → single → double,
//! literal → double), 80-column folding, indentation and the `|`/`|-`/`|+`/`|2`
//! headers. See opm-catalog-render-migrate.md §3.3 and
//! go-yaml-json-encoding.md for the rules.
//!
//! Where go-yaml v2's emitter differs from libyaml 0.2.5 this follows go-yaml
//! (conformance README, `known_gap`): no indentation is written before the
//! closing quote of a single-quoted scalar that ends in a line break, and a
//! string starting with U+FEFF has every character escaped (`is_bom` bug).

use super::json::Node;
use super::resolve::{Tag, is_base60_float, resolve_plain};

const BEST_INDENT: isize = 2;
const BEST_WIDTH: usize = 80;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The subset of libyaml's scalar analysis that block context needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Analysis {
    /// Every character is a byte: columns count bytes.
    ascii: bool,
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// UTF-8 sequence width from the lead byte (go-yaml `width`).
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
        1 // not reached for valid UTF-8; keeps loops advancing
    }
}

#[inline]
fn at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

/// Width of the line break at `i` (CR, LF, NEL, LS, PS), or None.
#[inline]
fn break_width(v: &[u8], i: usize) -> Option<usize> {
    match v[i] {
        b'\r' | b'\n' => Some(1),
        0xC2 if at(v, i + 1) == 0x85 => Some(2),
        0xE2 if at(v, i + 1) == 0x80 && matches!(at(v, i + 2), 0xA8 | 0xA9) => Some(3),
        _ => None,
    }
}

#[inline]
fn is_break(v: &[u8], i: usize) -> bool {
    break_width(v, i).is_some()
}

#[inline]
fn is_blank(v: &[u8], i: usize) -> bool {
    matches!(v[i], b' ' | b'\t')
}

#[inline]
fn is_blankz(v: &[u8], i: usize) -> bool {
    matches!(v[i], b' ' | b'\t' | 0) || is_break(v, i)
}

/// go-yaml `is_printable`. Quirk: no 4-byte range, so every non-BMP
/// character is "non-printable" and forces double quotes with `\U`
/// escapes (conformance README item 4).
#[inline]
fn is_printable(v: &[u8], i: usize) -> bool {
    let b = v[i];
    b == 0x0A
        || (0x20..=0x7E).contains(&b)
        || (b == 0xC2 && at(v, i + 1) >= 0xA0)
        || (b > 0xC2 && b < 0xED)
        || (b == 0xED && at(v, i + 1) < 0xA0)
        || b == 0xEE
        || (b == 0xEF
            && !(at(v, i + 1) == 0xBB && at(v, i + 2) == 0xBF)
            && !(at(v, i + 1) == 0xBF && matches!(at(v, i + 2), 0xBE | 0xBF)))
}

/// Printable ASCII bytes that, away from the start of a scalar, set no
/// analysis flag in block context (everything but space, ':' and '#').
static QUIET: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b <= 0x7E {
        t[b] = b != b':' as usize && b != b'#' as usize;
        b += 1;
    }
    t
};

/// The index of the first byte at or after `i` that is not ASCII in
/// `MIN..=0x7E` (or, with `NO_COLON_HASH`, is ':' or '#'): runs of bytes
/// that the callers' byte-wise loops would pass over anyway are skipped in
/// vectorised blocks. Long base64 and text scalars are most of a catalog's
/// YAML.
#[inline]
fn skip_blocks<const MIN: u8, const NO_COLON_HASH: bool>(v: &[u8], i: usize) -> usize {
    crate::encoding::json::skip_plain(v, i, |c| {
        (c < MIN) | (c > 0x7E) | (NO_COLON_HASH & ((c == b':') | (c == b'#')))
    })
}

/// What the JSON reader learned about a string while decoding it, which
/// spares the emitter passes over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    Nothing,
    /// ASCII, and every byte after the first is in [`QUIET`] (printable,
    /// not space, ':' or '#'): only the first byte can set a flag.
    Quiet,
    /// No line feed.
    OneLine,
    /// Printable ASCII and at least one line feed, no other control: a
    /// literal block unless these say otherwise (a space before or after a
    /// line feed).
    Lines {
        space_break: bool,
        break_space: bool,
    },
}

/// Port of `yaml_emitter_analyze_scalar` (block-context outcomes only),
/// sped up by what is `known` of the string.
fn analyze(v: &[u8], known: Known) -> Analysis {
    if v.is_empty() {
        return Analysis {
            ascii: true,
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let (flags, ascii) = match known {
        Known::Quiet => (quiet_flags(v), true),
        Known::Lines {
            space_break,
            break_space,
        } => (lines_flags(v, space_break, break_space), true),
        Known::Nothing | Known::OneLine => match analyze_ascii(v) {
            Some(flags) => (flags, true),
            None => (analyze_chars(v), false),
        },
    };
    Analysis {
        ascii,
        ..flags.outcome()
    }
}

/// What the scalar analysis finds in a string, before it decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    block_indicators: bool,
    line_breaks: bool,
    special: bool,
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    break_space: bool,
    space_break: bool,
}

impl Flags {
    fn outcome(self) -> Analysis {
        let mut a = Analysis {
            ascii: false,
            multiline: self.line_breaks,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: true,
        };
        if self.leading_space || self.leading_break || self.trailing_space || self.trailing_break {
            a.block_plain_allowed = false;
        }
        if self.trailing_space {
            a.block_allowed = false;
        }
        if self.break_space {
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
        }
        if self.space_break || self.special {
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
            a.block_allowed = false;
        }
        if self.line_breaks || self.block_indicators {
            a.block_plain_allowed = false;
        }
        a
    }
}

/// Whether a non-empty scalar starts with an indicator character (the
/// analysis' rule for the first character; '?', ':' and '-' only when a
/// blank or the end follows).
fn starts_with_indicator(v: &[u8]) -> bool {
    match v[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        b'?' | b':' | b'-' => v.len() == 1 || matches!(v[1], b' ' | b'\t'),
        _ => false,
    }
}

/// [`analyze_chars`] for a quiet string: its bytes are printable ASCII,
/// and after the first none is a space, ':' or '#'.
fn quiet_flags(v: &[u8]) -> Flags {
    let n = v.len();
    let first = v[0];
    let block_indicators =
        v.starts_with(b"---") || v.starts_with(b"...") || starts_with_indicator(v);
    Flags {
        block_indicators,
        leading_space: first == b' ',
        trailing_space: first == b' ' && n == 1,
        ..Flags::default()
    }
}

/// [`analyze_chars`] for a string [`Known::Lines`]. Its line breaks already
/// rule out a plain scalar, which is all block indicators decide.
fn lines_flags(v: &[u8], space_break: bool, break_space: bool) -> Flags {
    let (first, last) = (v[0], v[v.len() - 1]);
    Flags {
        line_breaks: true,
        leading_space: first == b' ',
        leading_break: first == b'\n',
        trailing_space: last == b' ',
        trailing_break: last == b'\n',
        space_break,
        break_space,
        ..Flags::default()
    }
}

/// The analysis loop, character by character, over a non-empty string.
fn analyze_chars(v: &[u8]) -> Flags {
    let n = v.len();
    let mut block_indicators = v.starts_with(b"---") || v.starts_with(b"...");
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut preceded_by_ws = true;
    let mut prev_space = false;
    let mut prev_break = false;
    let mut i = 0;
    while i < n {
        let c = v[i];
        // Fast path: after the first character, printable ASCII other than
        // space, ':' and '#' changes no flag but resets the "previous" ones.
        if i > 0 && QUIET[c as usize] {
            i = skip_blocks::<0x21, true>(v, i + 1);
            while i < n && QUIET[v[i] as usize] {
                i += 1;
            }
            prev_space = false;
            prev_break = false;
            preceded_by_ws = false;
            continue;
        }
        // Runs of spaces after the first character: the flags the first
        // space of a run sets are all the later ones would set.
        if i > 0 && c == b' ' {
            while i < n && v[i] == b' ' {
                i += 1;
            }
            if i == n {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
            preceded_by_ws = true;
            continue;
        }
        let w = width(c);
        let followed_by_ws = i + w >= n || is_blank(v, i + w);
        if i == 0 {
            block_indicators |= starts_with_indicator(v);
        } else {
            match c {
                b':' if followed_by_ws => block_indicators = true,
                b'#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(v, i) {
            special = true;
        }
        if c == b' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(v, i) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + w >= n {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blankz(v, i);
        i += w;
    }
    Flags {
        block_indicators,
        line_breaks,
        special,
        leading_space,
        leading_break,
        trailing_space,
        trailing_break,
        break_space,
        space_break,
    }
}

/// [`analyze_chars`] for an ASCII string, in one pass that stops only at
/// the bytes that can set a flag (controls, DEL, ':' and '#'; a space only
/// matters next to one of those or at either end), so words and spaces
/// are passed over in vectorised blocks. `None` at the first non-ASCII
/// byte.
fn analyze_ascii(v: &[u8]) -> Option<Flags> {
    let n = v.len();
    let is_break = |c: u8| c == b'\n' || c == b'\r';
    let (first, last) = (v[0], v[n - 1]);
    let mut f = Flags {
        block_indicators: v.starts_with(b"---") || v.starts_with(b"..."),
        leading_space: first == b' ',
        leading_break: is_break(first),
        trailing_space: last == b' ',
        trailing_break: is_break(last),
        ..Flags::default()
    };
    f.block_indicators |= starts_with_indicator(v);
    let mut i = 0;
    while i < n {
        let c = v[i];
        if c >= 0x80 {
            return None;
        }
        if is_break(c) {
            f.line_breaks = true;
            f.space_break |= i > 0 && v[i - 1] == b' ';
            f.break_space |= i + 1 < n && v[i + 1] == b' ';
        }
        // Printable: LF and ' '..='~'.
        f.special |= (c < 0x20 && c != b'\n') || c == 0x7F;
        if i > 0 {
            match c {
                b':' if i + 1 == n || matches!(v[i + 1], b' ' | b'\t') => {
                    f.block_indicators = true;
                }
                b'#' if matches!(v[i - 1], b' ' | b'\t' | b'\n' | b'\r' | 0) => {
                    f.block_indicators = true;
                }
                _ => {}
            }
        }
        i = crate::encoding::json::skip_plain(v, i + 1, |c| {
            !(0x20..0x7F).contains(&c) | (c == b':') | (c == b'#')
        });
    }
    Some(f)
}

/// Characters (not bytes) in a valid UTF-8 slice: the emitter's column unit.
#[inline]
fn char_count(b: &[u8]) -> usize {
    if b.is_ascii() {
        return b.len();
    }
    b.iter().filter(|&&c| c & 0xC0 != 0x80).count()
}

/// Requested style for a string (go-yaml encode.go `stringv`). A quiet
/// string has no ':' after its first byte, so it cannot be a base-60 float
/// either.
fn string_style(s: &str, known: Known) -> Style {
    let quiet = known == Known::Quiet;
    let lines = match known {
        Known::Quiet | Known::OneLine => false,
        Known::Lines { .. } => true,
        Known::Nothing => s.contains('\n'),
    };
    if lines {
        Style::Literal
    } else if resolve_plain(s).0 == Tag::Str && (quiet || !is_base60_float(s)) {
        Style::Plain
    } else {
        Style::Double
    }
}

enum Task<'n, 'a> {
    Node(&'n Node<'a>, bool),
    SeqNext(&'n [Node<'a>], usize),
    MapNext(&'n [(std::borrow::Cow<'a, str>, Node<'a>)], usize),
}

pub(super) struct Emitter<'o> {
    out: &'o mut Vec<u8>,
    column: usize,
    indent: isize,
    indents: Vec<isize>,
    whitespace: bool,
    indention: bool,
}

/// Emit `root` as one implicit YAML document (no leading `---`).
pub(super) fn emit_document(root: &Node<'_>, out: &mut Vec<u8>) {
    let mut e = Emitter::new(out);
    e.node(root, false);
    e.end_document();
}

impl<'o> Emitter<'o> {
    /// An emitter at the start of an implicit document.
    pub(super) fn new(out: &'o mut Vec<u8>) -> Self {
        Emitter {
            out,
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
        }
    }
}

impl Emitter<'_> {
    /// Write a whole tree; `under_key`: it is the value of a mapping entry.
    pub(super) fn node(&mut self, root: &Node<'_>, under_key: bool) {
        let mut tasks: Vec<Task<'_, '_>> = vec![Task::Node(root, under_key)];
        while let Some(t) = tasks.pop() {
            match t {
                Task::Node(node, under_key) => match node {
                    Node::Seq(items) if items.is_empty() => self.empty(b"[]"),
                    Node::Map(entries) if entries.is_empty() => self.empty(b"{}"),
                    Node::Seq(items) => {
                        self.begin_seq(under_key);
                        tasks.push(Task::SeqNext(items, 0));
                    }
                    Node::Map(entries) => {
                        self.begin_map();
                        tasks.push(Task::MapNext(entries, 0));
                    }
                    scalar => self.scalar(scalar),
                },
                Task::SeqNext(items, i) => {
                    if i == items.len() {
                        self.end_collection();
                        continue;
                    }
                    self.item();
                    tasks.push(Task::SeqNext(items, i + 1));
                    tasks.push(Task::Node(&items[i], false));
                }
                Task::MapNext(entries, i) => {
                    if i == entries.len() {
                        self.end_collection();
                        continue;
                    }
                    self.key(&entries[i].0, Known::Nothing);
                    tasks.push(Task::MapNext(entries, i + 1));
                    tasks.push(Task::Node(&entries[i].1, true));
                }
            }
        }
    }

    /// A non-empty block mapping starts.
    pub(super) fn begin_map(&mut self) {
        self.increase_indent(false, false);
    }

    /// A non-empty block sequence starts; one that is the value of a
    /// mapping entry is not indented.
    pub(super) fn begin_seq(&mut self, under_key: bool) {
        let indentless = under_key && !self.indention;
        self.increase_indent(false, indentless);
    }

    /// The innermost mapping or sequence ends.
    pub(super) fn end_collection(&mut self) {
        self.pop_indent();
    }

    /// The next sequence entry starts.
    pub(super) fn item(&mut self) {
        self.write_indent();
        self.write_indicator(b"-", true, false, true);
    }

    /// The next mapping entry starts with `key`, of which `known` is known.
    pub(super) fn key(&mut self, key: &str, known: Known) {
        self.write_indent();
        let v = key.as_bytes();
        let an = analyze(v, known);
        let style = string_style(key, known);
        let quiet = known == Known::Quiet;
        // check_simple_key: single line and at most 128 bytes.
        if !an.multiline && v.len() <= 128 {
            self.emit_scalar(v, style, &an, true, quiet);
            self.write_indicator(b":", false, false, false);
        } else {
            self.write_indicator(b"?", true, false, true);
            self.emit_scalar(v, style, &an, false, quiet);
            self.write_indent();
            self.write_indicator(b":", true, false, true);
        }
    }

    /// A string scalar, of which `known` is known.
    pub(super) fn string(&mut self, s: &str, known: Known) {
        let v = s.as_bytes();
        let an = analyze(v, known);
        let quiet = known == Known::Quiet;
        self.emit_scalar(v, string_style(s, known), &an, false, quiet);
    }

    /// An empty sequence (`[]`) or mapping (`{}`): libyaml switches to
    /// flow style.
    pub(super) fn empty(&mut self, text: &[u8]) {
        self.write_indicator(&text[..1], true, true, false);
        self.write_indicator(&text[1..], false, false, false);
    }

    /// DOCUMENT-END (implicit): finish the last line.
    pub(super) fn end_document(&mut self) {
        self.write_indent();
    }
    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    #[inline]
    fn put(&mut self, b: u8) {
        self.out.push(b);
        self.column += 1;
    }

    #[inline]
    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
    }

    /// Copy a run of non-break characters.
    #[inline]
    fn write_run(&mut self, run: &[u8]) {
        self.out.extend_from_slice(run);
        self.column += char_count(run);
    }

    /// go-yaml `write_break`: LF becomes the configured break; CR, NEL, LS
    /// and PS are copied as they are and reset the column.
    fn write_break(&mut self, v: &[u8], i: &mut usize, w: usize) {
        if v[*i] == b'\n' {
            self.put_break();
        } else {
            self.out.extend_from_slice(&v[*i..*i + w]);
            self.column = 0;
        }
        *i += w;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.column < indent {
            let pad = indent - self.column;
            self.out.resize(self.out.len() + pad, b' ');
            self.column = indent;
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &[u8], need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(b' ');
        }
        self.out.extend_from_slice(ind);
        self.column += ind.len();
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// A scalar node (numbers, booleans, null and strings).
    pub(super) fn scalar(&mut self, node: &Node<'_>) {
        let mut buf = itoa_buf();
        let text: &[u8] = match node {
            Node::Null => b"null",
            Node::Bool(true) => b"true",
            Node::Bool(false) => b"false",
            Node::Int(v) => fmt_into(&mut buf, format_args!("{v}")),
            Node::Uint(v) => fmt_into(&mut buf, format_args!("{v}")),
            Node::Float(f) => {
                let s = super::resolve::format_float_g(*f);
                let s = match s.as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    _ => s,
                };
                let n = s.len().min(buf.len());
                buf[..n].copy_from_slice(&s.as_bytes()[..n]);
                &buf[..n]
            }
            Node::NumStr(s) => return self.string(s, Known::Nothing),
            Node::Str(s) => return self.string(s, Known::Nothing),
            Node::Seq(_) | Node::Map(_) => return,
        };
        // Numbers, bools and null are always plain-safe in block context.
        self.write_plain_word(text);
    }

    /// A plain scalar of printable ASCII without spaces: nothing to fold.
    fn write_plain_word(&mut self, text: &[u8]) {
        if !self.whitespace {
            self.put(b' ');
        }
        self.out.extend_from_slice(text);
        self.column += text.len();
        self.whitespace = false;
        self.indention = false;
    }

    /// `yaml_emitter_emit_scalar`: choose the final style, then write.
    fn emit_scalar(
        &mut self,
        v: &[u8],
        requested: Style,
        an: &Analysis,
        simple_key: bool,
        quiet: bool,
    ) {
        let mut style = requested;
        if simple_key && an.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!an.block_plain_allowed || (v.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !an.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!an.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !simple_key;
        match style {
            // A quiet plain scalar has no space or break to fold at.
            Style::Plain if quiet => self.write_plain_word(v),
            Style::Plain => self.write_plain(v, allow_breaks),
            Style::Single => self.write_single(v, allow_breaks),
            Style::Double => self.write_double(v, allow_breaks),
            Style::Literal if an.ascii => self.write_literal_ascii(v),
            Style::Literal => self.write_literal(v),
        }
        self.pop_indent();
    }

    /// A plain scalar never holds a line break (the analysis rules it out),
    /// only spaces, where a long line is folded: at a single space once the
    /// column is past the width.
    fn write_plain(&mut self, v: &[u8], allow_breaks: bool) {
        if !self.whitespace {
            self.put(b' ');
        }
        let n = v.len();
        let mut i = 0;
        while i < n {
            if !allow_breaks {
                self.write_run(&v[i..]);
                break;
            }
            if self.column <= BEST_WIDTH {
                // No space before the width is reached can fold: a
                // character takes at least a byte.
                let mut end = n.min(i + BEST_WIDTH + 1 - self.column);
                while end < n && v[end] & 0xC0 == 0x80 {
                    end += 1;
                }
                self.write_run(&v[i..end]);
                self.indention = false;
                i = end;
                continue;
            }
            let space = memchr::memchr(b' ', &v[i..]).map_or(n, |p| i + p);
            self.write_run(&v[i..space]);
            self.indention = false;
            i = space;
            if i == n {
                break;
            }
            // The first of a run of spaces folds, unless another follows.
            if (i == 0 || v[i - 1] != b' ') && at(v, i + 1) != b' ' {
                self.write_indent();
            } else {
                self.put(b' ');
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, v: &[u8], allow_breaks: bool) {
        self.write_indicator(b"'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        let n = v.len();
        while i < n {
            if v[i] == b' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < n
                    && v[i + 1] != b' '
                {
                    self.write_indent();
                } else {
                    self.put(b' ');
                }
                i += 1;
                spaces = true;
            } else if let Some(w) = break_width(v, i) {
                if !breaks && v[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(v, &mut i, w);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                let c = v[i];
                if c == b'\'' {
                    self.out.extend_from_slice(b"''");
                    self.column += 2;
                    i += 1;
                } else if c < 0x80 {
                    // A run of ASCII characters other than space, quote and
                    // line breaks.
                    let end = crate::encoding::json::skip_plain(v, i + 1, |c| {
                        (c == b' ') | (c == b'\'') | !(0x20..0x80).contains(&c)
                    });
                    self.out.extend_from_slice(&v[i..end]);
                    self.column += end - i;
                    i = end;
                } else {
                    let w = width(c);
                    self.out.extend_from_slice(&v[i..i + w]);
                    self.column += 1;
                    i += w;
                }
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        // go-yaml v2 writes no indentation here even after a trailing break
        // (libyaml 0.2.5 does): conformance README known_gap.
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, v: &[u8], allow_breaks: bool) {
        self.write_indicator(b"\"", true, false, false);
        // Quirk (go-yaml is_bom ignores its index): a leading U+FEFF makes
        // every character of the scalar escaped. Conformance README item 5.
        let bom = v.starts_with(&[0xEF, 0xBB, 0xBF]);
        let mut spaces = false;
        let n = v.len();
        let mut i = 0;
        while i < n {
            let c = v[i];
            if bom || !is_printable(v, i) || is_break(v, i) || c == b'"' || c == b'\\' {
                let w = width(c);
                let mut cp: u32 = match w {
                    1 => (c & 0x7F) as u32,
                    2 => (c & 0x1F) as u32,
                    3 => (c & 0x0F) as u32,
                    _ => (c & 0x07) as u32,
                };
                for k in 1..w {
                    cp = (cp << 6) + (at(v, i + k) & 0x3F) as u32;
                }
                i += w;
                self.put(b'\\');
                let esc = match cp {
                    0x00 => Some(b'0'),
                    0x07 => Some(b'a'),
                    0x08 => Some(b'b'),
                    0x09 => Some(b't'),
                    0x0A => Some(b'n'),
                    0x0B => Some(b'v'),
                    0x0C => Some(b'f'),
                    0x0D => Some(b'r'),
                    0x1B => Some(b'e'),
                    0x22 => Some(b'"'),
                    0x5C => Some(b'\\'),
                    0x85 => Some(b'N'),
                    0xA0 => Some(b'_'),
                    0x2028 => Some(b'L'),
                    0x2029 => Some(b'P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let (letter, digits) = if cp <= 0xFF {
                            (b'x', 2)
                        } else if cp <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(letter);
                        for k in (0..digits).rev() {
                            let d = ((cp >> (k * 4)) & 0xF) as u8;
                            self.put(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                        }
                    }
                }
                spaces = false;
            } else if c == b' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < n {
                    self.write_indent();
                    if v[i + 1] == b' ' {
                        self.put(b'\\');
                    }
                } else {
                    self.put(b' ');
                }
                i += 1;
                spaces = true;
            } else {
                // A run of printable characters that need no escaping.
                let start = i;
                i += width(c);
                while i < n {
                    let d = v[i];
                    if d == b' ' || d == b'"' || d == b'\\' || !is_printable(v, i) || is_break(v, i)
                    {
                        break;
                    }
                    i += width(d);
                }
                self.write_run(&v[start..i]);
                spaces = false;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_hints(&mut self, v: &[u8]) {
        if at(v, 0) == b' ' || (!v.is_empty() && is_break(v, 0)) {
            self.write_indicator(b"2", false, false, false);
        }
        let chomp: Option<&[u8]> = if v.is_empty() {
            Some(b"-")
        } else {
            let mut i = v.len() - 1;
            while i > 0 && v[i] & 0xC0 == 0x80 {
                i -= 1;
            }
            if !is_break(v, i) {
                Some(b"-")
            } else if i == 0 {
                Some(b"+")
            } else {
                i -= 1;
                while i > 0 && v[i] & 0xC0 == 0x80 {
                    i -= 1;
                }
                if is_break(v, i) { Some(b"+") } else { None }
            }
        };
        if let Some(c) = chomp {
            self.write_indicator(c, false, false, false);
        }
    }

    /// [`Emitter::write_literal`] for ASCII text, whose only line break is
    /// LF (CR is not printable, so never in a literal): each line is the
    /// indentation and the line's bytes.
    fn write_literal_ascii(&mut self, v: &[u8]) {
        self.literal_header(v);
        let indent = self.indent.max(0) as usize;
        let mut i = 0;
        while i < v.len() {
            if v[i] == b'\n' {
                self.out.push(b'\n');
                self.column = 0;
                self.indention = true;
                i += 1;
                continue;
            }
            // A line starts at column 0, after a break.
            let end = memchr::memchr(b'\n', &v[i..]).map_or(v.len(), |p| i + p);
            self.out.resize(self.out.len() + indent, b' ');
            self.out.extend_from_slice(&v[i..end]);
            self.column = indent + (end - i);
            self.indention = false;
            i = end;
        }
    }

    /// `|` with its hints, then the first line starts.
    fn literal_header(&mut self, v: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_hints(v);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
    }

    fn write_literal(&mut self, v: &[u8]) {
        self.literal_header(v);
        let mut breaks = true;
        let mut i = 0;
        while i < v.len() {
            if let Some(w) = break_width(v, i) {
                self.write_break(v, &mut i, w);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                let start = i;
                i += width(v[i]);
                loop {
                    i = skip_blocks::<0x20, false>(v, i);
                    if i >= v.len() || is_break(v, i) {
                        break;
                    }
                    i += 1;
                }
                self.write_run(&v[start..i]);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn itoa_buf() -> [u8; 32] {
    [0u8; 32]
}

/// Format into a stack buffer (numbers only; at most 24 bytes).
fn fmt_into<'b>(buf: &'b mut [u8; 32], args: std::fmt::Arguments<'_>) -> &'b [u8] {
    use std::io::Write;
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let _ = cur.write_fmt(args);
    let n = cur.position() as usize;
    &buf[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &[u8] = b" \n\r\t:#-?a.\x00\x7f|'\"x\x1f";

    /// The one-pass ASCII analysis agrees with the character loop on every
    /// string of up to four bytes of an alphabet of the bytes that matter,
    /// and on long random ones; quiet strings too.
    #[test]
    fn ascii_analysis_is_the_character_loop() {
        let check = |v: &[u8]| {
            assert_eq!(
                analyze_ascii(v),
                Some(analyze_chars(v)),
                "{:?}",
                String::from_utf8_lossy(v)
            );
        };
        let k = ALPHABET.len();
        for len in 1..=4u32 {
            for mut code in 0..k.pow(len) {
                let mut v = Vec::new();
                for _ in 0..len {
                    v.push(ALPHABET[code % k]);
                    code /= k;
                }
                check(&v);
            }
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 1 + (x % 90) as usize;
            let v: Vec<u8> = (0..len)
                .map(|j| {
                    let r = x.rotate_left(j as u32 * 5);
                    // Mostly letters, so runs are long enough to skip.
                    if r.is_multiple_of(3) {
                        ALPHABET[(r >> 8) as usize % k]
                    } else {
                        b'a' + (r % 26) as u8
                    }
                })
                .collect();
            check(&v);
        }
        assert_eq!(analyze_ascii("é".as_bytes()), None);
        // Quiet strings: only the first byte is looked at.
        for first in b' '..=b'~' {
            for v in [
                &[first][..],
                &[first, b'a', b'/', b'='],
                &[first, b'-', b'-'],
            ] {
                assert_eq!(quiet_flags(v), analyze_chars(v), "{v:?}");
            }
        }
    }
}
