//! `--alpha-image-ref-template`: the subset of Go `text/template` that makes
//! sense for an image reference (spec §4.4, "image").
//!
//! Go parses the flag with `template.New("image-ref-template").Parse` and
//! executes it on a struct with the fields `Package`, `Name` and `Version`.
//! We support literal text, `{{.Package}}`, `{{.Name}}`, `{{.Version}}`,
//! `{{.}}`, string literals, comments and the `{{-`/`-}}` trim markers, with
//! Go's wording for the errors users actually make (an unknown field, a
//! missing brace, an unknown function). Other template language (pipelines,
//! `if`, `printf`…) is refused with an error saying it is not supported.

use std::fmt;

/// Go's name for the template, part of every error message.
const NAME: &str = "image-ref-template";
/// Go's name for the data type, in "can't evaluate field" errors.
const DATA_TYPE: &str = "action.imageReferenceTemplateData";

/// A parsed `--alpha-image-ref-template`.
#[derive(Debug, Clone)]
pub struct ImageTemplate {
    text: String,
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    /// `.A.B…` starting at byte `pos` of the template.
    Field {
        pos: usize,
        chain: Vec<String>,
    },
    /// `.` (Go prints the whole struct).
    Dot,
    Str(String),
}

/// The values a template is executed with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateData<'a> {
    pub package: &'a str,
    pub name: &'a str,
    pub version: &'a str,
}

/// A template error, worded as Go's `text/template` words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Space,
    Field(String, usize),
    Dot,
    Str(String),
    Ident(String),
    Char(char),
    Other(String),
    Error(String),
    End,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn line_at(text: &str, pos: usize) -> usize {
    1 + text[..pos.min(text.len())].matches('\n').count()
}

impl ImageTemplate {
    /// Go's `template.New("image-ref-template").Parse(text)`.
    pub fn parse(text: &str) -> Result<ImageTemplate, String> {
        let parse_err =
            |pos: usize, msg: &str| format!("template: {NAME}:{}: {msg}", line_at(text, pos));
        let mut nodes = Vec::new();
        let mut rest = 0;
        let mut trim_next = false;
        while rest < text.len() {
            let Some(open) = text[rest..].find("{{").map(|i| rest + i) else {
                push_text(&mut nodes, &text[rest..], trim_next, false);
                break;
            };
            let mut i = open + 2;
            let trim_left = text[i..].starts_with('-') && text[i + 1..].starts_with(is_space);
            push_text(&mut nodes, &text[rest..open], trim_next, trim_left);
            if trim_left {
                i += 2;
            }
            // A comment must end right at the closing delimiter.
            if text[i..].starts_with("/*") {
                let Some(end) = text[i + 2..].find("*/").map(|e| i + 2 + e + 2) else {
                    return Err(parse_err(open, "unclosed comment"));
                };
                let (close, trim) = if text[end..].starts_with("}}") {
                    (end + 2, false)
                } else if text[end..].starts_with(" -}}") || right_trim_at(text, end) {
                    (end + 4, true)
                } else {
                    return Err(parse_err(open, "comment ends before closing delimiter"));
                };
                rest = close;
                trim_next = trim;
                continue;
            }
            let (toks, after, trim_right) = lex_action(text, i);
            nodes.push(parse_action(text, &toks).map_err(|(pos, m)| parse_err(pos, &m))?);
            rest = after;
            trim_next = trim_right;
        }
        Ok(ImageTemplate {
            text: text.to_string(),
            nodes,
        })
    }

    /// Go's `Execute` on `imageReferenceTemplateData`.
    pub fn execute(&self, data: TemplateData<'_>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for n in &self.nodes {
            match n {
                Node::Text(t) | Node::Str(t) => out.push_str(t),
                Node::Dot => out.push_str(&format!(
                    "{{{} {} {}}}",
                    data.package, data.name, data.version
                )),
                Node::Field { pos, chain } => {
                    let fail = |reason: String| {
                        let prefix = &self.text[..*pos];
                        let line = 1 + prefix.matches('\n').count();
                        let col = prefix.rfind('\n').map_or(*pos, |nl| pos - nl - 1);
                        let ctx: String = chain.iter().map(|f| format!(".{f}")).collect();
                        TemplateError(format!(
                            "template: {NAME}:{line}:{col}: executing \"{NAME}\" at <{ctx}>: {reason}"
                        ))
                    };
                    let value = match chain[0].as_str() {
                        "Package" => data.package,
                        "Name" => data.name,
                        "Version" => data.version,
                        other => {
                            return Err(fail(format!(
                                "can't evaluate field {other} in type {DATA_TYPE}"
                            )));
                        }
                    };
                    if let Some(next) = chain.get(1) {
                        return Err(fail(format!("can't evaluate field {next} in type string")));
                    }
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }
}

fn right_trim_at(text: &str, at: usize) -> bool {
    let s = &text[at..];
    let mut c = s.chars();
    matches!((c.next(), c.next()), (Some(sp), Some('-')) if is_space(sp))
        && s[2..].starts_with("}}")
}

fn push_text(nodes: &mut Vec<Node>, s: &str, trim_start: bool, trim_end: bool) {
    let mut s = s;
    if trim_start {
        s = s.trim_start_matches(is_space);
    }
    if trim_end {
        s = s.trim_end_matches(is_space);
    }
    if !s.is_empty() {
        nodes.push(Node::Text(s.to_string()));
    }
}

/// Lex one action starting after `{{` (and its trim marker): the tokens, the
/// byte after the closing delimiter, and whether it trims what follows.
fn lex_action(text: &str, start: usize) -> (Vec<(Tok, usize)>, usize, bool) {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = start;
    loop {
        if right_trim_at(text, i) {
            toks.push((Tok::End, i));
            return (toks, i + 4, true);
        }
        if text[i..].starts_with("}}") {
            toks.push((Tok::End, i));
            return (toks, i + 2, false);
        }
        let Some(c) = text[i..].chars().next() else {
            toks.push((Tok::Error("unclosed action".into()), i));
            return (toks, text.len(), false);
        };
        let at = i;
        if is_space(c) {
            while i < b.len() && is_space(b[i] as char) && !right_trim_at(text, i) {
                i += 1;
            }
            toks.push((Tok::Space, at));
            continue;
        }
        match c {
            '.' if b.get(i + 1).is_some_and(|n| !n.is_ascii_digit()) => {
                let name_start = i + 1;
                let mut j = name_start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if j == name_start {
                    toks.push((Tok::Dot, at));
                } else {
                    toks.push((Tok::Field(text[name_start..j].to_string(), at), at));
                }
                i = j;
            }
            '.' => {
                toks.push((Tok::Dot, at));
                i += 1;
            }
            '"' => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None | Some(b'\n') => {
                            toks.push((Tok::Error("unterminated quoted string".into()), at));
                            return (toks, text.len(), false);
                        }
                        Some(b'\\') => j += 2,
                        Some(b'"') => break,
                        _ => j += 1,
                    }
                }
                let lit = &text[i..=j];
                match serde_json::from_str::<String>(lit) {
                    Ok(s) => toks.push((Tok::Str(s), at)),
                    Err(_) => toks.push((Tok::Other(lit.to_string()), at)),
                }
                i = j + 1;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let j = j.max(i + c.len_utf8());
                let word = &text[i..j];
                if word.starts_with(|ch: char| ch.is_ascii_digit()) {
                    toks.push((Tok::Other(word.to_string()), at));
                } else {
                    toks.push((Tok::Ident(word.to_string()), at));
                }
                i = j;
            }
            c if c.is_ascii_graphic() => {
                toks.push((Tok::Char(c), at));
                i += 1;
            }
            c => {
                toks.push((
                    Tok::Error(format!(
                        "unrecognized character in action: {}",
                        go_unicode(c)
                    )),
                    at,
                ));
                return (toks, text.len(), false);
            }
        }
    }
}

/// Go's `%#U` of a rune.
fn go_unicode(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template", "with",
];
const BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Parse one action's tokens into a node; errors carry the byte position.
fn parse_action(text: &str, toks: &[(Tok, usize)]) -> Result<Node, (usize, String)> {
    let unsupported = |pos: usize| {
        let end = toks.last().map_or(text.len(), |t| t.1);
        let start = toks.first().map_or(pos, |t| t.1);
        (
            pos,
            format!(
                "unsupported template action {:?}: only {{{{.Package}}}}, {{{{.Name}}}} and {{{{.Version}}}} are supported",
                text[start..end].trim()
            ),
        )
    };
    let mut it = toks.iter().filter(|(t, _)| *t != Tok::Space).peekable();
    let Some((first, pos)) = it.next() else {
        return Err((text.len(), "unclosed action".into()));
    };
    let node = match first {
        Tok::End => return Err((*pos, "missing value for command".into())),
        Tok::Error(m) => return Err((*pos, m.clone())),
        Tok::Dot => Node::Dot,
        Tok::Str(s) => Node::Str(s.clone()),
        Tok::Field(name, start) => {
            let mut chain = vec![name.clone()];
            // `.A.B` lexes as adjacent fields.
            let mut idx = toks.iter().position(|(_, p)| p == pos).unwrap_or(0) + 1;
            while let Some((Tok::Field(n, _), _)) = toks.get(idx) {
                chain.push(n.clone());
                idx += 1;
                it.next();
            }
            Node::Field { pos: *start, chain }
        }
        Tok::Ident(w) if w == "end" || w == "else" || w == "break" || w == "continue" => {
            return Err((*pos, format!("unexpected {{{{{w}}}}}")));
        }
        Tok::Ident(w) if KEYWORDS.contains(&w.as_str()) || BUILTINS.contains(&w.as_str()) => {
            return Err(unsupported(*pos));
        }
        Tok::Ident(w) => return Err((*pos, format!("function {w:?} not defined"))),
        Tok::Char(c) => return Err((*pos, format!("unexpected {:?} in command", c.to_string()))),
        Tok::Other(_) | Tok::Space => return Err(unsupported(*pos)),
    };
    match it.next() {
        Some((Tok::End, _)) => Ok(node),
        Some((Tok::Error(m), p)) => Err((*p, m.clone())),
        Some((Tok::Char(c), p)) => Err((*p, format!("unexpected {:?} in operand", c.to_string()))),
        Some((_, p)) => Err(unsupported(*p)),
        None => Err((text.len(), "unclosed action".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: TemplateData<'static> = TemplateData {
        package: "foo",
        name: "foo.v0.2.0",
        version: "0.2.0",
    };

    fn run(t: &str) -> Result<String, String> {
        ImageTemplate::parse(t)?.execute(DATA).map_err(|e| e.0)
    }

    #[test]
    fn fields_and_text() {
        assert_eq!(
            run("test.registry/{{.Package}}-operator/{{.Package}}:v{{.Version}}").unwrap(),
            "test.registry/foo-operator/foo:v0.2.0"
        );
        assert_eq!(run("{{ .Name }}").unwrap(), "foo.v0.2.0");
        assert_eq!(run("a {{- .Name -}} b").unwrap(), "afoo.v0.2.0b");
        assert_eq!(run("x{{/* note */}}y{{\"z\"}}").unwrap(), "xyz");
        assert_eq!(run("{{.}}").unwrap(), "{foo foo.v0.2.0 0.2.0}");
        assert_eq!(run("no actions }}").unwrap(), "no actions }}");
    }

    #[test]
    fn parse_errors_read_like_go() {
        assert_eq!(
            run("{{.Package}").unwrap_err(),
            "template: image-ref-template:1: unexpected \"}\" in operand"
        );
        assert_eq!(
            run("a{{.Package").unwrap_err(),
            "template: image-ref-template:1: unclosed action"
        );
        assert_eq!(
            run("{{}}").unwrap_err(),
            "template: image-ref-template:1: missing value for command"
        );
        assert_eq!(
            run("{{foo}}").unwrap_err(),
            "template: image-ref-template:1: function \"foo\" not defined"
        );
        assert_eq!(
            run("{{end}}").unwrap_err(),
            "template: image-ref-template:1: unexpected {{end}}"
        );
        assert!(
            run("{{printf \"%s\" .Name}}")
                .unwrap_err()
                .contains("unsupported")
        );
    }

    #[test]
    fn unknown_fields_fail_at_execution() {
        assert_eq!(
            run("x/{{.Foo}}").unwrap_err(),
            "template: image-ref-template:1:4: executing \"image-ref-template\" at <.Foo>: can't evaluate field Foo in type action.imageReferenceTemplateData"
        );
        assert_eq!(
            run("{{.Name.Bar}}").unwrap_err(),
            "template: image-ref-template:1:2: executing \"image-ref-template\" at <.Name.Bar>: can't evaluate field Bar in type string"
        );
    }
}
