//! `official-chart` — the official chart only, pinned (guide §1, §7).
//!
//! The chart is `langfuse` from `https://langfuse.github.io/langfuse-k8s`, at an
//! exact version: a fork, another repository, or a version range ("latest", `^1`)
//! would change what is installed without anyone deciding to. When the archive
//! itself was read, its Chart.yaml must say it is that chart and that version.

use serde_json::Value as Json;

use crate::helm::chart::{OFFICIAL_NAME, OFFICIAL_REPOSITORY};
use crate::policy::rule::{nothing, Finding, Rule, Severity};
use crate::policy::Context;

pub const RULE: Rule = Rule {
    id: "official-chart",
    severity: Severity::Error,
    summary: "chart `langfuse` from https://langfuse.github.io/langfuse-k8s, pinned to an exact version (guide §1, §7)",
    values,
    manifests: nothing,
};

/// `1.5.41`, `2.0.0-rc.1`: an exact version, not a range.
pub fn is_exact_version(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn values(_: &Json, ctx: &Context) -> Vec<Finding> {
    let Some(chart) = &ctx.chart else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let official_name =
        chart.name == OFFICIAL_NAME || chart.name.ends_with(&format!("/{OFFICIAL_NAME}"));
    if !official_name {
        out.push(Finding::new(
            format!(
                "chart `{}` is not the official chart `{OFFICIAL_NAME}`",
                chart.name
            ),
            "install the official chart langfuse/langfuse; do not fork it (guide §1)",
        ));
    }
    let repository = chart.repository.trim_end_matches('/');
    if !repository.is_empty() && repository != OFFICIAL_REPOSITORY {
        out.push(Finding::new(
            format!("chart repository {repository} is not the official {OFFICIAL_REPOSITORY}"),
            format!("set chart.repository to {OFFICIAL_REPOSITORY} (guide §7)"),
        ));
    }
    if !is_exact_version(&chart.version) {
        let shown = if chart.version.is_empty() {
            "(none)"
        } else {
            chart.version.as_str()
        };
        out.push(Finding::new(
            format!("chart version {shown} is not pinned to an exact version"),
            "set chart.version to an exact version such as 1.5.41",
        ));
    }
    if let Some((name, version)) = &chart.archive {
        if name != OFFICIAL_NAME {
            out.push(Finding::new(
                format!("the chart archive is chart `{name}`, not `{OFFICIAL_NAME}`"),
                "use the official chart archive (helm pull langfuse/langfuse) (guide §1)",
            ));
        }
        if is_exact_version(&chart.version) && version != &chart.version {
            out.push(Finding::new(
                format!(
                    "the chart archive is version {version}, but chart.version pins {}",
                    chart.version
                ),
                "use the archive of the pinned version, or pin the version you mean to install",
            ));
        }
    }
    if let Some(sources) = &chart.sources {
        let official = sources
            .iter()
            .any(|s| s.contains("github.com/langfuse/langfuse-k8s"));
        if !official {
            out.push(Finding::new(
                format!("the chart archive {} {} does not come from langfuse/langfuse-k8s (Chart.yaml sources)", chart.name, chart.version),
                "use the official chart archive (helm pull langfuse/langfuse), not a modified copy (guide §1)",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_versions_only() {
        assert!(is_exact_version("1.5.41"));
        assert!(is_exact_version("2.0.0-rc.1"));
        assert!(!is_exact_version("^1.5"));
        assert!(!is_exact_version("1.5"));
        assert!(!is_exact_version(""));
        assert!(!is_exact_version(">=1.0.0"));
    }
}
