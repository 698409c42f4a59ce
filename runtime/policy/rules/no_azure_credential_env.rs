//! `no-azure-credential-env` — no `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` or
//! `AZURE_TENANT_ID` in any pod's environment (guide §3).
//!
//! `DefaultAzureCredential` prefers these variables over workload identity, so
//! setting them silently bypasses the design (and a client secret in env is a
//! credential in the release history).

use serde_json::Value as Json;

use crate::policy::manifests::workloads;
use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "no-azure-credential-env",
    severity: Severity::Error,
    summary: "no AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_TENANT_ID in pod env: they bypass workload identity (guide §3)",
    values,
    manifests,
};

const NAMES: [&str; 3] = ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"];
const FIX: &str =
    "remove it: the workload identity webhook injects what the Azure SDK needs (guide §3)";

fn values(values: &Json, _: &Context) -> Vec<Finding> {
    tree::env_entries(values)
        .into_iter()
        .filter(|(_, e)| NAMES.contains(&tree::env_name(e)))
        .map(|(path, e)| Finding::new(format!("`{path}` sets {}", tree::env_name(e)), FIX))
        .collect()
}

fn manifests(manifests: &[Json], _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in workloads(manifests) {
        for (container, entry) in w.env() {
            let name = tree::env_name(entry);
            if NAMES.contains(&name) {
                out.push(Finding::new(
                    format!(
                        "{} container {container} has {name} in its environment",
                        w.id()
                    ),
                    FIX,
                ));
            }
        }
    }
    out
}
