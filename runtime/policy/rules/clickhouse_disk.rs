//! `clickhouse-disk-min` — ClickHouse gets at least 50Gi (guide §8, §10). A warning.
//!
//! The bitnami default is 8Gi; it fills up, the worker drops traces and users see
//! "Trace not found". A StatefulSet's volume size cannot be changed by helm later
//! (§10), so the size has to be right at install.

use serde_json::Value as Json;

use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "clickhouse-disk-min",
    severity: Severity::Warning,
    summary: "clickhouse.persistence.size at least 50Gi; the 8Gi default fills up (guide §8, §10)",
    values,
    manifests,
};

pub const MINIMUM: &str = "50Gi";
const FIX: &str = "set clickhouse.persistence.size to 50Gi for a test run, 100Gi+ for production (guide §8); an existing volume is resized with the pvc-resize playbook";

fn too_small(size: &str) -> bool {
    match (tree::quantity_bytes(size), tree::quantity_bytes(MINIMUM)) {
        (Some(size), Some(min)) => size < min,
        _ => true,
    }
}

fn values(values: &Json, _: &Context) -> Vec<Finding> {
    if !tree::flag(values, &["clickhouse", "deploy"], true) {
        return Vec::new();
    }
    match tree::text(values, &["clickhouse", "persistence", "size"]) {
        None => vec![Finding::new(
            "`clickhouse.persistence.size` is not set: the chart default of 8Gi fills up",
            FIX,
        )],
        Some(size) if too_small(&size) => vec![Finding::new(
            format!("`clickhouse.persistence.size` is {size}, less than {MINIMUM}"),
            FIX,
        )],
        Some(_) => Vec::new(),
    }
}

fn manifests(manifests: &[Json], _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for m in manifests {
        let is_clickhouse = m["kind"] == "StatefulSet"
            && m["metadata"]["labels"]["app.kubernetes.io/name"] == "clickhouse";
        if !is_clickhouse {
            continue;
        }
        let name = m["metadata"]["name"].as_str().unwrap_or("");
        for claim in m["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let size = claim["spec"]["resources"]["requests"]["storage"]
                .as_str()
                .unwrap_or("");
            if too_small(size) {
                out.push(Finding::new(
                    format!("StatefulSet/{name} asks for {size} of disk, less than {MINIMUM}"),
                    FIX,
                ));
            }
        }
    }
    out
}
