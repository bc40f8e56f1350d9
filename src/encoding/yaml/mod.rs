//! go-yaml v2 (as used through sigs.k8s.io/yaml) compatible YAML: the
//! emitter opm's `WriteYAML` uses, and the YAML 1.1 reader behind
//! `YAMLToJSON`.

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

/// Convert one JSON document to YAML exactly as `sigs.k8s.io/yaml.JSONToYAML`
/// does (without the `---\n` opm writes before it).
pub fn json_to_yaml(_json: &[u8], _out: &mut Vec<u8>) -> Result<(), YamlError> {
    todo!("encoding::yaml::json_to_yaml")
}

/// Read the first YAML document of `text` as `sigs.k8s.io/yaml.YAMLToJSON`
/// does (YAML 1.1 resolution), returning the JSON value.
pub fn yaml_to_value(_text: &str) -> Result<Value, YamlError> {
    todo!("encoding::yaml::yaml_to_value")
}

/// Go `strconv.FormatFloat(f, 'g', -1, 64)`.
pub fn format_float_g(_f: f64) -> String {
    todo!("encoding::yaml::format_float_g")
}
