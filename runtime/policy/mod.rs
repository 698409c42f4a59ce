//! `policy::` — the guide's hard constraints (§1, §3, §7, §8, §10) as rules.
//!
//! The guide states constraints a client must never break: no storage account
//! keys, workload identity only, the official chart only, in-cluster data stores,
//! Azure AD SSO for everyone. People break them by accident — an emergency key
//! left in values, an `AZURE_CLIENT_ID` copied from a blog post — so lfrun checks
//! them every time, on the values *and* on what the chart renders from them.
//!
//! - `rules/` has one file per rule, each with a stable id (used in waivers);
//! - [`check_values`] and [`check_manifests`] run every rule;
//! - `drift.rs` compares values with what a chart version knows (chart drift);
//! - `waivers.rs` applies the config's `waivers:` (a rule named with a reason) and
//!   journals each waiver it uses;
//! - `gate.rs` is what install and upgrade run before touching the cluster;
//! - `module.rs` is what scripts see; `lfrun lint` uses the same functions.

pub mod drift;
pub mod gate;
pub mod manifests;
pub mod placeholders;
pub mod rule;
pub mod rules;
pub mod tree;
pub mod waivers;

mod module;

pub use module::module;
pub use rule::{Rule, Severity, Violation};

use serde_json::Value as Json;

use crate::config::Config;

/// What the rules need to know besides the values: where and what is installed.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Helm release name (`langfuse` unless the config says otherwise).
    pub release: String,
    /// `langfuse.public_url`, when known: `nextauth.url` must equal it.
    pub public_url: Option<String>,
    /// `langfuse.service_account`, when known: the federated credential's subject names it.
    pub service_account: Option<String>,
    /// The chart to be installed, when known.
    pub chart: Option<ChartIdentity>,
}

/// Which chart is installed: from the config, and from the archive itself when read.
#[derive(Debug, Clone, Default)]
pub struct ChartIdentity {
    /// Repository URL ("" when the chart is a local archive or a repo alias).
    pub repository: String,
    pub name: String,
    pub version: String,
    /// `home`/`sources` of the archive's Chart.yaml, when the archive was read.
    pub sources: Option<Vec<String>>,
    /// Name and version in the archive's Chart.yaml, when the archive was read.
    pub archive: Option<(String, String)>,
}

impl ChartIdentity {
    /// Adds what the archive itself says (name, version, sources).
    pub fn with_archive(mut self, archive: &crate::helm::archive::ChartArchive) -> ChartIdentity {
        self.sources = Some(archive.sources());
        self.archive = Some((archive.name().to_string(), archive.version().to_string()));
        self
    }
}

impl Context {
    /// Release, public URL, service account and pinned chart from the client config.
    pub fn from_config(config: &Config) -> Context {
        Context {
            release: config
                .get_str("langfuse.release")
                .unwrap_or_else(|| "langfuse".into()),
            public_url: config.get_str("langfuse.public_url"),
            service_account: config.get_str("langfuse.service_account"),
            chart: Some(ChartIdentity {
                repository: config
                    .get_str("chart.repository")
                    .unwrap_or_else(|| crate::helm::chart::OFFICIAL_REPOSITORY.into()),
                name: config
                    .get_str("chart.name")
                    .unwrap_or_else(|| crate::helm::chart::OFFICIAL_NAME.into()),
                version: config.get_str("chart.version").unwrap_or_default(),
                sources: None,
                archive: None,
            }),
        }
    }
}

/// Every rule's findings on values (as JSON with secrets masked).
pub fn check_values(values: &Json, context: &Context) -> Vec<Violation> {
    rules::ALL
        .iter()
        .flat_map(|rule| rule.violations((rule.values)(values, context)))
        .collect()
}

/// Every rule's findings on rendered manifests.
pub fn check_manifests(manifests: &[Json], context: &Context) -> Vec<Violation> {
    rules::ALL
        .iter()
        .flat_map(|rule| rule.violations((rule.manifests)(manifests, context)))
        .collect()
}

/// The same violation found twice (on values and on manifests) is reported once.
pub fn dedup(violations: Vec<Violation>) -> Vec<Violation> {
    let mut out: Vec<Violation> = Vec::new();
    for v in violations {
        if !out
            .iter()
            .any(|o| o.rule == v.rule && o.message == v.message)
        {
            out.push(v);
        }
    }
    out
}

/// A violation as a script map `#{rule, severity, message, fix}`.
pub fn to_map(v: &Violation) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("rule".into(), v.rule.clone().into());
    m.insert("severity".into(), v.severity.as_str().into());
    m.insert("message".into(), v.message.clone().into());
    m.insert("fix".into(), v.fix.clone().into());
    m
}
