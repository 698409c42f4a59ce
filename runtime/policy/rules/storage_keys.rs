//! `no-storage-keys` — no Azure storage account keys anywhere (guide §1).
//!
//! Blob access is by workload identity only. A key in values (`accessKeyId`,
//! `secretAccessKey`, an account key or connection string) or an S3 key variable in
//! a pod's environment means the pods could authenticate without the identity, and
//! the key lives on in the release's history.

use serde_json::Value as Json;

use crate::policy::manifests::workloads;
use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "no-storage-keys",
    severity: Severity::Error,
    summary: "no storage account keys or connection strings in values or pod env (guide §1)",
    values,
    manifests,
};

const FIX: &str =
    "remove it: Blob access uses the managed identity through workload identity (guide §3)";

/// Value keys that carry storage credentials.
const KEY_NAMES: [&str; 5] = [
    "accesskeyid",
    "secretaccesskey",
    "accountkey",
    "storageaccountkey",
    "connectionstring",
];

/// Whether an env variable name carries a storage key.
fn is_key_variable(name: &str) -> bool {
    let s3_key = name.starts_with("LANGFUSE_S3_")
        && (name.ends_with("_ACCESS_KEY_ID") || name.ends_with("_SECRET_ACCESS_KEY"));
    s3_key
        || matches!(
            name,
            "AZURE_STORAGE_KEY" | "AZURE_STORAGE_ACCOUNT_KEY" | "AZURE_STORAGE_CONNECTION_STRING"
        )
}

fn values(values: &Json, _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, map) in tree::maps(values) {
        for (key, value) in map {
            if KEY_NAMES.contains(&key.to_ascii_lowercase().as_str()) && tree::is_set(value) {
                out.push(Finding::new(
                    format!(
                        "`{}` is set: storage account keys are not allowed",
                        tree::join(&path, key)
                    ),
                    FIX,
                ));
            }
        }
    }
    for (path, text) in tree::strings(values) {
        if text.contains("AccountKey=") {
            out.push(Finding::new(
                format!("`{path}` holds a storage connection string with an account key"),
                FIX,
            ));
        }
    }
    for (path, entry) in tree::env_entries(values) {
        let name = tree::env_name(entry);
        if is_key_variable(name) {
            out.push(Finding::new(
                format!("`{path}` sets {name}: storage account keys are not allowed"),
                FIX,
            ));
        }
    }
    out
}

fn manifests(manifests: &[Json], _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in workloads(manifests) {
        for (container, entry) in w.env() {
            let name = tree::env_name(entry);
            if is_key_variable(name) {
                out.push(Finding::new(
                    format!("{} container {container} gets {name} in its environment", w.id()),
                    "remove the storage key from the values (s3.*accessKeyId / secretAccessKey): Blob access uses workload identity",
                ));
            }
        }
    }
    out
}
