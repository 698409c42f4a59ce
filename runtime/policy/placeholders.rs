//! The guide's `<PLACEHOLDER>`s, left in values by mistake.
//!
//! The §8 reference values say "Replace all `<...>` placeholders". A values file
//! that still has one would install an image tagged `<GIT_SHA>` or a tenant id of
//! `<TENANT_ID>`, so values with placeholders are refused outright.

use serde_json::Value as Json;

use crate::error::Failure;

/// Paths and texts of strings that contain a `<PLACEHOLDER>` (capitals, digits, `_`).
pub fn find(values: &Json) -> Vec<(String, String)> {
    super::tree::strings(values)
        .into_iter()
        .filter(|(_, s)| has_placeholder(s))
        .map(|(p, s)| (p, s.to_string()))
        .collect()
}

/// Whether `text` contains `<NAME>` with NAME made of capitals, digits and `_`.
pub fn has_placeholder(text: &str) -> bool {
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        if let Some(end) = after.find('>') {
            let name = &after[..end];
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && name.chars().any(|c| c.is_ascii_uppercase())
            {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// Fails with kind `invalid` naming every placeholder left in `values`.
pub fn refuse(values: &Json, what: &str) -> Result<(), Failure> {
    let found = find(values);
    if found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found.iter().map(|(p, s)| format!("{p}: {s}")).collect();
    let count = if found.len() == 1 {
        "a placeholder".to_string()
    } else {
        format!("{} placeholders", found.len())
    };
    Err(Failure::invalid(format!(
        "{what}: {count} of the guide left in (replace every <...>): {}",
        list.join("; ")
    ))
    .with_hint("replace every <...> with the real value (or let the values builder fill them from the config)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_guide_placeholders_only() {
        assert!(has_placeholder("<ACR_NAME>.azurecr.io/langfuse-web"));
        assert!(has_placeholder("https://<LANGFUSE_PUBLIC_URL>"));
        assert!(!has_placeholder("a < b > c"));
        assert!(!has_placeholder("<html>"));
        let v = serde_json::json!({"a": {"tag": "<GIT_SHA>"}, "b": "fine"});
        assert_eq!(find(&v), [("a.tag".to_string(), "<GIT_SHA>".to_string())]);
        assert!(refuse(&v, "values")
            .unwrap_err()
            .message
            .contains("a.tag: <GIT_SHA>"));
    }
}
