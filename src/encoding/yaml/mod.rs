//! Go-compatible YAML for opm: a writer and a reader that reproduce go-yaml v2
//! (as used through `sigs.k8s.io/yaml`) byte for byte.
//!
//! - [`json_to_yaml`] is `sigs.k8s.io/yaml.JSONToYAML` as opm's `WriteYAML`
//!   calls it: JSON in, go-yaml v2 `Marshal` output out.
//! - [`yaml_to_value`] is `sigs.k8s.io/yaml.YAMLToJSON` (YAML 1.1, first
//!   document only), returning a `serde_json::Value`.
//!
//! Module map:
//! - `json` reads the JSON input into the tree go-yaml would hold;
//! - `emit` writes that tree the way go-yaml's emitter does;
//! - `scan` is go-yaml's YAML scanner and event parser;
//! - `parse` turns those events into values with go-yaml's decoder rules;
//! - `resolve` holds the YAML 1.1 scalar resolution shared by both
//!   directions, with the Go `strconv`/`time` pieces it needs;
//! - `sort` is the natural key order, `unicode` the tables it needs.

mod emit;
mod json;
mod parse;
mod resolve;
mod scan;
mod sort;
mod unicode;

pub use resolve::{format_float_g, format_float_g32};

/// An error from the YAML layer; the message is Go's `err.Error()` text where
/// it is known (e.g. "yaml: line 3: mapping values are not allowed in this
/// context").
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

/// Convert one JSON document to YAML exactly as `sigs.k8s.io/yaml.JSONToYAML`
/// does (go-yaml v2.4 `Unmarshal` into `interface{}`, then `Marshal`), without
/// the leading `"---\n"` that opm writes. Appends to `out`; on error nothing
/// is appended.
pub fn json_to_yaml(json: &[u8], out: &mut Vec<u8>) -> Result<(), YamlError> {
    // Most documents need no reordering and are written as they are read;
    // the others (and errors) go through go-yaml's tree.
    let mark = out.len();
    let mut doc = DocWriter::new(out);
    if let Ok(text) = std::str::from_utf8(json)
        && doc.json(text)
    {
        doc.finish();
        return Ok(());
    }
    out.truncate(mark);
    json_to_yaml_via_tree(json, out)
}

/// [`json_to_yaml`] through go-yaml's value tree only, never streaming:
/// the reference the streaming writer is checked against (tests, fuzzing).
#[doc(hidden)]
pub fn json_to_yaml_via_tree(json: &[u8], out: &mut Vec<u8>) -> Result<(), YamlError> {
    let root = json::Reader::new(json).read_document()?;
    emit::emit_document(&root, out);
    Ok(())
}

/// One YAML document written piece by piece: byte for byte what
/// [`json_to_yaml`] writes for the JSON document the pieces make, when the
/// caller gives each mapping's keys in go-yaml's order (natural order;
/// `image` < `name` < `relatedImages` for plain lower-case names). A method
/// that returns `false` has met something only the general path writes
/// (keys out of order, text that go-yaml rejects or changes): the caller
/// drops what was written and uses [`json_to_yaml`] on the whole document,
/// which also gives the error, if any.
pub struct DocWriter<'o> {
    e: emit::Emitter<'o>,
    /// The next value is a mapping entry's (not a sequence item's).
    under_key: bool,
}

impl<'o> DocWriter<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        DocWriter {
            e: emit::Emitter::new(out),
            under_key: false,
        }
    }

    /// A mapping that will have at least one entry starts.
    pub fn begin_map(&mut self) {
        self.e.begin_map();
    }

    /// A sequence that will have at least one item starts.
    pub fn begin_seq(&mut self) {
        self.e.begin_seq(self.under_key);
    }

    /// The innermost mapping or sequence ends.
    pub fn end(&mut self) {
        self.e.end_collection();
    }

    /// The next entry of the innermost mapping: `key` must be printable
    /// ASCII and sort after the previous key.
    pub fn key(&mut self, key: &str) {
        self.e.key(key, emit::Known::Nothing);
        self.under_key = true;
    }

    /// The next item of the innermost sequence.
    pub fn item(&mut self) {
        self.e.item();
        self.under_key = false;
    }

    /// A string value, as Go's JSON encoding of it reads back in YAML.
    pub fn string(&mut self, s: &str) -> bool {
        // Go writes DEL, C1 controls, U+FFFE and U+FFFF unescaped, which
        // go-yaml then rejects or (U+0085) folds; leave those to the
        // general path. Their UTF-8 starts with one of these bytes.
        if s.bytes().any(|c| matches!(c, 0x7F | 0xC2 | 0xEF)) {
            return false;
        }
        self.e.string(s, emit::Known::Nothing);
        true
    }

    /// A JSON value (e.g. a property value's raw text).
    pub fn json(&mut self, value: &str) -> bool {
        json::Reader::from_str(value)
            .stream_value(&mut self.e, self.under_key)
            .is_some()
    }

    /// The document ends.
    pub fn finish(mut self) {
        self.e.end_document();
    }
}

/// Read the first YAML document of `text` as `sigs.k8s.io/yaml.YAMLToJSON`
/// does and return it as a JSON value. An empty or comment-only document is
/// `Value::Null`.
pub fn yaml_to_value(text: &str) -> Result<serde_json::Value, YamlError> {
    parse::parse_first_document(text)
}

/// Same as [`yaml_to_value`], for the text of one document of a
/// multi-document stream that the caller has already split.
pub fn yaml_doc_to_value(text: &str) -> Result<serde_json::Value, YamlError> {
    parse::parse_first_document(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn records(name: &str) -> Vec<Value> {
        let path = format!("{}/testdata/encoding/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        text.split('\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).expect("record"))
            .collect()
    }

    fn emit_str(input: &str) -> Result<String, YamlError> {
        let mut out = b"---\n".to_vec();
        json_to_yaml(input.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).expect("utf8 output"))
    }

    #[test]
    fn emit_conformance() {
        let recs = records("yaml-emit.jsonl");
        let (mut pass, mut skipped, mut failed) = (0, 0, Vec::new());
        for r in &recs {
            let id = r["id"].as_str().unwrap_or("?");
            let input = r["in"].as_str().unwrap_or_default();
            let got = emit_str(input);
            let ok = if r.get("error").is_some() {
                got.is_err()
            } else if r.get("nondeterministic").is_some() {
                match &got {
                    Ok(s) => r["outs"]
                        .as_array()
                        .is_some_and(|o| o.iter().any(|x| x.as_str() == Some(s))),
                    Err(_) => r.get("errors").is_some(),
                }
            } else {
                got.as_deref().ok() == r["out"].as_str()
            };
            if ok {
                pass += 1;
            } else if r.get("known_gap").is_some() {
                skipped += 1;
            } else {
                failed.push(id.to_string());
                if failed.len() <= 10 {
                    eprintln!(
                        "FAIL {id}: {}\n  in:   {input:?}\n  got:  {got:?}\n  want: {:?}",
                        r["note"],
                        r.get("out").or(r.get("error"))
                    );
                }
            }
        }
        eprintln!(
            "yaml-emit: {pass} passed, {} failed, {skipped} skipped (known_gap)",
            failed.len()
        );
        assert!(failed.is_empty(), "failing ids: {failed:?}");
    }

    /// Numbers compare by value (Go prints floats its own way, `-0` is a
    /// float, and 1.0 comes back as `1`).
    fn same_value(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                    return i == j;
                }
                if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                    return i == j;
                }
                x.as_f64() == y.as_f64()
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
            }
            _ => a == b,
        }
    }

    #[test]
    fn parse_conformance() {
        let recs = records("yaml-parse.jsonl");
        let (mut pass, mut failed) = (0, Vec::new());
        let mut msg_diff = 0;
        for r in &recs {
            let id = r["id"].as_str().unwrap_or("?");
            let input = r["in"].as_str().unwrap_or_default();
            let got = std::panic::catch_unwind(|| yaml_to_value(input)).unwrap_or_else(|_| {
                eprintln!("PANIC {id}");
                Err(YamlError("panic".into()))
            });
            let parse =
                |s: &Value| serde_json::from_str::<Value>(s.as_str().unwrap_or("null")).ok();
            let ok = if let Some(e) = r.get("error") {
                if let Err(g) = &got
                    && Some(g.0.as_str()) != e.as_str()
                {
                    msg_diff += 1;
                    eprintln!("message {id}: got {:?} want {e}", g.0);
                }
                got.is_err()
            } else if r.get("nondeterministic").is_some() {
                match &got {
                    Ok(v) => r["outs"].as_array().is_some_and(|o| {
                        o.iter()
                            .any(|x| parse(x).is_some_and(|w| same_value(v, &w)))
                    }),
                    Err(_) => r.get("errors").is_some(),
                }
            } else {
                match (&got, parse(&r["out"])) {
                    (Ok(v), Some(w)) => same_value(v, &w),
                    _ => false,
                }
            };
            if ok {
                pass += 1;
            } else {
                failed.push(id.to_string());
                eprintln!(
                    "FAIL {id}: {}\n  in:   {input:?}\n  got:  {got:?}\n  want: {:?}",
                    r["note"],
                    r.get("out").or(r.get("error"))
                );
            }
        }
        eprintln!(
            "yaml-parse: {pass} passed, {} failed ({msg_diff} error messages differ)",
            failed.len()
        );
        assert!(failed.is_empty(), "failing ids: {failed:?}");
    }

    /// xorshift64*: a tiny deterministic generator for the robustness test.
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

    /// No input may panic: random YAML-ish and JSON-ish text, and mutations
    /// of the conformance inputs, must give Ok or Err.
    #[test]
    fn no_panics_on_random_input() {
        const PIECES: &[&str] = &[
            "a",
            "b",
            "1",
            "0x",
            "-",
            "- ",
            "? ",
            ": ",
            ":",
            ",",
            "[",
            "]",
            "{",
            "}",
            "\"",
            "'",
            "\\",
            "\\u",
            "\\x4",
            "|",
            "|+",
            "|-2",
            ">",
            ">-",
            "#",
            "&a ",
            "*a",
            "!",
            "!!int ",
            "!<x>",
            "!a,",
            "%YAML 1.1\n",
            "%TAG ! x\n",
            "---",
            "...",
            "\n",
            "\r\n",
            "  ",
            "\t",
            "<<: ",
            "\u{85}",
            "\u{2028}",
            "\u{feff}",
            "é",
            "😀",
            "\u{7f}",
            "~",
            "null",
            ".inf",
            "2001-01-01",
            "1:20",
            "\"\\",
            "'''",
            "%",
            "@",
            "`",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut inputs: Vec<String> = Vec::new();
        for file in ["yaml-parse.jsonl", "yaml-emit.jsonl"] {
            for r in records(file).iter().take(800) {
                if let Some(s) = r["in"].as_str() {
                    inputs.push(s.to_string());
                }
            }
        }
        // GOYAML_FUZZ_ROUNDS / GOYAML_FUZZ_SEED allow longer local runs.
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        let rounds = env("GOYAML_FUZZ_ROUNDS").unwrap_or(20_000);
        rng.0 ^= env("GOYAML_FUZZ_SEED").unwrap_or(0);
        for round in 0..rounds {
            let mut text = String::new();
            if round % 2 == 0 {
                let base = &inputs[rng.below(inputs.len())];
                let mut cut = rng.below(base.len() + 1);
                while !base.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.push_str(&base[..cut]);
                text.push_str(PIECES[rng.below(PIECES.len())]);
                let mut rest = rng.below(base.len() + 1).max(cut);
                while !base.is_char_boundary(rest) {
                    rest += 1;
                }
                text.push_str(&base[rest..]);
            } else {
                for _ in 0..rng.below(24) {
                    text.push_str(PIECES[rng.below(PIECES.len())]);
                }
            }
            let _ = yaml_to_value(&text);
            let mut out = Vec::new();
            let _ = json_to_yaml(text.as_bytes(), &mut out);
        }
    }

    /// A random JSON text for the streaming test: maps (keys sorted as
    /// go-yaml sorts them most of the time, so that most documents stream),
    /// arrays and strings made of the pieces that steer the writer.
    fn random_json(rng: &mut Rng, depth: usize, out: &mut String) {
        const PIECES: &[&str] = &[
            "a",
            "Zz",
            "09",
            "x/y=",
            " ",
            "  ",
            ":",
            ": ",
            "#",
            " #",
            "-",
            "?",
            "'",
            "\\\"",
            "\\\\",
            "\\n",
            "\\n ",
            " \\n",
            "\\t",
            "\\r",
            "\\u0085",
            "\\u00e9",
            "é",
            "\\u2028",
            "---",
            "...",
            "yes",
            "1.5",
            "0x1F",
            "~",
            "null",
            "|",
            "{",
            "[",
            "a long run of words that goes on past the eighty columns where go-yaml folds",
        ];
        match if depth > 3 {
            rng.below(3)
        } else {
            rng.below(6)
        } {
            0 => {
                out.push('"');
                for _ in 0..rng.below(6) {
                    out.push_str(PIECES[rng.below(PIECES.len())]);
                }
                out.push('"');
            }
            1 => out.push_str(["1", "-2.5", "1e400", "true", "null", "0"][rng.below(6)]),
            2 => out.push_str(["[]", "{}"][rng.below(2)]),
            3 => {
                out.push('[');
                for k in 0..1 + rng.below(3) {
                    if k > 0 {
                        out.push(',');
                    }
                    random_json(rng, depth + 1, out);
                }
                out.push(']');
            }
            _ => {
                let mut keys: Vec<String> = (0..1 + rng.below(4))
                    .map(|_| {
                        let mut k = String::new();
                        for _ in 0..1 + rng.below(2) {
                            k.push_str(PIECES[rng.below(PIECES.len())]);
                        }
                        k
                    })
                    .collect();
                if rng.below(4) > 0 {
                    keys.sort();
                }
                out.push('{');
                for (n, k) in keys.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push('"');
                    out.push_str(k);
                    out.push_str("\":");
                    random_json(rng, depth + 1, out);
                }
                out.push('}');
            }
        }
    }

    /// Writing a document as it is read gives the tree's bytes exactly
    /// whenever it does not decline (keys out of order or repeated, text
    /// the YAML re-read changes or rejects), and most documents stream.
    #[test]
    fn streaming_writes_what_the_tree_writes() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut streamed, mut declined) = (0, 0);
        for _ in 0..30_000 {
            let mut json = String::new();
            random_json(&mut rng, 0, &mut json);
            let mut tree = Vec::new();
            let tree_result = json_to_yaml_via_tree(json.as_bytes(), &mut tree);
            let mut out = Vec::new();
            let mut doc = DocWriter::new(&mut out);
            if doc.json(&json) {
                doc.finish();
                streamed += 1;
                assert!(tree_result.is_ok(), "{json}");
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&tree),
                    "{json}"
                );
            } else {
                declined += 1;
            }
        }
        assert!(
            streamed > 15_000 && declined > 1_000,
            "{streamed} {declined}"
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = "[".repeat(200_000);
        assert!(yaml_to_value(&deep).is_err());
        let mut out = Vec::new();
        assert!(json_to_yaml(deep.as_bytes(), &mut out).is_err());
        // Just under the limit works on both sides.
        let ok = format!("{}{}", "[".repeat(9_999), "]".repeat(9_999));
        assert!(json_to_yaml(ok.as_bytes(), &mut out).is_ok());
        let v = yaml_to_value(&ok).expect("9999 levels");
        // Dropping a deep Value recurses; give it room like the caller must.
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || drop(v))
            .expect("thread")
            .join()
            .expect("drop");
        let block = "- ".repeat(20_000);
        assert!(yaml_to_value(&block).is_err());
    }

    #[test]
    fn examples() {
        let mut out = Vec::new();
        let json = br#"{"b":[1,2.5,1e6,"yes"],"a":{"x":"line1\nline2\n"},"e":[],"m":{}}"#;
        json_to_yaml(json, &mut out).expect("emit");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "a:\n  x: |\n    line1\n    line2\nb:\n- 1\n- 2.5\n- 1e+06\n- \"yes\"\ne: []\nm: {}\n"
        );
        let v = yaml_to_value("a: yes\nb: 010\nc: 2021-01-01\n").expect("parse");
        assert_eq!(v, serde_json::json!({"a": true, "b": 8, "c": "2021-01-01"}));
        assert_eq!(
            yaml_to_value("# only a comment\n").expect("null"),
            Value::Null
        );
        assert_eq!(
            yaml_to_value("a: b: c\n").unwrap_err().0,
            "yaml: mapping values are not allowed in this context"
        );
    }
}
