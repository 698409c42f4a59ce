//! `plaintext-secrets` — passwords and keys are secret references, not values. A warning.
//!
//! Helm stores a release's values in the cluster (and clients keep values files in
//! version control), so a password written into values is readable by anyone who
//! can read the release. The guide's §8 example does this for the database
//! passwords; lfrun's values builder uses the charts' existing-secret fields instead.

use serde_json::Value as Json;

use crate::policy::rule::{nothing, Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "plaintext-secrets",
    severity: Severity::Warning,
    summary: "no passwords or keys written as plain values; use secret references (existingSecret, secretKeyRef)",
    values,
    manifests: nothing,
};

/// Whether a values key holds a secret itself (not the *name* of a secret or key).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let names_a_reference = k.starts_with("existingsecret")
        || k.ends_with("secretkeyref")
        || k == "secretkeys"
        || k.ends_with("key")
            && (k.contains("password") || k.contains("secret"))
            && k != "secretaccesskey"
        || k.ends_with("secretname");
    if names_a_reference {
        return false;
    }
    [
        "password",
        "secret",
        "token",
        "salt",
        "encryptionkey",
        "licensekey",
        "apikey",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// Whether an env variable name holds a secret.
fn is_secret_variable(name: &str) -> bool {
    ["PASSWORD", "SECRET", "TOKEN", "SALT", "ENCRYPTION_KEY"]
        .iter()
        .any(|w| name.contains(w))
}

const FIX: &str = "keep the value in a Kubernetes secret and reference it (existingSecret / secretKeyRef); the values builder does this";

fn values(values: &Json, _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, map) in tree::maps(values) {
        for (key, value) in map {
            if !is_secret_key(key) {
                continue;
            }
            let literal = match value {
                Json::String(s) => !s.is_empty(),
                // the chart's `{value, secretKeyRef}` shape
                Json::Object(m) => m
                    .get("value")
                    .and_then(|v| v.as_str())
                    .is_some_and(|s| !s.is_empty()),
                _ => false,
            };
            if literal {
                out.push(Finding::new(
                    format!("`{}` is written as a plain value", tree::join(&path, key)),
                    FIX,
                ));
            }
        }
    }
    for (path, entry) in tree::env_entries(values) {
        let name = tree::env_name(entry);
        // `AUTH_DISABLE_USERNAME_PASSWORD: "true"` is a switch, not a password
        let literal =
            tree::env_value(entry).filter(|v| !v.is_empty() && v != "true" && v != "false");
        if is_secret_variable(name) && literal.is_some() {
            out.push(Finding::new(
                format!("`{path}` sets {name} as a plain value"),
                FIX,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_versus_reference_names() {
        for k in [
            "password",
            "postgresPassword",
            "rootPassword",
            "clientSecret",
            "secretAccessKey",
            "salt",
            "encryptionKey",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "existingSecret",
            "existingSecretPasswordKey",
            "userPasswordKey",
            "secretKeyRef",
            "secretKeys",
            "rootPasswordSecretKey",
            "username",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
