//! Converting between Rhai values and JSON/YAML.
//!
//! Primitives speak JSON to servers and YAML to helm; scripts hold Rhai maps. The
//! one subtlety is `Secret`: shown as `***` everywhere ([`Reveal::Mask`]) except when
//! a primitive deliberately sends it ([`Reveal::Expose`]).

use rhai::{Array, Dynamic, Map};
use serde_json::Value as Json;

use crate::error::Failure;
use crate::secret::{Secret, MASK};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// Secrets become `***` (output, plan, journal, files a user may share).
    Mask,
    /// Secrets become their value (only where a primitive must send it).
    Expose,
}

/// A Rhai value as JSON.
pub fn to_json(value: &Dynamic, reveal: Reveal) -> Json {
    if value.is_unit() {
        return Json::Null;
    }
    if let Some(s) = value.read_lock::<Secret>() {
        return match reveal {
            Reveal::Mask => Json::String(MASK.into()),
            Reveal::Expose => Json::String(s.reveal().to_string()),
        };
    }
    if value.is_map() {
        let map = value.read_lock::<Map>().expect("checked is_map");
        return Json::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), to_json(v, reveal)))
                .collect(),
        );
    }
    if value.is_array() {
        let arr = value.read_lock::<Array>().expect("checked is_array");
        return Json::Array(arr.iter().map(|v| to_json(v, reveal)).collect());
    }
    if let Ok(b) = value.as_bool() {
        return Json::Bool(b);
    }
    if let Ok(i) = value.as_int() {
        return Json::Number(i.into());
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null);
    }
    if value.is_string() {
        return Json::String(value.to_string());
    }
    if value.is_timestamp() {
        return Json::Null;
    }
    if value.is_fnptr() {
        return Json::String(value.to_string());
    }
    Json::String(value.to_string())
}

/// JSON as a Rhai value (objects become maps, numbers int or float).
pub fn from_json(value: &Json) -> Dynamic {
    match value {
        Json::Null => Dynamic::UNIT,
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(0.0).into(),
        },
        Json::String(s) => s.clone().into(),
        Json::Array(items) => items.iter().map(from_json).collect::<Array>().into(),
        Json::Object(map) => map
            .iter()
            .map(|(k, v)| (k.as_str().into(), from_json(v)))
            .collect::<Map>()
            .into(),
    }
}

/// YAML text (secrets masked) for showing a value to a human.
pub fn to_yaml_text(value: &Dynamic) -> String {
    let json = to_json(value, Reveal::Mask);
    match &json {
        Json::Object(_) | Json::Array(_) => serde_yaml::to_string(&json).unwrap_or_default(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses YAML text (one document) into a Rhai value.
pub fn parse_yaml(text: &str, what: &str) -> Result<Dynamic, Failure> {
    let v: Json = serde_yaml::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Failure::invalid(format!("{what}{at}: not valid YAML: {e}"))
    })?;
    Ok(from_json(&v))
}

/// Parses JSON text into a Rhai value.
pub fn parse_json(text: &str, what: &str) -> Result<Dynamic, Failure> {
    let v: Json = serde_json::from_str(text).map_err(|e| {
        Failure::invalid(format!(
            "{what}:{}:{}: not valid JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    Ok(from_json(&v))
}

/// Reads a string field of a map argument, with an error naming the primitive and key.
pub fn map_str(map: &Map, key: &str, primitive: &str) -> Result<String, Failure> {
    match map.get(key) {
        Some(v) if v.is_string() => Ok(v.to_string()),
        Some(v) => Err(Failure::invalid(format!(
            "{primitive}: `{key}` must be a string, got {}",
            v.type_name()
        ))),
        None => Err(Failure::invalid(format!("{primitive}: missing `{key}`"))),
    }
}

/// Reads an optional string field of a map argument.
pub fn map_opt_str(map: &Map, key: &str) -> Option<String> {
    map.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_unless_exposed() {
        let mut m = Map::new();
        m.insert(
            "password".into(),
            Dynamic::from(Secret::new("canary-json-1234")),
        );
        let d: Dynamic = m.into();
        assert_eq!(to_json(&d, Reveal::Mask)["password"], "***");
        assert_eq!(to_json(&d, Reveal::Expose)["password"], "canary-json-1234");
        assert!(!to_yaml_text(&d).contains("canary"));
    }

    #[test]
    fn json_round_trips() {
        let j: Json = serde_json::json!({"a": [1, 2.5, "x", true, null], "b": {"c": "d"}});
        assert_eq!(to_json(&from_json(&j), Reveal::Mask), j);
    }
}
