//! `lfrun lint VALUES.yaml [--chart CHART] [--version V]`: checks a values file
//! against the guide's hard constraints without a cluster.
//!
//! For a client who keeps values in version control, this is the CI check: the
//! same rules install and upgrade enforce (`policy/`), on the values, and — when a
//! chart is given — on what the chart renders from them (`helm template`, offline)
//! and against the keys that chart version knows (chart drift). Exit 0: no error;
//! 1: a rule is broken, or the values are not usable (invalid YAML, placeholders
//! left in); 2: lint could not run (missing file or chart, no helm).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde_json::Value as Json;

use super::{print_failure, EXIT_FAILED, EXIT_USAGE};
use crate::config::Config;
use crate::environment::Environment;
use crate::error::{ErrorKind, Failure};
use crate::helm::archive::ChartArchive;
use crate::helm::chart::ChartSource;
use crate::helm::Helm;
use crate::policy::rule::{Severity, Violation};
use crate::policy::{self, drift, placeholders, waivers, ChartIdentity, Context};

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The values file to check (YAML).
    #[arg(value_name = "VALUES.yaml")]
    pub values: PathBuf,
    /// Also render this chart with the values and check the manifests and chart drift:
    /// a chart archive or directory, or a name like langfuse/langfuse (then --version).
    #[arg(long, value_name = "CHART")]
    pub chart: Option<String>,
    /// Chart version (required for a chart name; checked against an archive).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Client config: public URL, release name, service account, waivers, tools.helm.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Helm release name (default: langfuse.release from the config, else langfuse).
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Machine-readable output: one JSON object with the violations.
    #[arg(long)]
    pub json: bool,
}

/// Why lint stopped before judging the values.
enum Stop {
    /// The values are not usable (exit 1).
    Values(Failure),
    /// Lint could not run (exit 2).
    Setup(Failure),
}

pub fn lint(args: &LintArgs) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(Stop::Values(f)) => {
            print_failure(&f);
            EXIT_FAILED
        }
        Err(Stop::Setup(f)) => {
            print_failure(&f);
            EXIT_USAGE
        }
    }
}

fn run(args: &LintArgs) -> Result<i32, Stop> {
    let config = match &args.config {
        Some(path) => Some(Config::from_file(path).map_err(Stop::Setup)?),
        None => None,
    };
    let values = read_values(&args.values)?;
    placeholders::refuse(&values, &args.values.display().to_string()).map_err(Stop::Values)?;

    let mut context = match &config {
        Some(c) => Context::from_config(c),
        None => Context {
            release: "langfuse".into(),
            ..Context::default()
        },
    };
    if let Some(release) = &args.release {
        context.release = release.clone();
    }
    let mut violations = Vec::new();
    if let Some(chart) = &args.chart {
        violations.extend(with_chart(
            args,
            chart,
            config.as_ref(),
            &values,
            &mut context,
        )?);
    }
    violations.splice(0..0, policy::check_values(&values, &context));
    let violations = policy::dedup(violations);

    let waivers = match &config {
        Some(c) => waivers::from_config(c).map_err(Stop::Setup)?,
        None => Vec::new(),
    };
    let outcome = waivers::apply(violations, &waivers);
    print(args, &outcome);
    Ok(if outcome.errors.is_empty() {
        0
    } else {
        EXIT_FAILED
    })
}

fn read_values(path: &Path) -> Result<Json, Stop> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Stop::Setup(
            Failure::not_found(format!("cannot read values file {}: {e}", path.display()))
                .with_hint("give the path of a values YAML file"),
        )
    })?;
    let values: Json = serde_yaml::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Stop::Values(
            Failure::invalid(format!("{}{at}: not valid YAML: {e}", path.display()))
                .with_hint("fix the YAML syntax at that line"),
        )
    })?;
    match values {
        Json::Object(_) => Ok(values),
        Json::Null => Ok(Json::Object(Default::default())),
        _ => Err(Stop::Values(Failure::invalid(format!(
            "{}: helm values must be a mapping of keys",
            path.display()
        )))),
    }
}

/// Renders the chart, reads its archive, and checks manifests, identity and drift.
fn with_chart(
    args: &LintArgs,
    chart: &str,
    config: Option<&Config>,
    values: &Json,
    context: &mut Context,
) -> Result<Vec<Violation>, Stop> {
    let repository = config.and_then(|c| c.get_str("chart.repository"));
    let source =
        ChartSource::from_argument(chart, args.version.as_deref(), repository.as_deref(), None)
            .map_err(Stop::Setup)?;
    let mut env = match config {
        Some(c) => Environment::from_config(c).unwrap_or_default(),
        None => Environment::default(),
    };
    env.azure_credential = None;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Stop::Setup(Failure::config(format!(
                "cannot start the async runtime: {e}"
            )))
        })?;
    let namespace = config
        .and_then(|c| c.get_str("langfuse.namespace"))
        .unwrap_or_else(|| "langfuse".into());
    runtime.block_on(async {
        let helm = Helm::for_environment(Arc::new(env), None)
            .await
            .map_err(Stop::Setup)?;
        let archive: ChartArchive = helm.read_archive(&source).await.map_err(Stop::Setup)?;
        if let Some(v) = &args.version {
            if matches!(source, ChartSource::Local(_)) && archive.version() != v {
                return Err(Stop::Setup(Failure::invalid(format!(
                    "chart {chart} is version {}, not {v}",
                    archive.version()
                ))));
            }
        }
        let identity = match &source {
            ChartSource::Local(_) => ChartIdentity {
                repository: String::new(),
                name: archive.name().to_string(),
                version: archive.version().to_string(),
                ..ChartIdentity::default()
            },
            ChartSource::Repository(r) => ChartIdentity {
                repository: if r.repository.is_empty() { String::new() } else { r.repository.clone() },
                name: r.name.clone(),
                version: r.version.clone(),
                ..ChartIdentity::default()
            },
        };
        context.chart = Some(identity.with_archive(&archive));
        let mut found = drift::check(values, &archive);
        if !archive.missing_subcharts.is_empty() {
            // a package without its subcharts (`-nodeps`) cannot render: drift is all we can check
            eprintln!(
                "note: chart {chart} does not carry its subcharts ({}): manifests not rendered, chart drift checked",
                archive.missing_subcharts.join(", ")
            );
            return Ok(found);
        }
        let manifests = helm
            .template(&context.release, &namespace, &source, values)
            .await
            .map_err(|f| match f.kind {
                ErrorKind::ToolFailed => Stop::Values(f),
                _ => Stop::Setup(f),
            })?;
        found.extend(policy::check_manifests(&manifests, context));
        Ok(found)
    })
}

fn print(args: &LintArgs, outcome: &waivers::Outcome) {
    let line = |v: &Violation| {
        let level = match v.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{level}[{}]: {}\n   = fix: {}", v.rule, v.message, v.fix)
    };
    if args.json {
        let json = serde_json::json!({
            "file": args.values.display().to_string(),
            "chart": args.chart,
            "errors": outcome.errors,
            "warnings": outcome.warnings,
            "waived": outcome.waived.iter().map(|(v, reason)| {
                let mut j = serde_json::to_value(v).unwrap_or_default();
                j["reason"] = reason.clone().into();
                j
            }).collect::<Vec<_>>(),
        });
        println!("{json}");
        return;
    }
    for v in &outcome.errors {
        println!("{}", crate::secret::redact(&line(v)));
    }
    for v in &outcome.warnings {
        println!("{}", crate::secret::redact(&line(v)));
    }
    for (v, reason) in &outcome.waived {
        println!("waived[{}]: {} (reason: {reason})", v.rule, v.message);
    }
    let checked = match &args.chart {
        Some(chart) => format!("values and chart {chart}"),
        None => "values (pass --chart to also check the rendered manifests and chart drift)".into(),
    };
    println!(
        "{}: {} error{}, {} warning{}, {} waived — checked {checked}",
        args.values.display(),
        outcome.errors.len(),
        if outcome.errors.len() == 1 { "" } else { "s" },
        outcome.warnings.len(),
        if outcome.warnings.len() == 1 { "" } else { "s" },
        outcome.waived.len(),
    );
}
