//! `release-name` — release `langfuse`, or the in-cluster host overrides (guide §7).
//!
//! The chart derives the hosts its pods connect to from its own full name
//! (`<fullname>-redis-primary`, `<fullname>-postgresql`, `<fullname>-clickhouse`),
//! while the subcharts name their Services after the release. The two agree only
//! when the release name contains `langfuse`; with any other name the pods look
//! for hosts that do not exist. The guide names Redis; PostgreSQL and ClickHouse
//! break the same way (rendering chart 1.5.41 as release `lf` shows all three),
//! so the rule asks for all three overrides — which the values builder sets.
//!
//! On rendered manifests the rule checks the outcome directly: every in-cluster
//! host the web/worker pods connect to must be a Service the chart renders.

use serde_json::Value as Json;

use crate::policy::manifests::{langfuse, service_names};
use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "release-name",
    severity: Severity::Error,
    summary: "release name `langfuse`, or redis.host (and postgresql/clickhouse.host) set to the release's Services (guide §7)",
    values,
    manifests,
};

/// The Service each data store's subchart creates for `release`.
pub fn service_host(release: &str, store: &str) -> String {
    let suffix = match store {
        "redis" => "redis-primary",
        other => other,
    };
    let name = if store == "redis" { "redis" } else { store };
    if release.contains(name) {
        // bitnami names resources after the release alone when it contains the chart name
        match store {
            "redis" => format!("{release}-primary"),
            _ => release.to_string(),
        }
    } else {
        format!("{release}-{suffix}")
    }
}

fn values(values: &Json, ctx: &Context) -> Vec<Finding> {
    if ctx.release.is_empty() || ctx.release.contains("langfuse") {
        return Vec::new();
    }
    let missing: Vec<String> = ["redis", "postgresql", "clickhouse"]
        .into_iter()
        .filter(|store| tree::flag(values, &[store, "deploy"], true))
        .filter(|store| tree::text(values, &[store, "host"]).is_none())
        .map(|store| format!("{store}.host: {}", service_host(&ctx.release, store)))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        format!(
            "release `{}` is not `langfuse`, so the chart computes in-cluster hosts that do not exist",
            ctx.release
        ),
        format!("set {} (guide §7), or name the release langfuse", missing.join(", ")),
    )]
}

/// The host part of `redis://user:pw@host:6379/0` or `http://host:8123`.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split([':', '/']).next().unwrap_or("")
}

fn manifests(manifests: &[Json], _: &Context) -> Vec<Finding> {
    let services = service_names(manifests);
    let mut out = Vec::new();
    for component in ["web", "worker"] {
        let Some(w) = langfuse(manifests, component) else {
            continue;
        };
        for (variable, store) in [
            ("REDIS_CONNECTION_STRING", "redis"),
            ("DATABASE_HOST", "postgresql"),
            ("CLICKHOUSE_URL", "clickhouse"),
        ] {
            let Some(value) = w.env_named(variable).and_then(tree::env_value) else {
                continue;
            };
            let host = url_host(&value);
            // only in-cluster short names (or *.svc names) can be checked against the rendered Services
            let short = host.strip_suffix(".svc.cluster.local").unwrap_or(host);
            let short = short.split('.').next().unwrap_or(short);
            let in_cluster = !host.contains('.') || host.contains(".svc");
            let rendered_store = services.iter().any(|s| s.contains(store));
            if in_cluster && rendered_store && !services.contains(&short) {
                out.push(Finding::new(
                    format!(
                        "{} connects to {store} at host {host}, but no such Service is rendered",
                        w.id()
                    ),
                    format!("set {store}.host to the {store} Service of this release (guide §7)"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_follow_bitnami_naming() {
        assert_eq!(service_host("lf", "redis"), "lf-redis-primary");
        assert_eq!(service_host("lf", "postgresql"), "lf-postgresql");
        assert_eq!(service_host("lf", "clickhouse"), "lf-clickhouse");
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("redis://default:$(REDIS_PASSWORD)@lf-redis-primary:6379/0"),
            "lf-redis-primary"
        );
        assert_eq!(
            url_host("http://langfuse-clickhouse:8123"),
            "langfuse-clickhouse"
        );
        assert_eq!(url_host("langfuse-postgresql"), "langfuse-postgresql");
    }
}
