//! Chart drift: values keys the chart version does not know.
//!
//! Helm ignores values a chart does not read, silently. Chart 2.0.0 moved
//! ClickHouse to an operator: `clickhouse.persistence.size` and
//! `clickhouse.resourcesPreset` mean nothing there, so a client who lets the chart
//! float from 1.x to 2.x would install 2.x with ClickHouse on its default disk and
//! no error anywhere. This compares the values with every default value of the
//! chart version (subcharts included, `helm/archive.rs`) and reports each key the
//! chart does not have.
//!
//! Where a chart's default is an empty map (`annotations: {}`) or a list, anything
//! goes below it; `global` is shared with subcharts and not checked.

use serde_json::Value as Json;

use super::rule::{Severity, Violation};
use crate::helm::archive::ChartArchive;

pub const RULE_ID: &str = "chart-drift";

/// Keys the chart reads but documents only in comments of its values.yaml.
const DOCUMENTED_IN_COMMENTS: [&str; 1] = ["langfuse.auth"];

/// Every key of `values` that `chart` does not know, as violations.
pub fn check(values: &Json, chart: &ChartArchive) -> Vec<Violation> {
    let mut unknown = Vec::new();
    walk("", values, &chart.defaults, &mut unknown);
    unknown
        .into_iter()
        .map(|path| {
            let unvendored = chart
                .missing_subcharts
                .iter()
                .find(|alias| path == **alias || path.starts_with(&format!("{alias}.")));
            match unvendored {
                Some(alias) => Violation {
                    rule: RULE_ID.into(),
                    severity: Severity::Warning,
                    message: format!(
                        "`{path}` is not a value of chart {} {}, and its `{alias}` subchart is not in the archive to check",
                        chart.name(),
                        chart.version()
                    ),
                    fix: "check the key against the subchart's documentation".into(),
                },
                None => Violation {
                    rule: RULE_ID.into(),
                    severity: Severity::Error,
                    message: format!(
                        "`{path}` is not a value of chart {} {}: helm would silently ignore it",
                        chart.name(),
                        chart.version()
                    ),
                    fix: "these values follow another chart version's layout: pin chart.version to the version they were written for (1.5.41), or rewrite them for this version".into(),
                },
            }
        })
        .collect()
}

fn walk(path: &str, values: &Json, defaults: &Json, out: &mut Vec<String>) {
    let (Json::Object(given), Json::Object(known)) = (values, defaults) else {
        return;
    };
    if known.is_empty() {
        return; // a free-form map (`labels: {}`)
    }
    for (key, value) in given {
        let child = super::tree::join(path, key);
        if (path.is_empty() && key == "global") || DOCUMENTED_IN_COMMENTS.contains(&child.as_str())
        {
            continue;
        }
        match known.get(key) {
            None => out.push(child),
            Some(default) => walk(&child, value, default, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chart(defaults: Json, missing: &[&str]) -> ChartArchive {
        ChartArchive {
            metadata: json!({"name": "langfuse", "version": "2.0.0"}),
            defaults,
            missing_subcharts: missing.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn reports_unknown_keys_and_allows_free_form_maps() {
        let c = chart(
            json!({"clickhouse": {"deploy": true, "cluster": {"replicas": 1}}, "langfuse": {"pod": {"labels": {}}}}),
            &[],
        );
        let values = json!({
            "clickhouse": {"deploy": true, "persistence": {"size": "50Gi"}, "resourcesPreset": "large"},
            "langfuse": {"pod": {"labels": {"azure.workload.identity/use": "true"}}},
            "global": {"anything": 1}
        });
        let found: Vec<String> = check(&values, &c).into_iter().map(|v| v.message).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`clickhouse.persistence`"));
        assert!(found[1].contains("`clickhouse.resourcesPreset`"));
    }

    #[test]
    fn keys_under_an_unvendored_subchart_are_warnings() {
        let c = chart(json!({"postgresql": {"deploy": true}}), &["postgresql"]);
        let v = check(&json!({"postgresql": {"primary": {}}}), &c);
        assert_eq!(v[0].severity, Severity::Warning);
    }
}
