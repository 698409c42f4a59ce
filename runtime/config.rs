//! The client config: one YAML file, merged with `--set a.b=value` overrides.
//!
//! Scripts see it as the `config` map and through `config::get("a.b")`, which fails
//! with the dotted key and the file name when a required key is missing. Keys at
//! the top level that the documented example config does not have are warned about,
//! because a typo there (`namspace:`) silently falls back to a default otherwise.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::error::Failure;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the config came from, as shown in messages.
    pub source: String,
    /// The file itself, when there is one.
    pub path: Option<PathBuf>,
    pub root: Value,
    /// The config as the file has it, before `--set` overrides.
    pub file_root: Value,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            source: "(no config)".into(),
            path: None,
            root: Value::Mapping(Mapping::new()),
            file_root: Value::Mapping(Mapping::new()),
        }
    }
}

impl Config {
    /// Reads a YAML config file.
    pub fn from_file(path: &Path) -> Result<Config, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::config(format!("cannot read config file {}: {e}", path.display()))
                .with_hint("check the path given to --config")
        })?;
        Config::from_yaml(&text, &path.display().to_string(), Some(path.to_path_buf()))
    }

    /// Parses YAML text; `source` names it in messages.
    pub fn from_yaml(text: &str, source: &str, path: Option<PathBuf>) -> Result<Config, Failure> {
        let root: Value = serde_yaml::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            Failure::config(format!("{source}{at}: not valid YAML: {e}"))
                .with_hint("fix the YAML syntax at that line")
        })?;
        let root = match root {
            Value::Null => Value::Mapping(Mapping::new()),
            Value::Mapping(m) => Value::Mapping(m),
            other => {
                return Err(Failure::config(format!(
                    "{source}: the config must be a mapping of keys, found {}",
                    type_name(&other)
                )))
            }
        };
        Ok(Config {
            source: source.into(),
            path,
            file_root: root.clone(),
            root,
        })
    }

    /// Applies one `--set a.b.c=value` override. The value is typed: integers,
    /// floats, `true`/`false` and `null` are parsed; quote it to keep a string.
    pub fn apply_set(&mut self, assignment: &str) -> Result<(), Failure> {
        let Some((path, raw)) = assignment.split_once('=') else {
            return Err(Failure::config(format!(
                "--set {assignment}: expected KEY=VALUE, e.g. --set namespace=langfuse"
            )));
        };
        let value = parse_scalar(raw);
        self.set(path, value).map_err(|e| Failure {
            message: format!("--set {assignment}: {}", e.message),
            ..e
        })
    }

    /// Sets a dotted key, creating intermediate maps.
    pub fn set(&mut self, dotted: &str, value: Value) -> Result<(), Failure> {
        let parts = split_path(dotted)?;
        let mut node = &mut self.root;
        for (i, part) in parts.iter().enumerate() {
            let Value::Mapping(map) = node else {
                let parent = parts[..i].join(".");
                return Err(Failure::config(format!(
                    "`{parent}` is a {}, not a map, so `{dotted}` cannot be set",
                    type_name(node)
                )));
            };
            let key = Value::String(part.to_string());
            if i + 1 == parts.len() {
                map.insert(key, value);
                return Ok(());
            }
            node = map
                .entry(key)
                .or_insert_with(|| Value::Mapping(Mapping::new()));
        }
        Ok(())
    }

    /// The config as loaded from its file, without this run's `--set` overrides.
    pub fn as_loaded(&self) -> Config {
        Config {
            root: self.file_root.clone(),
            ..self.clone()
        }
    }

    /// The value at a dotted key, if present (and not null).
    pub fn get(&self, dotted: &str) -> Option<&Value> {
        let mut node = &self.root;
        for part in dotted.split('.') {
            node = node.as_mapping()?.get(part)?;
        }
        (!node.is_null()).then_some(node)
    }

    /// The value at a dotted key; a missing key is an error naming it and the file.
    pub fn require(&self, dotted: &str) -> Result<&Value, Failure> {
        self.get(dotted).ok_or_else(|| {
            Failure::config(format!(
                "missing required config key `{dotted}` in {}",
                self.source
            ))
            .with_hint(format!(
                "add `{dotted}` to {} or pass --set {dotted}=…",
                self.source
            ))
        })
    }

    pub fn get_str(&self, dotted: &str) -> Option<String> {
        self.get(dotted).map(scalar_text)
    }

    pub fn get_bool(&self, dotted: &str) -> Option<bool> {
        self.get(dotted).and_then(|v| v.as_bool())
    }

    pub fn top_level_keys(&self) -> Vec<String> {
        self.root
            .as_mapping()
            .map(|m| m.keys().map(scalar_text).collect())
            .unwrap_or_default()
    }

    /// Top-level keys of the file not in `known`, each with a suggestion when one is
    /// close. `--set` keys are not checked: a runbook's own settings (`--set
    /// scale.web=3`) are deliberate, a typo in a file is not.
    pub fn unknown_keys(&self, known: &[String]) -> Vec<String> {
        self.as_loaded()
            .top_level_keys()
            .into_iter()
            .filter(|k| !known.contains(k))
            .map(
                |k| match known.iter().min_by_key(|c| edit_distance(&k, c)) {
                    Some(best) if edit_distance(&k, best) <= 2 => {
                        format!(
                            "unknown config key `{k}` in {} (did you mean `{best}`?)",
                            self.source
                        )
                    }
                    _ => format!(
                        "unknown config key `{k}` in {} (it is ignored)",
                        self.source
                    ),
                },
            )
            .collect()
    }

    /// The scope a script starts with: this config as the constant `config`.
    pub fn script_scope(&self) -> rhai::Scope<'static> {
        let mut scope = rhai::Scope::new();
        scope.push_constant("config", self.to_dynamic());
        scope
    }

    /// The config as the map scripts see.
    pub fn to_dynamic(&self) -> rhai::Dynamic {
        rhai::serde::to_dynamic(&self.root).unwrap_or_default()
    }
}

fn split_path(dotted: &str) -> Result<Vec<&str>, Failure> {
    let parts: Vec<&str> = dotted.split('.').collect();
    if dotted.is_empty() || parts.iter().any(|p| p.trim().is_empty()) {
        return Err(Failure::config(format!("`{dotted}` is not a valid key path (use names separated by dots, e.g. azure.subscription)")));
    }
    Ok(parts)
}

/// Parses a `--set` value: numbers, booleans and null are typed, quotes keep a string.
pub fn parse_scalar(raw: &str) -> Value {
    let t = raw.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        return Value::String(t[1..t.len() - 1].to_string());
    }
    match t {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" | "~" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = t.parse::<i64>() {
        return Value::Number(i.into());
    }
    if t.contains('.') {
        if let Ok(f) = t.parse::<f64>() {
            return Value::Number(f.into());
        }
    }
    Value::String(raw.to_string())
}

/// A scalar as text (strings unquoted).
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Sequence(_) => "list",
        Value::Mapping(_) => "map",
        Value::Tagged(_) => "tagged value",
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The `config::` module: required and optional lookups by dotted key.
pub fn module(run: &std::sync::Arc<crate::context::RunContext>) -> rhai::Module {
    use crate::error::ScriptResult;
    use rhai::Dynamic;
    let mut m = crate::register::Registrar::new(
        "config",
        "The client config (YAML file merged with --set overrides).",
    );
    let r = run.clone();
    m.fun(
        "get",
        "The value at a dotted key; fails with kind `config` naming the key and the file when it is missing.",
        &["key"],
        move |key: &str| -> ScriptResult<Dynamic> { Ok(yaml_to_dynamic(r.config.require(key)?)) },
    );
    let r = run.clone();
    m.fun(
        "get_or",
        "The value at a dotted key, or `default` when it is missing.",
        &["key", "default"],
        move |key: &str, default: Dynamic| -> Dynamic {
            r.config.get(key).map(yaml_to_dynamic).unwrap_or(default)
        },
    );
    let r = run.clone();
    m.fun(
        "has",
        "True when the dotted key is present and not null.",
        &["key"],
        move |key: &str| r.config.get(key).is_some(),
    );
    let r = run.clone();
    m.fun("all", "The whole config as a map.", &[], move || {
        r.config.to_dynamic()
    });
    let r = run.clone();
    m.fun(
        "source",
        "Where the config came from (file name).",
        &[],
        move || r.config.source.clone(),
    );
    m.build()
}

fn yaml_to_dynamic(v: &Value) -> rhai::Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_parses_types_and_creates_maps() {
        let mut c = Config::from_yaml("a: {b: 1}", "t.yaml", None).unwrap();
        c.apply_set("a.c=true").unwrap();
        c.apply_set("x.y.z=42").unwrap();
        c.apply_set("s='007'").unwrap();
        assert_eq!(c.get("a.b"), Some(&Value::Number(1.into())));
        assert_eq!(c.get("a.c"), Some(&Value::Bool(true)));
        assert_eq!(c.get("x.y.z"), Some(&Value::Number(42.into())));
        assert_eq!(c.get("s"), Some(&Value::String("007".into())));
    }

    #[test]
    fn set_into_scalar_names_the_key() {
        let mut c = Config::from_yaml("namespace: langfuse", "t.yaml", None).unwrap();
        let err = c.apply_set("namespace.x=1").unwrap_err();
        assert!(
            err.message.contains("`namespace` is a string"),
            "{}",
            err.message
        );
        assert!(c.apply_set("a..b=1").is_err());
        assert!(c.apply_set("novalue").is_err());
    }

    #[test]
    fn missing_key_names_key_and_file() {
        let c = Config::from_yaml("a: 1", "client.yaml", None).unwrap();
        let err = c.require("azure.subscription").unwrap_err();
        assert!(err.message.contains("`azure.subscription`"));
        assert!(err.message.contains("client.yaml"));
    }

    #[test]
    fn unknown_keys_suggest_close_names() {
        let c = Config::from_yaml("namspace: x\nfoo: 1", "c.yaml", None).unwrap();
        let w = c.unknown_keys(&["namespace".into()]);
        assert!(w[0].contains("did you mean `namespace`"), "{w:?}");
        assert!(w[1].contains("`foo`"));
    }
}
