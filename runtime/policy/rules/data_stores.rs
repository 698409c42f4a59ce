//! `in-cluster-data-stores` — PostgreSQL, Redis and ClickHouse run in the
//! cluster; object storage is Azure Blob, not the bundled MinIO (guide §1, §8).
//!
//! The chart deploys all four by default, so `s3.deploy: false` and
//! `storageProvider: azure` must be said explicitly; the three databases must not
//! be switched off.

use serde_json::Value as Json;

use crate::policy::rule::{nothing, Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "in-cluster-data-stores",
    severity: Severity::Error,
    summary: "postgresql/redis/clickhouse.deploy true, s3.deploy false with storageProvider azure (guide §1, §8)",
    values,
    manifests: nothing,
};

fn values(values: &Json, _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for store in ["postgresql", "redis", "clickhouse"] {
        if !tree::flag(values, &[store, "deploy"], true) {
            out.push(Finding::new(
                format!("`{store}.deploy` is false: {store} must run in the cluster"),
                format!("set {store}.deploy: true (guide §8)"),
            ));
        }
    }
    if tree::flag(values, &["s3", "deploy"], true) {
        out.push(Finding::new(
            "`s3.deploy` is not false: the chart would deploy MinIO instead of using Azure Blob",
            "set s3.deploy: false (guide §8)",
        ));
    }
    let provider = tree::text(values, &["s3", "storageProvider"]).unwrap_or_else(|| "s3".into());
    if provider != "azure" {
        out.push(Finding::new(
            format!("`s3.storageProvider` is {provider}, not azure"),
            "set s3.storageProvider: azure (guide §8)",
        ));
    }
    out
}
