//! The `policy::` functions scripts call.
//!
//! Install and upgrade (`helm::install`, `helm::upgrade`, `helm::upgrade_reuse`)
//! run the gate themselves; `policy::gate(values)` is the same gate as a step of
//! its own, so a playbook can show "policy passed" before the helm step.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map, Module};
use serde_json::Value as Json;

use super::gate::{self, Subject};
use super::rule::{Severity, Violation};
use super::waivers::{self, Outcome};
use super::{check_manifests, check_values, drift, placeholders, rules, to_map, Context};
use crate::context::RunContext;
use crate::error::{Failure, ScriptResult};
use crate::helm::chart::{ChartRef, ChartSource};
use crate::helm::Helm;
use crate::register::Registrar;
use crate::value::{self, Reveal};

fn list(violations: &[Violation]) -> Array {
    violations.iter().map(|v| to_map(v).into()).collect()
}

fn values_arg(values: &Dynamic) -> Result<Json, Failure> {
    if !values.is_map() {
        return Err(Failure::invalid(format!(
            "policy: values must be a map, got {}",
            values.type_name()
        )));
    }
    Ok(value::to_json(values, Reveal::Mask))
}

/// A violation map from a script back into a violation.
fn from_map(item: &Dynamic) -> Result<Violation, Failure> {
    let map = item.read_lock::<Map>().ok_or_else(|| {
        Failure::invalid("policy::enforce: expected a list of #{rule, severity, message, fix}")
    })?;
    let text = |k: &str| map.get(k).map(|v| v.to_string()).unwrap_or_default();
    Ok(Violation {
        rule: text("rule"),
        severity: if text("severity") == "warning" {
            Severity::Warning
        } else {
            Severity::Error
        },
        message: text("message"),
        fix: text("fix"),
    })
}

fn outcome_map(outcome: &Outcome) -> Map {
    let mut m = Map::new();
    m.insert("warnings".into(), list(&outcome.warnings).into());
    let waived: Array = outcome
        .waived
        .iter()
        .map(|(v, reason)| {
            let mut m = to_map(v);
            m.insert("reason".into(), reason.clone().into());
            m.into()
        })
        .collect();
    m.insert("waived".into(), waived.into());
    m
}

struct Helper {
    run: Arc<RunContext>,
}

impl Helper {
    fn helm(&self) -> Result<(Helm, Arc<crate::environment::Environment>), Failure> {
        let env = self.run.env()?;
        let helm = self.run.block_on(Helm::for_environment(
            env.clone(),
            Some(self.run.reporter.clone()),
        ))?;
        Ok((helm, env))
    }

    fn pinned_chart(&self) -> Result<ChartSource, Failure> {
        let env = self.run.env()?;
        Ok(ChartSource::resolve(
            &ChartRef::from_config(&self.run.config)?,
            env.chart_mirror.as_deref(),
        ))
    }
}

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new(
        "policy",
        "The guide's hard constraints as rules (no storage keys, workload identity, official chart, in-cluster stores, Azure AD SSO, …); waivers from config `waivers:`.",
    );
    let h = Arc::new(Helper { run: run.clone() });

    m.fun(
        "rules",
        "Every rule: `[#{id, severity, summary}]` (ids are what `waivers:` names).",
        &[],
        || -> Array {
            let mut out: Array = rules::ALL
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("id".into(), r.id.into());
                    m.insert("severity".into(), r.severity.as_str().into());
                    m.insert("summary".into(), r.summary.into());
                    m.into()
                })
                .collect();
            let mut drift = Map::new();
            drift.insert("id".into(), drift::RULE_ID.into());
            drift.insert("severity".into(), "error".into());
            drift.insert(
                "summary".into(),
                "values keys the pinned chart version does not know (chart drift)".into(),
            );
            out.push(drift.into());
            out
        },
    );

    let s = h.clone();
    m.fun(
        "check_values",
        "Violations of the values: `[#{rule, severity, message, fix}]` (release, public URL and chart from the config).",
        &["values"],
        move |values: Dynamic| -> ScriptResult<Array> {
            let json = values_arg(&values)?;
            Ok(list(&check_values(&json, &Context::from_config(&s.run.config))))
        },
    );

    let s = h.clone();
    m.fun(
        "check_manifests",
        "Violations of rendered manifests (the list `helm::template` returns): `[#{rule, severity, message, fix}]`.",
        &["manifests"],
        move |manifests: Array| -> ScriptResult<Array> {
            let json: Vec<Json> = manifests.iter().map(|m| value::to_json(m, Reveal::Mask)).collect();
            Ok(list(&check_manifests(&json, &Context::from_config(&s.run.config))))
        },
    );

    let s = h.clone();
    m.fun(
        "check_drift",
        "Chart drift: values keys the pinned chart version (subcharts included) does not know.",
        &["values"],
        move |values: Dynamic| -> ScriptResult<Array> {
            let json = values_arg(&values)?;
            let (helm, _) = s.helm()?;
            let chart = s.pinned_chart()?;
            let archive = s.run.block_on(helm.read_archive(&chart))?;
            Ok(list(&drift::check(&json, &archive)))
        },
    );
    let s = h.clone();
    m.fun(
        "check_drift",
        "Chart drift against CHART (path or name) at VERSION, e.g. a 2.x chart before moving to it.",
        &["values", "chart", "version"],
        move |values: Dynamic, chart: &str, version: &str| -> ScriptResult<Array> {
            let json = values_arg(&values)?;
            let (helm, env) = s.helm()?;
            let source = ChartSource::from_argument(chart, Some(version), s.run.config.get_str("chart.repository").as_deref(), env.chart_mirror.as_deref())?;
            let archive = s.run.block_on(helm.read_archive(&source))?;
            Ok(list(&drift::check(&json, &archive)))
        },
    );

    let s = h.clone();
    m.fun(
        "enforce",
        "Applies the config's waivers to violations: journals used waivers, shows warnings, fails with kind `policy` on any error left. Returns `#{warnings, waived}`.",
        &["violations"],
        move |violations: Array| -> ScriptResult<Map> {
            let parsed = violations.iter().map(from_map).collect::<Result<Vec<_>, _>>()?;
            Ok(outcome_map(&waivers::enforce(&s.run, parsed)?))
        },
    );

    let s = h.clone();
    m.fun(
        "gate",
        "The install/upgrade gate on its own: checks the values, the manifests the pinned chart renders from them, the chart and drift; fails with kind `policy` on an unwaived error. Returns `#{warnings, waived}`.",
        &["values"],
        move |values: Dynamic| -> ScriptResult<Map> {
            let shown = values_arg(&values)?;
            let exposed = value::to_json(&values, Reveal::Expose);
            let (helm, _) = s.helm()?;
            let chart = s.pinned_chart()?;
            let release = s.run.config.get_str("langfuse.release").unwrap_or_else(|| "langfuse".into());
            let namespace = s.run.config.get_str("langfuse.namespace").unwrap_or_else(|| "langfuse".into());
            let subject = Subject { release: &release, namespace: &namespace, chart: &chart, values: &exposed, shown: &shown };
            let outcome = s.run.wait("policy gate", gate::gate(&s.run, &helm, &subject))?;
            Ok(outcome_map(&outcome))
        },
    );

    m.fun(
        "placeholders",
        "The guide's `<PLACEHOLDER>`s still in the values, as `[\"path: text\"]` (empty when none).",
        &["values"],
        |values: Dynamic| -> Array {
            let json = value::to_json(&values, Reveal::Mask);
            placeholders::find(&json)
                .into_iter()
                .map(|(p, t)| Dynamic::from(format!("{p}: {t}")))
                .collect()
        },
    );
    m.build()
}
