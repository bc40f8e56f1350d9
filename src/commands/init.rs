//! `opm init <package>`: one `olm.package` blob on stdout (spec §5).
//!
//! The blob goes through the normal catalog writer, so its bytes are those
//! of `opm render`. Failures are logrus fatals, checked in Go's order: the
//! output format, opening the icon, opening the description, reading the
//! description, reading and sniffing the icon.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::catalog::icon::icon_media_type;
use crate::catalog::load::go_io_error;
use crate::catalog::{DeclarativeConfig, Format, Icon, Package, SCHEMA_PACKAGE, write};
use crate::cli::{InitArgs, exact_args};
use crate::output::{CmdResult, CommandError, Style, go_strconv_quote};

pub fn run(args: InitArgs) -> CmdResult {
    exact_args(&args.args, 1).map_err(|m| CommandError::new(Style::Cobra, m))?;
    let format = Format::parse(&args.output).ok_or_else(|| {
        fatal(format!(
            "invalid --output value {}, expected (json|yaml)",
            go_strconv_quote(&args.output)
        ))
    })?;
    // Go opens both files first and reads them later; an empty path means
    // the flag was not given.
    let icon_file = open_input(&args.icon, "icon")?;
    let description_file = open_input(&args.description, "description")?;
    let description = description_file
        .map(|f| read_input(f, "description"))
        .transpose()?;
    let icon = match icon_file {
        Some(f) => {
            let data = read_input(f, "icon")?;
            let mediatype = icon_media_type(&data).map_err(|e| fatal(e.to_string()))?;
            Some(Icon {
                data: Some(data),
                mediatype: mediatype.to_string(),
            })
        }
        None => None,
    };

    let name = args.args[0].clone();
    let description = GoString::new(
        &description.unwrap_or_default(),
        &[&name, &args.default_channel],
    );
    let cfg = DeclarativeConfig {
        packages: vec![Package {
            schema: SCHEMA_PACKAGE.to_string(),
            name,
            default_channel: args.default_channel,
            icon,
            description: description.text.clone(),
            properties: Vec::new(),
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    write::write_stream(&cfg, format, &mut out).map_err(|e| fatal(e.to_string()))?;
    let out = description.finish(out, format);
    super::write_stdout(|w| w.write_all(&out)).map_err(|e| fatal(e.to_string()))
}

fn fatal(message: String) -> CommandError {
    CommandError::new(Style::Logrus, message)
}

/// An input file given by a flag, opened (`None` for an empty path).
fn open_input<'a>(path: &'a str, what: &str) -> Result<Option<(File, &'a Path)>, CommandError> {
    if path.is_empty() {
        return Ok(None);
    }
    let p = Path::new(path);
    File::open(p)
        .map(|f| Some((f, p)))
        .map_err(|e| fatal(format!("open {what} file: {}", go_io_error("open", p, &e))))
}

/// All bytes of an opened input; a directory fails here, as in Go.
fn read_input((mut f, p): (File, &Path), what: &str) -> Result<Vec<u8>, CommandError> {
    let mut data = Vec::new();
    f.read_to_end(&mut data)
        .map_err(|e| fatal(format!("read {what}: {}", go_io_error("read", p, &e))))?;
    Ok(data)
}

/// Go keeps a description's bytes as they are in a `string`; what the user
/// sees of invalid UTF-8 depends on the encoder (spec §5): Go's
/// `encoding/json` writes each invalid byte as the escape `\ufffd`, while
/// YAML output (JSON re-read, then emitted) has the character U+FFFD. A
/// valid U+FFFD in the file stays a raw character in both.
///
/// Our model holds a Rust `String`, so each invalid byte becomes a marker
/// character, one that occurs nowhere else in the blob, and the encoded
/// output swaps the marker for what Go writes.
struct GoString {
    text: String,
    marker: Option<char>,
}

impl GoString {
    /// `others` are the blob's other strings, which must not contain the
    /// marker either.
    fn new(bytes: &[u8], others: &[&str]) -> GoString {
        if std::str::from_utf8(bytes).is_ok() {
            return GoString {
                text: String::from_utf8_lossy(bytes).into_owned(),
                marker: None,
            };
        }
        // Private-use characters, which both encoders write raw and treat
        // like U+FFFD (printable, neither space nor indicator). The range
        // has 4096 of them and the blob cannot hold all of them and still
        // have an invalid byte.
        let valid = go_chunks(bytes).filter_map(Result::ok).collect::<Vec<_>>();
        let marker = ('\u{E000}'..='\u{EFFF}')
            .find(|c| !valid.iter().chain(others).any(|s| s.contains(*c)))
            .expect("a private-use character absent from the blob");
        let text = go_chunks(bytes)
            .map(|chunk| chunk.map_or_else(|_| marker.to_string(), str::to_string))
            .collect();
        GoString {
            text,
            marker: Some(marker),
        }
    }

    /// Replace the marker in the encoded output by what Go writes.
    fn finish(&self, out: Vec<u8>, format: Format) -> Vec<u8> {
        let Some(marker) = self.marker else {
            return out;
        };
        let mut buf = [0; 4];
        let marker = marker.encode_utf8(&mut buf).as_bytes();
        let replacement: &[u8] = match format {
            Format::Json => b"\\ufffd",
            Format::Yaml => "\u{FFFD}".as_bytes(),
        };
        let mut result = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(i) = memchr::memmem::find(rest, marker) {
            result.extend_from_slice(&rest[..i]);
            result.extend_from_slice(replacement);
            rest = &rest[i + marker.len()..];
        }
        result.extend_from_slice(rest);
        result
    }
}

/// Split bytes the way Go's UTF-8 decoder walks them: valid runs, and each
/// invalid byte on its own (Go consumes one byte per `RuneError`, where
/// Rust's lossy conversion takes a maximal invalid sequence).
fn go_chunks(mut bytes: &[u8]) -> impl Iterator<Item = Result<&str, u8>> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                bytes = &[];
                Some(Ok(s))
            }
            Err(e) if e.valid_up_to() > 0 => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                bytes = rest;
                // from_utf8 just checked this prefix.
                Some(Ok(std::str::from_utf8(valid).unwrap_or_default()))
            }
            Err(_) => {
                let b = bytes[0];
                bytes = &bytes[1..];
                Some(Err(b))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_one_marker_each() {
        // E2 82 is a truncated 3-byte sequence: Go sees two bad bytes.
        let g = GoString::new(b"a\xE2\x82b\xFF\xEF\xBF\xBDc", &["name"]);
        let m = g.marker.unwrap();
        assert_eq!(g.text, format!("a{m}{m}b{m}\u{FFFD}c"));
        let json = g.finish(g.text.clone().into_bytes(), Format::Json);
        assert_eq!(json, "a\\ufffd\\ufffdb\\ufffd\u{FFFD}c".as_bytes());
        let yaml = g.finish(g.text.clone().into_bytes(), Format::Yaml);
        assert_eq!(yaml, "a\u{FFFD}\u{FFFD}b\u{FFFD}\u{FFFD}c".as_bytes());
    }

    #[test]
    fn marker_avoids_existing_characters() {
        let g = GoString::new("\u{E000}\u{E001}\u{80}x".as_bytes(), &["\u{E002}"]);
        assert_eq!(g.marker, None);
        let g = GoString::new(b"\xEE\x80\x80\xFF", &["\u{E001}"]);
        assert_eq!(g.marker, Some('\u{E002}'));
    }

    #[test]
    fn valid_text_is_kept() {
        let g = GoString::new("# Foo\n\u{FFFD}\n".as_bytes(), &[]);
        assert_eq!(g.text, "# Foo\n\u{FFFD}\n");
        assert_eq!(g.finish(b"x".to_vec(), Format::Json), b"x");
    }
}
