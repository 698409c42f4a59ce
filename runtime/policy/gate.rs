//! The policy gate install and upgrade pass before touching the cluster.
//!
//! It looks at the values the release will run with and at what the chart renders
//! from them (`helm template`, offline), and at the chart archive itself (official
//! chart? the pinned version? drift?). Errors stop the run with kind `policy`
//! unless the config waives the rule; warnings are shown; waivers are journalled.

use serde_json::Value as Json;

use super::rule::Severity;
use super::waivers::{self, Outcome};
use super::{check_manifests, check_values, dedup, drift, placeholders, Context, Violation};
use crate::context::RunContext;
use crate::error::{ErrorKind, Failure};
use crate::helm::chart::ChartSource;
use crate::helm::Helm;

/// What is about to be installed.
pub struct Subject<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    pub chart: &'a ChartSource,
    /// Values with secrets exposed (for helm to render).
    pub values: &'a Json,
    /// The same values with secrets masked (for the rules and messages).
    pub shown: &'a Json,
}

/// Every violation of `subject`: values, rendered manifests, chart identity and drift.
///
/// The archive is read before rendering: a chart version the values were not written
/// for may refuse to render at all, and then "these keys do not exist in chart X" is
/// the useful answer, not the template error.
pub async fn evaluate(
    helm: &Helm,
    subject: &Subject<'_>,
    context: &Context,
) -> Result<Vec<Violation>, Failure> {
    placeholders::refuse(subject.shown, "the values")?;
    let archive = helm.read_archive(subject.chart).await?;
    let mut context = context.clone();
    context.release = subject.release.to_string();
    context.chart = context.chart.map(|c| c.with_archive(&archive));
    let mut violations = check_values(subject.shown, &context);
    let drift = drift::check(subject.shown, &archive);
    let drifted = drift.iter().any(|v| v.severity == Severity::Error);
    violations.extend(drift);
    match helm
        .template(
            subject.release,
            subject.namespace,
            subject.chart,
            subject.values,
        )
        .await
    {
        Ok(manifests) => violations.extend(check_manifests(&manifests, &context)),
        // the chart refused values written for another version: report the drift
        Err(failure) if drifted && failure.kind == ErrorKind::ToolFailed => {}
        Err(failure) => return Err(failure),
    }
    Ok(dedup(violations))
}

/// Evaluates and enforces (see the module docs).
pub async fn gate(
    run: &RunContext,
    helm: &Helm,
    subject: &Subject<'_>,
) -> Result<Outcome, Failure> {
    let context = Context::from_config(&run.config);
    let violations = evaluate(helm, subject, &context).await?;
    waivers::enforce(run, violations)
}
