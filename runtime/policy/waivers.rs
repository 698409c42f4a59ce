//! Waivers: a rule set aside on purpose, by name, with a reason.
//!
//! Some clusters have a reason to break a rule (a demo cluster on a small disk).
//! The config says so explicitly — `waivers: [{rule: clickhouse-disk-min, reason:
//! "demo, 1 day retention"}]` — and every waiver that is used is written to the
//! journal, so "why was this allowed?" has an answer later. A waiver without a
//! reason, or naming a rule that does not exist, is a config error.

use crate::config::{scalar_text, Config};
use crate::context::RunContext;
use crate::error::{ErrorKind, Failure};

use super::rule::{Severity, Violation};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub rule: String,
    pub reason: String,
}

/// The config's `waivers:` list, checked.
pub fn from_config(config: &Config) -> Result<Vec<Waiver>, Failure> {
    let Some(list) = config.get("waivers") else {
        return Ok(Vec::new());
    };
    let Some(items) = list.as_sequence() else {
        return Err(Failure::config(format!(
            "waivers in {} must be a list of {{rule, reason}}",
            config.source
        )));
    };
    let known = super::rules::known_ids();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| item.get(k).map(scalar_text).unwrap_or_default();
        let (rule, reason) = (field("rule"), field("reason"));
        if !known.contains(&rule.as_str()) {
            return Err(Failure::config(format!(
                "waivers[{i}] in {}: `{rule}` is not a policy rule",
                config.source
            ))
            .with_hint(format!("rules are: {}", known.join(", "))));
        }
        if reason.trim().is_empty() {
            return Err(Failure::config(format!(
                "waivers[{i}] in {}: waiving `{rule}` needs a reason",
                config.source
            ))
            .with_hint(
                "add `reason: \"…\"`; it is written to the journal whenever the waiver is used",
            ));
        }
        out.push(Waiver { rule, reason });
    }
    Ok(out)
}

/// Violations sorted by what happens to them.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Errors that are not waived: they stop the run.
    pub errors: Vec<Violation>,
    pub warnings: Vec<Violation>,
    /// Violations set aside by a waiver, with its reason.
    pub waived: Vec<(Violation, String)>,
}

pub fn apply(violations: Vec<Violation>, waivers: &[Waiver]) -> Outcome {
    let mut out = Outcome::default();
    for v in violations {
        if let Some(w) = waivers.iter().find(|w| w.rule == v.rule) {
            out.waived.push((v, w.reason.clone()));
        } else if v.severity == Severity::Error {
            out.errors.push(v);
        } else {
            out.warnings.push(v);
        }
    }
    out
}

/// Applies the config's waivers: journals each used waiver, shows warnings, and
/// fails with kind `policy` on any error left.
pub fn enforce(run: &RunContext, violations: Vec<Violation>) -> Result<Outcome, Failure> {
    let waivers = from_config(&run.config)?;
    let outcome = apply(violations, &waivers);
    let step = run.current_step();
    for (v, reason) in &outcome.waived {
        let detail = format!("rule {} waived ({reason}): {}", v.rule, v.message);
        if let Some(journal) = &run.journal {
            if let Err(e) = journal.note(&step, "policy waiver", &detail) {
                run.reporter.warn(e.to_string());
            }
        }
        run.reporter.warn(format!("policy: {detail}"));
    }
    for v in &outcome.warnings {
        run.reporter
            .warn(format!("policy [{}]: {} — {}", v.rule, v.message, v.fix));
    }
    if !outcome.errors.is_empty() {
        return Err(failure(&outcome.errors));
    }
    Ok(outcome)
}

/// The `policy` failure listing every error.
pub fn failure(errors: &[Violation]) -> Failure {
    let lines: Vec<String> = errors
        .iter()
        .map(|v| format!("  [{}] {}\n      fix: {}", v.rule, v.message, v.fix))
        .collect();
    let mut rules: Vec<&str> = errors.iter().map(|v| v.rule.as_str()).collect();
    rules.dedup();
    let mut f = Failure::new(
        ErrorKind::Policy,
        format!(
            "the values break the guide's hard constraints ({} finding{}):\n{}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            lines.join("\n")
        ),
    )
    .with_hint(format!(
        "fix the values, or waive a rule on purpose in the config: `waivers: [{{rule: {}, reason: \"…\"}}]`",
        rules[0]
    ));
    let list: rhai::Array = errors.iter().map(|v| super::to_map(v).into()).collect();
    f = f.with_detail("violations", list);
    f.with_detail(
        "rules",
        rules
            .iter()
            .map(|r| rhai::Dynamic::from(r.to_string()))
            .collect::<rhai::Array>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(rule: &str, severity: Severity) -> Violation {
        Violation {
            rule: rule.into(),
            severity,
            message: "m".into(),
            fix: "f".into(),
        }
    }

    #[test]
    fn waived_rules_do_not_stop() {
        let waivers = [Waiver {
            rule: "clickhouse-disk-min".into(),
            reason: "demo".into(),
        }];
        let out = apply(
            vec![
                v("clickhouse-disk-min", Severity::Warning),
                v("nextauth-url", Severity::Error),
            ],
            &waivers,
        );
        assert_eq!(out.waived.len(), 1);
        assert_eq!(out.errors.len(), 1);
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn waivers_need_a_known_rule_and_a_reason() {
        let c = Config::from_yaml("waivers:\n- rule: nope\n  reason: x\n", "c.yaml", None).unwrap();
        assert!(from_config(&c)
            .unwrap_err()
            .message
            .contains("not a policy rule"));
        let c = Config::from_yaml("waivers:\n- rule: nextauth-url\n", "c.yaml", None).unwrap();
        assert!(from_config(&c)
            .unwrap_err()
            .message
            .contains("needs a reason"));
        let c = Config::from_yaml("waivers: []\n", "c.yaml", None).unwrap();
        assert!(from_config(&c).unwrap().is_empty());
    }
}
