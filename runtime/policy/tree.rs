//! Small helpers for looking into values and manifests (JSON trees).

use serde_json::Value as Json;

/// The value at `path` (keys may contain dots or slashes, so they are separate).
pub fn at<'a>(root: &'a Json, path: &[&str]) -> Option<&'a Json> {
    let mut node = root;
    for key in path {
        node = node.as_object()?.get(*key)?;
    }
    (!node.is_null()).then_some(node)
}

/// The text at `path`, if it is a non-empty string (numbers and bools as text).
pub fn text(root: &Json, path: &[&str]) -> Option<String> {
    match at(root, path)? {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean at `path`, with `default` when absent (`"true"`/`"false"` strings count).
pub fn flag(root: &Json, path: &[&str], default: bool) -> bool {
    match at(root, path) {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s == "true",
        _ => default,
    }
}

/// Whether a value is "set": a non-empty string, or a `{value, secretKeyRef}` map
/// with a value or a secret name (the chart's shape for credentials).
pub fn is_set(value: &Json) -> bool {
    match value {
        Json::String(s) => !s.is_empty(),
        Json::Number(_) | Json::Bool(_) => true,
        Json::Object(map) => {
            map.get("value").is_some_and(is_set)
                || map
                    .get("secretKeyRef")
                    .and_then(|r| r.get("name"))
                    .is_some_and(is_set)
                || map.get("valueFrom").is_some()
        }
        _ => false,
    }
}

/// Every map in the tree, with its dotted path (`s3.eventUpload`).
pub fn maps(root: &Json) -> Vec<(String, &serde_json::Map<String, Json>)> {
    let mut out = Vec::new();
    fn walk<'a>(
        path: String,
        v: &'a Json,
        out: &mut Vec<(String, &'a serde_json::Map<String, Json>)>,
    ) {
        match v {
            Json::Object(map) => {
                out.push((path.clone(), map));
                for (k, child) in map {
                    walk(join(&path, k), child, out);
                }
            }
            Json::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(format!("{path}[{i}]"), child, out);
                }
            }
            _ => {}
        }
    }
    walk(String::new(), root, &mut out);
    out
}

/// Every string in the tree, with its dotted path.
pub fn strings(root: &Json) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    fn walk<'a>(path: String, v: &'a Json, out: &mut Vec<(String, &'a str)>) {
        match v {
            Json::String(s) => out.push((path, s)),
            Json::Object(map) => map.iter().for_each(|(k, c)| walk(join(&path, k), c, out)),
            Json::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, c)| walk(format!("{path}[{i}]"), c, out)),
            _ => {}
        }
    }
    walk(String::new(), root, &mut out);
    out
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Environment variable entries (`{name, value|valueFrom}`) anywhere in values,
/// with the path of the list they are in.
pub fn env_entries(root: &Json) -> Vec<(String, &Json)> {
    let mut out = Vec::new();
    fn walk<'a>(path: String, v: &'a Json, out: &mut Vec<(String, &'a Json)>) {
        match v {
            Json::Object(map) => map.iter().for_each(|(k, c)| walk(join(&path, k), c, out)),
            Json::Array(items) => {
                for item in items {
                    if item.get("name").is_some_and(|n| n.is_string())
                        && (item.get("value").is_some() || item.get("valueFrom").is_some())
                    {
                        out.push((path.clone(), item));
                    } else {
                        walk(path.clone(), item, out);
                    }
                }
            }
            _ => {}
        }
    }
    walk(String::new(), root, &mut out);
    out
}

/// An env entry's name.
pub fn env_name(entry: &Json) -> &str {
    entry.get("name").and_then(|n| n.as_str()).unwrap_or("")
}

/// An env entry's literal value (`value:`), if it has one.
pub fn env_value(entry: &Json) -> Option<String> {
    match entry.get("value")? {
        Json::String(s) => Some(s.clone()),
        Json::Null => None,
        other => Some(other.to_string()),
    }
}

/// Whether an env entry takes its value from a secret (`valueFrom.secretKeyRef` with a name and key).
pub fn env_from_secret(entry: &Json) -> bool {
    let r = &entry["valueFrom"]["secretKeyRef"];
    r["name"].as_str().is_some_and(|s| !s.is_empty())
        && r["key"].as_str().is_some_and(|s| !s.is_empty())
}

/// Bytes in a Kubernetes quantity (`50Gi`, `100G`, `8Gi`, `1Ti`, `500Mi`, `1024`).
pub fn quantity_bytes(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len());
    let (number, unit) = q.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let factor: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        _ => return None,
    };
    Some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("50Gi"), Some(50.0 * 1024f64.powi(3)));
        assert!(quantity_bytes("100G").unwrap() > quantity_bytes("50Gi").unwrap());
        assert!(quantity_bytes("8Gi").unwrap() < quantity_bytes("50Gi").unwrap());
        assert_eq!(quantity_bytes("lots"), None);
    }

    #[test]
    fn finds_env_entries_anywhere() {
        let v = json!({"langfuse": {"additionalEnv": [{"name": "A", "value": "1"}],
                      "web": {"pod": {"additionalEnv": [{"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}}}});
        let names: Vec<&str> = env_entries(&v).iter().map(|(_, e)| env_name(e)).collect();
        assert_eq!(names, ["A", "B"]);
        assert!(env_from_secret(env_entries(&v)[1].1));
    }

    #[test]
    fn set_means_value_or_secret_ref() {
        assert!(!is_set(
            &json!({"value": "", "secretKeyRef": {"name": "", "key": ""}})
        ));
        assert!(is_set(&json!({"value": "AKIA"})));
        assert!(is_set(
            &json!({"secretKeyRef": {"name": "keys", "key": "id"}})
        ));
        assert!(is_set(&json!("x")));
        assert!(!is_set(&json!("")));
    }
}
