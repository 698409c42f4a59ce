//! Installing, upgrading and rolling back the release.
//!
//! These are the only helm calls that change a cluster, and they share one shape:
//!
//! 1. read the release's history (read-only, so a dry run plans from the truth);
//! 2. refuse a release stuck in `pending-*` with `release_pending`, naming the last
//!    deployed revision to roll back to (a second helm operation on a pending
//!    release fails anyway, with a less helpful message);
//! 3. for install/upgrade, run the policy gate on the values and on the rendered
//!    manifests (`policy::gate`) before anything touches the cluster;
//! 4. do nothing when the release is deployed with the same chart version and the
//!    same values ("kept": a second run of a playbook changes nothing);
//! 5. otherwise go through `RunContext::change`: planned in a dry run (with a short
//!    diff of the values against the deployed ones), confirmed when destructive
//!    (rollback), journalled always.

use std::time::Duration;

use rhai::{Dynamic, Map};
use serde_json::Value as Json;

use super::args::{self, Waiting};
use super::chart::ChartSource;
use super::client::{not_found, Helm};
use super::diff;
use super::output::Revision;
use super::values_file::ValuesFile;
use crate::context::RunContext;
use crate::error::{ErrorKind, Failure};
use crate::plan::{Applied, Change};

/// What an install or upgrade is asked to do.
pub struct Request {
    pub release: String,
    pub namespace: String,
    pub chart: ChartSource,
    /// The version the chart is pinned to (compared with the deployed one).
    pub chart_version: String,
    /// Values with secrets exposed (what helm gets).
    pub values: Json,
    /// The same values with secrets masked (what people and the journal see).
    pub shown: Json,
    pub mode: Mode,
    pub waiting: Waiting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Install when missing, upgrade when different, keep when identical.
    Install,
    /// Upgrade an existing release with exactly these values (§11, values file).
    Upgrade,
    /// Upgrade an existing release keeping its values, overriding these (§11, `--reuse-values`).
    ReuseValues,
}

/// Installs or upgrades as `request` says; returns `#{outcome, release, namespace, revision, chart_version, diff}`.
pub async fn deploy(run: &RunContext, helm: &Helm, request: Request) -> Result<Map, Failure> {
    let Request {
        release,
        namespace,
        chart,
        chart_version,
        values,
        shown,
        mode,
        waiting,
    } = request;
    let history = helm.history(&release, &namespace).await?;
    if let Some(history) = &history {
        refuse_pending(&release, &namespace, history)?;
    }
    let current = history.as_ref().and_then(|h| h.last().cloned());
    if current.is_none() && mode != Mode::Install {
        return Err(not_found(&release, &namespace));
    }

    // What the release will run with: in reuse mode, the deployed values with ours on top.
    let deployed_values = match &current {
        Some(_) => Some(helm.get_values(&release, &namespace).await?),
        None => None,
    };
    let (effective, effective_shown) = match (&deployed_values, mode) {
        (Some(deployed), Mode::ReuseValues) => (
            merge(deployed, &values),
            merge(&mask_like(deployed), &shown),
        ),
        _ => (values.clone(), shown.clone()),
    };

    crate::policy::gate::gate(
        run,
        helm,
        &crate::policy::gate::Subject {
            release: &release,
            namespace: &namespace,
            chart: &chart,
            values: &effective,
            shown: &effective_shown,
        },
    )
    .await?;

    let target = format!("{release} (chart {chart_version})");
    let (action, detail) = match (&current, &deployed_values) {
        (Some(rev), Some(deployed)) => {
            let same_chart = rev.chart_version() == chart_version;
            let same_values = diff::normalize(deployed) == diff::normalize(&effective);
            if rev.status == "deployed" && same_chart && same_values {
                run.kept(
                    &format!("helm release {release}"),
                    &format!(
                        "chart {chart_version}, values unchanged (revision {})",
                        rev.revision
                    ),
                );
                return Ok(result(
                    "kept",
                    &release,
                    &namespace,
                    rev.revision,
                    &chart_version,
                    vec![],
                ));
            }
            let mut lines = Vec::new();
            if !same_chart {
                lines.push(format!("chart {} → {chart_version}", rev.chart_version()));
            }
            if rev.status != "deployed" {
                lines.push(format!("last revision {} is {}", rev.revision, rev.status));
            }
            lines.extend(diff::lines(deployed, &effective, &effective_shown));
            ("helm upgrade", lines)
        }
        _ => (
            "helm install",
            vec![format!(
                "new release in namespace {namespace}, {} top-level value keys",
                values.as_object().map_or(0, |m| m.len())
            )],
        ),
    };

    let change = Change::new(action, &target).detail(detail.join("\n"));
    let chart_args = chart.args();
    let major = helm.major();
    let helm_timeout = Duration::from_secs(waiting.timeout_seconds.max(300) + 60);
    let apply = async {
        // the file lives until helm is done, and is removed on error or cancel too
        let file = ValuesFile::write(&values)?;
        let argv = if action == "helm install" {
            args::install(major, &release, &chart_args, file.path(), waiting)
        } else {
            args::upgrade(
                major,
                &release,
                &chart_args,
                file.path(),
                mode == Mode::ReuseValues,
                waiting,
            )
        };
        let command = helm.cluster_command(argv, &namespace).timeout(helm_timeout);
        let captured = helm.run(command).await?;
        if captured.out.code != 0 {
            return Err(pending_or(captured.failure(), &captured.out.stderr));
        }
        Ok(())
    };
    let applied = run.change(change, apply).await?;
    let outcome = match (&applied, action) {
        (Applied::Planned, _) => "planned",
        (Applied::Done(()), "helm install") => "installed",
        (Applied::Done(()), _) => "upgraded",
    };
    let revision = match applied {
        Applied::Planned => current.map_or(0, |r| r.revision),
        Applied::Done(()) => latest_revision(helm, &release, &namespace).await?,
    };
    Ok(result(
        outcome,
        &release,
        &namespace,
        revision,
        &chart_version,
        detail,
    ))
}

/// Rolls back to `revision` (0 or less: the one before the current revision).
pub async fn rollback(
    run: &RunContext,
    helm: &Helm,
    release: &str,
    namespace: &str,
    revision: i64,
    waiting: Waiting,
) -> Result<Map, Failure> {
    let history = helm
        .history(release, namespace)
        .await?
        .ok_or_else(|| not_found(release, namespace))?;
    let current = history
        .last()
        .cloned()
        .ok_or_else(|| not_found(release, namespace))?;
    let target = if revision > 0 {
        revision
    } else {
        current.revision - 1
    };
    let Some(to) = history.iter().find(|r| r.revision == target).cloned() else {
        let known: Vec<String> = history.iter().map(|r| r.revision.to_string()).collect();
        return Err(Failure::not_found(format!(
            "helm release {release} has no revision {target} (revisions: {})",
            known.join(", ")
        ))
        .with_hint("pick a revision from helm::history()"));
    };
    let change = Change::new("helm rollback", format!("{release} to revision {target}"))
        .detail(format!(
            "from revision {} ({}, chart {}) to revision {target} (chart {})",
            current.revision,
            current.status,
            current.chart_version(),
            to.chart_version()
        ))
        .destructive();
    let major = helm.major();
    let helm_timeout = Duration::from_secs(waiting.timeout_seconds.max(300) + 60);
    let apply = async {
        let command = helm
            .cluster_command(args::rollback(major, release, target, waiting), namespace)
            .timeout(helm_timeout);
        let captured = helm.run(command).await?;
        if captured.out.code != 0 {
            return Err(captured.failure());
        }
        Ok(())
    };
    let applied = run.change(change, apply).await?;
    let (outcome, new_revision) = match applied {
        Applied::Planned => ("planned", current.revision),
        Applied::Done(()) => (
            "rolled_back",
            latest_revision(helm, release, namespace).await?,
        ),
    };
    let mut map = result(
        outcome,
        release,
        namespace,
        new_revision,
        to.chart_version(),
        vec![],
    );
    map.insert("to_revision".into(), target.into());
    Ok(map)
}

/// `release_pending` when the release's last revision is `pending-*`.
pub fn refuse_pending(release: &str, namespace: &str, history: &[Revision]) -> Result<(), Failure> {
    let Some(last) = history.last().filter(|r| r.is_pending()) else {
        return Ok(());
    };
    let deployed = history.iter().rev().find(|r| {
        r.revision < last.revision && matches!(r.status.as_str(), "deployed" | "superseded")
    });
    let message = format!(
        "helm release {release} in namespace {namespace} is stuck in {} (revision {}): another helm operation was interrupted",
        last.status, last.revision
    );
    let failure = Failure::new(ErrorKind::ReleasePending, message)
        .with_detail("status", last.status.clone())
        .with_detail("stuck_revision", last.revision);
    Err(match deployed {
        Some(good) => failure
            .with_hint(format!(
                "roll back to revision {rev}, the last deployed one (chart {chart}): run the rollback playbook, \
                 call helm::rollback({rev}), or `helm rollback {release} {rev} -n {namespace}`",
                rev = good.revision,
                chart = good.chart_version()
            ))
            .with_detail("revision", good.revision),
        None => failure
            .with_hint(format!(
                "the release was never deployed: remove it with `helm uninstall {release} -n {namespace}` and install again"
            ))
            .with_detail("revision", 0 as rhai::INT),
    })
}

/// Turns helm's own "another operation is in progress" into `release_pending`.
fn pending_or(failure: Failure, stderr: &str) -> Failure {
    if stderr.contains("another operation (install/upgrade/rollback) is in progress") {
        Failure {
            kind: ErrorKind::ReleasePending,
            hint: "another helm operation on this release is running or was interrupted; \
                   check helm::history() and roll back to the last deployed revision"
                .into(),
            ..failure
        }
    } else {
        failure
    }
}

async fn latest_revision(helm: &Helm, release: &str, namespace: &str) -> Result<i64, Failure> {
    Ok(helm
        .history(release, namespace)
        .await?
        .and_then(|h| h.last().map(|r| r.revision))
        .unwrap_or(0))
}

/// Helm's merge of values: maps merge key by key, anything else is replaced.
pub fn merge(base: &Json, over: &Json) -> Json {
    match (base, over) {
        (Json::Object(a), Json::Object(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = match a.get(k) {
                    Some(old) => merge(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Json::Object(out)
        }
        (_, over) => over.clone(),
    }
}

/// Deployed values as shown: keys that look secret are masked.
fn mask_like(values: &Json) -> Json {
    fn walk(path: &str, v: &Json) -> Json {
        match v {
            Json::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| {
                        let child = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        (k.clone(), walk(&child, v))
                    })
                    .collect(),
            ),
            Json::String(_) if diff::looks_secret(path) => Json::String(crate::secret::MASK.into()),
            other => other.clone(),
        }
    }
    walk("", values)
}

fn result(
    outcome: &str,
    release: &str,
    namespace: &str,
    revision: i64,
    chart_version: &str,
    diff: Vec<String>,
) -> Map {
    let mut map = Map::new();
    map.insert("outcome".into(), outcome.into());
    map.insert("release".into(), release.into());
    map.insert("namespace".into(), namespace.into());
    map.insert("revision".into(), revision.into());
    map.insert("chart_version".into(), chart_version.into());
    map.insert(
        "diff".into(),
        diff.into_iter()
            .map(Dynamic::from)
            .collect::<rhai::Array>()
            .into(),
    );
    map
}

/// History rows as script maps.
pub fn history_maps(history: &[Revision]) -> rhai::Array {
    history
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("revision".into(), r.revision.into());
            m.insert("updated".into(), r.updated.clone().into());
            m.insert("status".into(), r.status.clone().into());
            m.insert("chart".into(), r.chart.clone().into());
            m.insert("chart_version".into(), r.chart_version().to_string().into());
            m.insert("app_version".into(), r.app_version.clone().into());
            m.insert("description".into(), r.description.clone().into());
            Dynamic::from(m)
        })
        .collect()
}

/// `helm uninstall`: removes the release (destructive). The namespace, the secrets
/// lfrun created and the data volumes (PVCs made by the StatefulSets) stay.
pub async fn uninstall(
    run: &RunContext,
    helm: &Helm,
    release: &str,
    namespace: &str,
) -> Result<Map, Failure> {
    let Some(history) = helm.history(release, namespace).await? else {
        run.kept(&format!("helm release {release}"), "not installed");
        let mut out = Map::new();
        out.insert("outcome".into(), "absent".into());
        return Ok(out);
    };
    let last = history
        .last()
        .map(|r| format!("revision {} ({})", r.revision, r.status))
        .unwrap_or_default();
    let change = Change::new("helm uninstall", release)
        .detail(format!("{last}; PVCs and lfrun's secrets are kept"))
        .destructive();
    let apply = async {
        let command = helm
            .cluster_command(vec!["uninstall".into(), release.into()], namespace)
            .timeout(Duration::from_secs(600));
        let captured = helm.run(command).await?;
        if captured.out.code != 0 {
            return Err(captured.failure());
        }
        Ok(())
    };
    let applied = run.change(change, apply).await?;
    let mut out = Map::new();
    out.insert("outcome".into(), applied.outcome("uninstalled").into());
    out.insert("release".into(), release.into());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rev(revision: i64, status: &str) -> Revision {
        Revision {
            revision,
            updated: String::new(),
            status: status.into(),
            chart: "langfuse-1.5.41".into(),
            app_version: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn pending_release_names_the_last_deployed_revision() {
        let history = [
            rev(1, "superseded"),
            rev(2, "deployed"),
            rev(3, "pending-upgrade"),
        ];
        let err = refuse_pending("langfuse", "langfuse", &history).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ReleasePending);
        assert!(err.hint.contains("revision 2"), "{}", err.hint);
        assert_eq!(err.details["revision"].as_int().unwrap(), 2);
        assert!(refuse_pending("langfuse", "langfuse", &history[..2]).is_ok());
    }

    #[test]
    fn pending_first_install_says_to_uninstall() {
        let err = refuse_pending("langfuse", "langfuse", &[rev(1, "pending-install")]).unwrap_err();
        assert!(err.hint.contains("helm uninstall"), "{}", err.hint);
    }

    #[test]
    fn merge_is_helms() {
        let base = json!({"a": {"b": 1, "c": [1]}, "d": "x"});
        let over = json!({"a": {"c": [2]}, "e": true});
        assert_eq!(
            merge(&base, &over),
            json!({"a": {"b": 1, "c": [2]}, "d": "x", "e": true})
        );
    }
}
