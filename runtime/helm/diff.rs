//! A short, human diff between deployed and desired values, for the plan.
//!
//! `helm upgrade` in a dry run shows what would change in the release's values,
//! one dotted key per line. Values whose key names a secret, or that are `Secret`
//! in the script, are shown as `***`; lists and maps that changed are named, not
//! printed, so the plan stays short.

use serde_json::Value as Json;

/// How many lines of diff a plan shows before `… and N more`.
const MAX_LINES: usize = 15;

/// Drops `null` entries from maps, recursively (helm treats them as absent).
pub fn normalize(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

/// Lines like `~ langfuse.web.image.tag: abc1234 → def5678`. `desired` is compared,
/// `shown` (the same values with secrets masked) is what is printed.
pub fn lines(deployed: &Json, desired: &Json, shown: &Json) -> Vec<String> {
    let mut out = Vec::new();
    walk(
        "",
        &normalize(deployed),
        &normalize(desired),
        &normalize(shown),
        &mut out,
    );
    if out.len() > MAX_LINES {
        let more = out.len() - MAX_LINES;
        out.truncate(MAX_LINES);
        out.push(format!("… and {more} more"));
    }
    out
}

fn walk(path: &str, old: &Json, new: &Json, shown: &Json, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(&child, x, y, &shown[key], out),
                    (None, Some(_)) => {
                        out.push(format!("+ {child}: {}", show(&child, &shown[key])))
                    }
                    (Some(_), None) => out.push(format!("- {child}")),
                    (None, None) => {}
                }
            }
        }
        _ => {
            let before = if looks_secret(path) {
                "***".into()
            } else {
                show(path, old)
            };
            let before = if shown.as_str() == Some(crate::secret::MASK) {
                "***".into()
            } else {
                before
            };
            out.push(format!("~ {path}: {before} → {}", show(path, shown)));
        }
    }
}

fn show(path: &str, value: &Json) -> String {
    if looks_secret(path) {
        return crate::secret::MASK.into();
    }
    match value {
        Json::String(s) => crate::secret::redact(s),
        Json::Array(items) => format!("(list of {})", items.len()),
        Json::Object(_) => "(map)".into(),
        other => other.to_string(),
    }
}

/// Whether a key's name says it holds a secret (`password`, `rootPassword`, `clientSecret`, …).
pub fn looks_secret(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path).to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "accesskey",
        "connectionstring",
        "credential",
    ]
    .iter()
    .any(|w| last.contains(w))
        && !last.ends_with("secretkeyref")
        && !last.starts_with("existingsecret")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shows_changed_added_and_removed_keys() {
        let old = json!({"a": {"tag": "abc", "gone": 1}, "n": null});
        let new = json!({"a": {"tag": "def", "added": true}});
        let l = lines(&old, &new, &new);
        assert_eq!(l, ["+ a.added: true", "- a.gone", "~ a.tag: abc → def"]);
    }

    #[test]
    fn masks_secret_looking_keys_and_masked_values() {
        let old = json!({"redis": {"auth": {"password": "old-pass-123"}}, "x": "plain-old"});
        let new = json!({"redis": {"auth": {"password": "new-pass-456"}}, "x": "s3cr3t-new"});
        let shown = json!({"redis": {"auth": {"password": "***"}}, "x": "***"});
        let l = lines(&old, &new, &shown).join("\n");
        assert!(!l.contains("pass-"), "{l}");
        assert!(!l.contains("s3cr3t"), "{l}");
        assert!(l.contains("~ redis.auth.password: *** → ***"), "{l}");
    }

    #[test]
    fn identical_values_have_no_diff() {
        let v = json!({"a": [1, 2], "b": {"c": "d"}});
        assert!(lines(&v, &v, &v).is_empty());
    }
}
