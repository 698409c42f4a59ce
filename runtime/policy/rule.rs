//! What a policy rule is, and what it reports.

use serde::Serialize;
use serde_json::Value as Json;

use super::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops an install or upgrade (unless waived).
    Error,
    /// Reported; never stops anything.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One broken rule: which, how bad, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
}

/// What a rule found (the rule adds its id and severity).
pub struct Finding {
    pub message: String,
    pub fix: String,
}

impl Finding {
    pub fn new(message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            message: message.into(),
            fix: fix.into(),
        }
    }
}

/// A hard constraint of the guide, checked on values, on rendered manifests, or both.
pub struct Rule {
    /// Stable id, used in waivers (`waivers: [{rule: clickhouse-disk-min, reason: …}]`).
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule requires and where the guide says so.
    pub summary: &'static str,
    pub values: fn(&Json, &Context) -> Vec<Finding>,
    pub manifests: fn(&[Json], &Context) -> Vec<Finding>,
}

impl Rule {
    pub fn violations(&self, findings: Vec<Finding>) -> Vec<Violation> {
        findings
            .into_iter()
            .map(|f| Violation {
                rule: self.id.to_string(),
                severity: self.severity,
                message: f.message,
                fix: f.fix,
            })
            .collect()
    }
}

/// For rules that only look at one side.
pub fn nothing<T: ?Sized>(_: &T, _: &Context) -> Vec<Finding> {
    Vec::new()
}
