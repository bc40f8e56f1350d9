//! `opm generate dockerfile <dir>`: write `<parent>/<dir name>.Dockerfile`,
//! the two-stage Dockerfile that ships a catalog directory (spec §6).
//!
//! Checks run in Go's order: flag parsing (the CSV of `--extra-labels`),
//! argument count, `--builder-image scratch`, label syntax, an existing
//! Dockerfile, the catalog directory. Unlike Go, which creates the file
//! before rendering into it, the Dockerfile is written to a temporary file
//! beside it and moved into place without replacing anything, so a failure
//! never leaves a half-written or empty Dockerfile behind.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::catalog::load::{go_errno_text, go_io_error};
use crate::cli::{DockerfileArgs, exact_args};
use crate::output::{CmdResult, CommandError, Style, go_strconv_quote};

const DEFAULT_IMAGE: &str = "quay.io/operator-framework/opm:latest";
const CONFIGS_LOCATION_LABEL: &str = "operators.operatorframework.io.index.configs.v1";

pub fn run(args: DockerfileArgs) -> CmdResult {
    let cobra = |m: String| CommandError::new(Style::Cobra, m);
    let logrus = |m: String| CommandError::new(Style::Logrus, m);
    if args.binary_image.is_some() {
        // pflag announces a deprecated flag on stderr while parsing.
        eprintln!("Flag --binary-image has been deprecated, use --base-image instead");
    }
    let mut label_strs = Vec::new();
    for value in &args.extra_labels {
        let record = go_csv_record(value).map_err(|e| {
            cobra(format!(
                "invalid argument {} for \"-l, --extra-labels\" flag: {e}",
                go_strconv_quote(value)
            ))
        })?;
        label_strs.extend(record);
    }
    exact_args(&args.args, 1).map_err(cobra)?;

    // `--binary-image` and `--base-image` share one variable in Go.
    let base_image = args.binary_image.clone().unwrap_or(args.base_image);
    let builder_image = match args.builder_image {
        Some(b) if b == "scratch" => {
            return Err(cobra(format!(
                "invalid builder image: {}",
                go_strconv_quote(&b)
            )));
        }
        Some(b) => b,
        // Go quirk (spec §6): the deprecated flag also sets the builder,
        // after the scratch check, so `--binary-image scratch` is accepted.
        None => args
            .binary_image
            .unwrap_or_else(|| DEFAULT_IMAGE.to_string()),
    };

    let from_dir = go_clean(&args.args[0]);
    let labels = parse_labels(&label_strs).map_err(cobra)?;
    let (parent, index_name) = match from_dir.rfind('/') {
        Some(i) => from_dir.split_at(i + 1),
        None => ("", from_dir.as_str()),
    };
    let dockerfile = go_clean(&format!("{parent}{index_name}.Dockerfile"));
    let dockerfile_path = Path::new(&dockerfile);
    let exists = || {
        logrus(format!(
            "path {}: file already exists",
            go_strconv_quote(&dockerfile)
        ))
    };
    match std::fs::metadata(dockerfile_path) {
        Ok(_) => return Err(exists()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(logrus(go_io_error("stat", dockerfile_path, &e))),
    }
    match std::fs::metadata(&from_dir) {
        Err(e) => return Err(cobra(go_io_error("stat", Path::new(&from_dir), &e))),
        Ok(m) if !m.is_dir() => {
            return Err(cobra(format!(
                "provided root path {} is not a directory",
                go_strconv_quote(&from_dir)
            )));
        }
        Ok(_) => {}
    }

    let mut tmp = create_temp(parent, index_name)
        .map_err(|e| logrus(go_io_error("open", dockerfile_path, &e)))?;
    // Go validates after creating the file and reports with the standard
    // logger; `-i ""` or a root directory of `/` reach these.
    let go_log = |m: &str| CommandError::new(Style::GoLog, m);
    if base_image.is_empty() {
        return Err(go_log("base image is unset"));
    }
    if index_name.is_empty() {
        return Err(go_log("index directory is unset"));
    }
    let text = dockerfile_text(&base_image, &builder_image, index_name, &labels);
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.flush())
        .map_err(|e| go_log(&format!("write {dockerfile}: {}", go_errno_text(&e))))?;
    tmp.persist_noclobber(dockerfile_path)
        .map_err(|e| match e.error.kind() {
            std::io::ErrorKind::AlreadyExists => exists(),
            _ => logrus(go_io_error("open", dockerfile_path, &e.error)),
        })?;
    Ok(())
}

/// A temporary file next to the Dockerfile, created with mode 0666 before
/// the umask, as Go's `os.OpenFile(path, O_CREATE|O_WRONLY, 0666)`.
fn create_temp(parent: &str, index_name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = if parent.is_empty() { "." } else { parent };
    let prefix = format!(".{index_name}.Dockerfile.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// `key=value` pairs split at the first `=`; later keys win. The map is
/// ordered because Go's template ranges over map keys in sorted order.
fn parse_labels(strs: &[String]) -> Result<BTreeMap<&str, &str>, String> {
    let mut labels = BTreeMap::new();
    for s in strs {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("invalid label {}", go_strconv_quote(s)))?;
        labels.insert(k, v);
    }
    Ok(labels)
}

/// Go's Dockerfile template, rendered (spec §6). Images and labels are
/// inserted verbatim; `text/template` escapes nothing.
pub(crate) fn dockerfile_text(
    base: &str,
    builder: &str,
    index_dir: &str,
    labels: &BTreeMap<&str, &str>,
) -> String {
    let mut s = format!(
        "# The builder image is expected to contain\n\
         # /bin/opm (with serve subcommand)\n\
         FROM {builder} as builder\n\
         \n\
         # Copy FBC root into image at /configs and pre-populate serve cache\n\
         ADD {index_dir} /configs\n\
         RUN [\"/bin/opm\", \"serve\", \"/configs\", \"--cache-dir=/tmp/cache\", \"--cache-only\"]\n\
         \n\
         FROM {base}\n"
    );
    if base == "scratch" {
        s.push_str(
            "# OLMv0 CatalogSources that use binary-less images must set:\n\
             # spec:\n\
             #   grpcPodConfig:\n\
             #     extractContent:\n\
             #       catalogDir: /configs\n\
             #       cacheDir: /tmp/cache\n",
        );
    } else {
        s.push_str(
            "# The base image is expected to contain\n\
             # /bin/opm (with serve subcommand) and /bin/grpc_health_probe\n\
             \n\
             # Configure the entrypoint and command\n\
             ENTRYPOINT [\"/bin/opm\"]\n\
             CMD [\"serve\", \"/configs\", \"--cache-dir=/tmp/cache\"]\n",
        );
    }
    s.push_str(
        "\n\
         COPY --from=builder /configs /configs\n\
         COPY --from=builder /tmp/cache /tmp/cache\n\
         \n\
         # Set FBC-specific label for the location of the FBC root directory\n\
         # in the image\n",
    );
    s.push_str(&format!("LABEL {CONFIGS_LOCATION_LABEL}=/configs\n"));
    if !labels.is_empty() {
        s.push_str("\n# Set other custom labels\n");
        for (k, v) in labels {
            s.push_str(&format!("LABEL \"{k}\"=\"{v}\"\n"));
        }
    }
    s
}

/// Go's `path/filepath.Clean` on Unix: purely lexical.
pub(crate) fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for el in path.split('/') {
        match el {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            el => parts.push(el),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The first record of `value` read with Go's `encoding/csv` defaults, as
/// pflag's string-slice flags do: fields split at `,`, `"`-quoted fields
/// with `""` for a quote, empty lines skipped, everything after the first
/// record ignored. Errors are Go's texts (columns are 1-based bytes).
fn go_csv_record(value: &str) -> Result<Vec<String>, String> {
    const BARE_QUOTE: &str = "bare \" in non-quoted-field";
    const QUOTE: &str = "extraneous or missing \" in quoted-field";
    // pflag's readAsCSV: an empty value is an empty list, not one field.
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let input = csv_normalize(value);
    let mut lines = CsvLines {
        rest: &input,
        num: 0,
    };
    let mut line = loop {
        match lines.next() {
            None => return Err("EOF".to_string()),
            Some(l) if l == b"\n" || l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let start_line = lines.num;
    let error = |line: usize, col: usize, what: &str| {
        if line == start_line {
            format!("parse error on line {line}, column {col}: {what}")
        } else {
            format!("record on line {start_line}; parse error on line {line}, column {col}: {what}")
        }
    };
    let strip_nl = |l: &[u8]| -> usize { l.len() - usize::from(l.ends_with(b"\n")) };
    let mut fields = Vec::new();
    let mut col = 1;
    let mut pos_line = start_line;
    loop {
        if line.first() != Some(&b'"') {
            let comma = memchr::memchr(b',', line);
            let field = &line[..comma.unwrap_or_else(|| strip_nl(line))];
            if let Some(j) = memchr::memchr(b'"', field) {
                return Err(error(lines.num, col + j, BARE_QUOTE));
            }
            fields.push(field.to_vec());
            match comma {
                Some(i) => {
                    line = &line[i + 1..];
                    col += i + 1;
                }
                None => break,
            }
        } else {
            let mut field = Vec::new();
            line = &line[1..];
            col += 1;
            loop {
                if let Some(i) = memchr::memchr(b'"', line) {
                    field.extend_from_slice(&line[..i]);
                    line = &line[i + 1..];
                    col += i + 1;
                    match line.first() {
                        Some(b'"') => {
                            field.push(b'"');
                            line = &line[1..];
                            col += 1;
                        }
                        Some(b',') => {
                            line = &line[1..];
                            col += 1;
                            break;
                        }
                        None | Some(b'\n') if strip_nl(line) == 0 => {
                            fields.push(std::mem::take(&mut field));
                            return Ok(to_strings(fields));
                        }
                        _ => return Err(error(lines.num, col - 1, QUOTE)),
                    }
                } else if !line.is_empty() {
                    // The quoted field runs on into the next line.
                    field.extend_from_slice(line);
                    col += line.len();
                    line = lines.next().unwrap_or_default();
                    if !line.is_empty() {
                        pos_line += 1;
                        col = 1;
                    }
                } else {
                    return Err(error(pos_line, col, QUOTE));
                }
            }
            fields.push(field);
        }
    }
    Ok(to_strings(fields))
}

fn to_strings(fields: Vec<Vec<u8>>) -> Vec<String> {
    // Fields are cut at ASCII bytes of a `str`, so they stay valid UTF-8.
    fields
        .into_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect()
}

/// encoding/csv's `readLine` over input already normalised by
/// [`csv_normalize`]: each line keeps its `\n`.
struct CsvLines<'a> {
    rest: &'a [u8],
    num: usize,
}

impl<'a> CsvLines<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', self.rest).map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        self.num += 1;
        Some(line)
    }
}

/// encoding/csv turns every `\r\n` into `\n` and drops a `\r` that ends
/// the input.
fn csv_normalize(value: &str) -> Vec<u8> {
    let mut out = value.replace("\r\n", "\n").into_bytes();
    if out.last() == Some(&b'\r') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("catalog/", "catalog"),
            ("./a//b/../c/", "a/c"),
            ("/", "/"),
            ("/..", "/"),
            ("../../x", "../../x"),
            ("a/..", "."),
            ("a/../..", ".."),
        ] {
            assert_eq!(go_clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn csv_like_pflag() {
        let ok = |s: &str| go_csv_record(s).unwrap();
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(ok("a=b"), ["a=b"]);
        assert_eq!(ok("a=b,c=d"), ["a=b", "c=d"]);
        assert_eq!(ok("a=b,"), ["a=b", ""]);
        assert_eq!(ok(" a=b , c"), [" a=b ", " c"]);
        assert_eq!(ok("\"a=b,c\",d=e"), ["a=b,c", "d=e"]);
        assert_eq!(ok("\"say \"\"hi\"\"\""), ["say \"hi\""]);
        assert_eq!(ok("a=b\nc=d"), ["a=b"]);
        assert_eq!(ok("\n\na=b"), ["a=b"]);
        assert_eq!(ok("a=b\r\n"), ["a=b"]);
        assert_eq!(ok("\"a\nb\",c"), ["a\nb", "c"]);
        assert_eq!(go_csv_record("\n").unwrap_err(), "EOF");
        assert_eq!(
            go_csv_record("a=\"b\"").unwrap_err(),
            "parse error on line 1, column 3: bare \" in non-quoted-field"
        );
        assert_eq!(
            go_csv_record("x,\"a\"b").unwrap_err(),
            "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            go_csv_record("\"abc").unwrap_err(),
            "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            go_csv_record("\"a\nb").unwrap_err(),
            "record on line 1; parse error on line 2, column 2: extraneous or missing \" in quoted-field"
        );
    }

    #[test]
    fn labels_last_wins_sorted() {
        let strs: Vec<String> = ["b=2", "a=1=x", "b=3", "c="]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let labels = parse_labels(&strs).unwrap();
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            [("a", "1=x"), ("b", "3"), ("c", "")]
        );
        assert_eq!(
            parse_labels(&["novalue".to_string()]).unwrap_err(),
            "invalid label \"novalue\""
        );
    }

    #[test]
    fn scratch_base_image() {
        let text = dockerfile_text("scratch", "b:1", "cat", &BTreeMap::from([("k", "v\"")]));
        assert_eq!(
            text,
            "# The builder image is expected to contain\n\
             # /bin/opm (with serve subcommand)\n\
             FROM b:1 as builder\n\
             \n\
             # Copy FBC root into image at /configs and pre-populate serve cache\n\
             ADD cat /configs\n\
             RUN [\"/bin/opm\", \"serve\", \"/configs\", \"--cache-dir=/tmp/cache\", \"--cache-only\"]\n\
             \n\
             FROM scratch\n\
             # OLMv0 CatalogSources that use binary-less images must set:\n\
             # spec:\n\
             #   grpcPodConfig:\n\
             #     extractContent:\n\
             #       catalogDir: /configs\n\
             #       cacheDir: /tmp/cache\n\
             \n\
             COPY --from=builder /configs /configs\n\
             COPY --from=builder /tmp/cache /tmp/cache\n\
             \n\
             # Set FBC-specific label for the location of the FBC root directory\n\
             # in the image\n\
             LABEL operators.operatorframework.io.index.configs.v1=/configs\n\
             \n\
             # Set other custom labels\n\
             LABEL \"k\"=\"v\"\"\n"
        );
    }
}
