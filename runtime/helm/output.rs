//! Reading helm's JSON output into typed values.
//!
//! Only `-o json` output is parsed, never helm's tables, so a new column or a
//! reworded message in a future helm does not break lfrun.

use serde::Deserialize;
use serde_json::Value as Json;

use crate::error::Failure;

/// One row of `helm history -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Revision {
    pub revision: i64,
    #[serde(default)]
    pub updated: String,
    /// deployed, superseded, failed, pending-install, pending-upgrade, pending-rollback, uninstalled…
    pub status: String,
    /// `langfuse-1.5.41`
    #[serde(default)]
    pub chart: String,
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub description: String,
}

impl Revision {
    pub fn is_pending(&self) -> bool {
        self.status.starts_with("pending")
    }

    /// The chart version, read from `langfuse-1.5.41`.
    pub fn chart_version(&self) -> &str {
        chart_version(&self.chart)
    }
}

/// `1.5.41` from `langfuse-1.5.41` (chart names may contain dashes, versions start with a digit).
pub fn chart_version(chart: &str) -> &str {
    chart
        .match_indices('-')
        .find(|(i, _)| chart[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|(i, _)| &chart[i + 1..])
        .unwrap_or("")
}

/// Parses `helm history -o json`, oldest revision first.
pub fn history(stdout: &str) -> Result<Vec<Revision>, Failure> {
    let mut revisions: Vec<Revision> = serde_json::from_str(stdout.trim())
        .map_err(|e| Failure::invalid(format!("cannot read `helm history` output: {e}")))?;
    revisions.sort_by_key(|r| r.revision);
    Ok(revisions)
}

/// The release whose history is this, as scripts see it: its last revision and
/// the last one that was deployed.
pub fn last_deployed(history: &[Revision]) -> Option<&Revision> {
    history
        .iter()
        .rev()
        .find(|r| r.status == "deployed")
        .or_else(|| history.iter().rev().find(|r| r.status == "superseded"))
}

/// Parses `helm get values -o json` (`null` when no values were supplied).
pub fn values(stdout: &str) -> Result<Json, Failure> {
    let v: Json = serde_json::from_str(stdout.trim())
        .map_err(|e| Failure::invalid(format!("cannot read `helm get values` output: {e}")))?;
    Ok(if v.is_null() {
        Json::Object(Default::default())
    } else {
        v
    })
}

/// The interesting parts of `helm status -o json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub status: String,
    pub description: String,
    pub last_deployed: String,
    pub chart_version: String,
    pub app_version: String,
}

/// Parses `helm status -o json` (Helm 3 and 4 both print the release object).
pub fn status(stdout: &str) -> Result<Status, Failure> {
    let v: Json = serde_json::from_str(stdout.trim())
        .map_err(|e| Failure::invalid(format!("cannot read `helm status` output: {e}")))?;
    let text = |path: &[&str]| -> String {
        let mut node = &v;
        for key in path {
            node = &node[*key];
        }
        node.as_str().unwrap_or("").to_string()
    };
    Ok(Status {
        name: text(&["name"]),
        namespace: text(&["namespace"]),
        revision: v["version"].as_i64().unwrap_or(0),
        status: text(&["info", "status"]),
        description: text(&["info", "description"]),
        last_deployed: text(&["info", "last_deployed"]),
        chart_version: text(&["chart", "metadata", "version"]),
        app_version: text(&["chart", "metadata", "appVersion"]),
    })
}

/// Splits `helm template` output into manifests (empty documents dropped).
pub fn manifests(stdout: &str) -> Result<Vec<Json>, Failure> {
    let mut out = Vec::new();
    for document in serde_yaml::Deserializer::from_str(stdout) {
        let value = Json::deserialize(document)
            .map_err(|e| Failure::invalid(format!("cannot read `helm template` output: {e}")))?;
        if value.is_object() {
            out.push(value);
        }
    }
    Ok(out)
}

/// Whether helm's stderr says the release does not exist.
pub fn is_release_not_found(stderr: &str) -> bool {
    stderr.contains("release: not found") || stderr.contains("has no deployed releases")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_history_and_finds_the_last_deployed_revision() {
        let json = r#"[
          {"revision":2,"updated":"2026-01-02T00:00:00Z","status":"pending-upgrade","chart":"langfuse-1.5.41","app_version":"3.224.1","description":"Preparing upgrade"},
          {"revision":1,"updated":"2026-01-01T00:00:00Z","status":"deployed","chart":"langfuse-1.5.40","app_version":"3.224.0","description":"Install complete"}
        ]"#;
        let h = history(json).unwrap();
        assert_eq!(h[0].revision, 1);
        assert!(h[1].is_pending());
        assert_eq!(last_deployed(&h).unwrap().revision, 1);
        assert_eq!(h[0].chart_version(), "1.5.40");
    }

    #[test]
    fn chart_versions_after_dashed_names() {
        assert_eq!(chart_version("langfuse-1.5.41"), "1.5.41");
        assert_eq!(chart_version("my-chart-2.0.0-rc.1"), "2.0.0-rc.1");
    }

    #[test]
    fn splits_rendered_manifests() {
        let text = "---\n# Source: a\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\nkind: Secret\nmetadata: {name: b}\n";
        let m = manifests(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1]["kind"], "Secret");
    }

    #[test]
    fn empty_values_are_an_empty_map() {
        assert_eq!(values("null\n").unwrap(), serde_json::json!({}));
    }
}
